# SPDX-License-Identifier: BSD-3-Clause
"""Arrays on a CUDA device in the numpy front end: detection, checks and dispatch.

An argument is a *device array* when it exposes ``__cuda_array_interface__`` (CuPy,
Numba, PyTorch CUDA tensors) or a DLPack device of type CUDA
(``__dlpack_device__()[0]`` is 2, kDLCUDA, or 13, kDLCUDAManaged). `diffana.histogram`
and `diffana.soft_cut` / `diffana.soft_window` hand calls with such arguments to the
functions here, which run the CUDA kernels (``_core.cuda``) on the arrays where they
are (CuPy views of the same memory: no copy when they are float64 and contiguous;
anything else is converted once, on the device) and return device results:
`DeviceHistogram` and `DeviceDual`, CuPy arrays that `to_host` turns into their numpy
counterparts.

Where that cannot work, `DeviceError` says why in one line, naming the argument: the
extension was built without its CUDA kernels, the CUDA runtime sees no device, CuPy
(which allocates the results) is missing, or device and host arrays are mixed.

Imports numpy, `_core`, `_checks`, `_dual` and `hist`; CuPy only when a device array
is given (it is no dependency of diffana).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _checks, _core
from ._dual import DualArray
from .hist import GradHistogram

__all__ = [
    "DeviceDual",
    "DeviceError",
    "DeviceHistogram",
    "histogram",
    "is_device_array",
    "on_device",
    "require_cuda",
    "soft_cut",
    "soft_window",
]

# DLPack device types of CUDA memory (dlpack.h: kDLCUDA, kDLCUDAManaged).
_DLPACK_CUDA = (2, 13)


class DeviceError(RuntimeError):
    """A CUDA device array was given where the CUDA path cannot run (the message
    says why), or device and host arrays were mixed."""


def is_device_array(a: Any) -> bool:
    """Whether ``a`` lives in CUDA device memory (see the module's docstring).

    Examples
    --------
    >>> import numpy as np
    >>> is_device_array(np.zeros(3))
    False
    >>> class Fake:
    ...     __cuda_array_interface__ = {"shape": (3,), "typestr": "<f8",
    ...                                 "data": (0, False), "version": 3}
    >>> is_device_array(Fake())
    True
    """
    if hasattr(a, "__cuda_array_interface__"):
        return True
    device = getattr(a, "__dlpack_device__", None)
    if device is None or isinstance(a, np.ndarray):
        return False
    try:
        kind = int(device()[0])
    except (TypeError, ValueError, IndexError, AttributeError):  # not really DLPack
        return False
    return kind in _DLPACK_CUDA


def on_device(args: Mapping[str, Any]) -> bool:
    """Whether a call with these arguments (name -> value; None for absent) runs on
    the device: True when every array argument is a device array, False when none
    is. Plain Python numbers count as neither. Raises `DeviceError` naming the
    arguments when device and host arrays are mixed.

    Examples
    --------
    >>> import numpy as np
    >>> on_device({"x": np.zeros(2), "weights": None, "bandwidth": 0.5})
    False
    """
    device = [n for n, v in args.items() if v is not None and is_device_array(v)]
    if not device:
        return False
    host = [
        n
        for n, v in args.items()
        if v is not None and not is_device_array(v) and not np.isscalar(v)
    ]
    if host:
        msg = (
            f"{', '.join(device)} on a CUDA device but {', '.join(host)} on the host: "
            "give all arrays on the same side (cupy.asarray / .get())"
        )
        raise DeviceError(msg)
    return True


def require_cuda(reason: str) -> Any:
    """``_core.cuda`` when the extension has its CUDA kernels and the CUDA runtime
    sees a device; otherwise `DeviceError` saying which of the two is missing.
    ``reason`` starts the message: what asked for the device.

    Examples
    --------
    >>> try:  # on a machine without a GPU, or a build without CUDA
    ...     cuda = require_cuda("x is a CUDA device array")
    ... except DeviceError as e:
    ...     print(str(e).split(",")[0])
    ... else:
    ...     print("x is a CUDA device array")
    x is a CUDA device array
    """
    cuda = getattr(_core, "cuda", None)
    if cuda is None or not cuda.built:
        msg = (
            f"{reason}, but diffana was built without its CUDA kernels: reinstall "
            "it with nvcc present and `pip install . -C cmake.define.DIFFANA_CUDA=ON`"
        )
        raise DeviceError(msg)
    count, why = cuda.device_count()
    if count == 0:
        msg = f"{reason}, but there is no usable CUDA device ({why})"
        raise DeviceError(msg)
    return cuda


def _cupy(what: str) -> Any:
    """The cupy module (it allocates the results); `DeviceError` without it."""
    try:
        return importlib.import_module("cupy")
    except ImportError as err:
        msg = f"{what} is on a CUDA device: diffana needs CuPy for the results there"
        raise DeviceError(msg) from err


def _as_f64(cp: Any, a: Any, name: str) -> Any:
    """A contiguous float64 CuPy view of device array ``a`` (a copy on the device
    only when it is of another dtype or strided)."""
    if is_device_array(a) and not hasattr(a, "__cuda_array_interface__"):
        a = cp.from_dlpack(a)  # zero-copy view of a DLPack producer
    # Anything else here is a host array-like (edges, a scalar cut): copied once.
    arr = cp.asarray(a)
    if arr.dtype.kind not in "fiub":
        msg = f"{name} must be an array of real numbers, got dtype {arr.dtype}"
        raise TypeError(msg)
    return cp.ascontiguousarray(arr, dtype=cp.float64)


def _stream(cp: Any) -> int:
    return int(cp.cuda.get_current_stream().ptr)


def _raise(kernel: str, status: int) -> None:
    if status != 0:
        msg = f"{kernel} failed with status {status}"
        raise ValueError(msg)


def _ptr(a: Any) -> int:
    return 0 if a is None else int(a.data.ptr)


@dataclasses.dataclass
class DeviceHistogram:
    """A 1D histogram whose arrays (CuPy) stay on the device: `to_host` gives the
    `diffana.GradHistogram`."""

    values: Any
    variances: Any
    jacobian: Any
    variances_jacobian: Any
    edges: Any
    bandwidth: float | None
    overflow: str
    n_skipped: int

    def to_host(self) -> GradHistogram:
        """The same histogram in host memory."""
        return GradHistogram(
            self.values.get(),
            self.variances.get(),
            self.jacobian.get(),
            self.variances_jacobian.get(),
            self.edges.get(),
            self.bandwidth,
            self.overflow,
            self.n_skipped,
        )


@dataclasses.dataclass
class DeviceDual:
    """Values and tangents (``value.shape + (P,)``) on the device (CuPy)."""

    value: Any
    tangents: Any

    def to_host(self) -> DualArray:
        """The same numbers as a `diffana.DualArray` in host memory."""
        return DualArray(self.value.get(), self.tangents.get())


def histogram(
    x: Any,
    edges: Any,
    weights: Any = None,
    bandwidth: float | None = None,
    x_tangents: Any = None,
    weight_tangents: Any = None,
    overflow: str = "drop",
) -> DeviceHistogram:
    """`diffana.histogram` on device arrays (edges: a device array, or host numbers
    copied once); ``edges`` as a number of bins needs ``range`` on the host path."""
    cuda = require_cuda("x is a CUDA device array")
    cp = _cupy("x")
    x_full = _as_f64(cp, x, "x")
    xa = x_full.ravel()
    n = xa.size
    e = _as_f64(cp, edges, "edges").ravel()
    _checks.edges(e.get(), "edges")
    h = _checks.bandwidth(bandwidth)
    code = _checks.Overflow.of(overflow)
    w = None if weights is None else _as_f64(cp, weights, "weights").ravel()
    if w is not None and w.size != n:
        msg = f"weights must have the shape of x ({n} entries), got {w.size}"
        raise ValueError(msg)
    tans = {}
    for name, t in (("x_tangents", x_tangents), ("weight_tangents", weight_tangents)):
        if t is not None:
            ta = _as_f64(cp, t, name)
            if ta.ndim != x_full.ndim + 1 or ta.shape[:-1] != x_full.shape:
                msg = (
                    f"{name} must have shape x.shape + (P,) = {x_full.shape} + (P,), "
                    f"got {ta.shape}"
                )
                raise ValueError(msg)
            tans[name] = ta.reshape(n, ta.shape[-1])
    ps = {t.shape[1] for t in tans.values()}
    if len(ps) > 1:
        msg = f"x_tangents and weight_tangents disagree on P: {sorted(ps)}"
        raise ValueError(msg)
    p = ps.pop() if ps else 0
    nbins = e.size - 1
    values = cp.zeros(nbins)
    sumw2 = cp.zeros(nbins)
    jac = cp.zeros((nbins, p))
    sumw2_jac = cp.zeros((nbins, p))
    skipped = cp.zeros(1, dtype=cp.int64)
    status = cuda.hist_fill_1d(
        _ptr(xa),
        _ptr(tans.get("x_tangents")),
        _ptr(w),
        _ptr(tans.get("weight_tangents")),
        n,
        p,
        _ptr(e),
        nbins,
        0.0 if h is None else h,
        int(code),
        _ptr(values),
        _ptr(sumw2),
        _ptr(jac) if p else 0,
        _ptr(sumw2_jac) if p else 0,
        _ptr(skipped),
        int(cuda.FILL_PRIVATE),
        _stream(cp),
    )
    _raise("diffana_cuda_hist_fill_1d_ex_f64", status)
    return DeviceHistogram(
        values, sumw2, jac, sumw2_jac, e, h, str(code), int(skipped.get()[0])
    )


def _combine(cp: Any, value: Any, partials: list[Any], tangents: list[Any]) -> Any:
    """sum_k partials[k][..., None] * tangents[k] over the inputs with tangents."""
    out = None
    for d, t in zip(partials, tangents, strict=True):
        if t is None:
            continue
        term = d[..., None] * cp.broadcast_to(t, (*value.shape, t.shape[-1]))
        out = term if out is None else out + term
    return cp.zeros((*value.shape, 0)) if out is None else out


def _elementwise(
    name: str,
    kernel: str,
    inputs: dict[str, Any],
    tangents: dict[str, Any],
    call: Any,
) -> DeviceDual:
    cuda = require_cuda(f"{next(iter(inputs))} is a CUDA device array")
    cp = _cupy(next(iter(inputs)))
    arrays = [_as_f64(cp, v, k) for k, v in inputs.items()]
    arrays = [cp.ascontiguousarray(a) for a in cp.broadcast_arrays(*arrays)]
    shape = arrays[0].shape
    outs = [cp.empty(shape) for _ in range(len(arrays) + 1)]
    status = call(
        cuda, [_ptr(a) for a in arrays], arrays[0].size, [_ptr(o) for o in outs]
    )
    if status == 4:  # DIFFANA_ERR_ARGUMENT: a NaN or infinite parameter element
        params = [k for k in inputs if k != "x"]
        msg = f"{name}: {', '.join(params)} must be finite"
        raise ValueError(msg)
    _raise(kernel, status)
    tans = [
        None if tangents.get(k) is None else _as_f64(cp, tangents[k], f"{k}_tangents")
        for k in inputs
    ]
    return DeviceDual(outs[0], _combine(cp, outs[0], outs[1:], tans))


def soft_cut(
    x: Any, cut: Any, slope: Any, keep_above: int, tangents: dict[str, Any]
) -> DeviceDual:
    """`diffana.soft_cut` on device arrays (``tangents``: name -> device array)."""

    def call(cuda: Any, p: list[int], n: int, o: list[int]) -> int:
        return int(
            cuda.soft_cut(p[0], p[1], p[2], n, keep_above, o[0], o[1], o[2], o[3],
                          _stream(_cupy("x")))
        )  # fmt: skip

    return _elementwise(
        "soft_cut",
        "diffana_cuda_soft_cut_f64",
        {"x": x, "cut": cut, "slope": slope},
        tangents,
        call,
    )


def soft_window(
    x: Any, lo: Any, hi: Any, slope: Any, tangents: dict[str, Any]
) -> DeviceDual:
    """`diffana.soft_window` on device arrays (``tangents``: name -> device array)."""

    def call(cuda: Any, p: list[int], n: int, o: list[int]) -> int:
        return int(
            cuda.soft_window(p[0], p[1], p[2], p[3], n, o[0], o[1], o[2], o[3], o[4],
                             _stream(_cupy("x")))
        )  # fmt: skip

    return _elementwise(
        "soft_window",
        "diffana_cuda_soft_window_f64",
        {"x": x, "lo": lo, "hi": hi, "slope": slope},
        tangents,
        call,
    )
