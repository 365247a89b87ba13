// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_cuda_hist_fill_1d_f64: the 1D histogram kernel on a CUDA device, the twin
/// of src/kernels/hist_fill_1d.cpp (same argument order; every array pointer is a
/// device pointer). One thread per event (grid-stride loop); contributions go into
/// the outputs with atomicAdd. The per-event maths is diffana::detail::fill_event_1d
/// from diffana/hist/soft_binning.hpp, compiled here for the device: this file holds
/// only the launch.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

/// out += v, atomically on the device (the host branch only keeps the functor
/// usable from DIFFANA_HOST_DEVICE templates).
struct AtomicAdd {
  __host__ __device__ void operator()(double* p, double v) const {
#if defined(__CUDA_ARCH__)
    atomicAdd(p, v);
#else
    *p += v;
#endif
  }
};

__global__ void hist_fill_1d_kernel(diffana::BinAxis<double> axis, const double* x,
                                    const double* x_tan, const double* w,
                                    const double* w_tan, std::int64_t n, std::int64_t P,
                                    diffana::detail::HistBuffers<double> out,
                                    long long* n_skipped) {
  const AtomicAdd add;
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const bool ok = diffana::detail::fill_event_1d(
        axis, x[i], x_tan != nullptr ? x_tan + i * P : nullptr,
        w != nullptr ? w[i] : 1.0, w_tan != nullptr ? w_tan + i * P : nullptr, P, out,
        add);
    if (!ok && n_skipped != nullptr)
      atomicAdd(reinterpret_cast<unsigned long long*>(n_skipped), 1ULL);
  }
}

} // namespace

extern "C" int diffana_cuda_hist_fill_1d_f64(
    const double* x, const double* x_tan, const double* w, const double* w_tan,
    int64_t n, int64_t P, const double* edges, int64_t nbins, double bandwidth,
    int overflow, double* values, double* sumw2, double* jac, double* sumw2_jac,
    int64_t* n_skipped, double* edge_density, double* edge_moment) {
  // The same checks, in the same order, as the CPU twin.
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  std::vector<double> host_edges(static_cast<std::size_t>(nbins) + 1);
  if (cudaMemcpy(host_edges.data(), edges, host_edges.size() * sizeof(double),
                 cudaMemcpyDeviceToHost) != cudaSuccess)
    return DIFFANA_ERR_DEVICE;
  if (diffana::first_bad_edge(host_edges.data(), nbins + 1) >= 0)
    return DIFFANA_ERR_EDGES;
  if (!(bandwidth >= 0.0) || !std::isfinite(bandwidth)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (values == nullptr || (n > 0 && x == nullptr)) return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;

  // Uniform-spacing detection on the host copy; the kernel reads the device edges.
  diffana::BinAxis<double> axis = diffana::make_bin_axis(
      host_edges.data(), nbins, bandwidth, static_cast<diffana::Overflow>(overflow));
  axis.edges = edges;

  diffana::detail::HistBuffers<double> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = P > 0 ? jac : nullptr;
  out.sumw2_jac = P > 0 ? sumw2_jac : nullptr;
  if (bandwidth > 0.0) {
    out.edge_density = edge_density;
    out.edge_moment = edge_moment;
  }
  const double* xt = (bandwidth > 0.0 && P > 0) ? x_tan : nullptr;
  const double* wt = P > 0 ? w_tan : nullptr;

  const int block = 256;
  const std::int64_t blocks_needed = (n + block - 1) / block;
  const int grid = static_cast<int>(blocks_needed < 65535 ? blocks_needed : 65535);
  hist_fill_1d_kernel<<<grid, block>>>(axis, x, xt, w, wt, n, P, out,
                                       reinterpret_cast<long long*>(n_skipped));
  if (cudaGetLastError() != cudaSuccess) return DIFFANA_ERR_DEVICE;
  if (cudaDeviceSynchronize() != cudaSuccess) return DIFFANA_ERR_DEVICE;
  return DIFFANA_OK;
}
