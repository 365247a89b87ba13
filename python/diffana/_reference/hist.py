# SPDX-License-Identifier: BSD-3-Clause
"""Pure-NumPy reference of the histogram kernels: the source of truth for semantics.

``hist_fill_1d``, ``hist_fill_1d_vjp`` and ``hist_fill_2d`` take the arguments of the
C kernels ``diffana_hist_fill_1d_f64`` / ``diffana_hist_fill_1d_vjp_f64`` /
``diffana_hist_fill_2d_f64`` (include/diffana/kernels.h) in the same order, without
the sizes (n, P, nbins), which follow from the arrays, and return the kernels' outputs. They loop over nothing and truncate nothing: every event
is evaluated against every bin by broadcasting, so they are slow (memory
O(n * nbins * P)) and meant for tests on small inputs. The compiled kernels (CPU and
CUDA) and the JAX layer are tested against them.

Semantics
---------
Hard binning (``bandwidth == 0``) is ``numpy.histogram``'s: bins ``[e_b, e_b+1)``, the
last one closed. An event adds ``w`` to its bin; the Jacobian row gets ``dw`` (the
position has no influence, ``x_tan`` is ignored).

Soft binning (``bandwidth = h > 0``) is ``relaxed.hist``'s (gradhep/relaxed,
``src/relaxed/ops/histograms.py``): an event at ``x`` adds ``c_b = w * k_b`` with
``k_b = Phi((e_b+1 - x) / h) - Phi((e_b - x) / h)`` to every bin, with tangent
``dc_b = k_b dw + w (dk_b/dx) dx``, ``dk_b/dx = (phi(z_b) - phi(z_b+1)) / h``.
``sumw2_b`` accumulates ``c_b**2`` and its Jacobian ``2 c_b dc_b``.
The 1D soft kernel also returns the edge terms ``S_j = sum w phi(z_j) / h`` and
``T_j = sum w phi(z_j) z_j / h`` (``z_j = (e_j - x) / h``), from which
``d values_b / d e_b = -S_b``, ``d values_b / d e_b+1 = S_b+1`` and
``d values_b / d h = T_b - T_b+1``; for hard binning they are ``None`` (the kernel
leaves its buffers untouched).

Overflow ``"drop"`` (0) loses what falls outside the edges; ``"fold"`` (1) makes the
outer edges ``-inf`` / ``+inf``, so under/overflow lands in the first/last bin.

Events with a NaN position or a non-finite weight are skipped and counted
(``n_skipped``). ``x = +-inf`` is an under/overflow: nothing with ``"drop"``, the whole
weight in the first/last bin with ``"fold"``, with zero derivative in ``x``.

Differences from ``relaxed.hist`` (reproduced exactly by :func:`relaxed_hist`)
------------------------------------------------------------------------------
* ``reflect_infinities=True`` is ``overflow="fold"``: relaxed pads the edges with
  ``-inf``/``+inf`` and adds the two extra bins into the first/last bin, which is the
  same as replacing the outer edges by ``-inf``/``+inf`` (equal up to rounding).
* ``density`` is not a kernel option. ``density=True`` without reflection is
  ``values / widths / values.sum()``. With ``reflect_infinities=True`` relaxed
  normalises *before* folding: the padded bins are divided by an infinite width, so
  their mass is *not* folded in, while the normalisation still counts it (the sum is
  over the padded bins, i.e. the number of events). relaxed's density with reflection
  is therefore the ``"drop"`` histogram divided by the widths and by the number of
  events, and integrates to less than 1 when mass falls outside.
* relaxed has no weights (every event weighs 1) and needs ``bandwidth > 0``; with
  ``bandwidth = 0`` it divides by zero (NaN for events on an edge), where diffana does
  hard binning.
* relaxed propagates NaN events into every bin; diffana skips and counts them. relaxed
  turns ``x = +-inf`` into NaN bins with ``reflect_infinities=True`` (``inf - inf``);
  diffana takes the limit (the whole weight in the edge bin).
* With ``reflect_infinities=True`` JAX's derivatives of the first and last bins of
  relaxed.hist with respect to the edges and the bandwidth are NaN (``phi(z) * z`` at
  the padded infinite edges is ``0 * inf``); diffana's edge terms skip the infinite
  edges and stay finite (checked against finite differences).
* For a subnormal ``h`` the x-derivative ``phi(z) / h`` of an event within a few ``h``
  of an edge exceeds the largest double (the limit of a vanishing ``h`` is a delta
  function at the edges). It is clipped to it, and so is ``w dk/dx`` (here and in
  the kernels), rather than becoming ``inf``, whose product with a zero tangent is
  NaN: a parameter that does not move the event gets exactly 0 from it.
  The values and the weights' derivatives are exact for every finite ``h > 0`` (the
  limit of a vanishing ``h`` is hard binning, with an event on an edge split
  half/half).
* The compiled kernels evaluate each event only within ``DIFFANA_SOFT_TRUNCATION = 7.5``
  bandwidths; the weight left out is at most ``2 Phi(-7.5) = 6.4e-14`` of the event's
  weight and its x-derivative at most ``2 phi(7.5) / h = 4.9e-13 / h`` times the
  weight. This reference is untruncated, like relaxed: compare with tolerances of that
  size (values agree to ~1e-15 of the summed weights, Jacobians to ~1e-12 relative).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SOFT_TRUNCATION",
    "SOFT_TRUNCATION_ERROR",
    "Hist1DResult",
    "Hist2DResult",
    "hist_fill_1d",
    "hist_fill_1d_vjp",
    "hist_fill_2d",
    "normal_cdf",
    "relaxed_hist",
]

#: Bandwidths either side of an event that the compiled kernels evaluate.
SOFT_TRUNCATION = 7.5
#: Upper bound on the fraction of an event's weight the truncation leaves out.
SOFT_TRUNCATION_ERROR = 6.381783345821769e-14

Array = NDArray[np.float64]


class Hist1DResult(NamedTuple):
    """Outputs of ``diffana_hist_fill_1d_f64``, in its argument order."""

    values: Array  #: (nbins,)
    sumw2: Array  #: (nbins,)
    jac: Array  #: (nbins, P): d values_b / d param_k
    sumw2_jac: Array  #: (nbins, P): d sumw2_b / d param_k
    n_skipped: int
    edge_density: Array | None  #: (nbins + 1,), soft binning only
    edge_moment: Array | None  #: (nbins + 1,), soft binning only


class Hist2DResult(NamedTuple):
    """Outputs of ``diffana_hist_fill_2d_f64`` (bins row-major: ``[ix, iy]``)."""

    values: Array  #: (nx, ny)
    sumw2: Array  #: (nx, ny)
    jac: Array  #: (nx, ny, P)
    sumw2_jac: Array  #: (nx, ny, P)
    n_skipped: int


def normal_cdf(z: ArrayLike) -> Array:
    """Standard normal CDF ``Phi(z) = erfc(-z / sqrt(2)) / 2`` (scipy's ``ndtr``).

    Examples
    --------
    >>> float(normal_cdf(0.0))
    0.5
    """
    z = np.asarray(z, dtype=np.float64)
    try:
        from scipy.special import ndtr
    except ImportError:  # pragma: no cover - scipy is a test dependency
        erfc = np.vectorize(math.erfc, otypes=[np.float64])
        return np.asarray(0.5 * erfc(-z / math.sqrt(2.0)), dtype=np.float64)
    return np.asarray(ndtr(z), dtype=np.float64)


def _normal_pdf(z: Array) -> Array:
    with np.errstate(over="ignore"):
        return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _saturate(a: Array) -> Array:
    """``a`` clipped to the largest finite double, as the kernels clip ``dk/dx`` and
    ``w dk/dx``: so that a zero tangent times it is 0, not ``0 * inf = NaN``."""
    big = np.finfo(np.float64).max
    return np.asarray(np.clip(a, -big, big), dtype=np.float64)


def _over_bandwidth(a: Array, h: float) -> Array:
    """``a / h``, saturated (``phi(z) / h`` overflows for a subnormal ``h`` with the
    event within a few ``h`` of an edge)."""
    with np.errstate(over="ignore"):
        return _saturate(a / h)


def _times(a: Array, b: Array) -> Array:
    """``a * b`` (broadcast), saturated."""
    with np.errstate(over="ignore"):
        return _saturate(a * b)


# ---- argument checks (the kernels' status codes, as ValueError) ----------------------


def _edges(edges: ArrayLike, name: str) -> Array:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2:
        msg = f"{name} must be a 1D array of at least 2 entries (one bin), got shape {e.shape}"
        raise ValueError(msg)
    bad = ~np.isfinite(e)
    if bad.any():
        j = int(np.argmax(bad))
        msg = f"{name} must be finite, got {name}[{j}] = {e[j]}"
        raise ValueError(msg)
    step = e[1:] <= e[:-1]  # not np.diff, which may overflow
    if step.any():
        j = int(np.argmax(step)) + 1
        msg = (
            f"{name} must be strictly increasing, got "
            f"{name}[{j}] = {e[j]} <= {name}[{j - 1}] = {e[j - 1]}"
        )
        raise ValueError(msg)
    return e


def _bandwidth(h: float, name: str) -> float:
    h = float(h)
    if not (math.isfinite(h) and h >= 0.0):
        msg = f"{name} must be finite and >= 0 (0 = hard binning), got {h}"
        raise ValueError(msg)
    return h


def _fold(overflow: Any) -> bool:
    if isinstance(overflow, str) and overflow in ("drop", "fold"):
        return overflow == "fold"
    if not isinstance(overflow, (bool, str)) and overflow in (0, 1):
        return int(overflow) == 1
    msg = f"overflow must be 'drop' (0) or 'fold' (1), got {overflow!r}"
    raise ValueError(msg)


def _column(a: ArrayLike | None, n: int, name: str, default: float) -> Array:
    if a is None:
        return np.full(n, default)
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape != (n,):
        msg = f"{name} must have shape ({n},), got {arr.shape}"
        raise ValueError(msg)
    return arr


def _tangents(tans: dict[str, ArrayLike | None], n: int) -> dict[str, Array]:
    """The tangent arrays as (n, P) float arrays; zeros where None; P must agree."""
    p = None
    out: dict[str, Array | None] = {}
    for name, t in tans.items():
        if t is None:
            out[name] = None
            continue
        arr = np.asarray(t, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != n:
            msg = f"{name} must have shape (n, P) with n = {n}, got {arr.shape}"
            raise ValueError(msg)
        if p is not None and arr.shape[1] != p:
            msg = (
                f"{name} has P = {arr.shape[1]}, but another tangent array has P = {p}"
            )
            raise ValueError(msg)
        p = arr.shape[1]
        out[name] = arr
    p = 0 if p is None else p
    return {k: (np.zeros((n, p)) if v is None else v) for k, v in out.items()}


# ---- per-axis weights, all events x all bins ------------------------------------------


def _axis_weights(
    x: Array, edges: Array, h: float, fold: bool
) -> tuple[Array, Array, Array, Array]:
    """k[i, b], dk/dx[i, b], z[i, j] and phi(z)[i, j] for events x and all bins."""
    n, nbins = x.size, edges.size - 1
    k = np.zeros((n, nbins))
    dk = np.zeros((n, nbins))
    z = np.zeros((n, nbins + 1))
    pdf = np.zeros((n, nbins + 1))
    inf = np.isinf(x)
    if h == 0.0:
        idx = np.searchsorted(edges, x, side="right") - 1
        idx[x == edges[-1]] = nbins - 1  # the last bin is closed
        under, over = x < edges[0], x > edges[-1]
        if fold:
            idx[under], idx[over] = 0, nbins - 1
            inside = np.ones(n, dtype=bool)
        else:
            inside = ~under & ~over
        k[np.flatnonzero(inside), idx[inside]] = 1.0
        return k, dk, z, pdf
    e = edges.copy()
    if fold:
        e[0], e[-1] = -np.inf, np.inf
    fin = ~inf
    with np.errstate(over="ignore"):  # huge e - x or tiny h: z = +-inf, as it should
        z[fin] = (e[None, :] - x[fin, None]) / h
    pdf[fin] = _normal_pdf(z[fin])
    lo, hi = z[fin, :-1], z[fin, 1:]
    # Differences of lower tails left of x, of upper tails right of x: no cancellation.
    k[fin] = np.where(
        lo > 0, normal_cdf(-lo) - normal_cdf(-hi), normal_cdf(hi) - normal_cdf(lo)
    )
    dk[fin] = _over_bandwidth(pdf[fin, :-1] - pdf[fin, 1:], h)
    if fold:  # x = +-inf: the limit, everything in the edge bin
        k[inf & (x < 0), 0] = 1.0
        k[inf & (x > 0), nbins - 1] = 1.0
    return k, dk, z, pdf


def _inputs_1d(
    x: ArrayLike, w: ArrayLike | None, edges: ArrayLike, bandwidth: float, overflow: Any
) -> tuple[Array, Array, float, bool, Array]:
    """The checked arguments the 1D fill and its VJP share: positions, edges,
    bandwidth, whether to fold, weights (1 where None)."""
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 1:
        msg = f"x must be 1D, got shape {xs.shape}"
        raise ValueError(msg)
    e = _edges(edges, "edges")
    h = _bandwidth(bandwidth, "bandwidth")
    return xs, e, h, _fold(overflow), _column(w, xs.size, "w", 1.0)


# ---- the kernels ------------------------------------------------------------------------


def hist_fill_1d(
    x: ArrayLike,
    x_tan: ArrayLike | None,
    w: ArrayLike | None,
    w_tan: ArrayLike | None,
    edges: ArrayLike,
    bandwidth: float,
    overflow: Any = "drop",
) -> Hist1DResult:
    """Reference of ``diffana_hist_fill_1d_f64`` (see the module docstring).

    Parameters
    ----------
    x : (n,) event positions.
    x_tan : (n, P) d x / d param, or None (constant).
    w : (n,) weights, or None (all 1).
    w_tan : (n, P) d w / d param, or None (constant).
    edges : (nbins + 1,) finite, strictly increasing.
    bandwidth : 0 for hard binning, > 0 for the Gaussian kernel width.
    overflow : "drop" / 0 or "fold" / 1.

    Returns
    -------
    Hist1DResult
        ``values``, ``sumw2``, ``jac`` (nbins, P), ``sumw2_jac`` (nbins, P),
        ``n_skipped``, and for soft binning ``edge_density``/``edge_moment``
        (nbins + 1), else None.

    Examples
    --------
    >>> r = hist_fill_1d([0.5, 1.5, 1.5], None, None, None, [0.0, 1.0, 2.0], 0.0)
    >>> r.values.tolist(), r.n_skipped
    ([1.0, 2.0], 0)
    """
    xs, e, h, fold, ws = _inputs_1d(x, w, edges, bandwidth, overflow)
    n = xs.size
    t = _tangents({"x_tan": x_tan, "w_tan": w_tan}, n)
    skip = np.isnan(xs) | ~np.isfinite(ws)
    keep = ~skip
    xs, ws, xt, wt = xs[keep], ws[keep], t["x_tan"][keep], t["w_tan"][keep]

    k, dk, z, pdf = _axis_weights(xs, e, h, fold)
    c = ws[:, None] * k  # (n, nbins)
    with np.errstate(over="ignore"):  # clipped dk/dx times a tangent > 1: +-inf
        dc = (
            k[:, :, None] * wt[:, None, :]
            + _times(ws[:, None], dk)[:, :, None] * xt[:, None, :]
        )
    edge_density = edge_moment = None
    # Sums of clipped derivatives may overflow (+-inf, inf - inf = NaN), as in the
    # kernels.
    with np.errstate(over="ignore", invalid="ignore"):
        if h > 0.0:
            # pdf is 0 at infinite z (fold edges, x = +-inf)
            s = _times(ws[:, None], _over_bandwidth(pdf, h))
            edge_density = s.sum(axis=0)
            with np.errstate(invalid="ignore"):  # 0 * inf where phi underflows
                edge_moment = np.where(pdf > 0, s * z, 0.0).sum(axis=0)
        return Hist1DResult(
            values=c.sum(axis=0),
            sumw2=(c * c).sum(axis=0),
            jac=dc.sum(axis=0),
            sumw2_jac=(2.0 * c[:, :, None] * dc).sum(axis=0),
            n_skipped=int(skip.sum()),
            edge_density=edge_density,
            edge_moment=edge_moment,
        )


def hist_fill_1d_vjp(
    x: ArrayLike,
    w: ArrayLike | None,
    ct: ArrayLike,
    edges: ArrayLike,
    bandwidth: float,
    overflow: Any = "drop",
) -> tuple[Array, Array]:
    """Reference of ``diffana_hist_fill_1d_vjp_f64``: the reverse-mode gather.

    The transpose of `hist_fill_1d`'s tangent map with respect to the events: for a
    cotangent ``ct[b, p]`` of the bins, ``ct_x[i, p] = w_i sum_b ct[b, p] dk_b/dx(x_i)``
    and ``ct_w[i, p] = sum_b ct[b, p] k_b(x_i)``, with the ``k_b`` and ``dk_b/dx`` of
    the fill (hard binning: ``dk/dx = 0``). Events the fill skips (NaN ``x``,
    non-finite weight) get zero rows; ``x = +-inf`` has ``dk/dx = 0``.

    Parameters
    ----------
    x : (n,) event positions.
    w : (n,) weights, or None (all 1).
    ct : (nbins, P) the cotangent of the bins (d loss_p / d values_b).
    edges : (nbins + 1,) finite, strictly increasing.
    bandwidth : 0 for hard binning, > 0 for the Gaussian kernel width.
    overflow : "drop" / 0 or "fold" / 1.

    Returns
    -------
    (ct_x, ct_w) : two (n, P) arrays.

    Examples
    --------
    >>> ct_x, ct_w = hist_fill_1d_vjp([0.5, 1.5], [2.0, 3.0], [[1.0], [10.0]],
    ...                               [0.0, 1.0, 2.0], 0.0)
    >>> ct_x.ravel().tolist(), ct_w.ravel().tolist()
    ([0.0, 0.0], [1.0, 10.0])
    """
    xs, e, h, fold, ws = _inputs_1d(x, w, edges, bandwidth, overflow)
    n = xs.size
    cts = np.asarray(ct, dtype=np.float64)
    if cts.ndim != 2 or cts.shape[0] != e.size - 1:
        msg = (
            f"ct must have shape (nbins, P) with nbins = {e.size - 1}, got {cts.shape}"
        )
        raise ValueError(msg)
    ct_x = np.zeros((n, cts.shape[1]))
    ct_w = np.zeros((n, cts.shape[1]))
    keep = ~(np.isnan(xs) | ~np.isfinite(ws))
    k, dk, _, _ = _axis_weights(xs[keep], e, h, fold)
    ct_w[keep] = k @ cts
    ct_x[keep] = _times(ws[keep, None], dk) @ cts
    return ct_x, ct_w


def hist_fill_2d(
    x: ArrayLike,
    x_tan: ArrayLike | None,
    y: ArrayLike,
    y_tan: ArrayLike | None,
    w: ArrayLike | None,
    w_tan: ArrayLike | None,
    xedges: ArrayLike,
    yedges: ArrayLike,
    xbandwidth: float,
    ybandwidth: float,
    overflow: Any = "drop",
) -> Hist2DResult:
    """Reference of ``diffana_hist_fill_2d_f64``: the product of the 1D kernels.

    ``c = w kx(x) ky(y)``, ``dc = kx ky dw + w kx' ky dx + w kx ky' dy`` (a hard axis
    has ``k`` = 1 in one bin and ``k' = 0``). Events with NaN ``x`` or ``y`` or a
    non-finite weight are skipped. Bins are returned as ``[ix, iy]`` (the kernel's
    flat row-major ``ix * ny + iy``).

    Examples
    --------
    >>> r = hist_fill_2d([0.5], None, [1.5], None, None, None, [0, 1], [0, 1, 2], 0, 0)
    >>> r.values.tolist()
    [[0.0, 1.0]]
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or ys.shape != xs.shape:
        msg = f"x and y must be 1D of the same length, got {xs.shape} and {ys.shape}"
        raise ValueError(msg)
    n = xs.size
    ex = _edges(xedges, "xedges")
    ey = _edges(yedges, "yedges")
    hx = _bandwidth(xbandwidth, "xbandwidth")
    hy = _bandwidth(ybandwidth, "ybandwidth")
    fold = _fold(overflow)
    ws = _column(w, n, "w", 1.0)
    t = _tangents({"x_tan": x_tan, "y_tan": y_tan, "w_tan": w_tan}, n)
    skip = np.isnan(xs) | np.isnan(ys) | ~np.isfinite(ws)
    keep = ~skip
    xs, ys, ws = xs[keep], ys[keep], ws[keep]
    xt, yt, wt = t["x_tan"][keep], t["y_tan"][keep], t["w_tan"][keep]

    kx, dkx, _, _ = _axis_weights(xs, ex, hx, fold)
    ky, dky, _, _ = _axis_weights(ys, ey, hy, fold)
    kxy = kx[:, :, None] * ky[:, None, :]  # (n, nx, ny)
    c = ws[:, None, None] * kxy
    # Clipped derivatives times tangents > 1, and their sums, may overflow (+-inf,
    # inf - inf = NaN), as in the kernels.
    with np.errstate(over="ignore", invalid="ignore"):
        dc = (
            kxy[..., None] * wt[:, None, None, :]
            + _times(_times(ws[:, None, None], dkx[:, :, None]), ky[:, None, :])[
                ..., None
            ]
            * xt[:, None, None, :]
            + _times(ws[:, None, None] * kx[:, :, None], dky[:, None, :])[..., None]
            * yt[:, None, None, :]
        )
        return Hist2DResult(
            values=c.sum(axis=0),
            sumw2=(c * c).sum(axis=0),
            jac=dc.sum(axis=0),
            sumw2_jac=(2.0 * c[..., None] * dc).sum(axis=0),
            n_skipped=int(skip.sum()),
        )


def relaxed_hist(
    events: ArrayLike,
    bins: ArrayLike,
    bandwidth: float,
    density: bool = False,
    reflect_infinities: bool = False,
) -> Array:
    """``relaxed.hist`` transcribed to NumPy, quirks included (see the module docstring).

    Examples
    --------
    >>> v = relaxed_hist([0.0], [-1.0, 0.0, 1.0], 0.5, reflect_infinities=True)
    >>> [round(float(a), 12) for a in v]
    [0.5, 0.5]
    """
    ev = np.asarray(events, dtype=np.float64)
    b = np.asarray(bins, dtype=np.float64)
    if reflect_infinities:
        b = np.concatenate([[-np.inf], b, [np.inf]])
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf_up = normal_cdf((b[1:, None] - ev) / bandwidth)
        cdf_dn = normal_cdf((b[:-1, None] - ev) / bandwidth)
        counts = (cdf_up - cdf_dn).sum(axis=1)
        if density:
            counts = counts / np.diff(b) / counts.sum(axis=0)
    if reflect_infinities:
        folded = counts[1:-1].copy()
        folded[0] += counts[0]
        folded[-1] += counts[-1]
        counts = folded
    return np.asarray(counts, dtype=np.float64)
