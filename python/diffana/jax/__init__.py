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
  ``diffana_jax_hist_1d_vjp`` (python/bindings/register_jax_ffi.cpp);
- cuts and windows come from ``diffana_soft_cut_f64`` / ``diffana_soft_window_f64``.

They are ``jax.custom_jvp`` functions whose tangent rule is linear and transposable, so
``jax.grad``, ``jax.jacfwd``, ``jax.jacrev``, ``jax.jit`` and ``jax.vmap`` all work
(first derivatives; second derivatives are not implemented). With respect to the
events the tangent map is a pair of JAX primitives, ``diffana_hist_tangent`` and
``diffana_hist_cotangent``, each other's transpose; under ``vmap`` (``jacfwd``,
``jacrev``) a batch of tangents becomes the ``P`` tangent directions of a single kernel
pass over the events.

The kernels run as XLA FFI custom calls on CPU when the extension was built with
jaxlib's FFI headers (`backend` returns ``"ffi"``), and otherwise, or on other
platforms, through ``jax.pure_callback`` into the numpy-level bindings
(``"callback"``).

Precision: the kernels always compute in float64. With ``jax_enable_x64`` (needed to
agree with ``relaxed`` to ~1e-12) the results are float64; without it JAX holds
float32 arrays, which are widened to float64 inside the kernel and the results rounded
back to float32. Other floating dtypes (float16, bfloat16) are computed as float32 and
returned in their own dtype.

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

# JAX's primitive API (Primitive.bind, ad, batching, mlir) is untyped.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["backend", "cut", "hist", "hist_weighted", "window"]

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

try:
    import jax
    import jax.numpy as jnp
    from jax.custom_derivatives import SymbolicZero
    from jax.extend.core import Primitive
    from jax.interpreters import ad, batching, mlir
except ImportError as err:  # pragma: no cover - exercised only without JAX
    msg = (
        "diffana.jax needs JAX, which is not installed: "
        "pip install 'diffana[jax]' (or pip install jax)"
    )
    raise ImportError(msg) from err

import numpy as np

from diffana import _core

_OVERFLOW_DROP = 0
_OVERFLOW_FOLD = 1
_KEEP = ("above", "below")

# ---- backend selection -------------------------------------------------------------

_ffi_module: Any = getattr(_core, "jax_ffi", None)
if _ffi_module is None:  # pragma: no cover - an extension built before diffana.jax
    msg = (
        "diffana.jax needs the submodule diffana._core.jax_ffi, which this build of "
        "diffana lacks: rebuild and reinstall diffana (pip install .)"
    )
    raise ImportError(msg)
_FFI_BUILT = bool(getattr(_ffi_module, "has_ffi", False))
# DIFFANA_JAX_BACKEND=callback forces the pure_callback path (for tests and debugging).
_backend = (
    "ffi"
    if _FFI_BUILT and os.environ.get("DIFFANA_JAX_BACKEND", "") != "callback"
    else "callback"
)
_registered = False


def backend() -> str:
    """How the kernels are called on CPU: ``"ffi"`` (XLA custom calls) or ``"callback"``.

    ``"ffi"`` when the extension was built with jaxlib's XLA FFI headers, unless the
    environment variable ``DIFFANA_JAX_BACKEND=callback`` asks for ``jax.pure_callback``.
    Other platforms (GPU) always use ``jax.pure_callback``.
    """
    return _backend


def _set_backend(name: str) -> None:
    """Switch between ``"ffi"`` and ``"callback"`` (tests; clears JAX's caches)."""
    global _backend
    if name not in ("ffi", "callback"):
        msg = f"backend must be 'ffi' or 'callback', got {name!r}"
        raise ValueError(msg)
    if name == "ffi" and not _FFI_BUILT:
        msg = "backend 'ffi' is not available: diffana was built without jaxlib's FFI"
        raise ValueError(msg)
    _backend = name
    jax.clear_caches()
    _jitted_bind.cache_clear()


