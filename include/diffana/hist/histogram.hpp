// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Gradient histograms: `GradHist1D<T, N>` and `GradHist2D<T, N>` accumulate bin
/// contents, sums of squared contributions and their Jacobians with respect to N
/// parameters as events stream by (forward mode: memory O(bins x N), no event kept).
///
/// An event at x with weight w, either of which may be a `Dual<T, N>` carrying
/// d/dtheta, adds to bin b
///   hard binning (bandwidth 0):  c_b = w for the bin holding x (numpy convention);
///                                dc_b = dw (the gradient flows through the weight);
///   soft binning (bandwidth h):  c_b = w k_b(x), k_b = Phi((e_{b+1}-x)/h) -
///   Phi((e_b-x)/h)
///                                (relaxed.hist), dc_b = k_b dw + w dk_b/dx dx,
/// and c_b^2 to sumw2_b (so d sumw2_b = 2 c_b dc_b). The per-event maths is
/// diffana/hist/soft_binning.hpp, shared with the batch kernels and the CUDA kernel.
///
/// Events with a NaN position or a non-finite weight are skipped and counted
/// (n_skipped()); they never produce NaN bins. x = +-inf is an ordinary under/overflow:
/// dropped with Overflow::drop, in the first/last bin with Overflow::fold, with zero
/// derivative with respect to x. Every finite bandwidth h > 0 is exact, subnormal ones
/// included (as h -> 0 soft binning tends to hard binning, an event on an edge split
/// half/half); where w dk/dx exceeds the largest finite T (h below ~1e-308, or a huge
/// weight) it is clipped to it, so that a parameter that does not move x gets 0.
/// Tangents are not checked: a NaN tangent gives NaN Jacobian entries.
///
/// Histograms built from the same binning merge by addition (merge / +=), so chunks,
/// threads and files combine; merging is exact up to floating-point summation order.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/config.hpp"
#include "diffana/hist/soft_binning.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana {

