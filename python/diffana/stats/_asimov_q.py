# SPDX-License-Identifier: BSD-3-Clause
"""The profiled test statistic on Asimov data, without cancellation.

On Asimov data ``n = lambda(p_data)`` the test statistic is twice the deviance
at the fixed-POI fit, ``q = 2 F(delta_hat)``, where ``delta = theta - theta_A``
is the nuisance parameters' shift from the generating point. Computed as
``-log L(fit) + log L(saturated)`` it cancels: each term is ~n, their sum ~q, so
that a small signal (q ~ s**2 / b) loses all its digits (1e-12 per bin gave
q = 0). Here every piece is formed from differences that are computed as such:

- main bins: ``n h(Delta / n)``, ``h(d) = d - log1p(d)`` (a series near 0),
  with ``Delta = lambda(p_fit) - lambda(p_data)`` the integral of the
  directional derivative along the straight path (8-point Gauss-Legendre: exact
  for the piecewise polynomial modifiers while the nuisance shift stays below
  0.1, where it is used; beyond, Delta is large and the difference exact enough);
- constraints: ``(delta / sigma)**2 / 2`` (Gaussian) and ``a h(delta /
  theta_A)`` (Poisson), from delta itself.

The fit (`diffana.stats.mle`) stops at an absolute tolerance, far from the
optimum when q is tiny, so its result is polished by a few safeguarded
Gauss-Newton steps on ``F`` (a step is kept only if it stays within the bounds
and does not raise F). The polishing is the larger part of the program, and
held constant: `_polished` runs it as a kernel of its own, which every result
of one workspace structure shares (called eagerly, its compilation is not
repeated inside each of theirs), and `_asimov_q` takes its result.

The generating point is the suggested init with the POI set (pre-fit Asimov
data) unless a ``p0`` is given: pyhf's ``hypotest`` on observed data generates
them at the fit to the data (post-fit), a point that moves with the yields.

Imports `._common`, `._spec`, `.asimov` and `.model`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._common import Array
from ._spec import _Spec
from .asimov import SERIES_TERMS
from .model import _Constraints, _constraints, _expected_aux, _expected_main

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)
_NODES = (_NODES + 1.0) / 2.0
_WEIGHTS = _WEIGHTS / 2.0
_NEWTON_STEPS = 20


def _h(d: Array) -> Array:
    """d - log1p(d) for d > -1 (the Poisson deviance per unit), exact near 0.

    |d| < 0.1 takes the series d**2 sum_k (-d)**k / (k + 2) (converged to 1e-17
    with 16 terms); d <= -1 (a non-positive expectation) gives a large finite
    penalty, as the fit's likelihood does.
    """
    small = jnp.abs(d) < 0.1
    ds = jnp.where(small, d, 0.0)
    series = jnp.zeros_like(d)
    for k in reversed(range(SERIES_TERMS)):
        series = series * (-ds) + 1.0 / (k + 2)
    ok = d > -1.0
    dl = jnp.where(small | ~ok, 1.0, d)
    direct = dl - jnp.log1p(dl)
    penalty = -jnp.log(jnp.finfo(d.dtype).tiny)
    return jnp.where(small, ds * ds * series, jnp.where(ok, direct, penalty))


@jax.custom_jvp
def _poisson_term(n: Array, diff: Array) -> Array:
    """n h(diff / n) for n > 0: the Poisson deviance of mean n + diff at n.

    Its own derivatives, h'(d) = d / (1 + d) and h(d) - d h'(d): the chain rule
    through diff / n would form diff / n**2, which overflows for n < ~1e-154.
    """
    return n * _h(diff / n)


@_poisson_term.defjvp
def _poisson_term_jvp(
    primals: tuple[Array, Array], tangents: tuple[Array, Array]
) -> tuple[Array, Array]:
    n, diff = primals
    dn, ddiff = tangents
    d = diff / n
    slope = d / jnp.where(d > -1.0, 1.0 + d, 1.0)
    return n * _h(d), slope * ddiff + (_h(d) - d * slope) * dn


def _free_index(spec: _Spec) -> np.ndarray:
    free = ~spec.static_fixed
    free[spec.poi_index] = False
    return np.nonzero(free)[0]


def _asimov_point(spec: _Spec, poi: Array, dtype: Any) -> Array:
    return jnp.asarray(spec.inits, dtype).at[spec.poi_index].set(poi)


def _step(spec: _Spec, p0: Array, poi_fit: Array, delta: Array) -> Array:
    """The step from the Asimov point ``p0`` to the fit's parameters."""
    step = jnp.zeros_like(p0).at[_free_index(spec)].set(delta)
    return step.at[spec.poi_index].set(poi_fit - p0[spec.poi_index])


