# SPDX-License-Identifier: BSD-3-Clause
"""What pyhf loads, diffana.stats loads: pyhf objects, and workspaces it used to refuse.

- a ``pyhf.Workspace`` and a ``pyhf.Model`` (with its POI, inits, bounds, fixed
  parameters and settings), and patched ones (pyhf's own patching);
- a shapefactor shared across channels (pyhf's validation case
  ``2bin_2channel_coupledshapefactor``, a data-driven background as in ROOT's
  ``example_DataDriven``);
- measurement settings for any parameter, and entries naming a parameter no
  modifier uses (``lumi`` from HistFactory's XML import), ignored as by pyhf;
- any one-parameter POI (pyhf's rule);
- negative yields (a negative signal), with pyhf's logpdf where it is defined.

Each against pyhf 0.7: parameter names and order, suggested inits, bounds and
fixed flags, auxiliary data, expected data and logpdf; the expected CLs against
``pyhf.infer.hypotest``; gradients with respect to the yields against central
finite differences.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

from diffana.stats._common import WorkspaceError
from diffana.stats.model import Model
from diffana.stats.objectives import expected_cls
from diffana.stats.workspace import to_pyhf_json, value_and_grad_yields

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]

_EXPECTED = jax.jit(lambda m, p: m.expected_data(p))
_LOGPDF = jax.jit(lambda m, p, d: m.logpdf(p, d))


def assert_same_model(ours, ref, rng, rtol=1e-13):
    """Everything a fit or an objective reads of a model, against pyhf's."""
    cfg = ref.config
    assert ours.par_names == cfg.par_names
    assert ours.poi_name == cfg.poi_name
    assert ours.poi_index == cfg.poi_index
    assert ours.channels == cfg.channels
    np.testing.assert_allclose(ours.suggested_init(), cfg.suggested_init(), rtol=0)
    np.testing.assert_allclose(ours.suggested_bounds(), cfg.suggested_bounds(), rtol=0)
    np.testing.assert_array_equal(ours.suggested_fixed(), cfg.suggested_fixed())
    np.testing.assert_allclose(ours.auxdata, cfg.auxdata, rtol=1e-14)
    init = np.array(cfg.suggested_init())
    bounds = np.array(cfg.suggested_bounds())
    data = ref.expected_data(init * 1.02)
    for scale in (0.3, 1.5):
        pars = np.clip(init + scale * rng.uniform(-1, 1, init.size), *bounds.T)
        pars = np.where(bounds[:, 0] >= 0, np.clip(pars, 0.05, None), pars)
        np.testing.assert_allclose(
            _EXPECTED(ours, pars), ref.expected_data(pars), rtol=rtol
        )
        assert float(_LOGPDF(ours, pars, data)) == pytest.approx(
            float(ref.logpdf(pars, data)[0]), rel=1e-12
        )


def pyhf_cls(pyhf, model, mu=1.0):
    pars = np.array(model.config.suggested_init(), dtype=float)
    pars[model.config.poi_index] = 0.0
    data = model.expected_data(pars)
    return float(pyhf.infer.hypotest(mu, data, model, test_stat="qtilde"))


# ---- pyhf objects -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["correlated", "simple", "two_channel"])
def test_pyhf_workspace_and_model(name, workspaces, pyhf_ref, rng):
    pyhf = pyhf_ref.pyhf
    ws = workspaces.by_name[name]()
    pws = pyhf.Workspace(to_pyhf_json(ws))
    ref = pws.model()
    assert_same_model(Model(pws), ref, rng)
    assert_same_model(Model(ref), ref, rng)
    value = float(expected_cls(ws))
    assert float(expected_cls(pws)) == pytest.approx(value, rel=1e-12)
    assert float(expected_cls(ref)) == pytest.approx(value, rel=1e-12)


