# SPDX-License-Identifier: BSD-3-Clause
"""`has_clad`: False for the PyPI ROOT wheel (built without Clad), False where only
a header named like Clad's is found (no plugin), and asking twice neither recompiles
nor leaves cling unusable."""

from __future__ import annotations

from typing import Any

import pytest

from diffana.rdf._clad import _probe_clad, has_clad

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


def test_header_without_plugin_is_not_clad(ROOT: Any, tmp_path: Any) -> None:
    # A header where Clad's is looked for, but no plugin: differentiate is a stub
    # returning 0, so the probe's derivative of x^2 is wrong and has_clad says no.
    header = tmp_path / "clad" / "Differentiator" / "Differentiator.h"
    header.parent.mkdir(parents=True)
    header.write_text(
        "#pragma once\n"
        "namespace clad {\n"
        "struct StubDerivative { double execute(double) const { return 0.0; } };\n"
        "template <class F> StubDerivative differentiate(F, int) { return {}; }\n"
        "}\n"
    )
    ROOT.gInterpreter.AddIncludePath(str(tmp_path))
    assert _probe_clad() is False
