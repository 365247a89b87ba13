# SPDX-License-Identifier: BSD-3-Clause
"""diffana.jax: relaxed.hist / relaxed.cut drop-ins running diffana's kernels.

The reference is relaxed's code, written out here in jax.numpy (gradhep/relaxed,
src/relaxed/ops/histograms.py and cuts.py): values and derivatives of diffana.jax
must agree with it to ~1e-10 (values to ~1e-12), under grad, jacfwd, jacrev, jit and
vmap, on both kernel paths (XLA FFI custom calls and pure_callback).
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp
from jax.scipy.stats import norm

import diffana.jax as dj
from diffana import _ops

# Every test runs in float64 (the x64 fixture of conftest.py).
pytestmark = [pytest.mark.jax, pytest.mark.usefixtures("x64")]

BACKENDS = ["ffi", "callback"] if dj._FFI_BUILT else ["callback"]
FLAGS = [(False, False), (True, False), (False, True), (True, True)]
RTOL = 1e-10


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """Run the test with each kernel path the extension offers."""
    before = dj.backend()
    dj._set_backend(request.param)
    yield request.param
    dj._set_backend(before)


# ---- the reference: relaxed's formulas in jax.numpy ----------------------------------


def relaxed_hist(events, bins, bandwidth, density=False, reflect_infinities=False):
    """relaxed.hist, verbatim (apart from the missing @jit)."""
    bins = jnp.array([-jnp.inf, *bins, jnp.inf]) if reflect_infinities else bins
    edge_hi = bins[1:]
    edge_lo = bins[:-1]
    cdf_up = norm.cdf(edge_hi.reshape(-1, 1), loc=events, scale=bandwidth)
    cdf_dn = norm.cdf(edge_lo.reshape(-1, 1), loc=events, scale=bandwidth)
    counts = (cdf_up - cdf_dn).sum(axis=1)
    if density:
        db = jnp.array(jnp.diff(bins), float)
        counts = counts / db / counts.sum(axis=0)
    if reflect_infinities:
        counts = (
            counts[1:-1]
            + jnp.array([counts[0]] + [0] * (len(counts) - 3))
            + jnp.array([0] * (len(counts) - 3) + [counts[-1]])
        )
    return counts


def reference_hist(
    events, bins, bandwidth, density=False, reflect_infinities=False, weights=None
):
    """relaxed.hist's mathematics without its infinite edges, so that its derivatives
    (w.r.t. the bandwidth in particular) are not 0 * inf = NaN; with weights."""
    events = jnp.asarray(events)
    weights = jnp.ones_like(events) if weights is None else jnp.asarray(weights)
    cdf = norm.cdf(jnp.asarray(bins).reshape(-1, 1), loc=events, scale=bandwidth)
    inner = ((cdf[1:] - cdf[:-1]) * weights).sum(axis=1)
    if reflect_infinities:
        under = (cdf[0] * weights).sum()
        over = ((1.0 - cdf[-1]) * weights).sum()
        if density:  # relaxed: in-range counts / widths / (in-range + overflow)
            return inner / jnp.diff(bins) / (under + inner.sum() + over)
        return inner.at[0].add(under).at[-1].add(over)
    if density:
        return inner / jnp.diff(bins) / inner.sum()
    return inner


def relaxed_cut(data, cut_val, slope=1.0, keep="above"):
    """relaxed.cut, verbatim."""
    if keep == "above":
        return 1 / (1 + jnp.exp(-slope * (data - cut_val)))
    return 1 / (1 + jnp.exp(slope * (data - cut_val)))


def central_difference(f, x, eps=1e-6):
    """d f / d x (f scalar, x an array) by central finite differences."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = eps * max(1.0, abs(x[i]))
        up, dn = x.copy(), x.copy()
        up[i] += step
        dn[i] -= step
        grad[i] = (float(f(jnp.asarray(up))) - float(f(jnp.asarray(dn)))) / (2 * step)
    return grad


def close(actual, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol, atol)


@pytest.fixture
def sample():
    rng = np.random.default_rng(7)
    data = jnp.asarray(rng.normal(0.5, 0.6, 60))
    weights = jnp.asarray(rng.uniform(0.2, 2.0, 60))
    bins = jnp.asarray([-0.4, 0.0, 0.3, 0.55, 0.9, 1.5])
    return data, weights, bins, 0.2


# ---- histogram: values -------------------------------------------------------------


