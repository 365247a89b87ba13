# SPDX-License-Identifier: BSD-3-Clause
"""An independent JAX implementation of diffana's network observables: the MLP,
the deep-sets summary of a jagged collection and the soft histogram
(``relaxed.hist``: an event at x with weight w adds w [Phi((hi - x)/h) - Phi((lo -
x)/h)] to each bin), written with jax.numpy only (nothing of diffana is imported),
so that tests and benchmarks can compare DiffFrame's values and gradients with it.

The flat weight layout is spelled out here again: layer after layer, each matrix
row-major [out][in] followed by its biases; phi's layers before the event MLP's.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

__all__ = ["deepsets", "loss", "mlp", "n_weights", "soft_hist"]


def _act(name: str, z: jax.Array) -> jax.Array:
    if name == "tanh":
        return jnp.tanh(z)
    if name == "relu":
        return jnp.maximum(z, 0.0)
    if name == "sigmoid":
        return jax.nn.sigmoid(z)
    return z


def n_weights(sizes: Sequence[int]) -> int:
    """The number of weights of an MLP with these sizes (inputs first)."""
    return sum(sizes[i + 1] * (sizes[i] + 1) for i in range(len(sizes) - 1))


def mlp(
    w: jax.Array, sizes: Sequence[int], hidden: str, output: str, x: jax.Array
) -> jax.Array:
    """``x`` [n, sizes[0]] through the MLP with flat weights ``w``: [n, sizes[-1]]."""
    off = 0
    for i in range(len(sizes) - 1):
        n_in, n_out = sizes[i], sizes[i + 1]
        mat = w[off : off + n_out * n_in].reshape(n_out, n_in)
        off += n_out * n_in
        bias = w[off : off + n_out]
        off += n_out
        act = output if i == len(sizes) - 2 else hidden
        x = _act(act, x @ mat.T + bias)
    return x


def deepsets(
    w: jax.Array,
    phi_sizes: Sequence[int],
    rho_sizes: Sequence[int],
    hidden: str,
    output: str,
    pool: str,
    x: jax.Array,
    event_of_object: jax.Array,
    features: jax.Array,
    n_events: int,
) -> jax.Array:
    """rho([x, pool_j phi(f_j)]): ``features`` [n_objects, n_f] with the event
    index of each object; mean over no objects is 0."""
    n_phi = n_weights(phi_sizes)
    h = mlp(w[:n_phi], phi_sizes, hidden, hidden, features)
    summary = jax.ops.segment_sum(h, event_of_object, num_segments=n_events)
    if pool == "mean":
        counts = jax.ops.segment_sum(
            jnp.ones(features.shape[0]), event_of_object, num_segments=n_events
        )
        summary = summary / jnp.maximum(counts, 1.0)[:, None]
    return mlp(w[n_phi:], rho_sizes, hidden, output, jnp.concatenate([x, summary], 1))


def soft_hist(
    x: jax.Array, weights: jax.Array, edges: jax.Array, bandwidth: float
) -> jax.Array:
    """The soft histogram of ``x`` (relaxed.hist with weights)."""
    cdf = jax.scipy.stats.norm.cdf((edges[None, :] - x[:, None]) / bandwidth)
    return jnp.sum(weights[:, None] * (cdf[:, 1:] - cdf[:, :-1]), axis=0)


def loss(values: jax.Array, cotangent: jax.Array) -> jax.Array:
    """A scalar of the histogram: sum_b cotangent_b values_b."""
    return jnp.sum(values * cotangent)
