// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana/hist/soft_binning.hpp and diffana/hist/histogram.hpp: the normal
/// CDF, hard bin lookup, soft weights, truncation, GradHist1D / GradHist2D values,
/// sumw2 and Jacobians against central finite differences, totals, soft -> hard,
/// merging, NaN handling and errors.
#include "diffana/hist/histogram.hpp"
#include "diffana/hist/soft_binning.hpp"

#include "check.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace {

using diffana::BinAxis;
using diffana::Dual;
using diffana::GradHist1D;
using diffana::GradHist2D;
using diffana::Overflow;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Events of a toy model: x_i = a u_i + b, y_i = a v_i - b, and
/// w_i = sigmoid((v_i - c) / 0.3) (1 + 0.5 u_i); parameters theta = (a, b, c).
struct Events {
  std::vector<double> u;
  std::vector<double> v;
};

Events make_events(std::size_t n, std::uint64_t seed, double lo = -1.0,
                   double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Events ev;
  for (std::size_t i = 0; i < n; ++i) {
    ev.u.push_back(dist(gen));
    ev.v.push_back(dist(gen));
  }
  return ev;
}

template <int N> using Param = std::conditional_t<N == 0, double, Dual<double, N>>;

template <int N> Param<N> param(double v, int k) {
  if constexpr (N == 0) {
    (void)k;
    return v;
  } else {
    return Dual<double, N>::variable(v, k);
  }
}

template <class S> S model_weight(const S& c, double u, double v) {
  using std::exp;
  return (1.0 + 0.5 * u) / (1.0 + exp(-(v - c) / 0.3));
}

/// Fills h (reset first) with the toy events at parameters theta, through x and w.
template <int N>
void fill_1d(GradHist1D<double, N>& h, const std::array<double, 3>& th,
             const Events& ev, bool weighted = true) {
  h.reset();
  const Param<N> a = param<N>(th[0], 0);
  const Param<N> b = param<N>(th[1], 1);
  const Param<N> c = param<N>(th[2], 2);
  for (std::size_t i = 0; i < ev.u.size(); ++i) {
    const Param<N> x = a * ev.u[i] + b;
    if (weighted)
      h.fill(x, model_weight(c, ev.u[i], ev.v[i]));
    else
      h.fill(x);
  }
}

template <int N>
void fill_2d(GradHist2D<double, N>& h, const std::array<double, 3>& th,
             const Events& ev) {
  h.reset();
  const Param<N> a = param<N>(th[0], 0);
  const Param<N> b = param<N>(th[1], 1);
  const Param<N> c = param<N>(th[2], 2);
  for (std::size_t i = 0; i < ev.u.size(); ++i) {
    h.fill(a * ev.u[i] + b, a * ev.v[i] - b, model_weight(c, ev.u[i], ev.v[i]));
  }
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v)
    m = std::max(m, std::fabs(x));
  return m;
}

/// Compares the Jacobians of a dual fill with central finite differences of the
/// values and of sumw2 (step eps[k] in parameter k).
template <class H0, class H3, class Fill0, class Fill3>
void check_against_fd(H0 h0, H3 h3, Fill0 fill0, Fill3 fill3,
                      const std::array<double, 3>& th, std::array<double, 3> steps,
                      double rel) {
  fill3(h3, th);
  const std::int64_t nb = h3.nbins();
  const double scale_v = 1.0 + max_abs(h3.values());
  const double scale_s = 1.0 + max_abs(h3.sumw2());
  for (int k = 0; k < 3; ++k) {
    auto tp = th;
    auto tm = th;
    const double eps = steps[static_cast<std::size_t>(k)];
    tp[static_cast<std::size_t>(k)] += eps;
    tm[static_cast<std::size_t>(k)] -= eps;
    fill0(h0, tp);
    const std::vector<double> vp = h0.values();
    const std::vector<double> sp = h0.sumw2();
    fill0(h0, tm);
    const std::vector<double> vm = h0.values();
    const std::vector<double> sm = h0.sumw2();
    for (std::int64_t b = 0; b < nb; ++b) {
      const auto bi = static_cast<std::size_t>(b);
      const double fd_v = (vp[bi] - vm[bi]) / (2 * eps);
      const double fd_s = (sp[bi] - sm[bi]) / (2 * eps);
      CHECK_CLOSE(h3.jacobian(b, k), fd_v, rel, rel * scale_v);
      CHECK_CLOSE(h3.sumw2_jacobian(b, k), fd_s, rel, rel * scale_s);
    }
  }
}

void check_1d_fd(const std::vector<double>& edges, double bw, Overflow ov,
                 const Events& ev, const std::array<double, 3>& th, double eps = 1e-6,
                 double rel = 2e-6) {
  check_against_fd(
      GradHist1D<double, 0>(edges, bw, ov), GradHist1D<double, 3>(edges, bw, ov),
      [&](GradHist1D<double, 0>& h, const std::array<double, 3>& t) {
        fill_1d(h, t, ev);
      },
      [&](GradHist1D<double, 3>& h, const std::array<double, 3>& t) {
        fill_1d(h, t, ev);
      },
      th, {eps, eps, eps}, rel);
}

void check_2d_fd(const std::vector<double>& xe, const std::vector<double>& ye,
                 double hx, double hy, Overflow ov, const Events& ev,
                 const std::array<double, 3>& th) {
  check_against_fd(
      GradHist2D<double, 0>(xe, ye, hx, hy, ov),
      GradHist2D<double, 3>(xe, ye, hx, hy, ov),
      [&](GradHist2D<double, 0>& h, const std::array<double, 3>& t) {
        fill_2d(h, t, ev);
      },
      [&](GradHist2D<double, 3>& h, const std::array<double, 3>& t) {
        fill_2d(h, t, ev);
      },
      th, {1e-6, 1e-6, 1e-6}, 2e-6);
}

const std::vector<double> kVariable = {-2.0, -1.1, -0.5, -0.2, 0.0,
                                       0.15, 0.6,  1.0,  2.5};

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s;
}

/// Untruncated soft weight of every bin (for the truncation tests).
std::vector<double> untruncated_weights(const BinAxis<double>& axis, double x) {
  std::vector<double> k(static_cast<std::size_t>(axis.nbins));
  for (std::int64_t b = 0; b < axis.nbins; ++b) {
    k[static_cast<std::size_t>(b)] =
        diffana::soft_bin_weight(axis.edge_at(b, x), axis.edge_at(b + 1, x),
                                 axis.bandwidth)
            .k;
  }
  return k;
}

} // namespace

// ---- the normal distribution ----------------------------------------------------

