# SPDX-License-Identifier: BSD-3-Clause
"""Upper limits on the POI, observed and expected, differentiable implicitly.

The limit is the POI value where CLs falls to ``level`` (pyhf's
``upper_limit(data, model, scan=None, level=0.05)``: toms748 on
``hypotest(..., return_expected_set=True)``), found here by a bracketed Newton
iteration on ``log CLs(mu) - log(level)`` inside one ``jax.lax.while_loop``, so
that the limits are jit-able like the other objectives:

- the bracket is the POI's bounds: the function is evaluated at the upper bound
  (it must be below ``level`` there) and at the lower bound (above it there);
  pyhf widens the upper bound instead, here that is an error naming the bound;
- each step is Newton's (the derivative in ``mu`` by the envelope theorem,
  without differentiating the fits) where it stays inside the bracket, else a
  bisection; the fits start from those at the previous point;
- it stops when the Newton step is below 1e-10 of the limit, and takes that
  last step (the error is then ~1e-20 relative, the fits' noise aside).

The derivatives with respect to the yields, the data and ``level`` follow from
the implicit function theorem at the root, ``d mu / d theta = -(d f / d theta)
/ (d f / d mu)`` (`_limit`, a ``jax.custom_jvp``), never from the iterations.

Imports `._common`, `._spec`, `.model`, `.mle`, `._asimov_q`, `.objectives`,
`._asymptotics` and `.observed`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from ._asimov_q import _asimov_point_of, _polished
from ._asymptotics import (
    CLS_TEST_STATS,
    _asimov_data_at,
    _checked_data,
    _fit,
    _generating_point,
    _log_cls,
    _q_asimov,
    _q_data,
    _teststat,
)
from ._common import Array, Workspace, _is_traced, _valid_or_one
from ._spec import _Spec
from .mle import _checked_fit, _fit_kernel
from .model import Model
from .objectives import (
    _check_background,
    _checked,
    _model,
    _one_line,
    _safe_sqrt,
)
from .observed import _check_test_stat, _data

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["expected_upper_limit", "observed_upper_limit", "upper_limit"]

_RTOL = 1e-10
_MAX_STEPS = 100

# The kinds of limit (a static argument of the kernels): "observed" (the
# observed CLs with its test statistic), or an expected CLs from the Asimov
# data "postfit" (generated at the fit to the data with the POI at 0, pyhf's)
# or "prefit" (at the suggested init with the POI at 0).


class _Fixed(NamedTuple):
    """What does not depend on the tested POI: held constant."""

    p0: Array  # generates the Asimov data
    data_a: Array  # the Asimov data
    pars_hat: Array  # the unconditional fit to the data (observed only)


class _FixedFits(NamedTuple):
    """The fits behind `_Fixed`, with optimistix's results (checked in `_fixed`)."""

    p0: Array
    p0_result: Any
    pars_hat: Array
    hat_result: Any


def _fixed_fits(
    spec: _Spec, kind: str, flat: Array, data: Array
) -> tuple[_FixedFits, Array]:
    """The fits that do not depend on the tested POI, and the Asimov data.

    Run before the root finding's kernel, as the kernels of their own that the
    observed results use too (compiled once per workspace structure), rather
    than inside it; their failures are reported in `_fixed`, as before.
    """
    sg = jax.lax.stop_gradient
    flat, data = sg(flat), sg(data)
    flat_c = _valid_or_one(flat)
    data_c = _valid_or_one(data)
    if kind == "prefit":
        p0 = _asimov_point_of(spec, 0.0, flat.dtype)
        ok = optx.RESULTS.successful
        fits = _FixedFits(p0, ok, p0, ok)
    else:
        zero = jnp.zeros((), flat.dtype)
        p0, p0_result = _fit_kernel(spec, flat_c, data_c, zero, None)
        if kind == "observed":
            hat, hat_result = _fit_kernel(spec, flat_c, data_c, None, None)
        else:
            hat, hat_result = p0, p0_result
        fits = _FixedFits(p0, p0_result, hat, hat_result)
    return fits, _asimov_data_at(spec, flat_c, fits.p0)


def _fixed(
    spec: _Spec, kind: str, what: str, fits: _FixedFits, data_a: Array
) -> _Fixed:
    if kind == "prefit":
        return _Fixed(fits.p0, data_a, fits.p0)
    zero = jnp.zeros((), fits.p0.dtype)
    p0 = _checked_fit(spec, what, zero, fits.p0, fits.p0_result)
    if kind != "observed":
        return _Fixed(p0, data_a, p0)
    hat = _checked_fit(spec, what, None, fits.pars_hat, fits.hat_result)
    return _Fixed(p0, data_a, hat)


