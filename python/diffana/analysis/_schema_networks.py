# SPDX-License-Identifier: BSD-3-Clause
"""The schema of ``networks:`` (neural-network columns whose weights are optimised
parameters, `diffana.nn`): the entries, the checks between them and the other names,
and the weights as `Parameter` entries (seeded, or read from a weights file).

``gradient`` chooses per network how the weights' gradient is computed
(`adjoint_networks`: forward mode for small networks, the adjoint event loop of
`diffana.rdf.adjoint` for large ones).

The weights are appended to ``parameters`` after validation (`weight_parameters`)
as ``<name>__l0_w_3_2`` & co. with bounds ``[-bound, bound]``; `split_weights` takes
the entries named like a network's weights out of a raw configuration first (a
dumped configuration holds them), and their values win over the seeded ones.

May import pydantic, numpy, `diffana.analysis._schema_base`, ``_schema_inputs``
(`Parameter`) and `diffana.nn` (``spec``, ``weights``: numpy only).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from ..nn import spec as nn_spec
from ..nn import weights as nn_weights
from ..rdf.frame import max_forward_params
from ._schema_base import FiniteFloat, Model, StrictBool, StrictInt, identifier, shown
from ._schema_inputs import Parameter

__all__ = [
    "ADJOINT_MIN_WEIGHTS",
    "Network",
    "NetworkJets",
    "NetworksMixin",
    "adjoint_networks",
    "network_problems",
    "network_spec",
    "split_by_network",
    "split_weights",
    "weight_parameters",
]
_COLUMN = re.compile(r"[A-Za-z_]\w*")

#: ``gradient: auto`` takes the adjoint event loop from this many weights on.
#: Measured on the demo configuration with the network as a soft selection (3
#: samples, 5 histograms each, 2 x 10^4 events; one evaluation, value and gradient):
#: forward / adjoint 0.23 / 0.33 s at 33 weights, 0.35 / 0.43 s at 101, 0.63 /
#: 0.72 s at 257, 1.84 / 0.88 s at 1001 (forward mode there also needs more than
#: the default 8 MB stack: Dual<double, 1005> temporaries). Forward mode's cost per
#: histogram fill grows with the weights, the adjoint's once per event.
ADJOINT_MIN_WEIGHTS = 400
_ACTIVATION = Literal["tanh", "relu", "sigmoid", "none"]


def _sizes(v: list[int], what: str) -> list[int]:
    bad = [n for n in v if n < 1]
    if bad:
        msg = f"{what} sizes must be >= 1, got {v}"
        raise ValueError(msg)
    return v


def _columns(v: list[str]) -> list[str]:
    for c in v:
        if not _COLUMN.fullmatch(c):
            msg = f"{c!r} is not a column name (a define or a branch)"
            raise ValueError(msg)
    repeated = sorted({c for c in v if v.count(c) > 1})
    if repeated:
        msg = f"repeated columns {repeated}"
        raise ValueError(msg)
    return v


class NetworkJets(Model):
    """A deep-sets summary of a jagged collection (the jets of an event in k
    numbers): phi on each object's features, summed or averaged, appended to the
    network's inputs."""

    features: list[str] = Field(
        min_length=1,
        description="The objects' features: RVec columns (defines or branches) of "
        "one length per event, e.g. [jet_pt_s, Jet_eta].",
    )
    layers: list[StrictInt] = Field(
        min_length=1,
        description="phi's layer sizes after the features; the last one, k, is the "
        "summary's size.",
    )
    pool: Literal["mean", "sum"] = Field(
        default="mean",
        description="How the objects' phi outputs are combined (an event without "
        "objects gives 0).",
    )

    @field_validator("layers")
    @classmethod
    def _check_layers(cls, v: list[int]) -> list[int]:
        return _sizes(v, "jets layer")

    @field_validator("features")
    @classmethod
    def _check_features(cls, v: list[str]) -> list[str]:
        return _columns(v)


