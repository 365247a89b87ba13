# SPDX-License-Identifier: BSD-3-Clause
"""A cabinetry configuration (ntuple inputs) read as a diffana configuration
(diffana.analysis.cabinetry): the converted analysis fills the same templates as
cabinetry's own template building on the same ntuples, and every part without a
diffana equivalent is refused naming the cabinetry key."""

from __future__ import annotations

import copy

import numpy as np
import pytest

yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
pytest.importorskip("uproot")

from diffana.analysis import cabinetry as dcab
from diffana.analysis import config as dc
from diffana.generators import toy as generate

pytestmark = pytest.mark.filterwarnings(
    "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
)

#: A cabinetry configuration in cabinetry's schema: two regions with different
#: filters, a data sample, a signal normfactor (the POI) and a free background
#: normfactor, a Normalization, a two-sided weight and a one-sided variable
#: systematic.
CABINETRY = {
    "General": {
        "Measurement": "toy",
        "POI": "Signal_norm",
        "InputPath": "samples/{SamplePath}",
        "HistogramFolder": "histograms/",
    },
    "Regions": [
        {"Name": "SR", "Variable": "disc", "Binning": [0.0, 0.25, 0.5, 0.75, 1.0],
         "Filter": "nJet >= 3"},
        {"Name": "CR", "Variable": "disc", "Binning": [0.0, 0.5, 1.0],
         "Filter": "nJet < 3"},
    ],
    "Samples": [
        {"Name": "Data", "Tree": "Events", "SamplePath": "data.root", "Data": True},
        {"Name": "Signal", "Tree": "Events", "SamplePath": "signal.root",
         "Weight": "genWeight"},
        {"Name": "Background", "Tree": "Events", "SamplePath": ["ttbar.root", "qcd.root"],
         "Weight": "genWeight"},
    ],
    "NormFactors": [
        {"Name": "Signal_norm", "Samples": "Signal", "Nominal": 1, "Bounds": [0, 10]},
        {"Name": "Background_norm", "Samples": "Background", "Bounds": [0.5, 2]},
    ],
    "Systematics": [
        {"Name": "Luminosity", "Type": "Normalization",
         "Up": {"Normalization": 0.05}, "Down": {"Normalization": -0.05}},
        {"Name": "Pileup", "Type": "NormPlusShape", "Samples": "Background",
         "Up": {"Weight": "genWeight * puWeightUp / puWeight"},
         "Down": {"Weight": "genWeight * puWeightDown / puWeight"}},
        {"Name": "Disc_scale", "Type": "NormPlusShape",
         "Up": {"Variable": "disc * 0.97"}, "Down": {"Symmetrize": True}},
    ],
}  # fmt: skip

