# SPDX-License-Identifier: BSD-3-Clause
"""The ``diffana`` command line (also ``python -m diffana``): argument parsing only.

One module per command, each with ``setup(parser)`` (adds the command's arguments)
and ``run(args) -> int`` (calls the library, turns its known errors into an exit
status and a one-line message on stderr):

- ``diffana config --cflags|--incdir|--cmake|--libdir|--libs``: what a standalone C++
  build needs (`diffana.cli.config`);
- ``diffana demo [--out DIR] [--steps N]``: the README's demonstration
  (`diffana.cli.demo`);
- ``diffana optimize CONFIG.yaml [--out DIR] [--quiet] [--json FILE] [--set
  NAME=VALUE]``: evaluate and optimize the analysis a YAML file describes
  (`diffana.cli.optimize`; exit status 2 for a bad configuration);
- ``diffana evaluate CONFIG.yaml [--files F ...] [--set NAME=VALUE] [--hard] [--json
  OUT]``: evaluate it once, histograms with Jacobians and the objective with its
  gradient as JSON (`diffana.cli.evaluate`);
- ``diffana generate [--kind demo|agc] --out DIR --seed N --events N``: write the
  built-in samples (`diffana.cli.generate`).

`main` builds one parser with a subparser per command from the table `_COMMANDS`
and imports a command's module only when that command runs: this package imports
only the standard library (and `diffana` for ``--version``), so ``diffana --help``
and ``diffana config`` need none of the optional worlds. Adding a command is a new
module plus one table entry.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from ._usage import ShowHelp, UsageError

__all__ = ["main"]

#: command -> (module with ``setup`` and ``run``, one-line help for ``diffana --help``)
_COMMANDS: dict[str, tuple[str, str]] = {
    "config": (
        "diffana.cli.config",
        "print compiler flags and paths for C++ builds",
    ),
    "demo": (
        "diffana.cli.demo",
        "run the built-in demonstration (see `diffana demo --help`)",
    ),
    "optimize": (
        "diffana.cli.optimize",
        "optimize the analysis a YAML file describes (see `diffana optimize --help`)",
    ),
    "evaluate": (
        "diffana.cli.evaluate",
        (
            "evaluate the analysis a YAML file describes once: histograms, "
            "Jacobians, objective (see `diffana evaluate --help`)"
        ),
    ),
    "generate": (
        "diffana.cli.generate",
        "write the built-in toy samples (see `diffana generate --help`)",
    ),
    "infer": (
        "diffana.cli.infer",
        (
            "the objective from a yields file, forward gradient and backward map "
            "(see `diffana infer --help`)"
        ),
    ),
    "backward": (
        "diffana.cli.backward",
        (
            "map a cotangent of `diffana infer`'s result to cotangents of its "
            "yields (see `diffana backward --help`)"
        ),
    ),
}


def _parser(
    command: str | None, module: ModuleType | None
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    """The parser with every command listed; only ``command``'s subparser gets its
    arguments (from ``module.setup``). Returns it and that subparser."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="diffana",
        description="diffana: differentiable analysis for high-energy physics.",
    )
    parser.add_argument("--version", action="version", version=f"diffana {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, (_, text) in _COMMANDS.items():
        subparser = sub.add_parser(name, help=text)
        if name == command and module is not None:
            module.setup(subparser)
            chosen = subparser
    return parser, chosen


def _command_module(command: str) -> ModuleType | None:
    """The command's module, or None after telling what is missing."""
    try:
        return importlib.import_module(_COMMANDS[command][0])
    except ImportError as err:
        print(
            f"diffana {command} is not available: {err} "
            "(pip install 'diffana[demo]' installs what it needs)",
            file=sys.stderr,
        )
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse's own errors and
    ``--help`` raise SystemExit, as usual).

    Examples
    --------
    >>> from diffana.cli import main
    >>> main(["config", "--cflags"])  # doctest: +ELLIPSIS
    -I.../include -std=c++17
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv[:1] and argv[0] in _COMMANDS else None
    module = None
    if command is not None:
        module = _command_module(command)
        if module is None:
            return 1
    parser, subparser = _parser(command, module)
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse would blame the top-level parser; the command's usage helps more
        (subparser or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if module is None or subparser is None:
        parser.print_help()
        return 0
    try:
        return int(module.run(args))
    except UsageError as err:
        subparser.error(str(err))  # exits with status 2
    except ShowHelp:
        subparser.print_help()
        subparser.exit(0)
