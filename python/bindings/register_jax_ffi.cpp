// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.jax_ffi`: the XLA FFI handlers of `diffana.jax` for the CPU platform
/// (and, in builds with DIFFANA_CUDA=ON, `cuda_registrations()` of the CUDA handlers
/// of jax_ffi_cuda.cu; `has_cuda_ffi` says whether it has them).
///
/// When built with jaxlib's XLA FFI headers (DIFFANA_WITH_XLA_FFI, set by
/// CMakeLists.txt) it holds handlers around the kernels of include/diffana/kernels.h
/// and `registrations()` returning {target name: PyCapsule} for
/// `jax.ffi.register_ffi_target(name, capsule, platform="cpu")`; `has_ffi` says
/// whether it does. The histogram handlers are written out here; the relaxed ops get
/// one handler each from one template over the table of relaxed_ops.hpp. The numpy
/// level functions that diffana.jax's pure_callback path calls are those of
/// `_core.hist` and `_core.soft`.
///
/// The handlers compute in float64; float32 buffers (JAX without jax_enable_x64) are
/// widened on the way in and rounded on the way out. They are called unbatched (the
/// Python layer maps batches: diffana.jax's batching rules and vmap_method), accept
/// no other dtype, and turn a bad argument into an XLA error that names it.
#include "diffana/kernels.h"

#include "pybind11.hpp"
#include "relaxed_ops.hpp"

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

