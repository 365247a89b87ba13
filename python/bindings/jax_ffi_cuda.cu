// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The XLA FFI handlers of `diffana.jax` for the CUDA platform: the twins of the CPU
/// handlers of register_jax_ffi.cpp (same targets, attributes and results), calling
/// the CUDA kernels of include/diffana/kernels.h on the stream XLA gives them, so that
/// jitted functions with diffana ops keep their arrays on the device. Built only with
/// DIFFANA_CUDA=ON and jaxlib's FFI headers (CMakeLists.txt); register_jax_ffi.cpp
/// turns diffana_jax_cuda_handlers() into `_core.jax_ffi.cuda_registrations()`.
///
/// float32 buffers (JAX without jax_enable_x64) are widened into float64 scratch on
/// the device and rounded back by a kernel. The kernels validate the bin edges on the
/// host (a copy of nbins + 1 doubles) and the soft ops read back a flag of bad
/// parameters, so a call waits for its stream at those points: no array leaves the
/// device, but these handlers are not CUDA-graph safe (they declare no traits).
#include "diffana/kernels.h"

#include "jax_ffi_cuda.hpp"
#include "xla/ffi/api/ffi.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

namespace ffi = xla::ffi;
using Stream = ffi::PlatformStream<cudaStream_t>;

__global__ void widen_kernel(const float* in, double* out, std::int64_t n) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    out[i] = static_cast<double>(in[i]);
}

__global__ void narrow_kernel(const double* in, float* out, std::int64_t n) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    out[i] = static_cast<float>(in[i]);
}

int grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + 255) / 256;
  return static_cast<int>(blocks < 1 ? 1 : (blocks < 65535 ? blocks : 65535));
}

/// A float64 device view of an F64 buffer, or a float64 device copy of an F32 one.
class DeviceInput {
public:
  DeviceInput(const ffi::AnyBuffer& b, cudaStream_t s)
      : s_(s), n_(static_cast<std::int64_t>(b.element_count())) {
    if (b.element_type() == ffi::DataType::F64) {
      ptr_ = b.typed_data<double>();
    } else if (b.element_type() == ffi::DataType::F32) {
      if (n_ == 0) return;
      if (cudaMallocAsync(reinterpret_cast<void**>(&own_), std::size_t(n_) * 8, s) !=
          cudaSuccess) {
        ok_ = false;
        return;
      }
      widen_kernel<<<grid_for(n_), 256, 0, s>>>(b.typed_data<float>(), own_, n_);
      ptr_ = own_;
    } else {
      ok_ = false;
    }
  }
  DeviceInput(const DeviceInput&) = delete;
  DeviceInput& operator=(const DeviceInput&) = delete;
  ~DeviceInput() {
    if (own_ != nullptr) cudaFreeAsync(own_, s_);
  }
  bool ok() const { return ok_; }
  const double* data() const { return ptr_; }
  std::int64_t size() const { return n_; }

private:
  cudaStream_t s_;
  std::int64_t n_;
  const double* ptr_ = nullptr;
  double* own_ = nullptr;
  bool ok_ = true;
};

/// A zeroed float64 device output: the F64 result buffer itself, or float64 scratch
/// that commit() rounds into the F32 result buffer.
class DeviceOutput {
public:
  DeviceOutput(ffi::AnyBuffer b, cudaStream_t s)
      : buf_(b), s_(s), n_(static_cast<std::int64_t>(b.element_count())) {
    if (n_ == 0) return;
    if (b.element_type() == ffi::DataType::F64) {
      ptr_ = b.typed_data<double>();
    } else if (b.element_type() == ffi::DataType::F32) {
      if (cudaMallocAsync(reinterpret_cast<void**>(&own_), std::size_t(n_) * 8, s) !=
          cudaSuccess) {
        ok_ = false;
        return;
      }
      ptr_ = own_;
    } else {
      ok_ = false;
      return;
    }
    if (cudaMemsetAsync(ptr_, 0, std::size_t(n_) * 8, s) != cudaSuccess) ok_ = false;
  }
  DeviceOutput(const DeviceOutput&) = delete;
  DeviceOutput& operator=(const DeviceOutput&) = delete;
  ~DeviceOutput() {
    if (own_ != nullptr) cudaFreeAsync(own_, s_);
  }
  bool ok() const { return ok_; }
  double* data() { return ptr_; }
  void commit() {
    if (own_ != nullptr)
      narrow_kernel<<<grid_for(n_), 256, 0, s_>>>(own_, buf_.typed_data<float>(), n_);
  }

private:
  ffi::AnyBuffer buf_;
  cudaStream_t s_;
  std::int64_t n_;
  double* ptr_ = nullptr;
  double* own_ = nullptr;
  bool ok_ = true;
};

