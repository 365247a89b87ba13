# SPDX-License-Identifier: BSD-3-Clause
"""``histosys``: a correlated shape variation, its ``lo_data``/``hi_data`` per bin
interpolated with code 4p (pyhf's default) or code 0 (``modifier_settings``); a
Gaussian-constrained parameter it may share with ``normsys``.

Imports `._base` and `._effects`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ._base import Effect, Field, Layout, Modifier, ParamRequest
from ._effects import CODE0_DELTA, CODE4P_DELTA


class HistoSys(Modifier):
    mtype = "histosys"
    fields = (
        Field("lo_data", per_bin=True, signed=True),
        Field("hi_data", per_bin=True, signed=True),
    )
    effect = CODE4P_DELTA
    shares_parameters = True
    interpcodes: ClassVar[Mapping[str, Effect]] = {
        "code0": CODE0_DELTA,
        "code4p": CODE4P_DELTA,
    }
    fallback_interpcode = "code0"

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        # As normsys: a shared parameter is one set, which must be defined alike.
        return ParamRequest("normal", 1, (0.0,), ((-5.0, 5.0),), (0.0,), (1.0,))
