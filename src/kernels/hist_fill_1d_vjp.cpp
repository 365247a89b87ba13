// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_hist_fill_1d_vjp_f64: the reverse-mode (VJP) gather of a 1D histogram, the
/// transpose of diffana_hist_fill_1d_f64's tangent map with respect to the events
/// (arguments: include/diffana/kernels.h; semantics:
/// python/diffana/_reference/hist.py). The per-event maths is diffana::for_each_bin
/// (diffana/hist/soft_binning.hpp), the same bin weights k_b and dk_b/dx as the fill,
/// so that the gather is the exact transpose of the fill; this file only validates the
/// arguments and loops.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include <cmath>
#include <cstdint>

extern "C" int diffana_hist_fill_1d_vjp_f64(const double* x, const double* w,
                                            const double* ct, int64_t n, int64_t P,
                                            const double* edges, int64_t nbins,
                                            double bandwidth, int overflow,
                                            double* ct_x, double* ct_w) {
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  if (diffana::first_bad_edge(edges, nbins + 1) >= 0) return DIFFANA_ERR_EDGES;
  if (!(bandwidth >= 0.0) || !std::isfinite(bandwidth)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (n == 0 || P == 0 || (ct_x == nullptr && ct_w == nullptr)) return DIFFANA_OK;
  if (x == nullptr || ct == nullptr) return DIFFANA_ERR_ARGUMENT;

  const diffana::BinAxis<double> axis = diffana::make_bin_axis(
      edges, nbins, bandwidth, static_cast<diffana::Overflow>(overflow));
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w != nullptr ? w[i] : 1.0;
    // The fill skips these events (NaN x, non-finite weight): zero cotangent.
    if (diffana::detail::skip_event(x[i], wi)) continue;
    double* gx = ct_x != nullptr ? ct_x + i * P : nullptr;
    double* gw = ct_w != nullptr ? ct_w + i * P : nullptr;
    diffana::for_each_bin(axis, x[i], [&](int64_t b, double k, double dk) {
      const double* row = ct + b * P;
      if (gw != nullptr) {
        for (int64_t p = 0; p < P; ++p)
          gw[p] += k * row[p];
      }
      const double a = diffana::detail::saturate(wi * dk); // as the fill's w dk/dx
      if (gx != nullptr && a != 0.0) {
        for (int64_t p = 0; p < P; ++p)
          gx[p] += a * row[p];
      }
    });
  }
  return DIFFANA_OK;
}
