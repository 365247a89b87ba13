# SPDX-License-Identifier: BSD-3-Clause
"""The differentiable AGC ttbar analysis, examples/agc/agc.yaml, end to end.

- Hard mode (``Config.hard``: relaxation scales 0, hard bins) against the
  independent numpy reference benchmarks/agc_reference.py on the real CMS files:
  every histogram (nominal, JES, JER and b-tag variations) identical, and the
  region counts.
- Relaxed histograms against the independent JAX implementation of the same
  pipeline (values and Jacobians).
- Jacobians of every histogram, and the gradient of the objective, against central
  finite differences on the real ttbar file and on generated events.
- Multithreaded evaluation equals single-threaded within 1e-12.
- The README's commands: ``diffana generate --kind agc`` and ``diffana optimize``
  (relaxed and hard objective at the start and at the end).

The trijet pruning (``trijet_epsilon``) is set to 0 where results are compared
with finite differences or with JAX (pruning makes the mass piecewise smooth; its
error bound is tested in tests/cpp/test_agc.cpp).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")
ak = pytest.importorskip("awkward")
pytest.importorskip("uproot")

from diffana.analysis import Analysis
from diffana.analysis import config as dc
from diffana.cli import main as cli_main
from diffana.generators import agc as generate_agc

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "agc" / "agc.yaml"
PARAMS = ("pt_cut", "btag_cut", "jes")
# The real files: (name, b-tag branch).
CMS_FILES = [
    ("coffea_nano_tt_v12.root", "Jet_btagDeepFlavB"),
    ("nanoAOD_2015_CMS_Open_Data_ttbar.root", "Jet_btagCSVV2"),
]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Small generated samples (3 x 3000 events) with the example configuration
    next to them."""
    folder = tmp_path_factory.mktemp("agc")
    generate_agc.generate(folder / "samples", seed=11, events=3000)
    (folder / "agc.yaml").write_text(EXAMPLE.read_text())
    return folder


def _raw(btag: str = "Jet_btagCSVV2", epsilon: float | None = 0.0, xsec=True):
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["defines"]["jet_btag"] = f"ROOT::RVecD({btag})"
    if epsilon is not None:
        raw["defines"]["trijet_epsilon"] = str(epsilon)
    if not xsec:  # unscaled histograms (sums of genWeight)
        for s in raw["samples"]:
            s.pop("xsec", None)
    return raw


def _analysis(folder, raw, files=None, hard=False, name="c.yaml"):
    path = pathlib.Path(folder) / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    cfg = dc.load(path, check_files=files is None)
    if files is not None:
        cfg = cfg.with_files(files)
    if hard:
        cfg = cfg.hard()
    return Analysis(cfg, source=str(path))


# ---- hard mode == the AGC selection ------------------------------------------------


def _leading_selected_pt(events, pt_cut=30.0):
    """pT of the four leading selected jets (0 where fewer), for the b-tag weights."""
    pt = ak.values_astype(events["Jet_pt"], np.float64)
    sel = (
        (pt > pt_cut)
        & (abs(events["Jet_eta"]) < 2.4)
        & ((events["Jet_jetId"] & 4) != 0)
    )
    lead = ak.pad_none(pt[sel], 4, clip=True)
    return ak.to_numpy(ak.fill_none(lead, 0.0))


def _reference_histograms(ref, events):
    """Every variation of the configuration, from the numpy reference."""
    nominal = ref.hard_agc(events)
    out = {
        "nominal": ref.hard_histograms(nominal),
        "jes_up": ref.hard_histograms(ref.hard_agc(events, jes=1.0)),
        "jes_down": ref.hard_histograms(ref.hard_agc(events, jes=-1.0)),
        "jer_up": ref.hard_histograms(ref.hard_agc(events, jer=True)),
    }
    out["jer_down"] = {
        r: (np.maximum(2 * out["nominal"][r][0] - out["jer_up"][r][0], 0.0), None)
        for r in out["nominal"]
    }
    lead = _leading_selected_pt(events)
    for i in range(4):
        for sign, direction in ((1.0, "up"), (-1.0, "down")):
            sel = dict(nominal)
            sel["weight"] = nominal["weight"] * (1 + sign * 0.075 * lead[:, i] / 50)
            out[f"btag_{i}_{direction}"] = ref.hard_histograms(sel)
    return nominal, out


