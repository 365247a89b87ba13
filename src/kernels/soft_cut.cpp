// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_soft_cut_f64: element-wise soft cut (relaxed.cut) and its partials.
/// The maths is soft_cut_partials / soft_cut_below_partials in diffana/soft/cuts.hpp;
/// this file only validates the arguments and loops.
#include "diffana/kernels.h"
#include "diffana/soft/cuts.hpp"

#include <cmath>
#include <cstdint>

namespace {

template <bool KeepAbove>
int soft_cut_loop(const double* x, const double* cut, const double* slope, int64_t n,
                  double* value, double* d_x, double* d_cut, double* d_slope) {
  for (int64_t i = 0; i < n; ++i) {
    // Checked in the loop (not in a pass of its own): on error the outputs hold
    // partial results, which the caller discards.
    if (!std::isfinite(cut[i]) || !std::isfinite(slope[i])) return DIFFANA_ERR_ARGUMENT;
    const auto p = KeepAbove ? diffana::soft_cut_partials(x[i], cut[i], slope[i])
                             : diffana::soft_cut_below_partials(x[i], cut[i], slope[i]);
    value[i] = p.value;
    if (d_x) d_x[i] = p.d_x;
    if (d_cut) d_cut[i] = p.d_cut;
    if (d_slope) d_slope[i] = p.d_slope;
  }
  return DIFFANA_OK;
}

} // namespace

extern "C" int diffana_soft_cut_f64(const double* x, const double* cut,
                                    const double* slope, int64_t n, int keep_above,
                                    double* value, double* d_x, double* d_cut,
                                    double* d_slope) {
  if (n < 0 || (keep_above != 0 && keep_above != 1)) return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;
  if (!x || !cut || !slope || !value) return DIFFANA_ERR_ARGUMENT;
  return keep_above
             ? soft_cut_loop<true>(x, cut, slope, n, value, d_x, d_cut, d_slope)
             : soft_cut_loop<false>(x, cut, slope, n, value, d_x, d_cut, d_slope);
}