// The CUDA handlers (jax_ffi_cuda.cu), in builds with DIFFANA_CUDA=ON and the headers.
#if DIFFANA_JAX_FFI_HANDLERS && DIFFANA_WITH_XLA_FFI_CUDA
#define DIFFANA_JAX_FFI_CUDA_HANDLERS 1
#include "jax_ffi_cuda.hpp"
#else
#define DIFFANA_JAX_FFI_CUDA_HANDLERS 0
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana::bindings {
namespace {

#if DIFFANA_JAX_FFI_HANDLERS

namespace ffi = xla::ffi;

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

/// ct_x[n, P], ct_w[n, P] from ct[nb, P] (diffana_hist_fill_1d_vjp_f64); an output
/// that is not wanted has shape (0, 0).
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
  const int status = diffana_hist_fill_1d_vjp_f64(
      x.data(), weighted ? w.data() : nullptr, ct.data(), n, P, edges.data(), nbins,
      h.scalar(), overflow, want_x ? ct_x.data() : nullptr,
      want_w ? ct_w.data() : nullptr);
  if (status != DIFFANA_OK) {
    return ffi::Error::InvalidArgument(
        hist_status_message(fn, status, "bins", h.scalar()));
  }
  ct_x.commit();
  ct_w.commit();
  return ffi::Error::Success();
}

/// The handler of line I of the relaxed-op table (relaxed_ops.hpp): K input buffers
/// of one shape, K + 1 result buffers of that shape (value, d/d in_0, ...), and the
/// op's options as int32 attributes of the same names.
template <std::size_t I>
ffi::Error relaxed_op_impl(ffi::RemainingArgs args, ffi::RemainingRets rets,
                           ffi::Dictionary attrs) {
  const auto& op = std::get<I>(relaxed_ops);
  constexpr std::size_t K = std::decay_t<decltype(op)>::n_inputs;
  constexpr std::size_t M = std::decay_t<decltype(op)>::n_options;
  const std::string fn = std::string("diffana.jax.") + op.name;
  if (args.size() != K || rets.size() != K + 1) {
    return ffi::Error::InvalidArgument(fn + ": expected " + std::to_string(K) +
                                       " inputs and " + std::to_string(K + 1) +
                                       " results");
  }
  std::vector<InputF64> in;
  std::vector<OutputF64> out;
  in.reserve(K); // no reallocation: an InputF64 may point into its own copy
  out.reserve(K + 1);
  for (std::size_t k = 0; k < K; ++k) {
    auto buf = args.get<ffi::AnyBuffer>(k);
    if (!buf.has_value()) return buf.error();
    in.emplace_back(*buf);
    if (!in.back().ok()) return dtype_error(fn.c_str());
  }
  for (std::size_t k = 0; k < K + 1; ++k) {
    auto buf = rets.get<ffi::AnyBuffer>(k);
    if (!buf.has_value()) return buf.error();
    out.emplace_back(**buf);
    if (!out.back().ok()) return dtype_error(fn.c_str());
  }
  const std::int64_t n = in[0].size();
  std::array<const double*, K> in_ptrs{};
  std::array<double*, K + 1> out_ptrs{};
  for (std::size_t k = 0; k < K; ++k) {
    if (in[k].size() != n)
      return ffi::Error::InvalidArgument(fn + ": inconsistent shapes");
    in_ptrs[k] = in[k].data();
  }
  for (std::size_t k = 0; k < K + 1; ++k)
    out_ptrs[k] = out[k].data();
  std::array<int, M> options{};
  for (std::size_t j = 0; j < M; ++j) {
    auto value = attrs.get<std::int32_t>(op.options[j].name);
    if (!value.has_value()) return value.error();
    options[j] = *value;
  }
  const int status = op(in_ptrs, n, options, out_ptrs);
  if (status != DIFFANA_OK) {
    std::string params;
    for (std::size_t k = 1; k < K; ++k)
      params += std::string(k > 1 ? (k + 1 < K ? ", " : " and ") : "") + op.inputs[k];
    return ffi::Error::InvalidArgument(fn + ": " + op.kernel_name +
                                       " failed: " + diffana_status_message(status) +
                                       "; " + params + " must be finite");
  }
  for (auto& o : out)
    o.commit();
  return ffi::Error::Success();
}

/// The XLA_FFI_Handler of line I (what XLA_FFI_DEFINE_HANDLER expands to, made a
/// template so that the table gives every line its own).
template <std::size_t I> XLA_FFI_Error* relaxed_op_handler(XLA_FFI_CallFrame* frame) {
  static auto* handler = ffi::Ffi::Bind()
                             .RemainingArgs()
                             .RemainingRets()
                             .Attrs()
                             .To(relaxed_op_impl<I>)
                             .release();
  return handler->Call(frame);
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

template <class Fn> py::capsule capsule(Fn* fn) {
  return py::capsule(reinterpret_cast<void*>(fn));
}

/// diffana_jax_soft_<name> for every line of the relaxed-op table.
template <std::size_t... I>
void add_relaxed_op_handlers(py::dict& d, std::index_sequence<I...>) {
  ((d[py::str(std::string("diffana_jax_soft_") + std::get<I>(relaxed_ops).name)] =
        capsule(relaxed_op_handler<I>)),
   ...);
}

py::dict registrations() {
  py::dict d;
  d["diffana_jax_hist_1d"] = capsule(diffana_jax_hist_1d);
  d["diffana_jax_hist_1d_jvp"] = capsule(diffana_jax_hist_1d_jvp);
  d["diffana_jax_hist_1d_vjp"] = capsule(diffana_jax_hist_1d_vjp);
  add_relaxed_op_handlers(
      d, std::make_index_sequence<std::tuple_size_v<decltype(relaxed_ops)>>{});
  return d;
}

#if DIFFANA_JAX_FFI_CUDA_HANDLERS
py::dict cuda_registrations() {
  py::dict d;
  for (const CudaHandler& h : jax_ffi_cuda_handlers())
    d[py::str(h.name)] = py::capsule(h.handler);
  return d;
}
#endif

#endif // DIFFANA_JAX_FFI_HANDLERS

} // namespace
} // namespace diffana::bindings

/// Fills `diffana._core.jax_ffi` (module.cpp: register_jax_ffi(m.def_submodule(...))).
void register_jax_ffi(pybind11::module_ m) {
  namespace py = pybind11;
  m.doc() = "XLA FFI handlers of diffana.jax (CPU).";
#if DIFFANA_JAX_FFI_HANDLERS
  m.attr("has_ffi") = true;
  m.def("registrations", &diffana::bindings::registrations,
        "{target name: PyCapsule} of the XLA FFI handlers (platform 'cpu').");
#else
  m.attr("has_ffi") = false;
#endif
#if DIFFANA_JAX_FFI_CUDA_HANDLERS
  m.attr("has_cuda_ffi") = true;
  m.def("cuda_registrations", &diffana::bindings::cuda_registrations,
        "{target name: PyCapsule} of the XLA FFI handlers for platform 'CUDA' (the "
        "targets of the CPU handlers: hist_1d, its JVP and VJP, soft cut and window).");
#else
  m.attr("has_cuda_ffi") = false;
#endif
}
