// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana/soft/cuts.hpp and the kernels diffana_soft_cut_f64 /
/// diffana_soft_window_f64: values against relaxed.cut's formula, every partial
/// derivative against central finite differences, Duals against the partials, the
/// edge cases (x == cut, slope = 0, |slope (x - cut)| = 30 and 800, infinities), and
/// the kernels against the header element by element.
#include "diffana/ad/dual.hpp"
#include "diffana/kernels.h"
#include "diffana/soft/cuts.hpp"

#include "check.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace {

using diffana::Dual;
using D3 = Dual<double, 3>;
using D4 = Dual<double, 4>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// relaxed.cut, written out independently: keep="above" / "below".
double relaxed_above(double x, double cut, double slope) {
  return 1.0 / (1.0 + std::exp(-slope * (x - cut)));
}
double relaxed_below(double x, double cut, double slope) {
  return 1.0 / (1.0 + std::exp(slope * (x - cut)));
}

/// Central finite difference of f at v along one coordinate.
double central_fd(const std::function<double(double)>& f, double v) {
  const double h = 1e-6 * std::fmax(1.0, std::fabs(v));
  return (f(v + h) - f(v - h)) / (2.0 * h);
}

/// Partials of a function of n arguments by central differences, argument by argument.
template <std::size_t N>
std::array<double, N> fd_gradient(const std::function<double(std::array<double, N>)>& f,
                                  std::array<double, N> args) {
  std::array<double, N> g{};
  for (std::size_t k = 0; k < N; ++k) {
    g[k] = central_fd(
        [&](double v) {
          auto a = args;
          a[k] = v;
          return f(a);
        },
        args[k]);
  }
  return g;
}

/// Random (x, cut, slope) with |slope (x - cut)| up to ~40.
struct Rng {
  std::mt19937_64 gen{20240611};
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(gen);
  }
};

bool finite_or_inf(double v) {
  return !std::isnan(v);
}

} // namespace

// ---- values -----------------------------------------------------------------------

DIFFANA_TEST(soft_cut_matches_relaxed_formula) {
  Rng rng;
  for (int i = 0; i < 2000; ++i) {
    const double x = rng.uniform(-10, 10);
    const double cut = rng.uniform(-10, 10);
    const double slope = rng.uniform(-5, 5);
    CHECK_CLOSE(diffana::soft_cut(x, cut, slope), relaxed_above(x, cut, slope), 1e-13,
                1e-300);
    CHECK_CLOSE(diffana::soft_cut_below(x, cut, slope), relaxed_below(x, cut, slope),
                1e-13, 1e-300);
    CHECK_CLOSE(diffana::soft_window(x, cut - 1.0, cut + 2.0, slope),
                relaxed_above(x, cut - 1.0, slope) * relaxed_below(x, cut + 2.0, slope),
                1e-13, 1e-300);
  }
}

DIFFANA_TEST(soft_cut_below_is_sigmoid_of_minus_z_not_one_minus) {
  // relaxed computes keep="below" as 1 / (1 + exp(slope (x - cut))): far below the cut
  // the value keeps full relative precision (1 - sigmoid would round to 0 there).
  const double v = diffana::soft_cut_below(50.0, 0.0, 1.0);
  CHECK(v > 0.0);
  CHECK_CLOSE(v, std::exp(-50.0) / (1.0 + std::exp(-50.0)), 1e-14, 0.0);
  CHECK_CLOSE(diffana::soft_cut(-50.0, 0.0, 1.0), v, 1e-15, 0.0);
}

DIFFANA_TEST(soft_cut_integer_arguments_give_double) {
  const auto v = diffana::soft_cut(1, 0, 2);
  static_assert(std::is_same_v<decltype(v), const double>);
  CHECK_CLOSE(v, relaxed_above(1, 0, 2), 1e-15, 0.0);
  const auto f = diffana::soft_cut(1.0f, 0.0f, 2.0f);
  static_assert(std::is_same_v<decltype(f), const float>);
  CHECK_CLOSE(f, relaxed_above(1, 0, 2), 1e-6, 0.0);
}

