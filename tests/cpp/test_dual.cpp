// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana::Dual<T, N> (include/diffana/ad/dual.hpp) and the derivative rules
/// behind it (include/diffana/ad/math.hpp): every math function against central
/// finite differences in double on random points (fixed seed) and edge cases, the
/// conventions at singular points, arithmetic with plain numbers on either side,
/// comparisons, accessors, traits, argument-dependent lookup and layout.
#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"

#include "check.hpp"
#include "gradient_check.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

namespace {

using diffana::Dual;
using D1 = Dual<double, 1>;
using D2 = Dual<double, 2>;
using D3 = Dual<double, 3>;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// A unary function for the table tests: f on any argument type via
/// `using std::NAME; NAME(x)` (so the Dual overload is found by ADL).
#define UNARY_FN(NAME)                                                                 \
  [](const auto& a) {                                                                  \
    using std::NAME;                                                                   \
    return NAME(a[0]);                                                                 \
  }

/// Random points in [lo, hi] plus explicit edge points; dist(x) is the distance to
/// the nearest singularity or the length scale of f (<= 0: none, use |x|).
template <class F, class Dist>
void check_unary(const char* file, int line, const char* name, const F& f, double lo,
                 double hi, std::initializer_list<double> edges, const Dist& dist) {
  std::mt19937 rng(20240611u);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int i = 0; i < 300; ++i) {
    const double x = u(rng);
    diffana::test::check_gradient<1>(file, line, name, f, {x}, {dist(x)});
  }
  for (const double x : edges)
    diffana::test::check_gradient<1>(file, line, name, f, {x}, {dist(x)});
}

const auto no_singularity = [](double) { return 0.0; };
const auto dist_to_zero = [](double x) { return std::fabs(x); };
const auto dist_to_unit = [](double x) { return 1.0 - std::fabs(x); };

} // namespace

// ---- math functions against finite differences --------------------------------------

DIFFANA_TEST(exp_family_matches_finite_differences) {
  check_unary(__FILE__, __LINE__, "exp", UNARY_FN(exp), -20.0, 20.0,
              {0.0, 1.0, -1.0, 700.0, -700.0, 1e-300}, no_singularity);
  check_unary(__FILE__, __LINE__, "expm1", UNARY_FN(expm1), -20.0, 20.0,
              {0.0, 1e-10, -1e-10, 700.0, -700.0}, no_singularity);
}

DIFFANA_TEST(log_family_matches_finite_differences) {
  check_unary(__FILE__, __LINE__, "log", UNARY_FN(log), 1e-3, 1e3,
              {1.0, 1e-9, 1e-300, 1e300, 1.0 + 1e-12}, dist_to_zero);
  check_unary(__FILE__, __LINE__, "log10", UNARY_FN(log10), 1e-3, 1e3,
              {1.0, 1e-9, 1e-300, 1e300}, dist_to_zero);
  check_unary(__FILE__, __LINE__, "log1p", UNARY_FN(log1p), -0.999, 1e3,
              {0.0, 1e-12, -1e-12, -1.0 + 1e-9, 1e300},
              [](double x) { return 1.0 + x; });
}

DIFFANA_TEST(roots_match_finite_differences) {
  check_unary(__FILE__, __LINE__, "sqrt", UNARY_FN(sqrt), 1e-3, 1e3,
              {1.0, 1e-9, 1e-300, 1e300}, dist_to_zero);
  check_unary(__FILE__, __LINE__, "cbrt", UNARY_FN(cbrt), -1e3, 1e3,
              {1.0, -1.0, 1e-9, -1e-9, 1e-300, 1e300, -1e300}, dist_to_zero);
}

DIFFANA_TEST(trigonometric_functions_match_finite_differences) {
  // Periodic: the length scale is the period, not |x|.
  const auto period = [](double) { return 1.0; };
  check_unary(__FILE__, __LINE__, "sin", UNARY_FN(sin), -10.0, 10.0,
              {0.0, 1.5707963267948966, 3.141592653589793, 1e-300, 1e5}, period);
  check_unary(__FILE__, __LINE__, "cos", UNARY_FN(cos), -10.0, 10.0,
              {0.0, 1.5707963267948966, 3.141592653589793, 1e-300, 1e5}, period);
  check_unary(__FILE__, __LINE__, "tan", UNARY_FN(tan), -1.5, 1.5,
              {0.0, 1e-300, 1.57, -1.57, 1.5707963},
              [](double x) { return std::fabs(1.5707963267948966 - std::fabs(x)); });
  check_unary(__FILE__, __LINE__, "asin", UNARY_FN(asin), -0.999, 0.999,
              {0.0, 1e-300, 1.0 - 1e-9, -1.0 + 1e-9, 0.5}, dist_to_unit);
  check_unary(__FILE__, __LINE__, "acos", UNARY_FN(acos), -0.999, 0.999,
              {0.0, 1e-300, 1.0 - 1e-9, -1.0 + 1e-9, 0.5}, dist_to_unit);
  check_unary(__FILE__, __LINE__, "atan", UNARY_FN(atan), -50.0, 50.0,
              {0.0, 1e-300, 1e8, -1e8, 1e150, -1e150}, no_singularity);
}

DIFFANA_TEST(hyperbolic_functions_match_finite_differences) {
  check_unary(__FILE__, __LINE__, "sinh", UNARY_FN(sinh), -20.0, 20.0,
              {0.0, 1e-300, 700.0, -700.0}, no_singularity);
  check_unary(__FILE__, __LINE__, "cosh", UNARY_FN(cosh), -20.0, 20.0,
              {0.0, 1e-300, 700.0, -700.0}, no_singularity);
  check_unary(__FILE__, __LINE__, "tanh", UNARY_FN(tanh), -20.0, 20.0,
              {0.0, 1e-300, 15.0, -15.0, 300.0, -300.0}, no_singularity);
  check_unary(__FILE__, __LINE__, "asinh", UNARY_FN(asinh), -50.0, 50.0,
              {0.0, 1e-300, 1e8, -1e8, 1e200, -1e200}, no_singularity);
  check_unary(__FILE__, __LINE__, "acosh", UNARY_FN(acosh), 1.001, 50.0,
              {1.0 + 1e-9, 2.0, 1e8, 1e200}, [](double x) { return x - 1.0; });
  check_unary(__FILE__, __LINE__, "atanh", UNARY_FN(atanh), -0.999, 0.999,
              {0.0, 1e-300, 1.0 - 1e-9, -1.0 + 1e-9}, dist_to_unit);
}

