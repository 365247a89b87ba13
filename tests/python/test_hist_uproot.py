# SPDX-License-Identifier: BSD-3-Clause
"""Gradient histograms in ROOT files through uproot: the layout a ROOT user finds
(TH1D/TH2D of the values, one per parameter for the Jacobian, a JSON TObjString) and
the exact round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

import diffana

uproot = pytest.importorskip("uproot")
pytest.importorskip("hist")

EDGES = np.array([0.0, 0.1, 0.2, 0.30000000000000004, 1.0 / 3.0, 2.0])


@pytest.fixture
def h1(rng):
    n = 200
    x = rng.uniform(-0.1, 2.1, n)
    h = diffana.histogram(
        x, EDGES, rng.uniform(0.5, 1.5, n), 0.05, rng.normal(size=(n, 2)), None, "fold"
    )
    return diffana.GradHistogram(
        h.values,
        h.variances,
        h.jacobian,
        h.variances_jacobian,
        EDGES,
        h.bandwidth,
        h.overflow,
        n_skipped=3,
        param_names=["cut_pt", "w.ht"],
    )


@pytest.fixture
def h2(rng):
    n = 200
    return diffana.histogram2d(
        rng.uniform(0, 2, n),
        rng.uniform(0, 1, n),
        EDGES,
        [0.0, 0.5, 1.0],
        None,
        (None, 0.1),
        rng.normal(size=(n, 3)),
    )


def assert_same(a, b):
    assert type(a) is type(b)
    for attr in ("values", "variances", "jacobian", "variances_jacobian"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert x.shape == y.shape
        assert x.dtype == y.dtype == np.float64
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.edges_tuple, b.edges_tuple, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (a.bandwidth, a.overflow, a.n_skipped, a.param_names) == (
        b.bandwidth,
        b.overflow,
        b.n_skipped,
        b.param_names,
    )


def test_round_trip_is_exact(tmp_path, h1, h2):
    path = tmp_path / "hists.root"
    with uproot.recreate(path) as f:
        h1.to_uproot(f, "mjj")
        h2.to_uproot(f, "sr/ttbar/pt_eta")
    empty = diffana.histogram([0.5], [0.0, 1.0])
    empty.to_uproot(str(path), "plain")  # a path: updated, the others stay
    with uproot.open(path) as f:
        assert_same(diffana.GradHistogram.from_uproot(f, "mjj"), h1)
        assert_same(diffana.GradHistogram2D.from_uproot(f, "sr/ttbar/pt_eta"), h2)
    assert_same(diffana.GradHistogram.from_uproot(path, "plain"), empty)


def test_layout_for_a_root_user(tmp_path, h1):
    path = tmp_path / "hists.root"
    h1.to_uproot(path, "mjj")
    with uproot.open(path) as f:
        assert f.classnames() == {
            "mjj;1": "TH1D",
            "mjj__d_cut_pt;1": "TH1D",
            "mjj__d_w.ht;1": "TH1D",
            "mjj__diffana;1": "TObjString",
        }
        meta = json.loads(str(f["mjj__diffana"]))
        assert meta == {
            "format": "diffana.GradHistogram",
            "version": 1,
            "ndim": 1,
            "param_names": ["cut_pt", "w.ht"],
            "jacobian": ["mjj__d_cut_pt", "mjj__d_w.ht"],
            "bandwidth": 0.05,
            "overflow": "fold",
            "n_skipped": 3,
        }
        nominal, d_ht = f["mjj"], f["mjj__d_w.ht"]
        np.testing.assert_array_equal(nominal.values(), h1.values)
        np.testing.assert_array_equal(nominal.variances(), h1.variances)
        np.testing.assert_array_equal(nominal.axis().edges(), EDGES)
        assert nominal.values(flow=True)[[0, -1]].tolist() == [0.0, 0.0]
        np.testing.assert_array_equal(d_ht.values(), h1.jacobian[:, 1])
        # the derivative of the variances can be negative: fSumw2 holds it unclipped
        sumw2 = np.asarray(d_ht.member("fSumw2"))[1:-1]
        np.testing.assert_array_equal(sumw2, h1.variances_jacobian[:, 1])
        assert np.any(sumw2 < 0)


def test_unnamed_parameters_use_their_index(tmp_path, h2):
    path = tmp_path / "h2.root"
    h2.to_uproot(path, "h")
    with uproot.open(path) as f:
        assert set(f.keys(cycle=False)) == {
            "h",
            "h__d_0",
            "h__d_1",
            "h__d_2",
            "h__diffana",
        }
        assert f["h"].classname == "TH2D"
        np.testing.assert_array_equal(f["h__d_2"].values(), h2.jacobian[..., 2])


def test_plain_root_histogram_reads_without_parameters(tmp_path, rng):
    x = rng.normal(size=100)
    counts, edges = np.histogram(x, np.linspace(-5.0, 5.0, 11))
    path = tmp_path / "plain.root"
    with uproot.recreate(path) as f:
        f["h"] = (counts.astype(np.float64), edges)
    h = diffana.GradHistogram.from_uproot(path, "h")
    np.testing.assert_array_equal(h.values, counts)
    np.testing.assert_array_equal(h.edges, edges)
    assert (h.n_params, h.bandwidth, h.param_names) == (0, None, None)


def test_errors_name_the_problem(tmp_path, h1):
    path = tmp_path / "e.root"
    h1.to_uproot(path, "mjj")
    with pytest.raises(KeyError, match="no histogram 'nope'"):
        diffana.GradHistogram.from_uproot(path, "nope")
    with pytest.raises(ValueError, match="has 1 axes, a 2D gradient histogram needs 2"):
        diffana.GradHistogram2D.from_uproot(path, "mjj")
    with pytest.raises(TypeError, match="mjj__diffana is a TObjString, not a TH1"):
        diffana.GradHistogram.from_uproot(path, "mjj__diffana")
    bad = diffana.GradHistogram(
        h1.values,
        h1.variances,
        h1.jacobian,
        h1.variances_jacobian,
        EDGES,
        param_names=["a/b", "c"],
    )
    with pytest.raises(
        ValueError, match="parameter name 'a/b' cannot be part of a ROOT key"
    ):
        bad.to_uproot(path, "bad")
    hist = pytest.importorskip("hist")
    H = hist.Hist(hist.axis.Regular(2, 0.0, 2.0), storage=hist.storage.Weight())
    H.fill([-1.0, 0.5])
    with uproot.recreate(tmp_path / "flow.root") as f:
        f["h"] = H
    with pytest.raises(ValueError, match=r"h has 1\.0 in its flow bins"):
        diffana.GradHistogram.from_uproot(tmp_path / "flow.root", "h")
