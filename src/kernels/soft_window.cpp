// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_soft_window_f64: element-wise soft window lo < x < hi and its partials.
/// The maths is soft_window_partials in diffana/soft/cuts.hpp; this file only
/// validates the arguments and loops.
#include "diffana/kernels.h"
#include "diffana/soft/cuts.hpp"

#include <cmath>
#include <cstdint>

extern "C" int diffana_soft_window_f64(const double* x, const double* lo,
                                       const double* hi, const double* slope, int64_t n,
                                       double* value, double* d_x, double* d_lo,
                                       double* d_hi, double* d_slope) {
  if (n < 0) return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;
  if (!x || !lo || !hi || !slope || !value) return DIFFANA_ERR_ARGUMENT;
  for (int64_t i = 0; i < n; ++i) {
    // Checked in the loop (not in a pass of its own): on error the outputs hold
    // partial results, which the caller discards.
    if (!std::isfinite(lo[i]) || !std::isfinite(hi[i]) || !std::isfinite(slope[i]))
      return DIFFANA_ERR_ARGUMENT;
    const auto p = diffana::soft_window_partials(x[i], lo[i], hi[i], slope[i]);
    value[i] = p.value;
    if (d_x) d_x[i] = p.d_x;
    if (d_lo) d_lo[i] = p.d_lo;
    if (d_hi) d_hi[i] = p.d_hi;
    if (d_slope) d_slope[i] = p.d_slope;
  }
  return DIFFANA_OK;
}