def test_pyhf_model_config_is_read(workspaces, pyhf_ref, rng):
    """The POI, inits, bounds and fixed flags come from the model's config:
    its own measurement settings, another POI (set_poi), and parameter sets
    changed after the model was built."""
    pyhf = pyhf_ref.pyhf
    ws = workspaces.two_channel()
    params = ws["measurements"][0]["config"]["parameters"]
    params += [
        {"name": "w_norm", "fixed": True, "inits": [0.4]},
        {"name": "jes", "bounds": [[-3.0, 2.0]], "inits": [0.2]},
        {"name": "stat_CR", "fixed": True, "inits": [1.0, 1.1]},
        {"name": "mu_tt", "bounds": [[0.5, 2.0]]},
        {"name": "w_shape", "inits": [1.1, 1.0, 0.9], "bounds": [[0.5, 1.5]] * 3},
    ]
    # The same settings in a workspace dict.
    assert_same_model(Model(ws), pyhf.Workspace(to_pyhf_json(ws)).model(), rng)
    ref = pyhf.Workspace(to_pyhf_json(ws)).model(poi_name="mu_tt")
    assert_same_model(Model(ref), ref, rng)
    # Another POI after the fact, and a parameter set changed in place.
    ref.config.set_poi("mu")
    ref.config.param_set("sig_xsec").suggested_fixed = [True]
    ref.config.param_set("stat_SR").suggested_fixed = [False, True, False]
    ref.config.param_set("mu").suggested_bounds = [(0.0, 5.0)]
    ours = Model(ref)
    assert_same_model(ours, ref, rng)
    assert float(expected_cls(ref)) == pytest.approx(pyhf_cls(pyhf, ref), rel=1e-6)


def test_patches_are_pyhfs_own(workspaces, pyhf_ref, rng):
    """A patch is applied with pyhf (``PatchSet.apply`` gives a pyhf.Workspace,
    ``Workspace.model(patches=...)`` a pyhf.Model); both are read as they are."""
    pyhf = pyhf_ref.pyhf
    ws = pyhf.Workspace(to_pyhf_json(workspaces.simple()))
    patchset = pyhf.PatchSet(
        {
            "metadata": {
                "references": {"hepdata": "ins0000000"},
                "description": "signal points",
                "digests": {"sha256": pyhf.utils.digest(ws)},
                "labels": ["m"],
            },
            "patches": [
                {
                    "metadata": {"name": "m500", "values": [500]},
                    "patch": [
                        {
                            "op": "replace",
                            "path": "/channels/0/samples/0/data",
                            "value": [3.0, 4.5],
                        }
                    ],
                }
            ],
            "version": "1.0.0",
        }
    )
    patched = patchset.apply(ws, "m500")
    ref = patched.model()
    assert_same_model(Model(patched), ref, rng)
    via_model = ws.model(patches=[patchset["m500"]])
    assert_same_model(Model(via_model), via_model, rng)
    assert float(expected_cls(via_model)) == pytest.approx(
        pyhf_cls(pyhf, via_model), rel=1e-6
    )
    with pytest.raises(WorkspaceError, match=r"a pyhf\.PatchSet is not a workspace"):
        Model(patchset)
    with pytest.raises(WorkspaceError, match=r"a pyhf\.Patch is not a workspace"):
        Model(patchset["m500"])


def test_bad_pyhf_models_are_one_line(workspaces, pyhf_ref):
    pyhf = pyhf_ref.pyhf
    ws = pyhf.Workspace(to_pyhf_json(workspaces.simple()))
    cases = [
        (lambda: Model(ws.model(), measurement="meas"), "carries its measurement"),
        (
            lambda: Model(ws.model(), modifier_settings={}),
            "carries its measurement and modifier_settings",
        ),
        (lambda: Model(ws.model(poi_name=None)), "has no POI"),
        (lambda: Model(ws.model(batch_size=2)), "batched model"),
        (lambda: Model(ws.model(clip_bin_data=0.0)), "clip_bin_data"),
    ]
    for build, match in cases:
        with pytest.raises(WorkspaceError, match=match) as err:
            build()
        assert "\n" not in str(err.value)
    with pytest.raises(TypeError, match="a workspace is a dict"):
        Model([1, 2])