def _f(
    spec: _Spec,
    kind: str,
    test_stat: str,
    flat: Array,
    data: Array,
    level: Array,
    nsigma: Array,
    mu: Array,
    p0: Array,
    pars_hat: Array,
    pars_mu: Array,
    pars_a: Array,
    delta_a: Array | None = None,
) -> Array:
    """log CLs(mu) - log(level) at the given fits, differentiable in ``flat``,
    ``data``, ``level``, ``nsigma``, ``mu`` and ``p0`` (envelope theorem);
    ``delta_a`` the polished step of the Asimov fit, if already known."""
    qa = _q_asimov(spec, flat, p0, mu, pars_a, False, delta_a)
    sqrt_qa = _safe_sqrt(qa)
    if kind == "observed":
        q = _q_data(spec, flat, data, mu, pars_mu, pars_hat, discovery=False)
        ts = _teststat(_safe_sqrt(q), sqrt_qa, test_stat)
    else:
        # The band's test statistic: -nsigma standard deviations from the
        # background-only median (the -2 sigma limit is the smallest).
        ts = -nsigma
    return _log_cls(ts, sqrt_qa) - jnp.log(level)


class _Solution(NamedTuple):
    mu: Array
    pars_mu: Array
    pars_a: Array
    f_lo: Array
    f_hi: Array
    done: Array  # stopped: converged, or the bounds do not bracket the root


def _solve(
    spec: _Spec,
    kind: str,
    test_stat: str,
    what: str,
    flat: Array,
    data: Array,
    level: Array,
    nsigma: Array,
) -> tuple[_Solution, _Fixed]:
    """The root of `_f` in the POI's bounds (bracketed Newton), all held constant."""
    fits, data_a = _fixed_fits(spec, kind, flat, data)
    sg = jax.lax.stop_gradient
    return _solve_kernel(
        spec, kind, test_stat, what, sg(flat), sg(data), sg(level), sg(nsigma),
        fits, data_a,
    )  # fmt: skip


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _solve_kernel(
    spec: _Spec,
    kind: str,
    test_stat: str,
    what: str,
    flat: Array,
    data: Array,
    level: Array,
    nsigma: Array,
    fits: _FixedFits,
    data_a: Array,
) -> tuple[_Solution, _Fixed]:
    """`_solve` after the fits that do not depend on the tested POI."""
    fixed = _fixed(spec, kind, what, fits, data_a)
    lo, hi = (float(x) for x in spec.bounds[spec.poi_index])
    dtype = flat.dtype
    inits = jnp.asarray(spec.inits, dtype)

    def evaluate(
        mu: Array, init_mu: Array, init_a: Array
    ) -> tuple[Array, Array, Array, Array]:
        pars_a = _fit(spec, flat, fixed.data_a, mu, what, init_a)
        if kind == "observed":
            pars_mu = _fit(spec, flat, data, mu, what, init_mu)
        else:
            pars_mu = pars_a

        def f(m: Array) -> Array:
            return _f(
                spec, kind, test_stat, flat, data, level, nsigma, m,
                fixed.p0, fixed.pars_hat, pars_mu, pars_a,
            )  # fmt: skip

        value, slope = jax.jvp(f, (mu,), (jnp.ones((), dtype),))
        return value, slope, pars_mu, pars_a

    nan = jnp.full((), jnp.nan, dtype)
    # it, a, b, f(lo), f(hi), x, f(x), f'(x), fits at x, finished
    state0: tuple[Any, ...] = (0, jnp.asarray(lo, dtype), jnp.asarray(hi, dtype))
    state0 += (nan, nan, jnp.asarray(hi, dtype), nan, nan, inits, inits, False)

    def cond(state: tuple[Any, ...]) -> Any:
        return (state[0] < _MAX_STEPS) & ~state[-1]

    def body(state: tuple[Any, ...]) -> tuple[Any, ...]:
        it, a, b, f_lo, f_hi, x, fx, dfx, pm, pa, _ = state
        newton = x - fx / dfx
        inside = jnp.isfinite(newton) & (newton > a) & (newton < b)
        step = jnp.where(inside, newton, 0.5 * (a + b))
        x_new = jnp.where(it == 0, hi, jnp.where(it == 1, lo, step))
        first = it <= 1
        f, df, pm, pa = evaluate(
            x_new, jnp.where(first, inits, pm), jnp.where(first, inits, pa)
        )
        f_hi = jnp.where(it == 0, f, f_hi)
        f_lo = jnp.where(it == 1, f, f_lo)
        later = it >= 2
        a = jnp.where(later & (f > 0), x_new, a)
        b = jnp.where(later & (f <= 0), x_new, b)
        unbracketed = (it == 1) & ~((f_hi < 0) & (f_lo > 0))
        small = jnp.abs(f / df) <= _RTOL * jnp.abs(x_new)
        converged = later & (small | (f == 0) | (b - a <= _RTOL * jnp.abs(x_new)))
        done = unbracketed | converged
        return (it + 1, a, b, f_lo, f_hi, x_new, f, df, pm, pa, done)

    state = jax.lax.while_loop(cond, body, state0)
    _, _, _, f_lo, f_hi, x, fx, dfx, pm, pa, done = state
    # The last Newton step, where it is finite (f' = 0 only at a bracket end).
    last = fx / dfx
    mu = jnp.where(jnp.isfinite(last), x - last, x)
    return _Solution(mu, pm, pa, f_lo, f_hi, done), fixed


