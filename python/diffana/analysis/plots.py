# SPDX-License-Identifier: BSD-3-Clause
"""The plots of an optimization (PNG and PDF): the objective and the optimized
parameters vs step (``optimization.*``; a network as one panel, how far its
weights moved from the start), and per channel the stacked samples before
and after with the band of the systematics and the MC statistics
(``histograms_<channel>.*``): the relaxed analysis and, when the configuration has
relaxation scales, the hard analysis under it, every panel with the same axis ranges
and its objective in the title.

Every figure carries an experiment label and the luminosity (mplhep's
``label.exp_label``): the configuration's ``plots.label`` and ``plots.text`` when it
has them (else ``diffana`` and ``Simulation``) and its ``lumi`` (1/pb) in fb⁻¹.
Axes carry units: an observable's from its ``unit`` key or the ``[...]`` at the end
of its label (``$m_{jj}$ [GeV]``), a parameter's from its ``unit`` key.

`check_labels` renders the configuration's labels before the first event loop, so
that a label matplotlib cannot draw is a configuration error, not a traceback
after the optimization.

May import matplotlib and mplhep (inside functions, through
`diffana._optional.import_optional`), numpy, and `diffana.analysis`'s ``_errors``,
``config``, ``evaluation``, ``graph``, ``optimizer`` (types and names only) and
``outputs`` (atomic writes), ``_schema_networks`` (which parameters are a network's
weights).
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._optional import import_optional
from ._errors import ConfigError
from ._schema_networks import split_by_network
from .config import Config, NormSystematic
from .evaluation import Analysis
from .graph import NOMINAL, Histograms
from .optimizer import OptimizationResult
from .outputs import RunFolder

__all__ = ["axis_unit", "check_labels", "experiment_label", "plot"]

_FEATURE = "diffana.analysis.plots"

#: objective type -> its axis label (others: the type's words)
_OBJECTIVE_LABELS = {
    "discovery_significance": "expected $Z_0$ [$\\sigma$]",
    "asimov_significance": "Asimov $Z_A$ [$\\sigma$]",
    "cls": "expected $CL_s$",
    "poi_uncertainty": "expected $\\sigma_\\mu$",
}


def axis_unit(label: str, unit: str | None = None) -> str | None:
    """The unit of an axis: ``unit`` when given, else the ``[...]`` that ends
    ``label``; None when there is neither.

    Examples
    --------
    >>> axis_unit("$m_{jj}$ [GeV]"), axis_unit("score"), axis_unit("x", "cm")
    ('GeV', None, 'cm')
    """
    if unit:
        return unit
    found = re.search(r"\[([^\[\]]+)\]\s*$", label)
    return found.group(1) if found else None


def experiment_label(config: Config) -> tuple[str, str, str]:
    """(label, text, luminosity text) of the plots: ``plots.label`` (default
    ``diffana``), ``plots.text`` (default ``Simulation``) and ``plots.lumi`` or
    else the configuration's ``lumi`` (1/pb) written in fb⁻¹.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> experiment_label(SimpleNamespace(lumi=3378.0))
    ('diffana', 'Simulation', '3.378 fb$^{-1}$')
    >>> cfg = SimpleNamespace(lumi=1000.0, plots=SimpleNamespace(label="CMS"))
    >>> experiment_label(cfg)
    ('CMS', 'Simulation', '1 fb$^{-1}$')
    """
    plots = getattr(config, "plots", None)
    label = getattr(plots, "label", None) or "diffana"
    text = getattr(plots, "text", None)
    lumi = getattr(plots, "lumi", None)
    if lumi is None:
        lumi = f"{float(getattr(config, 'lumi', 1.0)) / 1000.0:.4g} fb$^{{-1}}$"
    return str(label), "Simulation" if text is None else str(text), str(lumi)


def _label(ax: Any, config: Config) -> None:
    mplhep = import_optional("mplhep", _FEATURE)
    label, text, lumi = experiment_label(config)
    # llabel/rlabel: the same call in mplhep 0.3 and 1.x
    mplhep.label.exp_label(exp=label, llabel=text, rlabel=lumi, loc=0, ax=ax)


def check_labels(config: Config) -> None:
    """Raise `ConfigError` naming the key of the first observable label that
    matplotlib cannot render (e.g. unbalanced mathtext ``$``)."""
    agg = import_optional("matplotlib.backends.backend_agg", _FEATURE)
    figure = import_optional("matplotlib.figure", _FEATURE)

    for i, obs in enumerate(config.observables):
        label = obs.label or obs.expression
        fig = figure.Figure()
        fig.text(0, 0, label)
        try:
            agg.FigureCanvasAgg(fig).draw()
        except (ValueError, RuntimeError) as e:
            first = (
                str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            )
            msg = (
                f"observables[{i}].label: matplotlib cannot render {label!r} "
                f"({first}); escape a literal $ as \\$"
            )
            raise ConfigError(msg) from None


def _band(
    cfg: Config, h: Histograms, ch: str, names: Sequence[str]
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The samples' nominal values, their sum and its uncertainty (MC statistics
    and every systematic, each the larger of its up and down shifts, in
    quadrature)."""
    vals = [h[n][ch][NOMINAL].values for n in names]
    total = np.sum(vals, axis=0)
    err2 = np.zeros_like(total)
    for n in names:
        nom = h[n][ch][NOMINAL]
        if cfg.mc_stat:
            err2 += nom.variances
        for sy in cfg.systematics:
            if not sy.applies_to(n):
                continue
            if isinstance(sy, NormSystematic):
                d = max(abs(sy.hi - 1), abs(sy.lo - 1)) * nom.values
            else:
                up = h[n][ch][f"{sy.name}_up"].values
                dn = h[n][ch][f"{sy.name}_down"].values
                d = np.maximum(abs(up - nom.values), abs(dn - nom.values))
            err2 += d**2
    return vals, total, np.sqrt(err2)


