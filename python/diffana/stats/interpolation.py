# SPDX-License-Identifier: BSD-3-Clause
"""HistFactory interpolation codes 0, 1, 4 and 4p, as pyhf 0.7's ``interpolators``.

`code1` and `code4` give a ``normsys`` factor, `code0` and `code4p` a
``histosys`` delta, all as functions of the nuisance parameter ``alpha`` and the
up/down variations. pyhf's defaults are codes 4 and 4p (its
``modifier_settings``); HistFactory's XML (ROOT's ``hist2workspace``) defaults to
code 1 for ``normsys`` and code 0 for ``histosys``. Codes 0 and 1 have a kink at
``alpha = 0`` (their derivative jumps there), codes 4 and 4p are smooth. Pure
``jax.numpy`` on arrays of one shape (or broadcastable ones): imports
``._common`` only.

Examples
--------
>>> import jax
>>> import jax.numpy as jnp
>>> from diffana.stats.interpolation import code0, code1, code4, code4p
>>> with jax.enable_x64(True):
...     alpha = jnp.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0])
...     print([round(float(v), 6) for v in code4(alpha, 0.9, 1.1)])
...     print([round(float(v), 6) for v in code1(alpha, 0.9, 1.1)])
...     print([round(float(v), 6) for v in code4p(alpha, 8.0, 10.0, 13.0)])
...     print([round(float(v), 6) for v in code0(alpha, 8.0, 10.0, 13.0)])
[0.81, 0.9, 1.0, 1.049315, 1.1, 1.21]
[0.81, 0.9, 1.0, 1.048809, 1.1, 1.21]
[-4.0, -2.0, 0.0, 1.448242, 3.0, 6.0]
[-4.0, -2.0, 0.0, 1.5, 3.0, 6.0]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from ._common import Array

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["code0", "code1", "code4", "code4p"]

# pyhf's code-4 matrix (pyhf.interpolators.code4) for alpha0 = 1: it maps
# (hi - 1, lo - 1, hi ln hi, -lo ln lo, hi ln^2 hi, lo ln^2 lo) to the coefficients
# a_1..a_6 of the polynomial 1 + sum_i a_i alpha^i used for |alpha| < 1.
_CODE4_AINV = np.array(
    [
        [15 / 16, -15 / 16, -7 / 16, -7 / 16, 1 / 16, -1 / 16],
        [3 / 2, 3 / 2, -9 / 16, 9 / 16, 1 / 16, 1 / 16],
        [-5 / 8, 5 / 8, 5 / 8, 5 / 8, -1 / 8, 1 / 8],
        [-3 / 2, -3 / 2, 7 / 8, -7 / 8, -1 / 8, -1 / 8],
        [3 / 16, -3 / 16, -3 / 16, -3 / 16, 1 / 16, -1 / 16],
        [1 / 2, 1 / 2, -5 / 16, 5 / 16, 1 / 16, 1 / 16],
    ]
)


def code4(alpha: Any, lo: Any, hi: Any) -> Array:
    """normsys factor: hi**alpha / lo**-alpha beyond +-1, a 6th-order polynomial inside.

    Parameters
    ----------
    alpha : array_like
        The nuisance parameter.
    lo, hi : array_like
        The factors at ``alpha = -1`` and ``+1`` (> 0), broadcastable with
        ``alpha``. Where the modifier does not apply ``lo = hi = 1``, and the
        factor is exactly 1.

    Returns
    -------
    jax.Array
        The factor, smooth (continuous up to its second derivative) at +-1.
    """
    # The polynomial's coefficients get a leading axis: give them alpha's shape.
    shape = jnp.broadcast_shapes(jnp.shape(alpha), jnp.shape(lo), jnp.shape(hi))
    lo, hi = jnp.broadcast_to(lo, shape), jnp.broadcast_to(hi, shape)
    lhi, llo = jnp.log(hi), jnp.log(lo)
    b = jnp.stack([hi - 1, lo - 1, lhi * hi, -llo * lo, lhi**2 * hi, llo**2 * lo])
    a = jnp.tensordot(jnp.asarray(_CODE4_AINV, b.dtype), b, axes=1)
    powers = jnp.stack([alpha ** (i + 1) for i in range(6)])
    poly = 1.0 + jnp.sum(a * powers, axis=0)
    return jnp.where(alpha >= 1, hi**alpha, jnp.where(alpha > -1, poly, lo ** (-alpha)))


def code4p(alpha: Any, lo: Any, nom: Any, hi: Any) -> Array:
    """histosys delta: linear beyond +-1, pyhf's smooth polynomial inside.

    Parameters
    ----------
    alpha : array_like
        The nuisance parameter.
    lo, nom, hi : array_like
        The yields at ``alpha = -1``, ``0`` and ``+1``, broadcastable with
        ``alpha``.

    Returns
    -------
    jax.Array
        What to add to ``nom``: ``hi - nom`` at ``alpha = 1``, ``lo - nom`` at
        ``alpha = -1``.
    """
    up, dn = hi - nom, nom - lo
    s, a = 0.5 * (up + dn), 0.0625 * (up - dn)
    a2 = alpha * alpha
    inner = a2 * (a2 * (3.0 * a2 - 10.0) + 15.0) * a + alpha * s
    return jnp.where(alpha > 1, alpha * up, jnp.where(alpha < -1, alpha * dn, inner))


def code1(alpha: Any, lo: Any, hi: Any) -> Array:
    """normsys factor, piecewise exponential: ``hi**alpha`` for ``alpha > 0``,
    ``lo**-alpha`` otherwise (HistFactory's XML default for ``normsys``).

    Parameters
    ----------
    alpha : array_like
        The nuisance parameter.
    lo, hi : array_like
        The factors at ``alpha = -1`` and ``+1`` (> 0), broadcastable with
        ``alpha``.

    Returns
    -------
    jax.Array
        The factor; continuous, its derivative jumps at ``alpha = 0`` (where
        the derivative is that of the ``lo`` side, as pyhf's ``alpha > 0``).
    """
    return jnp.where(alpha > 0, hi**alpha, lo ** (-alpha))


def code0(alpha: Any, lo: Any, nom: Any, hi: Any) -> Array:
    """histosys delta, piecewise linear: ``alpha (hi - nom)`` for ``alpha > 0``,
    ``alpha (nom - lo)`` otherwise (HistFactory's XML default for ``histosys``).

    Parameters
    ----------
    alpha : array_like
        The nuisance parameter.
    lo, nom, hi : array_like
        The yields at ``alpha = -1``, ``0`` and ``+1``, broadcastable with
        ``alpha``.

    Returns
    -------
    jax.Array
        What to add to ``nom``; continuous, its derivative with respect to
        ``alpha`` jumps at 0.
    """
    return jnp.where(alpha > 0, alpha * (hi - nom), alpha * (nom - lo))
