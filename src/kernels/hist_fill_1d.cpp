// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_hist_fill_1d_f64: a 1D histogram with Jacobians from arrays, any number of
/// parameters P at run time (arguments: include/diffana/kernels.h, ARCHITECTURE.md;
/// semantics: python/diffana/_reference.py). The per-event maths is
/// diffana::detail::fill_event_1d (diffana/hist/soft_binning.hpp), shared with
/// GradHist1D and the CUDA kernel.
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"

#include <cmath>
#include <cstdint>

namespace {

using diffana::BinAxis;
using diffana::detail::HistBuffers;

/// The event loops, one per kind of binning and per presence of weights, so that the
/// per-event call is small enough to inline and the unweighted hard fill (the
/// numpy.histogram comparison) has no per-event tests beyond the event's own.
template <bool HasW>
std::int64_t fill_hard(const BinAxis<double>& axis, const double* x, const double* w,
                       const double* w_tan, std::int64_t n, std::int64_t P,
                       const HistBuffers<double>& out) {
  const diffana::detail::PlainAdd add;
  std::int64_t skipped = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool ok = diffana::detail::fill_event_1d_hard(
        axis, x[i], HasW ? w[i] : 1.0, w_tan != nullptr ? w_tan + i * P : nullptr, P,
        out, add);
    skipped += ok ? 0 : 1;
  }
  return skipped;
}

template <bool NeedPdf, bool HasW>
std::int64_t fill_soft(const BinAxis<double>& axis, const double* x,
                       const double* x_tan, const double* w, const double* w_tan,
                       std::int64_t n, std::int64_t P, const HistBuffers<double>& out) {
  const diffana::detail::PlainAdd add;
  std::int64_t skipped = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool ok = diffana::detail::fill_event_1d_soft<NeedPdf>(
        axis, x[i], x_tan != nullptr ? x_tan + i * P : nullptr, HasW ? w[i] : 1.0,
        w_tan != nullptr ? w_tan + i * P : nullptr, P, out, add);
    skipped += ok ? 0 : 1;
  }
  return skipped;
}

} // namespace

extern "C" int diffana_hist_fill_1d_f64(const double* x, const double* x_tan,
                                        const double* w, const double* w_tan, int64_t n,
                                        int64_t P, const double* edges, int64_t nbins,
                                        double bandwidth, int overflow, double* values,
                                        double* sumw2, double* jac, double* sumw2_jac,
                                        int64_t* n_skipped, double* edge_density,
                                        double* edge_moment) {
  if (n < 0 || P < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins < 1 || edges == nullptr) return DIFFANA_ERR_EDGES;
  if (diffana::first_bad_edge(edges, nbins + 1) >= 0) return DIFFANA_ERR_EDGES;
  if (!(bandwidth >= 0.0) || !std::isfinite(bandwidth)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (values == nullptr || (n > 0 && x == nullptr)) return DIFFANA_ERR_ARGUMENT;

  const BinAxis<double> axis = diffana::make_bin_axis(
      edges, nbins, bandwidth, static_cast<diffana::Overflow>(overflow));
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
  std::int64_t skipped = 0;
  if (bandwidth == 0.0) {
    skipped = w != nullptr ? fill_hard<true>(axis, x, w, wt, n, P, out)
                           : fill_hard<false>(axis, x, w, wt, n, P, out);
  } else if (xt != nullptr || out.edge_density != nullptr ||
             out.edge_moment != nullptr) {
    skipped = w != nullptr ? fill_soft<true, true>(axis, x, xt, w, wt, n, P, out)
                           : fill_soft<true, false>(axis, x, xt, w, wt, n, P, out);
  } else {
    skipped = w != nullptr ? fill_soft<false, true>(axis, x, xt, w, wt, n, P, out)
                           : fill_soft<false, false>(axis, x, xt, w, wt, n, P, out);
  }
  if (n_skipped != nullptr) *n_skipped += skipped;
  return DIFFANA_OK;
}