DIFFANA_TEST(error_functions_match_finite_differences) {
  check_unary(__FILE__, __LINE__, "erf", UNARY_FN(erf), -6.0, 6.0,
              {0.0, 1e-300, 5.0, -5.0, 30.0, -30.0}, no_singularity);
  check_unary(__FILE__, __LINE__, "erfc", UNARY_FN(erfc), -6.0, 6.0,
              {0.0, 1e-300, 5.0, -5.0, 25.0, -25.0}, no_singularity);
}

DIFFANA_TEST(abs_matches_finite_differences_away_from_zero) {
  check_unary(__FILE__, __LINE__, "abs", UNARY_FN(abs), -100.0, 100.0,
              {1e-300, -1e-300, 1e300, -1e300}, dist_to_zero);
  check_unary(__FILE__, __LINE__, "fabs", UNARY_FN(fabs), -100.0, 100.0,
              {1e-300, -1e-300, 1e300, -1e300}, dist_to_zero);
}

DIFFANA_TEST(pow_matches_finite_differences) {
  const auto f = [](const auto& a) {
    using std::pow;
    return pow(a[0], a[1]);
  };
  std::mt19937 rng(7u);
  std::uniform_real_distribution<double> ux(0.05, 10.0);
  std::uniform_real_distribution<double> uy(-4.0, 4.0);
  for (int i = 0; i < 300; ++i) {
    const double x = ux(rng);
    CHECK_GRADIENT("pow(dual, dual)", f, std::array<double, 2>{x, uy(rng)}, {x, 0.0});
  }
  CHECK_GRADIENT("pow(dual, dual)", f, std::array<double, 2>{2.0, 0.0}, {2.0, 0.0});
  CHECK_GRADIENT("pow(dual, dual)", f, std::array<double, 2>{1.0, 3.5}, {1.0, 0.0});
  CHECK_GRADIENT("pow(dual, dual)", f, std::array<double, 2>{1e-9, 2.5}, {1e-9, 0.0});
  CHECK_GRADIENT("pow(dual, dual)", f, std::array<double, 2>{1e100, 2.5}, {1e100, 0.0});
  CHECK_GRADIENT("pow(dual, dual)", f, std::array<double, 2>{10.0, 300.0}, {10.0, 0.0});

  // Mixed arguments: dual^scalar (negative base with integer exponent included),
  // scalar^dual.
  for (const double x : {-3.0, -0.5, 0.5, 2.0, 7.0}) {
    for (const int n : {-3, -1, 0, 1, 2, 5}) {
      const auto g = [n](const auto& a) {
        using std::pow;
        return pow(a[0], n);
      };
      CHECK_GRADIENT("pow(dual, int)", g, std::array<double, 1>{x}, {std::fabs(x)});
      const auto gd = [n](const auto& a) {
        using std::pow;
        return pow(a[0], static_cast<double>(n) + 0.5);
      };
      if (x > 0) CHECK_GRADIENT("pow(dual, double)", gd, std::array<double, 1>{x}, {x});
    }
    if (x > 0) {
      const auto h = [x](const auto& a) {
        using std::pow;
        return pow(x, a[0]);
      };
      for (const double y : {-2.5, 0.0, 1.0, 3.3})
        CHECK_GRADIENT("pow(double, dual)", h, std::array<double, 1>{y});
      const auto hf = [x](const auto& a) {
        using std::pow;
        return pow(static_cast<float>(x), a[0]);
      };
      CHECK_GRADIENT("pow(float, dual)", hf, std::array<double, 1>{1.5});
    }
  }
  const auto i2 = [](const auto& a) {
    using std::pow;
    return pow(2, a[0]);
  };
  CHECK_GRADIENT("pow(int, dual)", i2, std::array<double, 1>{3.0});
}

DIFFANA_TEST(hypot_and_atan2_match_finite_differences) {
  const auto hyp = [](const auto& a) {
    using std::hypot;
    return hypot(a[0], a[1]);
  };
  const auto at2 = [](const auto& a) {
    using std::atan2;
    return atan2(a[0], a[1]);
  };
  std::mt19937 rng(11u);
  std::uniform_real_distribution<double> u(-100.0, 100.0);
  for (int i = 0; i < 300; ++i) {
    const std::array<double, 2> p{u(rng), u(rng)};
    const double r = std::hypot(p[0], p[1]);
    CHECK_GRADIENT("hypot", hyp, p, {r, r});
    // atan2 jumps by 2 pi across the negative x axis: keep the steps away from it.
    const double dist = (p[1] < 0) ? std::fabs(p[0]) : r;
    CHECK_GRADIENT("atan2", at2, p, {dist, dist});
  }
  for (const auto& p : {std::array<double, 2>{1e-300, 1e-300},
                        {1e200, 1e200},
                        {1e200, -3.0},
                        {0.0, 1.0},
                        {1.0, 0.0},
                        {-1.0, 1e-300},
                        {3.0, 4.0}}) {
    const double r = std::hypot(p[0], p[1]);
    CHECK_GRADIENT("hypot", hyp, p, {r, r});
    const double dist = (p[1] < 0) ? std::fabs(p[0]) : r;
    CHECK_GRADIENT("atan2", at2, p, {dist, dist});
  }
  // Every mix of Dual and plain arguments gives the matching partial derivative.
  const D1 y = D1::variable(1.5, 0);
  const D1 x = D1::variable(-2.0, 0);
  const double r2 = 1.5 * 1.5 + 4.0;
  CHECK_CLOSE(atan2(y, 2.0).tangent(0), 2.0 / (1.5 * 1.5 + 4.0), 1e-15, 0);
  CHECK_CLOSE(atan2(y, -2).tangent(0), -2.0 / r2, 1e-15, 0);
  CHECK_CLOSE(atan2(1.5, x).tangent(0), -1.5 / r2, 1e-15, 0);
  CHECK_CLOSE(atan2(1.5f, x).tangent(0), -1.5 / r2, 1e-15, 0);
  CHECK_CLOSE(atan2(y, -2.0f).value(), std::atan2(1.5, -2.0), 1e-15, 0);
  CHECK_CLOSE(hypot(3, D1::variable(4.0, 0)).tangent(0), 0.8, 1e-15, 0);
  CHECK_CLOSE(hypot(D1::variable(3.0, 0), 4.0f).tangent(0), 0.6, 1e-15, 0);
}