namespace detail {

template <class T> std::string hist_number(T v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

/// Throws std::invalid_argument unless edges has >= 2 finite, strictly increasing
/// entries; the message names the argument (`name`) and the offending index/value.
template <class T>
void check_hist_edges(const std::vector<T>& edges, const char* where,
                      const char* name) {
  if (edges.size() < 2) {
    throw std::invalid_argument(std::string(where) + ": " + name +
                                " must have at least 2 entries (one bin), got " +
                                std::to_string(edges.size()));
  }
  const std::int64_t bad =
      first_bad_edge(edges.data(), static_cast<std::int64_t>(edges.size()));
  if (bad < 0) return;
  const auto j = static_cast<std::size_t>(bad);
  using std::isfinite;
  if (!isfinite(edges[j])) {
    throw std::invalid_argument(std::string(where) + ": " + name +
                                " must be finite, got " + name + "[" +
                                std::to_string(j) + "] = " + hist_number(edges[j]));
  }
  throw std::invalid_argument(
      std::string(where) + ": " + name + " must be strictly increasing, got " + name +
      "[" + std::to_string(j) + "] = " + hist_number(edges[j]) + " <= " + name + "[" +
      std::to_string(j - 1) + "] = " + hist_number(edges[j - 1]));
}

template <class T> void check_hist_bandwidth(T h, const char* where, const char* name) {
  using std::isfinite;
  if (!(h >= T(0)) || !isfinite(h)) {
    throw std::invalid_argument(std::string(where) + ": " + name +
                                " must be finite and >= 0 (0 = hard binning), got " +
                                hist_number(h));
  }
}

inline void check_hist_overflow(Overflow overflow, const char* where) {
  if (overflow != Overflow::drop && overflow != Overflow::fold) {
    throw std::invalid_argument(
        std::string(where) +
        ": overflow must be Overflow::drop (0) or Overflow::fold (1), got " +
        std::to_string(static_cast<int>(overflow)));
  }
}

/// nbins + 1 equally spaced edges from lo to hi (numpy.linspace: lo + i * step, the
/// last edge exactly hi).
template <class T>
std::vector<T> hist_linspace(std::int64_t nbins, T lo, T hi, const char* where,
                             const char* nbins_name, const char* lo_name,
                             const char* hi_name) {
  using std::isfinite;
  if (nbins < 1) {
    throw std::invalid_argument(std::string(where) + ": " + nbins_name +
                                " must be >= 1, got " + std::to_string(nbins));
  }
  if (!isfinite(lo)) {
    throw std::invalid_argument(std::string(where) + ": " + lo_name +
                                " must be finite, got " + hist_number(lo));
  }
  if (!isfinite(hi) || !(hi > lo)) {
    throw std::invalid_argument(std::string(where) + ": " + hi_name +
                                " must be finite and > " + lo_name + " = " +
                                hist_number(lo) + ", got " + hist_number(hi));
  }
  std::vector<T> edges(static_cast<std::size_t>(nbins) + 1);
  const T step = (hi - lo) / T(nbins);
  for (std::int64_t i = 0; i < nbins; ++i)
    edges[static_cast<std::size_t>(i)] = lo + T(i) * step;
  edges.back() = hi;
  return edges;
}

/// Pointer to the N tangents of a Dual, null for a plain number (a constant).
template <class T, class X> const T* hist_tangents(const X& x) {
  if constexpr (is_dual_v<X>) {
    return &x.tangent(0);
  } else {
    return nullptr;
  }
}

/// An event input is a plain arithmetic number or exactly Dual<T, N>.
template <class X, class T, int N>
inline constexpr bool hist_input_ok_v = std::is_arithmetic_v<std::decay_t<X>> ||
                                        std::is_same_v<std::decay_t<X>, Dual<T, N>>;

/// The storage shared by both histogram classes: values, sumw2 and their Jacobians.
template <class T, int N> struct HistStorage {
  std::vector<T> values;
  std::vector<T> sumw2;
  std::vector<T> jac;
  std::vector<T> sumw2_jac;
  std::int64_t n_skipped = 0;

  explicit HistStorage(std::size_t nbins)
      : values(nbins, T(0)), sumw2(nbins, T(0)), jac(nbins * std::size_t(N), T(0)),
        sumw2_jac(nbins * std::size_t(N), T(0)) {}

  HistBuffers<T> buffers() {
    HistBuffers<T> b;
    b.values = values.data();
    b.sumw2 = sumw2.data();
    b.jac = N > 0 ? jac.data() : nullptr;
    b.sumw2_jac = N > 0 ? sumw2_jac.data() : nullptr;
    return b;
  }

  void add(const HistStorage& o) {
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] += o.values[i];
    for (std::size_t i = 0; i < sumw2.size(); ++i)
      sumw2[i] += o.sumw2[i];
    for (std::size_t i = 0; i < jac.size(); ++i)
      jac[i] += o.jac[i];
    for (std::size_t i = 0; i < sumw2_jac.size(); ++i)
      sumw2_jac[i] += o.sumw2_jac[i];
    n_skipped += o.n_skipped;
  }

  void reset() {
    std::fill(values.begin(), values.end(), T(0));
    std::fill(sumw2.begin(), sumw2.end(), T(0));
    std::fill(jac.begin(), jac.end(), T(0));
    std::fill(sumw2_jac.begin(), sumw2_jac.end(), T(0));
    n_skipped = 0;
  }

  void check_bin(std::int64_t b, const char* where) const {
    if (b < 0 || b >= static_cast<std::int64_t>(values.size())) {
      throw std::out_of_range(
          std::string(where) + ": bin index b = " + std::to_string(b) +
          " out of range [0, " + std::to_string(values.size()) + ")");
    }
  }
  void check_param(int k, const char* where) const {
    if (k < 0 || k >= N) {
      throw std::out_of_range(std::string(where) +
                              ": parameter index k = " + std::to_string(k) +
                              " out of range [0, " + std::to_string(N) + ")");
    }
  }
  Dual<T, N> bin(std::int64_t b) const {
    Dual<T, N> r(values[static_cast<std::size_t>(b)]);
    for (int k = 0; k < N; ++k)
      r.tangent(k) = jac[static_cast<std::size_t>(b) * std::size_t(N) + std::size_t(k)];
    return r;
  }
};

} // namespace detail