@pytest.mark.parametrize(("name", "btag"), CMS_FILES)
def test_hard_mode_is_the_agc_selection_on_cms_files(
    tmp_path, data_dir, agc_reference, name, btag
):
    ref = agc_reference
    path = str(data_dir / name)
    a = _analysis(
        tmp_path,
        _raw(btag, epsilon=None, xsec=False),
        files={s: [path] for s in ("ttbar", "single_top", "wjets")},
        hard=True,
    )
    histos = a.histograms(a.config.param_values)["ttbar"]
    events = ref.read_events(path, btag_branch=btag)
    selection, expected = _reference_histograms(ref, events)
    assert set(histos["4j1b"]) == set(expected)
    for region in ("4j1b", "4j2b"):
        for variation, hists in expected.items():
            h = histos[region][variation]
            np.testing.assert_allclose(
                h.values, hists[region][0], rtol=1e-12, atol=1e-9,
                err_msg=f"{name} {region} {variation}",
            )  # fmt: skip
            # Hard cuts and bins: no gradient w.r.t. the cuts (the b-tag weights
            # still depend smoothly on the jet pT, so on jes).
            assert np.all(h.jacobian[:, :2] == 0.0)
        nom = histos[region]["nominal"]
        assert np.all(nom.jacobian == 0.0)
        np.testing.assert_allclose(
            nom.variances, expected["nominal"][region][1], rtol=1e-12, atol=1e-9
        )
    # Region counts: the same histograms with unit weights.
    unit = dict(selection, weight=np.ones_like(selection["weight"]))
    counts = ref.hard_histograms(unit)
    if name.startswith("coffea"):
        assert counts["4j2b"][0].sum() >= 20  # the trijet observable is exercised
    raw = _raw(btag, epsilon=None, xsec=False)
    for s in raw["samples"]:
        s["weight"] = "1.0"
    raw["systematics"] = []
    b = _analysis(
        tmp_path,
        raw,
        files={s: [path] for s in ("ttbar", "single_top", "wjets")},
        hard=True,
        name="unit.yaml",
    )
    unit_histos = b.histograms(b.config.param_values)["ttbar"]
    for region in ("4j1b", "4j2b"):
        assert np.array_equal(unit_histos[region]["nominal"].values, counts[region][0])


# ---- relaxed == the JAX implementation; Jacobians == finite differences --------------


@pytest.fixture(scope="module")
def cms_relaxed(tmp_path_factory, data_dir):
    """The relaxed analysis on the real Run-3 ttbar file (all samples read it)."""
    path = str(data_dir / "coffea_nano_tt_v12.root")
    folder = tmp_path_factory.mktemp("agc_cms")
    a = _analysis(
        folder,
        _raw("Jet_btagDeepFlavB", xsec=False),
        files={s: [path] for s in ("ttbar", "single_top", "wjets")},
    )
    return a, path


