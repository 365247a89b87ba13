# SPDX-License-Identifier: BSD-3-Clause
"""The toy dijet generator (diffana.generators.toy): reproducible NanoAOD-like files,
and ``diffana generate`` for them."""

from __future__ import annotations

import numpy as np
import pytest

uproot = pytest.importorskip("uproot")

from diffana.cli import main
from diffana.generators import toy as generate

BRANCHES = [
    "nJet", "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "disc", "genWeight",
    "puWeight", "puWeightUp", "puWeightDown",
]  # fmt: skip


def read(path):
    return uproot.open(path)["Events"].arrays(library="np")


def test_same_seed_same_events_other_seed_other_events(tmp_path):
    a = generate.generate(tmp_path / "a", seed=7, events=3000)
    b = generate.generate(tmp_path / "b", seed=7, events=3000)
    c = generate.generate(tmp_path / "c", seed=8, events=3000)
    assert sorted(a) == ["qcd", "signal", "ttbar"]
    for name in a:
        ta, tb, tc = read(a[name]), read(b[name]), read(c[name])
        assert sorted(ta) == sorted(BRANCHES)
        for key in BRANCHES:
            if key.startswith("Jet_"):
                np.testing.assert_array_equal(
                    np.concatenate(ta[key]), np.concatenate(tb[key])
                )
            else:
                np.testing.assert_array_equal(ta[key], tb[key])
        assert not np.array_equal(ta["genWeight"], tc["genWeight"])


def test_nanoaod_like_content(tmp_path):
    paths = generate.generate(tmp_path, seed=1, events=5000)
    tree = uproot.open(paths["signal"])["Events"]
    assert tree.num_entries == 1000  # 20 % of the events
    assert tree["Jet_pt"].typename == "float[]"
    assert tree["nJet"].typename == "int32_t"
    t = read(paths["ttbar"])
    pts = t["Jet_pt"]
    assert all(len(p) == n for p, n in zip(pts, t["nJet"], strict=True))
    flat = np.concatenate(pts)
    assert flat.min() > 20.0
    assert all(np.all(np.diff(p) <= 0) for p in pts)  # pT-ordered
    assert np.all((t["disc"] >= 0) & (t["disc"] <= 1))
    assert np.all(t["genWeight"] > 0)
    # The pile-up variations bracket the nominal weight on average.
    assert t["puWeightUp"].mean() > t["puWeight"].mean() > t["puWeightDown"].mean()
    # The signal's leading jets are hard, the QCD ones soft (what the cuts exploit).
    s, q = read(paths["signal"]), read(paths["qcd"])
    pt2 = [np.median([p[1] for p in x["Jet_pt"] if len(p) > 1]) for x in (s, q)]
    assert pt2[0] > 2 * pt2[1]
    assert np.median(s["disc"]) > 0.6
    assert np.median(q["disc"]) < 0.3


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown sample 'wjets'"):
        generate.generate(tmp_path, samples=["signal", "wjets"], events=100)
    with pytest.raises(ValueError, match="events must be at least"):
        generate.generate(tmp_path, events=2)


def test_command_line(tmp_path, capsys):
    assert (
        main(["generate", "--out", str(tmp_path), "--seed", "3", "--events", "600"])
        == 0
    )
    out = capsys.readouterr().out
    assert "signal:" in out
    assert uproot.open(tmp_path / "qcd.root")["Events"].num_entries == 300
