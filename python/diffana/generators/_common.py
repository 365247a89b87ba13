# SPDX-License-Identifier: BSD-3-Clause
"""Checks shared by the sample generators (`toy` and `agc`).

Imports nothing of diffana, so that every generator may import it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
from collections.abc import Collection, Iterator

__all__ = ["check_request", "written_atomically"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def written_atomically(path: pathlib.Path) -> Iterator[pathlib.Path]:
    """A temporary path beside ``path`` to write to; renamed to ``path`` when the
    block ends normally, removed otherwise, so that an interrupted generator never
    leaves a half-written sample.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = pathlib.Path(d) / "s.root"
    ...     with written_atomically(target) as tmp:
    ...         _ = tmp.write_text("x")
    ...     sorted(p.name for p in pathlib.Path(d).iterdir())
    ['s.root']
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
        log.debug("wrote %s", path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def check_request(
    name: str, n: int, known: Collection[str], generator: str = "the generator"
) -> None:
    """ValueError unless ``name`` is one of ``known`` and ``n`` >= 1.

    Examples
    --------
    >>> check_request("ttbar", 10, ["ttbar", "wjets"])
    >>> check_request("qcd", 10, ["ttbar", "wjets"], "the AGC generator")
    Traceback (most recent call last):
    ...
    ValueError: unknown sample 'qcd'; the AGC generator knows ['ttbar', 'wjets']
    """
    if name not in known:
        msg = f"unknown sample {name!r}; {generator} knows {list(known)}"
        raise ValueError(msg)
    if n < 1:
        msg = f"the number of events must be at least 1, got {n}"
        raise ValueError(msg)
