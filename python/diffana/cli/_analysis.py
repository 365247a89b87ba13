# SPDX-License-Identifier: BSD-3-Clause
"""What ``diffana optimize`` and ``diffana evaluate`` share: the ``--set``,
``--threads`` and ``--scheduler``/``--workers`` options and the translation of the
analysis' errors into exit statuses.

Imports `diffana.analysis` (its errors).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .._optional import MissingDependency
from ..analysis import ConfigError, ObjectiveError
from ..analysis.driver import RunInterrupted

__all__ = ["add_set_and_threads", "report_or_status"]


def _threads(text: str) -> int:
    """``--threads``: a whole number >= 0 (argparse turns the error into a usage
    message naming the option)."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        msg = f"expected a whole number >= 0 (0: no multithreading), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return n


def positive(what: str) -> Callable[[str], int]:
    """An argparse type: a whole number >= 1 (``what`` it counts, for the error)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            msg = f"expected a whole number >= 1 ({what}), got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return n

    return parse


def add_set_and_threads(parser: argparse.ArgumentParser) -> None:
    """Add ``--set NAME=VALUE`` (repeatable, into ``overrides``), ``--threads N``,
    and ``--scheduler ADDRESS`` or ``--workers N`` (the event loops on Dask).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_set_and_threads(parser)
    >>> args = parser.parse_args(["--set", "a=1", "--set", "optimizer.steps=2"])
    >>> args.overrides, args.threads
    (['a=1', 'optimizer.steps=2'], 0)
    >>> args = parser.parse_args(["--scheduler", "tcp://head:8786"])
    >>> args.scheduler, args.workers
    ('tcp://head:8786', None)
    """
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="overrides",
        help="override a parameter's initial value or a configuration key "
        "(optimizer.steps=10); repeatable",
    )
    parser.add_argument(
        "--threads",
        type=_threads,
        default=0,
        metavar="N",
        help="event loops with ROOT's implicit multithreading on N threads (a crash "
        "of ROOT in a worker thread then ends the process; the checkpoint of the "
        "last step survives)",
    )
    dask = parser.add_mutually_exclusive_group()
    dask.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the event loops on the Dask cluster of this scheduler "
        "(tcp://host:8786; its workers need diffana and the input files), one task "
        "per file and entry range (pip install 'diffana[dask]')",
    )
    dask.add_argument(
        "--workers",
        type=positive("Dask worker processes"),
        default=None,
        metavar="N",
        help="run the event loops on a Dask cluster of N worker processes on this "
        "machine (pip install 'diffana[dask]')",
    )


def report_or_status(
    prog: str, call: Callable[[], dict[str, Any]]
) -> dict[str, Any] | int:
    """call()'s report, or the exit status after printing the error: 2 for a bad
    configuration or output location, 1 when the objective cannot be evaluated or a
    dependency is missing (one line ``<prog>: error: <message>`` on stderr, no
    traceback), 128 + the signal's number (130, 143) when SIGINT or SIGTERM
    interrupted the run.

    Examples
    --------
    >>> import contextlib, sys
    >>> def bad() -> dict:
    ...     raise ConfigError("a.yaml: lumi: missing key")
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     status = report_or_status("diffana optimize", bad)
    diffana optimize: error: a.yaml: lumi: missing key
    >>> status
    2
    """
    try:
        return call()
    except (ConfigError, MissingDependency) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except (ObjectiveError, ImportError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except RunInterrupted as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 128 + e.signum