// ---- derivatives against finite differences ---------------------------------------

DIFFANA_TEST(soft_cut_partials_match_finite_differences) {
  Rng rng;
  for (int i = 0; i < 500; ++i) {
    const std::array<double, 3> a{rng.uniform(-5, 5), rng.uniform(-5, 5),
                                  rng.uniform(-4, 8)};
    for (int above = 0; above < 2; ++above) {
      const auto f = [above](std::array<double, 3> v) {
        return above ? diffana::soft_cut(v[0], v[1], v[2])
                     : diffana::soft_cut_below(v[0], v[1], v[2]);
      };
      const auto p = above ? diffana::soft_cut_partials(a[0], a[1], a[2])
                           : diffana::soft_cut_below_partials(a[0], a[1], a[2]);
      const auto g = fd_gradient<3>(f, a);
      CHECK_CLOSE(p.value, f(a), 0.0, 0.0);
      CHECK_CLOSE(p.d_x, g[0], 1e-6, 1e-9);
      CHECK_CLOSE(p.d_cut, g[1], 1e-6, 1e-9);
      CHECK_CLOSE(p.d_slope, g[2], 1e-6, 1e-9);
    }
  }
}

DIFFANA_TEST(soft_window_partials_match_finite_differences) {
  Rng rng;
  for (int i = 0; i < 500; ++i) {
    const double lo = rng.uniform(-5, 5);
    const std::array<double, 4> a{rng.uniform(-6, 8), lo, lo + rng.uniform(-1, 5),
                                  rng.uniform(-4, 8)};
    const auto f = [](std::array<double, 4> v) {
      return diffana::soft_window(v[0], v[1], v[2], v[3]);
    };
    const auto p = diffana::soft_window_partials(a[0], a[1], a[2], a[3]);
    const auto g = fd_gradient<4>(f, a);
    CHECK_CLOSE(p.value, f(a), 0.0, 0.0);
    CHECK_CLOSE(p.d_x, g[0], 1e-6, 1e-9);
    CHECK_CLOSE(p.d_lo, g[1], 1e-6, 1e-9);
    CHECK_CLOSE(p.d_hi, g[2], 1e-6, 1e-9);
    CHECK_CLOSE(p.d_slope, g[3], 1e-6, 1e-9);
  }
}

DIFFANA_TEST(soft_cut_derivatives_at_edge_cases) {
  // x == cut: s = 1/2, d/dx = slope / 4, d/dslope = 0.
  for (double slope : {-3.0, 0.5, 7.0}) {
    const auto p = diffana::soft_cut_partials(2.0, 2.0, slope);
    CHECK(p.value == 0.5);
    CHECK_CLOSE(p.d_x, slope / 4, 1e-15, 0.0);
    CHECK_CLOSE(p.d_cut, -slope / 4, 1e-15, 0.0);
    CHECK(p.d_slope == 0.0);
    const auto g = fd_gradient<3>(
        [](std::array<double, 3> v) { return diffana::soft_cut(v[0], v[1], v[2]); },
        {2.0, 2.0, slope});
    CHECK_CLOSE(p.d_x, g[0], 1e-7, 1e-10);
    CHECK_CLOSE(p.d_cut, g[1], 1e-7, 1e-10);
    CHECK_CLOSE(p.d_slope, g[2], 1e-7, 1e-10);
  }
  // slope = 0: constant 1/2, d/dx = d/dcut = 0, d/dslope = (x - cut) / 4.
  for (double x : {-4.0, 0.0, 3.5}) {
    const auto p = diffana::soft_cut_partials(x, 1.0, 0.0);
    CHECK(p.value == 0.5);
    CHECK(p.d_x == 0.0);
    CHECK(p.d_cut == 0.0);
    CHECK_CLOSE(p.d_slope, (x - 1.0) / 4, 1e-15, 0.0);
    const auto g = fd_gradient<3>(
        [](std::array<double, 3> v) { return diffana::soft_cut(v[0], v[1], v[2]); },
        {x, 1.0, 0.0});
    CHECK_CLOSE(p.d_slope, g[2], 1e-7, 1e-10);
    const auto b = diffana::soft_cut_below_partials(x, 1.0, 0.0);
    CHECK(b.value == 0.5);
    CHECK_CLOSE(b.d_slope, -(x - 1.0) / 4, 1e-15, 0.0);
    const auto w = diffana::soft_window_partials(x, -1.0, 2.0, 0.0);
    CHECK(w.value == 0.25);
    CHECK(w.d_x == 0.0 && w.d_lo == 0.0 && w.d_hi == 0.0);
    CHECK_CLOSE(w.d_slope, 3.0 / 8, 1e-15, 0.0);
    const auto gw = fd_gradient<4>(
        [](std::array<double, 4> v) {
          return diffana::soft_window(v[0], v[1], v[2], v[3]);
        },
        {x, -1.0, 2.0, 0.0});
    CHECK_CLOSE(w.d_slope, gw[3], 1e-7, 1e-10);
    CHECK_CLOSE(w.d_x, gw[0], 1e-7, 1e-10);
  }
}

