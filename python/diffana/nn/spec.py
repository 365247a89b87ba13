# SPDX-License-Identifier: BSD-3-Clause
"""What a network is: `Network` (an MLP over per-event inputs, optionally fed by a
deep-sets summary `Jets` of a jagged collection), its flat weight vector, the names
of those weights as analysis parameters, their initialisation and a numpy forward
pass (the same numbers as the C++ op in ``include/diffana/nn/``).

The flat weight layout is the C++ one (``diffana/nn/mlp.hpp``): layer after layer,
each layer's matrix row-major ``[out][in]`` then its biases; a deep-sets network
holds phi's layers first, then rho's (the event MLP). The weights are named
``<network>__<part><layer>_w_<out>_<in>`` and ``<network>__<part><layer>_b_<out>``
with part ``phi`` (per object) or ``l`` (the event MLP): ``net__l0_w_3_2`` is the
weight from input 2 to unit 3 of the first layer. They are C++ identifiers, so a
DiffFrame takes them as parameters.

May import numpy and the standard library only.

Examples
--------
>>> net = Network("net", inputs=("ht", "mbjj"), layers=(3, 1))
>>> net.n_weights, net.param_names()[:3]
(13, ['net__l0_w_0_0', 'net__l0_w_0_1', 'net__l0_w_1_0'])
>>> w = net.init_weights()
>>> net.forward(w, np.array([[0.5, -0.2]])).shape
(1,)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ACTIVATIONS", "POOLS", "Jets", "Layer", "Network"]

#: The activations, with the number the C++ enum ``diffana::nn::Activation`` gives.
ACTIVATIONS = {"none": 0, "tanh": 1, "relu": 2, "sigmoid": 3}

#: The poolings of a deep-sets summary, with the C++ ``diffana::nn::Pool`` number.
POOLS = {"sum": 0, "mean": 1}


@dataclasses.dataclass(frozen=True)
class Layer:
    """One dense layer of the flat weight vector: ``n_in`` -> ``n_out`` units, its
    matrix at ``offset`` (row-major ``[out][in]``), its biases right after."""

    part: str
    index: int
    n_in: int
    n_out: int
    offset: int
    activation: str

    @property
    def size(self) -> int:
        """The number of weights (matrix and biases)."""
        return self.n_out * (self.n_in + 1)


@dataclasses.dataclass(frozen=True)
class Jets:
    """A deep-sets summary of a jagged collection: ``phi`` (layer sizes after the
    features; its last size k is the summary) applied to each object's
    ``features``, then ``pool``-ed (sum or mean) over the event's objects."""

    features: tuple[str, ...]
    layers: tuple[int, ...]
    pool: str = "mean"

    @property
    def n_summary(self) -> int:
        """k: the numbers that summarise an event's objects."""
        return self.layers[-1]


