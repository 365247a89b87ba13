# SPDX-License-Identifier: BSD-3-Clause
"""What ``diffana optimize`` and ``diffana evaluate`` run: `run` (load, build,
optimize, report, plot) and `run_evaluate` (one evaluation as JSON), with the
comparison of the relaxed optimum with the hard analysis (`hard_comparison`) and the
``--files`` items (`file_overrides`).

The before/after summary is logged (logger ``diffana.analysis.driver``: INFO,
warnings of the optimizer as WARNING); the command line shows it as plain lines.

May import every other module of `diffana.analysis` except ``demo``; ROOT (through
`diffana.rdf`) for ``threads`` only; `diffana.distributed.cluster` (inside
functions) for ``scheduler``/``workers`` (the event loops on a Dask cluster).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import ConfigError, InputError, ObjectiveError
from ._schema_networks import split_by_network
from .config import Config, check_inputs, load
from .evaluation import Analysis, Evaluation
from .graph import NOMINAL, Graph
from .optimizer import OptimizationResult, optimize
from .outputs import (
    CHECKPOINT,
    OutputError,
    RunFolder,
    check_file_target,
    network_weights,
    write_atomic,
)
from .plots import check_labels, plot
from .report import evaluation_report, report, skipped_lines

log = logging.getLogger(__name__)

__all__ = [
    "RunInterrupted",
    "file_overrides",
    "hard_comparison",
    "run",
    "run_evaluate",
]


def _fmt_params(
    params: Mapping[str, float], names: Sequence[str], config: Config
) -> str:
    """``"a = 1  b = 2  nn: 49 weights, |w| = 3.1"``: a network's weights as one
    entry (all of them are in the report)."""
    plain, networks = split_by_network(config, names)
    parts = [f"{n} = {params[n]:.4g}" for n in plain]
    parts += [
        f"{net}: {len(ws)} weights, |w| = {np.linalg.norm([params[w] for w in ws]):.4g}"
        for net, ws in networks.items()
    ]
    return "  ".join(parts)


def _sayer(quiet: bool) -> Callable[[str], None]:
    """The summary's lines: logged at INFO, or nothing when ``quiet``."""

    def say(text: str) -> None:
        if not quiet:
            log.info(text)

    return say


