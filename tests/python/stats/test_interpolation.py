# SPDX-License-Identifier: BSD-3-Clause
"""diffana.stats.interpolation against pyhf 0.7's interpolators (codes 4 and 4p)."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="diffana.stats needs JAX")
pytest.importorskip("optimistix", reason="diffana.stats needs optimistix")

from diffana.stats.interpolation import code4, code4p

pytestmark = [pytest.mark.jax, pytest.mark.usefixtures("x64")]

ALPHAS = np.array([-3.0, -1.0, -0.999, -0.4, 0.0, 0.3, 0.999, 1.0, 1.7])


def test_code4_matches_pyhf(pyhf_ref):
    lo, hi = np.array([0.9, 0.7, 1.2]), np.array([1.1, 1.4, 0.95])
    # pyhf's histogramssets: [systematic][sample][lo, nominal, hi][bin]; the result
    # is [systematic][sample][alpha][bin].
    ref = pyhf_ref.pyhf.interpolators.code4([[np.stack([lo, np.ones(3), hi])]])(
        ALPHAS[None, :]
    )
    ours = code4(ALPHAS[:, None], lo[None, :], hi[None, :])
    np.testing.assert_allclose(ours, np.asarray(ref)[0, 0], rtol=1e-14)


def test_code4p_matches_pyhf(pyhf_ref):
    lo, nom, hi = np.array([8.0, 3.0]), np.array([10.0, 4.0]), np.array([13.0, 4.5])
    ref = pyhf_ref.pyhf.interpolators.code4p([[np.stack([lo, nom, hi])]])(
        ALPHAS[None, :]
    )
    ours = code4p(ALPHAS[:, None], lo[None, :], nom[None, :], hi[None, :])
    np.testing.assert_allclose(ours, np.asarray(ref)[0, 0], rtol=1e-13, atol=1e-14)


def test_code4_is_exactly_one_where_nothing_varies():
    assert np.all(
        np.asarray(code4(ALPHAS, np.ones_like(ALPHAS), np.ones_like(ALPHAS))) == 1
    )
