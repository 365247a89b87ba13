# SPDX-License-Identifier: BSD-3-Clause
"""``diffana optimize CONFIG.yaml``: evaluate and optimise an analysis end to end.

The chain (see `diffana.config` for the YAML):

1. **Event loop, forward mode.** One `diffana.rdf.DiffFrame` per sample with all
   the parameters. The defines, the selections and one histogram per observable are
   booked for the nominal analysis and for every shape systematic: a ``weight``
   systematic books the same histogram with its other weight, a ``column``
   systematic defines a varied copy of every define that (directly or through
   others) uses a varied column (``name__<syst>_up``; the expressions are rewritten
   by name) and a varied copy of the selections and observables. All of it runs in
   one event loop per sample, which fills every histogram with its Jacobian
   ``[bins, P]`` w.r.t. the parameters (and the variances' Jacobian).
2. **Statistics, reverse mode.** The histograms, scaled to ``xsec * lumi / sum of
   weights`` (times ``scale``), become a pyhf JSON workspace whose sample data are
   JAX arrays: per channel (observable), the signal samples carry the POI ``mu``
   (normfactor); ``normsys`` and ``histosys`` (from the variation histograms) as
   configured; ``staterror`` from the variances (``mc_stat: true``); an
   observable's ``fit_bins`` merge its bins first. The objective
   (`diffana.stats`) and its gradient ``g`` w.r.t. every array come from
   ``jax.value_and_grad``.
3. **Chain rule.** d(objective)/d(theta) = sum over arrays of J^T g (for the
   ``staterror`` data, sqrt of the variances, through ``variances_jacobian``).
4. **Optimiser.** optax in coordinates scaled to the bounds; significances are
   maximised, CLs and the POI uncertainty minimised; after each step parameters
   are projected onto their bounds (and the clipping reported); the loop stops
   after ``steps`` or when the objective changes by less than ``tolerance``. A NaN
   or infinite objective stops it with status ``"failed"`` and the reason.
   When parameters are marked ``relaxation: true``, the hard analysis
   (`Config.hard`: those scales 0, hard bins) is evaluated at the start and at the
   end too (``"hard"`` in the report), so the relaxed optimum can be judged by the
   analysis that will be run.
5. **Output** (``--out DIR``): ``report.json`` (configuration, parameters,
   objective and gradient per step, histograms before and after with Jacobians,
   the workspaces), ``workspace_initial.json``/``workspace_final.json`` (plain pyhf
   JSON), and plots ``optimisation.{png,pdf}`` and ``histograms_<channel>.{png,pdf}``
   (stacked samples before/after with the systematic band).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..rdf.expressions import rename, uses
from .config import (
    ColumnSystematic,
    Config,
    ConfigError,
    NormSystematic,
    Sample,
    WeightSystematic,
)
from .config import load as load_config

__all__ = [
    "Analysis",
    "Evaluation",
    "ObjectiveError",
    "OptimisationResult",
    "optimise",
    "run",
]

NOMINAL = "nominal"


class ObjectiveError(RuntimeError):
    """The objective could not be evaluated (e.g. an empty background bin)."""


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]


# ---- histograms ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hist:
    """A scaled histogram with its Jacobians (``[bins, P]``)."""

    values: np.ndarray
    variances: np.ndarray
    jacobian: np.ndarray
    variances_jacobian: np.ndarray
    edges: np.ndarray

    def to_json(self) -> dict[str, Any]:
        """Plain lists."""
        return {k: v.tolist() for k, v in dataclasses.asdict(self).items()}


Histos = dict[str, dict[str, dict[str, Hist]]]  # sample -> channel -> variation


@dataclasses.dataclass
class Evaluation:
    """The analysis at one point: objective, gradient (w.r.t. every parameter)."""

    params: dict[str, float]
    objective: float
    gradient: dict[str, float]
    histograms: Histos


@dataclasses.dataclass
class _SampleFrames:
    sample: Sample
    ddf: Any
    sumw: Any  # an RDataFrame Sum result, or None
    handles: dict[str, dict[str, Any]]  # channel -> variation -> GradHistResult
    scale: float | None = None


@contextmanager
def _config_key(source: str, key: str) -> Iterator[None]:
    """Re-raise a DiffFrame error (CompileError & co.) as ConfigError naming the key."""
    try:
        yield
    except (ValueError, TypeError) as e:
        msg = f"{source}: {key}: {e}"
        raise ConfigError(msg) from None


class Analysis:
    """The configured analysis: DiffFrames, booked histograms and the objective.

    Building it compiles every expression (errors are `ConfigError` naming the
    configuration key); `evaluate` runs one event loop per sample.
    """

    def __init__(
        self,
        config: Config,
        files: Mapping[str, Sequence[str]] | None = None,
        source: str = "config",
    ) -> None:
        from .. import rdf

        _enable_x64()
        self.config = config
        self.source = source
        self.param_names = tuple(p.name for p in config.parameters)
        self.opt_names = tuple(p.name for p in config.parameters if p.optimise)
        self.channels = tuple(o.name for o in config.observables)
        self.edges = {o.name: np.asarray(o.edges, float) for o in config.observables}
        # The statistical model's bins: the histograms' bins merged into fit_bins.
        self.fit_edges = {
            o.name: np.asarray(o.fit_bins or o.edges, float) for o in config.observables
        }
        self._merge = {o.name: np.asarray(o.fit_matrix()) for o in config.observables}
        ROOT = rdf._import_root()
        self._frames: list[_SampleFrames] = []
        for i, sample in enumerate(config.samples):
            paths = list(files[sample.name]) if files else config.sample_files(sample)
            self._frames.append(self._build(ROOT, i, sample, paths))
        self._value_and_grad = self._make_objective()

    # ---- building -------------------------------------------------------------------

    def variations(self, sample: str) -> list[str]:
        """The histogram variations of a sample: nominal, then <syst>_up/_down."""
        out = [NOMINAL]
        for sy in self.config.systematics:
            if isinstance(sy, NormSystematic) or not sy.applies_to(sample):
                continue
            out += [f"{sy.name}_up", f"{sy.name}_down"]
        return out

    def _build(
        self, ROOT: Any, index: int, sample: Sample, paths: Sequence[str]
    ) -> _SampleFrames:
        from ..rdf import DiffFrame

        cfg, src = self.config, self.source
        where = f"samples[{index}]"
        df = ROOT.RDataFrame(sample.tree, ROOT.std.vector["std::string"](paths))
        sumw = None
        if sample.xsec is not None:
            with _config_key(src, f"{where}.weight (sum of weights for xsec)"):
                col = "diffana_cfg_sumw"
                from ..rdf import _compiled

                node = _compiled(
                    "weight", sample.weight, lambda: df.Define(col, sample.weight)
                )
                sumw = node.Sum(col)
        with _config_key(src, "parameters"):
            ddf = DiffFrame(df, self.config.param_values)
        for name, expr in cfg.defines.items():
            with _config_key(src, f"defines.{name}"):
                ddf = ddf.define(name, expr)
        # Column systematics: varied copies of the defines that depend on them.
        renames: dict[str, dict[str, str]] = {NOMINAL: {}}
        weights: dict[str, str] = {}
        with _config_key(src, f"{where}.weight"):
            ddf = ddf.define("diffana_cfg_w", sample.weight)
        for k, sy in enumerate(cfg.systematics):
            if not sy.applies_to(sample.name):
                continue
            directions: tuple[str, ...] = ("up", "down")
            if isinstance(sy, ColumnSystematic):
                directions = sy.directions  # a symmetrised down is derived later
            for direction in directions:
                var = f"{sy.name}_{direction}"
                if isinstance(sy, ColumnSystematic):
                    alt = getattr(sy, direction)
                    ren: dict[str, str] = {}
                    for name, expr in cfg.defines.items():
                        if name in alt:
                            new, key = alt[name], f"systematics[{k}].{direction}.{name}"
                        elif uses(expr, list(ren)):
                            new = expr
                            key = f"defines.{name} (varied by systematics[{k}])"
                        else:
                            continue
                        vname = f"{name}__{var}"
                        with _config_key(src, key):
                            ddf = ddf.define(vname, rename(new, ren))
                        ren[name] = vname
                    renames[var] = ren
                elif isinstance(sy, WeightSystematic):
                    col = f"diffana_cfg_w_{var}"
                    with _config_key(src, f"systematics[{k}].{direction}"):
                        ddf = ddf.define(col, getattr(sy, direction))
                    weights[var] = col
        # Observables (before the selections, so that every branch sees them; they
        # are computed only for events that pass).
        for var, ren in renames.items():
            for j, obs in enumerate(cfg.observables):
                col = f"diffana_cfg_obs_{obs.name}_{var}"
                key = f"observables[{j}].expression"
                if var != NOMINAL:
                    key += f" (varied by {var})"
                with _config_key(src, key):
                    ddf = ddf.define(col, rename(obs.expression, ren))
        # One selection branch per set of column renames; histograms on each.
        handles: dict[str, dict[str, Any]] = {o.name: {} for o in cfg.observables}
        for var, ren in renames.items():
            node = ddf
            for j, sel in enumerate(cfg.selections):
                expr = rename(sel.expression, ren)
                key = f"selections[{j}].{sel.kind}"
                with _config_key(src, key):
                    if sel.kind == "filter":
                        node = node.filter(expr)
                    else:
                        node = node.soft_filter(expr)
            wcol = "diffana_cfg_w"
            if var != NOMINAL and uses(sample.weight, list(ren)):
                wcol = f"diffana_cfg_w_{var}"  # the weight uses a varied define
                with _config_key(src, f"{where}.weight (varied by {var})"):
                    node = node.define(wcol, rename(sample.weight, ren))
            books = [(var, wcol)]
            if var == NOMINAL:
                books += list(weights.items())
            for j, obs in enumerate(cfg.observables):
                onode = node
                if obs.weight is not None:  # the channel's own weight factor
                    key = f"observables[{j}].weight"
                    if var != NOMINAL:
                        key += f" (varied by {var})"
                    with _config_key(src, key):
                        onode = node.soft_filter(rename(obs.weight, ren))
                for v, w in books:
                    with _config_key(src, f"observables[{j}]"):
                        handles[obs.name][v] = onode.histo(
                            f"diffana_cfg_obs_{obs.name}_{var}",
                            self.edges[obs.name],
                            weight=w,
                            bandwidth=obs.bandwidth,
                            overflow=obs.overflow,
                        )
        order = self.variations(sample.name)
        handles = {c: {v: h[v] for v in order if v in h} for c, h in handles.items()}
        return _SampleFrames(sample, ddf, sumw, handles)

    def _symmetrised(self, sample: str) -> list[str]:
        """The symmetrised column systematics of a sample (down = 2 nominal - up)."""
        return [
            sy.name
            for sy in self.config.systematics
            if isinstance(sy, ColumnSystematic)
            and sy.symmetrize
            and sy.applies_to(sample)
        ]

    # ---- histograms -----------------------------------------------------------------

    @property
    def n_loops(self) -> int:
        """Event loops run so far (all samples together)."""
        return sum(f.ddf.n_loops for f in self._frames)

    def histograms(self, params: Mapping[str, float]) -> Histos:
        """Run the event loops at ``params`` (one per sample); scaled histograms."""
        out: Histos = {}
        for fr in self._frames:
            fr.ddf.set_params(dict(params))
            raw = {
                c: {v: h.result() for v, h in hs.items()}
                for c, hs in fr.handles.items()
            }
            if fr.scale is None:
                k = fr.sample.scale
                if fr.sumw is not None:
                    sumw = float(fr.sumw.GetValue())  # filled by the first loop
                    if not (sumw > 0 and math.isfinite(sumw)):
                        msg = (
                            f"{self.source}: sample {fr.sample.name!r}: the sum of "
                            f"weights is {sumw}; cannot normalise to xsec"
                        )
                        raise ObjectiveError(msg)
                    assert fr.sample.xsec is not None
                    k *= fr.sample.xsec * self.config.lumi / sumw
                fr.scale = k
            k = fr.scale
            out[fr.sample.name] = {
                c: {
                    v: Hist(
                        h.values * k,
                        h.variances * k * k,
                        h.jacobian * k,
                        h.variances_jacobian * k * k,
                        np.asarray(h.edges),
                    )
                    for v, h in hs.items()
                }
                for c, hs in raw.items()
            }
            symmetrised = self._symmetrised(fr.sample.name)
            for c, hs in out[fr.sample.name].items():
                for name in symmetrised:
                    nom, up = hs[NOMINAL], hs[f"{name}_up"]
                    # Clipped at 0 (no negative yields), where the Jacobian is 0.
                    down = 2.0 * nom.values - up.values
                    keep = down > 0
                    hs[f"{name}_down"] = Hist(
                        np.where(keep, down, 0.0),
                        nom.variances,  # not used by the model (only nominal's are)
                        np.where(keep[:, None], 2.0 * nom.jacobian - up.jacobian, 0.0),
                        nom.variances_jacobian,
                        nom.edges,
                    )
                if symmetrised:  # in the order of `variations`
                    order = self.variations(fr.sample.name)
                    out[fr.sample.name][c] = {v: hs[v] for v in order}
        return out

    # ---- the statistical model ------------------------------------------------------

    def workspace(
        self,
        leaves: Mapping[str, Any],
        observations: Mapping[str, Sequence[float]] | None = None,
    ) -> dict[str, Any]:
        """A pyhf JSON workspace from arrays keyed ``sample/channel/variation`` and
        ``sample/channel/variances`` (numpy or JAX). ``observations`` (channel ->
        data; default: the sum of the backgrounds, which needs numpy leaves) only
        label the workspace: the objectives use Asimov data."""
        import jax.numpy as jnp

        cfg = self.config
        if observations is None:
            observations = self._background_sums(leaves)
        channels = []
        for ch in self.channels:
            samples = []
            for s in cfg.samples:
                nominal = leaves[f"{s.name}/{ch}/{NOMINAL}"]
                mods: list[dict[str, Any]] = []
                if s.role == "signal":
                    mods.append({"name": "mu", "type": "normfactor", "data": None})
                for sy in cfg.systematics:
                    if not sy.applies_to(s.name):
                        continue
                    if isinstance(sy, NormSystematic):
                        mods.append(
                            {
                                "name": sy.name,
                                "type": "normsys",
                                "data": {"hi": sy.hi, "lo": sy.lo},
                            }
                        )
                    else:
                        mods.append(
                            {
                                "name": sy.name,
                                "type": "histosys",
                                "data": {
                                    "hi_data": leaves[f"{s.name}/{ch}/{sy.name}_up"],
                                    "lo_data": leaves[f"{s.name}/{ch}/{sy.name}_down"],
                                },
                            }
                        )
                if cfg.mc_stat:
                    var = leaves[f"{s.name}/{ch}/variances"]
                    if isinstance(var, np.ndarray):
                        err: Any = np.sqrt(np.maximum(var, 0.0))
                    else:
                        pos = var > 0
                        err = jnp.where(pos, jnp.sqrt(jnp.where(pos, var, 1.0)), 0.0)
                    mods.append(
                        {"name": f"staterror_{ch}", "type": "staterror", "data": err}
                    )
                samples.append({"name": s.name, "data": nominal, "modifiers": mods})
            channels.append({"name": ch, "samples": samples})
        return {
            "channels": channels,
            "observations": [
                {"name": ch, "data": [float(x) for x in observations[ch]]}
                for ch in self.channels
            ],
            "measurements": [
                {"name": "measurement", "config": {"poi": "mu", "parameters": []}}
            ],
            "version": "1.0.0",
        }

    def _background_sums(self, leaves: Mapping[str, Any]) -> dict[str, list[float]]:
        out = {}
        for ch in self.channels:
            total = np.zeros(self.fit_edges[ch].size - 1)
            for s in self.config.samples:
                if s.role == "background":
                    total = total + np.asarray(leaves[f"{s.name}/{ch}/{NOMINAL}"])
            out[ch] = total.tolist()
        return out

    def _leaves(self, histos: Histos) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Array name -> (array, its Jacobian [fit bins, P]): the statistical
        model's inputs, in the fit bins."""
        out = {}
        for s, chans in histos.items():
            for ch, variations in chans.items():
                m = self._merge[ch]
                for v, h in variations.items():
                    out[f"{s}/{ch}/{v}"] = (m @ h.values, m @ h.jacobian)
                nom = variations[NOMINAL]
                if self.config.mc_stat:
                    out[f"{s}/{ch}/variances"] = (
                        m @ nom.variances,
                        m @ nom.variances_jacobian,
                    )
        return out

    def _make_objective(
        self,
    ) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
        import jax
        import jax.numpy as jnp

        from .. import stats

        obj = self.config.objective
        roles = {s.name: s.role for s in self.config.samples}

        # The objectives are expected results, computed on Asimov data: observations
        # only complete the workspace, so fixed zeros do (and keep f jit-able).
        zeros = {ch: [0.0] * (self.fit_edges[ch].size - 1) for ch in self.channels}

        def f(leaves: dict[str, Any]) -> Any:
            if obj.type == "asimov_significance":
                s_parts, b_parts = [], []
                for ch in self.channels:
                    sig = [
                        leaves[f"{n}/{ch}/{NOMINAL}"]
                        for n, r in roles.items()
                        if r == "signal"
                    ]
                    bkg = [
                        leaves[f"{n}/{ch}/{NOMINAL}"]
                        for n, r in roles.items()
                        if r == "background"
                    ]
                    s_parts.append(sum(sig[1:], sig[0]))
                    b_parts.append(sum(bkg[1:], bkg[0]))
                s, b = jnp.concatenate(s_parts), jnp.concatenate(b_parts)
                unc = None
                if obj.background_uncertainty is not None:
                    unc = obj.background_uncertainty * b
                return stats.asimov_significance(s, b, unc)
            ws = self.workspace(leaves, zeros)
            if obj.type == "discovery_significance":
                return stats.expected_discovery_significance(ws)
            if obj.type == "cls":
                return stats.expected_cls(ws, mu=obj.mu, test_stat=obj.test_stat)
            return stats.expected_poi_uncertainty(ws)

        # Compiled once (the shapes never change): the workspace objectives cost
        # about 1 s per step without it, 20-50 ms with it.
        import equinox as eqx

        # equinox.filter_jit: the run-time checks of diffana.stats (eqx.error_if)
        # then raise with their message only, not a page about jax.jit.
        return eqx.filter_jit(jax.value_and_grad(f))

    def _check_yields(self, histos: Histos) -> None:
        """Clear errors for what the statistics cannot take: NaN or negative yields
        (any variation), a total background that is not positive, a negative total
        signal, and (for the fitted objectives) no signal at all."""
        for ch in self.channels:
            edges = self.fit_edges[ch]
            zero = np.zeros(edges.size - 1)
            totals: dict[str, np.ndarray] = {"signal": zero, "background": zero}
            for s in self.config.samples:
                for v, h in histos[s.name][ch].items():
                    if not np.all(np.isfinite(h.values)):
                        msg = f"sample {s.name!r}, channel {ch!r}, {v}: NaN yields"
                        raise ObjectiveError(msg)
                    if np.any(h.values < 0):
                        bins = np.flatnonzero(h.values < 0).tolist()
                        msg = (
                            f"sample {s.name!r}, channel {ch!r}, {v}: negative yields "
                            f"in bin(s) {bins} at {self._params_text()} (check the "
                            "weights of this variation)"
                        )
                        raise ObjectiveError(msg)
                nominal = self._merge[ch] @ histos[s.name][ch][NOMINAL].values
                totals[s.role] = totals[s.role] + nominal
            for role, bad, rule in (
                ("background", totals["background"] <= 0, "not positive"),
                ("signal", totals["signal"] < 0, "negative"),
            ):
                if np.any(bad):
                    bins = np.flatnonzero(bad).tolist()
                    where = ", ".join(
                        f"[{edges[b]:g}, {edges[b + 1]:g})" for b in bins[:5]
                    )
                    msg = (
                        f"channel {ch!r}: the total {role} is {rule} in bin(s) "
                        f"{bins} ({where}) at {self._params_text()}: the statistical "
                        "model needs a positive background in every bin (widen the "
                        "bins, use soft binning or loosen the selection)"
                    )
                    raise ObjectiveError(msg)
        if self.config.objective.type == "asimov_significance":
            return  # no fit: no signal is a significance of 0
        signal = sum(
            float(np.sum(histos[s.name][ch][NOMINAL].values))
            for s in self.config.samples
            if s.role == "signal"
            for ch in self.channels
        )
        if signal == 0.0:
            msg = (
                f"the signal samples have no events in any channel at "
                f"{self._params_text()}: the fit cannot constrain the POI"
            )
            raise ObjectiveError(msg)

    def _params_text(self) -> str:
        p = self._frames[0].ddf.params
        return ", ".join(f"{k} = {v:.6g}" for k, v in p.items())

    def objective_value(self, histos: Histos) -> tuple[float, dict[str, np.ndarray]]:
        """The objective and its gradient w.r.t. every array (``sample/channel/
        variation`` or ``.../variances``) at the given histograms."""
        import jax.numpy as jnp

        self._check_yields(histos)
        leaves = self._leaves(histos)
        arrays = {k: jnp.asarray(v[0]) for k, v in leaves.items()}
        try:
            value, grads = self._value_and_grad(arrays)
        except Exception as e:
            # Under jit, diffana.stats' checks arrive wrapped in JAX's callback
            # traceback: keep the line that names the problem.
            text = str(e)
            found = re.search(r"(expected_\w+|asimov_significance): [^\n]*", text)
            reason = found.group(0) if found else text
            msg = f"the objective {self.config.objective.type} failed: {reason}"
            raise ObjectiveError(msg) from e
        value = float(value)
        if not math.isfinite(value):
            msg = (
                f"the objective {self.config.objective.type} is {value} (check for "
                "empty background bins or a failed fit)"
            )
            raise ObjectiveError(msg)
        return value, {k: np.asarray(g) for k, g in grads.items()}

    def evaluate(self, params: Mapping[str, float] | None = None) -> Evaluation:
        """Objective and gradient d(objective)/d(parameters) at ``params``
        (default: the configuration's initial values)."""
        p = dict(self.config.param_values)
        p.update(params or {})
        return self.evaluation(p, self.histograms(p))

    def evaluation(self, params: Mapping[str, float], histos: Histos) -> Evaluation:
        """Objective and gradient at ``params`` from their histograms (no event
        loop)."""
        p = dict(params)
        value, g = self.objective_value(histos)
        leaves = self._leaves(histos)
        grad = np.zeros(len(self.param_names))
        for k, (_, jac) in leaves.items():
            grad += jac.T @ g[k]  # the chain rule: J^T g
        return Evaluation(
            p, value, dict(zip(self.param_names, grad.tolist(), strict=True)), histos
        )

    def objective_at(self, params: Mapping[str, float]) -> float:
        """The objective only (event loops + statistics), e.g. for finite
        differences."""
        p = dict(self.config.param_values)
        p.update(params)
        return self.objective_value(self.histograms(p))[0]

    def finite_difference(
        self,
        params: Mapping[str, float],
        names: Sequence[str] | None = None,
        rel_step: float = 1e-4,
    ) -> dict[str, float]:
        """Central finite differences of the objective (re-running the event loops)
        with steps of ``rel_step`` times the bound range (or the value)."""
        out = {}
        bounds = {p.name: p.bounds for p in self.config.parameters}
        for name in names or self.opt_names:
            b = bounds[name]
            eps = rel_step * ((b[1] - b[0]) if b else max(abs(params[name]), 1.0))
            up = self.objective_at({**params, name: params[name] + eps})
            down = self.objective_at({**params, name: params[name] - eps})
            out[name] = (up - down) / (2 * eps)
        return out


