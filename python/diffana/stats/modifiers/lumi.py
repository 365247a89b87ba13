# SPDX-License-Identifier: BSD-3-Clause
"""``lumi``: the luminosity, one Gaussian-constrained factor whose inits, bounds,
auxdata and sigmas the measurement must configure (pyhf's schema requires them).

Imports `._base`, `._effects` and `.._common`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._common import _fail
from ._base import Layout, Modifier, ParamRequest
from ._effects import SCALAR_FACTOR


class Lumi(Modifier):
    mtype = "lumi"
    effect = SCALAR_FACTOR

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        missing = [
            k for k in ("inits", "bounds", "auxdata", "sigmas") if k not in config
        ]
        if missing:
            raise _fail(
                f"lumi parameter {name!r} needs {missing} in the measurement's "
                "parameter config"
            )
        return ParamRequest("normal", 1, (1.0,), ((0.0, 10.0),), (1.0,), (1.0,))
