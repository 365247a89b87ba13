# SPDX-License-Identifier: BSD-3-Clause
"""`has_clad`: False for the PyPI ROOT wheel (built without Clad), and asking twice
neither recompiles nor leaves cling unusable."""

from __future__ import annotations

from typing import Any

import pytest

from diffana.rdf._clad import has_clad

pytestmark = [pytest.mark.root]


def test_pypi_root_has_no_clad(ROOT: Any) -> None:
    if ROOT.gSystem.AccessPathName(  # False when the file exists
        f"{ROOT.gROOT.GetEtcDir()}/cling/plugins/include/clad"
    ):
        assert has_clad() is False
    else:
        assert has_clad() is True


def test_cached_and_interpreter_still_usable(ROOT: Any) -> None:
    first = has_clad()
    assert has_clad() is first
    assert has_clad.cache_info().hits >= 1
    assert ROOT.gInterpreter.Declare("int diffana_test_clad_probe() { return 41 + 1; }")
    assert ROOT.diffana_test_clad_probe() == 42
