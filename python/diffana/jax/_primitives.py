# SPDX-License-Identifier: BSD-3-Clause
"""The linear event tangent map of `diffana.jax.hist` and its transpose, as two JAX
primitives with their rules (abstract evaluation, lowering, JVP, transpose, batching).

``diffana_hist_tangent(x, w, edges, h, *lin) -> jac[nb, P]``
    ``jac[b, p] = sum_i w_i dk_b/dx(x_i) dx[i, p] + k_b(x_i) dw[i, p]`` with
    ``lin = (dx[n, P] if has_dx) + (dw[n, P] if has_dw)``; linear in ``lin``.
``diffana_hist_cotangent(x, w, edges, h, ct[nb, P]) -> [ct_x[n, P]] + [ct_w[n, P]]``
    ``ct_x[i, p] = w_i sum_b ct[b, p] dk_b/dx(x_i)``,
    ``ct_w[i, p] = sum_b ct[b, p] k_b(x_i)`` (the transpose; linear in ``ct``).

Each is the other's transpose, so ``jacfwd`` and ``jacrev`` each cost one kernel pass
over the events. Under ``vmap`` with unbatched ``(x, w, edges, h)`` a batch of B
tangents becomes B * P directions of one pass; anything else is mapped sequentially.
Both lower to the kernel calls of `diffana.jax._kernels`.

Imports jax, numpy and `diffana.jax._kernels` only.
"""

# JAX's primitive API (Primitive.bind, ad, batching, mlir) is untyped.
# mypy: disallow-untyped-calls=False, warn-return-any=False

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from . import _kernels

__all__ = ["clear_caches", "cotangent_p", "tangent_p"]

tangent_p = Primitive("diffana_hist_tangent")
cotangent_p = Primitive("diffana_hist_cotangent")
cotangent_p.multiple_results = True
_NUM_RES = 4  # the non-linear operands (x, w, edges, h) that come first
_NOT_MAPPED = None  # how a batching rule is told that an operand is not batched


def _empty(dtype: np.dtype) -> jax.Array:
    return jnp.zeros((0, 0), dtype)


# ---- abstract evaluation and lowering -----------------------------------------------


def _tangent_abstract(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    *lin: Any,
    weighted: Any,
    overflow: Any,
    has_dx: Any,
    has_dw: Any,
) -> Any:
    del w, h, weighted, overflow, has_dx, has_dw
    return jax.core.ShapedArray((edges.shape[0] - 1, lin[0].shape[1]), x.dtype)


def _cotangent_abstract(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    ct: Any,
    *,
    weighted: Any,
    overflow: Any,
    want_x: Any,
    want_w: Any,
) -> Any:
    del w, edges, h, weighted, overflow
    aval = jax.core.ShapedArray((x.shape[0], ct.shape[1]), x.dtype)
    return [aval] * (int(want_x) + int(want_w))


def _tangent_lowered(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    *lin: Any,
    weighted: Any,
    overflow: Any,
    has_dx: Any,
    has_dw: Any,
) -> Any:
    dx = lin[0] if has_dx else _empty(x.dtype)
    dw = lin[-1] if has_dw else _empty(x.dtype)
    return _kernels.hist_tangent(
        x,
        w,
        edges,
        h,
        dx,
        dw,
        weighted=weighted,
        overflow=overflow,
        has_dx=has_dx,
        has_dw=has_dw,
    )


def _cotangent_lowered(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    ct: Any,
    *,
    weighted: Any,
    overflow: Any,
    want_x: Any,
    want_w: Any,
) -> Any:
    ct_x, ct_w = _kernels.hist_cotangent(
        x,
        w,
        edges,
        h,
        ct,
        weighted=weighted,
        overflow=overflow,
        want_x=want_x,
        want_w=want_w,
    )
    return ([ct_x] if want_x else []) + ([ct_w] if want_w else [])


@functools.cache
def _jitted_bind(prim: Primitive, params: tuple[tuple[str, Any], ...]) -> Any:
    return jax.jit(functools.partial(prim.bind, **dict(params)))


def clear_caches() -> None:
    """Forget the jitted eager implementations (after a change of kernel backend)."""
    _jitted_bind.cache_clear()


def _tangent_impl(*args: Any, **params: Any) -> Any:
    return _jitted_bind(tangent_p, tuple(sorted(params.items())))(*args)


def _cotangent_impl(*args: Any, **params: Any) -> Any:
    return _jitted_bind(cotangent_p, tuple(sorted(params.items())))(*args)


# ---- differentiation: JVP (linear) and transpose -------------------------------------


def _tangent_jvp(primals: Any, tangents: Any, **params: Any) -> Any:
    if not all(type(t) is ad.Zero for t in tangents[:_NUM_RES]):
        msg = "second derivatives of diffana.jax.hist are not implemented"
        raise NotImplementedError(msg)
    out = tangent_p.bind(*primals, **params)
    lin_t = [ad.instantiate_zeros(t) for t in tangents[_NUM_RES:]]
    return out, tangent_p.bind(*primals[:_NUM_RES], *lin_t, **params)


def _cotangent_jvp(primals: Any, tangents: Any, **params: Any) -> Any:
    if not all(type(t) is ad.Zero for t in tangents[:_NUM_RES]):
        msg = "second derivatives of diffana.jax.hist are not implemented"
        raise NotImplementedError(msg)
    out = cotangent_p.bind(*primals, **params)
    ct_t = ad.instantiate_zeros(tangents[_NUM_RES])
    return out, cotangent_p.bind(*primals[:_NUM_RES], ct_t, **params)


