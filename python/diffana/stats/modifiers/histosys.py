# SPDX-License-Identifier: BSD-3-Clause
"""``histosys``: a correlated shape variation, its ``lo_data``/``hi_data`` per bin
interpolated with code 4p; a Gaussian-constrained parameter it may share with
``normsys``.

Imports `._base` and `._effects`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._base import Field, Layout, Modifier, ParamRequest
from ._effects import CODE4P_DELTA


class HistoSys(Modifier):
    mtype = "histosys"
    fields = (Field("lo_data", per_bin=True), Field("hi_data", per_bin=True))
    effect = CODE4P_DELTA
    shares_parameters = True

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        # As normsys: a shared parameter is one set, which must be defined alike.
        return ParamRequest("normal", 1, (0.0,), ((-5.0, 5.0),), (0.0,), (1.0,))
