// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Per-event binning, written once for the template histograms (histogram.hpp), the
/// runtime-P batch kernels (src/kernels/hist_fill_*.cpp) and the CUDA kernel
/// (src/cuda/hist_fill_1d.cu): the standard normal CDF and pdf, the hard bin index,
/// the truncated span of a soft (Gaussian-kernel) event, its bin weights
/// k_b = Phi((e_{b+1} - x) / h) - Phi((e_b - x) / h) with their x-derivative, and the
/// accumulation of one event's contribution (value, sum of squares, Jacobian rows).
///
/// Everything here takes plain floating-point scalars, is `DIFFANA_HOST_DEVICE`,
/// never allocates and never throws. Validation (edges, bandwidth, overflow code)
/// belongs to the callers: the GradHist constructors throw, the kernels return a
/// status.
///
/// Semantics are those of `relaxed.hist` (gradhep/relaxed) for bandwidth h > 0 and
/// of `numpy.histogram` for h = 0 (hard binning); python/diffana/_reference.py is the
/// source of truth.
#pragma once

#include "diffana/config.hpp"

#include <cmath>
#include <cstdint>

/// Soft bins are evaluated within this many bandwidths of the event (either side).
/// The weight left out is at most 2 Phi(-7.5) = 6.3818e-14 of the event's weight: with
/// the span's first edge at or below x - 7.5 h and its last edge at or above
/// x + 7.5 h, the mass outside it is Phi(-7.5) on each side at most. Likewise the
/// x-derivative left out is at most 2 phi(7.5) / h = 4.9e-13 / h times the weight
/// (against a peak |dk/dx| of about 0.4 / h).
#define DIFFANA_SOFT_TRUNCATION 7.5

#if defined(__CUDACC__) || defined(__GNUC__) || defined(__clang__)
#define DIFFANA_RESTRICT __restrict__
#elif defined(_MSC_VER)
#define DIFFANA_RESTRICT __restrict
#else
#define DIFFANA_RESTRICT
#endif

