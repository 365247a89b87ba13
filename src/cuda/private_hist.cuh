// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The launch machinery of the CUDA histogram fills (src/cuda/hist_fill_1d.cu,
/// hist_fill_2d.cu): block-private histograms, a deterministic variant, and the
/// one-thread-per-event global-atomic kernel that both fall back to. The per-event
/// maths is not here: each fill passes an event functor that calls the shared
/// DIFFANA_HOST_DEVICE code of diffana/hist/soft_binning.hpp (fill_event_1d_*,
/// fill_event_2d) with a diffana::detail::HistBuffers pointing wherever this file
/// wants the contributions to go.
///
/// Why: every event of a histogram adds into the same few hundred doubles, so a fill
/// that atomicAdds each contribution into global memory is bound by atomic
/// contention in L2 (0.2 % of the H200's memory bandwidth). Here each block
/// accumulates into its own copy of the histogram in shared memory (several copies
/// per block, one per group of warps, so that fewer lanes collide on an address) and
/// merges it into the outputs once, with one global atomicAdd per output element.
///
/// Modes (include/diffana/kernels.h, DIFFANA_CUDA_FILL_*):
///   private        shared-memory atomics, one merge per block; the order of the
///                  floating-point additions depends on scheduling (results vary in
///                  the last bits from run to run, as with any atomic fill).
///   deterministic  each warp owns a private copy and its 32 lanes add their events
///                  in turn (lane 0 first), the copies of a block are summed in warp
///                  order into a per-block partial in global memory, and a second
///                  kernel sums the partials in block order. The grid depends on the
///                  number of events and the histogram size only (not on the device),
///                  so that the same inputs give bitwise the same sums on every run.
///                  When the copies do not fit in shared memory they live in global
///                  memory (one warp per block), with the same order.
///   atomic         one thread per event, atomicAdd into the outputs (the first
///                  kernel; also the private mode's fallback when a single copy of
///                  the histogram does not fit in shared memory).
#pragma once

#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace diffana::cuda_detail {

using diffana::detail::HistBuffers;

/// Threads per block of the fills (8 warps).
inline constexpr int fill_block = 256;
inline constexpr int warp_size = 32;
/// Shared memory a private fill uses without opting in to more (bytes).
inline constexpr std::int64_t default_shared = 48 * 1024;
/// Most blocks of a deterministic fill: the grid depends on n only, never on the
/// device, so that the sums are the same everywhere.
inline constexpr std::int64_t deterministic_grid = 1024;
/// Most doubles of global scratch a deterministic fill allocates (1 GiB).
inline constexpr std::int64_t deterministic_scratch = std::int64_t(1) << 27;
/// Shared memory a deterministic fill may use for its per-warp copies: a constant
/// (not the device's limit) so that the choice between shared and global copies, and
/// with it the order of the sums, is the same on every device; 96 KiB fits every
/// compute capability >= 8.0 (sm_86/89 have the least, 99 KiB).
inline constexpr std::int64_t deterministic_shared = 96 * 1024;

/// The outputs of a fill as six segments, in this order: values, sumw2, jac,
/// sumw2_jac, edge_density, edge_moment. A private copy of the histogram is the
/// concatenation of the segments that are present (null outputs take no room).
struct Layout {
  static constexpr int segments = 6;
  double* dst[segments] = {};      ///< the global outputs (null: not computed)
  std::int64_t off[segments] = {}; ///< offset of each segment in a private copy
  std::int64_t len[segments] = {}; ///< its length (0 when absent)
  std::int64_t size = 0;           ///< doubles per private copy

  /// The layout of out (device pointers), with nbins bins, P tangents and, for
  /// edge terms, n_edges = nbins + 1 edges.
  static Layout of(const HistBuffers<double>& out, std::int64_t nbins, std::int64_t P) {
    Layout L;
    double* ptrs[segments] = {out.values,    out.sumw2,        out.jac,
                              out.sumw2_jac, out.edge_density, out.edge_moment};
    const std::int64_t lens[segments] = {nbins,     nbins,     nbins * P,
                                         nbins * P, nbins + 1, nbins + 1};
    for (int s = 0; s < segments; ++s) {
      L.dst[s] = ptrs[s];
      L.off[s] = L.size;
      L.len[s] = ptrs[s] != nullptr ? lens[s] : 0;
      L.size += L.len[s];
    }
    return L;
  }