DIFFANA_TEST(soft_cut_derivatives_at_z_30) {
  // |slope (x - cut)| = 30: the tail value ~9.4e-14 keeps full relative precision.
  const double e = std::exp(-30.0);
  const double g_exact = e / ((1 + e) * (1 + e));
  for (double slope : {1.0, 3.0, -2.0}) {
    const double x = 1.0 + 30.0 / slope; // z = +30
    const auto a = diffana::soft_cut_partials(x, 1.0, slope);
    const auto b = diffana::soft_cut_below_partials(x, 1.0, slope);
    CHECK_CLOSE(a.value, 1.0 / (1.0 + e), 1e-15, 0.0);
    CHECK_CLOSE(b.value, e / (1.0 + e), 1e-14, 0.0);
    CHECK_CLOSE(a.d_x, slope * g_exact, 1e-13, 0.0);
    CHECK_CLOSE(a.d_slope, (x - 1.0) * g_exact, 1e-13, 0.0);
    CHECK_CLOSE(b.d_x, -a.d_x, 1e-15, 0.0);
    // FD on the small side (soft_cut_below here) is accurate to a relative 1e-7.
    const auto g = fd_gradient<3>(
        [](std::array<double, 3> v) {
          return diffana::soft_cut_below(v[0], v[1], v[2]);
        },
        {x, 1.0, slope});
    CHECK_CLOSE(b.d_x, g[0], 1e-6, 0.0);
    CHECK_CLOSE(b.d_cut, g[1], 1e-6, 0.0);
    CHECK_CLOSE(b.d_slope, g[2], 1e-6, 0.0);
    // and z = -30: soft_cut is the small side.
    const double xm = 1.0 - 30.0 / slope;
    const auto am = diffana::soft_cut_partials(xm, 1.0, slope);
    CHECK_CLOSE(am.value, e / (1.0 + e), 1e-14, 0.0);
    const auto gm = fd_gradient<3>(
        [](std::array<double, 3> v) { return diffana::soft_cut(v[0], v[1], v[2]); },
        {xm, 1.0, slope});
    CHECK_CLOSE(am.d_x, gm[0], 1e-6, 0.0);
    CHECK_CLOSE(am.d_cut, gm[1], 1e-6, 0.0);
    CHECK_CLOSE(am.d_slope, gm[2], 1e-6, 0.0);
  }
}

