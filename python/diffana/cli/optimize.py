# SPDX-License-Identifier: BSD-3-Clause
"""``diffana optimize CONFIG.yaml``: evaluate and optimize the analysis a YAML file
describes (`diffana.analysis.run`).

Exit status 0 on success, 2 for a bad configuration or output folder, 1 when the
objective cannot be evaluated, the optimization failed (the report is still
written) or a dependency is missing (the message on stderr), 130/143 when SIGINT
or SIGTERM interrupted it (``--resume`` continues).

Imports `diffana.analysis` (through `diffana.cli._analysis`).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from ..analysis import run as run_analysis
from ._analysis import add_set_and_threads, positive, report_or_status

__all__ = ["run", "setup"]


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana optimize``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana optimize")
    >>> setup(parser)
    >>> args = parser.parse_args(["a.yaml", "--set", "disc_cut=0.4", "--quiet"])
    >>> args.config.name, args.overrides, args.quiet, args.out
    ('a.yaml', ['disc_cut=0.4'], True, None)
    """
    parser.description = (
        "Evaluate and optimize the analysis a YAML file describes, end to end: the "
        "event loops, the statistical model, the objective and its gradient, the "
        "optimizer; report.json, the workspaces and the plots in --out."
    )
    parser.epilog = (
        "Every key of the configuration: docs/config.md, or `diffana config "
        "--reference`; a cabinetry configuration converts with `diffana config "
        "--from-cabinetry FILE --out OUT.yaml`. "
        "The configuration's expressions are C++ run by ROOT's cling with your "
        "rights, like a ROOT macro: run only configurations you trust."
    )
    parser.add_argument("config", type=pathlib.Path, help="the analysis YAML file")
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=None,
        help="folder for report.json, the workspaces and the plots",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.add_argument(
        "--json",
        type=pathlib.Path,
        default=None,
        metavar="FILE",
        help="also write the JSON report to FILE",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="move a previous run's outputs in --out into --out/previous/ "
        "(without it they are refused)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --out from its checkpoint (written "
        "after every step), to the same result as an uninterrupted run",
    )
    add_set_and_threads(parser)
    parser.add_argument(
        "--batch",
        type=positive("partitions per step"),
        default=None,
        metavar="N",
        help="with --scheduler/--workers: after a first step over every partition, "
        "each step runs the event loops of only the next N partitions; the model "
        "always sees full statistics, made of the latest result of every partition "
        "(the end point is evaluated on all of them)",
    )
    parser.add_argument(
        "--partition-entries",
        type=positive("entries"),
        default=None,
        metavar="N",
        help="with --scheduler/--workers: at most N entries per partition (one "
        "task); default: one partition per worker thread and file",
    )
    parser.add_argument(
        "--check-gradient",
        action="store_true",
        help="print the starting gradient next to central finite differences",
    )


def run(args: argparse.Namespace) -> int:
    """Run the optimization: 0 on success, 1 when it failed or the objective cannot
    be evaluated, 2 for a bad configuration."""
    batching = args.batch is not None or args.partition_entries is not None
    if batching and args.scheduler is None and args.workers is None:
        print(
            "diffana optimize: error: --batch and --partition-entries need a Dask "
            "cluster (--scheduler or --workers)",
            file=sys.stderr,
        )
        return 2
    rep = report_or_status(
        "diffana optimize",
        lambda: run_analysis(
            args.config,
            out=args.out,
            quiet=args.quiet,
            json_file=args.json,
            overrides=args.overrides,
            check_gradient=args.check_gradient,
            threads=args.threads,
            scheduler=args.scheduler,
            workers=args.workers,
            batch=args.batch,
            max_entries=args.partition_entries,
            force=args.force,
            resume=args.resume,
        ),
    )
    if isinstance(rep, int):
        return rep
    return 0 if rep["status"] in ("converged", "max_steps") else 1
