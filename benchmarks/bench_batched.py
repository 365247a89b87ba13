# SPDX-License-Identifier: BSD-3-Clause
"""Batched against full-batch optimisation of the AGC configuration
(examples/agc/agc.yaml) on a Dask ``LocalCluster``: steps, wall time, event loops,
and where each run ends (the soft objective, evaluated on every partition, and the
hard analysis: relaxation scales 0, hard bins).

Full-batch steps run every partition's event loop; batched steps
(``diffana optimize --batch K --partition-entries M``) run only the next K of
them, and the statistical model sees the latest result of every partition. Each
run is one ``diffana optimize`` process with ``--workers``, one after the other.

Usage::

    python benchmarks/bench_batched.py --events 100000 --workers 2 \\
        --partition-entries 25000 --batch 3 --steps 25 100

Samples are generated once into ``--data-dir`` (as in bench_dask.py). Benchmarks
are never timed assertions: the table is for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import bench_dask

REPO = pathlib.Path(__file__).resolve().parents[1]


def _run(config: pathlib.Path, args: list[str]) -> dict[str, object]:
    """One ``diffana optimize`` with ``args``: its report and wall time."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "diffana", "optimize", str(config), "--quiet",
               "--json", str(out), *args]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - t0
        if not out.is_file():
            return {"error": proc.stderr.strip().splitlines()[-1:]}
        rep: dict[str, object] = json.loads(out.read_text())
    rep["wall_s"] = wall
    return rep


def _row(label: str, steps: int, rep: dict[str, object]) -> str:
    if "error" in rep:
        return f"| {label} | {steps} | error: {rep['error']} | | | | |\n"
    hard = rep.get("hard") or {}
    final, hard_final = rep["final"], hard.get("final", {})  # type: ignore[union-attr]
    soft = final["objective"]  # type: ignore[index]
    h = hard_final.get("objective")
    params = ", ".join(f"{k} = {v:.4g}" for k, v in final["params"].items())  # type: ignore[index]
    return (
        f"| {label} | {len(rep['history']) - 1} / {steps} | {rep['wall_s']:.0f} | "  # type: ignore[arg-type, operator]
        f"{rep['event_loops']} | {soft:.5g} | {'-' if h is None else f'{h:.5g}'} | "
        f"{params} |\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partition-entries", type=int, default=25_000)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 100])
    parser.add_argument(
        "--data-dir", type=pathlib.Path, default=pathlib.Path("/tmp/agc_dask")
    )
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    config = bench_dask._samples(args.data_dir, args.events)
    cluster = ["--workers", str(args.workers),
               "--partition-entries", str(args.partition_entries)]  # fmt: skip
    runs = [("full batch", args.steps[0], [])]
    runs += [
        (f"batch {args.batch}", n, ["--batch", str(args.batch)]) for n in args.steps
    ]
    rows, start = [], ""
    for label, steps, extra in runs:
        rep = _run(config, [*cluster, *extra, "--set", f"optimizer.steps={steps}"])
        rows.append(_row(label, steps, rep))
        print(rows[-1], end="", flush=True)
        if not start and "error" not in rep:
            hard = (rep.get("hard") or {}).get("initial", {})  # type: ignore[attr-defined]
            start = (
                f"Start: soft objective {rep['initial']['objective']:.5g}, "  # type: ignore[index]
                f"hard objective {hard.get('objective')}.\n\n"
            )
    text = start + (
        "| mode | steps run / asked | wall [s] | event loops (partitions) | "
        "soft objective at the end | hard objective at the end | end point |\n"
        "|---|---|---|---|---|---|---|\n" + "".join(rows)
    )
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
