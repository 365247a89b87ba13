# SPDX-License-Identifier: BSD-3-Clause
"""`Analysis`: a configured analysis evaluated at a point, the objective and its
gradient w.r.t. the parameters.

One evaluation runs the event loops (`diffana.analysis.graph.Graph`, forward mode:
histograms with Jacobians J), turns the histograms into the statistical model's
arrays (`diffana.analysis.workspace.StatModel`), and computes the objective of the
configuration (`diffana.analysis.objectives.OBJECTIVES`) with its gradient g w.r.t.
every array by ``jax.value_and_grad`` (reverse mode, jitted once). The chain rule
gives d(objective)/d(theta) = sum over arrays of J^T g (for the ``staterror`` data,
through the variances' Jacobian). The weights of large networks
(``networks.<name>.gradient``, `diffana.analysis._schema_networks.adjoint_networks`)
are reverse-mode parameters instead: g, moved back to every histogram's bins, seeds
one adjoint event loop per sample (`Graph.reverse_gradient`).

On a Dask cluster (a ``client``, or inside a `diffana.distributed.cluster` block)
the event loops run on its workers (`diffana.distributed.DaskGraph`); everything
after the histograms is the same.

May import numpy, JAX and equinox (inside functions), the modules of
`diffana.analysis` below it: ``_errors``, ``_network_gradient``,
``_schema_networks``, ``config``, ``graph``, ``objectives``, ``workspace``, and
`diffana.distributed` (inside functions).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import ObjectiveError
from ._network_gradient import with_jacobians
from ._schema_networks import adjoint_networks, split_by_network
from .config import Config
from .graph import NOMINAL, Graph, Histograms, Skipped, skipped_counts
from .workspace import StatModel

__all__ = ["Analysis", "Evaluation"]


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]


@dataclasses.dataclass
class Evaluation:
    """The analysis at one point: objective, gradient (w.r.t. every parameter) and
    the histograms it was computed from.

    ``skipped`` holds the events every histogram skipped (``{sample: {channel:
    {variation: n}}}``: a weight that is not finite or a NaN observable; a
    symmetrized down variation repeats its up's count) and ``events`` the events
    each sample's event loop read; `n_skipped` is the largest count of each
    sample.
    """

    params: dict[str, float]
    objective: float
    gradient: dict[str, float]
    histograms: Histograms
    skipped: Skipped = dataclasses.field(default_factory=dict)
    events: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def n_skipped(self) -> dict[str, int]:
        """Sample -> the most events any of its histograms skipped (the count to
        compare with ``events`` and ``max_skipped_fraction``)."""
        return {
            s: max((n for hs in chans.values() for n in hs.values()), default=0)
            for s, chans in self.skipped.items()
        }


class Analysis:
    """The configured analysis: its event loops (`graph`), its statistical model
    (`model`) and its objective.

    Building it compiles every expression (errors are `ConfigError` naming the
    configuration key); `evaluate` runs one event loop per sample.

    ``client``: a ``dask.distributed.Client`` whose workers run the event loops
    (`diffana.distributed.DaskGraph`; they compile the expressions in the first
    step); by default the client of the enclosing `diffana.distributed.cluster`
    block, if any.
    """

    def __init__(
        self,
        config: Config,
        files: Mapping[str, Sequence[str]] | None = None,
        source: str = "config",
        *,
        graph: Graph | None = None,
        client: Any = None,
    ) -> None:
        _enable_x64()
        self.config = config
        self.source = source
        self.param_names = tuple(p.name for p in config.parameters)
        self.opt_names = tuple(p.name for p in config.parameters if p.optimize)
        # ``graph``: a stand-in where the histograms come from elsewhere (the
        # inference stage of `diffana.chain` reads them from files).
        self.graph = (
            graph if graph is not None else _graph(config, files, source, client)
        )
        self.model = StatModel(config)
        self._value_and_grad = self._make_objective()

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels (one per observable)."""
        return self.model.channels

    @property
    def edges(self) -> dict[str, np.ndarray]:
        """Channel -> the histograms' bin edges."""
        return self.graph.edges

    @property
    def n_loops(self) -> int:
        """Event loops run so far (all samples together)."""
        return self.graph.n_loops

    def variations(self, sample: str) -> list[str]:
        """The histogram variations of a sample: nominal, then <syst>_up/_down."""
        return self.graph.variations(sample)

    def histograms(self, params: Mapping[str, float]) -> Histograms:
        """Run the event loops at ``params`` (one per sample); scaled histograms.

        Raises `SampleError` (an event loop failed inside ROOT) or
        `SkippedEventsError` (more than ``max_skipped_fraction`` of a sample's
        events skipped by a histogram)."""
        return self.graph.histograms(params)

    @property
    def events(self) -> dict[str, int]:
        """Sample -> the events its last event loop read (empty before one)."""
        return dict(self.graph.events)

    # ---- the objective --------------------------------------------------------------

    def _make_objective(self) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
        key = _statistics_key(self.config)
        compiled = _OBJECTIVES.get(key)
        if compiled is not None:
            return compiled
        import jax

        objective = self.config.objective
        function, options = objective.spec.function, objective.options
        model = self.model

        def f(leaves: dict[str, Any]) -> Any:
            return function(model.inputs(leaves), **options)

        # Compiled once (the shapes never change): the workspace objectives cost
        # about 1 s per step without it, 20-50 ms with it.
        import equinox as eqx

        # equinox.filter_jit: the run-time checks of diffana.stats (eqx.error_if)
        # then raise with their message only, not a page about jax.jit.
        compiled = eqx.filter_jit(jax.value_and_grad(f))
        if len(_OBJECTIVES) >= _OBJECTIVES_KEPT:
            del _OBJECTIVES[next(iter(_OBJECTIVES))]
        _OBJECTIVES[key] = compiled
        return compiled

    def _params_text(self) -> str:
        """``"a = 1, b = 2, nn (49 weights)"``: where an error happened, a network's
        weights as one entry."""
        params = self.graph.params
        plain, networks = split_by_network(self.config, list(params))
        return ", ".join(
            [f"{k} = {params[k]:.6g}" for k in plain]
            + [f"{net} ({len(ws)} weights)" for net, ws in networks.items()]
        )

    def _check_yields(self, histos: Histograms) -> None:
        """Clear errors for what the statistics cannot take: NaN or negative yields
        (any variation), a total background that is not positive, a negative total
        signal, and (for the objectives that fit) no signal at all."""
        for ch in self.channels:
            edges = self.model.fit_edges[ch]
            zero = np.zeros(edges.size - 1)
            totals: dict[str, np.ndarray] = {"signal": zero, "background": zero}
            for s in self.config.samples:
                for v, h in histos[s.name][ch].items():
                    if not np.all(np.isfinite(h.values)):
                        msg = f"sample {s.name!r}, channel {ch!r}, {v}: NaN yields"
                        raise ObjectiveError(msg)
                    if np.any(h.values < 0):
                        bins = _bins_text(np.flatnonzero(h.values < 0), h.edges)
                        msg = (
                            f"sample {s.name!r}, channel {ch!r}, {v}: negative yields "
                            f"in {bins} at {self._params_text()} (check the "
                            "weights of this variation)"
                        )
                        raise ObjectiveError(msg)
                nominal = self.model.rebinned(histos[s.name][ch][NOMINAL], ch)
                totals[s.role] = totals[s.role] + nominal.values
            for role, bad, rule in (
                ("background", totals["background"] <= 0, "not positive"),
                ("signal", totals["signal"] < 0, "negative"),
            ):
                if np.any(bad):
                    samples = [s.name for s in self.config.samples if s.role == role]
                    msg = (
                        f"channel {ch!r}: the total {role} is {rule} in "
                        f"{_bins_text(np.flatnonzero(bad), edges)} ({role} samples "
                        f"{samples}) at {self._params_text()}: the statistical "
                        "model needs a "
                        "positive background in every bin (widen the bins, use "
                        "soft binning or loosen the selection)"
                    )
                    raise ObjectiveError(msg)
        if not self.config.objective.spec.needs_fit:
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

    def objective_value(
        self, histos: Histograms
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The objective and its gradient w.r.t. every array (``sample/channel/
        variation`` or ``.../variances``) at the given histograms."""
        import jax.numpy as jnp

        self._check_yields(histos)
        leaves = self.model.leaves(histos)
        arrays = {k: jnp.asarray(v[0]) for k, v in leaves.items()}
        name = self.config.objective.type
        try:
            value, grads = self._value_and_grad(arrays)
        except Exception as e:
            # Under jit, diffana.stats' checks arrive wrapped in JAX's callback
            # traceback: keep the line that names the problem.
            text = str(e)
            found = re.search(r"(expected_\w+|asimov_significance): [^\n]*", text)
            reason = found.group(0) if found else text
            msg = f"the objective {name} failed: {reason}"
            raise ObjectiveError(msg) from e
        value = float(value)
        if not math.isfinite(value):
            msg = (
                f"the objective {name} is {value} (check for empty background bins "
                "or a failed fit)"
            )
            raise ObjectiveError(msg)
        return value, {k: np.asarray(g) for k, g in grads.items()}

    # ---- evaluations ----------------------------------------------------------------

    def evaluate(self, params: Mapping[str, float] | None = None) -> Evaluation:
        """Objective and gradient d(objective)/d(parameters) at ``params``
        (default: the configuration's initial values)."""
        p = dict(self.config.param_values)
        p.update(params or {})
        return self.evaluation(p, self.histograms(p))

    def evaluation(self, params: Mapping[str, float], histos: Histograms) -> Evaluation:
        """Objective and gradient at ``params`` from their histograms (no event
        loop)."""
        p = dict(params)
        value, g = self.objective_value(histos)
        grad = np.zeros(len(self.param_names))
        for k, (_, jac) in self.model.leaves(histos).items():
            grad += jac.T @ g[k]  # the chain rule: J^T g
        gradient = dict(zip(self.param_names, grad.tolist(), strict=True))
        if getattr(self.graph, "reverse", ()):
            # The large networks' weights: the adjoint event loop.
            cot = self._histogram_cotangents(histos, g)
            gradient.update(self.graph.reverse_gradient(cot, histos))
        return Evaluation(
            p, value, gradient, histos, skipped_counts(histos), self.events
        )

    def _histogram_cotangents(
        self, histos: Histograms, g: Mapping[str, np.ndarray]
    ) -> dict[str, dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]]:
        """d(objective)/d(values, variances) of every histogram, in its own bins,
        from the gradient ``g`` w.r.t. the model's arrays (in the fit bins): the
        transpose of `StatModel.rebinned`, taken from its Jacobian of an identity
        probe."""
        out: dict[str, dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]] = {}
        for s, chans in histos.items():
            out[s] = {}
            for ch, variations in chans.items():
                out[s][ch] = {}
                for v, h in variations.items():
                    eye = np.eye(h.values.size)
                    probe = with_jacobians(h, eye, eye)
                    rebin = self.model.rebinned(probe, ch).jacobian  # [fit bins, bins]
                    values = rebin.T @ g[f"{s}/{ch}/{v}"]
                    var_key = f"{s}/{ch}/variances"
                    if v == NOMINAL and var_key in g:
                        variances = rebin.T @ g[var_key]
                    else:
                        variances = np.zeros_like(values)
                    out[s][ch][v] = (values, variances)
        return out

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


# The jitted objectives of the last few statistical models, by `_statistics_key`:
# an Analysis of the same statistics (the hard analysis beside the relaxed one, a
# configuration loaded again) reuses the traced and compiled function instead of
# paying seconds of XLA compilation again.
_OBJECTIVES: dict[str, Callable[[dict[str, Any]], tuple[Any, Any]]] = {}
_OBJECTIVES_KEPT = 8


def _statistics_key(config: Config) -> str:
    """What the objective of ``config`` is a function of: the whole configuration
    but its parameters (their values and bounds enter the histograms, not the
    statistics) and the observables' bandwidths (the hard analysis sets them to
    None; the statistics see the bins only).

    Examples
    --------
    >>> from diffana.analysis import demo
    >>> from diffana.analysis.config import load
    >>> cfg = load(demo.config_path(), check_files=False)
    >>> _statistics_key(cfg) == _statistics_key(cfg.hard())
    True
    >>> other = cfg.model_copy(update={"lumi": 2 * cfg.lumi})
    >>> _statistics_key(cfg) == _statistics_key(other)
    False
    """
    data = config.model_dump(mode="json")
    data.pop("parameters", None)
    for obs in data.get("observables", []):
        obs.pop("bandwidth", None)
    return json.dumps(data, sort_keys=True, default=str)


def _graph(
    config: Config,
    files: Mapping[str, Sequence[str]] | None,
    source: str,
    client: Any,
) -> Graph:
    """The event loops: in this process, or on the Dask cluster of ``client`` (or
    of the enclosing `diffana.distributed.cluster` block)."""
    from ..distributed.cluster import active_client, active_options

    options = active_options() if client is None else {}
    client = client if client is not None else active_client()
    # Large networks get their weights' gradient from the adjoint event loop (on
    # a cluster: pass 2 on the workers too).
    reverse = adjoint_networks(config)
    if client is None:
        return Graph(config, files, source, reverse=reverse)
    from ..distributed.graph import DaskGraph

    return DaskGraph(config, client, files, source, reverse=reverse, **options)


def _bins_text(bins: np.ndarray, edges: np.ndarray, shown: int = 5) -> str:
    """``"3 of 2000 bins: 0 [0, 1), 4 [4, 5), 7 [7, 8)"``, the first ``shown`` of
    them with their ranges, then ``", ..."``: one short line for any number of bins.

    Examples
    --------
    >>> import numpy as np
    >>> _bins_text(np.array([0, 2]), np.array([0.0, 1.0, 2.0, 3.0]))
    '2 of 3 bins: 0 [0, 1), 2 [2, 3)'
    >>> _bins_text(np.arange(100), np.arange(101.0), shown=2)
    '100 of 100 bins: 0 [0, 1), 1 [1, 2), ...'
    """
    first = ", ".join(
        f"{b} [{edges[b]:g}, {edges[b + 1]:g})" for b in bins[:shown].tolist()
    )
    more = ", ..." if bins.size > shown else ""
    return f"{bins.size} of {edges.size - 1} bins: {first}{more}"
