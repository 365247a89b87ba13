# SPDX-License-Identifier: BSD-3-Clause
"""``diffana infer CONFIG.yaml --in yields.json --out result.json``: the
configuration's objective from a yields file (`diffana.chain.infer`), forward
(``--ingrad`` -> ``--outgrad``) and with what the backward pass needs
(``--saveforback``).

Exit status 0 on success, 2 for a bad configuration, bad arguments or input files
that do not fit (a gradient of another yields file, other parameters: the message
says which), 1 when the objective cannot be evaluated.

Imports `diffana.analysis` (``config``, through `diffana.cli._analysis` its
errors) and `diffana.chain`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from ..analysis.config import load
from ..analysis.outputs import check_file_target
from ..chain.infer import infer
from ..chain.record import ChainError
from ._analysis import report_or_status

__all__ = ["add_set", "run", "setup"]


def add_set(parser: argparse.ArgumentParser) -> None:
    """Add ``--set NAME=VALUE`` (repeatable, into ``overrides``)."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="overrides",
        help="override a configuration key (objective.type=cls); repeatable",
    )


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana infer``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana infer")
    >>> setup(parser)
    >>> args = parser.parse_args(["a.yaml", "--in", "y.json", "--out", "r.json"])
    >>> args.yields.name, args.ingrad, args.out.name
    ('y.json', None, 'r.json')
    """
    parser.description = (
        "Compute the configured objective from a yields file (diffana evaluate "
        "--out), with its gradient w.r.t. the parameters from the yields' gradient "
        "(forward), or save what `diffana backward` needs to map a cotangent of "
        "the result to cotangents of every yield."
    )
    parser.add_argument("config", type=pathlib.Path, help="the analysis YAML file")
    parser.add_argument(
        "--in", dest="yields", required=True, metavar="YIELDS", help="the yields file",
        type=pathlib.Path,
    )  # fmt: skip
    parser.add_argument(
        "--ingrad", metavar="GRAD", type=pathlib.Path,
        help="the yields' forward gradient (diffana evaluate --outgrad)",
    )  # fmt: skip
    parser.add_argument(
        "--out", required=True, metavar="RESULT", type=pathlib.Path,
        help="write the result (the objective's value) to RESULT",
    )  # fmt: skip
    parser.add_argument(
        "--outgrad", metavar="RESULT_GRAD", type=pathlib.Path,
        help="with --ingrad: write d objective / d parameters (forward) to "
        "RESULT_GRAD",
    )  # fmt: skip
    parser.add_argument(
        "--saveforback", metavar="BACK", type=pathlib.Path,
        help="write d objective / d yields and the files' records to BACK, for "
        "`diffana backward --cfg BACK`",
    )  # fmt: skip
    add_set(parser)


def run(args: argparse.Namespace) -> int:
    """Infer: 0 on success, 1 when the objective cannot be evaluated, 2 for a bad
    configuration or input files that do not fit."""
    if args.outgrad is not None and args.ingrad is None:
        print(
            "diffana infer: error: --outgrad needs --ingrad (the yields' gradient "
            "to carry forward)",
            file=sys.stderr,
        )
        return 2

    def call() -> dict[str, object]:
        for target, option in (
            (args.out, "--out"),
            (args.outgrad, "--outgrad"),
            (args.saveforback, "--saveforback"),
        ):
            if target is not None:
                check_file_target(target, option)
        config = load(args.config, args.overrides, check_files=False)
        return infer(
            config,
            args.yields,
            args.out,
            ingrad=args.ingrad,
            outgrad=args.outgrad,
            saveforback=args.saveforback,
            source=str(args.config),
        )

    try:
        rep = report_or_status("diffana infer", call)
    except ChainError as e:
        print(f"diffana infer: error: {e}", file=sys.stderr)
        return 2
    return rep if isinstance(rep, int) else 0
