# SPDX-License-Identifier: BSD-3-Clause
"""diffana.histogram / histogram2d: the compiled kernels against the numpy reference
(python/diffana/_reference/hist.py, the source of truth), Jacobians against central finite
differences, and the GradHistogram object (merge, pickling, to_hist)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import diffana
from diffana import _core
from diffana.testing import check_grad, numerical_jacobian

reference = pytest.importorskip("diffana._reference")

UNIFORM = np.linspace(-2.0, 2.0, 9)
VARIABLE = np.array([-3.0, -1.2, -0.5, 0.0, 0.1, 0.7, 2.5])
OVERFLOW = {"drop": 0, "fold": 1}


def ref_1d(x, edges, w=None, h=None, x_tan=None, w_tan=None, overflow="drop"):
    """The reference's outputs (values, sumw2, jac, sumw2_jac, n_skipped, ...)."""
    return reference.hist_fill_1d(
        x, x_tan, w, w_tan, edges, 0.0 if h is None else h, OVERFLOW[overflow]
    )


def ref_2d(
    x,
    y,
    xe,
    ye,
    w=None,
    hx=None,
    hy=None,
    x_tan=None,
    y_tan=None,
    w_tan=None,
    overflow="drop",
):
    return reference.hist_fill_2d(
        x,
        x_tan,
        y,
        y_tan,
        w,
        w_tan,
        xe,
        ye,
        0.0 if hx is None else hx,
        0.0 if hy is None else hy,
        OVERFLOW[overflow],
    )


def events(rng, n=400, p=3):
    x = rng.normal(0.0, 1.3, n)
    w = rng.uniform(0.5, 2.0, n)
    x_tan = rng.normal(size=(n, p))
    w_tan = rng.normal(size=(n, p))
    return x, w, x_tan, w_tan


def assert_matches(h, ref, rtol=1e-11, atol=1e-12, jac_atol=1e-10):
    """Values to 1e-12 (the kernels truncate the Gaussian at 7.5 bandwidths: at most
    6.4e-14 of an event's weight left out); Jacobians, which also carry
    phi(7.5) / h ~ 2.4e-13 / h per unit tangent, to 1e-10."""
    np.testing.assert_allclose(h.values, ref.values, rtol=rtol, atol=atol)
    np.testing.assert_allclose(h.variances, ref.sumw2, rtol=rtol, atol=atol)
    np.testing.assert_allclose(
        h.jacobian, np.reshape(ref.jac, h.jacobian.shape), rtol=rtol, atol=jac_atol
    )
    np.testing.assert_allclose(
        h.variances_jacobian,
        np.reshape(ref.sumw2_jac, h.variances_jacobian.shape),
        rtol=rtol,
        atol=jac_atol,
    )
    assert h.n_skipped == ref.n_skipped


# ---- against the reference ------------------------------------------------------------


@pytest.mark.parametrize("edges", [UNIFORM, VARIABLE], ids=["uniform", "variable"])
@pytest.mark.parametrize("bandwidth", [None, 0.05, 0.3, 2.0])
@pytest.mark.parametrize("overflow", ["drop", "fold"])
@pytest.mark.parametrize("weighted", [False, True])
def test_1d_matches_reference(rng, edges, bandwidth, overflow, weighted):
    x, w, x_tan, w_tan = events(rng)
    x[:5] = [edges[0], edges[-1], edges[3], -10.0, 10.0]  # edges and far outside
    if not weighted:
        w, w_tan = None, None
    h = diffana.histogram(
        x,
        edges,
        weights=w,
        bandwidth=bandwidth,
        x_tangents=x_tan,
        weight_tangents=w_tan,
        overflow=overflow,
    )
    assert_matches(h, ref_1d(x, edges, w, bandwidth, x_tan, w_tan, overflow))


