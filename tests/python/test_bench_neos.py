# SPDX-License-Identifier: BSD-3-Clause
"""Smoke test of benchmarks/bench_neos.py at tiny sizes.

The JAX-only implementation (relaxed-like soft histogram in jax.numpy) and the two
diffana ones (diffana.jax kernels in jit(value_and_grad); diffana's forward mode +
the chain rule J^T g) solve the same toy problem with the same statistics code: at
the start point they must give the same objective and gradient, and a few adam steps
must improve the objective for each.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="the neos benchmark needs JAX")
pytest.importorskip("optax", reason="the neos benchmark needs optax")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

pytestmark = [pytest.mark.jax, pytest.mark.slow]

STEPS = 3
EVENTS = 500


@pytest.fixture(scope="module")
def bench(repo_root):
    """benchmarks/bench_neos.py as a module."""
    path = repo_root / "benchmarks" / "bench_neos.py"
    spec = importlib.util.spec_from_file_location("bench_neos", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(bench):
    """A few optimisation steps of each implementation, in float64."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        events = bench.make_events(EVENTS)
        return {
            impl: bench.optimize(impl, events, STEPS) for impl in bench.IMPLEMENTATIONS
        }
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_same_objective_and_gradient_at_start(bench, results):
    ref = results["jax"]
    assert np.isfinite(ref["objective_before"])
    assert ref["objective_before"] > 0
    assert np.all(np.isfinite(ref["gradient_before"]))
    for impl in bench.IMPLEMENTATIONS[1:]:
        res = results[impl]
        np.testing.assert_allclose(
            res["objective_before"], ref["objective_before"], rtol=1e-6, err_msg=impl
        )
        np.testing.assert_allclose(
            res["gradient_before"],
            ref["gradient_before"],
            rtol=1e-6,
            atol=1e-9,
            err_msg=impl,
        )


def test_each_optimisation_improves(bench, results):
    for impl in bench.IMPLEMENTATIONS:
        res = results[impl]
        assert res["steps"] == STEPS
        assert res["objective_after"] > res["objective_before"], impl
        assert len(res["objectives"]) == STEPS + 1


def test_table(bench, results):
    rows = [
        {"n": EVENTS, "impl": impl, "result": {**res, "extra_mb": 0.0}}
        for impl, res in results.items()
    ]
    rows.append({"n": EVENTS, "impl": "x", "result": {"error": "timeout"}})
    text = bench.table(rows)
    assert text.count("\n") == len(rows) + 1
    assert "diffana_fwd" in text
