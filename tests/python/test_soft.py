# SPDX-License-Identifier: BSD-3-Clause
"""diffana.soft_cut / soft_window: values against relaxed's formula, tangents against
central finite differences, broadcasting, and stability for huge slopes; the
relaxed-op table (diffana._ops) against the bindings and the front end."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import diffana
from diffana import _ops
from diffana.testing import check_grad


def relaxed_cut(x, cut, slope=1.0, keep="above"):
    """relaxed.cut (gradhep/relaxed, src/relaxed/ops/cuts.py) in numpy."""
    with np.errstate(over="ignore"):
        if keep == "above":
            return 1 / (1 + np.exp(-slope * (x - cut)))
        return 1 / (1 + np.exp(slope * (x - cut)))


def relaxed_window(x, lo, hi, slope=1.0):
    return relaxed_cut(x, lo, slope, "above") * relaxed_cut(x, hi, slope, "below")


@pytest.mark.parametrize("keep", ["above", "below"])
def test_cut_values_match_relaxed(rng, keep):
    x = rng.normal(0.0, 5.0, size=1000)
    for cut, slope in [(0.0, 1.0), (1.5, 0.3), (-2.0, 7.0), (10.0, 0.01)]:
        r = diffana.soft_cut(x, cut, slope, keep)
        np.testing.assert_allclose(
            r.value, relaxed_cut(x, cut, slope, keep), rtol=1e-14, atol=1e-300
        )
        assert r.tangents.shape == (1000, 0)


def test_below_is_one_minus_above(rng):
    x = rng.uniform(-10, 10, 200)
    above = diffana.soft_cut(x, 1.0, 0.7, "above").value
    below = diffana.soft_cut(x, 1.0, 0.7, "below").value
    np.testing.assert_allclose(above + below, 1.0, rtol=1e-14)


@pytest.mark.parametrize("keep", ["above", "below"])
@pytest.mark.parametrize(
    ("cut", "slope"), [(0.0, 1.0), (2.0, 0.5), (-1.0, 20.0), (0.0, 1e-3), (3.0, -2.0)]
)
def test_cut_tangents_match_finite_differences(rng, keep, cut, slope):
    """P = 3 parameters: a shift of x along a random direction, the cut, the slope."""
    x0 = rng.normal(0.0, 2.0, size=50)
    vx = rng.normal(size=50)

    def f(theta):
        return diffana.soft_cut(
            x0 + theta[0] * vx, cut + theta[1], slope + theta[2], keep
        ).value

    r = diffana.soft_cut(
        x0,
        cut,
        slope,
        keep,
        x_tangents=vx[:, None] * [1.0, 0.0, 0.0],
        cut_tangents=[0.0, 1.0, 0.0],
        slope_tangents=[0.0, 0.0, 1.0],
    )
    np.testing.assert_array_equal(r.value, f(np.zeros(3)))
    check_grad(f, np.zeros(3), r, rtol=1e-6, atol=1e-9)


def test_cut_tangents_edge_cases():
    """At the cut, far from it and at large magnitudes."""
    x0 = np.array([0.0, 1e-12, -1e-12, 30.0, -30.0, 1e6, -1e6, 1e15])

    def f(theta):
        return diffana.soft_cut(x0 + theta[0], theta[1], 1.0 + theta[2]).value

    r = diffana.soft_cut(
        x0,
        0.0,
        1.0,
        x_tangents=np.tile([1.0, 0.0, 0.0], (8, 1)),
        cut_tangents=[0.0, 1.0, 0.0],
        slope_tangents=[0.0, 0.0, 1.0],
    )
    np.testing.assert_allclose(r.value[:3], 0.5, rtol=1e-11)
    check_grad(f, np.zeros(3), r, rtol=1e-6, atol=1e-10)
    assert np.all(np.isfinite(r.tangents))


@pytest.mark.parametrize("slope", [1e3, 1e8, 1e300])
def test_huge_slopes_give_exact_steps_without_nan(slope):
    x = np.array([-1.0, -1e-3, 1e-3, 1.0, 1e300, -1e300])
    r = diffana.soft_cut(
        x, 0.0, slope, x_tangents=np.ones((6, 1)), slope_tangents=np.ones(1)
    )
    assert np.all(np.isfinite(r.value))
    assert np.all(np.isfinite(r.tangents))
    if slope >= 1e8:
        np.testing.assert_array_equal(r.value, [0, 0, 1, 1, 1, 0])
        np.testing.assert_array_equal(r.tangents, 0.0)
    below = diffana.soft_cut(x, 0.0, slope, keep="below").value
    assert np.all(np.isfinite(below))


def test_cut_at_exactly_x_with_huge_slope_is_half():
    r = diffana.soft_cut([2.0], 2.0, 1e300, x_tangents=[[1.0]])
    assert r.value[0] == 0.5
    assert np.all(np.isfinite(r.tangents))


def test_broadcasting_and_tangent_shapes(rng):
    x = rng.normal(size=(3, 4))
    cut = np.array([0.0, 0.5, 1.0, 1.5])  # one cut per column
    r = diffana.soft_cut(
        x, cut, 2.0, x_tangents=np.ones((3, 4, 2)), cut_tangents=np.ones((4, 2))
    )
    assert r.value.shape == (3, 4)
    assert r.tangents.shape == (3, 4, 2)
    np.testing.assert_allclose(r.value, relaxed_cut(x, cut[None, :], 2.0))
    # d/dx + d/dcut = 0 for a cut, so equal tangents cancel
    np.testing.assert_allclose(r.tangents, 0.0, atol=1e-15)
    # a scalar everything gives a 0-d result
    s = diffana.soft_cut(1.0, 0.0, cut_tangents=[1.0, 2.0])
    assert s.value.shape == ()
    assert s.tangents.shape == (2,)


def test_integer_and_list_inputs_are_converted():
    r = diffana.soft_cut([0, 1, 2], 1, 1)
    np.testing.assert_allclose(r.value, relaxed_cut(np.array([0.0, 1.0, 2.0]), 1.0))
    assert r.value.dtype == np.float64


def test_float32_input_is_computed_in_float64():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    r = diffana.soft_cut(x, 0.0)
    assert r.value.dtype == np.float64
    np.testing.assert_allclose(r.value, relaxed_cut(x.astype(np.float64), 0.0))


def test_nan_in_x_propagates_as_documented():
    r = diffana.soft_cut([np.nan, 1.0], 0.0, x_tangents=[[1.0], [1.0]])
    assert np.isnan(r.value[0])
    assert np.isfinite(r.value[1])


def test_window_values_match_product_of_cuts(rng):
    x = rng.uniform(0, 200, 500)
    for lo, hi, slope in [(60.0, 120.0, 1.0), (80.0, 100.0, 0.1), (100.0, 90.0, 2.0)]:
        w = diffana.soft_window(x, lo, hi, slope)
        np.testing.assert_allclose(
            w.value, relaxed_window(x, lo, hi, slope), rtol=1e-13, atol=1e-300
        )


@pytest.mark.parametrize(("lo", "hi", "slope"), [(-1.0, 1.0, 3.0), (0.0, 5.0, 0.5)])
def test_window_tangents_match_finite_differences(rng, lo, hi, slope):
    x0 = rng.uniform(-3, 7, 40)
    vx = rng.normal(size=40)

    def f(theta):
        return diffana.soft_window(
            x0 + theta[0] * vx, lo + theta[1], hi + theta[2], slope + theta[3]
        ).value

    eye = np.eye(4)
    w = diffana.soft_window(
        x0,
        lo,
        hi,
        slope,
        x_tangents=vx[:, None] * eye[0],
        lo_tangents=eye[1],
        hi_tangents=eye[2],
        slope_tangents=eye[3],
    )
    check_grad(f, np.zeros(4), w, rtol=1e-6, atol=1e-10)


def test_window_huge_slope_is_a_hard_window():
    x = np.array([0.0, 1.0, 5.0, 9.0, 10.0 + 1e-6, 20.0])
    w = diffana.soft_window(x, 1.0 - 1e-6, 10.0, 1e12, lo_tangents=[1.0])
    np.testing.assert_array_equal(w.value, [0, 1, 1, 1, 0, 0])
    assert np.all(np.isfinite(w.tangents))


def test_per_element_cuts_and_slopes(rng):
    x = rng.normal(size=20)
    cut = rng.normal(size=20)
    slope = rng.uniform(0.5, 2, 20)
    r = diffana.soft_cut(x, cut, slope, cut_tangents=np.eye(20))
    np.testing.assert_allclose(r.value, relaxed_cut(x, cut, slope))
    # each cut only moves its own element
    off_diagonal = r.tangents[~np.eye(20, dtype=bool)]
    np.testing.assert_array_equal(off_diagonal, 0.0)


@pytest.mark.jax
def test_matches_jax_relaxed_formula_and_gradient():
    """relaxed.cut written in jax.numpy, differentiated by JAX, agrees."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        x = jnp.linspace(-4.0, 4.0, 9)

        def relaxed(c, s):
            return 1 / (1 + jnp.exp(-s * (x - c)))

        jac_c, jac_s = jax.jacfwd(relaxed, argnums=(0, 1))(0.3, 2.0)
        r = diffana.soft_cut(
            np.asarray(x), 0.3, 2.0, cut_tangents=[1.0, 0.0], slope_tangents=[0.0, 1.0]
        )
        np.testing.assert_allclose(r.value, relaxed(0.3, 2.0), rtol=1e-14)
        np.testing.assert_allclose(r.tangents[:, 0], jac_c, rtol=1e-12)
        np.testing.assert_allclose(r.tangents[:, 1], jac_s, rtol=1e-12)
    finally:
        jax.config.update("jax_enable_x64", previous)


