// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Relaxed (soft) selections: sigmoid cuts, windows and straight-through cuts.
///
/// `soft_cut(x, cut, slope)` is exactly `relaxed.cut(x, cut, slope, keep="above")`
/// (gradhep/relaxed): 1 / (1 + exp(-slope (x - cut))); `soft_cut_below` is
/// `keep="below"`: 1 / (1 + exp(slope (x - cut))), i.e. sigmoid(-slope (x - cut)),
/// not 1 - sigmoid(...). The value is a weight in [0, 1], not a mask.
///
/// Every function takes any mix of plain numbers and `Dual`s (or `Rev`s, reverse.hpp);
/// the result is `promote_t` of the arguments (double when all of them are integers).
/// Each is computed once on plain values by a `*_partials` rule, whose partial
/// derivatives are then applied to the arguments' tangents (`detail::add_tangent`;
/// for Revs: edges on the tape) and pulled back by the `*_pullback`s. The sigmoid
/// and its complement are both computed without cancellation, so for large
/// |slope (x - cut)| the value is exactly 0 or 1 and every derivative exactly 0
/// (from |slope (x - cut)| > ~745 on in double), never NaN.
///
/// Domain: cut, lo, hi and slope finite (not checked here: the kernels and the
/// bindings validate them). A negative slope flips the cut. A NaN x gives NaN value
/// and derivatives; x = +-inf gives the limit value 0 or 1 with zero derivatives
/// (slope != 0).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"
#include "diffana/ad/reverse_fwd.hpp"
#include "diffana/config.hpp"

#include <cmath>
#include <type_traits>

