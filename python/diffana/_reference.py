# SPDX-License-Identifier: BSD-3-Clause
"""Pure-NumPy reference of the histogram kernels: the source of truth for semantics.

``hist_fill_1d``, ``hist_fill_1d_vjp`` and ``hist_fill_2d`` take the arguments of the
C kernels ``diffana_hist_fill_1d_f64`` / ``diffana_hist_fill_1d_vjp_f64`` /
``diffana_hist_fill_2d_f64`` (include/diffana/kernels.h) in the same order, without
the sizes (n, P, nbins), which follow from the arrays, and return the kernels' outputs. They loop over nothing and truncate nothing: every event
is evaluated against every bin by broadcasting, so they are slow (memory
O(n * nbins * P)) and meant for tests on small inputs. The compiled kernels (CPU and
CUDA) and the JAX layer are tested against them.

``physics_<op>`` are the references of the Lorentz kernels ``diffana_physics_<op>_f64``
(the value and its partial derivatives with respect to every input; see their
section below).

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
    "physics_delta_phi",
    "physics_delta_r",
    "physics_from_cartesian",
    "physics_invariant_mass",
    "physics_invariant_mass3",
    "physics_pt_of_sum",
    "physics_pt_of_sum3",
    "physics_to_cartesian",
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
    step = np.diff(e) <= 0
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
    z[fin] = (e[None, :] - x[fin, None]) / h
    pdf[fin] = _normal_pdf(z[fin])
    lo, hi = z[fin, :-1], z[fin, 1:]
    # Differences of lower tails left of x, of upper tails right of x: no cancellation.
    k[fin] = np.where(
        lo > 0, normal_cdf(-lo) - normal_cdf(-hi), normal_cdf(hi) - normal_cdf(lo)
    )
    dk[fin] = (pdf[fin, :-1] - pdf[fin, 1:]) / h
    if fold:  # x = +-inf: the limit, everything in the edge bin
        k[inf & (x < 0), 0] = 1.0
        k[inf & (x > 0), nbins - 1] = 1.0
    return k, dk, z, pdf


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
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 1:
        msg = f"x must be 1D, got shape {xs.shape}"
        raise ValueError(msg)
    n = xs.size
    e = _edges(edges, "edges")
    h = _bandwidth(bandwidth, "bandwidth")
    fold = _fold(overflow)
    ws = _column(w, n, "w", 1.0)
    t = _tangents({"x_tan": x_tan, "w_tan": w_tan}, n)
    skip = np.isnan(xs) | ~np.isfinite(ws)
    keep = ~skip
    xs, ws, xt, wt = xs[keep], ws[keep], t["x_tan"][keep], t["w_tan"][keep]

    k, dk, z, pdf = _axis_weights(xs, e, h, fold)
    c = ws[:, None] * k  # (n, nbins)
    dc = (
        k[:, :, None] * wt[:, None, :] + (ws[:, None] * dk)[:, :, None] * xt[:, None, :]
    )
    edge_density = edge_moment = None
    if h > 0.0:
        s = ws[:, None] * pdf / h  # pdf is 0 at infinite z (fold edges, x = +-inf)
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
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 1:
        msg = f"x must be 1D, got shape {xs.shape}"
        raise ValueError(msg)
    n = xs.size
    e = _edges(edges, "edges")
    h = _bandwidth(bandwidth, "bandwidth")
    fold = _fold(overflow)
    ws = _column(w, n, "w", 1.0)
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
    ct_x[keep] = (ws[keep, None] * dk) @ cts
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
    dc = (
        kxy[..., None] * wt[:, None, None, :]
        + (ws[:, None, None] * dkx[:, :, None] * ky[:, None, :])[..., None]
        * xt[:, None, None, :]
        + (ws[:, None, None] * kx[:, :, None] * dky[:, None, :])[..., None]
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


# ---- Lorentz helpers (diffana_physics_<op>_f64) ---------------------------------------
# Each takes the kernel's inputs (broadcasting to a shape s) and returns (value,
# partials): value[s] and partials[s + (K,)] = d value / d input_k, or for the basis
# changes value[s + (4,)] and partials[s + (4, 4)] = d out_j / d input_k. Written in
# the Cartesian basis, independently of lorentz.hpp's rapidity form; where a result is
# not differentiable (a vanishing mass, pT or Delta R; a null vector's E) the partials
# are 0.


def _broadcast(*args: ArrayLike) -> list[Array]:
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*args)]


def _ratio(num: ArrayLike, den: ArrayLike) -> Array:
    """num / den, and 0 where den == 0 (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(np.asarray(den) != 0, np.divide(num, den), 0.0))