def _register_ffi_targets() -> None:
    """Register the FFI handlers with XLA on first use (platform "cpu")."""
    global _registered
    if _registered:
        return
    for name, capsule in _ffi_module.registrations().items():
        jax.ffi.register_ffi_target(name, capsule, platform="cpu")
    _registered = True


def _ffi_attr(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return np.bool_(value)
    if isinstance(value, (int, np.integer)):
        return np.int32(value)
    return value


def _kernel_call(
    target: str,
    callback: Callable[..., Any],
    result_shapes: Sequence[jax.ShapeDtypeStruct],
    *args: Any,
    vmap_method: str | None = None,
    **attrs: Any,
) -> list[Any]:
    """Call the FFI handler ``target`` (CPU) or ``callback`` through pure_callback.

    ``callback`` receives numpy arrays and ``attrs`` as keywords and returns a tuple of
    numpy arrays of ``result_shapes``. Returns a list of arrays.
    """
    shapes = list(result_shapes)

    def via_callback(*a: Any) -> Any:
        return jax.pure_callback(
            functools.partial(callback, **attrs), shapes, *a, vmap_method=vmap_method
        )

    if _backend != "ffi":
        return list(via_callback(*args))
    _register_ffi_targets()
    ffi_attrs = {k: _ffi_attr(v) for k, v in attrs.items()}

    def via_ffi(*a: Any) -> Any:
        return jax.ffi.ffi_call(target, shapes, vmap_method=vmap_method)(
            *a, **ffi_attrs
        )

    return list(jax.lax.platform_dependent(*args, cpu=via_ffi, default=via_callback))


# ---- argument checks ---------------------------------------------------------------


def _concrete(value: Any) -> np.ndarray | None:
    """The value as a numpy array, or None when it is traced (only known at run time)."""
    if isinstance(value, jax.core.Tracer):
        return None
    try:
        return np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _check_edges(bins: Any) -> None:
    arr = _concrete(bins)
    if arr is None:
        return
    if not np.all(np.isfinite(arr)):
        msg = f"bins must be finite, got {arr}"
        raise ValueError(msg)
    if np.any(np.diff(arr) <= 0):
        msg = f"bins must be strictly increasing, got {arr}"
        raise ValueError(msg)


def _check_bandwidth(bandwidth: Any) -> None:
    arr = _concrete(bandwidth)
    if arr is None:
        return
    h = float(arr.reshape(()))
    if not (np.isfinite(h) and h > 0):
        msg = f"bandwidth must be positive and finite, got {h}"
        raise ValueError(msg)


def _check_finite_scalar(value: Any, name: str) -> None:
    arr = _concrete(value)
    if arr is not None and not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0] if arr.ndim else arr
        msg = f"{name} must be finite, got {float(bad)}"
        raise ValueError(msg)


def _as_array(value: Any, name: str) -> jax.Array:
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


def _dtypes(*arrays: jax.Array) -> tuple[np.dtype, np.dtype]:
    """(result dtype, kernel-call dtype float32/float64) for the given inputs."""
    out = jnp.result_type(*arrays)
    if not jnp.issubdtype(out, jnp.floating):
        out = jnp.result_type(float)
    call = np.dtype(np.float64) if out == np.float64 else np.dtype(np.float32)
    return np.dtype(out), call


def _is_zero(t: Any) -> bool:
    return t is None or isinstance(t, (SymbolicZero, ad.Zero))


def _first_order_only(
    name: str, nondiff_argnums: tuple[int, ...] = ()
) -> Callable[[Callable[..., Any]], Any]:
    """Wrap a kernel call so that differentiating it (a second derivative of the public
    function) raises a clear NotImplementedError instead of JAX's message about the
    custom call."""

    def decorator(fn: Callable[..., Any]) -> Any:
        wrapped = jax.custom_jvp(fn, nondiff_argnums=nondiff_argnums)

        def refuse(*args: Any) -> Any:
            msg = (
                f"second derivatives of diffana.jax.{name} are not implemented "
                "(its kernels give first derivatives only)"
            )
            raise NotImplementedError(msg)

        wrapped.defjvp(refuse)
        return wrapped

    return decorator


