// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.jax_ffi`: what `diffana.jax` needs beyond the numpy-level kernels.
///
/// - `hist_1d_vjp(...)`: the reverse-mode (VJP) gather of a soft 1D histogram on numpy
///   arrays, always compiled (the pure_callback path of diffana.jax uses it);
/// - when built with jaxlib's XLA FFI headers (DIFFANA_WITH_XLA_FFI, set by
///   CMakeLists.txt), XLA FFI handlers for the CPU platform around the kernels, and
///   `registrations()` returning {target name: PyCapsule} for
///   `jax.ffi.register_ffi_target(name, capsule, platform="cpu")`. `has_ffi` says
///   which.
///
/// The handlers compute in float64; float32 buffers (JAX without jax_enable_x64) are
/// widened on the way in and rounded on the way out. They are called unbatched (the
/// Python layer maps batches: diffana.jax's batching rules and vmap_method), accept
/// no other dtype, and turn a bad argument into an XLA error that names it.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include "pybind11.hpp"

// GCC before 14 rejects jaxlib's xla/ffi/api/c_api.h (a struct field named like its
// function-pointer typedef "changes meaning", a permerror): this file then needs
// -fpermissive, which the build passes together with DIFFANA_XLA_FFI_PERMISSIVE (the
// downgraded diagnostic is silenced by the SYSTEM include directory). Without it the
// module still builds, without the FFI handlers (diffana.jax uses pure_callback).
#if DIFFANA_WITH_XLA_FFI && (defined(__clang__) || !defined(__GNUC__) ||               \
                             __GNUC__ >= 14 || defined(DIFFANA_XLA_FFI_PERMISSIVE))
