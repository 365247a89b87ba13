# SPDX-License-Identifier: BSD-3-Clause
"""`DaskGraph`: the event-loop half of an analysis (`diffana.analysis.graph.Graph`)
with its loops run on a Dask cluster.

The configuration's samples are cut into partitions (`make_partitions`: files and
entry ranges). The configuration is sent to the workers once (``Client.scatter``);
a step then submits one task per partition (`diffana.distributed.worker
.fill_partition`) carrying only the partition and the parameter values, each
preferably on the worker that ran it the step before, where its compiled graph is
cached. The client gathers every result, adds each sample's partitions in their
fixed order (`diffana.distributed.merge.add`: exactly the same numbers whichever
worker finished first, and an error rather than a partial sum), then does what
`Graph.histograms` does after its loops: the skipped-events check over the whole
sample, the ``xsec * lumi / sum of weights`` scale from the whole sample's sum of
weights, the mirrored down variations.

Faults: a worker that dies in the middle of a step loses its tasks; the scheduler
runs them again on another worker (dask retries a task whose worker died, up to
``distributed.scheduler.allowed-failures`` times), and the sum is the same. A task
that raises (an unreadable partition: `InputError`; a failure inside ROOT:
`SampleError`, both naming the file and the entry range) stops the step with that
error; the other tasks of the step are cancelled.

May import numpy, dask.distributed (inside functions), `diffana.analysis`'s
``graph``, ``config`` and ``_errors``, and the modules of `diffana.distributed`
below it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..analysis._errors import ConfigError, ObjectiveError, SampleError
from ..analysis.config import Config, Sample
from ..analysis.graph import NOMINAL, Graph, Histograms, skipped_counts
from .cluster import check_count
from .merge import PartitionResult, SampleSum, add
from .partitions import Partition, make_partitions
from .worker import CACHE_SIZE, fill_partition

__all__ = ["DaskGraph", "StepTiming", "fingerprint"]


def fingerprint(config: Config) -> str:
    """The sha256 of the configuration (as JSON with sorted keys): the key of the
    workers' graph caches, together with the partition."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclasses.dataclass
class StepTiming:
    """Where one step's time went, in seconds: ``wall`` (submit to merged
    histograms, on the client), ``loops`` (the event loops, summed over
    partitions), ``longest_task`` (the longest partition's loop plus graph
    building), ``build`` (graphs built and compiled in this step, summed),
    ``merge`` (adding and scaling on the client) and the number of
    ``partitions``."""

    wall: float
    loops: float
    longest_task: float
    build: float
    merge: float
    partitions: int

    @property
    def overhead(self) -> float:
        """``wall`` minus the longest task: scheduling, transfers and the merge
        (an upper bound of them when partitions outnumber workers)."""
        return self.wall - self.longest_task


def _wait_all_or_first_error(futures: Sequence[Any]) -> None:
    """Wait until every future is done or one failed, in this thread: Ctrl-C then
    interrupts a plain ``Event.wait``, not dask's gather (which, interrupted,
    leaves a task whose traceback asyncio prints at exit)."""
    event = threading.Event()
    lock = threading.Lock()
    left = [len(futures)]

    def done(future: Any) -> None:
        with lock:
            left[0] -= 1
            if left[0] == 0 or future.status != "finished":
                event.set()

    for f in futures:
        f.add_done_callback(done)
    if futures:
        event.wait()


