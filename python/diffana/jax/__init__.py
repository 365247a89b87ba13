# SPDX-License-Identifier: BSD-3-Clause
"""Drop-in replacements for ``relaxed.hist`` and ``relaxed.cut`` on diffana's kernels.

`hist`, `hist_weighted`, `cut` and `window` take the arguments of their ``relaxed``
namesakes (gradhep/relaxed) and return the same numbers, but every value and every
derivative is computed by diffana's C++ kernels rather than by ``jax.numpy``:

- the primal histogram, the edge terms ``S_j`` / ``T_j`` that give the derivatives with
  respect to the bin edges and the bandwidth, and the forward (JVP) tangent with
  respect to the events come from ``diffana_hist_fill_1d_f64``;
- the reverse-mode (VJP) cotangent of the events is a per-event gather,
  ``ct_x_i = w_i sum_b g_b dk_b/dx(x_i)`` and ``ct_w_i = sum_b g_b k_b(x_i)``, done by
  ``diffana_hist_fill_1d_vjp_f64``;
- cuts and windows come from ``diffana_soft_cut_f64`` / ``diffana_soft_window_f64``,
  the entries ``SOFT_CUT`` / ``SOFT_WINDOW`` of the relaxed-op table (`diffana._ops`).

They are ``jax.custom_jvp`` functions whose tangent rule is linear and transposable, so
``jax.grad``, ``jax.jacfwd``, ``jax.jacrev``, ``jax.jit`` and ``jax.vmap`` all work
(first derivatives; second derivatives are not implemented). With respect to the
events the tangent map is a pair of JAX primitives, ``diffana_hist_tangent`` and
``diffana_hist_cotangent``, each other's transpose; under ``vmap`` (``jacfwd``,
``jacrev``) a batch of tangents becomes the ``P`` tangent directions of a single kernel
pass over the events.

The kernels run as XLA FFI custom calls when the extension was built with jaxlib's
FFI headers (`backend` returns ``"ffi"``; ``pip install 'diffana[jax]'`` builds them):
on the CPU, and on an NVIDIA GPU as well when the extension was also built with the
CUDA kernels (CMake ``DIFFANA_CUDA=ON``): their handlers are registered for platform
"CUDA", so that ``jax.jit(jax.grad(f))`` keeps every array on the device. Otherwise
(no FFI handlers, a GPU without CUDA handlers, other platforms) they go through
``jax.pure_callback`` into the numpy-level bindings (``"callback"``), which copies
the arguments to the host and the results back on every call.

Precision: the kernels always compute in float64. With ``jax_enable_x64`` (needed to
agree with ``relaxed`` to ~1e-12) the results are float64; without it JAX holds
float32 arrays, which are widened to float64 inside the kernel and the results rounded
back to float32. Other floating dtypes (float16, bfloat16) are computed as float32 and
returned in their own dtype.

The package: this module holds the public functions and their argument handling;
``_jvp`` their differentiation rules, ``_primitives`` the two primitives, ``_kernels``
the kernel calls (FFI or callback) and ``_args`` the conversions and checks. This
module imports them, jax, numpy and `diffana._checks` / `diffana._ops`.

Invalid arguments raise ``ValueError`` naming the argument when the call is traced
(eagerly, or under ``jit`` for everything that does not depend on traced values); a
traced bandwidth, bin edges, cut or slope that turns out invalid at run time makes the
kernel fail with an error (``JaxRuntimeError``) that names the argument.

Examples
--------
>>> import jax
>>> import jax.numpy as jnp
>>> import diffana.jax as dj
>>> data = jnp.array([0.1, 0.4, 0.45, 0.9])
>>> bins = jnp.array([0.0, 0.5, 1.0])
>>> [round(float(v), 4) for v in dj.hist(data, bins, bandwidth=0.1)]
[2.3741, 1.3085]
>>> g = jax.grad(lambda b: dj.hist(data, b, 0.1)[0])(bins)  # d bin 0 / d edges
>>> [round(float(v), 4) for v in g]
[-2.4212, 5.943, 0.0]
>>> [round(float(v), 4) for v in dj.cut(data, 0.5, slope=10.0)]
[0.018, 0.2689, 0.3775, 0.982]
"""

from __future__ import annotations

__all__ = ["backend", "cut", "hist", "hist_weighted", "window"]

from collections.abc import Sequence
from typing import Any

try:
    import jax
    import jax.numpy as jnp
except ImportError as err:  # pragma: no cover - exercised only without JAX
    msg = (
        "diffana.jax needs JAX, which is not installed: "
        "pip install 'diffana[jax]' (or pip install jax)"
    )
    raise ImportError(msg) from err