def _events_label(edges: np.ndarray, unit: str | None) -> str:
    widths = np.diff(edges)
    if np.allclose(widths, widths[0], rtol=1e-9, atol=0):
        return f"events / {widths[0]:.3g}" + (f" {unit}" if unit else "")
    return "events / bin"


def _param_label(name: str, unit: str | None) -> str:
    return f"{name} [{unit}]" if unit else name


def _optimization_figure(
    plt: Any,
    analysis: Analysis,
    result: OptimizationResult,
    hard: Mapping[str, Any] | None,
) -> Any:
    cfg = analysis.config
    # One panel per parameter, and one per network for how far its weights moved.
    names, networks = split_by_network(cfg, analysis.opt_names)
    units = {p.name: getattr(p, "unit", None) for p in cfg.parameters}
    steps = [h["step"] for h in result.history]
    panels = len(names) + len(networks)
    fig, axes = plt.subplots(
        1 + panels, 1, figsize=(9, 3.5 + 2.2 * panels), sharex=True
    )
    ax0 = axes[0]
    ax0.plot(steps, [h["objective"] for h in result.history], marker=".",
             label="relaxed analysis")  # fmt: skip
    if hard is not None:
        points = [
            (s, hard[w]["objective"])
            for s, w in ((steps[0], "initial"), (steps[-1], "final"))
            if hard.get(w, {}).get("objective") is not None
        ]
        if points:
            ax0.plot(*zip(*points, strict=True), "s", color="black",
                     label="hard analysis")  # fmt: skip
        ax0.legend(fontsize="x-small")
    ax0.set_ylabel(
        _OBJECTIVE_LABELS.get(cfg.objective.type, cfg.objective.type.replace("_", " ")),
        fontsize="x-small",
    )
    for ax, n in zip(axes[1:], names, strict=False):
        ax.plot(steps, [h["params"][n] for h in result.history], marker=".")
        ax.set_ylabel(_param_label(n, units[n]), fontsize="x-small")
    for ax, (net, ws) in zip(axes[1 + len(names) :], networks.items(), strict=True):
        start = np.array([result.history[0]["params"][w] for w in ws])
        moved = [
            np.linalg.norm(np.array([h["params"][w] for w in ws]) - start)
            for h in result.history
        ]
        ax.plot(steps, moved, marker=".")
        ax.set_ylabel(f"{net}: |w - w_start|\n({len(ws)} weights)", fontsize="x-small")
    axes[-1].set_xlabel("optimization step")
    axes[-1].xaxis.set_major_locator(
        import_optional("matplotlib.ticker", _FEATURE).MaxNLocator(integer=True)
    )
    _label(ax0, cfg)
    fig.align_ylabels(axes)
    fig.tight_layout()
    return fig


