# SPDX-License-Identifier: BSD-3-Clause
"""``diffana generate``: write the built-in samples (`diffana.generators.generate`):
the toy dijet samples of ``diffana demo`` (``--kind demo``) or AGC-like ttbar samples
(``--kind agc``), and print where each went.

A bad sample name or size is a usage error: exit status 2 with the message on stderr.

Imports `diffana.generators` (numpy; awkward and uproot when it writes).
"""

from __future__ import annotations

import argparse
import pathlib

from .. import generators
from ._usage import UsageError

__all__ = ["run", "setup"]


def _names(text: str) -> list[str]:
    return [s for s in text.split(",") if s]


def setup(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``diffana generate``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="diffana generate")
    >>> setup(parser)
    >>> args = parser.parse_args(["--kind", "agc", "--samples", "ttbar,wjets"])
    >>> args.kind, args.samples, args.events, str(args.out)
    ('agc', ['ttbar', 'wjets'], None, 'out/samples')
    """
    demo, agc = (generators.default_events(k) for k in ("demo", "agc"))
    parser.description = (
        "Write the built-in samples: the toy dijet samples of `diffana demo` "
        "(signal, ttbar, qcd) or AGC-like samples (ttbar, single_top, wjets), one "
        "ROOT file per sample."
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("out/samples"),
        help="folder for the files <sample>.root (default out/samples)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help=f"events in all samples together for --kind demo (default {demo}), per "
        f"sample for --kind agc (default {agc})",
    )
    parser.add_argument(
        "--kind",
        choices=generators.KINDS,
        default="demo",
        help="demo: the toy samples of `diffana demo` (signal, ttbar, qcd); agc: "
        "AGC-like ttbar, single_top and wjets samples (default demo)",
    )
    parser.add_argument(
        "--samples",
        type=_names,
        default=None,
        help="comma-separated samples to write (default: all of the kind)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the samples and print ``<sample>: <path>`` for each; a bad sample or
    size raises `UsageError`."""
    if args.out.exists() and not args.out.is_dir():
        msg = f"--out {args.out}: a file, not a folder"
        raise UsageError(msg)
    try:
        paths = generators.generate(
            args.kind, args.out, args.seed, args.events, args.samples
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        msg = f"--out {args.out}: cannot write {err.filename or ''}: {err.strerror}"
        raise UsageError(msg) from None
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
