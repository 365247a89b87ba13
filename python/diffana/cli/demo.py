# SPDX-License-Identifier: BSD-3-Clause
"""``diffana demo``: the README's demonstration (`diffana.analysis.demo.run`): the toy
dijet samples are generated, then the shipped demo configuration is optimized.

Exit status 0 on success, 1 for an error in the configuration or the objective, or
a failed optimization (the message on stderr).

Imports `diffana.analysis` and `diffana.generators.toy` (for the default size).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from ..analysis import ConfigError, ObjectiveError
from ..analysis.demo import run as run_demo
from ..generators.toy import DEFAULT_EVENTS

__all__ = ["run", "setup"]


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana demo``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana demo")
    >>> setup(parser)
    >>> args = parser.parse_args(["--steps", "3", "--quiet"])
    >>> str(args.out), args.seed, args.events, args.steps, args.quiet
    ('out/demo', 1, 100000, 3, True)
    """
    parser.description = (
        "Run the built-in demonstration: generate the toy dijet samples, then "
        "optimize the shipped demo configuration (report, workspaces and plots in "
        "--out)."
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("out/demo"),
        help="folder for the samples, the configuration, the report and the plots "
        "(default out/demo)",
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"events in all samples together (default {DEFAULT_EVENTS})",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="optimizer steps (default: the config's)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=min(os.cpu_count() or 1, 8),
        help="threads for ROOT's implicit multithreading (0: off; default: the cores)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing")


def run(args: argparse.Namespace) -> int:
    """Run the demo: 0 on success, 1 for a bad configuration, an objective that
    cannot be evaluated or a failed optimization."""
    try:
        rep = run_demo(
            args.out, args.seed, args.events, args.steps, args.threads, args.quiet
        )
    except (ConfigError, ObjectiveError) as e:
        print(f"diffana demo: error: {e}", file=sys.stderr)
        return 1
    return 0 if rep["status"] != "failed" else 1