DIFFANA_TEST(normal_cdf_values_and_tails) {
  using diffana::normal_cdf;
  using diffana::normal_pdf;
  CHECK(normal_cdf(0.0) == 0.5);
  CHECK_CLOSE(normal_cdf(1.0), 0.8413447460685429, 1e-15, 0);
  CHECK_CLOSE(normal_cdf(-1.96), 0.024997895148220435, 1e-14, 0);
  // Tails: relative accuracy where 1 - Phi(-z) would have cancelled.
  CHECK_CLOSE(normal_cdf(-7.5), 3.1908916729108844e-14, 1e-13, 0);
  CHECK_CLOSE(normal_cdf(-20.0), 2.7536241186061556e-89, 1e-13, 0);
  CHECK_CLOSE(normal_cdf(-37.5), 4.605353009581954e-308, 1e-12, 0);
  CHECK(normal_cdf(-kInf) == 0.0);
  CHECK(normal_cdf(kInf) == 1.0);
  CHECK(normal_cdf(40.0) == 1.0);
  CHECK_CLOSE(normal_pdf(0.0), 0.3989422804014327, 1e-15, 0);
  CHECK_CLOSE(normal_pdf(-3.0), 0.0044318484119380075, 1e-14, 0);
  CHECK(normal_pdf(kInf) == 0.0);
  CHECK(normal_pdf(1e200) == 0.0);
  CHECK_CLOSE(2 * normal_cdf(-7.5), diffana::soft_truncation_error, 1e-13, 0);
  CHECK(diffana::soft_truncation == 7.5);
  // d Phi / dz = phi, central differences.
  for (double z : {-6.0, -2.5, -0.3, 0.0, 0.7, 3.1}) {
    const double e = 1e-6;
    CHECK_CLOSE((normal_cdf(z + e) - normal_cdf(z - e)) / (2 * e), normal_pdf(z), 1e-7,
                1e-12);
  }
  // float instantiation.
  CHECK_CLOSE(diffana::normal_cdf(-2.0f), 0.022750131948179195, 1e-6, 0);
}

// ---- hard bin lookup ------------------------------------------------------------

DIFFANA_TEST(uniform_lookup_equals_binary_search) {
  std::mt19937_64 gen(7);
  const std::vector<std::array<double, 3>> specs = {
      {10, 0.0, 1.0},         {37, -3.3, 7.1},  {1, 0.0, 1.0},
      {1000, 1e8, 1e8 + 1.0}, {7, -1e-9, 3e-9}, {100, -1e6, 1e6}};
  for (const auto& s : specs) {
    const auto h =
        GradHist1D<double, 0>::uniform(static_cast<std::int64_t>(s[0]), s[1], s[2]);
    const BinAxis<double> axis = h.axis();
    CHECK(axis.uniform);
    const std::vector<double>& e = h.edges();
    std::vector<double> probes;
    for (double edge : e) {
      probes.push_back(edge);
      probes.push_back(std::nextafter(edge, -kInf));
      probes.push_back(std::nextafter(edge, kInf));
    }
    std::uniform_real_distribution<double> dist(s[1] - 0.1 * (s[2] - s[1]),
                                                s[2] + 0.1 * (s[2] - s[1]));
    for (int i = 0; i < 2000; ++i)
      probes.push_back(dist(gen));
    probes.push_back(kInf);
    probes.push_back(-kInf);
    for (double x : probes) {
      // Reference: numpy.searchsorted(edges, x, side="right") - 1, last bin closed.
      std::int64_t ref;
      if (x < e.front())
        ref = -1;
      else if (x > e.back())
        ref = axis.nbins;
      else if (x == e.back())
        ref = axis.nbins - 1;
      else
        ref = (std::upper_bound(e.begin(), e.end(), x) - e.begin()) - 1;
      const std::int64_t got = axis.index(x);
      CHECK(got == ref);
      BinAxis<double> slow = axis;
      slow.uniform = false;
      CHECK(slow.index(x) == ref);
    }
  }
  // Variable edges are not taken for uniform.
  using H0 = GradHist1D<double, 0>;
  CHECK(!H0(kVariable).axis().uniform);
  // Extreme ranges fall back to the binary search and stay exact.
  H0 tiny({0.0, 1e-320, 2e-320});
  CHECK(!tiny.axis().uniform);
  tiny.fill(0.0);
  tiny.fill(1.5e-320);
  tiny.fill(2e-320);
  CHECK(tiny.values()[0] == 1.0 && tiny.values()[1] == 2.0);
  H0 huge({-1e308, 0.0, 1e308});
  CHECK(!huge.axis().uniform);
  huge.fill(-5e307);
  huge.fill(1e308);
  huge.fill(kInf);
  CHECK(huge.values()[0] == 1.0 && huge.values()[1] == 1.0);
  // NaN has no bin.
  CHECK(H0::uniform(4, 0., 1.).axis().index(kNaN) == -1);
}

DIFFANA_TEST(hard_bins_follow_numpy_convention) {
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    GradHist1D<double, 0> h({0.0, 1.0, 2.0, 3.0}, 0.0, ov);
    h.fill(0.0);                            // first edge: bin 0
    h.fill(1.0, 2.0);                       // inner edge: bin 1 ([lo, hi))
    h.fill(3.0, 4.0);                       // last edge: last bin (closed)
    h.fill(std::nextafter(0.0, -1.0), 8.0); // underflow
    h.fill(3.5, 16.0);                      // overflow
    h.fill(-kInf, 32.0);                    // underflow
    h.fill(kInf, 64.0);                     // overflow
    const bool fold = ov == Overflow::fold;
    CHECK(h.values()[0] == 1.0 + (fold ? 8.0 + 32.0 : 0.0));
    CHECK(h.values()[1] == 2.0);
    CHECK(h.values()[2] == 4.0 + (fold ? 16.0 + 64.0 : 0.0));
    CHECK(h.sumw2()[1] == 4.0);
    CHECK(h.n_skipped() == 0);
  }
}

// ---- soft weights ---------------------------------------------------------------

DIFFANA_TEST(soft_weights_match_cdf_differences_and_tails) {
  // Near x: plain differences of Phi are accurate there.
  const std::vector<double> e = {-1.0, -0.4, 0.0, 0.3, 1.2};
  const auto axis = diffana::make_bin_axis(e.data(), 4, 0.5, Overflow::drop);
  const double x = 0.1;
  std::vector<double> k(4, 0.0);
  std::vector<double> dk(4, 0.0);
  diffana::for_each_soft_bin(axis, x, [&](std::int64_t b, double kb, double dkb) {
    k[static_cast<std::size_t>(b)] = kb;
    dk[static_cast<std::size_t>(b)] = dkb;
  });
  for (std::size_t b = 0; b < 4; ++b) {
    const double ref = diffana::normal_cdf((e[b + 1] - x) / 0.5) -
                       diffana::normal_cdf((e[b] - x) / 0.5);
    CHECK_CLOSE(k[b], ref, 1e-14, 1e-16);
    // dk/dx by central differences.
    const double eps = 1e-6;
    auto kb_at = [&](double xx) {
      return diffana::normal_cdf((e[b + 1] - xx) / 0.5) -
             diffana::normal_cdf((e[b] - xx) / 0.5);
    };
    CHECK_CLOSE(dk[b], (kb_at(x + eps) - kb_at(x - eps)) / (2 * eps), 1e-7, 1e-9);
  }
  // Far tails, both sides: relative accuracy against long double erfc, where the naive
  // difference Phi(z_hi) - Phi(z_lo) of two numbers near 1 would lose ~6 digits.
  const std::vector<std::array<double, 2>> tail_bins = {
      {5.0, 6.0}, {7.0, 7.4}, {3.0, 3.01}, {-6.0, -5.0}, {-7.4, -7.0}};
  for (const auto& zb : tail_bins) {
    const auto lo = diffana::soft_edge(zb[0]);
    const auto hi = diffana::soft_edge(zb[1]);
    const double got = diffana::soft_bin_weight(lo, hi, 1.0).k;
    const long double s = 0.70710678118654752440084436210484903928L;
    const long double ref =
        zb[0] > 0 ? 0.5L * (std::erfc(zb[0] * s) - std::erfc(zb[1] * s))
                  : 0.5L * (std::erfc(-zb[1] * s) - std::erfc(-zb[0] * s));
    CHECK_CLOSE(got, static_cast<double>(ref), 1e-12, 0);
  }
}