DIFFANA_TEST(min_max_clamp_match_finite_differences_off_ties) {
  const auto mx = [](const auto& a) {
    using std::max;
    return max(a[0], a[1]);
  };
  const auto mn = [](const auto& a) {
    using std::min;
    return min(a[0], a[1]);
  };
  const auto fmx = [](const auto& a) {
    using std::fmax;
    return fmax(a[0], a[1]);
  };
  const auto fmn = [](const auto& a) {
    using std::fmin;
    return fmin(a[0], a[1]);
  };
  const auto cl = [](const auto& a) {
    using std::clamp;
    return clamp(a[0], a[1], a[2]);
  };
  std::mt19937 rng(3u);
  std::uniform_real_distribution<double> u(-10.0, 10.0);
  for (int i = 0; i < 200; ++i) {
    const std::array<double, 2> p{u(rng), u(rng)};
    const double gap = std::fabs(p[0] - p[1]);
    CHECK_GRADIENT("max", mx, p, {gap, gap});
    CHECK_GRADIENT("min", mn, p, {gap, gap});
    CHECK_GRADIENT("fmax", fmx, p, {gap, gap});
    CHECK_GRADIENT("fmin", fmn, p, {gap, gap});
    std::array<double, 3> c{u(rng), u(rng), u(rng)};
    if (c[1] > c[2]) std::swap(c[1], c[2]);
    const double g3 = std::min(std::fabs(c[0] - c[1]), std::fabs(c[0] - c[2]));
    CHECK_GRADIENT("clamp", cl, c, {g3, g3, g3});
  }
}

DIFFANA_TEST(derivative_rules_keep_relative_precision_in_the_tails) {
  // Where finite differences cannot resolve the derivative (it is below the rounding
  // of f), compare with closed forms that have no cancellation.
  for (const double x : {10.0, 15.0, 30.0, 300.0, -300.0}) {
    const double c = std::cosh(x);
    CHECK_CLOSE(tanh(D1::variable(x, 0)).tangent(0), 1.0 / (c * c), 1e-14, 0);
  }
  for (const double x : {1e10, 1e160, 1e300, -1e300}) {
    CHECK_CLOSE(asinh(D1::variable(x, 0)).tangent(0), 1.0 / std::fabs(x), 1e-14, 0);
  }
  for (const double x : {1e10, 1e160, 1e300})
    CHECK_CLOSE(acosh(D1::variable(x, 0)).tangent(0), 1.0 / x, 1e-14, 0);
  // acosh near 1: 1 / sqrt((x - 1)(x + 1)) with x - 1 exact.
  CHECK_CLOSE(acosh(D1::variable(1.0 + 0x1p-40, 0)).tangent(0),
              1.0 / std::sqrt(0x1p-40 * (2.0 + 0x1p-40)), 1e-15, 0);
  // atan2 partials where x^2 + y^2 would underflow or overflow.
  for (const double r : {1e-300, 1e-170, 1e170, 1e300}) {
    const D2 a = atan2(D2::variable(0.6 * r, 0), D2::variable(0.8 * r, 1));
    CHECK_CLOSE(a.tangent(0), 0.8 / r, 1e-14, 0);
    CHECK_CLOSE(a.tangent(1), -0.6 / r, 1e-14, 0);
  }
}

// ---- conventions at singular points -------------------------------------------------

DIFFANA_TEST(constant_at_singular_point_has_zero_tangents) {
  const D3 zero(0.0);
  for (const D3& r : {sqrt(zero), cbrt(zero), log(zero), log10(zero), log1p(D3(-1.0)),
                      asin(D3(1.0)), acos(D3(-1.0)), acosh(D3(1.0)), atanh(D3(1.0))}) {
    for (int i = 0; i < 3; ++i)
      CHECK(r.tangent(i) == 0.0);
  }
  CHECK(sqrt(zero).value() == 0.0);
  CHECK(cbrt(zero).value() == 0.0);
  CHECK(log(zero).value() == -kInf);
  // A variable there gets the true (infinite) derivative, not NaN.
  CHECK(sqrt(D1::variable(0.0, 0)).tangent(0) == kInf);
  CHECK(log(D1::variable(0.0, 0)).tangent(0) == kInf);
  CHECK(cbrt(D1::variable(0.0, 0)).tangent(0) == kInf);
  // Zero tangent components stay exactly zero next to nonzero ones.
  D3 x = D3::variable(0.0, 1);
  const D3 s = sqrt(x);
  CHECK(s.tangent(0) == 0.0 && s.tangent(1) == kInf && s.tangent(2) == 0.0);
}

DIFFANA_TEST(hypot_and_atan2_at_origin_have_zero_tangents) {
  const D2 x = D2::variable(0.0, 0);
  const D2 y = D2::variable(0.0, 1);
  const D2 h = hypot(x, y);
  const D2 a = atan2(y, x);
  CHECK(h.value() == 0.0 && h.tangent(0) == 0.0 && h.tangent(1) == 0.0);
  CHECK(a.value() == 0.0 && a.tangent(0) == 0.0 && a.tangent(1) == 0.0);
  CHECK(hypot(x, 0.0).tangent(0) == 0.0);
  CHECK(atan2(0.0, x).tangent(0) == 0.0);
  CHECK(atan2(y, 0).tangent(1) == 0.0);
  // Plain diffana rules agree.
  const auto p = diffana::hypot_partials(0.0, 0.0);
  CHECK(p.value == 0.0 && p.d_x == 0.0 && p.d_y == 0.0);
}

DIFFANA_TEST(abs_at_zero_has_zero_derivative) {
  const D1 z = D1::variable(0.0, 0);
  CHECK(abs(z).value() == 0.0 && abs(z).tangent(0) == 0.0);
  CHECK(fabs(z).value() == 0.0 && fabs(z).tangent(0) == 0.0);
  CHECK(abs(D1::variable(-3.0, 0)).tangent(0) == -1.0);
  CHECK(abs(D1::variable(-3.0, 0)).value() == 3.0);
  CHECK(fabs(D1::variable(2.0, 0)).tangent(0) == 1.0);
}

