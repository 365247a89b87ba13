# SPDX-License-Identifier: BSD-3-Clause
"""HistFactory modifier types: one module each, and the table that names them.

`histfactory_set` maps pyhf's type name to its `Modifier` (as pyhf's
``modifiers.histfactory_set``); `diffana.stats._spec` reads workspaces through
it, so that a new modifier type is a new module here and one entry in the table.
Its order is pyhf's, which fixes the order of the model's parameters (by type,
in this order). The building blocks are in `._base` (the interfaces),
`._effects` (how parameters act on the yields) and `._settings` (pyhf's
``modifier_settings``: which interpolation code, so which effect, a type gets).

Imports its own modules only (and, through them, `..interpolation` and
`.._common`).

Examples
--------
>>> from diffana.stats.modifiers import histfactory_set
>>> list(histfactory_set)
['histosys', 'lumi', 'normfactor', 'normsys', 'shapefactor', 'shapesys', 'staterror']
>>> histfactory_set["staterror"].effect
BinFactor()
"""

from __future__ import annotations

from ._base import Effect, Entry, Field, Layout, Modifier, ParamRequest
from ._settings import effects_for
from .histosys import HistoSys
from .lumi import Lumi
from .normfactor import NormFactor
from .normsys import NormSys
from .shapefactor import ShapeFactor
from .shapesys import ShapeSys
from .staterror import StatError

__all__ = [
    "Effect",
    "Entry",
    "Field",
    "Layout",
    "Modifier",
    "ParamRequest",
    "effects_for",
    "histfactory_set",
]

histfactory_set: dict[str, Modifier] = {
    m.mtype: m
    for m in (
        HistoSys(),
        Lumi(),
        NormFactor(),
        NormSys(),
        ShapeFactor(),
        ShapeSys(),
        StatError(),
    )
}
