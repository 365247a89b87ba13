# SPDX-License-Identifier: BSD-3-Clause
"""The differentiation rules of `diffana.jax`'s public functions (``jax.custom_jvp``).

- `hist_counts`: the histogram. Its tangent is linear and transposable: the event
  part is the primitive ``diffana_hist_tangent`` (`diffana.jax._primitives`), the
  edge and bandwidth parts come from the kernel's per-edge terms ``S_j`` / ``T_j``.
- `relaxed`: any relaxed op of the table (`diffana._ops`); its tangent is the sum of
  the kernel's partial derivatives times the inputs' tangents.

The kernel calls inside are themselves ``custom_jvp`` functions that refuse to be
differentiated, so that a second derivative raises a clear ``NotImplementedError``.
Imports jax, numpy, `diffana._ops` and `diffana.jax`'s `_args`, `_kernels` and
`_primitives` only.
"""

# mypy: disallow-untyped-calls=False, warn-return-any=False

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero
from jax.interpreters import ad

from diffana._checks import Overflow
from diffana._ops import RelaxedOp

from . import _args, _kernels
from ._primitives import tangent_p

__all__ = ["hist_counts", "relaxed"]


def _is_zero(t: Any) -> bool:
    return t is None or isinstance(t, (SymbolicZero, ad.Zero))


def _second_derivatives_refused(name: str) -> Callable[..., Any]:
    def refuse(*args: Any) -> Any:
        msg = (
            f"second derivatives of diffana.jax.{name} are not implemented "
            "(its kernels give first derivatives only)"
        )
        raise NotImplementedError(msg)

    return refuse


# ---- histogram ---------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5))
def _hist_kernel(
    x: Any, w: Any, edges: Any, h: Any, weighted: Any, overflow: Any
) -> Any:
    """(values[nb], S[nb + 1], T[nb + 1]) from diffana_hist_fill_1d_f64."""
    _args.check_edges(edges)
    _args.check_bandwidth(h)
    return _kernels.hist_fill(x, w, edges, h, weighted=weighted, overflow=overflow)


_hist_kernel.defjvp(_second_derivatives_refused("hist"))


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5))
def hist_counts(
    x: Any, w: Any, edges: Any, h: Any, weighted: Any, overflow: Any
) -> Any:
    """Histogram values of the (weighted) events; w is an empty placeholder if not.

    ``overflow`` is the kernels' code (`diffana._checks.Overflow`)."""
    return _hist_kernel(x, w, edges, h, weighted, overflow)[0]


def _hist_counts_jvp(weighted: Any, overflow: Any, primals: Any, tangents: Any) -> Any:
    x, w, edges, h = primals
    dx, dw, dedges, dh = tangents
    values, s, t = _hist_kernel(x, w, edges, h, weighted, overflow)
    if overflow == Overflow.FOLD:
        # The outer edges act as -inf / +inf: they carry no density and no moment.
        inner = jnp.ones_like(s).at[0].set(0).at[-1].set(0)
        s, t = s * inner, t * inner
    out = jnp.zeros_like(values)
    has_dx = not _is_zero(dx)
    has_dw = weighted and not _is_zero(dw)
    if has_dx or has_dw:
        lin = ([dx[:, None]] if has_dx else []) + ([dw[:, None]] if has_dw else [])
        jac = tangent_p.bind(
            x,
            w,
            edges,
            h,
            *lin,
            weighted=weighted,
            overflow=overflow,
            has_dx=has_dx,
            has_dw=has_dw,
        )
        out = out + jac[:, 0]
    if not _is_zero(dedges):
        # d values_b = -S_b de_b + S_{b+1} de_{b+1}
        out = out + s[1:] * dedges[1:] - s[:-1] * dedges[:-1]
    if not _is_zero(dh):
        # d values_b / dh = T_b - T_{b+1}
        out = out + (t[:-1] - t[1:]) * dh
    return values, out


hist_counts.defjvp(_hist_counts_jvp, symbolic_zeros=True)


# ---- relaxed element-wise ops --------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _relaxed_kernel(
    op: RelaxedOp, options: tuple[tuple[str, int], ...], *args: Any
) -> Any:
    """(value, d/d input_0, ...) of the op's kernel."""
    for name, value in zip(op.jax_inputs[1:], args[1:], strict=True):
        _args.check_finite(value, name)
    return _kernels.relaxed(op, *args, **dict(options))


def _relaxed_kernel_jvp(op: RelaxedOp, *rest: Any) -> Any:
    return _second_derivatives_refused(op.jax_name)()


_relaxed_kernel.defjvp(_relaxed_kernel_jvp)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def relaxed(op: RelaxedOp, options: tuple[tuple[str, int], ...], *args: Any) -> Any:
    """The value of a relaxed op on ``args`` (one shape, the kernel-call dtype);
    ``options`` as ``(name, value)`` pairs of ``op.options``."""
    return _relaxed_kernel(op, options, *args)[0]


def _relaxed_jvp(
    op: RelaxedOp, options: tuple[tuple[str, int], ...], primals: Any, tangents: Any
) -> Any:
    value, *partials = _relaxed_kernel(op, options, *primals)
    # sum_k partial_k * tangent_k over the inputs that carry a tangent (linear).
    out = jnp.zeros_like(value)
    for partial, t in zip(partials, tangents, strict=True):
        if not _is_zero(t):
            out = out + partial * t
    return value, out


relaxed.defjvp(_relaxed_jvp, symbolic_zeros=True)
