# SPDX-License-Identifier: BSD-3-Clause
"""How `diffana.jax` calls the C++ kernels: XLA FFI custom calls or pure_callback.

On CPU, when the extension was built with jaxlib's FFI headers, the kernels run as XLA
FFI custom calls (the handlers of ``diffana._core.jax_ffi``, registered with XLA on
first use). On an NVIDIA GPU, when the extension was also built with DIFFANA_CUDA=ON
(``CUDA_FFI_BUILT``) and jax's default backend is a GPU, the same targets have CUDA
handlers too (registered for platform "CUDA"), so that jitted code keeps its arrays on
the device. Otherwise, and on other platforms, the kernels run through
``jax.pure_callback`` into the numpy-level bindings ``diffana._core.hist`` /
``diffana._core.soft``. All paths compute in float64 and return arrays of the inputs'
dtype.

The calls, one per kernel:

- `hist_fill`: ``(values, S, T)`` of ``diffana_hist_fill_1d_f64`` with edge terms;
- `hist_tangent`: the fill's Jacobian along P event tangents;
- `hist_cotangent`: the reverse-mode gather ``diffana_hist_fill_1d_vjp_f64``;
- `relaxed`: a relaxed op of the table (`diffana._ops`), value and partials.

Imports jax, numpy, `diffana._core` and `diffana._ops` only.
"""

# mypy: disallow-untyped-calls=False, warn-return-any=False

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from diffana import _core
from diffana._ops import RelaxedOp

__all__ = [
    "CUDA_FFI_BUILT",
    "FFI_BUILT",
    "backend",
    "hist_cotangent",
    "hist_fill",
    "hist_tangent",
    "relaxed",
    "set_backend",
]

_ffi_module: Any = getattr(_core, "jax_ffi", None)
if _ffi_module is None:  # pragma: no cover - an extension built before diffana.jax
    msg = (
        "diffana.jax needs the submodule diffana._core.jax_ffi, which this build of "
        "diffana lacks: rebuild and reinstall diffana (pip install .)"
    )
    raise ImportError(msg)
#: Whether the extension holds the XLA FFI handlers (built with jaxlib's headers).
FFI_BUILT = bool(getattr(_ffi_module, "has_ffi", False))
#: Whether it also holds the CUDA handlers (built with DIFFANA_CUDA=ON).
CUDA_FFI_BUILT = FFI_BUILT and bool(getattr(_ffi_module, "has_cuda_ffi", False))
# DIFFANA_JAX_BACKEND=callback forces the pure_callback path (for tests and debugging).
_backend = (
    "ffi"
    if FFI_BUILT and os.environ.get("DIFFANA_JAX_BACKEND", "") != "callback"
    else "callback"
)
_registered = False
# The targets with a CUDA handler registered with XLA (empty until first use, and
# without a GPU).
_cuda_targets: frozenset[str] = frozenset()


def backend() -> str:
    """How the kernels are called on CPU: ``"ffi"`` (XLA custom calls) or ``"callback"``.

    ``"ffi"`` when the extension was built with jaxlib's XLA FFI headers, unless the
    environment variable ``DIFFANA_JAX_BACKEND=callback`` asks for ``jax.pure_callback``.
    With ``"ffi"``, a GPU also gets XLA custom calls when ``CUDA_FFI_BUILT`` and jax's
    default backend is a GPU; other platforms use ``jax.pure_callback``.
    """
    return _backend


def set_backend(name: str) -> None:
    """Switch between ``"ffi"`` and ``"callback"`` (tests; clears JAX's caches)."""
    global _backend
    if name not in ("ffi", "callback"):
        msg = f"backend must be 'ffi' or 'callback', got {name!r}"
        raise ValueError(msg)
    if name == "ffi" and not FFI_BUILT:
        msg = "backend 'ffi' is not available: diffana was built without jaxlib's FFI"
        raise ValueError(msg)
    _backend = name
    jax.clear_caches()