namespace diffana {

/// DIFFANA_SOFT_TRUNCATION as a typed constant (7.5 bandwidths).
inline constexpr double soft_truncation = DIFFANA_SOFT_TRUNCATION;

/// Upper bound on the fraction of an event's weight that truncation leaves out:
/// 2 Phi(-7.5) (tested against an untruncated evaluation in tests/cpp/test_hist.cpp).
inline constexpr double soft_truncation_error = 6.381783345821769e-14;

/// What happens to events (or kernel mass) outside the outer edges.
/// drop (0): lost (numpy.histogram; relaxed.hist's default).
/// fold (1): counted in the first / last bin, i.e. the outer edges act as -inf / +inf
/// (relaxed.hist's reflect_infinities=True; hard binning: underflow goes to the first
/// bin, overflow to the last).
enum class Overflow : int { drop = 0, fold = 1 };

// ---- the standard normal distribution -------------------------------------------

namespace detail {
template <class T> DIFFANA_HOST_DEVICE constexpr T inv_sqrt2() {
  return T(0.707106781186547524400844362104849039L);
}
template <class T> DIFFANA_HOST_DEVICE constexpr T inv_sqrt_2pi() {
  return T(0.398942280401432677939946059934381868L);
}
} // namespace detail

/// Standard normal CDF Phi(z) = 0.5 erfc(-z / sqrt(2)), accurate (relative) in the
/// lower tail down to Phi(-38) ~ 1e-316; Phi(-inf) = 0, Phi(+inf) = 1. d/dz = phi(z)
/// (normal_pdf).
template <class T> DIFFANA_HOST_DEVICE T normal_cdf(T z) {
  using std::erfc;
  return T(0.5) * erfc(-z * detail::inv_sqrt2<T>());
}

/// Standard normal pdf phi(z) = exp(-z^2 / 2) / sqrt(2 pi); 0 at +-inf.
/// d/dz = -z phi(z).
template <class T> DIFFANA_HOST_DEVICE T normal_pdf(T z) {
  using std::exp;
  return detail::inv_sqrt_2pi<T>() * exp(T(-0.5) * z * z);
}

// ---- bin edges ------------------------------------------------------------------

/// Index of the first edge that is not finite or not strictly above its predecessor,
/// or -1 when all n_edges edges are fine. (The count, n_edges >= 2, is the caller's
/// check.)
template <class T>
DIFFANA_HOST_DEVICE std::int64_t first_bad_edge(const T* edges, std::int64_t n_edges) {
  using std::isfinite;
  for (std::int64_t j = 0; j < n_edges; ++j) {
    if (!isfinite(edges[j])) return j;
    if (j > 0 && !(edges[j] > edges[j - 1])) return j;
  }
  return -1;
}

/// True when the nbins + 1 edges are equally spaced to within 1% of a bin width, so
/// that the O(1) guess of BinAxis::index is at most one bin off before its fix-up.
/// (Correctness never depends on it: the fix-up makes the result exact either way.)
template <class T>
DIFFANA_HOST_DEVICE bool edges_are_uniform(const T* edges, std::int64_t nbins) {
  using std::fabs;
  using std::isfinite;
  const T range = edges[nbins] - edges[0];
  // The O(1) guess needs a finite range and a finite nbins / range.
  if (!isfinite(range) || !isfinite(T(nbins) / range)) return false;
  const T width = range / T(nbins);
  const T tol = T(0.01) * width;
  for (std::int64_t j = 1; j < nbins; ++j) {
    if (!(fabs(edges[j] - (edges[0] + T(j) * width)) <= tol)) return false;
  }
  return true;
}

/// Bins [first, last] touched by one soft event (empty when last < first).
struct BinSpan {
  std::int64_t first;
  std::int64_t last;
  DIFFANA_HOST_DEVICE constexpr bool empty() const { return last < first; }
};

/// One bin edge seen from an event at x with bandwidth h: z = (e - x) / h, the tail
/// mass beyond it Phi(-|z|) (kept instead of Phi(z) so that differences of
/// neighbouring edges do not cancel in the tails), whether z > 0, and phi(z).
template <class T> struct SoftEdge {
  T z;
  T tail;
  T pdf;
  bool upper;
};

/// The SoftEdge at standardised position z (z = +-inf allowed: tail and pdf are 0).
/// With NeedPdf = false the pdf is left 0 (saves an exp when no x-derivative and no
/// edge term is wanted).
template <class T, bool NeedPdf = true> DIFFANA_HOST_DEVICE SoftEdge<T> soft_edge(T z) {
  using std::erfc;
  using std::fabs;
  SoftEdge<T> e;
  e.z = z;
  e.tail = T(0.5) * erfc(fabs(z) * detail::inv_sqrt2<T>());
  e.pdf = NeedPdf ? normal_pdf(z) : T(0);
  e.upper = z > T(0);
  return e;
}

/// A bin's Gaussian weight and its derivative with respect to the event position.
template <class T> struct BinWeight {
  T k;
  T dk_dx;
};

/// k = Phi(z_hi) - Phi(z_lo) for z_lo <= z_hi, computed from the tails so that it is
/// accurate (relative) in both tails; clamped at 0 against last-ulp erfc wiggles.
/// dk/dx = (phi(z_lo) - phi(z_hi)) / h, since dz/dx = -1/h.
template <class T>
DIFFANA_HOST_DEVICE BinWeight<T> soft_bin_weight(const SoftEdge<T>& lo,
                                                 const SoftEdge<T>& hi, T h) {
  T k;
  if (!hi.upper) {
    k = hi.tail - lo.tail; // both edges at or left of x: lower tails
  } else if (lo.upper) {
    k = lo.tail - hi.tail; // both edges right of x: upper tails
  } else {
    k = (T(1) - lo.tail) - hi.tail; // the bin contains x
  }
  if (k < T(0)) k = T(0);
  return {k, (lo.pdf - hi.pdf) / h};
}

/// A non-owning view of one histogram axis: edges, bandwidth (0 = hard) and overflow
/// policy, plus the precomputed uniform-spacing shortcut. Cheap to copy (pass it to a
/// CUDA kernel by value). Build it with make_bin_axis from validated edges.
template <class T> struct BinAxis {
  const T* edges = nullptr; ///< nbins + 1 finite, strictly increasing edges
  std::int64_t nbins = 0;
  T bandwidth = T(0); ///< 0: hard binning; > 0: Gaussian kernel of this width
  Overflow overflow = Overflow::drop;
  bool uniform = false; ///< edges equally spaced: O(1) lookup
  T inv_width = T(0);   ///< nbins / (edges[nbins] - edges[0])

  /// Hard bin index in numpy's convention: -1 below edges[0] (and for NaN), nbins
  /// above edges[nbins], else b with edges[b] <= x < edges[b + 1], except that the
  /// last bin is closed (x == edges[nbins] gives nbins - 1). Uniform edges: O(1) with
  /// a fix-up against the stored edges, so the result equals the binary search
  /// exactly, also at edges that linspace rounding put off the arithmetic grid.
  DIFFANA_HOST_DEVICE std::int64_t index(T x) const {
    if (!(x >= edges[0])) return -1;
    if (x > edges[nbins]) return nbins;
    if (uniform) {
      const T t = (x - edges[0]) * inv_width;
      // Clamp before converting (the conversion of an out-of-range value is UB).
      std::int64_t i = t < T(nbins - 1) ? static_cast<std::int64_t>(t) : nbins - 1;
      if (!(i >= 0)) i = 0;
      while (i > 0 && x < edges[i])
        --i;
      while (i < nbins - 1 && x >= edges[i + 1])
        ++i;
      return i;
    }
    return search(x);
  }

  /// index() by binary search for edges[0] <= x <= edges[nbins]: the largest b in
  /// [0, nbins - 1] with edges[b] <= x. Branch-free halving (a conditional move per
  /// step), as unpredictable branches dominate a search over random events.
  DIFFANA_HOST_DEVICE std::int64_t search(T x) const {
    const T* base = edges;
    std::int64_t len = nbins;
    while (len > 1) {
      const std::int64_t half = len / 2;
      base = (base[half] <= x) ? base + half : base;
      len -= half;
    }
    return base - edges;
  }

  /// Hard binning with the overflow policy: the bin that receives x, or -1 when the
  /// event is dropped (outside with Overflow::drop). +-inf count as under/overflow.
  DIFFANA_HOST_DEVICE std::int64_t hard_bin(T x) const {
    const std::int64_t i = index(x);
    if (i < 0) return overflow == Overflow::fold ? 0 : -1;
    if (i >= nbins) return overflow == Overflow::fold ? nbins - 1 : -1;
    return i;
  }

  /// Soft binning (bandwidth > 0, finite x): the bins within DIFFANA_SOFT_TRUNCATION
  /// bandwidths of x, i.e. from the bin holding x - 7.5 h to the bin holding
  /// x + 7.5 h, clamped to the axis. With Overflow::drop an event whose whole
  /// truncated kernel lies outside the edges gives an empty span.
  DIFFANA_HOST_DEVICE BinSpan soft_span(T x) const {
    const T reach = T(DIFFANA_SOFT_TRUNCATION) * bandwidth;
    std::int64_t first = index(x - reach);
    std::int64_t last = index(x + reach);
    if (overflow == Overflow::drop && (last < 0 || first >= nbins)) return {0, -1};
    if (first < 0) first = 0;
    if (first > nbins - 1) first = nbins - 1;
    if (last < 0) last = 0;
    if (last > nbins - 1) last = nbins - 1;
    return {first, last};
  }

  /// The SoftEdge of edge j for an event at x (fold: edges 0 and nbins are -inf/+inf).
  template <bool NeedPdf = true>
  DIFFANA_HOST_DEVICE SoftEdge<T> edge_at(std::int64_t j, T x) const {
    if (overflow == Overflow::fold && (j == 0 || j == nbins)) {
      const T inf = T(HUGE_VAL);
      return {j == 0 ? -inf : inf, T(0), T(0), j != 0};
    }
    return soft_edge<T, NeedPdf>((edges[j] - x) / bandwidth);
  }

  /// True when edge j is a finite edge of the kernel (not folded to +-inf).
  DIFFANA_HOST_DEVICE bool finite_edge(std::int64_t j) const {
    return !(overflow == Overflow::fold && (j == 0 || j == nbins));
  }
};

/// A BinAxis over edges[0..nbins] (validated by the caller: nbins >= 1, edges finite
/// and strictly increasing, bandwidth finite and >= 0), detecting uniform spacing.
template <class T>
DIFFANA_HOST_DEVICE BinAxis<T> make_bin_axis(const T* edges, std::int64_t nbins,
                                             T bandwidth, Overflow overflow) {
  BinAxis<T> a;
  a.edges = edges;
  a.nbins = nbins;
  a.bandwidth = bandwidth;
  a.overflow = overflow;
  a.uniform = edges_are_uniform(edges, nbins);
  a.inv_width = T(nbins) / (edges[nbins] - edges[0]);
  return a;
}

namespace detail {
struct NoEdgeVisitor {
  template <class T>
  DIFFANA_HOST_DEVICE void operator()(std::int64_t, const SoftEdge<T>&) const {}
};
} // namespace detail

/// Soft binning of one event at x (axis.bandwidth > 0): calls on_bin(b, k_b, dk_b/dx)
/// for each bin b of the truncated span in increasing order, with
///   k_b = Phi((e_{b+1} - x) / h) - Phi((e_b - x) / h),
///   dk_b/dx = (phi((e_b - x) / h) - phi((e_{b+1} - x) / h)) / h,
/// evaluating Phi and phi once per edge (neighbouring bins share it), and
/// on_edge(j, SoftEdge) once for each finite edge j of the span (edges first ..
/// last + 1, without the folded outer edges), before the bins that use it.
/// x = +-inf: with Overflow::fold the whole weight goes to the last / first bin with
/// dk/dx = 0 (the limit); with Overflow::drop nothing is visited. x must not be NaN.
/// NeedPdf = false skips phi: dk/dx and SoftEdge::pdf are then 0.
template <bool NeedPdf = true, class T, class OnBin, class OnEdge>
DIFFANA_HOST_DEVICE void for_each_soft_bin(const BinAxis<T>& axis, T x, OnBin&& on_bin,
                                           OnEdge&& on_edge) {
  using std::isinf;
  if (isinf(x)) {
    if (axis.overflow == Overflow::fold)
      on_bin(x > T(0) ? axis.nbins - 1 : std::int64_t(0), T(1), T(0));
    return;
  }
  const BinSpan span = axis.soft_span(x);
  if (span.empty()) return;
  SoftEdge<T> lo = axis.template edge_at<NeedPdf>(span.first, x);
  if (axis.finite_edge(span.first)) on_edge(span.first, lo);
  for (std::int64_t b = span.first; b <= span.last; ++b) {
    const SoftEdge<T> hi = axis.template edge_at<NeedPdf>(b + 1, x);
    if (axis.finite_edge(b + 1)) on_edge(b + 1, hi);
    const BinWeight<T> bw = soft_bin_weight(lo, hi, axis.bandwidth);
    on_bin(b, bw.k, bw.dk_dx);
    lo = hi;
  }
}

/// for_each_soft_bin without an edge visitor.
template <bool NeedPdf = true, class T, class OnBin>
DIFFANA_HOST_DEVICE void for_each_soft_bin(const BinAxis<T>& axis, T x,
                                           OnBin&& on_bin) {
  for_each_soft_bin<NeedPdf>(axis, x, on_bin, detail::NoEdgeVisitor{});
}

/// Hard or soft: calls on_bin(b, k_b, dk_b/dx) for every bin the event at x reaches.
/// Hard binning (bandwidth 0) visits at most one bin, with k = 1 and dk/dx = 0 (the
/// gradient of a hard histogram flows only through the weight). need_dkdx = false
/// lets soft binning skip phi (dk/dx is then passed as 0).
template <class T, class OnBin>
DIFFANA_HOST_DEVICE void for_each_bin(const BinAxis<T>& axis, T x, OnBin&& on_bin,
                                      bool need_dkdx = true) {
  if (axis.bandwidth == T(0)) {
    const std::int64_t b = axis.hard_bin(x);
    if (b >= 0) on_bin(b, T(1), T(0));
  } else if (need_dkdx) {
    for_each_soft_bin<true>(axis, x, on_bin);
  } else {
    for_each_soft_bin<false>(axis, x, on_bin);
  }
}

// ---- accumulation of one event --------------------------------------------------

namespace detail {

/// The CPU accumulator, *p += v (the CUDA kernel passes one that calls atomicAdd).
struct PlainAdd {
  template <class T>
  DIFFANA_HOST_DEVICE DIFFANA_INLINE void operator()(T* p, T v) const {
    *p += v;
  }
};

/// Where one event's contributions go. values must be set; the others may be null
/// (not computed). jac and sumw2_jac are [nbins, P] row-major.
template <class T> struct HistBuffers {
  T* values = nullptr;
  T* sumw2 = nullptr;
  T* jac = nullptr;
  T* sumw2_jac = nullptr;
  T* edge_density = nullptr; ///< 1D soft only: S_j += w phi(z_j) / h
  T* edge_moment = nullptr;  ///< 1D soft only: T_j += w phi(z_j) z_j / h
};

/// The tangent of one bin contribution, d = a_w dw + a_x dx + a_y dy, for the sources
/// that are present (compile-time flags, so the P-loop has no branches and
/// vectorises), added to the Jacobian row and, times 2c, to the sumw2 Jacobian row.
template <bool HasW, bool HasX, bool HasY, class T, class Add>
DIFFANA_HOST_DEVICE void
add_tangents(std::int64_t P, T two_c, T a_w, const T* DIFFANA_RESTRICT w_tan, T a_x,
             const T* DIFFANA_RESTRICT x_tan, T a_y, const T* DIFFANA_RESTRICT y_tan,
             T* DIFFANA_RESTRICT jac, T* DIFFANA_RESTRICT sumw2_jac, const Add& add) {
  auto d_at = [&](std::int64_t k) {
    T d = T(0);
    if constexpr (HasW) d += a_w * w_tan[k];
    if constexpr (HasX) d += a_x * x_tan[k];
    if constexpr (HasY) d += a_y * y_tan[k];
    return d;
  };
  if (jac != nullptr && sumw2_jac != nullptr) {
    for (std::int64_t k = 0; k < P; ++k) {
      const T d = d_at(k);
      add(jac + k, d);
      add(sumw2_jac + k, two_c * d);
    }
  } else if (jac != nullptr) {
    for (std::int64_t k = 0; k < P; ++k)
      add(jac + k, d_at(k));
  } else if (sumw2_jac != nullptr) {
    for (std::int64_t k = 0; k < P; ++k)
      add(sumw2_jac + k, two_c * d_at(k));
  }
}

/// Adds one event's contribution to bin b: value c, c^2 to sumw2, and the tangent
///   dc = a_w dw + a_x dx + a_y dy   (a_w = dc/dw, a_x = dc/dx, a_y = dc/dy)
/// to the Jacobian row, 2 c dc to the sumw2 Jacobian row. Null tangent pointers are
/// constant inputs (no contribution).
template <class T, class Add>
DIFFANA_HOST_DEVICE void add_to_bin(const HistBuffers<T>& out, std::int64_t b,
                                    std::int64_t P, T c, T a_w, const T* w_tan, T a_x,
                                    const T* x_tan, T a_y, const T* y_tan,
                                    const Add& add) {
  add(out.values + b, c);
  if (out.sumw2 != nullptr) add(out.sumw2 + b, c * c);
  if (P <= 0 || (out.jac == nullptr && out.sumw2_jac == nullptr)) return;
  T* jac = out.jac != nullptr ? out.jac + b * P : nullptr;
  T* sj = out.sumw2_jac != nullptr ? out.sumw2_jac + b * P : nullptr;
  const T two_c = T(2) * c;
  const int which = (w_tan != nullptr ? 1 : 0) | (x_tan != nullptr ? 2 : 0) |
                    (y_tan != nullptr ? 4 : 0);
  switch (which) {
  case 1:
    add_tangents<true, false, false>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                     sj, add);
    break;
  case 2:
    add_tangents<false, true, false>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                     sj, add);
    break;
  case 3:
    add_tangents<true, true, false>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                    sj, add);
    break;
  case 4:
    add_tangents<false, false, true>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                     sj, add);
    break;
  case 5:
    add_tangents<true, false, true>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                    sj, add);
    break;
  case 6:
    add_tangents<false, true, true>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                    sj, add);
    break;
  case 7:
    add_tangents<true, true, true>(P, two_c, a_w, w_tan, a_x, x_tan, a_y, y_tan, jac,
                                   sj, add);
    break;
  default:
    break; // no tangent sources: the Jacobian contribution is zero
  }
}

