# SPDX-License-Identifier: BSD-3-Clause
"""The statistical model of an analysis: its input arrays and the HistFactory (pyhf
JSON) workspace built from them.

The histograms of `diffana.analysis.graph` become arrays in the model's bins (an
observable's ``fit_bins`` merge its bins: `StatModel.rebinned`, linear in the number
of bins; without ``fit_bins`` the histograms are used as they are), each with its
Jacobian ``[fit bins, P]``, named ``sample/channel/variation`` (and
``sample/channel/variances`` with ``mc_stat: true``; the data's only
``data/channel/nominal``). The workspace takes numpy or JAX arrays as sample data:
per channel (observable), the signal samples carry the POI (``poi``, default ``mu``;
a normfactor) unless ``normfactors`` declares it, then the ``normfactors`` (their
nominal values, bounds and ``fixed`` in the measurement's parameters); ``normsys``
and ``histosys`` (from the variation histograms) as configured; ``staterror`` from
the variances. The data's histograms are the observations (and stay arrays: an
objective that reads them differentiates through them).

May import numpy, JAX (inside functions), `diffana.hist` (`GradHistogram`),
`diffana.analysis.config` and `diffana.analysis.graph` (its names and types, no
event loop).

Examples
--------
>>> import numpy as np
>>> from diffana.analysis.config import load_dict
>>> cfg = load_dict({
...     "samples": [{"name": "s", "files": "s.root", "role": "signal"},
...                 {"name": "b", "files": "b.root", "role": "background"}],
...     "parameters": [{"name": "cut", "value": 1.0, "bounds": [0.0, 2.0]}],
...     "observables": [{"name": "sr", "expression": "x", "bins": [0.0, 1.0, 2.0]}],
...     "objective": {"type": "discovery_significance"}, "mc_stat": False})
>>> model = StatModel(cfg)
>>> ws = model.workspace({"s/sr/nominal": np.array([1.0, 2.0]),
...                       "b/sr/nominal": np.array([5.0, 4.0])})
>>> [m["type"] for s in ws["channels"][0]["samples"] for m in s["modifiers"]]
['normfactor']
>>> ws["observations"]
[{'name': 'sr', 'data': [5.0, 4.0]}]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..hist import GradHistogram
from .config import Config, NormSystematic
from .graph import NOMINAL, Histograms

__all__ = ["StatModel"]


class StatModel:
    """The statistical model of a configuration: arrays from histograms, and the
    pyhf workspace from arrays."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.channels = tuple(o.name for o in config.observables)
        #: The model's bins: the histograms' bins merged into fit_bins.
        self.fit_edges = {
            o.name: np.asarray(o.fit_edges, float) for o in config.observables
        }
        # Channel -> the histogram edge index of every fit edge; None where the
        # fit bins are the bins.
        self._fit_index = {
            o.name: _edge_index(np.asarray(o.edges, float), self.fit_edges[o.name])
            for o in config.observables
        }

    def rebinned(self, h: GradHistogram, channel: str) -> GradHistogram:
        """Histogram ``h`` of ``channel`` in the fit bins: the bins between two fit
        edges summed (values, variances and their Jacobians), in one pass over the
        bins (``np.add.reduceat``); ``h`` itself without ``fit_bins``.

        Examples
        --------
        >>> import diffana
        >>> from diffana.analysis.config import load_dict
        >>> cfg = load_dict({
        ...     "samples": [{"name": "s", "files": "s.root", "role": "signal"},
        ...                 {"name": "b", "files": "b.root", "role": "background"}],
        ...     "parameters": [{"name": "c", "value": 1.0, "bounds": [0.0, 2.0]}],
        ...     "observables": [{"name": "sr", "expression": "x",
        ...                      "bins": [0.0, 1.0, 2.0, 3.0], "fit_bins": [1.0, 3.0]}],
        ...     "objective": {"type": "discovery_significance"}})
        >>> h = diffana.histogram([0.5, 1.5, 2.5], [0.0, 1.0, 2.0, 3.0])
        >>> StatModel(cfg).rebinned(h, "sr").values
        array([2.])
        """
        index = self._fit_index[channel]
        if index is None:
            return h
        lo, hi = int(index[0]), int(index[-1])
        starts = index[:-1] - lo

        def merge(a: np.ndarray) -> np.ndarray:
            return np.add.reduceat(a[lo:hi], starts, axis=0)

        return GradHistogram(
            merge(h.values),
            merge(h.variances),
            merge(h.jacobian),
            merge(h.variances_jacobian),
            h.edges[index],
            h.bandwidth,
            h.overflow,
            h.n_skipped,
            param_names=h.param_names,
        )

    def leaves(self, histos: Histograms) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Array name -> (array, its Jacobian [fit bins, P]): the statistical
        model's inputs, in the fit bins."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        data = self.config.data.name if self.config.data is not None else None
        for s, chans in histos.items():
            for ch, variations in chans.items():
                for v, h in variations.items():
                    m = self.rebinned(h, ch)
                    out[f"{s}/{ch}/{v}"] = (m.values, m.jacobian)
                if self.config.mc_stat and s != data:
                    nom = self.rebinned(variations[NOMINAL], ch)
                    out[f"{s}/{ch}/variances"] = (nom.variances, nom.variances_jacobian)
        return out

    def workspace(
        self,
        leaves: Mapping[str, Any],
        observations: Mapping[str, Sequence[float]] | None = None,
    ) -> dict[str, Any]:
        """A pyhf JSON workspace from arrays keyed ``sample/channel/variation`` and
        ``sample/channel/variances`` (numpy or JAX). ``observations`` (channel ->
        data; default: the sum of the backgrounds, which needs numpy leaves) only
        label the workspace: the objectives use Asimov data."""
        cfg = self.config
        implicit_poi = cfg.poi_normfactor is None
        if observations is None:
            observations = self.observed(leaves)
        channels = []
        for ch in self.channels:
            samples = []
            for s in cfg.samples:
                nominal = leaves[f"{s.name}/{ch}/{NOMINAL}"]
                mods: list[dict[str, Any]] = []
                if s.role == "signal" and implicit_poi:
                    mods.append({"name": cfg.poi, "type": "normfactor", "data": None})
                for nf in cfg.normfactors:
                    if nf.applies_to(s.name):
                        mods.append(
                            {"name": nf.name, "type": "normfactor", "data": None}
                        )
                for sy in cfg.systematics:
                    if not sy.applies_to(s.name):
                        continue
                    if isinstance(sy, NormSystematic):
                        data: dict[str, Any] = {"hi": sy.hi, "lo": sy.lo}
                        mods.append({"name": sy.name, "type": "normsys", "data": data})
                    else:
                        data = {
                            "hi_data": leaves[f"{s.name}/{ch}/{sy.name}_up"],
                            "lo_data": leaves[f"{s.name}/{ch}/{sy.name}_down"],
                        }
                        mods.append({"name": sy.name, "type": "histosys", "data": data})
                if cfg.mc_stat:
                    err = _sqrt_positive(leaves[f"{s.name}/{ch}/variances"])
                    mods.append(
                        {"name": f"staterror_{ch}", "type": "staterror", "data": err}
                    )
                samples.append({"name": s.name, "data": nominal, "modifiers": mods})
            channels.append({"name": ch, "samples": samples})
        return {
            "channels": channels,
            "observations": [
                {"name": ch, "data": _observation(observations[ch])}
                for ch in self.channels
            ],
            "measurements": [
                {
                    "name": "measurement",
                    "config": {
                        "poi": cfg.poi,
                        "parameters": [nf.parameter() for nf in cfg.normfactors],
                    },
                }
            ],
            "version": "1.0.0",
        }

    def observed(self, leaves: Mapping[str, Any]) -> dict[str, Any]:
        """Channel -> the data's histogram (the leaf ``data/channel/nominal``) where
        the configuration has data and ``leaves`` hold it; else the summed nominal
        backgrounds (numpy leaves)."""
        data = self.config.data
        if data is not None and all(
            f"{data.name}/{ch}/{NOMINAL}" in leaves for ch in self.channels
        ):
            return {ch: leaves[f"{data.name}/{ch}/{NOMINAL}"] for ch in self.channels}
        return dict(self.background_sums(leaves))

    def background_sums(self, leaves: Mapping[str, Any]) -> dict[str, list[float]]:
        """Channel -> the summed nominal backgrounds (numpy leaves)."""
        out = {}
        for ch in self.channels:
            total = np.zeros(self.fit_edges[ch].size - 1)
            for s in self.config.samples:
                if s.role == "background":
                    total = total + np.asarray(leaves[f"{s.name}/{ch}/{NOMINAL}"])
            out[ch] = total.tolist()
        return out

    def inputs(self, leaves: Mapping[str, Any]) -> _Inputs:
        """What an objective (`diffana.analysis.objectives.ModelInputs`) is computed
        from, for arrays keyed as `leaves` names them (JAX, under the objective's
        jit)."""
        return _Inputs(self, leaves)

    def plain_workspace(self, histos: Histograms) -> dict[str, Any]:
        """The workspace of histograms as plain JSON (lists): what
        ``workspace_*.json`` hold and pyhf reads."""
        leaves = {k: v[0] for k, v in self.leaves(histos).items()}
        ws = self.workspace(leaves)
        out: dict[str, Any] = json.loads(
            json.dumps(ws, default=lambda a: np.asarray(a).tolist())
        )
        return out


