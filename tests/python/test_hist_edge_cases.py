# SPDX-License-Identifier: BSD-3-Clause
"""diffana.histogram / histogram2d at the limits: bandwidths from subnormal to huge
(the event's weight is conserved, nothing is NaN), events on edges and at +-huge
positions, against the numpy reference; and the shapes and dtypes of every argument
(a result or a one-line error naming the argument)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import diffana
from diffana import _core

reference = pytest.importorskip("diffana._reference")

#: What truncation at 7.5 bandwidths may leave out of one event's weight.
TRUNCATION = reference.SOFT_TRUNCATION_ERROR * (1 + 1e-9)
EDGES = np.array([0.0, 1000.0, 2000.0])
MAX = sys.float_info.max

# From the smallest subnormal to bandwidths whose 7.5 h overflows.
BANDWIDTHS = [
    5e-324,
    1e-320,
    5e-309,
    2.2250738585072014e-308,
    1e-300,
    1e-100,
    1e-16,
    1e-15,
    1e-14,
    1e-10,
    1e-3,
    1.0,
    1e3,
    1e100,
    1e307,
    1.7e308,
]


def ref_1d(x, edges, w=None, h=0.0, x_tan=None, w_tan=None, overflow=0):
    return reference.hist_fill_1d(x, x_tan, w, w_tan, edges, h, overflow)


def assert_all_finite(h):
    for name in ("values", "variances", "jacobian", "variances_jacobian"):
        arr = getattr(h, name)
        assert np.all(np.isfinite(arr)), f"{name} = {arr}"


# ---- an event on an interior edge, for every bandwidth ---------------------------------


@pytest.mark.parametrize("bandwidth", [5e-324, 1e-320, 1e-300, 1e-100, 1e-15, 1e-14])
def test_event_on_interior_edge_splits_half_half(bandwidth):
    h = diffana.histogram([1000.0], EDGES, bandwidth=bandwidth)
    np.testing.assert_allclose(h.values, [0.5, 0.5], rtol=0, atol=TRUNCATION)
    np.testing.assert_allclose(
        h.values, ref_1d([1000.0], EDGES, h=bandwidth).values, rtol=0, atol=TRUNCATION
    )


@pytest.mark.parametrize("bandwidth", BANDWIDTHS)
@pytest.mark.parametrize(
    "x",
    [0.0, 1000.0, 2000.0, 1000.0 * (1 + 2**-52), 999.9999999999999, 500.0, 1e-310],
)
def test_weight_is_conserved_with_fold(bandwidth, x):
    h = diffana.histogram(
        [x], EDGES, weights=[3.0], bandwidth=bandwidth, overflow="fold"
    )
    assert abs(h.values.sum() - 3.0) <= 3.0 * TRUNCATION
    assert np.all(h.values >= 0)
    ref = ref_1d([x], EDGES, w=[3.0], h=bandwidth, overflow=1)
    np.testing.assert_allclose(h.values, ref.values, rtol=0, atol=3.0 * TRUNCATION)


@pytest.mark.parametrize("bandwidth", BANDWIDTHS)
@pytest.mark.parametrize("x", [1000.0, 500.0, -1e308, 1e308, -MAX, MAX, 0.0, 2000.0])
@pytest.mark.parametrize("overflow", [0, 1])
def test_compiled_equals_reference_for_any_bandwidth(bandwidth, x, overflow):
    edges = np.array([-1e308, 0.0, 1000.0, 2000.0, 1e308])
    xs = np.array([x, 0.5 * x, 1000.0])
    h = diffana.histogram(
        xs,
        edges,
        bandwidth=bandwidth,
        overflow=["drop", "fold"][overflow],
        x_tangents=np.eye(3),
    )
    ref = ref_1d(xs, edges, h=bandwidth, x_tan=np.eye(3), overflow=overflow)
    np.testing.assert_allclose(h.values, ref.values, rtol=0, atol=3 * TRUNCATION)
    assert np.all(np.isfinite(h.values))
    assert np.all(np.isfinite(h.jacobian))
    # The x-derivatives: the reference's (both clip phi / h where it overflows), up
    # to what truncation leaves out, 2 phi(7.5) / h = 4.9e-13 / h per event.
    atol = 3 * 4.9e-13 / bandwidth if bandwidth >= 1.0 else 0.0
    np.testing.assert_allclose(h.jacobian, ref.jac, rtol=1e-9, atol=atol)


def test_2d_event_on_edges_splits_in_four():
    for bandwidth in (5e-324, 1e-300, 1e-15):
        h = diffana.histogram2d([1000.0], [1000.0], EDGES, EDGES, bandwidth=bandwidth)
        np.testing.assert_allclose(h.values, 0.25, rtol=0, atol=2 * TRUNCATION)
        ref = reference.hist_fill_2d(
            [1000.0],
            None,
            [1000.0],
            None,
            None,
            None,
            EDGES,
            EDGES,
            bandwidth,
            bandwidth,
        )
        np.testing.assert_allclose(h.values, ref.values, rtol=0, atol=2 * TRUNCATION)


# ---- subnormal bandwidths: never NaN --------------------------------------------------


@pytest.mark.parametrize("bandwidth", [5e-324, 1e-320, 5e-309])
def test_subnormal_bandwidth_gives_finite_bins_and_jacobian(bandwidth):
    x = [1000.0, 500.0, 1500.0]
    tangents = [[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    h = diffana.histogram(x, EDGES, bandwidth=bandwidth, x_tangents=tangents)
    assert_all_finite(h)
    np.testing.assert_allclose(h.values, [1.5, 1.5], rtol=0, atol=3 * TRUNCATION)
    # Events off the edges have dk/dx = 0 (phi underflows), a parameter that moves
    # nothing has a zero column; the event on the edge moves weight from bin 0 to 1.
    assert np.all(h.jacobian[:, 1] == 0.0)
    assert h.jacobian[0, 0] < 0 < h.jacobian[1, 0]
    # Weight tangents only: the hard-binning limit.
    hw = diffana.histogram(x, EDGES, bandwidth=bandwidth, weight_tangents=tangents)
    np.testing.assert_allclose(hw.jacobian[:, 0], [1.5, 0.5], rtol=0, atol=TRUNCATION)


def test_subnormal_bandwidth_edge_terms_and_vjp_are_finite():
    x = np.array([1000.0, 500.0, 0.0])
    out = _core.hist.fill_1d(x, EDGES, None, 5e-324, np.ones((3, 1)), None, 0, True)
    for arr in (*out[:4], out[5], out[6]):
        assert np.all(np.isfinite(arr))
    ct_x, ct_w = _core.hist.fill_1d_vjp(x, EDGES, np.ones((2, 2)), None, 5e-324, 0)
    assert np.all(np.isfinite(ct_x))
    assert np.all(np.isfinite(ct_w))
    ref_x, ref_w = reference.hist_fill_1d_vjp(x, None, np.ones((2, 2)), EDGES, 5e-324)
    np.testing.assert_allclose(ct_w, ref_w, rtol=0, atol=TRUNCATION)
    np.testing.assert_allclose(ct_x, ref_x, rtol=1e-9, atol=0)


def test_subnormal_bandwidth_2d_is_finite():
    h = diffana.histogram2d(
        [1000.0, 10.0],
        [1000.0, 10.0],
        EDGES,
        EDGES,
        bandwidth=5e-324,
        x_tangents=[[1.0, 0.0], [1.0, 0.0]],
        y_tangents=[[0.0, 0.0], [0.0, 1.0]],
    )
    assert_all_finite(h)
    np.testing.assert_allclose(h.values, [[1.25, 0.25], [0.25, 0.25]], atol=1e-13)
    assert np.all(h.jacobian[..., 1] == 0.0)


# ---- shapes and dtypes ---------------------------------------------------------------


def test_zero_parameters_give_an_empty_jacobian():
    h = diffana.histogram([1.0, 2.0], EDGES, bandwidth=1.0, x_tangents=np.zeros((2, 0)))
    assert h.jacobian.shape == (2, 0)
    h = diffana.histogram([1.0, 2.0], EDGES, weight_tangents=np.zeros((2, 0)))
    assert h.jacobian.shape == (2, 0)
    h = diffana.histogram(np.ones((2, 3)), EDGES, x_tangents=np.zeros((2, 3, 0)))
    assert h.jacobian.shape == (2, 0)
    h2 = diffana.histogram2d(
        [1.0, 2.0], [1.0, 2.0], EDGES, EDGES, y_tangents=np.zeros((2, 0))
    )
    assert h2.jacobian.shape == (2, 2, 0)


def test_no_events_with_parameters():
    h = diffana.histogram(
        np.zeros(0), EDGES, bandwidth=1.0, x_tangents=np.zeros((0, 3))
    )
    assert h.jacobian.shape == (2, 3)
    assert np.all(h.values == 0)
    assert np.all(h.jacobian == 0)
    h = diffana.histogram(np.zeros((0, 4)), EDGES, weight_tangents=np.zeros((0, 4, 2)))
    assert h.jacobian.shape == (2, 2)


def test_jagged_input_with_zero_parameters():
    ak = pytest.importorskip("awkward")
    x = ak.Array([[1.0, 2.0], [], [1500.0]])
    h = diffana.histogram(
        x, EDGES, weights=np.ones(3), weight_tangents=np.zeros((3, 0))
    )
    assert h.jacobian.shape == (2, 0)
    np.testing.assert_array_equal(h.values, [2.0, 1.0])
    h = diffana.histogram(
        ak.Array([[], []]), EDGES, weights=np.ones(2), weight_tangents=np.zeros((2, 0))
    )
    assert h.jacobian.shape == (2, 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a.astype(">f8"),
        lambda a: a.astype(np.float32),
        lambda a: a.astype(np.int32),
        lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
        lambda a: np.asfortranarray(np.stack([a, a]))[0],
    ],
    ids=["big-endian", "float32", "int", "strided", "fortran-row"],
)
def test_dtypes_and_layouts_give_the_float64_result(make):
    x = np.array([0.0, 500.0, 1000.0, 1999.0])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    t = np.arange(8.0).reshape(4, 2)
    want = diffana.histogram(x, EDGES, weights=w, bandwidth=30.0, x_tangents=t)
    got = diffana.histogram(
        make(x), make(EDGES), weights=make(w), bandwidth=30.0, x_tangents=make(t.T).T
    )
    for name in ("values", "variances", "jacobian"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))


def test_bool_x_is_zero_and_one():
    h = diffana.histogram(np.array([True, False, True]), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(h.values, [1.0, 2.0])


def test_scalar_x_is_one_event():
    h = diffana.histogram(1500.0, EDGES, x_tangents=[1.0], bandwidth=1.0)
    np.testing.assert_allclose(h.values, [0.0, 1.0])
    assert h.jacobian.shape == (2, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": np.array([1 + 1j])}, TypeError, r"^x must be .*real numbers"),
        ({"x": np.array(["a"])}, TypeError, r"^x must be"),
        ({"x": np.array([1.0], dtype=object)}, TypeError, r"^x must be"),
        ({"weights": [1.0, 2.0]}, ValueError, r"^weights must have the shape of x"),
        ({"weights": np.ones((1, 1))}, ValueError, r"^weights must have the shape"),
        ({"x_tangents": np.zeros((0,))}, ValueError, r"^x_tangents must have shape"),
        ({"x_tangents": np.zeros((0, 1))}, ValueError, r"^x_tangents must have shape"),
        ({"x_tangents": np.zeros(1)}, ValueError, r"^x_tangents must have shape"),
        (
            {"x_tangents": np.zeros((1, 2)), "weight_tangents": np.zeros((1, 3))},
            ValueError,
            r"^all tangents must have the same number P",
        ),
        ({"bandwidth": 10**400}, ValueError, r"^bandwidth must be a positive finite"),
        ({"bandwidth": 0.0}, ValueError, r"^bandwidth must be a positive finite"),
        ({"bandwidth": -5e-324}, ValueError, r"^bandwidth must be a positive finite"),
        ({"bandwidth": 1j}, TypeError, r"^bandwidth must be a positive number"),
        ({"edges": np.array([0.0, 1.0, 1.0])}, ValueError, r"^edges must be strictly"),
        ({"edges": np.array([[0.0, 1.0]])}, ValueError, r"^edges must be 1-dim"),
        ({"edges": [0.0, np.inf]}, ValueError, r"^edges must be finite"),
        ({"edges": 0}, ValueError, r"^edges as a number of bins must be >= 1"),
        ({"edges": 2, "range": (0.0,)}, ValueError, r"^range .*\(lo, hi\)"),
        ({"edges": 2, "range": "ab"}, ValueError, r"^range .*\(lo, hi\)"),
        ({"edges": 2, "range": (0, 10**400)}, ValueError, r"^range .*finite"),
        ({"edges": 2, "range": (0, np.nan)}, ValueError, r"^range .*finite"),
        ({"overflow": "wrap"}, ValueError, r"^overflow must be"),
    ],
)
def test_bad_arguments_give_one_line_errors(kwargs, error, match):
    args = {"x": [1000.0], "edges": EDGES, **kwargs}
    with pytest.raises(error, match=match) as info:
        diffana.histogram(**args)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("x", "nbins", "range_"),
    [
        ([-1e308, 1e308], 3, None),
        ([-MAX, MAX], 4, None),
        ([1.0], 2, (-MAX, MAX)),
        ([1e308], 3, None),
        ([1e17], 2, None),
        ([-5e-324], 2, None),
    ],
)
def test_bins_from_a_count_on_extreme_ranges(x, nbins, range_):
    h = diffana.histogram(x, nbins, range=range_)
    assert h.edges.size == nbins + 1
    assert np.all(np.isfinite(h.edges))
    assert np.all(h.edges[1:] > h.edges[:-1])
    assert h.values.sum() == len(x)


def test_bins_that_a_range_cannot_hold_are_refused():
    with pytest.raises(
        ValueError, match=r"^edges: 1000 bins on \[1e\+17, 1\.0+6e\+17\]"
    ):
        diffana.histogram([1.0], 1000, range=(1e17, 1e17 + 64))


def test_histogram2d_range_errors_name_the_argument():
    x = [1.0]
    with pytest.raises(ValueError, match=r"^range must be a pair"):
        diffana.histogram2d(x, x, 2, 2, range=5)
    with pytest.raises(ValueError, match=r"^range for yedges .*\(lo, hi\)"):
        diffana.histogram2d(x, x, 2, 2, range=[(0, 2), (3,)])
    with pytest.raises(ValueError, match=r"^x and y must have the same shape"):
        diffana.histogram2d(x, [1.0, 2.0], 2, 2)


def test_reference_is_finite_for_tiny_bandwidths():
    """The oracle itself: no NaN and no warnings (pytest turns them into errors)."""
    r = ref_1d([1000.0, 3.0], EDGES, h=5e-324, x_tan=[[1.0, 0.0], [0.0, 1.0]])
    for arr in (r.values, r.sumw2, r.jac, r.sumw2_jac, r.edge_density, r.edge_moment):
        assert np.all(np.isfinite(arr))
    assert math.isclose(r.values.sum(), 2.0)
