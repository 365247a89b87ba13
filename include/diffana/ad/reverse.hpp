// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Reverse mode per event: `diffana::Rev<T>`, a number recorded on a `diffana::Tape`.
///
/// The tape is the adjoint half of a two-pass event loop: the histograms are filled
/// first (plain values), the statistics give the adjoint of every bin, and then each
/// event is evaluated again on Revs, seeded with the adjoint of its contributions and
/// swept back onto the parameters. One tape per thread (an RDataFrame slot), cleared
/// per event; its vectors keep their capacity, so a warm tape allocates nothing.
///
///   diffana::Tape& tape = diffana::active_tape();    // thread_local
///   tape.clear();                                    // per event
///   auto a = diffana::make_param(tape, 0, 1.02);     // grad[0] collects d/da
///   auto w = diffana::soft_cut(a * pt, 30.0, 0.2);
///   tape.seed(w, d_w);                               // adjoint of w (accumulates)
///   tape.sweep(grad.data(), grad.size());            // grad[p] += ...
///
/// The tape (tape.hpp) holds nodes, each with any number of parents and the partial
/// derivative towards each (an edge list), plus custom nodes: an op with n_in inputs
/// and n_out outputs (a network layer, a soft-histogram kernel) recorded once with its
/// own pullback, instead of as thousands of scalar nodes. A Rev is its value, its tape
/// and its node index; a constant (no tape, index -1) records nothing, so arithmetic on
/// constants is plain arithmetic.
///
/// Generic diffana code instantiates with Rev as it does with Dual: value(),
/// value_type_t, promote_t (a Rev with plain numbers gives the Rev), detail::convert
/// and detail::add_tangent (which appends edges to the node being built) are provided
/// here, and the math library is overloaded in namespace diffana (ADL). The derivative
/// rules are those of math.hpp, which the pullbacks of math_pullbacks.hpp apply too.
/// Rev and Dual do not mix. Not for device code.
///
/// A Rev is valid until its tape is cleared; using it afterwards is undefined. x + c
/// and x - c (c a plain number) share x's node, as their derivative is x's.
/// add_tangent appends edges to the node it made for r as long as that is the tape's
/// last node: generic code builds a result with a run of add_tangent calls on it, and
/// a copy of r taken in the middle of such a run would see the later edges too.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"
#include "diffana/ad/math_pullbacks.hpp"
#include "diffana/ad/reverse_fwd.hpp"
#include "diffana/ad/tape.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace diffana {

// ---- traits (is_rev_v: reverse_fwd.hpp) ---------------------------------------------

/// value_type_t<Rev<T>> is T.
template <class T> struct value_type<Rev<T>> {
  using type = T;
};

namespace detail {
/// The Rev of a promotion: plain numbers adapt to a Rev's value type (as for Dual).
template <class T, class Y> struct rev_promote_pair {
  static_assert(!is_dual_v<Y>, "diffana: Rev and Dual cannot be mixed");
  static_assert(std::is_arithmetic_v<Y>,
                "diffana: a Rev combines with plain numbers and Revs only");
  using type = Rev<T>;
};
template <class T, class U> struct rev_promote_pair<T, Rev<U>> {
  using type = Rev<std::common_type_t<T, U>>;
};

template <class T, class Y, class... Rest> struct promote<Rev<T>, Y, Rest...> {
  using type = typename promote<typename rev_promote_pair<T, Y>::type, Rest...>::type;
};
template <class X, class T, class... Rest> struct promote<X, Rev<T>, Rest...> {
  using type = typename promote<typename rev_promote_pair<T, X>::type, Rest...>::type;
};
template <class T, class U, class... Rest> struct promote<Rev<T>, Rev<U>, Rest...> {
  using type = typename promote<Rev<std::common_type_t<T, U>>, Rest...>::type;
};
} // namespace detail

// ---- the type -----------------------------------------------------------------------

template <class T = double> class Rev;