// ---- the fast tail evaluation (double) --------------------------------------------

namespace {

constexpr long double kInvSqrt2L = 0.70710678118654752440084436210484903928L;
constexpr long double kInvSqrt2PiL = 0.39894228040143267793994605993438186848L;

/// Phi(-t) and phi(t) in long double (erfc and exp of an exactly squared t).
long double tail_ref(long double t) {
  return 0.5L * std::erfc(t * kInvSqrt2L);
}
long double pdf_ref(long double t) {
  return kInvSqrt2PiL * std::exp(-0.5L * t * t);
}

/// Whether long double arithmetic really carries more digits than double. Where it
/// does not (MSVC, Apple arm64, or x87 code run under valgrind, which computes it in
/// double) the references themselves are off by ~t^2 ulp; the tolerances widen.
bool extended_long_double() {
  volatile long double half = 0.5L;
  const long double e = std::exp(-half); // exp(-1/2) has bits beyond a double's
  return e != static_cast<long double>(static_cast<double>(e));
}
const bool kExtended = extended_long_double();

double rel_err(double got, long double ref) {
  return static_cast<double>(std::fabs((static_cast<long double>(got) - ref) / ref));
}

} // namespace

DIFFANA_TEST(fast_normal_tail_and_pdf_match_long_double) {
  // normal_tail_pdf<double> for t <= 37.5 is the Mills-ratio table times the
  // branch-free exp (soft_binning.hpp). Its error is that of rounding -t^2 / 2 (about
  // t^2 / 2 ulp relative, the same as the conditioning of Phi(-t) under a 1-ulp change
  // of t), plus ~2 ulp: measured 2.2e-15 for t <= 7.5 and 5.7e-14 up to 37.5.
  std::mt19937_64 gen(17);
  std::uniform_real_distribution<double> near(0.0, 7.5);
  std::uniform_real_distribution<double> far(7.5, 37.5);
  std::vector<double> ts;
  for (int i = 0; i < 200000; ++i)
    ts.push_back(i % 4 == 0 ? far(gen) : near(gen));
  // Piece centres and boundaries (width 1/16 up to 8.125, then 1/4) and their
  // neighbours, up to the switch to erfc at 37.5.
  for (int i = 0; i <= 600; ++i) {
    for (double c : {i / 16.0, i / 16.0 + 1.0 / 32, i / 4.0 + 0.125}) {
      for (double t : {c, std::nextafter(c, 0.0), std::nextafter(c, kInf)}) {
        if (t <= 37.5) ts.push_back(t);
      }
    }
  }
  double worst_near = 0;  // tail and pdf, relative, t <= 7.5
  double worst_far = 0;   // tail and pdf, relative, 7.5 < t <= 37.5
  double worst_mills = 0; // tail / pdf against the reference ratio
  for (double t : ts) {
    double tail = -1;
    double pdf = -1;
    diffana::normal_tail_pdf(t, tail, pdf);
    const long double rt = tail_ref(t);
    const long double rp = pdf_ref(t);
    const double e = std::fmax(rel_err(tail, rt), rel_err(pdf, rp));
    double& worst = t <= 7.5 ? worst_near : worst_far;
    worst = std::fmax(worst, e);
    worst_mills = std::fmax(worst_mills,
                            static_cast<double>(std::fabs(
                                static_cast<long double>(tail) / pdf / (rt / rp) - 1)));
  }
  CHECK(worst_near <= (kExtended ? 4e-15 : 2e-14));
  CHECK(worst_far <= (kExtended ? 1e-13 : 3e-13));
  CHECK(worst_mills <= (kExtended ? 1e-15 : 3e-13));
  // Limits: Phi(0) = phi(0) sqrt(pi / 2) = 0.5; +inf gives zeros (erfc path).
  double tail = -1;
  double pdf = -1;
  diffana::normal_tail_pdf(0.0, tail, pdf);
  CHECK_CLOSE(tail, 0.5, 2.3e-16, 0);
  CHECK_CLOSE(pdf, 0.3989422804014327, 2.3e-16, 0);
  // Beyond 37.5 (subnormal tails): erfc and exp, as normal_cdf and normal_pdf.
  for (double t : {std::nextafter(37.5, kInf), 37.6, 38.0, 39.0, 100.0}) {
    diffana::normal_tail_pdf(t, tail, pdf);
    CHECK(tail == diffana::normal_cdf(-t) && pdf == diffana::normal_pdf(t));
  }
  diffana::normal_tail_pdf(kInf, tail, pdf);
  CHECK(tail == 0.0 && pdf == 0.0);
  diffana::normal_tail_pdf(1e300, tail, pdf);
  CHECK(tail == 0.0 && pdf == 0.0);
  // Phi(z) as the soft bins use it (1 - tail above 0): absolute error.
  double worst_abs = 0;
  std::uniform_real_distribution<double> zs(-8.0, 8.0);
  for (int i = 0; i < 100000; ++i) {
    const double z = zs(gen);
    const auto e = diffana::soft_edge(z);
    const long double phi_ref = 1.0L - tail_ref(z);
    const double phi = e.upper ? 1.0 - e.tail : e.tail;
    worst_abs = std::fmax(worst_abs, static_cast<double>(std::fabs(phi - phi_ref)));
  }
  CHECK(worst_abs <= 4e-16);
  // float keeps erfc (and agrees).
  float tf = -1;
  float pf = -1;
  diffana::normal_tail_pdf(2.0f, tf, pf);
  CHECK_CLOSE(tf, 0.022750131948179195, 1e-6, 0);
  CHECK_CLOSE(pf, 0.05399096651318806, 1e-6, 0);
}

DIFFANA_TEST(exp_nonpositive_within_two_ulp) {
  std::mt19937_64 gen(23);
  std::uniform_real_distribution<double> wide(-708.0, 0.0);
  std::uniform_real_distribution<double> small(-1.0, 0.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double a = i % 2 == 0 ? wide(gen) : small(gen);
    const long double ref = std::exp(static_cast<long double>(a));
    worst = std::fmax(worst, rel_err(diffana::detail::exp_nonpositive(a), ref));
  }
  CHECK(worst <= (kExtended ? 4.5e-16 : 1e-15));
  CHECK(diffana::detail::exp_nonpositive(0.0) == 1.0);
  CHECK(diffana::detail::exp_nonpositive(-0.0) == 1.0);
  CHECK_CLOSE(diffana::detail::exp_nonpositive(-708.0), 3.3075530036384083e-308, 5e-16,
              0);
}

