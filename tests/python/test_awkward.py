# SPDX-License-Identifier: BSD-3-Clause
"""diffana.awkward on jagged arrays: the real jets of coffea_nano_tt_v12.root (read with
uproot) against the same computations on flat numpy arrays, plus structure and error
handling on small hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

import diffana
from diffana.testing import check_grad

ak = pytest.importorskip("awkward")
dak = pytest.importorskip("diffana.awkward")


@pytest.fixture(scope="module")
def jets(request):
    uproot = pytest.importorskip("uproot")
    tt_file = request.getfixturevalue("tt_file")
    with uproot.open(tt_file) as f:
        return f["Events"].arrays(
            ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "genWeight"]
        )


def flat(a):
    return ak.to_numpy(ak.flatten(a, axis=1)).astype(np.float64)


# ---- real data ----------------------------------------------------------------------------


@pytest.mark.data
def test_soft_cut_per_jet_matches_flat_numpy(jets):
    pt = jets["Jet_pt"]
    # derivative with respect to a jet-energy scale (x_tangents = pt) and the cut
    x_tangents = ak.concatenate(
        [pt[..., np.newaxis], ak.zeros_like(pt)[..., np.newaxis]], axis=2
    )
    r = dak.soft_cut(pt, 30.0, 0.2, x_tangents=x_tangents, cut_tangents=[0.0, 1.0])
    ref = diffana.soft_cut(
        flat(pt),
        30.0,
        0.2,
        x_tangents=np.stack([flat(pt), np.zeros(len(flat(pt)))], 1),
        cut_tangents=[0.0, 1.0],
    )
    assert ak.to_list(ak.num(r.value, axis=1)) == ak.to_list(ak.num(pt, axis=1))
    assert str(r.value.type) == f"{len(pt)} * var * float64"
    assert str(r.tangents.type) == f"{len(pt)} * var * 2 * float64"
    np.testing.assert_array_equal(flat(r.value), ref.value)
    np.testing.assert_array_equal(
        ak.to_numpy(ak.flatten(r.tangents, axis=1)), ref.tangents
    )
    # the soft jet count and its derivative w.r.t. the jet-energy scale
    n_soft = ak.sum(r.value, axis=1)
    assert np.all(ak.to_numpy(n_soft) <= ak.to_numpy(ak.num(pt, axis=1)))


@pytest.mark.data
def test_per_event_cut_broadcasts_to_jets(jets):
    pt = jets["Jet_pt"]
    cut = np.linspace(20.0, 40.0, len(pt))  # one threshold per event
    r = dak.soft_cut(pt, cut, 0.5, cut_tangents=np.ones((len(pt), 1)))
    counts = ak.to_numpy(ak.num(pt, axis=1))
    ref = diffana.soft_cut(
        flat(pt), np.repeat(cut, counts), 0.5, cut_tangents=np.ones((counts.sum(), 1))
    )
    np.testing.assert_array_equal(flat(r.value), ref.value)
    np.testing.assert_array_equal(
        ak.to_numpy(ak.flatten(r.tangents, axis=1)), ref.tangents
    )


@pytest.mark.data
def test_dijet_mass_of_leading_jets(jets):
    two = jets[ak.num(jets["Jet_pt"], axis=1) >= 2]
    lead = [two[f"Jet_{q}"][:, i] for i in (0, 1) for q in ("pt", "eta", "phi", "mass")]
    m = dak.invariant_mass(
        *lead, tangents={"pt1": lead[0][:, np.newaxis], "pt2": lead[4][:, np.newaxis]}
    )
    numpy_args = [ak.to_numpy(a).astype(np.float64) for a in lead]
    ref = diffana.physics.invariant_mass(
        *numpy_args,
        tangents={"pt1": numpy_args[0][:, None], "pt2": numpy_args[4][:, None]},
    )
    np.testing.assert_array_equal(ak.to_numpy(m.value), ref.value)
    np.testing.assert_array_equal(ak.to_numpy(m.tangents), ref.tangents)
    # an independent formula from the Cartesian components
    pt1, eta1, phi1, m1, pt2, eta2, phi2, m2 = numpy_args
    px = pt1 * np.cos(phi1) + pt2 * np.cos(phi2)
    py = pt1 * np.sin(phi1) + pt2 * np.sin(phi2)
    pz = pt1 * np.sinh(eta1) + pt2 * np.sinh(eta2)
    e = np.hypot(pt1 * np.cosh(eta1), m1) + np.hypot(pt2 * np.cosh(eta2), m2)
    np.testing.assert_allclose(
        ak.to_numpy(m.value), np.sqrt(e**2 - px**2 - py**2 - pz**2), rtol=1e-9
    )

    # d M / d (jet-energy scale) = M for a common scale of both jets... up to masses
    # scaled too; with only pts scaled, compare to finite differences instead
    def f(theta):
        s = 1.0 + theta[0]
        args = list(numpy_args)
        args[0], args[4] = args[0] * s, args[4] * s
        return diffana.physics.invariant_mass(*args).value

    check_grad(f, np.zeros(1), ak.to_numpy(m.tangents), rtol=1e-6, atol=1e-6)


@pytest.mark.data
def test_jagged_delta_r_to_leading_jet(jets):
    eta, phi = jets["Jet_eta"], jets["Jet_phi"]
    has = ak.num(eta, axis=1) >= 1
    eta, phi = eta[has], phi[has]
    d = dak.delta_r(eta, phi, eta[:, 0], phi[:, 0])  # per-event values broadcast
    counts = ak.to_numpy(ak.num(eta, axis=1))
    ref = diffana.physics.delta_r(
        flat(eta),
        flat(phi),
        np.repeat(ak.to_numpy(eta[:, 0]), counts),
        np.repeat(ak.to_numpy(phi[:, 0]), counts),
    )
    np.testing.assert_array_equal(flat(d.value), ref.value)
    np.testing.assert_array_equal(ak.to_numpy(d.value[:, 0]), 0.0)


@pytest.mark.data
@pytest.mark.parametrize("bandwidth", [None, 5.0])
def test_histogram_of_jagged_jet_pt(jets, bandwidth):
    pt = jets["Jet_pt"]
    gen = jets["genWeight"]
    counts = ak.to_numpy(ak.num(pt, axis=1))
    edges = np.linspace(0.0, 300.0, 31)
    h = dak.histogram(
        pt, edges, weights=gen, bandwidth=bandwidth, x_tangents=pt[..., np.newaxis]
    )
    w = np.repeat(ak.to_numpy(gen).astype(np.float64), counts)
    ref = diffana.histogram(
        flat(pt), edges, weights=w, bandwidth=bandwidth, x_tangents=flat(pt)[:, None]
    )
    np.testing.assert_array_equal(h.values, ref.values)
    np.testing.assert_array_equal(h.jacobian, ref.jacobian)
    if bandwidth is None:
        np.testing.assert_allclose(
            h.values, np.histogram(flat(pt), edges, weights=w)[0], rtol=1e-12
        )


@pytest.mark.data
def test_histogram_with_jagged_weights_and_tangents(jets):
    pt = jets["Jet_pt"]
    w = dak.soft_cut(jets["Jet_eta"], 2.4, 5.0, keep="below", cut_tangents=[1.0])
    h = dak.histogram(
        pt, 10, range=(0.0, 200.0), weights=w.value, weight_tangents=w.tangents
    )
    ref = diffana.histogram(
        flat(pt),
        10,
        range=(0.0, 200.0),
        weights=flat(w.value),
        weight_tangents=ak.to_numpy(ak.flatten(w.tangents, axis=1)),
    )
    np.testing.assert_array_equal(h.values, ref.values)
    np.testing.assert_array_equal(h.jacobian, ref.jacobian)


# ---- structure and errors on small arrays ----------------------------------------------


def test_small_jagged_roundtrip():
    x = ak.Array([[1.0, 2.0, 3.0], [], [4.0]])
    r = dak.soft_window(
        x, 1.5, 3.5, 4.0, lo_tangents=[1.0, 0.0], hi_tangents=[0.0, 1.0]
    )
    assert ak.to_list(ak.num(r.value, axis=1)) == [3, 0, 1]
    ref = diffana.soft_window(
        [1.0, 2.0, 3.0, 4.0],
        1.5,
        3.5,
        4.0,
        lo_tangents=[1.0, 0.0],
        hi_tangents=[0.0, 1.0],
    )
    np.testing.assert_array_equal(flat(r.value), ref.value)
    _value, tangents = r
    assert tangents.ndim == 3
    assert "n_params=2" in repr(r)


def test_flat_awkward_and_numpy_inputs():
    x = ak.Array([1.0, 2.0, 3.0])
    r = dak.soft_cut(x, 2.0)
    assert r.value.ndim == 1
    np.testing.assert_array_equal(ak.to_numpy(r.value), diffana.soft_cut(x, 2.0).value)
    _px, _py, _pz, e = dak.to_cartesian(x, 0.0, 0.0, 0.0)
    np.testing.assert_allclose(ak.to_numpy(e.value), [1.0, 2.0, 3.0])
    _pt, _eta, _phi, m = dak.from_cartesian(ak.Array([[3.0]]), 4.0, 0.0, 13.0)
    assert ak.to_list(m.value) == [[12.0]]


def test_integer_and_float32_contents_are_converted():
    x = ak.Array([[1, 2], [3]])
    r = dak.soft_cut(x, 2)
    assert str(r.value.type) == "2 * var * float64"
    y = ak.values_astype(ak.Array([[1.0, 2.0], [3.0]]), np.float32)
    np.testing.assert_array_equal(flat(dak.soft_cut(y, 2.0).value), flat(r.value))


def test_missing_values_are_refused():
    x = ak.Array([[1.0, None], [2.0]])
    with pytest.raises(TypeError, match=r"x has missing values.*ak.fill_none"):
        dak.soft_cut(x, 1.0)
    with pytest.raises(TypeError, match=r"x has missing values"):
        dak.histogram(ak.Array([1.0, None]), [0.0, 2.0])


def test_deeper_nesting_and_records_are_refused():
    x = ak.Array([[[1.0], [2.0]], [[3.0]]])
    with pytest.raises(ValueError, match=r"x has 3 dimensions"):
        dak.soft_cut(x, 1.0)
    rec = ak.Array([{"pt": 1.0}, {"pt": 2.0}])
    with pytest.raises(TypeError, match=r"x must be an array of numbers"):
        dak.soft_cut(rec, 1.0)
    with pytest.raises(ValueError, match=r"x must be a scalar, a per-event array"):
        dak.soft_cut(np.ones((2, 2)), 1.0)


def test_mismatched_structures_are_refused():
    a = ak.Array([[1.0, 2.0], [3.0]])
    b = ak.Array([[1.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match=r"same number of objects in every event"):
        dak.delta_r(a, a, b, b)
    with pytest.raises(ValueError, match=r"cut has 3 events but x has 2"):
        dak.soft_cut(a, np.ones(3))
    with pytest.raises(ValueError, match=r"x_tangents must be an ak.Array of type"):
        dak.soft_cut(a, 1.0, x_tangents=np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"x_tangents must have the same number of"):
        dak.soft_cut(a, 1.0, x_tangents=b[..., np.newaxis])
    with pytest.raises(ValueError, match=r"regular innermost dimension"):
        dak.soft_cut(a, 1.0, x_tangents=ak.Array([[[1.0], [1.0, 2.0]], [[1.0]]]))
    with pytest.raises(ValueError, match=r"tangents\['pt1'\] must be an ak.Array"):
        dak.invariant_mass(a, 0, 0, 0, a, 0, 1, 0, tangents={"pt1": [1.0]})
    with pytest.raises(ValueError, match=r"weight_tangents were given without weights"):
        dak.histogram(a, [0.0, 4.0], weight_tangents=a[..., np.newaxis])


@pytest.mark.data
def test_top_level_histogram_accepts_jagged_arrays(jets):
    """diffana.histogram hands jagged input to diffana.awkward.histogram."""
    pt = jets["Jet_pt"]
    w = dak.soft_cut(jets["Jet_eta"], 2.4, 5.0, keep="below", cut_tangents=[1.0])
    h = diffana.histogram(
        pt,
        10,
        range=(0.0, 200.0),
        weights=w.value,
        weight_tangents=w.tangents,
        bandwidth=4.0,
    )
    ref = dak.histogram(
        pt,
        10,
        range=(0.0, 200.0),
        weights=w.value,
        weight_tangents=w.tangents,
        bandwidth=4.0,
    )
    np.testing.assert_array_equal(h.values, ref.values)
    np.testing.assert_array_equal(h.jacobian, ref.jacobian)
