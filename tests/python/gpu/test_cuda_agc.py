# SPDX-License-Identifier: BSD-3-Clause
"""The relaxed AGC step on a CUDA device equals its CPU twin.

diffana_cuda_agc_relaxed_step_f64 in every fill mode against
diffana_agc_relaxed_step_f64 (the same per-event function in a host loop; both in
libdiffana_capi.so, through ctypes) on random jagged events with NaN jets and events
with too many jets: relaxed, unpruned and hard scales. Outputs agree within 1e-12
relative to the largest magnitude of each array; n_skipped exactly; the deterministic
mode repeats bitwise. Then `diffana.agc_relaxed.step` on CuPy columns against the same
function on numpy columns (when the installed extension has the CUDA kernels). The
twin itself is checked against the CPU analysis path in tests/python/test_agc_relaxed.py.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

MODES = {"private": 0, "deterministic": 1, "atomic": 2}
RTOL = 1e-12
MAX_JETS = 32  # diffana::agc_relaxed::max_jets
EDGES = np.linspace(50.0, 550.0, 26)
PARAMS = {
    "relaxed": [30.0, 0.5, 0.2, 2.0, 0.05, 10.0, 1e-4, 0.03],
    "unpruned": [32.0, 0.45, -0.3, 3.0, 0.1, 5.0, 0.0, 0.03],
    "hard": [30.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03],
}

_p, _d, _i64, _int = ctypes.c_void_p, ctypes.c_double, ctypes.c_int64, ctypes.c_int
TWIN = [_p] * 8 + [_i64, _p, _p, _i64, _d, _p, _i64, _d, _int] + [_p] * 5


@pytest.fixture(scope="module")
def agc_capi(capi: ctypes.CDLL) -> ctypes.CDLL:
    if not hasattr(capi, "diffana_cuda_agc_relaxed_step_f64"):
        pytest.skip("libdiffana_capi.so predates the relaxed AGC step: rebuild it")
    capi.diffana_agc_relaxed_step_f64.argtypes = TWIN
    capi.diffana_agc_relaxed_step_f64.restype = _int
    capi.diffana_cuda_agc_relaxed_step_f64.argtypes = [*TWIN, _int, _p]
    capi.diffana_cuda_agc_relaxed_step_f64.restype = _int
    return capi


def _events(n: int, seed: int) -> list[np.ndarray]:
    """offsets, pt, eta, phi, mass, btag, ok, weight of n AGC-like events."""
    rng = np.random.default_rng(seed)
    counts = np.minimum(rng.poisson(6.0, n), 14)
    counts[5::997] = MAX_JETS + 2
    m = int(counts.sum())
    event = np.repeat(np.arange(n), counts)
    lead = 120.0 + 200.0 * rng.uniform(size=n)
    pt = 15.0 + lead[event] * rng.uniform(0.05, 0.9, m)
    pt[::1499] = np.nan
    return [
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        pt,
        rng.uniform(-2.0, 2.0, m),
        rng.uniform(-np.pi, np.pi, m),
        pt * rng.uniform(0.05, 0.25, m),
        rng.uniform(size=m),
        (rng.uniform(size=m) < 0.9).astype(np.float64),
        rng.uniform(0.9, 1.1, n),
    ]


def _ptr(a: Any) -> int:
    return int(a.ctypes.data) if isinstance(a, np.ndarray) else int(a.data.ptr)


def _run(lib, cols, params, bw, overflow, xp, mode=None) -> dict[str, Any]:
    nb = 2 * (EDGES.size - 1)
    arrays = [xp.asarray(c) for c in cols]
    edges = xp.asarray(EDGES)
    out = {
        "values": xp.zeros(nb),
        "sumw2": xp.zeros(nb),
        "jac": xp.zeros(3 * nb),
        "sumw2_jac": xp.zeros(3 * nb),
    }
    skipped = xp.zeros(1, dtype=np.int64)
    args = [*(_ptr(a) for a in arrays), cols[-1].size, np.asarray(params).ctypes.data]
    args += [_ptr(edges), EDGES.size - 1, bw, _ptr(edges), EDGES.size - 1, bw, overflow]
    args += [*(_ptr(o) for o in out.values()), _ptr(skipped)]
    if mode is None:
        status = lib.diffana_agc_relaxed_step_f64(*args)
    else:
        status = lib.diffana_cuda_agc_relaxed_step_f64(*args, MODES[mode], None)
    assert status == 0, f"status {status}"
    host = {k: (v if xp is np else v.get()) for k, v in out.items()}
    host["n_skipped"] = int(skipped[0]) if xp is np else int(skipped.get()[0])
    return host


@pytest.fixture(scope="module")
def events() -> list[np.ndarray]:
    return _events(200_000, 11)


@pytest.mark.parametrize("case", list(PARAMS))
@pytest.mark.parametrize("overflow", [0, 1], ids=["drop", "fold"])
def test_cuda_step_equals_the_twin(agc_capi, cupy, events, case, overflow):
    params = np.array(PARAMS[case])
    bw = 0.0 if case == "hard" else 10.0
    want = _run(agc_capi, events, params, bw, overflow, np)
    assert want["n_skipped"] > 0  # NaN jets and too many jets are skipped
    for mode in MODES:
        got = _run(agc_capi, events, params, bw, overflow, cupy, mode)
        assert got["n_skipped"] == want["n_skipped"], mode
        for key in ("values", "sumw2", "jac", "sumw2_jac"):
            scale = float(np.max(np.abs(want[key])))
            diff = float(np.max(np.abs(got[key] - want[key])))
            assert diff <= RTOL * scale, f"{mode} {key}: {diff:.3g} of {scale:.3g}"
        if mode == "deterministic":
            again = _run(agc_capi, events, params, bw, overflow, cupy, mode)
            for key in ("values", "jac", "sumw2_jac"):
                np.testing.assert_array_equal(again[key], got[key])


def test_python_step_on_device_columns(cupy):
    try:
        from diffana import _core
        from diffana import agc_relaxed as ar
    except ImportError as err:
        pytest.skip(f"diffana is not importable: {err}")
    if not getattr(getattr(_core, "cuda", None), "built", False):
        pytest.skip(
            "diffana._core was built without the CUDA kernels (DIFFANA_CUDA=ON)"
        )
    from diffana.generators.agc import make_chunk

    cols = ar.columns_from_branches(
        make_chunk("ttbar", 20_000, np.random.default_rng(3))
    )
    device = ar.to_device(cols)
    assert device.on_device
    params = {"pt_cut": 33.0, "btag_cut": 0.55, "jes": 0.3}
    want = ar.step(cols, params)
    for mode in MODES:
        got = ar.step(device, params, mode=mode)
        for ch in ar.CHANNELS:
            for key in ("values", "variances", "jacobian", "variances_jacobian"):
                a, b = getattr(got[ch], key), getattr(want[ch], key)
                scale = float(np.max(np.abs(b)))
                assert float(np.max(np.abs(a - b))) <= RTOL * scale, (mode, ch, key)