class _Inputs:
    """`diffana.analysis.objectives.ModelInputs` of a `StatModel` at some arrays."""

    def __init__(self, model: StatModel, leaves: Mapping[str, Any]) -> None:
        self._model = model
        self._leaves = leaves

    def total(self, role: str) -> Any:
        import jax.numpy as jnp

        roles = {s.name: s.role for s in self._model.config.samples}
        parts = []
        for ch in self._model.channels:
            arrays = [
                self._leaves[f"{n}/{ch}/{NOMINAL}"]
                for n, r in roles.items()
                if r == role
            ]
            parts.append(sum(arrays[1:], arrays[0]))
        return jnp.concatenate(parts)

    def workspace(self) -> dict[str, Any]:
        # The objectives are expected results, computed on Asimov data: without
        # data, observations only complete the workspace, so fixed zeros do (and
        # keep it jit-able); the data's arrays are passed on as they are.
        model = self._model
        obs: dict[str, Any] = {
            ch: [0.0] * (model.fit_edges[ch].size - 1) for ch in model.channels
        }
        data = model.config.data
        if data is not None:
            for ch in model.channels:
                obs[ch] = self._leaves.get(f"{data.name}/{ch}/{NOMINAL}", obs[ch])
        return model.workspace(self._leaves, obs)


