# SPDX-License-Identifier: BSD-3-Clause
"""The AGC configuration (examples/agc/agc.yaml) on generated samples: wall time per
optimisation step with local event loops (1 and 2 ROOT threads) against a Dask
``LocalCluster`` of 1 and 2 worker processes, the cluster's per-step overhead
(scheduling, transfers, merge) and each worker's peak memory.

Every mode runs in its own subprocess: it builds the analysis, runs a first step
(the graph is compiled there: locally in the process, on a cluster by every worker)
and then ``--steps`` more at moving parameters (nothing compiled again). Reported:
the first step, the median later step, and for Dask the median of
`diffana.distributed.StepTiming`: the longest task and the overhead (wall minus the
longest task), the peak RSS of the process (local) or of the largest worker.

Usage::

    python benchmarks/bench_dask.py --events 100000 1000000 --out benchmarks/results_dask.md

Samples are generated once into ``--data-dir`` (``diffana generate --kind agc``).
Benchmarks are never timed assertions: the table is for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
AGC = REPO / "examples" / "agc" / "agc.yaml"
MODES = ("local_1thread", "local_2threads", "dask_1worker", "dask_2workers")


def _samples(data_dir: pathlib.Path, events: int) -> pathlib.Path:
    folder = data_dir / f"agc_{events}"
    if not (folder / "samples" / "wjets.root").is_file():
        from diffana.generators import agc

        agc.generate(folder / "samples", seed=7, events=events)
    (folder / "agc.yaml").write_text(AGC.read_text())
    return folder / "agc.yaml"


def _points(steps: int) -> list[dict[str, float]]:
    """Parameters of the later steps: moving, as an optimiser's would."""
    return [
        {"pt_cut": 30.0 + 0.5 * k, "btag_cut": 0.5 - 0.01 * k}
        for k in range(1, steps + 1)
    ]


def child(mode: str, config_file: str, steps: int) -> dict[str, object]:
    """One mode in this process: timings and memory as a dict."""
    from diffana.analysis import Analysis, load

    config = load(config_file)
    out: dict[str, object] = {"mode": mode}
    if mode.startswith("local"):
        threads = 2 if "2" in mode else 0
        if threads:
            from diffana import rdf

            rdf._import_root().EnableImplicitMT(threads)
        t0 = time.perf_counter()
        analysis = Analysis(config, source=config_file)
        analysis.histograms(config.param_values)
        out["first_s"] = time.perf_counter() - t0
        walls = []
        for p in _points(steps):
            t = time.perf_counter()
            analysis.histograms({**config.param_values, **p})
            walls.append(time.perf_counter() - t)
        out["step_s"] = statistics.median(walls)
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return out
    from diffana.distributed import DaskGraph, cluster

    workers = 2 if "2" in mode else 1
    with cluster(workers=workers) as client:
        t0 = time.perf_counter()
        per_file = int(os.environ.get("BENCH_DASK_PER_FILE", "0")) or None
        graph = DaskGraph(config, client, source=config_file, per_file=per_file)
        analysis = Analysis(config, graph=graph)
        analysis.histograms(config.param_values)
        out["first_s"] = time.perf_counter() - t0
        for p in _points(steps):
            analysis.histograms({**config.param_values, **p})
        later = graph.timings[1:]
        out["step_s"] = statistics.median(t.wall for t in later)
        out["loops_s"] = statistics.median(t.loops for t in later)
        out["rebuild_s"] = statistics.median(t.build for t in later)
        out["longest_task_s"] = statistics.median(t.longest_task for t in later)
        out["overhead_s"] = statistics.median(t.overhead for t in later)
        out["merge_s"] = statistics.median(t.merge for t in later)
        out["partitions"] = len(graph.partitions)
        rss = client.run(
            lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        out["rss_mb"] = max(rss.values())
    return out


def _run_child(mode: str, config: pathlib.Path, steps: int) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(config), str(steps)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"mode": mode, "error": proc.stderr.strip().splitlines()[-1:]}
    result: dict[str, object] = json.loads(lines[-1])
    return result


def _table(rows: list[dict[str, object]]) -> str:
    head = (
        "| events/sample | mode | partitions | first step [s] | later step [s] | "
        "loops, summed [s] | rebuilds [s] | longest task [s] | overhead [s] | "
        "merge [s] | peak RSS [MB] |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )

    def f(x: object) -> str:
        return f"{x:.3g}" if isinstance(x, float) else ("-" if x is None else str(x))

    body = "".join(
        f"| {r['events']} | {r['mode']} | {f(r.get('partitions'))} | "
        f"{f(r.get('first_s'))} | {f(r.get('step_s'))} | {f(r.get('loops_s'))} | "
        f"{f(r.get('rebuild_s'))} | "
        f"{f(r.get('longest_task_s'))} | "
        f"{f(r.get('overhead_s'))} | {f(r.get('merge_s'))} | {f(r.get('rss_mb'))} |\n"
        for r in rows
    )
    return head + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--data-dir", type=pathlib.Path, default=pathlib.Path("/tmp/agc_dask")
    )
    parser.add_argument(
        "--per-file",
        type=int,
        default=0,
        help="Dask partitions per file (default: one per worker thread per file)",
    )
    parser.add_argument("--out", type=pathlib.Path, default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, config, steps = args.child
        print(json.dumps(child(mode, config, int(steps))), flush=True)
        return 0
    if args.per_file:  # read by the children
        os.environ["BENCH_DASK_PER_FILE"] = str(args.per_file)
    rows = []
    for n in args.events:
        config = _samples(args.data_dir, n)
        for mode in args.modes:
            row = {"events": n, **_run_child(mode, config, args.steps)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    text = (
        "# Dask scale-out: AGC configuration, generated samples (3 samples)\n\n"
        f"Machine: {os.cpu_count()} cores; cling -O{os.environ.get('DIFFANA_CLING_OPT', '3')}; "
        f"{args.steps} later steps (median); Dask partitions per file: "
        f"{args.per_file or 'one per worker thread'}.\n\n" + _table(rows)
    )
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