@pytest.mark.parametrize(("density", "reflect"), FLAGS)
def test_hist_values_match_relaxed(backend, sample, density, reflect):
    data, _, bins, h = sample
    got = dj.hist(data, bins, h, density=density, reflect_infinities=reflect)
    close(got, relaxed_hist(data, bins, h, density, reflect), rtol=1e-12)
    close(got, reference_hist(data, bins, h, density, reflect), rtol=1e-12)
    assert got.dtype == jnp.float64
    assert got.shape == (bins.shape[0] - 1,)


@pytest.mark.parametrize(("density", "reflect"), FLAGS)
def test_hist_weighted_values(backend, sample, density, reflect):
    data, weights, bins, h = sample
    got = dj.hist_weighted(data, weights, bins, h, density, reflect)
    close(got, reference_hist(data, bins, h, density, reflect, weights), rtol=1e-12)
    unit = dj.hist_weighted(data, jnp.ones_like(data), bins, h, density, reflect)
    close(unit, dj.hist(data, bins, h, density, reflect), rtol=1e-14)


@pytest.mark.parametrize(
    ("data", "bins", "h"),
    [
        ([0.0], [-1.0, 0.0, 1.0], 0.5),  # an event on an edge, at zero
        ([0.0, 0.0, 0.0], [-1e-3, 0.0, 1e-3], 1e-3),
        ([1e6, 1e6 + 1.0, 1e6 + 2.5], [1e6 - 1.0, 1e6 + 1.0, 1e6 + 3.0], 0.7),
        ([-1e9, 1e9, 0.3], [0.0, 0.5, 1.0], 0.1),  # events far outside: nothing
        ([0.2, 0.7], [0.0, 0.5, 1.0], 1e-6),  # tiny bandwidth: hard binning
        ([0.2, 0.7], [0.0, 0.5, 1.0], 1e3),  # huge bandwidth: almost all overflow
        ([0.5], [0.0, 1.0], 0.3),  # a single bin
    ],
)
@pytest.mark.parametrize(("density", "reflect"), [(False, False), (False, True)])
def test_hist_edge_cases(backend, data, bins, h, density, reflect):
    data, bins = jnp.asarray(data), jnp.asarray(bins)
    got = dj.hist(data, bins, h, density, reflect)
    close(got, reference_hist(data, bins, h, density, reflect), rtol=1e-12)
    g = jax.grad(lambda x: dj.hist(x, bins, h, density, reflect).sum())(data)
    assert np.all(np.isfinite(g))
    if reflect:
        close(got.sum(), data.shape[0], rtol=1e-13)  # everything is counted once


def test_hist_empty_data(backend):
    got = dj.hist(jnp.zeros((0,)), jnp.array([0.0, 1.0, 2.0]), 0.5)
    close(got, [0.0, 0.0])
    g = jax.grad(lambda b: dj.hist(jnp.zeros((0,)), b, 0.5).sum())(
        jnp.array([0.0, 1.0])
    )
    close(g, [0.0, 0.0])


def test_hist_nan_events_are_skipped(backend, sample):
    data, weights, bins, h = sample
    with_nan = data.at[3].set(jnp.nan)
    expected = reference_hist(jnp.delete(data, 3), bins, h)
    close(dj.hist(with_nan, bins, h), expected, rtol=1e-12)
    g = jax.grad(lambda x: dj.hist(x, bins, h).sum())(with_nan)
    assert np.all(np.isfinite(g))
    assert g[3] == 0.0
    w_nan = weights.at[5].set(jnp.nan)
    expected = reference_hist(
        jnp.delete(data, 5), bins, h, weights=jnp.delete(weights, 5)
    )
    close(dj.hist_weighted(data, w_nan, bins, h), expected, rtol=1e-12)


def test_hist_accepts_lists_and_integers(backend):
    got = dj.hist([1, 2, 3], [0, 2, 4], 1)
    close(
        got, reference_hist(jnp.array([1.0, 2, 3]), jnp.array([0.0, 2, 4]), 1.0), 1e-12
    )
    assert got.dtype == jnp.float64


# ---- histogram: derivatives --------------------------------------------------------


def _scalarise(f, nbins):
    """A scalar loss sum_b c_b f_b with fixed random c (all bins matter)."""
    c = jnp.asarray(np.random.default_rng(3).uniform(0.5, 1.5, nbins))
    return lambda *a: jnp.dot(c, f(*a))


