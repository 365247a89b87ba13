# SPDX-License-Identifier: BSD-3-Clause
"""``diffana config``: what a standalone C++ build against diffana needs (as
correctionlib's ``correction config``), and the analysis configuration's reference
and converter::

    g++ $(diffana config --cflags) prog.cpp $(diffana config --libs)
    cmake -Ddiffana_DIR=$(diffana config --cmake) ...   # find_package(diffana)
    diffana config --reference > docs/config.md        # every YAML key
    diffana config --from-cabinetry cabinetry.yml --out diffana.yaml

The build flags import `diffana` only (no optional world), so that they run in any
installation; ``--reference`` and ``--from-cabinetry`` import `diffana.analysis`
(pydantic, PyYAML) when given.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from ._usage import ShowHelp, UsageError

__all__ = ["run", "setup"]

#: The flags and what they print, in the order of ``--help``.
ITEMS = {
    "cflags": "compiler flags: -I<include dir> -std=c++17",
    "incdir": "the include directory (holds diffana/diffana.hpp)",
    "cmake": "the folder with diffanaConfig.cmake (for -Ddiffana_DIR=...)",
    "libdir": "the folder with the static kernel library",
    "libs": "linker flags for the kernel library: -L<libdir> -ldiffana_kernels",
}


def _item(what: str) -> str:
    import diffana

    if what == "cflags":
        return f"-I{diffana.get_include()} -std=c++17"
    if what == "incdir":
        return diffana.get_include()
    if what == "cmake":
        return diffana.get_cmake_dir()
    if what == "libdir":
        return diffana.get_lib_dir()
    if what == "libs":
        return f"-L{diffana.get_lib_dir()} -ldiffana_kernels"
    msg = f"unknown config item {what!r}"  # pragma: no cover - argparse prevents it
    raise ValueError(msg)


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``diffana config`` (each appends its name to ``items``)."""
    parser.description = (
        "Print what a C++ build against diffana needs; several flags print their "
        "values on one line, in the order given."
    )
    for flag, text in ITEMS.items():
        parser.add_argument(
            f"--{flag}", dest="items", action="append_const", const=flag, help=text
        )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="print the analysis configuration's reference (every YAML key, its "
        "type, default, unit and meaning; the text of docs/config.md)",
    )
    parser.add_argument(
        "--from-cabinetry",
        type=pathlib.Path,
        default=None,
        metavar="FILE",
        help="convert a cabinetry configuration (ntuple inputs) into a diffana "
        "one, printed or written to --out; cabinetry's relative paths are read "
        "from the current folder",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=None,
        metavar="FILE",
        help="with --from-cabinetry: write the diffana YAML to FILE (its paths "
        "relative to FILE's folder)",
    )
    parser.epilog = (
        "A converted cabinetry configuration has no differentiable parameters: add "
        "them under parameters: and use them in the expressions (e.g. a Filter's "
        "cut value), then run diffana optimize on the file."
    )


def run(args: argparse.Namespace) -> int:
    """Print the values of the flags given, on one line; without a flag, the help.

    Examples
    --------
    >>> from diffana.cli import main
    >>> main(["config", "--cflags"])  # doctest: +ELLIPSIS
    -I.../include -std=c++17
    0
    """
    if args.out is not None and args.from_cabinetry is None:
        msg = "--out goes with --from-cabinetry"
        raise UsageError(msg)
    if args.reference or args.from_cabinetry is not None:
        if args.items:
            msg = "the build flags go without --reference and --from-cabinetry"
            raise UsageError(msg)
        if args.reference and args.from_cabinetry is not None:
            msg = "give --reference or --from-cabinetry, not both"
            raise UsageError(msg)
        if args.reference:
            from ..analysis.reference import render

            sys.stdout.write(render())
            return 0
        return _from_cabinetry(args.from_cabinetry, args.out)
    if not args.items:
        raise ShowHelp
    print(" ".join(_item(item) for item in args.items))
    return 0


#: The head of a converted configuration: what it lacks and how to add it.
_CONVERTED = """\
# Converted from the cabinetry configuration {source} by
# `diffana config --from-cabinetry`. cabinetry has no differentiable parameters: add
# them under `parameters:` and use them in the expressions, e.g. a Filter's cut
# value made a parameter of a soft cut:
#
#   parameters:
#     - {{name: njet_cut, value: 3.5, bounds: [2.5, 5.5]}}
#   selections:
#     - soft_filter: diffana::soft_cut(nJet, njet_cut, 0.5)
#
# Every key: docs/config.md (`diffana config --reference`). Objective: the expected
# discovery significance of the POI (change it under `objective:`).
"""


def _from_cabinetry(source: pathlib.Path, out: pathlib.Path | None) -> int:
    """Write the diffana YAML of a cabinetry configuration; 2 (and one line on
    stderr) when it cannot be converted."""
    import yaml

    from ..analysis._errors import ConfigError
    from ..analysis.cabinetry import read, to_diffana

    where = out.resolve().parent if out is not None else pathlib.Path.cwd()
    try:
        raw = to_diffana(
            read(source), str(source), base_dir=os.getcwd(), relative_to=where
        )
    except ConfigError as e:
        print(f"diffana config: {e}", file=sys.stderr)
        return 2
    text = _CONVERTED.format(source=source) + yaml.safe_dump(
        raw, sort_keys=False, default_flow_style=None, width=88
    )
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        print(f"diffana config: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"wrote {out}: add the parameters to optimize, then `diffana optimize {out}`")
    return 0