DIFFANA_TEST(min_max_at_ties_average_the_tangents) {
  const D2 a = D2::variable(2.0, 0);
  const D2 b = D2::variable(2.0, 1);
  for (const D2& r : {max(a, b), min(a, b), fmax(a, b), fmin(a, b)}) {
    CHECK(r.value() == 2.0);
    CHECK(r.tangent(0) == 0.5 && r.tangent(1) == 0.5);
  }
  {
    // Generic code with std::max / std::min in scope still gets the tie rule.
    using std::max;
    using std::min;
    CHECK(max(a, b).tangent(0) == 0.5);
    CHECK(min(a, b).tangent(1) == 0.5);
  }
  // A tie with a plain number: half of the Dual's tangent.
  CHECK(max(a, 2.0).tangent(0) == 0.5);
  CHECK(min(2, a).tangent(0) == 0.5);
  CHECK(max(a, 1.0).tangent(0) == 1.0);
  CHECK(max(a, 3.0).tangent(0) == 0.0);
  CHECK(max(a, 3.0).value() == 3.0);
  CHECK(min(a, 3.0f).tangent(0) == 1.0);
  CHECK(min(3.0, a).value() == 2.0);
  // Not a tie: the tangent of the winner, the other direction untouched.
  const D2 c = D2::variable(5.0, 1);
  CHECK(max(a, c).tangent(0) == 0.0 && max(a, c).tangent(1) == 1.0);
  CHECK(min(a, c).tangent(0) == 1.0 && min(a, c).tangent(1) == 0.0);
}

DIFFANA_TEST(clamp_takes_the_tangent_of_the_returned_value) {
  const D3 lo = D3::variable(-1.0, 1);
  const D3 hi = D3::variable(1.0, 2);
  const auto t = [](const D3& r) {
    return std::array<double, 3>{r.tangent(0), r.tangent(1), r.tangent(2)};
  };
  CHECK((t(clamp(D3::variable(0.5, 0), lo, hi)) == std::array<double, 3>{1, 0, 0}));
  CHECK((t(clamp(D3::variable(-2.0, 0), lo, hi)) == std::array<double, 3>{0, 1, 0}));
  CHECK((t(clamp(D3::variable(2.0, 0), lo, hi)) == std::array<double, 3>{0, 0, 1}));
  // On a bound, x's tangent (x is returned).
  CHECK((t(clamp(D3::variable(1.0, 0), lo, hi)) == std::array<double, 3>{1, 0, 0}));
  CHECK((t(clamp(D3::variable(-1.0, 0), lo, hi)) == std::array<double, 3>{1, 0, 0}));
  {
    using std::clamp;
    CHECK(clamp(D3::variable(2.0, 0), lo, hi).value() == 1.0);
    CHECK(clamp(D3::variable(2.0, 0), lo, hi).tangent(2) == 1.0);
  }
  // Mixed plain bounds.
  CHECK(clamp(D1::variable(0.3, 0), 0, 1).tangent(0) == 1.0);
  CHECK(clamp(D1::variable(-0.3, 0), 0.0, 1.0f).tangent(0) == 0.0);
  CHECK(clamp(D1::variable(-0.3, 0), 0.0, 1.0f).value() == 0.0);
  CHECK(clamp(0.5, D1::variable(0.7, 0), 1.0).tangent(0) == 1.0);
  CHECK(clamp(0.5, D1::variable(0.7, 0), 1.0).value() == 0.7);
}

DIFFANA_TEST(pow_conventions) {
  // pow(0, 0) = 1 with zero tangents in both arguments.
  const D2 x0 = D2::variable(0.0, 0);
  const D2 y0 = D2::variable(0.0, 1);
  const D2 p00 = pow(x0, y0);
  CHECK(p00.value() == 1.0 && p00.tangent(0) == 0.0 && p00.tangent(1) == 0.0);
  // d/dy is 0 where x^y = 0 (here x = 0, y > 0); d/dx = y x^(y - 1).
  const D2 p02 = pow(x0, D2::variable(2.0, 1));
  CHECK(p02.value() == 0.0 && p02.tangent(0) == 0.0 && p02.tangent(1) == 0.0);
  const D2 p01 = pow(x0, D2::variable(1.0, 1));
  CHECK(p01.value() == 0.0 && p01.tangent(0) == 1.0 && p01.tangent(1) == 0.0);
  // Underflow to 0 for x > 0: d/dy = 0 too.
  const D2 pu = pow(D2::variable(0.5, 0), D2::variable(2000.0, 1));
  CHECK(pu.value() == 0.0 && pu.tangent(1) == 0.0);
  // x^0 = 1: d/dx = 0, d/dy = log(x).
  const D2 px = pow(D2::variable(3.0, 0), D2::variable(0.0, 1));
  CHECK(px.value() == 1.0 && px.tangent(0) == 0.0);
  CHECK_CLOSE(px.tangent(1), std::log(3.0), 1e-15, 0);
  // A negative base with a constant exponent: no NaN from log(x).
  const D1 neg = pow(D1::variable(-2.0, 0), 3);
  CHECK(neg.value() == -8.0 && neg.tangent(0) == 12.0);
  const D1 negc = pow(D1::variable(-2.0, 0), D1(3.0));
  CHECK(negc.value() == -8.0 && negc.tangent(0) == 12.0);
  // The plain rule.
  const auto r = diffana::pow_partials(0.0, 0.0);
  CHECK(r.value == 1.0 && r.d_x == 0.0 && r.d_y == 0.0);
}

DIFFANA_TEST(rounding_functions_have_zero_tangents) {
  D3 x = D3::variable(2.5, 0);
  x.tangent(1) = 3.0;
  x.tangent(2) = -1.0;
  const D3 rs[] = {floor(x), ceil(x), round(x), trunc(x), floor(-x), round(-x)};
  const double vs[] = {2.0, 3.0, 3.0, 2.0, -3.0, -3.0};
  for (int k = 0; k < 6; ++k) {
    CHECK(rs[k].value() == vs[k]);
    for (int i = 0; i < 3; ++i)
      CHECK(rs[k].tangent(i) == 0.0);
  }
  CHECK(trunc(D1(-2.7)).value() == -2.0);
}

DIFFANA_TEST(classification_looks_at_the_value) {
  D1 x = D1::variable(1.0, 0);
  CHECK(isfinite(x) && !isnan(x) && !isinf(x));
  CHECK(isinf(D1(kInf)) && !isfinite(D1(-kInf)));
  CHECK(isnan(D1(std::nan(""))));
  x.tangent(0) = std::nan("");
  CHECK(!isnan(x)); // only the value counts
}

// ---- arithmetic ---------------------------------------------------------------------