def test_value_and_grad_yields_of_pyhf_objects(workspaces, pyhf_ref):
    pyhf = pyhf_ref.pyhf
    ws = workspaces.simple()
    value, grad = value_and_grad_yields(expected_cls, ws)
    pws = pyhf.Workspace(to_pyhf_json(ws))
    for obj in (pws, pws.model()):
        v, g = value_and_grad_yields(expected_cls, obj)
        assert float(v) == pytest.approx(float(value), rel=1e-12)
        for k in (0, 1):
            np.testing.assert_allclose(
                g["channels"][0]["samples"][k]["data"],
                grad["channels"][0]["samples"][k]["data"],
                rtol=1e-10,
            )
    coded = pws.model(modifier_settings={"normsys": {"interpcode": "code1"}})
    with pytest.raises(WorkspaceError, match=r"differentiate diffana\.stats\.Model"):
        value_and_grad_yields(expected_cls, coded)


# ---- a shapefactor shared across channels ---------------------------------------------


def coupled_shapefactor(signal=(20.0, 20.0)):
    """pyhf's validation case 2bin_2channel_coupledshapefactor."""
    sf = {"name": "coupled_shapefactor", "type": "shapefactor", "data": None}
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
                    {"name": "bkg1", "data": [100.0, 70.0], "modifiers": [sf]},
                ],
            },
            {
                "name": "control",
                "samples": [
                    {"name": "background", "data": [100.0, 100.0], "modifiers": [sf]}
                ],
            },
        ],
        "observations": [
            {"name": "signal", "data": [220.0, 230.0]},
            {"name": "control", "data": [200.0, 300.0]},
        ],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }


def data_driven(signal=(20.0, 10.0)):
    """A data-driven background as in ROOT's example_DataDriven: one shapefactor
    in a signal and a control region (with a normsys in the signal region only),
    staterror and normsys on an MC background, and the ``lumi`` configuration
    every HistFactory XML import carries although no sample uses it."""
    stat = {"name": "staterror_sr", "type": "staterror", "data": [5.0, 0.5]}
    xsec = {
        "name": "bkg1CrossSection",
        "type": "normsys",
        "data": {"hi": 1.05, "lo": 0.95},
    }
    shape = {"name": "Bkg2Shape", "type": "shapefactor", "data": None}
    lumi = {
        "name": "lumi",
        "auxdata": [1.0],
        "sigmas": [0.1],
        "bounds": [[0.5, 1.5]],
        "inits": [1.0],
    }
    return {
        "channels": [
            {
                "name": "signalRegion",
                "samples": [
                    {
                        "name": "signal",
                        "data": signal,
                        "modifiers": [
                            {
                                "name": "syst_signal",
                                "type": "normsys",
                                "data": {"hi": 1.05, "lo": 0.95},
                            },
                            {
                                "name": "SigXsecOverSM",
                                "type": "normfactor",
                                "data": None,
                            },
                        ],
                    },
                    {
                        "name": "background1",
                        "data": [100.0, 10.0],
                        "modifiers": [stat, xsec],
                    },
                    {
                        "name": "background2",
                        "data": [1.0, 1.0],
                        "modifiers": [
                            {
                                "name": "syst_bkg2Extrapolation",
                                "type": "normsys",
                                "data": {"hi": 1.05, "lo": 0.95},
                            },
                            shape,
                        ],
                    },
                ],
            },
            {
                "name": "controlRegion",
                "samples": [
                    {
                        "name": "background1",
                        "data": [20.0, 4.0],
                        "modifiers": [
                            {
                                "name": "staterror_cr",
                                "type": "staterror",
                                "data": [1.0, 0.2],
                            },
                            xsec,
                        ],
                    },
                    {"name": "background2", "data": [1.0, 1.0], "modifiers": [shape]},
                ],
            },
        ],
        "observations": [
            {"name": "signalRegion", "data": [180.0, 110.0]},
            {"name": "controlRegion", "data": [100.0, 104.0]},
        ],
        "measurements": [
            {
                "name": "GaussExample",
                "config": {
                    "poi": "SigXsecOverSM",
                    "parameters": [
                        lumi,
                        {
                            "name": "SigXsecOverSM",
                            "bounds": [[0.0, 3.0]],
                            "inits": [1.0],
                        },
                        {
                            "name": "Bkg2Shape",
                            "inits": [80.0, 100.0],
                            "bounds": [[0.0, 500.0]] * 2,
                        },
                    ],
                },
            }
        ],
        "version": "1.0.0",
    }


