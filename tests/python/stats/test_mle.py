# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.fit against pyhf's fixed-POI fit, and its implicit derivative
against finite differences of the fit itself."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats._spec import _parse
from diffana.stats.workspace import _replace_arrays

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]


def test_fit_agrees_with_pyhf_and_differentiates_implicitly(workspaces, pyhf_ref):
    """fit(): pyhf's fixed-POI fit, and d(theta_hat)/d(yield) from ImplicitAdjoint."""
    pyhf = pyhf_ref.pyhf
    ws = workspaces.two_channel()
    model = pyhf_ref.model(ws)
    _, data = pyhf_ref.asimov(model, 0.0)
    ref_pars, ref_val = pyhf.infer.mle.fixed_poi_fit(
        1.0, data, model, return_fitted_val=True
    )
    pars, val = ds.fit(ds.Model(ws), data, fixed_poi=1.0)
    assert float(val) == pytest.approx(float(ref_val), rel=1e-12)
    np.testing.assert_allclose(pars, ref_pars, atol=2e-5)
    # d theta_hat / d (a background yield) against central differences of fit().
    ws = workspaces.simple()
    data = pyhf_ref.asimov(pyhf_ref.model(ws), 0.0)[1]
    spec, arrays = _parse(ws)
    key = "0/1/data"  # the background

    def fitted(yields):
        arrs = {**arrays, key: yields}
        m = ds.Model(_replace_arrays(ws, spec, arrs))
        return ds.fit(m, data, fixed_poi=1.0)[0]

    y = arrays[key]
    tangent = jnp.array([1.0, 0.0])
    jvp = jax.jvp(fitted, (y,), (tangent,))[1]
    # A large step: the fit's tolerance (~1e-10 in the parameters) limits the FD.
    h = 1e-3 * float(y[0])
    fd = (fitted(y + h * tangent) - fitted(y - h * tangent)) / (2 * h)
    np.testing.assert_allclose(jvp, fd, rtol=1e-5, atol=1e-8)
