# SPDX-License-Identifier: BSD-3-Clause
"""The ``diffana`` command line (also ``python -m diffana``).

``diffana config`` prints what a standalone C++ build needs (as correctionlib's
``correction config``)::

    g++ $(diffana config --cflags) prog.cpp $(diffana config --libs)
    cmake -Ddiffana_DIR=$(diffana config --cmake) ...   # find_package(diffana)

``diffana demo`` runs the built-in demonstration (``diffana demo --help``),
``diffana optimize CONFIG.yaml [--out DIR] [--quiet] [--json FILE] [--set NAME=VALUE]``
evaluates and optimises the analysis a YAML file describes (`diffana.optimize`,
`diffana.config`; exit status 2 for a bad configuration, with the message on
stderr), ``diffana evaluate CONFIG.yaml [--files F ...] [--set NAME=VALUE]
[--hard] [--json OUT]`` evaluates it once (histograms with Jacobians and the
objective with its gradient, as JSON) and ``diffana generate --out DIR --seed N
--events N`` writes the built-in toy samples (`diffana.generate`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _config_item(what: str) -> str:
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


def _parser() -> argparse.ArgumentParser:
    from diffana import __version__

    parser = argparse.ArgumentParser(
        prog="diffana",
        description="diffana: differentiable analysis for high-energy physics.",
    )
    parser.add_argument("--version", action="version", version=f"diffana {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    config = sub.add_parser(
        "config",
        help="print compiler flags and paths for C++ builds",
        description=(
            "Print what a C++ build against diffana needs; several flags print their "
            "values on one line, in the order given."
        ),
    )
    for flag, text in (
        ("cflags", "compiler flags: -I<include dir> -std=c++17"),
        ("incdir", "the include directory (holds diffana/diffana.hpp)"),
        ("cmake", "the folder with diffanaConfig.cmake (for -Ddiffana_DIR=...)"),
        ("libdir", "the folder with the static kernel library"),
        ("libs", "linker flags for the kernel library: -L<libdir> -ldiffana_kernels"),
    ):
        config.add_argument(
            f"--{flag}", dest="items", action="append_const", const=flag, help=text
        )

    # listed for --help only: main() hands everything after these to their modules
    sub.add_parser(
        "demo", help="run the built-in demonstration (see `diffana demo --help`)"
    )
    sub.add_parser(
        "optimize",
        help="optimise the analysis a YAML file describes "
        "(see `diffana optimize --help`)",
    )
    sub.add_parser(
        "evaluate",
        help="evaluate the analysis a YAML file describes once: histograms, "
        "Jacobians, objective (see `diffana evaluate --help`)",
    )
    sub.add_parser(
        "generate",
        help="write the built-in toy samples (see `diffana generate --help`)",
    )
    return parser


# command -> (module, function)
_SUBCOMMANDS = {
    "demo": ("analysis.demo", "main"),
    "optimize": ("analysis.optimize", "main"),
    "evaluate": ("analysis.optimize", "evaluate_main"),
    "generate": ("generators.toy", "main"),
}


def _run_module(command: str, args: list[str]) -> int:
    import importlib

    try:
        name, function = _SUBCOMMANDS[command]
        module = importlib.import_module(f"diffana.{name}")
    except ImportError as err:
        print(
            f"diffana {command} is not available: {err} "
            "(pip install 'diffana[demo]' installs what it needs)",
            file=sys.stderr,
        )
        return 1
    return int(getattr(module, function)(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Examples
    --------
    >>> from diffana.cli import main
    >>> main(["config", "--cflags"])  # doctest: +ELLIPSIS
    -I.../include -std=c++17
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in _SUBCOMMANDS:
        return _run_module(argv[0], argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "config":
        if not args.items:
            parser.parse_args(["config", "--help"])
        print(" ".join(_config_item(item) for item in args.items))
        return 0
    parser.print_help()
    return 0
