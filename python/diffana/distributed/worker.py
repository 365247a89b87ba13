# SPDX-License-Identifier: BSD-3-Clause
"""The worker side: `fill_partition`, the task that fills one partition's gradient
histograms, `adjoint_partition`, the task that runs one partition's adjoint event
loop (pass 2 of `diffana.rdf.adjoint` for the networks whose weights are
reverse-mode parameters), and the per-process cache of compiled partition graphs.

A task builds a `diffana.analysis.graph.Graph` restricted to its partition (the
partition's sample only, its file only, its entry range through RDataFrame's
``RDatasetSpec.WithGlobalRange``) the first time this worker process sees the
partition, and keeps it: later steps only set the new parameter values
(`DiffFrame.set_params`: nothing is compiled again) and run one event loop. The
cache lives in this module, that is in the worker process, keyed by the
configuration's fingerprint and the partition; it holds at most ``cache_size``
graphs (`CACHE_SIZE` by default). When it is full the most recently used graph
makes room: every step visits a worker's partitions in the same order, and in a
cycle one longer than the cache "least recently used out" would evict each graph
just before it is needed again (every access a rebuild); "most recently used out"
rebuilds about one graph per cycle.

Why a small cache: each DiffFrame family alive at the same time has its own
parameter block, so its expressions are its own C++ text, compiled once for it
(seconds to a minute for a large configuration). A graph that leaves the cache
hands its block to the next one built (`diffana.rdf`), whose expressions are then
the same text: building it compiles nothing (measured on the demo configuration at
-O0: 21 s for the first partition's graph and loop, 0.2 s for each later one). So
a worker compiles the configuration at most ``cache_size`` times, and a worker
with more partitions than that rebuilds (0.2 s), never recompiles, when it
switches.

What the worker reads is checked first (`diffana.analysis.inputs`, inside
`Graph`): a truncated file or a missing tree is an `InputError` naming the
partition (file and entry range); a failure inside ROOT is a `SampleError` naming
it. Neither is retried by the scheduler (the task raised: it did not die).

The adjoint task gets the cotangents of the partition's booked histograms (pulled
back by the client, `diffana.analysis._network_gradient.sample_cotangents`) and
the parameters of the partition's pass 1; it runs pass 2 only (no pass 1 again,
even on a graph rebuilt since) and returns the weights' gradient, one vector: a
task holds O(weights + histograms), never O(events).

May import numpy, ROOT (through `diffana.rdf`, on first use), `diffana.analysis`'s
``graph``, ``config``, ``_errors`` and ``_network_gradient``, dask.distributed
(inside functions) and the modules of `diffana.distributed` below it
(``partitions``, ``merge``).
"""

from __future__ import annotations

import collections
import gc
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..analysis import _network_gradient as netgrad
from ..analysis._errors import InputError, SampleError
from ..analysis.config import Config
from ..analysis.graph import Graph
from .merge import AdjointResult, PartitionResult
from .partitions import Partition

__all__ = ["CACHE_SIZE", "adjoint_partition", "cached", "fill_partition"]

#: The most partition graphs one worker process keeps built, by default.
CACHE_SIZE = 2

# (configuration fingerprint, partition) -> its graph, most recently used last
_graphs: collections.OrderedDict[tuple[str, Partition], PartitionGraph] = (
    collections.OrderedDict()
)


class _RangedROOT:
    """PyROOT, except that ``RDataFrame(tree, files)`` reads only the entries
    ``[start, stop)`` (an ``RDatasetSpec`` with a global range)."""

    def __init__(self, ROOT: Any, start: int, stop: int) -> None:
        self._ROOT = ROOT
        self._range = (start, stop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ROOT, name)

    def RDataFrame(self, tree: str, files: Any) -> Any:  # ROOT's name
        exp = self._ROOT.RDF.Experimental
        spec = exp.RDatasetSpec()
        spec.AddSample(exp.RSample("diffana_partition", tree, files))
        spec.WithGlobalRange(self._range)
        return self._ROOT.RDataFrame(spec)