def _invariant_mass_of(x: list[Array]) -> tuple[Array, Array]:
    """M of the objects (pt, eta, phi, m) = x[4a:4a+4] and its partials.

    ``M^2 = sum m_a^2 + 2 sum_{a<b} (E_a E_b - p_a . p_b)``, each product as the
    non-negative ``(m_a^2 |p_b|^2 + m_b^2 |p_a|^2 + m_a^2 m_b^2) / (E_a E_b + |p_a|
    |p_b|) + |p_a| |p_b| |u_a - u_b|^2 / 2`` (u: unit momentum), exact for collinear
    objects; ``dM = (E dE - P . dP) / M`` with the totals (E, P).
    """
    objs = [x[i : i + 4] for i in range(0, len(x), 4)]
    es, ps, us, norms = [], [], [], []
    for pt, eta, phi, m in objs:
        ch = np.cosh(eta)
        ps.append(np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)]))
        us.append(
            np.sign(pt) * np.stack([np.cos(phi) / ch, np.sin(phi) / ch, np.tanh(eta)])
        )
        norms.append(np.abs(pt) * ch)
        es.append(np.hypot(pt * ch, m))
    mass2 = np.sum([o[3] ** 2 for o in objs], axis=0)
    for a in range(len(objs)):
        for b in range(a + 1, len(objs)):
            ma2, mb2 = objs[a][3] ** 2, objs[b][3] ** 2
            base = ma2 * norms[b] ** 2 + mb2 * norms[a] ** 2 + ma2 * mb2
            angle = norms[a] * norms[b] * ((us[a] - us[b]) ** 2).sum(axis=0) / 2
            mass2 = mass2 + 2 * (
                _ratio(base, es[a] * es[b] + norms[a] * norms[b]) + angle
            )
    mass = np.sqrt(np.maximum(mass2, 0.0))  # np.maximum keeps NaN
    e, (px, py, pz) = np.sum(es, axis=0), np.sum(ps, axis=0)
    d = []
    for (pt, eta, phi, m), ea in zip(objs, es, strict=True):
        ch, sh, c, s = np.cosh(eta), np.sinh(eta), np.cos(phi), np.sin(phi)
        d += [
            e * _ratio(pt * ch * ch, ea) - (px * c + py * s + pz * sh),
            e * _ratio(pt * pt * ch * sh, ea) - pz * pt * ch,
            pt * (px * s - py * c),
            e * _ratio(m, ea),
        ]
    return mass, np.stack([_ratio(di, mass) for di in d], axis=-1)