ffi::Error dtype_error(const std::string& fn) {
  return ffi::Error::InvalidArgument(fn + ": expected float32 or float64 buffers");
}

ffi::Error device_error(const std::string& fn) {
  return ffi::Error::Internal(fn + ": " + diffana_status_message(DIFFANA_ERR_DEVICE) +
                              " (" + cudaGetErrorString(cudaGetLastError()) + ")");
}

/// The bandwidth (a device scalar) on the host, or NaN when it cannot be read.
double read_scalar(const DeviceInput& h, cudaStream_t s) {
  double v = std::nan("");
  if (h.size() < 1 ||
      cudaMemcpyAsync(&v, h.data(), sizeof v, cudaMemcpyDeviceToHost, s) !=
          cudaSuccess ||
      cudaStreamSynchronize(s) != cudaSuccess)
    return std::nan("");
  return v;
}

ffi::Error check_soft_bandwidth(const std::string& fn, double h) {
  if (!(h > 0.0) || !std::isfinite(h)) {
    return ffi::Error::InvalidArgument(
        fn + ": bandwidth must be positive and finite, got " + std::to_string(h));
  }
  return ffi::Error::Success();
}

ffi::Error status_error(const std::string& fn, int status, double h) {
  switch (status) {
  case DIFFANA_ERR_EDGES:
    return ffi::Error::InvalidArgument(
        fn + ": bins must be finite and strictly increasing (at least 2 edges)");
  case DIFFANA_ERR_BANDWIDTH:
    return ffi::Error::InvalidArgument(
        fn + ": bandwidth must be finite and >= 0, got " + std::to_string(h));
  case DIFFANA_ERR_OVERFLOW:
    return ffi::Error::InvalidArgument(fn + ": overflow must be 0 (drop) or 1 (fold)");
  case DIFFANA_ERR_DEVICE:
    return device_error(fn);
  default:
    return ffi::Error::InvalidArgument(fn + ": " + diffana_status_message(status));
  }
}

std::int64_t dim(const ffi::AnyBuffer& b, std::size_t k) {
  const auto dims = b.dimensions();
  return dims.size() > k ? dims[k] : 0;
}

ffi::Error hist_1d_impl(cudaStream_t s, ffi::AnyBuffer x_buf, ffi::AnyBuffer w_buf,
                        ffi::AnyBuffer edges_buf, ffi::AnyBuffer h_buf,
                        ffi::Result<ffi::AnyBuffer> values_buf,
                        ffi::Result<ffi::AnyBuffer> density_buf,
                        ffi::Result<ffi::AnyBuffer> moment_buf, std::int32_t overflow,
                        bool weighted) {
  const std::string fn = "diffana.jax.hist (CUDA)";
  DeviceInput x(x_buf, s), w(w_buf, s), edges(edges_buf, s), h(h_buf, s);
  DeviceOutput values(*values_buf, s), density(*density_buf, s), moment(*moment_buf, s);
  if (!(x.ok() && w.ok() && edges.ok() && h.ok() && values.ok() && density.ok() &&
        moment.ok()))
    return dtype_error(fn);
  const double bw = read_scalar(h, s);
  if (auto err = check_soft_bandwidth(fn, bw); !err.success()) return err;
  const std::int64_t n = x.size();
  if (weighted && w.size() != n)
    return ffi::Error::InvalidArgument(fn + ": weights must have the shape of data");
  const int status = diffana_cuda_hist_fill_1d_ex_f64(
      x.data(), nullptr, weighted ? w.data() : nullptr, nullptr, n, 0, edges.data(),
      edges.size() - 1, bw, overflow, values.data(), nullptr, nullptr, nullptr, nullptr,
      density.data(), moment.data(), DIFFANA_CUDA_FILL_PRIVATE, s);
  if (status != DIFFANA_OK) return status_error(fn, status, bw);
  values.commit();
  density.commit();
  moment.commit();
  return cudaGetLastError() == cudaSuccess ? ffi::Error::Success() : device_error(fn);
}