import numpy as np

from diffana import _ops
from diffana._checks import Overflow

from . import _args, _jvp, _kernels, _primitives
from ._kernels import backend

#: Whether the extension holds the XLA FFI handlers (the tests run both paths).
_FFI_BUILT = _kernels.FFI_BUILT


def _set_backend(name: str) -> None:
    """Switch between ``"ffi"`` and ``"callback"`` (tests; clears JAX's caches)."""
    _kernels.set_backend(name)
    _primitives.clear_caches()


# ---- histograms --------------------------------------------------------------------


def _hist_impl(
    data: Any,
    weights: Any,
    bins: Any,
    bandwidth: Any,
    density: bool,
    reflect_infinities: bool,
) -> jax.Array:
    x = _args.as_array(data, "data")
    if x.ndim != 1:
        msg = f"data must be 1-dimensional, got shape {x.shape}"
        raise ValueError(msg)
    edges = _args.as_array(bins, "bins")
    _args.check_edges(edges)
    h = _args.as_array(bandwidth, "bandwidth")
    if h.size != 1:
        msg = f"bandwidth must be a scalar, got shape {h.shape}"
        raise ValueError(msg)
    h = h.reshape(())
    for name, flag in (
        ("density", density),
        ("reflect_infinities", reflect_infinities),
    ):
        if not isinstance(flag, (bool, np.bool_)):
            msg = f"{name} must be True or False, got {flag!r}"
            raise TypeError(msg)
    _args.check_bandwidth(h)

    weighted = weights is not None
    inputs = [x, edges, h]
    if weighted:
        w = _args.as_array(weights, "weights")
        if w.shape != x.shape:
            msg = f"weights must have the shape of data {x.shape}, got {w.shape}"
            raise ValueError(msg)
        inputs.append(w)
    out_dtype, dt = _args.dtypes(*inputs)
    x, edges, h = x.astype(dt), edges.astype(dt), h.astype(dt)
    w = w.astype(dt) if weighted else jnp.zeros((0,), dt)

    # relaxed's density with reflect_infinities divides the unfolded in-range counts
    # by the total (in-range plus overflow) and drops the folded-in overflow: the
    # widths of the infinite outer bins are infinite. Reproduce it exactly.
    fold = reflect_infinities and not density
    overflow = Overflow.FOLD if fold else Overflow.DROP
    counts: jax.Array = _jvp.hist_counts(x, w, edges, h, weighted, int(overflow))
    if density:
        widths = jnp.diff(edges)
        if reflect_infinities:
            valid = ~jnp.isnan(x)
            if weighted:
                valid = valid & ~jnp.isnan(w)
                total = jnp.sum(jnp.where(valid, w, 0))
            else:
                total = jnp.sum(valid).astype(dt)
        else:
            total = jnp.sum(counts)
        counts = counts / widths / total
    return counts.astype(out_dtype)


def hist(
    data: Any,
    bins: Any,
    bandwidth: Any,
    density: bool = False,
    reflect_infinities: bool = False,
) -> jax.Array:
    """Differentiable histogram by kernel density estimation, as ``relaxed.hist``.

    Each event spreads a unit of weight over the bins as a Gaussian of width
    ``bandwidth``: ``count_b = sum_i Phi((e_{b+1} - x_i) / h) - Phi((e_b - x_i) / h)``
    (truncated at 7.5 bandwidths, a relative error below 6.4e-14 per event).
    Derivatives: ``d count_b / d x_i = (phi(z_b) - phi(z_{b+1})) / h``,
    ``d count_b / d e_j = +S_j`` for ``j = b + 1`` and ``-S_j`` for ``j = b`` with
    ``S_j = sum_i phi(z_ij) / h``, and ``d count_b / d h = T_b - T_{b+1}`` with
    ``T_j = sum_i phi(z_ij) z_ij / h``, ``z_ij = (e_j - x_i) / h``.

    Parameters
    ----------
    data : array_like, shape (n,)
        The events. NaN events are skipped (``relaxed`` would return NaN bins).
    bins : array_like, shape (nbins + 1,)
        Bin edges, finite and strictly increasing.
    bandwidth : float or 0-d array
        Width of each event's Gaussian kernel, positive and finite.
    density : bool
        Divide by the bin widths and the total, as ``relaxed.hist``.
    reflect_infinities : bool
        Count what falls below the first / above the last edge in the first / last
        bin (the outer edges then have zero gradient). With ``density=True`` this is
        ``relaxed``'s quirk: the in-range counts are divided by the total including
        the overflow, and the overflow itself is not added back.

    Returns
    -------
    jax.Array, shape (nbins,)
        The counts, differentiable w.r.t. ``data``, ``bins`` and ``bandwidth``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import diffana.jax as dj
    >>> counts = dj.hist(jnp.array([0.2, 0.7]), jnp.array([0.0, 0.5, 1.0]), 0.05)
    >>> [round(float(c), 4) for c in counts]
    [1.0, 1.0]
    """
    return _hist_impl(data, None, bins, bandwidth, density, reflect_infinities)