def _checked_solution(spec: _Spec, sol: _Solution, label: str, what: str) -> Array:
    lo, hi = (float(x) for x in spec.bounds[spec.poi_index])
    name = spec.poi_name
    mu = eqx.error_if(
        sol.mu,
        ~(sol.f_hi < 0),
        f"{what}: CLs of the {label} limit is not below the level at the upper "
        f"bound {hi:g} of '{name}': the limit lies above it (raise the bound)",
    )
    mu = eqx.error_if(
        mu,
        ~(sol.f_lo > 0),
        f"{what}: CLs of the {label} limit is already below the level at the "
        f"lower bound {lo:g} of '{name}': the bounds do not bracket the limit",
    )
    return eqx.error_if(
        mu,
        ~sol.done,
        f"{what}: the root finding of the {label} limit did not converge in "
        f"{_MAX_STEPS} steps",
    )


def _root(
    spec: _Spec,
    kind: str,
    test_stat: str,
    what: str,
    flat: Array,
    data: Array,
    level: Array,
    nsigma: Array,
) -> tuple[Array, _Solution, _Fixed]:
    """The checked root and what the derivative needs."""
    sol, fixed = _solve(spec, kind, test_stat, what, flat, data, level, nsigma)
    label = "observed" if kind == "observed" else "expected"
    mu = _checked(spec, flat, _checked_solution(spec, sol, label, what), what)
    mu = mu if kind == "prefit" else _checked_data(mu, data, what)
    return mu, sol, fixed


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2, 3))
def _limit(
    spec: _Spec,
    kind: str,
    test_stat: str,
    what: str,
    flat: Array,
    data: Array,
    level: Array,
    nsigma: Array,
) -> Array:
    return _root(spec, kind, test_stat, what, flat, data, level, nsigma)[0]


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _tangent(
    spec: _Spec,
    kind: str,
    test_stat: str,
    what: str,
    primals: tuple[Array, ...],
    tangents: tuple[Array, ...],
    mu: Array,
    sol: _Solution,
    fixed: _Fixed,
    delta_a: Array,
) -> Array:
    """Implicit function theorem at the root: dmu = -(df . dtheta) / (df/dmu)."""

    def f(fl: Array, da: Array, lv: Array, ns: Array, m: Array) -> Array:
        if kind == "prefit":
            p0 = fixed.p0
        else:
            # The Asimov data move with the fit that generates them.
            p0 = _generating_point(spec, fl, da, 0.0, what)
        return _f(
            spec, kind, test_stat, fl, da, lv, ns, m,
            p0, fixed.pars_hat, sol.pars_mu, sol.pars_a, delta_a,
        )  # fmt: skip

    _, lin = jax.linearize(f, *primals, mu)
    zeros = tuple(jnp.zeros_like(p) for p in primals)
    df_dmu = jax.lax.stop_gradient(lin(*zeros, jnp.ones_like(mu)))
    return -lin(*tangents, jnp.zeros_like(mu)) / df_dmu


@_limit.defjvp
def _limit_jvp(
    spec: _Spec,
    kind: str,
    test_stat: str,
    what: str,
    primals: tuple[Array, ...],
    tangents: tuple[Array, ...],
) -> tuple[Array, Array]:
    mu, sol, fixed = _root(spec, kind, test_stat, what, *primals)
    sg = jax.lax.stop_gradient
    mu, sol, fixed = sg(mu), sg(sol), sg(fixed)
    # The polished Asimov fit at the root: the kernel the observed results use.
    delta_a = _polished(spec, primals[0], fixed.p0, mu, sol.pars_a)
    dmu = _tangent(
        spec, kind, test_stat, what, primals, tangents, mu, sol, fixed, delta_a
    )
    return mu, dmu


def _check_level(level: Any, what: str) -> Array:
    arr = jnp.asarray(level, jnp.result_type(float))
    if not _is_traced(arr) and not (arr.shape == () and 0 < float(arr) < 1):
        msg = f"{what}: level must be a number in (0, 1), not {level}"
        raise ValueError(msg)
    return arr


def _check_nsigma(nsigma: Any, what: str) -> Array:
    arr = jnp.asarray(nsigma, jnp.result_type(float))
    if not _is_traced(arr) and not (arr.shape == () and math.isfinite(float(arr))):
        msg = f"{what}: nsigma must be a finite number, not {nsigma}"
        raise ValueError(msg)
    return arr


