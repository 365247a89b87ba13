# SPDX-License-Identifier: BSD-3-Clause
"""Argument checks shared by every front end, one message per problem.

Bin edges, bandwidths, the overflow policy, finite numbers and C++ identifiers are
checked here and nowhere else, so that the numpy, awkward, JAX and RDataFrame front
ends and the configuration reject the same input with the same words. Imports numpy
only (the reference implementation in ``_reference/`` keeps its own checks on
purpose: it is the independent oracle).
"""

from __future__ import annotations

import enum
import math
import numbers
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Overflow",
    "bandwidth",
    "edges",
    "finite_scalar",
    "float_array",
    "identifier",
    "require_finite",
]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Overflow(enum.IntEnum):
    """What happens to entries outside the bin edges; the value is the kernels' code.

    ``DROP``: they are lost (``relaxed.hist``'s default). ``FOLD``: they count in the
    first or last bin (the outer edges act as -inf and +inf).
    """

    DROP = 0
    FOLD = 1

    @classmethod
    def of(cls, overflow: Any) -> Overflow:
        """The policy named by ``overflow`` (``"drop"``, ``"fold"`` or a member).

        Examples
        --------
        >>> Overflow.of("fold")
        <Overflow.FOLD: 1>
        """
        if isinstance(overflow, cls):
            return overflow
        if isinstance(overflow, str) and overflow in ("drop", "fold"):
            return cls[overflow.upper()]
        msg = f"overflow must be 'drop' or 'fold', got {overflow!r}"
        raise ValueError(msg)

    def __str__(self) -> str:
        return self.name.lower()


def float_array(values: Any, name: str, *, scalar: bool = True) -> NDArray[np.float64]:
    """``values`` as a float64 array; TypeError naming ``name`` for strings, ragged
    lists and non-real dtypes (``scalar``: whether the message offers a number).

    Examples
    --------
    >>> float_array([1, 2], "x").dtype
    dtype('float64')
    """
    what = "a number or an array of" if scalar else "an array of"
    if isinstance(values, (str, bytes)):
        msg = f"{name} must be {what} numbers, got a string {values!r}"
        raise TypeError(msg)
    try:
        arr = np.asarray(values)
    except Exception as err:  # e.g. ragged lists
        msg = f"{name} must be {what} numbers: {err}"
        raise TypeError(msg) from err
    if arr.dtype.kind not in "fiub":
        msg = (
            f"{name} must be {what} real numbers, got dtype {arr.dtype} "
            f"({type(values).__name__})"
        )
        raise TypeError(msg)
    return arr.astype(np.float64, copy=False)


def edges(values: Any, name: str = "edges") -> NDArray[np.float64]:
    """``values`` as contiguous float64 bin edges: 1D, at least 2, finite and
    strictly increasing; ValueError naming ``name`` and the first offending entry.

    Examples
    --------
    >>> edges([0, 1, 2]).tolist()
    [0.0, 1.0, 2.0]
    >>> edges([0.0, 1.0, 0.5])
    Traceback (most recent call last):
    ...
    ValueError: edges must be strictly increasing, got edges[1] = 1.0 >= edges[2] = 0.5
    """
    e = float_array(values, name, scalar=False)
    if e.ndim != 1:
        msg = f"{name} must be 1-dimensional, got shape {e.shape}"
        raise ValueError(msg)
    if e.size < 2:
        msg = f"{name} must have at least 2 entries, got {e.size}: {e.tolist()}"
        raise ValueError(msg)
    if not np.all(np.isfinite(e)):
        msg = f"{name} must be finite, got {e.tolist()}"
        raise ValueError(msg)
    increasing = e[1:] > e[:-1]  # not np.diff: e[i + 1] - e[i] may overflow
    if not np.all(increasing):
        i = int(np.argmax(~increasing))
        msg = (
            f"{name} must be strictly increasing, got {name}[{i}] = {e[i]} >= "
            f"{name}[{i + 1}] = {e[i + 1]}"
        )
        raise ValueError(msg)
    return np.ascontiguousarray(e)


def bandwidth(
    value: Any, name: str = "bandwidth", *, hard: bool = True
) -> float | None:
    """``value`` as a soft-binning bandwidth: a positive finite number, or None for
    hard binning where the caller offers it (``hard=True``). Every such number is
    accepted, subnormal ones included: the kernels are exact for any finite h > 0
    (a vanishing h tends to hard binning).

    Examples
    --------
    >>> bandwidth(2), bandwidth(None)
    (2.0, None)
    """
    if value is None and hard:
        return None
    if isinstance(value, (str, bytes, bool)) or not isinstance(value, numbers.Real):
        alternative = " or None" if hard else ""
        msg = f"{name} must be a positive number{alternative}, got {value!r}"
        raise TypeError(msg)
    try:
        h = float(value)
    except OverflowError:  # an int beyond the float range
        h = math.inf
    if not (math.isfinite(h) and h > 0.0):
        hint = " (None for hard binning)" if hard else ""
        msg = f"{name} must be a positive finite number{hint}, got {h}"
        raise ValueError(msg)
    return h


