# SPDX-License-Identifier: BSD-3-Clause
"""The gradient histograms as UHI plottable histograms (mplhep draws them as it draws
a hist.Hist) and their conversion to and from hist.Hist with the Jacobian on a
parameter axis, exact both ways."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import diffana

hist = pytest.importorskip("hist")
plottable = pytest.importorskip("uhi.typing.plottable")

EDGES = np.array([-2.0, -1.0, -0.25, 0.5, 2.0])
YEDGES = np.array([0.0, 0.7, 1.5])


@pytest.fixture
def h1(rng):
    n = 300
    x = rng.normal(size=n)
    w = rng.uniform(0.5, 1.5, n)
    return diffana.GradHistogram(
        *_arrays(diffana.histogram(x, EDGES, w, 0.3, rng.normal(size=(n, 2)))),
        EDGES,
        0.3,
        "fold",
        n_skipped=4,
        param_names=["shift", "scale"],
    )


@pytest.fixture
def h2(rng):
    n = 300
    x, y = rng.normal(size=n), rng.uniform(0.0, 1.5, n)
    return diffana.histogram2d(
        x,
        y,
        EDGES,
        YEDGES,
        rng.uniform(0.5, 1.5, n),
        (0.2, None),
        rng.normal(size=(n, 3)),
    )


def _arrays(h):
    return h.values, h.variances, h.jacobian, h.variances_jacobian


def assert_same(a, b):
    assert type(a) is type(b)
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        assert x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.edges_tuple, b.edges_tuple, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (a.bandwidth, a.overflow, a.n_skipped, a.param_names) == (
        b.bandwidth,
        b.overflow,
        b.n_skipped,
        b.param_names,
    )


# ---- the protocol -------------------------------------------------------------------


def test_follows_the_plottable_protocol(h1, h2):
    for h in (h1, h2):
        assert isinstance(h, plottable.PlottableHistogram)
        assert h.kind == "COUNT"
        assert all(isinstance(a, plottable.PlottableAxisGeneric) for a in h.axes)
        np.testing.assert_array_equal(h.values(), h.values)
        np.testing.assert_array_equal(h.variances(), h.variances)
        np.testing.assert_array_equal(h.values(flow=True), h.values)  # no flow bins
        assert type(h.values()) is np.ndarray
    axis = h1.axes[0]
    assert len(axis) == 4
    assert axis[0] == (-2.0, -1.0)
    assert axis[-1] == (0.5, 2.0)
    assert list(axis) == [(a, b) for a, b in itertools.pairwise(EDGES)]
    assert not axis.traits.discrete
    assert not axis.traits.circular
    assert not axis.traits.underflow
    assert not axis.traits.overflow
    assert axis == h1.axes[0]
    assert axis != h2.axes[1]
    with pytest.raises(IndexError, match="bin index 4 out of range"):
        axis[4]
    assert [len(a) for a in h2.axes] == [4, 2]


def test_counts_are_the_effective_entries():
    # UHI's definition: sum(w)**2 / sum(w**2); the number of entries for unit weights
    h = diffana.histogram(
        [0.5, 0.6, 1.5], [0.0, 1.0, 2.0, 3.0], weights=[1.0, 3.0, 2.0]
    )
    np.testing.assert_array_equal(h.counts(), [16.0 / 10.0, 1.0, 0.0])
    unit = diffana.histogram([0.5, 0.6, 0.7, 1.5], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(unit.counts(), [3.0, 1.0, 0.0])


def test_values_stay_a_plain_array_to_the_rest_of_the_code(h1):
    v = h1.values
    assert isinstance(v, np.ndarray)
    assert repr(v).startswith("array(")
    for result in (
        v * 2.0,
        v + h1.variances,
        np.concatenate([v, v]),
        np.where(v > 0, v, 0),
    ):
        assert type(result) is np.ndarray
    assert type(pickle.loads(pickle.dumps(v))) is np.ndarray
    assert type(pickle.loads(pickle.dumps(h1)).__dict__["values"]) is np.ndarray
    assert type((h1 + h1).__dict__["values"]) is np.ndarray
    before = float(h1.values[0])
    h1.values[0] += 1.0  # a view: writes go to the histogram
    assert h1.values[0] == before + 1.0


# ---- mplhep -------------------------------------------------------------------------


@pytest.fixture
def plt():
    pytest.importorskip("mplhep")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot

    yield pyplot
    pyplot.close("all")


def test_mplhep_histplot_draws_like_hist(h1, plt):
    import mplhep

    _, ax = plt.subplots()
    ours = mplhep.histplot(h1, ax=ax, yerr=True)[0]
    theirs = mplhep.histplot(h1.to_hist(), ax=ax, yerr=True)[0]
    np.testing.assert_array_equal(ours.stairs.get_data().values, h1.values)
    np.testing.assert_array_equal(ours.stairs.get_data().edges, EDGES)
    for a, b in zip(
        ours.errorbar.lines[2][0].get_segments(),
        theirs.errorbar.lines[2][0].get_segments(),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    mplhep.histplot([h1, h1], ax=ax, stack=True, label=["a", "b"])


def test_mplhep_hist2dplot(h2, plt):
    import mplhep

    _, ax = plt.subplots()
    art = mplhep.hist2dplot(h2, ax=ax)
    np.testing.assert_array_equal(np.asarray(art.pcolormesh.get_array()), h2.values.T)


# ---- hist.Hist ----------------------------------------------------------------------


def test_to_hist_has_no_flow_bins(h1):
    H = h1.to_hist()
    assert H.storage_type is hist.storage.Weight
    assert not H.axes[0].traits.underflow
    assert not H.axes[0].traits.overflow
    np.testing.assert_array_equal(H.values(flow=True), h1.values)
    np.testing.assert_array_equal(H.variances(), h1.variances)
    np.testing.assert_array_equal(H.axes[0].edges, EDGES)


def test_jacobian_hist_layout(h1, h2):
    J = h1.jacobian_hist()
    assert [a.name for a in J.axes] == ["", "param"]
    assert list(J.axes["param"]) == ["shift", "scale"]
    np.testing.assert_array_equal(J.values(), h1.jacobian)
    np.testing.assert_array_equal(J.variances(), h1.variances_jacobian)
    np.testing.assert_array_equal(J[:, "scale"].values(), h1.jacobian[:, 1])
    J2 = h2.jacobian_hist()  # unnamed parameters: their indices
    assert list(J2.axes["param"]) == ["0", "1", "2"]
    np.testing.assert_array_equal(J2.values(), h2.jacobian)


def test_jacobian_hist_follows_hist_arithmetic(h1):
    # Weight storage adds value and variance and scales them by c and c**2: exactly
    # how d values and d variances transform.
    J = h1.jacobian_hist()
    np.testing.assert_allclose((J + J).values(), (h1 + h1).jacobian)
    np.testing.assert_allclose((J * 3.0).variances(), h1.scaled(3.0).variances_jacobian)
    np.testing.assert_allclose(
        J.project("param").values(), h1.jacobian.sum(axis=0), rtol=1e-14
    )


def test_jacobian_hist_against_finite_differences(rng):
    x = rng.normal(size=200)
    edges = np.linspace(-2.0, 2.0, 9)

    def filled(t):
        return diffana.histogram(x + t, edges, None, 0.3, np.ones((x.size, 1)))

    eps = 1e-6
    fd = (filled(eps).to_hist().values() - filled(-eps).to_hist().values()) / (2 * eps)
    np.testing.assert_allclose(
        filled(0.0).jacobian_hist()[:, "0"].values(), fd, atol=1e-6
    )


def test_round_trip_is_exact(h1, h2):
    assert_same(diffana.GradHistogram.from_hist(h1.to_hist(), h1.jacobian_hist()), h1)
    assert_same(diffana.GradHistogram2D.from_hist(h2.to_hist(), h2.jacobian_hist()), h2)
    # through a pickle of the hist objects, which keeps the diffana attribute
    H, J = pickle.loads(pickle.dumps((h1.to_hist(), h1.jacobian_hist())))
    assert_same(diffana.GradHistogram.from_hist(H, J), h1)
    plain = diffana.histogram([0.5, 1.5], [0.0, 1.0, 2.0])
    assert_same(diffana.GradHistogram.from_hist(plain.to_hist()), plain)
    assert_same(
        diffana.GradHistogram.from_hist(plain.to_hist(), plain.jacobian_hist()), plain
    )


def test_from_hist_filled_by_hist():
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=100), rng.uniform(size=100)
    H = hist.Hist(hist.axis.Regular(8, -4.0, 4.0), storage=hist.storage.Weight())
    H.fill(x, weight=w)
    h = diffana.GradHistogram.from_hist(H)
    ref = diffana.histogram(x, np.linspace(-4.0, 4.0, 9), weights=w)
    np.testing.assert_allclose(h.values, ref.values, rtol=1e-14)
    np.testing.assert_allclose(h.variances, ref.variances, rtol=1e-14)
    assert (h.n_params, h.bandwidth, h.overflow, h.param_names) == (
        0,
        None,
        "drop",
        None,
    )


def test_from_hist_refuses_what_it_cannot_hold():
    H = hist.Hist(hist.axis.Regular(2, 0.0, 1.0), storage=hist.storage.Weight())
    H.fill([5.0])
    with pytest.raises(ValueError, match=r"has 1\.0 in the flow bins of axis 0"):
        diffana.GradHistogram.from_hist(H)
    C = hist.Hist(hist.axis.StrCategory(["a"]), storage=hist.storage.Weight())
    with pytest.raises(ValueError, match=r"axis 0 \(StrCategory\) has no bin edges"):
        diffana.GradHistogram.from_hist(C)
    H2 = hist.Hist(hist.axis.Regular(2, 0, 1), hist.axis.Regular(2, 0, 1))
    with pytest.raises(ValueError, match="has 2 axes, a 1D gradient histogram needs 1"):
        diffana.GradHistogram.from_hist(H2)
    h = diffana.histogram([0.5], [0.0, 1.0, 2.0], x_tangents=[[1.0]])
    other = diffana.histogram([0.5], [0.0, 1.0, 3.0], x_tangents=[[1.0]])
    with pytest.raises(ValueError, match="Jacobian hist's bin edges differ"):
        diffana.GradHistogram.from_hist(h.to_hist(), other.jacobian_hist())
