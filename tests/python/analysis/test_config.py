# SPDX-License-Identifier: BSD-3-Clause
"""The YAML analysis description (diffana.analysis.config): every kind of error names
its key (with a "did you mean" hint for unknown keys); ``--set`` errors name the item."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")
pytest.importorskip("uproot")

from diffana.analysis import config as dc
from diffana.analysis import demo
from diffana.generators import toy as generate


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(demo.config_path().read_text())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with the demo configuration and small samples."""
    path = tmp_path_factory.mktemp("cfg")
    generate.generate(path / "samples", seed=2, events=600)
    return path


def write(folder, raw, name="c.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def error(folder, raw, **kw):
    with pytest.raises(dc.ConfigError) as info:
        dc.load(write(folder, raw), **kw)
    return str(info.value)


def test_the_demo_configuration_is_valid(folder, raw):
    cfg = dc.load(write(folder, raw))
    assert [s.name for s in cfg.samples] == ["signal", "ttbar", "qcd"]
    assert cfg.param_values == {
        "disc_cut": 0.3, "pt2_cut": 60.0, "disc_width": 0.05, "pt_width": 10.0,
    }  # fmt: skip
    relaxations = [p.name for p in cfg.parameters if p.relaxation]
    assert relaxations == ["disc_width", "pt_width"]
    assert list(cfg.defines) == ["jet_pt", "pt2", "mjj"]  # order kept
    # the dijet mass in GeV, in fixed 20 GeV bins
    assert cfg.observables[0].edges == [320.0 + 20.0 * i for i in range(9)]
    assert [s.type for s in cfg.systematics] == [
        "normsys",
        "normsys",
        "weight",
        "column",
    ]
    # Paths are relative to the configuration's folder.
    assert cfg.sample_files(cfg.samples[0]) == [str(folder / "samples" / "signal.root")]
    assert cfg.objective.maximize
    dumped = cfg.model_dump(mode="json")
    assert "base_dir" not in dumped


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda r: r["samples"][0].update(weigth="1"),
            "samples[0].weigth: unknown key; did you mean 'weight'?",
        ),
        (
            lambda r: r.update(optimiser=r.pop("optimizer")),
            "optimiser: unknown key; did you mean 'optimizer'?",
        ),
        (
            lambda r: r["parameters"][0].update(optimise=False),
            "parameters[0].optimise: unknown key; did you mean 'optimize'?",
        ),
        (
            lambda r: r.update(sampels=[]),
            "sampels: unknown key; did you mean 'samples'?",
        ),
        (lambda r: r["objective"].update(kind="x"), "objective.kind: unknown key"),
        (
            lambda r: r["systematics"][3].update(sample=["qcd"]),
            "systematics[3].sample: unknown key; did you mean 'samples'?",
        ),
        (lambda r: r["samples"][1].pop("role"), "samples[1].role: missing key"),
        (
            lambda r: r["parameters"][1].pop("bounds"),
            "parameters[1]: parameter 'pt2_cut' is optimized and needs bounds",
        ),
        (
            lambda r: r["parameters"][0].update(bounds=[1.0, 0.0]),
            "parameters[0]: bounds must be finite with lo < hi",
        ),
        (
            lambda r: r["parameters"][0].update(value=2.0),
            "parameters[0]: value 2.0 is outside its bounds",
        ),
        (
            lambda r: r["observables"][0].update(bins=[0.0, 2.0, 1.0]),
            "observables[0].bins: bin edges must be strictly increasing",
        ),
        (
            lambda r: r["observables"][0].update(bins=[1.0]),
            "observables[0].bins: bins needs at least 2 edges",
        ),
        (
            lambda r: r["observables"][0].update(bins={"low": 3, "high": -3, "n": 6}),
            "observables[0].bins: low (3.0) must be below high (-3.0)",
        ),
        (
            lambda r: r["observables"][0].update(bandwidth=0),
            "observables[0].bandwidth: Input should be greater than 0",
        ),
        (
            lambda r: r["systematics"][1].update(samples=["wjets"]),
            "systematics[1].samples: unknown sample 'wjets'",
        ),
        (
            lambda r: r["systematics"][3]["up"].update(Jet_eta="Jet_eta"),
            "up and down must vary the same defines",
        ),
        (
            lambda r: r["objective"].update(type="significance"),
            "objective.type: Input should be",
        ),
        (
            lambda r: r["optimizer"].update(name="newton"),
            "optimizer.name: unknown optimizer 'newton'",
        ),
        (lambda r: r["defines"].update({"2x": "1"}), "define '2x': '2x' is not a C++"),
        (
            lambda r: r["observables"][0].update(name="s-r"),
            "observables[0].name: 's-r' is not a channel name",
        ),
        (
            lambda r: r["observables"][0].update(fit_bins=[320.0, 330.0, 480.0]),
            "observables[0]: fit_bins [330.0] are not edges of bins",
        ),
        (
            lambda r: r["observables"][0].update(fit_bins=[1.0, -1.0]),
            "observables[0]: fit_bins must be >= 2 strictly increasing edges",
        ),
        (
            lambda r: r["observables"][0].update(weight=" "),
            "observables[0].weight: an expression must not be empty",
        ),
        (
            lambda r: r["systematics"][3].update(symmetrize=True),
            "symmetrize: true derives the down variation; remove down",
        ),
        (
            lambda r: r["systematics"][3].pop("down"),
            "down is missing (or set symmetrize: true",
        ),
        (
            lambda r: r["selections"].append({"filter": "a", "soft_filter": "b"}),
            "selections[3]: a selection needs exactly one of",
        ),
        (lambda r: r.update(poi="int"), "poi: 'int' is"),
        (
            lambda r: r.update(
                normfactors=[{"name": "k", "bounds": [0, 1], "nominal": 2}]
            ),
            "normfactors[0]: nominal 2.0 is outside its bounds [0.0, 1.0]",
        ),
        (
            lambda r: r.update(normfactors=[{"name": "k", "sample": ["qcd"]}]),
            "normfactors[0].sample: unknown key; did you mean 'samples'?",
        ),
        (
            lambda r: r.update(data={"name": "qcd", "files": "samples/qcd.root"}),
            "data.name: 'qcd' is also the name of a sample",
        ),
        (
            lambda r: r.update(data={"file": "samples/qcd.root"}),
            "data.file: unknown key; did you mean 'files'?",
        ),
        (
            lambda r: r.update(General={}, Regions=[], Samples=[]),
            "General: unknown key",
        ),
        (
            lambda r: r.update(corrections={"jec": "nothere.json"}),
            "corrections.jec: no file",
        ),
        (
            lambda r: r.update(corrections={"disc_cut": "nothere.json"}),
            "corrections.disc_cut: the name is also a parameter, define or sample",
        ),
        (
            lambda r: r.update(corrections={"jec": {"files": "x.json"}}),
            "corrections.jec.files: unknown key; did you mean 'file'?",
        ),
        (lambda r: r.update(plots={"labl": "CMS"}), "plots.labl: unknown key"),
        (
            lambda r: r["parameters"][0].update(unit=3),
            "parameters[0].unit: Input should be a valid string",
        ),
    ],
)
def test_schema_errors_name_the_key(folder, raw, edit, expected):
    bad = copy.deepcopy(raw)
    edit(bad)
    msg = error(folder, bad)
    assert expected in msg, msg
    assert str(folder / "c.yaml") in msg


