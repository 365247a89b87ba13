# SPDX-License-Identifier: BSD-3-Clause
"""The adjoint event loop against forward mode, for P = 10, 100, 1000 parameters.

Command::

    PYTHONPATH=python .venv/bin/python benchmarks/bench_adjoint.py --events 100000

Each event has a Chebyshev polynomial of P coefficients z = sum_k theta_k T_k(x) / 20
(the P parameters), its position ``x + 0.2 tanh(z) + 0.1 y`` and weight
``exp(0.3 z)`` go into a soft histogram (20 bins, bandwidth 0.05). Three modes, each
in its own subprocess (so that its peak RSS is its own), on an in-memory RDataFrame
of ``--events`` entries:

- ``value``: pass 1 with theta as reverse-mode parameters (plain doubles: the value
  of every bin, no derivative);
- ``forward``: theta as P forward parameters (``Dual<double, P>`` columns: the
  Jacobian of every bin, O(P) per operation);
- ``adjoint``: pass 2 (`diffana.rdf.adjoint_pass`) for given bin cotangents: dL/dtheta
  for all P (one taped evaluation and one sweep per event).

Reported: the event loop's process CPU time (median of ``--repeat`` loops after a
first one that compiles; parameters change between loops; CPU time, so that the
ratios hold on a loaded machine, with the wall-clock ratio beside it), the ratio to
the value-only loop, and the process' peak RSS. Forward mode above ``--forward-max-events`` runs on that
many events and its time is scaled linearly (marked ``*``); its per-event cost is
O(P^2) here. ``--modes value adjoint`` leaves forward mode out (a minute at P = 1000),
e.g. to compare two versions of the headers back to back (``PYTHONPATH`` pointing at
another checkout's python/ takes that checkout's include/). Never a timed assertion:
the table is for reading.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

CHEB = """
// z = sum_k th[k] T_k(x) / 20 for any indexable th (doubles, Duals or Revs).
template <class S> auto bench_adj_cheb(const S& th, std::size_t n, double x) {
  decltype(th[0] * 1.0) s = 0.0;
  double t0 = 1.0, t1 = x;
  for (std::size_t k = 0; k < n; ++k) {
    s += th[k] * t0;
    const double t2 = 2.0 * x * t1 - t0;
    t0 = t1;
    t1 = t2;
  }
  return s / 20.0;
}
"""
EDGES = np.linspace(-1.4, 1.6, 21)


def _data(ROOT: Any, n: int) -> Any:
    u = "double(((rdfentry_ + 1) * {m}ULL) % 1000003ULL) / 1000003.0"
    df = ROOT.RDataFrame(n).Define("x", f"2.0 * {u.format(m=2654435761)} - 1.0")
    df = df.Define("y", u.format(m=40503))
    # In memory, so that every mode streams the same events at the same cost.
    return df.Cache(ROOT.std.vector["std::string"](["x", "y"]))


def _frame(ROOT: Any, mode: str, p: int, n: int, theta: np.ndarray) -> tuple[Any, Any]:
    from diffana.rdf import DiffFrame

    df = _data(ROOT, n)
    if mode == "forward":
        names = {f"t{k}": float(v) for k, v in enumerate(theta)}
        ddf = DiffFrame(df, names)
        # The parameters' Duals by index (DiffFrame inlines them by name; a lambda
        # cannot stand in an RDataFrame expression, whose type is taken by decltype).
        span = f"bench_adj_duals_{ddf._core.id}"
        code = (
            f"struct {span} {{ auto operator[](std::size_t k) const "
            f"{{ return {ddf._core.dual_fn}(int(k)); }} }};"
        )
        if not hasattr(ROOT, span):
            ROOT.gInterpreter.Declare(code)
        th = f"{span}{{}}"
    else:
        ddf = DiffFrame(df, {"unused": 0.0}, reverse={"theta": theta})
        th = "theta"
    ddf = (
        ddf.define("z", f"bench_adj_cheb({th}, {p}, x)")
        .define("pos", "x + 0.2 * tanh(z) + 0.1 * y")
        .define("w", "exp(0.3 * z)")
    )
    return ddf, ddf.histo("pos", EDGES, weight="w", bandwidth=0.05)


def run_mode(mode: str, p: int, n: int, repeat: int) -> dict[str, Any]:
    """One mode in this process: build, a first loop (compiles), then timed loops."""
    from diffana.rdf import _import_root, adjoint_pass

    ROOT = _import_root()
    ROOT.gInterpreter.Declare(CHEB)
    rng = np.random.default_rng(1)
    theta = rng.normal(scale=0.5, size=p)
    ddf, h = _frame(ROOT, mode, p, n, theta)
    g = rng.normal(size=EDGES.size - 1)
    cot = {h: (g, 0.1 * g)}
    times = []
    walls = []
    out: dict[str, Any] = {}
    for i in range(repeat + 1):
        step = theta * (1.0 + 1e-3 * i)
        if mode == "forward":
            ddf.set_params({f"t{k}": float(v) for k, v in enumerate(step)})
        else:
            ddf.set_params(theta=step)
        t = time.process_time()
        w = time.perf_counter()
        if mode == "adjoint":
            r = adjoint_pass(cot)
            out["max_tape_nodes"] = r.max_tape_nodes
        else:
            h.result()
        if i > 0:
            times.append(time.process_time() - t)
            walls.append(time.perf_counter() - w)
    out["time"] = statistics.median(times)
    out["wall"] = statistics.median(walls)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--params", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--forward-max-events", type=int, default=20_000)
    ap.add_argument(
        "--modes",
        nargs="+",
        choices=("value", "forward", "adjoint"),
        default=["value", "forward", "adjoint"],
    )
    ap.add_argument(
        "--child", nargs=3, metavar=("MODE", "P", "N"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        mode, p, n = args.child[0], int(args.child[1]), int(args.child[2])
        print(json.dumps(run_mode(mode, p, n, args.repeat)))
        return
    env = dict(os.environ, DIFFANA_CLING_OPT=os.environ.get("DIFFANA_CLING_OPT", "3"))
    # Forward mode at P = 1000 is what the adjoint is compared with: above DiffFrame's
    # default limit of 512 forward parameters, and within this one-define graph's stack.
    env.setdefault("DIFFANA_MAX_FORWARD_PARAMS", "1024")
    rows = []
    for p in args.params:
        res: dict[str, dict[str, Any]] = {}
        for mode in ("value", "forward", "adjoint"):
            if mode != "value" and mode not in args.modes:
                continue
            n = args.events
            if mode == "forward":
                n = min(n, args.forward_max_events)
            cmd = [sys.executable, __file__, "--child", mode, str(p), str(n)]
            cmd += ["--repeat", str(args.repeat)]
            done = subprocess.run(
                cmd, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                sys.stderr.write(done.stderr[-3000:])
                raise SystemExit(f"{mode} P={p} failed")
            r = json.loads(done.stdout.strip().splitlines()[-1])
            r["scaled"] = n != args.events
            r["time"] *= args.events / n
            r["wall"] *= args.events / n
            res[mode] = r
        rows.append((p, res))
        print(
            f"P={p}: " + ", ".join(f"{m} {r['time']:.3f}s" for m, r in res.items()),
            file=sys.stderr,
        )
    print(
        f"\n{args.events} events, soft histogram of 20 bins; process CPU time, median "
        f"of {args.repeat} loops after the compiling one; peak RSS of each mode's "
        "process.\n"
    )
    print(
        "| P | value-only (s) | forward (s) | adjoint pass 2 (s) | forward / value "
        "| adjoint / value | adjoint / value (wall) | peak RSS value / forward / "
        "adjoint (MB) | tape nodes per event |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    gone = {"time": float("nan"), "wall": float("nan"), "peak_rss_mb": float("nan")}

    def num(x: float, spec: str) -> str:
        return "-" if math.isnan(x) else format(x, spec)  # a mode left out

    for p, res in rows:
        v = res["value"]
        f = res.get("forward", dict(gone, scaled=False))
        a = res.get("adjoint", dict(gone, max_tape_nodes="-"))
        star = "*" if f["scaled"] else ""
        print(
            f"| {p} | {v['time']:.3f} | {num(f['time'], '.3f')}{star} | "
            f"{num(a['time'], '.3f')} | {num(f['time'] / v['time'], '.1f')} | "
            f"{num(a['time'] / v['time'], '.1f')} | "
            f"{num(a['wall'] / v['wall'], '.1f')} | "
            f"{v['peak_rss_mb']:.0f} / {num(f['peak_rss_mb'], '.0f')} / "
            f"{num(a['peak_rss_mb'], '.0f')} | {a['max_tape_nodes']} |"
        )
    if any(res.get("forward", {}).get("scaled") for _, res in rows):
        print(
            f"\n\\* forward mode on {args.forward_max_events} events, time scaled "
            "linearly to the full count."
        )


if __name__ == "__main__":
    main()
