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
import jax.numpy as jnp

from ._common import Array, _is_traced

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["asimov_significance"]


def _g(x: Array) -> Array:
    """g(x) = ((1 + x) log1p(x) - x) / x**2, exact near 0 (series) and elsewhere.

    The direct form loses ~eps/x**2 to cancellation, so |x| < 0.1 uses the series
    sum_m (-x)**m / ((m + 1)(m + 2)), which is converged to 1e-17 with 16 terms.
    """
    small = jnp.abs(x) < 0.1
    xs = jnp.where(small, x, 0.0)
    series = jnp.zeros_like(x)
    for m in reversed(range(16)):
        series = series * (-xs) + 1.0 / ((m + 1) * (m + 2))
    xl = jnp.where(small, 1.0, x)
    direct = ((1.0 + xl) * jnp.log1p(xl) - xl) / (xl * xl)
    return jnp.where(small, series, direct)


def asimov_significance(s: Any, b: Any, b_unc: Any | None = None) -> Array:
    r"""Asimov discovery significance of Cowan, Cranmer, Gross, Vitells (2011).

    Without a background uncertainty (their eq. 97)

    .. math:: Z_A = \sqrt{2\left((s + b)\ln(1 + s/b) - s\right)},

    and with an absolute uncertainty :math:`\sigma_b` on :math:`b` (the profile
    likelihood with an auxiliary measurement of :math:`b`)

    .. math:: Z_A = \sqrt{2\left((s+b)\ln\frac{(s+b)(b+\sigma_b^2)}{b^2+(s+b)\sigma_b^2}
              - \frac{b^2}{\sigma_b^2}\ln\left(1+\frac{\sigma_b^2 s}{b(b+\sigma_b^2)}
              \right)\right)}.

    Both are evaluated as :math:`Z_A = (s/\sqrt{b})\sqrt{2 h}` with
    :math:`x = s/b`, :math:`k = \sigma_b^2/b`, :math:`c = k/(1+k)` and
    :math:`h = g(x) - c\,g(c x)`, :math:`g(x) = ((1+x)\ln(1+x) - x)/x^2`, which is
    the same expression rearranged so that it has no cancellation at small
    :math:`s` or small :math:`\sigma_b` and is smooth there (:math:`\sigma_b = 0`
    gives the first formula).

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
    b_safe = jnp.where(bad, 1.0, b_arr)
    s_safe = jnp.where(bad, 0.0, s_arr)
    k = jnp.where(bad, 0.0, unc) ** 2 / b_safe
    c = k / (1.0 + k)
    x = s_safe / b_safe
    h = _g(x) - c * _g(c * x)
    v = s_safe * jnp.sqrt(2.0 * h / b_safe)
    if v.size == 1:
        # |v| with the derivative of the physical side s >= 0 at s = 0.
        z = jnp.reshape(jnp.where(v >= 0, v, -v), ())
    else:
        ss = jnp.sum(v * v)
        z = jnp.where(ss > 0, jnp.sqrt(jnp.where(ss > 0, ss, 1.0)), 0.0)
    return eqx.error_if(
        z,
        jnp.any(bad),
        "asimov_significance: NaN/infinite input, s < 0, b <= 0 or b_unc < 0",
    )