DIFFANA_TEST(soft_weights_in_deep_tails_and_across_table_pieces) {
  // Bins far out (relative accuracy against long double erfc), including bins that
  // straddle a change of piece width (8.125) or the switch to erfc (37.5).
  const std::vector<std::array<double, 2>> bins = {
      {8.0, 8.2},   {8.1, 8.125}, {8.125, 8.5},  {12.0, 12.25},  {20.0, 20.5},
      {30.0, 31.0}, {37.0, 37.4}, {37.4, 37.6},  {-37.6, -37.4}, {-20.5, -20.0},
      {-8.2, -8.0}, {0.0, 1e-3},  {-1e-3, 1e-3}, {2.999, 3.0},   {-3.0, -2.999}};
  for (const auto& zb : bins) {
    const double got = diffana::soft_bin_weight(diffana::soft_edge(zb[0]),
                                                diffana::soft_edge(zb[1]), 1.0)
                           .k;
    long double ref;
    if (zb[0] >= 0)
      ref = tail_ref(zb[0]) - tail_ref(zb[1]);
    else if (zb[1] <= 0)
      ref = tail_ref(-zb[1]) - tail_ref(-zb[0]);
    else
      ref = 1.0L - tail_ref(-zb[0]) - tail_ref(zb[1]);
    CHECK_CLOSE(got, static_cast<double>(ref), 1e-12, 0);
  }
}

DIFFANA_TEST(soft_blocks_visit_each_bin_and_edge_once) {
  // Spans from 1 bin to several blocks (detail::soft_block bins each; the edge loop
  // pads an odd number of edges with a neighbour on either side), both overflow
  // policies, events inside, on edges and outside: every bin of the span is visited
  // once and in order with k and dk/dx as the long double formula, and every finite
  // edge of the span once, before its bins.
  const auto h40 = GradHist1D<double, 0>::uniform(40, -2.0, 2.0);
  const std::vector<double>& e = h40.edges();
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> xs(-3.0, 3.0);
  double worst_k = 0;
  double worst_dk = 0;
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    for (double bw : {0.002, 0.013, 0.03, 0.07, 0.2, 0.6}) {
      const auto axis = diffana::make_bin_axis(e.data(), 40, bw, ov);
      std::vector<double> x_values = {e[0], e[7], e[40], 0.0};
      for (int i = 0; i < 60; ++i)
        x_values.push_back(xs(gen));
      for (double x : x_values) {
        const diffana::BinSpan span = axis.soft_span(x);
        std::vector<std::int64_t> want_bins;
        std::vector<std::int64_t> want_edges;
        for (std::int64_t b = span.first; b <= span.last; ++b)
          want_bins.push_back(b);
        for (std::int64_t j = span.first; !span.empty() && j <= span.last + 1; ++j) {
          if (!(ov == Overflow::fold && (j == 0 || j == 40))) want_edges.push_back(j);
        }
        std::vector<std::int64_t> bins_seen;
        std::vector<std::int64_t> edges_seen;
        bool edges_first = true;
        diffana::for_each_soft_bin(
            axis, x,
            [&](std::int64_t b, double k, double dk) {
              bins_seen.push_back(b);
              // Its upper edge was visited before (unless it is folded to +inf).
              edges_first =
                  edges_first && ((!edges_seen.empty() && edges_seen.back() >= b + 1) ||
                                  (ov == Overflow::fold && b == 39));
              const auto bi = static_cast<std::size_t>(b);
              const long double z0 = (static_cast<long double>(e[bi]) - x) / bw;
              const long double z1 = (static_cast<long double>(e[bi + 1]) - x) / bw;
              const bool lo_inf = ov == Overflow::fold && b == 0;
              const bool hi_inf = ov == Overflow::fold && b == 39;
              const long double c0 = lo_inf ? 0.0L : 1.0L - tail_ref(z0);
              const long double c1 = hi_inf ? 1.0L : 1.0L - tail_ref(z1);
              const long double p0 = lo_inf ? 0.0L : pdf_ref(z0);
              const long double p1 = hi_inf ? 0.0L : pdf_ref(z1);
              worst_k =
                  std::fmax(worst_k, static_cast<double>(std::fabs(k - (c1 - c0))));
              worst_dk = std::fmax(
                  worst_dk, static_cast<double>(std::fabs(dk - (p0 - p1) / bw)) * bw);
            },
            [&](std::int64_t j, const diffana::SoftEdge<double>& edge) {
              edges_seen.push_back(j);
              CHECK(std::isfinite(edge.z));
            });
        CHECK(bins_seen == want_bins);
        CHECK(edges_seen == want_edges);
        CHECK(edges_first);
      }
    }
  }
  CHECK(worst_k <= 1e-15);
  CHECK(worst_dk <= 1e-15);
}

DIFFANA_TEST(soft_span_and_truncation_bound) {
  // Narrow bins (0.01 h): the span's outer edges lie within 0.01 h of x -+ 7.5 h, so
  // nearly the whole bound is left out. Compare with an untruncated evaluation.
  const auto h = GradHist1D<double, 0>::uniform(4000, -20.0, 20.0, 1.0);
  const BinAxis<double> axis = h.axis();
  for (double x : {0.123, -3.0, 11.111}) {
    const auto span = axis.soft_span(x);
    CHECK(axis.edges[span.first] <= x - 7.5);
    CHECK(axis.edges[span.last + 1] >= x + 7.5);
    CHECK(span.last - span.first + 1 <= 1502);
    GradHist1D<double, 0> one = h;
    one.fill(x);
    const std::vector<double> full = untruncated_weights(axis, x);
    double diff = 0;
    for (std::size_t b = 0; b < full.size(); ++b)
      diff += std::fabs(full[b] - one.values()[b]);
    const double missing = sum(full) - sum(one.values());
    CHECK(diff <= diffana::soft_truncation_error * (1 + 1e-9) + 1e-15);
    CHECK(missing <= diffana::soft_truncation_error * (1 + 1e-9) + 1e-15);
    CHECK(missing >= 0.8 * diffana::soft_truncation_error);
    // The untruncated weights sum to 1 (all mass inside [-20, 20] up to 1e-88).
    CHECK_CLOSE(sum(full), 1.0, 1e-14, 0);
  }
  // Drop: an event whose truncated kernel is outside gives an empty span.
  CHECK(axis.soft_span(27.6).empty());
  CHECK(!axis.soft_span(27.4).empty());
  CHECK(axis.soft_span(-27.6).empty());
  // Fold: never empty, clamped to the axis.
  BinAxis<double> fold = axis;
  fold.overflow = Overflow::fold;
  const diffana::BinSpan right = fold.soft_span(100.0);
  const diffana::BinSpan left = fold.soft_span(-100.0);
  CHECK(right.first == 3999 && right.last == 3999);
  CHECK(left.first == 0 && left.last == 0);
}

// ---- GradHist1D Jacobians against finite differences ----------------------------

