# SPDX-License-Identifier: BSD-3-Clause
"""Yields files: the histograms of an analysis as the values file ``yields.json``,
their Jacobians w.r.t. the parameters as its gradient file ``yields_grad.json``.

``yields.json`` (format ``diffana-yields``) holds ``params`` (name -> value, the
tangent order), ``config`` and ``histograms``: channel -> sample -> variation ->
``{"edges", "values", "variances"}``, every histogram the event loops made (in the
histogram bins; the statistical model merges them into its fit bins itself).
Differentiable: ``values`` and ``variances`` (`KEYS`). A forward gradient holds
``[bins, P]`` for each (the Jacobians), a backward one ``[bins]`` (d result / d
bin).

`write_yields` writes both files from histograms (`diffana.analysis.graph`'s
``Histograms``); `read_histograms` turns them back into `diffana.GradHistogram`
for the statistical model, checking that every histogram the configuration's
model needs is there in its binning; `cotangent_tree` maps the objective's
gradient w.r.t. the model's arrays (fit bins) onto the bins of every histogram of
the file.

May import numpy, `diffana.hist`, `diffana.analysis.config`, ``graph`` (names and
types), ``workspace`` (`StatModel`), and `diffana.chain.files` and ``record``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..analysis.config import Config, NormSystematic
from ..analysis.graph import NOMINAL, Histograms
from ..analysis.report import by_channel
from ..analysis.workspace import StatModel
from ..hist import GradHistogram
from .files import check_tree, read_gradient, read_values, write_gradient, write_values
from .record import ChainError, Record

__all__ = [
    "KEYS",
    "KIND",
    "cotangent_tree",
    "needed",
    "read_histograms",
    "write_yields",
]

#: The ``format`` of yields files.
KIND = "diffana-yields"
#: Their differentiable entries.
KEYS = ("values", "variances")


def needed(config: Config) -> list[tuple[str, str, str]]:
    """(channel, sample, variation) of every histogram the statistical model of
    ``config`` reads: per channel and sample the nominal and the up and down
    variations of every shape systematic that applies to the sample, and the
    data's nominal (the observations) if it has data."""
    out = []
    for o in config.observables:
        if config.data is not None:
            out.append((o.name, config.data.name, NOMINAL))
        for s in config.samples:
            out.append((o.name, s.name, NOMINAL))
            for sy in config.systematics:
                if isinstance(sy, NormSystematic) or not sy.applies_to(s.name):
                    continue
                out += [(o.name, s.name, f"{sy.name}_{d}") for d in ("up", "down")]
    return out


def write_yields(
    out: str | os.PathLike[str],
    outgrad: str | os.PathLike[str] | None,
    histos: Histograms,
    params: Mapping[str, float],
    config: Config,
    program: str,
) -> None:
    """Write the histograms ``histos`` (made at ``params``, whose order is the
    Jacobians' column order) to the values file ``out`` and, if given, their
    Jacobians to the forward gradient file ``outgrad`` (its record pointing at
    ``out``)."""
    channels = [o.name for o in config.observables]
    config_json = config.model_dump(mode="json")
    hist = by_channel(
        histos,
        channels,
        lambda h: {
            "edges": h.edges.tolist(),
            "values": h.values.tolist(),
            "variances": h.variances.tolist(),
        },
    )
    content = {"params": dict(params), "config": config_json, "histograms": hist}
    write_values(out, KIND, content)
    if outgrad is None:
        return
    tangents = by_channel(
        histos,
        channels,
        lambda h: {
            "values": h.jacobian.tolist(),
            "variances": h.variances_jacobian.tolist(),
        },
    )
    record = Record.for_values("forward", params, out, config_json, program)
    write_gradient(outgrad, {"histograms": tangents}, record)


