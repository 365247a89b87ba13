# SPDX-License-Identifier: BSD-3-Clause
"""Interpolation codes 0 (histosys) and 1 (normsys), and ``modifier_settings``.

The functions against pyhf 0.7's ``interpolators`` and their derivatives against
finite differences; `Model` with ``modifier_settings`` against pyhf's model
with the same settings (expected data, logpdf, expected CLs), and the gradient
of the expected CLs with respect to the yields against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

from diffana.stats import interpolation
from diffana.stats._common import WorkspaceError
from diffana.stats.interpolation import code0, code1
from diffana.stats.model import Model
from diffana.stats.objectives import expected_cls

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

ALPHAS = np.array([-3.0, -1.0, -0.999, -0.4, 0.0, 0.3, 0.999, 1.0, 1.7])
XML_DEFAULTS = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}


# ---- the functions ----------------------------------------------------------------------


def test_code1_matches_pyhf(pyhf_ref):
    lo, hi = np.array([0.9, 0.7, 1.2]), np.array([1.1, 1.4, 0.95])
    # pyhf's histogramssets: [systematic][sample][lo, nominal, hi][bin].
    ref = pyhf_ref.pyhf.interpolators.code1([[np.stack([lo, np.ones(3), hi])]])(
        ALPHAS[None, :]
    )
    ours = code1(ALPHAS[:, None], lo[None, :], hi[None, :])
    np.testing.assert_allclose(ours, np.asarray(ref)[0, 0], rtol=1e-14)


def test_code0_matches_pyhf(pyhf_ref):
    lo, nom, hi = np.array([8.0, 3.0]), np.array([10.0, 4.0]), np.array([13.0, 4.5])
    ref = pyhf_ref.pyhf.interpolators.code0([[np.stack([lo, nom, hi])]])(
        ALPHAS[None, :]
    )
    ours = code0(ALPHAS[:, None], lo[None, :], nom[None, :], hi[None, :])
    np.testing.assert_allclose(ours, np.asarray(ref)[0, 0], rtol=1e-14, atol=1e-14)


def test_all_codes_are_exported():
    assert interpolation.__all__ == ["code0", "code1", "code4", "code4p"]


@pytest.mark.parametrize("alpha", [-2.3, -0.7, -0.2, 0.2, 0.6, 1.9])
def test_code1_and_code0_gradients_match_finite_differences(alpha):
    """d/d(alpha, lo, hi[, nom]) away from the kink at alpha = 0."""
    args1 = np.array([alpha, 0.87, 1.16])
    args0 = np.array([alpha, 8.0, 10.0, 13.5])
    for fn, args in ((code1, args1), (code0, args0)):
        grad = np.asarray(jax.grad(lambda x, fn=fn: fn(*x))(jnp.asarray(args)))
        h = 1e-6
        for k in range(args.size):
            up, dn = args.copy(), args.copy()
            up[k] += h
            dn[k] -= h
            fd = (float(fn(*up)) - float(fn(*dn))) / (2 * h)
            assert grad[k] == pytest.approx(fd, rel=1e-7, abs=1e-10), (fn, k)


def test_code1_and_code0_at_the_kink():
    """At alpha = 0 the derivative is the one of the alpha < 0 side, as pyhf's
    ``alpha > 0`` selects."""
    g1 = jax.grad(code1)(0.0, 0.8, 1.25)
    g0 = jax.grad(code0)(0.0, 8.0, 10.0, 13.0)
    assert float(g1) == pytest.approx(-np.log(0.8), rel=1e-14)
    assert float(g0) == pytest.approx(2.0, rel=1e-14)


# ---- in the model ---------------------------------------------------------------------


def coupled_histosys(signal=(30.0, 35.0)):
    """pyhf's validation case 2bin_2channel_coupledhistosys (plus its data)."""

    def histosys(lo, hi):
        return {
            "name": "coupled_histosys",
            "type": "histosys",
            "data": {"lo_data": lo, "hi_data": hi},
        }

    return {
        "channels": [
            {
                "name": "signal",
                "samples": [
                    {
                        "name": "signal",
                        "data": signal,
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None}
                        ],
                    },
                    {
                        "name": "bkg1",
                        "data": [100.0, 100.0],
                        "modifiers": [histosys([90.0, 90.0], [110.0, 110.0])],
                    },
                    {
                        "name": "bkg2",
                        "data": [50.0, 120.0],
                        "modifiers": [histosys([45.0, 45.0], [55.0, 55.0])],
                    },
                ],
            },
            {
                "name": "control",
                "samples": [
                    {
                        "name": "background",
                        "data": [105.0, 100.0],
                        "modifiers": [histosys([95.0, 90.0], [110.0, 115.0])],
                    }
                ],
            },
        ],
        "observations": [
            {"name": "signal", "data": [170.0, 220.0]},
            {"name": "control", "data": [110.0, 105.0]},
        ],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }


