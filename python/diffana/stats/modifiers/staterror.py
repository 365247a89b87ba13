# SPDX-License-Identifier: BSD-3-Clause
"""``staterror``: the MC statistical uncertainty, a Gaussian-constrained factor per
bin shared by the samples that use it, sigma = sqrt(sum unc**2) / sum nominal.

Imports `._base` and `._effects`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp

from .._common import Array
from ._base import Field, Layout, Modifier, ParamRequest, channel_offsets
from ._effects import BIN_FACTOR

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False


class StatError(Modifier):
    mtype = "staterror"
    fields = (Field("data", per_bin=True),)
    effect = BIN_FACTOR

    def parameter_order(self, names: list[str]) -> list[str]:
        # pyhf orders the staterror parameter sets by name, not by first use.
        return sorted(names)

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        chans, offsets, n = channel_offsets(self.mtype, name, where, layout)
        # One row per sample using it (the most in any channel), padded with 0s.
        nsamp = max(sum(1 for c2, _ in where if c2 == c) for c in chans)
        nom_idx = [[layout.zero] * n for _ in range(nsamp)]
        unc_idx = [[layout.zero] * n for _ in range(nsamp)]
        for c in chans:
            for j, s in enumerate(s for c2, s in where if c2 == c):
                nom = layout.nominal(c, s)
                unc = layout.field(c, s, name, self.mtype, "data")
                for i in range(layout.nbins[c]):
                    nom_idx[j][offsets[c] + i] = nom + i
                    unc_idx[j][offsets[c] + i] = unc + i
        return ParamRequest(
            "normal",
            n,
            (1.0,) * n,
            ((1e-10, 10.0),) * n,
            auxdata=(1.0,) * n,
            per_bin=True,
            from_yields=True,
            nom_idx=tuple(map(tuple, nom_idx)),
            unc_idx=tuple(map(tuple, unc_idx)),
            bin_offsets=offsets,
        )

    def constraint_from_yields(
        self, nom: Array, unc: Array
    ) -> tuple[Array, Array | None, Array]:
        # pyhf: sigma = sqrt(sum_s unc_s^2) / sum_s nom_s over the samples with
        # the modifier; bins with sigma = 0 are fixed (and get sigma 1).
        total = jnp.sum(nom, axis=0)
        pos = total > 0
        rel2 = jnp.where(
            pos, jnp.sum(unc**2, axis=0) / jnp.where(pos, total, 1.0) ** 2, 0.0
        )
        zero = rel2 == 0
        sigma = jnp.where(zero, 1.0, jnp.sqrt(jnp.where(zero, 1.0, rel2)))
        return sigma, None, zero