DIFFANA_TEST(hist1d_hard_jacobian_matches_fd) {
  const Events ev = make_events(400, 11);
  const std::array<double, 3> th = {1.3, 0.2, 0.1};
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    check_1d_fd(kVariable, 0.0, ov, ev, th);
    check_1d_fd(GradHist1D<double, 0>::uniform(12, -1.0, 1.0).edges(), 0.0, ov, ev, th);
  }
  // The gradient of a hard histogram flows through the weight only.
  GradHist1D<double, 3> h(kVariable);
  fill_1d(h, th, ev);
  for (std::int64_t b = 0; b < h.nbins(); ++b) {
    CHECK(h.jacobian(b, 0) == 0.0);
    CHECK(h.jacobian(b, 1) == 0.0);
  }
}

DIFFANA_TEST(hist1d_soft_jacobian_matches_fd) {
  const Events ev = make_events(300, 12);
  const std::array<double, 3> th = {1.3, 0.2, 0.1};
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    for (double bw : {0.05, 0.3, 2.0}) {
      check_1d_fd(kVariable, bw, ov, ev, th);
      check_1d_fd(GradHist1D<double, 0>::uniform(16, -1.2, 1.2).edges(), bw, ov, ev,
                  th);
    }
  }
  // Parameters at 0 (x = 0 for every event at a = b = 0 lies on an edge).
  check_1d_fd(kVariable, 0.2, Overflow::drop, ev, {0.0, 0.0, 0.0});
}

DIFFANA_TEST(hist1d_soft_jacobian_large_magnitudes) {
  // Events around 1e6 with unit bins: x = a u + b with b = 1e6.
  const Events ev = make_events(200, 13, -5.0, 5.0);
  const auto edges = GradHist1D<double, 0>::uniform(12, 1e6 - 6.0, 1e6 + 6.0).edges();
  for (Overflow ov : {Overflow::drop, Overflow::fold})
    check_1d_fd(edges, 0.7, ov, ev, {1.1, 1e6, 0.3}, 1e-4, 2e-5);
  // Tiny scales: edges ~1e-6 wide, bandwidth 3e-7, x = a u + b with a = 1e-6.
  const auto small = GradHist1D<double, 0>::uniform(10, -1e-6, 1e-6, 0.0).edges();
  check_against_fd(
      GradHist1D<double, 0>(small, 3e-7), GradHist1D<double, 3>(small, 3e-7),
      [&](GradHist1D<double, 0>& h, const std::array<double, 3>& t) {
        fill_1d(h, t, ev);
      },
      [&](GradHist1D<double, 3>& h, const std::array<double, 3>& t) {
        fill_1d(h, t, ev);
      },
      {2e-7, 1e-8, 0.0}, {1e-13, 1e-13, 1e-6}, 2e-6);
  // Large weights (1e6): sumw2 ~ 1e12; the relative check scales.
  GradHist1D<double, 1> big(kVariable, 0.3);
  big.fill(Dual<double, 1>::variable(0.1, 0), 1e6);
  GradHist1D<double, 0> p(kVariable, 0.3);
  GradHist1D<double, 0> m(kVariable, 0.3);
  p.fill(0.1 + 1e-6, 1e6);
  m.fill(0.1 - 1e-6, 1e6);
  for (std::int64_t b = 0; b < big.nbins(); ++b) {
    const auto bi = static_cast<std::size_t>(b);
    CHECK_CLOSE(big.jacobian(b, 0), (p.values()[bi] - m.values()[bi]) / 2e-6, 1e-6,
                1e-2);
    CHECK_CLOSE(big.sumw2_jacobian(b, 0), (p.sumw2()[bi] - m.sumw2()[bi]) / 2e-6, 1e-6,
                1e4);
  }
}

DIFFANA_TEST(hist1d_mixed_plain_and_dual_inputs) {
  // x Dual, w plain; x plain, w Dual; integer inputs.
  GradHist1D<double, 2> h({0.0, 1.0, 2.0}, 0.4);
  h.fill(Dual<double, 2>::variable(0.7, 0), 2.0);
  h.fill(1.5, Dual<double, 2>::variable(3.0, 1));
  h.fill(1, 2);
  // Bin 0: 2 k0(0.7) + 3 k0(1.5) + 2 k0(1).
  const auto axis = h.axis();
  auto k = [&](double x, std::int64_t bin) {
    double r = 0;
    diffana::for_each_soft_bin(axis, x, [&](std::int64_t b, double kb, double) {
      if (b == bin) r = kb;
    });
    return r;
  };
  CHECK_CLOSE(h.values()[0], 2 * k(0.7, 0) + 3 * k(1.5, 0) + 2 * k(1.0, 0), 1e-14, 0);
  CHECK_CLOSE(h.jacobian(0, 1), k(1.5, 0), 1e-14, 0);
  CHECK_CLOSE(h.jacobian(1, 1), k(1.5, 1), 1e-14, 0);
  // d/dx of 2 k0(x) at 0.7.
  CHECK_CLOSE(h.jacobian(0, 0), 2 * (k(0.7 + 1e-6, 0) - k(0.7 - 1e-6, 0)) / 2e-6, 1e-6,
              1e-9);
  const Dual<double, 2> b1 = h.bin(1);
  CHECK(b1.value() == h.values()[1]);
  CHECK(b1.tangent(1) == h.jacobian(1, 1));
  CHECK_THROWS_WITH(h.jacobian(2, 0), std::out_of_range, "b = 2");
  CHECK_THROWS_WITH(h.jacobian(0, 2), std::out_of_range, "k = 2");
  // float histograms.
  GradHist1D<float, 1> hf({0.0f, 1.0f, 2.0f}, 0.0f);
  hf.fill(Dual<float, 1>::variable(0.5f, 0), Dual<float, 1>::variable(2.0f, 0));
  CHECK(hf.values()[0] == 2.0f);
  CHECK(hf.jacobian(0, 0) == 1.0f);
  CHECK(hf.sumw2_jacobian(0, 0) == 4.0f);
}

DIFFANA_TEST(hist1d_soft_jacobian_events_on_edges) {
  // Every event exactly on an edge (outer ones included) at the expansion point:
  // x_i = a u_i + b with u_i = edge values, a = 1, b = 0.
  Events ev;
  for (double e : kVariable) {
    ev.u.push_back(e);
    ev.v.push_back(0.3 * e);
  }
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    for (double bw : {1e-3, 0.1})
      check_1d_fd(kVariable, bw, ov, ev, {1.0, 0.0, 0.2}, 1e-7);
  }
}

DIFFANA_TEST(hist1d_float_matches_double) {
  const Events ev = make_events(200, 19);
  for (double bw : {0.0, 0.2}) {
    GradHist1D<double, 1> hd(kVariable, bw);
    std::vector<float> ef(kVariable.begin(), kVariable.end());
    GradHist1D<float, 1> hf(ef, static_cast<float>(bw));
    for (std::size_t i = 0; i < ev.u.size(); ++i) {
      const double x = 1.3 * ev.u[i];
      hd.fill(Dual<double, 1>::variable(x, 0), 0.5 + ev.v[i]);
      hf.fill(Dual<float, 1>::variable(static_cast<float>(x), 0),
              static_cast<float>(0.5 + ev.v[i]));
    }
    for (std::int64_t b = 0; b < hd.nbins(); ++b) {
      const auto bi = static_cast<std::size_t>(b);
      CHECK_CLOSE(hf.values()[bi], hd.values()[bi], 1e-4, 1e-4);
      CHECK_CLOSE(hf.jacobian(b, 0), hd.jacobian(b, 0), 1e-3, 1e-3);
    }
  }
}

