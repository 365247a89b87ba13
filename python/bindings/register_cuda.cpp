// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.cuda`: the CUDA kernels on device pointers, for the numpy-style front
/// end on device arrays (`diffana._device`: CuPy, DLPack, `__cuda_array_interface__`)
/// and the relaxed AGC step (`diffana.agc_relaxed`). Pointers are Python integers
/// (0: NULL), the stream a cudaStream_t as an integer (0: the default stream); every
/// function returns the kernel's status code (the Python layer raises). `built` tells
/// whether the extension holds the kernels (CMake DIFFANA_CUDA=ON defines
/// DIFFANA_WITH_CUDA_KERNELS); without them only `built` and `device_count` exist.
#include "pybind11.hpp"

#if defined(DIFFANA_WITH_CUDA_KERNELS)
#include "agc_relaxed.hpp"

#include <cuda_runtime.h>
#endif

#include <cstdint>
#include <string>
#include <vector>

namespace diffana::bindings {
namespace {

/// Number of CUDA devices, and why there is none ("" when there are some).
py::tuple device_count() {
#if defined(DIFFANA_WITH_CUDA_KERNELS)
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess)
    return py::make_tuple(0, std::string(cudaGetErrorName(err)) + ": " +
                                 cudaGetErrorString(err));
  return py::make_tuple(count, count > 0 ? "" : "the CUDA runtime sees no device");
#else
  return py::make_tuple(0, "diffana was built without its CUDA kernels "
                           "(CMake option DIFFANA_CUDA=OFF)");
#endif
}

#if defined(DIFFANA_WITH_CUDA_KERNELS)
template <class T> T* ptr(std::uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

int hist_fill_1d(std::uintptr_t x, std::uintptr_t x_tan, std::uintptr_t w,
                 std::uintptr_t w_tan, std::int64_t n, std::int64_t P,
                 std::uintptr_t edges, std::int64_t nbins, double bandwidth,
                 int overflow, std::uintptr_t values, std::uintptr_t sumw2,
                 std::uintptr_t jac, std::uintptr_t sumw2_jac, std::uintptr_t n_skipped,
                 int mode, std::uintptr_t stream) {
  py::gil_scoped_release release;
  const int status = diffana_cuda_hist_fill_1d_ex_f64(
      ptr<const double>(x), ptr<const double>(x_tan), ptr<const double>(w),
      ptr<const double>(w_tan), n, P, ptr<const double>(edges), nbins, bandwidth,
      overflow, ptr<double>(values), ptr<double>(sumw2), ptr<double>(jac),
      ptr<double>(sumw2_jac), ptr<int64_t>(n_skipped), nullptr, nullptr, mode,
      ptr<void>(stream));
  if (status != DIFFANA_OK) return status;
  return cudaStreamSynchronize(ptr<CUstream_st>(stream)) == cudaSuccess
             ? DIFFANA_OK
             : DIFFANA_ERR_DEVICE;
}

int soft_cut(std::uintptr_t x, std::uintptr_t cut, std::uintptr_t slope, std::int64_t n,
             int keep_above, std::uintptr_t value, std::uintptr_t d_x,
             std::uintptr_t d_cut, std::uintptr_t d_slope, std::uintptr_t stream) {
  py::gil_scoped_release release;
  return diffana_cuda_soft_cut_f64(
      ptr<const double>(x), ptr<const double>(cut), ptr<const double>(slope), n,
      keep_above, ptr<double>(value), ptr<double>(d_x), ptr<double>(d_cut),
      ptr<double>(d_slope), ptr<void>(stream));
}

int soft_window(std::uintptr_t x, std::uintptr_t lo, std::uintptr_t hi,
                std::uintptr_t slope, std::int64_t n, std::uintptr_t value,
                std::uintptr_t d_x, std::uintptr_t d_lo, std::uintptr_t d_hi,
                std::uintptr_t d_slope, std::uintptr_t stream) {
  py::gil_scoped_release release;
  return diffana_cuda_soft_window_f64(
      ptr<const double>(x), ptr<const double>(lo), ptr<const double>(hi),
      ptr<const double>(slope), n, ptr<double>(value), ptr<double>(d_x),
      ptr<double>(d_lo), ptr<double>(d_hi), ptr<double>(d_slope), ptr<void>(stream));
}

int agc_relaxed_step(const std::vector<std::uintptr_t>& columns, std::int64_t n_events,
                     const std::vector<double>& params, std::uintptr_t edges0,
                     std::int64_t nbins0, double bandwidth0, std::uintptr_t edges1,
                     std::int64_t nbins1, double bandwidth1, int overflow,
                     const std::vector<std::uintptr_t>& outputs, int mode,
                     std::uintptr_t stream) {
  if (columns.size() != 8 || outputs.size() != 5 ||
      params.size() != static_cast<std::size_t>(diffana::agc_relaxed::n_values))
    throw py::value_error("agc_relaxed_step: 8 column pointers (offsets, pt, eta, phi, "
                          "mass, btag, ok, weight), 8 parameters and 5 output pointers "
                          "(values, sumw2, jac, sumw2_jac, n_skipped)");
  py::gil_scoped_release release;
  const int status = diffana_cuda_agc_relaxed_step_f64(
      ptr<const std::int64_t>(columns[0]), ptr<const double>(columns[1]),
      ptr<const double>(columns[2]), ptr<const double>(columns[3]),
      ptr<const double>(columns[4]), ptr<const double>(columns[5]),
      ptr<const double>(columns[6]), ptr<const double>(columns[7]), n_events,
      params.data(), ptr<const double>(edges0), nbins0, bandwidth0,
      ptr<const double>(edges1), nbins1, bandwidth1, overflow, ptr<double>(outputs[0]),
      ptr<double>(outputs[1]), ptr<double>(outputs[2]), ptr<double>(outputs[3]),
      ptr<std::int64_t>(outputs[4]), mode, ptr<void>(stream));
  if (status != DIFFANA_OK) return status;
  return cudaStreamSynchronize(ptr<CUstream_st>(stream)) == cudaSuccess
             ? DIFFANA_OK
             : DIFFANA_ERR_DEVICE;
}
#endif

} // namespace
} // namespace diffana::bindings

void register_cuda(pybind11::module_ m) {
  namespace py = pybind11;
  using namespace diffana::bindings;
  m.doc() = "The CUDA kernels on device pointers (raw; see diffana._device).";
  m.def("device_count", &device_count,
        "(number of CUDA devices, why there is none or '').");
#if defined(DIFFANA_WITH_CUDA_KERNELS)
  m.attr("built") = true;
  m.attr("FILL_PRIVATE") = DIFFANA_CUDA_FILL_PRIVATE;
  m.attr("FILL_DETERMINISTIC") = DIFFANA_CUDA_FILL_DETERMINISTIC;
  m.attr("FILL_ATOMIC") = DIFFANA_CUDA_FILL_ATOMIC;
  m.def("hist_fill_1d", &hist_fill_1d,
        "diffana_cuda_hist_fill_1d_ex_f64 on device pointers, then a wait on the "
        "stream: the status.");
  m.def("soft_cut", &soft_cut, "diffana_cuda_soft_cut_f64 on device pointers.");
  m.def("soft_window", &soft_window,
        "diffana_cuda_soft_window_f64 on device pointers.");
  m.def("agc_relaxed_step", &agc_relaxed_step,
        "diffana_cuda_agc_relaxed_step_f64 on device pointers, then a wait on the "
        "stream: the status.");
#else
  m.attr("built") = false;
#endif
}