@pytest.mark.parametrize(
    "bandwidths", [(None, None), (0.2, None), (None, 0.4), (0.3, 0.1)]
)
@pytest.mark.parametrize("overflow", ["drop", "fold"])
def test_2d_matches_reference(rng, bandwidths, overflow):
    x, w, x_tan, w_tan = events(rng, n=200)
    y = rng.normal(0.5, 1.0, 200)
    y_tan = rng.normal(size=(200, 3))
    h = diffana.histogram2d(
        x,
        y,
        UNIFORM,
        VARIABLE,
        weights=w,
        bandwidth=bandwidths,
        x_tangents=x_tan,
        y_tangents=y_tan,
        weight_tangents=w_tan,
        overflow=overflow,
    )
    ref = ref_2d(x, y, UNIFORM, VARIABLE, w, *bandwidths, x_tan, y_tan, w_tan, overflow)
    assert h.values.shape == (8, 6)
    assert h.jacobian.shape == (8, 6, 3)
    assert_matches(h, ref)


def test_nan_events_match_reference(rng):
    x, w, x_tan, w_tan = events(rng, n=50)
    x[3] = np.nan
    w[7] = np.nan
    h = diffana.histogram(
        x, UNIFORM, weights=w, bandwidth=0.2, x_tangents=x_tan, weight_tangents=w_tan
    )
    assert h.n_skipped == 2
    assert_matches(h, ref_1d(x, UNIFORM, w, 0.2, x_tan, w_tan))


# ---- hard binning is numpy.histogram ----------------------------------------------------


@pytest.mark.parametrize("edges", [UNIFORM, VARIABLE])
def test_hard_values_are_numpy_histogram(rng, edges):
    x, w, _, _ = events(rng)
    x[:3] = [edges[0], edges[-1], edges[2]]  # last edge closed, others [lo, hi)
    h = diffana.histogram(x, edges, weights=w)
    np.testing.assert_allclose(
        h.values, np.histogram(x, edges, weights=w)[0], rtol=1e-13
    )
    np.testing.assert_allclose(
        h.variances, np.histogram(x, edges, weights=w**2)[0], rtol=1e-13
    )


def test_weight_only_dependence_is_histogram_of_weight_tangents(rng):
    """Hard binning: jacobian[:, k] = numpy histogram of the weight tangents, and
    sumw2 jacobian = histogram of 2 w dw."""
    x, w, _, w_tan = events(rng)
    h = diffana.histogram(x, VARIABLE, weights=w, weight_tangents=w_tan)
    for k in range(3):
        np.testing.assert_allclose(
            h.jacobian[:, k],
            np.histogram(x, VARIABLE, weights=w_tan[:, k])[0],
            rtol=1e-12,
            atol=1e-13,
        )
        np.testing.assert_allclose(
            h.variances_jacobian[:, k],
            np.histogram(x, VARIABLE, weights=2 * w * w_tan[:, k])[0],
            rtol=1e-12,
            atol=1e-13,
        )


def test_int_edges_and_range_follow_numpy(rng):
    x = rng.uniform(-1, 3, 100)
    h = diffana.histogram(x, 7, range=(-1.0, 3.0))
    counts, edges = np.histogram(x, 7, range=(-1.0, 3.0))
    np.testing.assert_array_equal(h.edges, edges)
    np.testing.assert_array_equal(h.values, counts)
    h2 = diffana.histogram(x, 5)  # data range, as numpy
    counts2, edges2 = np.histogram(x, 5)
    np.testing.assert_allclose(h2.edges, edges2, rtol=1e-15)
    np.testing.assert_array_equal(h2.values, counts2)


def test_2d_hard_is_numpy_histogram2d(rng):
    x, y = rng.normal(size=(2, 300))
    w = rng.uniform(0, 1, 300)
    h = diffana.histogram2d(x, y, 4, VARIABLE, weights=w, range=[(-2, 2), None])
    counts, xe, _ye = np.histogram2d(x, y, [np.linspace(-2, 2, 5), VARIABLE], weights=w)
    np.testing.assert_allclose(h.values, counts, rtol=1e-13)
    np.testing.assert_array_equal(h.xedges, xe)
    assert h.edges[1] is h.yedges


