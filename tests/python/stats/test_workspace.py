# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.to_pyhf_json: plain JSON that pyhf's schema accepts.

(`value_and_grad_yields` is tested with the objectives' gradients.)
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

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


def test_to_pyhf_json_round_trip(workspaces, pyhf_ref):
    ws = workspaces.two_channel()
    ws["channels"][0]["samples"][0]["data"] = jnp.array([5.0, 8.0, 4.0])
    ws["channels"][0]["samples"][1]["modifiers"][2]["data"]["hi_data"] = np.array(
        [22.0, 15.5, 8.0]
    )
    plain = ds.to_pyhf_json(ws)
    assert plain["channels"][0]["samples"][0]["data"] == [5.0, 8.0, 4.0]
    pyhf_ref.pyhf.Workspace(plain)  # validates against pyhf's schema
    assert copy.deepcopy(plain) == plain
    with pytest.raises(TypeError, match="traced"):
        jax.jit(lambda s: ds.to_pyhf_json(workspaces.simple(s)) and s)(jnp.ones(2))