def hist_weighted(
    data: Any,
    weights: Any,
    bins: Any,
    bandwidth: Any,
    density: bool = False,
    reflect_infinities: bool = False,
) -> jax.Array:
    """Weighted version of `hist`: event ``i`` spreads ``weights[i]`` over the bins.

    ``count_b = sum_i w_i (Phi(z_{i,b+1}) - Phi(z_{i,b}))``; ``d count_b / d w_i`` is
    the bin-integrated kernel ``Phi(z_{i,b+1}) - Phi(z_{i,b})`` and every other
    derivative is that of `hist` with the event's weight as a factor. ``density``
    divides by the bin widths and the sum of the counts (with ``reflect_infinities``,
    by the sum of the weights, as `hist` does). Events with a NaN value or weight are
    skipped.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import diffana.jax as dj
    >>> counts = dj.hist_weighted(
    ...     jnp.array([0.2, 0.7]), jnp.array([2.0, 0.5]), jnp.array([0.0, 0.5, 1.0]), 0.05
    ... )
    >>> [round(float(c), 4) for c in counts]
    [2.0, 0.5]
    """
    if weights is None:
        msg = "weights must be an array of real numbers, got None"
        raise TypeError(msg)
    return _hist_impl(data, weights, bins, bandwidth, density, reflect_infinities)


# ---- relaxed element-wise ops (the table of diffana._ops) ----------------------------


def _relaxed(op: _ops.RelaxedOp, values: Sequence[Any], **options: int) -> jax.Array:
    """A relaxed op of the table on ``values`` (named ``op.jax_inputs``)."""
    names = op.jax_inputs
    for name, value in zip(names[1:], values[1:], strict=True):
        _args.check_finite(value, name)
    arrays, out_dtype = _args.broadcast(names, values)
    out: jax.Array = _jvp.relaxed(op, tuple(options.items()), *arrays)
    return out.astype(out_dtype)


def cut(data: Any, cut_val: Any, slope: Any = 1.0, keep: str = "above") -> jax.Array:
    """Sigmoid cut, as ``relaxed.cut``: weights in [0, 1], not indices.

    ``keep="above"``: ``s = 1 / (1 + exp(-slope (x - cut_val)))``; ``keep="below"``:
    ``1 / (1 + exp(slope (x - cut_val)))``. ``ds/dx = slope s (1 - s)``,
    ``ds/dcut_val = -ds/dx``, ``ds/dslope = (x - cut_val) s (1 - s)`` (signs flipped
    for ``"below"``). Far from the cut the value is exactly 0 or 1 with zero
    derivatives (no NaN for any finite slope).

    Parameters
    ----------
    data : array_like
        Any shape; ``cut_val`` and ``slope`` broadcast against it.
    cut_val, slope : float or array_like
        Finite. Differentiable, like ``data``.
    keep : {"above", "below"}
        Which side passes.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import diffana.jax as dj
    >>> [round(float(v), 4) for v in dj.cut(jnp.array([0.0, 1.0]), 1.0, keep="below")]
    [0.7311, 0.5]
    """
    return _relaxed(
        _ops.SOFT_CUT, (data, cut_val, slope), keep_above=_ops.keep_above(keep)
    )


def window(data: Any, lo: Any, hi: Any, slope: Any = 1.0) -> jax.Array:
    """Soft window ``lo < x < hi``: ``cut(x, lo, slope) * cut(x, hi, slope, "below")``.

    ``v = sigmoid(slope (x - lo)) sigmoid(slope (hi - x))``; its derivatives are those
    of the product. ``lo``, ``hi`` and ``slope`` must be finite.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import diffana.jax as dj
    >>> [round(float(v), 4) for v in dj.window(jnp.array([0.0, 5.0]), 1.0, 9.0, 2.0)]
    [0.1192, 0.9993]
    """
    return _relaxed(_ops.SOFT_WINDOW, (data, lo, hi, slope))