DIFFANA_TEST(soft_cut_saturates_exactly_at_z_800) {
  for (double slope : {1.0, 100.0, -4.0}) {
    const double x = 800.0 / slope; // z = +800 against cut 0
    const auto a = diffana::soft_cut_partials(x, 0.0, slope);
    CHECK(a.value == 1.0);
    CHECK(a.d_x == 0.0 && a.d_cut == 0.0 && a.d_slope == 0.0);
    const auto b = diffana::soft_cut_below_partials(x, 0.0, slope);
    CHECK(b.value == 0.0);
    CHECK(b.d_x == 0.0 && b.d_cut == 0.0 && b.d_slope == 0.0);
    const auto am = diffana::soft_cut_partials(-x, 0.0, slope);
    CHECK(am.value == 0.0);
    CHECK(am.d_x == 0.0 && am.d_cut == 0.0 && am.d_slope == 0.0);
    const auto w = diffana::soft_window_partials(x, -1.0 / slope - x, 0.0, slope);
    CHECK(w.value == 0.0);
    CHECK(w.d_x == 0.0 && w.d_lo == 0.0 && w.d_hi == 0.0 && w.d_slope == 0.0);
  }
  // Far inside a window: exactly 1, zero derivatives.
  const auto w = diffana::soft_window_partials(0.0, -1000.0, 1000.0, 1.0);
  CHECK(w.value == 1.0);
  CHECK(w.d_x == 0.0 && w.d_lo == 0.0 && w.d_hi == 0.0 && w.d_slope == 0.0);
}

DIFFANA_TEST(soft_cut_never_nan_for_finite_inputs) {
  const double big = std::numeric_limits<double>::max();
  const std::vector<double> xs{-big,   -1e300, -1e3, -1.0,  -1e-300, 0.0,
                               1e-300, 1.0,    1e3,  1e300, big};
  const std::vector<double> slopes{-big,   -1e300, -10.0, -1e-300, 0.0,
                                   1e-300, 1.0,    1e3,   1e300,   big};
  int checked = 0;
  for (double x : xs)
    for (double cut : xs)
      for (double slope : slopes) {
        const auto a = diffana::soft_cut_partials(x, cut, slope);
        const auto b = diffana::soft_cut_below_partials(x, cut, slope);
        CHECK(a.value >= 0.0 && a.value <= 1.0 && b.value >= 0.0 && b.value <= 1.0);
        CHECK(finite_or_inf(a.d_x) && finite_or_inf(a.d_cut) &&
              finite_or_inf(a.d_slope));
        CHECK(finite_or_inf(b.d_x) && finite_or_inf(b.d_cut) &&
              finite_or_inf(b.d_slope));
        CHECK(std::isfinite(a.d_x) && std::isfinite(b.d_x));
        for (double hi : {-1.0, 1e3, big}) {
          const auto w = diffana::soft_window_partials(x, cut, hi, slope);
          CHECK(w.value >= 0.0 && w.value <= 1.0);
          CHECK(finite_or_inf(w.d_x) && finite_or_inf(w.d_lo) &&
                finite_or_inf(w.d_hi) && finite_or_inf(w.d_slope));
        }
        const D3 xd = D3::variable(x, 0);
        const D3 r =
            diffana::soft_window(xd, D3::variable(cut, 1), 5.0, D3::variable(slope, 2));
        for (int k = 0; k < 3; ++k)
          CHECK(finite_or_inf(r.tangent(k)));
        ++checked;
      }
  CHECK(checked == 11 * 11 * 10);
}

