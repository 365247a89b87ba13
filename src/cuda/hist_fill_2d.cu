// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_cuda_hist_fill_2d_f64 and _ex: the 2D histogram kernel (row-major bins
/// ix * ny + iy) on a CUDA device, the twin of src/kernels/hist_fill_2d.cpp (same
/// arguments in the same order; every array pointer is a device pointer). The
/// per-event maths is diffana::detail::fill_event_2d (diffana/hist/soft_binning.hpp);
/// the accumulation is src/cuda/private_hist.cuh. Compiled only with the CMake option
/// DIFFANA_CUDA_2D=ON: ptxas (CUDA 13.0, sm_90) spent over 15 CPU minutes on the
/// device code of the generic 2D fill without finishing.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include "private_hist.cuh"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

using diffana::detail::HistBuffers;

struct Event2D {
  diffana::BinAxis<double> ax;
  diffana::BinAxis<double> ay;
  const double* x;
  const double* x_tan;
  const double* y;
  const double* y_tan;
  const double* w;
  const double* w_tan;
  std::int64_t P;

  template <class Add>
  __device__ bool operator()(std::int64_t i, const HistBuffers<double>& out,
                             const Add& add) const {
    return diffana::detail::fill_event_2d(
        ax, ay, x[i], x_tan != nullptr ? x_tan + i * P : nullptr, y[i],
        y_tan != nullptr ? y_tan + i * P : nullptr, w != nullptr ? w[i] : 1.0,
        w_tan != nullptr ? w_tan + i * P : nullptr, P, out, add);
  }
};

bool bad_bandwidth(double h) {
  return !(h >= 0.0) || !std::isfinite(h);
}

} // namespace

extern "C" int diffana_cuda_hist_fill_2d_ex_f64(
    const double* x, const double* x_tan, const double* y, const double* y_tan,
    const double* w, const double* w_tan, int64_t n, int64_t P, const double* xedges,
    int64_t nx, const double* yedges, int64_t ny, double xbandwidth, double ybandwidth,
    int overflow, double* values, double* sumw2, double* jac, double* sumw2_jac,
    int64_t* n_skipped, int mode, void* stream) {
  using namespace diffana::cuda_detail;
  const auto s = static_cast<cudaStream_t>(stream);
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  // Edges of both axes first, then both bandwidths, as in the CPU twin.
  if (nx < 1 || xedges == nullptr || ny < 1 || yedges == nullptr)
    return DIFFANA_ERR_EDGES;
  std::vector<double> hx(static_cast<std::size_t>(nx) + 1);
  std::vector<double> hy(static_cast<std::size_t>(ny) + 1);
  if (const int st = copy_edges(xedges, nx, hx.data(), s); st != DIFFANA_OK) return st;
  if (const int st = copy_edges(yedges, ny, hy.data(), s); st != DIFFANA_OK) return st;
  if (bad_bandwidth(xbandwidth) || bad_bandwidth(ybandwidth))
    return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (values == nullptr || (n > 0 && (x == nullptr || y == nullptr)))
    return DIFFANA_ERR_ARGUMENT;
  if (mode != DIFFANA_CUDA_FILL_PRIVATE && mode != DIFFANA_CUDA_FILL_DETERMINISTIC &&
      mode != DIFFANA_CUDA_FILL_ATOMIC)
    return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;

  const auto policy = static_cast<diffana::Overflow>(overflow);
  auto ax = diffana::make_bin_axis(hx.data(), nx, xbandwidth, policy);
  auto ay = diffana::make_bin_axis(hy.data(), ny, ybandwidth, policy);
  ax.edges = xedges;
  ay.edges = yedges;
  HistBuffers<double> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = P > 0 ? jac : nullptr;
  out.sumw2_jac = P > 0 ? sumw2_jac : nullptr;
  const Event2D ev{ax, ay,
                   x,  P > 0 ? x_tan : nullptr,
                   y,  P > 0 ? y_tan : nullptr,
                   w,  P > 0 ? w_tan : nullptr,
                   P};
  return launch_fill(ev, n, out, nx * ny, P, reinterpret_cast<long long*>(n_skipped),
                     mode, s);
}

extern "C" int diffana_cuda_hist_fill_2d_f64(
    const double* x, const double* x_tan, const double* y, const double* y_tan,
    const double* w, const double* w_tan, int64_t n, int64_t P, const double* xedges,
    int64_t nx, const double* yedges, int64_t ny, double xbandwidth, double ybandwidth,
    int overflow, double* values, double* sumw2, double* jac, double* sumw2_jac,
    int64_t* n_skipped) {
  const int status = diffana_cuda_hist_fill_2d_ex_f64(
      x, x_tan, y, y_tan, w, w_tan, n, P, xedges, nx, yedges, ny, xbandwidth,
      ybandwidth, overflow, values, sumw2, jac, sumw2_jac, n_skipped,
      DIFFANA_CUDA_FILL_PRIVATE, nullptr);
  return diffana::cuda_detail::finish(status, nullptr, true);
}
