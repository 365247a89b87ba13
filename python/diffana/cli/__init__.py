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
module plus one table entry. Before a command's module is imported, the optional
dependencies the command needs are looked up (`diffana._optional`): a missing one is
one line on stderr, the pip command that installs it (``diffana demo needs pyyaml:
pip install 'diffana[demo]'``), and exit status 2.

Console output is `logging`: the library logs to the ``diffana`` logger hierarchy
(one logger per module) and only `main` configures it (`configure_logging`): INFO
messages as plain lines on stdout, warnings and errors as ``warning: ...`` on
stderr. ``-v`` (before or after the command) adds DEBUG messages with the logger's
name, ``-vv`` also other libraries' messages; ``-q`` shows warnings and errors only,
``-qq`` errors only. Results that a command prints (paths, flags) stay ``print``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from .._optional import FEATURES, hint, require
from ._usage import ShowHelp, UsageError

__all__ = ["configure_logging", "main"]

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
    "select": (
        "diffana.cli.select",
        (
            "events in, selected events out, with their tangents (see `diffana "
            "select --help`)"
        ),
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
    _add_verbosity(parser, argparse.SUPPRESS, ("-v", "--verbose"), ("-q", "--quiet"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, (_, text) in _COMMANDS.items():
        subparser = sub.add_parser(name, help=text)
        if name == command and module is not None:
            module.setup(subparser)
            # After the command's own options: its --quiet (print no summary) stays
            # its own; -q is the logging level's.
            _add_verbosity(subparser, argparse.SUPPRESS, ("-v", "--verbose"), ("-q",))
            chosen = subparser
    return parser, chosen


def _add_verbosity(
    parser: argparse.ArgumentParser,
    default: object,
    verbose: tuple[str, ...],
    quiet: tuple[str, ...],
) -> None:
    """``-v`` / ``-q`` (repeatable): counts into ``verbose`` and ``less``."""
    parser.add_argument(
        *verbose,
        action="count",
        default=default,
        dest="verbose",
        help="more messages: -v debug messages of diffana, -vv of every library",
    )
    parser.add_argument(
        *quiet,
        action="count",
        default=default,
        dest="less",
        help="fewer messages: -q warnings and errors only, -qq errors only",
    )


class _ConsoleFormatter(logging.Formatter):
    """The message alone at INFO; ``<logger>: `` before it below INFO, ``warning: ``
    or ``error: `` above."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {record.message}"
        if record.levelno < logging.INFO:
            return f"{record.name}: {record.message}"
        return record.message


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """INFO and DEBUG on the current ``sys.stdout``, WARNING and above on the
    current ``sys.stderr``: looked up at every message, so that redirections and
    pytest's capture see them."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.setFormatter(_ConsoleFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr if record.levelno >= logging.WARNING else sys.stdout
        super().emit(record)


#: The name of the console handler `configure_logging` installs.
_HANDLER_NAME = "diffana-console"


def configure_logging(verbosity: int = 0) -> logging.Logger:
    """Send the ``diffana`` logger's messages to the console (see the module
    docstring) at a level from ``verbosity``: 0 INFO, 1 DEBUG, 2 DEBUG of every
    library (the root logger too), -1 WARNING, -2 or less ERROR. Called by `main`
    only: the library itself never configures logging. Calling it again replaces
    the handler it installed before.

    Examples
    --------
    >>> import logging, contextlib, io, sys
    >>> log = configure_logging(0)
    >>> with contextlib.redirect_stdout(io.StringIO()) as out:
    ...     logging.getLogger("diffana.analysis.driver").info("start: x = 1")
    ...     logging.getLogger("diffana.analysis.driver").debug("hidden")
    >>> out.getvalue()
    'start: x = 1\\n'
    >>> log.level == logging.INFO
    True
    >>> configure_logging(-2).level == logging.ERROR  # (quiet again for the doctests)
    True
    """
    log = logging.getLogger("diffana")
    # Found by name, not kept in a global: a re-imported module (tests reload the
    # package) must still replace the handler an earlier copy installed.
    for owner in (log, logging.getLogger()):
        for old in list(owner.handlers):
            if old.get_name() == _HANDLER_NAME:
                owner.removeHandler(old)
    handler = _ConsoleHandler()
    handler.set_name(_HANDLER_NAME)
    levels = {-1: logging.WARNING, 0: logging.INFO}
    level = levels.get(verbosity, logging.DEBUG if verbosity > 0 else logging.ERROR)
    log.setLevel(level)
    if verbosity >= 2:
        # every library's messages: on the root logger, which diffana's reach too
        root = logging.getLogger()
        root.setLevel(logging.DEBUG)
        root.addHandler(handler)
    else:
        log.addHandler(handler)
    return log


def _command_module(command: str) -> ModuleType | int:
    """The command's module, or the exit status after telling what is missing: 2
    and the pip command for a missing optional dependency, 1 for another import
    error."""
    feature = f"diffana {command}"
    try:
        if feature in FEATURES:
            require(feature)
        return importlib.import_module(_COMMANDS[command][0])
    except ImportError as err:
        missing = hint(err, feature)
        if missing is not None:
            print(missing, file=sys.stderr)
            return 2
        extra = FEATURES.get(feature, ("demo", ()))[0]
        print(
            f"diffana {command} is not available: {err} "
            f"(pip install 'diffana[{extra}]' installs what it needs)",
            file=sys.stderr,
        )
        return 1


def _command(argv: Sequence[str]) -> str | None:
    """The command: the first argument after the global options (``-v``, ``-q``)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in _COMMANDS else None
        if arg not in ("--verbose", "--quiet") and not (
            arg[1:] and set(arg[1:]) <= {"v", "q"}
        ):
            return None
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
    command = _command(argv)
    module = None
    if command is not None:
        found = _command_module(command)
        if isinstance(found, int):
            return found
        module = found
    parser, subparser = _parser(command, module)
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse would blame the top-level parser; the command's usage helps more
        (subparser or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    configure_logging(getattr(args, "verbose", 0) - getattr(args, "less", 0))
    if module is None or subparser is None:
        parser.print_help()
        return 0
    try:
        return int(module.run(args))
    except ModuleNotFoundError as err:
        missing = hint(err, f"diffana {command}")
        if missing is None:
            raise
        print(missing, file=sys.stderr)
        return 2
    except UsageError as err:
        subparser.error(str(err))  # exits with status 2
    except ShowHelp:
        subparser.print_help()
        subparser.exit(0)
