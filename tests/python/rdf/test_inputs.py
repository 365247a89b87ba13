# SPDX-License-Identifier: BSD-3-Clause
"""DiffFrame inputs and running options: a jagged file written by uproot (against a
numpy reference and finite differences), in-memory caching of the input, ROOT's
progress bar, and snapshots written under implicit multithreading."""

from __future__ import annotations

import numpy as np
import pytest

import diffana

pytestmark = pytest.mark.root

PARAMS = {"jes": 1.02, "pt_cut": 30.0}
EDGES = np.linspace(0.0, 600.0, 13)


@pytest.fixture(scope="module")
def jets():
    """NanoAOD-like jagged jets: 3000 events, 0-8 jets each."""
    rng = np.random.default_rng(7)
    n_jet = rng.integers(0, 9, size=3000)
    pt = rng.exponential(40.0, size=n_jet.sum()) + 15.0
    return n_jet, pt


@pytest.fixture(scope="module")
def uproot_file(tmp_path_factory, jets):
    ak = pytest.importorskip("awkward", reason="awkward is not installed")
    uproot = pytest.importorskip("uproot", reason="uproot is not installed")
    n_jet, pt = jets
    path = tmp_path_factory.mktemp("uproot") / "jets.root"
    with uproot.recreate(path) as f:
        f["Events"] = {
            "Jet_pt": ak.unflatten(pt.astype(np.float32), n_jet),
            "weight": np.linspace(0.5, 1.5, n_jet.size),
        }
    return path


def pipeline(ddf):
    """HT of soft-selected, calibrated jets, two histograms."""
    d = (
        ddf.define("pt_c", "Jet_pt * jes")
        .define("w_jet", "diffana::soft_cut(pt_c, pt_cut, 0.2)")
        .define("ht", "ROOT::VecOps::Sum(pt_c * w_jet)")
    )
    return d.histo("ht", EDGES, weight="weight"), d.histo(
        "ht", EDGES, weight="weight", bandwidth=20.0
    )


def reference(jets, params, bandwidth):
    """The same histogram from numpy (float32 pT, as on disk)."""
    n_jet, pt = jets
    pt = pt.astype(np.float32).astype(np.float64)
    pt_c = pt * params["jes"]
    w = diffana.soft_cut(pt_c, params["pt_cut"], 0.2).value
    event = np.repeat(np.arange(n_jet.size), n_jet)
    ht = np.bincount(event, weights=pt_c * w, minlength=n_jet.size)
    weight = np.linspace(0.5, 1.5, n_jet.size)
    return diffana.histogram(ht, EDGES, weights=weight, bandwidth=bandwidth).values


def test_uproot_written_file(ROOT, uproot_file, jets):
    from diffana.rdf import DiffFrame

    ddf = DiffFrame(ROOT.RDataFrame("Events", str(uproot_file)), PARAMS)
    assert "RVec<float>" in ddf.column_type("Jet_pt")
    hard, soft = pipeline(ddf)
    np.testing.assert_allclose(hard.result().values, reference(jets, PARAMS, None))
    np.testing.assert_allclose(
        soft.result().values, reference(jets, PARAMS, 20.0), rtol=1e-10
    )
    # The soft histogram's Jacobian against central differences of the reference.
    for k, name in enumerate(PARAMS):
        eps = 1e-4 * PARAMS[name]
        up = reference(jets, {**PARAMS, name: PARAMS[name] + eps}, 20.0)
        dn = reference(jets, {**PARAMS, name: PARAMS[name] - eps}, 20.0)
        fd = (up - dn) / (2 * eps)
        np.testing.assert_allclose(
            soft.result().jacobian[:, k], fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max()
        )


def test_cache_gives_the_same_results(ROOT, uproot_file):
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame("Events", str(uproot_file))
    plain = [h.result() for h in pipeline(DiffFrame(df, PARAMS))]
    cached_frame = DiffFrame(df, PARAMS, cache=["Jet_pt", "weight"])
    assert cached_frame.n_loops == 1  # Cache reads the input once, now
    hists = pipeline(cached_frame)
    for a, b in zip(plain, [h.result() for h in hists], strict=True):
        np.testing.assert_array_equal(b.values, a.values)
        np.testing.assert_array_equal(b.jacobian, a.jacobian)
    cached_frame.set_params(jes=1.0)
    assert hists[0].result().values.sum() != plain[0].values.sum()
    assert cached_frame.n_loops == 3
    with pytest.raises(ValueError, match="cache: unknown column 'nope'"):
        DiffFrame(df, PARAMS, cache=["nope"])
    with pytest.raises(ValueError, match="no columns"):
        DiffFrame(df, PARAMS, cache=[])


def test_progress_bar(ROOT, uproot_file, capfd):
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame("Events", str(uproot_file))
    hard, _ = pipeline(DiffFrame(df, PARAMS, progress=True))
    hard.result()
    out = capfd.readouterr()
    assert "processed events" in out.out + out.err
    # Off by default.
    hard, _ = pipeline(DiffFrame(df, PARAMS))
    hard.result()
    out = capfd.readouterr()
    assert "processed events" not in out.out + out.err


def test_snapshot_chain_under_implicit_mt(ROOT, uproot_file, tmp_path):
    """Stage 1 writes calibrated jets with tangents using 2 threads (entries may be
    written in any order); stage 2 reads them back: same histogram and Jacobian as
    the single-threaded single program."""
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame("Events", str(uproot_file))
    single = pipeline(DiffFrame(df, PARAMS))[1].result()
    path = tmp_path / "stage1.root"
    ROOT.EnableImplicitMT(2)
    try:
        stage1 = DiffFrame(ROOT.RDataFrame("Events", str(uproot_file)), {"jes": 1.02})
        assert stage1.node.GetNSlots() == 2
        stage1.define("pt_c", "Jet_pt * jes").snapshot(
            "Events", path, ["pt_c", "weight"]
        )
        stage2 = DiffFrame.from_snapshot("Events", path, PARAMS)
        d = stage2.define("w_jet", "diffana::soft_cut(pt_c, pt_cut, 0.2)").define(
            "ht", "ROOT::VecOps::Sum(pt_c * w_jet)"
        )
        chain = d.histo("ht", EDGES, weight="weight", bandwidth=20.0).result()
    finally:
        ROOT.DisableImplicitMT()
    assert chain.param_names == single.param_names
    scale = np.abs(single.values).max()
    np.testing.assert_allclose(
        chain.values, single.values, rtol=1e-12, atol=1e-12 * scale
    )
    scale = np.abs(single.jacobian).max()
    np.testing.assert_allclose(
        chain.jacobian, single.jacobian, rtol=1e-11, atol=1e-12 * scale
    )
