// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The math library on `diffana::Rev` (reverse.hpp, which includes this file at its
/// end): exp, log, sqrt, the trigonometric and hyperbolic functions, erf, abs, the
/// piecewise constant floor / ceil / round / trunc, pow / hypot / atan2, max / min /
/// clamp and isnan / isinf / isfinite, in namespace diffana so that generic code finds
/// them by argument-dependent lookup. The derivative rules are those of math.hpp
/// (shared with math_pullbacks.hpp and Dual). Not for device code.
#pragma once

#include "diffana/ad/math.hpp"
#include "diffana/ad/math_pullbacks.hpp"
#include "diffana/ad/reverse.hpp"

#include <cmath>
#include <type_traits>
#include <utility>

namespace diffana {

// ---- math library (rules: math.hpp, shared with math_pullbacks.hpp) ----------------

// One node with one edge whose partial is the rule's derivative: NAME_pushforward
// with d_x = 1 gives value and derivative in one evaluation, and NAME_pullback (what
// Clad calls) is that same rule scaled by the adjoint. Constants cost the function.
// Forced inline: a call passes and returns the Rev through memory, which cost more
// than the recording itself (-O3, hep_weight at P = 64: 50 of 400 ns per event).
#define DIFFANA_REV_UNARY(NAME)                                                        \
  template <class T> DIFFANA_INLINE Rev<T> NAME(Rev<T> x) {                            \
    if (x.is_constant()) {                                                             \
      using std::NAME;                                                                 \
      return Rev<T>(NAME(x.value()));                                                  \
    }                                                                                  \
    const auto r = NAME##_pushforward(x.value(), T(1));                                \
    return detail::rev_unary(std::move(x), r.value,                                    \
                             static_cast<double>(r.pushforward));                      \
  }
DIFFANA_REV_UNARY(exp)
DIFFANA_REV_UNARY(expm1)
DIFFANA_REV_UNARY(log)
DIFFANA_REV_UNARY(log1p)
DIFFANA_REV_UNARY(log10)
DIFFANA_REV_UNARY(sqrt)
DIFFANA_REV_UNARY(cbrt)
DIFFANA_REV_UNARY(sin)
DIFFANA_REV_UNARY(cos)
DIFFANA_REV_UNARY(tan)
DIFFANA_REV_UNARY(asin)
DIFFANA_REV_UNARY(acos)
DIFFANA_REV_UNARY(atan)
DIFFANA_REV_UNARY(sinh)
DIFFANA_REV_UNARY(cosh)
DIFFANA_REV_UNARY(tanh)
DIFFANA_REV_UNARY(asinh)
DIFFANA_REV_UNARY(acosh)
DIFFANA_REV_UNARY(atanh)
DIFFANA_REV_UNARY(erf)
DIFFANA_REV_UNARY(erfc)
#undef DIFFANA_REV_UNARY

/// abs'(x) = sign(x), 0 at 0 (as Dual and JAX).
template <class T> DIFFANA_INLINE Rev<T> abs(Rev<T> x) {
  const auto r = abs_pushforward(x.value(), T(1));
  return detail::rev_unary(std::move(x), r.value, static_cast<double>(r.pushforward));
}
template <class T> Rev<T> fabs(Rev<T> x) {
  return abs(std::move(x));
}

/// floor, ceil, round, trunc: piecewise constant, so constants.
#define DIFFANA_REV_STEP(NAME)                                                         \
  template <class T> Rev<T> NAME(const Rev<T>& x) {                                    \
    using std::NAME;                                                                   \
    return Rev<T>(NAME(x.value()));                                                    \
  }
DIFFANA_REV_STEP(floor)
DIFFANA_REV_STEP(ceil)
DIFFANA_REV_STEP(round)
DIFFANA_REV_STEP(trunc)
#undef DIFFANA_REV_STEP

namespace detail {
/// A Rev, or a plain number as a constant Rev<T>.
template <class T, class X> Rev<T> as_rev(const X& x) {
  if constexpr (is_rev_v<X>) {
    return Rev<T>::on_tape(static_cast<T>(x.value()), x.tape(), x.index());
  } else {
    static_assert(!is_dual_v<X>, "diffana: Rev and Dual cannot be mixed");
    return Rev<T>(static_cast<T>(x));
  }
}
} // namespace detail

// Two-argument functions of any mix of Rev and plain numbers (at least one Rev).
#define DIFFANA_REV_BINARY_FUNCTION(NAME)                                              \
  template <class X, class Y, std::enable_if_t<is_rev_v<X> || is_rev_v<Y>, int> = 0>   \
  promote_t<X, Y> NAME(const X& x, const Y& y) {                                       \
    using R = promote_t<X, Y>;                                                         \
    using V = value_type_t<R>;                                                         \
    const R a = detail::as_rev<V>(x);                                                  \
    const R b = detail::as_rev<V>(y);                                                  \
    const auto p = NAME##_partials(a.value(), b.value());                              \
    return detail::rev_binary(a, b, p.value, static_cast<double>(p.d_x),               \
                              static_cast<double>(p.d_y));                             \
  }
/// pow(x, y) (rule: pow_partials, which pow_pullback applies too).
DIFFANA_REV_BINARY_FUNCTION(pow)
/// hypot(x, y) (rule: hypot_partials; 0 at the origin).
DIFFANA_REV_BINARY_FUNCTION(hypot)
/// atan2(y, x) (rule: atan2_partials; 0 at the origin).
DIFFANA_REV_BINARY_FUNCTION(atan2)
#undef DIFFANA_REV_BINARY_FUNCTION

/// max(x, y): the larger argument's derivative; at a tie half of each (as Dual, JAX).
template <class X, class Y, std::enable_if_t<is_rev_v<X> || is_rev_v<Y>, int> = 0>
promote_t<X, Y> max(const X& x, const Y& y) {
  using R = promote_t<X, Y>;
  using V = value_type_t<R>;
  const R a = detail::as_rev<V>(x);
  const R b = detail::as_rev<V>(y);
  V d_a = V(0);
  V d_b = V(0);
  max_pullback(a.value(), b.value(), V(1), &d_a, &d_b);
  return detail::rev_binary(a, b, a.value() > b.value() ? a.value() : b.value(),
                            static_cast<double>(d_a), static_cast<double>(d_b));
}

/// min(x, y): the smaller argument's derivative; at a tie half of each.
template <class X, class Y, std::enable_if_t<is_rev_v<X> || is_rev_v<Y>, int> = 0>
promote_t<X, Y> min(const X& x, const Y& y) {
  using R = promote_t<X, Y>;
  using V = value_type_t<R>;
  const R a = detail::as_rev<V>(x);
  const R b = detail::as_rev<V>(y);
  V d_a = V(0);
  V d_b = V(0);
  min_pullback(a.value(), b.value(), V(1), &d_a, &d_b);
  return detail::rev_binary(a, b, a.value() < b.value() ? a.value() : b.value(),
                            static_cast<double>(d_a), static_cast<double>(d_b));
}

// Preferred to std::max / std::min(const T&, const T&) for two Revs of one type.
template <class T> Rev<T> max(const Rev<T>& x, const Rev<T>& y) {
  return max<Rev<T>, Rev<T>, 0>(x, y);
}
template <class T> Rev<T> min(const Rev<T>& x, const Rev<T>& y) {
  return min<Rev<T>, Rev<T>, 0>(x, y);
}

template <class X, class Y, std::enable_if_t<is_rev_v<X> || is_rev_v<Y>, int> = 0>
promote_t<X, Y> fmax(const X& x, const Y& y) {
  return max(x, y);
}
template <class X, class Y, std::enable_if_t<is_rev_v<X> || is_rev_v<Y>, int> = 0>
promote_t<X, Y> fmin(const X& x, const Y& y) {
  return min(x, y);
}

/// clamp(x, lo, hi): the derivative of whichever value is returned (x inside or on
/// the bounds takes x's).
template <class X, class L, class H,
          std::enable_if_t<is_rev_v<X> || is_rev_v<L> || is_rev_v<H>, int> = 0>
promote_t<X, L, H> clamp(const X& x, const L& lo, const H& hi) {
  using R = promote_t<X, L, H>;
  using V = value_type_t<R>;
  const R v = detail::as_rev<V>(x);
  const R a = detail::as_rev<V>(lo);
  const R b = detail::as_rev<V>(hi);
  if (v.value() < a.value()) return a;
  if (v.value() > b.value()) return b;
  return v;
}
template <class T> Rev<T> clamp(const Rev<T>& x, const Rev<T>& lo, const Rev<T>& hi) {
  return clamp<Rev<T>, Rev<T>, Rev<T>, 0>(x, lo, hi);
}

/// isnan / isinf / isfinite look at the value.
template <class T> bool isnan(const Rev<T>& x) {
  using std::isnan;
  return isnan(x.value());
}
template <class T> bool isinf(const Rev<T>& x) {
  using std::isinf;
  return isinf(x.value());
}
template <class T> bool isfinite(const Rev<T>& x) {
  using std::isfinite;
  return isfinite(x.value());
}

} // namespace diffana
