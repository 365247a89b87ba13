// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_cuda_soft_cut_f64 and diffana_cuda_soft_window_f64: the element-wise relaxed
/// ops on a CUDA device, twins of src/kernels/soft_cut.cpp and soft_window.cpp (same
/// arguments plus a stream; every array pointer is a device pointer). The maths is
/// diffana::soft_cut_partials / soft_cut_below_partials / soft_window_partials
/// (diffana/soft/cuts.hpp, shared with the CPU). A NaN or infinite parameter element
/// is flagged on the device; the function waits for the stream to read the flag, so
/// that it can return DIFFANA_ERR_ARGUMENT as the CPU twin does.
#include "diffana/kernels.h"
#include "diffana/soft/cuts.hpp"

#include "private_hist.cuh"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace {

template <bool KeepAbove>
__global__ void soft_cut_kernel(const double* x, const double* cut, const double* slope,
                                std::int64_t n, double* value, double* d_x,
                                double* d_cut, double* d_slope, int* bad) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    if (!isfinite(cut[i]) || !isfinite(slope[i])) {
      *bad = 1;
      continue;
    }
    const auto p = KeepAbove ? diffana::soft_cut_partials(x[i], cut[i], slope[i])
                             : diffana::soft_cut_below_partials(x[i], cut[i], slope[i]);
    value[i] = p.value;
    if (d_x != nullptr) d_x[i] = p.d_x;
    if (d_cut != nullptr) d_cut[i] = p.d_cut;
    if (d_slope != nullptr) d_slope[i] = p.d_slope;
  }
}

__global__ void soft_window_kernel(const double* x, const double* lo, const double* hi,
                                   const double* slope, std::int64_t n, double* value,
                                   double* d_x, double* d_lo, double* d_hi,
                                   double* d_slope, int* bad) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    if (!isfinite(lo[i]) || !isfinite(hi[i]) || !isfinite(slope[i])) {
      *bad = 1;
      continue;
    }
    const auto p = diffana::soft_window_partials(x[i], lo[i], hi[i], slope[i]);
    value[i] = p.value;
    if (d_x != nullptr) d_x[i] = p.d_x;
    if (d_lo != nullptr) d_lo[i] = p.d_lo;
    if (d_hi != nullptr) d_hi[i] = p.d_hi;
    if (d_slope != nullptr) d_slope[i] = p.d_slope;
  }
}

/// Runs launch(grid, bad) with a zeroed device flag, waits for the stream and turns
/// a raised flag into DIFFANA_ERR_ARGUMENT.
template <class Launch>
int run_checked(std::int64_t n, cudaStream_t s, const Launch& launch) {
  using namespace diffana::cuda_detail;
  int* bad = nullptr;
  if (cudaMallocAsync(reinterpret_cast<void**>(&bad), sizeof(int), s) != cudaSuccess)
    return DIFFANA_ERR_DEVICE;
  int status = DIFFANA_OK;
  int host_bad = 0;
  const std::int64_t blocks = ceil_div(n, fill_block);
  if (cudaMemsetAsync(bad, 0, sizeof(int), s) != cudaSuccess) {
    status = DIFFANA_ERR_DEVICE;
  } else {
    launch(static_cast<int>(blocks < 65535 ? blocks : 65535), bad);
    if (cudaGetLastError() != cudaSuccess ||
        cudaMemcpyAsync(&host_bad, bad, sizeof(int), cudaMemcpyDeviceToHost, s) !=
            cudaSuccess)
      status = DIFFANA_ERR_DEVICE;
  }
  if (cudaFreeAsync(bad, s) != cudaSuccess) status = DIFFANA_ERR_DEVICE;
  if (cudaStreamSynchronize(s) != cudaSuccess) status = DIFFANA_ERR_DEVICE;
  if (status == DIFFANA_OK && host_bad != 0) status = DIFFANA_ERR_ARGUMENT;
  return status;
}

} // namespace

extern "C" int diffana_cuda_soft_cut_f64(const double* x, const double* cut,
                                         const double* slope, int64_t n, int keep_above,
                                         double* value, double* d_x, double* d_cut,
                                         double* d_slope, void* stream) {
  if (n < 0 || (keep_above != 0 && keep_above != 1)) return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;
  if (!x || !cut || !slope || !value) return DIFFANA_ERR_ARGUMENT;
  const auto s = static_cast<cudaStream_t>(stream);
  const int block = diffana::cuda_detail::fill_block;
  return run_checked(n, s, [&](int grid, int* bad) {
    if (keep_above != 0) {
      soft_cut_kernel<true>
          <<<grid, block, 0, s>>>(x, cut, slope, n, value, d_x, d_cut, d_slope, bad);
    } else {
      soft_cut_kernel<false>
          <<<grid, block, 0, s>>>(x, cut, slope, n, value, d_x, d_cut, d_slope, bad);
    }
  });
}

extern "C" int diffana_cuda_soft_window_f64(const double* x, const double* lo,
                                            const double* hi, const double* slope,
                                            int64_t n, double* value, double* d_x,
                                            double* d_lo, double* d_hi, double* d_slope,
                                            void* stream) {
  if (n < 0) return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;
  if (!x || !lo || !hi || !slope || !value) return DIFFANA_ERR_ARGUMENT;
  const auto s = static_cast<cudaStream_t>(stream);
  const int block = diffana::cuda_detail::fill_block;
  return run_checked(n, s, [&](int grid, int* bad) {
    soft_window_kernel<<<grid, block, 0, s>>>(x, lo, hi, slope, n, value, d_x, d_lo,
                                              d_hi, d_slope, bad);
  });
}
