// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana::SparseDual<T, P, Mask> (include/diffana/ad/sparse.hpp): every
/// operation gives the value and tangents of the same computation on the dense
/// Dual<double, P> (bit for bit where the formulas are the same), masks combine as
/// unions, the generic functions of soft/cuts.hpp take them, a tangent outside the
/// mask never turns into NaN, and the result agrees with central finite differences.
#include "diffana/ad/dual.hpp"
#include "diffana/ad/sparse.hpp"
#include "diffana/soft/cuts.hpp"

#include "check.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <type_traits>

namespace {

using diffana::Dual;
using diffana::SparseDual;
using diffana::to_dense;
constexpr int P = 8;
using D = Dual<double, P>;
template <diffana::TangentMask M> using S = SparseDual<double, P, M>;

/// Parameter k as a SparseDual and as a Dual.
template <int K> S<(diffana::TangentMask(1) << K)> sp(double v) {
  return S<(diffana::TangentMask(1) << K)>::variable(v);
}
D dn(double v, int k) {
  return D::variable(v, k);
}

template <class X> void check_same(const X& sparse, const D& dense, double tol = 0) {
  const D s = to_dense(sparse);
  CHECK_CLOSE(s.value(), dense.value(), tol, tol);
  for (int k = 0; k < P; ++k)
    CHECK_CLOSE(s.tangent(k), dense.tangent(k), tol, tol);
}

/// The same formula on sparse (a, b, c: parameters 0, 3, 5) and dense numbers.
template <class F> void same_on_both(F f, double a, double b, double c) {
  const auto rs = f(sp<0>(a), sp<3>(b), sp<5>(c));
  const auto rd = f(dn(a, 0), dn(b, 3), dn(c, 5));
  check_same(rs, rd);
}

DIFFANA_TEST(mask_helpers) {
  using namespace diffana::detail;
  static_assert(mask_popcount(0b101101) == 4);
  static_assert(mask_slot(0b101101, 3) == 2 && mask_slot(0b101101, 1) == -1);
  static_assert(mask_param(0b101101, 2) == 3);
  static_assert(S<0b1001>::size == 2 && sizeof(S<0b1001>) == 3 * sizeof(double));
  static_assert(sizeof(S<0>) == 2 * sizeof(double));
  // The union of the masks.
  static_assert(std::is_same_v<decltype(sp<0>(1) * sp<3>(2)), S<0b1001>>);
  static_assert(std::is_same_v<decltype(sp<0>(1) * 2.0f), S<1>>);
  static_assert(std::is_same_v<diffana::promote_t<S<1>, double, S<4>>, S<5>>);
  static_assert(diffana::is_sparse_dual_v<S<1>> && !diffana::is_dual_v<S<1>>);
  CHECK(true);
}

DIFFANA_TEST(arithmetic_matches_dense) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> u(0.5, 3.0);
  for (int rep = 0; rep < 50; ++rep) {
    const double a = u(gen), b = u(gen), c = u(gen);
    same_on_both([](auto x, auto y, auto z) { return x + y - z; }, a, b, c);
    same_on_both([](auto x, auto y, auto z) { return x * y / z + 2.0 * x; }, a, b, c);
    same_on_both([](auto x, auto y, auto z) { return (1.0 - x) / y * (z - 0.5); }, a, b,
                 c);
    same_on_both([](auto x, auto y, auto z) { return -x / 2.0 + 3.0 / (y * z); }, a, b,
                 c);
    same_on_both(
        [](auto x, auto y, auto z) {
          auto r = x * y; // same mask: compound assignments
          r += x * y;
          r *= x * y;
          r /= x * y;
          r -= 0.5;
          r *= 2.0;
          return r * z;
        },
        a, b, c);
    same_on_both([](auto x, auto y, auto) { return x * x + y / y; }, a, b, c);
  }
}

