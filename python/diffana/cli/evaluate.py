# SPDX-License-Identifier: BSD-3-Clause
"""``diffana evaluate CONFIG.yaml``: evaluate the analysis a YAML file describes once
(`diffana.analysis.run_evaluate`): histograms with their Jacobians and the
objective with its gradient, as JSON; with ``--out`` and ``--outgrad``, the yields
file and its gradient file that ``diffana infer`` reads (`diffana.chain`).

Exit status 0 on success, 2 for a bad configuration or bad ``--files``, 1 when the
objective cannot be evaluated (the histograms are still written) or a dependency is
missing (the message on stderr).

Imports `diffana.analysis` (through `diffana.cli._analysis`) and
`diffana.chain.record` (its error).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from ..analysis import run_evaluate
from ..chain.record import ChainError
from ._analysis import add_set_and_threads, report_or_status

__all__ = ["run", "setup"]


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana evaluate``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana evaluate")
    >>> setup(parser)
    >>> args = parser.parse_args(["a.yaml", "--files", "signal=s.root", "b.root"])
    >>> args.files, args.hard
    (['signal=s.root', 'b.root'], False)
    """
    parser.description = (
        "Evaluate an analysis once (one event loop per sample, no optimization): "
        "histograms with their Jacobians w.r.t. the parameters and the objective "
        "with its gradient."
    )
    parser.epilog = (
        "Every key of the configuration: docs/config.md, or `diffana config "
        "--reference`; a cabinetry configuration converts with `diffana config "
        "--from-cabinetry FILE --out OUT.yaml`."
    )
    parser.add_argument("config", type=pathlib.Path, help="the analysis YAML file")
    parser.add_argument(
        "--files",
        nargs="+",
        default=[],
        metavar="F",
        help="input files instead of the configuration's: SAMPLE=F gives one "
        "sample's files, a plain F is read by every other sample (paths relative "
        "to the current folder)",
    )
    parser.add_argument(
        "--hard",
        action="store_true",
        help="the hard analysis: hard bins (every bandwidth None) and every "
        "parameter marked relaxation: true set to 0",
    )
    parser.add_argument(
        "--json",
        type=pathlib.Path,
        default=None,
        metavar="OUT",
        help="write the histograms (edges, values, variances, jacobian per region, "
        "sample and variation) and the objective to OUT",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=None,
        metavar="YIELDS",
        help="write the histograms (edges, values, variances per region, sample and "
        "variation) to the yields file YIELDS, input of `diffana infer`",
    )
    parser.add_argument(
        "--outgrad",
        type=pathlib.Path,
        default=None,
        metavar="GRAD",
        help="with --out: write the histograms' Jacobians w.r.t. the parameters to "
        "GRAD, the yields file's forward gradient (its record holds the sha256 of "
        "YIELDS, the parameters and the configuration)",
    )
    parser.add_argument(
        "--ingrad",
        nargs="+",
        default=[],
        type=pathlib.Path,
        metavar="GRAD",
        help="gradient files of input event files (diffana select --outgrad), each "
        "paired with its values file by sha256: the Jacobians are then derivatives "
        "through the stages that wrote them",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    add_set_and_threads(parser)


def run(args: argparse.Namespace) -> int:
    """Evaluate: 0 on success, 1 when the objective cannot be evaluated, 2 for a bad
    configuration."""
    try:
        rep = report_or_status(
            "diffana evaluate",
            lambda: run_evaluate(
                args.config,
                files=args.files,
                overrides=args.overrides,
                hard=args.hard,
                json_file=args.json,
                quiet=args.quiet,
                threads=args.threads,
                out=args.out,
                outgrad=args.outgrad,
                ingrad=args.ingrad,
                scheduler=args.scheduler,
                workers=args.workers,
            ),
        )
    except ChainError as e:  # a yields file that JSON cannot hold (not finite)
        print(f"diffana evaluate: error: {e}", file=sys.stderr)
        return 1
    if isinstance(rep, int):
        return rep
    if "error" in rep:
        print(f"diffana evaluate: error: {rep['error']}", file=sys.stderr)
        return 1
    return 0
