# SPDX-License-Identifier: BSD-3-Clause
"""The modifier table: its names, its errors, and that a new modifier type is one
`Modifier` plus one table entry."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

import jax.numpy as jnp

import diffana.stats as ds
from diffana.stats import modifiers
from diffana.stats.modifiers import Effect, Field, Modifier, ParamRequest

pytestmark = [
    pytest.mark.jax,
    pytest.mark.usefixtures("x64"),  # every test in float64 (conftest.py)
    # pyhf 0.7's schema validation uses a deprecated jsonschema API.
    pytest.mark.filterwarnings(
        "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
    ),
]


def test_table_is_pyhfs(pyhf_ref):
    """The same types in the same order (it fixes the parameter order)."""
    table = modifiers.histfactory_set
    assert list(table) == list(pyhf_ref.pyhf.modifiers.histfactory_set)
    for name, modifier in table.items():
        assert modifier.mtype == name


def test_unknown_type_lists_the_table(workspaces):
    ws = workspaces.simple()
    ws["channels"][0]["samples"][0]["modifiers"].append(
        {"name": "x", "type": "bogus", "data": None}
    )
    known = ", ".join(modifiers.histfactory_set)
    with pytest.raises(
        ValueError, match=f"unknown modifier type 'bogus' \\(supported: {known}\\)"
    ):
        ds.Model(ws)


def test_sharing_a_parameter_names_the_types_that_may(workspaces):
    ws = workspaces.two_channel()
    ws["channels"][0]["samples"][0]["modifiers"].append(
        {"name": "jes", "type": "normfactor", "data": None}
    )
    with pytest.raises(ValueError, match="only histosys and normsys may share"):
        ds.Model(ws)


def test_shapefactor_bins_and_errors(workspaces, pyhf_ref):
    """shapefactor (in no pyhf comparison): one free factor per bin of a channel."""
    ws = workspaces.simple()
    ws["channels"][0]["samples"][1]["modifiers"].append(
        {"name": "sf", "type": "shapefactor", "data": None}
    )
    model = ds.Model(ws)
    assert model.par_names == [
        "mu",
        "sf[0]",
        "sf[1]",
        "uncorr_bkguncrt[0]",
        "uncorr_bkguncrt[1]",
    ]
    pars = jnp.array([1.0, 2.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(
        model.expected_data(pars, include_auxdata=False), [12.0 + 100.0, 11.0 + 26.0]
    )
    reference = pyhf_ref.model(ws)
    assert model.par_names == reference.config.par_names
    np.testing.assert_allclose(
        model.expected_data(pars), reference.expected_data(np.asarray(pars)), rtol=1e-14
    )
    ws["channels"].append(
        {
            "name": "cr",
            "samples": [
                {
                    "name": "background",
                    "data": [80.0],
                    "modifiers": [{"name": "sf", "type": "shapefactor", "data": None}],
                }
            ],
        }
    )
    with pytest.raises(
        ValueError, match="shapefactor 'sf' is used in several channels"
    ):
        ds.Model(ws)


# ---- a new modifier type: one class and one table entry --------------------------------


class _Offset(Effect):
    """Adds theta * shift per bin (a toy additive effect)."""

    name = "offset"
    additive = True
    rank = 10

    def fill(self, entries, layout):
        shift = [np.full(layout.shape, layout.zero) for _ in entries]
        for k, e in enumerate(entries):
            for c, s in e.where:
                first = layout.field(c, s, e.name, e.mtype, "shift")
                shift[k][layout.row(s), layout.cols(c)] = first + np.arange(
                    layout.nbins[c]
                )
        par = np.asarray([e.offset for e in entries], dtype=np.int64)
        return {"par": par, "shift": np.asarray(shift, dtype=np.int64)}

    def apply(self, tables, flat, pars, nom):
        theta = pars[tables["par"]][:, None, None]
        return jnp.sum(theta * flat[tables["shift"]], axis=0)


class _Shift(Modifier):
    mtype = "shift"
    fields = (Field("shift", per_bin=True),)
    effect = _Offset()

    def request(self, name, where, layout, config):
        return ParamRequest("normal", 1, (0.0,), ((-5.0, 5.0),), (0.0,), (1.0,))


def test_a_new_modifier_type_is_one_table_entry(workspaces, monkeypatch):
    monkeypatch.setitem(modifiers.histfactory_set, "shift", _Shift())
    ws = workspaces.simple()
    ws["channels"][0]["samples"][1]["modifiers"].append(
        {"name": "ped", "type": "shift", "data": {"shift": jnp.array([2.0, 4.0])}}
    )
    model = ds.Model(ws)
    # Parameters in table order: normfactor, shapesys, then the new type.
    assert model.par_names == ["mu", "uncorr_bkguncrt[0]", "uncorr_bkguncrt[1]", "ped"]
    pars = jnp.array([1.0, 1.1, 0.9, 0.5])
    expected = [12.0 + (50.0 + 0.5 * 2.0) * 1.1, 11.0 + (52.0 + 0.5 * 4.0) * 0.9]
    np.testing.assert_allclose(
        model.expected_data(pars, include_auxdata=False), expected
    )
    # The objectives and their gradients with respect to the new field work as is.
    value, grad = ds.value_and_grad_yields(ds.expected_discovery_significance, ws)
    assert np.isfinite(float(value))
    assert np.all(
        np.isfinite(grad["channels"][0]["samples"][1]["modifiers"][1]["data"]["shift"])
    )
    ws["channels"][0]["samples"][1]["modifiers"][1]["data"] = {}
    with pytest.raises(ValueError, match="has no data 'shift'"):
        ds.Model(ws)
