# SPDX-License-Identifier: BSD-3-Clause
"""``shapefactor``: an unconstrained factor per bin of one channel (data-driven
shapes), init 1 in [0, 10], shared by every sample that uses it.

Imports `._base`, `._effects` and `.._common`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._common import _fail
from ._base import Layout, Modifier, ParamRequest, channel_offsets
from ._effects import BIN_FACTOR


class ShapeFactor(Modifier):
    mtype = "shapefactor"
    effect = BIN_FACTOR

    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        chans, offsets, n = channel_offsets(self.mtype, name, where, layout)
        if len(chans) > 1:
            raise _fail(f"shapefactor {name!r} is used in several channels")
        return ParamRequest(
            "free", n, (1.0,) * n, ((0.0, 10.0),) * n, per_bin=True, bin_offsets=offsets
        )
