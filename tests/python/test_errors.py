# SPDX-License-Identifier: BSD-3-Clause
"""Bad input raises ValueError/TypeError naming the argument (never a crash or a silent
NaN); NaN in event data is skipped and counted (histograms) or propagates (cuts)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import diffana
from diffana import _core

X = np.array([0.1, 0.5, 0.9])
EDGES = np.array([0.0, 0.5, 1.0])


# ---- histogram: edges -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("edges", "match"),
    [
        ([0.0, 1.0, 0.5], r"edges must be strictly increasing, got edges\[1\] = 1.0"),
        ([0.0, 0.5, 0.5], "edges must be strictly increasing"),
        ([1.0], "edges must have at least 2 entries, got 1"),
        ([], "edges must have at least 2 entries, got 0"),
        ([0.0, np.nan, 1.0], r"edges must be finite, got \[0.0, nan, 1.0\]"),
        ([0.0, np.inf], "edges must be finite"),
        ([[0.0, 1.0], [1.0, 2.0]], r"edges must be 1-dimensional, got shape \(2, 2\)"),
        (0, "edges as a number of bins must be >= 1, got 0"),
    ],
)
def test_bad_edges(edges, match):
    with pytest.raises(ValueError, match=match):
        diffana.histogram(X, edges)


def test_bad_range():
    with pytest.raises(ValueError, match=r"range for edges"):
        diffana.histogram(X, 3, range=(1.0, 0.0))
    with pytest.raises(ValueError, match=r"range for edges"):
        diffana.histogram(X, 3, range=(0.0, np.nan))


def test_bad_edges_2d():
    with pytest.raises(ValueError, match=r"yedges must be strictly increasing"):
        diffana.histogram2d(X, X, EDGES, [1.0, 0.0])
    with pytest.raises(ValueError, match=r"xedges must have at least 2 entries"):
        diffana.histogram2d(X, X, [0.0], EDGES)


# ---- histogram: bandwidth, overflow ----------------------------------------------------


@pytest.mark.parametrize("bandwidth", [0.0, -0.1, np.nan, np.inf, -np.inf])
def test_non_positive_or_nan_bandwidth(bandwidth):
    with pytest.raises(ValueError, match=r"bandwidth must be a positive finite number"):
        diffana.histogram(X, EDGES, bandwidth=bandwidth)


@pytest.mark.parametrize("bandwidth", ["0.1", True, [0.1]])
def test_bandwidth_of_wrong_type(bandwidth):
    with pytest.raises(TypeError, match=r"bandwidth must be a positive number or None"):
        diffana.histogram(X, EDGES, bandwidth=bandwidth)


def test_bad_bandwidth_2d():
    with pytest.raises(ValueError, match=r"bandwidth\[1\] must be a positive"):
        diffana.histogram2d(X, X, EDGES, EDGES, bandwidth=(0.1, -1.0))
    with pytest.raises(ValueError, match=r"bandwidth must be a number or a pair"):
        diffana.histogram2d(X, X, EDGES, EDGES, bandwidth=(0.1, 0.1, 0.1))


@pytest.mark.parametrize("overflow", ["clip", "", None, 1, "DROP"])
def test_unknown_overflow(overflow):
    with pytest.raises(ValueError, match=r"overflow must be 'drop' or 'fold', got"):
        diffana.histogram(X, EDGES, overflow=overflow)
    with pytest.raises(ValueError, match=r"overflow must be 'drop' or 'fold'"):
        diffana.histogram2d(X, X, EDGES, EDGES, overflow=overflow)


# ---- histogram: shapes ------------------------------------------------------------------


def test_mismatched_weights():
    with pytest.raises(
        ValueError, match=r"weights.shape = \(2,\) and x.shape = \(3,\)"
    ):
        diffana.histogram(X, EDGES, weights=[1.0, 2.0])


def test_mismatched_x_and_y():
    with pytest.raises(
        ValueError, match=r"x and y must have the same shape, got \(3,\)"
    ):
        diffana.histogram2d(X, X[:2], EDGES, EDGES)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"x_tangents": np.ones(3)},
            r"x_tangents must have shape \(3, 'P'\).*got \(3,\)",
        ),
        ({"x_tangents": np.ones((2, 1))}, r"x_tangents must have shape.*got \(2, 1\)"),
        ({"weight_tangents": np.ones((3, 1, 1))}, "weight_tangents must have shape"),
        (
            {"x_tangents": np.ones((3, 2)), "weight_tangents": np.ones((3, 3))},
            "x_tangents has P = 2, weight_tangents has P = 3",
        ),
    ],
)
def test_wrong_tangent_shapes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        diffana.histogram(X, EDGES, weights=np.ones(3), **kwargs)


def test_wrong_tangent_shapes_2d():
    with pytest.raises(ValueError, match=r"y_tangents has P = 1"):
        diffana.histogram2d(
            X, X, EDGES, EDGES, x_tangents=np.ones((3, 2)), y_tangents=np.ones((3, 1))
        )


# ---- dtypes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: diffana.histogram(["a", "b"], EDGES), "x"),
        (lambda: diffana.histogram("abc", EDGES), "x"),
        (lambda: diffana.histogram(X, ["0", "1"]), "edges"),
        (lambda: diffana.histogram(X, EDGES, weights=["1", "2", "3"]), "weights"),
        (lambda: diffana.histogram(X, EDGES, x_tangents=[["a"]] * 3), "x_tangents"),
        (lambda: diffana.histogram(X.astype(complex), EDGES), "x"),
        (lambda: diffana.histogram([object()] * 3, EDGES), "x"),
        (lambda: diffana.histogram2d(X, ["y"] * 3, EDGES, EDGES), "y"),
        (lambda: diffana.soft_cut("x", 0.0), "x"),
        (lambda: diffana.soft_cut(X, "1.0"), "cut"),
        (lambda: diffana.soft_cut(X, 1.0, slope="fast"), "slope"),
        (lambda: diffana.soft_cut(X, 1.0, cut_tangents=["a"]), "cut_tangents"),
        (lambda: diffana.soft_window(X, 0.0, "1"), "hi"),
        (lambda: diffana.physics.delta_r("a", 0, 0, 0), "eta1"),
    ],
)
def test_strings_and_objects_raise_type_error_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        call()


def test_raw_bindings_name_arguments():
    """The compiled layer checks too (it is public, if raw)."""
    with pytest.raises(TypeError, match=r"weights must be an array of real numbers"):
        _core.hist.fill_1d(X, EDGES, weights=["a", "b", "c"])
    with pytest.raises(TypeError, match=r"x must be an array of numbers, got None"):
        _core.hist.fill_1d(None, EDGES)
    with pytest.raises(
        ValueError, match=r"x and weights must have the same shape, got"
    ):
        _core.hist.fill_1d(X, EDGES, weights=[1.0])
    with pytest.raises(
        ValueError, match=r"x_tangents must have shape \(n, P\) with n = 3"
    ):
        _core.hist.fill_1d(X, EDGES, x_tangents=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"edges must have at least 2 entries"):
        _core.hist.fill_1d(X, [1.0])
    with pytest.raises(ValueError, match=r"x must be 1-dimensional, got shape"):
        _core.hist.fill_1d(np.ones((2, 2)), EDGES)
    with pytest.raises(
        ValueError, match=r"overflow must be 0 .drop. or 1 .fold., got 7"
    ):
        _core.hist.fill_1d(X, EDGES, overflow=7)
    with pytest.raises(ValueError, match=r"do not broadcast together: x has shape"):
        _core.soft.cut(np.ones(3), np.ones(2), 1.0)


def test_kernel_status_becomes_value_error_naming_the_kernel():
    """What only the kernel checks (unsorted edges, NaN bandwidth) comes back as a
    ValueError with the kernel's name and status message."""
    with pytest.raises(
        ValueError, match=r"diffana_hist_fill_1d_f64 failed .*bad bin edges"
    ):
        _core.hist.fill_1d(X, [1.0, 0.0])
    with pytest.raises(
        ValueError, match=r"diffana_hist_fill_1d_f64 failed .*bandwidth"
    ):
        _core.hist.fill_1d(X, EDGES, bandwidth=np.nan)
    with pytest.raises(
        ValueError, match=r"diffana_hist_fill_2d_f64 failed .*bandwidth"
    ):
        _core.hist.fill_2d(X, X, EDGES, EDGES, xbandwidth=-1.0)
    with pytest.raises(ValueError, match=r"diffana_soft_cut_f64 failed .*bad argument"):
        _core.soft.cut(X, np.nan, 1.0)
    with pytest.raises(ValueError, match=r"diffana_soft_window_f64 failed"):
        _core.soft.window(X, 0.0, 1.0, np.inf)


