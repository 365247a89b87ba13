# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for testing derivatives: `check_grad` and `numerical_jacobian`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["check_grad", "numerical_jacobian"]


def numerical_jacobian(
    f: Callable[[NDArray[np.float64]], ArrayLike], x: ArrayLike, eps: float = 1e-6
) -> NDArray[np.float64]:
    """Central finite differences of ``f`` at ``x``.

    The step along ``x[k]`` is ``eps * max(1, |x[k]|)``. Returns an array of shape
    ``f(x).shape + x.shape``: ``J[..., k] = (f(x + h e_k) - f(x - h e_k)) / (2 h)``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana.testing import numerical_jacobian
    >>> np.round(numerical_jacobian(lambda p: p**2, [1.0, 3.0]), 6)
    array([[2., 0.],
           [0., 6.]])
    """
    x0 = np.array(x, dtype=np.float64)
    if not np.all(np.isfinite(x0)):
        msg = f"x must be finite, got {x0}"
        raise ValueError(msg)
    if not (np.isfinite(eps) and eps > 0):
        msg = f"eps must be a positive finite number, got {eps}"
        raise ValueError(msg)
    f0 = np.asarray(f(x0.copy()), dtype=np.float64)
    jac = np.zeros((*f0.shape, x0.size), dtype=np.float64)
    flat = x0.ravel()
    for k in range(flat.size):
        h = eps * max(1.0, abs(flat[k]))
        up = flat.copy()
        dn = flat.copy()
        up[k] += h
        dn[k] -= h
        f_up = np.asarray(f(up.reshape(x0.shape)), dtype=np.float64)
        f_dn = np.asarray(f(dn.reshape(x0.shape)), dtype=np.float64)
        jac[..., k] = (f_up - f_dn) / (up[k] - dn[k])
    return jac.reshape(*f0.shape, *x0.shape)


def check_grad(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    x: ArrayLike,
    tangents_or_jacobian: ArrayLike | Any,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> NDArray[np.float64]:
    """Assert that a Jacobian agrees with central finite differences of ``f``.

    Parameters
    ----------
    f : callable
        ``f(x) -> array``: the function whose derivative is checked.
    x : array_like
        The point (the parameters).
    tangents_or_jacobian : array_like, DualArray or GradHistogram
        The claimed derivative, of shape ``f(x).shape + x.shape``: for a function of P
        parameters this is exactly the tangents of a `DualArray` or the ``jacobian``
        of a `GradHistogram` (which are taken from such objects directly).
    eps : float
        Relative finite-difference step (see `numerical_jacobian`).
    rtol, atol : float
        Passes where ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns
    -------
    ndarray
        The finite-difference Jacobian.

    Raises
    ------
    AssertionError
        With a table of the worst entries (index, analytic, numeric, difference).

    Examples
    --------
    >>> import numpy as np
    >>> from diffana.testing import check_grad
    >>> _ = check_grad(np.sin, [0.5, 1.0], np.diag(np.cos([0.5, 1.0])))
    >>> check_grad(np.sin, [0.5], [[2.0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: Jacobian differs from central finite differences in 1 of 1 entries ...
    """
    claimed_obj = tangents_or_jacobian
    if hasattr(claimed_obj, "jacobian"):
        claimed_obj = claimed_obj.jacobian
    elif hasattr(claimed_obj, "tangents"):
        claimed_obj = claimed_obj.tangents
    claimed = np.asarray(claimed_obj, dtype=np.float64)
    numeric = numerical_jacobian(f, x, eps)
    if claimed.shape != numeric.shape:
        msg = (
            f"tangents_or_jacobian has shape {claimed.shape}, but f(x).shape + x.shape "
            f"is {numeric.shape}"
        )
        raise AssertionError(msg)
    diff = np.abs(claimed - numeric)
    bad = ~(diff <= atol + rtol * np.abs(numeric))  # NaN counts as bad
    if np.any(bad):
        order = np.argsort(
            np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0), axis=None
        )
        rows = []
        for flat in order[::-1][: min(10, int(bad.sum()))]:
            idx = np.unravel_index(flat, claimed.shape)
            rows.append(
                f"  {tuple(int(i) for i in idx)!s:>16}  {claimed[idx]: .10g}  "
                f"{numeric[idx]: .10g}  {diff[idx]: .3g}"
            )
        header = f"  {'index':>16}  {'analytic':>17}  {'numeric':>17}  {'|diff|':>10}"
        msg = (
            f"Jacobian differs from central finite differences in {int(bad.sum())} of "
            f"{bad.size} entries (rtol={rtol}, atol={atol}, eps={eps}); worst:\n"
            f"{header}\n" + "\n".join(rows)
        )
        raise AssertionError(msg)
    return numeric
