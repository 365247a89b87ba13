# SPDX-License-Identifier: BSD-3-Clause
"""Filling gradient histograms from arrays: `histogram` and `histogram2d`.

The numpy front end of the fill kernels (``_core.hist``): arguments are checked and
cast once (`diffana._checks`), the kernel fills values, variances and their
Jacobians, and the result is a `diffana.GradHistogram` (`diffana.hist`). Jagged
awkward input is flattened onto its objects first (`diffana._jagged`, imported only
then), CUDA device arrays go to `diffana._device`. Imports numpy, `_core`,
`_checks`, `_device`, `_dual` and `hist`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _core, _device
from ._dual import FloatArray, as_tangents, common_n_params
from .hist import GradHistogram, GradHistogram2D

__all__ = ["histogram", "histogram2d"]


def _range(range_: Any, name: str) -> tuple[float, float]:
    """``range_`` as a finite ``(lo, hi)`` with ``lo < hi``."""
    try:
        lo, hi = range_
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError, OverflowError):
        msg = (
            f"range for {name} must be a pair (lo, hi) of finite numbers with lo < hi, "
            f"got {range_!r}"
        )
        raise ValueError(msg) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        msg = f"range for {name} must be finite with lo < hi, got {range_!r}"
        raise ValueError(msg)
    return lo, hi


def _data_range(x: FloatArray) -> tuple[float, float]:
    """numpy.histogram's range of the finite data: min and max, widened by 0.5 either
    side when they are equal (by more where 0.5 is below the spacing of doubles
    there, so that the bins stay distinct)."""
    finite = x[np.isfinite(x)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        big = np.finfo(np.float64).max
        pad = max(0.5, abs(lo) * 2.0**-40)
        lo, hi = max(lo - pad, -big), min(hi + pad, big)
    return lo, hi


def _linspace(lo: float, hi: float, nbins: int, name: str) -> FloatArray:
    """numpy.linspace's nbins + 1 edges, also where hi - lo overflows; ValueError
    naming ``name`` when they are not finite and strictly increasing."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.linspace(lo, hi, nbins + 1)
            if not np.all(np.isfinite(e)):  # (hi - lo) overflowed: halves do not,
                e = 2.0 * np.linspace(lo / 2.0, hi / 2.0, nbins + 1)  # x 2 is exact
    except (ValueError, MemoryError) as err:
        msg = f"{name}: cannot make {nbins} bins: {err}"
        raise ValueError(msg) from None
    if not (np.all(np.isfinite(e)) and np.all(e[1:] > e[:-1])):
        msg = (
            f"{name}: {nbins} bins on [{lo!r}, {hi!r}] cannot be represented (their "
            "edges would not be strictly increasing doubles); give fewer bins or the "
            "edges themselves"
        )
        raise ValueError(msg)
    return e


def _edges(edges: ArrayLike | int, range_: Any, x: FloatArray, name: str) -> FloatArray:
    """Bin edges from an array, or from a bin count and a range (numpy.histogram)."""
    if isinstance(edges, numbers.Integral) and not isinstance(edges, bool):
        nbins = int(edges)
        if nbins < 1:
            msg = f"{name} as a number of bins must be >= 1, got {nbins}"
            raise ValueError(msg)
        lo, hi = _data_range(x) if range_ is None else _range(range_, name)
        return _linspace(lo, hi, nbins, name)
    return _checks.edges(edges, name)


def _weights(
    weights: ArrayLike | None, x: FloatArray, x_name: str
) -> FloatArray | None:
    if weights is None:
        return None
    w = _checks.float_array(weights, "weights")
    if w.shape != x.shape:
        msg = (
            f"weights must have the shape of {x_name}, got weights.shape = {w.shape} "
            f"and {x_name}.shape = {x.shape}"
        )
        raise ValueError(msg)
    return w


def _flat_tangents(t: FloatArray | None, n: int, p: int) -> FloatArray | None:
    """Tangents of n events as an (n, P) array (also for n = 0 or P = 0)."""
    return None if t is None else t.reshape(n, p)


def _is_awkward(a: Any) -> bool:
    """True for an awkward Array, checked without importing awkward."""
    return type(a).__module__.partition(".")[0] == "awkward"


