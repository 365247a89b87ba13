# SPDX-License-Identifier: BSD-3-Clause
"""Checks shared by the sample generators (`toy` and `agc`).

Imports nothing of diffana, so that every generator may import it.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["check_request"]


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
