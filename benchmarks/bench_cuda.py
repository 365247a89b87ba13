# SPDX-License-Identifier: BSD-3-Clause
"""CUDA histogram fills: diffana's modes side by side, and jit-compiled JAX.

The workload of bench_hist.py on a GPU: a 20-bin histogram on [-3, 3] of n events
x ~ N(0, 1) with weights w ~ U(0.5, 1.5), and its Jacobian with respect to P
parameters through the tangents a, b ~ N(0, 0.1) of x and w (values, sum of squares,
Jacobian and the Jacobian of the sum of squares), hard binning or soft (bandwidth
0.1, relaxed.hist). Methods:

- diffana <mode>  diffana_cuda_hist_fill_1d_ex_f64 through ctypes on CuPy arrays
                  (libdiffana_capi.so, CMake target diffana_capi): private (block-
                  private histograms in shared memory, the default), deterministic
                  and atomic (one thread per event, global atomics: the first kernel)
- jax             jax.jit(jax.jacfwd(f)) of relaxed.hist's formula in float64, as in
                  bench_hist.py (only when jax's default backend is a GPU)

Second table (--agc-events, 0 leaves it out): the relaxed AGC step
(src/cuda/agc_relaxed.hpp: soft jet selection and b tagging, region probabilities,
H_T, soft trijet mass, two 25-bin soft histograms with their Jacobians w.r.t. three
parameters) on AGC-like jagged events (0 to 14 jets, 6 on average), ms per step:
diffana_cuda_agc_relaxed_step_f64 in each mode against its CPU twin
diffana_agc_relaxed_step_f64 (one CPU thread, on --agc-cpu-events events, scaled),
with the largest difference of the Jacobian from the twin's. For comparison, a
jit-compiled JAX version of the chain took 19 ms per step at 1e6 events on an H200
(not run here).

Times are from CUDA events (diffana) or the wall clock around block_until_ready
(jax), best of --repeat after one warm-up call. "GB/s" counts the bytes of the event
arrays the fill must read once (x, w, the w tangents, and for soft binning the x
tangents); "share" divides it by the device's copy bandwidth, measured here as the
bytes read and written by a 4 GiB device-to-device copy. The last column is the
largest difference of the Jacobian from the deterministic mode's, relative to its
largest entry. Usage (prints a markdown table; about 2 minutes on an H200):

    python benchmarks/bench_cuda.py                       # 1e8 events, jax at 1e7
    python benchmarks/bench_cuda.py --events 1e6 --jax-events 1e5 --repeat 2 \
        --agc-events 1e5 --agc-cpu-events 1e4                            # smoke
"""

from __future__ import annotations

import argparse
import ctypes
import os
import pathlib
import sys
import time
from typing import Any

# JAX must not take 75 % of the device before CuPy allocates the events.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
BINS = 20
LO, HI = -3.0, 3.0
BANDWIDTH = 0.1
MODES = {"private": 0, "deterministic": 1, "atomic": 2}

_d, _p, _i64, _int = ctypes.c_double, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int


