# SPDX-License-Identifier: BSD-3-Clause
"""Device arrays in the numpy front end without a GPU (`diffana._device`): which
arguments count as device arrays, that `diffana.histogram` and the soft ops send them
to the CUDA path (and never to the host kernels), and the one clear error where that
path cannot run. With CuPy on a GPU: tests/python/gpu/test_device_arrays.py."""

from __future__ import annotations

import ctypes
import types

import numpy as np
import pytest

import diffana
from diffana import _core, _device
from diffana._device import DeviceError


class FakeCudaArray:
    """Looks like a CuPy array to the dispatch (it is never read)."""

    def __init__(self, shape=(4,)):
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": "<f8",
            "data": (0, False),
            "version": 3,
        }


class FakeDLPack:
    def __init__(self, device_type):
        self.device_type = device_type

    def __dlpack_device__(self):
        return (self.device_type, 0)


def _no_gpu() -> bool:
    cuda = getattr(_core, "cuda", None)
    return cuda is None or not cuda.built or cuda.device_count()[0] == 0


needs_no_gpu = pytest.mark.skipif(
    not _no_gpu(), reason="a CUDA device is present: tests/python/gpu covers it"
)


def test_what_counts_as_a_device_array():
    assert _device.is_device_array(FakeCudaArray())
    assert _device.is_device_array(FakeDLPack(2))  # kDLCUDA
    assert _device.is_device_array(FakeDLPack(13))  # kDLCUDAManaged
    assert not _device.is_device_array(FakeDLPack(1))  # kDLCPU
    assert not _device.is_device_array(np.zeros(3))  # numpy speaks DLPack on kDLCPU
    assert not _device.is_device_array([1.0, 2.0])
    assert not _device.is_device_array(2.0)


def test_dispatch_decision():
    dev = FakeCudaArray()
    assert _device.on_device({"x": dev, "weights": None, "cut": 3.0})
    assert not _device.on_device({"x": np.zeros(4), "weights": None})
    with pytest.raises(DeviceError, match="x on a CUDA device but weights on the host"):
        _device.on_device({"x": dev, "weights": np.ones(4)})


@needs_no_gpu
@pytest.mark.parametrize(
    "call",
    [
        lambda a: diffana.histogram(a, [0.0, 1.0, 2.0]),
        lambda a: diffana.histogram(a, [0.0, 1.0], bandwidth=0.1, x_tangents=None),
        lambda a: diffana.soft_cut(a, 1.0, 2.0),
        lambda a: diffana.soft_window(a, 0.0, 1.0, 3.0),
    ],
    ids=["histogram", "soft_histogram", "soft_cut", "soft_window"],
)
def test_device_arrays_without_a_gpu_fail_clearly(call, monkeypatch):
    # The host kernels must not be reached with a device array.
    monkeypatch.setattr(_core, "hist", None)
    with pytest.raises(DeviceError) as err:
        call(FakeCudaArray())
    msg = str(err.value)
    assert msg.startswith("x is a CUDA device array, but ")
    assert "built without its CUDA kernels" in msg or "no usable CUDA device" in msg


def test_extension_without_cuda_kernels_names_the_build_option(monkeypatch):
    class NoCuda:
        built = False

    monkeypatch.setattr(_core, "cuda", NoCuda(), raising=False)
    with pytest.raises(DeviceError, match=r"DIFFANA_CUDA=ON"):
        diffana.histogram(FakeCudaArray(), [0.0, 1.0])


def test_no_device_names_the_runtime_reason(monkeypatch):
    class CudaWithoutDevice:
        built = True

        @staticmethod
        def device_count():
            return 0, "cudaErrorNoDevice: no CUDA-capable device is detected"

    monkeypatch.setattr(_core, "cuda", CudaWithoutDevice(), raising=False)
    with pytest.raises(DeviceError, match=r"no usable CUDA device \(cudaErrorNoDevice"):
        diffana.soft_cut(FakeCudaArray(), 0.0, 1.0)


def test_host_arrays_keep_the_host_path():
    h = diffana.histogram(np.array([0.5, 1.5]), [0.0, 1.0, 2.0])
    assert isinstance(h, diffana.GradHistogram)
    np.testing.assert_array_equal(h.values, [1.0, 1.0])


# ---- the device path's plumbing, with stand-ins for CuPy and the CUDA kernels --------
#
# Without a GPU the CUDA kernels cannot run, but everything around them can: a numpy
# subclass plays CuPy's arrays (device pointer = host pointer) and the stand-in
# kernels read their arguments through the pointers `diffana._device` passes, in the
# order of include/diffana/kernels.h, and run the host kernels on them. A mistake in
# that order, in a shape or in the results' assembly shows up here.


class FakeDevice(np.ndarray):
    """A numpy array posing as a CuPy array."""

    @property
    def __cuda_array_interface__(self):
        return {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "data": (self.ctypes.data, False),
            "version": 3,
        }

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.ctypes.data)

    def get(self):
        return np.array(self)