# ---- soft cuts -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_cut_and_slope(bad):
    with pytest.raises(ValueError, match=r"^cut must be finite, got"):
        diffana.soft_cut(X, bad)
    with pytest.raises(ValueError, match=r"^slope must be finite, got"):
        diffana.soft_cut(X, 0.5, bad)
    with pytest.raises(ValueError, match=r"^cut must be finite"):
        diffana.soft_cut(X, [0.0, bad, 0.0])
    with pytest.raises(ValueError, match=r"^lo must be finite"):
        diffana.soft_window(X, bad, 1.0)
    with pytest.raises(ValueError, match=r"^hi must be finite"):
        diffana.soft_window(X, 0.0, bad)
    with pytest.raises(ValueError, match=r"^slope must be finite"):
        diffana.soft_window(X, 0.0, 1.0, bad)


@pytest.mark.parametrize("keep", ["Above", "up", "", None, True])
def test_unknown_keep(keep):
    with pytest.raises(ValueError, match=r"keep must be 'above' or 'below', got"):
        diffana.soft_cut(X, 0.5, keep=keep)


def test_soft_cut_tangent_shapes():
    with pytest.raises(ValueError, match=r"cut_tangents must have shape \('P',\)"):
        diffana.soft_cut(X, 0.5, cut_tangents=np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"x_tangents must have shape \(3, 'P'\)"):
        diffana.soft_cut(X, 0.5, x_tangents=np.ones(3))
    with pytest.raises(
        ValueError, match=r"x_tangents has P = 1, cut_tangents has P = 2"
    ):
        diffana.soft_cut(X, 0.5, x_tangents=np.ones((3, 1)), cut_tangents=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"do not broadcast"):
        diffana.soft_cut(X, [0.1, 0.2])


