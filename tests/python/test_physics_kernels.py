# SPDX-License-Identifier: BSD-3-Clause
"""The Lorentz kernels diffana_physics_<op>_f64 through ``_core.physics``: values and
partials against the NumPy reference (python/diffana/_reference/physics.py) on random inputs
and edge cases (zero masses, collinear objects, phi wrap-around, null vectors, the
beam axis), both against central finite differences, and the binding's shapes,
broadcasting and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

from diffana import _core
from diffana import _reference as ref

Array = np.ndarray[Any, np.dtype[np.float64]]


class Op(NamedTuple):
    name: str  #: _core.physics.<name>, kernel diffana_physics_<name>_f64
    inputs: tuple[str, ...]
    outputs: int  #: results per element (1, or 4 for the basis changes)
    reference: Callable[..., tuple[Array, Array]]


def _object(i: int) -> tuple[str, ...]:
    return (f"pt{i}", f"eta{i}", f"phi{i}", f"m{i}")


OPS = [
    Op("invariant_mass", _object(1) + _object(2), 1, ref.physics_invariant_mass),
    Op(
        "invariant_mass3",
        _object(1) + _object(2) + _object(3),
        1,
        ref.physics_invariant_mass3,
    ),
    Op("pt_of_sum", ("pt1", "phi1", "pt2", "phi2"), 1, ref.physics_pt_of_sum),
    Op(
        "pt_of_sum3",
        ("pt1", "phi1", "pt2", "phi2", "pt3", "phi3"),
        1,
        ref.physics_pt_of_sum3,
    ),
    Op("delta_phi", ("phi1", "phi2"), 1, ref.physics_delta_phi),
    Op("delta_r", ("eta1", "phi1", "eta2", "phi2"), 1, ref.physics_delta_r),
    Op("to_cartesian", ("pt", "eta", "phi", "m"), 4, ref.physics_to_cartesian),
    Op("from_cartesian", ("px", "py", "pz", "e"), 4, ref.physics_from_cartesian),
]
BY_NAME = {op.name: op for op in OPS}


def kernel(op: Op, *args: Any) -> tuple[Array, Array]:
    value, partials = getattr(_core.physics, op.name)(*args)
    return np.asarray(value), np.asarray(partials)


def sample(name: str, rng: np.random.Generator, n: int) -> list[Array]:
    """Random inputs in the ranges of collider objects, by input name."""
    ranges = {
        "pt": (20.0, 300.0),
        "eta": (-2.5, 2.5),
        "phi": (-np.pi, np.pi),
        "m": (0.5, 30.0),
    }
    if name == "from_cartesian":
        # four-momenta of objects heavy enough for accurate finite differences of m
        # (which curves on the scale m^2 / p)
        pt, phi = rng.uniform(20.0, 300.0, n), rng.uniform(-np.pi, np.pi, n)
        eta, m = rng.uniform(-1.5, 1.5, n), rng.uniform(5.0, 80.0, n)
        v, _ = ref.physics_to_cartesian(pt, eta, phi, m)
        return [v[:, j].copy() for j in range(4)]
    return [rng.uniform(*ranges[q.rstrip("123")], n) for q in BY_NAME[name].inputs]


def as_rows(value: Array, partials: Array, op: Op) -> tuple[Array, Array]:
    """(value[s, O], partials[s, O, K]) for both output layouts."""
    if op.outputs == 1:
        return value[..., None], partials[..., None, :]
    return value, partials


def central_differences(
    f: Callable[..., tuple[Array, Array]], op: Op, args: list[Array]
) -> Array:
    """d value / d input_k [n, O, K] of an element-wise f, all elements at once, by
    the five-point central difference with a small step (the mass of a fast, light
    object curves on the scale m^2 / p)."""
    cols = []
    for k in range(len(op.inputs)):
        h = 1e-7 * np.maximum(1.0, np.abs(args[k]))

        def at(step: float, k: int = k, h: Array = h) -> Array:
            moved = [a + step * h if i == k else a for i, a in enumerate(args)]
            return as_rows(*f(*moved), op)[0]

        cols.append((8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h[:, None]))
    return np.stack(cols, axis=-1)


def value_scale(value: Array) -> Array:
    return np.maximum(1.0, np.abs(value))[..., None]


def assert_close(actual: Array, desired: Array, rtol: float, atol: Array) -> None:
    """|actual - desired| <= atol + rtol |desired| with an array atol."""
    bad = ~(np.abs(actual - desired) <= atol + rtol * np.abs(desired))
    assert not bad.any(), (
        f"{bad.sum()} of {bad.size} differ; first at {np.argwhere(bad)[0].tolist()}: "
        f"{actual[bad][0]!r} vs {desired[bad][0]!r}"
    )


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_kernel_matches_reference_on_random_inputs(op, rng):
    args = sample(op.name, rng, 400)
    value, partials = kernel(op, *args)
    want_value, want_partials = op.reference(*args)
    assert value.shape == want_value.shape
    assert partials.shape == want_partials.shape
    np.testing.assert_allclose(value, want_value, rtol=1e-12, atol=1e-12)
    # partials of a value of size V are good to ~eps V / (input size): compare
    # relative to the value's scale
    v, d = as_rows(value, partials, op)
    _, want = as_rows(want_value, want_partials, op)
    assert_close(d, want, rtol=1e-9, atol=1e-10 * value_scale(v))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@pytest.mark.parametrize("source", ["kernel", "reference"])
def test_partials_match_central_differences(op, source, rng):
    args = sample(op.name, rng, 60)
    f = (lambda *a: kernel(op, *a)) if source == "kernel" else op.reference
    value, partials = as_rows(*f(*args), op)
    numeric = central_differences(f, op, args)
    assert_close(partials, numeric, rtol=1e-6, atol=1e-6 * value_scale(value))


def check_against_reference(op: Op, args: list[Any], atol: float = 1e-12) -> None:
    value, partials = kernel(op, *args)
    want_value, want_partials = op.reference(*args)
    np.testing.assert_allclose(value, want_value, rtol=1e-12, atol=atol)
    np.testing.assert_allclose(partials, want_partials, rtol=1e-9, atol=atol)


def test_invariant_mass_zero_mass_and_collinear():
    op = BY_NAME["invariant_mass"]
    # massless back to back (M = 2 sqrt(pt1 pt2)); massless collinear with different
    # pts (M = 0, zero partials); a massive collinear pair (M = m1 + m2 at equal
    # velocity); one massless, one massive object
    args = [
        np.array(v)
        for v in (
            [45.0, 30.0, 50.0, 40.0],
            [0.0, 1.2, 0.7, -1.0],
            [0.0, 1.0, 0.3, 2.0],
            [0.0, 0.0, 5.0, 0.0],
            [45.0, 60.0, 100.0, 25.0],
            [0.0, 1.2, 0.7, 0.5],
            [np.pi, 1.0, 0.3, -2.5],
            [0.0, 0.0, 10.0, 3.0],
        )
    ]
    value, partials = kernel(op, *args)
    np.testing.assert_allclose(value[:3], [90.0, 0.0, 15.0], rtol=1e-12)
    np.testing.assert_array_equal(partials[1], 0.0)
    # d M / d m of a massless object is 0 (m enters as m^2)
    assert partials[0, 3] == 0.0
    assert partials[0, 7] == 0.0
    assert np.all(np.isfinite(partials))
    check_against_reference(op, args)


def test_invariant_mass3_zero_mass_and_collinear():
    op = BY_NAME["invariant_mass3"]
    third = 2 * np.pi / 3
    args = [
        np.array(v)
        for v in (
            [10.0, 10.0],
            [0.0, 0.5],
            [0.0, 1.0],
            [0.0, 0.0],
            [10.0, 20.0],
            [0.0, 0.5],
            [third, 1.0],
            [0.0, 0.0],
            [10.0, 30.0],
            [0.0, 0.5],
            [-third, 1.0],
            [0.0, 0.0],
        )
    ]
    value, partials = kernel(op, *args)
    np.testing.assert_allclose(value[0], 30.0, rtol=1e-12)
    assert value[1] == 0.0
    np.testing.assert_array_equal(partials[1], 0.0)
    check_against_reference(op, args)


def test_invariant_mass_near_collinear_keeps_precision():
    """Nearly parallel massive objects: kernel and reference agree far below the
    cancellation of E^2 - p^2 (which would lose ~8 digits here)."""
    op = BY_NAME["invariant_mass"]
    args = [np.array([v]) for v in (100.0, 1.0, 0.5, 5.0, 100.0, 1.0 + 1e-7, 0.5, 5.0)]
    value, partials = kernel(op, *args)
    want_value, want_partials = op.reference(*args)
    np.testing.assert_allclose(value, 10.0, rtol=1e-8)
    np.testing.assert_allclose(value, want_value, rtol=1e-13)
    np.testing.assert_allclose(partials, want_partials, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("phi1", "phi2", "expected"),
    [
        (3.0, -3.0, 6.0 - 2 * np.pi),
        (-3.0, 3.0, 2 * np.pi - 6.0),
        (np.pi, 0.0, -np.pi),  # [-pi, pi): pi maps to -pi
        (0.0, np.pi, -np.pi),
        (-np.pi, 0.0, -np.pi),
        (10 * np.pi + 0.1, 0.0, 0.1),
        (-7 * np.pi, 0.25, np.pi - 0.25),
        (0.5, 0.2, 0.3),
    ],
)
def test_delta_phi_wraps_into_half_open_interval(phi1, phi2, expected):
    op = BY_NAME["delta_phi"]
    value, partials = kernel(op, phi1, phi2)
    assert -np.pi <= value < np.pi
    np.testing.assert_allclose(value, expected, atol=1e-12)
    np.testing.assert_array_equal(partials, [1.0, -1.0])
    want, _ = op.reference(phi1, phi2)
    np.testing.assert_allclose(value, want, atol=1e-12)


def test_delta_r_across_the_phi_boundary_and_at_zero():
    op = BY_NAME["delta_r"]
    args = [
        np.array(v)
        for v in ([0.0, 1.0, 0.3], [3.1, 2.0, -3.1], [0.0, 1.0, 0.0], [-3.1, 2.0, 3.1])
    ]
    value, partials = kernel(op, *args)
    np.testing.assert_allclose(value[0], 2 * np.pi - 6.2, rtol=1e-12)
    assert value[1] == 0.0
    np.testing.assert_array_equal(partials[1], 0.0)
    # across the boundary the partials follow the wrapped difference (-0.083)
    np.testing.assert_allclose(partials[0], [0.0, -1.0, 0.0, 1.0], atol=1e-12)
    check_against_reference(op, args)


def test_pt_of_sum_vanishing_sum_has_zero_partials():
    op = BY_NAME["pt_of_sum"]
    args = [np.array(v) for v in ([0.0, 3.0], [0.4, 0.0], [0.0, 4.0], [1.0, np.pi / 2])]
    value, partials = kernel(op, *args)
    np.testing.assert_allclose(value, [0.0, 5.0], rtol=1e-12)
    np.testing.assert_array_equal(partials[0], 0.0)
    check_against_reference(op, args)
    op3 = BY_NAME["pt_of_sum3"]
    args3 = [
        np.array(v)
        for v in (
            [0.0, 1.0],
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 2 * np.pi / 3],
            [0.0, 1.0],
            [2.0, -2 * np.pi / 3],
        )
    ]
    value3, partials3 = kernel(op3, *args3)
    np.testing.assert_allclose(value3, 0.0, atol=1e-14)
    np.testing.assert_array_equal(partials3[0], 0.0)


def test_to_cartesian_null_and_massless_vectors():
    op = BY_NAME["to_cartesian"]
    args = [
        np.array(v)
        for v in (
            [0.0, 30.0, 0.0, 30.0],
            [1.0, 2.0, 0.5, -1.0],
            [0.3, -2.0, 1.0, 3.0],
            [0.0, 0.0, 5.0, -4.0],
        )
    ]
    value, partials = kernel(op, *args)
    np.testing.assert_array_equal(value[0], 0.0)
    np.testing.assert_array_equal(partials[0, 3], 0.0)  # E of a null vector
    np.testing.assert_allclose(value[1, 3], 30.0 * np.cosh(2.0), rtol=1e-14)
    assert partials[1, 3, 3] == 0.0  # d E / d m at m = 0
    np.testing.assert_allclose(value[2, 3], 5.0, rtol=1e-14)  # at rest
    check_against_reference(op, args)


def test_from_cartesian_beam_axis_and_massless():
    op = BY_NAME["from_cartesian"]
    args = [
        np.array(v)
        for v in (
            [0.0, 0.0, 0.0, 3.0],
            [0.0, 0.0, 0.0, 4.0],
            [5.0, -5.0, 0.0, 0.0],
            [13.0, 13.0, 7.0, 5.0],
        )
    ]
    value, partials = kernel(op, *args)
    np.testing.assert_array_equal(value[:3, 1], [np.inf, -np.inf, 0.0])
    np.testing.assert_allclose(value[0, 3], 12.0, rtol=1e-14)
    np.testing.assert_array_equal(partials[:3, :3], 0.0)  # pt, eta, phi along the beam
    assert value[3, 3] == 0.0  # massless: E = |p|
    np.testing.assert_array_equal(partials[3, 3], 0.0)
    check_against_reference(op, args)
    # a massless vector built from (pt, eta, phi, 0) stays massless (rounding level)
    v, _ = ref.physics_to_cartesian(50.0, 1.3, 0.7, 0.0)
    m, dm = kernel(op, *v)
    assert m[3] == 0.0
    np.testing.assert_array_equal(dm[3], 0.0)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_nan_propagates_to_its_element_only(op, rng):
    args = sample(op.name, rng, 3)
    args[0][1] = np.nan
    value, _ = kernel(op, *args)
    v = value.reshape(3, -1)
    assert np.all(np.isnan(v[1]))  # the first input enters every result
    assert np.all(np.isfinite(np.delete(v, 1, axis=0)))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_shapes_broadcasting_and_empty_inputs(op, rng):
    k, o = len(op.inputs), op.outputs
    out = () if o == 1 else (o,)
    args = sample(op.name, rng, 6)
    grid = [a.reshape(2, 3) if i == 0 else a[0] for i, a in enumerate(args)]
    value, partials = kernel(op, *grid)
    assert value.shape == (2, 3, *out)
    assert partials.shape == (2, 3, *out, k)
    assert value.dtype == np.float64
    full = [np.broadcast_to(g, (2, 3)).ravel() for g in grid]
    want_value, want_partials = kernel(op, *full)
    np.testing.assert_array_equal(value.reshape(want_value.shape), want_value)
    np.testing.assert_array_equal(partials.reshape(want_partials.shape), want_partials)
    scalar_value, scalar_partials = kernel(op, *(float(a[0]) for a in args))
    assert scalar_value.shape == out
    assert scalar_partials.shape == (*out, k)
    empty_value, empty_partials = kernel(op, *([np.zeros(0)] * k))
    assert empty_value.shape == (0, *out)
    assert empty_partials.shape == (0, *out, k)


def test_integer_and_float32_inputs_are_cast():
    value, _ = _core.physics.delta_r(np.int32(1), np.float32(0.5), [0], 0.5)
    np.testing.assert_allclose(value, 1.0)


def test_binding_names_its_arguments_in_errors():
    with pytest.raises(TypeError, match="pt1"):
        _core.physics.invariant_mass("a", 0, 0, 0, 1, 0, 1, 0)
    with pytest.raises(TypeError, match="phi2"):
        _core.physics.delta_phi(0.0, None)
    with pytest.raises(ValueError, match=r"do not broadcast.*eta1 has shape \(2,\)"):
        _core.physics.delta_r([0.0, 1.0], [0.0, 1.0, 2.0], 0.0, 0.0)
    with pytest.raises(TypeError):
        _core.physics.to_cartesian(1.0, 2.0, 3.0)  # one input missing


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_keyword_names_are_the_kernel_inputs(op, rng):
    args = sample(op.name, rng, 4)
    by_position = kernel(op, *args)
    by_name = getattr(_core.physics, op.name)(**dict(zip(op.inputs, args, strict=True)))
    np.testing.assert_array_equal(by_position[0], by_name[0])
    np.testing.assert_array_equal(by_position[1], by_name[1])