namespace diffana {

/// The value of a soft cut and its partial derivatives w.r.t. x, cut and slope.
template <class T> struct SoftCutPartials {
  T value;
  T d_x;
  T d_cut;
  T d_slope;
};

/// The value of a soft window and its partial derivatives w.r.t. x, lo, hi, slope.
template <class T> struct SoftWindowPartials {
  T value;
  T d_x;
  T d_lo;
  T d_hi;
  T d_slope;
};

namespace detail {

/// sigmoid(z) and its complement 1 - sigmoid(z) = sigmoid(-z).
template <class T> struct SoftSigmoidPair {
  T s;
  T c;
};

/// Both halves from exp(-|z|) <= 1, so neither is formed as 1 - (something close
/// to 1): for z -> +inf, s = 1 and c = exp(-z) (exactly 0 once it underflows).
/// A NaN z gives NaN for both.
template <class T> DIFFANA_HOST_DEVICE SoftSigmoidPair<T> soft_sigmoid_pair(T z) {
  using std::exp;
  if (z >= T(0)) {
    const T e = exp(-z);
    const T inv = T(1) / (T(1) + e);
    return {inv, e * inv};
  }
  const T e = exp(z); // NaN z ends up here and stays NaN
  const T inv = T(1) / (T(1) + e);
  return {e * inv, inv};
}

/// partial * direction, with a zero direction contributing exactly 0 (so that an
/// infinite partial never turns a constant argument into NaN).
template <class T> DIFFANA_HOST_DEVICE T soft_times(T partial, T direction) {
  return direction == T(0) ? T(0) : partial * direction;
}

/// The floating-point result type of a soft operation on the given arguments:
/// promote_t, with integers promoted to double.
template <class... Xs>
using soft_result_t =
    std::conditional_t<std::is_integral_v<promote_t<Xs...>>, double, promote_t<Xs...>>;

} // namespace detail

// ---- rules on plain numbers -------------------------------------------------------

/// soft_cut on plain numbers, with its partials. With z = slope (x - cut),
/// s = sigmoid(z): d/dx = slope s (1 - s); d/dcut = -slope s (1 - s);
/// d/dslope = (x - cut) s (1 - s). All three are exactly 0 where s (1 - s) = 0.
/// slope = 0 gives s = 1/2 even for infinite x - cut.
template <class T>
DIFFANA_HOST_DEVICE SoftCutPartials<T> soft_cut_partials(T x, T cut, T slope) {
  const T d = x - cut;
  // slope = 0 is the constant 1/2 even for an infinite x (no 0 * inf), NaN x stays NaN.
  const T z = (slope == T(0)) ? (d != d ? d : T(0)) : slope * d;
  const auto p = detail::soft_sigmoid_pair(z);
  const T g = p.s * p.c;
  if (g == T(0)) return {p.s, T(0), T(0), T(0)};
  const T dx = slope * g;
  return {p.s, dx, -dx, d * g};
}

/// soft_cut_below on plain numbers, with its partials. With z = slope (x - cut),
/// c = sigmoid(-z): d/dx = -slope c (1 - c); d/dcut = slope c (1 - c);
/// d/dslope = -(x - cut) c (1 - c).
template <class T>
DIFFANA_HOST_DEVICE SoftCutPartials<T> soft_cut_below_partials(T x, T cut, T slope) {
  const T d = x - cut;
  // slope = 0 is the constant 1/2 even for an infinite x (no 0 * inf), NaN x stays NaN.
  const T z = (slope == T(0)) ? (d != d ? d : T(0)) : slope * d;
  const auto p = detail::soft_sigmoid_pair(z);
  const T g = p.s * p.c;
  if (g == T(0)) return {p.c, T(0), T(0), T(0)};
  const T dx = slope * g;
  return {p.c, -dx, dx, -d * g};
}

/// soft_window on plain numbers, with its partials: with a = soft_cut(x, lo, slope),
/// b = soft_cut_below(x, hi, slope), value a b and (product rule)
/// d/dx = slope (a (1 - a) b - a b (1 - b)); d/dlo = -slope a (1 - a) b;
/// d/dhi = slope a b (1 - b); d/dslope = (x - lo) a (1 - a) b - (x - hi) a b (1 - b).
/// At slope = 0 these are 1/4, 0, 0, 0 and d/dslope = (hi - lo) / 8 (written so, as
/// the two terms of d/dslope could each overflow for huge |x|).
template <class T>
DIFFANA_HOST_DEVICE SoftWindowPartials<T> soft_window_partials(T x, T lo, T hi,
                                                               T slope) {
  if (slope == T(0) && x == x) return {T(0.25), T(0), T(0), T(0), (hi - lo) * T(0.125)};
  const auto a = soft_cut_partials(x, lo, slope);
  const auto b = soft_cut_below_partials(x, hi, slope);
  return {a.value * b.value, a.d_x * b.value + a.value * b.d_x, a.d_cut * b.value,
          a.value * b.d_cut, a.d_slope * b.value + a.value * b.d_slope};
}

// ---- Clad-style pushforwards and pullbacks (plain numbers) -------------------------
//
// Each pullback adds its partials (the *_partials rules above) times the output
// adjoint d_y to the input adjoints (+=, as Clad's pullbacks); a zero d_y adds
// exactly nothing.

/// soft_cut(x, cut, slope) and its directional derivative
/// s (1 - s) (slope (d_x - d_cut) + (x - cut) d_slope), s = sigmoid(slope (x - cut)).
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T>
soft_cut_pushforward(T x, T cut, T slope, T d_x, T d_cut, T d_slope) {
  const auto p = soft_cut_partials(x, cut, slope);
  return {p.value, detail::soft_times(p.d_x, d_x) + detail::soft_times(p.d_cut, d_cut) +
                       detail::soft_times(p.d_slope, d_slope)};
}

/// soft_cut(x, cut, slope) pulled back: with s = sigmoid(slope (x - cut)),
/// d_x += slope s (1 - s) d_y, d_cut -= slope s (1 - s) d_y,
/// d_slope += (x - cut) s (1 - s) d_y.
template <class T>
DIFFANA_HOST_DEVICE void soft_cut_pullback(T x, T cut, T slope, T d_y, T* d_x, T* d_cut,
                                           T* d_slope) {
  if (d_y == T(0)) return;
  const auto p = soft_cut_partials(x, cut, slope);
  *d_x += p.d_x * d_y;
  *d_cut += p.d_cut * d_y;
  *d_slope += p.d_slope * d_y;
}

/// soft_cut_below(x, cut, slope) and its directional derivative
/// -c (1 - c) (slope (d_x - d_cut) + (x - cut) d_slope), c = sigmoid(-slope (x - cut)).
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T>
soft_cut_below_pushforward(T x, T cut, T slope, T d_x, T d_cut, T d_slope) {
  const auto p = soft_cut_below_partials(x, cut, slope);
  return {p.value, detail::soft_times(p.d_x, d_x) + detail::soft_times(p.d_cut, d_cut) +
                       detail::soft_times(p.d_slope, d_slope)};
}

/// soft_cut_below(x, cut, slope) pulled back: with c = sigmoid(-slope (x - cut)),
/// d_x -= slope c (1 - c) d_y, d_cut += slope c (1 - c) d_y,
/// d_slope -= (x - cut) c (1 - c) d_y.
template <class T>
DIFFANA_HOST_DEVICE void soft_cut_below_pullback(T x, T cut, T slope, T d_y, T* d_x,
                                                 T* d_cut, T* d_slope) {
  if (d_y == T(0)) return;
  const auto p = soft_cut_below_partials(x, cut, slope);
  *d_x += p.d_x * d_y;
  *d_cut += p.d_cut * d_y;
  *d_slope += p.d_slope * d_y;
}

/// soft_window(x, lo, hi, slope) and its directional derivative
/// d/dx d_x + d/dlo d_lo + d/dhi d_hi + d/dslope d_slope (partials as in
/// soft_window_partials).
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T>
soft_window_pushforward(T x, T lo, T hi, T slope, T d_x, T d_lo, T d_hi, T d_slope) {
  const auto p = soft_window_partials(x, lo, hi, slope);
  return {p.value, detail::soft_times(p.d_x, d_x) + detail::soft_times(p.d_lo, d_lo) +
                       detail::soft_times(p.d_hi, d_hi) +
                       detail::soft_times(p.d_slope, d_slope)};
}

/// soft_window(x, lo, hi, slope) pulled back with the partials of
/// soft_window_partials.
template <class T>
DIFFANA_HOST_DEVICE void soft_window_pullback(T x, T lo, T hi, T slope, T d_y, T* d_x,
                                              T* d_lo, T* d_hi, T* d_slope) {
  if (d_y == T(0)) return;
  const auto p = soft_window_partials(x, lo, hi, slope);
  *d_x += p.d_x * d_y;
  *d_lo += p.d_lo * d_y;
  *d_hi += p.d_hi * d_y;
  *d_slope += p.d_slope * d_y;
}

/// straight_through_cut(x, cut, slope): the hard step (1 if x > cut, else 0; NaN for
/// a NaN x) with the directional derivative of soft_cut,
/// s (1 - s) (slope (d_x - d_cut) + (x - cut) d_slope).
template <class T>
DIFFANA_HOST_DEVICE ValueAndPushforward<T>
straight_through_cut_pushforward(T x, T cut, T slope, T d_x, T d_cut, T d_slope) {
  using std::isnan;
  const auto p = soft_cut_pushforward(x, cut, slope, d_x, d_cut, d_slope);
  return {isnan(x) ? x : (x > cut ? T(1) : T(0)), p.pushforward};
}

/// straight_through_cut(x, cut, slope) pulled back: the adjoints of soft_cut (the
/// surrogate derivative), whatever the hard value.
template <class T>
DIFFANA_HOST_DEVICE void straight_through_cut_pullback(T x, T cut, T slope, T d_y,
                                                       T* d_x, T* d_cut, T* d_slope) {
  soft_cut_pullback(x, cut, slope, d_y, d_x, d_cut, d_slope);
}

/// straight_through_cut_below(x, cut, slope) pulled back: the adjoints of
/// soft_cut_below.
template <class T>
DIFFANA_HOST_DEVICE void straight_through_cut_below_pullback(T x, T cut, T slope, T d_y,
                                                             T* d_x, T* d_cut,
                                                             T* d_slope) {
  soft_cut_below_pullback(x, cut, slope, d_y, d_x, d_cut, d_slope);
}

// ---- generic (plain or Dual) ------------------------------------------------------

namespace detail {
template <class R, class X, class C, class S, class P>
DIFFANA_HOST_DEVICE R soft_cut_apply(const P& p, const X& x, const C& cut,
                                     const S& slope, value_type_t<R> v) {
  R r(v);
  add_tangent(r, p.d_x, x);
  add_tangent(r, p.d_cut, cut);
  add_tangent(r, p.d_slope, slope);
  return r;
}
} // namespace detail

/// Soft cut keeping x above cut: sigmoid(slope (x - cut)) = relaxed.cut(keep="above").
/// With s the result: d/dx = slope s (1 - s); d/dcut = -slope s (1 - s);
/// d/dslope = (x - cut) s (1 - s). Tends to the step x > cut as slope -> +inf
/// (1/2 at x == cut for every slope).
template <class X, class C, class S>
DIFFANA_HOST_DEVICE detail::soft_result_t<X, C, S> soft_cut(const X& x, const C& cut,
                                                            const S& slope) {
  using R = detail::soft_result_t<X, C, S>;
  using V = value_type_t<R>;
  const auto p = soft_cut_partials(static_cast<V>(value(x)), static_cast<V>(value(cut)),
                                   static_cast<V>(value(slope)));
  return detail::soft_cut_apply<R>(p, x, cut, slope, p.value);
}

/// Soft cut keeping x below cut: sigmoid(-slope (x - cut)) = 1 / (1 + exp(slope (x -
/// cut))) = relaxed.cut(keep="below"). With c the result: d/dx = -slope c (1 - c);
/// d/dcut = slope c (1 - c); d/dslope = -(x - cut) c (1 - c).
template <class X, class C, class S>
DIFFANA_HOST_DEVICE detail::soft_result_t<X, C, S>
soft_cut_below(const X& x, const C& cut, const S& slope) {
  using R = detail::soft_result_t<X, C, S>;
  using V = value_type_t<R>;
  const auto p =
      soft_cut_below_partials(static_cast<V>(value(x)), static_cast<V>(value(cut)),
                              static_cast<V>(value(slope)));
  return detail::soft_cut_apply<R>(p, x, cut, slope, p.value);
}

/// Soft window lo < x < hi: soft_cut(x, lo, slope) * soft_cut_below(x, hi, slope).
/// With a, b those factors: d/dx = slope (a (1 - a) b - a b (1 - b));
/// d/dlo = -slope a (1 - a) b; d/dhi = slope a b (1 - b);
/// d/dslope = (x - lo) a (1 - a) b - (x - hi) a b (1 - b).
/// lo > hi is allowed (the window is then nearly empty).
template <class X, class L, class H, class S>
DIFFANA_HOST_DEVICE detail::soft_result_t<X, L, H, S>
soft_window(const X& x, const L& lo, const H& hi, const S& slope) {
  using R = detail::soft_result_t<X, L, H, S>;
  using V = value_type_t<R>;
  const auto p =
      soft_window_partials(static_cast<V>(value(x)), static_cast<V>(value(lo)),
                           static_cast<V>(value(hi)), static_cast<V>(value(slope)));
  R r(p.value);
  detail::add_tangent(r, p.d_x, x);
  detail::add_tangent(r, p.d_lo, lo);
  detail::add_tangent(r, p.d_hi, hi);
  detail::add_tangent(r, p.d_slope, slope);
  return r;
}

/// Straight-through cut: the value is the hard step, 1 if x > cut and 0 otherwise
/// (x == cut gives 0, as the strict selection `x > cut`; a NaN x gives NaN), while the
/// tangents are those of soft_cut(x, cut, slope): d/dx = slope s (1 - s),
/// d/dcut = -slope s (1 - s), d/dslope = (x - cut) s (1 - s), s = sigmoid(slope (x -
/// cut)). The derivative is a surrogate: it is not that of the returned value.
template <class X, class C, class S>
DIFFANA_HOST_DEVICE detail::soft_result_t<X, C, S>
straight_through_cut(const X& x, const C& cut, const S& slope) {
  using R = detail::soft_result_t<X, C, S>;
  using V = value_type_t<R>;
  using std::isnan;
  const V xv = static_cast<V>(value(x));
  const V cv = static_cast<V>(value(cut));
  const auto p = soft_cut_partials(xv, cv, static_cast<V>(value(slope)));
  const V step = isnan(xv) ? xv : (xv > cv ? V(1) : V(0));
  return detail::soft_cut_apply<R>(p, x, cut, slope, step);
}

/// Straight-through cut keeping x below cut: value 1 if x < cut, else 0 (x == cut
/// gives 0; NaN x gives NaN); tangents those of soft_cut_below(x, cut, slope):
/// d/dx = -slope c (1 - c), d/dcut = slope c (1 - c), d/dslope = -(x - cut) c (1 - c).
template <class X, class C, class S>
DIFFANA_HOST_DEVICE detail::soft_result_t<X, C, S>
straight_through_cut_below(const X& x, const C& cut, const S& slope) {
  using R = detail::soft_result_t<X, C, S>;
  using V = value_type_t<R>;
  using std::isnan;
  const V xv = static_cast<V>(value(x));
  const V cv = static_cast<V>(value(cut));
  const auto p = soft_cut_below_partials(xv, cv, static_cast<V>(value(slope)));
  const V step = isnan(xv) ? xv : (xv < cv ? V(1) : V(0));
  return detail::soft_cut_apply<R>(p, x, cut, slope, step);
}

} // namespace diffana