/// A 1D histogram of values, sums of squared contributions and their Jacobians with
/// respect to N parameters (T: float or double).
///
/// Bins are [e_b, e_{b+1}), the last one closed (numpy.histogram). bandwidth 0 is
/// hard binning; bandwidth h > 0 spreads each event over the bins with a Gaussian
/// kernel of width h (relaxed.hist), truncated at DIFFANA_SOFT_TRUNCATION = 7.5 h
/// (the weight left out is at most 2 Phi(-7.5) = 6.4e-14 of the event's weight).
/// Overflow::fold makes the outer edges -inf/+inf (relaxed's reflect_infinities).
///
///   diffana::GradHist1D<double, 2> h({0., 1., 2., 4.}, 0.2);
///   h.fill(diffana::Dual<double, 2>::variable(1.3, 0), w);   // x depends on theta_0
///   h.values(); h.jacobian(b, k);   // d values_b / d theta_k
template <class T, int N> class GradHist1D {
  static_assert(std::is_floating_point_v<T>, "diffana::GradHist1D needs a floating T");
  static_assert(N >= 0, "diffana::GradHist1D needs N >= 0");

public:
  using value_type = T;
  static constexpr int n_params = N;

  /// Bins from explicit edges (>= 2, finite, strictly increasing), a bandwidth
  /// (0 = hard, > 0 soft) and an overflow policy. Throws std::invalid_argument naming
  /// `edges` (with the offending index and value), `bandwidth` or `overflow`.
  explicit GradHist1D(std::vector<T> edges, T bandwidth = T(0),
                      Overflow overflow = Overflow::drop)
      : edges_(std::move(edges)), bandwidth_(bandwidth), overflow_(overflow),
        store_(edges_.size() > 1 ? edges_.size() - 1 : 0) {
    detail::check_hist_edges(edges_, "diffana::GradHist1D", "edges");
    detail::check_hist_bandwidth(bandwidth_, "diffana::GradHist1D", "bandwidth");
    detail::check_hist_overflow(overflow_, "diffana::GradHist1D");
    uniform_ = edges_are_uniform(edges_.data(), nbins());
    inv_width_ = T(nbins()) / (edges_.back() - edges_.front());
  }

  /// nbins equal bins on [lo, hi] (edges as numpy.linspace). Throws
  /// std::invalid_argument naming `nbins`, `lo`, `hi`, `bandwidth` or `overflow`.
  static GradHist1D uniform(std::int64_t nbins, T lo, T hi, T bandwidth = T(0),
                            Overflow overflow = Overflow::drop) {
    return GradHist1D(detail::hist_linspace(nbins, lo, hi,
                                            "diffana::GradHist1D::uniform", "nbins",
                                            "lo", "hi"),
                      bandwidth, overflow);
  }

  /// Adds one event at x with weight w; x and w are each a plain number or a
  /// Dual<T, N>. Contribution to bin b: c_b = w k_b(x) (k_b = 1 for the bin holding x
  /// with hard binning), tangent dc_b = k_b dw + w dk_b/dx dx (hard: dw only), and
  /// c_b^2 to sumw2. A NaN x or non-finite w skips the event (n_skipped()). x = +-inf
  /// is an under/overflow: dropped, or with Overflow::fold all of w in the first/last
  /// bin with no x-derivative.
  template <class X, class W = T> void fill(const X& x, const W& w = W(1)) {
    static_assert(detail::hist_input_ok_v<X, T, N>,
                  "GradHist1D<T, N>::fill: x must be a number or a Dual<T, N>");
    static_assert(detail::hist_input_ok_v<W, T, N>,
                  "GradHist1D<T, N>::fill: w must be a number or a Dual<T, N>");
    const bool ok = detail::fill_event_1d(
        axis(), static_cast<T>(value(x)), detail::hist_tangents<T>(x),
        static_cast<T>(value(w)), detail::hist_tangents<T>(w), std::int64_t(N),
        store_.buffers(), detail::PlainAdd{});
    if (!ok) ++store_.n_skipped;
  }

  std::int64_t nbins() const { return static_cast<std::int64_t>(edges_.size()) - 1; }
  const std::vector<T>& edges() const { return edges_; }
  T bandwidth() const { return bandwidth_; }
  Overflow overflow() const { return overflow_; }

  /// Bin contents sum_events c_b.
  const std::vector<T>& values() const { return store_.values; }
  /// Sum over events of c_b^2 (w^2 for hard binning): the variance estimate.
  const std::vector<T>& sumw2() const { return store_.sumw2; }
  /// d values_b / d theta_k, flat [nbins * N] row-major (index b * N + k).
  const std::vector<T>& jacobian() const { return store_.jac; }
  /// d values_b / d theta_k (bounds-checked: std::out_of_range).
  T jacobian(std::int64_t b, int k) const {
    store_.check_bin(b, "diffana::GradHist1D::jacobian");
    store_.check_param(k, "diffana::GradHist1D::jacobian");
    return store_.jac[static_cast<std::size_t>(b * N + k)];
  }
  /// d sumw2_b / d theta_k = sum_events 2 c_b dc_b, flat [nbins * N].
  const std::vector<T>& sumw2_jacobian() const { return store_.sumw2_jac; }
  /// d sumw2_b / d theta_k (bounds-checked: std::out_of_range).
  T sumw2_jacobian(std::int64_t b, int k) const {
    store_.check_bin(b, "diffana::GradHist1D::sumw2_jacobian");
    store_.check_param(k, "diffana::GradHist1D::sumw2_jacobian");
    return store_.sumw2_jac[static_cast<std::size_t>(b * N + k)];
  }
  /// Bin b as a Dual: its value and the N derivatives (bounds-checked).
  Dual<T, N> bin(std::int64_t b) const {
    store_.check_bin(b, "diffana::GradHist1D::bin");
    return store_.bin(b);
  }
  /// Number of events skipped for a NaN x or a non-finite weight.
  std::int64_t n_skipped() const { return store_.n_skipped; }

  /// True when other has the same edges, bandwidth and overflow policy.
  bool same_binning(const GradHist1D& other) const {
    return edges_ == other.edges_ && bandwidth_ == other.bandwidth_ &&
           overflow_ == other.overflow_;
  }

  /// Adds other's contents (values, sumw2, Jacobians, n_skipped). Throws
  /// std::invalid_argument naming `other` if its binning differs.
  GradHist1D& merge(const GradHist1D& other) {
    if (!same_binning(other)) {
      throw std::invalid_argument(
          "diffana::GradHist1D::merge: other has a different binning (edges, "
          "bandwidth or overflow): " +
          describe() + " vs " + other.describe());
    }
    store_.add(other.store_);
    return *this;
  }
  GradHist1D& operator+=(const GradHist1D& other) { return merge(other); }
  friend GradHist1D operator+(GradHist1D a, const GradHist1D& b) { return a.merge(b); }

  /// Zeroes the contents (keeps the binning).
  void reset() { store_.reset(); }

  /// The axis view used by the per-event code (points into this object's edges).
  BinAxis<T> axis() const {
    BinAxis<T> a;
    a.edges = edges_.data();
    a.nbins = nbins();
    a.bandwidth = bandwidth_;
    a.overflow = overflow_;
    a.uniform = uniform_;
    a.inv_width = inv_width_;
    return a;
  }

private:
  std::string describe() const {
    return std::to_string(nbins()) + " bins on [" +
           detail::hist_number(edges_.front()) + ", " +
           detail::hist_number(edges_.back()) +
           "], bandwidth = " + detail::hist_number(bandwidth_) +
           ", overflow = " + std::to_string(static_cast<int>(overflow_));
  }

  std::vector<T> edges_;
  T bandwidth_;
  Overflow overflow_;
  bool uniform_ = false;
  T inv_width_ = T(0);
  detail::HistStorage<T, N> store_;
};