# ---- the optimiser -------------------------------------------------------------------


@dataclasses.dataclass
class OptimisationResult:
    """What `optimise` returns."""

    initial: Evaluation
    final: Evaluation
    history: list[dict[str, Any]]
    status: str  # "converged", "max_steps" or "failed"
    message: str
    seconds: float


class _Progress:
    """A rich live display (tty only) of the step, objective and parameters."""

    def __init__(self, enabled: bool, steps: int, names: Sequence[str]) -> None:
        self.enabled = enabled
        self.names = names
        self.steps = steps
        self._progress: Any = None

    def start(self) -> None:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("step {task.completed}/{task.total}"),
                BarColumn(),
                TextColumn("{task.description}"),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=self.steps)

    def update(self, step: int, value: float, params: Mapping[str, float]) -> None:
        if self._progress is None:
            return
        text = f"objective {value:.5g}  " + "  ".join(
            f"{n}={params[n]:.4g}" for n in self.names
        )
        self._progress.update(self._task, completed=step, description=text)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _record(step: int, ev: Evaluation, clipped: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "step": step,
        "objective": ev.objective,
        "params": dict(ev.params),
        "gradient": dict(ev.gradient),
        "clipped": list(clipped),
    }


def optimise(
    analysis: Analysis, progress: bool = False, initial: Evaluation | None = None
) -> OptimisationResult:
    """Run the configured optax optimiser from the initial parameters."""
    import optax

    cfg = analysis.config
    opt_cfg = cfg.optimiser
    names = analysis.opt_names
    bounds = {p.name: p.bounds for p in cfg.parameters}
    lo = np.array([bounds[n][0] for n in names])  # type: ignore[index]
    hi = np.array([bounds[n][1] for n in names])  # type: ignore[index]
    sign = -1.0 if cfg.objective.maximise else 1.0  # optax minimises
    t0 = time.perf_counter()
    ev = initial if initial is not None else analysis.evaluate()
    first = ev
    u = (np.array([ev.params[n] for n in names]) - lo) / (hi - lo)
    lr: Any = opt_cfg.learning_rate
    if opt_cfg.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, max(opt_cfg.steps, 1), alpha=0.1)
    optimiser = getattr(optax, opt_cfg.name)(lr)
    state = optimiser.init(u)
    history = [_record(0, ev)]
    status, message = "max_steps", f"stopped after {opt_cfg.steps} steps"
    bar = _Progress(progress, opt_cfg.steps, names)
    bar.start()
    try:
        bar.update(0, ev.objective, ev.params)
        for step in range(1, opt_cfg.steps + 1):
            g_u = sign * np.array([ev.gradient[n] for n in names]) * (hi - lo)
            updates, state = optimiser.update(g_u, state, u)
            u_new = np.asarray(optax.apply_updates(u, updates), dtype=float)
            clipped = [n for n, x in zip(names, u_new, strict=True) if not 0 <= x <= 1]
            u = np.clip(u_new, 0.0, 1.0)
            params = dict(ev.params)
            params.update(zip(names, (lo + u * (hi - lo)).tolist(), strict=True))
            try:
                new = analysis.evaluate(params)
            except ObjectiveError as e:
                status, message = "failed", f"step {step}: {e}"
                break
            delta = new.objective - ev.objective
            ev = new
            history.append(_record(step, ev, clipped))
            bar.update(step, ev.objective, ev.params)
            if opt_cfg.tolerance > 0 and abs(delta) < opt_cfg.tolerance:
                status = "converged"
                message = (
                    f"converged after {step} steps: |change of the objective| = "
                    f"{abs(delta):.3g} < tolerance {opt_cfg.tolerance:g}"
                )
                break
    finally:
        bar.stop()
    clipped_names = sorted({n for h in history for n in h["clipped"]})
    if clipped_names:
        n_clipped = sum(1 for h in history if h["clipped"])
        message += (
            f"; clipped at their bounds: {', '.join(clipped_names)} "
            f"(in {n_clipped} step{'s' if n_clipped > 1 else ''})"
        )
    return OptimisationResult(
        first, ev, history, status, message, time.perf_counter() - t0
    )


