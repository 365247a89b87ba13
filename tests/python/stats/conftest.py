# SPDX-License-Identifier: BSD-3-Clause
"""Workspaces and pyhf references shared by the tests of diffana.stats.

``workspaces``: builders of three workspaces in pyhf's JSON schema (every
modifier type but shapefactor among them). ``pyhf_ref``: pyhf 0.7 (numpy
backend, scipy optimiser with a tight tolerance) computing what diffana.stats
computes -- values with ``hypotest`` on the Asimov data, and for gradients the
profiled values whose finite differences are precise enough (see
`PyhfReference.profiled`).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

# ---- workspaces -----------------------------------------------------------------------


def measurement(parameters: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    return [{"name": "meas", "config": {"poi": "mu", "parameters": list(parameters)}}]


def simple(signal: Any = (12.0, 11.0)) -> dict[str, Any]:
    """pyhf.simplemodels.uncorrelated_background: shapesys."""
    return {
        "channels": [
            {
                "name": "singlechannel",
                "samples": [
                    {
                        "name": "signal",
                        "data": signal,
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None}
                        ],
                    },
                    {
                        "name": "background",
                        "data": [50.0, 52.0],
                        "modifiers": [
                            {
                                "name": "uncorr_bkguncrt",
                                "type": "shapesys",
                                "data": [3.0, 7.0],
                            }
                        ],
                    },
                ],
            }
        ],
        "measurements": measurement(),
        "observations": [{"name": "singlechannel", "data": [50.0, 52.0]}],
        "version": "1.0.0",
    }


def correlated() -> dict[str, Any]:
    """pyhf.simplemodels.correlated_background: histosys."""
    ws = simple()
    ws["channels"][0]["samples"][1]["modifiers"] = [
        {
            "name": "correlated_bkg_uncertainty",
            "type": "histosys",
            "data": {"hi_data": [53.0, 56.0], "lo_data": [46.0, 48.0]},
        }
    ]
    return ws


def two_channel() -> dict[str, Any]:
    """normsys + histosys (sharing a parameter) + staterror + shapesys + lumi + 2nd NF."""
    lumi = {"name": "lumi", "type": "lumi", "data": None}
    sr = [
        {
            "name": "signal",
            "data": [5.0, 8.0, 4.0],
            "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None},
                lumi,
                {
                    "name": "sig_xsec",
                    "type": "normsys",
                    "data": {"hi": 1.1, "lo": 0.92},
                },
                {"name": "stat_SR", "type": "staterror", "data": [0.5, 0.7, 0.4]},
            ],
        },
        {
            "name": "ttbar",
            "data": [20.0, 15.0, 9.0],
            "modifiers": [
                {"name": "mu_tt", "type": "normfactor", "data": None},
                lumi,
                {
                    "name": "jes",
                    "type": "histosys",
                    "data": {
                        "hi_data": [22.0, 15.5, 8.0],
                        "lo_data": [18.5, 14.0, 9.5],
                    },
                },
                {"name": "jes", "type": "normsys", "data": {"hi": 1.05, "lo": 0.97}},
                {"name": "stat_SR", "type": "staterror", "data": [1.5, 1.2, 1.0]},
            ],
        },
        {
            "name": "wjets",
            "data": [10.0, 6.0, 3.0],
            "modifiers": [
                {"name": "w_shape", "type": "shapesys", "data": [2.0, 1.5, 1.2]},
                {"name": "w_norm", "type": "normsys", "data": {"hi": 1.2, "lo": 0.85}},
            ],
        },
    ]
    cr = [
        {
            "name": "ttbar",
            "data": [100.0, 80.0],
            "modifiers": [
                {"name": "mu_tt", "type": "normfactor", "data": None},
                lumi,
                {
                    "name": "jes",
                    "type": "histosys",
                    "data": {"hi_data": [104.0, 83.0], "lo_data": [97.0, 78.0]},
                },
                {"name": "stat_CR", "type": "staterror", "data": [4.0, 3.0]},
            ],
        },
        {
            "name": "wjets",
            "data": [30.0, 20.0],
            "modifiers": [
                {"name": "w_norm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.9}},
                {"name": "stat_CR", "type": "staterror", "data": [2.0, 1.8]},
            ],
        },
    ]
    lumi_cfg = {
        "name": "lumi",
        "auxdata": [1.0],
        "sigmas": [0.02],
        "bounds": [[0.5, 1.5]],
        "inits": [1.0],
    }
    return {
        "channels": [{"name": "SR", "samples": sr}, {"name": "CR", "samples": cr}],
        "measurements": measurement([lumi_cfg]),
        "observations": [
            {"name": "SR", "data": [35.0, 29.0, 16.0]},
            {"name": "CR", "data": [130.0, 100.0]},
        ],
        "version": "1.0.0",
    }


WORKSPACES: dict[str, Callable[[], dict[str, Any]]] = {
    "simple": simple,
    "correlated": correlated,
    "two_channel": two_channel,
}


#: Observations of ``simple`` below its background (50, 52): pyhf's documentation
#: example of an observed limit.
DEFICIT = [51.0, 48.0]


def observed(
    signal: Any = (12.0, 11.0), background: Any = None, obs: Any = DEFICIT
) -> dict[str, Any]:
    """``simple(signal)`` with another background (if given) and observations."""
    ws = simple(signal)
    if background is not None:
        ws["channels"][0]["samples"][1]["data"] = background
    ws["observations"] = [{"name": "singlechannel", "data": obs}]
    return ws


@pytest.fixture(scope="session")
def workspaces() -> types.SimpleNamespace:
    """The builders ``simple(signal)``, ``observed(signal, background, obs)``,
    ``correlated()``, ``two_channel()``, ``measurement(parameters)``, ``by_name``
    (name -> builder) and ``DEFICIT`` (``observed``'s default observations)."""
    return types.SimpleNamespace(
        simple=simple,
        observed=observed,
        correlated=correlated,
        two_channel=two_channel,
        measurement=measurement,
        by_name=dict(WORKSPACES),
        DEFICIT=DEFICIT,
    )


# ---- pyhf references ------------------------------------------------------------------


class PyhfReference:
    """pyhf's numbers for what diffana.stats computes (``pyhf`` is the module)."""

    def __init__(self, pyhf: Any, norm: Any) -> None:
        self.pyhf = pyhf
        self._norm = norm  # scipy.stats.norm: p-values to significances

    def model(self, ws: dict[str, Any]) -> Any:
        import diffana.stats as ds

        return self.pyhf.Workspace(ds.to_pyhf_json(ws)).model()

    def model_and_data(self, ws: dict[str, Any]) -> tuple[Any, Any]:
        """pyhf's model and its ``workspace.data(model)`` (observations + auxdata)."""
        import diffana.stats as ds

        workspace = self.pyhf.Workspace(ds.to_pyhf_json(ws))
        model = workspace.model()
        return model, workspace.data(model)

    @staticmethod
    def asimov(model: Any, poi: float) -> tuple[np.ndarray, Any]:
        pars = np.array(model.config.suggested_init(), dtype=float)
        pars[model.config.poi_index] = poi
        return pars, model.expected_data(pars)

    def hypotest(self, ws: dict[str, Any]) -> dict[str, float]:
        """The definition of the expected results: pyhf's hypotest on the Asimov data."""
        pyhf = self.pyhf
        model = self.model(ws)
        _, data_b = self.asimov(model, 0.0)
        _, data_sb = self.asimov(model, 1.0)
        cls = float(pyhf.infer.hypotest(1.0, data_b, model, test_stat="qtilde"))
        cls_q = float(pyhf.infer.hypotest(1.0, data_b, model, test_stat="q"))
        p0 = float(pyhf.infer.hypotest(0.0, data_sb, model, test_stat="q0"))
        return {"cls": cls, "cls_q": cls_q, "z": float(self._norm.isf(p0))}

    def hessian_uncertainty(self, model: Any) -> float:
        """sqrt((H^-1)_mu,mu), H of -log L (pyhf) at the s+b Asimov point, Richardson FD."""
        pars, data = self.asimov(model, 1.0)
        idx = np.nonzero(~np.array(model.config.suggested_fixed()))[0]

        def f(da: float, a: int, db: float, b: int) -> float:
            p = pars.copy()
            p[idx[a]] += da
            p[idx[b]] += db
            return -float(model.logpdf(p, data)[0])

        def hess(h: float) -> np.ndarray:
            n = idx.size
            out = np.zeros((n, n))
            for a in range(n):
                for b in range(a, n):
                    out[a, b] = out[b, a] = (
                        f(h, a, h, b)
                        - f(h, a, -h, b)
                        - f(-h, a, h, b)
                        + f(-h, a, -h, b)
                    ) / (4 * h * h)
            return out

        h = 1e-2
        matrix = (4 * hess(h) - hess(2 * h)) / 3  # O(h^4) truncation, ~1e-10 rounding
        at = list(idx).index(model.config.poi_index)
        return math.sqrt(np.linalg.inv(matrix)[at, at])

    def profiled(self, ws: dict[str, Any]) -> dict[str, float]:
        """CLs, Z and sigma(mu) from pyhf's fixed-POI fits.

        For finite differences of pyhf's own numbers the likelihood is profiled
        with its ``fixed_poi_fit`` (SLSQP, q exact to ~1e-12) and the
        unconditional fit replaced by its exact value, the generating parameters
        (the Asimov data are saturated there): the noise of the unconditional
        SLSQP fit inside ``hypotest`` (~1e-8) would swamp a 1e-4 step.
        """
        pyhf = self.pyhf
        model = self.model(ws)
        out = {}
        for name, poi_data, poi_fit in (("cls", 0.0, 1.0), ("z", 1.0, 0.0)):
            pars, data = self.asimov(model, poi_data)
            _, fitted = pyhf.infer.mle.fixed_poi_fit(
                poi_fit, data, model, return_fitted_val=True
            )
            q = max(
                float(fitted) - float(pyhf.infer.mle.twice_nll(pars, data, model)[0]),
                0.0,
            )
            out[name] = math.sqrt(q)
        sb = pyhf.infer.calculators.AsymptoticTestStatDistribution(-out["cls"])
        b = pyhf.infer.calculators.AsymptoticTestStatDistribution(0.0)
        out["cls"] = float(sb.pvalue(0.0) / b.pvalue(0.0))
        out["unc"] = self.hessian_uncertainty(model)
        return out


@pytest.fixture(scope="module")
def pyhf_ref() -> PyhfReference:
    """pyhf on numpy with a tight scipy (SLSQP) tolerance; skips without pyhf."""
    pyhf = pytest.importorskip("pyhf", reason="the reference is pyhf")
    scipy_stats = pytest.importorskip("scipy.stats", reason="p-values to significances")
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-14))
    return PyhfReference(pyhf, scipy_stats.norm)
