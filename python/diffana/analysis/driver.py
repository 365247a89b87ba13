# SPDX-License-Identifier: BSD-3-Clause
"""What ``diffana optimize`` and ``diffana evaluate`` run: `run` (load, build,
optimize, report, plot) and `run_evaluate` (one evaluation as JSON), with the
comparison of the relaxed optimum with the hard analysis (`hard_comparison`) and the
``--files`` items (`file_overrides`).

May import every other module of `diffana.analysis` except ``demo``; ROOT (through
`diffana.rdf`) for ``threads`` only.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import ConfigError, ObjectiveError
from .config import Config, check_inputs, load
from .evaluation import Analysis, Evaluation
from .graph import NOMINAL
from .optimizer import OptimizationResult, optimize
from .plots import plot
from .report import evaluation_report, report

__all__ = ["file_overrides", "hard_comparison", "run", "run_evaluate"]


def _fmt_params(params: Mapping[str, float], names: Sequence[str]) -> str:
    return "  ".join(f"{n} = {params[n]:.4g}" for n in names)


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
) -> dict[str, Any]:
    """Load, build, optimize, report (``report.json`` and plots in ``out``);
    returns the report. Prints the before/after summary unless ``quiet``.
    ``threads``: run the event loops with ROOT's implicit multithreading (N
    threads; None or 0: off)."""
    stream = stdout if stdout is not None else sys.stdout

    def say(text: str) -> None:
        if not quiet:
            print(text, file=stream, flush=True)

    t0 = time.perf_counter()
    config = load(config_file, overrides)
    if threads:
        from .. import rdf

        rdf._import_root().EnableImplicitMT(int(threads))
    analysis = Analysis(config, source=str(config_file))
    t_build = time.perf_counter() - t0
    names = analysis.opt_names
    initial = analysis.evaluate()
    t_first = time.perf_counter() - t0 - t_build
    extra: dict[str, Any] = {}
    say(f"objective: {config.objective.type} ({config.objective.direction})")
    say(
        f"start:  {_fmt_params(initial.params, names)}   objective = {initial.objective:.6g}"
    )
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
    result = optimize(analysis, progress=not quiet and tty, initial=initial)
    say(
        f"end:    {_fmt_params(result.final.params, names)}   objective = {result.final.objective:.6g}"
    )
    say(
        f"        {result.message} ({result.seconds:.1f} s, {analysis.n_loops} event loops)"
    )
    extra["timing"] = {
        "build_s": t_build,
        "first_evaluation_s": t_first,
        "optimization_s": result.seconds,
    }
    if _is_relaxed(config):
        extra["hard"] = hard_comparison(config, result, str(config_file))
        for which, label in (("initial", "start:"), ("final", "end:")):
            h = extra["hard"][which]
            value = f"{h['objective']:.6g}" if h["objective"] is not None else "-"
            error = f"   ({h['error']})" if "error" in h else ""
            say(f"hard analysis at the {label:<7}objective = {value}{error}")
    rep = report(analysis, result, os.fspath(config_file), extra)
    if out is not None:
        folder = pathlib.Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.json").write_text(json.dumps(rep, indent=1))
        for which in ("initial", "final"):
            (folder / f"workspace_{which}.json").write_text(
                json.dumps(rep["workspaces"][which], indent=1)
            )
        written = [folder / "report.json"]
        if plots:
            written += plot(analysis, result, folder)
        say("wrote " + ", ".join(str(p) for p in written))
    if json_file is not None:
        pathlib.Path(json_file).write_text(json.dumps(rep, indent=1))
    return rep


def _is_relaxed(config: Config) -> bool:
    """Whether the analysis marks relaxation scales (``relaxation: true``): then
    `run` also evaluates the hard analysis at the start and at the end."""
    return any(p.relaxation for p in config.parameters)


def hard_comparison(
    config: Config, result: OptimizationResult, source: str = "config"
) -> dict[str, Any]:
    """The hard analysis (`Config.hard`: relaxation scales 0, hard bins) at the start
    and at the end of an optimization: ``{"initial"|"final": {"params",
    "objective"}}``, with ``"error"`` (and objective None) where the hard
    objective cannot be evaluated (e.g. an empty bin)."""
    hard = config.hard()
    analysis = Analysis(hard, source=source)
    zeros = {p.name: 0.0 for p in hard.parameters if p.relaxation}
    out: dict[str, Any] = {}
    for which, ev in (("initial", result.initial), ("final", result.final)):
        params = {**ev.params, **zeros}
        entry: dict[str, Any] = {"params": params, "objective": None}
        try:
            entry["objective"] = analysis.objective_at(params)
        except ObjectiveError as e:
            entry["error"] = str(e)
        out[which] = entry
    return out


def file_overrides(config: Config, items: Sequence[str]) -> dict[str, list[str]]:
    """``--files`` items -> {sample: [files]}: ``SAMPLE=F`` gives one sample's
    files; a plain ``F`` is given to every sample not named that way. Raises
    ConfigError for an unknown sample."""
    names = [s.name for s in config.samples]
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
        out.update({n: plain for n in names if n not in named})
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
) -> dict[str, Any]:
    """``diffana evaluate``: one event loop per sample at the configuration's
    parameters (after ``overrides``), histograms with Jacobians and the objective
    with its gradient; ``hard``: the hard analysis (`Config.hard`). Writes the
    report to ``json_file`` and prints a summary unless ``quiet``; returns the
    report (with ``"error"`` when the objective could not be evaluated)."""
    stream = stdout if stdout is not None else sys.stdout

    def say(text: str) -> None:
        if not quiet:
            print(text, file=stream, flush=True)

    source = str(config_file)
    config = load(config_file, overrides, check_files=not files)
    if files:
        config = config.with_files(file_overrides(config, files))
        check_inputs(config, source=source)
    if hard:
        config = config.hard()
    if threads:
        from .. import rdf

        rdf._import_root().EnableImplicitMT(int(threads))
    t0 = time.perf_counter()
    analysis = Analysis(config, source=source)
    params = dict(config.param_values)
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
        f"{'hard' if hard else 'relaxed'} analysis: {_fmt_params(params, list(params))}"
    )
    for ch in analysis.channels:
        yields = "  ".join(
            f"{s} = {float(np.sum(histos[s][ch][NOMINAL].values)):.6g}" for s in histos
        )
        say(f"  {ch}: {yields}")
    if ev is not None:
        say(f"objective: {config.objective.type} = {ev.objective:.6g}")
        for n in analysis.opt_names:
            say(f"  d/d{n} = {ev.gradient[n]: .6e}")
    if json_file is not None:
        pathlib.Path(json_file).write_text(json.dumps(rep, indent=1))
        say(f"wrote {json_file}")
    return rep
