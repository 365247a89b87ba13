# SPDX-License-Identifier: BSD-3-Clause
"""Differentiable statistics in JAX: HistFactory likelihoods, expected and observed
results, upper limits.

Every function takes a pyhf workspace (a ``dict`` in pyhf's JSON schema, a
``pyhf.Workspace`` or a ``pyhf.Model``) whose sample ``data`` -- and the modifier
data that go with them: ``histosys`` ``hi_data``/``lo_data``,
``staterror``/``shapesys`` ``data``, ``normsys`` ``hi``/``lo`` -- and observations
may be JAX arrays, and is differentiable with respect to them with ``jax.grad``,
which pyhf itself cannot do:

- `asimov_significance` -- Cowan et al. (2011) Asimov discovery significance,
  with or without a background uncertainty, no fit;
- `expected_cls` -- expected CLs (q̃μ or qμ) on the background-only Asimov data;
- `expected_discovery_significance` -- sqrt(q0) on the signal-plus-background
  Asimov data;
- `expected_poi_uncertainty` -- the Cramér-Rao (inverse Hessian) uncertainty on
  the parameter of interest at the signal-plus-background Asimov point;
- `observed_cls`, `observed_discovery_significance`, `hypotest`, `observed_data`
  -- observed results on the workspace's observations or given data (pyhf's
  ``hypotest``, asymptotics);
- `expected_cls_band` -- the expected CLs at -2...+2 sigma, post-fit (pyhf's,
  from the fit to the data with the POI at 0) or pre-fit (``prefit=True``, at the
  suggested init; its median is `expected_cls`);
- `upper_limit`, `observed_upper_limit`, `expected_upper_limit` -- where CLs
  reaches ``level`` (pyhf's ``upper_limit``), differentiable by the implicit
  function theorem through the root finding.

"Expected" means what pyhf computes with ``pyhf.infer.hypotest(mu,
model.expected_data(pars), model, test_stat=...)`` where ``pars`` are the model's
suggested initial parameters with the POI at 0 (at 1 for the discovery
significance and the POI uncertainty). The values agree with pyhf's (numpy
backend, scipy optimiser with a tight tolerance) to better than 1e-6 relative.

`Model` is the HistFactory model itself, written in ``jax.numpy`` following
pyhf 0.7 exactly: the same parameter order, modifiers ``normfactor``,
``normsys`` (interpolation code 4, or 1), ``histosys`` (code 4p, or 0) -- chosen
with pyhf's ``modifier_settings`` --, ``staterror``, ``shapesys``, ``shapefactor``
(shared across channels as in pyhf) and ``lumi``, Poisson main terms, Gaussian
constraints (Poisson for ``shapesys``) and the measurement's parameter
configuration (POI of any one-parameter set, inits, bounds, fixed, lumi
auxdata/sigmas; entries for parameters no modifier uses are ignored, as pyhf
does). `fit` is a maximum-likelihood fit within pyhf's bounds, differentiable
implicitly. A workspace that cannot be read is one `WorkspaceError` line.

Use float64 (``jax.config.update("jax_enable_x64", True)``) for pyhf-level
agreement; in float32 the fits stop at a looser tolerance.

Layers
------
Each module imports only those above it:

- ``_common``: type aliases, `WorkspaceError`, helpers;
- ``interpolation``: codes 0, 1, 4 and 4p;
- ``modifiers``: one module per modifier type, the table ``histfactory_set`` and
  ``effects_for`` (``modifier_settings``);
- ``_spec``: reading a workspace (dict, ``pyhf.Workspace``, ``pyhf.Model``) into
  its static structure and its arrays;
- ``model``: `Model`, expected data, constraints, likelihood;
- ``mle``: `fit` (optimistix BFGS, implicit derivatives);
- ``_asimov_q``: the profiled q on Asimov data, without cancellation;
- ``objectives``: `expected_cls`, `expected_discovery_significance`,
  `expected_poi_uncertainty`;
- ``_asymptotics``: pyhf's asymptotic calculator on data;
- ``observed``, ``band``, ``limits``: the observed results, the expected band,
  the upper limits;
- ``asimov``: `asimov_significance` (closed form, no model);
- ``workspace``: `value_and_grad_yields`, `to_pyhf_json`.

This module only re-exports their public names.

Examples
--------
>>> import jax
>>> import jax.numpy as jnp
>>> import diffana.stats as ds
>>> with jax.enable_x64(True):
...     print(round(float(ds.asimov_significance(5.0, 10.0)), 6))
...     print(round(float(ds.asimov_significance(5.0, 10.0, b_unc=2.0)), 6))
1.471038
1.217145
>>> def workspace(signal):
...     return {
...         "channels": [{"name": "sr", "samples": [
...             {"name": "signal", "data": signal, "modifiers": [
...                 {"name": "mu", "type": "normfactor", "data": None}]},
...             {"name": "background", "data": [50.0, 52.0], "modifiers": [
...                 {"name": "bkg_unc", "type": "shapesys", "data": [3.0, 7.0]}]},
...         ]}],
...         "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
...         "observations": [{"name": "sr", "data": [50.0, 52.0]}],
...         "version": "1.0.0",
...     }
>>> with jax.enable_x64(True):
...     s = jnp.array([12.0, 11.0])
...     cls, grad = jax.value_and_grad(lambda s: ds.expected_cls(workspace(s)))(s)
...     print(round(float(cls), 5), [round(float(g), 5) for g in grad])
0.06601 [-0.01389, -0.00858]
"""

from __future__ import annotations

from .._optional import require

require(__name__)  # before the imports: a missing dependency names its extra

from ._common import WorkspaceError
from .asimov import asimov_significance
from .band import expected_cls_band
from .limits import expected_upper_limit, observed_upper_limit, upper_limit
from .mle import fit
from .model import Model
from .objectives import (
    expected_cls,
    expected_discovery_significance,
    expected_poi_uncertainty,
)
from .observed import (
    hypotest,
    observed_cls,
    observed_data,
    observed_discovery_significance,
)
from .workspace import to_pyhf_json, value_and_grad_yields

__all__ = [
    "Model",
    "WorkspaceError",
    "asimov_significance",
    "expected_cls",
    "expected_cls_band",
    "expected_discovery_significance",
    "expected_poi_uncertainty",
    "expected_upper_limit",
    "fit",
    "hypotest",
    "observed_cls",
    "observed_data",
    "observed_discovery_significance",
    "observed_upper_limit",
    "to_pyhf_json",
    "upper_limit",
    "value_and_grad_yields",
]