DIFFANA_TEST(arithmetic_matches_finite_differences) {
  const auto add = [](const auto& a) { return a[0] + a[1]; };
  const auto sub = [](const auto& a) { return a[0] - a[1]; };
  const auto mul = [](const auto& a) { return a[0] * a[1]; };
  const auto div = [](const auto& a) { return a[0] / a[1]; };
  const auto poly = [](const auto& a) {
    return 3 * a[0] * a[0] * a[1] - a[1] / 2.0 + 1.5f * a[0] - (2.0 - a[1]) / a[0] +
           4 / (a[1] * a[1] + 1);
  };
  const auto neg = [](const auto& a) { return -a[0] * +a[1]; };
  std::mt19937 rng(5u);
  std::uniform_real_distribution<double> u(-10.0, 10.0);
  for (int i = 0; i < 200; ++i) {
    const std::array<double, 2> p{u(rng), u(rng)};
    CHECK_GRADIENT("x + y", add, p);
    CHECK_GRADIENT("x - y", sub, p);
    CHECK_GRADIENT("x * y", mul, p);
    CHECK_GRADIENT("x / y", div, p, {0.0, std::fabs(p[1])});
    CHECK_GRADIENT("polynomial", poly, p, {std::fabs(p[0]), 0.0});
    CHECK_GRADIENT("-x * +y", neg, p);
  }
  for (const auto& p : {std::array<double, 2>{0.0, 1.0},
                        {1e100, 1e-100},
                        {1e-300, 1e300},
                        {-1e150, 3.0}}) {
    CHECK_GRADIENT("x * y", mul, p);
    CHECK_GRADIENT("x / y", div, p, {0.0, std::fabs(p[1])});
  }
}

DIFFANA_TEST(arithmetic_with_plain_numbers_on_either_side) {
  const D2 x = D2::variable(3.0, 0);
  const auto t0 = [](const D2& r) { return r.tangent(0); };
  // int
  CHECK(x + 2 == 5.0 && t0(x + 2) == 1.0);
  CHECK(2 + x == 5.0 && t0(2 + x) == 1.0);
  CHECK(x - 2 == 1.0 && t0(x - 2) == 1.0);
  CHECK(2 - x == -1.0 && t0(2 - x) == -1.0);
  CHECK(x * 2 == 6.0 && t0(x * 2) == 2.0);
  CHECK(2 * x == 6.0 && t0(2 * x) == 2.0);
  CHECK(x / 2 == 1.5 && t0(x / 2) == 0.5);
  CHECK_CLOSE((2 / x).value(), 2.0 / 3.0, 1e-15, 0);
  CHECK_CLOSE(t0(2 / x), -2.0 / 9.0, 1e-15, 0);
  // float
  CHECK(x + 0.5f == 3.5 && t0(0.5f + x) == 1.0);
  CHECK(t0(x * 0.5f) == 0.5 && t0(0.5f * x) == 0.5);
  CHECK(t0(0.5f - x) == -1.0 && t0(x / 0.5f) == 2.0);
  CHECK_CLOSE(t0(0.5f / x), -0.5 / 9.0, 1e-15, 0);
  // double
  CHECK(t0(x * 1.5) == 1.5 && t0(1.5 * x) == 1.5);
  CHECK_CLOSE(t0(1.5 / x), -1.5 / 9.0, 1e-15, 0);
  // The other direction stays zero throughout.
  CHECK((1.5 / x * 2 - 7 + x * x).tangent(1) == 0.0);
  // Dual / Dual: d(u/v) = (du v - u dv) / v^2.
  const D2 y = D2::variable(4.0, 1);
  const D2 q = x / y;
  CHECK_CLOSE(q.value(), 0.75, 1e-15, 0);
  CHECK_CLOSE(q.tangent(0), 0.25, 1e-15, 0);
  CHECK_CLOSE(q.tangent(1), -3.0 / 16.0, 1e-15, 0);
  // Division by zero follows IEEE arithmetic (inf), it does not throw.
  CHECK(isinf(x / 0.0));
}

DIFFANA_TEST(compound_assignment) {
  D2 x = D2::variable(3.0, 0);
  const D2 y = D2::variable(2.0, 1);
  x += y;
  CHECK(x.value() == 5.0 && x.tangent(0) == 1.0 && x.tangent(1) == 1.0);
  x -= 2 * y;
  CHECK(x.value() == 1.0 && x.tangent(0) == 1.0 && x.tangent(1) == -1.0);
  x *= y; // x = (3 + 2 - 4) * 2
  CHECK(x.value() == 2.0 && x.tangent(0) == 2.0 && x.tangent(1) == -1.0);
  x /= y;
  CHECK(x.value() == 1.0 && x.tangent(0) == 1.0 && x.tangent(1) == -1.0);
  x += 1;
  x -= 0.5f;
  x *= 4.0;
  x /= 2;
  CHECK(x.value() == 3.0 && x.tangent(0) == 2.0 && x.tangent(1) == -2.0);
  // Self-assignment forms: x op= x.
  D1 a = D1::variable(3.0, 0);
  a *= a; // x^2: 9, 6
  CHECK(a.value() == 9.0 && a.tangent(0) == 6.0);
  a /= a; // 1, 0
  CHECK(a.value() == 1.0 && a.tangent(0) == 0.0);
  D1 b = D1::variable(3.0, 0);
  b += b;
  CHECK(b.value() == 6.0 && b.tangent(0) == 2.0);
  b -= b;
  CHECK(b.value() == 0.0 && b.tangent(0) == 0.0);
  // Compound assignment returns *this.
  D1 c = D1::variable(1.0, 0);
  (c += 1.0) *= 3;
  CHECK(c.value() == 6.0 && c.tangent(0) == 3.0);
}

DIFFANA_TEST(unary_minus_and_plus) {
  D3 x = D3::variable(2.0, 2);
  x.tangent(0) = 5.0;
  const D3 m = -x;
  const D3 p = +x;
  CHECK(m.value() == -2.0 && m.tangent(0) == -5.0 && m.tangent(1) == 0.0 &&
        m.tangent(2) == -1.0);
  CHECK(p.value() == 2.0 && p.tangent(0) == 5.0 && p.tangent(2) == 1.0);
  CHECK((-(-x)).tangent(0) == 5.0);
}

DIFFANA_TEST(comparisons_act_on_the_value) {
  D2 a = D2::variable(1.0, 0);
  D2 b = D2::variable(1.0, 1); // same value, different tangents
  CHECK(a == b && !(a != b) && a <= b && a >= b && !(a < b) && !(a > b));
  const D2 c(2.0);
  CHECK(a < c && c > a && a != c && a <= c && c >= a && !(a == c));
  // With plain numbers on either side.
  CHECK(a == 1 && 1 == a && a == 1.0f && 1.0 == a);
  CHECK(a < 1.5 && 1.5 > a && a <= 1 && 1 >= a && a > 0.5f && 0.5f < a);
  CHECK(a != 2 && 2 != a && !(a < 1) && !(1 > a) && a >= 1.0 && 1.0 <= a);
  // NaN compares unequal to everything, itself included.
  const D1 n(std::nan(""));
  CHECK(!(n == n) && n != n && !(n < 0.0) && !(0.0 < n));
}