@pytest.mark.parametrize(("density", "reflect"), FLAGS)
@pytest.mark.parametrize("wrt", ["data", "bins", "bandwidth"])
def test_hist_grad_matches_relaxed(backend, sample, density, reflect, wrt):
    data, _, bins, h = sample
    args = {"data": data, "bins": bins, "bandwidth": jnp.asarray(h)}

    def wrap(fn):
        def f(value):
            a = dict(args, **{wrt: value})
            return fn(a["data"], a["bins"], a["bandwidth"], density, reflect)

        return _scalarise(f, bins.shape[0] - 1)

    ours = jax.grad(wrap(dj.hist))(args[wrt])
    ref = jax.grad(wrap(reference_hist))(args[wrt])
    close(ours, ref, atol=1e-11)
    if not (reflect and wrt == "bandwidth"):  # relaxed: 0 * inf = NaN there
        close(ours, jax.grad(wrap(relaxed_hist))(args[wrt]), atol=1e-11)
    if reflect and not density and wrt == "bins":
        assert ours[0] == 0.0
        assert ours[-1] == 0.0


@pytest.mark.parametrize(("density", "reflect"), FLAGS)
@pytest.mark.parametrize("wrt", ["data", "weights", "bins", "bandwidth"])
def test_hist_weighted_grad(backend, sample, density, reflect, wrt):
    data, weights, bins, h = sample
    args = {"data": data, "weights": weights, "bins": bins, "bandwidth": jnp.asarray(h)}

    def wrap(fn):
        def f(value):
            a = dict(args, **{wrt: value})
            return fn(a["data"], a["weights"], a["bins"], a["bandwidth"])

        return _scalarise(f, bins.shape[0] - 1)

    def ours(x, w, b, hh):
        return dj.hist_weighted(x, w, b, hh, density, reflect)

    def ref(x, w, b, hh):
        return reference_hist(x, b, hh, density, reflect, weights=w)

    close(jax.grad(wrap(ours))(args[wrt]), jax.grad(wrap(ref))(args[wrt]), atol=1e-11)


@pytest.mark.parametrize(("density", "reflect"), FLAGS)
def test_hist_jacfwd_equals_jacrev(backend, sample, density, reflect):
    data, weights, bins, h = sample
    data, weights = data[:12], weights[:12]

    def f(x, w, b, hh):
        return dj.hist_weighted(x, w, b, hh, density, reflect)

    def ref(x, w, b, hh):
        return reference_hist(x, b, hh, density, reflect, weights=w)

    argnums = (0, 1, 2, 3)
    fwd = jax.jacfwd(f, argnums)(data, weights, bins, h)
    rev = jax.jacrev(f, argnums)(data, weights, bins, h)
    expected = jax.jacfwd(ref, argnums)(data, weights, bins, h)
    for a, b, e in zip(fwd, rev, expected, strict=True):
        close(a, b, atol=1e-12)
        close(a, e, atol=1e-11)


def test_hist_under_jit(backend, sample):
    data, weights, bins, h = sample

    @jax.jit
    def loss(x, w, b, hh):
        return jnp.sum(dj.hist_weighted(x, w, b, hh, density=True) ** 2)

    def ref_loss(x, w, b, hh):
        return jnp.sum(reference_hist(x, b, hh, True, weights=w) ** 2)

    close(loss(data, weights, bins, h), ref_loss(data, weights, bins, h), 1e-12)
    ours = jax.jit(jax.grad(loss, (0, 1, 2, 3)))(data, weights, bins, h)
    ref = jax.grad(ref_loss, (0, 1, 2, 3))(data, weights, bins, h)
    for a, b in zip(ours, ref, strict=True):
        close(a, b, atol=1e-11)
    fwd = jax.jit(jax.jacfwd(loss, (0, 2, 3)))(data, weights, bins, h)
    for a, b in zip(fwd, (ref[0], ref[2], ref[3]), strict=True):
        close(a, b, atol=1e-11)


def test_hist_jit_with_static_flags(backend, sample):
    data, _, bins, h = sample
    f = jax.jit(dj.hist, static_argnames=("density", "reflect_infinities"))
    close(f(data, bins, h, density=True), reference_hist(data, bins, h, True), 1e-12)