DIFFANA_TEST(soft_cut_infinite_and_nan_x) {
  const auto a = diffana::soft_cut_partials(kInf, 0.0, 2.0);
  CHECK(a.value == 1.0 && a.d_x == 0.0 && a.d_cut == 0.0 && a.d_slope == 0.0);
  const auto b = diffana::soft_cut_partials(-kInf, 0.0, 2.0);
  CHECK(b.value == 0.0 && b.d_x == 0.0 && b.d_cut == 0.0 && b.d_slope == 0.0);
  const auto c = diffana::soft_cut_partials(kInf, 0.0, 0.0); // slope 0: constant
  CHECK(c.value == 0.5 && c.d_x == 0.0 && c.d_cut == 0.0 && !std::isnan(c.d_slope));
  for (double slope : {0.0, 1.0}) {
    const auto n = diffana::soft_cut_partials(kNaN, 0.0, slope);
    CHECK(std::isnan(n.value) && std::isnan(n.d_x) && std::isnan(n.d_slope));
    const auto nw = diffana::soft_window_partials(kNaN, 0.0, 1.0, slope);
    CHECK(std::isnan(nw.value) && std::isnan(nw.d_x));
    CHECK(std::isnan(diffana::straight_through_cut(kNaN, 0.0, slope)));
  }
}

// ---- Duals and mixed arguments ----------------------------------------------------

DIFFANA_TEST(soft_cut_dual_tangents_are_the_partials) {
  Rng rng;
  for (int i = 0; i < 200; ++i) {
    const double x = rng.uniform(-5, 5);
    const double cut = rng.uniform(-5, 5);
    const double slope = rng.uniform(-3, 6);
    const auto p = diffana::soft_cut_partials(x, cut, slope);
    const D3 r = diffana::soft_cut(D3::variable(x, 0), D3::variable(cut, 1),
                                   D3::variable(slope, 2));
    CHECK(r.value() == p.value);
    CHECK(r.tangent(0) == p.d_x && r.tangent(1) == p.d_cut &&
          r.tangent(2) == p.d_slope);
    // Mixed: only cut is a Dual (as when optimising a cut value on plain data).
    const Dual<double, 1> rc =
        diffana::soft_cut(x, Dual<double, 1>::variable(cut, 0), slope);
    CHECK(rc.value() == p.value && rc.tangent(0) == p.d_cut);
    // A Dual x that itself depends on two parameters: chain rule.
    Dual<double, 2> xd(x);
    xd.tangent(0) = 0.3;
    xd.tangent(1) = -1.7;
    const auto rx = diffana::soft_cut(xd, cut, slope);
    CHECK_CLOSE(rx.tangent(0), 0.3 * p.d_x, 1e-15, 0.0);
    CHECK_CLOSE(rx.tangent(1), -1.7 * p.d_x, 1e-15, 0.0);

    const auto b = diffana::soft_cut_below_partials(x, cut, slope);
    const D3 rb = diffana::soft_cut_below(D3::variable(x, 0), D3::variable(cut, 1),
                                          D3::variable(slope, 2));
    CHECK(rb.value() == b.value && rb.tangent(0) == b.d_x && rb.tangent(1) == b.d_cut &&
          rb.tangent(2) == b.d_slope);

    const double hi = cut + rng.uniform(0, 4);
    const auto w = diffana::soft_window_partials(x, cut, hi, slope);
    const D4 rw = diffana::soft_window(D4::variable(x, 0), D4::variable(cut, 1),
                                       D4::variable(hi, 2), D4::variable(slope, 3));
    CHECK(rw.value() == w.value && rw.tangent(0) == w.d_x && rw.tangent(1) == w.d_lo &&
          rw.tangent(2) == w.d_hi && rw.tangent(3) == w.d_slope);
  }
}