// ---- construction, accessors, traits ------------------------------------------------

DIFFANA_TEST(construction_and_variable) {
  const D3 z;
  CHECK(z.value() == 0.0 && z.tangent(0) == 0.0 && z.tangent(2) == 0.0);
  const D3 c = 2.5; // implicit from double
  CHECK(c.value() == 2.5 && c.tangent(1) == 0.0);
  const D3 ci(7); // from int
  CHECK(ci.value() == 7.0);
  const D3 v = D3::variable(1.5, 1);
  CHECK(v.value() == 1.5 && v.tangent(0) == 0.0 && v.tangent(1) == 1.0 &&
        v.tangent(2) == 0.0);
  // An index outside [0, N) gives a constant.
  const D3 out = D3::variable(1.5, 3);
  const D3 outn = D3::variable(1.5, -1);
  for (int i = 0; i < 3; ++i)
    CHECK(out.tangent(i) == 0.0 && outn.tangent(i) == 0.0);
  // Mutable accessors.
  D3 m;
  m.value() = 4.0;
  m.tangent(2) = -2.0;
  CHECK(m.value() == 4.0 && m.tangent(2) == -2.0);
  CHECK(static_cast<double>(m) == 4.0);
}

DIFFANA_TEST(free_accessors_take_plain_numbers) {
  const D3 v = D3::variable(1.5, 1);
  CHECK(diffana::value(v) == 1.5 && diffana::tangent(v, 1) == 1.0);
  CHECK(diffana::value(2.5) == 2.5 && diffana::tangent(2.5, 0) == 0.0);
  CHECK(diffana::value(3) == 3 && diffana::tangent(3, 7) == 0);
  CHECK(diffana::value(2.5f) == 2.5f && diffana::tangent(2.5f, 1) == 0.0f);
  static_assert(std::is_same_v<decltype(diffana::value(2.5f)), float>);
  static_assert(std::is_same_v<decltype(diffana::tangent(3, 0)), int>);
  static_assert(std::is_same_v<decltype(diffana::value(v)), double>);
  // Found by ADL for a Dual.
  CHECK(value(v) == 1.5 && tangent(v, 1) == 1.0);
}

DIFFANA_TEST(traits) {
  using diffana::is_dual_v;
  using diffana::promote_floating_t;
  using diffana::promote_t;
  using diffana::tangent_count_v;
  using diffana::value_type_t;
  static_assert(is_dual_v<D3> && is_dual_v<const D3&> && !is_dual_v<double>);
  static_assert(std::is_same_v<value_type_t<Dual<float, 2>>, float>);
  static_assert(std::is_same_v<value_type_t<const D3&>, double>);
  static_assert(std::is_same_v<value_type_t<int>, int>);
  static_assert(tangent_count_v<D3> == 3 && tangent_count_v<double> == 0);
  static_assert(std::is_same_v<promote_t<double, D3>, D3>);
  static_assert(std::is_same_v<promote_t<D3, int, float>, D3>);
  static_assert(std::is_same_v<promote_t<const D3&, D3&>, D3>);
  static_assert(std::is_same_v<promote_t<float, double>, double>);
  static_assert(std::is_same_v<promote_t<int, int>, int>);
  static_assert(std::is_same_v<promote_t<float>, float>);
  // Plain numbers adapt to the Dual's value type; two Duals take the common one.
  static_assert(std::is_same_v<promote_t<Dual<float, 2>, double>, Dual<float, 2>>);
  static_assert(std::is_same_v<promote_t<double, Dual<float, 2>, int>, Dual<float, 2>>);
  static_assert(
      std::is_same_v<promote_t<Dual<float, 2>, Dual<double, 2>>, Dual<double, 2>>);
  static_assert(std::is_same_v<promote_floating_t<int, int>, double>);
  static_assert(std::is_same_v<promote_floating_t<int, float>, float>);
  static_assert(std::is_same_v<promote_floating_t<int, D1>, D1>);
  CHECK(true);
}

DIFFANA_TEST(detail_helpers) {
  D2 x = D2::variable(2.0, 0);
  // chain: value f, tangents dfdx * tangent(x).
  const D2 r = diffana::detail::chain(x, 7.0, 3.0);
  CHECK(r.value() == 7.0 && r.tangent(0) == 3.0 && r.tangent(1) == 0.0);
  // chain_safe: an infinite dfdx leaves zero tangents at zero.
  const D2 s = diffana::detail::chain_safe(x, 0.0, kInf);
  CHECK(s.tangent(0) == kInf && s.tangent(1) == 0.0);
  const D2 sn = diffana::detail::chain(x, 0.0, kInf);
  CHECK(std::isnan(sn.tangent(1))); // why chain_safe exists
  // add_tangent: partial * tangent(arg) for a Dual, nothing for a plain arg.
  D2 acc(1.0);
  diffana::detail::add_tangent(acc, 2.0, x);
  diffana::detail::add_tangent(acc, 5.0, 3.0);
  diffana::detail::add_tangent(acc, kInf, D2(1.0)); // zero tangents add nothing
  CHECK(acc.value() == 1.0 && acc.tangent(0) == 2.0 && acc.tangent(1) == 0.0);
  double plain = 1.0;
  diffana::detail::add_tangent(plain, 2.0, x); // plain result: no-op
  CHECK(plain == 1.0);
  // convert: plain -> constant Dual, Dual<float> -> Dual<double>, plain -> plain.
  const D2 c = diffana::detail::convert<D2>(3);
  CHECK(c.value() == 3.0 && c.tangent(0) == 0.0);
  const D2 w = diffana::detail::convert<D2>(Dual<float, 2>::variable(1.5f, 1));
  CHECK(w.value() == 1.5 && w.tangent(1) == 1.0 && w.tangent(0) == 0.0);
  CHECK(diffana::detail::convert<double>(2.5f) == 2.5);
  CHECK(diffana::detail::convert<D2>(x).tangent(0) == 1.0);
}

DIFFANA_TEST(printing) {
  D3 x = D3::variable(3.5, 0);
  x.tangent(2) = 0.25;
  std::ostringstream os;
  os << x;
  CHECK(os.str() == "3.5 [1, 0, 0.25]");
}

// ---- tangent counts and value types -------------------------------------------------

