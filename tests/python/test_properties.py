# SPDX-License-Identifier: BSD-3-Clause
"""Property tests (Hypothesis) of the histogram kernels: totals, the hard limit of soft
binning, merging, and agreement with the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import diffana

reference = pytest.importorskip("diffana._reference")

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False)


@st.composite
def edges_strategy(draw, min_bins=1, max_bins=12):
    lo = draw(st.floats(-50, 50))
    widths = draw(
        hnp.arrays(
            np.float64,
            draw(st.integers(min_bins, max_bins)),
            elements=st.floats(0.05, 20.0),
        )
    )
    return lo + np.concatenate([[0.0], np.cumsum(widths)])


@st.composite
def events_strategy(draw, max_n=60, p=2):
    n = draw(st.integers(0, max_n))
    x = draw(hnp.arrays(np.float64, n, elements=st.floats(-200, 200)))
    w = draw(hnp.arrays(np.float64, n, elements=st.floats(-5, 5)))
    x_tan = draw(hnp.arrays(np.float64, (n, p), elements=st.floats(-3, 3)))
    w_tan = draw(hnp.arrays(np.float64, (n, p), elements=st.floats(-3, 3)))
    return x, w, x_tan, w_tan


bandwidths = st.one_of(st.none(), st.floats(0.01, 30.0))


@SETTINGS
@given(events=events_strategy(), edges=edges_strategy(), bandwidth=bandwidths)
def test_fold_totals_equal_summed_weights(events, edges, bandwidth):
    x, w, x_tan, w_tan = events
    h = diffana.histogram(
        x,
        edges,
        weights=w,
        bandwidth=bandwidth,
        x_tangents=x_tan,
        weight_tangents=w_tan,
        overflow="fold",
    )
    scale = np.abs(w).sum() + 1.0
    assert abs(h.values.sum() - w.sum()) <= 1e-12 * scale
    # moving events does not change the total; the weights' tangents do
    tan_scale = np.abs(w_tan).sum() + np.abs(x_tan).sum() * np.abs(w).max(initial=0) + 1
    np.testing.assert_allclose(
        h.jacobian.sum(axis=0), w_tan.sum(axis=0), rtol=0, atol=1e-9 * tan_scale
    )


@SETTINGS
@given(events=events_strategy(), edges=edges_strategy(), bandwidth=bandwidths)
def test_drop_keeps_at_most_fold(events, edges, bandwidth):
    x, _, _, _ = events
    drop = diffana.histogram(x, edges, bandwidth=bandwidth)
    fold = diffana.histogram(x, edges, bandwidth=bandwidth, overflow="fold")
    assert np.all(drop.values <= fold.values + 1e-12)
    assert np.all(drop.values >= -1e-15)


@SETTINGS
@given(events=events_strategy(), edges=edges_strategy())
def test_soft_tends_to_hard_as_bandwidth_vanishes(events, edges):
    x, w, _, w_tan = events
    # keep events away from the edges, where the limit is 1/2 of the weight
    far = np.min(np.abs(x[:, None] - edges[None, :]), axis=1, initial=np.inf) > 1e-3
    x, w, w_tan = x[far], w[far], w_tan[far]
    hard = diffana.histogram(x, edges, weights=w, weight_tangents=w_tan)
    soft = diffana.histogram(x, edges, weights=w, weight_tangents=w_tan, bandwidth=1e-5)
    np.testing.assert_allclose(soft.values, hard.values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(soft.jacobian, hard.jacobian, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(
    parts=st.lists(events_strategy(max_n=20), min_size=3, max_size=3),
    edges=edges_strategy(),
    bandwidth=bandwidths,
)
def test_merge_is_associative_and_equals_one_fill(parts, edges, bandwidth):
    hs = [
        diffana.histogram(
            x, edges, weights=w, bandwidth=bandwidth, x_tangents=xt, weight_tangents=wt
        )
        for x, w, xt, wt in parts
    ]
    left = (hs[0] + hs[1]) + hs[2]
    right = hs[0] + (hs[1] + hs[2])
    whole = diffana.histogram(
        np.concatenate([p[0] for p in parts]),
        edges,
        weights=np.concatenate([p[1] for p in parts]),
        bandwidth=bandwidth,
        x_tangents=np.concatenate([p[2] for p in parts]),
        weight_tangents=np.concatenate([p[3] for p in parts]),
    )
    for a, b in ((left, right), (left, whole)):
        atol = 1e-12 * (1 + np.abs(a.values).max(initial=0))
        np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=atol)
        jtol = 1e-10 * (1 + np.abs(a.jacobian).max(initial=0))
        np.testing.assert_allclose(a.jacobian, b.jacobian, rtol=1e-10, atol=jtol)


@SETTINGS
@given(
    events=events_strategy(max_n=30),
    edges=edges_strategy(max_bins=6),
    bandwidth=bandwidths,
    overflow=st.sampled_from(["drop", "fold"]),
)
def test_compiled_kernel_equals_reference(events, edges, bandwidth, overflow):
    x, w, x_tan, w_tan = events
    h = diffana.histogram(
        x,
        edges,
        weights=w,
        bandwidth=bandwidth,
        x_tangents=x_tan,
        weight_tangents=w_tan,
        overflow=overflow,
    )
    ref = reference.hist_fill_1d(
        x,
        x_tan,
        w,
        w_tan,
        edges,
        0.0 if bandwidth is None else bandwidth,
        {"drop": 0, "fold": 1}[overflow],
    )
    scale = 1.0 + np.abs(w).sum()
    np.testing.assert_allclose(h.values, ref.values, rtol=1e-10, atol=1e-12 * scale)
    jscale = 1.0 + (np.abs(w_tan).sum() + np.abs(x_tan).sum() * 5.0 / (bandwidth or 1))
    np.testing.assert_allclose(
        h.jacobian,
        np.reshape(ref.jac, h.jacobian.shape),
        rtol=1e-9,
        atol=1e-11 * jscale,
    )