ffi::Error hist_1d_jvp_impl(cudaStream_t s, ffi::AnyBuffer x_buf, ffi::AnyBuffer w_buf,
                            ffi::AnyBuffer edges_buf, ffi::AnyBuffer h_buf,
                            ffi::AnyBuffer dx_buf, ffi::AnyBuffer dw_buf,
                            ffi::Result<ffi::AnyBuffer> jac_buf, std::int32_t overflow,
                            bool weighted, bool has_dx, bool has_dw) {
  const std::string fn = "diffana.jax.hist (tangent, CUDA)";
  DeviceInput x(x_buf, s), w(w_buf, s), edges(edges_buf, s), h(h_buf, s), dx(dx_buf, s),
      dw(dw_buf, s);
  DeviceOutput jac(*jac_buf, s);
  if (!(x.ok() && w.ok() && edges.ok() && h.ok() && dx.ok() && dw.ok() && jac.ok()))
    return dtype_error(fn);
  const double bw = read_scalar(h, s);
  if (auto err = check_soft_bandwidth(fn, bw); !err.success()) return err;
  const std::int64_t n = x.size();
  const std::int64_t nbins = edges.size() - 1;
  const std::int64_t P = dim(*jac_buf, 1);
  if ((has_dx && (dim(dx_buf, 0) != n || dim(dx_buf, 1) != P)) ||
      (has_dw && (dim(dw_buf, 0) != n || dim(dw_buf, 1) != P)) ||
      (weighted && w.size() != n))
    return ffi::Error::InvalidArgument(fn + ": inconsistent shapes");
  double* values = nullptr; // the fill needs somewhere to put the values
  if (cudaMallocAsync(reinterpret_cast<void**>(&values),
                      std::size_t(nbins > 0 ? nbins : 1) * 8, s) != cudaSuccess)
    return device_error(fn);
  int status = cudaMemsetAsync(values, 0, std::size_t(nbins > 0 ? nbins : 1) * 8, s) ==
                       cudaSuccess
                   ? DIFFANA_OK
                   : DIFFANA_ERR_DEVICE;
  if (status == DIFFANA_OK) {
    status = diffana_cuda_hist_fill_1d_ex_f64(
        x.data(), has_dx ? dx.data() : nullptr, weighted ? w.data() : nullptr,
        has_dw ? dw.data() : nullptr, n, P, edges.data(), nbins, bw, overflow, values,
        nullptr, jac.data(), nullptr, nullptr, nullptr, nullptr,
        DIFFANA_CUDA_FILL_PRIVATE, s);
  }
  cudaFreeAsync(values, s);
  if (status != DIFFANA_OK) return status_error(fn, status, bw);
  jac.commit();
  return cudaGetLastError() == cudaSuccess ? ffi::Error::Success() : device_error(fn);
}

