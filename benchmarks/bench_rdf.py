# SPDX-License-Identifier: BSD-3-Clause
"""DiffFrame vs the same pipeline in plain RDataFrame (target: at most 1.3x its time).

The pipeline is the README's: calibrated jets (``Jet_pt * jes``), a soft jet
selection, HT of the selected jets, a soft event weight on the soft jet count, and a
hard-binned, weighted histogram of HT (18 bins):

    jet_pt_c = Jet_pt * jes
    w_jet    = diffana::soft_cut(jet_pt_c, pt_cut, 0.2)
    ht       = Sum(jet_pt_c * w_jet)
    w_evt    = diffana::soft_cut(Sum(w_jet), n_cut, n_slope)

- plain     RDataFrame Define/Histo1D with the parameters as double literals (the
            same soft_cut functions on doubles: the primal, no gradient)
- P=1,4,8   DiffFrame with P parameters: jes (P=1); jes, pt_cut, n_cut, n_slope
            (P=4); those and four more parameters that the expressions do not use
            (P=8). Columns carry sparse tangents (`diffana.rdf._sparse`): the jets
            only d/djes, the jet weights d/djes and d/dpt_cut, nothing carries the
            four unused parameters.
- P=4,8 dense  the same with DIFFANA_SPARSE_TANGENTS=0: every column a
            Dual<double, P> (the engine before sparse tangents), side by side.

Times are wall clock (best of --repeat) and, as the machine may be shared, the
process's CPU time of the same loops (both reported as ratios to plain).

By default one process (per event count and thread count) builds every method's
graph, runs each once (JIT, file cache), then alternates their loops --repeat
times: the methods share the machine's conditions, which matters on a shared one.
--separate runs each method in a process of its own instead. Nothing is re-jitted
in the timed loops.

Input: a generated NanoAOD-like TTree (nJet ~ Poisson(6), Jet_pt ~ 20 + Exp(40) GeV,
float, ROOT's default compression, clusters of 1e5 events), written once into
--data-dir. DiffFrame loops are re-runs after set_params, plain loops re-book a
typed Histo1D on the same graph.

    python benchmarks/bench_rdf.py                   # 1e6 and 1e7 events, 1 and 2 threads
    python benchmarks/bench_rdf.py --events 100000   # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

METHODS = ["plain", "P=1", "P=4", "P=8", "P=4 dense", "P=8 dense"]
EDGES = [100.0 + 50.0 * i for i in range(19)]
NOMINAL = {"jes": 1.0, "pt_cut": 30.0, "n_cut": 3.5, "n_slope": 4.0}
EXTRA = {"a0": 0.0, "a1": 0.0, "a2": 0.0, "a3": 0.0}


def make_file(path: pathlib.Path, n: int) -> None:
    import ROOT

    ROOT.EnableImplicitMT(2)
    df = (
        ROOT.RDataFrame(n)
        .Define("rng", "TRandom3 r(rdfentry_ + 1); return r;")
        .Define("nJet", "int(const_cast<TRandom3&>(rng).Poisson(6.0))")
        .Define(
            "Jet_pt",
            "auto& r = const_cast<TRandom3&>(rng); ROOT::RVecF v(nJet);"
            "for (auto& x : v) x = 20.0f + float(r.Exp(40.0)); return v;",
        )
    )
    tmp = path.with_suffix(".tmp.root")
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fAutoFlush = 100_000  # clusters of 1e5 events (as NanoAOD): MT has work
    df.Snapshot("Events", str(tmp), ["nJet", "Jet_pt"], opts)
    tmp.rename(path)


def expressions(params: dict[str, float]) -> list[tuple[str, str]]:
    """The pipeline; names in ``params`` stay names (DiffFrame parameters), the
    others become their nominal values as literals."""
    v = {k: (k if k in params else repr(x)) for k, x in NOMINAL.items()}
    return [
        ("jet_pt_c", f"Jet_pt * {v['jes']}"),
        ("w_jet", f"diffana::soft_cut(jet_pt_c, {v['pt_cut']}, 0.2)"),
        ("ht", "ROOT::VecOps::Sum(jet_pt_c * w_jet)"),
        ("n_soft", "ROOT::VecOps::Sum(w_jet)"),
        ("w_evt", f"diffana::soft_cut(n_soft, {v['n_cut']}, {v['n_slope']})"),
    ]


def build(ROOT: Any, path: str, method: str) -> Callable[[int], None]:
    """The graph of one method on the file; returns loop(i), which runs event loop
    i (DiffFrame: after set_params(jes=1 + 1e-3 i); plain: a new typed Histo1D)."""
    from diffana import rdf

    df = ROOT.RDataFrame("Events", path)
    if method == "plain":
        node = ROOT.RDF.AsRNode(df)
        for name, expr in expressions({}):
            node = node.Define(name, expr)
        edges = ROOT.std.vector["double"](EDGES)
        model = ROOT.RDF.TH1DModel("ht", "", len(EDGES) - 1, edges.data())

        def plain(i: int) -> None:
            node.Histo1D["double", "double"](model, "ht", "w_evt").GetValue()

        return plain
    dense = method.endswith(" dense")
    p = int(method.removesuffix(" dense").split("=")[1])
    params = {"jes": 1.0} if p == 1 else dict(NOMINAL)
    if p == 8:
        params.update(EXTRA)
    # The switch is read when the DiffFrame is made.
    saved = os.environ.get("DIFFANA_SPARSE_TANGENTS")
    os.environ["DIFFANA_SPARSE_TANGENTS"] = "0" if dense else "1"
    try:
        ddf = rdf.DiffFrame(df, params)
    finally:
        if saved is None:
            del os.environ["DIFFANA_SPARSE_TANGENTS"]
        else:
            os.environ["DIFFANA_SPARSE_TANGENTS"] = saved
    for name, expr in expressions(params):
        ddf = ddf.define(name, expr)
    h = ddf.histo("ht", EDGES, weight="w_evt")

    def diff(i: int) -> None:
        ddf.set_params(jes=1.0 + 1e-3 * i)
        h.result()
        assert ddf.n_loops == i + 1

    return diff


def measure(
    path: str, methods: list[str], threads: int, repeat: int
) -> dict[str, dict[str, float]]:
    """Best wall and CPU time of each method: every graph is built (and its first
    loop run: JIT, file cache) first, then the methods' loops alternate, so that
    they share the machine's conditions."""
    import ROOT

    if threads > 1:
        ROOT.EnableImplicitMT(threads)
    from diffana import rdf  # registers the headers, cling at -O3

    rdf._import_root()
    loops = {m: build(ROOT, path, m) for m in methods}
    for loop in loops.values():
        loop(0)
    best = {m: {"best_s": math.inf, "cpu_s": math.inf} for m in methods}
    for i in range(1, repeat + 1):
        for m, loop in loops.items():
            t0, c0 = time.perf_counter(), time.process_time()
            loop(i)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            best[m] = {
                "best_s": min(best[m]["best_s"], wall),
                "cpu_s": min(best[m]["cpu_s"], cpu),
            }
    return best