def _tangent_transpose(
    ct: Any, *args: Any, weighted: Any, overflow: Any, has_dx: Any, has_dw: Any
) -> Any:
    res, lin = args[:_NUM_RES], args[_NUM_RES:]
    if any(ad.is_undefined_primal(r) for r in res):
        msg = "diffana_hist_tangent is not linear in x, weights, bins or bandwidth"
        raise NotImplementedError(msg)
    if type(ct) is ad.Zero:
        return [None] * len(args)
    want = [ad.is_undefined_primal(a) for a in lin]
    want_x = has_dx and want[0]
    want_w = has_dw and want[-1]
    outs = (
        cotangent_p.bind(
            *res, ct, weighted=weighted, overflow=overflow, want_x=want_x, want_w=want_w
        )
        if (want_x or want_w)
        else []
    )
    outs = list(outs)
    cts_lin = []
    if has_dx:
        cts_lin.append(outs.pop(0) if want_x else None)
    if has_dw:
        cts_lin.append(outs.pop(0) if want_w else None)
    return [None] * _NUM_RES + cts_lin


def _cotangent_transpose(
    cts: Any, *args: Any, weighted: Any, overflow: Any, want_x: Any, want_w: Any
) -> Any:
    res, ct = args[:_NUM_RES], args[_NUM_RES]
    if not ad.is_undefined_primal(ct) or any(ad.is_undefined_primal(r) for r in res):
        msg = "diffana_hist_cotangent is only linear in its cotangent argument"
        raise NotImplementedError(msg)
    cts = list(cts)
    c_x = cts.pop(0) if want_x else None
    c_w = cts.pop(0) if want_w else None
    has_dx = c_x is not None and type(c_x) is not ad.Zero
    has_dw = c_w is not None and type(c_w) is not ad.Zero
    if not (has_dx or has_dw):
        return [None] * (_NUM_RES + 1)
    lin = ([c_x] if has_dx else []) + ([c_w] if has_dw else [])
    out = tangent_p.bind(
        *res, *lin, weighted=weighted, overflow=overflow, has_dx=has_dx, has_dw=has_dw
    )
    return [None] * _NUM_RES + [out]


# ---- batching -------------------------------------------------------------------------


def _move_to_front(a: jax.Array, d: Any, size: int) -> jax.Array:
    if d is _NOT_MAPPED:
        return jnp.broadcast_to(a, (size, *a.shape))
    return jnp.moveaxis(a, d, 0)


def _batch_size(args: Sequence[jax.Array], dims: Sequence[Any]) -> int:
    return next(
        a.shape[d] for a, d in zip(args, dims, strict=True) if d is not _NOT_MAPPED
    )


def _sequential(prim: Primitive, args: Any, dims: Any, params: Any) -> Any:
    """vmap by mapping ``prim`` over the batch, one element after the other."""
    size = _batch_size(args, dims)
    moved = [_move_to_front(a, d, size) for a, d in zip(args, dims, strict=True)]
    out = jax.lax.map(lambda a: prim.bind(*a, **params), moved)
    return out, ([0] * len(out) if prim.multiple_results else 0)


def _fold_into_directions(a: jax.Array, d: Any, size: int) -> jax.Array:
    """[.., B at d, ..] of a [rows, P] operand -> [rows, B * P] (batch-major)."""
    a = _move_to_front(a, d, size)  # [B, rows, P]
    return jnp.moveaxis(a, 0, 1).reshape(a.shape[1], size * a.shape[2])


def _tangent_batch(args: Any, dims: Any, **params: Any) -> Any:
    if any(d is not _NOT_MAPPED for d in dims[:_NUM_RES]):
        return _sequential(tangent_p, args, dims, params)
    size = _batch_size(args, dims)
    lin = [
        _fold_into_directions(a, d, size)
        for a, d in zip(args[_NUM_RES:], dims[_NUM_RES:], strict=True)
    ]
    out = tangent_p.bind(*args[:_NUM_RES], *lin, **params)  # [nb, B * P]
    return out.reshape(out.shape[0], size, -1), 1


def _cotangent_batch(args: Any, dims: Any, **params: Any) -> Any:
    if any(d is not _NOT_MAPPED for d in dims[:_NUM_RES]):
        return _sequential(cotangent_p, args, dims, params)
    size = _batch_size(args, dims)
    ct = _fold_into_directions(args[_NUM_RES], dims[_NUM_RES], size)
    outs = cotangent_p.bind(*args[:_NUM_RES], ct, **params)  # [n, B * P] each
    return [o.reshape(o.shape[0], size, -1) for o in outs], [1] * len(outs)


tangent_p.def_impl(_tangent_impl)
tangent_p.def_abstract_eval(_tangent_abstract)
mlir.register_lowering(tangent_p, mlir.lower_fun(_tangent_lowered, False))
ad.primitive_jvps[tangent_p] = _tangent_jvp
ad.primitive_transposes[tangent_p] = _tangent_transpose
batching.primitive_batchers[tangent_p] = _tangent_batch

cotangent_p.def_impl(_cotangent_impl)
cotangent_p.def_abstract_eval(_cotangent_abstract)
mlir.register_lowering(cotangent_p, mlir.lower_fun(_cotangent_lowered, True))
ad.primitive_jvps[cotangent_p] = _cotangent_jvp
ad.primitive_transposes[cotangent_p] = _cotangent_transpose
batching.primitive_batchers[cotangent_p] = _cotangent_batch
