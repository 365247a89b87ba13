# SPDX-License-Identifier: BSD-3-Clause
"""Relaxed (sigmoid) cuts with forward-mode derivatives, on numpy arrays.

The values are those of ``relaxed.cut``: ``sigmoid(slope * (x - cut))`` keeps what is
above the cut, ``sigmoid(slope * (cut - x))`` what is below; a window is the product
of an "above lo" and a "below hi" cut. Every input may carry tangents (derivatives
along P parameters): an input of shape ``s`` has tangents of shape ``s + (P,)`` (a
scalar cut has tangents of shape ``(P,)``), and the result is a `DualArray` whose
tangents have shape ``value.shape + (P,)``, with ``P = 0`` when no tangents are given.

NaN in ``x`` (event data) propagates: that element's value and tangents are NaN, as
in numpy. NaN or infinite cuts, window edges and slopes raise ``ValueError``.

Each function is a thin wrapper over its entry of the relaxed-op table
(`diffana._ops`), which also drives `diffana.awkward` and `diffana.jax`; CUDA device
arrays (CuPy, DLPack) go to `diffana._device`, which returns device results. Imports
`diffana._ops`, `diffana._dual` and `diffana._device` only.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from . import _device
from ._dual import DualArray
from ._ops import SOFT_CUT, SOFT_WINDOW, evaluate, keep_above

__all__ = ["soft_cut", "soft_window"]


def soft_cut(
    x: ArrayLike,
    cut: ArrayLike,
    slope: ArrayLike = 1.0,
    keep: str = "above",
    *,
    x_tangents: ArrayLike | None = None,
    cut_tangents: ArrayLike | None = None,
    slope_tangents: ArrayLike | None = None,
) -> DualArray:
    """Sigmoid cut, as ``relaxed.cut``, with its derivatives.

    ``s = sigmoid(slope * (x - cut))`` for ``keep="above"`` (``x - cut`` changes sign
    for ``"below"``). ``ds/dx = slope s (1 - s)``, ``ds/dcut = -ds/dx`` and
    ``ds/dslope = (x - cut) s (1 - s)`` (signs flipped for ``"below"``). Far from the
    cut the value is exactly 0 or 1 with zero derivatives, for any slope.

    Parameters
    ----------
    x, cut, slope : array_like
        Broadcast against each other (numpy rules). ``cut`` and ``slope`` must be
        finite; NaN in ``x`` gives NaN in that element.
    keep : {"above", "below"}
        Which side of the cut passes.
    x_tangents, cut_tangents, slope_tangents : array_like, optional
        Derivatives of the inputs along P parameters, shape ``input.shape + (P,)``.

    Returns
    -------
    DualArray
        The cut weights and their tangents (``value.shape + (P,)``).

    Examples
    --------
    >>> import numpy as np
    >>> import diffana
    >>> r = diffana.soft_cut([0.0, 1.0, 5.0], cut=1.0, slope=2.0, cut_tangents=[1.0])
    >>> np.round(r.value, 4)
    array([0.1192, 0.5   , 0.9997])
    >>> np.round(r.tangents[:, 0], 4)  # d value / d cut
    array([-0.21  , -0.5   , -0.0007])
    """
    tangents = {"x": x_tangents, "cut": cut_tangents, "slope": slope_tangents}
    named = {f"{k}_tangents": v for k, v in tangents.items()}
    if _device.on_device({"x": x, "cut": cut, "slope": slope, **named}):
        return _device.soft_cut(  # type: ignore[return-value]
            x, cut, slope, keep_above(keep), tangents
        )
    return evaluate(
        SOFT_CUT,
        (x, cut, slope),
        (x_tangents, cut_tangents, slope_tangents),
        keep_above=keep_above(keep),
    )


def soft_window(
    x: ArrayLike,
    lo: ArrayLike,
    hi: ArrayLike,
    slope: ArrayLike = 1.0,
    *,
    x_tangents: ArrayLike | None = None,
    lo_tangents: ArrayLike | None = None,
    hi_tangents: ArrayLike | None = None,
    slope_tangents: ArrayLike | None = None,
) -> DualArray:
    """Soft window ``lo < x < hi``: ``sigmoid(slope (x - lo)) * sigmoid(slope (hi - x))``.

    With ``a = sigmoid(slope (x - lo))`` and ``b = sigmoid(slope (hi - x))``:
    ``d/dlo = -slope a (1 - a) b``, ``d/dhi = slope b (1 - b) a``,
    ``d/dx = -(d/dlo + d/dhi)`` and
    ``d/dslope = (x - lo) a (1 - a) b + (hi - x) b (1 - b) a``.

    Parameters
    ----------
    x, lo, hi, slope : array_like
        Broadcast against each other. ``lo``, ``hi`` and ``slope`` must be finite.
    x_tangents, lo_tangents, hi_tangents, slope_tangents : array_like, optional
        Derivatives of the inputs along P parameters, shape ``input.shape + (P,)``.

    Returns
    -------
    DualArray
        The window weights and their tangents.

    Examples
    --------
    >>> import numpy as np
    >>> import diffana
    >>> w = diffana.soft_window([0.0, 50.0, 100.0], lo=40.0, hi=60.0,
    ...                         lo_tangents=[1.0, 0.0], hi_tangents=[0.0, 1.0])
    >>> np.round(w.value, 3)
    array([0., 1., 0.])
    >>> w.tangents.shape
    (3, 2)
    """
    tangents = {"x": x_tangents, "lo": lo_tangents, "hi": hi_tangents,
                "slope": slope_tangents}  # fmt: skip
    named = {f"{k}_tangents": v for k, v in tangents.items()}
    if _device.on_device({"x": x, "lo": lo, "hi": hi, "slope": slope, **named}):
        return _device.soft_window(x, lo, hi, slope, tangents)  # type: ignore[return-value]
    return evaluate(
        SOFT_WINDOW,
        (x, lo, hi, slope),
        (x_tangents, lo_tangents, hi_tangents, slope_tangents),
    )