def run_one(
    path: str, methods: list[str], threads: int, repeat: int
) -> dict[str, dict[str, float]]:
    what = ",".join(methods)
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, what, str(threads), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{out.stderr[-3000:]}")
    result: dict[str, dict[str, float]] = json.loads(
        out.stdout.strip().splitlines()[-1]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, nargs="+", default=[1_000_000, 10_000_000]
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--separate",
        action="store_true",
        help="one process per method (default: all methods in one process, their "
        "loops alternating)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every method this many times in turn (best of all rounds)",
    )
    parser.add_argument(
        "--methods", nargs="+", default=METHODS, help="a subset of " + str(METHODS)
    )
    parser.add_argument("--data-dir", default=os.environ.get("TMPDIR", "/tmp"))
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, what, threads, repeat = args.child
        print(json.dumps(measure(path, what.split(","), int(threads), int(repeat))))
        return

    methods = args.methods
    rows = []
    print(
        "| events | threads | plain (s) | "
        + " | ".join(f"{m} / plain" for m in methods[1:])
        + " |  (wall; CPU in parentheses)",
        flush=True,
    )
    print("|---" * (len(methods) + 2) + "|", flush=True)
    for n in args.events:
        path = pathlib.Path(args.data_dir) / f"diffana_bench_rdf_v2_{n}.root"
        if not path.exists():
            print(f"writing {path} ...", file=sys.stderr)
            make_file(path, n)
        for threads in args.threads:
            res: dict[str, dict[str, float]] = {}
            for _ in range(args.rounds):
                if args.separate:
                    got = {}
                    for m in methods:
                        got.update(run_one(str(path), [m], threads, args.repeat))
                else:
                    got = run_one(str(path), methods, threads, args.repeat)
                for m, r in got.items():
                    old = res.get(m, r)
                    res[m] = {k: min(r[k], old[k]) for k in r}
            base, base_cpu = res["plain"]["best_s"], res["plain"]["cpu_s"]
            row: dict[str, float] = {"events": n, "threads": threads}
            for m in methods:
                row[m] = res[m]["best_s"]
                row[f"{m} cpu"] = res[m]["cpu_s"]
            for m in methods[1:]:
                row[f"{m} / plain"] = res[m]["best_s"] / base
                row[f"{m} / plain cpu"] = res[m]["cpu_s"] / base_cpu
            rows.append(row)
            ratios = " | ".join(
                f"{row[f'{m} / plain']:.2f}x ({row[f'{m} / plain cpu']:.2f}x)"
                for m in methods[1:]
            )
            print(
                f"| {n:,d} | {threads} | {base:.3f} ({base_cpu:.3f}) | {ratios} |",
                flush=True,
            )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
