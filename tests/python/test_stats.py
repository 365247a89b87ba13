# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats against pyhf 0.7 (numpy backend, scipy optimiser) and closed forms.

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

import copy
import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")
pyhf = pytest.importorskip("pyhf", reason="the reference is pyhf")
scipy_stats = pytest.importorskip("scipy.stats", reason="p-values to significances")

import jax.numpy as jnp

import diffana.stats as ds

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]


@pytest.fixture(autouse=True, scope="module")
def pyhf_numpy():
    """pyhf on numpy with a tight scipy (SLSQP) tolerance."""
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-14))


# ---- workspaces -----------------------------------------------------------------------


def measurement(parameters=()):
    return [{"name": "meas", "config": {"poi": "mu", "parameters": list(parameters)}}]


def simple(signal=(12.0, 11.0)):
    """pyhf.simplemodels.uncorrelated_background: shapesys."""
    return {
        "channels": [
            {
                "name": "singlechannel",
                "samples": [
                    {
                        "name": "signal",
                        "data": signal,
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None}
                        ],
                    },
                    {
                        "name": "background",
                        "data": [50.0, 52.0],
                        "modifiers": [
                            {
                                "name": "uncorr_bkguncrt",
                                "type": "shapesys",
                                "data": [3.0, 7.0],
                            }
                        ],
                    },
                ],
            }
        ],
        "measurements": measurement(),
        "observations": [{"name": "singlechannel", "data": [50.0, 52.0]}],
        "version": "1.0.0",
    }


def correlated():
    """pyhf.simplemodels.correlated_background: histosys."""
    ws = simple()
    ws["channels"][0]["samples"][1]["modifiers"] = [
        {
            "name": "correlated_bkg_uncertainty",
            "type": "histosys",
            "data": {"hi_data": [53.0, 56.0], "lo_data": [46.0, 48.0]},
        }
    ]
    return ws


