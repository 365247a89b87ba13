# SPDX-License-Identifier: BSD-3-Clause
"""Events skipped by the histograms (a weight that is not finite, e.g. a division by
zero, or a NaN observable) are counted per sample, channel and variation, reported on
the evaluation, and stop the run past ``max_skipped_fraction``."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import yaml

from diffana.analysis import config as cfgmod
from diffana.analysis._errors import SkippedEventsError
from diffana.generators import toy

pytestmark = pytest.mark.root

EVENTS = {"signal": 600, "ttbar": 300, "qcd": 600}
ZERO_PU = 0.1  # the share of signal events whose puWeight is 0


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> tuple[pathlib.Path, dict[str, np.ndarray]]:
    """The demo's samples, with ``puWeight = 0`` in 10 % of the signal events (the
    pile-up variations' weight ``genWeight * puWeightUp / puWeight`` is then inf or
    NaN there); returns the folder and the signal's branches."""
    pytest.importorskip("uproot", reason="uproot is not installed")
    folder = tmp_path_factory.mktemp("skipped")
    signal: dict[str, np.ndarray] = {}
    for k, (name, n) in enumerate(EVENTS.items()):
        branches = toy.make_sample(name, n, np.random.default_rng([5, k]))
        if name == "signal":
            zero = np.random.default_rng(9).random(n) < ZERO_PU
            pu = np.asarray(branches["puWeight"]).copy()
            pu[zero] = 0.0
            branches["puWeight"] = pu
            signal = branches
        toy._write(folder / f"{name}.root", branches)
    return folder, signal


def demo_config(folder: pathlib.Path, **extra: object) -> cfgmod.Config:
    raw = yaml.safe_load(_demo_yaml().read_text())
    for s in raw["samples"]:
        s["files"] = str(folder / f"{s['name']}.root")
    raw.update(extra)
    return cfgmod.load_dict(raw, folder, source="demo.yaml")


def _demo_yaml() -> pathlib.Path:
    from diffana.analysis.demo import config_path

    return config_path()


def expected_skipped(signal: dict[str, np.ndarray]) -> int:
    """Signal events that reach the histograms (``nJet >= 2``) with puWeight 0."""
    n_jet = np.asarray(signal["nJet"])
    return int(np.sum((np.asarray(signal["puWeight"]) == 0) & (n_jet >= 2)))


def test_too_many_skipped_events_stop_the_run(samples):
    from diffana.analysis.graph import Graph

    folder, signal = samples
    graph = Graph(demo_config(folder), source="demo.yaml")
    with pytest.raises(SkippedEventsError) as err:
        graph.histograms(demo_config(folder).param_values)
    text = str(err.value)
    del err  # the traceback holds the graph: let its compiled code be reused
    n = expected_skipped(signal)
    assert n > 0.05 * EVENTS["signal"]
    assert "\n" not in text
    for part in (
        "sample 'signal'",
        "channel 'sr'",
        "variation 'pileup_",
        f"{n} of {EVENTS['signal']} events",
        f"({n / EVENTS['signal']:.3g})",
        "max_skipped_fraction = 0.001",
        "raise max_skipped_fraction",
    ):
        assert part in text
    # What was counted before the error is kept.
    assert graph.events["signal"] == EVENTS["signal"]
    assert graph.skipped["signal"]["sr"]["nominal"] == 0


def test_skipped_events_are_reported(samples):
    pytest.importorskip("jax", reason="JAX is not installed")
    from diffana.analysis.evaluation import Analysis

    folder, signal = samples
    # asimov_significance: no fit to compile, the counts are the point here.
    config = demo_config(
        folder, max_skipped_fraction=1.0, objective={"type": "asimov_significance"}
    )
    analysis = Analysis(config, source="demo.yaml")
    ev = analysis.evaluate()
    n = expected_skipped(signal)
    sig = ev.skipped["signal"]["sr"]
    assert sig["nominal"] == 0
    assert sig["pileup_up"] == n
    assert sig["pileup_down"] == n
    assert sig["jes_up"] == 0
    assert ev.skipped["ttbar"]["sr"] == dict.fromkeys(sig, 0)
    assert ev.events == {"signal": 600, "ttbar": 300, "qcd": 600}
    assert ev.n_skipped == {"signal": n, "ttbar": 0, "qcd": 0}
    assert analysis.graph.skipped == ev.skipped


def test_a_fraction_under_the_limit_passes(samples):
    from diffana.analysis.graph import Graph

    folder, signal = samples
    limit = expected_skipped(signal) / EVENTS["signal"]  # exactly at the limit
    config = demo_config(folder, max_skipped_fraction=limit)
    graph = Graph(config, source="demo.yaml")
    histos = graph.histograms(config.param_values)
    assert histos["signal"]["sr"]["pileup_up"].n_skipped == expected_skipped(signal)


def test_nan_observable_and_infinite_weight_are_counted(samples):
    """Division by zero in an observable (NaN) and in the sample weight (inf)."""
    from diffana.analysis.graph import Graph

    folder, _ = samples
    raw = {
        "samples": [
            {"name": "s", "files": str(folder / "signal.root"), "role": "signal",
             "weight": "disc > 0.5 ? 1.0 / (disc - disc) : 1.0"},
            {"name": "b", "files": str(folder / "ttbar.root"), "role": "background"},
        ],
        "parameters": [{"name": "c", "value": 1.0, "bounds": [0.0, 2.0]}],
        "observables": [
            {"name": "a", "expression": "c * disc", "bins": [0.0, 0.5, 1.0]},
            {"name": "z", "expression": "disc < 0.2 ? 0.0 / (disc - disc) : c",
             "bins": [0.0, 2.0]},
        ],
        "objective": {"type": "asimov_significance"},
        "max_skipped_fraction": 1.0,
    }  # fmt: skip
    config = cfgmod.load_dict(raw, folder)
    graph = Graph(config)
    graph.histograms(config.param_values)
    import uproot

    with uproot.open(folder / "signal.root") as f:
        disc = f["Events"]["disc"].array(library="np")
    assert graph.skipped["s"]["a"]["nominal"] == int(np.sum(disc > 0.5))
    assert graph.skipped["s"]["z"]["nominal"] == int(np.sum(disc > 0.5)) + int(
        np.sum(disc < 0.2)
    )
    assert graph.skipped["b"]["z"]["nominal"] > 0
    assert graph.skipped["b"]["a"]["nominal"] == 0