def test_hist_vmap(backend, sample):
    data, _weights, bins, h = sample
    batch = jnp.stack([data, data * 1.1, data - 0.2])
    hs = jnp.array([0.1, 0.2, 0.3])
    got = jax.vmap(lambda x, hh: dj.hist(x, bins, hh))(batch, hs)
    for i in range(3):
        close(got[i], reference_hist(batch[i], bins, hs[i]), rtol=1e-12)
    # derivatives of a vmapped histogram: the event cotangents run per batch member
    g = jax.grad(lambda x: jnp.sum(jax.vmap(lambda r: dj.hist(r, bins, h))(x) ** 2))(
        batch
    )
    r = jax.grad(
        lambda x: jnp.sum(jax.vmap(lambda r: reference_hist(r, bins, h))(x) ** 2)
    )(batch)
    # The kernel is truncated at 7.5 bandwidths: dk/dx loses up to phi(7.5) / h
    # = 1.2e-12 per bin, times the loss weight 2 * count (~20) of that bin.
    close(g, r, atol=1e-10)
    jf = jax.jacfwd(lambda x: jax.vmap(lambda r: dj.hist(r, bins, h))(x))(batch[:, :5])
    jr = jax.jacrev(lambda x: jax.vmap(lambda r: dj.hist(r, bins, h))(x))(batch[:, :5])
    close(jf, jr, atol=1e-12)


@pytest.mark.parametrize(("density", "reflect"), FLAGS)
def test_hist_finite_differences(backend, density, reflect):
    rng = np.random.default_rng(11)
    data = jnp.asarray(rng.normal(0.0, 1.0, 25))
    weights = jnp.asarray(rng.uniform(0.5, 1.5, 25))
    bins = jnp.asarray([-1.5, -0.5, 0.2, 1.0, 2.0])
    h = jnp.asarray(0.35)

    def f(x, w, b, hh):
        return _scalarise(
            lambda *a: dj.hist_weighted(*a, density, reflect), bins.shape[0] - 1
        )(x, w, b, hh)

    grads = jax.grad(f, (0, 1, 2, 3))(data, weights, bins, h)
    fds = [
        central_difference(lambda v: f(v, weights, bins, h), data),
        central_difference(lambda v: f(data, v, bins, h), weights),
        central_difference(lambda v: f(data, weights, v, h), bins),
        central_difference(lambda v: f(data, weights, bins, v), h),
    ]
    for g, fd in zip(grads, fds, strict=True):
        close(g, fd, rtol=1e-6, atol=1e-8)


def test_hist_gradient_descent_on_bandwidth_and_edges(backend, sample):
    """A small optimisation loop, as a user would write it with relaxed: the same
    trajectory as with the reference, and a falling loss."""
    data, _, bins, _ = sample
    target = reference_hist(data, bins, 0.3)

    def make_step(fn):
        @jax.jit
        def step(params):
            def loss(p):
                return jnp.sum((fn(data, p["bins"], p["h"]) - target) ** 2)

            value, g = jax.value_and_grad(loss)(params)
            return jax.tree.map(lambda p, d: p - 5e-5 * d, params, g), value

        return step

    ours, ref = make_step(dj.hist), make_step(reference_hist)
    p_ours = p_ref = {"bins": bins, "h": jnp.asarray(0.15)}
    losses = []
    for _ in range(10):
        p_ours, value = ours(p_ours)
        p_ref, _ = ref(p_ref)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    close(p_ours["bins"], p_ref["bins"], rtol=1e-10)
    close(p_ours["h"], p_ref["h"], rtol=1e-10)


# ---- histogram: bad input ----------------------------------------------------------


@pytest.mark.parametrize("h", [0.0, -0.1, float("nan"), float("inf")])
def test_hist_bad_bandwidth(backend, sample, h):
    data, _, bins, _ = sample
    with pytest.raises(ValueError, match="bandwidth"):
        dj.hist(data, bins, h)
    with pytest.raises(ValueError, match="bandwidth"):
        jax.grad(lambda x: dj.hist(x, bins, h).sum())(data)


@pytest.mark.parametrize(
    ("bins", "needle"),
    [
        ([0.0, 1.0, 0.5], "strictly increasing"),
        ([0.0, 0.0, 1.0], "strictly increasing"),
        ([0.0, float("nan"), 1.0], "finite"),
        ([0.0, float("inf")], "finite"),
        ([1.0], "at least 2"),
        ([[0.0, 1.0]], "1-dimensional"),
    ],
)
def test_hist_bad_bins(backend, sample, bins, needle):
    data = sample[0]
    with pytest.raises(ValueError, match=f"bins.*{needle}|{needle}.*bins"):
        dj.hist(data, jnp.asarray(bins), 0.2)


