// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.soft`: element-wise relaxed cuts on numpy arrays. Each function
/// returns the value and its partial derivatives with respect to every input (the
/// Python layer, `diffana.soft_cut`, combines them with the user's tangents).
#include "pybind11.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace diffana::bindings {
namespace {

py::tuple cut(const py::object& x_obj, const py::object& cut_obj,
              const py::object& slope_obj, bool keep_above) {
  const auto in = broadcast({x_obj, cut_obj, slope_obj}, {"x", "cut", "slope"});
  const auto shape = shape_of(in[0]);
  auto value = zeros(shape);
  auto d_x = zeros(shape);
  auto d_cut = zeros(shape);
  auto d_slope = zeros(shape);
  const auto n = static_cast<std::int64_t>(in[0].size());
  const double* px = in[0].data();
  const double* pc = in[1].data();
  const double* ps = in[2].data();
  double* pv = value.mutable_data();
  double* pdx = d_x.mutable_data();
  double* pdc = d_cut.mutable_data();
  double* pds = d_slope.mutable_data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = diffana_soft_cut_f64(px, pc, ps, n, keep_above ? 1 : 0, pv, pdx, pdc, pds);
  }
  raise_status("diffana_soft_cut_f64", status);
  return py::make_tuple(value, d_x, d_cut, d_slope);
}

py::tuple window(const py::object& x_obj, const py::object& lo_obj,
                 const py::object& hi_obj, const py::object& slope_obj) {
  const auto in =
      broadcast({x_obj, lo_obj, hi_obj, slope_obj}, {"x", "lo", "hi", "slope"});
  const auto shape = shape_of(in[0]);
  auto value = zeros(shape);
  auto d_x = zeros(shape);
  auto d_lo = zeros(shape);
  auto d_hi = zeros(shape);
  auto d_slope = zeros(shape);
  const auto n = static_cast<std::int64_t>(in[0].size());
  const double* px = in[0].data();
  const double* plo = in[1].data();
  const double* phi = in[2].data();
  const double* ps = in[3].data();
  double* pv = value.mutable_data();
  double* pdx = d_x.mutable_data();
  double* pdlo = d_lo.mutable_data();
  double* pdhi = d_hi.mutable_data();
  double* pds = d_slope.mutable_data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = diffana_soft_window_f64(px, plo, phi, ps, n, pv, pdx, pdlo, pdhi, pds);
  }
  raise_status("diffana_soft_window_f64", status);
  return py::make_tuple(value, d_x, d_lo, d_hi, d_slope);
}

} // namespace
} // namespace diffana::bindings

void register_soft(pybind11::module_ m) {
  namespace py = pybind11;
  using diffana::bindings::cut;
  using diffana::bindings::window;
  m.doc() = "Element-wise relaxed cuts (raw; see diffana.soft_cut).";
  m.def("cut", &cut, py::arg("x"), py::arg("cut"), py::arg("slope"),
        py::arg("keep_above") = true,
        R"doc(Sigmoid cut (diffana_soft_cut_f64), as relaxed.cut.

keep_above: sigmoid(slope * (x - cut)); else sigmoid(slope * (cut - x)). The inputs
broadcast against each other. Returns (value, d_value/d_x, d_value/d_cut,
d_value/d_slope), each of the broadcast shape.)doc");
  m.def("window", &window, py::arg("x"), py::arg("lo"), py::arg("hi"), py::arg("slope"),
        R"doc(Soft window lo < x < hi (diffana_soft_window_f64).

Returns (value, d/d_x, d/d_lo, d/d_hi, d/d_slope), each of the broadcast shape.)doc");
}
