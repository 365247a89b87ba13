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

With ``reverse`` networks (their weights reverse-mode parameters, the two-pass
adjoint of `diffana.rdf.adjoint`; `diffana.analysis.evaluation.Analysis` routes
large networks there), a step is pass 1 as above: the partitions' Jacobians cover
the other parameters only, and the client pads them with 0 for the weights, as
`Graph.histograms` does. `reverse_gradient` is pass 2: the client pulls the
statistics' cotangents of the final histograms back to each sample's booked ones
(`diffana.analysis._network_gradient.sample_cotangents`, the code `Graph` uses),
submits one task per partition (`diffana.distributed.worker.adjoint_partition`:
the partition's adjoint event loop at the parameters of its pass 1), and adds the
gradient vectors in the partitions' order (`diffana.distributed.merge
.add_gradients`). Each worker holds one vector of the weights, never anything per
event. With ``batch``, pass 2 runs on every partition each step, each at the
parameters of its latest pass 1: the weights' gradient of the batched histograms
(what forward mode would give for them), so batching then saves pass-1 loops
only.

Faults: a worker that dies in the middle of a step loses its tasks; the scheduler
runs them again on another worker (dask retries a task whose worker died, up to
``distributed.scheduler.allowed-failures`` times), and the sum is the same. A task
that raises (an unreadable partition: `InputError`; a failure inside ROOT:
`SampleError`, both naming the file and the entry range) stops the step with that
error; the other tasks of the step are cancelled.

May import numpy, dask.distributed (inside functions), `diffana.analysis`'s
``graph``, ``config``, ``_errors`` and ``_network_gradient``, and the modules of
`diffana.distributed` below it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ..analysis import _network_gradient as netgrad
from ..analysis._errors import ConfigError, ObjectiveError, SampleError
from ..analysis.config import Config, Sample
from ..analysis.graph import NOMINAL, Graph, Histograms, skipped_counts
from .cluster import check_count
from .merge import AdjointResult, PartitionResult, SampleSum, add, add_gradients
from .partitions import Partition, make_partitions
from .worker import CACHE_SIZE, adjoint_partition, fill_partition

__all__ = ["DaskGraph", "StepTiming", "fingerprint"]


def fingerprint(config: Config, reverse: Sequence[str] = ()) -> str:
    """The sha256 of the configuration (as JSON with sorted keys) and of the
    networks whose weights are reverse-mode parameters (they make other graphs):
    the key of the workers' graph caches, together with the partition."""
    dump: Any = config.model_dump(mode="json")
    if reverse:
        dump = {"config": dump, "reverse": list(reverse)}
    text = json.dumps(dump, sort_keys=True)
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
        step. With ``reverse``, pass 2 still runs on every partition (see the
        module's docstring).
    reverse : collection of str, optional
        Networks whose weights are reverse-mode parameters (as `Graph`'s
        ``reverse``): the histograms' Jacobians are 0 in their columns and
        `reverse_gradient` runs the adjoint event loop on every partition.

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
        reverse: Collection[str] = (),
    ) -> None:
        # Not Graph.__init__: no frame is built here, the workers build them.
        if getattr(config, "data", None) is not None:
            msg = (
                f"{source}: data: a configuration with observed data cannot run on "
                "a Dask cluster yet (run it without --scheduler/--workers)"
            )
            raise ConfigError(msg)
        unknown = sorted(set(reverse) - set(config.networks))
        if unknown:
            msg = f"reverse: {unknown} are not networks of the configuration"
            raise ValueError(msg)
        self.config = config
        self.source = source
        self.reverse = tuple(n for n in config.networks if n in set(reverse))
        self.client = client
        self.graphs_per_worker = graphs_per_worker
        self.workers = None if workers is None else list(workers)
        check_count("batch", batch)
        self.batch = batch
        self._latest: dict[int, PartitionResult] = {}  # partition -> its last result
        # partition -> the parameters of its last result (its pass 2 runs there)
        self._latest_params: dict[int, dict[str, float]] = {}
        # sample -> its scale factor and booked histograms (channel -> variations)
        # in the last step, for pulling cotangents back to the partitions
        self._scales: dict[str, float] = {}
        self._booked: dict[str, dict[str, tuple[str, ...]]] = {}
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
        self.fingerprint = fingerprint(config, self.reverse)
        # Sent once; every task refers to it (only parameters travel per step).
        self._config = client.scatter(config, broadcast=True, hash=False)
        self._params = dict(config.param_values)
        self._loops = 0
        self._step = 0
        self._where: dict[int, str] = {}  # partition -> the worker that ran it last
        #: per step, where the time went
        self.timings: list[StepTiming] = []
        #: per `reverse_gradient` (the adjoint loops), where the time went
        self.adjoint_timings: list[StepTiming] = []

    @property
    def n_loops(self) -> int:
        """Partition event loops run so far (all samples together)."""
        return self._loops

    @property
    def params(self) -> dict[str, float]:
        """The parameters of the last step (the configuration's before)."""
        return dict(self._params)

    # ---- one step -------------------------------------------------------------------

    def _submit(self, task: Callable[..., Any], part: Partition, *args: Any) -> Any:
        """Submit ``task(config, fingerprint, part, *args, source, graphs per
        worker, reverse)``, preferably where the partition ran last."""
        where = self._where.get(part.index)
        if self.workers is not None:
            where = None  # strict: a preference would let it run elsewhere
        kind = "adjoint-" if task is adjoint_partition else ""
        return self.client.submit(
            task,
            self._config,
            self.fingerprint,
            part,
            *args,
            self.source,
            self.graphs_per_worker,
            self.reverse,
            key=f"diffana-{kind}{self.fingerprint[:12]}-{self._step}-{part.index}",
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
        parts = list(self.partitions if partitions is None else partitions)
        results: list[PartitionResult] = self._run_tasks(
            parts, lambda p: self._submit(fill_partition, p, dict(params))
        )
        self._loops += len(results)
        return results

    def _run_tasks(
        self, parts: Sequence[Partition], submit: Callable[[Partition], Any]
    ) -> list[Any]:
        """One task per partition (``submit``), their results in order, with the
        error handling of `results`."""
        from distributed.scheduler import KilledWorker

        self._step += 1
        futures = [submit(p) for p in parts]
        try:
            _wait_all_or_first_error(futures)
            results: list[Any] = self.client.gather(futures)
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
        self._latest_params.update((r.partition.index, dict(params)) for r in results)
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
            raw = total.histograms
            if self.reverse:
                raw = netgrad.padded(raw, self.config)  # 0 in the weights' columns
            self.events[name] = total.events
            self.skipped[name] = skipped_counts({name: raw})[name]
            self._check_skipped(name, self.skipped[name])
            k = self._factor(sample, total.sumw)
            self._scales[name] = k
            self._booked[name] = {c: tuple(hs) for c, hs in raw.items()}
            out[name] = {
                c: {v: h.scaled(k) for v, h in hs.items()} for c, hs in raw.items()
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

    def reverse_gradient(
        self,
        cotangents: Mapping[str, Mapping[str, Mapping[str, netgrad.Cotangent]]],
        histos: Histograms,
    ) -> dict[str, float]:
        """`Graph.reverse_gradient` on the cluster: the cotangents of ``histos``
        (those the last `histograms` returned) pulled back to each sample's booked
        histograms here, one adjoint event loop per partition on the workers (each
        at the parameters of the partition's latest pass 1), the gradient vectors
        added in the partitions' order. Errors as `results`."""
        if not self.reverse:
            return {}
        names = {n: self.config.network(n).param_names() for n in self.reverse}
        size = netgrad.n_weights(names)
        seeds: dict[str, dict[tuple[str, str], netgrad.Cotangent]] = {}
        for sample in self.config.samples:
            name = sample.name
            booked = {c: dict.fromkeys(vs) for c, vs in self._booked[name].items()}
            loops = netgrad.SampleLoops(
                name, self._scales[name], tuple(self._symmetrized(name)), booked
            )
            seeds[name] = netgrad.sample_cotangents(loops, cotangents, histos, NOMINAL)
        # Small (bins x variations): sent with every task of their sample.
        parts = [p for p in self.partitions if seeds[p.sample]]
        t0 = time.perf_counter()
        results: list[AdjointResult] = self._run_tasks(
            parts,
            lambda p: self._submit(
                adjoint_partition,
                p,
                self._latest_params[p.index],
                seeds[p.sample],
                size,
            ),
        )
        t1 = time.perf_counter()
        self._loops += len(results)
        total = add_gradients(parts, results, size)
        if results:
            self.adjoint_timings.append(
                StepTiming(
                    wall=time.perf_counter() - t0,
                    loops=sum(r.loop_s for r in results),
                    longest_task=max(r.loop_s + r.build_s for r in results),
                    build=sum(r.build_s for r in results),
                    merge=time.perf_counter() - t1,
                    partitions=len(results),
                )
            )
        return netgrad.by_weight(names, total)

    def close(self) -> None:
        """Release the configuration sent to the workers."""
        self._config.release()