def test_dual_array_validates_shapes():
    with pytest.raises(
        ValueError, match=r"tangents must have shape value.shape \+ \(P,\)"
    ):
        diffana.DualArray(np.zeros(3), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"tangents must have shape"):
        diffana.DualArray(np.zeros(3), np.zeros(3))


# ---- merging -----------------------------------------------------------------------------


def test_merge_requires_same_binning():
    h = diffana.histogram(X, EDGES)
    with pytest.raises(ValueError, match=r"different edges"):
        h + diffana.histogram(X, [0.0, 0.4, 1.0])
    with pytest.raises(ValueError, match=r"different bandwidth"):
        h + diffana.histogram(X, EDGES, bandwidth=0.1)
    with pytest.raises(ValueError, match=r"different overflow"):
        h + diffana.histogram(X, EDGES, overflow="fold")
    with pytest.raises(ValueError, match=r"different numbers of parameters: 0 != 1"):
        h + diffana.histogram(X, EDGES, x_tangents=np.ones((3, 1)))
    with pytest.raises(
        TypeError, match=r"cannot merge GradHistogram with GradHistogram2D"
    ):
        h.merge(diffana.histogram2d(X, X, EDGES, EDGES))
    with pytest.raises(TypeError):
        h + 1.0


# ---- NaN in event data -------------------------------------------------------------------


@pytest.mark.parametrize("bandwidth", [None, 0.2])
@pytest.mark.parametrize("overflow", ["drop", "fold"])
def test_nan_events_are_skipped_and_counted(bandwidth, overflow):
    x = np.array([0.1, np.nan, 0.7, 0.3])
    w = np.array([1.0, 2.0, np.nan, 4.0])
    h = diffana.histogram(
        x,
        EDGES,
        weights=w,
        bandwidth=bandwidth,
        overflow=overflow,
        x_tangents=np.ones((4, 1)),
        weight_tangents=np.ones((4, 1)),
    )
    assert h.n_skipped == 2
    assert np.all(np.isfinite(h.values))
    assert np.all(np.isfinite(h.jacobian))
    clean = diffana.histogram(
        x[[0, 3]],
        EDGES,
        weights=w[[0, 3]],
        bandwidth=bandwidth,
        overflow=overflow,
        x_tangents=np.ones((2, 1)),
        weight_tangents=np.ones((2, 1)),
    )
    np.testing.assert_allclose(h.values, clean.values, rtol=1e-15)
    np.testing.assert_allclose(h.jacobian, clean.jacobian, rtol=1e-15)
    # skipped counts survive merging and pickling
    merged = pickle.loads(pickle.dumps(h + h))
    assert merged.n_skipped == 4


def test_nan_events_2d_are_skipped():
    h = diffana.histogram2d([0.1, np.nan, 0.6], [0.1, 0.2, np.nan], EDGES, EDGES)
    assert h.n_skipped == 2
    assert h.values.sum() == 1.0


def test_infinite_x_is_overflow_not_an_error():
    h = diffana.histogram([-np.inf, 0.2, np.inf], EDGES, overflow="fold")
    np.testing.assert_array_equal(h.values, [2.0, 1.0])
    assert h.n_skipped == 0
    d = diffana.histogram([-np.inf, 0.2, np.inf], EDGES)
    np.testing.assert_array_equal(d.values, [1.0, 0.0])
