// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.hist`: the histogram kernels on numpy arrays (raw and minimal; the
/// friendly API is `diffana.histogram` / `diffana.GradHistogram`).
#include "pybind11.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace diffana::bindings {
namespace {

/// Checks an optional [n, P] tangent array against n and the P seen so far (-1 =
/// none yet) and returns the updated P.
py::ssize_t check_tangents(const std::optional<ArrayF64>& opt, const char* name,
                           py::ssize_t n, const char* n_name, py::ssize_t p) {
  if (!opt) return p;
  const ArrayF64& tan = *opt;
  if (tan.ndim() != 2 || tan.shape(0) != n) {
    throw py::value_error(
        std::string(name) + " must have shape (n, P) with n = " + std::to_string(n) +
        " (the length of " + n_name + "), got shape " + shape_string(tan));
  }
  if (p >= 0 && tan.shape(1) != p) {
    throw py::value_error(
        std::string(name) + " has P = " + std::to_string(tan.shape(1)) +
        " parameters, but another tangent array has P = " + std::to_string(p) +
        "; all tangents must agree on P");
  }
  return tan.shape(1);
}

void check_edges(const ArrayF64& edges, const char* name) {
  require_ndim(edges, 1, name);
  if (edges.shape(0) < 2) {
    throw py::value_error(std::string(name) + " must have at least 2 entries, got " +
                          std::to_string(edges.shape(0)));
  }
}

void check_overflow(int overflow) {
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD) {
    throw py::value_error("overflow must be 0 (drop) or 1 (fold), got " +
                          std::to_string(overflow));
  }
}

py::tuple fill_1d(const py::object& x_obj, const py::object& edges_obj,
                  const py::object& w_obj, double bandwidth,
                  const py::object& x_tan_obj, const py::object& w_tan_obj,
                  int overflow, bool edge_terms) {
  const ArrayF64 x = to_f64(x_obj, "x");
  const ArrayF64 edges = to_f64(edges_obj, "edges");
  const auto w = optional_f64(w_obj, "weights");
  const auto x_tan = optional_f64(x_tan_obj, "x_tangents");
  const auto w_tan = optional_f64(w_tan_obj, "weight_tangents");
  require_ndim(x, 1, "x");
  check_edges(edges, "edges");
  check_overflow(overflow);
  const py::ssize_t n = x.shape(0);
  if (w) require_same_shape(x, "x", *w, "weights");
  py::ssize_t p = check_tangents(x_tan, "x_tangents", n, "x", -1);
  p = check_tangents(w_tan, "weight_tangents", n, "x", p);
  if (p < 0) p = 0;
  const py::ssize_t nbins = edges.shape(0) - 1;

  auto values = zeros({nbins});
  auto sumw2 = zeros({nbins});
  auto jac = zeros({nbins, p});
  auto sumw2_jac = zeros({nbins, p});
  py::object density = py::none();
  py::object moment = py::none();
  double* density_ptr = nullptr;
  double* moment_ptr = nullptr;
  if (edge_terms) {
    auto d = zeros({nbins + 1});
    auto t = zeros({nbins + 1});
    density_ptr = d.mutable_data();
    moment_ptr = t.mutable_data();
    density = d;
    moment = t;
  }
  std::int64_t n_skipped = 0;

  const double* px = x.data();
  const double* px_tan = data_or_null(x_tan);
  const double* pw = data_or_null(w);
  const double* pw_tan = data_or_null(w_tan);
  const double* pedges = edges.data();
  double* pvalues = values.mutable_data();
  double* psumw2 = sumw2.mutable_data();
  double* pjac = jac.mutable_data();
  double* psumw2_jac = sumw2_jac.mutable_data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = diffana_hist_fill_1d_f64(
        px, px_tan, pw, pw_tan, static_cast<std::int64_t>(n),
        static_cast<std::int64_t>(p), pedges, static_cast<std::int64_t>(nbins),
        bandwidth, overflow, pvalues, psumw2, pjac, psumw2_jac, &n_skipped, density_ptr,
        moment_ptr);
  }
  raise_status("diffana_hist_fill_1d_f64", status);
  return py::make_tuple(values, sumw2, jac, sumw2_jac, n_skipped, density, moment);
}