SETTINGS = {
    "defaults": None,
    "xml": XML_DEFAULTS,
    "normsys_only": {"normsys": {"interpcode": "code4"}},  # histosys falls back to 0
    "empty": {},  # pyhf's fallbacks: code 1 and code 0
}


def _pyhf_model(pyhf_ref, ws, settings):
    import diffana.stats.workspace as dw

    kwargs = {} if settings is None else {"modifier_settings": settings}
    return pyhf_ref.pyhf.Workspace(dw.to_pyhf_json(ws)).model(**kwargs)


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("name", ["coupled_histosys", "two_channel"])
def test_model_with_settings_matches_pyhf(name, setting, workspaces, pyhf_ref, rng):
    ws = coupled_histosys() if name == "coupled_histosys" else workspaces.two_channel()
    settings = SETTINGS[setting]
    ref = _pyhf_model(pyhf_ref, ws, settings)
    ours = Model(ws, modifier_settings=settings)
    assert ours.par_names == ref.config.par_names
    init = np.array(ref.config.suggested_init())
    data = ref.expected_data(init * 1.02)
    expected = jax.jit(lambda m, p: m.expected_data(p))
    logpdf = jax.jit(lambda m, p, d: m.logpdf(p, d))
    for scale in (0.4, 1.6):
        pars = init + scale * rng.uniform(-1, 1, init.size)
        positive = np.array(ref.config.suggested_bounds())[:, 0] >= 0
        pars = np.where(positive, np.clip(pars, 0.05, None), pars)
        np.testing.assert_allclose(
            expected(ours, pars), ref.expected_data(pars), rtol=1e-13
        )
        assert float(logpdf(ours, pars, data)) == pytest.approx(
            float(ref.logpdf(pars, data)[0]), rel=1e-12
        )
    # The same from the pyhf model itself, which carries its settings.
    from_pyhf = Model(ref)
    np.testing.assert_allclose(
        expected(from_pyhf, init + 0.5), ref.expected_data(init + 0.5), rtol=1e-13
    )


def _pyhf_cls(pyhf_ref, model, start=0.0):
    """pyhf's expected CLs; its fits start at the suggested init with the
    nuisance parameter ``coupled_histosys`` at ``start``."""
    pars = np.array(model.config.suggested_init(), dtype=float)
    pars[model.config.poi_index] = 0.0
    data = model.expected_data(pars)
    init = np.array(model.config.suggested_init(), dtype=float)
    init[model.config.par_slice("coupled_histosys")] = start
    return float(
        pyhf_ref.pyhf.infer.hypotest(
            1.0, data, model, init_pars=init.tolist(), test_stat="qtilde"
        )
    )


def test_expected_cls_with_xml_codes_matches_pyhf(pyhf_ref):
    """2bin_2channel_coupledhistosys under codes 4/4p and 1/0, against pyhf.

    With code 0 the profile likelihood at mu = 1 has two minima in the nuisance
    parameter, one on each side of the kink at 0. pyhf's fit, started on the
    kink (the suggested init), ends in the higher one, on the alpha > 0 side:
    its CLs, 0.0032, is 15 times smaller than with codes 4/4p (0.050). Started
    on the alpha < 0 side it finds the lower minimum, the profile likelihood
    itself, and agrees with diffana (0.0478): the codes change this CLs by
    5%, not 15 times.
    """
    ws = coupled_histosys()
    ref_4 = _pyhf_model(pyhf_ref, ws, None)
    ours_4 = float(expected_cls(Model(ws)))
    assert ours_4 == pytest.approx(_pyhf_cls(pyhf_ref, ref_4), rel=1e-7)
    assert float(expected_cls(ref_4)) == pytest.approx(ours_4, rel=1e-12)

    ref_10 = _pyhf_model(pyhf_ref, ws, XML_DEFAULTS)
    ours_10 = float(expected_cls(Model(ws, modifier_settings=XML_DEFAULTS)))
    by_start = {start: _pyhf_cls(pyhf_ref, ref_10, start) for start in (-0.4, 0.0)}
    assert ours_10 == pytest.approx(by_start[-0.4], rel=1e-7)
    # pyhf from its suggested init: the other, local minimum.
    assert by_start[0.0] < ours_10 / 10
    # A pyhf model goes through the objectives as it is, with its settings.
    assert float(expected_cls(ref_10)) == pytest.approx(ours_10, rel=1e-12)
    assert ours_10 == pytest.approx(ours_4, rel=0.1)


