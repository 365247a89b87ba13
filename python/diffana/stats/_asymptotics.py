# SPDX-License-Identifier: BSD-3-Clause
"""pyhf's asymptotic calculator on data: the fits, test statistics and p-values.

What ``pyhf.infer.calculators.AsymptoticCalculator`` computes for
``hypotest(mu, data, model, test_stat=...)``, as differentiable JAX:

- the test statistic on the data, from the fixed-POI and the unconditional fit
  (`_q_data`, pyhf's ``qmu``/``qmu_tilde``/``q0``: clipped at 0, and 0 where the
  fitted POI is on the wrong side of the tested one);
- the Asimov test statistic on the data generated at the fit to the data with
  the POI at 0 (1 for ``q0``): `_generating_point` and `_asimov_q`;
- the p-values and CLs from both, in logarithms (`_log_cls`, `_log_band`).

The fits whose optimum is all that matters are held constant (`_fit`: the
envelope theorem gives the derivatives of the likelihood values); the
generating point of the Asimov data is differentiated implicitly (optimistix's
``ImplicitAdjoint``), since the Asimov data move with it. The fits are the
jitted `diffana.stats.mle._fit_kernel`, run one after the other, so that every
result of one workspace structure shares their compilations; so is the
polishing of the Asimov fit (`diffana.stats._asimov_q._polished`, the largest
program after the fits); the values from the fitted parameters are one small
jitted kernel each (`_cls_value`, `_q0_value`, `_band_value`).

Imports `._common`, `._spec`, `.model`, `.mle`, `._asimov_q` and `.objectives`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr

from ._asimov_q import _asimov_point_of, _asimov_q, _polished
from ._common import Array, _valid_or_one
from ._spec import _Spec
from .mle import _checked_fit, _fit_kernel
from .model import _constraints, _expected_kernel, _nll
from .objectives import _checked, _safe_sqrt

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

#: The expected band's test-statistic values, in pyhf's order: the first entry
#: is the "-2 sigma" expected CLs (the smallest), the last the "+2 sigma" one.
BAND_NSIGMA = (2.0, 1.0, 0.0, -1.0, -2.0)

#: Test statistics for CLs (pyhf's names); ``q0`` is the discovery one.
CLS_TEST_STATS = ("qtilde", "q")


def _valid_data(data: Array) -> Array:
    """``data`` where finite and >= 0, else 1: keeps the fits converging while
    `_checked_data` reports the bad entries."""
    return _valid_or_one(data)


def _checked_data(value: Array, data: Array, what: str) -> Array:
    return eqx.error_if(
        value,
        ~jnp.all(jnp.isfinite(data) & (data >= 0)),
        f"{what}: the data have NaN, infinite or negative entries",
    )


def _fit(
    spec: _Spec,
    flat: Array,
    data: Array,
    poi: Array | None,
    what: str,
    init: Array | None = None,
) -> Array:
    """A best fit held constant (its value enters only through the likelihood)."""
    sg = jax.lax.stop_gradient
    flat_c = sg(_valid_or_one(flat))
    poi_c = None if poi is None else sg(poi)
    start = None if init is None else sg(init)
    pars, result = _fit_kernel(spec, flat_c, sg(_valid_data(data)), poi_c, start)
    return sg(_checked_fit(spec, what, poi_c, pars, result))


def _generating_point(
    spec: _Spec, flat: Array, data: Array, poi: float, what: str
) -> Array:
    """pyhf's ``generate_asimov_data`` parameters: the fit to ``data`` with the
    POI fixed at ``poi``, differentiable in ``flat`` and ``data`` (implicitly)."""
    flat_c = _valid_or_one(flat)
    poi_arr = jnp.asarray(poi, flat.dtype)
    pars, result = _fit_kernel(spec, flat_c, _valid_data(data), poi_arr, None)
    return _checked_fit(spec, what, poi_arr, pars, result)


def _snap_to_zero(
    spec: _Spec, flat: Array, data: Array, pars_hat: Array, pars_0: Array
) -> Array:
    """The unconditional fit, or the fit with the POI at 0 where that is its
    optimum.

    The bounds are imposed by a sigmoid map, so a POI whose optimum is the
    lower bound 0 ends some 1e-7 of the range above it, with -log L lower than
    at 0 by fit noise (~1e-13): q0 would be that noise and sqrt(q0) ~ 1e-7
    instead of pyhf's 0. Within 1e-6 of the range of 0, and not worse by more
    than the fits' tolerance, the fixed fit at 0 is the unconditional one.
    """
    lo, hi = (float(x) for x in spec.bounds[spec.poi_index])
    if lo != 0.0:
        return pars_hat
    cons = _constraints(spec, flat)
    nll_hat = _nll(spec, flat, cons, pars_hat, data)
    nll_0 = _nll(spec, flat, cons, pars_0, data)
    near = pars_hat[spec.poi_index] <= 1e-6 * (hi - lo)
    same = nll_0 <= nll_hat + 1e-9 * (1.0 + jnp.abs(nll_hat))
    return jax.lax.stop_gradient(jnp.where(near & same, pars_0, pars_hat))


def _q_data(
    spec: _Spec,
    flat: Array,
    data: Array,
    mu: Array,
    pars_mu: Array,
    pars_hat: Array,
    discovery: bool,
) -> Array:
    """pyhf's ``qmu``-like (``q0`` for ``discovery``) test statistic on ``data``.

    Twice the difference of -log L at the two fits, differentiable in ``flat``,
    ``data`` and ``mu`` at fixed fitted parameters (envelope theorem; the POI of
    the fixed fit is ``mu`` itself). Clipped at 0; 0 where the fitted POI is
    above ``mu`` (below it for ``q0``), as in pyhf.
    """
    cons = _constraints(spec, flat)
    poi = spec.poi_index
    nll_mu = _nll(spec, flat, cons, pars_mu.at[poi].set(mu), data)
    nll_hat = _nll(spec, flat, cons, pars_hat, data)
    t = 2.0 * (nll_mu - nll_hat)
    t = jnp.where(t > 0, t, 0.0)
    muhat = pars_hat[poi]
    off = muhat < mu if discovery else muhat > mu
    return jnp.where(off, 0.0, t)


def _asimov_data_at(spec: _Spec, flat: Array, p0: Array) -> Array:
    """The Asimov data (main and auxiliary) generated at ``p0`` (the kernel
    the objectives use too)."""
    return _expected_kernel(spec, flat, p0)


def _asimov_fit(
    spec: _Spec,
    flat: Array,
    p0: Array,
    mu: Array,
    what: str,
    init: Array | None = None,
) -> Array:
    """The fit with the POI at ``mu`` to the Asimov data generated at ``p0``."""
    sg = jax.lax.stop_gradient
    flat_c = sg(_valid_or_one(flat))
    return _fit(spec, flat_c, _asimov_data_at(spec, flat_c, sg(p0)), mu, what, init)


def _q_asimov(
    spec: _Spec,
    flat: Array,
    p0: Array,
    mu: Array,
    pars_a: Array,
    discovery: bool,
    delta: Array | None = None,
) -> Array:
    """The test statistic on the Asimov data generated at ``p0`` (whose POI is
    the Asimov one), ``pars_a`` the fit to them with the POI at ``mu``;
    ``delta`` its polished step from `diffana.stats._asimov_q._polished`
    (None: polished here, inside the caller's program)."""
    sg = jax.lax.stop_gradient
    mu_a = p0[spec.poi_index]
    q = _asimov_q(spec, flat, mu_a, mu, pars_a, p0, delta)
    # pyhf: 0 where the Asimov data's fitted POI (mu_a) lies above mu (below
    # it for q0).
    off = sg(mu_a) < sg(mu) if discovery else sg(mu_a) > sg(mu)
    return jnp.where(off, 0.0, q)


def _teststat(sqrt_q: Array, sqrt_qa: Array, test_stat: str) -> Array:
    """pyhf's asymptotic test statistic in sqrt(q) space (``AsymptoticCalculator.
    teststatistic``): sqrt(q) - sqrt(q_A), and for q̃μ above sqrt(q_A) the
    alternative (q - q_A) / (2 sqrt(q_A))."""
    plain = sqrt_q - sqrt_qa
    if test_stat != "qtilde":
        return plain
    big = sqrt_q > sqrt_qa
    den = jnp.where(big & (sqrt_qa > 0), 2.0 * sqrt_qa, 1.0)
    return jnp.where(big, (sqrt_q - sqrt_qa) * (sqrt_q + sqrt_qa) / den, plain)


def _log_cls(ts: Array, sqrt_qa: Array) -> Array:
    """log CLs = log CLsb - log CLb, CLsb = Phi(-(ts + sqrt(q_A))), CLb = Phi(-ts)."""
    return log_ndtr(-(ts + sqrt_qa)) - log_ndtr(-ts)


def _log_band(sqrt_qa: Array) -> Array:
    """log of the expected CLs at the band's test-statistic values (`BAND_NSIGMA`)."""
    n = jnp.asarray(BAND_NSIGMA, sqrt_qa.dtype)
    return _log_cls(n, sqrt_qa)


def _log_cls_obs(
    spec: _Spec,
    test_stat: str,
    flat: Array,
    data: Array,
    mu: Array,
    fits: CLsFits,
    delta_a: Array,
) -> tuple[Array, Array]:
    """(observed log CLs, sqrt(q_A)) at ``mu`` from the fits."""
    q = _q_data(spec, flat, data, mu, fits.pars_mu, fits.pars_hat, discovery=False)
    qa = _q_asimov(spec, flat, fits.p0, mu, fits.pars_a, False, delta_a)
    sqrt_qa = _safe_sqrt(qa)
    return _log_cls(_teststat(_safe_sqrt(q), sqrt_qa, test_stat), sqrt_qa), sqrt_qa


class CLsFits(NamedTuple):
    """The four fits of pyhf's ``hypotest`` for CLs at one ``mu``."""

    p0: Array  # to the data, POI at 0: generates the Asimov data (differentiable)
    pars_hat: Array  # unconditional, to the data
    pars_mu: Array  # POI at mu, to the data
    pars_a: Array  # POI at mu, to the Asimov data


def _cls_fits(spec: _Spec, flat: Array, data: Array, mu: Array, what: str) -> CLsFits:
    p0 = _generating_point(spec, flat, data, 0.0, what)
    return CLsFits(
        p0,
        _fit(spec, flat, data, None, what),
        _fit(spec, flat, data, mu, what),
        _asimov_fit(spec, flat, p0, mu, what),
    )


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _cls_value(
    spec: _Spec,
    test_stat: str,
    what: str,
    flat: Array,
    data: Array,
    mu: Array,
    fits: CLsFits,
    delta_a: Array,
) -> tuple[Array, Array]:
    """(observed CLs, band of 5) from the fits: pyhf's ``hypotest(...,
    return_expected_set=True)`` for "qtilde"/"q"."""
    log_value, sqrt_qa = _log_cls_obs(spec, test_stat, flat, data, mu, fits, delta_a)
    value = _checked(spec, flat, jnp.exp(log_value), what)
    return _checked_data(value, data, what), jnp.exp(_log_band(sqrt_qa))


def _cls(
    spec: _Spec, test_stat: str, what: str, flat: Array, data: Array, mu: Array
) -> tuple[Array, Array]:
    fits = _cls_fits(spec, flat, data, mu, what)
    delta_a = _polished(spec, flat, fits.p0, mu, fits.pars_a)
    return _cls_value(spec, test_stat, what, flat, data, mu, fits, delta_a)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _q0_value(
    spec: _Spec,
    what: str,
    flat: Array,
    data: Array,
    p1: Array,
    pars_hat: Array,
    pars_0: Array,
    pars_a: Array,
    delta_a: Array,
) -> tuple[Array, Array, Array]:
    """(sqrt(q0), p0, band of 5 p-values): pyhf's ``hypotest(0, ...,
    test_stat="q0", return_expected_set=True)`` and the significance."""
    zero = jnp.zeros((), flat.dtype)
    pars_hat = _snap_to_zero(spec, flat, data, pars_hat, pars_0)
    z = _safe_sqrt(_q_data(spec, flat, data, zero, pars_0, pars_hat, discovery=True))
    z = _checked_data(_checked(spec, flat, z, what), data, what)
    qa = _q_asimov(spec, flat, p1, zero, pars_a, True, delta_a)
    # The discovery p-values are CLsb of a shift -sqrt(q_A): the observed one
    # Phi(-sqrt(q0)), the band's Phi(-(n + sqrt(q_A))).
    n = jnp.asarray(BAND_NSIGMA, flat.dtype)
    return z, jnp.exp(log_ndtr(-z)), jnp.exp(log_ndtr(-(n + _safe_sqrt(qa))))


def _q0(
    spec: _Spec, what: str, flat: Array, data: Array, band: bool
) -> tuple[Array, Array, Array]:
    """(sqrt(q0), p0, band); without ``band`` the Asimov fits are not run (the
    band is then that of the data's own fit with the POI at 0: meaningless but
    finite, so that no NaN meets a zero cotangent)."""
    zero = jnp.zeros((), flat.dtype)
    pars_hat = _fit(spec, flat, data, None, what)
    pars_0 = _fit(spec, flat, data, zero, what)
    if band:
        p1 = _generating_point(spec, flat, data, 1.0, what)
        pars_a = _asimov_fit(spec, flat, p1, zero, what)
    else:
        p1 = pars_a = pars_0
    delta_a = _polished(spec, flat, p1, zero, pars_a)
    out: tuple[Array, Array, Array] = _q0_value(
        spec, what, flat, data, p1, pars_hat, pars_0, pars_a, delta_a
    )
    return out


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _band_value(
    spec: _Spec,
    prefit: bool,
    what: str,
    flat: Array,
    data: Array,
    mu: Array,
    p0: Array,
    pars_a: Array,
    delta_a: Array,
) -> Array:
    qa = _q_asimov(spec, flat, p0, mu, pars_a, False, delta_a)
    band = _checked(spec, flat, jnp.exp(_log_band(_safe_sqrt(qa))), what)
    return band if prefit else _checked_data(band, data, what)


def _band(
    spec: _Spec, prefit: bool, what: str, flat: Array, data: Array, mu: Array
) -> Array:
    """The expected CLs band at ``mu``: Asimov data at the suggested init with
    the POI at 0 (``prefit``) or at the fit to ``data`` with the POI at 0."""
    if prefit:
        p0 = _asimov_point_of(spec, 0.0, flat.dtype)
    else:
        p0 = _generating_point(spec, flat, data, 0.0, what)
    pars_a = _asimov_fit(spec, flat, p0, mu, what)
    delta_a = _polished(spec, flat, p0, mu, pars_a)
    out: Array = _band_value(spec, prefit, what, flat, data, mu, p0, pars_a, delta_a)
    return out
