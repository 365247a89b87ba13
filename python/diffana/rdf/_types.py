# SPDX-License-Identifier: BSD-3-Clause
"""The C++ type table of the DiffFrame layer: which column types a gradient histogram
can fill from, which are Duals, and which names can stand in generated C++ code.

Column types are strings as RDataFrame reports them (``GetColumnType``): ROOT's
typedefs (``Float_t``), ``std::`` fixed-width integers and ``diffana::Dual<double,
P>`` written with or without spaces. Columns computed on sparse tangents have the
type ``diffana::SparseDual<double,P,mask>`` (`diffana.rdf._sparse`); users see them
as ``diffana::Dual<double, P>`` (`logical_type`).

May import: the standard library only.

Examples
--------
>>> scalar_type("x", "Float_t", 2, "histo")
'Float_t'
>>> scalar_type("x", "diffana::Dual<double,2>", 2, "histo")
'diffana::Dual<double, 2>'
>>> dual_kind("ROOT::VecOps::RVec<diffana::Dual<double, 3> >", 3)
'vector'
>>> logical_type("ROOT::VecOps::RVec<diffana::SparseDual<double,8,3> >")
'ROOT::VecOps::RVec<diffana::Dual<double,8> >'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ARITHMETIC",
    "column_type",
    "dual_kind",
    "has_dense_dual",
    "is_sparse",
    "logical_type",
    "scalar_type",
]

# A SparseDual as cling spells it (the mask may carry an integer suffix).
_SPARSE = re.compile(r"diffana::SparseDual<\s*double\s*,\s*(\d+)\s*,\s*\w+\s*>")

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


def is_sparse(ctype: str) -> bool:
    """Whether a column type holds SparseDuals (itself or as RVec elements)."""
    return _SPARSE.search(ctype) is not None


def has_dense_dual(ctype: str) -> bool:
    """Whether a column type holds dense ``diffana::Dual``s."""
    return "diffana::Dual<" in ctype.replace(" ", "")


def logical_type(ctype: str) -> str:
    """``ctype`` with every ``SparseDual<double,P,mask>`` written as the dense
    ``diffana::Dual<double, P>`` it stands for (what `DiffFrame.column_type`
    shows)."""
    return _SPARSE.sub(lambda m: f"diffana::Dual<double,{m.group(1)}>", ctype)


def scalar_type(name: str, ctype: str, n: int, what: str) -> str:
    """The template argument for a histogram filled from column ``name`` of type
    ``ctype`` in a family of ``n`` parameters: the type itself for a plain number,
    ``diffana::Dual<double, n>`` for a Dual, the SparseDual itself for one of ``n``
    parameters; TypeError for anything else (an RVec)."""
    dual = _dual(n)
    if ctype.replace(" ", "") == dual:
        return f"diffana::Dual<double, {n}>"
    sparse = _SPARSE.fullmatch(ctype.strip())
    if sparse is not None and int(sparse.group(1)) == n:
        return ctype.strip()
    if ctype in ARITHMETIC:
        return ctype
    msg = (
        f"{what}: column {name!r} has type {logical_type(ctype)}; a histogram needs a number or "
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
