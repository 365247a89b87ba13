# SPDX-License-Identifier: BSD-3-Clause
"""Expected results on Asimov data: CLs, discovery significance, POI uncertainty.

"Expected" means what pyhf computes with ``pyhf.infer.hypotest(mu,
model.expected_data(pars), model, test_stat=...)`` where ``pars`` are the model's
suggested initial parameters with the POI at 0 (at 1 for the discovery
significance and the POI uncertainty).

On Asimov data the unconditional fit is known exactly -- the data are the
expectation at the generating parameters, so the likelihood is saturated there,
the POI sitting at its lower bound 0 for the background-only data -- and needs no
fit: only the fixed-POI fits are run (`_profile`). Their values are
differentiable by the envelope theorem (the bounds do not depend on the yields).
Each objective's value is one jitted function of the static `_Spec` and the flat
vector of arrays, compiled once per workspace structure.

Imports `._common`, `._spec`, `.model`, `.mle` and `._asimov_q`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr

from ._asimov_q import _asimov_point_of, _asimov_q, _polished
from ._common import Array, Workspace, _is_traced, _valid_or_one
from ._spec import _Spec
from .mle import _checked_fit, _fit_kernel
from .model import (
    Model,
    _background,
    _Constraints,
    _constraints,
    _expected_aux,
    _expected_kernel,
    _expected_main,
    _flat,
)

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = [
    "expected_cls",
    "expected_discovery_significance",
    "expected_poi_uncertainty",
]


def _safe_sqrt(q: Array) -> Array:
    """sqrt(q) for q > 0, else 0, with gradient 0 (not inf/NaN) at q <= 0."""
    pos = q > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, q, 1.0)), 0.0)


def _asimov_pars(spec: _Spec, poi_value: Any, dtype: Any) -> Array:
    return jnp.asarray(spec.inits, dtype).at[spec.poi_index].set(poi_value)


def _checked(
    spec: _Spec, flat: Array, value: Array, what: str, strict: bool = True
) -> Array:
    """Run-time checks for traced inputs (concrete ones were checked in _parse).
    ``strict``: also refuse negative yields and bins without expected events at
    POI 0 (CLs, as pyhf, is defined with both wherever its result is finite)."""
    value = eqx.error_if(
        value,
        ~jnp.all(jnp.isfinite(flat)),
        f"{what}: the workspace has NaN or infinite yields",
    )
    if strict:
        b0 = _expected_main(spec, flat, _asimov_pars(spec, 0.0, flat.dtype))
        value = eqx.error_if(
            value, jnp.any(flat < 0), f"{what}: the workspace has negative yields"
        )
        value = eqx.error_if(
            value,
            jnp.any(b0 <= 0),
            f"{what}: a bin has no expected events with the POI at 0",
        )
    return eqx.error_if(
        value, ~jnp.isfinite(value), f"{what}: the result is not finite"
    )


def _profile(
    spec: _Spec,
    flat: Array,
    poi_data: float,
    poi_value: Array,
    what: str,
    strict: bool = True,
) -> Array:
    """Fixed-POI best fit to the Asimov data of ``poi_data``, as a constant.

    The objectives are values of -log L at the fit, q(y) = F(theta_hat(y), y):
    by the fit's optimality condition (grad_theta F = 0 for the free
    parameters; bounds, which do not depend on y, for the others) dq/dy is
    dF/dy at fixed theta_hat, exactly, so the fit itself is not differentiated
    (the envelope theorem). Its own jitted call is compiled once per workspace
    structure and reused by values and gradients alike.
    """
    sg = jax.lax.stop_gradient
    # Invalid (traced) yields are reported by _checked; keep them out of the fit
    # so that it converges instead of running to max_steps on NaNs.
    flat_c = sg(_valid_or_one(flat, strict))
    p_data = _asimov_point_of(spec, poi_data, flat.dtype)
    data = _expected_kernel(spec, flat_c, p_data)
    pars, result = _fit_kernel(spec, flat_c, data, sg(poi_value), None)
    return sg(_checked_fit(spec, what, poi_value, pars, result))


@functools.partial(jax.jit, static_argnums=(0,))
def _cls_value(
    spec: _Spec, flat: Array, pars_mu: Array, mu: Array, delta: Array
) -> Array:
    # The unconditional fit to these Asimov data is their generating point
    # (saturated): q is twice the deviance of the fixed-mu fit.
    zero = jnp.zeros((), flat.dtype)
    q = _asimov_q(spec, flat, zero, mu, pars_mu, delta=delta)
    sqrt_q = _safe_sqrt(jnp.where(mu > 0, q, 0.0))
    # pyhf: CLs = CLsb / CLb, the test statistic sqrt(q) - sqrt(q_A) being 0 here.
    return _checked(spec, flat, ndtr(-sqrt_q) / 0.5, "expected_cls", strict=False)


def _cls(spec: _Spec, arrs: Mapping[str, Array], mu: Array) -> Array:
    flat = _flat(spec, arrs)
    # A POI outside its bounds (or not finite) is an error, also under jit where
    # expected_cls cannot look at it: the fit runs at a valid value meanwhile, so
    # that the error reported is this one and not a failed fit.
    lo, hi = (float(x) for x in spec.bounds[spec.poi_index])
    ok = jnp.isfinite(mu) & (mu >= lo) & (mu <= hi)
    msg = (
        f"expected_cls: mu must be a finite number within the POI bounds "
        f"[{lo:g}, {hi:g}] of '{spec.poi_name}'"
    )
    # On mu itself, so that the value and its derivatives both depend on it.
    mu = jnp.where(ok, eqx.error_if(mu, ~ok, msg), lo)
    pars_mu = _profile(spec, flat, 0.0, mu, "expected_cls", strict=False)
    p0 = _asimov_point_of(spec, 0.0, flat.dtype)
    delta = _polished(spec, flat, p0, mu, pars_mu)
    return _cls_value(spec, flat, pars_mu, mu, delta)


@functools.partial(jax.jit, static_argnums=(0,))
def _discovery_value(spec: _Spec, flat: Array, pars_0: Array, delta: Array) -> Array:
    one, zero = jnp.ones((), flat.dtype), jnp.zeros((), flat.dtype)
    q0 = _asimov_q(spec, flat, one, zero, pars_0, delta=delta)
    return _checked(spec, flat, _safe_sqrt(q0), "expected_discovery_significance")


def _discovery(spec: _Spec, arrs: Mapping[str, Array]) -> Array:
    flat = _flat(spec, arrs)
    zero = jnp.zeros((), flat.dtype)
    pars_0 = _profile(spec, flat, 1.0, zero, "expected_discovery_significance")
    delta = _polished(spec, flat, _asimov_point_of(spec, 1.0, flat.dtype), zero, pars_0)
    return _discovery_value(spec, flat, pars_0, delta)


def _fisher(
    spec: _Spec, flat: Array, cons: _Constraints, pars: Array, idx: np.ndarray
) -> Array:
    """Hessian of -log L over parameters ``idx`` at data = expected_data(pars).

    There the second-derivative terms of the Poisson means vanish (n = lambda),
    leaving the expected Fisher information J^T diag(1/lambda) J plus the
    constraints' curvature (1/sigma^2 for Gaussians, a/theta^2 for Poissons): the
    same matrix with one Jacobian instead of a full Hessian.
    """
    lam = _expected_main(spec, flat, pars)
    jac = jax.jacfwd(lambda t: _expected_main(spec, flat, pars.at[idx].set(t)))(
        pars[idx]
    )
    hess = jac.T @ (jac / jnp.where(lam > 0, lam, 1.0)[:, None])
    if cons.aux_index.size:
        theta = pars[cons.aux_index]
        aux = _expected_aux(cons, pars)
        curv = jnp.where(jnp.asarray(cons.normal), 1.0 / cons.scale**2, aux / theta**2)
        where = {int(i): k for k, i in enumerate(idx)}
        rows = [
            (k, where[int(i)]) for k, i in enumerate(cons.aux_index) if int(i) in where
        ]
        if rows:
            src, dst = np.array(rows).T
            hess = hess.at[dst, dst].add(curv[src])
    return hess


@functools.partial(jax.jit, static_argnums=(0,))
def _poi_uncertainty_kernel(spec: _Spec, flat: Array) -> Array:
    cons = _constraints(spec, flat)
    pars_sb = _asimov_pars(spec, 1.0, flat.dtype)
    # The best fit to the Asimov data of pars_sb is pars_sb itself, where the
    # Hessian is the expected Fisher information; fixed parameters are left out.
    idx = np.nonzero(~spec.static_fixed)[0]
    at = int(np.searchsorted(idx, spec.poi_index))
    hess = _fisher(spec, flat, cons, pars_sb, idx)
    held = cons.fixed[idx]
    eye = jnp.eye(idx.size, dtype=flat.dtype)
    hess = jnp.where(held[:, None] | held[None, :], eye, hess)
    var = jnp.linalg.solve(hess, eye[at])[at]
    sigma = jnp.sqrt(jnp.where(var > 0, var, jnp.nan))
    return _checked(spec, flat, sigma, "expected_poi_uncertainty")


def _one_line(what: str, compute: Any, *args: Any) -> Array:
    """``compute(*args)``; for concrete inputs a run-time check that fails inside
    a jitted kernel (equinox's multi-line report) is raised as one `ValueError`
    line. Traced inputs are returned as they are: their checks run later."""
    if _is_traced(*jax.tree_util.tree_leaves(args)):
        return compute(*args)
    try:
        return jax.block_until_ready(compute(*args))
    except (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError) as err:
        lines = [ln.strip() for ln in str(err).splitlines()]
        found = [ln for ln in lines if ln.startswith(f"{what}: ")]
        found += [ln.split(": ", 1)[1] for ln in lines if f"Error: {what}: " in ln]
        if not found:
            raise
        raise ValueError(found[0]) from None


def _model(workspace: Workspace | Model, measurement: str | None) -> Model:
    if isinstance(workspace, Model):
        return workspace
    return Model(workspace, measurement)


def _check_background(model: Model, what: str) -> None:
    """Concrete inputs: every bin needs expected events with the POI at 0."""
    arrays = list(model._arrays.values())
    if _is_traced(*arrays):
        return
    spec = model._spec
    flat = model._flat()
    b0 = np.asarray(_background(spec, flat))
    start = 0
    for name, nbins in spec.channels:
        for i in range(nbins):
            if not b0[start + i] > 0:
                msg = (
                    f"{what}: bin {i} of channel '{name}' has no expected events "
                    "with the POI at 0 (empty background); the likelihood is not "
                    "defined there"
                )
                raise ValueError(msg)
        start += nbins


def expected_cls(
    workspace: Workspace | Model,
    mu: Any = 1.0,
    test_stat: str = "qtilde",
    *,
    measurement: str | None = None,
) -> Array:
    r"""Expected CLs for signal strength ``mu`` on the background-only Asimov data.

    Equals ``pyhf.infer.hypotest(mu, model.expected_data(pars), model,
    test_stat=test_stat)`` with ``pars`` the suggested init with the POI at 0.
    On these data the fit of the POI is :math:`\hat\mu = 0 \le \mu`, so q̃μ and
    qμ coincide, as do the observed and Asimov test statistics: CLs =
    :math:`2\Phi(-\sqrt{q_\mu})`. One fit (nuisance parameters at fixed
    :math:`\mu`) is run.

    Parameters
    ----------
    workspace : dict or Model
        The pyhf workspace (sample data may be JAX arrays) or a `Model`.
    mu : float
        The tested signal strength, a finite number within the POI's bounds
        (differentiable). Outside them -- or NaN/infinite -- is an error, as in
        pyhf: `ValueError` for a concrete ``mu``, and under ``jax.jit`` an
        ``equinox.EquinoxRuntimeError`` at run time with the same message.
    test_stat : {"qtilde", "q"}
    measurement : str, optional
        Measurement name (default the first).

    Returns
    -------
    jax.Array
        Scalar CLs.
    """
    if test_stat not in ("qtilde", "q"):
        msg = f"expected_cls: test_stat must be 'qtilde' or 'q', not {test_stat!r}"
        raise ValueError(msg)
    model = _model(workspace, measurement)
    # No background check: as pyhf, CLs is defined with empty-background bins and
    # negative yields wherever its value is finite (checked).
    spec = model._spec
    mu_arr = jnp.asarray(mu, jnp.result_type(float))
    if not _is_traced(mu_arr):
        lo, hi = spec.bounds[spec.poi_index]
        if not (mu_arr.shape == () and lo <= float(mu_arr) <= hi):
            msg = (
                f"expected_cls: mu = {mu} is not a number within the POI bounds "
                f"{(float(lo), float(hi))} of '{spec.poi_name}'"
            )
            raise ValueError(msg)
    return _one_line("expected_cls", _cls, spec, model._arrays, mu_arr)


def expected_discovery_significance(
    workspace: Workspace | Model, *, measurement: str | None = None
) -> Array:
    r"""Expected discovery significance :math:`\sqrt{q_0}` on the s+b Asimov data.

    Equals the significance of pyhf's ``hypotest(0.0, data, model,
    test_stat="q0")`` p-value, ``scipy.stats.norm.isf(p0)``, with ``data =
    model.expected_data(pars)`` and ``pars`` the suggested init with the POI at
    1. One fit (nuisance parameters with the POI at 0) is run. At zero signal
    the value is 0 and the gradient 0 (the square root has no derivative there).
    """
    model = _model(workspace, measurement)
    _check_background(model, "expected_discovery_significance")
    return _one_line(
        "expected_discovery_significance", _discovery, model._spec, model._arrays
    )


def expected_poi_uncertainty(
    workspace: Workspace | Model, *, measurement: str | None = None
) -> Array:
    r"""Expected uncertainty on the POI: :math:`\sqrt{(H^{-1})_{\mu\mu}}`.

    :math:`H` is the Hessian of :math:`-\log L` with respect to the parameters
    that are not fixed, at the best fit to the Asimov data with the POI at 1 --
    which is the generating point itself, so no fit is needed and :math:`H` is
    the expected Fisher information (Cramér-Rao bound). This is what MINUIT's
    HESSE gives after ``pyhf.infer.mle.fit(..., return_uncertainties=True)``.
    """
    model = _model(workspace, measurement)
    _check_background(model, "expected_poi_uncertainty")
    return _one_line(
        "expected_poi_uncertainty",
        _poi_uncertainty_kernel,
        model._spec,
        model._flat(),
    )
