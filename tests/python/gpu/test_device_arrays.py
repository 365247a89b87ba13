# SPDX-License-Identifier: BSD-3-Clause
"""`diffana.histogram` and the soft ops on CuPy arrays (`diffana._device`): the CUDA
kernels run on the arrays in place and return device results, equal to the numpy
front end on the same numbers within 1e-12; DLPack producers are accepted as well.
Skips without CuPy, a GPU, or an extension built with the CUDA kernels."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def diffana_cuda(cupy):
    try:
        import diffana
        from diffana import _core
    except ImportError as err:
        pytest.skip(f"diffana is not importable: {err}")
    if not getattr(getattr(_core, "cuda", None), "built", False):
        pytest.skip(
            "diffana._core was built without the CUDA kernels (DIFFANA_CUDA=ON)"
        )
    return diffana


def _close(a, b):
    scale = float(np.max(np.abs(b))) if np.size(b) else 0.0
    assert float(np.max(np.abs(a - b), initial=0.0)) <= 1e-12 * scale


@pytest.mark.parametrize("bandwidth", [None, 0.2])
def test_histogram_on_device_arrays(diffana_cuda, cupy, bandwidth):
    rng = np.random.default_rng(5)
    x = rng.normal(size=100_000)
    w = rng.uniform(0.5, 1.5, x.size)
    xt = rng.normal(scale=0.1, size=(x.size, 4))
    wt = rng.normal(scale=0.1, size=(x.size, 4))
    edges = np.linspace(-3.0, 3.0, 21)
    want = diffana_cuda.histogram(x, edges, w, bandwidth, xt, wt)
    got = diffana_cuda.histogram(
        cupy.asarray(x), cupy.asarray(edges), cupy.asarray(w), bandwidth,
        cupy.asarray(xt), cupy.asarray(wt),
    )  # fmt: skip
    assert isinstance(got.values, cupy.ndarray)  # a device result
    host = got.to_host()
    for key in ("values", "variances", "jacobian", "variances_jacobian"):
        _close(getattr(host, key), getattr(want, key))


class DLPackOnly:
    """A DLPack producer that is no CuPy array (no __cuda_array_interface__)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def test_histogram_reads_dlpack(diffana_cuda, cupy):
    x = cupy.linspace(-2.0, 2.0, 1001)
    got = diffana_cuda.histogram(
        DLPackOnly(x), DLPackOnly(cupy.asarray([-3.0, 0.0, 3.0]))
    )
    np.testing.assert_array_equal(got.values.get(), [500.0, 501.0])


def test_soft_ops_on_device_arrays(diffana_cuda, cupy):
    rng = np.random.default_rng(6)
    x = rng.normal(size=10_000)
    t = rng.normal(size=(x.size, 2))
    want = diffana_cuda.soft_cut(x, 0.3, 4.0, x_tangents=t)
    got = diffana_cuda.soft_cut(cupy.asarray(x), 0.3, 4.0, x_tangents=cupy.asarray(t))
    assert isinstance(got.value, cupy.ndarray)
    _close(got.value.get(), want.value)
    _close(got.tangents.get(), want.tangents)
    want = diffana_cuda.soft_window(x, -0.5, 0.5, 3.0)
    got = diffana_cuda.soft_window(cupy.asarray(x), -0.5, 0.5, 3.0)
    _close(got.value.get(), want.value)
    with pytest.raises(ValueError, match="must be finite"):
        diffana_cuda.soft_cut(cupy.asarray(x), cupy.full(x.size, np.nan), 1.0)