DIFFANA_TEST(soft_cut_pushforwards) {
  Rng rng;
  for (int i = 0; i < 200; ++i) {
    const double x = rng.uniform(-5, 5);
    const double cut = rng.uniform(-5, 5);
    const double slope = rng.uniform(-3, 6);
    const double dx = rng.uniform(-1, 1);
    const double dc = rng.uniform(-1, 1);
    const double ds = rng.uniform(-1, 1);
    const auto p = diffana::soft_cut_partials(x, cut, slope);
    const auto f = diffana::soft_cut_pushforward(x, cut, slope, dx, dc, ds);
    CHECK(f.value == p.value);
    CHECK_CLOSE(f.pushforward, p.d_x * dx + p.d_cut * dc + p.d_slope * ds, 1e-14,
                1e-300);
    // The directional derivative against a finite difference along (dx, dc, ds).
    const double fd = central_fd(
        [&](double t) {
          return diffana::soft_cut(x + t * dx, cut + t * dc, slope + t * ds);
        },
        0.0);
    CHECK_CLOSE(f.pushforward, fd, 1e-6, 1e-9);
    const auto fb = diffana::soft_cut_below_pushforward(x, cut, slope, dx, dc, ds);
    const double fdb = central_fd(
        [&](double t) {
          return diffana::soft_cut_below(x + t * dx, cut + t * dc, slope + t * ds);
        },
        0.0);
    CHECK(fb.value == diffana::soft_cut_below(x, cut, slope));
    CHECK_CLOSE(fb.pushforward, fdb, 1e-6, 1e-9);
    const double hi = cut + 2.0;
    const double dh = rng.uniform(-1, 1);
    const auto fw = diffana::soft_window_pushforward(x, cut, hi, slope, dx, dc, dh, ds);
    const double fdw = central_fd(
        [&](double t) {
          return diffana::soft_window(x + t * dx, cut + t * dc, hi + t * dh,
                                      slope + t * ds);
        },
        0.0);
    CHECK(fw.value == diffana::soft_window(x, cut, hi, slope));
    CHECK_CLOSE(fw.pushforward, fdw, 1e-6, 1e-9);
    const auto st =
        diffana::straight_through_cut_pushforward(x, cut, slope, dx, dc, ds);
    CHECK(st.value == (x > cut ? 1.0 : 0.0));
    CHECK(st.pushforward == f.pushforward);
  }
  // A zero direction never meets an infinite partial as NaN (slope 0, x - cut = inf).
  const double big = std::numeric_limits<double>::max();
  const auto z = diffana::soft_cut_pushforward(big, -big, 0.0, 1.0, 1.0, 0.0);
  CHECK(z.value == 0.5 && z.pushforward == 0.0);
}

DIFFANA_TEST(straight_through_cut_value_is_hard_gradient_is_soft) {
  Rng rng;
  for (int i = 0; i < 200; ++i) {
    const double x = rng.uniform(-3, 3);
    const double cut = rng.uniform(-3, 3);
    const double slope = rng.uniform(0.1, 5);
    const D3 s = diffana::straight_through_cut(D3::variable(x, 0), D3::variable(cut, 1),
                                               D3::variable(slope, 2));
    const auto p = diffana::soft_cut_partials(x, cut, slope);
    CHECK(s.value() == (x > cut ? 1.0 : 0.0));
    CHECK(s.tangent(0) == p.d_x && s.tangent(1) == p.d_cut &&
          s.tangent(2) == p.d_slope);
    const D3 sb = diffana::straight_through_cut_below(
        D3::variable(x, 0), D3::variable(cut, 1), D3::variable(slope, 2));
    const auto pb = diffana::soft_cut_below_partials(x, cut, slope);
    CHECK(sb.value() == (x < cut ? 1.0 : 0.0));
    CHECK(sb.tangent(0) == pb.d_x && sb.tangent(1) == pb.d_cut &&
          sb.tangent(2) == pb.d_slope);
  }
  // x == cut: the strict selection x > cut fails (0), x < cut fails too (0); the
  // surrogate gradient is the sigmoid's, slope / 4.
  const D3 e = diffana::straight_through_cut(D3::variable(1.5, 0), 1.5, 2.0);
  CHECK(e.value() == 0.0 && e.tangent(0) == 0.5);
  CHECK(diffana::straight_through_cut_below(1.5, 1.5, 2.0) == 0.0);
  CHECK(diffana::straight_through_cut(1.5, 1.0, 2.0) == 1.0);
}

// ---- kernels ----------------------------------------------------------------------

