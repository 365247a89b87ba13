# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.asimov_significance against Cowan et al. (2011) as written,
evaluated in extended precision."""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
]


def cowan(s, b, sigma=0.0):
    """Cowan et al. (2011) as written, in extended precision (it cancels at small s)."""
    s, b, s2 = np.longdouble(s), np.longdouble(b), np.longdouble(sigma) ** 2
    if sigma == 0:
        return float(np.sqrt(2 * ((s + b) * np.log(1 + s / b) - s)))
    return float(
        np.sqrt(
            2
            * (
                (s + b) * np.log((s + b) * (b + s2) / (b * b + (s + b) * s2))
                - b * b / s2 * np.log(1 + s2 * s / (b * (b + s2)))
            )
        )
    )


@pytest.mark.parametrize(
    ("s", "b", "sigma"),
    [
        (5.0, 10.0, 0.0),
        (5.0, 10.0, 2.0),
        (0.2, 50.0, 0.0),
        (100.0, 1.0, 0.5),
        (3.0, 1e3, 30.0),
    ],
)
def test_asimov_significance_closed_form(s, b, sigma):
    unc = None if sigma == 0 else sigma
    assert float(ds.asimov_significance(s, b, unc)) == pytest.approx(
        cowan(s, b, sigma), rel=1e-12
    )
    # gradient against central differences of the closed form
    g = jax.grad(ds.asimov_significance, argnums=(0, 1))(s, b, unc)
    h = 1e-6
    for k, (ds_, db) in enumerate(((h * s, 0.0), (0.0, h * b))):
        step = ds_ + db
        up = cowan(np.longdouble(s) + ds_, np.longdouble(b) + db, sigma)
        fd = (up - cowan(np.longdouble(s) - ds_, np.longdouble(b) - db, sigma)) / (
            2 * step
        )
        assert float(g[k]) == pytest.approx(fd, rel=1e-6)


def test_asimov_significance_bins_and_small_signal():
    s, b, unc = jnp.array([1.0, 2.0]), jnp.array([10.0, 20.0]), jnp.array([1.0, 3.0])
    z = ds.asimov_significance(s, b, unc)
    expected = math.hypot(cowan(1.0, 10.0, 1.0), cowan(2.0, 20.0, 3.0))
    assert float(z) == pytest.approx(expected, rel=1e-12)
    # tiny s: no cancellation, Z -> s / sqrt(b)
    assert float(ds.asimov_significance(1e-9, 4.0)) == pytest.approx(0.5e-9, rel=1e-8)


def test_asimov_significance_safe_at_zero_signal():
    g = jax.grad(ds.asimov_significance, argnums=(0, 1, 2))(0.0, 10.0, 2.0)
    assert all(np.isfinite(float(v)) for v in g)
    assert float(g[0]) == pytest.approx(
        math.sqrt(1 / 10.0 - 4.0 / (10.0 * 14.0)), rel=1e-12
    )
    g = jax.grad(ds.asimov_significance)(jnp.zeros(3), jnp.ones(3), jnp.zeros(3))
    assert np.all(np.isfinite(g))
    assert float(ds.asimov_significance(0.0, 10.0)) == 0.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1.0, 10.0, None), "s must be >= 0"),
        ((1.0, 0.0, None), "b must be > 0"),
        ((1.0, 10.0, -1.0), "b_unc must be >= 0"),
        ((math.nan, 10.0, None), "NaN"),
        (([1.0, 2.0], [10.0], None), "shape"),
    ],
)
def test_asimov_significance_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        ds.asimov_significance(*args)
