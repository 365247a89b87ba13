# SPDX-License-Identifier: BSD-3-Clause
"""How a command's ``run(args)`` reports a wrong use of the command line that argparse
itself cannot see (a value that only the library can judge, a missing choice):
`diffana.cli.main` answers as argparse does for its own errors.

Imports only the standard library.
"""

from __future__ import annotations

__all__ = ["ShowHelp", "UsageError"]


class UsageError(Exception):
    """A bad argument: `diffana.cli.main` prints the command's usage and ``diffana
    <command>: error: <message>`` on stderr and exits with status 2 (argparse's
    ``parser.error``)."""


class ShowHelp(Exception):
    """Nothing to do: `diffana.cli.main` prints the command's help on stdout and exits
    with status 0 (as ``diffana <command> --help``)."""