def _main_difference(
    spec: _Spec, flat: Array, p0: Array, step: Array, delta: Array, n: Array
) -> Array:
    """lambda(p0 + step) - lambda(p0), exact also where it is tiny (``n`` is
    lambda(p0))."""

    def main(p: Array) -> Array:
        return _expected_main(spec, flat, p)

    def slope(t: Array) -> Array:
        return jax.jvp(main, (p0 + t * step,), (step,))[1]

    nodes = jnp.asarray(_NODES, flat.dtype)
    weights = jnp.asarray(_WEIGHTS, flat.dtype)
    along = jnp.tensordot(weights, jax.vmap(slope)(nodes), axes=1)
    shift = jnp.max(jnp.abs(delta), initial=0.0)
    return jnp.where(shift < 0.1, along, main(p0 + step) - n)


class _AsimovPoint(NamedTuple):
    """What F needs of the Asimov point p0 whatever the fit: evaluated once
    for all the steps of `_polish`."""

    cons: _Constraints
    n: Array  # lambda(p0), the main Asimov data
    a: Array  # the auxiliary Asimov data


def _asimov_terms(spec: _Spec, flat: Array, p0: Array) -> _AsimovPoint:
    cons = _constraints(spec, flat)
    return _AsimovPoint(cons, _expected_main(spec, flat, p0), _expected_aux(cons, p0))


def _deviance_and_difference(
    spec: _Spec,
    flat: Array,
    p0: Array,
    poi_fit: Array,
    delta: Array,
    at: _AsimovPoint | None = None,
) -> tuple[Array, Array]:
    """F = -log L(fit) + log L(Asimov data of p0), from the differences; and
    the main bins' difference lambda(fit) - lambda(p0) it was formed from.

    ``p0`` is the Asimov point (the parameters that generate the data);
    ``delta`` holds the shifts of the free nuisance parameters from it
    (`_free_index`); the POI moves from ``p0``'s to ``poi_fit``. ``at`` is
    `_asimov_terms` of ``p0``, if already evaluated.
    """
    cons, n, a = _asimov_terms(spec, flat, p0) if at is None else at
    step = _step(spec, p0, poi_fit, delta)
    diff = _main_difference(spec, flat, p0, step, delta, n)
    npos = n > 0
    n_safe = jnp.where(npos, n, 1.0)
    # n = 0 (an empty bin): the term is lambda itself.
    out = jnp.sum(jnp.where(npos, _poisson_term(n_safe, diff), diff))
    if cons.aux_index.size:
        d_aux = step[cons.aux_index]
        theta_a = p0[cons.aux_index]
        gauss = 0.5 * (d_aux / cons.scale) ** 2
        apos = a > 0
        ratio = d_aux / jnp.where(theta_a != 0, theta_a, 1.0)
        pois = jnp.where(apos, a * _h(ratio), cons.scale * d_aux)
        out = out + jnp.sum(jnp.where(jnp.asarray(cons.normal), gauss, pois))
    return out, diff


def _deviance(
    spec: _Spec, flat: Array, p0: Array, poi_fit: Array, delta: Array
) -> Array:
    """F alone (`_deviance_and_difference`)."""
    return _deviance_and_difference(spec, flat, p0, poi_fit, delta)[0]


