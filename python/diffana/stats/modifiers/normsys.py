# SPDX-License-Identifier: BSD-3-Clause
"""``normsys``: a normalisation variation, the numbers ``lo``/``hi`` (> 0)
interpolated with code 4 (pyhf's default) or code 1 (``modifier_settings``); a
Gaussian-constrained parameter it may share with ``histosys``.

Imports `._base` and `._effects`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ._base import Effect, Field, Layout, Modifier, ParamRequest
from ._effects import CODE1_FACTOR, CODE4_FACTOR


class NormSys(Modifier):
    mtype = "normsys"
    fields = (
        Field("lo", per_bin=False, positive=True),
        Field("hi", per_bin=False, positive=True),
    )
    effect = CODE4_FACTOR
    shares_parameters = True
    interpcodes: ClassVar[Mapping[str, Effect]] = {
        "code1": CODE1_FACTOR,
        "code4": CODE4_FACTOR,
    }
    fallback_interpcode = "code1"

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        # As histosys: a shared parameter is one set, which must be defined alike.
        return ParamRequest("normal", 1, (0.0,), ((-5.0, 5.0),), (0.0,), (1.0,))
