# SPDX-License-Identifier: BSD-3-Clause
"""The README's main job (``diffana demo``): generated samples, the shipped config,
optimized end to end, with the printed before/after and the files it writes."""

from __future__ import annotations

import json
import logging

import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("optax")
pytest.importorskip("mplhep")
pytest.importorskip("pydantic")
pytest.importorskip("uproot")

from diffana.analysis import demo

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_the_example_config_ships_with_the_package():
    path = demo.config_path()
    assert path.is_file()
    assert "discovery_significance" in path.read_text()


def test_demo_end_to_end(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="diffana"):
        rep = demo.run(tmp_path, seed=4, events=6000, steps=6, threads=None)
    out = "\n".join(caplog.messages)  # the summary is logged (the CLI prints it)
    assert "start:  disc_cut = 0.3  pt2_cut = 60   objective = " in out
    assert "(finite differences:" in out
    assert "end:    disc_cut = " in out
    # The hard analysis (step widths 0) at the start and the end, as for the AGC.
    assert "hard analysis at the start: objective = " in out
    assert "hard analysis at the end:   objective = " in out
    assert rep["hard"]["initial"]["params"]["pt_width"] == 0.0
    assert rep["hard"]["initial"]["objective"] > 0
    assert rep["steps"] == 6
    assert rep["final"]["objective"] > rep["initial"]["objective"]
    # The starting gradient next to central finite differences.
    check = rep["gradient_check"]
    for name, g in check["gradient"].items():
        assert g == pytest.approx(check["finite_difference"][name], rel=1e-5)
    # The cuts tighten towards the optimum.
    p0, p1 = rep["initial"]["params"], rep["final"]["params"]
    assert p1["disc_cut"] > p0["disc_cut"]
    assert p1["pt2_cut"] > p0["pt2_cut"]
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["final"]["objective"] == pytest.approx(rep["final"]["objective"])
    assert saved["config"]["objective"]["type"] == "discovery_significance"
    # The dijet mass in GeV, in fixed 20 GeV bins from 320 to 480 GeV.
    h = saved["histograms"]["final"]["signal"]["sr"]["jes_up"]
    assert h["edges"] == [320.0 + 20.0 * i for i in range(9)]
    assert len(h["values"]) == 8
    assert len(h["jacobian"]) == 8
    assert saved["histograms"]["param_names"] == [
        "disc_cut", "pt2_cut", "disc_width", "pt_width",
    ]  # fmt: skip
    assert len(h["jacobian"][0]) == 4
    for name in ("optimization", "histograms_sr"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 10_000
    for name in ("workspace_initial.json", "workspace_final.json", "demo.yaml"):
        assert (tmp_path / name).is_file()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "qcd.root", "signal.root", "ttbar.root",
    ]  # fmt: skip
