# SPDX-License-Identifier: BSD-3-Clause
"""The inference stage (``diffana infer``): yields in, the configured objective
out, with its forward gradient and what its backward pass needs.

`infer` reads a yields file (`diffana.chain.yields`) and computes the objective of
the configuration by the code of `diffana.analysis.Analysis` itself (its checks of
the yields, its jitted ``value_and_grad`` of the objective over the statistical
model's arrays, its chain rule J^T g), without the event loops: `Statistics` is an
`Analysis` whose histograms come from files. It writes:

- ``result.json`` (format ``diffana-result``): the parameters and
  ``objective: {type, direction, value}``; differentiable: ``value``;
- with the yields' forward gradient (``ingrad``), ``result_grad.json``: d
  objective / d parameters, the tangents of ``value`` (g^T J);
- ``back.json`` (``saveforback``, format ``diffana-backward``): the objective's
  gradient w.r.t. every bin's value and variance (the cotangent map, for a result
  cotangent of 1), with the record of the yields file and the sha256 of the result
  file; `diffana.chain.backward` maps a result cotangent through it.

May import numpy, JAX (through `diffana.analysis.evaluation`), the modules of
`diffana.analysis` below ``driver`` and `diffana.chain`'s ``files``, ``record`` and
``yields``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, cast

from ..analysis.config import Config
from ..analysis.evaluation import Analysis
from ..analysis.graph import Graph, Histograms
from .files import read_values, write_gradient, write_values
from .record import ChainError, Record, sha256_file
from .yields import cotangent_tree, read_histograms

__all__ = ["BACKWARD", "RESULT", "RESULT_KEYS", "Statistics", "infer", "read_result"]

#: The ``format`` of result files and of what ``--saveforback`` writes.
RESULT = "diffana-result"
BACKWARD = "diffana-backward"
#: The differentiable entry of a result file.
RESULT_KEYS = ("value",)


class _NoLoops:
    """What `Analysis` asks of its graph once the histograms are given: the
    point (for messages) and the events read (none)."""

    def __init__(self, params: Mapping[str, float]) -> None:
        self.params = dict(params)
        self.events: dict[str, int] = {}


class Statistics(Analysis):
    """The statistics half of an `Analysis`: the same objective, checks and chain
    rule (`Analysis.objective_value`, `Analysis.evaluation`), the histograms given
    instead of made by event loops (no sample file is opened, ROOT is not
    imported).

    Parameters
    ----------
    config : Config
        The configuration: its statistical model, objective and parameters.
    params : mapping
        The point the histograms were made at (named in error messages).
    source : str
        What error messages name.
    """

    def __init__(
        self, config: Config, params: Mapping[str, float], source: str = "config"
    ) -> None:
        super().__init__(config, source=source, graph=cast(Graph, _NoLoops(params)))

    def histograms(self, params: Mapping[str, float]) -> Histograms:
        msg = "Statistics has no event loops: its histograms come from files"
        raise NotImplementedError(msg)


def _params(data: Mapping[str, Any], config: Config, where: str) -> dict[str, float]:
    """The yields' point, checked against the configuration's parameter names."""
    params = data.get("params")
    names = [p.name for p in config.parameters]
    if not isinstance(params, dict) or list(params) != names:
        found = list(params) if isinstance(params, dict) else params
        msg = f"{where}: made at parameters {found}, the configuration has {names}"
        raise ChainError(msg)
    return {k: float(v) for k, v in params.items()}


def infer(
    config: Config,
    yields_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    ingrad: str | os.PathLike[str] | None = None,
    outgrad: str | os.PathLike[str] | None = None,
    saveforback: str | os.PathLike[str] | None = None,
    source: str = "config",
) -> dict[str, Any]:
    """Compute the configured objective from the yields file and write the result
    file ``out``; with ``ingrad`` (the yields' forward gradient) and ``outgrad``,
    the result's forward gradient; with ``saveforback``, the backward map.
    Returns the result's JSON (with ``"gradient"``: d objective / d parameter
    when ``ingrad`` is given).

    Raises `ChainError` for unusable files (one line naming the file) and
    `diffana.analysis.ObjectiveError` when the objective cannot be evaluated.
    """
    if outgrad is not None and ingrad is None:
        msg = "--outgrad needs --ingrad: the yields' gradient to carry forward"
        raise ChainError(msg)
    data, histos = read_histograms(config, yields_file, ingrad)
    params = _params(data, config, os.fspath(yields_file))
    stats = Statistics(config, params, source)
    objective = config.objective
    config_json = config.model_dump(mode="json")
    gradient: dict[str, float] | None = None
    if ingrad is not None:
        # The chain rule of Analysis.evaluation: d objective / d theta = J^T g.
        ev = stats.evaluation(params, histos)
        value, gradient = ev.objective, ev.gradient
    grads: dict[str, Any] = {}
    if ingrad is None or saveforback is not None:
        value, grads = stats.objective_value(histos)
    result = {
        "params": params,
        "objective": {
            "type": objective.type,
            "direction": objective.direction.value,
            "value": value,
        },
    }
    write_values(out, RESULT, result)
    if outgrad is not None and gradient is not None:
        tangents = [gradient[n] for n in stats.param_names]
        record = Record.for_values("forward", params, out, config_json, "diffana infer")
        write_gradient(outgrad, {"objective": {"value": tangents}}, record)
    if saveforback is not None:
        record = Record.for_values(
            "backward", params, yields_file, config_json, "diffana infer"
        )
        back = {
            "record": record.to_json(),
            "result_file": {"path": os.path.abspath(out), "sha256": sha256_file(out)},
            "objective": result["objective"],
            "gradient": cotangent_tree(stats.model, data, grads),
        }
        write_values(saveforback, BACKWARD, back)
    if gradient is not None:
        result["gradient"] = dict(gradient)
    return result


def read_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A result file `infer` wrote (ChainError otherwise)."""
    return read_values(path, RESULT)