py::tuple fill_2d(const py::object& x_obj, const py::object& y_obj,
                  const py::object& xedges_obj, const py::object& yedges_obj,
                  const py::object& w_obj, double xbandwidth, double ybandwidth,
                  const py::object& x_tan_obj, const py::object& y_tan_obj,
                  const py::object& w_tan_obj, int overflow) {
  const ArrayF64 x = to_f64(x_obj, "x");
  const ArrayF64 y = to_f64(y_obj, "y");
  const ArrayF64 xedges = to_f64(xedges_obj, "xedges");
  const ArrayF64 yedges = to_f64(yedges_obj, "yedges");
  const auto w = optional_f64(w_obj, "weights");
  const auto x_tan = optional_f64(x_tan_obj, "x_tangents");
  const auto y_tan = optional_f64(y_tan_obj, "y_tangents");
  const auto w_tan = optional_f64(w_tan_obj, "weight_tangents");
  require_ndim(x, 1, "x");
  require_same_shape(x, "x", y, "y");
  check_edges(xedges, "xedges");
  check_edges(yedges, "yedges");
  check_overflow(overflow);
  const py::ssize_t n = x.shape(0);
  if (w) require_same_shape(x, "x", *w, "weights");
  py::ssize_t p = check_tangents(x_tan, "x_tangents", n, "x", -1);
  p = check_tangents(y_tan, "y_tangents", n, "x", p);
  p = check_tangents(w_tan, "weight_tangents", n, "x", p);
  if (p < 0) p = 0;
  const py::ssize_t nx = xedges.shape(0) - 1;
  const py::ssize_t ny = yedges.shape(0) - 1;

  auto values = zeros({nx, ny});
  auto sumw2 = zeros({nx, ny});
  auto jac = zeros({nx, ny, p});
  auto sumw2_jac = zeros({nx, ny, p});
  std::int64_t n_skipped = 0;

  const double* px = x.data();
  const double* py_ = y.data();
  const double* px_tan = data_or_null(x_tan);
  const double* py_tan = data_or_null(y_tan);
  const double* pw = data_or_null(w);
  const double* pw_tan = data_or_null(w_tan);
  const double* pxedges = xedges.data();
  const double* pyedges = yedges.data();
  double* pvalues = values.mutable_data();
  double* psumw2 = sumw2.mutable_data();
  double* pjac = jac.mutable_data();
  double* psumw2_jac = sumw2_jac.mutable_data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = diffana_hist_fill_2d_f64(
        px, px_tan, py_, py_tan, pw, pw_tan, static_cast<std::int64_t>(n),
        static_cast<std::int64_t>(p), pxedges, static_cast<std::int64_t>(nx), pyedges,
        static_cast<std::int64_t>(ny), xbandwidth, ybandwidth, overflow, pvalues,
        psumw2, pjac, psumw2_jac, &n_skipped);
  }
  raise_status("diffana_hist_fill_2d_f64", status);
  return py::make_tuple(values, sumw2, jac, sumw2_jac, n_skipped);
}

py::tuple fill_1d_vjp(const py::object& x_obj, const py::object& edges_obj,
                      const py::object& ct_obj, const py::object& w_obj,
                      double bandwidth, int overflow, bool want_x, bool want_w) {
  const ArrayF64 x = to_f64(x_obj, "x");
  const ArrayF64 edges = to_f64(edges_obj, "edges");
  const ArrayF64 ct = to_f64(ct_obj, "cotangents");
  const auto w = optional_f64(w_obj, "weights");
  require_ndim(x, 1, "x");
  check_edges(edges, "edges");
  require_ndim(ct, 2, "cotangents");
  check_overflow(overflow);
  if (w) require_same_shape(x, "x", *w, "weights");
  const py::ssize_t nbins = edges.shape(0) - 1;
  if (ct.shape(0) != nbins) {
    throw py::value_error("cotangents must have shape (nbins, P) with nbins = " +
                          std::to_string(nbins) + ", got shape " + shape_string(ct));
  }
  const py::ssize_t n = x.shape(0);
  const py::ssize_t p = ct.shape(1);
  py::object out_x = py::none();
  py::object out_w = py::none();
  double* pct_x = nullptr;
  double* pct_w = nullptr;
  if (want_x) {
    auto a = zeros({n, p});
    pct_x = a.mutable_data();
    out_x = a;
  }
  if (want_w) {
    auto a = zeros({n, p});
    pct_w = a.mutable_data();
    out_w = a;
  }
  const double* px = x.data();
  const double* pw = data_or_null(w);
  const double* pct = ct.data();
  const double* pedges = edges.data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = diffana_hist_fill_1d_vjp_f64(
        px, pw, pct, static_cast<std::int64_t>(n), static_cast<std::int64_t>(p), pedges,
        static_cast<std::int64_t>(nbins), bandwidth, overflow, pct_x, pct_w);
  }
  raise_status("diffana_hist_fill_1d_vjp_f64", status);
  return py::make_tuple(out_x, out_w);
}

} // namespace
} // namespace diffana::bindings