class Network(Model):
    """A neural network whose output is a new column named as the network (for
    observables, selections and weights) and whose weights are optimised
    parameters (``<name>__l0_w_<out>_<in>``, ``<name>__l0_b_<out>``, ...)."""

    inputs: list[str] = Field(
        default_factory=list,
        description="The per-event input columns (defines or branches), in order. "
        "Scale them to about [-1, 1] in defines.",
    )
    layers: list[StrictInt] = Field(
        min_length=1,
        description="The layer sizes after the inputs; the last one must be 1 (the "
        "network column is one number per event), e.g. [8, 1].",
    )
    activation: _ACTIVATION = Field(
        default="tanh", description="The hidden layers' (and phi's) activation."
    )
    output_activation: _ACTIVATION = Field(
        default="none",
        description="The last layer's activation (sigmoid: an output in (0, 1)).",
    )
    seed: StrictInt = Field(
        default=0,
        description="The seed of the initial weights (numpy's default_rng; "
        "Glorot-uniform, He-normal for relu; biases 0).",
    )
    bound: FiniteFloat = Field(
        default=3.0,
        gt=0,
        description="Every weight is optimised within [-bound, bound].",
    )
    optimize: StrictBool = Field(
        default=True, description="Whether the optimizer trains the weights."
    )
    weights: str | None = Field(
        default=None,
        description="A weights file written by diffana optimize (weights_<name>.json; "
        "relative to the configuration's folder): the initial weights instead of "
        "the seeded ones.",
    )
    jets: NetworkJets | None = Field(
        default=None,
        description="A deep-sets summary of a jagged collection appended to the "
        "inputs; null: none.",
    )
    gradient: Literal["auto", "forward", "adjoint"] = Field(
        default="auto",
        description="How the objective's gradient w.r.t. the weights is computed: "
        "forward (a tangent per weight carried through every event's histogram "
        "fill), adjoint (a second event loop that sweeps each event's network "
        "backwards; cost independent of the number of weights) or auto: adjoint "
        f"from {ADJOINT_MIN_WEIGHTS} weights on.",
    )

    @field_validator("layers")
    @classmethod
    def _check_layers(cls, v: list[int]) -> list[int]:
        _sizes(v, "layer")
        if v[-1] != 1:
            msg = (
                f"the last layer must have 1 unit (the network column is one "
                f"number per event), got {v}"
            )
            raise ValueError(msg)
        return v

    @field_validator("inputs")
    @classmethod
    def _check_inputs(cls, v: list[str]) -> list[str]:
        return _columns(v)

    @model_validator(mode="after")
    def _some_input(self) -> Network:
        if not self.inputs and self.jets is None:
            msg = "a network needs inputs, jets or both"
            raise ValueError(msg)
        return self


def adjoint_networks(config: Any) -> list[str]:
    """The networks of ``config`` whose weights' gradient comes from the adjoint
    event loop: ``gradient: adjoint``, or ``auto`` with at least
    `ADJOINT_MIN_WEIGHTS` weights."""
    out = []
    for name, entry in config.networks.items():
        if entry.gradient == "adjoint" or (
            entry.gradient == "auto"
            and network_spec(name, entry).n_weights >= ADJOINT_MIN_WEIGHTS
        ):
            out.append(name)
    return out


