# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the GPU tests: the C API of the CPU and CUDA kernels through ctypes.

The CUDA fills are reached through ``libdiffana_capi.so`` (CMake target diffana_capi,
built by ``make test-gpu``; ``$DIFFANA_CAPI`` names another copy) with CuPy arrays as
device memory: no ROOT, uproot or built Python extension is needed. Every test here is
marked ``gpu`` and skips, saying why, where the library, CuPy or a CUDA device is
missing.
"""

from __future__ import annotations

import ctypes
import os
import pathlib
from typing import Any

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
DEFAULT_LIB = REPO_ROOT / "build" / "gpu" / "libdiffana_capi.so"

_d = ctypes.c_double
_p = ctypes.c_void_p
_i64 = ctypes.c_int64
_int = ctypes.c_int

# Argument types of the fills, in the order of include/diffana/kernels.h.
FILL_1D = [_p, _p, _p, _p, _i64, _i64, _p, _i64, _d, _int, _p, _p, _p, _p, _p, _p, _p]
FILL_2D = [_p, _p, _p, _p, _p, _p, _i64, _i64, _p, _i64, _p, _i64, _d, _d, _int]
FILL_2D += [_p, _p, _p, _p, _p]


def load_capi(path: pathlib.Path) -> ctypes.CDLL:
    """The shared C API library with the signatures of the fills declared."""
    lib = ctypes.CDLL(str(path))
    for name, args in (
        ("diffana_hist_fill_1d_f64", FILL_1D),
        ("diffana_cuda_hist_fill_1d_f64", FILL_1D),
        ("diffana_cuda_hist_fill_1d_ex_f64", [*FILL_1D, _int, _p]),
        ("diffana_hist_fill_2d_f64", FILL_2D),
        ("diffana_cuda_hist_fill_2d_f64", FILL_2D),
        ("diffana_cuda_hist_fill_2d_ex_f64", [*FILL_2D, _int, _p]),
    ):
        try:
            fn = getattr(lib, name)
        except AttributeError:  # the 2D CUDA fill is built only with DIFFANA_CUDA_2D
            continue
        fn.argtypes = args
        fn.restype = _int
    return lib


@pytest.fixture(scope="session")
def capi() -> ctypes.CDLL:
    """libdiffana_capi.so; skips when it has not been built."""
    path = pathlib.Path(os.environ.get("DIFFANA_CAPI", DEFAULT_LIB))
    if not path.is_file():
        pytest.skip(
            f"{path} is missing: build it with `make test-gpu` (CMake target "
            "diffana_capi, -DDIFFANA_CUDA=ON) or point $DIFFANA_CAPI at it"
        )
    return load_capi(path)


@pytest.fixture(scope="session")
def cupy() -> Any:
    """CuPy with a usable CUDA device; skips (with the reason) otherwise."""
    cp = pytest.importorskip("cupy", reason="CuPy is not installed (GPU tests need it)")
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except cp.cuda.runtime.CUDARuntimeError as err:  # no driver, no device
        pytest.skip(f"no CUDA device: {err}")
    if count == 0:
        pytest.skip("no CUDA device")
    return cp


@pytest.fixture(scope="session")
def capi_2d(capi: ctypes.CDLL) -> ctypes.CDLL:
    """The library, when it has the 2D CUDA fill (CMake option DIFFANA_CUDA_2D=ON)."""
    if not hasattr(capi, "diffana_cuda_hist_fill_2d_ex_f64"):
        pytest.skip("the 2D CUDA fill was not built (CMake option DIFFANA_CUDA_2D=OFF)")
    return capi