def two_channel():
    """normsys + histosys (sharing a parameter) + staterror + shapesys + lumi + 2nd NF."""
    lumi = {"name": "lumi", "type": "lumi", "data": None}
    sr = [
        {
            "name": "signal",
            "data": [5.0, 8.0, 4.0],
            "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None},
                lumi,
                {
                    "name": "sig_xsec",
                    "type": "normsys",
                    "data": {"hi": 1.1, "lo": 0.92},
                },
                {"name": "stat_SR", "type": "staterror", "data": [0.5, 0.7, 0.4]},
            ],
        },
        {
            "name": "ttbar",
            "data": [20.0, 15.0, 9.0],
            "modifiers": [
                {"name": "mu_tt", "type": "normfactor", "data": None},
                lumi,
                {
                    "name": "jes",
                    "type": "histosys",
                    "data": {
                        "hi_data": [22.0, 15.5, 8.0],
                        "lo_data": [18.5, 14.0, 9.5],
                    },
                },
                {"name": "jes", "type": "normsys", "data": {"hi": 1.05, "lo": 0.97}},
                {"name": "stat_SR", "type": "staterror", "data": [1.5, 1.2, 1.0]},
            ],
        },
        {
            "name": "wjets",
            "data": [10.0, 6.0, 3.0],
            "modifiers": [
                {"name": "w_shape", "type": "shapesys", "data": [2.0, 1.5, 1.2]},
                {"name": "w_norm", "type": "normsys", "data": {"hi": 1.2, "lo": 0.85}},
            ],
        },
    ]
    cr = [
        {
            "name": "ttbar",
            "data": [100.0, 80.0],
            "modifiers": [
                {"name": "mu_tt", "type": "normfactor", "data": None},
                lumi,
                {
                    "name": "jes",
                    "type": "histosys",
                    "data": {"hi_data": [104.0, 83.0], "lo_data": [97.0, 78.0]},
                },
                {"name": "stat_CR", "type": "staterror", "data": [4.0, 3.0]},
            ],
        },
        {
            "name": "wjets",
            "data": [30.0, 20.0],
            "modifiers": [
                {"name": "w_norm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.9}},
                {"name": "stat_CR", "type": "staterror", "data": [2.0, 1.8]},
            ],
        },
    ]
    lumi_cfg = {
        "name": "lumi",
        "auxdata": [1.0],
        "sigmas": [0.02],
        "bounds": [[0.5, 1.5]],
        "inits": [1.0],
    }
    return {
        "channels": [{"name": "SR", "samples": sr}, {"name": "CR", "samples": cr}],
        "measurements": measurement([lumi_cfg]),
        "observations": [
            {"name": "SR", "data": [35.0, 29.0, 16.0]},
            {"name": "CR", "data": [130.0, 100.0]},
        ],
        "version": "1.0.0",
    }


WORKSPACES = {"simple": simple, "correlated": correlated, "two_channel": two_channel}


# ---- pyhf references ------------------------------------------------------------------


def pyhf_model(ws):
    return pyhf.Workspace(ds.to_pyhf_json(ws)).model()


def asimov(model, poi):
    pars = np.array(model.config.suggested_init(), dtype=float)
    pars[model.config.poi_index] = poi
    return pars, model.expected_data(pars)


def pyhf_hypotest(ws):
    """What the issue defines: pyhf's hypotest on the Asimov data."""
    model = pyhf_model(ws)
    _, data_b = asimov(model, 0.0)
    _, data_sb = asimov(model, 1.0)
    cls = float(pyhf.infer.hypotest(1.0, data_b, model, test_stat="qtilde"))
    cls_q = float(pyhf.infer.hypotest(1.0, data_b, model, test_stat="q"))
    p0 = float(pyhf.infer.hypotest(0.0, data_sb, model, test_stat="q0"))
    return {"cls": cls, "cls_q": cls_q, "z": float(scipy_stats.norm.isf(p0))}


def pyhf_hessian_uncertainty(model):
    """sqrt((H^-1)_mu,mu), H of -log L (pyhf) at the s+b Asimov point, Richardson FD."""
    pars, data = asimov(model, 1.0)
    idx = np.nonzero(~np.array(model.config.suggested_fixed()))[0]

    def f(da, a, db, b):
        p = pars.copy()
        p[idx[a]] += da
        p[idx[b]] += db
        return -float(model.logpdf(p, data)[0])

    def hess(h):
        n = idx.size
        out = np.zeros((n, n))
        for a in range(n):
            for b in range(a, n):
                out[a, b] = out[b, a] = (
                    f(h, a, h, b) - f(h, a, -h, b) - f(-h, a, h, b) + f(-h, a, -h, b)
                ) / (4 * h * h)
        return out

    h = 1e-2
    matrix = (4 * hess(h) - hess(2 * h)) / 3  # O(h^4) truncation, ~1e-10 rounding
    at = list(idx).index(model.config.poi_index)
    return math.sqrt(np.linalg.inv(matrix)[at, at])


def pyhf_profiled(ws):
    """CLs, Z and sigma(mu) from pyhf's fixed-POI fits (see the module docstring)."""
    model = pyhf_model(ws)
    out = {}
    for name, poi_data, poi_fit in (("cls", 0.0, 1.0), ("z", 1.0, 0.0)):
        pars, data = asimov(model, poi_data)
        _, fitted = pyhf.infer.mle.fixed_poi_fit(
            poi_fit, data, model, return_fitted_val=True
        )
        q = max(
            float(fitted) - float(pyhf.infer.mle.twice_nll(pars, data, model)[0]), 0.0
        )
        out[name] = math.sqrt(q)
    sb = pyhf.infer.calculators.AsymptoticTestStatDistribution(-out["cls"])
    b = pyhf.infer.calculators.AsymptoticTestStatDistribution(0.0)
    out["cls"] = float(sb.pvalue(0.0) / b.pvalue(0.0))
    out["unc"] = pyhf_hessian_uncertainty(model)
    return out


# ---- the HistFactory model ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WORKSPACES))
def test_model_matches_pyhf(name, rng):
    ws = WORKSPACES[name]()
    model = pyhf_model(ws)
    ours = ds.Model(ws)
    assert ours.par_names == model.config.par_names
    assert ours.poi_index == model.config.poi_index
    assert ours.channels == model.config.channels
    np.testing.assert_allclose(ours.auxdata, model.config.auxdata, rtol=1e-14)
    np.testing.assert_array_equal(
        ours.suggested_fixed(), model.config.suggested_fixed()
    )
    np.testing.assert_allclose(ours.suggested_bounds(), model.config.suggested_bounds())
    init = np.array(model.config.suggested_init())
    # Parameters beyond +-1 (extrapolation) and inside (interpolation).
    for scale in (0.3, 1.5):
        pars = init + scale * rng.uniform(-1, 1, init.size)
        positive = np.array(model.config.suggested_bounds())[:, 0] >= 0
        pars = np.where(positive, np.clip(pars, 0.05, None), pars)
        data = model.expected_data(init * 1.02)
        np.testing.assert_allclose(
            ours.expected_data(pars), model.expected_data(pars), rtol=1e-13
        )
        assert float(ours.logpdf(pars, data)) == pytest.approx(
            float(model.logpdf(pars, data)[0]), rel=1e-12
        )


def test_model_is_a_pytree_and_jits():
    ws = two_channel()
    model = ds.Model(ws)
    pars = model.suggested_init()
    f = jax.jit(lambda m, p: m.logpdf(p, m.expected_data(p)))
    assert float(f(model, pars)) == pytest.approx(
        float(model.logpdf(pars, model.expected_data(pars)))
    )


# ---- objectives: values ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WORKSPACES))
def test_values_match_pyhf(name):
    ws = WORKSPACES[name]()
    ref = pyhf_hypotest(ws)
    model = ds.Model(ws)  # a Model works as well as the dict
    assert float(ds.expected_cls(ws)) == pytest.approx(ref["cls"], rel=1e-6)
    assert float(ds.expected_cls(model, test_stat="q")) == pytest.approx(
        ref["cls_q"], rel=1e-6
    )
    assert float(ds.expected_discovery_significance(ws)) == pytest.approx(
        ref["z"], rel=1e-6
    )
    unc = pyhf_hessian_uncertainty(pyhf_model(ws))
    assert float(ds.expected_poi_uncertainty(model)) == pytest.approx(unc, rel=1e-6)


def test_fit_agrees_with_pyhf_and_differentiates_implicitly():
    """fit(): pyhf's fixed-POI fit, and d(theta_hat)/d(yield) from ImplicitAdjoint."""
    ws = two_channel()
    model = pyhf_model(ws)
    _, data = asimov(model, 0.0)
    ref_pars, ref_val = pyhf.infer.mle.fixed_poi_fit(
        1.0, data, model, return_fitted_val=True
    )
    pars, val = ds.fit(ds.Model(ws), data, fixed_poi=1.0)
    assert float(val) == pytest.approx(float(ref_val), rel=1e-12)
    np.testing.assert_allclose(pars, ref_pars, atol=2e-5)
    # d theta_hat / d (a background yield) against central differences of fit().
    ws = simple()
    data = asimov(pyhf_model(ws), 0.0)[1]
    spec, arrays = ds._parse(ws)
    key = "0/1/data"  # the background

    def fitted(yields):
        arrs = {**arrays, key: yields}
        m = ds.Model(ds._replace_arrays(ws, spec, arrs))
        return ds.fit(m, data, fixed_poi=1.0)[0]

    y = arrays[key]
    tangent = jnp.array([1.0, 0.0])
    jvp = jax.jvp(fitted, (y,), (tangent,))[1]
    # A large step: the fit's tolerance (~1e-10 in the parameters) limits the FD.
    h = 1e-3 * float(y[0])
    fd = (fitted(y + h * tangent) - fitted(y - h * tangent)) / (2 * h)
    np.testing.assert_allclose(jvp, fd, rtol=1e-5, atol=1e-8)


# ---- objectives: gradients ------------------------------------------------------------


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
def test_gradients_match_pyhf_finite_differences(name):
    ws = WORKSPACES[name]()
    spec, arrays = ds._parse(ws)
    objectives = {
        "cls": ds.expected_cls,
        "z": ds.expected_discovery_significance,
        "unc": ds.expected_poi_uncertainty,
    }
    grads = {}
    for label, objective in objectives.items():
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
            return ds._replace_arrays(ws, spec, {**arrays, key: arr})

        up, down = pyhf_profiled(moved(+1)), pyhf_profiled(moved(-1))
        step = eps * (base[i] if base.ndim else float(base))
        for label, grad in grads.items():
            g = np.asarray(_get(grad, spec, key))
            ours = float(g[i] if g.ndim else g)
            fd = (up[label] - down[label]) / (2 * step)
            assert ours == pytest.approx(fd, rel=1e-5, abs=1e-9), (label, key, ours, fd)


def test_gradient_with_respect_to_mu():
    ws = simple()
    g = jax.grad(lambda mu: ds.expected_cls(ws, mu))(1.5)
    h = 1e-5
    fd = (float(ds.expected_cls(ws, 1.5 + h)) - float(ds.expected_cls(ws, 1.5 - h))) / (
        2 * h
    )
    assert float(g) == pytest.approx(fd, rel=1e-6)


def test_jit_and_grad_through_jit():
    def objective(signal):
        return ds.expected_cls(simple(signal))

    s = jnp.array([12.0, 11.0])
    eager = float(objective(s))
    assert float(jax.jit(objective)(s)) == pytest.approx(eager, rel=1e-12)
    np.testing.assert_allclose(
        jax.jit(jax.grad(objective))(s), jax.grad(objective)(s), rtol=1e-10
    )


def test_zero_signal_has_finite_gradients():
    for objective in (ds.expected_cls, ds.expected_discovery_significance):
        value, grad = jax.value_and_grad(lambda s, f=objective: f(simple(s)))(
            jnp.zeros(2)
        )
        assert np.all(np.isfinite(grad))
        assert float(value) in (0.0, 1.0)


# ---- Asimov significance --------------------------------------------------------------


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


# ---- bad input and export -------------------------------------------------------------


def _bad(edit):
    ws = two_channel()
    edit(ws)
    return ws


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda ws: ws["channels"][0]["samples"][0]["modifiers"].append(
                {"name": "x", "type": "bogus", "data": None}
            ),
            "unknown modifier type 'bogus'",
        ),
        (lambda ws: ws["measurements"][0]["config"].pop("poi"), "no 'poi'"),
        (lambda ws: ws.pop("measurements"), "no 'measurements'"),
        (lambda ws: ws["measurements"][0]["config"].update(poi="nope"), "POI 'nope'"),
        (
            lambda ws: ws["channels"][0]["samples"][1].update(data=[1.0, -2.0, 3.0]),
            "negative",
        ),
        (
            lambda ws: ws["channels"][1]["samples"][0].update(data=[1.0, math.nan]),
            "NaN",
        ),
        (lambda ws: ws["channels"][1]["samples"][0].update(data=[1.0]), "has shape"),
        (
            lambda ws: ws["measurements"][0]["config"].update(parameters=[]),
            "lumi parameter",
        ),
        (
            lambda ws: ws["channels"][0]["samples"][1]["modifiers"][3]["data"].update(
                hi=0.0
            ),
            "must be > 0",
        ),
    ],
)
def test_bad_workspace(edit, match):
    with pytest.raises(ValueError, match=match):
        ds.expected_cls(_bad(edit))


