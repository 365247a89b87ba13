# SPDX-License-Identifier: BSD-3-Clause
"""The AGC-like generator (diffana.generators.agc): the NanoAOD schema the AGC
selection reads, reproducibility, chunked files with several clusters, physics that
makes the AGC regions and the trijet peak look right, errors and the command line."""

from __future__ import annotations

import numpy as np
import pytest

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")

from diffana.cli import main
from diffana.generators import agc as generate_agc

TYPES = {
    "event": "uint64_t",
    "genWeight": "float",
    "nJet": "int32_t",
    "Jet_pt": "float[]",
    "Jet_eta": "float[]",
    "Jet_phi": "float[]",
    "Jet_mass": "float[]",
    "Jet_btagCSVV2": "float[]",
    "Jet_jetId": "int32_t[]",
    "Jet_hadronFlavour": "int32_t[]",
    "nElectron": "int32_t",
    "Electron_pt": "float[]",
    "Electron_eta": "float[]",
    "Electron_phi": "float[]",
    "Electron_cutBased": "int32_t[]",
    "Electron_sip3d": "float[]",
    "nMuon": "int32_t",
    "Muon_pt": "float[]",
    "Muon_eta": "float[]",
    "Muon_phi": "float[]",
    "Muon_tightId": "bool[]",
    "Muon_sip3d": "float[]",
    "Muon_pfRelIso04_all": "float[]",
}


def read(path):
    return uproot.open(path)["Events"].arrays()


def assert_same(a, b):
    assert a.fields == b.fields
    for key in a.fields:
        assert ak.array_equal(a[key], b[key]), key


def hard_agc(a):
    """The hard AGC selection (agc_spec.md) at its nominal cuts: lepton mask, 4j1b and
    4j2b masks and the m_bjj of the 4j2b events."""
    el = (
        (a.Electron_pt > 30)
        & (abs(a.Electron_eta) < 2.1)
        & (a.Electron_cutBased == 4)
        & (a.Electron_sip3d < 4)
    )
    mu = (
        (a.Muon_pt > 30)
        & (abs(a.Muon_eta) < 2.1)
        & a.Muon_tightId
        & (a.Muon_sip3d < 4)
        & (a.Muon_pfRelIso04_all < 0.15)
    )
    lepton = (ak.sum(el, axis=1) + ak.sum(mu, axis=1)) == 1
    sel = (a.Jet_pt > 30) & (abs(a.Jet_eta) < 2.4) & ((a.Jet_jetId & 4) != 0)
    tag = sel & (a.Jet_btagCSVV2 >= 0.5)
    n_jet, n_b = ak.sum(sel, axis=1), ak.sum(tag, axis=1)
    r1 = ak.to_numpy(lepton & (n_jet >= 4) & (n_b == 1))
    r2 = ak.to_numpy(lepton & (n_jet >= 4) & (n_b >= 2))
    s, j = sel[r2], a[r2]
    jets = ak.zip(
        {
            "pt": ak.values_astype(j.Jet_pt[s], np.float64),
            "eta": j.Jet_eta[s],
            "phi": j.Jet_phi[s],
            "mass": j.Jet_mass[s],
            "b": tag[r2][s],
        }
    )
    t = ak.combinations(jets, 3, fields=["i", "j", "k"])
    px = sum(t[f].pt * np.cos(t[f].phi) for f in "ijk")
    py = sum(t[f].pt * np.sin(t[f].phi) for f in "ijk")
    pz = sum(t[f].pt * np.sinh(t[f].eta) for f in "ijk")
    e = sum(np.sqrt((t[f].pt * np.cosh(t[f].eta)) ** 2 + t[f].mass ** 2) for f in "ijk")
    pt = ak.where(t.i.b | t.j.b | t.k.b, np.hypot(px, py), -1.0)
    mass = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    best = ak.flatten(mass[ak.argmax(pt, axis=1, keepdims=True)])
    m_bjj = ak.to_numpy(ak.fill_none(best, np.nan))  # no None: >= 4 jets, >= 1 b
    return ak.to_numpy(lepton), r1, r2, m_bjj