@pytest.mark.parametrize("build", [coupled_shapefactor, data_driven])
def test_shared_shapefactor_matches_pyhf(build, pyhf_ref, rng):
    pyhf = pyhf_ref.pyhf
    ws = build()
    ref = pyhf.Workspace(to_pyhf_json(ws)).model()
    ours = Model(ws)
    assert_same_model(ours, ref, rng)
    assert float(expected_cls(ws)) == pytest.approx(pyhf_cls(pyhf, ref), rel=1e-6)


def test_shared_shapefactor_gradient_matches_finite_differences():
    def cls(signal):
        return expected_cls(coupled_shapefactor(signal))

    s = jnp.array([20.0, 20.0])
    grad = jax.grad(cls)(s)
    h = 1e-4
    for k in range(s.size):
        e = jnp.zeros(s.size).at[k].set(h)
        fd = (float(cls(s + e)) - float(cls(s - e))) / (2 * h)
        assert float(grad[k]) == pytest.approx(fd, rel=1e-5, abs=1e-10)


def test_shapefactor_over_channels_of_fewer_bins(pyhf_ref, rng):
    """A shapefactor set has as many parameters as the first channel (sorted)
    has bins; channels with fewer bins use its first parameters."""
    ws = coupled_shapefactor()
    ws["channels"][1]["samples"][0]["data"] = [100.0]
    ws["observations"][1]["data"] = [200.0]
    ws["channels"][1]["name"] = ws["observations"][1]["name"] = "zcontrol"
    ref = pyhf_ref.pyhf.Workspace(to_pyhf_json(ws)).model()
    assert_same_model(Model(ws), ref, rng)
    ws["channels"][1]["name"] = ws["observations"][1]["name"] = "acontrol"
    with pytest.raises(
        WorkspaceError,
        match="shapefactor 'coupled_shapefactor' is used in several channels with "
        r"more bins in 'signal' \(2\) than in 'acontrol' \(1\)",
    ):
        Model(ws)


# ---- POIs, measurement entries, negative yields ---------------------------------------


# A one-bin shapefactor, and a normsys (constrained), as pyhf allows.
@pytest.mark.parametrize("poi", ["sf", "bkg_norm"])
def test_any_one_parameter_poi(poi, pyhf_ref, rng):
    pyhf = pyhf_ref.pyhf
    ws = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "signal",
                        "data": [8.0],
                        "modifiers": [
                            {"name": "sf", "type": "shapefactor", "data": None}
                        ],
                    },
                    {
                        "name": "background",
                        "data": [40.0],
                        "modifiers": [
                            {
                                "name": "bkg_norm",
                                "type": "normsys",
                                "data": {"hi": 1.3, "lo": 0.75},
                            },
                            {"name": "stat", "type": "staterror", "data": [3.0]},
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "sr", "data": [45.0]}],
        "measurements": [{"name": "m", "config": {"poi": poi, "parameters": []}}],
        "version": "1.0.0",
    }
    ref = pyhf.Workspace(ws).model()
    ours = Model(ws)
    assert_same_model(ours, ref, rng)
    assert float(expected_cls(ws, mu=0.8)) == pytest.approx(
        pyhf_cls(pyhf, ref, mu=0.8), rel=1e-6
    )
    if poi == "bkg_norm":  # a constrained POI: the gradient too

        def cls(background):
            w = copy.deepcopy(ws)
            w["channels"][0]["samples"][1]["data"] = background
            return expected_cls(w, mu=0.8)

        b = jnp.array([40.0])
        g = float(jax.grad(cls)(b)[0])
        h = 1e-3
        fd = (float(cls(b + h)) - float(cls(b - h))) / (2 * h)
        assert g == pytest.approx(fd, rel=1e-5, abs=1e-10)
    # A one-bin staterror (its constraint from the yields): the model as pyhf's.
    ws["measurements"][0]["config"]["poi"] = "stat"
    ref = pyhf.Workspace(ws).model()
    assert_same_model(Model(ws), ref, rng)


