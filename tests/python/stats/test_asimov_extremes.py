# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.asimov_significance at extreme yields, against mpmath.

The reference is Cowan et al. (2011) as written, evaluated by mpmath with 50
significant digits and as many extra working digits as its cancellation costs.
Values agree to 1e-12 relative wherever Z is a normal float64 (the formulas are
evaluated in logarithms: the rounding of log(s), log(b) ~ 700 costs up to
~2e-13). Gradients agree with mpmath.diff to 1e-11 relative, or to 1e-13 in the
elasticity (x / Z) dZ/dx where the derivative is too small to matter (a
derivative of relative size below 1e-300 underflows to 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
mpmath = pytest.importorskip("mpmath", reason="the reference is mpmath")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import mp, mpf

import diffana.stats as ds

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
]

DIGITS = 50


def _cowan_z2(s, b, s2):
    if s2 == 0:
        return 2 * ((s + b) * mpmath.log1p(s / b) - s)
    return 2 * (
        (s + b) * mpmath.log((s + b) * (b + s2) / (b * b + (s + b) * s2))
        - b * b / s2 * mpmath.log1p(s2 * s / (b * (b + s2)))
    )


def _close(new, old, digits):
    return old is not None and abs(new - old) <= abs(new) * mpf(10) ** (-digits)


def cowan(s, b, sigma=0):
    """Z_A as written, at the working precision: the extra digits that its
    cancellation costs (up to ~600 at s / b = 1e-600) are doubled until stable."""
    last, extra = None, 20
    while extra <= 20000:
        with mp.extradps(extra):
            z2 = _cowan_z2(mpf(s), mpf(b), mpf(sigma) ** 2)
            z = mpmath.sqrt(z2) if z2 > 0 else mpf(0)
        if (z > 0 or s == 0) and (z == last or _close(z, last, mp.dps + 5)):
            return +z
        last, extra = z, 2 * extra
    raise RuntimeError("the reference did not converge")


def cowan_grad(s, b, sigma, k):
    """d Z_A / d (s, b, sigma)[k] with mpmath.diff (central, step 1e-20 relative;
    mpmath's relative=True scales the step the wrong way for tiny x), the
    precision doubled until two results agree to 15 digits."""
    args = [mpf(s), mpf(b), mpf(sigma)]

    def f(x):
        return cowan(*[x if i == k else a for i, a in enumerate(args)])

    last, dps = None, 30
    while dps <= 2000:
        with mp.workdps(dps):
            d = mpmath.diff(f, args[k], h=args[k] * mpf(10) ** -20)
        if d != 0 and _close(d, last, 15):
            return d
        last, dps = d, 2 * dps
    return last


_value_and_grad = None


_BATCH = 64


def ours(s, b, sigma):
    """Value and (ds, db, dsigma) of asimov_significance, vectorised over points
    (padded to one batch size, so that one compilation serves every test)."""
    global _value_and_grad
    if _value_and_grad is None:
        one = jax.value_and_grad(ds.asimov_significance, argnums=(0, 1, 2))
        _value_and_grad = jax.jit(jax.vmap(one))
    args = [np.asarray(x, float) for x in (s, b, sigma)]
    n = args[0].size
    assert n <= _BATCH
    pad = [np.concatenate([a, np.ones(_BATCH - n)]) for a in args]
    v, g = _value_and_grad(*pad)
    return np.asarray(v)[:n], np.stack([np.asarray(x)[:n] for x in g], axis=-1)


def check_value(z, s, b, sigma):
    with mp.workdps(DIGITS):
        ref = float(cowan(s, b, sigma))
    if ref < 1e-300:  # subnormal or underflowing: absolute only
        assert abs(z - ref) <= 1e-307, (s, b, sigma, z, ref)
    else:
        assert z == pytest.approx(ref, rel=1e-12, abs=0), (s, b, sigma)


def check_grad(z, grad, s, b, sigma):
    assert not np.any(np.isnan(grad)), (s, b, sigma, grad)
    if z < 1e-290:  # Z underflows: its derivatives are not all representable
        return
    for k, x in enumerate((s, b, sigma)):
        if x == 0:  # dZ/dsigma = 0 at sigma = 0; dZ/ds at s = 0: its own test
            continue
        with mp.workdps(DIGITS):
            ref_mp = cowan_grad(s, b, sigma, k)
        if abs(ref_mp) > np.finfo(float).max:  # not representable: +-inf
            assert grad[k] == float(mpmath.sign(ref_mp)) * np.inf, (s, b, sigma, k)
            continue
        ref = float(ref_mp)
        tol = 1e-11 * (abs(ref) + 1e-2 * z / x) + 1e-300  # subnormal: underflows
        assert abs(grad[k] - ref) <= tol, (s, b, sigma, k, grad[k], ref)