  /// The HistBuffers of a private copy starting at base.
  __device__ HistBuffers<double> view(double* base) const {
    HistBuffers<double> h;
    double* p[segments];
    for (int s = 0; s < segments; ++s)
      p[s] = len[s] > 0 ? base + off[s] : nullptr;
    h.values = p[0];
    h.sumw2 = p[1];
    h.jac = p[2];
    h.sumw2_jac = p[3];
    h.edge_density = p[4];
    h.edge_moment = p[5];
    return h;
  }

  /// The global output element that element e of a private copy belongs to.
  __device__ double* target(std::int64_t e) const {
    for (int s = 0; s < segments; ++s) {
      if (e < off[s] + len[s]) return dst[s] + (e - off[s]);
    }
    return nullptr; // e >= size: not reached
  }
};

/// *p += v with atomicAdd (shared or global memory alike: generic addressing).
struct DeviceAtomicAdd {
  __device__ void operator()(double* p, double v) const { atomicAdd(p, v); }
};

/// The sum of v over the lanes of a full warp (shuffle tree; integers, so exact).
__device__ inline unsigned long long warp_sum(unsigned long long v) {
  for (int o = warp_size / 2; o > 0; o /= 2)
    v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

/// Adds this warp's skipped-event count to *n_skipped (one atomic per warp). Every
/// lane of the warp must call it.
__device__ inline void add_skipped(unsigned long long skipped, long long* n_skipped) {
  skipped = warp_sum(skipped);
  if (n_skipped != nullptr && (threadIdx.x % warp_size) == 0 && skipped != 0)
    atomicAdd(reinterpret_cast<unsigned long long*>(n_skipped), skipped);
}

/// One thread per event (grid-stride), every contribution atomicAdd-ed into the
/// global outputs.
template <class Event>
__global__ void atomic_fill_kernel(Event ev, std::int64_t n, HistBuffers<double> out,
                                   long long* n_skipped) {
  const DeviceAtomicAdd add;
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  unsigned long long skipped = 0;
  // The loop runs to the end of the last chunk so that every lane of a warp reaches
  // add_skipped (its shuffles need the full warp).
  const std::int64_t first = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (std::int64_t i = first; i - threadIdx.x % warp_size < n; i += stride) {
    if (i < n) skipped += ev(i, out, add) ? 0 : 1;
  }
  add_skipped(skipped, n_skipped);
}

/// The block-private fill: `copies` private copies of the histogram per block, at
/// scratch + blockIdx.x * copies * L.size in global memory, or in dynamic shared
/// memory when scratch is null. Warp w adds into copy w % copies.
///   Deterministic = false: events by grid-stride, atomicAdd into the copy; the block
///     merges its copies into the outputs with one atomicAdd per element.
///   Deterministic = true (copies = warps per block): warps take chunks of 32 events
///     in a fixed order and the lanes add theirs in turn (one lane at a time); the
///     block writes the sum of its copies (in warp order) to partials[blockIdx.x].
template <bool Deterministic, class Event>
__global__ void private_fill_kernel(Event ev, std::int64_t n, Layout L, int copies,
                                    double* scratch, double* partials,
                                    long long* n_skipped) {
  extern __shared__ double shared_hist[];
  double* priv = scratch != nullptr
                     ? scratch + std::int64_t(blockIdx.x) * copies * L.size
                     : shared_hist;
  const std::int64_t total = std::int64_t(copies) * L.size;
  for (std::int64_t e = threadIdx.x; e < total; e += blockDim.x)
    priv[e] = 0.0;
  __syncthreads();

  const int warp = static_cast<int>(threadIdx.x) / warp_size;
  const int lane = static_cast<int>(threadIdx.x) % warp_size;
  const HistBuffers<double> out = L.view(priv + std::int64_t(warp % copies) * L.size);
  unsigned long long skipped = 0;
  if constexpr (Deterministic) {
    // One lane adds at a time, so atomicAdd is as ordered as a plain addition here;
    // it is used anyway so that the event's maths is compiled for one Add type only
    // (the 2D fill's is large enough that ptxas time matters).
    const DeviceAtomicAdd add;
    const std::int64_t warps = blockDim.x / warp_size;
    const std::int64_t chunk_stride = std::int64_t(gridDim.x) * warps * warp_size;
    // Uniform across the warp (base does not depend on the lane): __syncwarp is safe.
    for (std::int64_t base = (std::int64_t(blockIdx.x) * warps + warp) * warp_size;
         base < n; base += chunk_stride) {
      const std::int64_t i = base + lane;
      // Not unrolled: 32 inlined copies of the event's maths would only cost compile
      // time (one lane works per turn).
#pragma unroll 1
      for (int l = 0; l < warp_size; ++l) {
        if (lane == l && i < n) skipped += ev(i, out, add) ? 0 : 1;
        __syncwarp();
      }
    }
  } else {
    const DeviceAtomicAdd add;
    const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
    const std::int64_t first = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    for (std::int64_t i = first; i - lane < n; i += stride) {
      if (i < n) skipped += ev(i, out, add) ? 0 : 1;
    }
  }
  add_skipped(skipped, n_skipped);
  __syncthreads();

  for (std::int64_t e = threadIdx.x; e < L.size; e += blockDim.x) {
    double s = priv[e];
    for (int c = 1; c < copies; ++c)
      s += priv[std::int64_t(c) * L.size + e];
    if constexpr (Deterministic) {
      partials[std::int64_t(blockIdx.x) * L.size + e] = s;
    } else if (s != 0.0) {
      atomicAdd(L.target(e), s);
    }
  }
}

/// outputs += the sum of the per-block partials[nblocks][L.size], in block order
/// (static: this header is included by several translation units).
static __global__ void reduce_partials_kernel(const double* partials,
                                              std::int64_t nblocks, Layout L) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t e = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < L.size;
       e += stride) {
    double s = 0.0;
    for (std::int64_t b = 0; b < nblocks; ++b)
      s += partials[b * L.size + e];
    *L.target(e) += s;
  }
}

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

