// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_hist_fill_2d_f64: a 2D histogram (row-major bins ix * ny + iy) with
/// Jacobians, any number of parameters P at run time (arguments:
/// include/diffana/kernels.h; semantics: python/diffana/_reference/hist.py). The
/// per-event maths is diffana::detail::fill_event_2d (diffana/hist/soft_binning.hpp),
/// shared with GradHist2D.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include <cmath>
#include <cstdint>

namespace {

bool bad_edges(const double* edges, std::int64_t nbins) {
  return nbins < 1 || edges == nullptr ||
         diffana::first_bad_edge(edges, nbins + 1) >= 0;
}

bool bad_bandwidth(double h) {
  return !(h >= 0.0) || !std::isfinite(h);
}

} // namespace

extern "C" int
diffana_hist_fill_2d_f64(const double* x, const double* x_tan, const double* y,
                         const double* y_tan, const double* w, const double* w_tan,
                         int64_t n, int64_t P, const double* xedges, int64_t nx,
                         const double* yedges, int64_t ny, double xbandwidth,
                         double ybandwidth, int overflow, double* values, double* sumw2,
                         double* jac, double* sumw2_jac, int64_t* n_skipped) {
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  // Edges of both axes first, then both bandwidths, as in the argument order.
  if (bad_edges(xedges, nx) || bad_edges(yedges, ny)) return DIFFANA_ERR_EDGES;
  if (bad_bandwidth(xbandwidth) || bad_bandwidth(ybandwidth))
    return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (values == nullptr || (n > 0 && (x == nullptr || y == nullptr)))
    return DIFFANA_ERR_ARGUMENT;

  const auto policy = static_cast<diffana::Overflow>(overflow);
  const auto ax = diffana::make_bin_axis(xedges, nx, xbandwidth, policy);
  const auto ay = diffana::make_bin_axis(yedges, ny, ybandwidth, policy);
  diffana::detail::HistBuffers<double> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = P > 0 ? jac : nullptr;
  out.sumw2_jac = P > 0 ? sumw2_jac : nullptr;
  const double* xt = P > 0 ? x_tan : nullptr;
  const double* yt = P > 0 ? y_tan : nullptr;
  const double* wt = P > 0 ? w_tan : nullptr;
  const diffana::detail::PlainAdd add;
  std::int64_t skipped = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool ok = diffana::detail::fill_event_2d(
        ax, ay, x[i], xt != nullptr ? xt + i * P : nullptr, y[i],
        yt != nullptr ? yt + i * P : nullptr, w != nullptr ? w[i] : 1.0,
        wt != nullptr ? wt + i * P : nullptr, P, out, add);
    skipped += ok ? 0 : 1;
  }
  if (n_skipped != nullptr) *n_skipped += skipped;
  return DIFFANA_OK;
}