/// True when an event must be skipped: NaN position or a weight that is not finite
/// (NaN or +-inf; an infinite weight would turn bins and Jacobians into inf/NaN).
template <class T> DIFFANA_HOST_DEVICE bool skip_event(T x, T w) {
  using std::isfinite;
  using std::isnan;
  return isnan(x) || !isfinite(w);
}

/// Hard binning of one event into a 1D histogram: adds w to the bin holding x (none
/// when dropped), with tangent dw (x has no influence). Returns false (and adds
/// nothing) for a skipped event (see skip_event).
template <class T, class Add>
DIFFANA_HOST_DEVICE bool fill_event_1d_hard(const BinAxis<T>& axis, T x, T w,
                                            const T* w_tan, std::int64_t P,
                                            const HistBuffers<T>& out, const Add& add) {
  if (skip_event(x, w)) return false;
  const std::int64_t b = axis.hard_bin(x);
  if (b >= 0)
    add_to_bin(out, b, P, w, T(1), w_tan, T(0), static_cast<const T*>(nullptr), T(0),
               static_cast<const T*>(nullptr), add);
  return true;
}

/// Soft binning of one event into a 1D histogram (axis.bandwidth h > 0): adds
/// c_b = w k_b to each bin of the span, with tangent
///   dc_b = k_b dw + w (dk_b/dx) dx,   d(c_b^2) = 2 c_b dc_b,
/// and, when out has them, the edge terms S_j += w phi(z_j) / h and
/// T_j += w phi(z_j) z_j / h for the finite edges of the span. NeedPdf = false (only
/// when x_tan is null and no edge term is wanted) skips phi. Returns false for a
/// skipped event.
template <bool NeedPdf, class T, class Add>
DIFFANA_HOST_DEVICE bool fill_event_1d_soft(const BinAxis<T>& axis, T x, const T* x_tan,
                                            T w, const T* w_tan, std::int64_t P,
                                            const HistBuffers<T>& out, const Add& add) {
  if (skip_event(x, w)) return false;
  const T h = axis.bandwidth;
  auto on_bin = [&](std::int64_t b, T k, T dk) {
    add_to_bin(out, b, P, w * k, k, w_tan, w * dk, x_tan, T(0),
               static_cast<const T*>(nullptr), add);
  };
  if (out.edge_density == nullptr && out.edge_moment == nullptr) {
    for_each_soft_bin<NeedPdf>(axis, x, on_bin);
  } else {
    auto on_edge = [&](std::int64_t j, const SoftEdge<T>& e) {
      const T s = w * e.pdf / h;
      if (out.edge_density != nullptr) add(out.edge_density + j, s);
      // phi(z) z -> 0 where phi underflows (also for z = +-inf): no 0 * inf = NaN.
      if (out.edge_moment != nullptr && e.pdf != T(0))
        add(out.edge_moment + j, s * e.z);
    };
    for_each_soft_bin<true>(axis, x, on_bin, on_edge);
  }
  return true;
}