def test_missing_files_and_trees(folder, raw):
    bad = copy.deepcopy(raw)
    bad["samples"][1]["files"] = "samples/nothere.root"
    msg = error(folder, bad)
    assert "samples[1] (ttbar).files:" in msg
    assert "nothere.root does not exist" in msg
    bad["samples"][1]["files"] = ["samples/nothing*.root"]
    assert "samples[1] (ttbar).files: no file matches" in error(folder, bad)
    bad = copy.deepcopy(raw)
    bad["samples"][2]["tree"] = "Evnts"
    msg = error(folder, bad)
    assert "samples[2] (qcd).tree:" in msg
    assert "has no TTree 'Evnts'" in msg
    (folder / "junk.root").write_text("not ROOT")
    bad["samples"][2].update(files="junk.root", tree="Events")
    assert "samples[2] (qcd).tree: cannot read" in error(folder, bad)
    # Without the file check the schema alone is validated.
    assert dc.load(write(folder, bad), check_files=False).samples[2].tree == "Events"


def test_globs_and_single_files(folder, raw):
    ok = copy.deepcopy(raw)
    ok["samples"][2]["files"] = ["samples/q*.root"]
    cfg = dc.load(write(folder, ok))
    assert cfg.sample_files(cfg.samples[2]) == [str(folder / "samples" / "qcd.root")]


