# SPDX-License-Identifier: BSD-3-Clause
"""Pure-NumPy reference of the Lorentz kernels ``diffana_physics_<op>_f64``.

Each ``physics_<op>`` takes the kernel's inputs (broadcasting to a shape s) and returns
(value, partials): value[s] and partials[s + (K,)] = d value / d input_k, or for the
basis changes value[s + (4,)] and partials[s + (4, 4)] = d out_j / d input_k. Written
in the Cartesian basis, independently of lorentz.hpp's rapidity form; where a result
is not differentiable (a vanishing mass, pT or Delta R; a null vector's E) the
partials are 0. Imports numpy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "physics_delta_phi",
    "physics_delta_r",
    "physics_from_cartesian",
    "physics_invariant_mass",
    "physics_invariant_mass3",
    "physics_pt_of_sum",
    "physics_pt_of_sum3",
    "physics_to_cartesian",
]

Array = NDArray[np.float64]


def _broadcast(*args: ArrayLike) -> list[Array]:
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*args)]


def _ratio(num: ArrayLike, den: ArrayLike) -> Array:
    """num / den, and 0 where den == 0 (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(np.asarray(den) != 0, np.divide(num, den), 0.0))


def _invariant_mass_of(x: list[Array]) -> tuple[Array, Array]:
    """M of the objects (pt, eta, phi, m) = x[4a:4a+4] and its partials.

    ``M^2 = sum m_a^2 + 2 sum_{a<b} (E_a E_b - p_a . p_b)``, each product as the
    non-negative ``(m_a^2 |p_b|^2 + m_b^2 |p_a|^2 + m_a^2 m_b^2) / (E_a E_b + |p_a|
    |p_b|) + |p_a| |p_b| |u_a - u_b|^2 / 2`` (u: unit momentum), exact for collinear
    objects; ``dM = (E dE - P . dP) / M`` with the totals (E, P).
    """
    objs = [x[i : i + 4] for i in range(0, len(x), 4)]
    es, ps, us, norms = [], [], [], []
    for pt, eta, phi, m in objs:
        ch = np.cosh(eta)
        ps.append(np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)]))
        us.append(
            np.sign(pt) * np.stack([np.cos(phi) / ch, np.sin(phi) / ch, np.tanh(eta)])
        )
        norms.append(np.abs(pt) * ch)
        es.append(np.hypot(pt * ch, m))
    mass2 = np.sum([o[3] ** 2 for o in objs], axis=0)
    for a in range(len(objs)):
        for b in range(a + 1, len(objs)):
            ma2, mb2 = objs[a][3] ** 2, objs[b][3] ** 2
            base = ma2 * norms[b] ** 2 + mb2 * norms[a] ** 2 + ma2 * mb2
            angle = norms[a] * norms[b] * ((us[a] - us[b]) ** 2).sum(axis=0) / 2
            mass2 = mass2 + 2 * (
                _ratio(base, es[a] * es[b] + norms[a] * norms[b]) + angle
            )
    mass = np.sqrt(np.maximum(mass2, 0.0))  # np.maximum keeps NaN
    e, (px, py, pz) = np.sum(es, axis=0), np.sum(ps, axis=0)
    d = []
    for (pt, eta, phi, m), ea in zip(objs, es, strict=True):
        ch, sh, c, s = np.cosh(eta), np.sinh(eta), np.cos(phi), np.sin(phi)
        d += [
            e * _ratio(pt * ch * ch, ea) - (px * c + py * s + pz * sh),
            e * _ratio(pt * pt * ch * sh, ea) - pz * pt * ch,
            pt * (px * s - py * c),
            e * _ratio(m, ea),
        ]
    return mass, np.stack([_ratio(di, mass) for di in d], axis=-1)


