# SPDX-License-Identifier: BSD-3-Clause
"""The expected CLs band: the median and the ±1σ, ±2σ expected CLs.

pyhf's ``hypotest(..., return_expected_set=True)`` band, differentiable. Both
kinds of Asimov data are offered, and named:

- post-fit (the default, what pyhf computes on observed data): the Asimov data
  are the expectation at the fit to the data with the POI at 0
  (``generate_asimov_data`` with ``asimov_mu = 0``); needs data;
- pre-fit (``prefit=True``): the expectation at the suggested init with the POI
  at 0, what `diffana.stats.expected_cls` uses -- its median equals
  ``expected_cls``. It needs no data (an analysis optimised before unblinding).

Imports `._common`, `.model`, `.objectives`, `._asymptotics` and `.observed`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ._asymptotics import CLS_TEST_STATS, _band
from ._common import Array, Workspace
from .model import Model
from .objectives import _check_background, _model, _one_line
from .observed import _check_mu, _check_test_stat, _data

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["expected_cls_band"]


def expected_cls_band(
    workspace: Workspace | Model,
    mu: Any = 1.0,
    test_stat: str = "qtilde",
    *,
    data: Any | None = None,
    prefit: bool = False,
    measurement: str | None = None,
) -> Array:
    r"""Expected CLs at :math:`(-2, -1, 0, 1, 2)\sigma` for signal strength ``mu``.

    The band of pyhf's ``hypotest(mu, data, model, test_stat=test_stat,
    return_expected_set=True)``: with :math:`q_{\mu,A}` the test statistic on
    the background-only Asimov data, the expected CLs for a test statistic
    :math:`n` standard deviations from the background-only median is
    :math:`\Phi(-(n + \sqrt{q_{\mu,A}})) / \Phi(-n)`, for :math:`n = 2, 1, 0,
    -1, -2` (the order pyhf returns, smallest CLs first). q̃μ and qμ give the
    same band.

    Parameters
    ----------
    workspace : dict or Model
    mu : float
        The tested signal strength, within the POI's bounds (differentiable).
    test_stat : {"qtilde", "q"}
    data : array_like, optional
        Post-fit only: the data whose fit with the POI at 0 generates the
        Asimov data (default the workspace's observations; forms as in
        `diffana.stats.observed.observed_cls`).
    prefit : bool
        Generate the Asimov data at the suggested init instead (no data used;
        the median is then `diffana.stats.expected_cls`).
    measurement : str, optional

    Returns
    -------
    jax.Array
        Shape (5,): the expected CLs, smallest first.

    Examples
    --------
    >>> import jax
    >>> from diffana.stats.band import expected_cls_band
    >>> ws = {
    ...     "channels": [{"name": "sr", "samples": [
    ...         {"name": "signal", "data": [12.0, 11.0], "modifiers": [
    ...             {"name": "mu", "type": "normfactor", "data": None}]},
    ...         {"name": "background", "data": [50.0, 52.0], "modifiers": [
    ...             {"name": "unc", "type": "shapesys", "data": [3.0, 7.0]}]},
    ...     ]}],
    ...     "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
    ...     "observations": [{"name": "sr", "data": [51.0, 48.0]}],
    ... }
    >>> with jax.enable_x64(True):
    ...     print([round(float(x), 5) for x in expected_cls_band(ws)])
    ...     print([round(float(x), 5) for x in expected_cls_band(ws, prefit=True)])
    [0.00261, 0.01382, 0.06446, 0.23526, 0.57304]
    [0.00272, 0.01429, 0.06601, 0.2388, 0.57734]
    """
    what = "expected_cls_band"
    _check_test_stat(test_stat, CLS_TEST_STATS, what)
    model = _model(workspace, measurement)
    _check_background(model, what)
    mu_arr = _check_mu(model, mu, what)
    if prefit:
        if data is not None:
            msg = f"{what}: prefit=True uses no data; pass data only post-fit"
            raise ValueError(msg)
        arr = jnp.zeros(0, mu_arr.dtype)
    else:
        arr = _data(workspace, model, data, what)

    def compute(flat: Array, arr: Array, mu: Array) -> Array:
        return _band(model._spec, prefit, what, flat, arr, mu)

    return _one_line(what, compute, model._flat(), arr, mu_arr)
