# SPDX-License-Identifier: BSD-3-Clause
"""The errors of the analysis layer: a bad configuration (`ConfigError`), with an
input file that cannot be read safely as its kind (`InputError`), and an objective
that cannot be evaluated (`ObjectiveError`), with a sample whose event loop failed
(`SampleError`) or skipped too many events (`SkippedEventsError`) as its kinds.

Imports nothing: every other module of `diffana.analysis` may import it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "ObjectiveError",
    "SampleError",
    "SkippedEventsError",
]


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


class InputError(ConfigError):
    """An input file that cannot be read safely (corrupt or truncated), found before
    any event loop; the message names the file, the tree and, where the problem is
    in the data, the branch and the entry range.

    Examples
    --------
    >>> issubclass(InputError, ConfigError)
    True
    """


class SampleError(ObjectiveError):
    """A sample's event loop failed inside ROOT (a C++ exception or a crash turned
    into an exception); the message names the sample and its files."""


class SkippedEventsError(SampleError):
    """More than ``max_skipped_fraction`` of a sample's events were skipped (a
    non-finite weight or a NaN observable) in some channel and variation; the
    message names them, the count and the fraction."""