def finite_scalar(value: Any, name: str) -> float:
    """``value`` as a finite float; TypeError for non-numbers (booleans and strings
    included), ValueError for NaN and infinities, both naming ``name``.

    Examples
    --------
    >>> finite_scalar(3, "cut")
    3.0
    """
    if isinstance(value, (str, bytes, bool)) or not isinstance(value, numbers.Real):
        msg = f"{name} must be a real number, got {value!r}"
        raise TypeError(msg)
    v = float(value)
    if not math.isfinite(v):
        msg = f"{name} must be finite, got {v}"
        raise ValueError(msg)
    return v


def require_finite(x: NDArray[Any], name: str) -> None:
    """ValueError naming ``name`` and the first bad value unless all are finite."""
    if not np.all(np.isfinite(x)):
        bad = x[~np.isfinite(x)].ravel()[0] if x.ndim else x
        msg = f"{name} must be finite, got {float(bad)}"
        raise ValueError(msg)


#: C++17 keywords, the alternative tokens and C++20's new keywords (cling may run
#: C++20): never identifiers.
_CPP_KEYWORDS = frozenset((
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool",
    "break", "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class",
    "co_await", "co_return", "co_yield", "compl", "concept", "const", "consteval",
    "constexpr", "constinit", "const_cast", "continue", "decltype", "default", "delete",
    "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern",
    "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable",
    "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
    "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "requires", "return", "short", "signed", "sizeof", "static", "static_assert",
    "static_cast", "struct", "switch", "template", "this", "thread_local", "throw",
    "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
))  # fmt: skip

_VECOPS = (
    "All", "Any", "Argmax", "Argmin", "Argsort", "Combinations", "Concatenate",
    "Construct", "DeltaPhi", "DeltaR", "DeltaR2", "Dot", "Drop", "Enumerate", "Filter",
    "InvariantMass", "InvariantMasses", "Intersect", "Map", "Max", "Mean", "Min",
    "Nonzero", "Product", "Range", "Reverse", "Sort", "StableArgsort", "StableSort",
    "StdDev", "Sum", "Take", "Var", "Where",
)  # fmt: skip

#: Names that DiffFrame expressions see in their scope (RDataFrame jits them with
#: ROOT's namespaces and ``using namespace ROOT::VecOps``): a parameter or column of
#: that name would shadow them and turn a use into a confusing compiler error.
#: Name -> what it is, for the message.
_CPP_NAMES = {
    "std": "the C++ standard library's namespace",
    "ROOT": "ROOT's namespace",
    "TMath": "ROOT's math namespace",
    "VecOps": "ROOT's RVec namespace",
    "diffana": "diffana's C++ namespace",
    "RVec": "ROOT's vector type",
    "RVecB": "an RVec type",
    "RVecC": "an RVec type",
    "RVecD": "an RVec type",
    "RVecF": "an RVec type",
    "RVecI": "an RVec type",
    "RVecL": "an RVec type",
    "rdfentry_": "RDataFrame's entry-number column",
    "rdfslot_": "RDataFrame's slot column",
    "rdfsampleinfo_": "RDataFrame's sample-information column",
    "tdfentry_": "RDataFrame's old entry-number column",
    "tdfslot_": "RDataFrame's old slot column",
    **dict.fromkeys(_VECOPS, "a ROOT::VecOps function"),
}


def identifier(value: Any, what: str = "name", *, reserved: bool = True) -> str:
    """``value`` if it is a C++ identifier diffana may use: letters, digits and
    underscores, not starting with a digit, not a C++ keyword, and (``reserved``)
    neither in diffana's reserved ``diffana_`` prefix nor a name that DiffFrame
    expressions already see (``std``, ``ROOT``, ``TMath``, ``diffana``, ``RVec``,
    RDataFrame's ``rdfentry_`` and ``rdfslot_``, the ``ROOT::VecOps`` functions such
    as ``Sum``). ``what`` starts the message (empty where the caller names the key);
    ``reserved=False`` allows the prefix and those names (diffana's own columns and
    the input's branches may carry them).

    Examples
    --------
    >>> identifier("pt_cut")
    'pt_cut'
    >>> identifier("Sum")
    Traceback (most recent call last):
    ...
    ValueError: name 'Sum' is reserved: expressions see it as a ROOT::VecOps function
    """
    named = f"{what} {value!r}" if what else repr(value)
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        msg = f"{named} is not a C++ identifier"
        raise ValueError(msg)
    if value in _CPP_KEYWORDS:
        msg = f"{named} is a C++ keyword, not an identifier"
        raise ValueError(msg)
    if reserved and value.startswith("diffana_"):
        msg = f"{named}: names starting with diffana_ are reserved"
        raise ValueError(msg)
    if reserved and value in _CPP_NAMES:
        msg = f"{named} is reserved: expressions see it as {_CPP_NAMES[value]}"
        raise ValueError(msg)
    return value