// ---- totals, soft -> hard, merge ------------------------------------------------

DIFFANA_TEST(hist1d_totals_equal_summed_weights) {
  const Events ev = make_events(500, 14, -3.0, 3.0); // many events outside [-2, 2.5]
  const std::array<double, 3> th = {1.0, 0.3, 0.2};
  double sum_w = 0;
  std::array<double, 3> sum_dw = {0, 0, 0};
  for (std::size_t i = 0; i < ev.u.size(); ++i) {
    const auto w = model_weight(Dual<double, 3>::variable(th[2], 2), ev.u[i], ev.v[i]);
    sum_w += w.value();
    for (int k = 0; k < 3; ++k)
      sum_dw[static_cast<std::size_t>(k)] += w.tangent(k);
  }
  for (double bw : {0.0, 0.01, 0.5, 3.0}) {
    GradHist1D<double, 3> h(kVariable, bw, Overflow::fold);
    fill_1d(h, th, ev);
    CHECK_CLOSE(sum(h.values()), sum_w, 1e-12, 0);
    for (int k = 0; k < 3; ++k) {
      double col = 0;
      for (std::int64_t b = 0; b < h.nbins(); ++b)
        col += h.jacobian(b, k);
      CHECK_CLOSE(col, sum_dw[static_cast<std::size_t>(k)], 1e-10, 1e-10);
    }
  }
  // Drop, hard: the total is the weight of the events inside.
  GradHist1D<double, 0> hd(kVariable);
  fill_1d(hd, th, ev);
  double inside = 0;
  for (std::size_t i = 0; i < ev.u.size(); ++i) {
    const double x = th[0] * ev.u[i] + th[1];
    if (x >= kVariable.front() && x <= kVariable.back())
      inside += model_weight(th[2], ev.u[i], ev.v[i]);
  }
  CHECK_CLOSE(sum(hd.values()), inside, 1e-12, 0);
}

DIFFANA_TEST(hist1d_soft_tends_to_hard) {
  // Events at least 1e-3 from any edge; bandwidth 1e-5 (>= 100 h away).
  const Events ev0 = make_events(300, 15, -1.9, 2.4);
  Events ev;
  for (std::size_t i = 0; i < ev0.u.size(); ++i) {
    bool near = false;
    for (double e : kVariable)
      near = near || std::fabs(ev0.u[i] - e) < 1e-3;
    if (!near) {
      ev.u.push_back(ev0.u[i]);
      ev.v.push_back(ev0.v[i]);
    }
  }
  const std::array<double, 3> th = {1.0, 0.0, 0.1};
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    GradHist1D<double, 3> hard(kVariable, 0.0, ov);
    fill_1d(hard, th, ev);
    for (double bw : {1e-4, 1e-5}) {
      GradHist1D<double, 3> soft(kVariable, bw, ov);
      fill_1d(soft, th, ev);
      for (std::int64_t b = 0; b < hard.nbins(); ++b) {
        const auto bi = static_cast<std::size_t>(b);
        CHECK_CLOSE(soft.values()[bi], hard.values()[bi], 1e-12, 1e-12);
        CHECK_CLOSE(soft.sumw2()[bi], hard.sumw2()[bi], 1e-12, 1e-12);
        for (int k = 0; k < 3; ++k)
          CHECK_CLOSE(soft.jacobian(b, k), hard.jacobian(b, k), 1e-10, 1e-10);
      }
    }
  }
}

DIFFANA_TEST(hist1d_merge_is_associative_and_equals_one_fill) {
  const Events ev = make_events(300, 16);
  const std::array<double, 3> th = {1.2, -0.1, 0.0};
  for (double bw : {0.0, 0.25}) {
    GradHist1D<double, 3> all(kVariable, bw);
    fill_1d(all, th, ev);
    Events parts[3];
    for (std::size_t i = 0; i < ev.u.size(); ++i) {
      parts[i % 3].u.push_back(ev.u[i]);
      parts[i % 3].v.push_back(ev.v[i]);
    }
    std::vector<GradHist1D<double, 3>> h(3, GradHist1D<double, 3>(kVariable, bw));
    for (std::size_t p = 0; p < 3; ++p)
      fill_1d(h[p], th, parts[p]);
    h[0].fill(kNaN); // one skipped event travels with the merge
    GradHist1D<double, 3> left = h[0];
    left += h[1];
    left.merge(h[2]);
    GradHist1D<double, 3> right = h[1] + h[2];
    right = h[0] + right;
    CHECK(left.n_skipped() == 1 && right.n_skipped() == 1);
    auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
      bool ok = a.size() == b.size();
      for (std::size_t i = 0; ok && i < a.size(); ++i)
        ok = diffana::test::close(a[i], b[i], 1e-13, 1e-14);
      return ok;
    };
    CHECK(same(left.values(), right.values()));
    CHECK(same(left.values(), all.values()));
    CHECK(same(left.sumw2(), all.sumw2()));
    CHECK(same(left.jacobian(), all.jacobian()));
    CHECK(same(left.sumw2_jacobian(), right.sumw2_jacobian()));
    CHECK(same(left.sumw2_jacobian(), all.sumw2_jacobian()));
    left.reset();
    CHECK(max_abs(left.values()) == 0.0 && max_abs(left.jacobian()) == 0.0);
    CHECK(left.n_skipped() == 0);
  }
}

// ---- NaN, infinities, errors ----------------------------------------------------

DIFFANA_TEST(hist1d_nan_events_are_skipped) {
  for (double bw : {0.0, 0.3}) {
    for (Overflow ov : {Overflow::drop, Overflow::fold}) {
      GradHist1D<double, 2> h(kVariable, bw, ov);
      h.fill(kNaN);
      h.fill(0.3, kNaN);
      h.fill(0.3, kInf);
      h.fill(0.3, -kInf);
      h.fill(Dual<double, 2>::variable(kNaN, 0), 1.0);
      h.fill(0.3, Dual<double, 2>::variable(kNaN, 1));
      CHECK(h.n_skipped() == 6);
      CHECK(max_abs(h.values()) == 0.0);
      CHECK(max_abs(h.sumw2()) == 0.0);
      CHECK(max_abs(h.jacobian()) == 0.0);
      // +-inf x: an under/overflow, zero derivative with respect to x.
      h.fill(Dual<double, 2>::variable(kInf, 0), Dual<double, 2>::variable(2.0, 1));
      h.fill(-kInf, 3.0);
      const bool fold = ov == Overflow::fold;
      CHECK(h.values().back() == (fold ? 2.0 : 0.0));
      CHECK(h.values().front() == (fold ? 3.0 : 0.0));
      CHECK(h.jacobian(h.nbins() - 1, 0) == 0.0);
      CHECK(h.jacobian(h.nbins() - 1, 1) == (fold ? 1.0 : 0.0));
      CHECK(h.sumw2_jacobian(h.nbins() - 1, 1) == (fold ? 4.0 : 0.0));
      CHECK(h.n_skipped() == 6);
    }
  }
}

