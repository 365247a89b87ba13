# SPDX-License-Identifier: BSD-3-Clause
"""A network's weights in what a person reads: the optimization plot draws one panel
per network (how far its weights moved) instead of one per weight, and the log
lines show a network as one entry. A network of 10^3 weights used to make a plot
with 10^3 panels that took minutes to draw."""

from __future__ import annotations

import types

import numpy as np
import pytest

pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")

from diffana.analysis import config as cfgmod
from diffana.analysis import demo
from diffana.analysis._schema_networks import split_by_network


@pytest.fixture(scope="module")
def config():
    """The demo configuration with network ``nn`` (2 inputs, 3 hidden units: 13
    weights)."""
    raw = yaml.safe_load(demo.config_path().read_text())
    raw["networks"] = {"nn": {"inputs": ["pt2", "disc"], "layers": [3, 1], "seed": 2}}
    return cfgmod.load_dict(raw, ".", source="demo.yaml")


def _weights(config):
    return [p.name for p in config.parameters if p.name.startswith("nn__")]


def test_split_by_network_keeps_the_order_of_the_other_parameters(config):
    weights = _weights(config)
    assert len(weights) == 13
    names = ["pt2_cut", *weights[:4], "disc_cut", *weights[4:]]
    plain, networks = split_by_network(config, names)
    assert plain == ["pt2_cut", "disc_cut"]
    assert networks == {"nn": weights}
    assert split_by_network(config, ["disc_cut"]) == (["disc_cut"], {})


def test_log_lines_show_a_network_as_one_entry(config):
    from diffana.analysis.driver import _fmt_params

    weights = _weights(config)
    params = {"disc_cut": 0.3, "pt2_cut": 60.0} | dict.fromkeys(weights, 0.5)
    line = _fmt_params(params, ["disc_cut", "pt2_cut", *weights], config)
    norm = np.sqrt(13 * 0.25)
    assert line == f"disc_cut = 0.3  pt2_cut = 60  nn: 13 weights, |w| = {norm:.4g}"


def test_the_optimization_plot_has_one_panel_per_network(config):
    pytest.importorskip("mplhep")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from diffana.analysis import plots

    weights = _weights(config)
    names = ["disc_cut", "pt2_cut", *weights]
    start = {"disc_cut": 0.3, "pt2_cut": 60.0} | dict.fromkeys(weights, 0.0)
    moved = start | dict.fromkeys(weights, 0.5)  # |w - w_start| = sqrt(13) / 2
    history = [
        {"step": 0, "objective": 1.0, "params": start},
        {"step": 1, "objective": 2.0, "params": moved},
    ]
    analysis = types.SimpleNamespace(config=config, opt_names=names)
    result = types.SimpleNamespace(history=history)
    fig = plots._optimization_figure(plt, analysis, result, None)
    try:
        assert [ax.get_ylabel() for ax in fig.axes[1:]] == [
            "disc_cut", "pt2_cut", "nn: |w - w_start|\n(13 weights)",
        ]  # fmt: skip
        y = fig.axes[-1].get_lines()[0].get_ydata()
        np.testing.assert_allclose(y, [0.0, np.sqrt(13) / 2], rtol=1e-15)
    finally:
        plt.close(fig)


def test_error_messages_name_a_network_as_one_entry(config):
    pytest.importorskip("jax")
    from diffana.analysis.evaluation import Analysis

    params = {"disc_cut": 0.3, "pt2_cut": 60.0} | dict.fromkeys(_weights(config), 0.1)
    analysis = Analysis(config, graph=types.SimpleNamespace(params=params))
    assert analysis._params_text() == "disc_cut = 0.3, pt2_cut = 60, nn (13 weights)"