def test_multidimensional_x_is_flattened(rng):
    x = rng.normal(size=(10, 4))
    t = rng.normal(size=(10, 4, 2))
    h = diffana.histogram(x, UNIFORM, bandwidth=0.3, x_tangents=t)
    flat = diffana.histogram(
        x.ravel(), UNIFORM, bandwidth=0.3, x_tangents=t.reshape(-1, 2)
    )
    np.testing.assert_array_equal(h.values, flat.values)
    np.testing.assert_array_equal(h.jacobian, flat.jacobian)


def test_no_tangents_gives_p_zero(rng):
    h = diffana.histogram(rng.normal(size=10), UNIFORM)
    assert h.jacobian.shape == (8, 0)
    assert h.n_params == 0


# ---- Jacobians against finite differences ----------------------------------------------


@pytest.mark.parametrize("bandwidth", [0.1, 0.5])
@pytest.mark.parametrize("overflow", ["drop", "fold"])
@pytest.mark.parametrize("edges", [UNIFORM, VARIABLE], ids=["uniform", "variable"])
def test_1d_jacobian_matches_finite_differences(rng, bandwidth, overflow, edges):
    """theta = (shift of x along vx, scale of w along vw, a common x scale)."""
    x0 = rng.normal(0.0, 1.3, 100)
    w0 = rng.uniform(0.5, 2.0, 100)
    vx = rng.normal(size=100)
    vw = rng.normal(size=100)

    def xs(theta):
        return (x0 + theta[0] * vx) * (1.0 + theta[2])

    def ws(theta):
        return w0 * (1.0 + theta[1] * vw)

    def values(theta):
        return diffana.histogram(
            xs(theta), edges, weights=ws(theta), bandwidth=bandwidth, overflow=overflow
        ).values

    def variances(theta):
        return diffana.histogram(
            xs(theta), edges, weights=ws(theta), bandwidth=bandwidth, overflow=overflow
        ).variances

    x_tan = np.stack([vx, np.zeros(100), x0], axis=1)
    w_tan = np.stack([np.zeros(100), w0 * vw, np.zeros(100)], axis=1)
    h = diffana.histogram(
        x0,
        edges,
        weights=w0,
        bandwidth=bandwidth,
        x_tangents=x_tan,
        weight_tangents=w_tan,
        overflow=overflow,
    )
    check_grad(values, np.zeros(3), h.jacobian, rtol=1e-6, atol=1e-7)
    check_grad(variances, np.zeros(3), h.variances_jacobian, rtol=1e-6, atol=1e-7)


def test_1d_jacobian_edge_cases_finite_differences(rng):
    """Events far outside the edges, on an edge, at large magnitudes, and a tiny
    bandwidth next to a wide one."""
    x0 = np.array([-1e6, -2.0, -2.0 + 1e-3, 0.0, 1.999, 2.0, 1e6, 1e15])
    for h_bw in (1e-3, 0.5, 50.0):
        for overflow in ("drop", "fold"):

            def values(theta, h_bw=h_bw, overflow=overflow):
                return diffana.histogram(
                    x0 + theta[0], UNIFORM, bandwidth=h_bw, overflow=overflow
                ).values

            h = diffana.histogram(
                x0,
                UNIFORM,
                bandwidth=h_bw,
                overflow=overflow,
                x_tangents=np.ones((8, 1)),
            )
            eps = min(1e-6, h_bw * 1e-4)
            check_grad(values, np.zeros(1), h.jacobian, eps=eps, rtol=1e-5, atol=1e-6)
            assert np.all(np.isfinite(h.jacobian))


