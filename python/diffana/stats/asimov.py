# SPDX-License-Identifier: BSD-3-Clause
"""The Asimov discovery significance of Cowan et al. (2011), in closed form.

`asimov_significance` needs no model and no fit: signal and background yields
(per bin), optionally with an absolute background uncertainty. It is exact and
smooth where the textbook formula cancels (small signal, small uncertainty).

Imports `._common` only.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._common import Array, _is_traced

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["asimov_significance"]


#: Terms of the power series used for |x| < 0.1: 0.1**16 < 1e-17 of the first.
SERIES_TERMS = 16


def _g_series(x: Array) -> Array:
    """g(x) for |x| < 0.1: sum_m (-x)**m / ((m + 1)(m + 2)), to 1e-17."""
    out = jnp.zeros_like(x)
    for m in reversed(range(SERIES_TERMS)):
        out = out * (-x) + 1.0 / ((m + 1) * (m + 2))
    return out


def _g_pos(x: Array) -> Array:
    """g(x) = ((1 + x) log1p(x) - x) / x**2 for x >= 0, exact near 0 and elsewhere.

    The direct form loses ~eps/x**2 to cancellation, so x < 0.1 takes the series.
    g falls from 1/2 (at 0) to 0 like log(x)/x.
    """
    small = x < 0.1
    xl = jnp.where(small, 1.0, x)
    direct = ((1.0 + xl) * jnp.log1p(xl) - xl) / (xl * xl)
    return jnp.where(small, _g_series(jnp.where(small, x, 0.0)), direct)


def _g_neg(y: Array, log_d: Array) -> Array:
    """g(y) for -1 <= y <= 0, given log(1 + y) (as log_d, from exact logarithms).

    1 + y is taken as exp(log_d), not formed from y: near y = -1 it is far
    smaller than the rounding of y. g rises from 1/2 (at 0) to 1 (at -1).
    """
    small = y > -0.1
    yl = jnp.where(small, -0.5, y)
    direct = (jnp.exp(log_d) * log_d - yl) / (yl * yl)
    return jnp.where(small, _g_series(jnp.where(small, y, 0.0)), direct)


def _clip_above(x: Array, top: float) -> Array:
    """min(x, top) with the derivative of x below ``top`` and 0 above (no tie split)."""
    return jnp.where(x < top, x, top)


def _log_z(ls: Array, lb: Array, lr: Array) -> tuple[Array, Array, Array]:
    """Z_A in logarithms from log s, log b and log r, r = sigma**2 / b (s > 0).

    With the weights w2 = 1 / (1 + r), w1 = r / (1 + r) (w1 + w2 = 1), the
    profiled background B = b + w1 s, t = s / B, y1 = w2 t and y2 = -w1 t
    (1 + y2 = b / B), Z**2 / 2 is the sum of two Poisson deviances -- the main
    and the auxiliary measurement -- each >= 0, so that nothing cancels:

        Z**2 = 2 (s**2 / B) w2 (w2 g(y1) + w1 g(y2))      (used for t < 1)
             = 2 s w2 (y1 g(y1) - y2 g(y2))                (used for t >= 1).

    Every factor is formed from logarithms, so that neither s / b nor sigma**2
    overflows; the first form is smooth as s -> 0, the second bounded as s / b
    grows, where y1 g(y1) -> log(y1) - 1 is taken in log form for y1 > e**40.

    Returns (t < 1, log(Z / s) for t < 1, log Z for t >= 1): Z = s exp(...) in
    the first case keeps dZ/ds representable where Z itself underflows.
    """
    log_w2 = -jax.nn.softplus(lr)
    log_w1 = -jax.nn.softplus(-lr)
    log_big_b = jnp.logaddexp(lb, log_w1 + ls)
    log_t = ls - log_big_b
    small = log_t < 0
    y2 = -jnp.exp(_clip_above(log_w1 + log_t, 0.0))
    g2 = _g_neg(y2, _clip_above(lb - log_big_b, 0.0))
    # t < 1
    t = jnp.exp(jnp.where(small, log_t, 0.0))
    w1, w2 = jnp.exp(log_w1), jnp.exp(log_w2)
    g_sum = w2 * _g_pos(w2 * t) + w1 * g2
    log_k = 0.5 * (jnp.log(2.0) - log_big_b + log_w2 + jnp.log(g_sum))
    # t >= 1
    u1 = log_w2 + jnp.where(small, 0.0, log_t)
    y1 = jnp.exp(_clip_above(u1, 40.0))
    f1 = jnp.where(u1 > 40.0, u1 - 1.0, y1 * _g_pos(y1))
    f_diff = jnp.where(small, 1.0, f1 - y2 * g2)
    log_z = 0.5 * (jnp.log(2.0) + ls + log_w2 + jnp.log(f_diff))
    return small, log_k, log_z


def asimov_significance(s: Any, b: Any, b_unc: Any | None = None) -> Array:
    r"""Asimov discovery significance of Cowan, Cranmer, Gross, Vitells (2011).

    Without a background uncertainty (their eq. 97)

    .. math:: Z_A = \sqrt{2\left((s + b)\ln(1 + s/b) - s\right)},

    and with an absolute uncertainty :math:`\sigma_b` on :math:`b` (the profile
    likelihood with an auxiliary measurement of :math:`b`)

    .. math:: Z_A = \sqrt{2\left((s+b)\ln\frac{(s+b)(b+\sigma_b^2)}{b^2+(s+b)\sigma_b^2}
              - \frac{b^2}{\sigma_b^2}\ln\left(1+\frac{\sigma_b^2 s}{b(b+\sigma_b^2)}
              \right)\right)}.

    Both are evaluated as the sum of two Poisson deviances (main and auxiliary
    measurement), each >= 0, in the weights :math:`w_2 = b/(b+\sigma_b^2)`,
    :math:`w_1 = 1 - w_2` and the profiled background :math:`B = b + w_1 s`
    (see `_log_z`): the same expression rearranged so that it has no
    cancellation at small :math:`s`, small or large :math:`\sigma_b`, and no
    overflow at large :math:`s/b` (:math:`\sigma_b = 0` gives the first
    formula).

    Parameters
    ----------
    s, b : array_like
        Expected signal (>= 0) and background (> 0) yields: scalars or per-bin
        arrays of the same shape.
    b_unc : array_like, optional
        Absolute uncertainty on ``b`` (>= 0), broadcastable to ``b``.

    Returns
    -------
    jax.Array
        A scalar: for per-bin arrays the bins are combined as independent
        measurements, :math:`Z = \sqrt{\sum_i Z_i^2}`.

    Notes
    -----
    Differentiable everywhere in the physical region, including ``s = 0``: for a
    single bin the derivative there is the one-sided one, :math:`1/\sqrt{b}`
    (times the uncertainty factor); for several bins that all have ``s = 0`` the
    norm has no derivative and the gradient returned is 0 (never NaN).
    Every finite input gives a finite value: s and b may each lie anywhere in
    float64's range (s / b and sigma_b**2 may overflow; the formulas are taken
    in logarithms), to ~1e-12 relative where Z is a normal number (below
    ~1e-308 it underflows to 0). A derivative whose true value overflows (dZ/db
    ~ -s / (b Z) at s = 1e300, b = 1e-100) is returned as +-inf, never NaN; one
    that underflows as 0.
    Concrete inputs are checked (finite, ``s >= 0``, ``b > 0``, ``b_unc >= 0``) and
    raise `ValueError`; traced inputs (under ``jit``) raise
    ``equinox.EquinoxRuntimeError`` at run time instead.

    Examples
    --------
    >>> import jax
    >>> from diffana.stats import asimov_significance
    >>> with jax.enable_x64(True):
    ...     print(round(float(asimov_significance(5.0, 10.0)), 6))
    ...     print(round(float(asimov_significance(5.0, 10.0, b_unc=2.0)), 6))
    ...     print(round(float(jax.grad(asimov_significance)(0.0, 4.0)), 6))
    1.471038
    1.217145
    0.5
    """
    s_arr = jnp.asarray(s, dtype=jnp.result_type(float))
    b_arr = jnp.asarray(b, dtype=jnp.result_type(float))
    unc = jnp.zeros_like(b_arr) if b_unc is None else jnp.asarray(b_unc, b_arr.dtype)
    if s_arr.shape != b_arr.shape:
        msg = f"asimov_significance: s has shape {s_arr.shape} but b {b_arr.shape}"
        raise ValueError(msg)
    unc = jnp.broadcast_to(unc, b_arr.shape)
    if not _is_traced(s_arr, b_arr, unc):
        for name, v, ok in (
            ("s", s_arr, s_arr >= 0),
            ("b", b_arr, b_arr > 0),
            ("b_unc", unc, unc >= 0),
        ):
            if not bool(jnp.all(jnp.isfinite(v))):
                msg = f"asimov_significance: {name} has NaN or infinite entries"
                raise ValueError(msg)
            if not bool(jnp.all(ok)):
                rule = {"s": ">= 0", "b": "> 0", "b_unc": ">= 0"}[name]
                msg = f"asimov_significance: every entry of {name} must be {rule}"
                raise ValueError(msg)
    # Keep invalid (traced) entries away from log1p/division, then report them.
    bad = ~(jnp.isfinite(s_arr) & jnp.isfinite(b_arr) & jnp.isfinite(unc))
    bad = bad | (s_arr < 0) | (b_arr <= 0) | (unc < 0)
    s_safe = jnp.where(bad, 0.0, s_arr)
    b_safe = jnp.where(bad, 1.0, b_arr)
    unc_safe = jnp.where(bad, 0.0, unc)
    pos = s_safe > 0
    ls = jnp.log(jnp.where(pos, s_safe, 1.0))
    lb = jnp.log(b_safe)
    has_unc = unc_safe > 0
    # log(sigma**2 / b); "-infinity" for sigma = 0 as a finite number, so that
    # no infinity meets a zero in the derivatives.
    minus_inf = -jnp.finfo(b_safe.dtype).max / 16
    lr = jnp.where(
        has_unc, 2.0 * jnp.log(jnp.where(has_unc, unc_safe, 1.0)) - lb, minus_inf
    )
    small, log_k, log_z = _log_z(ls, lb, lr)
    z_pos = jnp.where(small, s_safe * jnp.exp(log_k), jnp.exp(log_z))
    # At s = 0, Z = 0 with the one-sided derivative dZ/ds = 1/sqrt(b + sigma**2)
    # (the other derivatives are 0 there, so the factor is held constant).
    slope = jax.lax.stop_gradient(jnp.exp(-0.5 * (lb + jax.nn.softplus(lr))))
    v = jnp.where(pos, z_pos, s_safe * slope)
    if v.size == 1:
        z = jnp.reshape(v, ())
    else:
        # sqrt(sum v**2) scaled by the largest term, so that the squares never
        # overflow; at all-zero signal the norm has no derivative: 0.
        top = jax.lax.stop_gradient(jnp.max(v))
        scale = jnp.where(top > 0, top, 1.0)
        ss = jnp.sum((v / scale) ** 2)
        z = scale * jnp.where(ss > 0, jnp.sqrt(jnp.where(ss > 0, ss, 1.0)), 0.0)
    return eqx.error_if(
        z,
        jnp.any(bad),
        "asimov_significance: NaN/infinite input, s < 0, b <= 0 or b_unc < 0",
    )