def test_hist_bad_shapes_and_types(backend, sample):
    data, weights, bins, h = sample
    with pytest.raises(ValueError, match="data must be 1-dimensional"):
        dj.hist(data.reshape(6, 10), bins, h)
    with pytest.raises(ValueError, match="weights must have the shape of data"):
        dj.hist_weighted(data, weights[:-1], bins, h)
    with pytest.raises(ValueError, match="bandwidth must be a scalar"):
        dj.hist(data, bins, jnp.array([0.1, 0.2]))
    with pytest.raises(TypeError, match="data must be an array of real numbers"):
        dj.hist("abc", bins, h)
    with pytest.raises(TypeError, match="weights"):
        dj.hist_weighted(data, None, bins, h)
    with pytest.raises(TypeError, match="density"):
        dj.hist(data, bins, h, density="yes")


def test_hist_bad_traced_arguments_fail_at_run_time(backend, sample):
    """Values only known at run time (traced under jit) are checked by the kernel."""
    data, _, bins, _ = sample
    f = jax.jit(dj.hist)
    with pytest.raises(Exception, match="bandwidth"):
        jax.block_until_ready(f(data, bins, -1.0))
    with pytest.raises(Exception, match=r"bins|edges"):
        jax.block_until_ready(f(data, bins[::-1], 0.2))


# ---- cut ---------------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["above", "below"])
def test_cut_matches_relaxed(backend, keep):
    rng = np.random.default_rng(5)
    data = jnp.asarray(rng.normal(0, 2, 50))
    for cut_val, slope in [(0.3, 1.0), (-1.0, 4.5), (0.0, 0.25), (2.0, -3.0)]:
        got = dj.cut(data, cut_val, slope, keep)
        close(got, relaxed_cut(data, cut_val, slope, keep), rtol=1e-12)
        assert got.dtype == jnp.float64
        for argnum in (0, 1, 2):

            def ours(*a, argnum=argnum):
                return jnp.sum(dj.cut(*a, keep=keep) ** 2)

            def ref(*a):
                return jnp.sum(relaxed_cut(*a, keep=keep) ** 2)

            args = (data, jnp.asarray(cut_val), jnp.asarray(slope))
            close(
                jax.grad(ours, argnum)(*args), jax.grad(ref, argnum)(*args), atol=1e-12
            )


def test_cut_jacobians_jit_vmap(backend):
    rng = np.random.default_rng(9)
    data = jnp.asarray(rng.normal(0, 1, 8))
    args = (data, jnp.asarray(0.2), jnp.asarray(3.0))
    for keep in ("above", "below"):

        def f(*a, keep=keep):
            return dj.cut(*a, keep=keep)

        def ref(*a, keep=keep):
            return relaxed_cut(*a, keep=keep)

        fwd = jax.jacfwd(f, (0, 1, 2))(*args)
        rev = jax.jacrev(f, (0, 1, 2))(*args)
        jit_rev = jax.jit(jax.jacrev(f, (0, 1, 2)))(*args)
        expected = jax.jacfwd(ref, (0, 1, 2))(*args)
        for a, b, c, e in zip(fwd, rev, jit_rev, expected, strict=True):
            close(a, b, atol=1e-14)
            close(a, c, atol=1e-14)
            close(a, e, atol=1e-12)
    cuts = jnp.array([-0.5, 0.0, 0.5])
    got = jax.vmap(lambda c: dj.cut(data, c, 2.0))(cuts)
    close(got, relaxed_cut(data[None, :], cuts[:, None], 2.0), rtol=1e-12)
    g = jax.jacrev(lambda c: jax.vmap(lambda cc: dj.cut(data, cc, 2.0))(c).sum(1))(cuts)
    r = jax.jacrev(lambda c: relaxed_cut(data[None, :], c[:, None], 2.0).sum(1))(cuts)
    close(g, r, atol=1e-12)


