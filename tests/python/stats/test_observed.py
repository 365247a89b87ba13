# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.observed against pyhf 0.7 (numpy backend, scipy optimiser).

Values: pyhf's ``hypotest`` (asymptotics) on the workspace's observations and
pyhf's ``mle.fit``, to 1e-6 relative. Gradients with respect to the yields and
the data: central finite differences of diffana's own values (pyhf's hypotest
carries ~1e-8 of SLSQP noise, too much for a finite difference; its values are
checked instead).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats.observed import (
    hypotest,
    observed_cls,
    observed_data,
    observed_discovery_significance,
)

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

DEFICIT = [51.0, 48.0]  # conftest.DEFICIT


# ---- values ---------------------------------------------------------------------------


#: pyhf's documentation example (a deficit: the POI fits to its bound 0) and an
#: excess (the POI fits inside its bounds).
OBSERVATIONS = {"deficit": DEFICIT, "excess": [62.0, 58.0]}


@pytest.mark.parametrize("case", sorted(OBSERVATIONS))
def test_hypotest_matches_pyhf(case, workspaces, pyhf_ref):
    pyhf = pyhf_ref.pyhf
    ws = workspaces.observed(obs=OBSERVATIONS[case])
    model, data = pyhf_ref.model_and_data(ws)
    for test_stat, mu in (("qtilde", 1.0), ("q", 0.5), ("q0", 0.0)):
        ref, ref_band = pyhf.infer.hypotest(
            mu, data, model, test_stat=test_stat, return_expected_set=True
        )
        value, band = hypotest(
            mu, None, ws, test_stat=test_stat, return_expected_set=True
        )
        assert float(value) == pytest.approx(float(ref), rel=1e-6), test_stat
        np.testing.assert_allclose(band, np.array(ref_band, float), rtol=1e-6)
    p0 = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0"))
    z = float(observed_discovery_significance(ws))
    assert z == pytest.approx(pyhf_ref._norm.isf(p0), rel=1e-6, abs=1e-9)
    # Data passed explicitly, as pyhf takes them or as the main bins only.
    main = np.asarray(data)[: model.config.nmaindata]
    cls = float(observed_cls(ws, 1.0))
    with_aux = observed_cls(ds.Model(ws), 1.0, data=data)
    assert float(with_aux) == pytest.approx(cls, rel=1e-12)
    assert float(observed_cls(ws, 1.0, data=main)) == pytest.approx(cls, rel=1e-12)


def test_two_channel_cls_matches_pyhf(workspaces, pyhf_ref):
    """Every modifier type; the observations are the signal-plus-background
    expectation (mu_hat = 1 inside the bounds). The deficit of the simple
    workspace covers the q̃μ branch where q exceeds the Asimov q_A."""
    ws = workspaces.two_channel()
    model, data = pyhf_ref.model_and_data(ws)
    ref, ref_band = pyhf_ref.pyhf.infer.hypotest(
        1.5, data, model, return_expected_set=True
    )
    value, band = hypotest(1.5, None, ws, return_expected_set=True)
    assert float(value) == pytest.approx(float(ref), rel=1e-6)
    np.testing.assert_allclose(band, np.array(ref_band, float), rtol=1e-6)


def test_fit_on_data_matches_pyhf(workspaces, pyhf_ref):
    """The maximum-likelihood fit on data is `fit` on `observed_data`."""
    pyhf = pyhf_ref.pyhf
    ws = workspaces.two_channel()
    model, data = pyhf_ref.model_and_data(ws)
    ours = observed_data(ws)
    np.testing.assert_allclose(ours, np.asarray(data, float), rtol=1e-15)
    ref_pars, ref_val = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
    pars, twice_nll = ds.fit(ds.Model(ws), ours)
    assert float(twice_nll) == pytest.approx(float(ref_val), rel=1e-12)
    np.testing.assert_allclose(pars, ref_pars, atol=2e-5)


# ---- gradients ------------------------------------------------------------------------


