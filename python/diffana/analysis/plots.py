# SPDX-License-Identifier: BSD-3-Clause
"""The plots of an optimization (PNG and PDF): the objective and the optimized
parameters vs step (``optimization.*``), and per channel the stacked samples before
and after with the band of the systematics and the MC statistics
(``histograms_<channel>.*``).

`check_labels` renders the configuration's labels before the first event loop, so
that a label matplotlib cannot draw is a configuration error, not a traceback
after the optimization.

May import matplotlib and mplhep (inside functions), numpy, and `diffana.analysis`'s
``_errors``, ``config``, ``evaluation``, ``graph``, ``optimizer`` (types and names
only) and ``outputs`` (atomic writes).
"""

from __future__ import annotations

import pathlib

import numpy as np

from ._errors import ConfigError
from .config import Config, NormSystematic
from .evaluation import Analysis
from .graph import NOMINAL
from .optimizer import OptimizationResult
from .outputs import RunFolder

__all__ = ["check_labels", "plot"]


def check_labels(config: Config) -> None:
    """Raise `ConfigError` naming the key of the first observable label that
    matplotlib cannot render (e.g. unbalanced mathtext ``$``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    for i, obs in enumerate(config.observables):
        label = obs.label or obs.expression
        fig = Figure()
        fig.text(0, 0, label)
        try:
            FigureCanvasAgg(fig).draw()  # type: ignore[no-untyped-call]
        except (ValueError, RuntimeError) as e:
            first = (
                str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            )
            msg = (
                f"observables[{i}].label: matplotlib cannot render {label!r} "
                f"({first}); escape a literal $ as \\$"
            )
            raise ConfigError(msg) from None


def plot(
    analysis: Analysis, result: OptimizationResult, out: RunFolder
) -> list[pathlib.Path]:
    """Objective and parameters vs step; stacked histograms before/after with the
    systematic band, per channel. PNG and PDF, each written atomically; returns
    the files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    cfg = analysis.config
    files: list[pathlib.Path] = []
    plt.style.use(mplhep.style.CMS)
    names = analysis.opt_names
    steps = [h["step"] for h in result.history]
    fig, axes = plt.subplots(
        1 + len(names), 1, figsize=(9, 3 + 2.2 * len(names)), sharex=True
    )
    axes[0].plot(steps, [h["objective"] for h in result.history], marker=".")
    axes[0].set_ylabel(cfg.objective.type.replace("_", "\n"), fontsize="x-small")
    for ax, n in zip(axes[1:], names, strict=True):
        ax.plot(steps, [h["params"][n] for h in result.history], marker=".")
        ax.set_ylabel(n, fontsize="x-small")
    axes[-1].set_xlabel("step")
    fig.align_ylabels(axes)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        files.append(out.save_figure(fig, f"optimization.{ext}"))
    plt.close(fig)

    bkg = [s.name for s in cfg.samples if s.role == "background"]
    sig = [s.name for s in cfg.samples if s.role == "signal"]
    for obs in cfg.observables:
        ch = obs.name
        edges = analysis.edges[ch]
        fig, axes = plt.subplots(1, 2, figsize=(16, 7))
        for ax, (title, ev) in zip(
            axes, (("before", result.initial), ("after", result.final)), strict=True
        ):
            h = ev.histograms
            vals = [h[n][ch][NOMINAL].values for n in bkg + sig]
            mplhep.histplot(
                vals, edges, stack=True, histtype="fill", label=bkg + sig, ax=ax
            )
            total = np.sum(vals, axis=0)
            err2 = np.zeros_like(total)
            for n in bkg + sig:
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
            err = np.sqrt(err2)
            ax.stairs(
                total + err,
                edges,
                baseline=total - err,
                fill=True,
                alpha=0.3,
                color="grey",
                hatch="///",
                label="syst. + MC stat.",
            )
            pars = ", ".join(f"{n} = {ev.params[n]:.3g}" for n in names)
            ax.set_title(
                f"{title}: objective {ev.objective:.4g}\n{pars}", fontsize="x-small"
            )
            ax.set_xlabel(obs.label or obs.expression, fontsize="small")
            ax.set_ylim(0, 1.4 * float(np.max(total + err)))
            ax.legend(fontsize="x-small", ncols=2)
        for ax in axes:
            ax.set_ylabel("events / bin")
        fig.tight_layout()
        for ext in ("png", "pdf"):
            files.append(out.save_figure(fig, f"histograms_{ch}.{ext}"))
        plt.close(fig)
    return files
