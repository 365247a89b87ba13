# SPDX-License-Identifier: BSD-3-Clause
"""The README's main job: a soft mass window optimised on the built-in toy."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")
pytest.importorskip("mplhep")

from diffana import demo


def test_gradient_matches_finite_differences():
    import jax

    jax.config.update("jax_enable_x64", True)
    samples = demo.make_toy(seed=3, n_sig=2000, n_bkg=20000)
    theta = np.array([75.0, 105.0])
    _, grad = demo.objective(samples, theta)
    np.testing.assert_allclose(grad, demo.finite_difference(samples, theta), rtol=1e-5)


def test_demo_improves_significance_and_writes_plots(tmp_path):
    result = demo.run(tmp_path, steps=40, seed=1)
    assert result["end"]["Z"] > result["start"]["Z"]
    lo, hi = result["end"]["lo"], result["end"]["hi"]
    assert 70.0 < lo < 91.2 < hi < 110.0  # the window closed in around the peak
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["end"]["Z"] == pytest.approx(result["end"]["Z"])
    for name in ("demo_optimisation.png", "demo_mass.png"):
        assert (tmp_path / name).stat().st_size > 10_000
