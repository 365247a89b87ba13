// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_cuda_hist_fill_1d_vjp_f64 and _ex: the reverse-mode gather of a 1D
/// histogram on a CUDA device, the twin of src/kernels/hist_fill_1d_vjp.cpp (same
/// arguments; every array pointer is a device pointer). One thread per event; each
/// writes only its own cotangent rows, so there are no atomics and the result does not
/// depend on scheduling. The bins an event reaches and their k_b, dk_b/dx come from
/// diffana::for_each_bin (diffana/hist/soft_binning.hpp, shared with the CPU).
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include "private_hist.cuh"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

/// The event loop of the CPU twin, one thread per event: ct_x[i] += w_i sum_b ct[b]
/// dk_b/dx(x_i), ct_w[i] += sum_b ct[b] k_b(x_i) (rows of P).
__global__ void hist_fill_1d_vjp_kernel(diffana::BinAxis<double> axis, const double* x,
                                        const double* w, const double* ct,
                                        std::int64_t n, std::int64_t P, double* ct_x,
                                        double* ct_w) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const double wi = w != nullptr ? w[i] : 1.0;
    // The fill skips these events (NaN x, non-finite weight): zero cotangent.
    if (diffana::detail::skip_event(x[i], wi)) continue;
    double* gx = ct_x != nullptr ? ct_x + i * P : nullptr;
    double* gw = ct_w != nullptr ? ct_w + i * P : nullptr;
    diffana::for_each_bin(axis, x[i], [&](std::int64_t b, double k, double dk) {
      const double* row = ct + b * P;
      if (gw != nullptr) {
        for (std::int64_t p = 0; p < P; ++p)
          gw[p] += k * row[p];
      }
      const double a = diffana::detail::saturate(wi * dk); // as the fill's w dk/dx
      if (gx != nullptr && a != 0.0) {
        for (std::int64_t p = 0; p < P; ++p)
          gx[p] += a * row[p];
      }
    });
  }
}

} // namespace

extern "C" int diffana_cuda_hist_fill_1d_vjp_ex_f64(const double* x, const double* w,
                                                    const double* ct, int64_t n,
                                                    int64_t P, const double* edges,
                                                    int64_t nbins, double bandwidth,
                                                    int overflow, double* ct_x,
                                                    double* ct_w, void* stream) {
  using namespace diffana::cuda_detail;
  const auto s = static_cast<cudaStream_t>(stream);
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  std::vector<double> host_edges(static_cast<std::size_t>(nbins) + 1);
  if (const int st = copy_edges(edges, nbins, host_edges.data(), s); st != DIFFANA_OK)
    return st;
  if (!(bandwidth >= 0.0) || !std::isfinite(bandwidth)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (n == 0 || P == 0 || (ct_x == nullptr && ct_w == nullptr)) return DIFFANA_OK;
  if (x == nullptr || ct == nullptr) return DIFFANA_ERR_ARGUMENT;

  diffana::BinAxis<double> axis = diffana::make_bin_axis(
      host_edges.data(), nbins, bandwidth, static_cast<diffana::Overflow>(overflow));
  axis.edges = edges;
  const std::int64_t blocks = ceil_div(n, fill_block);
  const int grid = static_cast<int>(blocks < 65535 ? blocks : 65535);
  hist_fill_1d_vjp_kernel<<<grid, fill_block, 0, s>>>(axis, x, w, ct, n, P, ct_x, ct_w);
  return cudaGetLastError() == cudaSuccess ? DIFFANA_OK : DIFFANA_ERR_DEVICE;
}

extern "C" int diffana_cuda_hist_fill_1d_vjp_f64(const double* x, const double* w,
                                                 const double* ct, int64_t n, int64_t P,
                                                 const double* edges, int64_t nbins,
                                                 double bandwidth, int overflow,
                                                 double* ct_x, double* ct_w) {
  const int status = diffana_cuda_hist_fill_1d_vjp_ex_f64(
      x, w, ct, n, P, edges, nbins, bandwidth, overflow, ct_x, ct_w, nullptr);
  return diffana::cuda_detail::finish(status, nullptr, true);
}
