# SPDX-License-Identifier: BSD-3-Clause
"""The CUDA histogram fills equal their CPU twins (the C API, through ctypes).

Every mode of diffana_cuda_hist_fill_{1d,2d}_ex_f64 (private, deterministic, atomic)
against diffana_hist_fill_{1d,2d}_f64 on the same events: hard and soft binning, drop
and fold, P = 0, 1, 8, weights or none, 1D edge terms, NaN events (skipped and
counted), and histograms too large for shared memory (the fallbacks). Outputs agree
within 1e-12 relative to the largest magnitude of each array; the deterministic mode
repeats bitwise; statuses are the CPU twin's.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

# The DIFFANA_CUDA_FILL_* modes of include/diffana/kernels.h.
MODES = {"private": 0, "deterministic": 1, "atomic": 2}

RTOL = 1e-12
OUTPUTS_1D = ("values", "sumw2", "jac", "sumw2_jac", "edge_density", "edge_moment")
OUTPUTS_2D = ("values", "sumw2", "jac", "sumw2_jac")


def _ptr(a: Any) -> int | None:
    """The data pointer of a numpy or CuPy array (None for None)."""
    if a is None:
        return None
    return int(a.ctypes.data) if isinstance(a, np.ndarray) else int(a.data.ptr)


def _assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    diff = float(np.max(np.abs(got - want))) if want.size else 0.0
    assert diff <= RTOL * scale, f"{what}: max difference {diff:.3g}, scale {scale:.3g}"


def _events_1d(n: int, p: int, weights: bool, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=1.5, size=n)
    x[::997] = np.nan
    x[3], x[5] = np.inf, -np.inf
    w = rng.uniform(0.5, 1.5, size=n) if weights else None
    if w is not None:
        w[17] = np.inf  # skipped
    return {
        "x": x,
        "x_tan": rng.normal(scale=0.1, size=(n, p)) if p else None,
        "w": w,
        "w_tan": rng.normal(scale=0.1, size=(n, p)) if (p and weights) else None,
    }


def _fill_1d(
    lib: ctypes.CDLL,
    xp: Any,
    ev: dict[str, Any],
    edges: np.ndarray,
    h: float,
    overflow: int,
    p: int,
    edge_terms: bool,
    mode: int | None,
) -> tuple[int, dict[str, np.ndarray], int]:
    """One fill with xp = numpy (the CPU twin, mode None) or CuPy (the CUDA kernel)."""
    nb = len(edges) - 1
    arr = {k: (None if v is None else xp.asarray(v)) for k, v in ev.items()}
    e = xp.asarray(edges)
    out = {
        "values": xp.zeros(nb),
        "sumw2": xp.zeros(nb),
        "jac": xp.zeros((nb, p)) if p else None,
        "sumw2_jac": xp.zeros((nb, p)) if p else None,
        "edge_density": xp.zeros(nb + 1) if edge_terms else None,
        "edge_moment": xp.zeros(nb + 1) if edge_terms else None,
    }
    skipped = xp.zeros(1, dtype=np.int64)
    args = [_ptr(arr["x"]), _ptr(arr["x_tan"]), _ptr(arr["w"]), _ptr(arr["w_tan"])]
    args += [len(ev["x"]), p, _ptr(e), nb, h, overflow]
    args += [_ptr(out[k]) for k in OUTPUTS_1D[:4]]
    args += [_ptr(skipped), _ptr(out["edge_density"]), _ptr(out["edge_moment"])]
    if mode is None:
        status = lib.diffana_hist_fill_1d_f64(*args)
    else:
        status = lib.diffana_cuda_hist_fill_1d_ex_f64(*args, mode, None)
        xp.cuda.Device().synchronize()
    host = {k: (np.zeros(0) if v is None else _host(v)) for k, v in out.items()}
    return status, host, int(_host(skipped)[0])


def _host(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.get()


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("h", [0.0, 0.1, 0.7])
@pytest.mark.parametrize("overflow", [0, 1])
@pytest.mark.parametrize("p", [0, 1, 8])
@pytest.mark.parametrize("weights", [False, True])
def test_fill_1d_equals_cpu(capi, cupy, mode, h, overflow, p, weights):
    ev = _events_1d(100_000, p, weights, seed=p + 10 * overflow)
    edges = np.linspace(-3.0, 3.0, 21)
    args = (ev, edges, h, overflow, p, h > 0)
    st, want, skipped = _fill_1d(capi, np, *args, None)
    assert st == 0
    st, got, gskipped = _fill_1d(capi, cupy, *args, MODES[mode])
    assert st == 0
    assert gskipped == skipped
    for k in OUTPUTS_1D:
        _assert_close(got[k], want[k], k)


@pytest.mark.parametrize("mode", list(MODES))
def test_fill_1d_uneven_edges_and_large_histogram(capi, cupy, mode):
    """Uneven edges; 3000 bins x P = 8 do not fit in shared memory (fallbacks)."""
    uneven = np.array([-4.0, -2.5, -1.7, -1.0, -0.6, -0.2, 0.0, 0.1, 0.45, 0.9, 3.5])
    for edges, h, n in (
        (uneven, 0.3, 50_000),
        (np.linspace(-3, 3, 3001), 0.01, 30_000),
    ):
        ev = _events_1d(n, 8, True, seed=n)
        st, want, skipped = _fill_1d(capi, np, ev, edges, h, 0, 8, True, None)
        st2, got, gskipped = _fill_1d(capi, cupy, ev, edges, h, 0, 8, True, MODES[mode])
        assert st == st2 == 0
        assert gskipped == skipped
        for k in OUTPUTS_1D:
            _assert_close(got[k], want[k], k)


def test_deterministic_mode_repeats_bitwise(capi, cupy):
    ev = _events_1d(200_000, 8, True, seed=5)
    edges = np.linspace(-3.0, 3.0, 21)
    runs = [
        _fill_1d(capi, cupy, ev, edges, 0.1, 0, 8, True, MODES["deterministic"])[1]
        for _ in range(3)
    ]
    for r in runs[1:]:
        for k in OUTPUTS_1D:
            np.testing.assert_array_equal(r[k], runs[0][k])


def test_plain_entry_point_equals_cpu(capi, cupy):
    """diffana_cuda_hist_fill_1d_f64 (synchronous, the default mode)."""
    ev = _events_1d(50_000, 2, True, seed=9)
    edges = np.linspace(-3.0, 3.0, 21)
    _, want, _ = _fill_1d(capi, np, ev, edges, 0.2, 1, 2, True, None)
    nb = 20
    g = {k: cupy.asarray(v) for k, v in ev.items()}
    out = [cupy.zeros(nb), cupy.zeros(nb), cupy.zeros((nb, 2)), cupy.zeros((nb, 2))]
    st = capi.diffana_cuda_hist_fill_1d_f64(
        *(_ptr(g[k]) for k in ("x", "x_tan", "w", "w_tan")),
        len(ev["x"]), 2, _ptr(cupy.asarray(edges)), nb, 0.2, 1,
        *(_ptr(o) for o in out), None, None, None,
    )  # fmt: skip
    assert st == 0
    for k, o in zip(OUTPUTS_1D[:4], out, strict=True):
        _assert_close(o.get(), want[k], k)


def _fill_2d(lib, xp, ev, nx, ny, hx, hy, overflow, p, mode):
    xe, ye = (
        xp.asarray(np.linspace(-3, 3, nx + 1)),
        xp.asarray(np.linspace(-2, 2.5, ny + 1)),
    )
    arr = {k: (None if v is None else xp.asarray(v)) for k, v in ev.items()}
    nb = nx * ny
    out = {
        "values": xp.zeros(nb),
        "sumw2": xp.zeros(nb),
        "jac": xp.zeros((nb, p)) if p else None,
        "sumw2_jac": xp.zeros((nb, p)) if p else None,
    }
    skipped = xp.zeros(1, dtype=np.int64)
    args = [_ptr(arr[k]) for k in ("x", "x_tan", "y", "y_tan", "w", "w_tan")]
    args += [len(ev["x"]), p, _ptr(xe), nx, _ptr(ye), ny, hx, hy, overflow]
    args += [_ptr(out[k]) for k in OUTPUTS_2D] + [_ptr(skipped)]
    if mode is None:
        status = lib.diffana_hist_fill_2d_f64(*args)
    else:
        status = lib.diffana_cuda_hist_fill_2d_ex_f64(*args, mode, None)
        xp.cuda.Device().synchronize()
    host = {k: (np.zeros(0) if v is None else _host(v)) for k, v in out.items()}
    return status, host, int(_host(skipped)[0])


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    ("hx", "hy"), [(0.0, 0.0), (0.2, 0.15), (0.2, 0.0), (0.0, 0.15)]
)
@pytest.mark.parametrize("overflow", [0, 1])
@pytest.mark.parametrize("p", [0, 3])
@pytest.mark.parametrize(("nx", "ny"), [(12, 9), (60, 50)])
def test_fill_2d_equals_cpu(capi_2d, cupy, mode, hx, hy, overflow, p, nx, ny):
    capi = capi_2d
    rng = np.random.default_rng(nx + p)
    n = 50_000 if nx < 50 else 10_000
    y = rng.normal(scale=0.8, size=n)
    y[1::1009] = np.nan
    ev = {
        "x": rng.normal(scale=1.2, size=n),
        "x_tan": rng.normal(scale=0.1, size=(n, p)) if p else None,
        "y": y,
        "y_tan": rng.normal(scale=0.1, size=(n, p)) if p else None,
        "w": rng.uniform(0.5, 1.5, size=n),
        "w_tan": rng.normal(scale=0.1, size=(n, p)) if p else None,
    }
    args = (ev, nx, ny, hx, hy, overflow, p)
    st, want, skipped = _fill_2d(capi, np, *args, None)
    st2, got, gskipped = _fill_2d(capi, cupy, *args, MODES[mode])
    assert st == st2 == 0
    assert gskipped == skipped
    for k in OUTPUTS_2D:
        _assert_close(got[k], want[k], k)


@pytest.mark.parametrize(
    ("edges", "h", "overflow", "mode", "status"),
    [
        ([0.0, 1.0, 0.5], 0.0, 0, 0, 1),  # DIFFANA_ERR_EDGES
        ([0.0, 0.5, 1.0], -0.1, 0, 0, 2),  # DIFFANA_ERR_BANDWIDTH
        ([0.0, 0.5, 1.0], 0.1, 2, 0, 3),  # DIFFANA_ERR_OVERFLOW
        ([0.0, 0.5, 1.0], 0.1, 0, 7, 4),  # unknown mode: DIFFANA_ERR_ARGUMENT
    ],
)
def test_statuses(capi, cupy, edges, h, overflow, mode, status):
    x = cupy.asarray([0.1, 0.2])
    values = cupy.zeros(len(edges) - 1)
    st = capi.diffana_cuda_hist_fill_1d_ex_f64(
        _ptr(x), None, None, None, 2, 0, _ptr(cupy.asarray(edges)), len(edges) - 1,
        h, overflow, _ptr(values), None, None, None, None, None, None, mode, None,
    )  # fmt: skip
    assert st == status
    if mode == 0:  # the CPU twin agrees
        xh, eh, vh = np.array([0.1, 0.2]), np.asarray(edges, float), np.zeros(2)
        st_cpu = capi.diffana_hist_fill_1d_f64(
            _ptr(xh), None, None, None, 2, 0, _ptr(eh), 2, h, overflow, _ptr(vh),
            None, None, None, None, None, None,
        )  # fmt: skip
        assert st_cpu == status
    assert not values.get().any()  # nothing written
