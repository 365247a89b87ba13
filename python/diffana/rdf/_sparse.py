# SPDX-License-Identifier: BSD-3-Clause
"""Sparse tangents for DiffFrame: which expressions compile on
``diffana::SparseDual`` and the C++ text behind the parameter names there.

A DiffFrame parameter ``k`` in an expression is a ``SparseDual<double, P, 1 << k>``
(``include/diffana/ad/sparse.hpp``): a number that carries only the tangent of
parameter ``k``. Operations take the union of the masks, so a column carries the
tangents of the parameters it is computed from and nothing for the others (jets
calibrated by the jet-energy scale carry one tangent of eight), and the histogram
fill expands to the dense ``Dual<double, P>`` once per event. Users see
``Dual<double, P>`` columns as before (`DiffFrame.column_type`).

An expression is compiled on sparse tangents when every name in it is a
parameter, a column that is not a dense ``Dual`` (or an ``RVec`` of them), a C++
keyword or fundamental type, or a function known to take SparseDuals (arithmetic,
the math library, ``ROOT::VecOps`` containers, the soft cuts); anything else (a
network, a correction, the Lorentz helpers, a user's function) is compiled as
before, on dense Duals, with the sparse columns it reads converted
(``diffana::rdf::dense_column``). An expression that passes the check but does not
compile on sparse tangents is compiled dense as well. ``DIFFANA_SPARSE_TANGENTS=0``
turns the sparse path off (dense everywhere, as before).

May import: the standard library and ``diffana.rdf.expressions``, ``_types``.

Examples
--------
>>> from diffana.rdf._sparse import usable
>>> types = {"jet_pt": "ROOT::VecOps::RVec<float>"}
>>> usable("diffana::soft_cut(jet_pt * jes, 30.0, 0.2)", {"jes"}, types.get)
True
>>> usable("diffana::agc::soft_step(jet_pt, jes, 2.0)", {"jes"}, types.get)
False
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from . import _types, expressions

__all__ = ["MAX_PARAMS", "dense_wrapped", "enabled", "param_calls", "usable"]

MAX_PARAMS = 63
"""The most parameters on sparse tangents: a SparseDual's mask is one 64-bit word,
kept below the sign bit so that the type names cling writes for columns hold plain
integer literals."""

_KEYWORDS = frozenset(
    {
        "auto", "const", "constexpr", "return", "if", "else", "for", "while",
        "do", "break", "continue", "true", "false", "static_cast", "sizeof",
        "nullptr", "and", "or", "not", "void", "double", "float", "int",
        "unsigned", "signed", "long", "short", "bool", "char", "size_t", "std",
        "ROOT", "VecOps", "RVec", "diffana",
    }
)  # fmt: skip
# Functions that take SparseDuals with the meaning they have on Duals: sparse.hpp
# defines the math library, ROOT::VecOps works on any element type through its
# arithmetic, and the soft cuts are generic (promote_t and detail::add_tangent).
_FUNCTIONS = frozenset(
    {
        "exp", "expm1", "log", "log1p", "log10", "sqrt", "cbrt", "sin", "cos",
        "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "erf", "erfc", "abs", "fabs", "floor", "ceil", "round",
        "trunc", "pow", "hypot", "atan2", "min", "max", "fmin", "fmax", "clamp",
        "isnan", "isinf", "isfinite", "soft_cut", "soft_cut_below",
        "soft_window", "straight_through_cut", "straight_through_cut_below",
        "Sum", "Mean", "Max", "Min", "ArgMax", "ArgMin", "Take", "Sort",
        "Argsort", "StableArgsort", "Reverse", "Where", "Any", "All", "Nonzero",
        "Concatenate", "Drop", "Intersect", "Map", "Filter", "Combinations",
        "size", "empty",
    }
)  # fmt: skip


def enabled(n_params: int) -> bool:
    """Whether a family of ``n_params`` parameters uses sparse tangents: 2 to 63
    parameters (with one there is nothing to leave out; masks are 64-bit words) and
    ``$DIFFANA_SPARSE_TANGENTS`` not ``0``."""
    flag = os.environ.get("DIFFANA_SPARSE_TANGENTS", "1").strip()
    if flag not in ("0", "1"):
        msg = f"DIFFANA_SPARSE_TANGENTS must be 0 or 1, got {flag!r}"
        raise ValueError(msg)
    return flag == "1" and 2 <= n_params <= MAX_PARAMS


def param_calls(cname: str, names: Sequence[str]) -> dict[str, str]:
    """The C++ text of each parameter as a SparseDual, read from the parameter
    block ``cname`` (``diffana::rdf::Params<P>``)."""
    return {
        name: f"diffana::rdf::sparse_param<{k}>({cname})"
        for k, name in enumerate(names)
    }


def usable(
    expression: str,
    params: set[str] | frozenset[str],
    column_type: Callable[[str], str],
) -> bool:
    """Whether ``expression`` may be compiled on sparse tangents (see the module
    docstring). ``params`` are the names that become parameter calls;
    ``column_type(name)`` gives a column's C++ type, "" or None for no such
    column."""
    previous = ""
    for tok in expressions.tokenize(expression):
        if tok.kind in ("space", "comment"):
            continue
        if tok.kind == "name":
            name = tok.text
            member = previous in (".", "->")
            if not (
                member
                or name in params
                or name in _KEYWORDS
                or name in _FUNCTIONS
                or _column_ok(column_type(name))
            ):
                return False
        previous = tok.text
    return True


def _column_ok(ctype: str | None) -> bool:
    return bool(ctype) and not _types.has_dense_dual(str(ctype))


def dense_wrapped(
    expression: str, calls: Mapping[str, str], column_type: Callable[[str], str]
) -> str:
    """``expression`` for dense Duals: parameter names replaced by ``calls`` and
    every sparse column it reads converted with ``diffana::rdf::dense_column``."""

    def lookup(name: str) -> str | None:
        if name in calls:
            return calls[name]
        if _types.is_sparse(column_type(name)):
            return f"diffana::rdf::dense_column({name})"
        return None

    return expressions.rename(expression, lookup)