/// Launches the fill of n events in the given mode on stream (asynchronously).
/// Returns DIFFANA_OK, or DIFFANA_ERR_DEVICE when a CUDA call fails;
/// DIFFANA_ERR_ARGUMENT for an unknown mode.
template <class Event>
int launch_fill(const Event& ev, std::int64_t n, const HistBuffers<double>& out,
                std::int64_t nbins, std::int64_t P, long long* n_skipped, int mode,
                cudaStream_t stream) {
  if (n == 0) return DIFFANA_OK;
  const Layout L = Layout::of(out, nbins, P);
  const std::int64_t bytes = L.size * std::int64_t(sizeof(double));
  int device = 0;
  int sms = 0;
  int optin = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) !=
          cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) !=
          cudaSuccess)
    return DIFFANA_ERR_DEVICE;
  const int warps = fill_block / warp_size;

  auto launch_atomic = [&]() {
    const std::int64_t blocks = ceil_div(n, fill_block);
    const int grid = static_cast<int>(blocks < 65535 ? blocks : 65535);
    atomic_fill_kernel<<<grid, fill_block, 0, stream>>>(ev, n, out, n_skipped);
    return cudaGetLastError() == cudaSuccess ? DIFFANA_OK : DIFFANA_ERR_DEVICE;
  };

  if (mode == DIFFANA_CUDA_FILL_ATOMIC) return launch_atomic();

  if (mode == DIFFANA_CUDA_FILL_PRIVATE) {
    if (bytes > optin) return launch_atomic(); // not even one copy fits
    const std::int64_t budget = bytes <= default_shared ? default_shared : bytes;
    const int copies =
        static_cast<int>(budget / bytes < warps ? budget / bytes : warps);
    const std::int64_t smem = copies * bytes;
    auto kernel = private_fill_kernel<false, Event>;
    if (smem > default_shared &&
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(smem)) != cudaSuccess)
      return DIFFANA_ERR_DEVICE;
    int per_sm = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm, kernel, fill_block, static_cast<std::size_t>(smem)) != cudaSuccess)
      return DIFFANA_ERR_DEVICE;
    const std::int64_t resident = std::int64_t(sms) * (per_sm > 0 ? per_sm : 1);
    const std::int64_t needed = ceil_div(n, fill_block);
    const int grid = static_cast<int>(needed < resident ? needed : resident);
    kernel<<<grid, fill_block, static_cast<std::size_t>(smem), stream>>>(
        ev, n, L, copies, nullptr, nullptr, n_skipped);
    return cudaGetLastError() == cudaSuccess ? DIFFANA_OK : DIFFANA_ERR_DEVICE;
  }

  if (mode != DIFFANA_CUDA_FILL_DETERMINISTIC) return DIFFANA_ERR_ARGUMENT;
  // One copy per warp in shared memory when they fit, else in global scratch with
  // one warp per block. The grid depends on n and the histogram size only.
  if (deterministic_shared > optin) return DIFFANA_ERR_DEVICE; // before sm_80
  const bool in_shared = warps * bytes <= deterministic_shared;
  const int block = in_shared ? fill_block : warp_size;
  const int copies = in_shared ? warps : 1;
  std::int64_t grid = ceil_div(n, block);
  if (grid > deterministic_grid) grid = deterministic_grid;
  // Global memory: the partials (and the scratch copies) within deterministic_scratch.
  const std::int64_t per_block = L.size * (in_shared ? 1 : 2);
  const std::int64_t fit = deterministic_scratch / (per_block > 0 ? per_block : 1);
  if (grid > fit) grid = fit > 0 ? fit : 1;
  const std::int64_t smem = in_shared ? copies * bytes : 0;
  auto kernel = private_fill_kernel<true, Event>;
  if (smem > default_shared &&
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(smem)) != cudaSuccess)
    return DIFFANA_ERR_DEVICE;
  double* partials = nullptr;
  const std::size_t scratch_doubles =
      static_cast<std::size_t>(grid * L.size * (in_shared ? 1 : 2));
  if (cudaMallocAsync(reinterpret_cast<void**>(&partials),
                      scratch_doubles * sizeof(double), stream) != cudaSuccess)
    return DIFFANA_ERR_DEVICE;
  double* scratch = in_shared ? nullptr : partials + grid * L.size;
  kernel<<<static_cast<int>(grid), block, static_cast<std::size_t>(smem), stream>>>(
      ev, n, L, copies, scratch, partials, n_skipped);
  int status = cudaGetLastError() == cudaSuccess ? DIFFANA_OK : DIFFANA_ERR_DEVICE;
  if (status == DIFFANA_OK) {
    const std::int64_t rblocks = ceil_div(L.size, fill_block);
    reduce_partials_kernel<<<static_cast<int>(rblocks < 4096 ? rblocks : 4096),
                             fill_block, 0, stream>>>(partials, grid, L);
    if (cudaGetLastError() != cudaSuccess) status = DIFFANA_ERR_DEVICE;
  }
  if (cudaFreeAsync(partials, stream) != cudaSuccess) status = DIFFANA_ERR_DEVICE;
  return status;
}

/// Validated host copy of nbins + 1 device edges: DIFFANA_OK, DIFFANA_ERR_EDGES, or
/// DIFFANA_ERR_DEVICE when the copy fails. host must hold nbins + 1 doubles.
inline int copy_edges(const double* edges, std::int64_t nbins, double* host,
                      cudaStream_t stream) {
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  const std::size_t bytes = static_cast<std::size_t>(nbins + 1) * sizeof(double);
  if (cudaMemcpyAsync(host, edges, bytes, cudaMemcpyDeviceToHost, stream) !=
          cudaSuccess ||
      cudaStreamSynchronize(stream) != cudaSuccess)
    return DIFFANA_ERR_DEVICE;
  return diffana::first_bad_edge(host, nbins + 1) >= 0 ? DIFFANA_ERR_EDGES : DIFFANA_OK;
}

/// The end of a synchronous entry point: waits for stream when sync is set.
inline int finish(int status, cudaStream_t stream, bool sync) {
  if (status != DIFFANA_OK || !sync) return status;
  return cudaStreamSynchronize(stream) == cudaSuccess ? DIFFANA_OK : DIFFANA_ERR_DEVICE;
}

} // namespace diffana::cuda_detail