def test_multi_parameter_poi_is_refused(workspaces):
    ws = workspaces.simple()
    ws["measurements"][0]["config"]["poi"] = "uncorr_bkguncrt"
    with pytest.raises(
        WorkspaceError, match="the POI 'uncorr_bkguncrt' has 2 parameters"
    ):
        Model(ws)


def test_unused_measurement_entries_are_ignored(workspaces, pyhf_ref, rng):
    ws = workspaces.simple()
    ws["measurements"][0]["config"]["parameters"] = [
        {
            "name": "lumi",
            "auxdata": [1.0],
            "sigmas": [0.017],
            "bounds": [[0.9, 1.1]],
            "inits": [1.0],
        },
        {"name": "not_a_modifier", "fixed": True},
    ]
    ref = pyhf_ref.pyhf.Workspace(to_pyhf_json(ws)).model()
    assert_same_model(Model(ws), ref, rng)
    assert float(expected_cls(ws)) == pytest.approx(
        float(expected_cls(workspaces.simple())), rel=1e-12
    )


def test_negative_signal_matches_pyhf(workspaces, pyhf_ref, rng):
    """Negative yields (interference) are read; the model and its logpdf equal
    pyhf's, -inf where a bin expects no events and has some, and a ValueError
    naming the bin where it expects fewer than none (pyhf: NaN)."""
    pyhf = pyhf_ref.pyhf
    ws = workspaces.simple(signal=[-6.0, 11.0])
    ws["channels"][0]["samples"][1]["modifiers"][0]["data"] = [3.0, 7.0]
    ref = pyhf.Workspace(to_pyhf_json(ws)).model()
    ours = Model(ws)
    assert_same_model(ours, ref, rng)
    # Expected rate 0 in bin 0 (mu = 50/6 with the background at 1): -inf.
    pars = np.array([50.0 / 6.0, 1.0, 1.0])
    data = np.array([5.0, 60.0, *ref.config.auxdata])
    assert float(ours.logpdf(pars, data)) == float(ref.logpdf(pars, data)[0]) == -np.inf
    # Expected rate < 0 with events: pyhf gives NaN; diffana says which bin.
    pars = np.array([9.0, 1.0, 1.0])
    assert np.isnan(ref.logpdf(pars, data)[0])
    with pytest.raises(ValueError, match="bin 0 of channel 'singlechannel' expects -4"):
        ours.logpdf(pars, data)
    assert np.isnan(float(_LOGPDF(ours, pars, data)))  # under jit: pyhf's NaN
    # No events there: defined (the rate enters linearly), as in pyhf.
    data[0] = 0.0
    assert float(ours.logpdf(pars, data)) == pytest.approx(
        float(ref.logpdf(pars, data)[0]), rel=1e-12
    )
    # The gradient of logpdf with respect to the (negative) yields.
    pars = np.array([0.5, 1.1, 0.9])
    data = np.array([55.0, 60.0, *ref.config.auxdata])

    def f(signal):
        return Model(workspaces.simple(signal=signal)).logpdf(pars, data)

    s = jnp.array([-6.0, 11.0])
    g = jax.grad(f)(s)
    h = 1e-3  # logpdf is ~1e2 with terms of ~1e2: a larger step, exact enough
    for k in range(2):
        e = jnp.zeros(2).at[k].set(h)
        fd = (float(f(s + e)) - float(f(s - e))) / (2 * h)
        assert float(g[k]) == pytest.approx(fd, rel=1e-7)


def test_negative_uncertainties_are_still_refused(workspaces):
    ws = workspaces.simple()
    ws["channels"][0]["samples"][1]["modifiers"][0]["data"] = [3.0, -7.0]
    with pytest.raises(WorkspaceError, match="has negative entries") as err:
        Model(ws)
    assert "uncorr_bkguncrt" in str(err.value)
    assert isinstance(err.value, ValueError)
    ws = copy.deepcopy(workspaces.two_channel())
    ws["channels"][0]["samples"][1]["modifiers"][2]["data"]["lo_data"] = [
        -1.0,
        2.0,
        3.0,
    ]
    Model(ws)  # histosys variations are yields: any sign, as in pyhf
