# SPDX-License-Identifier: BSD-3-Clause
"""``diffana select CONFIG.yaml --in EVENTS [--ingrad GRAD] --columns C ... --out
OUT --outgrad OUT_GRAD``: the selection stage of a chain (`diffana.chain.select`):
the configuration's defines and selections over event files, the chosen columns of
the events that pass written with their tangents (ROOT or Parquet, by suffix).

Exit status 0 on success, 2 for a bad configuration, bad arguments or input files
that do not fit (a gradient of other values, other parameters: the message says
which), 1 when the event loop fails.

Imports `diffana.analysis` (``config``, through `diffana.cli._analysis` its
errors) and `diffana.chain`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from ..analysis.config import load
from ..analysis.outputs import check_file_target
from ..chain.record import ChainError
from ..chain.select import SELECT_WEIGHT, select
from ._analysis import report_or_status
from .infer import add_set

__all__ = ["run", "setup"]


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana select``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana select")
    >>> setup(parser)
    >>> args = parser.parse_args(["a.yaml", "--in", "e.root", "--columns", "x", "y",
    ...                           "--out", "s.parquet"])
    >>> [p.name for p in args.inputs], args.columns, args.out.name, args.tree
    (['e.root'], ['x', 'y'], 's.parquet', 'Events')
    """
    parser.description = (
        "Run a configuration's defines and selections over event files and write "
        "the chosen columns of the events that pass (values to --out, tangents "
        "w.r.t. the parameters to --outgrad; .root or .parquet). Inputs written by "
        "an earlier stage carry their tangents with --ingrad, so the tangents "
        "written are derivatives through every stage."
    )
    parser.add_argument("config", type=pathlib.Path, help="the analysis YAML file")
    parser.add_argument(
        "--in", dest="inputs", nargs="+", required=True, type=pathlib.Path,
        metavar="EVENTS", help="event files (ROOT or Parquet), read in this order",
    )  # fmt: skip
    parser.add_argument(
        "--ingrad", nargs="+", default=[], type=pathlib.Path, metavar="GRAD",
        help="the inputs' gradient files (diffana select --outgrad), each paired "
        "with its values file by sha256",
    )  # fmt: skip
    parser.add_argument(
        "--columns", nargs="+", required=True, metavar="C",
        help="the columns to write (inputs' or defines')",
    )  # fmt: skip
    parser.add_argument(
        "--out", required=True, type=pathlib.Path, metavar="OUT",
        help="the values file to write (.root or .parquet)",
    )  # fmt: skip
    parser.add_argument(
        "--outgrad", type=pathlib.Path, default=None, metavar="OUT_GRAD",
        help="the gradient file to write (same format as --out): d column / d "
        "parameter for every dual column, with the record of OUT",
    )  # fmt: skip
    parser.add_argument(
        "--tree", default="Events", help="the input tree (ROOT inputs; default Events)"
    )
    parser.add_argument(
        "--weight-column", default=SELECT_WEIGHT, metavar="NAME",
        help="where the soft filters' weight goes, if there are soft filters "
        f"(default {SELECT_WEIGHT})",
    )  # fmt: skip
    parser.add_argument(
        "--sumw", nargs="+", default=[], metavar="EXPR",
        help="record the sum of these weight expressions (e.g. genWeight) over "
        "every input event, before the selections: a later stage's xsec "
        "normalises to it, as to the original files",
    )  # fmt: skip
    add_set(parser)


def run(args: argparse.Namespace) -> int:
    """Select: 0 on success, 1 when the event loop fails, 2 for a bad configuration
    or input files that do not fit."""

    def call() -> dict[str, object]:
        check_file_target(args.out, "--out")
        if args.outgrad is not None:
            check_file_target(args.outgrad, "--outgrad")
        config = load(args.config, args.overrides, check_files=False)
        desc = select(
            config,
            args.inputs,
            args.out,
            args.columns,
            ingrad=args.ingrad,
            outgrad=args.outgrad,
            tree=args.tree,
            weight_column=args.weight_column,
            sumw=args.sumw,
            source=str(args.config),
        )
        if desc is not None:
            print(
                f"diffana select: {desc.entries} events -> {args.out}, tangents of "
                f"{len(desc.dual)} columns w.r.t. {len(desc.record.names)} "
                f"parameters -> {args.outgrad}"
            )
        return {}

    try:
        rep = report_or_status("diffana select", call)
    except ChainError as e:
        print(f"diffana select: error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # diffana.rdf.EventLoopError: ROOT failed in the loop
        print(f"diffana select: error: {e}", file=sys.stderr)
        return 1
    return rep if isinstance(rep, int) else 0