def _register_ffi_targets() -> None:
    """Register the FFI handlers with XLA on first use: platform "cpu", and "CUDA"
    when the extension has CUDA handlers and jax's default backend is a GPU."""
    global _registered, _cuda_targets
    if _registered:
        return
    for name, capsule in _ffi_module.registrations().items():
        jax.ffi.register_ffi_target(name, capsule, platform="cpu")
    if CUDA_FFI_BUILT and jax.default_backend() == "gpu":
        handlers = _ffi_module.cuda_registrations()
        for name, capsule in handlers.items():
            jax.ffi.register_ffi_target(name, capsule, platform="CUDA")
        _cuda_targets = frozenset(handlers)
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

    # One custom-call target: XLA picks the handler registered for the platform.
    if target in _cuda_targets:
        return list(
            jax.lax.platform_dependent(
                *args, cpu=via_ffi, cuda=via_ffi, default=via_callback
            )
        )
    return list(jax.lax.platform_dependent(*args, cpu=via_ffi, default=via_callback))


# ---- numpy-level callbacks (the pure_callback path) ---------------------------------


def _np(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _bandwidth_at_run_time(h: np.ndarray) -> float:
    """The bandwidth check of the FFI handlers, for the callback path."""
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
        bandwidth=_bandwidth_at_run_time(h),
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
        bandwidth=_bandwidth_at_run_time(h),
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
    ct_x, ct_w = _core.hist.fill_1d_vjp(
        _np(x),
        _np(edges),
        _np(ct),
        weights=_np(w) if weighted else None,
        bandwidth=_bandwidth_at_run_time(h),
        overflow=overflow,
        want_x=want_x,
        want_w=want_w,
    )
    empty = np.zeros((0, 0), dtype=dtype)
    return (
        np.asarray(ct_x, dtype=dtype) if want_x else empty,
        np.asarray(ct_w, dtype=dtype) if want_w else empty,
    )


def _cb_relaxed(op: RelaxedOp, *args: Any, **options: Any) -> Any:
    dtype = np.asarray(args[0]).dtype
    shape = np.shape(args[0])
    res = op.raw(*(_np(a) for a in args), **options)
    return tuple(np.asarray(r, dtype=dtype).reshape(shape) for r in res)


# ---- the kernel calls ----------------------------------------------------------------


def hist_fill(
    x: Any, w: Any, edges: Any, h: Any, *, weighted: bool, overflow: int
) -> tuple[Any, Any, Any]:
    """(values[nb], S[nb + 1], T[nb + 1]) of diffana_hist_fill_1d_f64."""
    nb = edges.shape[0] - 1
    dt = x.dtype
    shapes = [
        jax.ShapeDtypeStruct((nb,), dt),
        jax.ShapeDtypeStruct((nb + 1,), dt),
        jax.ShapeDtypeStruct((nb + 1,), dt),
    ]
    values, s, t = _kernel_call(
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
    return values, s, t


def hist_tangent(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    dx: Any,
    dw: Any,
    *,
    weighted: bool,
    overflow: int,
    has_dx: bool,
    has_dw: bool,
) -> Any:
    """jac[nb, P] = sum_i w_i dk_b/dx(x_i) dx[i, :] + k_b(x_i) dw[i, :] (the fill with
    P tangents); ``dx`` / ``dw`` are (0, 0) placeholders when absent."""
    p = dx.shape[1] if has_dx else dw.shape[1]
    shape = jax.ShapeDtypeStruct((edges.shape[0] - 1, p), x.dtype)
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


def hist_cotangent(
    x: Any,
    w: Any,
    edges: Any,
    h: Any,
    ct: Any,
    *,
    weighted: bool,
    overflow: int,
    want_x: bool,
    want_w: bool,
) -> tuple[Any, Any]:
    """(ct_x[n, P], ct_w[n, P]) of diffana_hist_fill_1d_vjp_f64 for ct[nb, P]; an
    output that is not wanted has shape (0, 0) (the handler's signature is fixed)."""
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
    return ct_x, ct_w


def relaxed(op: RelaxedOp, *args: Any, **options: int) -> tuple[Any, ...]:
    """(value, d/d input_0, ...) of a relaxed op; ``args`` of one shape, in the order
    of ``op.inputs``, ``options`` those of ``op.options``."""
    shape = jax.ShapeDtypeStruct(args[0].shape, args[0].dtype)
    return tuple(
        _kernel_call(
            op.ffi_target,
            functools.partial(_cb_relaxed, op),
            [shape] * (len(op.inputs) + 1),
            *args,
            vmap_method="broadcast_all",
            **options,
        )
    )
