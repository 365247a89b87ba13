# SPDX-License-Identifier: BSD-3-Clause
"""The cling path: diffana.root.register() makes the installed headers usable from
PyROOT (a declared C++ function and an RDataFrame Define), with numbers equal to the
Python API's."""

from __future__ import annotations

import numpy as np
import pytest

import diffana

pytestmark = pytest.mark.root

ROOT = pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")


@pytest.fixture(scope="module")
def registered():
    import diffana.root

    diffana.root.register()
    diffana.root.register()  # idempotent
    return ROOT


CODE = r"""
#include <vector>
namespace diffana_test {
// Soft-cut weights of x (cut and slope as parameters 0 and 1), filled into a soft
// gradient histogram; returns values and the Jacobian, flattened.
std::vector<double> cut_and_fill(const std::vector<double>& xs, double cut,
                                 double slope) {
  using D = diffana::Dual<double, 2>;
  const D c = D::variable(cut, 0);
  const D s = D::variable(slope, 1);
  diffana::GradHist1D<double, 2> h({0.0, 1.0, 2.0, 3.0}, 0.25);
  for (double x : xs) h.fill(x, diffana::soft_cut(x, c, s));
  std::vector<double> out(h.values());
  out.insert(out.end(), h.jacobian().begin(), h.jacobian().end());
  return out;
}
double dual_square_tangent(double x) {
  auto d = diffana::Dual<double, 1>::variable(x, 0);
  return (d * d).tangent(0);
}
}
"""


def test_declare_and_call_from_python(registered):
    assert registered.gInterpreter.Declare(CODE)
    ns = registered.diffana_test
    assert ns.dual_square_tangent(3.0) == 6.0
    xs = np.array([0.2, 0.9, 1.4, 1.6, 2.5, 2.9])
    out = np.array(list(ns.cut_and_fill(registered.std.vector["double"](xs), 1.5, 2.0)))
    w = diffana.soft_cut(
        xs, 1.5, 2.0, cut_tangents=[1.0, 0.0], slope_tangents=[0.0, 1.0]
    )
    h = diffana.histogram(
        xs,
        [0.0, 1.0, 2.0, 3.0],
        weights=w.value,
        weight_tangents=w.tangents,
        bandwidth=0.25,
    )
    np.testing.assert_allclose(out[:3], h.values, rtol=1e-13)
    np.testing.assert_allclose(
        out[3:].reshape(3, 2), h.jacobian, rtol=1e-12, atol=1e-15
    )


def test_rdataframe_define_uses_diffana(registered):
    df = (
        registered.RDataFrame(20)
        .Define("x", "0.5 * double(rdfentry_) - 3.0")
        .Define("w", "diffana::soft_cut(x, 1.0, 2.0)")
        .Define(
            "dw_dcut",
            "diffana::soft_cut(x, diffana::Dual<double, 1>::variable(1.0, 0), 2.0)"
            ".tangent(0)",
        )
    )
    cols = df.AsNumpy(["x", "w", "dw_dcut"])
    ref = diffana.soft_cut(cols["x"], 1.0, 2.0, cut_tangents=[1.0])
    np.testing.assert_allclose(cols["w"], ref.value, rtol=1e-14)
    np.testing.assert_allclose(cols["dw_dcut"], ref.tangents[:, 0], rtol=1e-14)


def test_lorentz_helpers_in_cling(registered):
    m = registered.diffana.invariant_mass(45.6, 0.0, 0.0, 0.0, 45.6, 0.0, np.pi, 0.0)
    assert m == pytest.approx(91.2, rel=1e-14)
