# SPDX-License-Identifier: BSD-3-Clause
"""``diffana backward --cfg back.json --outgrad result_cot.json --ingrad
yields_cot.json``: the backward pass of ``diffana infer`` (`diffana.chain.backward`):
a cotangent of its result (``--outgrad``, or the number ``--seed``) to cotangents
of every yield of its input (``--ingrad``, written).

Exit status 0 on success, 2 for bad arguments or files that do not fit (a
cotangent of another result: the message says which).

Imports `diffana.chain` and `diffana.analysis.outputs` (the output check).
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys

from ..analysis.outputs import OutputError, check_file_target
from ..chain.backward import backward
from ..chain.record import ChainError

__all__ = ["run", "setup"]


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        msg = f"expected a finite number, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana backward``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana backward")
    >>> setup(parser)
    >>> args = parser.parse_args(["--cfg", "b.json", "--seed", "1", "--ingrad", "c.json"])
    >>> args.cfg.name, args.seed, args.outgrad, args.ingrad.name
    ('b.json', 1.0, None, 'c.json')
    """
    parser.description = (
        "Map a cotangent of the result of `diffana infer` to cotangents of every "
        "yield of its input, with what `diffana infer --saveforback` saved."
    )
    parser.add_argument(
        "--cfg", required=True, type=pathlib.Path, metavar="BACK",
        help="the file diffana infer --saveforback wrote",
    )  # fmt: skip
    cot = parser.add_mutually_exclusive_group(required=True)
    cot.add_argument(
        "--outgrad", type=pathlib.Path, default=None, metavar="RESULT_COT",
        help="the cotangent of the result (a backward gradient file of it)",
    )  # fmt: skip
    cot.add_argument(
        "--seed", type=_finite, default=None, metavar="C",
        help="the cotangent of the objective as a number (1: d objective / d yields)",
    )  # fmt: skip
    parser.add_argument(
        "--ingrad", required=True, type=pathlib.Path, metavar="YIELDS_COT",
        help="write the cotangents of the yields to YIELDS_COT",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Backward: 0 on success, 2 for files that do not fit."""
    try:
        check_file_target(args.ingrad, "--ingrad")
        backward(args.cfg, args.ingrad, args.outgrad, args.seed)
    except (ChainError, OutputError) as e:
        print(f"diffana backward: error: {e}", file=sys.stderr)
        return 2
    return 0