def load_capi(path: pathlib.Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    fn = lib.diffana_cuda_hist_fill_1d_ex_f64
    fn.argtypes = [_p, _p, _p, _p, _i64, _i64, _p, _i64, _d, _int]
    fn.argtypes += [_p] * 7 + [_int, _p]
    fn.restype = _int
    return lib


def copy_bandwidth(cp: Any) -> float:
    """Bytes per second read plus written by a 4 GiB device-to-device copy (best of 5)."""
    src = cp.ones(2**29, dtype=np.float64)
    dst = cp.empty_like(src)
    best = np.inf
    for _ in range(6):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        dst[...] = src
        stop.record()
        stop.synchronize()
        best = min(best, cp.cuda.get_elapsed_time(start, stop) / 1e3)
    del src, dst
    cp.get_default_memory_pool().free_all_blocks()
    return 2 * 2**29 * 8 / best


def bench_diffana(lib, cp, n, p, soft, mode, ev, repeat):
    """Best time (s) of one fill and its Jacobian."""
    edges = cp.linspace(LO, HI, BINS + 1)
    best = np.inf
    jac = None
    for _ in range(repeat + 1):
        out = [cp.zeros(BINS), cp.zeros(BINS), cp.zeros((BINS, p)), cp.zeros((BINS, p))]
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        status = lib.diffana_cuda_hist_fill_1d_ex_f64(
            ev["x"].data.ptr, ev["a"].data.ptr, ev["w"].data.ptr, ev["b"].data.ptr,
            n, p, edges.data.ptr, BINS, BANDWIDTH if soft else 0.0, 0,
            *(o.data.ptr for o in out), None, None, None, mode, None,
        )  # fmt: skip
        stop.record()
        stop.synchronize()
        if status != 0:
            sys.exit(f"diffana_cuda_hist_fill_1d_ex_f64 returned status {status}")
        best = min(best, cp.cuda.get_elapsed_time(start, stop) / 1e3)
        jac = out[2].get()
    return best, jac


def bench_jax(n, p, soft, repeat):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.scipy.stats import norm

    key = jax.random.PRNGKey(1)
    k1, k2, k3, k4 = jax.random.split(key, 4)
    x = jax.random.normal(k1, (n,))
    w = jax.random.uniform(k2, (n,), minval=0.5, maxval=1.5)
    a = 0.1 * jax.random.normal(k3, (n, p))
    b = 0.1 * jax.random.normal(k4, (n, p))
    edges = jnp.linspace(LO, HI, BINS + 1)

    def soft_hist(theta):
        xs = x + a @ theta
        ws = w + b @ theta
        cdf = norm.cdf(edges[:, None], loc=xs[None, :], scale=BANDWIDTH)
        return ((cdf[1:] - cdf[:-1]) * ws[None, :]).sum(axis=1)

    def hard_hist(theta):
        ws = w + b @ theta
        return jnp.histogram(x, edges, weights=ws)[0]

    f = jax.jit(jax.jacfwd(soft_hist if soft else hard_hist))
    theta0 = jnp.zeros(p)
    f(theta0).block_until_ready()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        f(theta0).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return best


AGC_EDGES = np.linspace(50.0, 550.0, 26)
AGC_PARAMS = [30.0, 0.5, 0.2, 2.0, 0.05, 10.0, 1e-4, 0.03]
_AGC_TWIN = [_p] * 8 + [_i64, _p, _p, _i64, _d, _p, _i64, _d, _int] + [_p] * 5


def agc_events(n: int, seed: int = 1) -> list[np.ndarray]:
    """offsets, pt, eta, phi, mass, btag, ok, weight of n AGC-like events."""
    rng = np.random.default_rng(seed)
    counts = np.minimum(rng.poisson(6.0, n), 14)
    m = int(counts.sum())
    event = np.repeat(np.arange(n), counts)
    pt = 15.0 + (120.0 + 200.0 * rng.uniform(size=n))[event] * rng.uniform(0.05, 0.9, m)
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


def bench_agc(lib, cp, n, n_cpu, repeat):
    """Rows (method, events, seconds per step, jac difference from the twin)."""
    lib.diffana_agc_relaxed_step_f64.argtypes = _AGC_TWIN
    lib.diffana_agc_relaxed_step_f64.restype = _int
    lib.diffana_cuda_agc_relaxed_step_f64.argtypes = [*_AGC_TWIN, _int, _p]
    lib.diffana_cuda_agc_relaxed_step_f64.restype = _int
    params = np.array(AGC_PARAMS)
    nb = 2 * (AGC_EDGES.size - 1)

    def call(fn, arrays, edges, out, skipped, extra=()):
        ptr = [int(a.ctypes.data) if isinstance(a, np.ndarray) else int(a.data.ptr)
               for a in (*arrays, edges, *out, skipped)]  # fmt: skip
        status = fn(
            *ptr[:8], arrays[-1].size, params.ctypes.data, ptr[8], nb // 2, 10.0,
            ptr[8], nb // 2, 10.0, 0, *ptr[9:], *extra,
        )  # fmt: skip
        if status != 0:
            sys.exit(f"relaxed AGC step returned status {status}")

    host = agc_events(n_cpu)
    out = [np.zeros(nb), np.zeros(nb), np.zeros(3 * nb), np.zeros(3 * nb)]
    t0 = time.perf_counter()
    call(lib.diffana_agc_relaxed_step_f64, host, AGC_EDGES, out, np.zeros(1, np.int64))
    t_cpu = time.perf_counter() - t0
    ref_jac = out[2]
    rows = [("CPU twin, 1 thread", n_cpu, t_cpu * n / n_cpu, "")]
    dev = [cp.asarray(a) for a in agc_events(n)]
    small = [cp.asarray(a) for a in host]
    edges = cp.asarray(AGC_EDGES)
    for mode_name, mode in MODES.items():
        # Equality with the twin on the CPU's events, then the time at n events.
        o = [cp.zeros(nb), cp.zeros(nb), cp.zeros(3 * nb), cp.zeros(3 * nb)]
        call(lib.diffana_cuda_agc_relaxed_step_f64, small, edges, o,
             cp.zeros(1, cp.int64), (mode, None))  # fmt: skip
        diff = np.max(np.abs(o[2].get() - ref_jac)) / np.max(np.abs(ref_jac))
        best = np.inf
        for _ in range(repeat + 1):
            o = [cp.zeros(nb), cp.zeros(nb), cp.zeros(3 * nb), cp.zeros(3 * nb)]
            start, stop = cp.cuda.Event(), cp.cuda.Event()
            start.record()
            call(lib.diffana_cuda_agc_relaxed_step_f64, dev, edges, o,
                 cp.zeros(1, cp.int64), (mode, None))  # fmt: skip
            stop.record()
            stop.synchronize()
            best = min(best, cp.cuda.get_elapsed_time(start, stop) / 1e3)
        rows.append((f"diffana CUDA {mode_name}", n, best, f"{diff:.1e}"))
    return rows


def bytes_read(n: int, p: int, soft: bool) -> int:
    return 8 * n * (2 + p + (p if soft else 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=1e8)
    parser.add_argument("--jax-events", type=float, default=1e7)
    parser.add_argument("--params", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--agc-events", type=float, default=1e6)
    parser.add_argument("--agc-cpu-events", type=float, default=1e5)
    parser.add_argument(
        "--lib",
        type=pathlib.Path,
        default=pathlib.Path(
            os.environ.get("DIFFANA_CAPI", REPO_ROOT / "build/gpu/libdiffana_capi.so")
        ),
    )
    args = parser.parse_args(argv)
    try:
        import cupy as cp

        ndev = cp.cuda.runtime.getDeviceCount()
    except ImportError:
        sys.exit("bench_cuda.py needs CuPy (pip install cupy-cuda13x)")
    except cp.cuda.runtime.CUDARuntimeError as err:
        sys.exit(f"bench_cuda.py: no CUDA device ({err})")
    if ndev == 0:
        sys.exit("bench_cuda.py: no CUDA device")
    if not args.lib.is_file():
        sys.exit(f"{args.lib} is missing: build the CMake target diffana_capi")
    lib = load_capi(args.lib)
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    bw = copy_bandwidth(cp)
    print(f"device: {name}; device-to-device copy: {bw / 1e9:.0f} GB/s (read + write)")

    n = int(args.events)
    rows = []
    for p in args.params:
        rng = cp.random.RandomState(1)
        ev = {
            "x": rng.standard_normal(n),
            "w": rng.uniform(0.5, 1.5, n),
            "a": 0.1 * rng.standard_normal((n, p)),
            "b": 0.1 * rng.standard_normal((n, p)),
        }
        for soft in (False, True):
            jacs = {}
            times = {}
            for mode_name, mode in MODES.items():
                times[mode_name], jacs[mode_name] = bench_diffana(
                    lib, cp, n, p, soft, mode, ev, args.repeat
                )
            ref = jacs["deterministic"]
            for mode_name in MODES:
                diff = np.max(np.abs(jacs[mode_name] - ref)) / np.max(np.abs(ref))
                rows.append(
                    (
                        f"diffana {mode_name}",
                        soft,
                        p,
                        n,
                        times[mode_name],
                        f"{diff:.1e}",
                    )
                )
        del ev
        cp.get_default_memory_pool().free_all_blocks()

    try:
        import jax

        has_gpu = jax.default_backend() == "gpu"
    except ImportError:
        has_gpu = False
    if has_gpu:
        nj = int(args.jax_events)
        for p in args.params:
            for soft in (False, True):
                rows.append(
                    ("jax jit(jacfwd)", soft, p, nj, bench_jax(nj, p, soft, 3), "")
                )
    else:
        print("(jax has no GPU here: its rows are left out)")

    print()
    print(
        "| method | binning | P | events | ns/event | GB/s | share of copy bw | jac vs det. |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for method, soft, p, nev, t, diff in rows:
        gbs = bytes_read(nev, p, soft) / t
        print(
            f"| {method} | {'soft' if soft else 'hard'} | {p} | {nev:.0e} | "
            f"{t / nev * 1e9:.3f} | {gbs / 1e9:.0f} | {100 * gbs / bw:.1f} % | {diff} |"
        )
    if args.agc_events > 0:
        n_agc = int(args.agc_events)
        agc = bench_agc(lib, cp, n_agc, int(args.agc_cpu_events), args.repeat)
        print()
        print(f"Relaxed AGC step, {n_agc:.0e} events (two 25-bin histograms, P = 3):")
        print()
        print("| method | events timed | ms per step | ns/event | jac vs CPU twin |")
        print("|---|---:|---:|---:|---:|")
        for method, nev, t, diff in agc:
            print(
                f"| {method} | {nev:.0e} | {t * 1e3:.2f} | {t / n_agc * 1e9:.1f} | {diff} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
