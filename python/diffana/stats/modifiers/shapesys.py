# SPDX-License-Identifier: BSD-3-Clause
"""``shapesys``: an uncorrelated uncertainty per bin of one sample, a Poisson
(Barlow-Beeston) constraint with tau = (nominal / uncertainty)**2 per bin.

Imports `._base`, `._effects` and `.._common`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp

from .._common import Array, _fail
from ._base import Field, Layout, Modifier, ParamRequest
from ._effects import BIN_FACTOR

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False


class ShapeSys(Modifier):
    mtype = "shapesys"
    fields = (Field("data", per_bin=True),)
    effect = BIN_FACTOR

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        if len(where) > 1:
            raise _fail(f"shapesys {name!r} is used on more than one sample")
        ((c, s),) = where
        n = layout.nbins[c]
        nom = layout.nominal(c, s)
        unc = layout.field(c, s, name, self.mtype, "data")
        return ParamRequest(
            "poisson",
            n,
            (1.0,) * n,
            ((1e-10, 10.0),) * n,
            per_bin=True,
            from_yields=True,
            nom_idx=(tuple(nom + i for i in range(n)),),
            unc_idx=(tuple(unc + i for i in range(n)),),
            bin_offsets={c: 0},
        )

    def constraint_from_yields(
        self, nom: Array, unc: Array
    ) -> tuple[Array, Array | None, Array]:
        # pyhf: tau = (nom / unc)^2 where both are > 0, else 1 and fixed; the
        # auxiliary data are tau too (unless configured).
        nom, unc = nom[0], unc[0]
        valid = (nom > 0) & (unc > 0)
        tau = jnp.where(valid, (nom / jnp.where(valid, unc, 1.0)) ** 2, 1.0)
        return tau, tau, ~valid