def _flatten_jagged(
    x: Any, weights: Any, x_tangents: Any, weight_tangents: Any
) -> tuple[Any, Any, Any, Any]:
    """Jagged (awkward) inputs flattened onto their objects; per-event weights apply
    to every object of their event."""
    from . import _jagged

    if weight_tangents is not None and weights is None:
        msg = "weight_tangents were given without weights"
        raise ValueError(msg)
    names: tuple[str, ...] = ("x",) if weights is None else ("x", "weights")
    inputs: tuple[Any, ...] = (x,) if weights is None else (x, weights)
    given = {"x": x_tangents, "weights": weight_tangents}
    flat, tans, _ = _jagged.align(
        names,
        inputs,
        {k: v for k, v in given.items() if v is not None},
        {"weights": "weight_tangents"},
    )
    xf = flat[0]
    wf = None if weights is None else np.broadcast_to(flat[1], xf.shape)
    wt = tans.get("weights")
    if wt is not None:
        wt = np.broadcast_to(wt, (*xf.shape, wt.shape[-1]))
    return xf, wf, tans.get("x"), wt


def histogram(
    x: ArrayLike,
    edges: ArrayLike | int,
    weights: ArrayLike | None = None,
    bandwidth: float | None = None,
    x_tangents: ArrayLike | None = None,
    weight_tangents: ArrayLike | None = None,
    overflow: str = "drop",
    *,
    range: tuple[float, float] | None = None,
) -> GradHistogram:
    """Fill a 1D histogram and its Jacobian with respect to P parameters.

    ``values[b] = sum_i w_i K_b(x_i)`` with ``K_b`` the indicator of bin ``b`` (hard)
    or ``Phi((hi_b - x) / h) - Phi((lo_b - x) / h)`` (soft, bandwidth ``h``);
    ``jacobian[b, k] = sum_i (dw_i/dp_k K_b(x_i) + w_i K_b'(x_i) dx_i/dp_k)``, where
    ``K_b' = 0`` for hard binning; ``variances`` is the same sum with ``w_i^2``.

    Parameters
    ----------
    x : array_like
        Event values (any shape; flattened). A jagged ``awkward.Array`` (and jagged
        weights or tangents) is handled by `diffana.awkward.histogram`.
    edges : array_like or int
        Strictly increasing, finite bin edges; or a number of bins spanning ``range``
        (numpy.histogram's convention; without ``range`` the data's finite min/max).
    weights : array_like, optional
        Event weights, of the shape of ``x`` (default 1).
    bandwidth : float, optional
        Width of the Gaussian kernel (> 0) for soft binning, as ``relaxed.hist``;
        None (default) bins hard. Any finite positive width works: a vanishing one
        tends to hard binning (an event on an edge split half/half).
    x_tangents, weight_tangents : array_like, optional
        Derivatives of ``x`` / the weights along P parameters, shape
        ``x.shape + (P,)``. Both must agree on P; P = 0 when neither is given.
    overflow : {"drop", "fold"}
        ``"drop"`` loses what falls outside the edges; ``"fold"`` counts it in the
        first/last bin (``relaxed.hist(..., reflect_infinities=True)``).
    range : (float, float), optional
        The range of the bins when ``edges`` is a number of bins.

    Returns
    -------
    GradHistogram

    Examples
    --------
    >>> import numpy as np
    >>> import diffana
    >>> x = np.array([0.2, 0.4, 1.5])
    >>> h = diffana.histogram(x, [0.0, 1.0, 2.0], weights=[1.0, 2.0, 3.0],
    ...                       weight_tangents=[[1.0], [1.0], [0.0]])
    >>> h.values, h.variances
    (array([3., 3.]), array([5., 9.]))
    >>> h.jacobian[:, 0]
    array([2., 0.])
    >>> soft = diffana.histogram(x, 2, range=(0.0, 2.0), bandwidth=0.1,
    ...                          x_tangents=np.ones((3, 1)))
    >>> np.round(soft.values, 3)  # x = 0.2 is 2 bandwidths from the edge at 0
    array([1.977, 1.   ])
    >>> np.round(soft.jacobian[:, 0], 3)  # shifting all events right gains bin 0
    array([0.541, 0.   ])
    """
    # Device arrays (CuPy, DLPack, __cuda_array_interface__): the CUDA kernel, in place.
    if _device.on_device(
        {"x": x, "weights": weights, "x_tangents": x_tangents,
         "weight_tangents": weight_tangents}
    ):  # fmt: skip
        if isinstance(edges, numbers.Integral):
            msg = "edges must be an array of bin edges for device arrays, not a count"
            raise TypeError(msg)
        return _device.histogram(  # type: ignore[return-value]
            x, edges, weights, bandwidth, x_tangents, weight_tangents, overflow
        )
    if any(_is_awkward(a) for a in (x, weights, x_tangents, weight_tangents)):
        x, weights, x_tangents, weight_tangents = _flatten_jagged(
            x, weights, x_tangents, weight_tangents
        )
    xa = _checks.float_array(x, "x")
    e = _edges(edges, range, xa, "edges")
    w = _weights(weights, xa, "x")
    h = _checks.bandwidth(bandwidth)
    code = _checks.Overflow.of(overflow)
    xt = as_tangents(x_tangents, xa.shape, "x_tangents")
    wt = as_tangents(weight_tangents, xa.shape, "weight_tangents")
    p = common_n_params({"x_tangents": xt, "weight_tangents": wt})
    values, sumw2, jac, sumw2_jac, n_skipped, _, _ = _core.hist.fill_1d(
        xa.ravel(),
        e,
        None if w is None else w.ravel(),
        0.0 if h is None else h,
        _flat_tangents(xt, xa.size, p),
        _flat_tangents(wt, xa.size, p),
        int(code),
        False,
    )
    return GradHistogram(values, sumw2, jac, sumw2_jac, e, h, str(code), n_skipped)