def physics_invariant_mass(*pt_eta_phi_m: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_invariant_mass_f64(pt1, eta1, phi1, m1, pt2, ..., m2)``.

    Examples
    --------
    >>> m, d = physics_invariant_mass(45.0, 0.0, 0.0, 0.0, 45.0, 0.0, np.pi, 0.0)
    >>> float(m), d[[0, 4]].round(12).tolist()
    (90.0, [1.0, 1.0])
    """
    return _invariant_mass_of(_broadcast(*pt_eta_phi_m))


def physics_invariant_mass3(*pt_eta_phi_m: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_invariant_mass3_f64(pt1, eta1, phi1, m1, ..., m3)``."""
    return _invariant_mass_of(_broadcast(*pt_eta_phi_m))


def physics_pt_of_sum(*pt_phi: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_pt_of_sum_f64(pt1, phi1, pt2, phi2)`` and ``pt_of_sum3``'s
    (three pairs): hypot(Px, Py) of the sum, ``d/dpt_a = (Px cos phi_a + Py sin
    phi_a) / pT``, ``d/dphi_a = pt_a (Py cos phi_a - Px sin phi_a) / pT``.

    Examples
    --------
    >>> v, d = physics_pt_of_sum(3.0, 0.0, 4.0, np.pi / 2)
    >>> round(float(v), 12), d.round(12).tolist()
    (5.0, [0.6, 2.4, 0.8, -2.4])
    """
    x = _broadcast(*pt_phi)
    pts, cs, ss = x[0::2], [np.cos(f) for f in x[1::2]], [np.sin(f) for f in x[1::2]]
    px = sum(p * c for p, c in zip(pts, cs, strict=True))
    py = sum(p * s for p, s in zip(pts, ss, strict=True))
    total = np.hypot(px, py)
    d = []
    for p, c, s in zip(pts, cs, ss, strict=True):
        d += [px * c + py * s, p * (py * c - px * s)]
    return total, np.stack([_ratio(di, total) for di in d], axis=-1)


physics_pt_of_sum3 = physics_pt_of_sum


def physics_delta_phi(phi1: ArrayLike, phi2: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_delta_phi_f64``: phi1 - phi2, shifted by a multiple of 2 pi
    into [-pi, pi) unless it is there already; partials (1, -1).

    Examples
    --------
    >>> v, d = physics_delta_phi(3.0, -3.0)
    >>> round(float(v), 9), d.tolist()
    (-0.283185307, [1.0, -1.0])
    """
    a, b = _broadcast(phi1, phi2)
    d = a - b
    with np.errstate(invalid="ignore"):
        shifted = np.mod(d + np.pi, 2 * np.pi) - np.pi
        shifted = np.where(shifted >= np.pi, shifted - 2 * np.pi, shifted)
        value = np.where((d >= -np.pi) & (d < np.pi), d, shifted)
    return value, np.stack([np.ones_like(d), -np.ones_like(d)], axis=-1)


def physics_delta_r(*eta_phi: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_delta_r_f64(eta1, phi1, eta2, phi2)``: hypot(deta, dphi)
    and (deta, dphi, -deta, -dphi) / dR.

    Examples
    --------
    >>> v, d = physics_delta_r(0.3, 0.0, 0.0, 0.4)
    >>> round(float(v), 12), d.round(12).tolist()
    (0.5, [0.6, -0.8, -0.6, 0.8])
    """
    e1, p1, e2, p2 = _broadcast(*eta_phi)
    deta, dphi = e1 - e2, physics_delta_phi(p1, p2)[0]
    dr = np.hypot(deta, dphi)
    de, dp = _ratio(deta, dr), _ratio(dphi, dr)
    return dr, np.stack([de, dp, -de, -dp], axis=-1)


def physics_to_cartesian(*pt_eta_phi_m: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_to_cartesian_f64(pt, eta, phi, m)`` -> (px, py, pz, E).

    Examples
    --------
    >>> v, d = physics_to_cartesian(3.0, 0.0, 0.0, 4.0)
    >>> v.round(12).tolist(), d[3].round(12).tolist()
    ([3.0, 0.0, 0.0, 5.0], [0.6, 0.0, 0.0, 0.8])
    """
    p, h, f, m = _broadcast(*pt_eta_phi_m)
    c, s, ch, sh, o = np.cos(f), np.sin(f), np.cosh(h), np.sinh(h), np.zeros_like(p)
    e = np.hypot(p * ch, m)
    rows = [
        [c, o, -p * s, o],
        [s, o, p * c, o],
        [sh, p * ch, o, o],
        [_ratio(p * ch * ch, e), _ratio(p * p * ch * sh, e), o, _ratio(m, e)],
    ]
    d = np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)
    return np.stack([p * c, p * s, p * sh, e], axis=-1), d


def physics_from_cartesian(*px_py_pz_e: ArrayLike) -> tuple[Array, Array]:
    """``diffana_physics_from_cartesian_f64(px, py, pz, e)`` -> (pt, eta, phi, m).

    eta = asinh(pz / pt), +-inf along the beam (0 for pz = 0); phi = atan2(py, px);
    m = sqrt((E - p)(E + p)), 0 where that is at most 16 eps E^2. The partials are 0
    at pt = 0 (pt, eta, phi) and where m = 0 (m).

    Examples
    --------
    >>> v, d = physics_from_cartesian(3.0, 0.0, 0.0, 5.0)
    >>> v.round(12).tolist(), d[3].round(12).tolist()
    ([3.0, 0.0, 0.0, 4.0], [-0.75, -0.0, -0.0, 1.25])
    """
    x, y, z, e = _broadcast(*px_py_pz_e)
    pt = np.hypot(x, y)
    p, o = np.hypot(pt, z), np.zeros_like(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        beam = np.where(z > 0, np.inf, np.where(z < 0, -np.inf, z * 0.0))
        eta = np.where(pt == 0, beam, np.arcsinh(z / pt))
        m2 = (e - p) * (e + p)
        m2 = np.where(m2 <= 16 * np.finfo(np.float64).eps * e * e, 0.0, m2)
    m, pt2p = np.sqrt(m2), pt * pt * p
    rows = [
        [_ratio(x, pt), _ratio(y, pt), o, o],
        [_ratio(-z * x, pt2p), _ratio(-z * y, pt2p), _ratio(np.sign(pt), p), o],
        [_ratio(-y, pt * pt), _ratio(x, pt * pt), o, o],
        [_ratio(-x, m), _ratio(-y, m), _ratio(-z, m), _ratio(e, m)],
    ]
    d = np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)
    return np.stack([pt, eta, np.arctan2(y, x), m], axis=-1), d