@dataclasses.dataclass(frozen=True)
class Network:
    """A network: ``layers`` (sizes after the inputs; the last one is the number of
    outputs) over ``inputs`` and, with ``jets``, the deep-sets summary appended to
    them. Hidden layers (and phi's layers) use ``activation``, the last layer
    ``output_activation``. ``seed`` fixes the initial weights."""

    name: str
    inputs: tuple[str, ...]
    layers: tuple[int, ...]
    activation: str = "tanh"
    output_activation: str = "none"
    seed: int = 0
    jets: Jets | None = None

    def __post_init__(self) -> None:
        for act in (self.activation, self.output_activation):
            if act not in ACTIVATIONS:
                msg = f"unknown activation {act!r} (known: {', '.join(ACTIVATIONS)})"
                raise ValueError(msg)
        sizes = [*self.layers, *(self.jets.layers if self.jets else ())]
        if not self.layers or any(int(n) < 1 for n in sizes):
            msg = f"layer sizes must be integers >= 1, got {list(self.layers)}"
            raise ValueError(msg)
        if self.jets is not None and self.jets.pool not in POOLS:
            msg = f"unknown pool {self.jets.pool!r} (known: {', '.join(POOLS)})"
            raise ValueError(msg)
        if not self.inputs and self.jets is None:
            msg = "a network needs inputs or jets"
            raise ValueError(msg)

    @classmethod
    def from_dict(cls, name: str, spec: dict[str, Any]) -> Network:
        """A network from its configuration entry (``networks.<name>``)."""
        jets = spec.get("jets")
        return cls(
            name=name,
            inputs=tuple(spec.get("inputs", ())),
            layers=tuple(int(n) for n in spec["layers"]),
            activation=spec.get("activation", "tanh"),
            output_activation=spec.get("output_activation", "none"),
            seed=int(spec.get("seed", 0)),
            jets=None
            if not jets
            else Jets(
                features=tuple(jets["features"]),
                layers=tuple(int(n) for n in jets["layers"]),
                pool=jets.get("pool", "mean"),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The network's shape as JSON types (what a weights file records)."""
        out: dict[str, Any] = {
            "inputs": list(self.inputs),
            "layers": list(self.layers),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }
        if self.jets is not None:
            out["jets"] = {
                "features": list(self.jets.features),
                "layers": list(self.jets.layers),
                "pool": self.jets.pool,
            }
        return out

    # ---- the flat weight vector -------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """The number of outputs (the last layer's size)."""
        return self.layers[-1]

    @property
    def phi_sizes(self) -> list[int]:
        """phi's sizes, features first (empty without jets)."""
        if self.jets is None:
            return []
        return [len(self.jets.features), *self.jets.layers]

    @property
    def sizes(self) -> list[int]:
        """The event MLP's sizes, inputs (and the summary) first."""
        k = self.jets.n_summary if self.jets is not None else 0
        return [len(self.inputs) + k, *self.layers]

    def parts(self) -> list[tuple[str, list[int], str]]:
        """(part, sizes, output activation) of each MLP, in weight order."""
        out = []
        if self.jets is not None:
            out.append(("phi", self.phi_sizes, self.activation))
        out.append(("l", self.sizes, self.output_activation))
        return out

    def layer_list(self) -> list[Layer]:
        """Every dense layer, in the order of the flat weights."""
        out: list[Layer] = []
        offset = 0
        for part, sizes, last in self.parts():
            for i in range(len(sizes) - 1):
                act = last if i == len(sizes) - 2 else self.activation
                layer = Layer(part, i, sizes[i], sizes[i + 1], offset, act)
                out.append(layer)
                offset += layer.size
        return out

    @property
    def n_weights(self) -> int:
        """The length of the flat weight vector."""
        return sum(layer.size for layer in self.layer_list())

    def param_names(self) -> list[str]:
        """The weights' parameter names, in flat order (see the module docstring)."""
        out: list[str] = []
        for ly in self.layer_list():
            stem = f"{self.name}__{ly.part}{ly.index}"
            out += [
                f"{stem}_w_{o}_{i}" for o in range(ly.n_out) for i in range(ly.n_in)
            ]
            out += [f"{stem}_b_{o}" for o in range(ly.n_out)]
        return out

    def init_weights(
        self, seed: int | None = None, bound: float = math.inf
    ) -> np.ndarray:
        """Initial weights from ``numpy.random.default_rng(seed)`` (default: the
        network's): Glorot-uniform matrices (limit sqrt(6 / (fan_in + fan_out)))
        for tanh, sigmoid and linear layers, He-normal (std sqrt(2 / fan_in)) for
        relu layers, clipped to [-bound, bound]; biases 0."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        out = np.zeros(self.n_weights)
        for ly in self.layer_list():
            n = ly.n_out * ly.n_in
            if ly.activation == "relu":
                w = rng.normal(0.0, math.sqrt(2.0 / ly.n_in), n)
            else:
                limit = math.sqrt(6.0 / (ly.n_in + ly.n_out))
                w = rng.uniform(-limit, limit, n)
            out[ly.offset : ly.offset + n] = np.clip(w, -bound, bound)
        return out

    # ---- evaluation (numpy) -----------------------------------------------------

    def forward(
        self,
        weights: Sequence[float] | np.ndarray,
        inputs: np.ndarray,
        objects: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The network on ``n`` events: ``inputs`` ``[n, len(inputs)]``, and with
        jets ``objects = (counts [n], features [sum(counts), n_features])`` (the
        events' objects one after another). Returns ``[n]`` (one output) or ``[n,
        outputs]``: the numbers the C++ op gives, for evaluating a trained network
        on new events."""
        w = np.asarray(weights, dtype=float)
        if w.shape != (self.n_weights,):
            msg = f"weights: expected {self.n_weights} numbers, got shape {w.shape}"
            raise ValueError(msg)
        x = np.asarray(inputs, dtype=float).reshape(-1, len(self.inputs))
        layers = self.layer_list()
        if self.jets is not None:
            if objects is None:
                msg = f"network {self.name!r} has jets: pass objects=(counts, features)"
                raise ValueError(msg)
            counts = np.asarray(objects[0], dtype=np.int64)
            feats = np.asarray(objects[1], dtype=float).reshape(
                -1, len(self.jets.features)
            )
            if counts.shape != (x.shape[0],) or counts.sum() != feats.shape[0]:
                msg = (
                    "objects: counts must have one entry per event and sum to the rows"
                )
                raise ValueError(msg)
            h = _dense(w, [ly for ly in layers if ly.part == "phi"], feats)
            event = np.repeat(np.arange(x.shape[0]), counts)
            summary = np.zeros((x.shape[0], h.shape[1]))
            np.add.at(summary, event, h)
            if self.jets.pool == "mean":
                summary /= np.maximum(counts, 1)[:, None]
            x = np.concatenate([x, summary], axis=1)
        y = _dense(w, [ly for ly in layers if ly.part == "l"], x)
        return y[:, 0] if y.shape[1] == 1 else y


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.asarray(np.tanh(z))
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "sigmoid":
        return np.asarray(1.0 / (1.0 + np.exp(-z)))
    return z


def _dense(w: np.ndarray, layers: Sequence[Layer], x: np.ndarray) -> np.ndarray:
    for ly in layers:
        n = ly.n_out * ly.n_in
        mat = w[ly.offset : ly.offset + n].reshape(ly.n_out, ly.n_in)
        bias = w[ly.offset + n : ly.offset + ly.size]
        x = _activate(ly.activation, x @ mat.T + bias)
    return x