def _observation(data: Any) -> Any:
    """Observed counts as the workspace holds them: a list of floats for numbers
    (what pyhf reads), a JAX array as it is (traced under the objective's jit)."""
    if isinstance(data, (list, tuple, np.ndarray)):
        return [float(x) for x in data]
    return data


def _edge_index(edges: np.ndarray, fit: np.ndarray) -> np.ndarray | None:
    """The index in ``edges`` of every fit edge (within 1e-9 of the range, as the
    configuration checks them); None when ``fit`` is ``edges``."""
    if fit.size == edges.size and np.array_equal(fit, edges):
        return None
    tol = 1e-9 * float(edges[-1] - edges[0])
    index = np.clip(np.searchsorted(edges, fit - tol), 0, edges.size - 1)
    missing = fit[np.abs(edges[index] - fit) > tol]
    if missing.size:
        msg = f"fit_bins {missing.tolist()} are not edges of the bins"
        raise ValueError(msg)
    return index


def _sqrt_positive(var: Any) -> Any:
    """sqrt of the variances, 0 where they are not positive (differentiable in JAX:
    the square root never sees a non-positive number)."""
    if isinstance(var, np.ndarray):
        return np.sqrt(np.maximum(var, 0.0))
    import jax.numpy as jnp

    pos = var > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, var, 1.0)), 0.0)