def observed_upper_limit(
    workspace: Workspace | Model,
    level: Any = 0.05,
    test_stat: str = "qtilde",
    *,
    data: Any | None = None,
    measurement: str | None = None,
) -> Array:
    r"""The observed upper limit on the POI: where the observed CLs is ``level``.

    pyhf's ``upper_limit(data, model, level=level)[0]`` (with
    ``test_stat=test_stat``), to ~1e-10 relative. ``data`` as in
    `diffana.stats.observed.observed_cls` (default the workspace's
    observations). Differentiable with respect to the yields, the data and
    ``level`` (implicit function theorem at the root).

    Raises
    ------
    ValueError
        No or bad data; ``level`` not in (0, 1); the POI's bounds do not
        bracket the limit (CLs at the upper bound still above ``level``, or at
        the lower bound already below it) -- one line naming the bound.
    """
    what = "observed_upper_limit"
    _check_test_stat(test_stat, CLS_TEST_STATS, what)
    model = _model(workspace, measurement)
    _check_background(model, what)
    arr = _data(workspace, model, data, what)
    lv = _check_level(level, what)
    zero = jnp.zeros((), lv.dtype)

    def compute(flat: Array, arr: Array, lv: Array) -> Array:
        return _limit(model._spec, "observed", test_stat, what, flat, arr, lv, zero)

    return _one_line(what, compute, model._flat(), arr, lv)


def expected_upper_limit(
    workspace: Workspace | Model,
    level: Any = 0.05,
    nsigma: Any = 0.0,
    *,
    prefit: bool = False,
    data: Any | None = None,
    measurement: str | None = None,
) -> Array:
    r"""An expected upper limit on the POI: the median (``nsigma=0``) or an
    edge of the band (``nsigma`` = -2, -1, 1, 2).

    Where the expected CLs at ``nsigma`` (`diffana.stats.band.expected_cls_band`)
    is ``level``: pyhf's ``upper_limit(data, model, level=level)[1]``, whose
    entries are ``nsigma`` = -2, -1, 0, 1, 2 in that order (the -2 sigma limit
    is the smallest). Post-fit by default, as pyhf (the Asimov data generated at
    the fit to the data with the POI at 0; ``data`` as in
    `diffana.stats.observed.observed_cls`); ``prefit=True`` generates them at the
    suggested init with the POI at 0 and needs no data -- the limit where
    `diffana.stats.expected_cls` is ``level``, an objective for an analysis
    optimised before unblinding. The same for q̃μ and qμ. Differentiable with
    respect to the yields, the data, ``level`` and ``nsigma``.
    """
    what = "expected_upper_limit"
    model = _model(workspace, measurement)
    _check_background(model, what)
    lv = _check_level(level, what)
    ns = _check_nsigma(nsigma, what)
    if prefit:
        if data is not None:
            msg = f"{what}: prefit=True uses no data; pass data only post-fit"
            raise ValueError(msg)
        arr = jnp.zeros(0, lv.dtype)
    else:
        arr = _data(workspace, model, data, what)
    kind = "prefit" if prefit else "postfit"

    def compute(flat: Array, arr: Array, lv: Array, ns: Array) -> Array:
        return _limit(model._spec, kind, "qtilde", what, flat, arr, lv, ns)

    return _one_line(what, compute, model._flat(), arr, lv, ns)


def upper_limit(
    data: Any,
    model: Workspace | Model,
    level: Any = 0.05,
    *,
    test_stat: str = "qtilde",
    measurement: str | None = None,
) -> tuple[Array, Array]:
    r"""pyhf's ``upper_limit(data, model, level=level)`` (root finding), differentiable.

    Returns the observed limit and the five expected ones (-2, -1, 0, +1, +2
    sigma; post-fit, as pyhf's) as an array of shape (5,). ``data`` may be
    None for the workspace's observations, the main-bin observations, or
    pyhf's ``observations + model.config.auxdata``. See `observed_upper_limit`
    and `expected_upper_limit`: this runs both (six root findings).

    Examples
    --------
    >>> import jax
    >>> from diffana.stats.limits import upper_limit
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
    ...     obs, exp = upper_limit(None, ws)
    ...     print(round(float(obs), 6), [round(float(x), 6) for x in exp])
    1.011572 [0.559884, 0.757029, 1.062355, 1.501181, 2.050802]
    """
    obs = observed_upper_limit(
        model, level, test_stat, data=data, measurement=measurement
    )
    exp = [
        expected_upper_limit(model, level, n, data=data, measurement=measurement)
        for n in (-2.0, -1.0, 0.0, 1.0, 2.0)
    ]
    return obs, jnp.stack(exp)
