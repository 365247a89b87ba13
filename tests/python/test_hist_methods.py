# SPDX-License-Identifier: BSD-3-Clause
"""GradHistogram's arithmetic: scaling, rebinning, mirroring, named parameters and
JSON; each compared with filling the equivalent histogram directly."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import diffana


@pytest.fixture
def events(rng):
    n = 500
    x = rng.normal(1.5, 0.8, n)
    w = rng.uniform(0.5, 1.5, n)
    return x, w, rng.normal(size=(n, 2)), rng.normal(size=(n, 2))


def test_scaled_equals_scaled_weights(events):
    x, w, xt, wt = events
    edges = np.linspace(0.0, 3.0, 7)
    h = diffana.histogram(x, edges, w, 0.2, xt, wt).scaled(2.5)
    ref = diffana.histogram(x, edges, 2.5 * w, 0.2, xt, 2.5 * wt)
    for attr in ("values", "variances", "jacobian", "variances_jacobian"):
        np.testing.assert_allclose(getattr(h, attr), getattr(ref, attr), rtol=1e-12)


def test_scaled_refuses_non_finite():
    h = diffana.histogram([0.5], [0.0, 1.0])
    with pytest.raises(ValueError, match="factor must be finite"):
        h.scaled(np.inf)


def test_rebinned_equals_filling_coarse_bins(events):
    x, w, xt, wt = events
    fine = diffana.histogram(x, np.linspace(0.0, 3.0, 7), w, None, xt, wt)
    coarse = [0.5, 1.5, 3.0]
    ref = diffana.histogram(x, coarse, w, None, xt, wt)
    h = fine.rebinned(coarse)
    np.testing.assert_array_equal(h.edges, coarse)
    for attr in ("values", "variances", "jacobian", "variances_jacobian"):
        np.testing.assert_allclose(getattr(h, attr), getattr(ref, attr), rtol=1e-12)


def test_rebinned_needs_a_subset_of_the_edges():
    h = diffana.histogram([0.5], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0.5\] are not edges of this histogram"):
        h.rebinned([0.5, 2.0])


def test_mirrored_is_twice_nominal_minus_up_clipped(events):
    x, w, xt, wt = events
    edges = np.linspace(0.0, 3.0, 7)
    nom = diffana.histogram(x, edges, w, None, xt, wt)
    up = diffana.histogram(x, edges, w * np.where(x > 2.0, 3.0, 1.1), None, xt, wt)
    down = up.mirrored(nom)
    expect = 2.0 * nom.values - up.values
    assert np.any(expect < 0)  # some bins are clipped
    np.testing.assert_allclose(down.values, np.maximum(expect, 0.0))
    clipped = expect <= 0
    assert np.all(down.jacobian[clipped] == 0.0)
    np.testing.assert_allclose(
        down.jacobian[~clipped], (2.0 * nom.jacobian - up.jacobian)[~clipped]
    )
    np.testing.assert_array_equal(down.variances, nom.variances)


def test_param_names_are_checked_merged_and_pickled():
    h = diffana.histogram([0.5], [0.0, 1.0], x_tangents=[[1.0, 0.0]])
    named = diffana.GradHistogram(
        h.values, h.variances, h.jacobian, h.variances_jacobian, h.edges,
        param_names=("a", "b"),
    )  # fmt: skip
    assert (named + named).param_names == ("a", "b")
    assert pickle.loads(pickle.dumps(named)).param_names == ("a", "b")
    assert named.scaled(2.0).param_names == ("a", "b")
    with pytest.raises(ValueError, match="cannot merge histograms of different param"):
        named + h
    with pytest.raises(ValueError, match="param_names names 1 parameters"):
        diffana.GradHistogram(
            h.values, h.variances, h.jacobian, h.variances_jacobian, h.edges,
            param_names=("a",),
        )  # fmt: skip


def test_to_json_round_trips():
    h = diffana.histogram([0.5, 1.5], [0.0, 1.0, 2.0], x_tangents=[[1.0], [2.0]])
    j = h.to_json()
    assert j["edges"] == [0.0, 1.0, 2.0]
    assert j["values"] == [1.0, 1.0]
    assert j["param_names"] is None
    again = diffana.GradHistogram(
        j["values"], j["variances"], j["jacobian"], j["variances_jacobian"], j["edges"]
    )
    np.testing.assert_array_equal(again.jacobian, h.jacobian)