# ---- numpy-level callbacks (the pure_callback path) ---------------------------------


def _np(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _check_bandwidth_runtime(h: np.ndarray) -> float:
    value = float(np.asarray(h).reshape(()))
    if not (np.isfinite(value) and value > 0):
        msg = f"diffana.jax.hist: bandwidth must be positive and finite, got {value}"
        raise ValueError(msg)
    return value


def _cb_hist(
    x: Any, w: Any, edges: Any, h: Any, *, weighted: Any, overflow: Any
) -> Any:
    dtype = np.asarray(x).dtype
    res = _core.hist.fill_1d(
        _np(x),
        _np(edges),
        weights=_np(w) if weighted else None,
        bandwidth=_check_bandwidth_runtime(h),
        overflow=overflow,
        edge_terms=True,
    )
    return tuple(np.asarray(r, dtype=dtype) for r in (res[0], res[5], res[6]))


def _cb_hist_tangent(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    dx: Any,
    dw: Any,
    *,
    weighted: Any,
    overflow: Any,
    has_dx: Any,
    has_dw: Any,
) -> Any:
    dtype = np.asarray(x).dtype
    res = _core.hist.fill_1d(
        _np(x),
        _np(edges),
        weights=_np(w) if weighted else None,
        bandwidth=_check_bandwidth_runtime(h),
        x_tangents=_np(dx) if has_dx else None,
        weight_tangents=_np(dw) if has_dw else None,
        overflow=overflow,
    )
    return (np.asarray(res[2], dtype=dtype),)


def _cb_hist_cotangent(
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
    dtype = np.asarray(x).dtype
    ct_x, ct_w = _ffi_module.hist_1d_vjp(
        _np(x),
        _np(w) if weighted else None,
        _np(edges),
        _check_bandwidth_runtime(h),
        _np(ct),
        overflow,
        want_x,
        want_w,
    )
    empty = np.zeros((0, 0), dtype=dtype)
    return (
        np.asarray(ct_x, dtype=dtype) if want_x else empty,
        np.asarray(ct_w, dtype=dtype) if want_w else empty,
    )


def _cb_cut(x: Any, c: Any, s: Any, *, keep_above: Any) -> Any:
    dtype = np.asarray(x).dtype
    shape = np.shape(x)
    res = _core.soft.cut(_np(x), _np(c), _np(s), keep_above)
    return tuple(np.asarray(r, dtype=dtype).reshape(shape) for r in res)


def _cb_window(x: Any, lo: Any, hi: Any, s: Any) -> Any:
    dtype = np.asarray(x).dtype
    shape = np.shape(x)
    res = _core.soft.window(_np(x), _np(lo), _np(hi), _np(s))
    return tuple(np.asarray(r, dtype=dtype).reshape(shape) for r in res)


# ---- histogram: primal and edge terms ----------------------------------------------


@_first_order_only("hist", nondiff_argnums=(4, 5))
def _hist_kernel(
    x: Any, w: Any, edges: Any, h: Any, weighted: Any, overflow: Any
) -> Any:
    """(values[nb], S[nb + 1], T[nb + 1]) from diffana_hist_fill_1d_f64."""
    _check_edges(edges)
    _check_bandwidth(h)
    nb = edges.shape[0] - 1
    dt = x.dtype
    shapes = [
        jax.ShapeDtypeStruct((nb,), dt),
        jax.ShapeDtypeStruct((nb + 1,), dt),
        jax.ShapeDtypeStruct((nb + 1,), dt),
    ]
    return tuple(
        _kernel_call(
            "diffana_jax_hist_1d",
            _cb_hist,
            shapes,
            x,
            w,
            edges,
            h,
            vmap_method="sequential",
            weighted=weighted,
            overflow=overflow,
        )
    )


# ---- histogram: the linear event tangent map and its transpose ----------------------
#
# diffana_hist_tangent(x, w, edges, h, *lin) -> jac[nb, P]
#     jac[b, p] = sum_i w_i dk_b/dx(x_i) dx[i, p] + k_b(x_i) dw[i, p]
#     lin = (dx[n, P] if has_dx) + (dw[n, P] if has_dw); linear in lin.
# diffana_hist_cotangent(x, w, edges, h, ct[nb, P]) -> [ct_x[n, P]] + [ct_w[n, P]]
#     ct_x[i, p] = w_i sum_b ct[b, p] dk_b/dx(x_i),  ct_w[i, p] = sum_b ct[b, p] k_b(x_i)
#     (the transpose of the tangent map; linear in ct).
# Under vmap with unbatched (x, w, edges, h) a batch of B tangents becomes B * P
# directions of one kernel pass; anything else is mapped sequentially.

_tangent_p = Primitive("diffana_hist_tangent")
_cotangent_p = Primitive("diffana_hist_cotangent")
_cotangent_p.multiple_results = True
_NUM_RES = 4
_NOT_MAPPED = None  # how a batching rule is told that an operand is not batched


def _empty(dtype: np.dtype) -> jax.Array:
    return jnp.zeros((0, 0), dtype)


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
    shape = jax.ShapeDtypeStruct((edges.shape[0] - 1, lin[0].shape[1]), x.dtype)
    (out,) = _kernel_call(
        "diffana_jax_hist_1d_jvp",
        _cb_hist_tangent,
        [shape],
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
    return out


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
    # The handler has a fixed signature, (ct_x, ct_w), empty when not wanted.
    full = jax.ShapeDtypeStruct((x.shape[0], ct.shape[1]), x.dtype)
    none = jax.ShapeDtypeStruct((0, 0), x.dtype)
    ct_x, ct_w = _kernel_call(
        "diffana_jax_hist_1d_vjp",
        _cb_hist_cotangent,
        [full if want_x else none, full if want_w else none],
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


def _tangent_impl(*args: Any, **params: Any) -> Any:
    return _jitted_bind(_tangent_p, tuple(sorted(params.items())))(*args)


def _cotangent_impl(*args: Any, **params: Any) -> Any:
    return _jitted_bind(_cotangent_p, tuple(sorted(params.items())))(*args)


def _tangent_jvp(primals: Any, tangents: Any, **params: Any) -> Any:
    if not all(type(t) is ad.Zero for t in tangents[:_NUM_RES]):
        msg = "second derivatives of diffana.jax.hist are not implemented"
        raise NotImplementedError(msg)
    out = _tangent_p.bind(*primals, **params)
    lin_t = [ad.instantiate_zeros(t) for t in tangents[_NUM_RES:]]
    return out, _tangent_p.bind(*primals[:_NUM_RES], *lin_t, **params)


def _cotangent_jvp(primals: Any, tangents: Any, **params: Any) -> Any:
    if not all(type(t) is ad.Zero for t in tangents[:_NUM_RES]):
        msg = "second derivatives of diffana.jax.hist are not implemented"
        raise NotImplementedError(msg)
    out = _cotangent_p.bind(*primals, **params)
    ct_t = ad.instantiate_zeros(tangents[_NUM_RES])
    return out, _cotangent_p.bind(*primals[:_NUM_RES], ct_t, **params)


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
        _cotangent_p.bind(
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
    out = _tangent_p.bind(
        *res, *lin, weighted=weighted, overflow=overflow, has_dx=has_dx, has_dw=has_dw
    )
    return [None] * _NUM_RES + [out]


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
        return _sequential(_tangent_p, args, dims, params)
    size = _batch_size(args, dims)
    lin = [
        _fold_into_directions(a, d, size)
        for a, d in zip(args[_NUM_RES:], dims[_NUM_RES:], strict=True)
    ]
    out = _tangent_p.bind(*args[:_NUM_RES], *lin, **params)  # [nb, B * P]
    return out.reshape(out.shape[0], size, -1), 1


def _cotangent_batch(args: Any, dims: Any, **params: Any) -> Any:
    if any(d is not _NOT_MAPPED for d in dims[:_NUM_RES]):
        return _sequential(_cotangent_p, args, dims, params)
    size = _batch_size(args, dims)
    ct = _fold_into_directions(args[_NUM_RES], dims[_NUM_RES], size)
    outs = _cotangent_p.bind(*args[:_NUM_RES], ct, **params)  # [n, B * P] each
    return [o.reshape(o.shape[0], size, -1) for o in outs], [1] * len(outs)


_tangent_p.def_impl(_tangent_impl)
_tangent_p.def_abstract_eval(_tangent_abstract)
mlir.register_lowering(_tangent_p, mlir.lower_fun(_tangent_lowered, False))
ad.primitive_jvps[_tangent_p] = _tangent_jvp
ad.primitive_transposes[_tangent_p] = _tangent_transpose
batching.primitive_batchers[_tangent_p] = _tangent_batch

_cotangent_p.def_impl(_cotangent_impl)
_cotangent_p.def_abstract_eval(_cotangent_abstract)
mlir.register_lowering(_cotangent_p, mlir.lower_fun(_cotangent_lowered, True))
ad.primitive_jvps[_cotangent_p] = _cotangent_jvp
ad.primitive_transposes[_cotangent_p] = _cotangent_transpose
batching.primitive_batchers[_cotangent_p] = _cotangent_batch


# ---- histogram: the custom JVP ------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5))
def _hist_core(x: Any, w: Any, edges: Any, h: Any, weighted: Any, overflow: Any) -> Any:
    """Histogram values of the (weighted) events; w is an empty placeholder if not."""
    return _hist_kernel(x, w, edges, h, weighted, overflow)[0]


def _hist_core_jvp(weighted: Any, overflow: Any, primals: Any, tangents: Any) -> Any:
    x, w, edges, h = primals
    dx, dw, dedges, dh = tangents
    values, s, t = _hist_kernel(x, w, edges, h, weighted, overflow)
    if overflow == _OVERFLOW_FOLD:
        # The outer edges act as -inf / +inf: they carry no density and no moment.
        inner = jnp.ones_like(s).at[0].set(0).at[-1].set(0)
        s, t = s * inner, t * inner
    out = jnp.zeros_like(values)
    has_dx = not _is_zero(dx)
    has_dw = weighted and not _is_zero(dw)
    if has_dx or has_dw:
        lin = ([dx[:, None]] if has_dx else []) + ([dw[:, None]] if has_dw else [])
        jac = _tangent_p.bind(
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


_hist_core.defjvp(_hist_core_jvp, symbolic_zeros=True)


def _hist_impl(
    data: Any,
    weights: Any,
    bins: Any,
    bandwidth: Any,
    density: bool,
    reflect_infinities: bool,
) -> jax.Array:
    x = _as_array(data, "data")
    if x.ndim != 1:
        msg = f"data must be 1-dimensional, got shape {x.shape}"
        raise ValueError(msg)
    edges = _as_array(bins, "bins")
    if edges.ndim != 1 or edges.shape[0] < 2:
        msg = f"bins must be a 1-dimensional array of at least 2 edges, got shape {edges.shape}"
        raise ValueError(msg)
    h = _as_array(bandwidth, "bandwidth")
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
    _check_edges(edges)
    _check_bandwidth(h)

    weighted = weights is not None
    inputs = [x, edges, h]
    if weighted:
        w = _as_array(weights, "weights")
        if w.shape != x.shape:
            msg = f"weights must have the shape of data {x.shape}, got {w.shape}"
            raise ValueError(msg)
        inputs.append(w)
    out_dtype, dt = _dtypes(*inputs)
    x, edges, h = x.astype(dt), edges.astype(dt), h.astype(dt)
    w = w.astype(dt) if weighted else jnp.zeros((0,), dt)

    # relaxed's density with reflect_infinities divides the unfolded in-range counts
    # by the total (in-range plus overflow) and drops the folded-in overflow: the
    # widths of the infinite outer bins are infinite. Reproduce it exactly.
    fold = reflect_infinities and not density
    counts = _hist_core(
        x, w, edges, h, weighted, _OVERFLOW_FOLD if fold else _OVERFLOW_DROP
    )
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


# ---- cuts and windows ----------------------------------------------------------------


def _elementwise_call(
    target: Any, callback: Any, n_out: Any, *args: Any, **attrs: Any
) -> Any:
    shape = jax.ShapeDtypeStruct(args[0].shape, args[0].dtype)
    return tuple(
        _kernel_call(
            target,
            callback,
            [shape] * n_out,
            *args,
            vmap_method="broadcast_all",
            **attrs,
        )
    )


@_first_order_only("cut", nondiff_argnums=(3,))
def _cut_kernel(x: Any, c: Any, s: Any, keep_above: Any) -> Any:
    """(value, d/dx, d/dcut, d/dslope) from diffana_soft_cut_f64."""
    _check_finite_scalar(c, "cut_val")
    _check_finite_scalar(s, "slope")
    return _elementwise_call(
        "diffana_jax_soft_cut", _cb_cut, 4, x, c, s, keep_above=keep_above
    )


@_first_order_only("window")
def _window_kernel(x: Any, lo: Any, hi: Any, s: Any) -> Any:
    """(value, d/dx, d/dlo, d/dhi, d/dslope) from diffana_soft_window_f64."""
    for name, value in (("lo", lo), ("hi", hi), ("slope", s)):
        _check_finite_scalar(value, name)
    return _elementwise_call("diffana_jax_soft_window", _cb_window, 5, x, lo, hi, s)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _cut_core(x: Any, c: Any, s: Any, keep_above: Any) -> Any:
    return _cut_kernel(x, c, s, keep_above)[0]


def _cut_core_jvp(keep_above: Any, primals: Any, tangents: Any) -> Any:
    value, *partials = _cut_kernel(*primals, keep_above)
    return value, _apply_partials(value, partials, tangents)


_cut_core.defjvp(_cut_core_jvp, symbolic_zeros=True)


@jax.custom_jvp
def _window_core(x: Any, lo: Any, hi: Any, s: Any) -> Any:
    return _window_kernel(x, lo, hi, s)[0]


def _window_core_jvp(primals: Any, tangents: Any) -> Any:
    value, *partials = _window_kernel(*primals)
    return value, _apply_partials(value, partials, tangents)


_window_core.defjvp(_window_core_jvp, symbolic_zeros=True)


def _apply_partials(value: Any, partials: Any, tangents: Any) -> Any:
    """sum_k partial_k * tangent_k over the inputs that carry a tangent (linear)."""
    out = jnp.zeros_like(value)
    for partial, t in zip(partials, tangents, strict=True):
        if not _is_zero(t):
            out = out + partial * t
    return out


def _elementwise_args(
    names: Sequence[str], values: Sequence[Any]
) -> tuple[list[jax.Array], np.dtype]:
    arrays = [_as_array(v, n) for n, v in zip(names, values, strict=True)]
    try:
        shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as err:
        shapes = ", ".join(
            f"{n} has shape {a.shape}" for n, a in zip(names, arrays, strict=True)
        )
        msg = f"the arguments do not broadcast together: {shapes}"
        raise ValueError(msg) from err
    out_dtype, dt = _dtypes(*arrays)
    return [jnp.broadcast_to(a.astype(dt), shape) for a in arrays], out_dtype


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
    if keep not in _KEEP:
        msg = f"keep must be one of 'above' or 'below', not {keep!r}"
        raise ValueError(msg)
    _check_finite_scalar(cut_val, "cut_val")
    _check_finite_scalar(slope, "slope")
    (x, c, s), out_dtype = _elementwise_args(
        ("data", "cut_val", "slope"), (data, cut_val, slope)
    )
    return _cut_core(x, c, s, keep == "above").astype(out_dtype)


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
    for name, value in (("lo", lo), ("hi", hi), ("slope", slope)):
        _check_finite_scalar(value, name)
    (x, a, b, s), out_dtype = _elementwise_args(
        ("data", "lo", "hi", "slope"), (data, lo, hi, slope)
    )
    return _window_core(x, a, b, s).astype(out_dtype)