DIFFANA_TEST(math_matches_dense) {
  using namespace diffana;
  const double a = 0.4, b = 1.7, c = 0.9;
#define ONE(EXPR) same_on_both([](auto x, auto y, auto z) { return EXPR; }, a, b, c)
  ONE(exp(x) * y + z);
  ONE(expm1(x) + log(y) + log1p(z) + log10(y));
  ONE(sqrt(x * y) + cbrt(z));
  ONE(sin(x) + cos(y) * tan(z));
  ONE(asin(x) + acos(x * z) + atan(y));
  ONE(sinh(x) + cosh(y) - tanh(z) + asinh(y) + acosh(y) + atanh(x));
  ONE(erf(x) * erfc(y) + abs(x - y) + fabs(z - y));
  ONE(floor(y) + ceil(x) + round(z) + trunc(y) + x);
  ONE(pow(x, y) + pow(z, 2.0) + pow(2.0, z));
  ONE(hypot(x, z) + atan2(y, x));
  ONE(max(x, y) + min(y, z) + fmax(x, 1.0) + fmin(2.0, z) + max(x, x));
  ONE(clamp(y, x, z) + clamp(x, 0.5, y) + clamp(2.0, x, z));
  ONE(soft_cut(x * 10.0, y, z) + soft_cut_below(x, y * 0.1, 3.0));
  ONE(soft_window(y, x, z * 2.0, 4.0) + straight_through_cut(x, y, z) +
      straight_through_cut_below(x, y, z));
#undef ONE
  CHECK(isfinite(sp<1>(1.0)) && !isnan(sp<1>(1.0)) && !isinf(sp<1>(1.0)));
}

DIFFANA_TEST(comparisons_accessors_and_printing) {
  const auto x = sp<2>(1.5) * sp<6>(2.0);
  CHECK(x > 2.0 && 4.0 > x && x == 3.0 && x != sp<1>(1.0) && x >= sp<2>(3.0));
  CHECK(x.tangent(2) == 2.0 && x.tangent(6) == 1.5 && x.tangent(0) == 0.0);
  CHECK(diffana::value(x) == 3.0 && diffana::tangent(x, 6) == 1.5);
  CHECK(static_cast<double>(x) == 3.0);
  std::ostringstream os;
  os << x;
  std::ostringstream od;
  od << to_dense(x);
  CHECK(os.str() == od.str());
  // Widening to a larger mask keeps every tangent.
  const S<0b11000100> w = x;
  check_same(w, to_dense(x));
  CHECK(to_dense(2.5) == 2.5);
}

DIFFANA_TEST(missing_tangents_never_become_nan) {
  const double inf = std::numeric_limits<double>::infinity();
  // Dense: inf * (tangent 0) is NaN for parameters x does not depend on.
  const auto s = inf * sp<1>(2.0);
  const D d = inf * dn(2.0, 1);
  CHECK(std::isnan(d.tangent(0)));
  const D sd = to_dense(s);
  for (int k = 0; k < P; ++k)
    CHECK(k == 1 ? std::isinf(sd.tangent(k)) : sd.tangent(k) == 0.0);
  // sqrt at 0: the derivative is infinite; a zero stored tangent stays zero.
  const auto z = diffana::sqrt(sp<0>(0.0) * 0.0);
  CHECK(to_dense(z).tangent(0) == 0.0);
  // A partial of inf times a structural zero adds nothing either.
  const auto m = sp<3>(1.0) * diffana::pow(sp<4>(0.0), 0.5);
  CHECK(!std::isnan(to_dense(m).tangent(3)));
}

DIFFANA_TEST(central_finite_differences) {
  auto f = [](auto a, auto b, auto c) {
    using diffana::soft_cut;
    using std::exp;
    return soft_cut(a * 40.0, b, 0.2) * exp(-c * a) + a * b / c;
  };
  const double a = 1.1, b = 42.0, c = 0.7, h = 1e-6;
  const auto r = to_dense(f(sp<0>(a), sp<3>(b), sp<5>(c)));
  const double g0 = (f(a + h, b, c) - f(a - h, b, c)) / (2 * h);
  const double g3 = (f(a, b + h, c) - f(a, b - h, c)) / (2 * h);
  const double g5 = (f(a, b, c + h) - f(a, b, c - h)) / (2 * h);
  CHECK_CLOSE(r.tangent(0), g0, 1e-6, 1e-8);
  CHECK_CLOSE(r.tangent(3), g3, 1e-6, 1e-8);
  CHECK_CLOSE(r.tangent(5), g5, 1e-6, 1e-8);
  CHECK(r.tangent(1) == 0.0 && r.tangent(7) == 0.0);
}

} // namespace

int main() {
  return diffana::test::run_all();
}