def physics_invariant_mass(*pt_eta_phi_m: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_invariant_mass_f64(pt1, eta1, phi1, m1, pt2, ..., m2)``.

    Examples
    --------
    >>> m, d = physics_invariant_mass(45.0, 0.0, 0.0, 0.0, 45.0, 0.0, np.pi, 0.0)
    >>> float(m), d[[0, 4]].round(12).tolist()
    (90.0, [1.0, 1.0])
    """
    return _invariant_mass_of(_broadcast(*pt_eta_phi_m))


def physics_invariant_mass3(*pt_eta_phi_m: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_invariant_mass3_f64(pt1, eta1, phi1, m1, ..., m3)``."""
    return _invariant_mass_of(_broadcast(*pt_eta_phi_m))


def physics_pt_of_sum(*pt_phi: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_pt_of_sum_f64(pt1, phi1, pt2, phi2)`` and ``pt_of_sum3``'s
    (three pairs): hypot(Px, Py) of the sum, ``d/dpt_a = (Px cos phi_a + Py sin
    phi_a) / pT``, ``d/dphi_a = pt_a (Py cos phi_a - Px sin phi_a) / pT``.

    Examples
    --------
    >>> v, d = physics_pt_of_sum(3.0, 0.0, 4.0, np.pi / 2)
    >>> round(float(v), 12), d.round(12).tolist()
    (5.0, [0.6, 2.4, 0.8, -2.4])
    """
    x = _broadcast(*pt_phi)
    pts, cs, ss = x[0::2], [np.cos(f) for f in x[1::2]], [np.sin(f) for f in x[1::2]]
    px = sum(p * c for p, c in zip(pts, cs, strict=True))
    py = sum(p * s for p, s in zip(pts, ss, strict=True))
    total = np.hypot(px, py)
    d = []
    for p, c, s in zip(pts, cs, ss, strict=True):
        d += [px * c + py * s, p * (py * c - px * s)]
    return total, np.stack([_ratio(di, total) for di in d], axis=-1)


physics_pt_of_sum3 = physics_pt_of_sum


def physics_delta_phi(phi1: ArrayLike, phi2: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_delta_phi_f64``: phi1 - phi2, shifted by a multiple of 2 pi
    into [-pi, pi) unless it is there already; partials (1, -1).

    Examples
    --------
    >>> v, d = physics_delta_phi(3.0, -3.0)
    >>> round(float(v), 9), d.tolist()
    (-0.283185307, [1.0, -1.0])
    """
    a, b = _broadcast(phi1, phi2)
    d = a - b
    with np.errstate(invalid="ignore"):
        shifted = np.mod(d + np.pi, 2 * np.pi) - np.pi
        shifted = np.where(shifted >= np.pi, shifted - 2 * np.pi, shifted)
        value = np.where((d >= -np.pi) & (d < np.pi), d, shifted)
    return value, np.stack([np.ones_like(d), -np.ones_like(d)], axis=-1)


def physics_delta_r(*eta_phi: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_delta_r_f64(eta1, phi1, eta2, phi2)``: hypot(deta, dphi)
    and (deta, dphi, -deta, -dphi) / dR.

    Examples
    --------
    >>> v, d = physics_delta_r(0.3, 0.0, 0.0, 0.4)
    >>> round(float(v), 12), d.round(12).tolist()
    (0.5, [0.6, -0.8, -0.6, 0.8])
    """
    e1, p1, e2, p2 = _broadcast(*eta_phi)
    deta, dphi = e1 - e2, physics_delta_phi(p1, p2)[0]
    dr = np.hypot(deta, dphi)
    de, dp = _ratio(deta, dr), _ratio(dphi, dr)
    return dr, np.stack([de, dp, -de, -dp], axis=-1)


def physics_to_cartesian(*pt_eta_phi_m: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_to_cartesian_f64(pt, eta, phi, m)`` -> (px, py, pz, E).

    Examples
    --------
    >>> v, d = physics_to_cartesian(3.0, 0.0, 0.0, 4.0)
    >>> v.round(12).tolist(), d[3].round(12).tolist()
    ([3.0, 0.0, 0.0, 5.0], [0.6, 0.0, 0.0, 0.8])
    """
    p, h, f, m = _broadcast(*pt_eta_phi_m)
    c, s, ch, sh, o = np.cos(f), np.sin(f), np.cosh(h), np.sinh(h), np.zeros_like(p)
    e = np.hypot(p * ch, m)
    rows = [
        [c, o, -p * s, o],
        [s, o, p * c, o],
        [sh, p * ch, o, o],
        [_ratio(p * ch * ch, e), _ratio(p * p * ch * sh, e), o, _ratio(m, e)],
    ]
    d = np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)
    return np.stack([p * c, p * s, p * sh, e], axis=-1), d


def physics_from_cartesian(*px_py_pz_e: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_from_cartesian_f64(px, py, pz, e)`` -> (pt, eta, phi, m).

    eta = asinh(pz / pt), +-inf along the beam (0 for pz = 0); phi = atan2(py, px);
    m = sqrt((E - p)(E + p)), 0 where that is at most 16 eps E^2. The partials are 0
    at pt = 0 (pt, eta, phi) and where m = 0 (m).

    Examples
    --------
    >>> v, d = physics_from_cartesian(3.0, 0.0, 0.0, 5.0)
    >>> v.round(12).tolist(), d[3].round(12).tolist()
    ([3.0, 0.0, 0.0, 4.0], [-0.75, -0.0, -0.0, 1.25])
    """
    x, y, z, e = _broadcast(*px_py_pz_e)
    pt = np.hypot(x, y)
    p, o = np.hypot(pt, z), np.zeros_like(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        beam = np.where(z > 0, np.inf, np.where(z < 0, -np.inf, z * 0.0))
        eta = np.where(pt == 0, beam, np.arcsinh(z / pt))
        m2 = (e - p) * (e + p)
        m2 = np.where(m2 <= 16 * np.finfo(np.float64).eps * e * e, 0.0, m2)
    m, pt2p = np.sqrt(m2), pt * pt * p
    rows = [
        [_ratio(x, pt), _ratio(y, pt), o, o],
        [_ratio(-z * x, pt2p), _ratio(-z * y, pt2p), _ratio(np.sign(pt), p), o],
        [_ratio(-y, pt * pt), _ratio(x, pt * pt), o, o],
        [_ratio(-x, m), _ratio(-y, m), _ratio(-z, m), _ratio(e, m)],
    ]
    d = np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)
    return np.stack([pt, eta, np.arctan2(y, x), m], axis=-1), d
