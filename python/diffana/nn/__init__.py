# SPDX-License-Identifier: BSD-3-Clause
"""Neural-network observables: a small MLP over per-event features, optionally fed
by a deep-sets summary of a jagged collection (the jets of an event in k numbers),
whose weights are analysis parameters.

- `Network`, `Jets` (``spec``): the shape, the flat weights and their parameter
  names (``net__l0_w_3_2``), Glorot/He initialisation, a numpy forward pass;
- `save_weights`, `load_weights` (``weights``): trained weights as JSON, written
  atomically, read back bit for bit;
- `declare`, `expression`, `cpp_spec` (``cpp``): the network as a C++ function that
  DiffFrame expressions call (``include/diffana/nn/``: forward in double, the
  tangents from one hand-written reverse sweep); ``cpp.apply_expression``: the call
  on a reverse-mode weight vector, for the adjoint event loop (`diffana.rdf.adjoint`).

In a configuration, ``networks: {name: {inputs, layers, activation, ...}}`` makes
a column ``name`` and adds the weights to the optimised parameters (see
``docs/config.md``).

May import numpy; ROOT through `diffana.rdf` inside `declare` only.
"""

from __future__ import annotations

from .cpp import cpp_spec, declare, expression
from .spec import ACTIVATIONS, POOLS, Jets, Layer, Network
from .weights import load_weights, save_weights

__all__ = [
    "ACTIVATIONS",
    "POOLS",
    "Jets",
    "Layer",
    "Network",
    "cpp_spec",
    "declare",
    "expression",
    "load_weights",
    "save_weights",
]


def __dir__() -> list[str]:
    return __all__