def test_not_yaml_or_not_a_mapping(tmp_path):
    (tmp_path / "a.yaml").write_text("samples: [1, 2\n")
    with pytest.raises(dc.ConfigError, match="not valid YAML"):
        dc.load(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("- 1\n")
    with pytest.raises(dc.ConfigError, match="must be a mapping"):
        dc.load(tmp_path / "b.yaml")
    with pytest.raises(dc.ConfigError, match="cannot read the configuration"):
        dc.load(tmp_path / "none.yaml")


def test_overrides(folder, raw):
    path = write(folder, raw)
    cfg = dc.load(path, ["disc_cut=0.5", "optimizer.steps=7", "samples.0.xsec=2"])
    assert cfg.param_values["disc_cut"] == 0.5
    assert cfg.optimizer.steps == 7
    assert cfg.samples[0].xsec == 2.0
    with pytest.raises(dc.ConfigError, match="expected NAME=VALUE"):
        dc.load(path, ["disc_cut"])
    with pytest.raises(
        dc.ConfigError,
        match=r"no parameter or key 'optimiser\.steps' in the config; did you mean "
        r"'optimizer\.steps'\?",
    ):
        dc.load(path, ["optimiser.steps=3"])
    with pytest.raises(dc.ConfigError) as info:
        dc.load(path, ["disc_cut=5"])
    msg = str(info.value)
    assert "parameters[0]: value 5.0 is outside its bounds" in msg


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "disc_cut=abc",
            "--set 'disc_cut=abc': parameters[0].value: Input should be a valid number",
        ),
        (
            "optimizer.steps=-1",
            (
                "--set 'optimizer.steps=-1': optimizer.steps: Input should be greater "
                "than or equal to 0"
            ),
        ),
        ("nokey=3", "--set 'nokey=3': no parameter or key 'nokey' in the config"),
        ("disc_cutt=0.4", "did you mean 'disc_cut'?"),
        (
            "samples.1.role=both",
            "--set 'samples.1.role=both': samples[1].role: Input should be",
        ),
    ],
)
def test_set_errors_blame_the_set_item_not_the_file(folder, raw, item, expected):
    """The file is valid: what fails is the ``--set`` item, and the message says so
    first (not the file's name)."""
    path = write(folder, raw)
    msg = error(folder, raw, overrides=["pt2_cut=70", item])
    assert msg.startswith("--set "), msg
    assert expected in msg, msg
    assert str(path) not in msg
    assert "pt2_cut=70" not in msg  # the valid item is not blamed


def test_set_errors_without_a_matching_item_name_all_items(folder, raw):
    # Both parameters valid alone, together no parameter is optimized: a problem of
    # the whole configuration, so every item is named.
    r = copy.deepcopy(raw)
    for p in r["parameters"][1:]:
        p["optimize"] = False
    msg = error(folder, r, overrides=["parameters.0.optimize=false", "lumi=2"])
    assert msg.startswith(
        "--set 'parameters.0.optimize=false', --set 'lumi=2': (top level): "
    ), msg
    assert "none is optimized" in msg


def test_file_errors_still_blame_the_file_with_set_items(folder, raw):
    bad = copy.deepcopy(raw)
    bad["lumi"] = -1
    msg = error(folder, bad, overrides=["disc_cut=0.4"])
    assert msg.startswith(str(folder / "c.yaml")), msg
    assert "lumi: Input should be greater than 0" in msg


def test_objective_types_and_keys_come_from_the_table(folder, raw):
    from diffana.analysis.objectives import OBJECTIVES

    for name, spec in OBJECTIVES.items():
        r = copy.deepcopy(raw)
        r["objective"] = {"type": name}
        cfg = dc.load(write(folder, r))
        assert cfg.objective.spec is spec
        assert cfg.objective.maximize == (spec.direction.value == "maximize")
        assert set(cfg.objective.options) == set(spec.options)
    r = copy.deepcopy(raw)
    r["objective"] = {"type": "discovery_significance", "mu": 2.0}
    assert "objective: mu is for type: cls only" in error(folder, r)
    r["objective"] = {"type": "discovery_signifcance"}
    assert "did you mean 'discovery_significance'?" in error(folder, r)
