# SPDX-License-Identifier: BSD-3-Clause
"""`PartitionResult`: what a worker sends back for one partition, and `add`, the
client's exact sum of them; `AdjointResult` and `add_gradients`, the same for the
adjoint event loop's gradient vectors.

A result holds the partition's raw (unscaled) gradient histograms of its sample,
``channel -> variation -> GradHistogram`` (nominal and every booked variation:
values, variances, Jacobians, variances' Jacobians, skipped-event counts), the
events its loop read and its sum of weights (for ``xsec`` normalisation). `add`
sums one sample's results in the order of the partitions' indices, after checking
that every partition is there exactly once and read all its entries: a partial sum
is an error, never a result.

May import numpy, `diffana.hist` (types), `diffana.analysis._errors` and
`diffana.distributed.partitions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from ..analysis._errors import SampleError
from ..hist import GradHistogram
from .partitions import Partition

__all__ = ["AdjointResult", "PartitionResult", "SampleSum", "add", "add_gradients"]

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
class AdjointResult:
    """One partition's adjoint event loop: the gradient w.r.t. the networks'
    weights (flat), with timings and the worker as in `PartitionResult`."""

    partition: Partition
    gradient: np.ndarray
    loop_s: float = 0.0
    build_s: float = 0.0
    worker: str = ""


@dataclasses.dataclass
class SampleSum:
    """A sample's histograms, events and sum of weights added over its partitions."""

    histograms: SampleHistograms
    events: int
    sumw: float | None


_R = TypeVar("_R", PartitionResult, AdjointResult)


def _in_order(
    what: str, expected: Sequence[Partition], results: Sequence[_R], kind: str = ""
) -> list[_R]:
    """``results`` in the order of ``expected``, each partition exactly once;
    `SampleError` (starting with ``what``; "no <kind>result for ..." for a missing
    one) for a partition missing, repeated or foreign: a partial sum is an error,
    never a result."""
    by_index: dict[int, _R] = {}
    for r in results:
        if r.partition.index in by_index:
            msg = f"{what}: {r.partition} came back twice"
            raise SampleError(msg)
        by_index[r.partition.index] = r
    missing = [p for p in expected if p.index not in by_index]
    if missing or len(by_index) != len(expected):
        shown = "; ".join(str(p) for p in missing[:3]) or "unexpected partitions"
        msg = f"{what}: no {kind}result for {shown}: the sum would be partial"
        raise SampleError(msg)
    ordered = [by_index[p.index] for p in expected]
    for p, r in zip(expected, ordered, strict=True):
        if r.partition != p:
            msg = f"{what}: {r.partition} came back for {p}"
            raise SampleError(msg)
    return ordered


def add(
    sample: str, expected: Sequence[Partition], results: Sequence[PartitionResult]
) -> SampleSum:
    """The sum of one sample's partition results, in the order of ``expected``.

    Raises `SampleError` when a partition is missing, repeated or foreign, when a
    partition read another number of entries than its range holds, or when the
    partitions do not book the same histograms.
    """
    ordered = _in_order(f"sample {sample!r}", expected, results)
    for p, r in zip(expected, ordered, strict=True):
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


def add_gradients(
    expected: Sequence[Partition], results: Sequence[AdjointResult], size: int
) -> np.ndarray:
    """The sum of the partitions' gradient vectors, in the order of ``expected``;
    `SampleError` when a partition is missing, repeated or foreign, or a vector
    is not of length ``size``.

    Examples
    --------
    >>> import numpy as np
    >>> p = [Partition(k, "s", 0, "f.root", "t", k, k + 1) for k in range(2)]
    >>> r = [AdjointResult(p[1], np.ones(2)), AdjointResult(p[0], np.arange(2.0))]
    >>> add_gradients(p, r, 2).tolist()
    [1.0, 2.0]
    """
    total = np.zeros(size)
    for p, got in zip(
        expected,
        _in_order("the adjoint loop", expected, results, "adjoint "),
        strict=True,
    ):
        if np.shape(got.gradient) != (size,):
            n = np.size(got.gradient)
            msg = f"{p}: the adjoint loop gave {n} values, expected {size}"
            raise SampleError(msg)
        total += got.gradient
    return total
