// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Derivative rules of the scalar math library, one per function.
///
/// Each rule is named after the function it differentiates, the way Clad names its
/// custom derivatives: `exp_pushforward(x, d_x)` returns {exp(x), exp'(x) * d_x}.
/// `Dual` (dual.hpp) applies the rule with d_x = 1 and scales every tangent by the
/// result, so the rule is the single place where a derivative is written down. The
/// rules take plain floating-point scalars only.
#pragma once

#include "diffana/config.hpp"

#include <cmath>

namespace diffana {

/// A value and its directional derivative, as Clad's `clad::ValueAndPushforward`.
template <class T> struct ValueAndPushforward {
  T value;
  T pushforward;
};

/// A value and its two partial derivatives, for functions of two arguments.
template <class T> struct ValueAndPartials2 {
  T value;
  T d_x;
  T d_y;
};

namespace detail {
template <class T> DIFFANA_HOST_DEVICE constexpr T pi() {
  return T(3.141592653589793238462643383279502884L);
}
template <class T> DIFFANA_HOST_DEVICE constexpr T two_over_sqrt_pi() {
  return T(1.128379167095512573896158903121545172L);
}
template <class T> DIFFANA_HOST_DEVICE constexpr T ln10() {
  return T(2.302585092994045684017991454684364208L);
}
} // namespace detail

// ---- exponentials and logarithms ----------------------------------------------------

/// exp'(x) = exp(x)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> exp_pushforward(T x, T d_x) {
  using std::exp;
  const T f = exp(x);
  return {f, f * d_x};
}

/// expm1'(x) = exp(x)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> expm1_pushforward(T x, T d_x) {
  using std::exp;
  using std::expm1;
  return {expm1(x), exp(x) * d_x};
}

/// log'(x) = 1 / x   (x > 0)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> log_pushforward(T x, T d_x) {
  using std::log;
  return {log(x), d_x / x};
}

/// log1p'(x) = 1 / (1 + x)   (x > -1)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> log1p_pushforward(T x, T d_x) {
  using std::log1p;
  return {log1p(x), d_x / (T(1) + x)};
}

/// log10'(x) = 1 / (x ln 10)   (x > 0)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> log10_pushforward(T x, T d_x) {
  using std::log10;
  return {log10(x), d_x / (x * detail::ln10<T>())};
}

// ---- powers and roots ---------------------------------------------------------------

/// sqrt'(x) = 1 / (2 sqrt(x))   (infinite at x = 0)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> sqrt_pushforward(T x, T d_x) {
  using std::sqrt;
  const T f = sqrt(x);
  return {f, d_x / (T(2) * f)};
}

/// cbrt'(x) = 1 / (3 cbrt(x)^2)   (infinite at x = 0)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> cbrt_pushforward(T x, T d_x) {
  using std::cbrt;
  const T f = cbrt(x);
  return {f, d_x / (T(3) * f * f)};
}

/// pow(x, y): d/dx = y x^(y-1); d/dy = x^y log(x).
/// Conventions shared with JAX: d/dx = 0 when y = 0, and d/dy = 0 where x = 0 or
/// x^y = 0 (so pow(0, 0) = 1 has zero partials, and 0^y never gives 0 * -inf = NaN).
/// For x < 0, d/dy is NaN (x^y is only defined at integer y there).
template <class T> DIFFANA_HOST_DEVICE ValueAndPartials2<T> pow_partials(T x, T y) {
  using std::log;
  using std::pow;
  const T f = pow(x, y);
  const T d_x = (y == T(0)) ? T(0) : y * pow(x, y - T(1));
  const T d_y = (f == T(0) || x == T(0)) ? T(0) : f * log(x);
  return {f, d_x, d_y};
}

/// hypot(x, y) = sqrt(x^2 + y^2): d/dx = x / hypot, d/dy = y / hypot; both 0 at the
/// origin (the subgradient of smallest norm), so pt of a null vector has no NaN.
template <class T> DIFFANA_HOST_DEVICE ValueAndPartials2<T> hypot_partials(T x, T y) {
  using std::hypot;
  const T f = hypot(x, y);
  if (f == T(0)) return {f, T(0), T(0)};
  return {f, x / f, y / f};
}

// ---- trigonometric ------------------------------------------------------------------

/// sin'(x) = cos(x)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> sin_pushforward(T x, T d_x) {
  using std::cos;
  using std::sin;
  return {sin(x), cos(x) * d_x};
}

