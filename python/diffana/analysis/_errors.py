# SPDX-License-Identifier: BSD-3-Clause
"""The two errors of the analysis layer: a bad configuration (`ConfigError`) and an
objective that cannot be evaluated (`ObjectiveError`).

Imports nothing: every other module of `diffana.analysis` may import it.
"""

from __future__ import annotations

__all__ = ["ConfigError", "ObjectiveError"]


class ConfigError(ValueError):
    """A configuration that is not valid; the message names where it went wrong: the
    file and the key, or the ``--set`` item.

    Examples
    --------
    >>> str(ConfigError("a.yaml: lumi: missing key"))
    'a.yaml: lumi: missing key'
    """


class ObjectiveError(RuntimeError):
    """The objective could not be evaluated (e.g. an empty background bin)."""