@pytest.mark.parametrize("bandwidths", [(0.3, 0.2), (0.25, None)])
def test_2d_jacobian_matches_finite_differences(rng, bandwidths):
    x0, y0 = rng.normal(size=(2, 80))
    w0 = rng.uniform(0.5, 1.5, 80)

    def values(theta):
        return diffana.histogram2d(
            x0 + theta[0],
            y0 * (1 + theta[1]),
            UNIFORM,
            VARIABLE,
            weights=w0 * (1 + theta[2]),
            bandwidth=bandwidths,
        ).values

    x_tan = np.tile([1.0, 0.0, 0.0], (80, 1))
    y_tan = np.stack([np.zeros(80), y0, np.zeros(80)], 1)
    w_tan = np.stack([np.zeros(80), np.zeros(80), w0], 1)
    h = diffana.histogram2d(
        x0,
        y0,
        UNIFORM,
        VARIABLE,
        weights=w0,
        bandwidth=bandwidths,
        x_tangents=x_tan,
        y_tangents=y_tan,
        weight_tangents=w_tan,
    )
    check_grad(values, np.zeros(3), h.jacobian, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("overflow", ["drop", "fold"])
def test_edge_terms_give_edge_and_bandwidth_derivatives(rng, overflow):
    """The raw binding's edge_density/edge_moment (used by diffana.jax):
    d values_b / d e_j = -S_b (j = b), +S_{b+1} (j = b + 1); d values_b / d h =
    T_b - T_{b+1}; with fold the outer edges are infinite and contribute nothing."""
    x = rng.normal(0.0, 1.0, 200)
    w = rng.uniform(0.5, 1.5, 200)
    edges = VARIABLE.copy()
    h = 0.3
    code = OVERFLOW[overflow]
    values, _, _, _, _, s, t = _core.hist.fill_1d(
        x, edges, weights=w, bandwidth=h, overflow=code, edge_terms=True
    )
    nb = len(edges) - 1

    def by_edges(e):
        return _core.hist.fill_1d(x, e, weights=w, bandwidth=h, overflow=code)[0]

    jac_edges = numerical_jacobian(by_edges, edges)
    analytic = np.zeros((nb, nb + 1))
    for b in range(nb):
        analytic[b, b] -= s[b]
        analytic[b, b + 1] += s[b + 1]
    if overflow == "fold":
        analytic[:, 0] = 0.0
        analytic[:, -1] = 0.0
    np.testing.assert_allclose(analytic, jac_edges, rtol=1e-6, atol=1e-6)

    def by_bandwidth(hh):
        return _core.hist.fill_1d(x, edges, weights=w, bandwidth=hh[0], overflow=code)[
            0
        ]

    d_h = numerical_jacobian(by_bandwidth, [h])[:, 0]
    tt = t.copy()
    if overflow == "fold":
        tt[0] = tt[-1] = 0.0
    np.testing.assert_allclose(tt[:-1] - tt[1:], d_h, rtol=1e-6, atol=1e-6)
    ref = ref_1d(x, edges, w, h, overflow=overflow)
    np.testing.assert_allclose(values, ref.values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s, ref.edge_density, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(t, ref.edge_moment, rtol=1e-11, atol=1e-11)


# ---- the GradHistogram object --------------------------------------------------------------


def test_merge_of_chunks_equals_whole(rng):
    x, w, x_tan, w_tan = events(rng, n=300)
    kw = {"bandwidth": 0.2, "overflow": "fold"}
    whole = diffana.histogram(
        x, UNIFORM, weights=w, x_tangents=x_tan, weight_tangents=w_tan, **kw
    )
    parts = [
        diffana.histogram(
            x[s],
            UNIFORM,
            weights=w[s],
            x_tangents=x_tan[s],
            weight_tangents=w_tan[s],
            **kw,
        )
        for s in (slice(0, 100), slice(100, 250), slice(250, 300))
    ]
    for merged in (
        parts[0] + parts[1] + parts[2],
        parts[0].merge(*parts[1:]),
        sum(parts),
    ):
        np.testing.assert_allclose(merged.values, whole.values, rtol=1e-12)
        np.testing.assert_allclose(merged.variances, whole.variances, rtol=1e-12)
        np.testing.assert_allclose(
            merged.jacobian, whole.jacobian, rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(
            merged.variances_jacobian, whole.variances_jacobian, rtol=1e-10, atol=1e-12
        )
        assert merged.bandwidth == 0.2
        assert merged.overflow == "fold"
    # merging does not modify its inputs
    np.testing.assert_array_equal(
        parts[0].values,
        diffana.histogram(x[:100], UNIFORM, weights=w[:100], **kw).values,
    )


def test_merge_2d(rng):
    x, y = rng.normal(size=(2, 100))
    a = diffana.histogram2d(x[:50], y[:50], UNIFORM, VARIABLE)
    b = diffana.histogram2d(x[50:], y[50:], UNIFORM, VARIABLE)
    np.testing.assert_array_equal(
        (a + b).values, diffana.histogram2d(x, y, UNIFORM, VARIABLE).values
    )


def test_pickle_round_trip(rng):
    x, w, x_tan, w_tan = events(rng, n=50)
    h = diffana.histogram(
        x,
        VARIABLE,
        weights=w,
        bandwidth=0.1,
        x_tangents=x_tan,
        weight_tangents=w_tan,
        overflow="fold",
    )
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        g = pickle.loads(pickle.dumps(h, protocol=protocol))
        assert type(g) is diffana.GradHistogram
        for attr in ("values", "variances", "jacobian", "variances_jacobian", "edges"):
            np.testing.assert_array_equal(getattr(g, attr), getattr(h, attr))
        assert (g.bandwidth, g.overflow, g.n_skipped) == (0.1, "fold", 0)
    h2 = diffana.histogram2d(x, w, UNIFORM, VARIABLE, bandwidth=(0.1, None))
    g2 = pickle.loads(pickle.dumps(h2))
    np.testing.assert_array_equal(g2.values, h2.values)
    assert g2.bandwidth == (0.1, None)


def test_repr_and_properties(rng):
    h = diffana.histogram([0.5], [0.0, 1.0, 2.0], x_tangents=[[1.0, 2.0]])
    assert repr(h) == (
        "GradHistogram(edges=[0.0, 1.0, 2.0], bandwidth=None, overflow='drop', "
        "n_params=2)"
    )
    assert h.nbins == 2
    np.testing.assert_array_equal(h.centers, [0.5, 1.5])
    np.testing.assert_array_equal(h.widths, [1.0, 1.0])
    assert h.shape == (2,)
    long = diffana.histogram([0.5], np.linspace(0, 1, 11))
    assert "..., 1.0] (11)" in repr(long)
    h2 = diffana.histogram2d([0.5], [0.5], [0, 1], [0, 1])
    assert repr(h2).startswith("GradHistogram2D(xedges=[0.0, 1.0], yedges=[0.0, 1.0]")


def test_to_hist(rng):
    hist = pytest.importorskip("hist")
    x, w, _, _ = events(rng)
    h = diffana.histogram(x, VARIABLE, weights=w, bandwidth=0.2)
    H = h.to_hist()
    assert isinstance(H, hist.Hist)
    np.testing.assert_array_equal(H.values(), h.values)
    np.testing.assert_array_equal(H.variances(), h.variances)
    np.testing.assert_array_equal(H.axes[0].edges, VARIABLE)
    H2 = diffana.histogram2d(x, w, UNIFORM, VARIABLE, weights=w).to_hist()
    assert H2.values().shape == (8, 6)
    np.testing.assert_allclose(
        H2.values(), np.histogram2d(x, w, [UNIFORM, VARIABLE], weights=w)[0]
    )


def test_constructor_validates_shapes():
    with pytest.raises(
        ValueError, match=r"values and variances must have shape \(2,\)"
    ):
        diffana.GradHistogram(
            np.zeros(3),
            np.zeros(3),
            np.zeros((3, 0)),
            np.zeros((3, 0)),
            [0.0, 1.0, 2.0],
        )
    with pytest.raises(ValueError, match=r"jacobian and variances_jacobian must have"):
        diffana.GradHistogram(
            np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), [0.0, 1.0, 2.0]
        )
