# SPDX-License-Identifier: BSD-3-Clause
"""The end-to-end chain (diffana.analysis): DiffFrame event loops -> pyhf workspace
with JAX arrays -> diffana.stats objective, its gradient w.r.t. the analysis
parameters against central finite differences of the whole chain, the optimizer,
and errors naming the configuration key."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("optax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
pytest.importorskip("uproot")

from diffana.analysis import Analysis, ObjectiveError, Status, demo, optimize
from diffana.analysis import config as dc
from diffana.generators import toy as generate
from diffana.rdf.expressions import rename, uses

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("opt")
    generate.generate(path / "samples", seed=5, events=6000)
    return path


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(demo.config_path().read_text())


def make(folder, raw, name="c.yaml", overrides=()):
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    cfg = dc.load(path, overrides)
    return Analysis(cfg, source=str(path))


@pytest.fixture(scope="module")
def analyses(folder, raw):
    """One Analysis per objective (the event-loop code is jitted once)."""
    cache = {}

    def get(objective):
        if objective not in cache:
            r = copy.deepcopy(raw)
            r["objective"] = {"type": objective}
            if objective == "asimov_significance":
                r["objective"]["background_uncertainty"] = 0.1
            cache[objective] = make(folder, r, f"{objective}.yaml")
        return cache[objective]

    return get


@pytest.mark.parametrize("objective", ["asimov_significance", "discovery_significance"])
def test_gradient_matches_central_finite_differences(analyses, objective):
    a = analyses(objective)
    params = {"disc_cut": 0.45, "pt2_cut": 80.0}
    ev = a.evaluate(params)
    assert math.isfinite(ev.objective)
    assert ev.objective > 0
    fd = a.finite_difference(params)
    grad = np.array([ev.gradient[n] for n in fd])
    fd_arr = np.array(list(fd.values()))
    assert np.all(grad != 0)
    np.testing.assert_allclose(grad, fd_arr, rtol=1e-5)


def test_one_event_loop_per_sample_fills_every_variation(analyses):
    a = analyses("asimov_significance")
    loops = a.n_loops
    ev = a.evaluate({"disc_cut": 0.5})
    assert a.n_loops == loops + 3  # three samples, one loop each
    assert a.variations("ttbar") == [
        "nominal", "pileup_up", "pileup_down", "jes_up", "jes_down",
    ]  # fmt: skip
    for sample in ("signal", "ttbar", "qcd"):
        hs = ev.histograms[sample]["sr"]
        nom = hs["nominal"]
        assert nom.values.shape == (8,)
        # d/d disc_cut, pt2_cut and the two step widths (relaxation scales)
        assert nom.jacobian.shape == nom.variances_jacobian.shape == (8, 4)
        assert np.all(nom.values > 0)
        for v in ("jes_up", "jes_down", "pileup_up", "pileup_down"):
            assert not np.allclose(hs[v].values, nom.values), (sample, v)
    # The JES shifts the signal peak: up moves events to higher bins.
    s = ev.histograms["signal"]["sr"]
    centre = np.arange(8)
    mean = {v: (s[v].values @ centre) / s[v].values.sum() for v in s}
    assert mean["jes_up"] > mean["nominal"] > mean["jes_down"]
    # Scaled to xsec * lumi: about 0.05 pb * 1000 / pb = 50 signal events at most.
    assert 5 < s["nominal"].values.sum() < 50


def test_workspace_is_a_valid_pyhf_workspace(analyses):
    pyhf = pytest.importorskip("pyhf")
    a = analyses("discovery_significance")
    ev = a.evaluate()
    ws = a.model.plain_workspace(ev.histograms)
    with warnings.catch_warnings():
        # pyhf 0.7 validates with jsonschema's deprecated RefResolver.
        warnings.simplefilter("ignore", DeprecationWarning)
        model = pyhf.Workspace(ws).model()
    assert model.config.poi_name == "mu"
    assert set(model.config.parameters) == {
        "mu", "lumi", "ttbar_xsec", "pileup", "jes", "staterror_sr",
    }  # fmt: skip
    from diffana import stats

    assert stats.expected_discovery_significance(ws) == pytest.approx(
        ev.objective, rel=1e-9
    )


def test_channel_weight_fit_bins_and_symmetrised_variation(folder, raw):
    """An observable's ``weight`` multiplies its events' weights; ``fit_bins`` merge
    bins for the model (not for the histograms); a ``symmetrize``d column
    systematic gets down = 2 nominal - up. The gradient of the objective still
    matches finite differences."""
    r = copy.deepcopy(raw)
    sr = r["observables"][0]
    r["observables"].append({**sr, "name": "2sr", "weight": "2.0 * disc_cut / 0.3"})
    sr["fit_bins"] = [320.0, 360.0, 400.0, 480.0]
    jes = next(s for s in r["systematics"] if s["name"] == "jes")
    del jes["down"]
    jes["symmetrize"] = True
    a = make(folder, r, "features.yaml")
    params = {"disc_cut": 0.45, "pt2_cut": 80.0}
    ev = a.evaluate(params)
    for sample in ("signal", "ttbar", "qcd"):
        hs, hs2 = ev.histograms[sample]["sr"], ev.histograms[sample]["2sr"]
        nom, up, down = hs["nominal"], hs["jes_up"], hs["jes_down"]
        np.testing.assert_allclose(
            down.values, np.maximum(2 * nom.values - up.values, 0)
        )
        keep = 2 * nom.values - up.values > 0
        np.testing.assert_allclose(
            down.jacobian[keep], (2 * nom.jacobian - up.jacobian)[keep]
        )
        # weight 2 disc_cut / 0.3: values x 3 at disc_cut = 0.45, and a Jacobian
        # column d/d disc_cut with the extra term 2 / 0.3 x the values.
        k = 2.0 * 0.45 / 0.3
        np.testing.assert_allclose(hs2["nominal"].values, k * nom.values, rtol=1e-12)
        np.testing.assert_allclose(
            hs2["nominal"].variances, k * k * nom.variances, rtol=1e-12
        )
        jac = k * nom.jacobian
        jac[:, 0] += 2.0 / 0.3 * nom.values
        np.testing.assert_allclose(hs2["nominal"].jacobian, jac, rtol=1e-10)
    ws = a.model.plain_workspace(ev.histograms)
    chans = {c["name"]: c for c in ws["channels"]}
    sig = chans["sr"]["samples"][0]
    nom = ev.histograms["signal"]["sr"]["nominal"].values
    np.testing.assert_allclose(
        sig["data"], [nom[:2].sum(), nom[2:4].sum(), nom[4:].sum()]
    )
    assert len(chans["2sr"]["samples"][0]["data"]) == 8
    fd = a.finite_difference(params)
    np.testing.assert_allclose(
        [ev.gradient[n] for n in fd], list(fd.values()), rtol=1e-5
    )


def test_optimize_improves_and_keeps_the_bounds(folder, raw):
    r = copy.deepcopy(raw)
    r["optimizer"] = {"name": "adam", "learning_rate": 0.05, "steps": 6}
    a = make(folder, r, "opt.yaml")
    res = optimize(a)
    assert res.status == "max_steps"
    assert res.status is Status.MAX_STEPS
    assert len(res.history) == 7
    assert res.final.objective > res.initial.objective
    # A huge step in sgd runs into the bounds: clipped and reported.
    r["optimizer"] = {"name": "sgd", "learning_rate": 100.0, "steps": 2}
    a = make(folder, r, "clip.yaml")
    res = optimize(a)
    bounds = {p.name: p.bounds for p in a.config.parameters if p.optimize}
    for h in res.history:
        for n, (lo, hi) in bounds.items():
            assert lo <= h["params"][n] <= hi
    assert res.history[1]["clipped"]
    # Convergence on the objective change.
    r["optimizer"] = {"name": "adam", "learning_rate": 1e-6, "steps": 20,
                      "tolerance": 1e-3}  # fmt: skip
    res = optimize(make(folder, r, "tol.yaml"))
    assert res.status == "converged"
    assert res.status is Status.CONVERGED
    assert len(res.history) == 2


def test_expressions_that_do_not_compile_name_the_key(folder, raw):
    r = copy.deepcopy(raw)
    r["defines"]["pt2"] = "jet_pt[1] + no_such_thing"
    with pytest.raises(dc.ConfigError) as info:
        make(folder, r, "bad1.yaml")
    msg = str(info.value)
    assert "bad1.yaml: defines.pt2:" in msg
    assert "no_such_thing" in msg
    r = copy.deepcopy(raw)
    r["selections"][1] = {"soft_filter": "diffana::soft_cut(disc, disc_cut)"}
    with pytest.raises(dc.ConfigError, match=r"selections\[1\]\.soft_filter:"):
        make(folder, r, "bad2.yaml")


def test_an_empty_background_bin_is_reported_not_a_nan(folder, raw):
    r = copy.deepcopy(raw)
    r["observables"][0].update(expression="mjj", bins=[5000.0, 6000.0, 7000.0])
    r["observables"][0].pop("bandwidth", None)  # hard bins
    a = make(folder, r, "empty.yaml")
    with pytest.raises(ObjectiveError, match="total background is not positive"):
        a.evaluate()


def test_no_signal_at_all_is_reported_by_name(folder, raw):
    r = copy.deepcopy(raw)
    r["samples"][0].pop("xsec")
    r["samples"][0]["weight"] = "genWeight * (disc < -1.0)"  # no signal event left
    a = make(folder, r, "nosignal.yaml")
    with pytest.raises(
        ObjectiveError, match="signal samples have no events in any channel"
    ):
        a.evaluate()


def test_column_variations_rewrite_whole_names_only():
    ren = {"jet_pt": "jet_pt__jes_up", "pt": "pt__jes_up"}
    expr = "jet_pt[0] + pt * ns::pt + j.pt + p->pt + jet_pt_raw + diffana::soft_cut(pt)"
    assert rename(expr, ren) == (
        "jet_pt__jes_up[0] + pt__jes_up * ns::pt + j.pt + p->pt + jet_pt_raw + "
        "diffana::soft_cut(pt__jes_up)"
    )
    assert uses("a + jet_pt", ["jet_pt"])
    assert not uses("a + jet_pt2", ["jet_pt"])
