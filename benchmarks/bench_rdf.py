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
            (P=8: every Dual carries 8 tangents all the same, which is the cost).

Input: a generated NanoAOD-like TTree (nJet ~ Poisson(6), Jet_pt ~ 20 + Exp(40) GeV,
float, ROOT's default compression, clusters of 1e5 events), written once into
--data-dir. Each measurement
runs in its own process (1 or 2 implicit-MT threads): one warm-up loop (JIT, file
cache), then the best of --repeat loops; DiffFrame loops are re-runs after
set_params, plain loops re-book a typed Histo1D on the same graph. Nothing is
re-jitted in the timed loops.

    python benchmarks/bench_rdf.py                   # 1e6 and 1e7 events, 1 and 2 threads
    python benchmarks/bench_rdf.py --events 100000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

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


def measure(path: str, method: str, threads: int, repeat: int) -> dict[str, float]:
    import ROOT

    if threads > 1:
        ROOT.EnableImplicitMT(threads)
    from diffana import rdf  # registers the headers, cling at -O2

    rdf._import_root()
    df = ROOT.RDataFrame("Events", path)
    times = []
    if method == "plain":
        node = ROOT.RDF.AsRNode(df)
        for name, expr in expressions({}):
            node = node.Define(name, expr)
        edges = ROOT.std.vector["double"](EDGES)
        model = ROOT.RDF.TH1DModel("ht", "", len(EDGES) - 1, edges.data())
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            node.Histo1D["double", "double"](model, "ht", "w_evt").GetValue()
            if i:
                times.append(time.perf_counter() - t0)
    else:
        p = int(method.split("=")[1])
        params = {"jes": 1.0} if p == 1 else dict(NOMINAL)
        if p == 8:
            params.update(EXTRA)
        ddf = rdf.DiffFrame(df, params)
        for name, expr in expressions(params):
            ddf = ddf.define(name, expr)
        h = ddf.histo("ht", EDGES, weight="w_evt")
        for i in range(repeat + 1):
            ddf.set_params(jes=1.0 + 1e-3 * i)
            t0 = time.perf_counter()
            h.result()
            if i:
                times.append(time.perf_counter() - t0)
        assert ddf.n_loops == repeat + 1
    return {"best_s": min(times)}


def run_one(path: str, method: str, threads: int, repeat: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, method, str(threads), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, nargs="+", default=[1_000_000, 10_000_000]
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", default=os.environ.get("TMPDIR", "/tmp"))
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, method, threads, repeat = args.child
        print(json.dumps(measure(path, method, int(threads), int(repeat))))
        return

    methods = ["plain", "P=1", "P=4", "P=8"]
    rows = []
    for n in args.events:
        path = pathlib.Path(args.data_dir) / f"diffana_bench_rdf_v2_{n}.root"
        if not path.exists():
            print(f"writing {path} ...", file=sys.stderr)
            make_file(path, n)
        for threads in args.threads:
            res = {m: run_one(str(path), m, threads, args.repeat) for m in methods}
            base = res["plain"]["best_s"]
            row = {"events": n, "threads": threads}
            row.update({m: res[m]["best_s"] for m in methods})
            row.update({f"{m} / plain": res[m]["best_s"] / base for m in methods[1:]})
            rows.append(row)
            ratios = "  ".join(f"{m}: {row[f'{m} / plain']:.2f}x" for m in methods[1:])
            print(
                f"{n:>10,d} events  {threads} thread(s)  plain {base:7.3f} s  {ratios}",
                flush=True,
            )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