def _histogram(
    entry: Any, key: str, edges: np.ndarray, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """The values and variances of one histogram entry, checked against the
    configuration's edges."""
    try:
        file_edges = np.asarray(entry["edges"], dtype=float)
        values = np.asarray(entry["values"], dtype=float)
        variances = np.asarray(entry["variances"], dtype=float)
    except (KeyError, TypeError, ValueError) as e:
        msg = f"{where}: histograms/{key}: not a histogram ({type(e).__name__}: {e})"
        raise ChainError(msg) from None
    same = file_edges.shape == edges.shape and np.allclose(
        file_edges, edges, rtol=1e-12, atol=0.0
    )
    if not same:
        msg = (
            f"{where}: histograms/{key} has edges {file_edges.tolist()}, the "
            f"configuration's observable has {edges.tolist()}"
        )
        raise ChainError(msg)
    nbins = edges.size - 1
    if values.shape != (nbins,) or variances.shape != (nbins,):
        msg = (
            f"{where}: histograms/{key}: values and variances must have {nbins} "
            f"bins, got shapes {values.shape} and {variances.shape}"
        )
        raise ChainError(msg)
    return values, variances


def read_histograms(
    config: Config,
    yields_file: str | os.PathLike[str],
    grad_file: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Any], Histograms]:
    """The yields file (its JSON) and the histograms the statistical model of
    ``config`` needs, as `diffana.GradHistogram` whose Jacobians (w.r.t. the
    configuration's parameters, in its order) come from ``grad_file`` (zero
    without it). ChainError naming the file and the histogram when one is
    missing or has other bins, or when ``grad_file`` is not ``yields_file``'s
    forward gradient w.r.t. the configuration's parameters."""
    where = os.fspath(yields_file)
    data = read_values(yields_file, KIND)
    names = [p.name for p in config.parameters]
    tangents: dict[str, Any] | None = None
    if grad_file is not None:
        _, tree = read_gradient(grad_file, yields_file, "forward", names)
        check_tree(data, tree, KEYS, len(names), os.fspath(grad_file))
        tangents = tree["histograms"]
    files = data.get("histograms")
    if not isinstance(files, dict):
        msg = f"{where}: no histograms object"
        raise ChainError(msg)
    edges = {o.name: np.asarray(o.edges, dtype=float) for o in config.observables}
    histos: Histograms = {}
    for ch, s, v in needed(config):
        key = f"{ch}/{s}/{v}"
        entry = files.get(ch, {}).get(s, {}).get(v)
        if entry is None:
            msg = (
                f"{where}: no histogram {key} (channel/sample/variation), which "
                "the configuration's statistical model needs"
            )
            raise ChainError(msg)
        values, variances = _histogram(entry, key, edges[ch], where)
        if tangents is None:
            jac = var_jac = np.zeros((values.size, len(names)))
        else:
            t = tangents[ch][s][v]
            jac, var_jac = np.asarray(t["values"]), np.asarray(t["variances"])
        histos.setdefault(s, {}).setdefault(ch, {})[v] = GradHistogram(
            values, variances, jac, var_jac, edges[ch], param_names=names
        )
    return data, histos


def cotangent_tree(
    model: StatModel, data: Mapping[str, Any], grads: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """The backward gradient tree of the yields file ``data`` from the objective's
    gradient ``grads`` w.r.t. the model's arrays (``sample/channel/variation`` and
    ``.../variances``, in the fit bins): each histogram bin gets the gradient of
    the fit bin it is merged into (0 outside the fit bins, and for what the model
    does not read).

    The map from histogram bins to fit bins is the model's own
    (`StatModel.rebinned`), applied to the identity: its transpose carries the
    gradient back."""
    out: dict[str, Any] = {}
    for ch, samples in data["histograms"].items():
        for s, variations in samples.items():
            for v, entry in variations.items():
                n = len(entry["values"])
                zero = np.zeros(n)
                cot = {"values": zero, "variances": zero}
                value_key, var_key = f"{s}/{ch}/{v}", f"{s}/{ch}/variances"
                if value_key in grads:
                    merge = _merge_matrix(model, ch, np.asarray(entry["edges"], float))
                    cot["values"] = merge.T @ grads[value_key]
                    if v == NOMINAL and var_key in grads:
                        cot["variances"] = merge.T @ grads[var_key]
                out.setdefault(ch, {}).setdefault(s, {})[v] = {
                    k: a.tolist() for k, a in cot.items()
                }
    return {"histograms": out}


def _merge_matrix(model: StatModel, channel: str, edges: np.ndarray) -> np.ndarray:
    """[fit bins, bins]: how the model sums a histogram's bins into its fit bins."""
    n = edges.size - 1
    eye = np.eye(n)
    h = GradHistogram(np.zeros(n), np.zeros(n), eye, eye, edges)
    return model.rebinned(h, channel).jacobian
