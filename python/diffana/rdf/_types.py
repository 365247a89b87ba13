# SPDX-License-Identifier: BSD-3-Clause
"""The C++ type table of the DiffFrame layer: which column types a gradient histogram
can fill from, which are Duals, and which names can stand in generated C++ code.

Column types are strings as RDataFrame reports them (``GetColumnType``): ROOT's
typedefs (``Float_t``), ``std::`` fixed-width integers and ``diffana::Dual<double,
P>`` written with or without spaces.

May import: the standard library only.

Examples
--------
>>> scalar_type("x", "Float_t", 2, "histo")
'Float_t'
>>> scalar_type("x", "diffana::Dual<double,2>", 2, "histo")
'diffana::Dual<double, 2>'
>>> dual_kind("ROOT::VecOps::RVec<diffana::Dual<double, 3> >", 3)
'vector'
"""

from __future__ import annotations

from typing import Any

__all__ = ["ARITHMETIC", "column_type", "dual_kind", "scalar_type"]

ARITHMETIC = frozenset(
    {
        "double", "float", "Double_t", "Float_t", "int", "Int_t", "unsigned int",
        "UInt_t", "long", "Long_t", "long long", "Long64_t", "unsigned long",
        "ULong_t", "unsigned long long", "ULong64_t", "short", "Short_t",
        "unsigned short", "UShort_t", "char", "Char_t", "unsigned char", "UChar_t",
        "bool", "Bool_t",
    }
    | {
        f"{ns}{u}int{b}_t"
        for ns in ("", "std::")
        for u in ("", "u")
        for b in (8, 16, 32, 64)
    }
)  # fmt: skip
"""The plain number types a histogram fills from (the kernels' templates take them)."""


def column_type(node: Any, name: Any, what: str) -> str:
    """The C++ type of column ``name`` of RDataFrame ``node``; ValueError ``"<what>:
    unknown column ..."`` when there is none."""
    if not isinstance(name, str) or not node.HasColumn(name):
        msg = f"{what}: unknown column {name!r}"
        raise ValueError(msg)
    return str(node.GetColumnType(name))


def _dual(n: int) -> str:
    return f"diffana::Dual<double,{n}>"


def scalar_type(name: str, ctype: str, n: int, what: str) -> str:
    """The template argument for a histogram filled from column ``name`` of type
    ``ctype`` in a family of ``n`` parameters: the type itself for a plain number,
    ``diffana::Dual<double, n>`` for a Dual; TypeError for anything else (an RVec)."""
    dual = _dual(n)
    if ctype.replace(" ", "") == dual:
        return f"diffana::Dual<double, {n}>"
    if ctype in ARITHMETIC:
        return ctype
    msg = (
        f"{what}: column {name!r} has type {ctype}; a histogram needs a number or "
        f"a {dual} per event (reduce RVec columns first, e.g. ROOT::VecOps::Sum)"
    )
    raise TypeError(msg)


def dual_kind(ctype: str, n: int) -> str | None:
    """``"scalar"`` / ``"vector"`` for ``Dual<double,n>`` / ``RVec<Dual<double,n>>``,
    else None."""
    t = ctype.replace(" ", "")
    dual = _dual(n)
    if t == dual:
        return "scalar"
    for vec in ("ROOT::VecOps::RVec<", "ROOT::RVec<"):
        if t == f"{vec}{dual}>":
            return "vector"
    return None