def histogram2d(
    x: ArrayLike,
    y: ArrayLike,
    xedges: ArrayLike | int,
    yedges: ArrayLike | int,
    weights: ArrayLike | None = None,
    bandwidth: float | Sequence[float | None] | None = None,
    x_tangents: ArrayLike | None = None,
    y_tangents: ArrayLike | None = None,
    weight_tangents: ArrayLike | None = None,
    overflow: str = "drop",
    *,
    range: Sequence[tuple[float, float] | None] | None = None,
) -> GradHistogram2D:
    """Fill a 2D histogram ``values[ix, iy]`` and its Jacobian ``[ix, iy, P]``.

    Each axis bins hard or soft independently: the kernel of an event is the product
    of the x and y kernels of `histogram`.

    Parameters
    ----------
    x, y : array_like
        Event coordinates, of the same shape (flattened).
    xedges, yedges : array_like or int
        Bin edges along x and y (or numbers of bins, with ``range``).
    weights : array_like, optional
        Event weights, of the shape of ``x``.
    bandwidth : float or (float or None, float or None), optional
        One bandwidth for both axes or a pair; None bins hard (per axis in a pair).
    x_tangents, y_tangents, weight_tangents : array_like, optional
        Derivatives along P parameters, shape ``x.shape + (P,)``.
    overflow : {"drop", "fold"}
        As for `histogram`, along both axes.
    range : ((float, float), (float, float)), optional
        Ranges for axes whose edges are given as numbers of bins.

    Returns
    -------
    GradHistogram2D

    Examples
    --------
    >>> import diffana
    >>> h = diffana.histogram2d([0.5, 1.5, 1.5], [0.5, 0.5, 1.5], 2, 2,
    ...                         range=[(0, 2), (0, 2)])
    >>> h.values
    array([[1., 0.],
           [1., 1.]])
    """
    xa = _checks.float_array(x, "x")
    ya = _checks.float_array(y, "y")
    if ya.shape != xa.shape:
        msg = f"x and y must have the same shape, got {xa.shape} and {ya.shape}"
        raise ValueError(msg)
    try:
        ranges = (None, None) if range is None else tuple(range)
    except TypeError:
        ranges = ()
    if len(ranges) != 2:
        msg = f"range must be a pair of (lo, hi) ranges, got {range!r}"
        raise ValueError(msg)
    xe = _edges(xedges, ranges[0], xa, "xedges")
    ye = _edges(yedges, ranges[1], ya, "yedges")
    w = _weights(weights, xa, "x")
    if bandwidth is None or isinstance(bandwidth, numbers.Real):
        hx = hy = _checks.bandwidth(bandwidth)
    else:
        pair = tuple(bandwidth)  # type: ignore[arg-type]
        if len(pair) != 2:
            msg = f"bandwidth must be a number or a pair, got {bandwidth!r}"
            raise ValueError(msg)
        hx = _checks.bandwidth(pair[0], "bandwidth[0]")
        hy = _checks.bandwidth(pair[1], "bandwidth[1]")
    code = _checks.Overflow.of(overflow)
    xt = as_tangents(x_tangents, xa.shape, "x_tangents")
    yt = as_tangents(y_tangents, xa.shape, "y_tangents")
    wt = as_tangents(weight_tangents, xa.shape, "weight_tangents")
    p = common_n_params({"x_tangents": xt, "y_tangents": yt, "weight_tangents": wt})
    values, sumw2, jac, sumw2_jac, n_skipped = _core.hist.fill_2d(
        xa.ravel(),
        ya.ravel(),
        xe,
        ye,
        None if w is None else w.ravel(),
        0.0 if hx is None else hx,
        0.0 if hy is None else hy,
        _flat_tangents(xt, xa.size, p),
        _flat_tangents(yt, xa.size, p),
        _flat_tangents(wt, xa.size, p),
        int(code),
    )
    return GradHistogram2D(
        values, sumw2, jac, sumw2_jac, xe, ye, (hx, hy), str(code), n_skipped
    )