def test_schema_and_content(tmp_path):
    paths = generate_agc.generate(tmp_path, seed=2, events=3000)
    assert list(paths) == ["ttbar", "single_top", "wjets"]
    for name, path in paths.items():
        assert path == tmp_path / f"{name}.root"
        tree = uproot.open(path)["Events"]
        assert tree.num_entries == 3000
        types = {b.name: b.typename for b in tree.branches}
        for key, typename in TYPES.items():
            assert types[key] == typename, (name, key)
        a = tree.arrays()
        np.testing.assert_array_equal(a.event, np.arange(3000, dtype=np.uint64))
        for coll in ("Jet", "Electron", "Muon"):
            np.testing.assert_array_equal(ak.num(a[f"{coll}_pt"]), a[f"n{coll}"])
            pt = a[f"{coll}_pt"]
            assert ak.all(pt[:, 1:] <= pt[:, :-1])  # pT-ordered
        w = ak.to_numpy(a.genWeight)
        assert w.min() > 0
        assert 0.01 < w.std() < 0.1
        assert abs(w.mean() - 1) < 0.01
        pt = ak.to_numpy(ak.flatten(a.Jet_pt))
        assert pt.min() > 15.0
        assert np.all(np.abs(ak.to_numpy(ak.flatten(a.Jet_phi))) <= np.pi)
        btag = ak.to_numpy(ak.flatten(a.Jet_btagCSVV2))
        assert btag.min() >= 0
        assert btag.max() <= 1
        jet_id = ak.to_numpy(ak.flatten(a.Jet_jetId))
        assert set(np.unique(jet_id)) == {2, 6}
        assert 0.01 < np.mean(jet_id == 2) < 0.06
        assert set(np.unique(ak.to_numpy(ak.flatten(a.Electron_cutBased)))) <= set(
            range(5)
        )
        flavour = ak.to_numpy(ak.flatten(a.Jet_hadronFlavour))
        tagged = btag >= 0.5
        assert 0.6 < tagged[flavour == 5].mean() < 0.8
        assert 0.01 < tagged[flavour == 0].mean() < 0.05
        assert tagged[flavour == 0].mean() < tagged[flavour == 4].mean()
        assert tagged[flavour == 4].mean() < tagged[flavour == 5].mean()


def test_reproducible(tmp_path):
    a = generate_agc.generate(tmp_path / "a", seed=5, events=1500)
    b = generate_agc.generate(tmp_path / "b", seed=5, events=1500)
    c = generate_agc.generate(tmp_path / "c", seed=6, events=1500, samples=["wjets"])
    for name in a:
        assert_same(read(a[name]), read(b[name]))
    assert not np.array_equal(read(a["wjets"]).genWeight, read(c["wjets"]).genWeight)
    # The samples are drawn independently: ttbar alone is the same as with the rest.
    d = generate_agc.generate(tmp_path / "d", seed=5, events=1500, samples=["ttbar"])
    assert_same(read(a["ttbar"]), read(d["ttbar"]))


def test_chunked_file_has_clusters_and_regenerates_equal(tmp_path):
    n = 250_000
    paths = [
        generate_agc.generate(tmp_path / d, seed=3, events=n, samples=["wjets"])
        for d in ("a", "b")
    ]
    tree = uproot.open(paths[0]["wjets"])["Events"]
    assert tree.num_entries == n
    for key in ("event", "nJet", "Jet_pt", "Muon_tightId"):
        offsets = tree[key].entry_offsets
        assert len(offsets) - 1 >= 8  # baskets
        assert np.diff(offsets).max() <= 100_000
    # ROOT reads clusters from fAutoFlush (entries per cluster): the chunk size.
    assert tree.member("fAutoFlush") == np.diff(tree["Jet_pt"].entry_offsets)[0]
    assert_same(tree.arrays(), read(paths[1]["wjets"]))