/// A 2D histogram with Jacobians; bins row-major, b = ix * ny + iy. Each axis has its
/// own edges and bandwidth (0 = hard); soft 2D binning is the product of the 1D
/// kernels: c = w kx(x) ky(y), dc = kx ky dw + w kx' ky dx + w kx ky' dy. The overflow
/// policy applies to both axes.
template <class T, int N> class GradHist2D {
  static_assert(std::is_floating_point_v<T>, "diffana::GradHist2D needs a floating T");
  static_assert(N >= 0, "diffana::GradHist2D needs N >= 0");

public:
  using value_type = T;
  static constexpr int n_params = N;

  /// Throws std::invalid_argument naming `xedges`, `yedges`, `xbandwidth`,
  /// `ybandwidth` or `overflow`.
  GradHist2D(std::vector<T> xedges, std::vector<T> yedges, T xbandwidth = T(0),
             T ybandwidth = T(0), Overflow overflow = Overflow::drop)
      : xedges_(std::move(xedges)), yedges_(std::move(yedges)), xbandwidth_(xbandwidth),
        ybandwidth_(ybandwidth), overflow_(overflow),
        store_((xedges_.size() > 1 ? xedges_.size() - 1 : 0) *
               (yedges_.size() > 1 ? yedges_.size() - 1 : 0)) {
    detail::check_hist_edges(xedges_, "diffana::GradHist2D", "xedges");
    detail::check_hist_edges(yedges_, "diffana::GradHist2D", "yedges");
    detail::check_hist_bandwidth(xbandwidth_, "diffana::GradHist2D", "xbandwidth");
    detail::check_hist_bandwidth(ybandwidth_, "diffana::GradHist2D", "ybandwidth");
    detail::check_hist_overflow(overflow_, "diffana::GradHist2D");
    xuniform_ = edges_are_uniform(xedges_.data(), nx());
    yuniform_ = edges_are_uniform(yedges_.data(), ny());
  }

  /// nx x ny equal bins on [xlo, xhi] x [ylo, yhi] (edges as numpy.linspace).
  static GradHist2D uniform(std::int64_t nx, T xlo, T xhi, std::int64_t ny, T ylo,
                            T yhi, T xbandwidth = T(0), T ybandwidth = T(0),
                            Overflow overflow = Overflow::drop) {
    const char* where = "diffana::GradHist2D::uniform";
    return GradHist2D(detail::hist_linspace(nx, xlo, xhi, where, "nx", "xlo", "xhi"),
                      detail::hist_linspace(ny, ylo, yhi, where, "ny", "ylo", "yhi"),
                      xbandwidth, ybandwidth, overflow);
  }

  /// Adds one event at (x, y) with weight w; each a number or a Dual<T, N>.
  /// A NaN x or y, or a non-finite w, skips the event (n_skipped()).
  template <class X, class Y, class W = T>
  void fill(const X& x, const Y& y, const W& w = W(1)) {
    static_assert(detail::hist_input_ok_v<X, T, N>,
                  "GradHist2D<T, N>::fill: x must be a number or a Dual<T, N>");
    static_assert(detail::hist_input_ok_v<Y, T, N>,
                  "GradHist2D<T, N>::fill: y must be a number or a Dual<T, N>");
    static_assert(detail::hist_input_ok_v<W, T, N>,
                  "GradHist2D<T, N>::fill: w must be a number or a Dual<T, N>");
    const bool ok = detail::fill_event_2d(
        xaxis(), yaxis(), static_cast<T>(value(x)), detail::hist_tangents<T>(x),
        static_cast<T>(value(y)), detail::hist_tangents<T>(y), static_cast<T>(value(w)),
        detail::hist_tangents<T>(w), std::int64_t(N), store_.buffers(),
        detail::PlainAdd{});
    if (!ok) ++store_.n_skipped;
  }

  std::int64_t nx() const { return static_cast<std::int64_t>(xedges_.size()) - 1; }
  std::int64_t ny() const { return static_cast<std::int64_t>(yedges_.size()) - 1; }
  std::int64_t nbins() const { return nx() * ny(); }
  /// The flat bin index ix * ny + iy.
  std::int64_t bin_index(std::int64_t ix, std::int64_t iy) const {
    return ix * ny() + iy;
  }
  const std::vector<T>& xedges() const { return xedges_; }
  const std::vector<T>& yedges() const { return yedges_; }
  T xbandwidth() const { return xbandwidth_; }
  T ybandwidth() const { return ybandwidth_; }
  Overflow overflow() const { return overflow_; }

  /// Bin contents, flat [nx * ny] row-major.
  const std::vector<T>& values() const { return store_.values; }
  /// Sum over events of c_b^2, flat [nx * ny].
  const std::vector<T>& sumw2() const { return store_.sumw2; }
  /// d values_b / d theta_k, flat [nx * ny * N] (index b * N + k).
  const std::vector<T>& jacobian() const { return store_.jac; }
  /// d values_b / d theta_k for the flat bin b (bounds-checked: std::out_of_range).
  T jacobian(std::int64_t b, int k) const {
    store_.check_bin(b, "diffana::GradHist2D::jacobian");
    store_.check_param(k, "diffana::GradHist2D::jacobian");
    return store_.jac[static_cast<std::size_t>(b * N + k)];
  }
  /// d sumw2_b / d theta_k, flat [nx * ny * N].
  const std::vector<T>& sumw2_jacobian() const { return store_.sumw2_jac; }
  T sumw2_jacobian(std::int64_t b, int k) const {
    store_.check_bin(b, "diffana::GradHist2D::sumw2_jacobian");
    store_.check_param(k, "diffana::GradHist2D::sumw2_jacobian");
    return store_.sumw2_jac[static_cast<std::size_t>(b * N + k)];
  }
  /// Bin (ix, iy) as a Dual: its value and the N derivatives (bounds-checked).
  Dual<T, N> bin(std::int64_t ix, std::int64_t iy) const {
    if (ix < 0 || ix >= nx() || iy < 0 || iy >= ny()) {
      throw std::out_of_range("diffana::GradHist2D::bin: (ix, iy) = (" +
                              std::to_string(ix) + ", " + std::to_string(iy) +
                              ") out of range [0, " + std::to_string(nx()) +
                              ") x [0, " + std::to_string(ny()) + ")");
    }
    return store_.bin(bin_index(ix, iy));
  }
  std::int64_t n_skipped() const { return store_.n_skipped; }

  bool same_binning(const GradHist2D& other) const {
    return xedges_ == other.xedges_ && yedges_ == other.yedges_ &&
           xbandwidth_ == other.xbandwidth_ && ybandwidth_ == other.ybandwidth_ &&
           overflow_ == other.overflow_;
  }

  /// Adds other's contents. Throws std::invalid_argument naming `other` if its
  /// binning differs.
  GradHist2D& merge(const GradHist2D& other) {
    if (!same_binning(other)) {
      throw std::invalid_argument(
          "diffana::GradHist2D::merge: other has a different binning (xedges, yedges, "
          "bandwidths or overflow)");
    }
    store_.add(other.store_);
    return *this;
  }
  GradHist2D& operator+=(const GradHist2D& other) { return merge(other); }
  friend GradHist2D operator+(GradHist2D a, const GradHist2D& b) { return a.merge(b); }

  void reset() { store_.reset(); }

  BinAxis<T> xaxis() const { return make_axis(xedges_, xbandwidth_, xuniform_); }
  BinAxis<T> yaxis() const { return make_axis(yedges_, ybandwidth_, yuniform_); }

private:
  BinAxis<T> make_axis(const std::vector<T>& e, T h, bool uniform) const {
    BinAxis<T> a;
    a.edges = e.data();
    a.nbins = static_cast<std::int64_t>(e.size()) - 1;
    a.bandwidth = h;
    a.overflow = overflow_;
    a.uniform = uniform;
    a.inv_width = T(a.nbins) / (e.back() - e.front());
    return a;
  }

  std::vector<T> xedges_;
  std::vector<T> yedges_;
  T xbandwidth_;
  T ybandwidth_;
  Overflow overflow_;
  bool xuniform_ = false;
  bool yuniform_ = false;
  detail::HistStorage<T, N> store_;
};

} // namespace diffana