def split_by_network(
    config: Any, names: Sequence[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """``names`` split into the parameters that are no network weight (in their
    order) and each network's weights among them, by network: what summaries,
    plots and logs show one by one and what they show as one line per network."""
    groups: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for net in getattr(config, "networks", {}):
        for w in config.network(net).param_names():
            owner[w] = net
    plain = []
    for n in names:
        if n in owner:
            groups.setdefault(owner[n], []).append(n)
        else:
            plain.append(n)
    return plain, groups


def network_problems(config: Any, params: set[str]) -> list[str]:
    """What is wrong with ``config.networks``: a name that is not an identifier or
    is also a parameter, define, sample or correction (each problem names the key)."""
    out: list[str] = []
    taken = (
        params
        | set(config.defines)
        | {s.name for s in config.samples}
        | set(config.corrections)
    )
    for name, entry in config.networks.items():
        key = f"networks.{name}"
        try:
            identifier(name)
        except ValueError as e:
            out.append(f"{key}: {e}")
            continue
        if "__" in name:
            out.append(f"{key}: a network's name must not contain '__'")
        elif name in taken:
            out.append(
                f"{key}: the name is also a parameter, define, sample or correction"
            )
        elif entry.gradient == "forward":
            n, limit = network_spec(name, entry).n_weights, max_forward_params()
            if n > limit:
                out.append(
                    f"{key}.gradient: forward with {n} weights, more than the "
                    f"{limit} forward-mode parameters a DiffFrame "
                    "takes (each value would carry every tangent); use adjoint or auto"
                )
    return out


def network_spec(name: str, n: Network) -> nn_spec.Network:
    """The `diffana.nn.Network` of the entry ``n`` called ``name``."""
    jets = None
    if n.jets is not None:
        jets = nn_spec.Jets(tuple(n.jets.features), tuple(n.jets.layers), n.jets.pool)
    return nn_spec.Network(
        name, tuple(n.inputs), tuple(n.layers), n.activation,
        n.output_activation, n.seed, jets,
    )  # fmt: skip


def split_weights(data: Any) -> tuple[Any, dict[str, Any]]:
    """A raw configuration without the ``parameters`` entries named like a
    network's weights (``<network>__...``), and those entries' values."""
    carried: dict[str, Any] = {}
    nets = data.get("networks") if isinstance(data, Mapping) else None
    params = data.get("parameters") if isinstance(data, Mapping) else None
    if not isinstance(nets, Mapping) or not nets or not isinstance(params, list):
        return data, carried
    keep = []
    for p in params:
        name = p.get("name") if isinstance(p, Mapping) else None
        if isinstance(name, str) and "__" in name and name.split("__", 1)[0] in nets:
            carried[name] = p.get("value")
        else:
            keep.append(p)
    return {**data, "parameters": keep}, carried


def weight_parameters(config: Any, carried: Mapping[str, Any]) -> list[Parameter]:
    """The weights of every network of ``config`` as parameters: from the
    ``weights`` file or the seed, then the ``carried`` values (`split_weights`).
    ValueError (naming the key) for an unreadable or mismatched file, a weight
    outside ``[-bound, bound]`` or a carried name that is no weight."""
    out: list[Parameter] = []
    known: set[str] = set()
    for name, entry in config.networks.items():
        key = f"networks.{name}"
        net = network_spec(name, entry)
        names = net.param_names()
        known.update(names)
        if entry.weights is not None:
            path = os.path.join(config.base_dir, os.path.expanduser(entry.weights))
            try:
                values = nn_weights.load_weights(path, net)
            except ValueError as e:
                msg = f"{key}.weights: {e}"
                raise ValueError(msg) from None
        else:
            values = net.init_weights(bound=entry.bound)
        for i, n in enumerate(names):
            v = carried.get(n, values[i])
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            if not number or not abs(v) <= entry.bound:
                text = repr(float(v)) if number else shown(v)
                msg = (
                    f"{key}: weight {n} = {text} is not a number within "
                    f"[-bound, bound] = [{-entry.bound}, {entry.bound}] (raise "
                    f"{key}.bound)"
                )
                raise ValueError(msg)
            out.append(
                Parameter.model_construct(
                    name=n,
                    value=float(v),
                    bounds=(-entry.bound, entry.bound),
                    optimize=entry.optimize,
                    relaxation=False,
                    unit=None,
                )
            )
    unknown = sorted(set(carried) - known)
    if unknown:
        msg = (
            f"parameters: {unknown[0]!r} is named like a network's weight but is "
            "none (a parameter name must not start with a network's name and '__')"
        )
        raise ValueError(msg)
    return out


class NetworksMixin(Model):
    """What the configuration (a subclass with a ``networks`` field) gains from
    its networks: their weights appended to ``parameters`` after validation, and
    `network`."""

    @model_validator(mode="wrap")
    @classmethod
    def _network_weights(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any]
    ) -> Any:
        data, carried = split_weights(data)
        config = handler(data)
        if not config.networks:
            return config
        added = weight_parameters(config, carried)
        return config.model_copy(update={"parameters": [*config.parameters, *added]})

    def network(self, name: str) -> nn_spec.Network:
        """The `diffana.nn.Network` of ``networks.<name>``."""
        return network_spec(name, getattr(self, "networks")[name])  # noqa: B009