# ---- the relaxed-op table (diffana._ops, python/bindings/relaxed_ops.hpp) ----------


@pytest.mark.parametrize("op", list(_ops.RELAXED_OPS.values()), ids=lambda op: op.name)
def test_table_entry_matches_the_bindings(op):
    """The Python entry and the C++ table line agree: the raw function takes the
    entry's inputs then its options, names its kernel, and has an FFI handler."""
    from diffana import _core

    raw = getattr(_core.soft, op.kernel)
    signature = raw.__doc__.splitlines()[0]
    assert signature.startswith(f"{op.kernel}(")
    assert re.findall(r"(\w+): ", signature) == [*op.inputs, *op.options]
    assert op.c_kernel in raw.__doc__
    if _core.jax_ffi.has_ffi:
        assert op.ffi_target in _core.jax_ffi.registrations()


@pytest.mark.parametrize("op", list(_ops.RELAXED_OPS.values()), ids=lambda op: op.name)
def test_table_entry_matches_the_numpy_front_end(op):
    params = inspect.signature(getattr(diffana, op.name)).parameters
    assert list(params)[: len(op.inputs)] == list(op.inputs)
    assert {f"{n}_tangents" for n in op.inputs} <= set(params)
    assert getattr(diffana.soft, op.name) is getattr(diffana, op.name)


def test_table_evaluate_is_what_the_front_end_returns():
    x = np.linspace(-2.0, 2.0, 5)
    tangents = (np.ones((5, 1)), None, None)
    got = _ops.evaluate(_ops.SOFT_CUT, (x, 0.5, 3.0), tangents, keep_above=0)
    want = diffana.soft_cut(x, 0.5, 3.0, "below", x_tangents=np.ones((5, 1)))
    np.testing.assert_array_equal(got.value, want.value)
    np.testing.assert_array_equal(got.tangents, want.tangents)
