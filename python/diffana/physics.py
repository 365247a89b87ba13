# SPDX-License-Identifier: BSD-3-Clause
"""Lorentz-vector helpers with forward-mode derivatives, element-wise on numpy arrays.

The C++ helpers of ``diffana/physics/lorentz.hpp`` run on every element with dual
numbers seeded by unit tangents, which gives the partial derivatives of each output
with respect to each input; the user's tangents are combined with them here (chain
rule).

Tangents are passed as a mapping from the argument's name to its tangent array,
``tangents={"pt1": dpt1, "m2": dm2}``: an argument of shape ``s`` has tangents of
shape ``s + (P,)``, all given tangents agree on P, and arguments left out are
constants. The inputs broadcast against each other (numpy rules) and the result is a
`DualArray` (a tuple of them for `to_cartesian` / `from_cartesian`) whose tangents
have shape ``value.shape + (P,)``. Angles are in radians; momenta and masses share one
unit (GeV in NanoAOD).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._dual import DualArray, combine, element_wise

__all__ = [
    "delta_phi",
    "delta_r",
    "from_cartesian",
    "invariant_mass",
    "invariant_mass3",
    "pt_of_sum",
    "pt_of_sum3",
    "to_cartesian",
]

Tangents = Mapping[str, ArrayLike] | None


def _scalar_output(
    raw: object,
    names: tuple[str, ...],
    inputs: tuple[ArrayLike, ...],
    tangents: Tangents,
) -> DualArray:
    value, partials, tans, p = element_wise(raw, names, inputs, tangents)
    value = np.asarray(value)
    partials = np.asarray(partials)
    return combine(value, [partials[..., i] for i in range(len(names))], tans, p)


def _vector_output(
    raw: object,
    names: tuple[str, ...],
    inputs: tuple[ArrayLike, ...],
    tangents: Tangents,
) -> tuple[DualArray, DualArray, DualArray, DualArray]:
    value, partials, tans, p = element_wise(raw, names, inputs, tangents)
    value = np.asarray(value)
    partials = np.asarray(partials)
    out = [
        combine(value[..., j], [partials[..., j, i] for i in range(4)], tans, p)
        for j in range(4)
    ]
    return out[0], out[1], out[2], out[3]


def invariant_mass(
    pt1: ArrayLike,
    eta1: ArrayLike,
    phi1: ArrayLike,
    m1: ArrayLike,
    pt2: ArrayLike,
    eta2: ArrayLike,
    phi2: ArrayLike,
    m2: ArrayLike,
    *,
    tangents: Tangents = None,
) -> DualArray:
    """Invariant mass of two objects given as (pt, eta, phi, m).

    ``M = sqrt((E1 + E2)^2 - |p1 + p2|^2)`` (0 when rounding makes ``M^2 < 0``).
    The derivatives follow from ``dM = (E dE - p . dp) / M`` with
    ``E = sqrt(m^2 + pt^2 cosh^2 eta)``, ``p = pt (cos phi, sin phi, sinh eta)``.

    Parameters
    ----------
    pt1, eta1, phi1, m1, pt2, eta2, phi2, m2 : array_like
        The two objects; broadcast against each other.
    tangents : mapping of str to array_like, optional
        Tangents of some of the arguments by name, e.g. ``{"pt1": t1, "pt2": t2}``,
        each of shape ``argument.shape + (P,)``.

    Returns
    -------
    DualArray

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> # two back-to-back massless 45.6 GeV objects: M = 91.2
    >>> m = physics.invariant_mass(45.6, 0.0, 0.0, 0.0, 45.6, 0.0, np.pi, 0.0,
    ...                            tangents={"pt1": [1.0], "pt2": [1.0]})
    >>> np.round(m.value, 6), np.round(m.tangents, 6)
    (np.float64(91.2), array([2.]))
    """
    names = ("pt1", "eta1", "phi1", "m1", "pt2", "eta2", "phi2", "m2")
    return _scalar_output(
        _core.physics.invariant_mass,
        names,
        (pt1, eta1, phi1, m1, pt2, eta2, phi2, m2),
        tangents,
    )


def invariant_mass3(
    pt1: ArrayLike,
    eta1: ArrayLike,
    phi1: ArrayLike,
    m1: ArrayLike,
    pt2: ArrayLike,
    eta2: ArrayLike,
    phi2: ArrayLike,
    m2: ArrayLike,
    pt3: ArrayLike,
    eta3: ArrayLike,
    phi3: ArrayLike,
    m3: ArrayLike,
    *,
    tangents: Tangents = None,
) -> DualArray:
    """Invariant mass of three objects (e.g. a trijet), as `invariant_mass`.

    Tangent names are ``pt1`` ... ``m3``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> m = physics.invariant_mass3(10.0, 0, 0, 0, 10.0, 0, 2 * np.pi / 3, 0,
    ...                             10.0, 0, -2 * np.pi / 3, 0)
    >>> np.round(m.value, 6)
    np.float64(30.0)
    """
    names = tuple(f"{q}{i}" for i in (1, 2, 3) for q in ("pt", "eta", "phi", "m"))
    return _scalar_output(
        _core.physics.invariant_mass3,
        names,
        (pt1, eta1, phi1, m1, pt2, eta2, phi2, m2, pt3, eta3, phi3, m3),
        tangents,
    )


def pt_of_sum(
    pt1: ArrayLike,
    phi1: ArrayLike,
    pt2: ArrayLike,
    phi2: ArrayLike,
    *,
    tangents: Tangents = None,
) -> DualArray:
    """Transverse momentum of the vector sum of two objects.

    ``pT = |pt1 (cos phi1, sin phi1) + pt2 (cos phi2, sin phi2)|``; with ``P`` the
    sum, ``d/dpt1 = (Px cos phi1 + Py sin phi1) / pT`` and
    ``d/dphi1 = pt1 (Py cos phi1 - Px sin phi1) / pT`` (0 where the sum vanishes).

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> float(np.round(physics.pt_of_sum(3.0, 0.0, 4.0, np.pi / 2).value, 12))
    5.0
    """
    return _scalar_output(
        _core.physics.pt_of_sum,
        ("pt1", "phi1", "pt2", "phi2"),
        (pt1, phi1, pt2, phi2),
        tangents,
    )


def pt_of_sum3(
    pt1: ArrayLike,
    phi1: ArrayLike,
    pt2: ArrayLike,
    phi2: ArrayLike,
    pt3: ArrayLike,
    phi3: ArrayLike,
    *,
    tangents: Tangents = None,
) -> DualArray:
    """Transverse momentum of the vector sum of three objects (e.g. a trijet).

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> float(np.round(physics.pt_of_sum3(1.0, 0.0, 1.0, 0.0, 2.0, np.pi).value, 12))
    0.0
    """
    return _scalar_output(
        _core.physics.pt_of_sum3,
        ("pt1", "phi1", "pt2", "phi2", "pt3", "phi3"),
        (pt1, phi1, pt2, phi2, pt3, phi3),
        tangents,
    )


def delta_phi(
    phi1: ArrayLike, phi2: ArrayLike, *, tangents: Tangents = None
) -> DualArray:
    """``phi1 - phi2`` wrapped into ``[-pi, pi)``; ``d/dphi1 = 1``, ``d/dphi2 = -1``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> float(np.round(physics.delta_phi(3.0, -3.0).value, 6))
    -0.283185
    """
    return _scalar_output(
        _core.physics.delta_phi, ("phi1", "phi2"), (phi1, phi2), tangents
    )


def delta_r(
    eta1: ArrayLike,
    phi1: ArrayLike,
    eta2: ArrayLike,
    phi2: ArrayLike,
    *,
    tangents: Tangents = None,
) -> DualArray:
    """``Delta R = sqrt((eta1 - eta2)^2 + dphi^2)``, ``dphi`` wrapped into [-pi, pi].

    ``d/deta1 = (eta1 - eta2) / Delta R``, ``d/dphi1 = dphi / Delta R`` (and minus
    those for the second object); the derivative at ``Delta R = 0`` is taken as 0.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> d = physics.delta_r(0.0, 3.0, 0.0, -3.0)  # dphi wraps: 2 pi - 6
    >>> np.round(d.value, 6)
    np.float64(0.283185)
    """
    return _scalar_output(
        _core.physics.delta_r,
        ("eta1", "phi1", "eta2", "phi2"),
        (eta1, phi1, eta2, phi2),
        tangents,
    )


def to_cartesian(
    pt: ArrayLike,
    eta: ArrayLike,
    phi: ArrayLike,
    m: ArrayLike,
    *,
    tangents: Tangents = None,
) -> tuple[DualArray, DualArray, DualArray, DualArray]:
    """(pt, eta, phi, m) -> (px, py, pz, E), each a `DualArray`.

    ``px = pt cos phi``, ``py = pt sin phi``, ``pz = pt sinh eta``,
    ``E = sqrt(m^2 + (pt cosh eta)^2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> px, py, pz, e = physics.to_cartesian(3.0, 0.0, 0.0, 4.0,
    ...                                      tangents={"pt": [1.0]})
    >>> float(px.value), float(e.value), float(e.tangents[0])
    (3.0, 5.0, 0.6)
    """
    return _vector_output(
        _core.physics.to_cartesian,
        ("pt", "eta", "phi", "m"),
        (pt, eta, phi, m),
        tangents,
    )


def from_cartesian(
    px: ArrayLike,
    py: ArrayLike,
    pz: ArrayLike,
    e: ArrayLike,
    *,
    tangents: Tangents = None,
) -> tuple[DualArray, DualArray, DualArray, DualArray]:
    """(px, py, pz, E) -> (pt, eta, phi, m), each a `DualArray`.

    Tangent names are ``px``, ``py``, ``pz`` and ``e``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import physics
    >>> pt, eta, phi, m = physics.from_cartesian(3.0, 4.0, 0.0, 13.0)
    >>> float(pt.value), float(eta.value), float(m.value)
    (5.0, 0.0, 12.0)
    """
    return _vector_output(
        _core.physics.from_cartesian,
        ("px", "py", "pz", "e"),
        (px, py, pz, e),
        tangents,
    )
