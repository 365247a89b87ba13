# SPDX-License-Identifier: BSD-3-Clause
"""Value and gradient of an objective of a network observable: diffana's adjoint and
forward mode against an independent JAX implementation, for P = 10 .. 10^4 weights.

Command::

    PYTHONPATH=python .venv/bin/python benchmarks/bench_networks.py

Each event has 8 features ``x_k = sin(a_k e + b_k)`` (e: the entry number; the first
one times a forward parameter s = 1) computed in the event loop, an MLP 8 -> k -> 1
(tanh, sigmoid output; P = 10 k + 1 weights) on them, and a soft histogram of its
output (20 bins on [0, 1], Gaussian kernel of bandwidth 0.05, as ``relaxed.hist``).
The objective is L = sum_b h_b^2. Three modes, each in its own subprocess (so that
its peak RSS is its own), each at every event count in turn:

- ``adjoint``: the weights as one reverse-mode vector of a DiffFrame
  (``diffana.nn.cpp.apply_expression``): the histogram in the first event loop, then
  `diffana.rdf.adjoint_gradient` (the second, adjoint, loop) for dL/dw;
- ``forward``: the weights as forward parameters (``diffana.nn.declare``: a
  ``Dual<double, P + 1>`` network column): the histogram's Jacobian in one loop;
- ``rdf``: no diffana and no derivative: plain RDataFrame with the same 8 defines, the
  network's value in plain C++ and a hard ``Histo1D`` of it, run twice. Any two-pass
  event loop in RDataFrame (the adjoint needs two: the cotangents of pass 2 need the
  histograms of pass 1) costs at least this; it is the floor the adjoint is measured
  against;
- ``jax``: ``jax.jit(jax.value_and_grad(L))`` written as a JAX user would (no diffana
  import): the events as arrays, the MLP as matrix products over all events, the
  soft histogram from ``jax.scipy.stats.norm.cdf`` at the bin edges. Skipped where its
  activations alone (events x k x 8 bytes, times 4 for the backward pass) would
  exceed ``--jax-max-gb``.

Where a diffana mode's time at an event count, estimated from the count before,
exceeds ``--budget`` seconds, it runs on fewer events and its time is scaled linearly
(marked ``~``).

Reported: the steady-state wall time of one value + gradient (the second call, at
other weights: the first compiles), the first call (with compilation), the peak RSS
of the process after that event count, and the relative difference of L from JAX's.
Threads: ``--threads`` (default 1) for ROOT (``EnableImplicitMT``) and XLA alike.
Never a timed assertion: the table is for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

N_FEATURES = 8
A = [0.7071067811865476 * (k + 1) for k in range(N_FEATURES)]
B = [0.3 * k for k in range(N_FEATURES)]
EDGES = np.linspace(0.0, 1.0, 21)
BANDWIDTH = 0.05


def _hidden(p: int) -> int:
    """The hidden width k for about p weights (P = 10 k + 1)."""
    return max(p // 10, 1)


def _weights(k: int, shift: float = 0.0) -> np.ndarray:
    """Glorot-like weights of the 8 -> k -> 1 MLP, flat (row-major [out][in], biases
    after each matrix: diffana's layout, spelled out again in `_jax`)."""
    rng = np.random.default_rng(k)
    parts = []
    for n_in, n_out in ((N_FEATURES, k), (k, 1)):
        bound = np.sqrt(6.0 / (n_in + n_out))
        parts += [rng.uniform(-bound, bound, n_out * n_in), np.zeros(n_out)]
    return np.concatenate(parts) + shift


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- diffana ---------------------------------------------------------------------


def _frame(mode: str, net: Any, w0: np.ndarray, n: int) -> tuple[Any, Any]:
    """The DiffFrame of ``n`` events with the network column and its histogram."""
    from diffana import rdf
    from diffana.nn import declare, expression
    from diffana.nn.cpp import apply_expression

    df = rdf._import_root().RDataFrame(n)
    params = {"s": 1.0}
    if mode == "forward":
        params.update(zip(net.param_names(), w0, strict=True))
        ddf = rdf.DiffFrame(df, params)
    else:
        ddf = rdf.DiffFrame(df, params, reverse={"net__weights": w0})
    for i in range(N_FEATURES):
        scale = " * s" if i == 0 else ""
        ddf = ddf.define(f"x{i}", f"std::sin({A[i]!r} * rdfentry_ + {B[i]!r}){scale}")
    if mode == "forward":
        ddf = ddf.define("net", expression(net, declare(net, ddf)))
    else:
        ddf = ddf.define("net", apply_expression(net, "net__weights"))
    return ddf, ddf.histo("net", EDGES, bandwidth=BANDWIDTH)


def _value_and_grad(
    mode: str, ddf: Any, h: Any, names: list[str], w: np.ndarray
) -> tuple[float, np.ndarray]:
    """L = sum_b h_b^2 and dL/dw: forward mode from the histogram's Jacobian, the
    adjoint from `diffana.rdf.adjoint_gradient` with the cotangent 2 h."""
    from diffana import rdf

    if mode == "forward":
        ddf.set_params(dict(zip(names, w, strict=True)))
        r = h.result()
        return float(np.sum(r.values**2)), (2 * r.values) @ r.jacobian[:, 1:]
    ddf.set_params({"net__weights": w})
    r = h.result()
    g = rdf.adjoint_gradient({h: (2 * r.values, None)})
    return float(np.sum(r.values**2)), np.asarray(g["net__weights"])


def _diffana(
    mode: str, k: int, events: list[int], budget: float
) -> list[dict[str, Any]]:
    from diffana.nn import Network

    net = Network("net", inputs=tuple(f"x{i}" for i in range(N_FEATURES)),
                  layers=(k, 1), output_activation="sigmoid")  # fmt: skip
    names = net.param_names()
    w0 = _weights(k)
    out = []
    estimate = None  # seconds per event, from the smaller count
    for n in events:
        run_n = n
        if estimate is not None and estimate * n > budget:
            run_n = max(int(budget / estimate / 4), 1000)
        ddf, h = _frame(mode, net, w0, run_n)
        t0 = time.perf_counter()
        _value_and_grad(mode, ddf, h, names, w0)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        value, grad = _value_and_grad(mode, ddf, h, names, _weights(k, 1e-3))
        t = time.perf_counter() - t0
        estimate = t / run_n
        out.append({
            "events": n, "run_events": run_n, "seconds": t * n / run_n,
            "first": first, "rss_mb": _rss_mb(), "value": value,
            "grad_norm": float(np.linalg.norm(grad)),
        })  # fmt: skip
        del ddf, h
    return out


# ---- plain RDataFrame (no diffana, no derivative): the floor of a two-pass loop ------

_PLAIN_MLP = """
#include <cmath>
#include <vector>
// The 8 -> k -> 1 MLP's value in plain C++ (tanh, sigmoid output; diffana's layout).
struct BenchPlainMlp {
  std::vector<double> w;
  int k = 0;
  double operator()(double x0, double x1, double x2, double x3, double x4, double x5,
                    double x6, double x7) const {
    const double x[8] = {x0, x1, x2, x3, x4, x5, x6, x7};
    const double* b1 = w.data() + 8 * k;
    const double* w2 = b1 + k;
    double out = w2[k];
    for (int j = 0; j < k; ++j) {
      double z = b1[j];
      for (int i = 0; i < 8; ++i) z += w[8 * j + i] * x[i];
      out += w2[j] * std::tanh(z);
    }
    return 1.0 / (1.0 + std::exp(-out));
  }
};
BenchPlainMlp bench_plain_mlp;
"""


def _plain(k: int, events: list[int]) -> list[dict[str, Any]]:
    from diffana import rdf

    ROOT = rdf._import_root()
    ROOT.gInterpreter.Declare(_PLAIN_MLP)
    ROOT.bench_plain_mlp.k = k
    out = []
    for n in events:
        df = ROOT.RDataFrame(n)
        for i in range(N_FEATURES):
            df = df.Define(f"x{i}", f"std::sin({A[i]!r} * rdfentry_ + {B[i]!r})")
        args = ", ".join(f"x{i}" for i in range(N_FEATURES))
        df = df.Define("net", f"bench_plain_mlp({args})")
        model = ("h", "", EDGES.size - 1, EDGES[0], EDGES[-1])

        def two_passes(w: np.ndarray, df: Any = df, model: Any = model) -> float:
            ROOT.bench_plain_mlp.w = ROOT.std.vector["double"](w.tolist())
            for _ in range(2):  # two event loops (a typed action: nothing to jit)
                h = df.Histo1D["double"](model, "net").GetValue()
            return float(sum(h.GetBinContent(b) ** 2 for b in range(1, 21)))

        t0 = time.perf_counter()
        two_passes(_weights(k))
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        value = two_passes(_weights(k, 1e-3))
        t = time.perf_counter() - t0
        out.append({
            "events": n, "run_events": n, "seconds": t, "first": first,
            "rss_mb": _rss_mb(), "value": value, "grad_norm": float("nan"),
        })  # fmt: skip
    return out


# ---- JAX (no diffana) ------------------------------------------------------------


def _jax(k: int, events: list[int], max_gb: float) -> list[dict[str, Any]]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    edges = jnp.asarray(EDGES)

    def mlp(w: jax.Array, x: jax.Array) -> jax.Array:
        w1 = w[: k * N_FEATURES].reshape(k, N_FEATURES)
        b1 = w[k * N_FEATURES : k * N_FEATURES + k]
        o = k * N_FEATURES + k
        w2, b2 = w[o : o + k], w[o + k]
        hidden = jnp.tanh(x @ w1.T + b1)
        return jax.nn.sigmoid(hidden @ w2 + b2)

    def loss(w: jax.Array, x: jax.Array) -> jax.Array:
        y = mlp(w, x)
        cdf = jax.scipy.stats.norm.cdf((edges[None, :] - y[:, None]) / BANDWIDTH)
        hist = jnp.sum(cdf[:, 1:] - cdf[:, :-1], axis=0)
        return jnp.sum(hist**2)

    vg = jax.jit(jax.value_and_grad(loss))
    out = []
    for n in events:
        need = n * max(k, EDGES.size) * 8 * 4 / 1e9
        if need > max_gb:
            out.append({"events": n, "skipped": f"needs ~{need:.0f} GB"})
            continue
        e = np.arange(n, dtype=np.float64)
        x = jnp.asarray(
            np.stack([np.sin(A[i] * e + B[i]) for i in range(N_FEATURES)], 1)
        )
        del e
        t0 = time.perf_counter()
        jax.block_until_ready(vg(jnp.asarray(_weights(k)), x))
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        value, grad = jax.block_until_ready(vg(jnp.asarray(_weights(k, 1e-3)), x))
        t = time.perf_counter() - t0
        out.append({
            "events": n, "run_events": n, "seconds": t, "first": first,
            "rss_mb": _rss_mb(), "value": float(value),
            "grad_norm": float(jnp.linalg.norm(grad)),
        })  # fmt: skip
        del x
    return out


# ---- driver ----------------------------------------------------------------------


def _child(mode: str, p: int, events: list[int], args: argparse.Namespace) -> None:
    k = _hidden(p)
    if mode == "jax":
        rows = _jax(k, events, args.jax_max_gb)
    elif mode == "rdf":
        rows = _plain(k, events)
    else:
        if args.threads > 1:
            from diffana import rdf

            rdf._import_root().EnableImplicitMT(args.threads)
        rows = _diffana(mode, k, events, args.budget)
    print("RESULT " + json.dumps(rows))


def _run(mode: str, p: int, events: list[int], args: argparse.Namespace) -> list[Any]:
    env = dict(os.environ)
    if args.threads == 1:
        env["XLA_FLAGS"] = (
            env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
            "intra_op_parallelism_threads=1"
        ).strip()
    cmd = [sys.executable, __file__, "--child", mode, str(p),
           ",".join(map(str, events)), "--threads", str(args.threads),
           "--budget", str(args.budget),
           "--jax-max-gb", str(args.jax_max_gb)]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return list(json.loads(line[7:]))
    text = done.stderr or done.stdout
    if "DIFFANA_MAX_FORWARD_PARAMS" in text:  # DiffFrame refuses so many Duals
        return [{"events": n, "skipped": "over forward mode's limit"} for n in events]
    tail = text[-300:].replace("\n", " ").strip()
    why = f"crashed (signal {-done.returncode})" if done.returncode < 0 else "failed"
    return [{"events": n, "skipped": f"{why} {tail}".strip()} for n in events]


def _cell(row: dict[str, Any]) -> str:
    if "skipped" in row:
        return row["skipped"]
    mark = "~" if row["run_events"] != row["events"] else ""
    return f"{mark}{row['seconds']:.3g} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="10,100,1000,10000")
    ap.add_argument("--events", default="100000,1000000")
    ap.add_argument("--modes", default="adjoint,forward,jax")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--budget", type=float, default=120.0)
    ap.add_argument("--jax-max-gb", type=float, default=8.0)
    ap.add_argument("--json", default=None, help="also write the rows here")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, p, events = args.child
        _child(mode, int(p), [int(n) for n in events.split(",")], args)
        return
    params = [int(p) for p in args.params.split(",")]
    events = [int(n) for n in args.events.split(",")]
    modes = args.modes.split(",")
    results: dict[tuple[str, int], list[Any]] = {}
    for p in params:
        for mode in modes:
            results[(mode, p)] = _run(mode, p, events, args)
            print(f"# {mode} P={10 * _hidden(p) + 1}: {results[(mode, p)]}",
                  file=sys.stderr, flush=True)  # fmt: skip
    print(f"threads: {args.threads}; time: one value + gradient after a first call; "
          "RSS: the process' peak after that event count; ~: scaled from fewer events\n")  # fmt: skip
    head = ["P", "events"]
    for m in modes:
        head += [f"{m} time", f"{m} first call", f"{m} peak RSS"]
    if "jax" in modes and len(modes) > 1:
        head += [f"JAX / {m}" for m in modes if m != "jax"]
        head += ["L rel. diff (adjoint vs JAX)"] if "adjoint" in modes else []
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for p in params:
        for i, n in enumerate(events):
            rows = {m: results[(m, p)][i] for m in modes}
            cells = [str(10 * _hidden(p) + 1), f"{n:.0e}"]
            for m in modes:
                r = rows[m]
                ok = "skipped" not in r
                cells += [_cell(r), f"{r['first']:.3g} s" if ok else "",
                          f"{r['rss_mb']:.0f} MB" if ok else ""]  # fmt: skip
            if "jax" in modes and len(modes) > 1:
                j = rows["jax"]
                for m in modes:
                    if m == "jax":
                        continue
                    r = rows[m]
                    both = "skipped" not in j and "skipped" not in r
                    cells.append(f"{j['seconds'] / r['seconds']:.2f}" if both else "")
                if "adjoint" in modes:
                    a = rows["adjoint"]
                    both = "skipped" not in j and "skipped" not in a
                    both = both and a["run_events"] == a["events"]
                    diff = None
                    if both:
                        diff = abs(a["value"] - j["value"]) / abs(j["value"])
                    cells.append(f"{diff:.1e}" if diff is not None else "")
            print("| " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{m}/{p}": r for (m, p), r in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