DIFFANA_TEST(hist1d_far_events_and_edge_cases) {
  // Soft, drop: an event 100 h outside contributes nothing; fold: all to the edge bin.
  GradHist1D<double, 1> d(kVariable, 0.1, Overflow::drop);
  GradHist1D<double, 1> f(kVariable, 0.1, Overflow::fold);
  for (auto* h : {&d, &f}) {
    h->fill(Dual<double, 1>::variable(12.5, 0));
    h->fill(Dual<double, 1>::variable(-1e300, 0));
  }
  CHECK(max_abs(d.values()) == 0.0);
  CHECK(f.values().back() == 1.0 && f.values().front() == 1.0);
  CHECK(max_abs(f.jacobian()) == 0.0);
  // Exactly on the outer edge, soft drop: half the kernel falls outside.
  GradHist1D<double, 0> e(kVariable, 0.05);
  e.fill(2.5);
  CHECK_CLOSE(sum(e.values()), 0.5, 1e-15, 0);
  // One bin, soft fold: everything is in it, with zero x-derivative.
  GradHist1D<double, 1> one({0.0, 1.0}, 0.5, Overflow::fold);
  one.fill(Dual<double, 1>::variable(0.9, 0));
  CHECK(one.values()[0] == 1.0 && one.jacobian(0, 0) == 0.0);
  // A bandwidth huge compared with the axis (the reach 7.5 h overflows nothing).
  GradHist1D<double, 0> wide(kVariable, 1e300);
  wide.fill(0.0);
  CHECK(std::isfinite(sum(wide.values())));
  CHECK(sum(wide.values()) < 1e-290);
}

DIFFANA_TEST(hist_errors_name_the_argument) {
  using E = std::invalid_argument;
  using H = GradHist1D<double, 1>;
  CHECK_THROWS_WITH(H(std::vector<double>{}), E, "edges must have at least 2");
  CHECK_THROWS_WITH(H({1.0}), E, "edges must have at least 2 entries (one bin), got 1");
  CHECK_THROWS_WITH(H({0.0, 1.0, 1.0}), E, "edges[2] = 1 <= edges[1] = 1");
  CHECK_THROWS_WITH(H({0.0, 2.0, 1.0}), E, "strictly increasing");
  CHECK_THROWS_WITH(H({0.0, kNaN, 2.0}), E, "edges must be finite, got edges[1] = nan");
  CHECK_THROWS_WITH(H({0.0, 1.0, kInf}), E, "edges[2] = inf");
  CHECK_THROWS_WITH(H({0.0, 1.0}, -1.0), E, "bandwidth must be finite and >= 0");
  CHECK_THROWS_WITH(H({0.0, 1.0}, -1.0), E, "got -1");
  CHECK_THROWS_WITH(H({0.0, 1.0}, kNaN), E, "bandwidth");
  CHECK_THROWS_WITH(H({0.0, 1.0}, kInf), E, "bandwidth");
  CHECK_THROWS_WITH(H({0.0, 1.0}, 0.0, static_cast<Overflow>(7)), E, "overflow");
  CHECK_THROWS_WITH(H({0.0, 1.0}, 0.0, static_cast<Overflow>(7)), E, "got 7");
  CHECK_THROWS_WITH(H::uniform(0, 0.0, 1.0), E, "nbins must be >= 1, got 0");
  CHECK_THROWS_WITH(H::uniform(3, 1.0, 0.0), E, "hi must be finite and > lo");
  CHECK_THROWS_WITH(H::uniform(3, kNaN, 1.0), E, "lo must be finite");
  CHECK_THROWS_WITH(H::uniform(3, 0.0, 1.0, -0.5), E, "bandwidth");
  // Merging different binnings.
  H a({0.0, 1.0, 2.0});
  CHECK_THROWS_WITH(a.merge(H({0.0, 1.0, 3.0})), E, "other has a different binning");
  CHECK_THROWS_WITH(a += H({0.0, 1.0, 2.0}, 0.1), E, "other");
  CHECK_THROWS_WITH(a += H({0.0, 1.0, 2.0}, 0.0, Overflow::fold), E, "other");
  // 2D.
  using H2 = GradHist2D<double, 1>;
  CHECK_THROWS_WITH(H2({0.0}, {0.0, 1.0}), E, "xedges must have at least 2");
  CHECK_THROWS_WITH(H2({0.0, 1.0}, {0.0, 0.0}), E, "yedges[1] = 0 <= yedges[0] = 0");
  CHECK_THROWS_WITH(H2({0.0, 1.0}, {0.0, 1.0}, -1.0), E, "xbandwidth");
  CHECK_THROWS_WITH(H2({0.0, 1.0}, {0.0, 1.0}, 0.0, kNaN), E, "ybandwidth");
  CHECK_THROWS_WITH(H2({0.0, 1.0}, {0.0, 1.0}, 0.0, 0.0, static_cast<Overflow>(-1)), E,
                    "overflow");
  CHECK_THROWS_WITH(H2::uniform(2, 0.0, 1.0, 0, 0.0, 1.0), E, "ny must be >= 1");
  H2 a2({0.0, 1.0}, {0.0, 1.0});
  CHECK_THROWS_WITH(a2.merge(H2({0.0, 1.0}, {0.0, 2.0})), E, "other");
  CHECK_THROWS_WITH(a2.bin(1, 0), std::out_of_range, "(ix, iy) = (1, 0)");
}

// ---- GradHist2D -----------------------------------------------------------------

DIFFANA_TEST(hist2d_row_major_layout) {
  GradHist2D<double, 1> h({0.0, 1.0, 2.0}, {0.0, 1.0, 2.0, 3.0});
  CHECK(h.nx() == 2 && h.ny() == 3 && h.nbins() == 6);
  h.fill(1.5, 2.5, Dual<double, 1>::variable(4.0, 0)); // (ix, iy) = (1, 2)
  h.fill(0.5, 0.5);
  CHECK(h.values()[static_cast<std::size_t>(h.bin_index(1, 2))] == 4.0);
  CHECK(h.values()[5] == 4.0 && h.values()[0] == 1.0);
  CHECK(h.jacobian(5, 0) == 1.0);
  CHECK(h.sumw2_jacobian(5, 0) == 8.0);
  CHECK(h.bin(1, 2).value() == 4.0);
  h.fill(5.0, 0.5); // x overflow, dropped
  h.fill(0.5, kNaN);
  CHECK(sum(h.values()) == 5.0 && h.n_skipped() == 1);
}