def test_cut_broadcasting_and_shapes(backend):
    data = jnp.arange(12.0).reshape(3, 4)
    cuts = jnp.array([1.0, 5.0, 9.0])[:, None]
    slopes = jnp.array([0.5, 1.0, 2.0, 4.0])
    got = dj.cut(data, cuts, slopes)
    close(got, relaxed_cut(data, cuts, slopes), rtol=1e-12)
    g = jax.grad(lambda c, s: dj.cut(data, c, s).sum(), (0, 1))(cuts, slopes)
    r = jax.grad(lambda c, s: relaxed_cut(data, c, s).sum(), (0, 1))(cuts, slopes)
    close(g[0], r[0], atol=1e-12)
    close(g[1], r[1], atol=1e-12)
    assert dj.cut(2.0, 1.0).shape == ()
    with pytest.raises(ValueError, match="broadcast"):
        dj.cut(data, jnp.zeros(5))


def test_cut_saturates_without_nan(backend):
    data = jnp.array([-1e6, -50.0, 0.0, 50.0, 1e6, jnp.inf, -jnp.inf])
    v = dj.cut(data, 0.0, 100.0)
    close(v, [0, 0, 0.5, 1, 1, 1, 0], atol=1e-300)
    for argnum in (0, 1, 2):
        g = jax.grad(lambda *a: dj.cut(*a).sum(), argnum)(data, 0.0, 100.0)
        assert np.all(np.isfinite(g))


@pytest.mark.parametrize("keep", ["above", "below"])
def test_cut_finite_differences(backend, keep):
    rng = np.random.default_rng(13)
    data = jnp.asarray(rng.normal(0, 1, 10))

    def f(x, c, s):
        return jnp.sum(jnp.sin(jnp.arange(10.0)) * dj.cut(x, c, s, keep))

    c, s = jnp.asarray(0.1), jnp.asarray(2.5)
    grads = jax.grad(f, (0, 1, 2))(data, c, s)
    close(grads[0], central_difference(lambda v: f(v, c, s), data), 1e-7, 1e-9)
    close(grads[1], central_difference(lambda v: f(data, v, s), c), 1e-7, 1e-9)
    close(grads[2], central_difference(lambda v: f(data, c, v), s), 1e-7, 1e-9)


def test_cut_bad_input(backend):
    data = jnp.arange(3.0)
    with pytest.raises(ValueError, match="keep must be 'above' or 'below'"):
        dj.cut(data, 1.0, keep="inside")
    with pytest.raises(ValueError, match="cut_val"):
        dj.cut(data, float("nan"))
    with pytest.raises(ValueError, match="cut_val"):
        dj.cut(data, jnp.array([0.0, jnp.inf, 1.0]))
    with pytest.raises(ValueError, match="slope"):
        dj.cut(data, 1.0, slope=float("nan"))
    with pytest.raises(ValueError, match="slope"):
        jax.grad(lambda s: dj.cut(data, 1.0, s).sum())(jnp.nan)
    with pytest.raises(Exception, match=r"cut_val|slope|cut"):
        jax.block_until_ready(jax.jit(dj.cut)(data, jnp.nan))


# ---- window ------------------------------------------------------------------------


def test_window_matches_product_of_cuts(backend):
    rng = np.random.default_rng(17)
    data = jnp.asarray(rng.normal(0, 2, 30))

    def ref(x, lo, hi, s):
        return relaxed_cut(x, lo, s, "above") * relaxed_cut(x, hi, s, "below")

    args = (data, jnp.asarray(-0.5), jnp.asarray(1.5), jnp.asarray(2.0))
    close(dj.window(*args), ref(*args), rtol=1e-12)
    ours = jax.jacrev(dj.window, (0, 1, 2, 3))(*args)
    fwd = jax.jacfwd(dj.window, (0, 1, 2, 3))(*args)
    expected = jax.jacfwd(ref, (0, 1, 2, 3))(*args)
    for a, b, e in zip(ours, fwd, expected, strict=True):
        close(a, b, atol=1e-14)
        close(a, e, atol=1e-12)
    with pytest.raises(ValueError, match="hi"):
        dj.window(data, 0.0, jnp.nan)


def test_window_bad_traced_arguments_fail_at_run_time(backend):
    """A traced NaN slope reaches the kernel, whose error names it."""
    with pytest.raises(Exception, match="diffana_soft_window_f64"):
        jax.block_until_ready(jax.jit(dj.window)(jnp.arange(3.0), 0.0, 1.0, jnp.nan))