DIFFANA_TEST(kernel_soft_cut_equals_header_elementwise) {
  Rng rng;
  const int64_t n = 1000;
  std::vector<double> x(n), cut(n), slope(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = rng.uniform(-20, 20);
    cut[i] = rng.uniform(-5, 5);
    slope[i] = (i % 50 == 0) ? 0.0 : rng.uniform(-10, 10);
  }
  x[3] = cut[3];       // x == cut
  x[4] = cut[4] + 1e3; // saturated
  for (int above = 0; above < 2; ++above) {
    // Garbage first: the kernel writes (=), it does not accumulate.
    std::vector<double> v(n, 7.0), dx(n, 7.0), dc(n, 7.0), ds(n, 7.0);
    CHECK(diffana_soft_cut_f64(x.data(), cut.data(), slope.data(), n, above, v.data(),
                               dx.data(), dc.data(), ds.data()) == DIFFANA_OK);
    for (int64_t i = 0; i < n; ++i) {
      const auto p = above ? diffana::soft_cut_partials(x[i], cut[i], slope[i])
                           : diffana::soft_cut_below_partials(x[i], cut[i], slope[i]);
      CHECK(v[i] == p.value && dx[i] == p.d_x && dc[i] == p.d_cut &&
            ds[i] == p.d_slope);
      CHECK(v[i] == (above ? diffana::soft_cut(x[i], cut[i], slope[i])
                           : diffana::soft_cut_below(x[i], cut[i], slope[i])));
    }
    // Derivative outputs are optional.
    std::vector<double> v2(n, 7.0);
    CHECK(diffana_soft_cut_f64(x.data(), cut.data(), slope.data(), n, above, v2.data(),
                               nullptr, nullptr, nullptr) == DIFFANA_OK);
    CHECK(v2 == v);
  }
}

DIFFANA_TEST(kernel_soft_window_equals_header_elementwise) {
  Rng rng;
  const int64_t n = 1000;
  std::vector<double> x(n), lo(n), hi(n), slope(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = rng.uniform(-20, 20);
    lo[i] = rng.uniform(-10, 5);
    hi[i] = lo[i] + rng.uniform(-1, 10);
    slope[i] = (i % 50 == 0) ? 0.0 : rng.uniform(-10, 10);
  }
  std::vector<double> v(n, 7.0), dx(n, 7.0), dl(n, 7.0), dh(n, 7.0), ds(n, 7.0);
  CHECK(diffana_soft_window_f64(x.data(), lo.data(), hi.data(), slope.data(), n,
                                v.data(), dx.data(), dl.data(), dh.data(),
                                ds.data()) == DIFFANA_OK);
  for (int64_t i = 0; i < n; ++i) {
    const auto p = diffana::soft_window_partials(x[i], lo[i], hi[i], slope[i]);
    CHECK(v[i] == p.value && dx[i] == p.d_x && dl[i] == p.d_lo && dh[i] == p.d_hi &&
          ds[i] == p.d_slope);
    CHECK(v[i] == diffana::soft_window(x[i], lo[i], hi[i], slope[i]));
  }
  std::vector<double> v2(n, 7.0), ds2(n, 7.0);
  CHECK(diffana_soft_window_f64(x.data(), lo.data(), hi.data(), slope.data(), n,
                                v2.data(), nullptr, nullptr, nullptr,
                                ds2.data()) == DIFFANA_OK);
  CHECK(v2 == v && ds2 == ds);
}