DIFFANA_TEST(hist2d_jacobian_matches_fd) {
  const Events ev = make_events(250, 17);
  const std::array<double, 3> th = {1.1, 0.15, 0.05};
  const std::vector<double> xe = {-1.5, -0.7, -0.1, 0.2, 0.9, 1.6};
  const auto ye = GradHist2D<double, 0>::uniform(2, 0., 1., 7, -1.4, 1.2).yedges();
  for (Overflow ov : {Overflow::drop, Overflow::fold}) {
    check_2d_fd(xe, ye, 0.0, 0.0, ov, ev, th);
    check_2d_fd(xe, ye, 0.2, 0.0, ov, ev, th);
    check_2d_fd(xe, ye, 0.0, 0.15, ov, ev, th);
    check_2d_fd(xe, ye, 0.2, 0.4, ov, ev, th);
  }
}

DIFFANA_TEST(hist2d_totals_and_product_kernel) {
  const Events ev = make_events(300, 18, -2.0, 2.0);
  const std::array<double, 3> th = {1.0, 0.1, 0.0};
  double sum_w = 0;
  for (std::size_t i = 0; i < ev.u.size(); ++i)
    sum_w += model_weight(th[2], ev.u[i], ev.v[i]);
  for (double hx : {0.0, 0.3})
    for (double hy : {0.0, 0.5}) {
      GradHist2D<double, 3> h({-1.0, 0.0, 1.0}, {-1.0, -0.5, 0.5, 1.0}, hx, hy,
                              Overflow::fold);
      fill_2d(h, th, ev);
      CHECK_CLOSE(sum(h.values()), sum_w, 1e-12, 0);
    }
  // Soft 2D = outer product of the 1D kernels; ny = 300 fine bins under a wide
  // kernel exercise the chunked y weights (more than 64 bins in the span).
  const auto xh = GradHist1D<double, 1>::uniform(20, -1.0, 1.0, 0.2);
  const auto yh = GradHist1D<double, 1>::uniform(300, -1.0, 1.0, 0.1);
  GradHist2D<double, 1> h2(xh.edges(), yh.edges(), 0.2, 0.1);
  GradHist1D<double, 1> hx1 = xh;
  GradHist1D<double, 1> hy1 = yh;
  const auto x = Dual<double, 1>::variable(0.13, 0);
  const double y = -0.21;
  h2.fill(x, y, 2.0);
  hx1.fill(x, 2.0);
  hy1.fill(y);
  for (std::int64_t ix = 0; ix < h2.nx(); ++ix) {
    for (std::int64_t iy = 0; iy < h2.ny(); ++iy) {
      const auto b = h2.bin_index(ix, iy);
      const double ref = hx1.values()[static_cast<std::size_t>(ix)] *
                         hy1.values()[static_cast<std::size_t>(iy)];
      CHECK_CLOSE(h2.values()[static_cast<std::size_t>(b)], ref, 1e-13, 1e-300);
      CHECK_CLOSE(h2.jacobian(b, 0),
                  hx1.jacobian(ix, 0) * hy1.values()[static_cast<std::size_t>(iy)],
                  1e-13, 1e-300);
    }
  }
}

// ---- bandwidths from subnormal to huge -------------------------------------------

DIFFANA_TEST(hist_any_bandwidth_conserves_weight_and_stays_finite) {
  // x -+ 7.5 h rounds back to x for h < ulp(x) / 15: the span must still reach 7.5 h
  // either side (an event on an interior edge keeps both halves), and a subnormal h,
  // whose reciprocal overflows, must not turn 0 * inf into NaN bins or derivatives.
  const std::vector<double> edges = {0.0, 1000.0, 2000.0};
  const double big = std::numeric_limits<double>::max();
  for (double bw : {5e-324, 1e-320, 5e-309, 2.2250738585072014e-308, 1e-300, 1e-100,
                    1e-15, 1e-13, 1.0, 1e300, 1.7e308}) {
    for (double x : {1000.0, 1000.0 * (1 + 0x1p-52), 500.0, 0.0, 2000.0, -1e308, 1e308,
                     -big, big, 1e-310}) {
      GradHist1D<double, 2> h(edges, bw, Overflow::fold);
      // w <= 1/2: 2 c dc stays finite where dc is clipped to the largest double.
      h.fill(Dual<double, 2>::variable(x, 0), Dual<double, 2>(0.5));
      CHECK_CLOSE(sum(h.values()), 0.5, 0, diffana::soft_truncation_error);
      for (std::int64_t b = 0; b < 2; ++b) {
        CHECK(std::isfinite(h.values()[static_cast<std::size_t>(b)]));
        CHECK(std::isfinite(h.sumw2()[static_cast<std::size_t>(b)]));
        CHECK(std::isfinite(h.jacobian(b, 0)));
        CHECK(std::isfinite(h.sumw2_jacobian(b, 0)));
        CHECK(h.jacobian(b, 1) == 0.0); // a parameter that moves nothing
        CHECK(h.sumw2_jacobian(b, 1) == 0.0);
      }
    }
    if (bw <= 1e-13) {
      // The limit h -> 0: hard binning, an event on an edge split half/half.
      GradHist1D<double, 1> h(edges, bw);
      h.fill(1000.0);
      CHECK_CLOSE(h.values()[0], 0.5, 0, diffana::soft_truncation_error);
      CHECK_CLOSE(h.values()[1], 0.5, 0, diffana::soft_truncation_error);
      GradHist2D<double, 1> h2(edges, edges, bw, bw);
      h2.fill(Dual<double, 1>::variable(1000.0, 0), 1000.0);
      for (std::int64_t b = 0; b < 4; ++b) {
        CHECK_CLOSE(h2.values()[static_cast<std::size_t>(b)], 0.25, 0,
                    diffana::soft_truncation_error);
        CHECK(std::isfinite(h2.jacobian(b, 0)));
      }
    }
  }
  // float: the smallest subnormal float bandwidth.
  GradHist1D<float, 1> hf({0.0f, 1000.0f, 2000.0f}, 1e-45f);
  hf.fill(Dual<float, 1>::variable(1000.0f, 0));
  hf.fill(Dual<float, 1>::variable(10.0f, 0));
  CHECK_CLOSE(hf.values()[0], 1.5f, 0, 1e-6);
  CHECK_CLOSE(hf.values()[1], 0.5f, 0, 1e-6);
  CHECK(std::isfinite(hf.jacobian(0, 0)) && std::isfinite(hf.jacobian(1, 0)));
}

DIFFANA_TEST(soft_span_reaches_7_5_bandwidths_in_z) {
  const std::vector<double> edges = {0.0, 1000.0, 2000.0, 3000.0};
  for (double bw : {5e-324, 1e-300, 1e-15, 1e-14, 0.5}) {
    const auto axis = diffana::make_bin_axis(edges.data(), 3, bw, Overflow::drop);
    for (double x : {1000.0, 2000.0, 1500.0, 999.9999999999999, 2000.0000000000002}) {
      const diffana::BinSpan span = axis.soft_span(x);
      const auto sc = diffana::soft_scale(bw);
      CHECK(span.first == 0 ||
            sc.z(edges[static_cast<std::size_t>(span.first)], x) <= -7.5);
      CHECK(span.last == 2 ||
            sc.z(edges[static_cast<std::size_t>(span.last + 1)], x) >= 7.5);
    }
  }
}

int main() {
  return diffana::test::run_all();
}
