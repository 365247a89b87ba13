# SPDX-License-Identifier: BSD-3-Clause
"""diffana.nn's network shape and weights: parameter names, initialisation, the
numpy forward pass against the independent JAX implementation, and the weights
files (round trip bit for bit, refusals in one line)."""

from __future__ import annotations

import importlib.util
import json
import math
import pathlib

import numpy as np
import pytest

from diffana.nn import Jets, Network, load_weights, save_weights
from diffana.nn.weights import dumps, loads


def _reference():
    pytest.importorskip("jax")
    spec = importlib.util.spec_from_file_location(
        "jax_reference", pathlib.Path(__file__).with_name("jax_reference.py")
    )
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DS = Network(
    "ds", inputs=("a",), layers=(4, 1), output_activation="sigmoid",
    jets=Jets(features=("pt", "eta", "tag"), layers=(5, 2), pool="mean"),
)  # fmt: skip


def test_names_follow_the_flat_layout():
    net = Network("net", inputs=("a", "b", "c"), layers=(2, 1))
    names = net.param_names()
    assert net.n_weights == len(names) == 2 * 4 + 1 * 3
    assert names[:7] == [
        "net__l0_w_0_0", "net__l0_w_0_1", "net__l0_w_0_2",
        "net__l0_w_1_0", "net__l0_w_1_1", "net__l0_w_1_2", "net__l0_b_0",
    ]  # fmt: skip
    assert names[-1] == "net__l1_b_0"
    assert DS.param_names()[0] == "ds__phi0_w_0_0"
    assert DS.n_weights == 5 * 4 + 2 * 6 + 4 * 4 + 1 * 5
    assert len(set(DS.param_names())) == DS.n_weights


def test_initialisation_is_seeded_glorot_or_he():
    net = Network("n", inputs=("a",) * 1, layers=(200, 1), seed=3)
    w = net.init_weights()
    assert np.array_equal(w, net.init_weights())
    assert not np.array_equal(w, net.init_weights(seed=4))
    first = net.layer_list()[0]
    mat = w[: first.n_out * first.n_in]
    assert np.abs(mat).max() <= math.sqrt(6 / (1 + 200))
    assert np.all(w[first.n_out * first.n_in : first.size] == 0)  # biases
    relu = Network("r", inputs=("a",) * 1, layers=(4000, 1), activation="relu")
    w = relu.init_weights(bound=10.0)[:4000]
    assert abs(w.std() - math.sqrt(2.0)) < 0.1  # He: std sqrt(2 / fan_in)
    assert np.abs(relu.init_weights(bound=1.0)).max() <= 1.0


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "none"])
def test_numpy_forward_equals_jax(act, x64):
    ref = _reference()
    rng = np.random.default_rng(2)
    mlp = Network("m", inputs=("a", "b"), layers=(3, 2, 1), activation=act)
    w = rng.normal(size=mlp.n_weights)
    x = rng.normal(size=(50, 2))
    got = mlp.forward(w, x)
    want = ref.mlp(w, mlp.sizes, act, "none", x)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    counts = rng.integers(0, 4, 50)
    feats = rng.normal(size=(counts.sum(), 3))
    w = rng.normal(size=DS.n_weights)
    got = DS.forward(w, x[:, :1], (counts, feats))
    event_of = np.repeat(np.arange(50), counts)
    want = ref.deepsets(
        w, DS.phi_sizes, DS.sizes, "tanh", "sigmoid", "mean", x[:, :1], event_of,
        feats, 50,
    )[:, 0]  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_weights_round_trip_bit_for_bit(tmp_path):
    w = np.random.default_rng(5).normal(size=DS.n_weights) * 1e-3 + 1 / 3
    path = save_weights(tmp_path / "sub" / "ds.json", DS, w)
    back = load_weights(path, DS)
    assert back.tobytes() == w.tobytes()
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["ds.json"]
    # A network renamed in the configuration reads the same file.
    renamed = Network("other", DS.inputs, DS.layers, DS.activation,
                      DS.output_activation, DS.seed, DS.jets)  # fmt: skip
    assert load_weights(path, renamed).tobytes() == w.tobytes()


def test_bad_weights_files_are_one_line(tmp_path):
    w = DS.init_weights()
    text = dumps(DS, w)
    other = Network("ds", inputs=("a",), layers=(3, 1), output_activation="sigmoid",
                    jets=DS.jets)  # fmt: skip
    with pytest.raises(ValueError, match=r"another network \(layers: file \[4, 1\]"):
        loads(text, other, "f.json")
    data = json.loads(text)
    del data["weights"]["ds__l1_b_0"]
    with pytest.raises(ValueError, match="no finite value for ds__l1_b_0"):
        loads(json.dumps(data), DS, "f.json")
    with pytest.raises(ValueError, match="not a diffana weights file"):
        loads("{}", DS, "f.json")
    with pytest.raises(ValueError, match="cannot read the weights file"):
        load_weights(tmp_path / "missing.json", DS)
    with pytest.raises(ValueError, match="finite weights"):
        dumps(DS, np.full(DS.n_weights, np.nan))


def test_bad_shapes():
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        Network("n", inputs=("a",), layers=(1,), activation="softplus")
    with pytest.raises(ValueError, match="layer sizes must be integers >= 1"):
        Network("n", inputs=("a",), layers=(0, 1))
    with pytest.raises(ValueError, match="needs inputs or jets"):
        Network("n", inputs=(), layers=(1,))
