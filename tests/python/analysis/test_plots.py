# SPDX-License-Identifier: BSD-3-Clause
"""The plots of an optimization (`diffana.analysis.plots`), drawn from a stand-in
analysis (the demo configuration, histograms made up here: no event loop): the
experiment label and luminosity, units on the axes, the same ranges in every
panel, the hard analysis' objective in the titles and its histograms in a second
row."""

from __future__ import annotations

import types

import numpy as np
import pytest

pytest.importorskip("mplhep")
pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")

import matplotlib

matplotlib.use("Agg")

from diffana.analysis import config as cfgmod
from diffana.analysis import demo, plots
from diffana.analysis.outputs import RunFolder

SAMPLES = ("signal", "ttbar", "qcd")
VARIATIONS = ("nominal", "pileup_up", "pileup_down", "jes_up", "jes_down")


def _histos(scale: float, edges: np.ndarray) -> dict:
    centre = 0.5 * (edges[1:] + edges[:-1])
    shapes = {
        "signal": 5.0 * np.exp(-0.5 * ((centre - 400.0) / 25.0) ** 2),
        "ttbar": 60.0 * np.exp(-(centre - 320.0) / 150.0),
        "qcd": 20.0 * np.exp(-(centre - 320.0) / 100.0),
    }
    out = {}
    for s in SAMPLES:
        v = shapes[s] * (scale if s != "signal" else 1.0)
        out[s] = {
            "sr": {
                var: types.SimpleNamespace(
                    values=v * (1.0 + 0.02 * (k % 2)), variances=0.1 * v
                )
                for k, var in enumerate(VARIATIONS)
            }
        }
    return out


@pytest.fixture(scope="module")
def config():
    raw = yaml.safe_load(demo.config_path().read_text())
    return cfgmod.load_dict(raw, ".", source="demo.yaml")


@pytest.fixture(scope="module")
def figures(config, tmp_path_factory):
    """The figures of a made-up optimization: backgrounds fall from x1 to x0.02,
    two steps; the hard analysis at both ends (histograms x1.1)."""
    edges = np.asarray(config.observables[0].edges)
    names = ["disc_cut", "pt2_cut"]

    def ev(scale, params, objective):
        return types.SimpleNamespace(
            params=params, objective=objective, histograms=_histos(scale, edges)
        )

    initial = ev(1.0, {"disc_cut": 0.3, "pt2_cut": 60.0}, 1.5)
    final = ev(0.02, {"disc_cut": 0.6, "pt2_cut": 150.0}, 4.4)
    history = [
        {"step": i, "objective": o, "params": p}
        for i, (o, p) in enumerate(
            [(1.5, initial.params), (3.0, {"disc_cut": 0.5, "pt2_cut": 100.0}),
             (4.4, final.params)]
        )
    ]  # fmt: skip
    analysis = types.SimpleNamespace(
        config=config, opt_names=names, edges={"sr": edges}
    )
    result = types.SimpleNamespace(initial=initial, final=final, history=history)
    hard = {
        "initial": {"objective": 1.6, "histograms": _histos(1.1, edges)},
        "final": {"objective": 5.4, "histograms": _histos(0.022, edges)},
    }
    out = tmp_path_factory.mktemp("plots")
    captured = {}
    plt = matplotlib.pyplot
    close = plt.close

    def keep(fig):  # the figures stay inspectable after plot() closes them
        captured[len(captured)] = fig

    plt.close = keep
    try:
        with RunFolder(out) as folder:
            files = plots.plot(analysis, result, folder, hard)
    finally:
        plt.close = close
    return files, captured[0], captured[1]


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_files_are_written(figures):
    files, _, _ = figures
    assert sorted(p.name for p in files) == [
        "histograms_sr.pdf", "histograms_sr.png",
        "optimization.pdf", "optimization.png",
    ]  # fmt: skip
    for p in files:
        assert p.stat().st_size > 10_000


def test_every_figure_has_the_experiment_label_and_the_luminosity(figures):
    _, opt, hist = figures
    for fig in (opt, hist):
        text = _texts(fig)
        assert "diffana" in text
        assert "Simulation" in text
        assert "1 fb$^{-1}$" in text


def test_axes_carry_units(figures):
    _, opt, hist = figures
    for ax in hist.axes:
        assert ax.get_xlabel() in ("", "$m_{jj}$ [GeV]")  # inner panels share
        assert ax.get_ylabel() in ("", "events / 20 GeV")
    assert {ax.get_xlabel() for ax in hist.axes} == {"", "$m_{jj}$ [GeV]"}
    labels = [ax.get_ylabel() for ax in opt.axes]
    assert labels[0] == "expected $Z_0$ [$\\sigma$]"
    assert labels[1:] == ["disc_cut", "pt2_cut"]  # no unit key in the config
    assert opt.axes[-1].get_xlabel() == "optimization step"


def test_before_and_after_panels_share_their_ranges(figures):
    _, _, hist = figures
    axes = hist.axes
    assert len(axes) == 4  # relaxed and hard, before and after
    assert len({ax.get_xlim() for ax in axes}) == 1
    assert len({ax.get_ylim() for ax in axes}) == 1
    assert axes[0].get_xlim() == (320.0, 480.0)
    # the smallest and the largest stack fit (a log scale: x1 to x0.02)
    edges = np.linspace(320.0, 480.0, 9)
    totals = [
        sum(h["sr"]["nominal"].values for h in _histos(scale, edges).values())
        for scale in (1.0, 0.02)
    ]
    lo, hi = axes[0].get_ylim()
    assert axes[0].get_yscale() == "log"
    assert lo < np.min(totals[1])
    assert hi > np.max(totals[0])


def test_titles_hold_the_relaxed_and_the_hard_objective(figures):
    _, opt, hist = figures
    text = _texts(hist)
    assert "before, relaxed analysis: objective 1.5 (hard 1.6)" in text
    assert "after, relaxed analysis: objective 4.4 (hard 5.4)" in text
    assert "before, hard analysis: objective 1.6" in text
    assert "after, hard analysis: objective 5.4" in text
    assert "disc_cut = 0.6, pt2_cut = 150" in text
    # the hard objective marked at the first and the last step
    legend = opt.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "relaxed analysis", "hard analysis",
    ]  # fmt: skip


def test_experiment_label_from_the_configuration():
    cfg = types.SimpleNamespace(
        lumi=138_000.0,
        plots=types.SimpleNamespace(label="CMS", text="Private Work", lumi=None),
    )
    assert plots.experiment_label(cfg) == ("CMS", "Private Work", "138 fb$^{-1}$")
    cfg.plots.lumi = "59.8 fb$^{-1}$ (13 TeV)"
    assert plots.experiment_label(cfg)[2] == "59.8 fb$^{-1}$ (13 TeV)"