class RunInterrupted(Exception):
    """A run stopped by SIGINT or SIGTERM; the message says what was kept and how
    to continue (``signum``: the signal)."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


class _Interrupts:
    """SIGINT and SIGTERM while a run is in progress: each raises KeyboardInterrupt
    and is also *recorded*, because the exception can be swallowed on its way (a
    signal that lands inside a JAX computation or a C++ call comes back as an
    ordinary error, which an objective that may fail catches). `check` raises
    again before anything that would call the run good (a checkpoint, the
    marker of a complete run). Main thread only: elsewhere signals cannot be
    handled."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def check(self) -> None:
        """Raise KeyboardInterrupt if a signal arrived since the run began."""
        if self.signum is not None:
            raise KeyboardInterrupt(signal.Signals(self.signum).name)

    @contextlib.contextmanager
    def installed(self) -> Iterator[_Interrupts]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, frame: Any) -> None:
            self.signum = signum
            raise KeyboardInterrupt(signal.Signals(signum).name)

        previous = {
            s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield self
        finally:
            for s, h in previous.items():
                signal.signal(s, h)


def _non_finite_key(data: Any, path: str = "") -> str | None:
    if isinstance(data, float) and not np.isfinite(data):
        return path or "."
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for k, v in items:
        found = _non_finite_key(v, f"{path}.{k}" if path else str(k))
        if found is not None:
            return found
    return None


def _dumps(rep: Mapping[str, Any]) -> str:
    """The report as strict JSON; a NaN or infinity in it is an `ObjectiveError`
    naming where (JSON has no such numbers, and a report must not hide one)."""
    try:
        return json.dumps(rep, indent=1, allow_nan=False)
    except ValueError:
        msg = f"the report holds a non-finite number at {_non_finite_key(dict(rep))}"
        raise ObjectiveError(msg) from None


def _fingerprint(config: Config) -> dict[str, Any]:
    """The configuration as its checkpoint records it (JSON types, sorted keys)."""
    data: dict[str, Any] = json.loads(
        json.dumps(config.model_dump(mode="json"), sort_keys=True)
    )
    return data


def _checked_resume(folder: RunFolder, config: Config) -> dict[str, Any]:
    state = folder.load_checkpoint()
    then, now = state.get("config"), _fingerprint(config)
    if then != now:
        keys = sorted(
            k for k in set(then or {}) | set(now) if (then or {}).get(k) != now.get(k)
        )
        msg = (
            f"--resume: the checkpoint in {folder.path} was made with another "
            f"configuration (differs in: {', '.join(keys)}); run it with the same "
            "configuration and --set items, or start again with --force"
        )
        raise OutputError(msg)
    return state


def run(
    config_file: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    quiet: bool = False,
    json_file: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    check_gradient: bool = False,
    plots: bool = True,
    stdout: Any = None,
    threads: int | None = None,
    force: bool = False,
    resume: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    batch: int | None = None,
    max_entries: int | None = None,
) -> dict[str, Any]:
    """Load, build, optimize, report (``report.json``, the workspaces and plots in
    ``out``, see `diffana.analysis.outputs`); returns the report. Logs the
    before/after summary (INFO) unless ``quiet``. ``threads``: run the event loops with
    ROOT's implicit multithreading (N threads; None or 0: off).

    ``out`` is checked and locked before the first event loop; a previous run's
    outputs there are refused unless ``force`` (moved into ``previous/``) or, for
    an interrupted run, ``resume`` (continue from its checkpoint, written after
    every step). SIGINT and SIGTERM raise `RunInterrupted` after the last complete
    step's checkpoint; every file is written atomically and the marker of a
    complete run last. ``scheduler`` (a Dask scheduler's address) or ``workers``
    (a LocalCluster of N processes): the event loops run on Dask
    (`diffana.distributed`); there, ``batch``: each optimizer step after the first
    runs the event loops of only that many partitions (of at most ``max_entries``
    entries) and the model sees the latest result of every partition; every other
    evaluation (the start, the gradient check, the end, the hard analysis) runs
    them all. ``stdout``: the stream whose being a terminal turns on the
    live progress display (default ``sys.stdout``); the summary is logged."""
    stream = stdout if stdout is not None else sys.stdout
    say = _sayer(quiet)

    t0 = time.perf_counter()
    config = load(config_file, overrides)
    if json_file is not None:
        check_file_target(json_file, "--json")
    if resume and out is None:
        msg = "--resume needs --out: the folder of the interrupted run"
        raise OutputError(msg)
    if plots and out is not None:
        check_labels(config)
    folder = RunFolder(out, force=force, resume=resume) if out is not None else None
    with contextlib.ExitStack() as stack:
        if folder is not None:
            stack.enter_context(folder)
        interrupts = stack.enter_context(_Interrupts().installed())
        # ``scheduler``/``workers``: every Analysis built inside runs on Dask.
        from ..distributed.cluster import optional_cluster

        stack.enter_context(
            optional_cluster(scheduler, workers, batch=batch, max_entries=max_entries)
        )
        try:
            return _run(config, config_file, folder, json_file, check_gradient,
                        plots, threads, say, t0, stream, quiet, interrupts)  # fmt: skip
        except KeyboardInterrupt as e:
            term = interrupts.signum == signal.SIGTERM or str(e) == "SIGTERM"
            kept = (
                f"; the checkpoint in {folder.path} holds the last complete step: "
                "the same command with --resume continues it"
                if folder is not None and folder.file(CHECKPOINT).exists()
                else "; nothing was kept"
            )
            name = "SIGTERM" if term else "SIGINT"
            signum = signal.SIGTERM if term else signal.SIGINT
            raise RunInterrupted(f"interrupted ({name}){kept}", signum) from None


def _run(
    config: Config,
    config_file: str | os.PathLike[str],
    folder: RunFolder | None,
    json_file: str | os.PathLike[str] | None,
    check_gradient: bool,
    plots: bool,
    threads: int | None,
    say: Callable[[str], None],
    t0: float,
    stream: Any,
    quiet: bool,
    interrupts: _Interrupts,
) -> dict[str, Any]:
    resume = None
    if folder is not None and folder.resume:
        resume = _checked_resume(folder, config)
    if threads:
        from .. import rdf

        rdf._import_root().EnableImplicitMT(int(threads))
    analysis = Analysis(config, source=str(config_file))
    batch = _unbatched(analysis)  # only the optimizer's steps are batched
    t_build = time.perf_counter() - t0
    names = analysis.opt_names
    initial = analysis.evaluate()
    t_first = time.perf_counter() - t0 - t_build
    extra: dict[str, Any] = {}
    say(f"objective: {config.objective.type} ({config.objective.direction})")
    say(
        f"start:  {_fmt_params(initial.params, names, config)}   objective = {initial.objective:.6g}"
    )
    for line in skipped_lines(initial.skipped, initial.events):
        say(f"skipped events (non-finite weight or NaN observable): {line}")
    if resume is not None:
        say(f"resuming after step {resume['step']} (checkpoint in {folder.path})")  # type: ignore[union-attr]
    if check_gradient:
        fd = analysis.finite_difference(initial.params)
        extra["gradient_check"] = {
            "gradient": {n: initial.gradient[n] for n in names},
            "finite_difference": fd,
        }
        for n in names:
            say(
                f"        d/d{n} = {initial.gradient[n]: .6e}   (finite differences: {fd[n]: .6e})"
            )
    tty = getattr(stream, "isatty", lambda: False)()
    fingerprint = _fingerprint(config)

    def checkpoint(state: dict[str, Any]) -> None:
        interrupts.check()  # a step evaluated while interrupted is not kept
        if folder is not None:
            folder.save_checkpoint({"format": 1, "config": fingerprint, **state})

    if batch is not None:
        analysis.graph.batch = batch  # type: ignore[attr-defined]
    result = optimize(
        analysis,
        progress=not quiet and tty,
        initial=initial,
        checkpoint=checkpoint,
        resume=resume,
    )
    if _unbatched(analysis) is not None:
        # The last step's histograms mixed partitions of several steps: the
        # report's end point is evaluated on every partition.
        result = dataclasses.replace(
            result, final=analysis.evaluate(result.final.params)
        )
    for warning in result.warnings:
        if not quiet:
            log.warning(warning)
    say(
        f"end:    {_fmt_params(result.final.params, names, config)}   objective = {result.final.objective:.6g}"
    )
    say(
        f"        {result.message} ({result.seconds:.1f} s, {analysis.n_loops} event loops)"
    )
    if result.best_step != result.history[-1]["step"]:
        best = result.best
        say(
            f"best:   {_fmt_params(best['params'], names, config)}   objective = "
            f"{best['objective']:.6g} (step {best['step']})"
        )
    extra["timing"] = {
        "build_s": t_build,
        "first_evaluation_s": t_first,
        "optimization_s": result.seconds,
    }
    if _is_relaxed(config):
        hard_histograms: dict[str, Any] = {}
        extra["hard"] = hard_comparison(
            config, result, str(config_file), hard_histograms
        )
        for which, label in (("initial", "start:"), ("final", "end:")):
            h = extra["hard"][which]
            value = f"{h['objective']:.6g}" if h["objective"] is not None else "-"
            error = f"   ({h['error']})" if "error" in h else ""
            say(f"hard analysis at the {label:<7}objective = {value}{error}")
    interrupts.check()
    rep = report(analysis, result, os.fspath(config_file), extra)
    text = _dumps(rep)
    if folder is not None:
        written = [folder.write_text("report.json", text)]
        for which in ("initial", "final"):
            written.append(
                folder.write_json(f"workspace_{which}.json", rep["workspaces"][which])
            )
        if plots:
            hard = extra.get("hard")
            if hard is not None:  # the hard histograms are plotted, not reported
                hard = {w: {**hard[w], "histograms": hard_histograms[w]}
                        for w in hard if w in hard_histograms}  # fmt: skip
            written += plot(analysis, result, folder, hard)
        for name, text in network_weights(config, result.final.params).items():
            written.append(folder.write_text(name, text))
        interrupts.check()
        folder.complete([p.name for p in written])
        say("wrote " + ", ".join(str(p) for p in written))
    if json_file is not None:
        interrupts.check()
        write_atomic(json_file, text)
    return rep


def _unbatched(analysis: Analysis) -> int | None:
    """Switch off a Dask graph's batched steps (`diffana.distributed.DaskGraph`'s
    ``batch``): every partition in every later evaluation. Returns the batch size
    it had (None for a local graph or unbatched steps)."""
    batch: int | None = getattr(analysis.graph, "batch", None)
    if batch is not None:
        analysis.graph.batch = None  # type: ignore[attr-defined]
    return batch


def _is_relaxed(config: Config) -> bool:
    """Whether the analysis marks relaxation scales (``relaxation: true``): then
    `run` also evaluates the hard analysis at the start and at the end."""
    return any(p.relaxation for p in config.parameters)


def hard_comparison(
    config: Config,
    result: OptimizationResult,
    source: str = "config",
    histograms: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The hard analysis (`Config.hard`: relaxation scales 0, hard bins) at the start
    and at the end of an optimization: ``{"initial"|"final": {"params",
    "objective"}}``, with ``"error"`` (and objective None) where the hard
    objective cannot be evaluated (e.g. an empty bin). ``histograms``: a dict that
    receives the hard histograms (``"initial"``, ``"final"``), for the plots."""
    hard = config.hard()
    analysis = Analysis(hard, source=source)
    _unbatched(analysis)
    zeros = {p.name: 0.0 for p in hard.parameters if p.relaxation}
    out: dict[str, Any] = {}
    for which, ev in (("initial", result.initial), ("final", result.final)):
        params = {**ev.params, **zeros}
        entry: dict[str, Any] = {"params": params, "objective": None}
        try:
            histos = analysis.histograms({**hard.param_values, **params})
            if histograms is not None:
                histograms[which] = histos
            entry["objective"] = analysis.objective_value(histos)[0]
        except ObjectiveError as e:
            entry["error"] = str(e)
        out[which] = entry
    return out


def file_overrides(config: Config, items: Sequence[str]) -> dict[str, list[str]]:
    """``--files`` items -> {sample: [files]}: ``SAMPLE=F`` gives one sample's
    files; a plain ``F`` is given to every sample not named that way. Raises
    ConfigError for an unknown sample."""
    names = [s.name for s in config.samples]
    if config.data is not None:  # the data's files are given by name only
        names.append(config.data.name)
    named: dict[str, list[str]] = {}
    plain: list[str] = []
    for item in items:
        key, sep, path = item.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_]\w*", key) and not os.path.exists(item):
            if key not in names:
                msg = f"--files {item!r}: no sample {key!r} (samples: {names})"
                raise ConfigError(msg)
            named.setdefault(key, []).append(path)
        else:
            plain.append(item)
    out = dict(named)
    if plain:
        data = config.data.name if config.data is not None else None
        out.update({n: plain for n in names if n not in named and n != data})
    return out


def run_evaluate(
    config_file: str | os.PathLike[str],
    files: Sequence[str] = (),
    overrides: Sequence[str] = (),
    hard: bool = False,
    json_file: str | os.PathLike[str] | None = None,
    quiet: bool = False,
    stdout: Any = None,
    threads: int | None = None,
    out: str | os.PathLike[str] | None = None,
    outgrad: str | os.PathLike[str] | None = None,
    ingrad: Sequence[str | os.PathLike[str]] = (),
    scheduler: str | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """``diffana evaluate``: one event loop per sample at the configuration's
    parameters (after ``overrides``), histograms with Jacobians and the objective
    with its gradient; ``hard``: the hard analysis (`Config.hard`). Writes the
    report to ``json_file`` and logs a summary unless ``quiet``; returns the
    report (with ``"error"`` when the objective could not be evaluated).

    ``out`` and ``outgrad``: the histograms as a yields file and their Jacobians
    as its forward gradient file, with provenance (`diffana.chain.yields`), for
    the next program of a chain (``diffana infer``); written even when the
    objective cannot be evaluated.

    ``ingrad``: gradient files of input event files (``diffana select
    --outgrad``), each paired with its values file by sha256: those samples' dual
    columns carry their tangents, so the Jacobians are d yields / d parameters
    through the earlier stages (`diffana.chain.events.Inputs`).

    The summary is logged (INFO) unless ``quiet``; ``stdout`` is not used (kept for
    the callers that pass it)."""
    say = _sayer(quiet)

    source = str(config_file)
    # Inputs with tangents, or Parquet, are checked once converted (chain.events).
    carry = bool(ingrad) or any(str(f).lower().endswith(".parquet") for f in files)
    config = load(config_file, overrides, check_files=not files and not carry)
    if json_file is not None:
        check_file_target(json_file, "--json")
    if outgrad is not None and out is None:
        msg = "--outgrad needs --out: the yields file the gradient belongs to"
        raise OutputError(msg)
    for target, option in ((out, "--out"), (outgrad, "--outgrad")):
        if target is not None:
            check_file_target(target, option)
    if files:
        config = config.with_files(file_overrides(config, files))
        if not carry:
            check_inputs(config, source=source)
    if hard:
        config = config.hard()
    if threads:
        from .. import rdf

        rdf._import_root().EnableImplicitMT(int(threads))
    t0 = time.perf_counter()
    carry = carry or any(
        f.lower().endswith(".parquet")
        for s in config.samples
        for f in config.sample_files(s)
    )
    if carry and (scheduler is not None or workers is not None):
        msg = (
            f"{source}: inputs with tangents (--ingrad) or in Parquet are read in "
            "this process, not on a Dask cluster: run without --scheduler/--workers"
        )
        raise ConfigError(msg)
    if carry:
        from ..chain.events import Inputs
        from ..chain.record import ChainError

        try:  # held until the end: the event loops read the copies in its folder
            carried = Inputs(config, ingrad)
        except ChainError as e:
            raise InputError(f"{source}: {e}") from None
        graph = Graph(config, carried.paths, source, tangents=carried.tangents)
        analysis = Analysis(config, source=source, graph=graph)
    params = dict(config.param_values)
    from ..distributed.cluster import optional_cluster

    with optional_cluster(scheduler, workers):  # the event loops on Dask
        if not carry:
            analysis = Analysis(config, source=source)
        histos = analysis.histograms(params)
    ev: Evaluation | None = None
    error = None
    try:
        ev = analysis.evaluation(params, histos)
    except ObjectiveError as e:
        error = str(e)
    rep = evaluation_report(analysis, ev, histos)
    rep.update(
        config_file=source,
        hard=hard,
        event_loops=analysis.n_loops,
        seconds=time.perf_counter() - t0,
    )
    if error is not None:
        rep["error"] = error
    say(
        f"{'hard' if hard else 'relaxed'} analysis: {_fmt_params(params, list(params), config)}"
    )
    for ch in analysis.channels:
        yields = "  ".join(
            f"{s} = {float(np.sum(histos[s][ch][NOMINAL].values)):.6g}" for s in histos
        )
        say(f"  {ch}: {yields}")
    for line in skipped_lines(analysis.graph.skipped, analysis.events):
        say(f"skipped events (non-finite weight or NaN observable): {line}")
    if ev is not None:
        say(f"objective: {config.objective.type} = {ev.objective:.6g}")
        plain, networks = split_by_network(config, analysis.opt_names)
        for n in plain:
            say(f"  d/d{n} = {ev.gradient[n]: .6e}")
        for net, ws in networks.items():
            g = np.array([ev.gradient[w] for w in ws])
            k = int(np.argmax(np.abs(g)))
            say(
                f"  d/d({net}'s {len(ws)} weights): norm {np.linalg.norm(g):.6e}, "
                f"largest d/d{ws[k]} = {g[k]: .6e} (each one in --json)"
            )
    if json_file is not None:
        write_atomic(json_file, _dumps(rep))
        say(f"wrote {json_file}")
    if out is not None:
        # diffana.chain imports this package's modules: imported here, not above.
        from ..chain.yields import write_yields

        write_yields(out, outgrad, histos, params, config, "diffana evaluate")
        say(f"wrote {out}" + ("" if outgrad is None else f" and {outgrad}"))
    return rep