class FakeCupy:
    float64 = np.float64
    int64 = np.int64
    ndarray = FakeDevice
    cuda = types.SimpleNamespace(
        get_current_stream=lambda: types.SimpleNamespace(ptr=0)
    )

    @staticmethod
    def _dev(a):
        return np.asarray(a).view(FakeDevice)

    def asarray(self, a):
        return self._dev(a)

    def ascontiguousarray(self, a, dtype=None):
        return self._dev(np.ascontiguousarray(a, dtype=dtype))

    def zeros(self, shape, dtype=np.float64):
        return self._dev(np.zeros(shape, dtype))

    def empty(self, shape, dtype=np.float64):
        return self._dev(np.empty(shape, dtype))

    def broadcast_arrays(self, *a):
        return [self._dev(b) for b in np.broadcast_arrays(*a)]

    def broadcast_to(self, a, shape):
        return self._dev(np.broadcast_to(a, shape))


def _read(ptr, shape):
    if not ptr:
        return None
    p = ctypes.cast(ptr, ctypes.POINTER(ctypes.c_double))
    return np.ctypeslib.as_array(p, shape=np.atleast_1d(shape).tolist())


class FakeKernels:
    """The signatures of `_core.cuda`, computed by the host kernels."""

    built = True
    FILL_PRIVATE = 0

    @staticmethod
    def device_count():
        return 1, ""

    @staticmethod
    def hist_fill_1d(x, xt, w, wt, n, p, edges, nbins, bw, overflow, values, sumw2,
                     jac, sumw2_jac, skipped, mode, stream):  # fmt: skip
        assert mode == 0
        assert stream == 0
        r = _core.hist.fill_1d(
            _read(x, (n,)), _read(edges, (nbins + 1,)), _read(w, (n,)), bw,
            _read(xt, (n, p)), _read(wt, (n, p)), overflow, False,
        )  # fmt: skip
        for ptr, got, shape in (
            (values, r[0], nbins),
            (sumw2, r[1], nbins),
            (jac, r[2], (nbins, p)),
            (sumw2_jac, r[3], (nbins, p)),
        ):
            if ptr:
                _read(ptr, shape)[...] += got
        i64 = ctypes.cast(skipped, ctypes.POINTER(ctypes.c_int64))
        i64[0] += r[4]
        return 0

    @staticmethod
    def soft_cut(x, cut, slope, n, keep_above, value, d_x, d_cut, d_slope, stream):
        outs = _core.soft.cut(
            _read(x, (n,)), _read(cut, (n,)), _read(slope, (n,)), keep_above
        )
        for ptr, got in zip((value, d_x, d_cut, d_slope), outs, strict=True):
            _read(ptr, (n,))[...] = got
        return 0

    @staticmethod
    def soft_window(x, lo, hi, slope, n, value, d_x, d_lo, d_hi, d_slope, stream):
        outs = _core.soft.window(*(_read(a, (n,)) for a in (x, lo, hi, slope)))
        for ptr, got in zip((value, d_x, d_lo, d_hi, d_slope), outs, strict=True):
            _read(ptr, (n,))[...] = got
        return 0


@pytest.fixture
def fake_gpu(monkeypatch):
    cp = FakeCupy()
    monkeypatch.setattr(_core, "cuda", FakeKernels(), raising=False)
    monkeypatch.setattr(_device, "_cupy", lambda what: cp)
    return cp


@pytest.mark.parametrize("bandwidth", [None, 0.3])
def test_histogram_device_plumbing(fake_gpu, bandwidth):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4))
    w = rng.uniform(0.5, 1.5, x.shape)
    xt = rng.normal(size=(*x.shape, 3))
    wt = rng.normal(size=(*x.shape, 3))
    edges = np.linspace(-2.0, 2.0, 9)
    want = diffana.histogram(x, edges, w, bandwidth, xt, wt, overflow="fold")
    dev = [fake_gpu.asarray(a) for a in (x, w, xt, wt)]
    got = diffana.histogram(dev[0], edges, dev[1], bandwidth, dev[2], dev[3], "fold")
    assert isinstance(got, _device.DeviceHistogram)
    assert isinstance(got.values, FakeDevice)
    host = got.to_host()
    for key in ("values", "variances", "jacobian", "variances_jacobian", "edges"):
        np.testing.assert_array_equal(getattr(host, key), getattr(want, key))
    assert host.overflow == "fold"
    with pytest.raises(
        ValueError, match=r"x_tangents must have shape x.shape \+ \(P,\)"
    ):
        diffana.histogram(dev[0], edges, x_tangents=fake_gpu.asarray(xt[0]))
    with pytest.raises(TypeError, match="edges must be an array of bin edges"):
        diffana.histogram(dev[0], 10)


def test_soft_ops_device_plumbing(fake_gpu):
    rng = np.random.default_rng(4)
    x = rng.normal(size=30)
    t = rng.normal(size=(30, 2))
    ct = rng.normal(size=2)
    want = diffana.soft_cut(x, 0.2, 3.0, "below", x_tangents=t, cut_tangents=ct)
    got = diffana.soft_cut(
        fake_gpu.asarray(x), 0.2, 3.0, "below",
        x_tangents=fake_gpu.asarray(t), cut_tangents=fake_gpu.asarray(ct),
    )  # fmt: skip
    host = got.to_host()
    np.testing.assert_allclose(host.value, want.value, rtol=1e-15)
    np.testing.assert_allclose(host.tangents, want.tangents, rtol=1e-14, atol=1e-15)
    want = diffana.soft_window(x, -0.5, 0.5, 4.0)
    host = diffana.soft_window(fake_gpu.asarray(x), -0.5, 0.5, 4.0).to_host()
    np.testing.assert_array_equal(host.value, want.value)
    assert host.tangents.shape == (30, 0)
