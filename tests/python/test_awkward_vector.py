# SPDX-License-Identifier: BSD-3-Clause
"""diffana.awkward's Lorentz helpers on four-vector records (vector's Momentum4D,
coffea's PtEtaPhiMLorentzVector), compared with vector and coffea and with finite
differences, and NanoAOD's float32 read without copies (one conversion to float64)."""

from __future__ import annotations

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
vector = pytest.importorskip("vector")

import diffana.awkward as dak
from diffana import _jagged

BEHAVIOR = vector.backends.awkward.behavior


@pytest.fixture
def cols(rng):
    counts = rng.integers(2, 6, 40)
    n = int(counts.sum())

    def jagged(a):
        return ak.unflatten(a, counts)

    return {
        "pt": jagged(rng.exponential(40.0, n) + 5.0),
        "eta": jagged(rng.normal(0.0, 1.5, n)),
        "phi": jagged(rng.uniform(-np.pi, np.pi, n)),
        "mass": jagged(rng.uniform(1.0, 20.0, n)),
    }


@pytest.fixture
def jets(cols):
    return ak.zip(cols, with_name="Momentum4D", behavior=BEHAVIOR)


def lead(cols, i):
    return [cols[k][:, i] for k in ("pt", "eta", "phi", "mass")]


def same(a, b):
    np.testing.assert_array_equal(
        ak.to_numpy(ak.flatten(a, axis=None)), ak.to_numpy(ak.flatten(b, axis=None))
    )


def test_records_give_the_same_as_their_fields(cols, jets):
    j1, j2, j3 = jets[:, 0], jets[:, 1], jets[:, 0]
    tangents = {"pt1": np.ones((40, 1))}
    by_record = dak.invariant_mass(j1, j2, tangents=tangents)
    by_fields = dak.invariant_mass(*lead(cols, 0), *lead(cols, 1), tangents=tangents)
    same(by_record.value, by_fields.value)
    same(by_record.tangents, by_fields.tangents)
    same(
        dak.invariant_mass3(j1, j2, j3).value,
        dak.invariant_mass3(*lead(cols, 0), *lead(cols, 1), *lead(cols, 0)).value,
    )
    same(
        dak.delta_r(jets, j1).value,
        dak.delta_r(
            cols["eta"], cols["phi"], cols["eta"][:, 0], cols["phi"][:, 0]
        ).value,
    )
    same(
        dak.pt_of_sum(j1, j2).value,
        dak.pt_of_sum(
            cols["pt"][:, 0], cols["phi"][:, 0], cols["pt"][:, 1], cols["phi"][:, 1]
        ).value,
    )
    # keyword style: a record in a group's first slot, the group's other slots empty
    mixed = dak.invariant_mass(
        j1,
        pt2=cols["pt"][:, 1],
        eta2=cols["eta"][:, 1],
        phi2=cols["phi"][:, 1],
        m2=cols["mass"][:, 1],
    )
    same(mixed.value, by_fields.value)


def test_against_vector(jets):
    j1, j2, j3 = jets[:, 0], jets[:, 1], jets[:, -1]
    close = {"rtol": 1e-10, "atol": 1e-9}
    np.testing.assert_allclose(
        dak.invariant_mass(j1, j2).value, (j1 + j2).mass, **close
    )
    np.testing.assert_allclose(
        dak.invariant_mass3(j1, j2, j3).value, (j1 + j2 + j3).mass, **close
    )
    np.testing.assert_allclose(
        ak.flatten(dak.delta_r(jets, j1).value), ak.flatten(jets.deltaR(j1)), **close
    )
    np.testing.assert_allclose(dak.delta_phi(j1, j2).value, j1.deltaphi(j2), **close)
    np.testing.assert_allclose(dak.pt_of_sum(j1, j2).value, (j1 + j2).pt, **close)
    np.testing.assert_allclose(
        dak.pt_of_sum3(j1, j2, j3).value, (j1 + j2 + j3).pt, **close
    )
    px, py, pz, e = dak.to_cartesian(jets)
    for ours, theirs in ((px, jets.px), (py, jets.py), (pz, jets.pz), (e, jets.E)):
        np.testing.assert_allclose(ak.flatten(ours.value), ak.flatten(theirs), **close)
    # a Cartesian vector: the fields px, py, pz, E in, (pt, eta, phi, m) out
    cart = ak.zip(
        {"px": jets.px, "py": jets.py, "pz": jets.pz, "E": jets.E},
        with_name="Momentum4D",
        behavior=BEHAVIOR,
    )
    pt, *_ = dak.from_cartesian(cart)
    np.testing.assert_allclose(ak.flatten(pt.value), ak.flatten(jets.pt), **close)
    # ... and for pt/eta/phi/m its behaviour computes them
    np.testing.assert_allclose(
        dak.invariant_mass(cart[:, 0], cart[:, 1]).value, (j1 + j2).mass, rtol=1e-8
    )