ffi::Error hist_1d_vjp_impl(cudaStream_t s, ffi::AnyBuffer x_buf, ffi::AnyBuffer w_buf,
                            ffi::AnyBuffer edges_buf, ffi::AnyBuffer h_buf,
                            ffi::AnyBuffer ct_buf, ffi::Result<ffi::AnyBuffer> ct_x_buf,
                            ffi::Result<ffi::AnyBuffer> ct_w_buf, std::int32_t overflow,
                            bool weighted, bool want_x, bool want_w) {
  const std::string fn = "diffana.jax.hist (cotangent, CUDA)";
  DeviceInput x(x_buf, s), w(w_buf, s), edges(edges_buf, s), h(h_buf, s), ct(ct_buf, s);
  DeviceOutput ct_x(*ct_x_buf, s), ct_w(*ct_w_buf, s);
  if (!(x.ok() && w.ok() && edges.ok() && h.ok() && ct.ok() && ct_x.ok() && ct_w.ok()))
    return dtype_error(fn);
  const double bw = read_scalar(h, s);
  if (auto err = check_soft_bandwidth(fn, bw); !err.success()) return err;
  const std::int64_t n = x.size();
  const std::int64_t nbins = edges.size() - 1;
  const std::int64_t P = dim(ct_buf, 1);
  if (dim(ct_buf, 0) != nbins || (weighted && w.size() != n) ||
      (want_x && (dim(*ct_x_buf, 0) != n || dim(*ct_x_buf, 1) != P)) ||
      (want_w && (dim(*ct_w_buf, 0) != n || dim(*ct_w_buf, 1) != P)))
    return ffi::Error::InvalidArgument(fn + ": inconsistent shapes");
  const int status = diffana_cuda_hist_fill_1d_vjp_ex_f64(
      x.data(), weighted ? w.data() : nullptr, ct.data(), n, P, edges.data(), nbins, bw,
      overflow, want_x ? ct_x.data() : nullptr, want_w ? ct_w.data() : nullptr, s);
  if (status != DIFFANA_OK) return status_error(fn, status, bw);
  ct_x.commit();
  ct_w.commit();
  return cudaGetLastError() == cudaSuccess ? ffi::Error::Success() : device_error(fn);
}

/// The relaxed ops (register_jax_ffi.cpp's table, lines "cut" and "window"): K inputs
/// of one shape, K + 1 results (value, d/d in_0, ...).
template <std::size_t K>
ffi::Error relaxed_impl(const char* name, cudaStream_t s, ffi::RemainingArgs args,
                        ffi::RemainingRets rets, ffi::Dictionary attrs) {
  const std::string fn = std::string("diffana.jax.") + name + " (CUDA)";
  if (args.size() != K || rets.size() != K + 1)
    return ffi::Error::InvalidArgument(fn + ": expected " + std::to_string(K) +
                                       " inputs and " + std::to_string(K + 1) +
                                       " results");
  // Fixed-size storage: the views own device scratch and must not move.
  alignas(DeviceInput) unsigned char in_raw[K][sizeof(DeviceInput)];
  alignas(DeviceOutput) unsigned char out_raw[K + 1][sizeof(DeviceOutput)];
  DeviceInput* in[K];
  DeviceOutput* out[K + 1];
  std::size_t made_in = 0;
  std::size_t made_out = 0;
  auto cleanup = [&]() {
    for (std::size_t k = 0; k < made_in; ++k)
      in[k]->~DeviceInput();
    for (std::size_t k = 0; k < made_out; ++k)
      out[k]->~DeviceOutput();
  };
  ffi::Error err = ffi::Error::Success();
  for (std::size_t k = 0; k < K && err.success(); ++k) {
    auto buf = args.get<ffi::AnyBuffer>(k);
    if (!buf.has_value()) {
      err = buf.error();
      break;
    }
    in[k] = new (in_raw[k]) DeviceInput(*buf, s);
    ++made_in;
    if (!in[k]->ok()) err = dtype_error(fn);
  }
  for (std::size_t k = 0; k < K + 1 && err.success(); ++k) {
    auto buf = rets.get<ffi::AnyBuffer>(k);
    if (!buf.has_value()) {
      err = buf.error();
      break;
    }
    out[k] = new (out_raw[k]) DeviceOutput(**buf, s);
    ++made_out;
    if (!out[k]->ok()) err = dtype_error(fn);
  }
  const std::int64_t n = made_in > 0 ? in[0]->size() : 0;
  for (std::size_t k = 0; k < made_in && err.success(); ++k) {
    if (in[k]->size() != n)
      err = ffi::Error::InvalidArgument(fn + ": inconsistent shapes");
  }
  int status = DIFFANA_OK;
  if (err.success()) {
    if constexpr (K == 3) {
      auto keep = attrs.get<std::int32_t>("keep_above");
      if (!keep.has_value()) {
        err = keep.error();
      } else {
        status = diffana_cuda_soft_cut_f64(in[0]->data(), in[1]->data(), in[2]->data(),
                                           n, *keep, out[0]->data(), out[1]->data(),
                                           out[2]->data(), out[3]->data(), s);
      }
    } else {
      status = diffana_cuda_soft_window_f64(
          in[0]->data(), in[1]->data(), in[2]->data(), in[3]->data(), n, out[0]->data(),
          out[1]->data(), out[2]->data(), out[3]->data(), out[4]->data(), s);
    }
  }
  if (err.success() && status == DIFFANA_ERR_DEVICE) err = device_error(fn);
  if (err.success() && status != DIFFANA_OK) {
    err = ffi::Error::InvalidArgument(
        fn + ": " +
        (K == 3 ? "diffana_cuda_soft_cut_f64" : "diffana_cuda_soft_window_f64") +
        " failed: " + diffana_status_message(status) + "; " +
        (K == 3 ? "cut and slope" : "lo, hi and slope") + " must be finite");
  }
  if (err.success()) {
    for (std::size_t k = 0; k < made_out; ++k)
      out[k]->commit();
  }
  cleanup();
  return err;
}

