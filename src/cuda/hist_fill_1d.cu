// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_cuda_hist_fill_1d_f64 and _ex: the 1D histogram kernel on a CUDA device,
/// the twin of src/kernels/hist_fill_1d.cpp (same arguments in the same order; every
/// array pointer is a device pointer). The per-event maths is
/// diffana::detail::fill_event_1d_hard / _soft from diffana/hist/soft_binning.hpp,
/// compiled here for the device; how the contributions are accumulated (block-private
/// histograms, the deterministic variant, global atomics) is src/cuda/private_hist.cuh.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include "private_hist.cuh"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

using diffana::detail::HistBuffers;

/// Kinds of 1D event: hard binning, soft without phi (no x tangents, no edge terms),
/// soft with phi. One kernel per kind keeps the register count of each down.
enum Kind1D { hard_1d, soft_1d, soft_pdf_1d };

template <int Kind> struct Event1D {
  diffana::BinAxis<double> axis;
  const double* x;
  const double* x_tan; ///< null: constant x (and always with hard binning)
  const double* w;     ///< null: all 1
  const double* w_tan; ///< null: constant w
  std::int64_t P;

  template <class Add>
  __device__ bool operator()(std::int64_t i, const HistBuffers<double>& out,
                             const Add& add) const {
    const double wi = w != nullptr ? w[i] : 1.0;
    const double* wt = w_tan != nullptr ? w_tan + i * P : nullptr;
    if constexpr (Kind == hard_1d) {
      return diffana::detail::fill_event_1d_hard(axis, x[i], wi, wt, P, out, add);
    } else {
      const double* xt = x_tan != nullptr ? x_tan + i * P : nullptr;
      return diffana::detail::fill_event_1d_soft<Kind == soft_pdf_1d>(
          axis, x[i], xt, wi, wt, P, out, add);
    }
  }
};

} // namespace

extern "C" int diffana_cuda_hist_fill_1d_ex_f64(
    const double* x, const double* x_tan, const double* w, const double* w_tan,
    int64_t n, int64_t P, const double* edges, int64_t nbins, double bandwidth,
    int overflow, double* values, double* sumw2, double* jac, double* sumw2_jac,
    int64_t* n_skipped, double* edge_density, double* edge_moment, int mode,
    void* stream) {
  using namespace diffana::cuda_detail;
  const auto s = static_cast<cudaStream_t>(stream);
  // The same checks, in the same order, as the CPU twin; then the mode.
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  std::vector<double> host_edges(static_cast<std::size_t>(nbins) + 1);
  if (const int st = copy_edges(edges, nbins, host_edges.data(), s); st != DIFFANA_OK)
    return st;
  if (!(bandwidth >= 0.0) || !std::isfinite(bandwidth)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (values == nullptr || (n > 0 && x == nullptr)) return DIFFANA_ERR_ARGUMENT;
  if (mode != DIFFANA_CUDA_FILL_PRIVATE && mode != DIFFANA_CUDA_FILL_DETERMINISTIC &&
      mode != DIFFANA_CUDA_FILL_ATOMIC)
    return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;

  // Uniform-spacing detection on the host copy; the kernel reads the device edges.
  diffana::BinAxis<double> axis = diffana::make_bin_axis(
      host_edges.data(), nbins, bandwidth, static_cast<diffana::Overflow>(overflow));
  axis.edges = edges;

  HistBuffers<double> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = P > 0 ? jac : nullptr;
  out.sumw2_jac = P > 0 ? sumw2_jac : nullptr;
  if (bandwidth > 0.0) {
    out.edge_density = edge_density;
    out.edge_moment = edge_moment;
  }
  // Tangents only matter with P > 0; x tangents only with soft binning.
  const double* wt = P > 0 ? w_tan : nullptr;
  const double* xt = (bandwidth > 0.0 && P > 0) ? x_tan : nullptr;
  auto* skipped = reinterpret_cast<long long*>(n_skipped);
  if (bandwidth == 0.0) {
    return launch_fill(Event1D<hard_1d>{axis, x, nullptr, w, wt, P}, n, out, nbins, P,
                       skipped, mode, s);
  }
  if (xt != nullptr || out.edge_density != nullptr || out.edge_moment != nullptr) {
    return launch_fill(Event1D<soft_pdf_1d>{axis, x, xt, w, wt, P}, n, out, nbins, P,
                       skipped, mode, s);
  }
  return launch_fill(Event1D<soft_1d>{axis, x, xt, w, wt, P}, n, out, nbins, P, skipped,
                     mode, s);
}

extern "C" int diffana_cuda_hist_fill_1d_f64(
    const double* x, const double* x_tan, const double* w, const double* w_tan,
    int64_t n, int64_t P, const double* edges, int64_t nbins, double bandwidth,
    int overflow, double* values, double* sumw2, double* jac, double* sumw2_jac,
    int64_t* n_skipped, double* edge_density, double* edge_moment) {
  const int status = diffana_cuda_hist_fill_1d_ex_f64(
      x, x_tan, w, w_tan, n, P, edges, nbins, bandwidth, overflow, values, sumw2, jac,
      sumw2_jac, n_skipped, edge_density, edge_moment, DIFFANA_CUDA_FILL_PRIVATE,
      nullptr);
  return diffana::cuda_detail::finish(status, nullptr, true);
}
