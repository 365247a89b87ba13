# SPDX-License-Identifier: BSD-3-Clause
"""The JSON an analysis writes: the report of ``diffana optimize`` (``report.json``)
and the evaluation of ``diffana evaluate``.

May import `diffana.analysis`'s ``evaluation``, ``graph`` (types), ``optimizer``
(types) and the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..hist import GradHistogram
from .evaluation import Analysis, Evaluation
from .graph import Histograms, Skipped
from .optimizer import OptimizationResult

__all__ = [
    "by_channel",
    "evaluation_report",
    "histograms_json",
    "report",
    "skipped_json",
    "skipped_lines",
]


def histograms_json(histos: Histograms) -> dict[str, Any]:
    """sample -> channel -> variation -> `diffana.GradHistogram.to_json`."""
    return {
        s: {c: {v: h.to_json() for v, h in vs.items()} for c, vs in cs.items()}
        for s, cs in histos.items()
    }


def by_channel(
    histos: Histograms,
    channels: Sequence[str],
    fields: Callable[[GradHistogram], dict[str, Any]],
) -> dict[str, Any]:
    """channel -> sample -> variation -> ``fields(histogram)``: the layout of the
    histograms in the JSON of ``diffana evaluate`` and of yields files.

    Examples
    --------
    >>> import diffana
    >>> h = diffana.histogram([0.5], [0.0, 1.0])
    >>> by_channel({"s": {"sr": {"nominal": h}}}, ["sr"], lambda h: {"n": h.nbins})
    {'sr': {'s': {'nominal': {'n': 1}}}}
    """
    return {
        ch: {s: {v: fields(h) for v, h in histos[s][ch].items()} for s in histos}
        for ch in channels
    }


def skipped_json(skipped: Skipped, events: Mapping[str, int]) -> dict[str, Any]:
    """Per sample: the events read and the events skipped (a non-finite weight or a
    NaN observable) per channel and variation."""
    return {
        s: {"events": int(events.get(s, 0)), "skipped": skipped[s]} for s in skipped
    }


def skipped_lines(skipped: Skipped, events: Mapping[str, int]) -> list[str]:
    """One console line per sample that skipped events: the largest count, its
    share, and where (channel and variation), e.g. ``signal: 400 of 4000 events
    (10 %) skipped in sr pileup_up, sr pileup_down``.

    Examples
    --------
    >>> skipped_lines({"s": {"sr": {"nominal": 0, "pu_up": 5}}}, {"s": 100})
    ['s: 5 of 100 events (5 %) skipped in sr pu_up']
    """
    out = []
    for s, chans in skipped.items():
        where = [(n, f"{c} {v}") for c, vs in chans.items() for v, n in vs.items()]
        worst = max((n for n, _ in where), default=0)
        if worst == 0:
            continue
        total = int(events.get(s, 0))
        share = f" ({100 * worst / total:.3g} %)" if total else ""
        at = ", ".join(w for n, w in where if n == worst)
        out.append(f"{s}: {worst} of {total} events{share} skipped in {at}")
    return out


def _objective(analysis: Analysis) -> dict[str, Any]:
    objective = analysis.config.objective
    return {"type": objective.type, "direction": objective.direction.value}


def report(
    analysis: Analysis,
    result: OptimizationResult,
    config_file: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of an optimization (a dict, ``report.json``): the configuration,
    the objective and its direction, how it ended (``status``, ``message``,
    ``warnings``), the events skipped at the start and at the end (`skipped_json`),
    the start, end and best points, the final gradient's norm (also
    in the optimizer's coordinates scaled to the bounds), every step, the
    histograms and the workspaces before and after; ``extra`` added."""
    model = analysis.model
    bounds = {p.name: p.bounds for p in analysis.config.parameters}
    grad = [result.final.gradient[n] for n in analysis.opt_names]
    scaled = [
        g * (bounds[n][1] - bounds[n][0])  # type: ignore[index]
        for g, n in zip(grad, analysis.opt_names, strict=True)
    ]
    best = result.best

    def point(ev: Evaluation) -> dict[str, Any]:
        return {"params": ev.params, "objective": ev.objective, "gradient": ev.gradient}

    out = {
        "config_file": config_file,
        "config": analysis.config.model_dump(mode="json"),
        "objective": _objective(analysis),
        "status": result.status.value,
        "message": result.message,
        "warnings": list(result.warnings),
        "steps": len(result.history) - 1,
        "seconds": result.seconds,
        "event_loops": analysis.n_loops,
        "initial": point(result.initial),
        "final": point(result.final),
        "best": {
            "step": best["step"],
            "params": best["params"],
            "objective": best["objective"],
        },
        "gradient_norm": {
            "final": math.hypot(*grad),
            "final_scaled": math.hypot(*scaled),
        },
        "history": result.history,
        "skipped_events": {
            which: skipped_json(ev.skipped, ev.events)
            for which, ev in (("initial", result.initial), ("final", result.final))
        },
        "histograms": {
            "param_names": list(analysis.param_names),
            "initial": histograms_json(result.initial.histograms),
            "final": histograms_json(result.final.histograms),
        },
        "workspaces": {
            "initial": model.plain_workspace(result.initial.histograms),
            "final": model.plain_workspace(result.final.histograms),
        },
    }
    out.update(extra or {})
    return out


def evaluation_report(
    analysis: Analysis, ev: Evaluation | None, histos: Histograms
) -> dict[str, Any]:
    """The JSON of ``diffana evaluate``: ``param_names``, ``skipped_events`` (see
    `skipped_json`), ``histograms`` (region -> sample -> variation -> edges,
    values, variances, jacobian) and ``objective``
    (type, direction, value, gradient; value None when it could not be evaluated)."""
    cfg = analysis.config
    hist = by_channel(
        histos,
        analysis.channels,
        lambda h: {
            "edges": h.edges.tolist(),
            "values": h.values.tolist(),
            "variances": h.variances.tolist(),
            "jacobian": h.jacobian.tolist(),
        },
    )
    return {
        "param_names": list(analysis.param_names),
        "params": analysis.graph.params if ev is None else ev.params,
        "skipped_events": skipped_json(analysis.graph.skipped, analysis.events),
        "bandwidths": {o.name: o.bandwidth for o in cfg.observables},
        "histograms": hist,
        "objective": {
            **_objective(analysis),
            "value": None if ev is None else ev.objective,
            "gradient": None if ev is None else ev.gradient,
        },
    }