ffi::Error cut_impl(cudaStream_t s, ffi::RemainingArgs args, ffi::RemainingRets rets,
                    ffi::Dictionary attrs) {
  return relaxed_impl<3>("cut", s, args, rets, attrs);
}

ffi::Error window_impl(cudaStream_t s, ffi::RemainingArgs args, ffi::RemainingRets rets,
                       ffi::Dictionary attrs) {
  return relaxed_impl<4>("window", s, args, rets, attrs);
}

} // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_cuda_hist_1d, hist_1d_impl,
                              ffi::Ffi::Bind()
                                  .Ctx<Stream>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::int32_t>("overflow")
                                  .Attr<bool>("weighted"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_cuda_hist_1d_jvp, hist_1d_jvp_impl,
                              ffi::Ffi::Bind()
                                  .Ctx<Stream>()
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

XLA_FFI_DEFINE_HANDLER_SYMBOL(diffana_jax_cuda_hist_1d_vjp, hist_1d_vjp_impl,
                              ffi::Ffi::Bind()
                                  .Ctx<Stream>()
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

XLA_FFI_DEFINE_HANDLER_SYMBOL(
    diffana_jax_cuda_soft_cut, cut_impl,
    ffi::Ffi::Bind().Ctx<Stream>().RemainingArgs().RemainingRets().Attrs());

XLA_FFI_DEFINE_HANDLER_SYMBOL(
    diffana_jax_cuda_soft_window, window_impl,
    ffi::Ffi::Bind().Ctx<Stream>().RemainingArgs().RemainingRets().Attrs());

namespace diffana::bindings {

std::vector<CudaHandler> jax_ffi_cuda_handlers() {
  // The target names of the CPU handlers: diffana.jax calls one name and XLA picks
  // the handler registered for the platform it compiles for.
  return {{"diffana_jax_hist_1d", reinterpret_cast<void*>(diffana_jax_cuda_hist_1d)},
          {"diffana_jax_hist_1d_jvp",
           reinterpret_cast<void*>(diffana_jax_cuda_hist_1d_jvp)},
          {"diffana_jax_hist_1d_vjp",
           reinterpret_cast<void*>(diffana_jax_cuda_hist_1d_vjp)},
          {"diffana_jax_soft_cut", reinterpret_cast<void*>(diffana_jax_cuda_soft_cut)},
          {"diffana_jax_soft_window",
           reinterpret_cast<void*>(diffana_jax_cuda_soft_window)}};
}

} // namespace diffana::bindings
