# SPDX-License-Identifier: BSD-3-Clause
"""``normfactor``: an unconstrained normalisation (the POI is one), init 1 in [0, 10].

Imports `._base` and `._effects`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._base import Layout, Modifier, ParamRequest
from ._effects import SCALAR_FACTOR


class NormFactor(Modifier):
    mtype = "normfactor"
    effect = SCALAR_FACTOR

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        return ParamRequest("free", 1, (1.0,), ((0.0, 10.0),))