DIFFANA_TEST(tangent_counts_1_3_8_0) {
  // Dual<double, 8> with arbitrary (not unit) tangents: each tangent is f'(x) t_i.
  using D8 = Dual<double, 8>;
  D8 x(0.7);
  for (int i = 0; i < 8; ++i)
    x.tangent(i) = 0.5 * i - 1.0;
  const D8 y = exp(sin(x)) * x + atan2(x, 2.0);
  const double fp = std::exp(std::sin(0.7)) * std::cos(0.7) * 0.7 +
                    std::exp(std::sin(0.7)) + 2.0 / (0.49 + 4.0);
  for (int i = 0; i < 8; ++i)
    CHECK_CLOSE(y.tangent(i), fp * (0.5 * i - 1.0), 1e-14, 1e-15);
  // N = 1 and N = 3 give the same numbers in the matching direction.
  const D1 y1 = exp(sin(D1::variable(0.7, 0))) * D1::variable(0.7, 0) +
                atan2(D1::variable(0.7, 0), 2.0);
  const D3 x3 = D3::variable(0.7, 2);
  const D3 y3 = exp(sin(x3)) * x3 + atan2(x3, 2.0);
  CHECK_CLOSE(y1.tangent(0), fp, 1e-14, 0);
  CHECK(y3.tangent(2) == y1.tangent(0) && y3.tangent(0) == 0.0 &&
        y3.value() == y1.value());
  // N = 0: a plain number in Dual clothing (values only).
  using D0 = Dual<double, 0>;
  const D0 z = D0::variable(0.7, 0);
  const D0 w = exp(sin(z)) * z + atan2(z, 2.0) + pow(z, 2) - max(z, 1.0);
  CHECK_CLOSE(w.value(), y1.value() + 0.49 - 1.0, 1e-14, 0);
  static_assert(D0::size == 0 && D8::size == 8);
}

DIFFANA_TEST(float_duals) {
  using F2 = Dual<float, 2>;
  const F2 x = F2::variable(0.8f, 0);
  const F2 y = F2::variable(1.7f, 1);
  // Plain doubles and ints keep the Dual's float type.
  static_assert(std::is_same_v<decltype(pow(x, 2.0)), F2>);
  static_assert(std::is_same_v<decltype(max(x, 1.0)), F2>);
  static_assert(std::is_same_v<decltype(x * 2.0 + 1), F2>);
  const F2 r = exp(x) * y - pow(x, 2.0) + atan2(y, x) + sqrt(y) + max(x, 1.0) / y;
  const D2 xd = D2::variable(0.8, 0);
  const D2 yd = D2::variable(1.7, 1);
  const D2 rd =
      exp(xd) * yd - pow(xd, 2.0) + atan2(yd, xd) + sqrt(yd) + max(xd, 1.0) / yd;
  CHECK_CLOSE(r.value(), rd.value(), 1e-6, 1e-6);
  CHECK_CLOSE(r.tangent(0), rd.tangent(0), 1e-5, 1e-6);
  CHECK_CLOSE(r.tangent(1), rd.tangent(1), 1e-5, 1e-6);
  // Every unary function instantiates for float.
  const F2 u = F2::variable(0.3f, 0);
  const F2 all = exp(u) + expm1(u) + log(u) + log1p(u) + log10(u) + sqrt(u) + cbrt(u) +
                 sin(u) + cos(u) + tan(u) + asin(u) + acos(u) + atan(u) + sinh(u) +
                 cosh(u) + tanh(u) + asinh(u) + acosh(u + 1.0f) + atanh(u) + erf(u) +
                 erfc(u) + abs(u) + fabs(u) + floor(u) + ceil(u) + round(u) + trunc(u) +
                 hypot(u, 1.0f) + min(u, 2) + fmin(u, 1.0) + fmax(u, 0) +
                 clamp(u, 0, 1);
  const D2 ud = D2::variable(0.3, 0);
  const D2 alld =
      exp(ud) + expm1(ud) + log(ud) + log1p(ud) + log10(ud) + sqrt(ud) + cbrt(ud) +
      sin(ud) + cos(ud) + tan(ud) + asin(ud) + acos(ud) + atan(ud) + sinh(ud) +
      cosh(ud) + tanh(ud) + asinh(ud) + acosh(ud + 1.0) + atanh(ud) + erf(ud) +
      erfc(ud) + abs(ud) + fabs(ud) + floor(ud) + ceil(ud) + round(ud) + trunc(ud) +
      hypot(ud, 1.0) + min(ud, 2) + fmin(ud, 1.0) + fmax(ud, 0) + clamp(ud, 0, 1);
  CHECK_CLOSE(all.value(), alld.value(), 1e-5, 1e-6);
  CHECK_CLOSE(all.tangent(0), alld.tangent(0), 1e-5, 1e-6);
  CHECK(all.tangent(1) == 0.0f);
  // Mixing float and double Duals in a two-argument function widens to double.
  static_assert(std::is_same_v<decltype(hypot(x, yd)), D2>);
  CHECK_CLOSE(hypot(x, yd).tangent(1), 1.7 / std::hypot(0.8, 1.7), 1e-6, 0);
}

// ---- wide Duals: the vectorised loops agree with one direction at a time
// -------------

namespace {
/// Every operator and every kind of rule: Dual op Dual, plain op Dual on both sides,
/// unary minus, a plain chain rule (exp), a guarded one (sqrt, log), two-argument
/// rules (pow, hypot), ties (max) and compound assignment.
template <class X> X wide_expression(const X& x, const X& y) {
  X r = (x * y - 2.0 * x + y / 3.0) / (1.5 + y) - (0.5 - x) * (x - 1.0);
  r += exp(-x) * sqrt(y) + log(x + 2.0) + pow(x + 1.0, y) + hypot(x, y) / 2.0;
  r -= 2.0 / (x + 3.0) + max(x, y) + 4.0 * (y + 0.25);
  r *= x;
  r /= 1.0 + y * y;
  return r;
}

/// Dual<T, N> with tangents t_x, t_y against N Dual<T, 1> evaluations, one per
/// direction: N is odd or large so that both the vector body and the remainder of
/// every tangent loop run.
template <class T, int N> void check_wide_against_narrow(double rel) {
  using W = Dual<T, N>;
  using One = Dual<T, 1>;
  std::mt19937 rng(7u);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const T x0 = T(0.6);
  const T y0 = T(1.3);
  W x(x0);
  W y(y0);
  for (int i = 0; i < N; ++i) {
    // Some directions move one argument only: zero tangents next to nonzero ones.
    x.tangent(i) = (i % 5 == 1) ? T(0) : static_cast<T>(u(rng));
    y.tangent(i) = (i % 7 == 2) ? T(0) : static_cast<T>(u(rng));
  }
  const W r = wide_expression(x, y);
  for (int i = 0; i < N; ++i) {
    One xi(x0);
    One yi(y0);
    xi.tangent(0) = x.tangent(i);
    yi.tangent(0) = y.tangent(i);
    const One ri = wide_expression(xi, yi);
    CHECK_CLOSE(r.value(), ri.value(), rel, 0);
    CHECK_CLOSE(r.tangent(i), ri.tangent(0), rel, rel);
  }
}
} // namespace