class DaskGraph(Graph):
    """A `Graph` whose event loops run on a Dask cluster, one task per partition.

    Parameters
    ----------
    config : Config
        The validated configuration.
    client : distributed.Client
        The cluster's client.
    files : mapping, optional
        Sample name -> files, instead of the configuration's.
    source : str
        What error messages name (the configuration file).
    partitions : sequence of Partition, optional
        The partitions (default: `make_partitions` with ``per_file`` ranges per
        file, by default enough to give every worker thread one partition).
    per_file, max_entries : int, optional
        Passed to `make_partitions`.
    graphs_per_worker : int
        The most partition graphs a worker keeps built (each compiled once; see
        `diffana.distributed.worker`).
    workers : sequence of str, optional
        Worker addresses the tasks must run on (default: any worker, preferably
        the one that ran the partition the step before).
    batch : int, optional
        Batched steps: after a first step over every partition, each step runs
        only the next ``batch`` partitions (in turn); the histograms are then
        the sum of the latest result of every partition, so the statistical
        model always sees the full statistics, made of partitions evaluated at
        the parameters of the last few steps. Default: every partition, every
        step.

    Nothing is compiled on the client: each worker builds and compiles a
    partition's graph the first time it runs it (a configuration error then
    comes back from the first step).
    """

    def __init__(
        self,
        config: Config,
        client: Any,
        files: Mapping[str, Sequence[str]] | None = None,
        source: str = "config",
        *,
        partitions: Sequence[Partition] | None = None,
        per_file: int | None = None,
        max_entries: int | None = None,
        graphs_per_worker: int = CACHE_SIZE,
        workers: Sequence[str] | None = None,
        batch: int | None = None,
    ) -> None:
        # Not Graph.__init__: no frame is built here, the workers build them.
        if getattr(config, "data", None) is not None:
            msg = (
                f"{source}: data: a configuration with observed data cannot run on "
                "a Dask cluster yet (run it without --scheduler/--workers)"
            )
            raise ConfigError(msg)
        self.config = config
        self.source = source
        self.client = client
        self.graphs_per_worker = graphs_per_worker
        self.workers = None if workers is None else list(workers)
        check_count("batch", batch)
        self.batch = batch
        self._latest: dict[int, PartitionResult] = {}  # partition -> its last result
        self._next = 0  # where the next batch starts
        self.edges = {o.name: np.asarray(o.edges, float) for o in config.observables}
        self.events: dict[str, int] = {}
        self.skipped = {}
        if partitions is None:
            if per_file is None:
                n_files = sum(
                    len(files[s.name]) if files else len(config.sample_files(s))
                    for s in config.samples
                )
                threads = sum(client.nthreads().values()) or 1
                per_file = max(1, math.ceil(threads / max(n_files, 1)))
            partitions = make_partitions(
                config, files, per_file=per_file, max_entries=max_entries, source=source
            )
        self.partitions = list(partitions)
        names = [s.name for s in config.samples]
        absent = [n for n in names if not any(p.sample == n for p in self.partitions)]
        if absent:
            msg = f"{source}: no partition reads the samples {absent}"
            raise ConfigError(msg)
        self.fingerprint = fingerprint(config)
        # Sent once; every task refers to it (only parameters travel per step).
        self._config = client.scatter(config, broadcast=True, hash=False)
        self._params = dict(config.param_values)
        self._loops = 0
        self._step = 0
        self._where: dict[int, str] = {}  # partition -> the worker that ran it last
        #: per step, where the time went
        self.timings: list[StepTiming] = []

    @property
    def n_loops(self) -> int:
        """Partition event loops run so far (all samples together)."""
        return self._loops

    @property
    def params(self) -> dict[str, float]:
        """The parameters of the last step (the configuration's before)."""
        return dict(self._params)

    # ---- one step -------------------------------------------------------------------

    def _submit(self, part: Partition, params: Mapping[str, float]) -> Any:
        where = self._where.get(part.index)
        if self.workers is not None:
            where = None  # strict: a preference would let it run elsewhere
        return self.client.submit(
            fill_partition,
            self._config,
            self.fingerprint,
            part,
            dict(params),
            self.source,
            self.graphs_per_worker,
            key=f"diffana-{self.fingerprint[:12]}-{self._step}-{part.index}",
            pure=False,
            # Where its graph is compiled; elsewhere if that worker is gone.
            workers=self.workers if where is None else [where],
            allow_other_workers=where is not None,
        )

    def results(
        self, params: Mapping[str, float], partitions: Sequence[Partition] | None = None
    ) -> list[PartitionResult]:
        """Run the event loops of ``partitions`` (default: all) at ``params`` on the
        cluster; their results in the partitions' order. Raises the first task's
        error (`InputError`, `SampleError`, ...) after cancelling the others; a
        task that killed its workers too often is a `SampleError` naming the
        partition."""
        from distributed.scheduler import KilledWorker

        parts = list(self.partitions if partitions is None else partitions)
        self._step += 1
        futures = [self._submit(p, params) for p in parts]
        try:
            _wait_all_or_first_error(futures)
            results: list[PartitionResult] = self.client.gather(futures)
        except KilledWorker as e:
            part = next(
                (p for p, f in zip(parts, futures, strict=True) if f.key == e.task),
                None,
            )
            msg = (
                f"{self.source}: {part or e.task}: its task ended the worker "
                f"process every time it ran ({e}); a crash inside ROOT?"
            )
            raise SampleError(msg) from None
        finally:
            self.client.cancel([f for f in futures if not f.done()])
        for r in results:
            self._where[r.partition.index] = r.worker
        self._loops += len(results)
        return results

    def _batch(self) -> list[Partition]:
        """The partitions of the next step: all of them, or (``batch``) the next
        ``batch`` in turn once every partition has a result."""
        n = len(self.partitions)
        if self.batch is None or len(self._latest) < n or self.batch >= n:
            return list(self.partitions)
        chosen = [self.partitions[(self._next + k) % n] for k in range(self.batch)]
        self._next = (self._next + self.batch) % n
        return chosen

    def histograms(self, params: Mapping[str, float]) -> Histograms:
        """Run every partition's event loop at ``params`` on the cluster (with
        ``batch``: the next batch of them); the scaled histograms of every
        sample, as `Graph.histograms`."""
        t0 = time.perf_counter()
        results = self.results(params, self._batch())
        t1 = time.perf_counter()
        self._latest.update((r.partition.index, r) for r in results)
        out = self.combine(list(self._latest.values()))
        t2 = time.perf_counter()
        self._params = dict(params)
        self.timings.append(
            StepTiming(
                wall=t2 - t0,
                loops=sum(r.loop_s for r in results),
                longest_task=max(r.loop_s + r.build_s for r in results),
                build=sum(r.build_s for r in results),
                merge=t2 - t1,
                partitions=len(results),
            )
        )
        return out

    # ---- the client's part ----------------------------------------------------------

    def sample_sums(self, results: Sequence[PartitionResult]) -> dict[str, SampleSum]:
        """Each sample's histograms, events and sum of weights, added over all its
        partitions (`merge.add`: fixed order, no partial sum)."""
        out = {}
        for s in self.config.samples:
            expected = [p for p in self.partitions if p.sample == s.name]
            mine = [r for r in results if r.partition.sample == s.name]
            out[s.name] = add(s.name, expected, mine)
        return out

    def combine(self, results: Sequence[PartitionResult]) -> Histograms:
        """The scaled histograms from every partition's result (see `sample_sums`):
        the skipped-events check, the scale and the mirrored variations of
        `Graph.histograms`."""
        return self.finish(self.sample_sums(results))

    def finish(self, sums: Mapping[str, SampleSum]) -> Histograms:
        """What `Graph.histograms` does after its loops, on whole samples."""
        out: Histograms = {}
        for sample in self.config.samples:
            name, total = sample.name, sums[sample.name]
            self.events[name] = total.events
            self.skipped[name] = skipped_counts({name: total.histograms})[name]
            self._check_skipped(name, self.skipped[name])
            k = self._factor(sample, total.sumw)
            out[name] = {
                c: {v: h.scaled(k) for v, h in hs.items()}
                for c, hs in total.histograms.items()
            }
            symmetrized = self._symmetrized(name)
            if not symmetrized:
                continue
            order = self.variations(name)
            for c, hs in out[name].items():
                for syst in symmetrized:
                    hs[f"{syst}_down"] = hs[f"{syst}_up"].mirrored(hs[NOMINAL])
                out[name][c] = {v: hs[v] for v in order}
        return out

    def _factor(self, sample: Sample, sumw: float | None) -> float:
        """``scale``, times ``xsec * lumi / sum of weights`` over the whole sample."""
        k = float(sample.scale)
        if sample.xsec is None:
            return k
        if sumw is None or not (sumw > 0 and math.isfinite(sumw)):
            msg = (
                f"{self.source}: sample {sample.name!r}: the sum of weights is "
                f"{sumw}; cannot normalize to xsec"
            )
            raise ObjectiveError(msg)
        return float(k * sample.xsec * self.config.lumi / sumw)

    def close(self) -> None:
        """Release the configuration sent to the workers."""
        self._config.release()