@pytest.mark.parametrize("op", list(_ops.RELAXED_OPS.values()), ids=lambda op: op.name)
def test_table_entry_matches_the_jax_front_end(op):
    """diffana.jax's cut / window take the inputs of their table entry (diffana._ops)
    under relaxed's names, and the FFI path has the entry's handler."""
    params = inspect.signature(getattr(dj, op.jax_name)).parameters
    assert list(params)[: len(op.jax_inputs)] == list(op.jax_inputs)
    assert len(op.jax_inputs) == len(op.inputs)
    if dj._FFI_BUILT:
        from diffana import _core

        assert op.ffi_target in _core.jax_ffi.registrations()


# ---- dtypes, backends, packaging ---------------------------------------------------


def test_float32_without_x64(backend, sample):
    data, bins, h = np.asarray(sample[0]), np.asarray(sample[2]), sample[3]
    jax.config.update("jax_enable_x64", False)
    x, b = jnp.asarray(data, jnp.float32), jnp.asarray(bins, jnp.float32)
    got = dj.hist(x, b, h)
    assert got.dtype == jnp.float32
    jax.config.update("jax_enable_x64", True)
    expected = reference_hist(jnp.asarray(data), jnp.asarray(bins), h)
    close(got, expected, rtol=1e-5, atol=1e-5)
    jax.config.update("jax_enable_x64", False)
    g = jax.grad(lambda v: dj.hist(v, b, h).sum())(x)
    assert g.dtype == jnp.float32
    assert dj.cut(x, 0.5).dtype == jnp.float32


def test_float32_input_with_x64_keeps_its_dtype(backend, sample):
    data, _, bins, h = sample
    got = dj.hist(data.astype(jnp.float32), bins.astype(jnp.float32), h)
    assert got.dtype == jnp.float32
    close(got, reference_hist(data, bins, h), rtol=1e-5, atol=1e-5)
    assert dj.cut(data.astype(jnp.float32), 0.5).dtype == jnp.float32


@pytest.mark.skipif(not dj._FFI_BUILT, reason="built without jaxlib's FFI headers")
def test_ffi_and_callback_agree(sample):
    data, weights, bins, h = sample

    def run():
        f = lambda x, w, b, hh: dj.hist_weighted(x, w, b, hh, True, True)
        return (
            dj.hist_weighted(data, weights, bins, h),
            jax.jacrev(f, (0, 1, 2, 3))(data, weights, bins, h),
            jax.jacfwd(f, (0, 1, 2, 3))(data, weights, bins, h),
            jax.jacrev(dj.cut, (0, 1, 2))(data, 0.3, 2.0),
        )

    before = dj.backend()
    try:
        dj._set_backend("ffi")
        a = jax.tree.leaves(run())
        dj._set_backend("callback")
        b = jax.tree.leaves(run())
    finally:
        dj._set_backend(before)
    for u, v in zip(a, b, strict=True):
        close(u, v, rtol=1e-14, atol=1e-15)


def test_second_derivatives_are_refused(backend, sample):
    data, _, bins, h = sample
    with pytest.raises(
        NotImplementedError, match=r"second derivatives of diffana\.jax"
    ):
        jax.hessian(lambda x: dj.hist(x, bins, h).sum())(data[:4])
    with pytest.raises(
        NotImplementedError, match=r"second derivatives of diffana\.jax"
    ):
        jax.hessian(lambda b: dj.hist(data, b, h).sum())(bins)
    with pytest.raises(
        NotImplementedError, match=r"second derivatives of diffana\.jax"
    ):
        jax.hessian(lambda c: dj.cut(data, c).sum())(0.3)


def test_jaxpr_uses_the_kernels_not_jnp(sample):
    """The forward and tangent maps are kernel calls (custom calls or callbacks)."""
    data, _, bins, h = sample
    text = str(jax.make_jaxpr(jax.grad(lambda x: dj.hist(x, bins, h).sum()))(data))
    assert "diffana_hist_cotangent" in text
    assert re.search(r"\berf\b", text) is None  # no jax.scipy.stats.norm.cdf
    text = str(jax.make_jaxpr(jax.jacfwd(lambda x: dj.hist(x, bins, h)))(data))
    assert "diffana_hist_tangent" in text


def test_import_diffana_does_not_import_jax():
    code = "import sys, diffana; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clear_error_without_jax():
    code = (
        "import sys; sys.modules['jax'] = None\n"
        "try:\n"
        "    import diffana.jax\n"
        "except ImportError as e:\n"
        "    assert 'diffana[jax]' in str(e), str(e)\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
