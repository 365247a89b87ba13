# SPDX-License-Identifier: BSD-3-Clause
"""Runs every ROOT macro in macros/ headless and checks what it prints."""

from __future__ import annotations

import pathlib
import re

import pytest

MACROS = pathlib.Path(__file__).resolve().parents[3] / "macros"
pytestmark = pytest.mark.root


def test_every_macro_is_tested():
    here = {"ad01_dual_basics.C"}
    # The RDataFrame macros need the CMS files: tests/python/rdf/test_rdf_macros.py.
    rdf = {"rdf01_jet_calibration.C", "rdf02_mass_window.C", "rdf03_trijet_mass.C"}
    assert {p.name for p in MACROS.glob("*.C")} == here | rdf


def test_ad01_dual_basics(run_macro):
    out = run_macro("ad01_dual_basics.C")
    numbers = {
        key: [float(v) for v in re.findall(r"-?\d+\.\d+", line)]
        for key, line in (
            (line.split("=")[0].strip(), line)
            for line in out.splitlines()
            if "=" in line
        )
    }
    d_scale, fd_scale = numbers["d/d(scale)"]
    d_cut, fd_cut = numbers["d/d(cut)"]
    assert d_scale == pytest.approx(fd_scale, rel=1e-6)
    assert d_cut == pytest.approx(fd_cut, rel=1e-6, abs=1e-8)
    # The weighted mass is about 78 GeV (two muons of 46 and 39 GeV, wide opening).
    assert numbers["weighted mass"][0] > 0