def test_empty_background_bin_and_bad_arguments():
    ws = simple()
    ws["channels"][0]["samples"][1]["data"] = [50.0, 0.0]
    with pytest.raises(ValueError, match="bin 1 of channel 'singlechannel'"):
        ds.expected_discovery_significance(ws)
    with pytest.raises(ValueError, match="test_stat"):
        ds.expected_cls(simple(), test_stat="q0")
    with pytest.raises(ValueError, match="POI bounds"):
        ds.expected_cls(simple(), mu=20.0)


def test_nan_under_jit_is_an_error_not_a_value():
    f = jax.jit(lambda s: ds.expected_cls(simple(s)))
    with pytest.raises(Exception, match="NaN or infinite yields"):
        jax.block_until_ready(f(jnp.array([math.nan, 1.0])))


def test_to_pyhf_json_round_trip():
    ws = two_channel()
    ws["channels"][0]["samples"][0]["data"] = jnp.array([5.0, 8.0, 4.0])
    ws["channels"][0]["samples"][1]["modifiers"][2]["data"]["hi_data"] = np.array(
        [22.0, 15.5, 8.0]
    )
    plain = ds.to_pyhf_json(ws)
    assert plain["channels"][0]["samples"][0]["data"] == [5.0, 8.0, 4.0]
    pyhf.Workspace(plain)  # validates against pyhf's schema
    assert copy.deepcopy(plain) == plain
    with pytest.raises(TypeError, match="traced"):
        jax.jit(lambda s: ds.to_pyhf_json(simple(s)) and s)(jnp.ones(2))