#define DIFFANA_JAX_FFI_HANDLERS 1
#include "xla/ffi/api/ffi.h"
#else
#define DIFFANA_JAX_FFI_HANDLERS 0
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diffana::bindings {
namespace {

/// Reverse-mode gather of a 1D histogram (the transpose of the event part of the
/// histogram's tangent map): for a cotangent ct[nbins, P] of the bins,
///   ct_x[i, p] += w_i sum_b ct[b, p] dk_b/dx(x_i)   (if ct_x is not null)
///   ct_w[i, p] += sum_b ct[b, p] k_b(x_i)           (if ct_w is not null)
/// with k_b and dk_b/dx of diffana/hist/soft_binning.hpp (bandwidth h > 0: Gaussian
/// kernel truncated at 7.5 h; h = 0: hard binning, dk/dx = 0). Events with a NaN x or
/// a non-finite weight are skipped (zero cotangent), as the fill kernel skips them.
/// Accumulates into zeroed outputs; returns a kernels.h status.
int hist_1d_vjp_f64(const double* x, const double* w, std::int64_t n,
                    const double* edges, std::int64_t nbins, double bandwidth,
                    int overflow, const double* ct, std::int64_t P, double* ct_x,
                    double* ct_w) {
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  if (first_bad_edge(edges, nbins + 1) >= 0) return DIFFANA_ERR_EDGES;
  if (!(bandwidth >= 0.0) || !std::isfinite(bandwidth)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (n == 0 || P == 0 || (ct_x == nullptr && ct_w == nullptr)) return DIFFANA_OK;
  if (x == nullptr || ct == nullptr) return DIFFANA_ERR_ARGUMENT;

  const BinAxis<double> axis =
      make_bin_axis(edges, nbins, bandwidth, static_cast<Overflow>(overflow));
  for (std::int64_t i = 0; i < n; ++i) {
    const double wi = w != nullptr ? w[i] : 1.0;
    if (detail::skip_event(x[i], wi)) continue;
    double* gx = ct_x != nullptr ? ct_x + i * P : nullptr;
    double* gw = ct_w != nullptr ? ct_w + i * P : nullptr;
    for_each_bin(axis, x[i], [&](std::int64_t b, double k, double dk) {
      const double* row = ct + b * P;
      if (gw != nullptr) {
        for (std::int64_t p = 0; p < P; ++p)
          gw[p] += k * row[p];
      }
      const double a = wi * dk;
      if (gx != nullptr && a != 0.0) {
        for (std::int64_t p = 0; p < P; ++p)
          gx[p] += a * row[p];
      }
    });
  }
  return DIFFANA_OK;
}

/// "<function>: <argument> must be ..." for a non-zero status of a histogram kernel;
/// edges_name is what the caller calls the bin edges ("bins" in diffana.jax).
std::string hist_status_message(const char* function, int status,
                                const char* edges_name, double bandwidth) {
  std::string msg = std::string(function) + ": ";
  switch (status) {
  case DIFFANA_ERR_EDGES:
    return msg + edges_name +
           " must be finite and strictly increasing (at least 2 edges)";
  case DIFFANA_ERR_BANDWIDTH:
    return msg + "bandwidth must be finite and >= 0, got " + std::to_string(bandwidth);
  case DIFFANA_ERR_OVERFLOW:
    return msg + "overflow must be 0 (drop) or 1 (fold)";
  default:
    return msg + diffana_status_message(status);
  }
}

py::tuple hist_1d_vjp(const py::object& x_obj, const py::object& w_obj,
                      const py::object& edges_obj, double bandwidth,
                      const py::object& ct_obj, int overflow, bool want_x,
                      bool want_w) {
  const ArrayF64 x = to_f64(x_obj, "x");
  const std::optional<ArrayF64> w = optional_f64(w_obj, "weights");
  const ArrayF64 edges = to_f64(edges_obj, "edges");
  const ArrayF64 ct = to_f64(ct_obj, "cotangents");
  require_ndim(x, 1, "x");
  require_ndim(edges, 1, "edges");
  require_ndim(ct, 2, "cotangents");
  if (w) require_same_shape(x, "x", *w, "weights");
  if (edges.shape(0) < 2) {
    throw py::value_error("edges must have at least 2 entries, got " +
                          std::to_string(edges.shape(0)));
  }
  const py::ssize_t nbins = edges.shape(0) - 1;
  if (ct.shape(0) != nbins) {
    throw py::value_error("cotangents must have shape (nbins, P) with nbins = " +
                          std::to_string(nbins) + ", got shape " + shape_string(ct));
  }
  const py::ssize_t n = x.shape(0);
  const py::ssize_t p = ct.shape(1);
  py::object out_x = py::none();
  py::object out_w = py::none();
  double* px = nullptr;
  double* pw = nullptr;
  if (want_x) {
    auto a = zeros({n, p});
    px = a.mutable_data();
    out_x = a;
  }
  if (want_w) {
    auto a = zeros({n, p});
    pw = a.mutable_data();
    out_w = a;
  }
  const double* xd = x.data();
  const double* wd = data_or_null(w);
  const double* ed = edges.data();
  const double* cd = ct.data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = hist_1d_vjp_f64(xd, wd, static_cast<std::int64_t>(n), ed,
                             static_cast<std::int64_t>(nbins), bandwidth, overflow, cd,
                             static_cast<std::int64_t>(p), px, pw);
  }
  if (status != DIFFANA_OK) {
    throw py::value_error(
        hist_status_message("hist_1d_vjp", status, "edges", bandwidth));
  }
  return py::make_tuple(out_x, out_w);
}

#if DIFFANA_JAX_FFI_HANDLERS

namespace ffi = xla::ffi;

/// A read-only float64 view of an F64 buffer, or a float64 copy of an F32 one.
class InputF64 {
public:
  explicit InputF64(const ffi::AnyBuffer& b) : size_(b.element_count()) {
    if (b.element_type() == ffi::DataType::F64) {
      ptr_ = b.typed_data<double>();
    } else if (b.element_type() == ffi::DataType::F32) {
      const float* f = b.typed_data<float>();
      copy_.assign(f, f + size_);
      ptr_ = copy_.data();
    } else {
      ok_ = false;
    }
  }
  bool ok() const { return ok_; }
  const double* data() const { return ptr_; }
  std::int64_t size() const { return static_cast<std::int64_t>(size_); }
  double scalar() const { return size_ > 0 ? ptr_[0] : std::nan(""); }

private:
  std::size_t size_;
  const double* ptr_ = nullptr;
  std::vector<double> copy_;
  bool ok_ = true;
};

/// A zeroed float64 output: the F64 result buffer itself, or float64 scratch that
/// commit() rounds into an F32 result buffer.
class OutputF64 {
public:
  explicit OutputF64(ffi::AnyBuffer b) : buf_(b), size_(b.element_count()) {
    if (b.element_type() == ffi::DataType::F64) {
      ptr_ = b.typed_data<double>();
      std::fill(ptr_, ptr_ + size_, 0.0);
    } else if (b.element_type() == ffi::DataType::F32) {
      scratch_.assign(size_, 0.0);
      ptr_ = scratch_.data();
    } else {
      ok_ = false;
    }
  }
  bool ok() const { return ok_; }
  double* data() { return ptr_; }
  void commit() {
    if (buf_.element_type() == ffi::DataType::F32) {
      float* f = buf_.typed_data<float>();
      for (std::size_t i = 0; i < size_; ++i)
        f[i] = static_cast<float>(scratch_[i]);
    }
  }

private:
  ffi::AnyBuffer buf_;
  std::size_t size_;
  double* ptr_ = nullptr;
  std::vector<double> scratch_;
  bool ok_ = true;
};

ffi::Error dtype_error(const char* function) {
  return ffi::Error::InvalidArgument(std::string(function) +
                                     ": expected float32 or float64 buffers");
}

/// Bandwidth check of the JAX layer (soft binning only: relaxed.hist needs h > 0).
ffi::Error check_soft_bandwidth(const char* function, double h) {
  if (!(h > 0.0) || !std::isfinite(h)) {
    return ffi::Error::InvalidArgument(std::string(function) +
                                       ": bandwidth must be positive and finite, got " +
                                       std::to_string(h));
  }
  return ffi::Error::Success();
}

std::int64_t leading_dim(const ffi::AnyBuffer& b) {
  const auto dims = b.dimensions();
  return dims.size() > 0 ? dims[0] : 0;
}

std::int64_t second_dim(const ffi::AnyBuffer& b) {
  const auto dims = b.dimensions();
  return dims.size() > 1 ? dims[1] : 0;
}

/// values[nb], S[nb + 1], T[nb + 1] of diffana_hist_fill_1d_f64 (edge_density and
/// edge_moment: the derivatives w.r.t. the edges and the bandwidth).
ffi::Error hist_1d_impl(ffi::AnyBuffer x_buf, ffi::AnyBuffer w_buf,
                        ffi::AnyBuffer edges_buf, ffi::AnyBuffer h_buf,
                        ffi::Result<ffi::AnyBuffer> values_buf,
                        ffi::Result<ffi::AnyBuffer> density_buf,
                        ffi::Result<ffi::AnyBuffer> moment_buf, std::int32_t overflow,
                        bool weighted) {
  constexpr const char* fn = "diffana.jax.hist";
  InputF64 x(x_buf), w(w_buf), edges(edges_buf), h(h_buf);
  OutputF64 values(*values_buf), density(*density_buf), moment(*moment_buf);
  if (!(x.ok() && w.ok() && edges.ok() && h.ok() && values.ok() && density.ok() &&
        moment.ok()))
    return dtype_error(fn);
  if (auto err = check_soft_bandwidth(fn, h.scalar()); !err.success()) return err;
  const std::int64_t n = x.size();
  if (weighted && w.size() != n) {
    return ffi::Error::InvalidArgument(std::string(fn) +
                                       ": weights must have the shape of data");
  }
  std::int64_t skipped = 0;
  const int status = diffana_hist_fill_1d_f64(
      x.data(), nullptr, weighted ? w.data() : nullptr, nullptr, n, 0, edges.data(),
      edges.size() - 1, h.scalar(), overflow, values.data(), nullptr, nullptr, nullptr,
      &skipped, density.data(), moment.data());
  if (status != DIFFANA_OK) {
    return ffi::Error::InvalidArgument(
        hist_status_message(fn, status, "bins", h.scalar()));
  }
  values.commit();
  density.commit();
  moment.commit();
  return ffi::Error::Success();
}

/// jac[nb, P] = sum_i w_i dk_b/dx(x_i) dx[i, :] + k_b(x_i) dw[i, :]: the event part
/// of the histogram's tangent map (diffana_hist_fill_1d_f64 with P tangents).
ffi::Error hist_1d_jvp_impl(ffi::AnyBuffer x_buf, ffi::AnyBuffer w_buf,
                            ffi::AnyBuffer edges_buf, ffi::AnyBuffer h_buf,
                            ffi::AnyBuffer dx_buf, ffi::AnyBuffer dw_buf,
                            ffi::Result<ffi::AnyBuffer> jac_buf, std::int32_t overflow,
                            bool weighted, bool has_dx, bool has_dw) {
  constexpr const char* fn = "diffana.jax.hist (tangent)";
  InputF64 x(x_buf), w(w_buf), edges(edges_buf), h(h_buf), dx(dx_buf), dw(dw_buf);
  OutputF64 jac(*jac_buf);
  if (!(x.ok() && w.ok() && edges.ok() && h.ok() && dx.ok() && dw.ok() && jac.ok()))
    return dtype_error(fn);
  if (auto err = check_soft_bandwidth(fn, h.scalar()); !err.success()) return err;
  const std::int64_t n = x.size();
  const std::int64_t nbins = edges.size() - 1;
  const std::int64_t P = second_dim(*jac_buf);
  if ((has_dx && (leading_dim(dx_buf) != n || second_dim(dx_buf) != P)) ||
      (has_dw && (leading_dim(dw_buf) != n || second_dim(dw_buf) != P)) ||
      (weighted && w.size() != n)) {
    return ffi::Error::InvalidArgument(std::string(fn) + ": inconsistent shapes");
  }
  std::vector<double> values(static_cast<std::size_t>(nbins > 0 ? nbins : 0), 0.0);
  std::int64_t skipped = 0;
  const int status = diffana_hist_fill_1d_f64(
      x.data(), has_dx ? dx.data() : nullptr, weighted ? w.data() : nullptr,
      has_dw ? dw.data() : nullptr, n, P, edges.data(), nbins, h.scalar(), overflow,
      values.data(), nullptr, jac.data(), nullptr, &skipped, nullptr, nullptr);
  if (status != DIFFANA_OK) {
    return ffi::Error::InvalidArgument(
        hist_status_message(fn, status, "bins", h.scalar()));
  }
  jac.commit();
  return ffi::Error::Success();
}

/// ct_x[n, P], ct_w[n, P] from ct[nb, P] (hist_1d_vjp_f64); an output that is not
/// wanted has shape (0, 0).
ffi::Error hist_1d_vjp_impl(ffi::AnyBuffer x_buf, ffi::AnyBuffer w_buf,
                            ffi::AnyBuffer edges_buf, ffi::AnyBuffer h_buf,
                            ffi::AnyBuffer ct_buf, ffi::Result<ffi::AnyBuffer> ct_x_buf,
                            ffi::Result<ffi::AnyBuffer> ct_w_buf, std::int32_t overflow,
                            bool weighted, bool want_x, bool want_w) {
  constexpr const char* fn = "diffana.jax.hist (cotangent)";
  InputF64 x(x_buf), w(w_buf), edges(edges_buf), h(h_buf), ct(ct_buf);
  OutputF64 ct_x(*ct_x_buf), ct_w(*ct_w_buf);
  if (!(x.ok() && w.ok() && edges.ok() && h.ok() && ct.ok() && ct_x.ok() && ct_w.ok()))
    return dtype_error(fn);
  if (auto err = check_soft_bandwidth(fn, h.scalar()); !err.success()) return err;
  const std::int64_t n = x.size();
  const std::int64_t nbins = edges.size() - 1;
  const std::int64_t P = second_dim(ct_buf);
  if (leading_dim(ct_buf) != nbins || (weighted && w.size() != n) ||
      (want_x && (leading_dim(*ct_x_buf) != n || second_dim(*ct_x_buf) != P)) ||
      (want_w && (leading_dim(*ct_w_buf) != n || second_dim(*ct_w_buf) != P))) {
    return ffi::Error::InvalidArgument(std::string(fn) + ": inconsistent shapes");
  }
  const int status =
      hist_1d_vjp_f64(x.data(), weighted ? w.data() : nullptr, n, edges.data(), nbins,
                      h.scalar(), overflow, ct.data(), P,
                      want_x ? ct_x.data() : nullptr, want_w ? ct_w.data() : nullptr);
  if (status != DIFFANA_OK) {
    return ffi::Error::InvalidArgument(
        hist_status_message(fn, status, "bins", h.scalar()));
  }
  ct_x.commit();
  ct_w.commit();
  return ffi::Error::Success();
}

/// value, d/dx, d/dcut, d/dslope of diffana_soft_cut_f64 (all inputs of one shape).
ffi::Error soft_cut_impl(ffi::AnyBuffer x_buf, ffi::AnyBuffer cut_buf,
                         ffi::AnyBuffer slope_buf, ffi::Result<ffi::AnyBuffer> v_buf,
                         ffi::Result<ffi::AnyBuffer> dx_buf,
                         ffi::Result<ffi::AnyBuffer> dcut_buf,
                         ffi::Result<ffi::AnyBuffer> dslope_buf, bool keep_above) {
  constexpr const char* fn = "diffana.jax.cut";
  InputF64 x(x_buf), cut(cut_buf), slope(slope_buf);
  OutputF64 v(*v_buf), dx(*dx_buf), dcut(*dcut_buf), dslope(*dslope_buf);
  if (!(x.ok() && cut.ok() && slope.ok() && v.ok() && dx.ok() && dcut.ok() &&
        dslope.ok()))
    return dtype_error(fn);
  const std::int64_t n = x.size();
  if (cut.size() != n || slope.size() != n) {
    return ffi::Error::InvalidArgument(std::string(fn) + ": inconsistent shapes");
  }
  const int status =
      diffana_soft_cut_f64(x.data(), cut.data(), slope.data(), n, keep_above ? 1 : 0,
                           v.data(), dx.data(), dcut.data(), dslope.data());
  if (status != DIFFANA_OK) {
    return ffi::Error::InvalidArgument(std::string(fn) +
                                       ": cut_val and slope must be finite");
  }
  v.commit();
  dx.commit();
  dcut.commit();
  dslope.commit();
  return ffi::Error::Success();
}

/// value, d/dx, d/dlo, d/dhi, d/dslope of diffana_soft_window_f64.
ffi::Error soft_window_impl(ffi::AnyBuffer x_buf, ffi::AnyBuffer lo_buf,
                            ffi::AnyBuffer hi_buf, ffi::AnyBuffer slope_buf,
                            ffi::Result<ffi::AnyBuffer> v_buf,
                            ffi::Result<ffi::AnyBuffer> dx_buf,
                            ffi::Result<ffi::AnyBuffer> dlo_buf,
                            ffi::Result<ffi::AnyBuffer> dhi_buf,
                            ffi::Result<ffi::AnyBuffer> dslope_buf) {
  constexpr const char* fn = "diffana.jax.window";
  InputF64 x(x_buf), lo(lo_buf), hi(hi_buf), slope(slope_buf);
  OutputF64 v(*v_buf), dx(*dx_buf), dlo(*dlo_buf), dhi(*dhi_buf), dslope(*dslope_buf);
  if (!(x.ok() && lo.ok() && hi.ok() && slope.ok() && v.ok() && dx.ok() && dlo.ok() &&
        dhi.ok() && dslope.ok()))
    return dtype_error(fn);
  const std::int64_t n = x.size();
  if (lo.size() != n || hi.size() != n || slope.size() != n) {
    return ffi::Error::InvalidArgument(std::string(fn) + ": inconsistent shapes");
  }
  const int status =
      diffana_soft_window_f64(x.data(), lo.data(), hi.data(), slope.data(), n, v.data(),
                              dx.data(), dlo.data(), dhi.data(), dslope.data());
  if (status != DIFFANA_OK) {
    return ffi::Error::InvalidArgument(std::string(fn) +
                                       ": lo, hi and slope must be finite");
  }
  v.commit();
  dx.commit();
  dlo.commit();
  dhi.commit();
  dslope.commit();
  return ffi::Error::Success();
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_hist_1d, hist_1d_impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::int32_t>("overflow")
                                  .Attr<bool>("weighted"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_hist_1d_jvp, hist_1d_jvp_impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::int32_t>("overflow")
                                  .Attr<bool>("weighted")
                                  .Attr<bool>("has_dx")
                                  .Attr<bool>("has_dw"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_hist_1d_vjp, hist_1d_vjp_impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::int32_t>("overflow")
                                  .Attr<bool>("weighted")
                                  .Attr<bool>("want_x")
                                  .Attr<bool>("want_w"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_soft_cut, soft_cut_impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<bool>("keep_above"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_soft_window, soft_window_impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>());

template <class Fn> py::capsule capsule(Fn* fn) {
  return py::capsule(reinterpret_cast<void*>(fn));
}

py::dict registrations() {
  py::dict d;
  d["diffana_jax_hist_1d"] = capsule(diffana_jax_hist_1d);
  d["diffana_jax_hist_1d_jvp"] = capsule(diffana_jax_hist_1d_jvp);
  d["diffana_jax_hist_1d_vjp"] = capsule(diffana_jax_hist_1d_vjp);
  d["diffana_jax_soft_cut"] = capsule(diffana_jax_soft_cut);
  d["diffana_jax_soft_window"] = capsule(diffana_jax_soft_window);
  return d;
}

#endif // DIFFANA_JAX_FFI_HANDLERS

} // namespace
} // namespace diffana::bindings

/// Fills `diffana._core.jax_ffi` (module.cpp: register_jax_ffi(m.def_submodule(...))).
void register_jax_ffi(pybind11::module_ m) {
  namespace py = pybind11;
  m.doc() = "Kernels for diffana.jax: the histogram VJP gather and XLA FFI handlers.";
  m.def(
      "hist_1d_vjp", &diffana::bindings::hist_1d_vjp, py::arg("x"), py::arg("weights"),
      py::arg("edges"), py::arg("bandwidth"), py::arg("cotangents"),
      py::arg("overflow") = DIFFANA_OVERFLOW_DROP, py::arg("want_x") = true,
      py::arg("want_w") = true,
      R"doc(Reverse-mode gather of a 1D histogram (the transpose of its event tangents).

x[n], weights[n] or None (= 1), edges[nbins + 1], bandwidth >= 0 (0 = hard binning),
cotangents[nbins, P] (d loss / d bin, one column per direction). Returns
(ct_x[n, P] or None, ct_w[n, P] or None) with
ct_x[i, p] = w_i sum_b cotangents[b, p] dk_b/dx(x_i) and
ct_w[i, p] = sum_b cotangents[b, p] k_b(x_i); skipped events (NaN x, non-finite
weight) get 0.)doc");
#if DIFFANA_JAX_FFI_HANDLERS
  m.attr("has_ffi") = true;
  m.def("registrations", &diffana::bindings::registrations,
        "{target name: PyCapsule} of the XLA FFI handlers (platform 'cpu').");
#else
  m.attr("has_ffi") = false;
#endif
}
