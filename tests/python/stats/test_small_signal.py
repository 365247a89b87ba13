# SPDX-License-Identifier: BSD-3-Clause
"""Expected results at small (down to 1e-12 per bin) and large signals.

On Asimov data q is a difference of two likelihoods ~n apart by ~s**2 / b, so
that computed as such it loses every digit at small s. For pyhf's
``uncorrelated_background`` (shapesys) the expected discovery significance has a
closed form -- Cowan et al.'s Z_A with the uncertainty sigma_b, bin by bin, in
quadrature -- which mpmath evaluates to 50 digits. pyhf's own value is exact
only where q0 is far above its fit tolerance (SLSQP, ~1e-8 in q), so it is the
reference at ordinary signals only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")
mpmath = pytest.importorskip("mpmath", reason="the reference is mpmath")

import jax.numpy as jnp
from mpmath import mp, mpf

import diffana.stats as ds

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

BKG = (50.0, 52.0)
UNC = (3.0, 7.0)


def closed_form(signal):
    """Z_A of the shapesys model: sqrt(sum_i Z_A(s_i, b_i, sigma_i)**2), 50 digits.

    With u = sigma**2 / b and the profiled background B = b + s u / (1 + u),
    Z**2 / 2 = n log(n / B) - (n - B) + tau (b log(b / B) - (b - B)), tau = b /
    sigma**2, n = s + b: the same as Cowan et al.'s formula, taken at 300
    digits so that nothing cancels.
    """
    total = mpf(0)
    with mp.workdps(300):
        for s, b, sig in zip(signal, BKG, UNC, strict=True):
            s, b, sig = mpf(s), mpf(b), mpf(sig)
            s2 = sig * sig
            total += 2 * (
                (s + b) * mpmath.log((s + b) * (b + s2) / (b * b + (s + b) * s2))
                - b * b / s2 * mpmath.log1p(s2 * s / (b * (b + s2)))
            )
        z = mpmath.sqrt(total)
    with mp.workdps(50):
        return +z


@pytest.fixture(scope="module")
def discovery(workspaces):
    return jax.jit(
        jax.value_and_grad(
            lambda s: ds.expected_discovery_significance(workspaces.simple(s))
        )
    )


@pytest.mark.parametrize("scale", [1e-12, 1e-9, 1e-6, 1e-3, 1.0, 12.0, 1e3])
def test_discovery_matches_the_closed_form(scale, discovery):
    signal = np.array([1.0, 0.9]) * scale
    z, grad = discovery(jnp.asarray(signal))
    assert float(z) == pytest.approx(float(closed_form(signal)), rel=1e-10)
    # Gradient: central differences of the closed form (relative step 1e-20).
    for i in range(2):
        h = signal[i] * 1e-20

        def f(x, i=i):
            return closed_form([x if j == i else signal[j] for j in range(2)])

        with mp.workdps(50):
            ref = (f(mpf(signal[i]) + h) - f(mpf(signal[i]) - h)) / (2 * h)
        assert float(grad[i]) == pytest.approx(float(ref), rel=1e-8)
        assert float(grad[i]) > 0


def test_discovery_is_linear_in_a_tiny_signal(workspaces):
    """Z = s sqrt(I) + O(s**2): Z / s is the same at 1e-12 and 1e-9 (to 1e-8),
    for a model with every modifier type; its gradient is positive."""

    def z_per_unit(scale):
        ws = workspaces.two_channel()
        sig = ws["channels"][0]["samples"][0]
        sig["data"] = [x * scale for x in sig["data"]]
        return float(ds.expected_discovery_significance(ws)) / scale

    assert z_per_unit(1e-12) == pytest.approx(z_per_unit(1e-9), rel=1e-8)
    assert z_per_unit(1e-12) > 0


def test_cls_at_tiny_signal(workspaces):
    """CLs -> 1 with a negative slope and no spurious digits: 1 - CLs ~
    sqrt(2 q / pi), q = s**2 I, is linear in s."""

    def one_minus_cls(scale):
        value, grad = jax.value_and_grad(
            lambda s: ds.expected_cls(workspaces.simple(s))
        )(jnp.array([1.0, 0.9]) * scale)
        assert np.all(np.asarray(grad) < 0)
        return 1.0 - float(value)

    small, smaller = one_minus_cls(1e-6), one_minus_cls(1e-7)
    assert small == pytest.approx(10 * smaller, rel=1e-6)


def test_discovery_agrees_with_pyhf_at_ordinary_signals(workspaces, pyhf_ref):
    for signal in ([1.0, 0.9], [120.0, 110.0]):
        ws = workspaces.simple(signal)
        ref = pyhf_ref.hypotest(ws)["z"]
        ours = float(ds.expected_discovery_significance(ws))
        assert ours == pytest.approx(ref, rel=1e-6)
        assert ours == pytest.approx(float(closed_form(signal)), rel=1e-10)
        assert math.isfinite(ours)
