# SPDX-License-Identifier: BSD-3-Clause
"""Analyses of the same statistics share one jitted objective
(`diffana.analysis.evaluation._statistics_key`): the hard analysis that every
`diffana optimize` builds beside the relaxed one paid seconds of XLA compilation
for the same function again."""

from __future__ import annotations

import types

import numpy as np
import pytest

pytest.importorskip("pydantic")
pytest.importorskip("jax")
pytest.importorskip("equinox")

from diffana.analysis import demo
from diffana.analysis.config import load
from diffana.analysis.evaluation import Analysis


def _analysis(config):
    # No event loop is needed: the objective is built from the configuration.
    return Analysis(config, graph=types.SimpleNamespace())


def test_the_hard_analysis_reuses_the_relaxed_ones_objective():
    cfg = load(demo.config_path(), check_files=False)
    relaxed, hard = _analysis(cfg), _analysis(cfg.hard())
    assert hard._value_and_grad is relaxed._value_and_grad
    moved = cfg.model_copy(
        update={
            "parameters": [
                p.model_copy(update={"value": p.value + 1.0}) for p in cfg.parameters
            ]
        }
    )
    assert _analysis(moved)._value_and_grad is relaxed._value_and_grad


def test_other_statistics_get_their_own_objective():
    cfg = load(demo.config_path(), check_files=False)
    base = _analysis(cfg)
    lumi = _analysis(cfg.model_copy(update={"lumi": 2.0 * cfg.lumi}))
    assert lumi._value_and_grad is not base._value_and_grad
    obs = cfg.observables[0]
    narrow = obs.model_copy(update={"fit_bins": list(np.asarray(obs.edges)[::2])})
    rebinned = _analysis(cfg.model_copy(update={"observables": [narrow]}))
    assert rebinned._value_and_grad is not base._value_and_grad