# ---- output ---------------------------------------------------------------------------


def _histos_json(h: Histos) -> dict[str, Any]:
    return {
        s: {c: {v: x.to_json() for v, x in vs.items()} for c, vs in cs.items()}
        for s, cs in h.items()
    }


def _plain_workspace(analysis: Analysis, histos: Histos) -> dict[str, Any]:
    leaves = {k: v[0] for k, v in analysis._leaves(histos).items()}
    ws = analysis.workspace(leaves)
    out: dict[str, Any] = json.loads(
        json.dumps(ws, default=lambda a: np.asarray(a).tolist())
    )
    return out


def report(
    analysis: Analysis,
    result: OptimisationResult,
    config_file: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report (a dict)."""
    cfg = analysis.config

    def point(ev: Evaluation) -> dict[str, Any]:
        return {
            "params": ev.params,
            "objective": ev.objective,
            "gradient": ev.gradient,
        }

    out = {
        "config_file": config_file,
        "config": cfg.model_dump(mode="json"),
        "objective": {
            "type": cfg.objective.type,
            "direction": "maximise" if cfg.objective.maximise else "minimise",
        },
        "status": result.status,
        "message": result.message,
        "steps": len(result.history) - 1,
        "seconds": result.seconds,
        "event_loops": analysis.n_loops,
        "initial": point(result.initial),
        "final": point(result.final),
        "history": result.history,
        "histograms": {
            "param_names": list(analysis.param_names),
            "initial": _histos_json(result.initial.histograms),
            "final": _histos_json(result.final.histograms),
        },
        "workspaces": {
            "initial": _plain_workspace(analysis, result.initial.histograms),
            "final": _plain_workspace(analysis, result.final.histograms),
        },
    }
    out.update(extra or {})
    return out


def plot(
    analysis: Analysis, result: OptimisationResult, out: pathlib.Path
) -> list[pathlib.Path]:
    """Objective and parameters vs step; stacked histograms before/after with the
    systematic band, per channel. PNG and PDF; returns the files."""
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
        files.append(out / f"optimisation.{ext}")
        fig.savefig(files[-1])
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
            files.append(out / f"histograms_{ch}.{ext}")
            fig.savefig(files[-1])
        plt.close(fig)
    return files


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
    """Load, build, optimise, report (``report.json`` and plots in ``out``);
    returns the report. Prints the before/after summary unless ``quiet``.
    ``threads``: run the event loops with ROOT's implicit multithreading (N
    threads; None or 0: off)."""
    stream = stdout if stdout is not None else sys.stdout

    def say(text: str) -> None:
        if not quiet:
            print(text, file=stream, flush=True)

    t0 = time.perf_counter()
    config = load_config(config_file, overrides)
    if threads:
        from .. import rdf

        rdf._import_root().EnableImplicitMT(int(threads))
    analysis = Analysis(config, source=str(config_file))
    t_build = time.perf_counter() - t0
    names = analysis.opt_names
    initial = analysis.evaluate()
    t_first = time.perf_counter() - t0 - t_build
    extra: dict[str, Any] = {}
    say(
        f"objective: {config.objective.type} ({'maximise' if config.objective.maximise else 'minimise'})"
    )
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
    result = optimise(analysis, progress=not quiet and tty, initial=initial)
    say(
        f"end:    {_fmt_params(result.final.params, names)}   objective = {result.final.objective:.6g}"
    )
    say(
        f"        {result.message} ({result.seconds:.1f} s, {analysis.n_loops} event loops)"
    )
    extra["timing"] = {
        "build_s": t_build,
        "first_evaluation_s": t_first,
        "optimisation_s": result.seconds,
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
    config: Config, result: OptimisationResult, source: str = "config"
) -> dict[str, Any]:
    """The hard analysis (`Config.hard`: relaxation scales 0, hard bins) at the start
    and at the end of an optimisation: ``{"initial"|"final": {"params",
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


# ---- diffana evaluate ------------------------------------------------------------------


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


def evaluation_report(
    analysis: Analysis, ev: Evaluation | None, histos: Histos
) -> dict[str, Any]:
    """The JSON of ``diffana evaluate``: ``param_names``, ``histograms`` (region ->
    sample -> variation -> edges, values, variances, jacobian) and ``objective``
    (type, direction, value, gradient; value None when it could not be evaluated)."""
    cfg = analysis.config
    hist: dict[str, Any] = {
        ch: {
            s: {
                v: {
                    "edges": h.edges.tolist(),
                    "values": h.values.tolist(),
                    "variances": h.variances.tolist(),
                    "jacobian": h.jacobian.tolist(),
                }
                for v, h in histos[s][ch].items()
            }
            for s in histos
        }
        for ch in analysis.channels
    }
    return {
        "param_names": list(analysis.param_names),
        "params": dict(analysis._frames[0].ddf.params) if ev is None else ev.params,
        "bandwidths": {o.name: o.bandwidth for o in cfg.observables},
        "histograms": hist,
        "objective": {
            "type": cfg.objective.type,
            "direction": "maximise" if cfg.objective.maximise else "minimise",
            "value": None if ev is None else ev.objective,
            "gradient": None if ev is None else ev.gradient,
        },
    }


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
    config = load_config(config_file, overrides, check_files=not files)
    if files:
        from .config import check_inputs

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
