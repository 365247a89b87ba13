// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_hist_fill_1d_f64: a 1D histogram with Jacobians from arrays, any number of
/// parameters P at run time (arguments: include/diffana/kernels.h, ARCHITECTURE.md;
/// semantics: python/diffana/_reference/hist.py). The per-event maths is
/// diffana::detail::fill_event_1d (diffana/hist/soft_binning.hpp), shared with
/// GradHist1D and the CUDA kernel. On x86-64 with GCC or Clang the soft fill without
/// edge terms also exists compiled for AVX2 and is picked at run time (bitwise the
/// same results; define DIFFANA_NO_ISA_DISPATCH to build without it).
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

/// The soft event loop for the kind of fill at hand (phi needed or not, weights or
/// not).
inline std::int64_t fill_soft_any(bool need_pdf, const BinAxis<double>& axis,
                                  const double* x, const double* x_tan, const double* w,
                                  const double* w_tan, std::int64_t n, std::int64_t P,
                                  const HistBuffers<double>& out) {
  if (need_pdf) {
    return w != nullptr ? fill_soft<true, true>(axis, x, x_tan, w, w_tan, n, P, out)
                        : fill_soft<true, false>(axis, x, x_tan, w, w_tan, n, P, out);
  }
  return w != nullptr ? fill_soft<false, true>(axis, x, x_tan, w, w_tan, n, P, out)
                      : fill_soft<false, false>(axis, x, x_tan, w, w_tan, n, P, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&                \
    !defined(DIFFANA_NO_ISA_DISPATCH)
#define DIFFANA_HIST_AVX2_DISPATCH 1
/// The soft event loop without edge terms (the fill that the Python API and the
/// benchmarks run) compiled for AVX2, with everything it calls inlined (flatten) so
/// that the per-edge loop of soft_binning.hpp runs on 4-wide vectors with hardware
/// gathers, and the per-tangent loops too. Chosen at run time when the CPU has AVX2.
/// FMA is deliberately not enabled: without contraction the vector code performs the
/// same IEEE operations as the baseline (SSE2) code, so the results are bitwise
/// identical on every x86-64 machine (FMA would be ~12% faster still).
template <bool NeedPdf>
__attribute__((target("avx2"), flatten)) std::int64_t
fill_soft_bins_avx2(const BinAxis<double>& axis, const double* x, const double* x_tan,
                    const double* w, const double* w_tan, std::int64_t n,
                    std::int64_t P, const HistBuffers<double>& out) {
  const diffana::detail::PlainAdd add;
  std::int64_t skipped = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool ok = diffana::detail::fill_event_1d_soft_bins<NeedPdf>(
        axis, x[i], x_tan != nullptr ? x_tan + i * P : nullptr,
        w != nullptr ? w[i] : 1.0, w_tan != nullptr ? w_tan + i * P : nullptr, P, out,
        add);
    skipped += ok ? 0 : 1;
  }
  return skipped;
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

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
  } else {
    const bool need_pdf =
        xt != nullptr || out.edge_density != nullptr || out.edge_moment != nullptr;
#if defined(DIFFANA_HIST_AVX2_DISPATCH)
    if (out.edge_density == nullptr && out.edge_moment == nullptr && cpu_has_avx2()) {
      skipped = need_pdf ? fill_soft_bins_avx2<true>(axis, x, xt, w, wt, n, P, out)
                         : fill_soft_bins_avx2<false>(axis, x, xt, w, wt, n, P, out);
    } else {
      skipped = fill_soft_any(need_pdf, axis, x, xt, w, wt, n, P, out);
    }
#else
    skipped = fill_soft_any(need_pdf, axis, x, xt, w, wt, n, P, out);
#endif
  }
  if (n_skipped != nullptr) *n_skipped += skipped;
  return DIFFANA_OK;
}