DIFFANA_TEST(kernel_soft_cut_reports_bad_arguments) {
  std::vector<double> x{0.0, 1.0, 2.0}, cut{0.5, 0.5, 0.5}, slope{1.0, 1.0, 1.0};
  std::vector<double> v(3), dx(3), dc(3), ds(3);
  const auto call = [&](int64_t n, int above) {
    return diffana_soft_cut_f64(x.data(), cut.data(), slope.data(), n, above, v.data(),
                                dx.data(), dc.data(), ds.data());
  };
  CHECK(call(-1, 1) == DIFFANA_ERR_ARGUMENT);
  CHECK(call(0, 1) == DIFFANA_OK);
  CHECK(call(3, 2) == DIFFANA_ERR_ARGUMENT);
  CHECK(call(3, -1) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_soft_cut_f64(nullptr, cut.data(), slope.data(), 3, 1, v.data(), nullptr,
                             nullptr, nullptr) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_soft_cut_f64(x.data(), cut.data(), slope.data(), 3, 1, nullptr,
                             dx.data(), nullptr, nullptr) == DIFFANA_ERR_ARGUMENT);
  // n = 0 needs no buffers at all.
  CHECK(diffana_soft_cut_f64(nullptr, nullptr, nullptr, 0, 1, nullptr, nullptr, nullptr,
                             nullptr) == DIFFANA_OK);
  for (double bad : {kNaN, kInf, -kInf}) {
    cut[1] = bad;
    CHECK(call(3, 1) == DIFFANA_ERR_ARGUMENT);
    CHECK(call(3, 0) == DIFFANA_ERR_ARGUMENT);
    cut[1] = 0.5;
    slope[2] = bad;
    CHECK(call(3, 1) == DIFFANA_ERR_ARGUMENT);
    slope[2] = 1.0;
  }
  // NaN x: NaN in that element only.
  x[1] = kNaN;
  CHECK(call(3, 1) == DIFFANA_OK);
  CHECK(std::isnan(v[1]) && std::isnan(dx[1]) && std::isnan(dc[1]) &&
        std::isnan(ds[1]));
  CHECK(v[0] == diffana::soft_cut(0.0, 0.5, 1.0) &&
        v[2] == diffana::soft_cut(2.0, 0.5, 1.0));
  CHECK(!std::isnan(dx[0]) && !std::isnan(dx[2]));
  // Infinite x: the limit, zero derivatives.
  x[1] = kInf;
  CHECK(call(3, 1) == DIFFANA_OK);
  CHECK(v[1] == 1.0 && dx[1] == 0.0 && dc[1] == 0.0 && ds[1] == 0.0);
}

DIFFANA_TEST(kernel_soft_window_reports_bad_arguments) {
  std::vector<double> x{0.0, 1.0, 2.0}, lo{0.5, 0.5, 0.5}, hi{1.5, 1.5, 1.5},
      slope{1.0, 1.0, 1.0};
  std::vector<double> v(3), dx(3), dl(3), dh(3), ds(3);
  const auto call = [&](int64_t n) {
    return diffana_soft_window_f64(x.data(), lo.data(), hi.data(), slope.data(), n,
                                   v.data(), dx.data(), dl.data(), dh.data(),
                                   ds.data());
  };
  CHECK(call(-5) == DIFFANA_ERR_ARGUMENT);
  CHECK(call(0) == DIFFANA_OK);
  CHECK(call(3) == DIFFANA_OK);
  CHECK(diffana_soft_window_f64(x.data(), lo.data(), nullptr, slope.data(), 3, v.data(),
                                nullptr, nullptr, nullptr,
                                nullptr) == DIFFANA_ERR_ARGUMENT);
  for (double bad : {kNaN, kInf, -kInf}) {
    for (std::vector<double>* arg : {&lo, &hi, &slope}) {
      const double keep = (*arg)[2];
      (*arg)[2] = bad;
      CHECK(call(3) == DIFFANA_ERR_ARGUMENT);
      (*arg)[2] = keep;
    }
  }
  x[0] = kNaN;
  CHECK(call(3) == DIFFANA_OK);
  CHECK(std::isnan(v[0]) && std::isnan(dx[0]) && std::isnan(dl[0]) &&
        std::isnan(dh[0]) && std::isnan(ds[0]));
  CHECK(!std::isnan(v[1]) && !std::isnan(v[2]));
}

int main() {
  return diffana::test::run_all();
}