def plot(
    analysis: Analysis,
    result: OptimizationResult,
    out: RunFolder,
    hard: Mapping[str, Any] | None = None,
) -> list[pathlib.Path]:
    """Objective and parameters vs step; stacked histograms before/after with the
    systematic band, per channel. PNG and PDF, each written atomically; returns
    the files.

    ``hard``: the hard analysis at the start and the end (`hard_comparison`'s
    ``{"initial"|"final": {"objective": ...}}``, each entry optionally with its
    ``"histograms"``): its objective is marked and written in the titles, and its
    histograms are drawn in a second row under the relaxed ones."""
    matplotlib = import_optional("matplotlib", _FEATURE)
    matplotlib.use("Agg")
    plt = import_optional("matplotlib.pyplot", _FEATURE)
    mplhep = import_optional("mplhep", _FEATURE)

    files: list[pathlib.Path] = []
    with plt.style.context(mplhep.style.CMS):
        fig = _optimization_figure(plt, analysis, result, hard)
        for ext in ("png", "pdf"):
            files.append(out.save_figure(fig, f"optimization.{ext}"))
        plt.close(fig)
        for obs in analysis.config.observables:
            fig = _histograms_figure(plt, mplhep, analysis, result, hard, obs)
            for ext in ("png", "pdf"):
                files.append(out.save_figure(fig, f"histograms_{obs.name}.{ext}"))
            plt.close(fig)
    return files


def _histograms_figure(
    plt: Any,
    mplhep: Any,
    analysis: Analysis,
    result: OptimizationResult,
    hard: Mapping[str, Any] | None,
    obs: Any,
) -> Any:
    cfg = analysis.config
    names, networks = split_by_network(cfg, analysis.opt_names)
    units = {p.name: getattr(p, "unit", None) for p in cfg.parameters}
    order = [s.name for s in cfg.samples if s.role == "background"] + [
        s.name for s in cfg.samples if s.role == "signal"
    ]
    ch = obs.name
    edges = analysis.edges[ch]
    xlabel = obs.label or obs.expression
    unit = axis_unit(xlabel, getattr(obs, "unit", None))
    rows: list[tuple[str, Mapping[str, Any]]] = [
        ("relaxed", {w: {"histograms": ev.histograms, "objective": ev.objective}
                     for w, ev in (("initial", result.initial), ("final", result.final))}),
    ]  # fmt: skip
    if hard is not None and all(
        "histograms" in hard.get(w, {}) for w in ("initial", "final")
    ):
        rows.append(("hard", hard))
    fig, axes = plt.subplots(
        len(rows), 2, figsize=(16, 7 * len(rows)), sharex=True, sharey=True,
        squeeze=False,
    )  # fmt: skip
    top, low = 0.0, np.inf
    for r, (kind, states) in enumerate(rows):
        for c, (which, when, ev) in enumerate(
            (("initial", "before", result.initial), ("final", "after", result.final))
        ):
            ax = axes[r][c]
            vals, total, err = _band(cfg, states[which]["histograms"], ch, order)
            mplhep.histplot(
                vals, edges, stack=True, histtype="fill", label=order, ax=ax
            )
            ax.stairs(
                total + err, edges, baseline=total - err, fill=True, alpha=0.3,
                color="grey", hatch="///", label="syst. + MC stat.",
            )  # fmt: skip
            top = max(top, float(np.max(total + err)))
            if np.any(total > 0):
                low = min(low, float(np.min(total[total > 0])))
            value = states[which].get("objective")
            objective = "-" if value is None else f"{value:.4g}"
            title = f"{when}, {kind} analysis: objective {objective}"
            if kind == "relaxed" and hard is not None:
                h = hard.get(which, {}).get("objective")
                if h is not None:
                    title += f" (hard {h:.4g})"
            pars = ", ".join(
                [
                    f"{n} = {ev.params[n]:.3g}" + (f" {units[n]}" if units[n] else "")
                    for n in names
                ]
                + [f"{net} ({len(ws)} weights)" for net, ws in networks.items()]
            )
            ax.text(0.03, 0.96, f"{title}\n{pars}", transform=ax.transAxes,
                    fontsize="x-small", va="top")  # fmt: skip
            ax.legend(fontsize="x-small", ncols=2, loc="upper right",
                      bbox_to_anchor=(1.0, 0.86))  # fmt: skip
            _label(ax, cfg)
            ax.set_xlabel(xlabel, fontsize="small")
            ax.set_ylabel(_events_label(edges, unit), fontsize="small")
            ax.label_outer()
    # Shared axes: the same ranges in every panel. A logarithmic scale, since an
    # optimized selection keeps a small fraction of the events it starts with;
    # room above for the text and the legend.
    axes[0][0].set_xlim(float(edges[0]), float(edges[-1]))
    if top > 0 and np.isfinite(low):
        axes[0][0].set_yscale("log")
        axes[0][0].set_ylim(0.3 * low, top * (top / (0.3 * low)) ** 0.6)
    else:
        axes[0][0].set_ylim(0, 1.0)
    fig.tight_layout()
    return fig
