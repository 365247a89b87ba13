# SPDX-License-Identifier: BSD-3-Clause
"""Pins the public API, so that changes to it are deliberate (as pyhf does)."""

from __future__ import annotations

import diffana
import diffana.physics
import diffana.testing


def test_dir_diffana():
    assert dir(diffana) == [
        "DualArray",
        "GradHistogram",
        "GradHistogram2D",
        "__version__",
        "get_cmake_dir",
        "get_include",
        "get_lib_dir",
        "histogram",
        "histogram2d",
        "physics",
        "soft",
        "soft_cut",
        "soft_window",
        "testing",
    ]


def test_all_names_exist():
    for name in diffana.__all__:
        assert hasattr(diffana, name), name


def test_physics_api():
    assert diffana.physics.__all__ == [
        "delta_phi",
        "delta_r",
        "from_cartesian",
        "invariant_mass",
        "invariant_mass3",
        "pt_of_sum",
        "pt_of_sum3",
        "to_cartesian",
    ]


def test_testing_api():
    assert diffana.testing.__all__ == ["check_grad", "numerical_jacobian"]


def test_core_submodules():
    from diffana import _core

    assert {"hist", "soft", "physics"} <= set(dir(_core))
    assert {"fill_1d", "fill_2d"} <= set(dir(_core.hist))
    assert {"cut", "window"} <= set(dir(_core.soft))


def test_version():
    assert diffana.__version__ == "0.1.0"
    assert diffana._core.__version__ == diffana.__version__
