# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.objectives against pyhf 0.7 (numpy backend, scipy optimiser).

Values: pyhf's ``hypotest`` on the Asimov data, to 1e-6 relative. Gradients with
respect to the yields: central finite differences of pyhf's own numbers, to 1e-5
relative. For those pyhf's likelihood is profiled with its ``fixed_poi_fit``
(SLSQP, q exact to ~1e-12) and the unconditional fit replaced by its exact value,
the generating parameters (the Asimov data are saturated there): the noise of the
unconditional SLSQP fit inside ``hypotest`` (~1e-8) would swamp a 1e-4 step. The
POI uncertainty is compared with the inverse Hessian of pyhf's ``logpdf`` by
Richardson-extrapolated finite differences (scipy's SLSQP gives no Hessian).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats import _asimov_q, mle, objectives
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


# ---- values ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["correlated", "simple", "two_channel"])
def test_values_match_pyhf(name, workspaces, pyhf_ref):
    ws = workspaces.by_name[name]()
    ref = pyhf_ref.hypotest(ws)
    model = ds.Model(ws)  # a Model works as well as the dict
    assert float(ds.expected_cls(ws)) == pytest.approx(ref["cls"], rel=1e-6)
    assert float(ds.expected_cls(model, test_stat="q")) == pytest.approx(
        ref["cls_q"], rel=1e-6
    )
    assert float(ds.expected_discovery_significance(ws)) == pytest.approx(
        ref["z"], rel=1e-6
    )
    unc = pyhf_ref.hessian_uncertainty(pyhf_ref.model(ws))
    assert float(ds.expected_poi_uncertainty(model)) == pytest.approx(unc, rel=1e-6)


# ---- gradients ------------------------------------------------------------------------


def _get(ws, spec, key):
    ci, si, mi, field = dict(spec.paths)[key]
    smp = ws["channels"][ci]["samples"][si]
    if mi < 0:
        return smp["data"]
    data = smp["modifiers"][mi]["data"]
    return data if field == "data" else data[field]


GRAD_CASES = {
    "simple": ["0/0/data", "0/1/data", "0/1/0/data"],
    "two_channel": ["0/0/data", "0/1/2/hi_data", "0/1/3/hi", "1/0/3/data"],
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_pyhf_finite_differences(name, workspaces, pyhf_ref):
    ws = workspaces.by_name[name]()
    spec, arrays = _parse(ws)
    objective_fns = {
        "cls": ds.expected_cls,
        "z": ds.expected_discovery_significance,
        "unc": ds.expected_poi_uncertainty,
    }
    grads = {}
    for label, objective in objective_fns.items():
        value, grad = ds.value_and_grad_yields(objective, ws)
        assert np.isfinite(float(value))
        grads[label] = grad
    eps = 1e-4
    for key in GRAD_CASES[name]:
        base = np.array(arrays[key])
        i = 0 if base.ndim == 0 else int(np.argmax(base))  # one entry per array

        def moved(sign, base=base, i=i, key=key):
            arr = base.copy()
            if arr.ndim:
                arr[i] *= 1 + sign * eps
            else:
                arr = arr * (1 + sign * eps)
            return _replace_arrays(ws, spec, {**arrays, key: arr})

        up, down = pyhf_ref.profiled(moved(+1)), pyhf_ref.profiled(moved(-1))
        step = eps * (base[i] if base.ndim else float(base))
        for label, grad in grads.items():
            g = np.asarray(_get(grad, spec, key))
            ours = float(g[i] if g.ndim else g)
            fd = (up[label] - down[label]) / (2 * step)
            assert ours == pytest.approx(fd, rel=1e-5, abs=1e-9), (label, key, ours, fd)


def test_gradient_with_respect_to_mu(workspaces):
    ws = workspaces.simple()
    g = jax.grad(lambda mu: ds.expected_cls(ws, mu))(1.5)
    h = 1e-5
    fd = (float(ds.expected_cls(ws, 1.5 + h)) - float(ds.expected_cls(ws, 1.5 - h))) / (
        2 * h
    )
    assert float(g) == pytest.approx(fd, rel=1e-6)


@pytest.fixture(scope="module")
def cls_of_signal(workspaces):
    """expected_cls of the simple workspace as a function of its signal, and
    that function jitted once for the module (it compiles the whole objective)."""

    def objective(signal):
        return ds.expected_cls(workspaces.simple(signal))

    return objective, jax.jit(objective)


def test_jit_and_grad_through_jit(cls_of_signal):
    objective, jitted = cls_of_signal
    s = jnp.array([12.0, 11.0])
    eager = float(objective(s))
    assert float(jitted(s)) == pytest.approx(eager, rel=1e-12)
    np.testing.assert_allclose(
        jax.jit(jax.grad(objective))(s), jax.grad(objective)(s), rtol=1e-10
    )


def test_one_compilation_per_workspace_structure(workspaces):
    """The objectives' jitted kernels take the structure as a static argument:
    new yields of the same structure reuse the compiled kernels."""
    ds.expected_cls(workspaces.two_channel())
    ds.expected_discovery_significance(workspaces.two_channel())
    kernels = (
        objectives._cls_value,
        objectives._discovery_value,
        mle._fit_kernel,
        _asimov_q._polish_kernel,
    )
    sizes = [k._cache_size() for k in kernels]
    ws = workspaces.two_channel()
    ws["channels"][0]["samples"][0]["data"] = [6.0, 7.0, 5.0]
    ws["channels"][1]["samples"][1]["modifiers"][1]["data"] = [2.5, 1.0]
    ds.expected_cls(ws)
    ds.expected_discovery_significance(ws)
    assert [k._cache_size() for k in kernels] == sizes


def test_zero_signal_has_finite_gradients(workspaces):
    for objective in (ds.expected_cls, ds.expected_discovery_significance):
        value, grad = jax.value_and_grad(
            lambda s, f=objective: f(workspaces.simple(s))
        )(jnp.zeros(2))
        assert np.all(np.isfinite(grad))
        assert float(value) in (0.0, 1.0)


# ---- bad input ------------------------------------------------------------------------


def test_empty_background_bin_and_bad_arguments(workspaces):
    ws = workspaces.simple()
    ws["channels"][0]["samples"][1]["data"] = [50.0, 0.0]
    with pytest.raises(ValueError, match="bin 1 of channel 'singlechannel'"):
        ds.expected_discovery_significance(ws)
    with pytest.raises(ValueError, match="test_stat"):
        ds.expected_cls(workspaces.simple(), test_stat="q0")
    with pytest.raises(ValueError, match="POI bounds"):
        ds.expected_cls(workspaces.simple(), mu=20.0)


@pytest.mark.parametrize(
    ("background", "signal"),
    [([50.0, 0.0], [12.0, 11.0]), ([50.0, 52.0], [-2.0, 8.0])],
    ids=["empty-background-bin", "negative-signal"],
)
def test_cls_where_pyhf_defines_it(workspaces, pyhf_ref, background, signal):
    """CLs with a bin that has no background at POI 0, and with a negative signal
    yield: defined (pyhf gives a number), equal to pyhf's, finite gradients."""
    ws = workspaces.simple(signal)
    ws["channels"][0]["samples"][1]["data"] = background
    model = pyhf_ref.model(ws)
    _, data_b = pyhf_ref.asimov(model, 0.0)
    ref = float(pyhf_ref.pyhf.infer.hypotest(1.0, data_b, model, test_stat="qtilde"))
    assert float(ds.expected_cls(ws)) == pytest.approx(ref, rel=1e-6)

    def cls(s):
        w = workspaces.simple(s)
        w["channels"][0]["samples"][1]["data"] = background
        return ds.expected_cls(w)

    grad = np.asarray(jax.grad(cls)(jnp.asarray(signal)))
    assert np.all(np.isfinite(grad))
    h = 1e-4
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        fd = float(cls(jnp.asarray(signal) + e)) - float(cls(jnp.asarray(signal) - e))
        assert grad[i] == pytest.approx(fd / (2 * h), rel=1e-4, abs=1e-9)


def test_nan_under_jit_is_an_error_not_a_value(cls_of_signal):
    f = cls_of_signal[1]
    with pytest.raises(Exception, match="NaN or infinite yields"):
        jax.block_until_ready(f(jnp.array([math.nan, 1.0])))