/// One event into a 1D histogram, hard or soft (see fill_event_1d_hard / _soft):
///   hard: c = w in the bin holding x, dc = dw (x_tan is not used);
///   soft: c_b = w k_b, dc_b = k_b dw + w (dk_b/dx) dx, plus the edge terms.
/// w_tan / x_tan point at the event's P tangents or are null (constant). Returns
/// false (and adds nothing) for a skipped event (NaN x, non-finite w).
template <class T, class Add>
DIFFANA_HOST_DEVICE bool fill_event_1d(const BinAxis<T>& axis, T x, const T* x_tan, T w,
                                       const T* w_tan, std::int64_t P,
                                       const HistBuffers<T>& out, const Add& add) {
  if (axis.bandwidth == T(0)) return fill_event_1d_hard(axis, x, w, w_tan, P, out, add);
  if (x_tan != nullptr || out.edge_density != nullptr || out.edge_moment != nullptr)
    return fill_event_1d_soft<true>(axis, x, x_tan, w, w_tan, P, out, add);
  return fill_event_1d_soft<false>(axis, x, x_tan, w, w_tan, P, out, add);
}

/// Number of y bins whose weights a 2D fill keeps at once (stack buffer).
inline constexpr int fill_2d_chunk = 64;

/// Fills one event into a 2D histogram (bins row-major b = ix * ny + iy). Each axis is
/// hard or soft; the soft 2D kernel is the product of the 1D ones:
///   c = w kx ky,  dc = kx ky dw + w (dkx/dx) ky dx + w kx (dky/dy) dy
/// (hard axes have k = 1, dk = 0 and ignore their tangents). The y weights are
/// computed once per chunk of fill_2d_chunk bins, so Phi is evaluated
/// O(span_x + span_y) times for spans up to that length. Returns false for a
/// skipped event (NaN x or y, non-finite w).
template <class T, class Add>
DIFFANA_HOST_DEVICE bool fill_event_2d(const BinAxis<T>& ax, const BinAxis<T>& ay, T x,
                                       const T* x_tan, T y, const T* y_tan, T w,
                                       const T* w_tan, std::int64_t P,
                                       const HistBuffers<T>& out, const Add& add) {
  using std::isnan;
  if (isnan(y) || skip_event(x, w)) return false;
  const std::int64_t ny = ay.nbins;
  if (ax.bandwidth == T(0) && ay.bandwidth == T(0)) {
    const std::int64_t bx = ax.hard_bin(x);
    const std::int64_t by = ay.hard_bin(y);
    if (bx >= 0 && by >= 0)
      add_to_bin(out, bx * ny + by, P, w, T(1), w_tan, T(0),
                 static_cast<const T*>(nullptr), T(0), static_cast<const T*>(nullptr),
                 add);
    return true;
  }
  const T* xt = ax.bandwidth > T(0) ? x_tan : nullptr;
  const T* yt = ay.bandwidth > T(0) ? y_tan : nullptr;
  T ky[fill_2d_chunk];
  T dky[fill_2d_chunk];
  std::int64_t iy0 = 0;
  int count = 0;
  auto flush = [&]() {
    for_each_bin(
        ax, x,
        [&](std::int64_t ix, T kx, T dkx) {
          const T wkx = w * kx;
          const T wdkx = w * dkx;
          for (int j = 0; j < count; ++j) {
            add_to_bin(out, ix * ny + iy0 + j, P, wkx * ky[j], kx * ky[j], w_tan,
                       wdkx * ky[j], xt, wkx * dky[j], yt, add);
          }
        },
        xt != nullptr);
    count = 0;
  };
  for_each_bin(
      ay, y,
      [&](std::int64_t iy, T k, T dk) {
        if (count == 0) iy0 = iy;
        ky[count] = k;
        dky[count] = dk;
        if (++count == fill_2d_chunk) flush();
      },
      yt != nullptr);
  if (count > 0) flush();
  return true;
}

} // namespace detail
} // namespace diffana