DIFFANA_TEST(wide_duals_match_one_direction_at_a_time) {
  check_wide_against_narrow<double, 64>(1e-14);
  check_wide_against_narrow<double, 13>(1e-14);
  check_wide_against_narrow<float, 7>(1e-6f);
}

DIFFANA_TEST(non_finite_derivatives_keep_zero_tangents_in_wide_duals) {
  // Zero tangents (constant directions) stay exactly zero under an infinite or NaN
  // derivative, for every tangent of a wide Dual, while the others take it.
  using D64 = Dual<double, 64>;
  D64 x(0.0);
  for (int i = 0; i < 64; i += 3)
    x.tangent(i) = 1.0;
  const D64 s = sqrt(x);
  const D64 l = log(x);
  D64 acc(1.0);
  diffana::detail::add_tangent(acc, kInf, x);
  const D64 c = diffana::detail::chain_safe(x, 0.0, std::nan(""));
  for (int i = 0; i < 64; ++i) {
    const bool moved = i % 3 == 0;
    CHECK(s.tangent(i) == (moved ? kInf : 0.0));
    CHECK(l.tangent(i) == (moved ? kInf : 0.0));
    CHECK(acc.tangent(i) == (moved ? kInf : 0.0));
    CHECK(moved ? std::isnan(c.tangent(i)) : c.tangent(i) == 0.0);
  }
  // A finite derivative of a NaN or infinite tangent propagates it as before.
  D64 y = D64::variable(4.0, 0);
  y.tangent(1) = std::nan("");
  y.tangent(2) = kInf;
  const D64 sy = sqrt(y);
  CHECK(sy.tangent(0) == 0.25 && std::isnan(sy.tangent(1)) && sy.tangent(2) == kInf);
  CHECK(sy.tangent(3) == 0.0);
}

DIFFANA_TEST(arithmetic_on_zero_tangent_duals) {
  // N = 0 stores one unused placeholder; every operator still gives the plain value.
  using D0 = Dual<double, 0>;
  const D0 a(3.0);
  const D0 b(4.0);
  CHECK((a + b).value() == 7.0 && (a - b).value() == -1.0 && (a * b).value() == 12.0);
  CHECK((a / b).value() == 0.75 && (-a).value() == -3.0 && (+a).value() == 3.0);
  CHECK((1.0 - a).value() == -2.0 && (a - 1).value() == 2.0 && (2 / b).value() == 0.5);
  CHECK((a * 2).value() == 6.0 && (2.0 * a).value() == 6.0 && (a / 2).value() == 1.5);
  CHECK(sqrt(b).value() == 2.0 && (b + 1.0).value() == 5.0 && (1 + b).value() == 5.0);
}

// ---- ADL, layout, constexpr ---------------------------------------------------------

namespace {
template <class T> T generic_function(T x) {
  using std::exp;
  using std::max;
  return exp(x) + max(x, 1.0);
}

template <class T> T generic_with_all_using(T x, T y) {
  using std::atan2;
  using std::clamp;
  using std::hypot;
  using std::log;
  using std::max;
  using std::min;
  using std::pow;
  using std::sqrt;
  return pow(x, 2) * log(y) + sqrt(hypot(x, y)) - atan2(y, x) + max(x, y) * min(x, y) +
         clamp(x, T(0.0), y);
}
} // namespace

DIFFANA_TEST(adl_in_generic_code) {
  CHECK_CLOSE(generic_function(0.5), std::exp(0.5) + 1.0, 1e-15, 0);
  CHECK_CLOSE(generic_function(2.0), std::exp(2.0) + 2.0, 1e-15, 0);
  const D1 a = generic_function(D1::variable(0.5, 0));
  CHECK_CLOSE(a.value(), std::exp(0.5) + 1.0, 1e-15, 0);
  CHECK_CLOSE(a.tangent(0), std::exp(0.5), 1e-15, 0);
  const D1 b = generic_function(D1::variable(2.0, 0));
  CHECK_CLOSE(b.tangent(0), std::exp(2.0) + 1.0, 1e-15, 0);
  const Dual<float, 1> c = generic_function(Dual<float, 1>::variable(2.0f, 0));
  CHECK_CLOSE(c.tangent(0), std::exp(2.0) + 1.0, 1e-6, 0);
  // Two arguments, every using-declaration in scope, against finite differences.
  const auto g = [](const auto& p) { return generic_with_all_using(p[0], p[1]); };
  CHECK_GRADIENT("generic_with_all_using", g, std::array<double, 2>{0.7, 1.9});
  CHECK_GRADIENT("generic_with_all_using", g, std::array<double, 2>{2.5, 1.3});
  // Unqualified calls on a Dual without any using-declaration.
  const D1 x = D1::variable(0.25, 0);
  CHECK_CLOSE(exp(x).tangent(0), std::exp(0.25), 1e-15, 0);
  CHECK_CLOSE(log(x).tangent(0), 4.0, 1e-15, 0);
  CHECK_CLOSE(pow(x, 3).tangent(0), 3 * 0.0625, 1e-15, 0);
  CHECK(max(x, 0.0).tangent(0) == 1.0);
}

DIFFANA_TEST(layout_and_constexpr) {
  static_assert(std::is_trivially_copyable_v<D3>);
  static_assert(sizeof(D3) == 4 * sizeof(double));
  static_assert(sizeof(Dual<float, 8>) == 9 * sizeof(float));
  static_assert(sizeof(D1) == 2 * sizeof(double));
  static_assert(alignof(D3) == alignof(double));
  constexpr D3 c(2.0);
  static_assert(c.value() == 2.0 && c.tangent(1) == 0.0);
  constexpr D3 v = D3::variable(1.5, 2);
  static_assert(v.value() == 1.5 && v.tangent(2) == 1.0 && v.tangent(0) == 0.0);
  constexpr D3 z{};
  static_assert(z.value() == 0.0);
  static_assert(D3(1.0) < D3(2.0) && D3(1.0) == 1 && 2 > D3(1.0));
  static_assert(diffana::value(v) == 1.5 && diffana::tangent(v, 2) == 1.0);
  static_assert(static_cast<double>(c) == 2.0);
  CHECK(true);
}

int main() {
  return diffana::test::run_all();
}
