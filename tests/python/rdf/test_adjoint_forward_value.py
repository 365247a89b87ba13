# SPDX-License-Identifier: BSD-3-Clause
"""``p.value()`` of a forward parameter in a DiffFrame with reverse parameters: in
pass 1 a forward parameter is a Dual (``.value()`` is its number, what a function
of doubles takes: the AGC configuration passes ``temperature.value()`` to the soft
trijet mass); in the adjoint's pass 2 it is a plain number, and the expression
must still compile there and give forward mode's gradient."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.root

EDGES = np.linspace(0.0, 2.0, 9)
VALUES = {"a": 1.1, "b": 0.2, "c": 0.5}


def _histogram(ROOT, forward, reverse):
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame(600).Define(
        "x", "double(((rdfentry_ + 1) * 2654435761ULL) % 1000003ULL) / 1000003.0"
    )
    ddf = DiffFrame(df, forward, reverse=reverse or None)
    ddf = ddf.define("xs", "x * a + b * std::exp(-c.value())").define(
        "w", "1.0 + c * x"
    )
    return ddf.histo("xs", EDGES, weight="w", bandwidth=0.1)


def test_value_of_a_forward_parameter_compiles_in_the_adjoint_pass(ROOT):
    from diffana.rdf import adjoint_gradient

    g = np.linspace(-1.0, 1.0, EDGES.size - 1)
    ref = _histogram(ROOT, VALUES, None).result()
    # c enters the weight as a Dual and the position through its value only.
    want = np.tensordot(g, ref.jacobian, axes=(0, 0))
    h = _histogram(ROOT, {"c": 0.5}, {"a": 1.1, "b": 0.2})
    grad = adjoint_gradient({h: (g, None)})
    got = np.array([grad[k] for k in VALUES])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    np.testing.assert_allclose(h.result().values, ref.values, rtol=1e-14)
