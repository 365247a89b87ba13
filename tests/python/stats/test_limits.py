# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.limits: upper limits against pyhf, derivatives against finite
differences of the limit itself (each recomputed by the root finding, to ~1e-10).

pyhf's ``upper_limit`` runs toms748 with a tight tolerance (``rtol=1e-9``); the
limits agree to 1e-6 relative. Where pyhf's scan is slow (the two-channel
workspace, ~1 min), pyhf's own CLs is evaluated just below and just above our
limit instead: it crosses the level between them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats.limits import expected_upper_limit, observed_upper_limit, upper_limit

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

DEFICIT = [51.0, 48.0]  # conftest.DEFICIT


def test_limits_match_pyhf_upper_limit(workspaces, pyhf_ref):
    pyhf = pyhf_ref.pyhf
    ws = workspaces.observed()
    model, data = pyhf_ref.model_and_data(ws)
    ref_obs, ref_exp = pyhf.infer.intervals.upper_limits.upper_limit(
        data, model, rtol=1e-9, atol=1e-12
    )
    obs, exp = upper_limit(None, ws)
    assert float(obs) == pytest.approx(float(ref_obs), rel=1e-6)
    np.testing.assert_allclose(exp, np.array(ref_exp, float), rtol=1e-6)
    # The same root at another level, and CLs = level there.
    mu = observed_upper_limit(ws, 0.1)
    assert float(ds.observed.observed_cls(ws, mu)) == pytest.approx(0.1, rel=1e-8)


def test_two_channel_limit_brackets_pyhf_crossing(workspaces, pyhf_ref):
    """Every modifier type: pyhf's observed CLs crosses 0.05 within 1e-6 of
    our observed limit (whose root finding also runs the post-fit Asimov fits)."""
    pyhf = pyhf_ref.pyhf
    ws = workspaces.two_channel()
    model, data = pyhf_ref.model_and_data(ws)
    mu = float(observed_upper_limit(ws))
    above, below = (
        float(pyhf.infer.hypotest(m, data, model))
        for m in (mu * (1 - 1e-6), mu * (1 + 1e-6))
    )
    assert above > 0.05 > below, (mu, above, below)


def test_prefit_expected_limit_is_where_expected_cls_is_the_level(workspaces):
    ws = workspaces.simple()
    mu = expected_upper_limit(ws, prefit=True)
    assert float(ds.expected_cls(ws, mu)) == pytest.approx(0.05, rel=1e-8)


def test_limit_gradients_match_finite_differences(workspaces):
    """Observed (post-fit Asimov data inside) and pre-fit expected limits."""
    s0, b0, obs0 = jnp.array([12.0, 11.0]), jnp.array([50.0, 52.0]), jnp.array(DEFICIT)
    cases = {
        "observed": lambda s, b, o: observed_upper_limit(workspaces.observed(s, b, o)),
        "prefit+1": lambda s, b, o: expected_upper_limit(
            workspaces.observed(s, b, None), nsigma=1.0, prefit=True
        ),
    }
    h = 1e-3
    for label, f_eager in cases.items():
        f = jax.jit(f_eager)  # compiled once: the 12 differences below reuse it
        grads = jax.grad(f_eager, argnums=(0, 1, 2))(s0, b0, obs0)
        for k, x in enumerate((s0, b0, obs0)):
            fd = []
            for i in range(2):
                e = np.zeros(2)
                e[i] = h
                up, down = [s0, b0, obs0], [s0, b0, obs0]
                up[k], down[k] = x + e, x - e
                fd.append((float(f(*up)) - float(f(*down))) / (2 * h))
            np.testing.assert_allclose(
                grads[k], fd, rtol=1e-5, atol=1e-9, err_msg=label
            )

    # With respect to the level: dmu/dlevel = -(df/dlevel) / (df/dmu).
    def at_level(lv):
        return expected_upper_limit(workspaces.simple(), lv, prefit=True)

    g = jax.grad(at_level)(0.05)
    at = jax.jit(at_level)
    fd = (float(at(0.05 + 1e-5)) - float(at(0.05 - 1e-5))) / 2e-5
    assert float(g) == pytest.approx(fd, rel=1e-5)


def test_jit(workspaces):
    def f(s):
        return expected_upper_limit(workspaces.simple(s), prefit=True)

    s = jnp.array([12.0, 11.0])
    assert float(jax.jit(f)(s)) == pytest.approx(float(f(s)), rel=1e-10)


def test_bad_input_is_one_line(workspaces):
    ws = workspaces.observed()
    ws["measurements"][0]["config"]["parameters"] = [
        {"name": "mu", "bounds": [[0.0, 0.5]], "inits": [0.1]}
    ]
    with pytest.raises(ValueError, match=r"upper bound 0\.5 of 'mu'") as err:
        observed_upper_limit(ws)
    assert "\n" not in str(err.value)
    good = workspaces.observed()
    with pytest.raises(ValueError, match="NaN or infinite"):
        observed_upper_limit(good, data=[math.nan, 48.0])
    with pytest.raises(ValueError, match="level must be a number in"):
        observed_upper_limit(good, 1.5)
    with pytest.raises(ValueError, match="prefit=True uses no data"):
        expected_upper_limit(good, prefit=True, data=DEFICIT)
    no_obs = workspaces.simple()
    del no_obs["observations"]
    with pytest.raises(ValueError, match="no 'observations'"):
        upper_limit(None, no_obs)
