# SPDX-License-Identifier: BSD-3-Clause
"""Pins the public API, so that changes to it are deliberate (as pyhf does)."""

from __future__ import annotations

import importlib

import pytest

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


SUBPACKAGE_APIS = {
    "diffana.analysis": [
        "Analysis", "Config", "ConfigError", "Direction", "Evaluation", "InputError",
        "OBJECTIVES", "ObjectiveError", "ObjectiveSpec", "OptimizationResult",
        "SampleError", "SkippedEventsError", "Status", "load", "optimize", "run",
        "run_evaluate",
    ],
    "diffana.awkward": [
        "Buffers", "JaggedDualArray", "delta_phi", "delta_r", "from_buffers",
        "from_cartesian", "histogram", "inner", "invariant_mass", "invariant_mass3",
        "linear", "pt_of_sum", "pt_of_sum3", "soft_cut", "soft_window", "to_buffers",
        "to_cartesian",
    ],
    "diffana.chain": [
        "ChainError", "EventGradient", "Record", "Statistics", "backward",
        "contract", "infer", "read_events", "read_gradient", "read_histograms",
        "read_result", "read_values", "seed_cotangent", "select", "sha256_file",
        "write_yields",
    ],
    "diffana.fill": ["histogram", "histogram2d"],
    "diffana.generators": [
        "KINDS", "agc", "default_events", "generate", "make_chunk", "make_sample",
        "samples", "toy",
    ],
    "diffana.hist": ["GradHistogram", "GradHistogram2D"],
    "diffana.jax": ["backend", "cut", "hist", "hist_weighted", "window"],
    "diffana.nn": [
        "ACTIVATIONS", "Jets", "Layer", "Network", "POOLS", "cpp_spec", "declare",
        "expression", "load_weights", "save_weights",
    ],
    "diffana.rdf": [
        "AdjointPass", "CompileError", "DiffFrame", "EventLoopError", "GradHistResult",
        "adjoint_gradient", "adjoint_pass", "has_clad",
    ],
    "diffana.soft": ["soft_cut", "soft_window"],
    "diffana.stats": [
        "Model", "WorkspaceError", "asimov_significance", "expected_cls",
        "expected_cls_band", "expected_discovery_significance",
        "expected_poi_uncertainty", "expected_upper_limit", "fit", "hypotest",
        "observed_cls", "observed_data", "observed_discovery_significance",
        "observed_upper_limit", "to_pyhf_json", "upper_limit", "value_and_grad_yields",
    ],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(SUBPACKAGE_APIS))
def test_subpackage_api(module):
    """Each layer's public names, pinned (importing needs its optional world)."""
    needs = {
        "diffana.analysis": "pydantic", "diffana.awkward": "awkward",
        "diffana.chain": "pydantic",
        "diffana.generators": "uproot", "diffana.jax": "jax", "diffana.stats": "jax",
    }  # fmt: skip
    if module in needs:
        pytest.importorskip(needs[module])
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == SUBPACKAGE_APIS[module]
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name}"
