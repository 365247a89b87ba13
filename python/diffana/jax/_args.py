# SPDX-License-Identifier: BSD-3-Clause
"""Argument conversion and the trace-time checks of `diffana.jax`.

Values that are concrete when the call is traced (eagerly, or under ``jit`` when
they do not depend on its arguments) are checked with `diffana._checks`, so that
`diffana.jax` rejects them with the numpy front end's words; traced values are left
to the kernels, which fail at run time. Imports jax, numpy and `diffana._checks` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from diffana import _checks

__all__ = [
    "as_array",
    "broadcast",
    "check_bandwidth",
    "check_edges",
    "check_finite",
    "dtypes",
]


def _concrete(value: Any) -> np.ndarray | None:
    """The value as a numpy array, or None when it is traced (only known at run time)."""
    if isinstance(value, jax.core.Tracer):
        return None
    try:
        return np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def check_edges(bins: jax.Array, name: str = "bins") -> None:
    """Bin edges: 1D with at least 2 entries; finite and strictly increasing when
    concrete."""
    arr = _concrete(bins)
    if arr is not None:
        _checks.edges(arr, name)
        return
    # Traced: only the shape is known now (the same words as _checks.edges).
    if bins.ndim != 1:
        msg = f"{name} must be 1-dimensional, got shape {bins.shape}"
        raise ValueError(msg)
    if bins.shape[0] < 2:
        msg = f"{name} must have at least 2 entries, got {bins.shape[0]}"
        raise ValueError(msg)


def check_bandwidth(bandwidth: Any) -> None:
    """A concrete bandwidth must be positive and finite (``relaxed.hist`` needs h > 0)."""
    arr = _concrete(bandwidth)
    if arr is not None:
        _checks.bandwidth(float(arr.reshape(())), "bandwidth", hard=False)


def check_finite(value: Any, name: str) -> None:
    """A concrete cut, window edge or slope must be finite (every element)."""
    arr = _concrete(value)
    if arr is not None:
        _checks.require_finite(arr, name)


def as_array(value: Any, name: str) -> jax.Array:
    """``value`` as a JAX array of real numbers; TypeError naming ``name`` otherwise."""
    if isinstance(value, str) or value is None:
        msg = f"{name} must be an array of real numbers, got {type(value).__name__}"
        raise TypeError(msg)
    try:
        arr = jnp.asarray(value)
    except TypeError as err:
        msg = f"{name} must be an array of real numbers, got {type(value).__name__}"
        raise TypeError(msg) from err
    if not (
        jnp.issubdtype(arr.dtype, jnp.floating)
        or jnp.issubdtype(arr.dtype, jnp.integer)
        or jnp.issubdtype(arr.dtype, jnp.bool_)
    ):
        msg = f"{name} must be an array of real numbers, got dtype {arr.dtype}"
        raise TypeError(msg)
    return arr


def dtypes(*arrays: jax.Array) -> tuple[np.dtype, np.dtype]:
    """(result dtype, kernel-call dtype float32/float64) for the given inputs."""
    out = jnp.result_type(*arrays)
    if not jnp.issubdtype(out, jnp.floating):
        out = jnp.result_type(float)
    call = np.dtype(np.float64) if out == np.float64 else np.dtype(np.float32)
    return np.dtype(out), call


def broadcast(
    names: Sequence[str], values: Sequence[Any]
) -> tuple[list[jax.Array], np.dtype]:
    """The inputs of an element-wise op broadcast together in the kernel-call dtype,
    and the dtype of the result; ValueError naming every shape if they do not
    broadcast."""
    arrays = [as_array(v, n) for n, v in zip(names, values, strict=True)]
    try:
        shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as err:
        shapes = ", ".join(
            f"{n} has shape {a.shape}" for n, a in zip(names, arrays, strict=True)
        )
        msg = f"the arguments do not broadcast together: {shapes}"
        raise ValueError(msg) from err
    out_dtype, dt = dtypes(*arrays)
    return [jnp.broadcast_to(a.astype(dt), shape) for a in arrays], out_dtype