def _polish(spec: _Spec, flat: Array, p0: Array, poi_fit: Array, pars: Array) -> Array:
    """Gauss-Newton steps on `_deviance` from the fit's ``pars``; returns delta.

    The gradient is the exact one, ``J^T (Delta / lambda)`` plus the
    constraints', with ``Delta`` from `_deviance`'s differences; the curvature
    is the Fisher information ``J^T diag(n / lambda**2) J`` plus the
    constraints' (exact for them), so that no second derivative of the model is
    compiled. Parameters held by the yields (empty staterror/shapesys bins) and
    those the fit left within 1e-8 (relative to the range) of a bound stay.
    """
    idx = _free_index(spec)
    delta0 = (pars - p0)[idx]
    if idx.size == 0:
        return delta0
    # Loop invariants, evaluated once outside the steps.
    terms = _asimov_terms(spec, flat, p0)
    cons, n = terms.cons, terms.n
    lo = jnp.asarray(spec.bounds[idx, 0], flat.dtype)
    hi = jnp.asarray(spec.bounds[idx, 1], flat.dtype)
    margin = 1e-8 * (hi - lo)
    theta = pars[idx]
    active = ~cons.fixed[idx] & (theta > lo + margin) & (theta < hi - margin)
    eye = jnp.eye(idx.size, dtype=flat.dtype)
    at = {int(i): k for k, i in enumerate(idx)}
    rows = [(k, at[int(i)]) for k, i in enumerate(cons.aux_index) if int(i) in at]
    src, dst = np.array(rows).T if rows else (np.zeros(0, int), np.zeros(0, int))

    def point(delta: Array) -> Array:
        return p0.at[idx].set(p0[idx] + delta).at[spec.poi_index].set(poi_fit)

    def f(delta: Array) -> tuple[Array, Array]:
        return _deviance_and_difference(spec, flat, p0, poi_fit, delta, terms)

    # The state carries F and the main bins' difference at delta: each step
    # evaluates them once, at its proposal, not again at its start (the
    # program to compile is the smaller).
    def step(_: int, state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        delta, f_delta, diff = state
        p = point(delta)
        lam, jvp_fn = jax.linearize(
            lambda t: _expected_main(spec, flat, p.at[idx].set(t)), p[idx]
        )
        jac = jax.vmap(jvp_fn, out_axes=1)(eye)
        lam_safe = jnp.where(lam > 0, lam, 1.0)
        grad = jac.T @ (diff / lam_safe)
        # J / lambda first: lambda**2 underflows for yields below ~1e-154.
        jac_rel = jac / lam_safe[:, None]
        hess = jac_rel.T @ (jac_rel * n[:, None])
        if src.size:
            d_aux = delta[dst]
            theta_a = p0[cons.aux_index[src]]
            a = terms.a[src]
            normal = jnp.asarray(cons.normal[src])
            scale = cons.scale[src]
            th = theta_a + d_aux
            th_safe = jnp.where(th > 0, th, 1.0)
            g_aux = jnp.where(normal, d_aux / scale**2, a * d_aux / (theta_a * th_safe))
            c_aux = jnp.where(normal, 1.0 / scale**2, a / th_safe**2)
            grad = grad.at[dst].add(g_aux)
            hess = hess.at[dst, dst].add(c_aux)
        grad = jnp.where(active, grad, 0.0)
        hess = jnp.where(active[:, None] & active[None, :], hess, eye)
        new = delta - jnp.linalg.solve(hess, grad)
        th_new = p0[idx] + new
        inside = jnp.all((th_new > lo) & (th_new < hi))
        f_new, diff_new = f(new)
        keep = inside & jnp.all(jnp.isfinite(new)) & (f_new <= f_delta)
        return (
            jnp.where(keep, new, delta),
            jnp.where(keep, f_new, f_delta),
            jnp.where(keep, diff_new, diff),
        )

    return jax.lax.fori_loop(0, _NEWTON_STEPS, step, (delta0, *f(delta0)))[0]


_polish_kernel = jax.jit(_polish, static_argnums=(0,))


def _polished(
    spec: _Spec, flat: Array, p0: Array, poi_fit: Array, pars: Array
) -> Array:
    """`_polish` as a kernel of its own, held constant: called before the
    kernels that take its ``delta`` (`_asimov_q`), it is compiled once per
    workspace structure for all of them instead of inside each. The inputs
    are held constant before the call, so that under ``jax.grad`` it is the
    same compiled kernel."""
    sg = jax.lax.stop_gradient
    return sg(_polish_kernel(spec, sg(flat), sg(p0), sg(poi_fit), sg(pars)))


def _asimov_point_of(spec: _Spec, poi: float, dtype: Any) -> Array:
    """`_asimov_point` at a constant POI, built on the host (no kernel)."""
    point = np.asarray(spec.inits, dtype=dtype)
    point[spec.poi_index] = poi
    return jnp.asarray(point)


def _asimov_q(
    spec: _Spec,
    flat: Array,
    poi_data: Array,
    poi_fit: Array,
    pars: Array,
    p0: Array | None = None,
    delta: Array | None = None,
) -> Array:
    """q = 2 F at the polished fit; differentiable in ``flat``, ``poi_fit`` and
    ``p0`` by the envelope theorem (the optimum itself is held constant).

    The Asimov data are generated at ``p0`` (whose POI is ``poi_data``):
    default the suggested init with the POI at ``poi_data`` (pre-fit); pyhf's
    ``hypotest`` on observed data uses the fit to them with the POI at
    ``poi_data`` (post-fit). A ``p0`` that depends on the yields (through that
    fit) is differentiated at fixed fitted parameters theta = p0 + delta: the
    unconditional fit to the Asimov data is p0 itself, stationary in every
    direction, so only the data's dependence on p0 is left. ``delta``, when
    given, is the polished step from `_polished` (with the same arguments).
    """
    sg = jax.lax.stop_gradient
    if p0 is None:
        p0 = _asimov_point(spec, poi_data, flat.dtype)
    if delta is None:
        delta = sg(_polish(spec, sg(flat), sg(p0), sg(poi_fit), sg(pars)))
    else:
        delta = sg(delta)
    # theta = p0 + delta held constant: delta moves against p0 (value unchanged).
    delta = delta - (p0 - sg(p0))[_free_index(spec)]
    return 2.0 * _deviance(spec, flat, p0, poi_fit, delta)