#: What a cabinetry configuration lacks: a differentiable parameter (unused here,
#: so that the yields are cabinetry's).
EXTRA = {"parameters": [{"name": "unused", "value": 0.0, "bounds": [-1.0, 1.0]}]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("cabinetry")
    generate.generate(path / "samples", seed=5, events=1500)
    generate.generate(path / "other", seed=6, events=300, samples=["qcd"])
    (path / "other" / "qcd.root").rename(path / "samples" / "data.root")
    (path / "cab.yml").write_text(yaml.safe_dump(CABINETRY, sort_keys=False))
    return path


def test_the_example_is_valid_for_cabinetry():
    cabinetry = pytest.importorskip("cabinetry")
    assert cabinetry.configuration.validate(copy.deepcopy(CABINETRY))


def test_conversion(folder):
    raw = dcab.to_diffana(CABINETRY, base_dir=folder, relative_to=folder)
    assert raw["poi"] == "Signal_norm"
    assert [(s["name"], s["role"], s["files"]) for s in raw["samples"]] == [
        ("Signal", "signal", ["samples/signal.root"]),
        ("Background", "background", ["samples/ttbar.root", "samples/qcd.root"]),
    ]
    assert raw["data"] == {"name": "Data", "files": ["samples/data.root"],
                           "tree": "Events", "weight": "1.0"}  # fmt: skip
    assert raw["normfactors"] == [
        {"name": "Signal_norm", "samples": ["Signal"], "nominal": 1.0,
         "bounds": [0.0, 10.0]},
        {"name": "Background_norm", "samples": ["Background"], "bounds": [0.5, 2.0]},
    ]  # fmt: skip
    # Different filters per region: each is its channel's weight.
    assert [o["weight"] for o in raw["observables"]] == [
        "((nJet >= 3) ? 1.0 : 0.0)",
        "((nJet < 3) ? 1.0 : 0.0)",
    ]
    # The variable override varies the channels' variables (defines).
    assert raw["defines"] == {"var_SR": "disc", "var_CR": "disc"}
    lumi, pileup, scale = raw["systematics"]
    assert lumi == {"name": "Luminosity", "type": "normsys", "hi": 1.05, "lo": 0.95}
    assert pileup["type"] == "weight"
    assert pileup["samples"] == ["Background"]
    assert scale == {"name": "Disc_scale", "type": "column", "symmetrize": True,
                     "up": {"var_SR": "disc * 0.97", "var_CR": "disc * 0.97"}}  # fmt: skip
    # The converted configuration is valid once it has a parameter.
    cfg = dcab.from_cabinetry(folder / "cab.yml", EXTRA, base_dir=folder)
    assert cfg.poi_normfactor is not None
    assert cfg.sample_files(cfg.samples[1])[0] == str(folder / "samples" / "ttbar.root")


def test_the_templates_are_cabinetrys(folder, monkeypatch):
    """cabinetry's own template building (uproot) and workspace on the same
    ntuples: the same nominal, varied and data histograms, and the same
    statistical uncertainties."""
    cabinetry = pytest.importorskip("cabinetry")
    pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    pytest.importorskip("jax")
    from diffana.analysis import Analysis

    monkeypatch.chdir(folder)  # cabinetry's paths are relative to the current folder
    cab = copy.deepcopy(CABINETRY)
    cabinetry.templates.build(cab, method="uproot")
    cabinetry.templates.postprocess(cab)
    ws = cabinetry.workspace.build(cab)

    cfg = dcab.from_cabinetry(folder / "cab.yml", EXTRA, base_dir=folder)
    a = Analysis(cfg)
    histos = a.histograms(cfg.param_values)
    for region in cab["Regions"]:
        for sample in cab["Samples"]:
            h = histos[sample["Name"]][region["Name"]]
            ref = cabinetry.histo.Histogram.from_config(
                "histograms", region, sample, {}, modified=False
            )
            np.testing.assert_allclose(h["nominal"].values, ref.yields, rtol=1e-10)
            np.testing.assert_allclose(
                np.sqrt(h["nominal"].variances), ref.stdev, rtol=1e-10
            )
            for sy in cab["Systematics"][1:]:
                if (
                    sample.get("Data")
                    or sy.get("Samples", sample["Name"]) != sample["Name"]
                ):
                    continue
                up = cabinetry.histo.Histogram.from_config(
                    "histograms", region, sample, sy, template="Up", modified=False
                )
                name = sy["Name"]
                np.testing.assert_allclose(
                    h[f"{name}_up"].values, up.yields, rtol=1e-10
                )
                if sy["Down"].get("Symmetrize"):
                    down = 2 * ref.yields - up.yields
                else:
                    down = cabinetry.histo.Histogram.from_config(
                        "histograms",
                        region,
                        sample,
                        sy,
                        template="Down",
                        modified=False,
                    ).yields
                np.testing.assert_allclose(h[f"{name}_down"].values, down, rtol=1e-10)
    # The workspaces agree on the observations, the nominal yields, the POI and the
    # normfactors' settings.
    ours = a.model.plain_workspace(histos)
    for o_ours, o_ref in zip(ours["observations"], ws["observations"], strict=True):
        assert o_ours["name"] == o_ref["name"]
        assert o_ours["data"] == pytest.approx(o_ref["data"], rel=1e-12)
    for c_ours, c_ref in zip(ours["channels"], ws["channels"], strict=True):
        assert c_ours["name"] == c_ref["name"]
        for s_ours, s_ref in zip(c_ours["samples"], c_ref["samples"], strict=True):
            assert s_ours["data"] == pytest.approx(s_ref["data"], rel=1e-10)
    ref_config = ws["measurements"][0]["config"]
    assert ours["measurements"][0]["config"]["poi"] == ref_config["poi"]
    bounds = {p["name"]: p.get("bounds") for p in ref_config["parameters"]}
    for p in ours["measurements"][0]["config"]["parameters"]:
        assert p["bounds"] == bounds[p["name"]] or bounds[p["name"]] is None


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["Regions"][0].pop("Variable"),
            "Regions[0]: no Variable and Binning",
        ),
        (
            lambda c: c["Samples"][1].pop("Tree"),
            "Samples[1]: no Tree: histogram inputs",
        ),
        (
            lambda c: c["General"].update(VariationPath="x"),
            "General.VariationPath: histogram inputs are not supported",
        ),
        (
            lambda c: c["Systematics"][1]["Up"].update(Tree="Other"),
            (
                "Systematics[1].Up.Tree: a NormPlusShape override of Tree has no diffana "
                "equivalent"
            ),
        ),
        (
            lambda c: c["Systematics"][1].update(
                Smoothing={"Algorithm": "353QH, twice"}
            ),
            "Systematics[1].Smoothing: diffana does not smooth templates",
        ),
        (
            lambda c: c["Samples"][1].update(Regions="SR"),
            "Samples[1].Regions: acting in only some regions has no diffana equivalent",
        ),
        (
            lambda c: c["Samples"][1].update(Filter="nJet > 2"),
            "Samples[1].Filter: a sample's Filter replaces the regions' Filter",
        ),
        (
            lambda c: c["General"].update(POI="nothing"),
            "General.POI: 'nothing' is not a NormFactor",
        ),
        (
            lambda c: c["General"].update(Fixed=[{"Name": "Luminosity", "Value": 0}]),
            "General.Fixed[0].Name: 'Luminosity' is not a NormFactor",
        ),
        (
            lambda c: c["Regions"][0].update(Name="Signal region"),
            "Regions[0].Name: 'Signal region' is not a channel name",
        ),
        (
            lambda c: c["Systematics"][0].update(Name="lumi-unc"),
            "Systematics[0].Name: 'lumi-unc' is not a C++ identifier",
        ),
        (
            lambda c: c["Regions"][1].update(RegionPath="cr"),
            "Regions[1].RegionPath: regions read different files",
        ),
        (
            lambda c: c["Regions"][0].update(Filter="disc**2 > 0.1"),
            "Regions[0].Filter: 'disc**2 > 0.1' uses ** (Python)",
        ),
        (
            lambda c: c["Samples"][2].update(DisableStaterror=True),
            "Samples[2].DisableStaterror: on only some samples",
        ),
        (
            lambda c: c["Regions"][0].update(Binnig=[0, 1]),
            "not a valid cabinetry configuration: Regions[0]: Additional properties",
        ),
    ],
)
def test_unmappable_parts_name_the_cabinetry_key(edit, expected):
    cab = copy.deepcopy(CABINETRY)
    edit(cab)
    with pytest.raises(dc.ConfigError) as info:
        dcab.from_cabinetry(cab, EXTRA)
    assert expected in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_without_parameters_the_error_says_how_to_add_them():
    with pytest.raises(dc.ConfigError, match="has no differentiable parameters"):
        dcab.from_cabinetry(CABINETRY)


def test_diffana_load_points_a_cabinetry_file_to_the_conversion(folder):
    with pytest.raises(dc.ConfigError, match="--from-cabinetry"):
        dc.load(folder / "cab.yml")


def test_extra_keys_merge_over_the_conversion(folder):
    extra = {
        **EXTRA,
        "parameters": [{"name": "njet_cut", "value": 2.5, "bounds": [1.5, 4.5]}],
        "defines": {"soft_sr": "diffana::soft_cut(nJet, njet_cut, 5.0)"},
        "objective": {"type": "poi_uncertainty"},
    }
    cfg = dcab.from_cabinetry(folder / "cab.yml", extra, base_dir=folder)
    assert cfg.defines == {"var_SR": "disc", "var_CR": "disc",
                           "soft_sr": "diffana::soft_cut(nJet, njet_cut, 5.0)"}  # fmt: skip
    assert cfg.objective.type == "poi_uncertainty"
    assert cfg.param_values == {"njet_cut": 2.5}
