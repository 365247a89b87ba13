# SPDX-License-Identifier: BSD-3-Clause
"""Observed results on data: CLs, the discovery significance, pyhf's hypotest.

The data are the workspace's ``observations`` (`observed_data`, pyhf's
``Workspace.data(model)``) or passed explicitly, as pyhf takes them -- main
data followed by the auxiliary data (``observations + model.config.auxdata``)
-- or as the main-bin observations only (the nominal auxiliary data are then
appended). Every result is differentiable with ``jax.grad`` with respect to
the yields (sample and modifier data) and to the data.

Imports `._common`, `.model`, `.objectives` and `._asymptotics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._asymptotics import CLS_TEST_STATS, _cls, _q0
from ._common import Array, Workspace, _is_traced
from .model import Model, _aux_and_fixed
from .objectives import _check_background, _model, _one_line

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = [
    "hypotest",
    "observed_cls",
    "observed_data",
    "observed_discovery_significance",
]


def _observations(workspace: Any, model: Model, what: str) -> Array:
    """The main data from the workspace's ``observations``, in the model's order."""
    given = isinstance(workspace, Mapping)
    obs = workspace.get("observations") if given else None
    if not obs:
        where = (
            "the workspace has no 'observations'"
            if given
            else f"a {type(workspace).__name__} carries no observations"
        )
        msg = (
            f"{what}: no data: {where} "
            "(pass data=... : the main-bin observations, or pyhf's "
            "observations + model.config.auxdata)"
        )
        raise ValueError(msg)
    by_name = {o.get("name"): o.get("data") for o in obs}
    # Concrete observations are gathered on the host: no kernel to compile.
    traced = _is_traced(*jax.tree_util.tree_leaves(list(by_name.values())))
    xp: Any = jnp if traced else np
    parts = []
    for name, nbins in model._spec.channels:
        if name not in by_name:
            msg = f"{what}: the workspace's 'observations' have no channel '{name}'"
            raise ValueError(msg)
        arr = xp.ravel(xp.asarray(by_name[name], jnp.result_type(float)))
        if arr.shape != (nbins,):
            msg = (
                f"{what}: the observations of channel '{name}' have "
                f"{arr.shape[0]} bins, the channel {nbins}"
            )
            raise ValueError(msg)
        parts.append(arr)
    return jnp.asarray(xp.concatenate(parts))


def _with_aux(model: Model, main: Array) -> Array:
    aux = _aux_and_fixed(model._spec, model._flat())[0]
    return _append(main, aux)


@jax.jit
def _append(main: Array, aux: Array) -> Array:
    return jnp.concatenate([main, aux.astype(main.dtype)])


def _data(workspace: Any, model: Model, data: Any, what: str) -> Array:
    """The full data vector (main, then auxiliary), checked where concrete."""
    spec = model._spec
    if data is None:
        arr = _with_aux(model, _observations(workspace, model, what))
    else:
        arr = jnp.asarray(data, jnp.result_type(float))
        if arr.shape == (spec.nmain,):
            arr = _with_aux(model, arr)
        elif arr.shape != (spec.nmain + spec.naux,):
            msg = (
                f"{what}: data has shape {arr.shape}: expected ({spec.nmain},) "
                f"main-bin observations or ({spec.nmain + spec.naux},) main "
                "followed by auxiliary data"
            )
            raise ValueError(msg)
    if not _is_traced(arr):
        host = np.asarray(arr)
        if not np.all(np.isfinite(host)):
            msg = f"{what}: the data have NaN or infinite entries"
            raise ValueError(msg)
        if np.any(host < 0):
            msg = f"{what}: the data have negative entries"
            raise ValueError(msg)
    return arr


def _check_mu(model: Model, mu: Any, what: str) -> Array:
    spec = model._spec
    mu_arr = jnp.asarray(mu, jnp.result_type(float))
    if not _is_traced(mu_arr):
        lo, hi = spec.bounds[spec.poi_index]
        if not (mu_arr.shape == () and lo <= float(mu_arr) <= hi):
            msg = (
                f"{what}: mu = {mu} is not a number within the POI bounds "
                f"{(float(lo), float(hi))} of '{spec.poi_name}'"
            )
            raise ValueError(msg)
    return mu_arr


def _check_test_stat(test_stat: str, allowed: tuple[str, ...], what: str) -> None:
    if test_stat not in allowed:
        names = " or ".join(repr(t) for t in allowed)
        msg = f"{what}: test_stat must be {names}, not {test_stat!r}"
        raise ValueError(msg)


def observed_data(
    workspace: Workspace | Any, *, measurement: str | None = None
) -> Array:
    """The workspace's observations followed by the auxiliary data.

    pyhf's ``Workspace.data(model)``: the main data of every channel in the
    model's (sorted) order, then ``model.config.auxdata``. Differentiable
    with respect to the observations and to the yields that set auxiliary data
    (``shapesys``).

    Examples
    --------
    >>> import jax
    >>> from diffana.stats import Model
    >>> from diffana.stats.observed import observed_data
    >>> ws = {
    ...     "channels": [{"name": "sr", "samples": [
    ...         {"name": "signal", "data": [5.0, 2.0], "modifiers": [
    ...             {"name": "mu", "type": "normfactor", "data": None}]},
    ...         {"name": "background", "data": [50.0, 20.0], "modifiers": [
    ...             {"name": "unc", "type": "shapesys", "data": [5.0, 2.0]}]},
    ...     ]}],
    ...     "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
    ...     "observations": [{"name": "sr", "data": [53.0, 21.0]}],
    ... }
    >>> with jax.enable_x64(True):
    ...     print(observed_data(ws).tolist())
    [53.0, 21.0, 100.0, 100.0]
    """
    model = _model(workspace, measurement)
    return _data(workspace, model, None, "observed_data")


def observed_cls(
    workspace: Workspace | Model,
    mu: Any = 1.0,
    test_stat: str = "qtilde",
    *,
    data: Any | None = None,
    measurement: str | None = None,
) -> Array:
    r"""Observed CLs for signal strength ``mu``.

    Equals ``pyhf.infer.hypotest(mu, data, model, test_stat=test_stat)``
    (asymptotics): the test statistic on the data from the fixed-``mu`` and the
    unconditional fit, its Asimov counterpart on the data generated at the fit
    to the data with the POI at 0. Four fits are run.

    Parameters
    ----------
    workspace : dict or Model
        The pyhf workspace (sample data may be JAX arrays) or a `Model`.
    mu : float
        The tested signal strength, within the POI's bounds (differentiable).
    test_stat : {"qtilde", "q"}
    data : array_like, optional
        Default the workspace's observations (a `Model` has none: then data are
        needed). Either ``nmain + naux`` entries -- pyhf's ``observations +
        model.config.auxdata`` -- or the ``nmain`` main-bin observations, to
        which the nominal auxiliary data are appended. Differentiable.
    measurement : str, optional
        Measurement name (default the first).

    Returns
    -------
    jax.Array
        Scalar CLs.

    Raises
    ------
    ValueError
        No data, data of the wrong size, NaN/infinite or negative data, ``mu``
        outside the POI bounds, an unknown ``test_stat`` (under ``jax.jit`` the
        value checks fail at run time, ``equinox.EquinoxRuntimeError``).
    RuntimeError
        A fit did not converge (one line naming it).
    """
    what = "observed_cls"
    _check_test_stat(test_stat, CLS_TEST_STATS, what)
    model = _model(workspace, measurement)
    _check_background(model, what)
    arr = _data(workspace, model, data, what)
    mu_arr = _check_mu(model, mu, what)

    def compute(flat: Array, arr: Array, mu: Array) -> Array:
        return _cls(model._spec, test_stat, what, flat, arr, mu)[0]

    return _one_line(what, compute, model._flat(), arr, mu_arr)


def observed_discovery_significance(
    workspace: Workspace | Model,
    *,
    data: Any | None = None,
    measurement: str | None = None,
) -> Array:
    r"""Observed discovery significance :math:`\sqrt{q_0}` on the data.

    The significance of pyhf's ``hypotest(0.0, data, model, test_stat="q0")``
    p-value, ``scipy.stats.norm.isf(p0)`` (in the asymptotic approximation it is
    :math:`\sqrt{q_0}` exactly). Two fits are run. ``data`` as in
    `observed_cls`. A deficit (fitted POI at or below 0) gives 0 and the
    gradient 0.
    """
    what = "observed_discovery_significance"
    model = _model(workspace, measurement)
    _check_background(model, what)
    arr = _data(workspace, model, data, what)

    def compute(flat: Array, arr: Array) -> Array:
        return _q0(model._spec, what, flat, arr, band=False)[0]

    return _one_line(what, compute, model._flat(), arr)


def hypotest(
    poi_test: Any,
    data: Any,
    model: Workspace | Model,
    *,
    test_stat: str = "qtilde",
    return_expected_set: bool = False,
    measurement: str | None = None,
) -> Array | tuple[Array, Array]:
    r"""pyhf's ``hypotest`` (asymptotics), differentiable: the observed CLs and
    optionally the expected band.

    ``hypotest(mu, data, model, test_stat=..., return_expected_set=True)``
    returns what ``pyhf.infer.hypotest`` returns with ``calctype=
    "asymptotics"``: the observed CLs (for ``test_stat="q0"`` the discovery
    p-value p0, with ``poi_test`` 0) and the five expected values at
    :math:`(-2, -1, 0, 1, 2)\sigma` -- first the smallest CLs -- as one array.

    The band is post-fit, as in pyhf: the Asimov data are generated at the fit
    to ``data`` with the POI at 0 (at 1 for ``q0``). For the pre-fit band (the
    Asimov data at the suggested init) see `diffana.stats.band.expected_cls_band`.

    Parameters
    ----------
    poi_test : float
        The tested POI value (differentiable).
    data : array_like or None
        pyhf's ``observations + model.config.auxdata``, or the main-bin
        observations only; None for the workspace's observations.
    model : dict or Model
        The workspace (or a `Model`, which needs ``data``).
    test_stat : {"qtilde", "q", "q0"}
    return_expected_set : bool
        Also return the band.
    """
    what = "hypotest"
    _check_test_stat(test_stat, (*CLS_TEST_STATS, "q0"), what)
    m = _model(model, measurement)
    _check_background(m, what)
    arr = _data(model, m, data, what)
    mu_arr = _check_mu(m, poi_test, what)
    if test_stat == "q0" and not _is_traced(mu_arr) and float(mu_arr) != 0.0:
        msg = f"{what}: the discovery test statistic q0 tests poi_test = 0, not {poi_test}"
        raise ValueError(msg)

    def compute(flat: Array, arr: Array, mu: Array) -> tuple[Array, Array]:
        if test_stat == "q0":
            return _q0(m._spec, what, flat, arr, band=return_expected_set)[1:]
        return _cls(m._spec, test_stat, what, flat, arr, mu)

    value, band = _one_line(what, compute, m._flat(), arr, mu_arr)
    return (value, band) if return_expected_set else value