def _central(f, x, i, h):
    e = np.zeros_like(np.asarray(x))
    e[i] = h
    return (float(f(x + e)) - float(f(x - e))) / (2 * h)


def test_gradients_match_finite_differences(workspaces):
    """Yields (signal, background), the shapesys data and the observations."""
    s0, b0, obs0 = jnp.array([12.0, 11.0]), jnp.array([50.0, 52.0]), jnp.array(DEFICIT)

    def cls(s, b, obs):
        return observed_cls(workspaces.observed(s, b, obs), 1.2)

    grads = jax.grad(cls, argnums=(0, 1, 2))(s0, b0, obs0)
    h = 1e-3
    for k, (g, x) in enumerate(zip(grads, (s0, b0, obs0), strict=True)):

        def f(v, k=k):
            args = [s0, b0, obs0]
            args[k] = v
            return cls(*args)

        fd = [_central(f, x, i, h) for i in range(2)]
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-9)
    # The discovery significance on an excess.
    excess = jnp.array([62.0, 58.0])

    def z(s, obs):
        return observed_discovery_significance(workspaces.observed(s, None, obs))

    gs, go = jax.grad(z, argnums=(0, 1))(s0, excess)
    fd_s = [_central(lambda v: z(v, excess), s0, i, h) for i in range(2)]
    fd_o = [_central(lambda v: z(s0, v), excess, i, h) for i in range(2)]
    np.testing.assert_allclose(gs, fd_s, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(go, fd_o, rtol=1e-5, atol=1e-9)


def test_unconditional_fit_on_data_differentiates_implicitly(workspaces):
    ws_of = lambda b: workspaces.observed(background=b, obs=[62.0, 58.0])
    b0 = jnp.array([50.0, 52.0])

    def fitted(b):
        ws = ws_of(b)
        return ds.fit(ds.Model(ws), observed_data(ws))[0]

    tangent = jnp.array([1.0, 0.0])
    jvp = jax.jvp(fitted, (b0,), (tangent,))[1]
    h = 0.05
    fd = (fitted(b0 + h * tangent) - fitted(b0 - h * tangent)) / (2 * h)
    np.testing.assert_allclose(jvp, fd, rtol=1e-5, atol=1e-8)


def test_jit_and_nan_data_under_jit(workspaces):
    """One compilation: the value equals the eager one; NaN data are an error."""

    def f(s, d):
        return observed_cls(workspaces.observed(s), 1.0, data=d)

    s, d = jnp.array([12.0, 11.0]), jnp.array(DEFICIT)
    jitted = jax.jit(f)
    assert float(jitted(s, d)) == pytest.approx(float(f(s, d)), rel=1e-10)
    with pytest.raises(Exception, match="NaN, infinite or negative"):
        jax.block_until_ready(jitted(s, jnp.array([math.nan, 48.0])))


# ---- bad input ------------------------------------------------------------------------


def test_bad_input_is_one_line(workspaces):
    ws = workspaces.simple()
    del ws["observations"]
    with pytest.raises(ValueError, match="no 'observations'") as err:
        observed_cls(ws)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="Model carries no observations"):
        observed_cls(ds.Model(workspaces.simple()))
    good = workspaces.observed()
    with pytest.raises(ValueError, match="NaN or infinite"):
        observed_cls(good, data=[math.nan, 48.0])
    with pytest.raises(ValueError, match="negative"):
        observed_discovery_significance(good, data=[-1.0, 48.0])
    with pytest.raises(ValueError, match=r"data has shape \(3,\)"):
        hypotest(1.0, [1.0, 2.0, 3.0], good)
    with pytest.raises(ValueError, match="q0 tests poi_test = 0"):
        hypotest(1.0, None, good, test_stat="q0")
    with pytest.raises(ValueError, match="test_stat"):
        observed_cls(good, test_stat="q0")
    with pytest.raises(ValueError, match="POI bounds"):
        observed_cls(good, mu=-1.0)
    bad_obs = workspaces.observed(obs=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="3 bins, the channel 2"):
        observed_data(bad_obs)