void register_hist(pybind11::module_ m) {
  namespace py = pybind11;
  using diffana::bindings::fill_1d;
  using diffana::bindings::fill_1d_vjp;
  using diffana::bindings::fill_2d;
  m.doc() = "Histogram kernels with Jacobians (raw; see diffana.histogram).";
  m.attr("OVERFLOW_DROP") = DIFFANA_OVERFLOW_DROP;
  m.attr("OVERFLOW_FOLD") = DIFFANA_OVERFLOW_FOLD;
  m.def("fill_1d", &fill_1d, py::arg("x"), py::arg("edges"),
        py::arg("weights") = py::none(), py::arg("bandwidth") = 0.0,
        py::arg("x_tangents") = py::none(), py::arg("weight_tangents") = py::none(),
        py::arg("overflow") = DIFFANA_OVERFLOW_DROP, py::arg("edge_terms") = false,
        R"doc(Fill a 1D histogram and its Jacobian (diffana_hist_fill_1d_f64).

x[n], weights[n] or None (= 1), x_tangents[n, P] or None, weight_tangents[n, P] or
None, edges[nbins + 1]; bandwidth 0 = hard binning, > 0 = soft (Gaussian kernel).
Returns (values[nbins], sumw2[nbins], jacobian[nbins, P], sumw2_jacobian[nbins, P],
n_skipped, edge_density[nbins + 1] or None, edge_moment[nbins + 1] or None); the
edge terms are computed for soft binning when edge_terms is true.)doc");
  m.def("fill_2d", &fill_2d, py::arg("x"), py::arg("y"), py::arg("xedges"),
        py::arg("yedges"), py::arg("weights") = py::none(), py::arg("xbandwidth") = 0.0,
        py::arg("ybandwidth") = 0.0, py::arg("x_tangents") = py::none(),
        py::arg("y_tangents") = py::none(), py::arg("weight_tangents") = py::none(),
        py::arg("overflow") = DIFFANA_OVERFLOW_DROP,
        R"doc(Fill a 2D histogram and its Jacobian (diffana_hist_fill_2d_f64).

Returns (values[nx, ny], sumw2[nx, ny], jacobian[nx, ny, P],
sumw2_jacobian[nx, ny, P], n_skipped).)doc");
  m.def("fill_1d_vjp", &fill_1d_vjp, py::arg("x"), py::arg("edges"),
        py::arg("cotangents"), py::arg("weights") = py::none(),
        py::arg("bandwidth") = 0.0, py::arg("overflow") = DIFFANA_OVERFLOW_DROP,
        py::arg("want_x") = true, py::arg("want_w") = true,
        R"doc(Reverse-mode gather of a 1D histogram (diffana_hist_fill_1d_vjp_f64).

The transpose of fill_1d's tangent map with respect to the events. x[n],
edges[nbins + 1], cotangents[nbins, P] (d loss / d bin, one column per direction),
weights[n] or None (= 1); bandwidth 0 = hard binning, > 0 = soft. Returns
(ct_x[n, P] or None, ct_w[n, P] or None) with
ct_x[i, p] = w_i sum_b cotangents[b, p] dk_b/dx(x_i) and
ct_w[i, p] = sum_b cotangents[b, p] k_b(x_i); skipped events (NaN x, non-finite
weight) get 0.)doc");
}
