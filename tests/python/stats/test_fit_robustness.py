# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.fit and the objectives under repeated calls, bad input and
failed fits: one compilation per model structure, one-line errors, the POI
bounds enforced under jit too."""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats import mle

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
]


def _maps() -> int:
    with open("/proc/self/maps") as f:
        return sum(1 for _ in f)


def test_repeated_fits_compile_once_and_do_not_grow(workspaces):
    """A fit per call used to compile anew (1-2 s, ~178 memory maps each, a
    segfault near call 360): calls on models of one structure share one
    compiled function."""
    model = ds.Model(workspaces.simple())
    data = model.expected_data(model.suggested_init())
    ds.fit(model, data, fixed_poi=1.0)  # compile
    size = mle._fit_kernel._cache_size()
    maps = _maps()
    for i in range(50):
        other = ds.Model(workspaces.simple([12.0 + i, 11.0]))  # same structure
        pars, twice_nll = ds.fit(other, data * (1 + 1e-3 * i), fixed_poi=1.0)
        assert np.all(np.isfinite(pars))
        assert math.isfinite(float(twice_nll))
    assert mle._fit_kernel._cache_size() == size
    if maps:  # /proc/self/maps is Linux-only; elsewhere the count is 0
        assert _maps() - maps <= 20


def test_fit_still_matches_the_eager_likelihood(workspaces):
    model = ds.Model(workspaces.two_channel())
    data = model.expected_data(model.suggested_init())
    pars, twice_nll = ds.fit(model, data)
    assert float(twice_nll) == pytest.approx(
        -2.0 * float(model.logpdf(pars, data)), rel=1e-13
    )


def test_failed_fit_is_one_line(workspaces):
    """optimistix's failure surfaces as one line: the fit, the model, the reason
    and the last parameters (not equinox's 25-line dump)."""
    model = ds.Model(workspaces.simple())
    data = model.expected_data(model.suggested_init())
    spec = model._spec
    pars, result = mle._fit_kernel(spec, model._flat(), data, jnp.asarray(1.0), None, 2)
    with pytest.raises(RuntimeError) as err:
        mle._checked_fit(spec, "fit", 1.0, pars, result)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("fit: the fit with mu fixed at 1 of the model (POI 'mu'")
    assert "channels 'singlechannel'" in msg
    assert "maximum number of" in msg
    assert "steps" in msg
    assert "Last parameters: mu=1, uncorr_bkguncrt[0]=" in msg


@pytest.mark.parametrize(
    ("data", "fixed_poi", "match"),
    [
        ([55.0, math.nan, 1.0, 1.0], None, "data must be finite and >= 0"),
        ([55.0, -1.0, 1.0, 1.0], None, "data must be finite and >= 0"),
        ([55.0, 60.0, 1.0, 1.0], math.inf, "fixed_poi = inf is not a finite number"),
        ([55.0, 60.0, 1.0, 1.0], math.nan, "fixed_poi = nan is not a finite number"),
    ],
)
def test_fit_rejects_bad_input(workspaces, data, fixed_poi, match):
    model = ds.Model(workspaces.simple())
    data = np.array(data)
    data[2:] = np.asarray(model.auxdata)
    with pytest.raises(ValueError, match=match):
        ds.fit(model, data, fixed_poi=fixed_poi)


@pytest.fixture(scope="module")
def cls_of_mu(workspaces):
    """expected_cls of the simple workspace and its derivative in mu, jitted
    once for the module (each jitted function compiles the whole objective)."""
    ws = workspaces.simple()

    def cls(m):
        return ds.expected_cls(ws, m)

    return jax.jit(cls), jax.jit(jax.grad(cls))


@pytest.mark.parametrize("mu", [100.0, -1.0, math.inf, math.nan])
def test_poi_bounds_are_enforced_under_jit(workspaces, cls_of_mu, mu):
    """pyhf raises for a POI outside its bounds; so does expected_cls, also
    under jit (a run-time error naming mu and the bounds), and also for its
    gradient; a concrete mu raises ValueError before anything runs."""
    ws = workspaces.simple()
    with pytest.raises(ValueError, match=r"mu = .* POI bounds \(0.0, 10.0\) of 'mu'"):
        ds.expected_cls(ws, mu)
    f, grad = cls_of_mu
    match = r"mu must be a finite number within the POI bounds \[0, 10\] of 'mu'"
    with pytest.raises(Exception, match=match):
        jax.block_until_ready(f(mu))
    with pytest.raises(Exception, match=match):
        jax.block_until_ready(grad(mu))


def test_poi_within_bounds_under_jit_is_unchanged(workspaces, cls_of_mu):
    ws = workspaces.simple()
    f = cls_of_mu[0]
    for mu in (0.0, 1.5, 10.0):
        assert float(f(mu)) == pytest.approx(float(ds.expected_cls(ws, mu)), rel=1e-12)


def _scaled(workspaces, k, signal):
    ws = workspaces.simple(signal)
    bkg = ws["channels"][0]["samples"][1]
    bkg["data"] = [50.0 * k, 52.0 * k]
    bkg["modifiers"][0]["data"] = [3.0 * k, 7.0 * k]
    return ws


@pytest.mark.parametrize("k", [1e-200, 1e-100, 1e-20, 1e3, 1e6])
def test_tiny_and_huge_yields(workspaces, k):
    """Every yield scaled by k: the discovery significance and its gradient are
    the closed form's (asimov_significance, checked against mpmath), CLs and
    its gradient finite (yields of 1e-200 gave NaN and -inf gradients: the
    chain rule through diff / n formed diff / n**2, which overflowed)."""
    s = jnp.array([12.0, 11.0]) * k
    b, unc = jnp.array([50.0, 52.0]) * k, jnp.array([3.0, 7.0]) * k
    ref, ref_grad = jax.value_and_grad(ds.asimov_significance)(s, b, unc)
    value, grad = jax.value_and_grad(
        lambda x: ds.expected_discovery_significance(_scaled(workspaces, k, x))
    )(s)
    assert float(value) == pytest.approx(float(ref), rel=1e-9)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(ref_grad), rtol=1e-7)
    value, grad = jax.value_and_grad(
        lambda x: ds.expected_cls(_scaled(workspaces, k, x))
    )(s)
    assert 0.0 <= float(value) <= 1.0
    assert np.all(np.isfinite(np.asarray(grad)))
    assert np.all(np.asarray(grad) <= 0)


def test_yields_beyond_the_fit_give_one_line_errors(workspaces):
    """At yields ~1e300 the fit's absolute tolerance cannot be met and the
    Fisher information overflows: one-line errors, no NaN, no dump."""
    ws = _scaled(workspaces, 1e300 / 50, [1e300, 1e300])
    with pytest.raises(RuntimeError, match="expected_cls: the fit with mu fixed") as e:
        ds.expected_cls(ws)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="expected_poi_uncertainty: the result is not"):
        ds.expected_poi_uncertainty(ws)
