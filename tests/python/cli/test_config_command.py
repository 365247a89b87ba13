# SPDX-License-Identifier: BSD-3-Clause
"""``diffana config --reference`` (the configuration reference) and ``diffana config
--from-cabinetry FILE [--out FILE]`` (a cabinetry configuration as diffana YAML)."""

from __future__ import annotations

import copy
import os

import pytest

yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
pytest.importorskip("uproot")

from diffana.analysis import config as dc
from diffana.analysis import reference
from diffana.cli import main
from diffana.generators import toy as generate

CABINETRY = {
    "General": {"Measurement": "m", "POI": "mu_sig", "InputPath": "ntuples/{SamplePath}",
                "HistogramFolder": "histograms/"},
    "Regions": [{"Name": "SR", "Variable": "disc", "Binning": [0.0, 0.5, 1.0],
                 "Filter": "nJet >= 2"}],
    "Samples": [
        {"Name": "signal", "Tree": "Events", "SamplePath": "signal.root",
         "Weight": "genWeight"},
        {"Name": "qcd", "Tree": "Events", "SamplePath": "qcd.root"},
    ],
    "NormFactors": [{"Name": "mu_sig", "Samples": "signal"}],
}  # fmt: skip


def test_reference_prints_the_generated_text(capsys):
    assert main(["config", "--reference"]) == 0
    assert capsys.readouterr().out == reference.render()


@pytest.fixture
def cwd(tmp_path):
    generate.generate(
        tmp_path / "ntuples", seed=3, events=200, samples=["signal", "qcd"]
    )
    (tmp_path / "cab.yml").write_text(yaml.safe_dump(CABINETRY))
    old = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


def test_from_cabinetry_writes_diffana_yaml_to_edit(cwd, capsys):
    (cwd / "analysis").mkdir()
    rc = main(["config", "--from-cabinetry", "cab.yml", "--out", "analysis/d.yaml"])
    assert rc == 0
    assert "add the parameters to optimize" in capsys.readouterr().out
    text = (cwd / "analysis" / "d.yaml").read_text()
    assert text.startswith("# Converted from the cabinetry configuration cab.yml")
    raw = yaml.safe_load(text)
    # Paths are relative to the written file's folder.
    assert raw["samples"][0]["files"] == ["../ntuples/signal.root"]
    assert raw["selections"] == [{"filter": "nJet >= 2"}]
    assert raw["poi"] == "mu_sig"
    # Without parameters it is not yet an analysis; with one it is, files included.
    with pytest.raises(dc.ConfigError, match="parameters: missing key"):
        dc.load(cwd / "analysis" / "d.yaml")
    raw["parameters"] = [{"name": "disc_cut", "value": 0.5, "bounds": [0.0, 0.9]}]
    raw["selections"].append({"soft_filter": "diffana::soft_cut(disc, disc_cut, 20.0)"})
    (cwd / "analysis" / "d.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    cfg = dc.load(cwd / "analysis" / "d.yaml")
    assert [s.role for s in cfg.samples] == ["signal", "background"]
    [path] = cfg.sample_files(cfg.samples[1])
    assert os.path.samefile(path, cwd / "ntuples" / "qcd.root")


def test_from_cabinetry_prints_without_out(cwd, capsys):
    assert main(["config", "--from-cabinetry", "cab.yml"]) == 0
    raw = yaml.safe_load(capsys.readouterr().out)
    assert raw["samples"][1]["files"] == ["ntuples/qcd.root"]


def test_from_cabinetry_errors_are_one_line(cwd, capsys):
    bad = copy.deepcopy(CABINETRY)
    bad["Regions"][0].pop("Binning")
    (cwd / "bad.yml").write_text(yaml.safe_dump(bad))
    assert main(["config", "--from-cabinetry", "bad.yml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "diffana config: bad.yml: Regions[0]: no Variable and Binning"
    )
    assert "\n" not in err


def test_usage_errors(capsys):
    with pytest.raises(SystemExit) as info:
        main(["config", "--out", "x.yaml"])
    assert info.value.code == 2
    assert "--out goes with --from-cabinetry" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["config", "--reference", "--cflags"])


@pytest.mark.parametrize("command", ["optimize", "evaluate"])
def test_help_points_to_the_reference(command, capsys):
    pytest.importorskip("jax")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "docs/config.md" in out
    assert "diffana config --reference" in out