def test_against_coffea(cols):
    coffea_vector = pytest.importorskip("coffea.nanoevents.methods.vector")
    jets = ak.zip(
        cols, with_name="PtEtaPhiMLorentzVector", behavior=coffea_vector.behavior
    )
    j1, j2 = jets[:, 0], jets[:, 1]
    np.testing.assert_allclose(
        dak.invariant_mass(j1, j2).value, (j1 + j2).mass, rtol=1e-10
    )
    np.testing.assert_allclose(
        ak.flatten(dak.delta_r(jets, j1).value),
        ak.flatten(jets.delta_r(j1)),
        rtol=1e-10,
        atol=1e-12,
    )


def test_tangents_against_finite_differences(cols, jets):
    # d m12 / d (a common shift of every jet's pt and eta)
    j1, j2 = jets[:, 0], jets[:, 1]
    ones = np.ones((40, 1))
    tangents = {"pt1": ones, "pt2": ones, "eta1": ones, "eta2": ones}
    analytic = ak.to_numpy(dak.invariant_mass(j1, j2, tangents=tangents).tangents)[:, 0]

    def shifted(t):
        moved = ak.zip(
            {**cols, "pt": cols["pt"] + t, "eta": cols["eta"] + t},
            with_name="Momentum4D",
            behavior=BEHAVIOR,
        )
        return ak.to_numpy(dak.invariant_mass(moved[:, 0], moved[:, 1]).value)

    eps = 1e-6
    np.testing.assert_allclose(
        analytic, (shifted(eps) - shifted(-eps)) / (2 * eps), rtol=1e-6, atol=1e-8
    )


def test_bad_records_are_named(jets):
    j1 = jets[:, 0]
    with pytest.raises(TypeError, match="it must come in place of pt1, not eta1"):
        dak.invariant_mass(j1.pt, j1, j1)
    with pytest.raises(TypeError, match="invariant_mass: missing pt2, eta2, phi2, m2"):
        dak.invariant_mass(j1)
    with pytest.raises(TypeError, match=r"takes 8 components .* got more"):
        dak.invariant_mass(j1, j1, j1)
    with pytest.raises(TypeError, match="record without a pt component"):
        dak.invariant_mass(ak.zip({"a": j1.pt}), j1)
    with pytest.raises(TypeError, match="invariant_mass: argument eta1 is missing"):
        dak.invariant_mass(j1.pt, None, j1.phi, j1.mass, j1)
    with pytest.raises(TypeError, match="must be an array of numbers"):
        dak.soft_cut(jets, 30.0)  # only the Lorentz helpers take records


# ---- float32 and copies -------------------------------------------------------------


def buffer(x):
    """The numbers an awkward array of one level of jaggedness stores."""
    return x.layout.content.data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_copy_before_the_one_conversion(cols, dtype):
    pt = ak.values_astype(cols["pt"], dtype)
    jets = ak.zip({**cols, "pt": pt}, with_name="Momentum4D", behavior=BEHAVIOR)
    for x in (pt, _jagged.record_components(jets, ["pt"], "jets")[0], pt[3:]):
        # flattening a jagged array (or a record's field) is a view of its buffer
        assert np.shares_memory(_jagged.content(x), buffer(pt))
        flat = _jagged.flatten(x, "pt").data
        assert flat.dtype == np.float64
        # float64 reaches the kernels as that view; float32 is converted once
        assert np.shares_memory(flat, buffer(pt)) == (dtype == np.float64)


def test_float32_results_equal_float64_of_the_same_numbers(cols):
    pt32 = ak.values_astype(cols["pt"], np.float32)
    pt64 = ak.values_astype(pt32, np.float64)  # exact: every float32 is a float64
    same(
        dak.soft_cut(pt32, 30.0, cut_tangents=[1.0]).tangents,
        dak.soft_cut(pt64, 30.0, cut_tangents=[1.0]).tangents,
    )
    h32 = dak.histogram(
        pt32, np.linspace(0, 200, 11), bandwidth=5.0, x_tangents=pt32[..., np.newaxis]
    )
    h64 = dak.histogram(
        pt64, np.linspace(0, 200, 11), bandwidth=5.0, x_tangents=pt64[..., np.newaxis]
    )
    np.testing.assert_array_equal(h32.values, h64.values)
    np.testing.assert_array_equal(h32.jacobian, h64.jacobian)


def test_nanoevents_jets(tt_file):
    nanoevents = pytest.importorskip("coffea.nanoevents")
    import warnings

    with warnings.catch_warnings():
        # small test files lack some of the cross-references the schema looks for
        warnings.simplefilter("ignore", RuntimeWarning)
        events = nanoevents.NanoEventsFactory.from_root(
            {str(tt_file): "Events"},
            schemaclass=nanoevents.NanoAODSchema,
            mode="virtual",
        ).events()
    jets = events.Jet[ak.num(events.Jet) >= 2]
    for pt in (events.Jet.pt, jets.pt):  # NanoAOD's float32, read lazily
        assert pt.layout.content.dtype == np.float32
        assert np.shares_memory(_jagged.content(pt), np.asarray(buffer(pt)))
    m = dak.invariant_mass(jets[:, 0], jets[:, 1]).value
    # coffea computes in float32, diffana in float64 from the same numbers
    np.testing.assert_allclose(m, (jets[:, 0] + jets[:, 1]).mass, rtol=1e-4)
