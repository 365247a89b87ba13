# SPDX-License-Identifier: BSD-3-Clause
"""`Partition`: one task's share of a sample's events (one file, an entry range), and
`make_partitions`, which cuts every sample of a configuration into them.

A partition is the unit of work of a distributed evaluation: a worker fills every
gradient histogram of its sample over exactly the entries ``[start, stop)`` of one
file, and the client adds the partitions' histograms in the order of their
``index``. The order is fixed when the partitions are made (samples in the
configuration's order, files in the sample's order, ranges in entry order), so the
sum does not depend on which worker finished first.

Cutting needs each file's number of entries: uproot reads the tree's metadata (no
basket); a file that cannot be opened or lacks the tree is an `InputError` naming it.
Reading the data itself, and checking it (`diffana.analysis.inputs`), happens on the
workers.

May import uproot (inside functions), `diffana.analysis.config` and
`diffana.analysis._errors`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence

from ..analysis._errors import InputError
from ..analysis.config import Config

__all__ = ["Partition", "make_partitions"]


@dataclasses.dataclass(frozen=True)
class Partition:
    """Entries ``[start, stop)`` of tree ``tree`` in file ``path``, for sample
    ``sample`` (``sample_index`` in the configuration); ``index`` is its place in
    the fixed order of the sum.

    Examples
    --------
    >>> p = Partition(3, "ttbar", 0, "/data/tt.root", "Events", 1000, 2000)
    >>> p.entries, str(p)
    (1000, "partition 3 (sample 'ttbar', /data/tt.root, tree 'Events', entries 1000-1999)")
    """

    index: int
    sample: str
    sample_index: int
    path: str
    tree: str
    start: int
    stop: int

    @property
    def entries(self) -> int:
        """The number of entries the partition reads."""
        return self.stop - self.start

    def __str__(self) -> str:
        return (
            f"partition {self.index} (sample {self.sample!r}, {self.path}, tree "
            f"{self.tree!r}, entries {self.start}-{self.stop - 1})"
        )


def _entries(path: str, tree: str) -> int:
    """The number of entries of ``tree`` in ``path`` (metadata only)."""
    import uproot

    try:
        with uproot.open(path) as f:
            if tree not in f:
                msg = f"{path}: no tree {tree!r}"
                raise InputError(msg)
            return int(f[tree].num_entries)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 (uproot and the OS raise many kinds)
        msg = f"{path}: cannot read tree {tree!r} ({type(e).__name__}: {e})"
        raise InputError(msg) from None


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges covering ``[0, n)``, as equal as possible.

    Examples
    --------
    >>> _ranges(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    >>> _ranges(2, 4)
    [(0, 1), (1, 2)]
    >>> _ranges(0, 2)
    []
    """
    if n == 0:
        return []
    parts = max(1, min(parts, n))
    bounds = [n * k // parts for k in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def make_partitions(
    config: Config,
    files: Mapping[str, Sequence[str]] | None = None,
    *,
    per_file: int = 1,
    max_entries: int | None = None,
    source: str = "config",
) -> list[Partition]:
    """Every sample's files cut into partitions: each file into ``per_file`` equal
    entry ranges, more where a range would exceed ``max_entries``.

    Parameters
    ----------
    config : Config
        The configuration (its samples, trees and files).
    files : mapping, optional
        Sample name -> files, instead of the configuration's.
    per_file : int
        Entry ranges per file (at least 1; fewer for a file with fewer entries).
    max_entries : int, optional
        The most entries in one partition.
    source : str
        What error messages name (the configuration file).

    Raises `InputError` naming the sample and the file for a file that cannot be
    opened or has no such tree, and ValueError for a bad ``per_file`` or
    ``max_entries``. An empty file gives no partition; a sample without events is
    an `InputError` (it would be normalised by a sum of weights of 0).
    """
    if isinstance(per_file, bool) or not isinstance(per_file, int) or per_file < 1:
        msg = f"per_file must be a whole number >= 1, got {per_file!r}"
        raise ValueError(msg)
    if max_entries is not None and (
        isinstance(max_entries, bool)
        or not isinstance(max_entries, int)
        or max_entries < 1
    ):
        msg = f"max_entries must be a whole number >= 1 or None, got {max_entries!r}"
        raise ValueError(msg)
    out: list[Partition] = []
    for i, sample in enumerate(config.samples):
        paths = list(files[sample.name]) if files else config.sample_files(sample)
        before = len(out)
        for path in paths:
            try:
                n = _entries(path, sample.tree)
            except InputError as e:
                msg = f"{source}: samples[{i}] ({sample.name}): {e}"
                raise InputError(msg) from None
            parts = per_file
            if max_entries is not None:
                parts = max(parts, math.ceil(n / max_entries))
            for start, stop in _ranges(n, parts):
                out.append(
                    Partition(len(out), sample.name, i, path, sample.tree, start, stop)
                )
        if len(out) == before:
            msg = (
                f"{source}: samples[{i}] ({sample.name}): no entries in tree "
                f"{sample.tree!r} of {paths}"
            )
            raise InputError(msg)
    return out