def test_relaxed_histograms_equal_the_jax_implementation(
    cms_relaxed, agc_reference, x64
):
    ref = agc_reference
    a, path = cms_relaxed
    theta = {"pt_cut": 32.0, "btag_cut": 0.45, "jes": 0.3}
    histos = a.histograms({**a.config.param_values, **theta})["ttbar"]
    events = ref.read_events(path, btag_branch="Jet_btagDeepFlavB")
    prepared = ref.prepare_relaxed(events)
    jax_out = ref.relaxed_jax(prepared, theta=[theta[n] for n in PARAMS])
    for region in ("4j1b", "4j2b"):
        h = histos[region]["nominal"]
        np.testing.assert_allclose(h.values, jax_out[region], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(
            h.jacobian[:, :3], jax_out["jacobian"][region], rtol=1e-8, atol=1e-8
        )


def _central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("events", ["cms", "generated"])
def test_every_histogram_jacobian_matches_finite_differences(
    cms_relaxed, samples, events
):
    """Every region, sample and variation (JES, JER, b-tag weights), w.r.t. pt_cut,
    btag_cut and jes: the real ttbar file, and the generated samples."""
    if events == "cms":
        a, _ = cms_relaxed
    else:
        a = _analysis(samples, _raw(xsec=False), name="fd_hist.yaml")
    p0 = {**a.config.param_values, "pt_cut": 31.0, "btag_cut": 0.55, "jes": 0.2}
    base = a.histograms(p0)
    steps = {"pt_cut": 1e-3, "btag_cut": 1e-5, "jes": 1e-4}
    for k, name in enumerate(PARAMS):
        h = steps[name]
        up = a.histograms({**p0, name: p0[name] + h})
        down = a.histograms({**p0, name: p0[name] - h})
        for sample, regions in base.items():
            for region, variations in regions.items():
                for v, hist in variations.items():
                    fd = (
                        up[sample][region][v].values - down[sample][region][v].values
                    ) / (2 * h)
                    scale = np.max(np.abs(fd)) + 1e-3
                    np.testing.assert_allclose(
                        hist.jacobian[:, k], fd, rtol=1e-5, atol=1e-5 * scale,
                        err_msg=f"d {sample}/{region}/{v} / d {name}",
                    )  # fmt: skip


def test_objective_gradient_matches_finite_differences_on_cms_and_generated(
    samples, data_dir
):
    """The expected uncertainty on the ttbar normalisation, with every systematic in
    the fit: on generated samples, and with every sample reading the real ttbar
    file (a test of the chain, not a physics model)."""
    real = str(data_dir / "coffea_nano_tt_v12.root")
    for files, btag in (
        (None, "Jet_btagCSVV2"),
        ({s: [real] for s in ("ttbar", "single_top", "wjets")}, "Jet_btagDeepFlavB"),
    ):
        a = _analysis(samples, _raw(btag), files=files, name=f"fd_{btag}.yaml")
        params = {**a.config.param_values, "pt_cut": 33.0, "btag_cut": 0.52}
        ev = a.evaluate(params)
        assert 0 < ev.objective < 2
        fd = a.finite_difference(params, names=PARAMS)
        grad = np.array([ev.gradient[n] for n in PARAMS])
        assert np.all(grad != 0)
        np.testing.assert_allclose(grad, list(fd.values()), rtol=1e-4)


# ---- the README's commands; multithreaded == single-threaded ------------------------


def _diffana(*args, cwd):
    exe = pathlib.Path(sys.executable).with_name("diffana")
    if not exe.exists():
        pytest.skip(
            f"the diffana console script is not installed next to {sys.executable}"
        )
    proc = subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=900,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_readme_commands_and_threads(tmp_path):
    """`diffana generate --kind agc` then `diffana optimize examples/agc/agc.yaml`
    (here with 2 threads and one step) reports the relaxed and the hard objective at
    the start and the end; its first evaluation equals a single-threaded
    `diffana evaluate` within 1e-12."""
    # In this process (the same entry point as the console script, without a second
    # start-up of Python, ROOT and JAX); the two commands that follow run as
    # subprocesses.
    assert (
        cli_main(
            ["generate", "--kind", "agc", "--events", "8000", "--seed", "3",
             "--out", str(tmp_path / "samples")]
        )
        == 0
    )  # fmt: skip
    config = tmp_path / "agc.yaml"
    config.write_text(EXAMPLE.read_text())
    proc = _diffana(
        "optimize", str(config), "--set", "optimizer.steps=1", "--threads", "2",
        "--json", "report.json", cwd=tmp_path,
    )  # fmt: skip
    assert "hard analysis at the start" in proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["steps"] == 1
    for which in ("initial", "final"):
        assert 0 < report[which]["objective"] < 1
        assert 0 < report["hard"][which]["objective"] < 1
        assert report["hard"][which]["params"]["temperature"] == 0.0
    _diffana("evaluate", str(config), "--json", "single.json", cwd=tmp_path)
    single = json.loads((tmp_path / "single.json").read_text())
    assert single["objective"]["value"] == pytest.approx(
        report["initial"]["objective"], rel=1e-12
    )
    multi = report["histograms"]["initial"]
    n = 0
    for region, by_sample in single["histograms"].items():
        for sample, by_variation in by_sample.items():
            for variation, h in by_variation.items():
                m = multi[sample][region][variation]
                for key in ("values", "variances", "jacobian"):
                    np.testing.assert_allclose(
                        m[key], h[key], rtol=1e-12, atol=1e-12 * np.max(np.abs(h[key]))
                    )
                n += 1
    assert n == 2 * 3 * 13  # regions x samples x variations