/// cos'(x) = -sin(x)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> cos_pushforward(T x, T d_x) {
  using std::cos;
  using std::sin;
  return {cos(x), -sin(x) * d_x};
}

/// tan'(x) = 1 + tan(x)^2
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> tan_pushforward(T x, T d_x) {
  using std::tan;
  const T f = tan(x);
  return {f, (T(1) + f * f) * d_x};
}

/// asin'(x) = 1 / sqrt(1 - x^2)   (|x| < 1)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> asin_pushforward(T x, T d_x) {
  using std::asin;
  using std::sqrt;
  return {asin(x), d_x / sqrt((T(1) - x) * (T(1) + x))};
}

/// acos'(x) = -1 / sqrt(1 - x^2)   (|x| < 1)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> acos_pushforward(T x, T d_x) {
  using std::acos;
  using std::sqrt;
  return {acos(x), -d_x / sqrt((T(1) - x) * (T(1) + x))};
}

/// atan'(x) = 1 / (1 + x^2)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> atan_pushforward(T x, T d_x) {
  using std::atan;
  return {atan(x), d_x / (T(1) + x * x)};
}

/// atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); both 0 at the origin.
/// Note the argument order of std::atan2: the partials are returned as {f, d_y, d_x}
/// in the fields {value, d_x, d_y} of the *call's* arguments (first, second).
/// The partials are formed as (x / r) / r with r = hypot(x, y), so that they neither
/// overflow nor underflow where x^2 + y^2 would.
template <class T> DIFFANA_HOST_DEVICE ValueAndPartials2<T> atan2_partials(T y, T x) {
  using std::atan2;
  using std::hypot;
  const T f = atan2(y, x);
  const T r = hypot(x, y);
  if (r == T(0)) return {f, T(0), T(0)};
  return {f, (x / r) / r, (-y / r) / r};
}

// ---- hyperbolic ---------------------------------------------------------------------

/// sinh'(x) = cosh(x)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> sinh_pushforward(T x, T d_x) {
  using std::cosh;
  using std::sinh;
  return {sinh(x), cosh(x) * d_x};
}

/// cosh'(x) = sinh(x)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> cosh_pushforward(T x, T d_x) {
  using std::cosh;
  using std::sinh;
  return {cosh(x), sinh(x) * d_x};
}

/// tanh'(x) = 1 - tanh(x)^2 = 1 / cosh(x)^2 (the second form keeps full relative
/// precision for large |x|, where 1 - tanh^2 cancels; cosh overflow gives 0).
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> tanh_pushforward(T x, T d_x) {
  using std::cosh;
  using std::tanh;
  const T c = cosh(x);
  return {tanh(x), d_x / c / c};
}

/// asinh'(x) = 1 / sqrt(x^2 + 1)  (formed as 1 / hypot(x, 1): no overflow of x^2)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> asinh_pushforward(T x, T d_x) {
  using std::asinh;
  using std::hypot;
  return {asinh(x), d_x / hypot(x, T(1))};
}

/// acosh'(x) = 1 / sqrt(x^2 - 1)   (x > 1; formed as sqrt(x - 1) sqrt(x + 1): exact
/// near 1 and no overflow of x^2)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> acosh_pushforward(T x, T d_x) {
  using std::acosh;
  using std::sqrt;
  return {acosh(x), d_x / (sqrt(x - T(1)) * sqrt(x + T(1)))};
}

/// atanh'(x) = 1 / (1 - x^2)   (|x| < 1)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> atanh_pushforward(T x, T d_x) {
  using std::atanh;
  return {atanh(x), d_x / ((T(1) - x) * (T(1) + x))};
}

// ---- error functions ----------------------------------------------------------------

/// erf'(x) = 2 / sqrt(pi) exp(-x^2)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> erf_pushforward(T x, T d_x) {
  using std::erf;
  using std::exp;
  return {erf(x), detail::two_over_sqrt_pi<T>() * exp(-x * x) * d_x};
}

/// erfc'(x) = -2 / sqrt(pi) exp(-x^2)
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> erfc_pushforward(T x, T d_x) {
  using std::erfc;
  using std::exp;
  return {erfc(x), -detail::two_over_sqrt_pi<T>() * exp(-x * x) * d_x};
}

// ---- piecewise ----------------------------------------------------------------------

/// abs'(x) = sign(x), with sign(0) = 0 (as JAX).
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T> abs_pushforward(T x, T d_x) {
  using std::fabs;
  const T s = (x > T(0)) ? T(1) : ((x < T(0)) ? T(-1) : T(0));
  return {fabs(x), s * d_x};
}

} // namespace diffana
