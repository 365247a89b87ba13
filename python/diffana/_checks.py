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
    diffs = np.diff(e)
    if not np.all(diffs > 0):
        i = int(np.argmax(diffs <= 0))
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
    hard binning where the caller offers it (``hard=True``).

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
    h = float(value)
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


def identifier(value: Any, what: str = "name", *, reserved: bool = True) -> str:
    """``value`` if it is a C++ identifier diffana may use: letters, digits and
    underscores, not starting with a digit, not in diffana's reserved ``diffana_``
    prefix. ``what`` starts the message (empty where the caller names the key);
    ``reserved=False`` allows the prefix (diffana's own columns carry it).

    Examples
    --------
    >>> identifier("pt_cut")
    'pt_cut'
    """
    named = f"{what} {value!r}" if what else repr(value)
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        msg = f"{named} is not a C++ identifier"
        raise ValueError(msg)
    if reserved and value.startswith("diffana_"):
        msg = f"{named}: names starting with diffana_ are reserved"
        raise ValueError(msg)
    return value
