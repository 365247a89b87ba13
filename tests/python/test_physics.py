# SPDX-License-Identifier: BSD-3-Clause
"""diffana.physics: Lorentz helpers against numpy formulas, partials against central
finite differences, the tangents mapping, broadcasting and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from diffana import physics
from diffana.testing import check_grad


def np_cartesian(pt, eta, phi, m):
    return (
        pt * np.cos(phi),
        pt * np.sin(phi),
        pt * np.sinh(eta),
        np.sqrt((pt * np.cosh(eta)) ** 2 + m**2),
    )


def np_mass(*objects):
    px = py = pz = e = 0.0
    for o in objects:
        a, b, c, d = np_cartesian(*o)
        px, py, pz, e = px + a, py + b, pz + c, e + d
    return np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))


def random_objects(rng, n, k):
    """k objects of n random (pt, eta, phi, m) each."""
    return [
        (
            rng.uniform(20, 300, n),
            rng.uniform(-2.5, 2.5, n),
            rng.uniform(-np.pi, np.pi, n),
            rng.uniform(0.0, 30.0, n),
        )
        for _ in range(k)
    ]


def all_tangents(names, n):
    """Tangents making every argument its own parameter: P = len(names), one per
    argument, for n elements (d out / d arg_k in tangents[..., k])."""
    return {
        name: np.tile(np.eye(len(names))[k], (n, 1)) for k, name in enumerate(names)
    }


NAMES2 = ("pt1", "eta1", "phi1", "m1", "pt2", "eta2", "phi2", "m2")
NAMES3 = tuple(f"{q}{i}" for i in (1, 2, 3) for q in ("pt", "eta", "phi", "m"))


def test_invariant_mass_matches_numpy(rng):
    (a, b) = random_objects(rng, 500, 2)
    m = physics.invariant_mass(*a, *b)
    np.testing.assert_allclose(m.value, np_mass(a, b), rtol=1e-10)
    assert m.tangents.shape == (500, 0)


def elementwise_check(fn, names, args, rtol=1e-6, atol=1e-6):
    """Check d out_i / d arg_k of an element-wise function, element by element,
    against central finite differences (atol: rounding of outputs ~ 100 GeV over a
    1e-6 step)."""
    n = len(args[0])
    out = fn(*args, tangents=all_tangents(names, n))
    for i in range(n):
        x0 = np.array([a[i] for a in args], dtype=float)

        def f(theta, i=i):
            return fn(*theta).value

        check_grad(f, x0, out.tangents[i], rtol=rtol, atol=atol)
    return out


def test_invariant_mass_partials_match_finite_differences(rng):
    (a, b) = random_objects(rng, 20, 2)
    elementwise_check(physics.invariant_mass, NAMES2, [*a, *b])


def test_invariant_mass3_matches_numpy_and_finite_differences(rng):
    objs = random_objects(rng, 200, 3)
    m = physics.invariant_mass3(*objs[0], *objs[1], *objs[2])
    np.testing.assert_allclose(m.value, np_mass(*objs), rtol=1e-10)
    small = [tuple(q[:10] for q in o) for o in objs]
    elementwise_check(
        physics.invariant_mass3, NAMES3, [*small[0], *small[1], *small[2]]
    )


def test_invariant_mass_edge_cases():
    # massless back-to-back: M = 2 pt; massless collinear: M = 0 with zero tangents
    zero = np.zeros(2)
    m = physics.invariant_mass(
        [45.0, 30.0],
        zero,
        [0.0, 1.0],
        zero,
        [45.0, 30.0],
        zero,
        [np.pi, 1.0],
        zero,
        tangents=all_tangents(NAMES2, 2),
    )
    np.testing.assert_allclose(m.value, [90.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(m.tangents[1], 0.0)
    assert np.all(np.isfinite(m.tangents))
    # large magnitudes and forward objects stay accurate and finite
    args = [np.array([v]) for v in (1e4, 5.0, 0.1, 80.0, 2e4, -4.0, 2.0, 0.0)]
    big = physics.invariant_mass(*args, tangents=all_tangents(NAMES2, 1))
    np.testing.assert_allclose(
        big.value, np_mass((1e4, 5.0, 0.1, 80.0), (2e4, -4.0, 2.0, 0.0)), rtol=1e-9
    )
    assert np.all(np.isfinite(big.tangents))


def test_invariant_mass_near_collinear_is_accurate():
    """Two nearly parallel massive objects: the formula loses no precision."""
    m = physics.invariant_mass(100.0, 1.0, 0.5, 5.0, 100.0, 1.0 + 1e-7, 0.5, 5.0)
    np.testing.assert_allclose(m.value, 10.0, rtol=1e-8)


def test_delta_r_matches_numpy_with_wrapping(rng):
    eta1, eta2 = rng.uniform(-3, 3, (2, 300))
    phi1, phi2 = rng.uniform(-np.pi, np.pi, (2, 300))
    d = physics.delta_r(eta1, phi1, eta2, phi2)
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(d.value, np.hypot(eta1 - eta2, dphi), rtol=1e-12)


def test_delta_r_partials_match_finite_differences(rng):
    args = [
        rng.uniform(-2, 2, 15),
        rng.uniform(-3, 3, 15),
        rng.uniform(-2, 2, 15),
        rng.uniform(-3, 3, 15),
    ]
    elementwise_check(physics.delta_r, ("eta1", "phi1", "eta2", "phi2"), args)


def test_delta_r_at_zero_has_zero_tangents():
    d = physics.delta_r(1.0, 2.0, 1.0, 2.0, tangents={"eta1": [1.0], "phi2": [1.0]})
    assert d.value == 0.0
    np.testing.assert_array_equal(d.tangents, 0.0)


def test_delta_phi_wraps_and_has_unit_partials():
    d = physics.delta_phi(
        [3.0, -3.0, 0.5], [-3.0, 3.0, 0.2], tangents={"phi1": np.ones((3, 1))}
    )
    np.testing.assert_allclose(d.value, [6.0 - 2 * np.pi, 2 * np.pi - 6.0, 0.3])
    np.testing.assert_array_equal(d.tangents, 1.0)


def test_pt_of_sum(rng):
    pt1, pt2 = rng.uniform(10, 100, (2, 50))
    phi1, phi2 = rng.uniform(-np.pi, np.pi, (2, 50))
    s = physics.pt_of_sum(pt1, phi1, pt2, phi2)
    expected = np.hypot(
        pt1 * np.cos(phi1) + pt2 * np.cos(phi2), pt1 * np.sin(phi1) + pt2 * np.sin(phi2)
    )
    np.testing.assert_allclose(s.value, expected, rtol=1e-12)
    elementwise_check(
        physics.pt_of_sum,
        ("pt1", "phi1", "pt2", "phi2"),
        [pt1[:10], phi1[:10], pt2[:10], phi2[:10]],
    )
    s3 = physics.pt_of_sum3(pt1, phi1, pt2, phi2, pt1, phi2)
    expected3 = np.hypot(
        pt1 * np.cos(phi1) + pt2 * np.cos(phi2) + pt1 * np.cos(phi2),
        pt1 * np.sin(phi1) + pt2 * np.sin(phi2) + pt1 * np.sin(phi2),
    )
    np.testing.assert_allclose(s3.value, expected3, rtol=1e-12)


def test_to_cartesian_matches_numpy_and_finite_differences(rng):
    (o,) = random_objects(rng, 100, 1)
    out = physics.to_cartesian(
        *o, tangents=all_tangents(("pt", "eta", "phi", "m"), 100)
    )
    for got, want in zip(out, np_cartesian(*o), strict=True):
        np.testing.assert_allclose(got.value, want, rtol=1e-12)
    for j in range(4):
        for i in range(5):
            x0 = np.array([q[i] for q in o])

            def f(theta, j=j):
                return physics.to_cartesian(*theta)[j].value

            check_grad(f, x0, out[j].tangents[i], rtol=1e-6, atol=1e-8)


def test_from_cartesian_round_trip_and_finite_differences(rng):
    (o,) = random_objects(rng, 100, 1)
    o = (o[0], o[1], o[2], o[3] + 1.0)  # masses well above rounding
    px, py, pz, e = (d.value for d in physics.to_cartesian(*o))
    back = physics.from_cartesian(px, py, pz, e)
    for got, want in zip(back, o, strict=True):
        np.testing.assert_allclose(got.value, want, rtol=1e-7, atol=1e-9)
    names = ("px", "py", "pz", "e")
    out = physics.from_cartesian(px, py, pz, e, tangents=all_tangents(names, 100))
    for j in range(4):
        for i in range(5):
            x0 = np.array([px[i], py[i], pz[i], e[i]])

            def f(theta, j=j):
                return physics.from_cartesian(*theta)[j].value

            check_grad(f, x0, out[j].tangents[i], rtol=1e-5, atol=1e-7)


def test_chain_rule_through_user_tangents(rng):
    """A jet-energy scale s multiplies both pts: dM/ds = sum_k dM/dpt_k * pt_k."""
    (a, b) = random_objects(rng, 30, 2)

    def f(theta):
        s = 1.0 + theta[0]
        return physics.invariant_mass(
            a[0] * s, a[1], a[2], a[3], b[0] * s, b[1], b[2], b[3]
        ).value

    m = physics.invariant_mass(
        *a, *b, tangents={"pt1": a[0][:, None], "pt2": b[0][:, None]}
    )
    check_grad(f, np.zeros(1), m, rtol=1e-6, atol=1e-8)


def test_broadcasting_scalars_and_arrays(rng):
    pt = rng.uniform(20, 50, (4, 3))
    m = physics.invariant_mass(
        pt, 0.0, 0.0, 0.0, 40.0, 1.0, np.pi, 0.0, tangents={"pt2": [1.0, 0.0]}
    )
    assert m.value.shape == (4, 3)
    assert m.tangents.shape == (4, 3, 2)
    np.testing.assert_array_equal(m.tangents[..., 1], 0.0)


def test_tangents_mapping_errors():
    with pytest.raises(ValueError, match=r"unknown argument name\(s\) \['pt3'\]"):
        physics.invariant_mass(1, 0, 0, 0, 1, 0, 1, 0, tangents={"pt3": [1.0]})
    with pytest.raises(ValueError, match=r"tangents\['pt1'\] must have shape"):
        physics.invariant_mass([1.0, 2.0], 0, 0, 0, 1, 0, 1, 0, tangents={"pt1": [1.0]})
    with pytest.raises(ValueError, match="same number P"):
        physics.delta_r(0, 0, 1, 1, tangents={"eta1": [1.0], "eta2": [1.0, 2.0]})
    with pytest.raises(TypeError, match="mapping"):
        physics.delta_r(0, 0, 1, 1, tangents=[[1.0]])
    with pytest.raises(TypeError, match="pt1"):
        physics.invariant_mass("a", 0, 0, 0, 1, 0, 1, 0)
    with pytest.raises(ValueError, match="do not broadcast"):
        physics.delta_r([0.0, 1.0], [0.0, 1.0, 2.0], 0.0, 0.0)


def test_nan_input_gives_nan_output():
    m = physics.invariant_mass(np.nan, 0, 0, 0, 10, 0, 1, 0)
    assert np.isnan(m.value)