GRID = [10.0**k for k in range(-300, 301, 100)]


@pytest.mark.parametrize("sigma", [0.0, 1e-300, 1e-100, 1.0, 1e100, 1e300])
def test_values_on_a_log_grid(sigma):
    s, b = (np.ravel(a) for a in np.meshgrid([0.0, *GRID], GRID))
    z, grad = ours(s, b, np.full(s.shape, sigma))
    # Z never overflows; a derivative does where its true value does (+-inf).
    assert np.all(np.isfinite(z))
    assert not np.any(np.isnan(grad))
    for i in range(s.size):
        check_value(float(z[i]), s[i], b[i], sigma)


@pytest.mark.parametrize("sigma", [0.0, 1.0, 1e100])
def test_gradients_on_a_log_grid(sigma):
    grid = [1e-300, 1e-100, 1.0, 1e100, 1e300]
    s, b = (np.ravel(a) for a in np.meshgrid(grid, grid))
    z, grad = ours(s, b, np.full(s.shape, sigma))
    for i in range(s.size):
        check_grad(float(z[i]), grad[i], s[i], b[i], sigma)


_exponent = st.floats(min_value=-300.0, max_value=300.0)


@settings(max_examples=40, deadline=None)
@given(_exponent, _exponent, st.one_of(st.just(None), _exponent))
def test_random_points(ls, lb, lsigma):
    s, b = 10.0**ls, 10.0**lb
    sigma = 0.0 if lsigma is None else 10.0**lsigma
    z, grad = ours([s], [b], [sigma])
    check_value(float(z[0]), s, b, sigma)
    check_grad(float(z[0]), grad[0], s, b, sigma)


def test_reported_extremes():
    """Tiny background, huge signal, huge uncertainty: finite, right, no NaN."""
    z, grad = ours([1.0, 1e200, 5.0], [1e-300, 1e-200, 10.0], [0.0, 0.0, 1e200])
    assert np.all(np.isfinite(z))
    assert np.all(np.isfinite(grad))
    assert z[0] == pytest.approx(math.sqrt(2 * (math.log1p(1e300) - 1)), rel=1e-12)
    assert grad[0, 0] > 0 > grad[0, 1]
    z, grad = z[1:], grad[1:]
    with mp.workdps(DIGITS):
        assert float(z[0]) == pytest.approx(float(cowan(1e200, 1e-200)), rel=1e-12)
        assert float(z[1]) == pytest.approx(float(cowan(5, 10, 1e200)), rel=1e-12)


def test_largest_inputs_and_several_bins():
    """Z never overflows (Z**2 <= 2 s log(s / b) stays below ~1e312); the bins are
    combined by a scaled norm, so that their squares do not overflow either. A
    derivative whose true value overflows is +-inf, never NaN."""
    big = np.finfo(float).max
    z, grad = ours([big, big, 1.0], [big, 1e-300, big], [big, 0.0, big])
    assert np.all(np.isfinite(z))
    assert not np.any(np.isnan(grad))
    # dZ/db ~ -s / (b Z) ~ -1e460 is not representable: -inf, the others finite.
    assert grad[1, 1] == -np.inf
    assert np.all(np.isfinite(np.delete(grad.ravel(), 4)))
    s = jax.numpy.array([1e300, 1e300])
    b = jax.numpy.array([1e-300, 1e-300])
    total, g = jax.value_and_grad(ds.asimov_significance)(s, b)
    with mp.workdps(DIGITS):
        single = float(cowan(1e300, 1e-300))
    assert float(total) == pytest.approx(math.sqrt(2) * single, rel=1e-12)
    assert np.all(np.isfinite(g))


def test_slope_at_zero_signal_for_any_scale():
    """dZ/ds at s = 0 is 1 / sqrt(b + sigma**2), also where sigma**2 overflows."""
    b = [1e-300, 1e300, 1.0, 1e-300]
    sigma = [0.0, 0.0, 1e200, 1e-300]
    z, grad = ours(np.zeros(4), b, sigma)
    assert np.all(z == 0)
    expected = [1 / math.hypot(math.sqrt(x), y) for x, y in zip(b, sigma, strict=True)]
    np.testing.assert_allclose(grad[:, 0], expected, rtol=1e-12)
    np.testing.assert_array_equal(grad[:, 1:], 0.0)