def test_expected_cls_gradient_with_xml_codes_matches_finite_differences():
    """jax.grad of the expected CLs with respect to the yields (sample data and
    histosys variations) under codes 1/0 equals central finite differences."""

    def cls_of(signal, hi):
        ws = coupled_histosys(signal)
        ws["channels"][1]["samples"][0]["modifiers"][0]["data"]["hi_data"] = hi
        return expected_cls(Model(ws, modifier_settings=XML_DEFAULTS))

    signal, hi = jnp.array([30.0, 35.0]), jnp.array([110.0, 115.0])
    g_sig, g_hi = jax.grad(cls_of, argnums=(0, 1))(signal, hi)
    h = 1e-3
    for k in range(2):
        e = jnp.zeros(2).at[k].set(h)
        fd_sig = (float(cls_of(signal + e, hi)) - float(cls_of(signal - e, hi))) / (
            2 * h
        )
        fd_hi = (float(cls_of(signal, hi + e)) - float(cls_of(signal, hi - e))) / (
            2 * h
        )
        assert float(g_sig[k]) == pytest.approx(fd_sig, rel=1e-5, abs=1e-10)
        assert float(g_hi[k]) == pytest.approx(fd_hi, rel=1e-5, abs=1e-10)


def test_model_gradient_with_codes_matches_finite_differences(workspaces):
    """d logpdf / d (normsys hi, histosys lo_data) under codes 1/0."""
    ws = workspaces.two_channel()
    model = Model(ws, modifier_settings=XML_DEFAULTS)
    pars = np.asarray(model.suggested_init()) + 0.3
    data = np.asarray(model.expected_data(model.suggested_init())) * 1.05

    def f(hi, lo_data):
        w = workspaces.two_channel()
        smp = w["channels"][0]["samples"][1]["modifiers"]
        smp[3]["data"]["hi"] = hi
        smp[2]["data"]["lo_data"] = lo_data
        return Model(w, modifier_settings=XML_DEFAULTS).logpdf(pars, data)

    f = jax.jit(f)
    hi, lo = 1.05, np.array([18.5, 14.0, 9.5])
    g_hi, g_lo = jax.jit(jax.grad(f, argnums=(0, 1)))(hi, jnp.asarray(lo))
    h = 1e-6
    fd = (float(f(hi + h, lo)) - float(f(hi - h, lo))) / (2 * h)
    assert float(g_hi) == pytest.approx(fd, rel=1e-6)
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (float(f(hi, lo + e)) - float(f(hi, lo - e))) / (2 * h)
        assert float(g_lo[k]) == pytest.approx(fd, rel=1e-6)


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"normsys": {"interpcode": "code2"}}, "interpcode 'code2' is not supported"),
        ({"histosys": {"interpcode": "code2"}}, "supported: code0, code4p"),
        ({"bogus": {}}, r"unknown modifier type\(s\) \['bogus'\]"),
        ({"staterror": {"interpcode": "code1"}}, "staterror takes no setting"),
        ({"normsys": {"interp": "code1"}}, r"normsys takes no setting \['interp'\]"),
        ({"normsys": "code1"}, r"modifier_settings\['normsys'\] must be a dict"),
        ("code1", "modifier_settings must be a dict"),
    ],
)
def test_bad_settings_are_one_line(settings, match, workspaces):
    with pytest.raises(WorkspaceError, match=match) as err:
        Model(workspaces.two_channel(), modifier_settings=settings)
    assert "\n" not in str(err.value)