class PartitionGraph(Graph):
    """The `Graph` of one partition: its sample only, its file only, its entries
    only. `raw` runs its event loop and returns the unscaled histograms (their
    Jacobians over the forward parameters only, with ``reverse`` networks),
    `adjoint` the adjoint event loop."""

    def __init__(
        self,
        config: Config,
        partition: Partition,
        source: str,
        reverse: tuple[str, ...] = (),
    ) -> None:
        self.partition = partition
        sample = config.samples[partition.sample_index]
        one = config.model_copy(update={"samples": [sample]})
        try:
            super().__init__(
                one, {sample.name: [partition.path]}, source, reverse=reverse
            )
        except InputError as e:
            text = str(e).replace("samples[0]", f"samples[{partition.sample_index}]", 1)
            msg = f"{partition}: {text}"
            raise InputError(msg) from None

    def _build(self, ROOT: Any, where: Any, *args: Any) -> Any:
        # Graph builds ``ROOT.RDataFrame(tree, files)``: here it reads the range.
        # Messages name the sample's place in the whole configuration.
        p = self.partition
        if isinstance(where, int):
            where = p.sample_index
        elif where == "samples[0]":
            where = f"samples[{p.sample_index}]"
        return super()._build(_RangedROOT(ROOT, p.start, p.stop), where, *args)

    def raw(
        self, params: Mapping[str, float]
    ) -> tuple[dict[str, Any], int, float | None]:
        """One event loop at ``params``: the unscaled histograms (channel ->
        variation), the entries read and the sum of weights (None without xsec)."""
        fr = self._frames[0]
        self._set(params)
        try:
            raw = self._run(fr)
        except SampleError as e:
            msg = f"{self.partition}: {e}"
            raise SampleError(msg) from None
        events = int(fr.count.GetValue())
        sumw = None if fr.sumw is None else float(fr.sumw.GetValue())
        return raw, events, sumw

    def _set(self, params: Mapping[str, float]) -> None:
        self._frames[0].ddf.set_params(self._frame_params(params))

    def adjoint(
        self,
        params: Mapping[str, float],
        cotangents: Mapping[tuple[str, str], netgrad.Cotangent],
        size: int,
    ) -> np.ndarray:
        """The adjoint event loop at ``params`` seeded with ``cotangents``
        ((channel, variation) -> cotangent of a booked histogram): the weights'
        gradient, flat (`netgrad.adjoint_loop`)."""
        from ..rdf import EventLoopError

        self._set(params)
        try:
            return netgrad.adjoint_loop(self._frames[0].handles, cotangents, size)
        except EventLoopError as e:
            msg = f"{self.source}: {self.partition}: {e}"
            raise SampleError(msg) from None


def cached(fingerprint: str, partition: Partition) -> bool:
    """Whether this process holds the partition's graph for that configuration."""
    return (fingerprint, partition) in _graphs


def _graph(
    config: Config,
    fingerprint: str,
    partition: Partition,
    source: str,
    cache_size: int,
    reverse: tuple[str, ...] = (),
) -> tuple[PartitionGraph, float]:
    key = (fingerprint, partition)
    graph = _graphs.get(key)
    if graph is not None:
        _graphs.move_to_end(key)
        return graph, 0.0
    if len(_graphs) >= max(cache_size, 1):
        while len(_graphs) >= max(cache_size, 1):
            _graphs.popitem(last=True)
        gc.collect()  # now: the evicted families hand their parameter blocks on
    t0 = time.perf_counter()
    graph = PartitionGraph(config, partition, source, reverse)
    _graphs[key] = graph
    return graph, time.perf_counter() - t0


def _address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):  # not in a dask worker
        return f"pid {os.getpid()}"


def _in_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def fill_partition(
    config: Config,
    fingerprint: str,
    partition: Partition,
    params: Mapping[str, float],
    source: str = "config",
    cache_size: int = CACHE_SIZE,
    reverse: tuple[str, ...] = (),
) -> PartitionResult:
    """The task: the partition's histograms at ``params`` (its graph built and
    compiled the first time this process sees it, then reused). It runs in any
    process, a dask worker or not; `diffana.distributed.DaskGraph` submits it.
    ``reverse``: the networks whose weights are reverse-mode parameters (part of
    what ``fingerprint`` identifies; see `diffana.distributed.fingerprint`).
    """
    from ..rdf._session import release_gil_during_loops

    if _in_dask_worker():
        release_gil_during_loops()
    graph, build_s = _graph(config, fingerprint, partition, source, cache_size, reverse)
    t0 = time.perf_counter()
    try:
        raw, events, sumw = graph.raw(params)
    except Exception:
        # After a failed loop the family's C++ state is not trusted: not kept.
        _graphs.pop((fingerprint, partition), None)
        raise
    return PartitionResult(
        partition, raw, events, sumw, time.perf_counter() - t0, build_s, _address()
    )


def adjoint_partition(
    config: Config,
    fingerprint: str,
    partition: Partition,
    params: Mapping[str, float],
    cotangents: Mapping[tuple[str, str], netgrad.Cotangent],
    size: int,
    source: str = "config",
    cache_size: int = CACHE_SIZE,
    reverse: tuple[str, ...] = (),
) -> AdjointResult:
    """The task of pass 2: the gradient (``size`` values, flat) w.r.t. the weights
    of the ``reverse`` networks of the partition's adjoint event loop at
    ``params`` (those of its pass 1), seeded with ``cotangents`` ((channel,
    variation) -> the cotangent of a booked histogram, scale and mirroring
    already pulled back). The graph is the one `fill_partition` built (built
    again if it left the cache). Runs in any process, as `fill_partition`.
    """
    from ..rdf._session import release_gil_during_loops

    if _in_dask_worker():
        release_gil_during_loops()
    graph, build_s = _graph(config, fingerprint, partition, source, cache_size, reverse)
    t0 = time.perf_counter()
    try:
        grad = graph.adjoint(params, cotangents, size)
    except Exception:
        _graphs.pop((fingerprint, partition), None)  # as in fill_partition
        raise
    return AdjointResult(partition, grad, time.perf_counter() - t0, build_s, _address())
