# SPDX-License-Identifier: BSD-3-Clause
"""The ways HistFactory's modifiers change the expected yields.

Each `Effect` fills index tables over (entry, sample, global bin) that gather its
numbers from the model's flat vector of arrays (see `Layout`), and applies them
as a few dense operations whatever the number of modifiers:

- `Code4pDelta`, `Code0Delta` (rank 0, additive): ``histosys``, interpolation
  code 4p (pyhf's default) or 0;
- `Code4Factor`, `Code1Factor` (rank 1): ``normsys``, interpolation code 4
  (pyhf's default) or 1;
- `ScalarFactor` (rank 2): one parameter per entry (``normfactor``, ``lumi``);
- `BinFactor` (rank 3): one parameter per bin (``staterror``, ``shapesys``,
  ``shapefactor``).

Imports `._base` and `..interpolation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import jax.numpy as jnp
import numpy as np

from .._common import Array
from ..interpolation import code0, code1, code4, code4p
from ._base import Effect, Entry, Layout

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False


def _prod0(x: Array) -> Array:
    """Product over the first (small) axis, unrolled: the derivative of jnp.prod
    compiles to a far larger program."""
    out = x[0]
    for i in range(1, x.shape[0]):
        out = out * x[i]
    return out


def _stack(tables: list[np.ndarray], layout: Layout) -> np.ndarray:
    """(entries, samples, bins) int64, also for no entries."""
    return np.asarray(tables, dtype=np.int64).reshape(-1, *layout.shape)


def _pars(entries: Sequence[Entry]) -> np.ndarray:
    return np.asarray([e.offset for e in entries], dtype=np.int64)


class _InterpDelta(Effect):
    """nominal + interpolate(alpha, lo, nominal, hi), from a field ``lo_data`` and
    ``hi_data`` per bin; the nominal where the modifier does not apply (a zero
    delta)."""

    additive = True
    rank = 0
    interpolate: ClassVar[Callable[..., Any]]

    def fill(self, entries: Sequence[Entry], layout: Layout) -> dict[str, np.ndarray]:
        lo, hi = (
            [layout.nom.copy() for _ in entries],
            [layout.nom.copy() for _ in entries],
        )
        for h, e in enumerate(entries):
            for c, s in e.where:
                idx = np.arange(layout.nbins[c])
                row, cols = layout.row(s), layout.cols(c)
                lo[h][row, cols] = layout.field(c, s, e.name, e.mtype, "lo_data") + idx
                hi[h][row, cols] = layout.field(c, s, e.name, e.mtype, "hi_data") + idx
        return {
            "par": _pars(entries),
            "lo": _stack(lo, layout),
            "hi": _stack(hi, layout),
        }

    def apply(
        self, tables: Mapping[str, np.ndarray], flat: Array, pars: Array, nom: Array
    ) -> Array:
        alpha = pars[tables["par"]][:, None, None]
        interpolate = type(self).interpolate
        delta = interpolate(alpha, flat[tables["lo"]], nom[None], flat[tables["hi"]])
        return jnp.sum(delta, axis=0)


class Code4pDelta(_InterpDelta):
    """histosys with code 4p (`diffana.stats.interpolation.code4p`)."""

    name = "code4p"
    interpolate = staticmethod(code4p)


class Code0Delta(_InterpDelta):
    """histosys with code 0 (`diffana.stats.interpolation.code0`)."""

    name = "code0"
    interpolate = staticmethod(code0)


class _InterpFactor(Effect):
    """interpolate(alpha, lo, hi) from the numbers ``lo`` and ``hi``; the flat
    vector's 1 where the modifier does not apply (a factor of exactly 1)."""

    additive = False
    rank = 1
    interpolate: ClassVar[Callable[..., Any]]

    def fill(self, entries: Sequence[Entry], layout: Layout) -> dict[str, np.ndarray]:
        lo = [np.full(layout.shape, layout.one) for _ in entries]
        hi = [np.full(layout.shape, layout.one) for _ in entries]
        for k, e in enumerate(entries):
            for c, s in e.where:
                row, cols = layout.row(s), layout.cols(c)
                lo[k][row, cols] = layout.field(c, s, e.name, e.mtype, "lo")
                hi[k][row, cols] = layout.field(c, s, e.name, e.mtype, "hi")
        return {
            "par": _pars(entries),
            "lo": _stack(lo, layout),
            "hi": _stack(hi, layout),
        }

    def apply(
        self, tables: Mapping[str, np.ndarray], flat: Array, pars: Array, nom: Array
    ) -> Array:
        alpha = pars[tables["par"]][:, None, None]
        interpolate = type(self).interpolate
        return _prod0(interpolate(alpha, flat[tables["lo"]], flat[tables["hi"]]))


class Code4Factor(_InterpFactor):
    """normsys with code 4 (`diffana.stats.interpolation.code4`)."""

    name = "code4"
    interpolate = staticmethod(code4)


class Code1Factor(_InterpFactor):
    """normsys with code 1 (`diffana.stats.interpolation.code1`)."""

    name = "code1"
    interpolate = staticmethod(code1)


class ScalarFactor(Effect):
    """The entry's one parameter where it applies (table ``on``), 1 elsewhere."""

    name = "scalar"
    additive = False
    rank = 2

    def fill(self, entries: Sequence[Entry], layout: Layout) -> dict[str, np.ndarray]:
        on = [np.zeros(layout.shape, dtype=int) for _ in entries]
        for k, e in enumerate(entries):
            for c, s in e.where:
                on[k][layout.row(s), layout.cols(c)] = 1
        return {"par": _pars(entries), "on": _stack(on, layout)}

    def apply(
        self, tables: Mapping[str, np.ndarray], flat: Array, pars: Array, nom: Array
    ) -> Array:
        on = tables["on"].astype(bool)
        return _prod0(jnp.where(on, pars[tables["par"]][:, None, None], 1.0))


class BinFactor(Effect):
    """The parameter of each bin (table ``par``: its index, -1 where none applies)."""

    name = "bin"
    additive = False
    rank = 3

    def fill(self, entries: Sequence[Entry], layout: Layout) -> dict[str, np.ndarray]:
        par = [np.full(layout.shape, -1) for _ in entries]
        for j, e in enumerate(entries):
            for c, s in e.where:
                first = e.offset + e.bin_offsets[c]
                par[j][layout.row(s), layout.cols(c)] = first + np.arange(
                    layout.nbins[c]
                )
        return {"par": _stack(par, layout)}

    def apply(
        self, tables: Mapping[str, np.ndarray], flat: Array, pars: Array, nom: Array
    ) -> Array:
        on = tables["par"] >= 0
        return _prod0(jnp.where(on, pars[np.maximum(tables["par"], 0)], 1.0))


CODE4P_DELTA = Code4pDelta()
CODE0_DELTA = Code0Delta()
CODE4_FACTOR = Code4Factor()
CODE1_FACTOR = Code1Factor()
SCALAR_FACTOR = ScalarFactor()
BIN_FACTOR = BinFactor()
