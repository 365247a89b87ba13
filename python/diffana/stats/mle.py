# SPDX-License-Identifier: BSD-3-Clause
"""Maximum-likelihood fits within pyhf's bounds, differentiable implicitly.

`_profile_fit` minimises `diffana.stats.model._nll` with optimistix's BFGS on the
parameters mapped to the real line, ``theta = lo + (hi - lo) * sigmoid(u)``, so
that the bounds always hold; its derivative comes from the optimality condition
(``optx.ImplicitAdjoint``), never from unrolling iterations. `fit` is the public
form on a `Model`; `_fit_kernel` the jitted one it shares with the objectives
(compiled once per workspace structure).

Imports `._common`, `._spec` and `.model`. (Named after pyhf's ``infer.mle``: a
module ``fit`` would hide the function `fit` of `diffana.stats`.)
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ._common import Array, _is_traced
from ._spec import _Spec
from .model import Model, _Constraints, _constraints, _logpdf, _nll

# JAX's and optimistix's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["fit"]


def _tolerance(dtype: Any) -> float:
    return 1e-10 if jnp.finfo(dtype).bits >= 64 else 1e-5


def _to_unbounded(theta: Array, lo: np.ndarray, hi: np.ndarray) -> Array:
    frac = jnp.clip((theta - lo) / (hi - lo), 1e-12, 1 - 1e-12)
    return jnp.log(frac) - jnp.log1p(-frac)


_MAX_STEPS = 2000


def _profile_fit(
    spec: _Spec,
    flat: Array,
    data: Array,
    poi_value: Array | None,
    init: Array | None = None,
    max_steps: int = _MAX_STEPS,
) -> tuple[Array, Any]:
    """Best-fit parameters (the POI fixed at ``poi_value`` unless it is None) and
    optimistix's ``RESULTS`` item (``throw=False``: the callers report a failure
    in one line, `_failure`).

    BFGS (optimistix) on u with theta = lo + (hi - lo) sigmoid(u), so that the
    bounds hold; parameters fixed by the configuration are left out, those the
    yields fix (empty staterror/shapesys bins) are held at their start by a mask
    and a unit quadratic in u, which keeps the Hessian regular for the implicit
    adjoint. Derivatives come from the optimality condition (ImplicitAdjoint).
    """
    free = ~spec.static_fixed
    if poi_value is not None:
        free[spec.poi_index] = False
    idx = np.nonzero(free)[0]
    start = jnp.asarray(spec.inits, data.dtype) if init is None else init
    if poi_value is not None:
        start = start.at[spec.poi_index].set(poi_value)
    if idx.size == 0:
        return start, optx.RESULTS.successful
    lo, hi = spec.bounds[idx, 0], spec.bounds[idx, 1]

    def pars_of(
        u: Array, flat_: Array, start_: Array
    ) -> tuple[Array, Array, _Constraints]:
        cons = _constraints(spec, flat_)
        held = cons.fixed[idx]
        theta = jnp.where(held, start_[idx], lo + (hi - lo) * jax.nn.sigmoid(u))
        return start_.at[idx].set(theta), held, cons

    def objective(u: Array, args: tuple[Array, Array, Array]) -> Array:
        flat_, data_, start_ = args
        pars, held, cons = pars_of(u, flat_, start_)
        u0 = _to_unbounded(start_[idx], lo, hi)
        penalty = 0.5 * jnp.sum(jnp.where(held, (u - u0) ** 2, 0.0))
        return _nll(spec, flat_, cons, pars, data_) + penalty

    tol = _tolerance(data.dtype)
    sol: Any = optx.minimise(
        objective,
        optx.BFGS(rtol=tol, atol=tol),
        _to_unbounded(start[idx], lo, hi),
        args=(flat, data, start),
        max_steps=max_steps,
        adjoint=optx.ImplicitAdjoint(),
        throw=False,
    )
    return pars_of(sol.value, flat, start)[0], sol.result


# One compilation per model structure (the static _Spec, the presence of a fixed
# POI and of a start): yields, data, POI value and start are traced arguments.
# Every caller passes the same five arguments (a jitted function compiles anew
# for each way it is called), so that the fits of `fit`, of the objectives and
# of the observed results share their compilations.
_fit_kernel = jax.jit(_profile_fit, static_argnums=(0, 5))


@functools.partial(jax.jit, static_argnums=(0,))
def _twice_nll(spec: _Spec, flat: Array, pars: Array, data: Array) -> Array:
    """-2 log L at the fitted ``pars`` (pyhf's fitted value)."""
    return -2.0 * _logpdf(spec, flat, _constraints(spec, flat), pars, data)


def _failure(
    spec: _Spec, what: str, poi_value: Any | None, pars: Any, result: Any
) -> str:
    """The one-line message for a fit that optimistix reports as failed."""
    kind = (
        "the unconditional fit"
        if poi_value is None
        else f"the fit with {spec.poi_name} fixed at {float(poi_value):g}"
    )
    channels = ", ".join(f"'{c}'" for c, _ in spec.channels)
    last = ", ".join(
        f"{n}={v:.6g}"
        for n, v in zip(spec.par_names, np.asarray(pars).tolist(), strict=True)
    )
    reason = " ".join(str(optx.RESULTS[result]).split())  # type: ignore[misc]
    return (
        f"{what}: {kind} of the model (POI '{spec.poi_name}', channels {channels}) "
        f"did not converge: {reason} Last parameters: {last}"
    )


def _checked_fit(
    spec: _Spec, what: str, poi_value: Any | None, pars: Array, result: Any
) -> Array:
    """``pars``, or a one-line error if the fit failed.

    Concrete results raise `RuntimeError` here; traced ones (under ``jit``) go
    through ``equinox.error_if`` (a run-time error with the same first line).
    """
    failed = result != optx.RESULTS.successful
    if not _is_traced(pars, result._value):
        if bool(failed):
            raise RuntimeError(_failure(spec, what, poi_value, pars, result))
        return pars
    kind = "unconditional fit" if poi_value is None else "fixed-POI fit"
    msg = f"{what}: the {kind} of the model (POI '{spec.poi_name}') did not converge"
    return eqx.error_if(pars, failed, msg)


def fit(
    model: Model, data: Any, fixed_poi: Any | None = None, init: Any | None = None
) -> tuple[Array, Array]:
    """Maximum-likelihood fit within pyhf's bounds, differentiable implicitly.

    Parameters
    ----------
    model : Model
    data : array_like
        Main and auxiliary data, as for pyhf.
    fixed_poi : float, optional
        Fix the POI to this value (pyhf's ``fixed_poi_fit``); otherwise it is
        fitted within its bounds.
    init : array_like, optional
        Starting parameters (default the suggested init).

    Returns
    -------
    pars, twice_nll : jax.Array
        Best-fit parameters and -2 log L there (pyhf's fitted value).

    Raises
    ------
    ValueError
        ``data`` has NaN, infinite or negative entries, or ``fixed_poi`` is not
        a finite number.
    RuntimeError
        The fit did not converge: one line naming the fit, the model, the
        optimistix reason and the last parameter values. (Under ``jax.jit`` the
        failure is raised at run time by ``equinox.error_if`` instead.)

    Notes
    -----
    One compiled function serves every call on models of the same structure
    (channels, samples, modifiers, configuration): yields, data, ``fixed_poi``
    and ``init`` are its traced arguments.

    The bounds are imposed by the sigmoid map, so a parameter whose optimum is
    on a bound ends within ~1e-10 of it (the value of the likelihood is then
    exact to far better precision, but that parameter's derivative is not).
    """
    spec = model._spec
    data_arr = model._data(data)
    start = None if init is None else model._pars(init)
    poi = None if fixed_poi is None else jnp.asarray(fixed_poi, data_arr.dtype)
    # Concrete inputs are checked on the host (no kernels to compile).
    if (
        poi is not None
        and not _is_traced(poi)
        and not (poi.shape == () and bool(np.isfinite(np.asarray(poi))))
    ):
        msg = f"fit: fixed_poi = {fixed_poi} is not a finite number"
        raise ValueError(msg)
    host = None if _is_traced(data_arr) else np.asarray(data_arr)
    if host is not None and not np.all(np.isfinite(host) & (host >= 0)):
        msg = "fit: data must be finite and >= 0 (main and auxiliary data)"
        raise ValueError(msg)
    flat = model._flat()
    pars, result = _fit_kernel(spec, flat, data_arr, poi, start)
    twice_nll = _twice_nll(spec, flat, pars, data_arr)
    return _checked_fit(spec, "fit", poi, pars, result), twice_nll
