# SPDX-License-Identifier: BSD-3-Clause
"""``shapefactor``: an unconstrained factor per bin (data-driven shapes), init 1
in [0, 10], shared by every sample that uses it -- also across channels.

As pyhf, the set has as many parameters as the first channel (in sorted order)
that uses it has bins, and bin ``i`` of every channel that uses it is scaled by
parameter ``i``: a control region and a signal region of the same binning share
their per-bin factors (pyhf's ``2bin_2channel_coupledshapefactor``). A channel
with more bins than that is refused: pyhf would scale its extra bins by the
model's first parameter, whatever it is.

Imports `._base`, `._effects` and `.._common`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._common import _fail
from ._base import Layout, Modifier, ParamRequest
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
        chans = sorted({c for c, _ in where})
        first = chans[0]
        n = layout.nbins[first]
        for c in chans[1:]:
            if layout.nbins[c] > n:
                raise _fail(
                    f"shapefactor {name!r} is used in several channels with more "
                    f"bins in '{c}' ({layout.nbins[c]}) than in '{first}' ({n}), "
                    "the first in sorted order, which sets its number of "
                    "parameters (pyhf would scale the extra bins by an unrelated "
                    "parameter)"
                )
        return ParamRequest(
            "free",
            n,
            (1.0,) * n,
            ((0.0, 10.0),) * n,
            per_bin=True,
            bin_offsets=dict.fromkeys(chans, 0),
        )
