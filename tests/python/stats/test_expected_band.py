# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.band: the expected CLs band, post-fit and pre-fit.

Post-fit is pyhf's ``hypotest(..., return_expected_set=True)`` band on the
observations; pre-fit is the same on the Asimov data at the suggested init
(where pyhf's fit to the data with the POI at 0 returns that init), whose
median is `diffana.stats.expected_cls`. Gradients: central finite differences
of diffana's own values.
"""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats.band import expected_cls_band

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

DEFICIT = [51.0, 48.0]  # conftest.DEFICIT


def test_band_matches_pyhf_postfit_and_prefit(workspaces, pyhf_ref):
    pyhf = pyhf_ref.pyhf
    ws = workspaces.observed()
    workspace = pyhf.Workspace(ds.to_pyhf_json(ws))
    model = workspace.model()
    data = workspace.data(model)
    _, ref = pyhf.infer.hypotest(1.5, data, model, return_expected_set=True)
    post = expected_cls_band(ws, 1.5)
    np.testing.assert_allclose(post, np.array(ref, float), rtol=1e-6)
    # Pre-fit: pyhf on the Asimov data of the suggested init (POI 0).
    _, asimov = pyhf_ref.asimov(model, 0.0)
    _, ref_pre = pyhf.infer.hypotest(1.5, asimov, model, return_expected_set=True)
    pre = expected_cls_band(ws, 1.5, prefit=True)
    np.testing.assert_allclose(pre, np.array(ref_pre, float), rtol=1e-6)
    assert float(pre[2]) == pytest.approx(float(ds.expected_cls(ws, 1.5)), rel=1e-12)
    # The band is ordered smallest first, and it is not the pre-fit one.
    assert np.all(np.diff(np.asarray(post)) > 0)
    assert not np.allclose(pre, post, rtol=1e-3)
    # q and qtilde give the same band.
    np.testing.assert_allclose(expected_cls_band(ws, 1.5, "q"), post, rtol=1e-12)


def _richardson(f, args, k, i, h):
    """d f / d args[k][i], central differences Richardson-extrapolated (O(h**4)).

    The post-fit band moves with the fit to the data, whose tolerance leaves
    ~1e-11 of noise in the values: a step large enough to swamp it needs the
    extrapolation to keep the truncation error below 1e-7 relative.
    """

    def central(step):
        e = np.zeros(2)
        e[i] = step
        up, down = list(args), list(args)
        up[k], down[k] = args[k] + e, args[k] - e
        return (float(f(*up)) - float(f(*down))) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


def test_band_gradients_match_finite_differences(workspaces):
    """Post-fit: the Asimov data move with the fit to the data (implicitly)."""
    args = (jnp.array([12.0, 11.0]), jnp.array([50.0, 52.0]), jnp.array(DEFICIT))

    def band(s, b, obs, prefit=False):
        ws = workspaces.observed(s, b, obs)
        return expected_cls_band(ws, 1.2, prefit=prefit)

    # The -2 sigma edge post-fit, the +1 sigma one pre-fit.
    for prefit, edge in ((False, 0), (True, 3)):
        f = lambda s, b, o, e=edge, p=prefit: band(s, b, o, p)[e]
        grads = jax.grad(f, argnums=(0, 1, 2))(*args)
        for k in range(3 - prefit):  # pre-fit: no data
            fd = [_richardson(f, args, k, i, 0.04) for i in range(2)]
            np.testing.assert_allclose(grads[k], fd, rtol=1e-6, atol=1e-10)
        if prefit:
            assert np.all(np.asarray(grads[2]) == 0)


def test_band_bad_input(workspaces):
    ws = workspaces.observed()
    with pytest.raises(ValueError, match="prefit=True uses no data"):
        expected_cls_band(ws, prefit=True, data=DEFICIT)
    no_obs = workspaces.simple()
    del no_obs["observations"]
    with pytest.raises(ValueError, match="no 'observations'"):
        expected_cls_band(no_obs)
    assert np.all(np.isfinite(expected_cls_band(no_obs, prefit=True)))
    with pytest.raises(ValueError, match="test_stat"):
        expected_cls_band(ws, test_stat="q0")
