# SPDX-License-Identifier: BSD-3-Clause
"""Network columns in DiffFrame (``diffana.nn.declare``): an MLP and a deep-sets
network over a jagged collection, soft-histogrammed, give the values and the
Jacobian (w.r.t. the weights and a parameter the inputs depend on) of an
independent JAX implementation (``jax_reference.py``) and of finite differences."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

pytest.importorskip("ROOT")
ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
jax = pytest.importorskip("jax")

from diffana.nn import Jets, Network, declare, expression

_spec = importlib.util.spec_from_file_location(
    "jax_reference", pathlib.Path(__file__).with_name("jax_reference.py")
)
assert _spec is not None
assert _spec.loader is not None
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

N_EVENTS = 1000
EDGES = np.linspace(0.0, 1.0, 9)
BANDWIDTH = 0.08
SCALE = 1.1  # the parameter s: jet pT x s


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    rng = np.random.default_rng(7)
    n_jet = rng.integers(0, 6, N_EVENTS)
    pt = rng.exponential(0.8, n_jet.sum())
    eta = rng.normal(0.0, 1.2, n_jet.sum()).astype(np.float32)
    data = {
        "a": rng.normal(0.0, 1.0, N_EVENTS),
        "b": rng.uniform(-1.0, 1.0, N_EVENTS),
        "nJet": n_jet.astype(np.int32),
        "Jet_pt": ak.unflatten(pt, n_jet),
        "Jet_eta": ak.unflatten(eta, n_jet),
    }
    path = tmp_path_factory.mktemp("nn") / "events.root"
    with uproot.recreate(path) as f:
        f["Events"] = data
    return path, data, n_jet, pt, eta


NETWORKS = {
    "mlp": Network(
        "mlp",
        inputs=("a", "b", "ht"),
        layers=(6, 1),
        output_activation="sigmoid",
        seed=3,
    ),
    "ds": Network(
        "ds",
        inputs=("a", "b"),
        layers=(5, 1),
        output_activation="sigmoid",
        seed=4,
        jets=Jets(features=("jpt", "Jet_eta"), layers=(4, 3), pool="mean"),
    ),
    "ds_sum_relu": Network(
        "ds_sum_relu",
        inputs=("a",),
        layers=(3, 1),
        activation="relu",
        output_activation="sigmoid",
        seed=5,
        jets=Jets(features=("jpt", "Jet_eta"), layers=(3,), pool="sum"),
    ),
}


def frame(ROOT, path, net, weights):
    from diffana.rdf import DiffFrame

    params = {"s": SCALE, **dict(zip(net.param_names(), weights, strict=True))}
    df = ROOT.RDataFrame("Events", str(path))
    ddf = DiffFrame(df, params)
    ddf = ddf.define("jpt", "Jet_pt * s").define("ht", "ROOT::VecOps::Sum(jpt) / 4.0")
    ddf = ddf.define(net.name, expression(net, declare(net, ddf)))
    ddf = ddf.define("w", "1.0 + 0.1 * a * a")
    return ddf, list(params)


def jax_values(net, events):
    _, data, n_jet, pt, eta = events
    jnp = jax.numpy
    a, b = np.asarray(data["a"]), np.asarray(data["b"])
    event_of = np.repeat(np.arange(N_EVENTS), n_jet)

    def values(theta):
        s, w = theta[0], theta[1:]
        jpt = jnp.asarray(pt) * s
        ht = jax.ops.segment_sum(jpt, event_of, num_segments=N_EVENTS) / 4.0
        cols = {"a": jnp.asarray(a), "b": jnp.asarray(b), "ht": ht}
        x = jnp.stack([cols[c] for c in net.inputs], axis=1)
        if net.jets is None:
            y = ref.mlp(w, net.sizes, net.activation, net.output_activation, x)
        else:
            feats = jnp.stack([jpt, jnp.asarray(eta, dtype=float)], axis=1)
            y = ref.deepsets(
                w, net.phi_sizes, net.sizes, net.activation, net.output_activation,
                net.jets.pool, x, jnp.asarray(event_of), feats, N_EVENTS,
            )  # fmt: skip
        weight = 1.0 + 0.1 * jnp.asarray(a) ** 2
        return ref.soft_hist(y[:, 0], weight, jnp.asarray(EDGES), BANDWIDTH)

    return values


@pytest.mark.parametrize("name", list(NETWORKS))
def test_values_and_jacobian_equal_jax(ROOT, events, x64, name):
    net = NETWORKS[name]
    w = net.init_weights()
    ddf, names = frame(ROOT, events[0], net, w)
    r = ddf.histo(net.name, EDGES, weight="w", bandwidth=BANDWIDTH).result()
    assert r.param_names == tuple(names)
    values = jax_values(net, events)
    theta = np.concatenate([[SCALE], w])
    np.testing.assert_allclose(r.values, values(theta), rtol=1e-10, atol=1e-12)
    cot = np.random.default_rng(1).normal(size=EDGES.size - 1)
    grad = jax.grad(lambda t: ref.loss(values(t), cot))(theta)
    np.testing.assert_allclose(cot @ r.jacobian, grad, rtol=1e-9, atol=1e-11)


def test_jacobian_equals_finite_differences(ROOT, events):
    net = NETWORKS["ds"]
    w = net.init_weights()
    ddf, names = frame(ROOT, events[0], net, w)
    h = ddf.histo(net.name, EDGES, weight="w", bandwidth=BANDWIDTH)
    jac = h.result().jacobian
    step = 1e-5
    for k in (0, names.index("ds__phi0_w_2_1"), names.index("ds__l1_b_0")):
        name = names[k]
        base = ddf.params[name]
        ddf.set_params({name: base + step})
        up = h.result().values
        ddf.set_params({name: base - step})
        down = h.result().values
        ddf.set_params({name: base})
        np.testing.assert_allclose(
            (up - down) / (2 * step), jac[:, k], rtol=1e-6, atol=1e-8
        )


def test_numpy_forward_equals_the_column(ROOT, events):
    net = NETWORKS["ds"]
    w = net.init_weights()
    ddf, _ = frame(ROOT, events[0], net, w)
    ROOT_values = ddf.node.Take["diffana::Dual<double," + str(len(w) + 1) + ">"](
        net.name
    ).GetValue()
    column = np.array([v.value() for v in ROOT_values])
    _, data, n_jet, pt, eta = events
    x = np.stack([np.asarray(data["a"]), np.asarray(data["b"])], axis=1)
    feats = np.stack([pt * SCALE, eta.astype(float)], axis=1)
    np.testing.assert_allclose(net.forward(w, x, (n_jet, feats)), column, rtol=1e-13)


def test_weights_that_are_not_parameters_are_refused(ROOT, events):
    from diffana.rdf import DiffFrame

    net = NETWORKS["mlp"]
    ddf = DiffFrame(ROOT.RDataFrame("Events", str(events[0])), {"s": 1.0})
    with pytest.raises(ValueError, match="not parameters of the DiffFrame"):
        declare(net, ddf)
