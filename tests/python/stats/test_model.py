# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.Model against pyhf 0.7's model, and the errors for bad workspaces."""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import diffana.stats as ds

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]


@pytest.mark.parametrize("name", ["correlated", "simple", "two_channel"])
def test_model_matches_pyhf(name, rng, workspaces, pyhf_ref):
    ws = workspaces.by_name[name]()
    model = pyhf_ref.model(ws)
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


def test_model_is_a_pytree_and_jits(workspaces):
    ws = workspaces.two_channel()
    model = ds.Model(ws)
    pars = model.suggested_init()
    f = jax.jit(lambda m, p: m.logpdf(p, m.expected_data(p)))
    assert float(f(model, pars)) == pytest.approx(
        float(model.logpdf(pars, model.expected_data(pars)))
    )


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
            # Yields may be negative, as in pyhf (test_pyhf_inputs.py); uncertainties
            # may not.
            lambda ws: ws["channels"][0]["samples"][0]["modifiers"][3].update(
                data=[0.5, -0.7, 0.4]
            ),
            "negative|must be >",
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
def test_bad_workspace(edit, match, workspaces):
    ws = workspaces.two_channel()
    edit(ws)
    with pytest.raises(ValueError, match=match):
        ds.expected_cls(ws)
