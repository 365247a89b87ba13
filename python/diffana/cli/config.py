# SPDX-License-Identifier: BSD-3-Clause
"""``diffana config``: what a standalone C++ build against diffana needs (as
correctionlib's ``correction config``)::

    g++ $(diffana config --cflags) prog.cpp $(diffana config --libs)
    cmake -Ddiffana_DIR=$(diffana config --cmake) ...   # find_package(diffana)

Imports `diffana` only (no optional world), so that it runs in any installation.
"""

from __future__ import annotations

import argparse

from ._usage import ShowHelp

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


def run(args: argparse.Namespace) -> int:
    """Print the values of the flags given, on one line; without a flag, the help.

    Examples
    --------
    >>> from diffana.cli import main
    >>> main(["config", "--cflags"])  # doctest: +ELLIPSIS
    -I.../include -std=c++17
    0
    """
    if not args.items:
        raise ShowHelp
    print(" ".join(_item(item) for item in args.items))
    return 0
