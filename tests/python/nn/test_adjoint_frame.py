# SPDX-License-Identifier: BSD-3-Clause
"""Network columns whose weights are a reverse-mode parameter vector of a DiffFrame
(``diffana.nn.cpp.apply_expression``, the adjoint event loop): an MLP and deep-sets
networks over a jagged collection, soft-histogrammed, give the value and the
gradient of a loss of the histogram (its values and variances) equal to forward
mode (``diffana.nn.declare``, 1e-10), to the independent JAX implementation
(``jax_reference.py``) and to central finite differences in a random direction."""

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
from diffana.nn.cpp import apply_expression

_spec = importlib.util.spec_from_file_location(
    "jax_reference", pathlib.Path(__file__).with_name("jax_reference.py")
)
assert _spec is not None
assert _spec.loader is not None
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

N_EVENTS = 400
EDGES = np.linspace(0.0, 1.0, 7)
BANDWIDTH = 0.08
SCALE = 1.1  # the forward parameter s: jet pT x s

NETWORKS = {
    "mlp": Network(
        "mlp", inputs=("a", "b", "ht"), layers=(6, 1), output_activation="sigmoid",
        seed=3,
    ),
    "ds": Network(
        "ds", inputs=("a", "b"), layers=(5, 1), output_activation="sigmoid", seed=4,
        jets=Jets(features=("jpt", "Jet_eta"), layers=(4, 3), pool="mean"),
    ),
    "ds_sum_relu": Network(
        "ds_sum_relu", inputs=("a",), layers=(3, 1), activation="relu",
        output_activation="sigmoid", seed=5,
        jets=Jets(features=("jpt", "Jet_eta"), layers=(3,), pool="sum"),
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    rng = np.random.default_rng(8)
    n_jet = rng.integers(0, 5, N_EVENTS)
    pt = rng.exponential(0.8, n_jet.sum())
    eta = rng.normal(0.0, 1.2, n_jet.sum()).astype(np.float32)
    data = {
        "a": rng.normal(0.0, 1.0, N_EVENTS),
        "b": rng.uniform(-1.0, 1.0, N_EVENTS),
        "nJet": n_jet.astype(np.int32),
        "Jet_pt": ak.unflatten(pt, n_jet),
        "Jet_eta": ak.unflatten(eta, n_jet),
    }
    path = tmp_path_factory.mktemp("nnadj") / "events.root"
    with uproot.recreate(path) as f:
        f["Events"] = data
    return path, data, n_jet, pt, eta


def _columns(ddf):
    return ddf.define("jpt", "Jet_pt * s").define("ht", "ROOT::VecOps::Sum(jpt) / 4.0")


def forward_histo(ROOT, path, net, w):
    from diffana.rdf import DiffFrame

    params = {"s": SCALE, **dict(zip(net.param_names(), w, strict=True))}
    ddf = _columns(DiffFrame(ROOT.RDataFrame("Events", str(path)), params))
    ddf = ddf.define(net.name, expression(net, declare(net, ddf)))
    ddf = ddf.define("w", "1.0 + 0.1 * a * a")
    return ddf.histo(net.name, EDGES, weight="w", bandwidth=BANDWIDTH)


def adjoint_frame(ROOT, path, net, w):
    from diffana.rdf import DiffFrame

    weights = f"{net.name}__weights"
    df = ROOT.RDataFrame("Events", str(path))
    ddf = _columns(DiffFrame(df, {"s": SCALE}, reverse={weights: w}))
    ddf = ddf.define(net.name, apply_expression(net, weights))
    ddf = ddf.define("w", "1.0 + 0.1 * a * a")
    return ddf, ddf.histo(net.name, EDGES, weight="w", bandwidth=BANDWIDTH)


def cotangents():
    rng = np.random.default_rng(2)
    return rng.normal(size=EDGES.size - 1), rng.normal(size=EDGES.size - 1)


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
def test_adjoint_equals_forward_mode_and_jax(ROOT, events, x64, name):
    from diffana.rdf import adjoint_gradient

    net = NETWORKS[name]
    w = net.init_weights(seed=1)
    g, gv = cotangents()
    fwd = forward_histo(ROOT, events[0], net, w).result()
    _, h = adjoint_frame(ROOT, events[0], net, w)
    r = h.result()
    np.testing.assert_array_equal(r.values, fwd.values)
    grad = adjoint_gradient({h: (g, gv)})
    want = g @ fwd.jacobian + gv @ fwd.variances_jacobian
    scale = np.max(np.abs(want))
    assert grad["s"] == pytest.approx(want[0], abs=1e-10 * scale)
    np.testing.assert_allclose(
        grad[f"{name}__weights"], want[1:], rtol=0, atol=1e-10 * scale
    )
    # The independent JAX implementation (values only: its loss has no variances).
    values = jax_values(net, events)
    theta = np.concatenate([[SCALE], w])
    np.testing.assert_allclose(r.values, values(theta), rtol=1e-10, atol=1e-12)
    jgrad = jax.grad(lambda t: ref.loss(values(t), g))(theta)
    grad_g = adjoint_gradient({h: (g, None)})
    np.testing.assert_allclose(grad_g[f"{name}__weights"], jgrad[1:], rtol=1e-9,
                               atol=1e-11 * float(np.max(np.abs(jgrad))))  # fmt: skip


def test_adjoint_equals_finite_differences_in_a_random_direction(ROOT, events):
    from diffana.rdf import adjoint_gradient

    net = NETWORKS["ds"]
    w = net.init_weights(seed=2)
    g, gv = cotangents()
    ddf, h = adjoint_frame(ROOT, events[0], net, w)
    grad = adjoint_gradient({h: (g, gv)})
    d = np.random.default_rng(4).normal(size=w.size + 1)
    d /= np.linalg.norm(d)
    analytic = grad["s"] * d[0] + grad["ds__weights"] @ d[1:]

    def loss(step):
        ddf.set_params({"s": SCALE + step * d[0], "ds__weights": w + step * d[1:]})
        r = h.result()
        return g @ r.values + gv @ r.variances

    eps = 1e-5
    fd = (loss(eps) - loss(-eps)) / (2 * eps)
    ddf.set_params({"s": SCALE, "ds__weights": w})
    assert analytic == pytest.approx(fd, rel=1e-6)
