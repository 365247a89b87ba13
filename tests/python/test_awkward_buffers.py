# SPDX-License-Identifier: BSD-3-Clause
"""diffana.awkward.to_buffers / from_buffers / Buffers / inner / linear: exact round
trips of structured events (hand-made records with jets and tracks, and NanoAOD read
with uproot), JAX derivatives through the flat vector against central finite
differences and hand-derived gradients, and one-line errors on bad input."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffana.testing import numerical_jacobian

ak = pytest.importorskip("awkward")
dak = pytest.importorskip("diffana.awkward")

EVENTS = [
    {
        "weight": 1.5,
        "met": 20.0,
        "jets": [
            {"pt": 50.0, "eta": 0.5, "tracks": [{"pt": 3.0}, {"pt": 4.5}]},
            {"pt": 30.0, "eta": -1.2, "tracks": []},
        ],
    },
    {"weight": 0.5, "met": 10.0, "jets": []},
    {
        "weight": 2.0,
        "met": 5.0,
        "jets": [{"pt": 45.0, "eta": 2.1, "tracks": [{"pt": 1.0}]}],
    },
]
PATHS = ("weight", "met", "jets.pt", "jets.eta", "jets.tracks.pt")


@pytest.fixture
def events():
    return ak.Array(EVENTS)


def flat(a):
    return ak.to_numpy(ak.ravel(a)).astype(np.float64)


def assert_same(a, b):
    assert str(a.type) == str(b.type)
    assert ak.to_list(a) == ak.to_list(b)


def one_line(excinfo):
    assert "\n" not in str(excinfo.value)
    return str(excinfo.value)


# ---- round trips --------------------------------------------------------------------


def test_vector_is_the_float_buffers_in_form_order(events):
    b = dak.to_buffers(events)
    assert b.paths == PATHS
    assert b.length == 3
    expected = np.concatenate(
        [
            [1.5, 0.5, 2.0],
            [20.0, 10.0, 5.0],
            [50.0, 30.0, 45.0],
            [0.5, -1.2, 2.1],
            [3.0, 4.5, 1.0],
        ]
    )
    np.testing.assert_array_equal(b.vector, expected)
    assert b.vector.dtype == np.float64
    assert b.size == expected.size
    assert set(b.dtypes.values()) == {np.dtype(np.float64)}
    # the static buffers are exactly the two offsets
    assert sorted(b.static) == ["node3-offsets", "node7-offsets"]
    np.testing.assert_array_equal(b.static["node3-offsets"], [0, 2, 2, 3])
    np.testing.assert_array_equal(b.static["node7-offsets"], [0, 2, 2, 3])
    for path in PATHS:
        np.testing.assert_array_equal(b[path], flat(events[tuple(path.split("."))]))


def test_round_trip_is_exact(events):
    b = dak.to_buffers(events)
    assert_same(b.to_array(), events)
    assert_same(b.to_array(b.vector.copy()), events)
    assert_same(dak.from_buffers(b.form, b.length, b.vector, b.static), events)
    # a new vector lands in the right fields
    doubled = b.to_array(2 * b.vector)
    assert ak.to_list(doubled.jets.tracks.pt) == [[[6.0, 9.0], []], [], [[2.0]]]
    assert ak.to_list(doubled.met) == [40.0, 20.0, 10.0]


def test_int_and_bool_fields_stay_static_and_float32_is_restored(events):
    met32 = ak.values_astype(events.met / 3, np.float32)  # not representable exactly
    x = ak.with_field(events, met32, "met32")
    x = ak.with_field(x, ak.Array(np.array([3, 1, 7], dtype=np.int32)), "nvtx")
    x = ak.with_field(x, ak.Array([True, False, True]), "trigger")
    x = ak.with_field(
        x, ak.values_astype(ak.local_index(events.jets.pt), np.uint8), ["jets", "idx"]
    )
    x = ak.with_field(x, ak.values_astype(events.jets.eta, np.float16), ["jets", "e16"])
    b = dak.to_buffers(x)
    assert b.paths == (
        *PATHS[:2],
        "jets.pt",
        "jets.eta",
        "jets.tracks.pt",
        "jets.e16",
        "met32",
    )
    assert b.dtypes["met32"] == np.float32
    assert b.dtypes["jets.e16"] == np.float16
    assert {str(v.dtype) for v in b.static.values()} == {
        "int64",
        "int32",
        "bool",
        "uint8",
    }
    np.testing.assert_array_equal(b["nvtx"], [3, 1, 7])
    np.testing.assert_array_equal(b["trigger"], [True, False, True])
    np.testing.assert_array_equal(b["jets.idx"], [0, 1, 0])
    # float32 widened exactly, and restored bit for bit
    np.testing.assert_array_equal(b["met32"], ak.to_numpy(met32).astype(np.float64))
    assert not np.array_equal(b["met32"], ak.to_numpy(events.met) / 3)
    back = b.to_array()
    assert_same(back, x)
    assert ak.to_numpy(back.met32).dtype == np.float32
    np.testing.assert_array_equal(
        ak.to_numpy(back.met32).view(np.int32), ak.to_numpy(met32).view(np.int32)
    )
    np.testing.assert_array_equal(
        ak.to_numpy(ak.flatten(back.jets.e16)), ak.to_numpy(ak.flatten(x.jets.e16))
    )
    # as_float64 widens only the floats (gradients need not be rounded to float32)
    wide = b.to_array(b.vector / 3, as_float64=True)
    assert str(wide.type) == str(x.type).replace("float32", "float64").replace(
        "float16", "float64"
    )
    np.testing.assert_array_equal(ak.to_numpy(wide.met32), b["met32"] / 3)
    np.testing.assert_array_equal(ak.to_numpy(wide.nvtx), [3, 1, 7])


@pytest.mark.parametrize(
    "array",
    [
        pytest.param(lambda ev: ev[[2, 0]], id="indexed (sliced events)"),
        pytest.param(lambda ev: ev[ev.met > 6.0].jets, id="jets of selected events"),
        pytest.param(lambda ev: ev.jets[:, :1], id="sliced lists"),
        pytest.param(lambda ev: ak.Array(np.arange(6.0).reshape(3, 2)), id="2d numpy"),
        pytest.param(
            lambda ev: ak.to_regular(ak.Array(np.arange(6.0).reshape(3, 2)), axis=1),
            id="regular list",
        ),
        pytest.param(lambda ev: ak.Array([1.0, 2.0]), id="numbers"),
        pytest.param(lambda ev: ak.Array([[], []]), id="empty lists"),
        pytest.param(lambda ev: ev[:0], id="no events"),
        pytest.param(lambda ev: ak.zip((ev.weight, ev.met)), id="tuple"),
    ],
)
def test_round_trip_of_other_layouts(events, array):
    x = array(events)
    b = dak.to_buffers(x)
    assert_same(b.to_array(), x)
    assert_same(dak.from_buffers(b.form, b.length, b.vector, b.static), x)
    np.testing.assert_array_equal(np.sort(b.vector), np.sort(flat(x)) if b.size else [])


def test_buffers_is_immutable(events):
    b = dak.to_buffers(events)
    with pytest.raises(ValueError, match="read-only"):
        b.vector[0] = 3.0
    with pytest.raises(ValueError, match="read-only"):
        b.static["node3-offsets"][0] = 1
    with pytest.raises(AttributeError, match="immutable"):
        b.vector = b.vector
    with pytest.raises(TypeError, match="to_buffers"):
        dak.Buffers()


def test_copies_and_pickles(events):
    b = dak.to_buffers(events)
    for c in (copy.copy(b), copy.deepcopy(b), pickle.loads(pickle.dumps(b))):
        np.testing.assert_array_equal(c.vector, b.vector)
        assert_same(c.to_array(), events)


_number = st.floats(-1e6, 1e6, allow_nan=False)
_event = st.fixed_dictionaries(
    {
        "weight": _number,
        "n": st.integers(0, 9),
        "jets": st.lists(
            st.fixed_dictionaries(
                {"pt": _number, "tracks": st.lists(_number, max_size=3)}
            ),
            max_size=3,
        ),
    }
)


@settings(max_examples=15, deadline=None)
@given(st.lists(_event, max_size=4))
def test_round_trip_property(records):
    # one fixed event, so that awkward infers every field's type
    x = ak.Array(
        [{"weight": 1.0, "n": 1, "jets": [{"pt": 2.0, "tracks": [3.0]}]}, *records]
    )
    b = dak.to_buffers(x)
    assert_same(b.to_array(), x)
    expected = np.concatenate([flat(x.weight), flat(x.jets.pt), flat(x.jets.tracks)])
    np.testing.assert_array_equal(b.vector, expected)
    np.testing.assert_array_equal(b.sum("jets.pt"), flat(ak.sum(x.jets.pt, axis=1)))
    assert dak.inner(b, x) == pytest.approx(float(np.sum(expected**2)), rel=1e-12)


def test_sum_and_parents_match_awkward(events):
    b = dak.to_buffers(events)
    np.testing.assert_array_equal(b.sum("jets.pt"), ak.sum(events.jets.pt, axis=1))
    trk = events.jets.tracks.pt
    np.testing.assert_array_equal(
        b.sum("jets.tracks.pt"), ak.sum(ak.sum(trk, axis=2), axis=1)
    )
    np.testing.assert_array_equal(
        b.sum("jets.tracks.pt", depth=1), flat(ak.sum(trk, axis=2))
    )
    np.testing.assert_array_equal(b.sum("jets.tracks.pt", depth=2), flat(trk))
    np.testing.assert_array_equal(b.sum("weight"), b["weight"])
    np.testing.assert_array_equal(b.parents("jets.tracks.pt"), [0, 0, 2])
    np.testing.assert_array_equal(b.parents("jets.tracks.pt", depth=1), [0, 0, 2])
    np.testing.assert_array_equal(b.parents("jets.pt"), [0, 0, 2])
    # per-event values taken to the jets, as awkward broadcasts them
    np.testing.assert_array_equal(
        b["weight"][b.parents("jets.pt")],
        flat(ak.broadcast_arrays(events.weight, events.jets.pt)[0]),
    )
    np.testing.assert_array_equal(b.sum("jets.pt", np.ones(3)), [2.0, 0.0, 1.0])


# ---- NanoAOD ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nano(request):
    uproot = pytest.importorskip("uproot")
    tt_file = request.getfixturevalue("tt_file")
    with uproot.open(tt_file) as f:
        return f["Events"].arrays(
            ["Jet_pt", "Jet_eta", "Jet_jetId", "nJet", "genWeight", "MET_pt",
             "Muon_pt", "Muon_tightId"]
        )  # fmt: skip


@pytest.mark.data
def test_nanoaod_round_trip_is_exact(nano):
    b = dak.to_buffers(nano)
    assert b.paths == ("Jet_pt", "Jet_eta", "genWeight", "MET_pt", "Muon_pt")
    assert set(b.dtypes.values()) == {np.dtype(np.float32)}
    assert b.size == 2 * len(flat(nano.Jet_pt)) + 2 * len(nano) + len(
        flat(nano.Muon_pt)
    )
    back = b.to_array()
    assert str(back.type) == str(nano.type)
    for field in nano.fields:
        np.testing.assert_array_equal(flat(back[field]), flat(nano[field]))
    np.testing.assert_array_equal(
        b["Jet_jetId"], ak.to_numpy(ak.flatten(nano.Jet_jetId))
    )
    assert b["Jet_jetId"].dtype == np.uint8
    # zipped into a collection: the jets share one offsets buffer
    jets = ak.zip({"pt": nano.Jet_pt, "eta": nano.Jet_eta, "id": nano.Jet_jetId})
    ev = ak.zip({"w": nano.genWeight, "jets": jets}, depth_limit=1)
    b2 = dak.to_buffers(ev)
    assert b2.paths == ("w", "jets.pt", "jets.eta")
    assert_same(b2.to_array(), ev)


@pytest.mark.data
@pytest.mark.jax
def test_nanoaod_gradient_of_weighted_ht(nano, x64):
    import jax

    jets = ak.zip({"pt": nano.Jet_pt, "eta": nano.Jet_eta})
    b = dak.to_buffers(ak.zip({"w": nano.genWeight, "jets": jets}, depth_limit=1))

    def weighted_ht(v):
        e = b.with_vector(v)
        return (e["w"] * e.sum("jets.pt")).sum()

    g = jax.jit(jax.grad(weighted_ht))(b.vector)
    grad = b.to_array(np.asarray(g), as_float64=True)
    assert (
        str(grad.type)
        == f"{len(nano)} * {{w: float64, jets: var * {{pt: float64, eta: float64}}}}"
    )
    pt = ak.values_astype(nano.Jet_pt, np.float64)
    np.testing.assert_allclose(
        ak.to_numpy(grad.w), ak.to_numpy(ak.sum(pt, axis=1)), rtol=1e-14
    )
    w = ak.to_numpy(nano.genWeight).astype(np.float64)
    np.testing.assert_array_equal(
        flat(grad.jets.pt), np.repeat(w, ak.to_numpy(ak.num(nano.Jet_pt)))
    )
    np.testing.assert_array_equal(flat(grad.jets.eta), 0.0)


# ---- JAX ----------------------------------------------------------------------------


def observable(b, xp):
    """Per event: w * sum_jets pt cos(eta) + met * sum_tracks pt^2 (nonlinear)."""
    jets = b.sum("jets.pt", b["jets.pt"] * xp.cos(b["jets.eta"]))
    trk = b.sum("jets.tracks.pt", b["jets.tracks.pt"] ** 2)
    return b["weight"] * jets + b["met"] * trk


def hand_gradient(events):
    """d sum_events(observable) / d every field, built with awkward."""
    w, met, pt, eta = events.weight, events.met, events.jets.pt, events.jets.eta
    trk = events.jets.tracks.pt
    return {
        "weight": flat(ak.sum(pt * np.cos(eta), axis=1)),
        "met": flat(ak.sum(ak.sum(trk**2, axis=2), axis=1)),
        "jets.pt": flat(w * np.cos(eta)),
        "jets.eta": flat(-w * pt * np.sin(eta)),
        "jets.tracks.pt": flat(2 * met * trk),
    }


@pytest.mark.jax
def test_grad_wrt_vector_matches_finite_differences_and_hand(events, x64):
    import jax
    import jax.numpy as jnp

    b = dak.to_buffers(events)

    def total(v):
        return observable(b.with_vector(v), jnp).sum()

    g = np.asarray(jax.grad(total)(b.vector))
    fd = numerical_jacobian(lambda v: float(total(jnp.asarray(v))), b.vector)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        g, np.asarray(jax.jit(jax.grad(total))(b.vector)), rtol=1e-14
    )
    # the gradient as an array of the events' structure
    grad = b.to_array(g)
    assert str(grad.type) == str(events.type)
    for path, expected in hand_gradient(events).items():
        np.testing.assert_allclose(
            flat(grad[tuple(path.split("."))]), expected, rtol=1e-13
        )
    # numpy evaluates the same function
    np.testing.assert_allclose(
        observable(b, np).sum(), float(total(jnp.asarray(b.vector))), rtol=1e-14
    )


@pytest.mark.jax
def test_grad_and_jit_wrt_buffers_pytree(events, x64):
    import jax
    import jax.numpy as jnp

    b = dak.to_buffers(events)
    assert jax.tree_util.tree_leaves(b)[0] is b.vector

    def total(e):
        return observable(e, jnp).sum()

    g = jax.grad(total)(b)
    assert isinstance(g, dak.Buffers)
    assert g.form is b.form
    gj = jax.jit(jax.grad(total))(b)
    np.testing.assert_allclose(np.asarray(gj.vector), np.asarray(g.vector), rtol=1e-14)
    np.testing.assert_allclose(
        float(jax.jit(total)(b)), observable(b, np).sum(), rtol=1e-14
    )
    for path, expected in hand_gradient(events).items():
        np.testing.assert_allclose(np.asarray(g[path]), expected, rtol=1e-13)
    assert_same(
        ak.Array(ak.to_list(g.to_array())),
        ak.Array(ak.to_list(b.to_array(np.asarray(g.vector)))),
    )


@pytest.mark.jax
def test_vjp_and_jvp_of_a_per_event_observable(events, x64, rng):
    import jax
    import jax.numpy as jnp

    b = dak.to_buffers(events)

    def per_event(v):
        return observable(b.with_vector(v), jnp)

    jac = numerical_jacobian(lambda v: np.asarray(per_event(jnp.asarray(v))), b.vector)
    u = rng.normal(size=b.length)
    t = rng.normal(size=b.size)
    y, pullback = jax.vjp(jax.jit(per_event), jnp.asarray(b.vector))
    np.testing.assert_allclose(np.asarray(y), observable(b, np), rtol=1e-14)
    np.testing.assert_allclose(
        np.asarray(pullback(jnp.asarray(u))[0]), u @ jac, rtol=1e-6, atol=1e-8
    )
    y2, ty = jax.jvp(per_event, (jnp.asarray(b.vector),), (jnp.asarray(t),))
    np.testing.assert_allclose(np.asarray(y2), observable(b, np), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(ty), jac @ t, rtol=1e-6, atol=1e-8)


@pytest.mark.jax
def test_to_array_under_jit_says_what_to_use(events, x64):
    import jax

    b = dak.to_buffers(events)
    with pytest.raises(TypeError, match="JAX tracer") as excinfo:
        jax.jit(lambda e: e.to_array())(b)
    one_line(excinfo)


def test_import_does_not_need_jax():
    code = "import sys, diffana.awkward; assert 'jax' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.jax
def test_buffers_made_before_jax_is_imported_are_a_pytree():
    """to_buffers registers the pytree where JAX is installed, so the order of the
    imports does not matter."""
    code = (
        "import sys, awkward as ak, diffana.awkward as dak\n"
        "b = dak.to_buffers(ak.Array([{'x': [1.0, 2.0]}, {'x': []}]))\n"
        "import jax\n"
        "g = jax.grad(lambda e: (e.vector ** 2).sum())(b)\n"
        "assert isinstance(g, dak.Buffers), type(g)\n"
        "assert g.vector.tolist() == [2.0, 4.0]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- inner and linear ---------------------------------------------------------------


def test_inner_matches_numpy(events):
    other = dak.to_buffers(events).to_array(np.arange(15.0))
    expected = sum(
        float(
            np.dot(flat(events[tuple(p.split("."))]), flat(other[tuple(p.split("."))]))
        )
        for p in PATHS
    )
    assert dak.inner(events, other) == pytest.approx(expected, rel=1e-15)
    assert dak.inner(dak.to_buffers(events), other) == pytest.approx(
        expected, rel=1e-15
    )


@pytest.mark.jax
def test_inner_gradient_is_the_other_array(events, x64):
    import jax

    a, b = dak.to_buffers(events), dak.to_buffers(events).with_vector(np.arange(15.0))
    ga, gb = jax.grad(dak.inner, argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(np.asarray(ga.vector), b.vector)
    np.testing.assert_array_equal(np.asarray(gb.vector), a.vector)
    assert float(jax.jit(dak.inner)(a, b)) == float(a.vector @ b.vector)


def test_linear_whole_array_and_per_event_match_numpy(events, rng):
    b = dak.to_buffers(events)
    m = rng.normal(size=(4, b.size))
    np.testing.assert_allclose(dak.linear(m, events), m @ b.vector, rtol=1e-15)
    assert dak.linear(m[0], b) == pytest.approx(m[0] @ b.vector, rel=1e-15)
    c = rng.normal(size=(2, len(PATHS)))
    feats = np.stack(
        [
            flat(events.weight),
            flat(events.met),
            flat(ak.sum(events.jets.pt, axis=1)),
            flat(ak.sum(events.jets.eta, axis=1)),
            flat(ak.sum(ak.sum(events.jets.tracks.pt, axis=2), axis=1)),
        ],
        axis=1,
    )
    np.testing.assert_allclose(
        dak.linear(c, events, per_event=True), feats @ c.T, rtol=1e-14
    )
    np.testing.assert_allclose(
        dak.linear(c[1], b, per_event=True), feats @ c[1], rtol=1e-14
    )


@pytest.mark.jax
def test_linear_derivatives(events, x64, rng):
    import jax
    import jax.numpy as jnp

    b = dak.to_buffers(events)
    m = rng.normal(size=(3, b.size))
    jac = jax.jacfwd(lambda v: dak.linear(m, b.with_vector(v)))(jnp.asarray(b.vector))
    np.testing.assert_allclose(np.asarray(jac), m, rtol=1e-15)
    c = rng.normal(size=(2, len(PATHS)))

    def total(v):
        return dak.linear(jnp.asarray(c), b.with_vector(v), per_event=True).sum()

    g = jax.jit(jax.grad(total))(jnp.asarray(b.vector))
    # d/dx of sum_events sum_i c[i, field(x)] x = sum_i c[i, field]: constant per field
    expected = np.concatenate(
        [np.full(b[p].size, c[:, k].sum()) for k, p in enumerate(PATHS)]
    )
    np.testing.assert_allclose(np.asarray(g), expected, rtol=1e-14)
    fd = numerical_jacobian(lambda v: float(total(jnp.asarray(v))), b.vector)
    np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-6, atol=1e-8)


# ---- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (ak.Array([{"x": 1.0, "name": "a"}]), "field 'name' holds strings"),
        (
            ak.Array([{"x": 1.0, "jets": [{"pt": 1.0, "tag": "b"}]}]),
            "'jets.tag' holds strings",
        ),
        (ak.Array([{"x": 1.0}, {"x": None}]), "field 'x' can be missing"),
        (ak.Array([{"jets": [1.0, None]}]), "field 'jets' can be missing"),
        (ak.Array([{"x": 1.0}, None]), "the array can be missing"),
        (ak.Array([1.0, [2.0]]), "union"),
        (ak.Array([1 + 2j]), "complex"),
    ],
)
def test_unsupported_arrays_raise_type_error(array, match):
    with pytest.raises(TypeError, match=match) as excinfo:
        dak.to_buffers(array)
    one_line(excinfo)


@pytest.mark.parametrize(
    "thing", [np.arange(3.0), [1.0, 2.0], None, ak.Record({"x": 1.0})]
)
def test_non_awkward_input_raises_type_error(thing):
    with pytest.raises(TypeError, match="must be an awkward Array") as excinfo:
        dak.to_buffers(thing)
    one_line(excinfo)


@pytest.mark.parametrize(
    ("vector", "error", "match"),
    [
        (np.zeros(14), ValueError, r"shape \(15,\)"),
        (np.zeros(16), ValueError, r"shape \(15,\)"),
        (np.zeros((15, 1)), ValueError, r"shape \(15,\)"),
        (np.arange(15), TypeError, "floating-point"),
        (np.zeros(15, dtype=bool), TypeError, "floating-point"),
        (np.zeros(15, dtype=complex), TypeError, "floating-point"),
        (["a"] * 15, TypeError, "floating-point"),
    ],
)
def test_bad_vectors(events, vector, error, match):
    b = dak.to_buffers(events)
    for call in (
        lambda: b.to_array(vector),
        lambda: b.with_vector(vector),
        lambda: dak.from_buffers(b.form, b.length, vector, b.static),
    ):
        with pytest.raises(error, match=match) as excinfo:
            call()
        one_line(excinfo)


def test_float32_overflow_is_an_error(events):
    x = ak.with_field(events, ak.values_astype(events.met, np.float32), "met")
    b = dak.to_buffers(x)
    v = b.vector.copy()
    i = int(np.flatnonzero(b.vector == 20.0)[0])  # the first event's met
    v[i] = 1e300
    with pytest.raises(ValueError, match="field 'met' overflow") as excinfo:
        b.to_array(v)
    one_line(excinfo)
    v[i] = np.inf  # infinities are values, not overflows
    assert ak.to_list(b.to_array(v).met)[0] == np.inf


def test_mismatched_form_and_static(events):
    b = dak.to_buffers(events)
    other = dak.to_buffers(ak.Array([{"a": [1.0]}]))
    cases = [
        (lambda: dak.from_buffers(other.form, b.length, b.vector, b.static), ValueError, "no buffer 'node1-offsets'"),
        (lambda: dak.from_buffers(b.form, b.length, b.vector, {}), ValueError, "static has no buffer 'node3-offsets'"),
        (lambda: dak.from_buffers(b.form, b.length, b.vector, {**b.static, "node99-data": np.zeros(3)}), ValueError, "does not use"),
        (lambda: dak.from_buffers(b.form, b.length, b.vector, {**b.static, "node1-data": np.zeros(3)}), ValueError, "belong in the vector"),
        (lambda: dak.from_buffers(b.form, 2, b.vector, b.static), ValueError, "must hold 3 int64, got 4"),
        (lambda: dak.from_buffers(b.form, b.length, b.vector, {**b.static, "node3-offsets": np.array([0, 2, 2, 3], np.int32)}), ValueError, "must hold 4 int64, got 4 int32"),
        (lambda: dak.from_buffers(b.form, b.length, b.vector, {**b.static, "node3-offsets": np.array([0, 2, 1, 3])}), ValueError, "never decrease"),
        (lambda: dak.from_buffers(b.form.to_dict(), b.length, b.vector, b.static), TypeError, "form must be an awkward Form"),
        (lambda: dak.from_buffers(b.form, 3.0, b.vector, b.static), TypeError, "length must be an integer"),
        (lambda: dak.from_buffers(b.form, -1, b.vector, b.static), ValueError, "non-negative"),
        (lambda: dak.from_buffers(b.form, b.length, b.vector, [1]), TypeError, "static must be a mapping"),
        (lambda: dak.from_buffers(ak.Array([[1.0], [2.0]]).layout.form, 2, np.zeros(2), {}), ValueError, "has no form_key"),
        (lambda: dak.from_buffers(ak.Array([1.0]).layout.form, 1, np.zeros(1), {}), ValueError, "has no form_key"),
        (lambda: dak.from_buffers(ak.Array([[1.0]])[[0]].layout.form, 1, np.zeros(1), {}), TypeError, "ListForm"),
        (lambda: dak.from_buffers(ak.Array([{"x": 1.0}])[[0]].layout.form, 1, np.zeros(1), {}), TypeError, "IndexedForm"),
    ]  # fmt: skip
    for call, error, match in cases:
        with pytest.raises(error, match=match) as excinfo:
            call()
        one_line(excinfo)


def test_bad_paths_matrices_and_structures(events):
    b = dak.to_buffers(events)
    cases = [
        (lambda: b["jets"], KeyError, "no numeric field 'jets'"),
        (lambda: b.parents("jets.pt", depth=2), ValueError, "depth must be between 0 and 1"),
        (lambda: b.sum("jets.pt", np.ones(2)), ValueError, "3 entries"),
        (lambda: dak.linear(np.ones(14), b), ValueError, r"shape \(15,\) or \(m, 15\)"),
        (lambda: dak.linear(np.ones((2, 4)), b, per_event=True), ValueError, "5 float fields"),
        (lambda: dak.linear(np.ones((1, 1, 15)), b), ValueError, "matrix must have shape"),
        (lambda: dak.linear(np.ones(15), np.ones(15)), TypeError, "array must be an ak.Array or Buffers"),
        (lambda: dak.inner(events, events[:2]), ValueError, "differ in type"),
        (lambda: dak.inner(events, ak.Array([{"x": 1.0}] * 3)), ValueError, "differ in type"),
        (lambda: dak.inner(events, events[[0, 2, 1]]), ValueError, "differ in structure"),
        (lambda: dak.inner(events, 1.0), TypeError, "b must be an ak.Array"),
    ]  # fmt: skip
    for call, error, match in cases:
        with pytest.raises(error, match=match) as excinfo:
            call()
        if error is not KeyError:
            one_line(excinfo)
