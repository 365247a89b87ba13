# SPDX-License-Identifier: BSD-3-Clause
"""The reverse-mode gather kernel diffana_hist_fill_1d_vjp_f64 (src/kernels/
hist_fill_1d_vjp.cpp, bound as diffana._core.hist.fill_1d_vjp; diffana.jax's VJP of
hist): against its NumPy reference (diffana._reference.hist_fill_1d_vjp), as the
transpose of the fill kernel's Jacobian, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffana import _core, _reference


def close(actual, expected, rtol, atol):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol, atol)


def events(n, seed):
    """Random events with a NaN, two infinities and a non-finite weight."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.2, 1.2, n)
    x[3], x[7], x[8] = np.nan, np.inf, -np.inf
    w = rng.uniform(0.3, 2.0, n)
    w[5] = np.inf
    return x, w, rng.normal(size=(4, 3))


EDGES = np.array([-1.5, -0.5, 0.2, 1.0, 2.0])


@pytest.mark.parametrize("overflow", [0, 1])
@pytest.mark.parametrize("bandwidth", [0.0, 0.3, 2.0])
def test_vjp_gather_is_the_transpose_of_the_fill(overflow, bandwidth):
    """fill_1d_vjp(ct) == J^T ct, with J the fill kernel's Jacobian w.r.t. every
    event position and weight (identity tangents), skipped events included."""
    x, w, ct = events(40, 23)
    eye = np.eye(x.size)
    jac_x = _core.hist.fill_1d(x, EDGES, w, bandwidth, eye, None, overflow)[2]
    jac_w = _core.hist.fill_1d(x, EDGES, w, bandwidth, None, eye, overflow)[2]
    ct_x, ct_w = _core.hist.fill_1d_vjp(x, EDGES, ct, w, bandwidth, overflow)
    close(ct_x, jac_x.T @ ct, rtol=1e-13, atol=1e-14)
    close(ct_w, jac_w.T @ ct, rtol=1e-13, atol=1e-14)
    assert np.all(ct_x[[3, 5, 7, 8]] == 0.0)
    jac_x1 = _core.hist.fill_1d(x, EDGES, None, bandwidth, eye, None, overflow)[2]
    ct_x, ct_w = _core.hist.fill_1d_vjp(
        x, EDGES, ct, None, bandwidth, overflow, want_x=True, want_w=False
    )
    close(ct_x, jac_x1.T @ ct, rtol=1e-13, atol=1e-14)
    assert ct_w is None


@pytest.mark.parametrize("overflow", ["drop", "fold"])
@pytest.mark.parametrize("bandwidth", [0.0, 0.3, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_vjp_gather_matches_the_reference(overflow, bandwidth, weighted):
    """The kernel against the untruncated NumPy reference (truncation at 7.5
    bandwidths: relative differences of order 1e-13)."""
    x, w, ct = events(40, 29)
    code = 1 if overflow == "fold" else 0
    weights = w if weighted else None
    ct_x, ct_w = _core.hist.fill_1d_vjp(x, EDGES, ct, weights, bandwidth, code)
    ref_x, ref_w = _reference.hist_fill_1d_vjp(
        x, weights, ct, EDGES, bandwidth, overflow
    )
    close(ct_x, ref_x, rtol=1e-12, atol=1e-12)
    close(ct_w, ref_w, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 30),
    p=st.integers(1, 4),
    bandwidth=st.sampled_from([0.0, 0.05, 0.4, 3.0]),
    overflow=st.sampled_from(["drop", "fold"]),
)
def test_vjp_gather_matches_the_reference_property(seed, n, p, bandwidth, overflow):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, n)
    w = rng.uniform(-1.0, 2.0, n)
    edges = np.sort(rng.uniform(-3.0, 3.0, 5))
    if np.any(np.diff(edges) <= 0):
        return
    ct = rng.normal(size=(4, p))
    code = 1 if overflow == "fold" else 0
    ct_x, ct_w = _core.hist.fill_1d_vjp(x, edges, ct, w, bandwidth, code)
    ref_x, ref_w = _reference.hist_fill_1d_vjp(x, w, ct, edges, bandwidth, overflow)
    scale = 1.0 + np.abs(ct).sum() * (1.0 + 1.0 / max(bandwidth, 1.0))
    close(ct_x, ref_x, rtol=1e-11, atol=1e-11 * scale)
    close(ct_w, ref_w, rtol=1e-11, atol=1e-11 * scale)


def test_vjp_gather_bad_input():
    vjp = _core.hist.fill_1d_vjp
    x, ct = np.zeros(3), np.ones((2, 1))
    with pytest.raises(
        ValueError, match=r"diffana_hist_fill_1d_vjp_f64 failed .*bad bin edges"
    ):
        vjp(x, np.array([0.0, 2.0, 1.0]), ct, None, 0.1)
    with pytest.raises(ValueError, match="bandwidth: must be finite and >= 0"):
        vjp(x, np.array([0.0, 1.0, 2.0]), ct, None, -0.1)
    with pytest.raises(ValueError, match="cotangents must have shape"):
        vjp(x, np.array([0.0, 1.0]), ct, None, 0.1)
    with pytest.raises(ValueError, match="x and weights must have the same shape"):
        vjp(x, np.array([0.0, 1.0, 2.0]), ct, np.ones(4), 0.1)
    with pytest.raises(ValueError, match="overflow"):
        vjp(x, np.array([0.0, 1.0, 2.0]), ct, None, 0.1, overflow=2)
    with pytest.raises(TypeError, match="x must be an array"):
        vjp(None, np.array([0.0, 1.0, 2.0]), ct, None, 0.1)
    with pytest.raises(ValueError, match="edges must have at least 2 entries"):
        vjp(x, np.array([0.0]), ct, None, 0.1)
