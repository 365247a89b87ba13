# SPDX-License-Identifier: BSD-3-Clause
"""Fuzzing (Hypothesis) of the histogram and soft-cut entry points with hostile input:
arrays with NaN, +-inf, huge and subnormal numbers, valid and invalid edges, tiny,
huge and invalid bandwidths, weights, tangents and overflow modes of any shape.

Every call either raises a one-line ValueError/TypeError, or returns a result whose
values and variances are finite, whose total is that of the numpy reference (for
"fold": the summed weights of the events kept), whose Jacobian is finite wherever its
size cannot exceed the double range, and whose n_skipped counts exactly the events
with a NaN position or a non-finite weight."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import diffana

reference = pytest.importorskip("diffana._reference")

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MAX = sys.float_info.max
TRUNCATION = reference.SOFT_TRUNCATION_ERROR

SPECIAL = [math.nan, math.inf, -math.inf, 1e308, -1e308, MAX, -MAX, 5e-324, -5e-324]
SPECIAL += [0.0, 1e-310, 1e300, -1e300]
positions = st.one_of(
    st.floats(-50.0, 50.0),
    st.sampled_from(SPECIAL),
    st.sampled_from([-10.0, 0.0, 1.0, 2.5, 10.0]),  # on typical edges
)
weights_elem = st.one_of(
    st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf, -math.inf, 5e-324, 0.0])
)
tangent_elem = st.floats(-1e3, 1e3)
# Invalid choices are rarer than valid ones, so that most calls return a result.
bandwidths = st.one_of(
    st.none(),
    st.floats(1e-3, 1e3),
    st.sampled_from([5e-324, 1e-320, 1e-300, 1e-15, 1e300, 1.7e308]),
    st.none(),
    st.floats(1e-3, 1e3),
    st.sampled_from([0.0, -1.0, math.nan, math.inf, "0.1", True, 1j, 10**400]),
)
overflows = st.sampled_from(["drop"] * 5 + ["fold"] * 5 + ["wrap", 1, None])


@st.composite
def edges_strategy(draw):
    kind = draw(st.sampled_from(["valid"] * 6 + ["count"] * 2 + ["invalid"]))
    if kind == "count":
        return draw(st.integers(0, 8))
    values = draw(
        st.lists(
            st.one_of(
                st.floats(-20.0, 20.0),
                st.sampled_from([-1e308, 1e308, -MAX, MAX, 0.0, 1.0, 2.5, 5e-324]),
            ),
            min_size=0,
            max_size=8,
        )
    )
    if kind == "valid":
        e = np.unique(np.asarray(values, dtype=np.float64))
        return e if e.size >= 2 else np.array([-10.0, 0.0, 10.0])
    bad = draw(st.sampled_from(["nan", "unsorted", "short", "2d", "str"]))
    if bad == "nan":
        return [*values, math.nan]
    if bad == "unsorted":
        return [1.0, 0.0, *values]
    if bad == "short":
        return values[:1]
    if bad == "2d":
        return np.zeros((2, 2))
    return ["a", "b"]


@st.composite
def events(draw, n_coords=1):
    n = draw(st.integers(0, 12))
    coords = [
        np.array(draw(st.lists(positions, min_size=n, max_size=n)))
        for _ in range(n_coords)
    ]
    p = draw(st.integers(0, 3))
    w = None
    if draw(st.booleans()):
        m = n if draw(st.integers(0, 9)) else n + 1  # sometimes of the wrong length
        w = np.array(draw(st.lists(weights_elem, min_size=m, max_size=m)))

    def tangents():
        if draw(st.booleans()):
            return None
        shape = (
            (n, p)
            if draw(st.integers(0, 9))
            else draw(st.sampled_from([(n,), (0,), (n + 1, p), (n, p, 1)]))
        )
        size = int(np.prod(shape))
        flat = draw(st.lists(tangent_elem, min_size=size, max_size=size))
        return np.array(flat, dtype=np.float64).reshape(shape)

    tans = [tangents() for _ in range(n_coords + 1)]
    return coords, w, tans


def check_error(err):
    event(type(err).__name__)
    assert type(err) in (ValueError, TypeError), repr(err)
    text = str(err)
    assert text, repr(err)
    assert "\n" not in text, repr(err)


def jacobian_bound(n, w, tans, bandwidths_):
    """An upper bound on any Jacobian entry: sum over events of |w| |dk/dx| |dx| plus
    |dw| (|dk/dx| <= 0.4 / h per soft axis, clipped at the largest double)."""
    wmax = 1.0 if w is None else float(np.max(np.abs(w[np.isfinite(w)]), initial=1.0))
    tmax = max(
        (float(np.max(np.abs(t), initial=0.0)) for t in tans if t is not None),
        default=0.0,
    )
    inv = sum(0.4 / h for h in bandwidths_ if h)
    return n * (1.0 + wmax) * tmax * (1.0 + min(inv, MAX))


def as_float(b):
    return 0.0 if b is None else float(b)


@SETTINGS
@given(ev=events(), edges=edges_strategy(), bandwidth=bandwidths, overflow=overflows)
def test_histogram_fuzz(ev, edges, bandwidth, overflow):
    (x,), w, (x_tan, w_tan) = ev
    try:
        h = diffana.histogram(
            x,
            edges,
            weights=w,
            bandwidth=bandwidth,
            x_tangents=x_tan,
            weight_tangents=w_tan,
            overflow=overflow,
        )
    except Exception as err:  # noqa: BLE001 - the type is the assertion
        check_error(err)
        return
    event("result")
    wf = np.ones_like(x) if w is None else w
    skipped = np.isnan(x) | ~np.isfinite(wf)
    assert h.n_skipped == int(skipped.sum())
    assert np.all(np.isfinite(h.values))
    assert np.all(np.isfinite(h.variances))
    ref = reference.hist_fill_1d(
        x, x_tan, w, w_tan, h.edges, as_float(h.bandwidth), h.overflow
    )
    kept = wf[~skipped]
    scale = 1.0 + np.abs(kept).sum()
    tol = 1e-12 * scale + TRUNCATION * scale
    np.testing.assert_allclose(h.values, ref.values, rtol=1e-9, atol=tol)
    if h.overflow == "fold":
        assert abs(h.values.sum() - kept.sum()) <= tol
    if jacobian_bound(x.size, w, (x_tan, w_tan), [as_float(h.bandwidth)]) < 1e300:
        assert np.all(np.isfinite(h.jacobian))
        assert np.all(np.isfinite(h.variances_jacobian))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ev=events(n_coords=2),
    xedges=edges_strategy(),
    yedges=edges_strategy(),
    bandwidth=st.one_of(bandwidths, st.tuples(bandwidths, bandwidths)),
    overflow=overflows,
)
def test_histogram2d_fuzz(ev, xedges, yedges, bandwidth, overflow):
    (x, y), w, (x_tan, y_tan, w_tan) = ev
    try:
        h = diffana.histogram2d(
            x,
            y,
            xedges,
            yedges,
            weights=w,
            bandwidth=bandwidth,
            x_tangents=x_tan,
            y_tangents=y_tan,
            weight_tangents=w_tan,
            overflow=overflow,
        )
    except Exception as err:  # noqa: BLE001 - the type is the assertion
        check_error(err)
        return
    event("result")
    wf = np.ones_like(x) if w is None else w
    skipped = np.isnan(x) | np.isnan(y) | ~np.isfinite(wf)
    assert h.n_skipped == int(skipped.sum())
    assert np.all(np.isfinite(h.values))
    assert np.all(np.isfinite(h.variances))
    hx, hy = (as_float(b) for b in h.bandwidth)
    ref = reference.hist_fill_2d(
        x, x_tan, y, y_tan, w, w_tan, h.xedges, h.yedges, hx, hy, h.overflow
    )
    kept = wf[~skipped]
    scale = 1.0 + np.abs(kept).sum()
    tol = 2e-12 * scale + 2 * TRUNCATION * scale
    np.testing.assert_allclose(h.values, ref.values, rtol=1e-9, atol=tol)
    if h.overflow == "fold":
        assert abs(h.values.sum() - kept.sum()) <= tol
    if jacobian_bound(x.size, w, (x_tan, y_tan, w_tan), [hx, hy]) < 1e300:
        assert np.all(np.isfinite(h.jacobian))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ev=events(n_coords=1),
    cut=st.one_of(positions, st.sampled_from(["a", None, [1.0, 2.0]])),
    slope=st.one_of(
        # |slope| <= 1e300: the tangents, slope s (1 - s) dx, stay below the largest
        # double (beyond, they overflow to inf, correctly but with a RuntimeWarning).
        st.floats(-1e3, 1e3),
        st.sampled_from([5e-324, 1e300, -1e300, math.inf, math.nan, 0.0]),
    ),
    keep=st.sampled_from(["above", "below", "left"]),
)
def test_soft_cut_fuzz(ev, cut, slope, keep):
    (x,), _, (x_tan, _) = ev
    try:
        r = diffana.soft_cut(x, cut, slope, keep, x_tangents=x_tan)
    except Exception as err:  # noqa: BLE001 - the type is the assertion
        check_error(err)
        return
    event("result")
    finite = ~np.broadcast_to(np.isnan(x), r.value.shape)
    assert np.all((r.value[finite] >= 0.0) & (r.value[finite] <= 1.0))
    assert r.tangents.shape == (*r.value.shape, r.tangents.shape[-1])
