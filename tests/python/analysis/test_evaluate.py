# SPDX-License-Identifier: BSD-3-Clause
"""``diffana evaluate`` (diffana.cli.evaluate): one evaluation as JSON,
equal to the driver's own; --set, --files and --hard (relaxation scales -> 0, hard
bins: the histograms count the weights of the selected events exactly)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("optax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
uproot = pytest.importorskip("uproot")

from diffana import root as droot
from diffana.analysis import Analysis
from diffana.analysis import config as dc
from diffana.cli import main
from diffana.generators import toy as generate

pytestmark = [pytest.mark.root, pytest.mark.slow]

CONFIG = {
    "lumi": 1000.0,
    "samples": [
        {"name": "signal", "files": "samples/signal.root", "weight": "genWeight",
         "xsec": 0.05, "role": "signal"},
        {"name": "ttbar", "files": "samples/ttbar.root", "weight": "genWeight",
         "xsec": 5.0, "role": "background"},
    ],
    "parameters": [
        {"name": "disc_cut", "value": 0.3, "bounds": [0.0, 0.95]},
        {"name": "width", "value": 0.05, "bounds": [0.01, 0.2], "relaxation": True},
    ],
    "defines": {"pt2": "Jet_pt[1]"},
    "selections": [
        {"filter": "nJet >= 2"},
        {"soft_filter": "diffana::agc::soft_step(disc, disc_cut, diffana::value(width))"},
    ],
    "observables": [
        {"name": "sr", "expression": "pt2", "bins": {"low": 0.0, "high": 200.0, "n": 5},
         "bandwidth": 10.0, "overflow": "fold"},
    ],
    "systematics": [
        {"name": "lumi", "type": "normsys", "lo": 0.98, "hi": 1.02},
        {"name": "jes", "type": "column", "up": {"pt2": "Jet_pt[1] * 1.03"},
         "down": {"pt2": "Jet_pt[1] * 0.97"}},
    ],
    "objective": {"type": "asimov_significance"},
}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    droot.register()
    ROOT.gInterpreter.Declare('#include "diffana/physics/agc.hpp"')
    path = tmp_path_factory.mktemp("evaluate")
    generate.generate(path / "samples", seed=7, events=3000)
    generate.generate(path / "other", seed=8, events=2000)
    (path / "a.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    return path


def evaluate(folder, *args):
    out = folder / "out.json"
    out.unlink(missing_ok=True)
    rc = main(["evaluate", str(folder / "a.yaml"), "--quiet", "--json", str(out),
               *args])  # fmt: skip
    assert rc == 0
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def nominal(folder):
    return evaluate(folder)


def test_json_structure_and_values_equal_the_driver(folder, nominal):
    rep = nominal
    assert rep["param_names"] == ["disc_cut", "width"]
    assert list(rep["histograms"]) == ["sr"]
    assert list(rep["histograms"]["sr"]) == ["signal", "ttbar"]
    obj = rep["objective"]
    assert obj["type"] == "asimov_significance"
    assert set(obj["gradient"]) == {"disc_cut", "width"}
    a = Analysis(dc.load(folder / "a.yaml"), source="a.yaml")
    ev = a.evaluate()
    assert obj["value"] == pytest.approx(ev.objective, rel=1e-12)
    for n, g in ev.gradient.items():
        assert obj["gradient"][n] == pytest.approx(g, rel=1e-9, abs=1e-14)
    for s in ("signal", "ttbar"):
        hs = rep["histograms"]["sr"][s]
        assert list(hs) == ["nominal", "jes_up", "jes_down"]
        for v, h in hs.items():
            assert set(h) == {"edges", "values", "variances", "jacobian"}
            ref = ev.histograms[s]["sr"][v]
            np.testing.assert_allclose(h["edges"], [0, 40, 80, 120, 160, 200])
            np.testing.assert_allclose(h["values"], ref.values, rtol=1e-12)
            np.testing.assert_allclose(h["variances"], ref.variances, rtol=1e-12)
            jac = np.array(h["jacobian"])
            assert jac.shape == (5, 2)
            np.testing.assert_allclose(jac, ref.jacobian, rtol=1e-12, atol=1e-300)
        assert not np.allclose(hs["jes_up"]["values"], hs["nominal"]["values"])


def test_set_changes_the_values(folder, nominal):
    rep = evaluate(folder, "--set", "disc_cut=0.6")
    assert rep["params"]["disc_cut"] == 0.6
    new = np.sum(rep["histograms"]["sr"]["ttbar"]["nominal"]["values"])
    old = np.sum(nominal["histograms"]["sr"]["ttbar"]["nominal"]["values"])
    assert new < old


def _selected_weights(path, disc_cut):
    t = uproot.open(path)["Events"].arrays(["nJet", "disc", "genWeight"], library="np")
    w = t["genWeight"].astype(np.float64)
    sel = (t["nJet"] >= 2) & (t["disc"].astype(np.float64) > disc_cut)
    return w[sel].sum(), w.sum()


def test_hard_is_an_exact_weighted_count(folder, nominal):
    rep = evaluate(folder, "--hard")
    assert rep["hard"] is True
    assert rep["params"]["width"] == 0.0
    assert rep["bandwidths"] == {"sr": None}
    for s, xsec in (("signal", 0.05), ("ttbar", 5.0)):
        h = rep["histograms"]["sr"][s]["nominal"]
        sel, total = _selected_weights(folder / "samples" / f"{s}.root", 0.3)
        # overflow folded: every selected event is in a bin.
        assert np.sum(h["values"]) == pytest.approx(xsec * 1000.0 * sel / total,
                                                    rel=1e-12)  # fmt: skip
        # hard cuts: no derivative w.r.t. the cut or the width.
        assert np.all(np.array(h["jacobian"]) == 0)
    soft = np.sum(nominal["histograms"]["sr"]["ttbar"]["nominal"]["values"])
    hard = np.sum(rep["histograms"]["sr"]["ttbar"]["nominal"]["values"])
    assert soft != hard


def test_files_override(folder, nominal):
    other = folder / "other"
    rep = evaluate(folder, "--files", f"signal={other / 'signal.root'}",
                   f"ttbar={other / 'ttbar.root'}")  # fmt: skip
    # the same as the configuration pointing at the other files
    (other / "samples").mkdir(exist_ok=True)
    for s in ("signal", "ttbar"):
        shutil.copy(other / f"{s}.root", other / "samples" / f"{s}.root")
    shutil.copy(folder / "a.yaml", other / "a.yaml")
    ref = evaluate(other)
    assert rep["histograms"] == ref["histograms"]
    assert rep["histograms"] != nominal["histograms"]
    # a plain F: every sample reads it (signal and ttbar differ by xsec only)
    rep = evaluate(folder, "--files", str(other / "ttbar.root"))
    s = np.array(rep["histograms"]["sr"]["signal"]["nominal"]["values"])
    b = np.array(rep["histograms"]["sr"]["ttbar"]["nominal"]["values"])
    np.testing.assert_allclose(s, b * 0.05 / 5.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "no_such_param=1"], "no_such_param"),
        (["--set", "nonsense"], "expected NAME=VALUE"),
        (["--files", "nosample=x.root"], "no sample 'nosample'"),
        (["--files", "missing.root"], "missing.root does not exist"),
    ],
)
def test_bad_arguments_exit_2(folder, capsys, args, expected):
    rc = main(["evaluate", str(folder / "a.yaml"), *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "a.yaml" in err or "--" in err


def test_cli_lists_evaluate():
    from diffana.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--help"])
    assert exc.value.code == 0
