# SPDX-License-Identifier: BSD-3-Clause
"""`PartitionResult`: what a worker sends back for one partition, and `add`, the
client's exact sum of them.

A result holds the partition's raw (unscaled) gradient histograms of its sample,
``channel -> variation -> GradHistogram`` (nominal and every booked variation:
values, variances, Jacobians, variances' Jacobians, skipped-event counts), the
events its loop read and its sum of weights (for ``xsec`` normalisation). `add`
sums one sample's results in the order of the partitions' indices, after checking
that every partition is there exactly once and read all its entries: a partial sum
is an error, never a result.

May import `diffana.hist` (types), `diffana.analysis._errors` and
`diffana.distributed.partitions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..analysis._errors import SampleError
from ..hist import GradHistogram
from .partitions import Partition

__all__ = ["PartitionResult", "SampleSum", "add"]

#: channel -> variation -> histogram, for one sample
SampleHistograms = dict[str, dict[str, GradHistogram]]


@dataclasses.dataclass
class PartitionResult:
    """One partition's histograms and counts, as the worker made them.

    ``loop_s``: seconds of the event loop; ``build_s``: seconds spent building
    (and compiling) the partition's graph in this task (0 when it was cached);
    ``worker``: the worker's address, for the next step's placement.
    """

    partition: Partition
    histograms: SampleHistograms
    events: int
    sumw: float | None
    loop_s: float = 0.0
    build_s: float = 0.0
    worker: str = ""


@dataclasses.dataclass
class SampleSum:
    """A sample's histograms, events and sum of weights added over its partitions."""

    histograms: SampleHistograms
    events: int
    sumw: float | None


def add(
    sample: str, expected: Sequence[Partition], results: Sequence[PartitionResult]
) -> SampleSum:
    """The sum of one sample's partition results, in the order of ``expected``.

    Raises `SampleError` when a partition is missing, repeated or foreign, when a
    partition read another number of entries than its range holds, or when the
    partitions do not book the same histograms.
    """
    by_index: dict[int, PartitionResult] = {}
    for r in results:
        if r.partition.index in by_index:
            msg = f"sample {sample!r}: {r.partition} came back twice"
            raise SampleError(msg)
        by_index[r.partition.index] = r
    missing = [p for p in expected if p.index not in by_index]
    if missing or len(by_index) != len(expected):
        shown = "; ".join(str(p) for p in missing[:3]) or "unexpected partitions"
        msg = f"sample {sample!r}: no result for {shown}: the sum would be partial"
        raise SampleError(msg)
    ordered = [by_index[p.index] for p in expected]
    for p, r in zip(expected, ordered, strict=True):
        if r.partition != p:
            msg = f"sample {sample!r}: {r.partition} came back for {p}"
            raise SampleError(msg)
        if r.events != p.entries:
            msg = (
                f"sample {sample!r}: {p} read {r.events} entries instead of "
                f"{p.entries}: the sum would be partial"
            )
            raise SampleError(msg)
    first = ordered[0].histograms
    keys = {c: list(hs) for c, hs in first.items()}
    for r in ordered[1:]:
        if {c: list(hs) for c, hs in r.histograms.items()} != keys:
            msg = f"sample {sample!r}: {r.partition} booked other histograms"
            raise SampleError(msg)
    histograms = {
        c: {
            v: first[c][v].merge(*(r.histograms[c][v] for r in ordered[1:])) for v in vs
        }
        for c, vs in keys.items()
    }
    sums = [r.sumw for r in ordered]
    sumw = (
        None if any(s is None for s in sums) else sum(s for s in sums if s is not None)
    )
    return SampleSum(histograms, sum(r.events for r in ordered), sumw)
