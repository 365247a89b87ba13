# SPDX-License-Identifier: BSD-3-Clause
"""The keys of the statistical model in the configuration: ``poi`` (the name of the
parameter of interest), ``normfactors`` (free-floating normalizations with nominal
value, bounds and ``fixed``) and ``data`` (observed data, histogrammed by the same
event-loop code: the workspace's observations, with their Jacobian)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
pyhf = pytest.importorskip("pyhf")

from diffana.analysis import Analysis
from diffana.analysis import config as dc
from diffana.analysis.workspace import StatModel
from diffana.generators import toy as generate

pytestmark = [
    pytest.mark.root,
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

CONFIG = {
    "lumi": 1000.0,
    "samples": [
        {"name": "signal", "files": "samples/signal.root", "weight": "genWeight",
         "xsec": 0.05, "role": "signal"},
        {"name": "ttbar", "files": "samples/ttbar.root", "weight": "genWeight",
         "xsec": 5.0, "role": "background"},
    ],
    "parameters": [{"name": "disc_cut", "value": 0.3, "bounds": [0.0, 0.95]}],
    "defines": {"pt2": "Jet_pt[1]"},
    "selections": [
        {"filter": "nJet >= 2"},
        {"soft_filter": "diffana::soft_cut(disc, disc_cut, 20.0)"},
    ],
    "observables": [
        {"name": "sr", "expression": "pt2", "bins": {"low": 20.0, "high": 200.0, "n": 4},
         "bandwidth": 10.0, "overflow": "fold"},
    ],
    "systematics": [
        {"name": "lumi", "type": "normsys", "lo": 0.98, "hi": 1.02},
        {"name": "pileup", "type": "weight", "up": "genWeight * puWeightUp / puWeight",
         "down": "genWeight * puWeightDown / puWeight"},
    ],
    "objective": {"type": "discovery_significance"},
}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("model_keys")
    generate.generate(path / "samples", seed=4, events=2000)
    return path


def load(folder, raw, name="c.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return dc.load(path)


def with_data(raw):
    """``raw`` with the qcd file as data and as a background (weight 1 both)."""
    out = copy.deepcopy(raw)
    out["samples"].append({"name": "qcd", "files": "samples/qcd.root",
                           "role": "background"})  # fmt: skip
    out["data"] = {"files": "samples/qcd.root"}
    return out


@pytest.fixture(scope="module")
def base(folder):
    """The analysis with data, evaluated once: the other configurations of this
    file reuse its event loops (`Analysis(..., graph=)`), only their statistical
    models differ."""
    a = Analysis(load(folder, with_data(CONFIG)))
    return a, a.evaluate()


def variant(folder, base, edit):
    raw = with_data(CONFIG)
    edit(raw)
    a = Analysis(load(folder, raw, "variant.yaml"), graph=base[0].graph)
    return a, a.evaluation(base[1].params, base[1].histograms)


def test_poi_name_and_normfactors_reach_the_workspace_and_the_fit(folder, base):
    normfactors = [
        {"name": "k_ttbar", "samples": ["ttbar"], "nominal": 1.0, "bounds": [0.5, 2.0]},
        {"name": "k_fixed", "nominal": 1.0, "fixed": True},
    ]
    a, ev = variant(
        folder, base, lambda r: r.update(poi="mu_sig", normfactors=normfactors)
    )
    ws = a.model.plain_workspace(ev.histograms)
    measurement = ws["measurements"][0]["config"]
    assert measurement["poi"] == "mu_sig"
    assert measurement["parameters"] == [
        {"name": "k_ttbar", "inits": [1.0], "bounds": [[0.5, 2.0]], "fixed": False},
        {"name": "k_fixed", "inits": [1.0], "bounds": [[0.0, 10.0]], "fixed": True},
    ]
    by_sample = {
        s["name"]: [m["name"] for m in s["modifiers"] if m["type"] == "normfactor"]
        for s in ws["channels"][0]["samples"]
    }
    assert by_sample == {
        "signal": ["mu_sig", "k_fixed"],
        "ttbar": ["k_ttbar", "k_fixed"],
        "qcd": ["k_fixed"],
    }
    model = pyhf.Workspace(ws).model()
    assert model.config.poi_name == "mu_sig"
    assert set(model.config.par_names) >= {"mu_sig", "k_ttbar", "k_fixed"}
    # A free background normalization is profiled: the significance drops.
    assert ev.objective < base[1].objective
    # The gradient is still the derivative of the objective (finite differences
    # re-run the event loops).
    fd = a.finite_difference(ev.params, ["disc_cut"], rel_step=1e-3)["disc_cut"]
    assert ev.gradient["disc_cut"] == pytest.approx(fd, rel=2e-3)


def test_the_poi_may_be_a_declared_normfactor(folder, base):
    nf = [{"name": "mu", "samples": ["signal"], "bounds": [-5, 10]}]
    a, ev = variant(folder, base, lambda r: r.update(normfactors=nf))
    ws = a.model.plain_workspace(ev.histograms)
    mods = [m["name"] for m in ws["channels"][0]["samples"][0]["modifiers"]]
    assert mods.count("mu") == 1
    assert ws["measurements"][0]["config"]["parameters"][0]["bounds"] == [[-5.0, 10.0]]
    assert ev.objective == pytest.approx(base[1].objective, rel=1e-6)


def test_data_are_the_observations_with_their_jacobian(base):
    a, ev = base
    assert a.variations("data") == ["nominal"]  # no systematic acts on data
    data = ev.histograms["data"]["sr"]["nominal"]
    # The same histogram as the same file filled as a background (weight 1).
    qcd = ev.histograms["qcd"]["sr"]["nominal"]
    np.testing.assert_allclose(data.values, qcd.values, rtol=1e-12)
    np.testing.assert_allclose(data.jacobian, qcd.jacobian, rtol=1e-12)
    assert np.any(data.jacobian != 0)  # the soft cut moves the data too
    ws = a.model.plain_workspace(ev.histograms)
    assert ws["observations"] == [{"name": "sr", "data": data.values.tolist()}]
    assert [s["name"] for s in ws["channels"][0]["samples"]] == [
        "signal",
        "ttbar",
        "qcd",
    ]
    leaves = a.model.leaves(ev.histograms)
    assert "data/sr/nominal" in leaves
    assert "data/sr/variances" not in leaves
    assert ev.events["data"] == ev.events["qcd"] > 0


def test_the_expected_objectives_ignore_the_data(base):
    # They use Asimov data: the gradient w.r.t. the data's histogram is 0, that
    # w.r.t. the simulated samples is not.
    a, ev = base
    _, grads = a.objective_value(ev.histograms)
    assert np.all(grads["data/sr/nominal"] == 0)
    assert np.any(grads["ttbar/sr/nominal"] != 0)


def test_data_observations_stay_arrays_under_jit(folder):
    import jax
    import jax.numpy as jnp

    raw = copy.deepcopy(CONFIG)
    raw["data"] = {"name": "obs", "files": "samples/qcd.root"}
    raw.update(systematics=[], mc_stat=False)
    model = StatModel(load(folder, raw, "obs.yaml"))
    leaves = {
        "signal/sr/nominal": jnp.ones(4),
        "ttbar/sr/nominal": jnp.full(4, 5.0),
        "obs/sr/nominal": jnp.arange(4.0),
    }

    def total_observed(ls):
        ws = model.inputs(ls).workspace()
        return jnp.sum(ws["observations"][0]["data"] ** 2)

    g = jax.grad(total_observed)(leaves)
    np.testing.assert_allclose(g["obs/sr/nominal"], 2 * np.arange(4.0))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: r.update(poi="2mu"), "poi: '2mu' is not a C++ identifier"),
        (
            lambda r: r.update(normfactors=[{"name": "k", "samples": ["wjets"]}]),
            "normfactors[0].samples: unknown sample 'wjets'",
        ),
        (
            lambda r: r.update(normfactors=[{"name": "k", "bounds": [2, 1]}]),
            "normfactors[0]: bounds must be finite with lo < hi",
        ),
        (
            lambda r: r.update(normfactors=[{"name": "k", "nominal": 20}]),
            "normfactors[0]: nominal 20.0 is outside its bounds [0.0, 10.0]",
        ),
        (
            lambda r: r.update(normfactors=[{"name": "lumi"}]),
            "normfactors[0].name: 'lumi' is also a systematic's name",
        ),
        (
            lambda r: r.update(normfactors=[{"name": "mu", "fixed": True}]),
            "normfactors[0].fixed: 'mu' is the POI",
        ),
        (
            lambda r: r.update(normfactors=[{"name": "k", "fixd": True}]),
            "normfactors[0].fixd: unknown key; did you mean 'fixed'?",
        ),
        (lambda r: r.update(poi="lumi"), "poi: 'lumi' is also a systematic's name"),
        (
            lambda r: r.update(data={"name": "ttbar", "files": "samples/qcd.root"}),
            "data.name: 'ttbar' is also the name of a sample",
        ),
        (
            lambda r: r.update(data={"files": "samples/qcd.root", "xsec": 1.0}),
            "data.xsec: unknown key",
        ),
        (
            lambda r: r["samples"][1].update(role="data"),
            (
                "samples[1].role: data is not a role of samples; the data sample goes "
                "under the top-level key data"
            ),
        ),
        (
            lambda r: (
                r.update(data={"files": "samples/qcd.root"}),
                r["systematics"][0].update(samples=["data"]),
            ),
            "systematics[0].samples: 'data' is the data sample",
        ),
    ],
)
def test_errors_name_the_key(folder, edit, expected):
    bad = copy.deepcopy(CONFIG)
    edit(bad)
    with pytest.raises(dc.ConfigError) as info:
        load(folder, bad, "bad.yaml")
    assert expected in str(info.value), str(info.value)


def test_missing_data_files_name_the_key(folder):
    bad = copy.deepcopy(CONFIG)
    bad["data"] = {"files": "samples/nothere.root"}
    with pytest.raises(dc.ConfigError, match=r"data \(data\)\.files: .*does not exist"):
        load(folder, bad, "nodata.yaml")