def test_hard_agc_regions_and_trijet_peak(tmp_path):
    paths = generate_agc.generate(
        tmp_path, seed=4, events=20_000, samples=["ttbar", "wjets"]
    )
    tt_lep, tt_1, tt_2, m_bjj = hard_agc(read(paths["ttbar"]))
    wj_lep, wj_1, wj_2, _ = hard_agc(read(paths["wjets"]))
    # The lepton cut matters, and most events have a lepton in acceptance.
    assert 0.3 < tt_lep.mean() < 0.7
    assert 0.3 < wj_lep.mean() < 0.7
    # ttbar fills the 4-jet regions, W+jets hardly the 2-b one.
    assert tt_2.mean() > 0.05
    assert tt_1.mean() > 0.05
    assert tt_2.mean() > 10 * wj_2.mean()
    assert tt_1.mean() > 3 * wj_1.mean()
    # The trijet mass peaks at the top mass (AGC binning: 25 bins on [50, 550]).
    counts, edges = np.histogram(m_bjj, bins=25, range=(50.0, 550.0))
    peak = 0.5 * (edges[np.argmax(counts)] + edges[np.argmax(counts) + 1])
    assert 150.0 <= peak <= 200.0
    assert 150.0 < np.median(m_bjj) < 220.0


def test_single_top_has_fewer_four_jet_events(tmp_path):
    paths = generate_agc.generate(
        tmp_path, seed=4, events=5000, samples=["single_top", "ttbar"]
    )
    n4 = {}
    for name, path in paths.items():
        a = read(path)
        sel = (a.Jet_pt > 30) & (abs(a.Jet_eta) < 2.4) & ((a.Jet_jetId & 4) != 0)
        n4[name] = ak.mean(ak.sum(sel, axis=1) >= 4)
    assert n4["single_top"] < 0.5 * n4["ttbar"]
    # The t-channel's forward jet.
    st = read(paths["single_top"])
    eta = np.abs(ak.to_numpy(ak.flatten(st.Jet_eta)))
    assert 0.15 < np.mean(eta > 2.4) < 0.5


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown sample 'zjets'"):
        generate_agc.generate(tmp_path, events=100, samples=["ttbar", "zjets"])
    assert not (tmp_path / "ttbar.root").exists()  # checked before writing
    with pytest.raises(
        ValueError, match=r"events \(per sample\) must be at least 1, got 0"
    ):
        generate_agc.generate(tmp_path, events=0)
    with pytest.raises(ValueError, match="unknown sample 'signal'"):
        generate_agc.make_chunk("signal", 10, np.random.default_rng(0))


def test_command_line(tmp_path, capsys):
    out = tmp_path / "agc"
    args = ["--kind", "agc", "--out", str(out), "--events", "400", "--seed", "2"]
    assert main(["generate", *args, "--samples", "wjets,ttbar"]) == 0
    printed = capsys.readouterr().out
    assert "wjets:" in printed
    assert "ttbar:" in printed
    assert sorted(p.name for p in out.iterdir()) == ["ttbar.root", "wjets.root"]
    # --events is per sample for --kind agc.
    assert uproot.open(out / "ttbar.root")["Events"].num_entries == 400
    with pytest.raises(SystemExit) as exc:
        main(["generate", *args, "--samples", "qcd"])
    assert exc.value.code == 2
    assert "unknown sample 'qcd'" in capsys.readouterr().err
    # Through `diffana generate`, same files as the Python function.
    assert main(["generate", *args, "--out", str(tmp_path / "cli")]) == 0
    ref = generate_agc.generate(tmp_path / "ref", seed=2, events=400)
    for name, path in ref.items():
        assert_same(read(tmp_path / "cli" / f"{name}.root"), read(path))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--help"])
    assert exc.value.code == 0
    assert "per sample" in " ".join(capsys.readouterr().out.split())