/// A value recorded on a tape (or a constant: no tape, index -1).
template <class T> class Rev {
  static_assert(std::is_floating_point_v<T>, "diffana::Rev needs a floating-point T");

public:
  using value_type = T;

  /// Zero, a constant.
  constexpr Rev() : val_(0), tape_(nullptr), idx_(-1) {}

  /// A constant (implicit, so `Rev<> x = 2.0` works); records nothing.
  template <class S, enable_if_arithmetic_t<S> = 0>
  constexpr Rev(S v) : val_(static_cast<T>(v)), tape_(nullptr), idx_(-1) {}

  /// The node `index` of `tape` with value v (index < 0: a constant).
  DIFFANA_INLINE static Rev on_tape(T v, Tape* tape, std::int32_t index) {
    Rev r(v);
    if (index >= 0) {
      r.tape_ = tape;
      r.idx_ = index;
    }
    return r;
  }

  /// on_tape for an index known to be >= 0 (not checked) and a non-null tape.
  DIFFANA_INLINE static Rev on_node(T v, Tape* tape, std::int32_t index) {
    Rev r(v);
    r.tape_ = tape;
    r.idx_ = index;
    return r;
  }

  constexpr const T& value() const { return val_; }
  Tape* tape() const { return tape_; }
  std::int32_t index() const { return idx_; }
  bool is_constant() const { return idx_ < 0; }

  // Forced inline, as the arithmetic: cling's machine code pays for every call.
  DIFFANA_INLINE Rev& operator+=(const Rev& o) { return *this = *this + o; }
  DIFFANA_INLINE Rev& operator-=(const Rev& o) { return *this = *this - o; }
  DIFFANA_INLINE Rev& operator*=(const Rev& o) { return *this = *this * o; }
  DIFFANA_INLINE Rev& operator/=(const Rev& o) { return *this = *this / o; }
  template <class S, enable_if_arithmetic_t<S> = 0> Rev& operator+=(S s) {
    val_ += static_cast<T>(s);
    if (idx_ >= 0) tape_->seal();
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0> Rev& operator-=(S s) {
    val_ -= static_cast<T>(s);
    if (idx_ >= 0) tape_->seal();
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE Rev& operator*=(S s) {
    return *this = *this * s;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE Rev& operator/=(S s) {
    return *this = *this / s;
  }

private:
  T val_;
  Tape* tape_;
  std::int32_t idx_;
};

template <class T> void Tape::seed(const Rev<T>& y, double adjoint) {
  seed_index(y.index(), adjoint);
}

/// A parameter: a leaf of `tape` with value `value` whose adjoint sweep adds to
/// grad[param_index].
DIFFANA_INLINE Rev<double> make_param(Tape& tape, int param_index, double value) {
  return Rev<double>::on_tape(value, &tape, tape.push_param(param_index));
}

/// A leaf of `tape` that is no parameter (its adjoint can be read with
/// tape.adjoint(x.index()) after seeding, or it is an input whose adjoint a custom node
/// wants).
template <class T = double> Rev<T> make_leaf(Tape& tape, T value) {
  return Rev<T>::on_tape(value, &tape, tape.push_leaf());
}

// ---- accessors ----------------------------------------------------------------------

/// The value of a Rev.
template <class T> constexpr T value(const Rev<T>& x) {
  return x.value();
}

namespace detail {

[[noreturn]] inline DIFFANA_REV_NOINLINE void rev_throw_two_tapes() {
  throw std::logic_error("diffana::Rev: operands recorded on different tapes "
                         "(one tape per thread)");
}

/// The tape of x or of y (the one that is not a constant); throws when they differ.
template <class T, class U>
DIFFANA_INLINE Tape* rev_tape(const Rev<T>& x, const Rev<U>& y) {
  Tape* t = x.tape();
  if (t == nullptr) return y.tape();
  if (y.tape() != nullptr && y.tape() != t) rev_throw_two_tapes();
  return t;
}

/// x plus a constant, as value v: the derivative is x's, so the result shares x's
/// node (no new node).
template <class T> DIFFANA_INLINE Rev<T> rev_shift(const Rev<T>& x, T v) {
  if (x.is_constant()) return Rev<T>(v);
  x.tape()->seal();
  return Rev<T>::on_tape(v, x.tape(), x.index());
}

// rev_unary and rev_binary test each operand once (a Rev on a tape has an index >=
// 0) and then record without further tests: every branch costs spills in
// cling-compiled code.

/// The Rev of value v with one parent x (partial p).
template <class T> DIFFANA_INLINE Rev<T> rev_unary(const Rev<T>& x, T v, double p) {
  if (x.is_constant()) return Rev<T>(v);
  Tape* t = x.tape();
  return Rev<T>::on_node(v, t, t->push1_unchecked(x.index(), p));
}

/// The Rev of value v with parents x, y (partials px, py).
template <class T>
DIFFANA_INLINE Rev<T> rev_binary(const Rev<T>& x, const Rev<T>& y, T v, double px,
                                 double py) {
  const std::int32_t a = x.index();
  const std::int32_t b = y.index();
  if (a >= 0 && b >= 0) {
    Tape* t = x.tape();
    if (y.tape() != t) rev_throw_two_tapes();
    return Rev<T>::on_node(v, t, t->push2_unchecked(a, px, b, py));
  }
  if (a >= 0) return Rev<T>::on_node(v, x.tape(), x.tape()->push1_unchecked(a, px));
  if (b >= 0) return Rev<T>::on_node(v, y.tape(), y.tape()->push1_unchecked(b, py));
  return Rev<T>(v);
}

/// Rev overload of add_tangent (dual.hpp): r += partial * d(arg), by appending the
/// edge (arg, partial) to the node r is being built as (generic diffana code builds
/// results as `R r(value); add_tangent(r, partial, arg); ...`). Nothing for a plain or
/// constant arg.
template <class T, class A>
void add_tangent(Rev<T>& r, typename rev_identity<T>::type partial, const A& arg) {
  if constexpr (is_rev_v<A>) {
    if (arg.is_constant()) return;
    Tape* t = rev_tape(r, arg);
    r = Rev<T>::on_tape(
        r.value(), t,
        t->add_edge(r.index(), arg.index(), static_cast<double>(partial)));
  } else {
    static_assert(!is_dual_v<A>, "diffana: Rev and Dual cannot be mixed");
    (void)r;
    (void)partial;
    (void)arg;
  }
}

} // namespace detail

// ---- arithmetic ---------------------------------------------------------------------

template <class T> DIFFANA_INLINE Rev<T> operator+(const Rev<T>& x) {
  return x;
}
template <class T> DIFFANA_INLINE Rev<T> operator-(const Rev<T>& x) {
  return detail::rev_unary(x, -x.value(), -1.0);
}

template <class T> DIFFANA_INLINE Rev<T> operator+(const Rev<T>& x, const Rev<T>& y) {
  return detail::rev_binary(x, y, x.value() + y.value(), 1.0, 1.0);
}
template <class T> DIFFANA_INLINE Rev<T> operator-(const Rev<T>& x, const Rev<T>& y) {
  return detail::rev_binary(x, y, x.value() - y.value(), 1.0, -1.0);
}
template <class T> DIFFANA_INLINE Rev<T> operator*(const Rev<T>& x, const Rev<T>& y) {
  return detail::rev_binary(x, y, x.value() * y.value(), static_cast<double>(y.value()),
                            static_cast<double>(x.value()));
}
/// d(u/v) = du / v - (u/v) dv / v
template <class T> DIFFANA_INLINE Rev<T> operator/(const Rev<T>& x, const Rev<T>& y) {
  const T inv = T(1) / y.value();
  const T f = x.value() * inv;
  return detail::rev_binary(x, y, f, static_cast<double>(inv),
                            static_cast<double>(-f * inv));
}

template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator+(const Rev<T>& x, S y) {
  return detail::rev_shift(x, x.value() + static_cast<T>(y));
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator+(S x, const Rev<T>& y) {
  return detail::rev_shift(y, static_cast<T>(x) + y.value());
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator-(const Rev<T>& x, S y) {
  return detail::rev_shift(x, x.value() - static_cast<T>(y));
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator-(S x, const Rev<T>& y) {
  return detail::rev_unary(y, static_cast<T>(x) - y.value(), -1.0);
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator*(const Rev<T>& x, S y) {
  const T c = static_cast<T>(y);
  return detail::rev_unary(x, x.value() * c, static_cast<double>(c));
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator*(S x, const Rev<T>& y) {
  const T c = static_cast<T>(x);
  return detail::rev_unary(y, c * y.value(), static_cast<double>(c));
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator/(const Rev<T>& x, S y) {
  const T inv = T(1) / static_cast<T>(y);
  return detail::rev_unary(x, x.value() * inv, static_cast<double>(inv));
}
/// d(s/v) = -(s/v) dv / v
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator/(S x, const Rev<T>& y) {
  const T inv = T(1) / y.value();
  const T f = static_cast<T>(x) * inv;
  return detail::rev_unary(y, f, static_cast<double>(-f * inv));
}

// ---- comparisons act on the value ---------------------------------------------------

#define DIFFANA_REV_COMPARISON(OP)                                                     \
  template <class T> constexpr bool operator OP(const Rev<T>& x, const Rev<T>& y) {    \
    return x.value() OP y.value();                                                     \
  }                                                                                    \
  template <class T, class S, enable_if_arithmetic_t<S> = 0>                           \
  constexpr bool operator OP(const Rev<T>& x, S y) {                                   \
    return x.value() OP static_cast<T>(y);                                             \
  }                                                                                    \
  template <class T, class S, enable_if_arithmetic_t<S> = 0>                           \
  constexpr bool operator OP(S x, const Rev<T>& y) {                                   \
    return static_cast<T>(x) OP y.value();                                             \
  }
DIFFANA_REV_COMPARISON(==)
DIFFANA_REV_COMPARISON(!=)
DIFFANA_REV_COMPARISON(<)
DIFFANA_REV_COMPARISON(<=)
DIFFANA_REV_COMPARISON(>)
DIFFANA_REV_COMPARISON(>=)
#undef DIFFANA_REV_COMPARISON

/// Prints `3.5 @7` (value and tape index; `3.5` for a constant).
template <class T> std::ostream& operator<<(std::ostream& os, const Rev<T>& x) {
  os << x.value();
  if (!x.is_constant()) os << " @" << x.index();
  return os;
}

// ---- math library (rules: math.hpp, shared with math_pullbacks.hpp) ----------------

// One node with one edge whose partial is the rule's derivative: NAME_pushforward
// with d_x = 1 gives value and derivative in one evaluation, and NAME_pullback (what
// Clad calls) is that same rule scaled by the adjoint. Constants cost the function.
#define DIFFANA_REV_UNARY(NAME)                                                        \
  template <class T> Rev<T> NAME(const Rev<T>& x) {                                    \
    if (x.is_constant()) {                                                             \
      using std::NAME;                                                                 \
      return Rev<T>(NAME(x.value()));                                                  \
    }                                                                                  \
    const auto r = NAME##_pushforward(x.value(), T(1));                                \
    return detail::rev_unary(x, r.value, static_cast<double>(r.pushforward));          \
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
template <class T> Rev<T> abs(const Rev<T>& x) {
  const auto r = abs_pushforward(x.value(), T(1));
  return detail::rev_unary(x, r.value, static_cast<double>(r.pushforward));
}
template <class T> Rev<T> fabs(const Rev<T>& x) {
  return abs(x);
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

// ---- custom nodes on Revs -----------------------------------------------------------

/// Records an op of n_in Rev inputs with n_out outputs as one custom node (see
/// Tape::push_custom): out[o] gets value out_values[o] and, unless every input is a
/// constant (then the outputs are constants), the o-th output node. The pullback gets
/// d_out (n_out adjoints) and accumulates d_in (n_in, in the order of `in`). Returns
/// the tape used (null when every input is constant).
template <class T>
Tape* record_custom(const Rev<T>* in, std::size_t n_in, const T* out_values,
                    Rev<T>* out, std::size_t n_out, CustomPullback fn,
                    const double* data, std::size_t n_data, void* context = nullptr) {
  Tape* tape = nullptr;
  for (std::size_t i = 0; i < n_in; ++i) {
    if (in[i].tape() == nullptr) continue;
    if (tape != nullptr && in[i].tape() != tape)
      throw std::logic_error("diffana::record_custom: inputs recorded on different "
                             "tapes (one tape per thread)");
    tape = in[i].tape();
  }
  if (tape == nullptr) {
    for (std::size_t o = 0; o < n_out; ++o)
      out[o] = Rev<T>(out_values[o]);
    return nullptr;
  }
  const std::int32_t first =
      tape->push_custom_with([in](std::size_t i) { return in[i].index(); }, n_in, n_out,
                             fn, data, n_data, context);
  for (std::size_t o = 0; o < n_out; ++o)
    out[o] = Rev<T>::on_tape(out_values[o], tape, first + static_cast<std::int32_t>(o));
  return tape;
}

} // namespace diffana
