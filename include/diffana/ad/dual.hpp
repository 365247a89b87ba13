// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana::Dual<T, N>`: forward-mode dual numbers with N tangents.
///
/// A Dual carries a value and its derivatives with respect to N parameters. All
/// arithmetic and the math library are overloaded in namespace diffana, so that
/// argument-dependent lookup finds them: templated code written as
/// `using std::exp; exp(x);` works for double and Dual alike, and an unqualified
/// `exp(x)` on a Dual needs no using-declaration. N is a compile-time constant and
/// nothing allocates, so a Dual is as cheap to copy as N + 1 numbers and works in
/// CUDA kernels.
#pragma once

#include "diffana/ad/math.hpp"
#include "diffana/config.hpp"

#include <cmath>
#include <ostream>
#include <type_traits>

namespace diffana {

template <class T, int N> class Dual;

namespace detail {
/// Tag of the Dual constructor that leaves the tangents unset, for the arithmetic
/// below that writes every tangent right away: zeroing them first would be a second
/// pass over N numbers that the compiler does not always remove (for large N it
/// becomes a memset).
struct TangentsUnset {};
} // namespace detail

// ---- traits -------------------------------------------------------------------------

/// True for Dual<T, N>.
template <class X> struct is_dual : std::false_type {};
template <class T, int N> struct is_dual<Dual<T, N>> : std::true_type {};
template <class X> inline constexpr bool is_dual_v = is_dual<std::decay_t<X>>::value;

/// The plain number type underneath: T for Dual<T, N>, X itself for a number.
template <class X> struct value_type {
  using type = X;
};
template <class T, int N> struct value_type<Dual<T, N>> {
  using type = T;
};
template <class X> using value_type_t = typename value_type<std::decay_t<X>>::type;

/// Number of tangents: N for Dual<T, N>, 0 for a plain number.
template <class X> inline constexpr int tangent_count_v = 0;
template <class T, int N> inline constexpr int tangent_count_v<Dual<T, N>> = N;

namespace detail {
/// The promotion of two decayed argument types A and B: a customisation point for
/// other number types (sparse.hpp specialises it for SparseDual).
template <class A, class B, class = void> struct promote2 {
  static_assert(!(is_dual_v<A> && is_dual_v<B>) ||
                    (tangent_count_v<A> == tangent_count_v<B>),
                "diffana: Duals with different numbers of tangents cannot be mixed");
  // Plain numbers adapt to a Dual's value type (Dual<float, N> with a double literal
  // stays Dual<float, N>, as the arithmetic operators do); two Duals, or two plain
  // numbers, take the common type.
  using V = std::conditional_t<
      is_dual_v<A> == is_dual_v<B>,
      std::common_type_t<value_type_t<A>, value_type_t<B>>,
      std::conditional_t<is_dual_v<A>, value_type_t<A>, value_type_t<B>>>;
  using type = std::conditional_t<
      is_dual_v<A>, Dual<V, tangent_count_v<A>>,
      std::conditional_t<is_dual_v<B>, Dual<V, tangent_count_v<B>>, V>>;
};

template <class... Xs> struct promote;
template <class X> struct promote<X> {
  using type = std::decay_t<X>;
};
template <class X, class Y, class... Rest> struct promote<X, Y, Rest...> {
  using head = typename promote2<std::decay_t<X>, std::decay_t<Y>>::type;
  using type = typename promote<head, Rest...>::type;
};
} // namespace detail

/// The result type of a function of mixed plain and dual arguments: Dual<V, N> if any
/// argument is a Dual (V the common value type of the Dual arguments; plain numbers do
/// not widen it), else the common plain type (std::common_type, so int for all ints).
template <class... Xs> using promote_t = typename detail::promote<Xs...>::type;

/// promote_t, with an integral result (all arguments integers) replaced by double:
/// the result type of a floating-point function of the arguments (to_px(10, 0) is a
/// double).
template <class... Xs>
using promote_floating_t =
    std::conditional_t<std::is_integral_v<promote_t<Xs...>>, double, promote_t<Xs...>>;

template <class X>
using enable_if_arithmetic_t = std::enable_if_t<std::is_arithmetic_v<X>, int>;

// ---- the type -----------------------------------------------------------------------

/// A value and N tangents (directional derivatives along the N unit directions).
template <class T, int N> class Dual {
  static_assert(std::is_floating_point_v<T>, "diffana::Dual needs a floating-point T");
  static_assert(N >= 0, "diffana::Dual needs N >= 0");

public:
  using value_type = T;
  static constexpr int size = N;

  /// Zero value, zero tangents.
  DIFFANA_HOST_DEVICE constexpr Dual() : val_(0), tan_{} {}

  /// A constant: the value v and zero tangents (implicit, so `Dual x = 2.0` works).
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_HOST_DEVICE constexpr Dual(S v) : val_(static_cast<T>(v)), tan_{} {}

  /// Value v, tangents unset: the caller writes all N of them before any is read.
  /// Internal (the tag lives in diffana::detail).
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual(detail::TangentsUnset, T v) : val_(v) {
    if constexpr (N == 0) tan_[0] = T(0); // the placeholder is copied, so set it
  }

#if defined(__CLAD__)
  // Under the Clad plugin only: a written-out copy assignment. Clad instantiates the
  // code it generates after the end of the translation unit, and if a Dual<T, N> is
  // first assigned there, clang defines the implicit assignment then, as a memcpy of
  // the tangent array whose lazily declared __builtin_memcpy needs the (closed)
  // translation-unit scope: the plugin segfaults. This one needs nothing declared.
  // Elsewhere the implicit one stays, and with it std::is_trivially_copyable (same
  // layout and calling convention either way: only copy constructors count for that).
  DIFFANA_HOST_DEVICE constexpr Dual(const Dual&) = default;
  DIFFANA_HOST_DEVICE constexpr Dual& operator=(const Dual& o) {
    val_ = o.val_;
    for (int i = 0; i < (N > 0 ? N : 1); ++i)
      tan_[i] = o.tan_[i];
    return *this;
  }
#endif

  /// The i-th independent variable: value v, tangent 1 in direction i, 0 elsewhere.
  DIFFANA_HOST_DEVICE static constexpr Dual variable(T v, int i) {
    Dual x(v);
    if (i >= 0 && i < N) x.tan_[i] = T(1);
    return x;
  }

  DIFFANA_HOST_DEVICE constexpr const T& value() const { return val_; }
  DIFFANA_HOST_DEVICE constexpr T& value() { return val_; }
  DIFFANA_HOST_DEVICE constexpr const T& tangent(int i) const { return tan_[i]; }
  DIFFANA_HOST_DEVICE constexpr T& tangent(int i) { return tan_[i]; }

  /// Explicit conversion drops the tangents: `static_cast<double>(x)`.
  DIFFANA_HOST_DEVICE explicit constexpr operator T() const { return val_; }

  // -- compound assignment --
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator+=(const Dual& o) {
    val_ += o.val_;
    for (int i = 0; i < N; ++i)
      tan_[i] += o.tan_[i];
    return *this;
  }
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator-=(const Dual& o) {
    val_ -= o.val_;
    for (int i = 0; i < N; ++i)
      tan_[i] -= o.tan_[i];
    return *this;
  }
  /// d(uv) = u dv + v du  (safe for `x *= x`: o may alias *this)
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator*=(const Dual& o) {
    const T u = val_;
    const T v = o.val_;
    for (int i = 0; i < N; ++i)
      tan_[i] = tan_[i] * v + u * o.tan_[i];
    val_ = u * v;
    return *this;
  }
  /// d(u/v) = (du - (u/v) dv) / v  (safe for `x /= x`)
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator/=(const Dual& o) {
    const T inv = T(1) / o.val_;
    const T f = val_ * inv;
    for (int i = 0; i < N; ++i)
      tan_[i] = (tan_[i] - f * o.tan_[i]) * inv;
    val_ = f;
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator+=(S s) {
    val_ += static_cast<T>(s);
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator-=(S s) {
    val_ -= static_cast<T>(s);
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator*=(S s) {
    const T c = static_cast<T>(s);
    val_ *= c;
    for (int i = 0; i < N; ++i)
      tan_[i] *= c;
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual& operator/=(S s) {
    const T inv = T(1) / static_cast<T>(s);
    val_ *= inv;
    for (int i = 0; i < N; ++i)
      tan_[i] *= inv;
    return *this;
  }

private:
  T val_;
  T tan_[N > 0 ? N : 1];
};

// ---- accessors that also take plain numbers -----------------------------------------

/// The value of a Dual, or the number itself.
template <class T, int N> DIFFANA_HOST_DEVICE constexpr T value(const Dual<T, N>& x) {
  return x.value();
}
template <class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE constexpr S value(S x) {
  return x;
}

/// The i-th tangent of a Dual; 0 for a plain number (a constant).
template <class T, int N>
DIFFANA_HOST_DEVICE constexpr T tangent(const Dual<T, N>& x, int i) {
  return x.tangent(i);
}
template <class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE constexpr S tangent(S /*x*/, int /*i*/) {
  return S(0);
}

namespace detail {
/// True for a finite v, false for +-inf and NaN (v - v is 0 exactly when v is
/// finite). The zero-tangent guards below test their derivative once with it
/// instead of testing every tangent: only a non-finite derivative needs them, and a
/// finite one then runs the plain loop, which vectorises (per-tangent tests did not
/// always: for small N the compiler made them branches). Like every inf/NaN test,
/// -ffinite-math-only removes it.
template <class T> DIFFANA_HOST_DEVICE DIFFANA_INLINE bool finite_number(T v) {
  return v - v == T(0);
}

/// A Dual with value f whose tangents are dfdx times those of x (the chain rule).
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> chain(const Dual<T, N>& x, T f, T dfdx) {
  Dual<T, N> r(TangentsUnset{}, f);
  for (int i = 0; i < N; ++i)
    r.tangent(i) = dfdx * x.tangent(i);
  return r;
}

/// As chain, but a zero tangent stays zero when dfdx is infinite (sqrt at 0, ...):
/// a constant argument must not turn into NaN. (For a finite dfdx, dfdx * 0 is
/// already 0, so only the non-finite case needs the per-tangent test.)
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> chain_safe(const Dual<T, N>& x, T f,
                                                         T dfdx) {
  if (finite_number(dfdx)) return chain(x, f, dfdx);
  Dual<T, N> r(TangentsUnset{}, f);
  for (int i = 0; i < N; ++i) {
    const T t = x.tangent(i);
    r.tangent(i) = (t == T(0)) ? T(0) : dfdx * t;
  }
  return r;
}

/// add_tangent for an argument type A other than Dual and plain numbers: a
/// customisation point (sparse.hpp specialises it for SparseDual, with `active` true
/// and a static `apply(r, partial, arg)`).
template <class R, class A, class = void> struct add_tangent_hook {
  static constexpr bool active = false;
};

/// Adds partial * tangent(arg) to every tangent of r; nothing for a plain arg. A zero
/// tangent adds nothing even when the partial is infinite (a constant stays exact).
template <class R, class A>
DIFFANA_HOST_DEVICE DIFFANA_INLINE void add_tangent(R& r, value_type_t<R> partial,
                                                    const A& arg) {
  if constexpr (is_dual_v<R> && is_dual_v<A>) {
    static_assert(R::size == std::decay_t<A>::size,
                  "diffana: Duals with different numbers of tangents cannot be mixed");
    using V = value_type_t<R>;
    if (finite_number(partial)) {
      // partial * 0 is 0 here: a zero tangent adds nothing without a test.
      for (int i = 0; i < R::size; ++i)
        r.tangent(i) += partial * static_cast<V>(arg.tangent(i));
      return;
    }
    for (int i = 0; i < R::size; ++i) {
      const V t = static_cast<V>(arg.tangent(i));
      const V sum = r.tangent(i) + partial * t;
      r.tangent(i) = (t != V(0)) ? sum : r.tangent(i);
    }
  } else if constexpr (add_tangent_hook<R, std::decay_t<A>>::active) {
    add_tangent_hook<R, std::decay_t<A>>::apply(r, partial, arg);
  } else {
    (void)r;
    (void)partial;
    (void)arg;
  }
}

/// x as an R (a plain number or a Dual): a plain x becomes a constant, a Dual keeps
/// its tangents (converted to R's value type). Lets a function of mixed arguments
/// convert them all to promote_t once and compute in that single type.
template <class R, class X> DIFFANA_HOST_DEVICE DIFFANA_INLINE R convert(const X& x) {
  if constexpr (std::is_same_v<R, std::decay_t<X>>) {
    return x;
  } else if constexpr (is_dual_v<R>) {
    R r(static_cast<value_type_t<R>>(value(x)));
    add_tangent(r, value_type_t<R>(1), x);
    return r;
  } else {
    static_assert(!is_dual_v<X>, "diffana: cannot convert a Dual to a plain number");
    return static_cast<R>(x);
  }
}
} // namespace detail

// ---- arithmetic ---------------------------------------------------------------------
// Each operator builds its result in one pass over the tangents, reading its
// arguments by reference: no copy of an argument and no zeroing before the write.

template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator+(const Dual<T, N>& x) {
  return x;
}
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator-(const Dual<T, N>& x) {
  Dual<T, N> r(detail::TangentsUnset{}, -x.value());
  for (int i = 0; i < N; ++i)
    r.tangent(i) = -x.tangent(i);
  return r;
}

template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator+(const Dual<T, N>& x,
                                                        const Dual<T, N>& y) {
  Dual<T, N> r(detail::TangentsUnset{}, x.value() + y.value());
  for (int i = 0; i < N; ++i)
    r.tangent(i) = x.tangent(i) + y.tangent(i);
  return r;
}
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator-(const Dual<T, N>& x,
                                                        const Dual<T, N>& y) {
  Dual<T, N> r(detail::TangentsUnset{}, x.value() - y.value());
  for (int i = 0; i < N; ++i)
    r.tangent(i) = x.tangent(i) - y.tangent(i);
  return r;
}
/// d(uv) = u dv + v du
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator*(const Dual<T, N>& x,
                                                        const Dual<T, N>& y) {
  const T u = x.value();
  const T v = y.value();
  Dual<T, N> r(detail::TangentsUnset{}, u * v);
  for (int i = 0; i < N; ++i)
    r.tangent(i) = x.tangent(i) * v + u * y.tangent(i);
  return r;
}
/// d(u/v) = (du - (u/v) dv) / v
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator/(const Dual<T, N>& x,
                                                        const Dual<T, N>& y) {
  const T inv = T(1) / y.value();
  const T f = x.value() * inv;
  Dual<T, N> r(detail::TangentsUnset{}, f);
  for (int i = 0; i < N; ++i)
    r.tangent(i) = (x.tangent(i) - f * y.tangent(i)) * inv;
  return r;
}

namespace detail {
/// A Dual with value f and the tangents of x times c.
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> scaled(const Dual<T, N>& x, T f, T c) {
  Dual<T, N> r(TangentsUnset{}, f);
  for (int i = 0; i < N; ++i)
    r.tangent(i) = x.tangent(i) * c;
  return r;
}
/// A Dual with value f and the tangents of x.
template <class T, int N>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> shifted(const Dual<T, N>& x, T f) {
  Dual<T, N> r(TangentsUnset{}, f);
  for (int i = 0; i < N; ++i)
    r.tangent(i) = x.tangent(i);
  return r;
}
} // namespace detail

// With a plain number on either side (the same formulas as the compound assignments,
// so x + s and x += s give the same bits).
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator+(const Dual<T, N>& x, S y) {
  return detail::shifted(x, x.value() + static_cast<T>(y));
}
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator+(S x, const Dual<T, N>& y) {
  return detail::shifted(y, y.value() + static_cast<T>(x));
}
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator-(const Dual<T, N>& x, S y) {
  return detail::shifted(x, x.value() - static_cast<T>(y));
}
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator-(S x, const Dual<T, N>& y) {
  return detail::scaled(y, -y.value() + static_cast<T>(x), T(-1));
}
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator*(const Dual<T, N>& x, S y) {
  const T c = static_cast<T>(y);
  return detail::scaled(x, x.value() * c, c);
}
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator*(S x, const Dual<T, N>& y) {
  const T c = static_cast<T>(x);
  return detail::scaled(y, y.value() * c, c);
}
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator/(const Dual<T, N>& x, S y) {
  const T inv = T(1) / static_cast<T>(y);
  return detail::scaled(x, x.value() * inv, inv);
}
/// d(s/v) = -(s/v) dv / v
template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_HOST_DEVICE DIFFANA_INLINE Dual<T, N> operator/(S x, const Dual<T, N>& y) {
  const T inv = T(1) / y.value();
  const T f = static_cast<T>(x) * inv;
  return detail::chain(y, f, -f * inv);
}

// ---- comparisons act on the value ---------------------------------------------------

#define DIFFANA_DUAL_COMPARISON(OP)                                                    \
  template <class T, int N>                                                            \
  DIFFANA_HOST_DEVICE constexpr bool operator OP(const Dual<T, N>& x,                  \
                                                 const Dual<T, N>& y) {                \
    return x.value() OP y.value();                                                     \
  }                                                                                    \
  template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>                    \
  DIFFANA_HOST_DEVICE constexpr bool operator OP(const Dual<T, N>& x, S y) {           \
    return x.value() OP static_cast<T>(y);                                             \
  }                                                                                    \
  template <class T, int N, class S, enable_if_arithmetic_t<S> = 0>                    \
  DIFFANA_HOST_DEVICE constexpr bool operator OP(S x, const Dual<T, N>& y) {           \
    return static_cast<T>(x) OP y.value();                                             \
  }
DIFFANA_DUAL_COMPARISON(==)
DIFFANA_DUAL_COMPARISON(!=)
DIFFANA_DUAL_COMPARISON(<)
DIFFANA_DUAL_COMPARISON(<=)
DIFFANA_DUAL_COMPARISON(>)
DIFFANA_DUAL_COMPARISON(>=)
#undef DIFFANA_DUAL_COMPARISON

/// Prints `3.5 [1, 0, 0.2]`: the value and the tangents.
template <class T, int N>
std::ostream& operator<<(std::ostream& os, const Dual<T, N>& x) {
  os << x.value() << " [";
  for (int i = 0; i < N; ++i)
    os << (i ? ", " : "") << x.tangent(i);
  return os << "]";
}

// ---- math library (rules in math.hpp) -----------------------------------------------

// Functions whose derivative is finite wherever the function is: plain chain rule.
#define DIFFANA_DUAL_UNARY(NAME)                                                       \
  template <class T, int N> DIFFANA_HOST_DEVICE Dual<T, N> NAME(const Dual<T, N>& x) { \
    const auto r = NAME##_pushforward(x.value(), T(1));                                \
    return detail::chain(x, r.value, r.pushforward);                                   \
  }
// Functions whose derivative is infinite at a domain edge (sqrt at 0, asin at 1, ...):
// a constant argument keeps zero tangents there instead of 0 * inf = NaN.
#define DIFFANA_DUAL_UNARY_SAFE(NAME)                                                  \
  template <class T, int N> DIFFANA_HOST_DEVICE Dual<T, N> NAME(const Dual<T, N>& x) { \
    const auto r = NAME##_pushforward(x.value(), T(1));                                \
    return detail::chain_safe(x, r.value, r.pushforward);                              \
  }
DIFFANA_DUAL_UNARY(exp)
DIFFANA_DUAL_UNARY(expm1)
DIFFANA_DUAL_UNARY_SAFE(log)
DIFFANA_DUAL_UNARY_SAFE(log1p)
DIFFANA_DUAL_UNARY_SAFE(log10)
DIFFANA_DUAL_UNARY_SAFE(sqrt)
DIFFANA_DUAL_UNARY_SAFE(cbrt)
DIFFANA_DUAL_UNARY(sin)
DIFFANA_DUAL_UNARY(cos)
DIFFANA_DUAL_UNARY(tan)
DIFFANA_DUAL_UNARY_SAFE(asin)
DIFFANA_DUAL_UNARY_SAFE(acos)
DIFFANA_DUAL_UNARY(atan)
DIFFANA_DUAL_UNARY(sinh)
DIFFANA_DUAL_UNARY(cosh)
DIFFANA_DUAL_UNARY(tanh)
DIFFANA_DUAL_UNARY(asinh)
DIFFANA_DUAL_UNARY_SAFE(acosh)
DIFFANA_DUAL_UNARY_SAFE(atanh)
DIFFANA_DUAL_UNARY(erf)
DIFFANA_DUAL_UNARY(erfc)
DIFFANA_DUAL_UNARY(abs)
#undef DIFFANA_DUAL_UNARY
#undef DIFFANA_DUAL_UNARY_SAFE

/// fabs is abs (derivative sign(x), 0 at 0).
template <class T, int N> DIFFANA_HOST_DEVICE Dual<T, N> fabs(const Dual<T, N>& x) {
  return abs(x);
}

/// floor, ceil, round, trunc: piecewise constant, so zero tangents.
#define DIFFANA_DUAL_STEP(NAME)                                                        \
  template <class T, int N> DIFFANA_HOST_DEVICE Dual<T, N> NAME(const Dual<T, N>& x) { \
    using std::NAME;                                                                   \
    return Dual<T, N>(NAME(x.value()));                                                \
  }
DIFFANA_DUAL_STEP(floor)
DIFFANA_DUAL_STEP(ceil)
DIFFANA_DUAL_STEP(round)
DIFFANA_DUAL_STEP(trunc)
#undef DIFFANA_DUAL_STEP

// Two-argument functions take any mix of Dual<T, N> and plain numbers (at least one
// Dual, so that the std:: versions keep handling plain calls).
#define DIFFANA_DUAL_BINARY_FUNCTION(NAME)                                             \
  template <class X, class Y, std::enable_if_t<is_dual_v<X> || is_dual_v<Y>, int> = 0> \
  DIFFANA_HOST_DEVICE promote_t<X, Y> NAME(const X& x, const Y& y) {                   \
    using R = promote_t<X, Y>;                                                         \
    using V = value_type_t<R>;                                                         \
    const auto p =                                                                     \
        NAME##_partials(static_cast<V>(value(x)), static_cast<V>(value(y)));           \
    R r(p.value);                                                                      \
    detail::add_tangent(r, p.d_x, x);                                                  \
    detail::add_tangent(r, p.d_y, y);                                                  \
    return r;                                                                          \
  }
/// pow(x, y) = x^y for any mix of Dual and plain x, y (rule: pow_partials).
DIFFANA_DUAL_BINARY_FUNCTION(pow)
/// hypot(x, y) = sqrt(x^2 + y^2) (rule: hypot_partials; 0 derivative at the origin).
DIFFANA_DUAL_BINARY_FUNCTION(hypot)
/// atan2(y, x) (rule: atan2_partials; 0 derivative at the origin).
DIFFANA_DUAL_BINARY_FUNCTION(atan2)
#undef DIFFANA_DUAL_BINARY_FUNCTION

/// max(x, y): the tangent of the larger argument; at a tie the mean of both (as JAX).
template <class X, class Y, std::enable_if_t<is_dual_v<X> || is_dual_v<Y>, int> = 0>
DIFFANA_HOST_DEVICE promote_t<X, Y> max(const X& x, const Y& y) {
  using R = promote_t<X, Y>;
  using V = value_type_t<R>;
  const V a = static_cast<V>(value(x));
  const V b = static_cast<V>(value(y));
  const V wx = (a > b) ? V(1) : ((a < b) ? V(0) : V(0.5));
  R r(a > b ? a : b);
  detail::add_tangent(r, wx, x);
  detail::add_tangent(r, V(1) - wx, y);
  return r;
}

/// min(x, y): the tangent of the smaller argument; at a tie the mean of both (as JAX).
template <class X, class Y, std::enable_if_t<is_dual_v<X> || is_dual_v<Y>, int> = 0>
DIFFANA_HOST_DEVICE promote_t<X, Y> min(const X& x, const Y& y) {
  using R = promote_t<X, Y>;
  using V = value_type_t<R>;
  const V a = static_cast<V>(value(x));
  const V b = static_cast<V>(value(y));
  const V wx = (a < b) ? V(1) : ((a > b) ? V(0) : V(0.5));
  R r(a < b ? a : b);
  detail::add_tangent(r, wx, x);
  detail::add_tangent(r, V(1) - wx, y);
  return r;
}

// Overloads for two Duals of the same type: more specialised than std::max(const T&,
// const T&), so that generic code with `using std::max; max(a, b)` still gets the
// tie rule above instead of std::max's "first argument wins".
template <class T, int N>
DIFFANA_HOST_DEVICE Dual<T, N> max(const Dual<T, N>& x, const Dual<T, N>& y) {
  return max<Dual<T, N>, Dual<T, N>, 0>(x, y);
}
template <class T, int N>
DIFFANA_HOST_DEVICE Dual<T, N> min(const Dual<T, N>& x, const Dual<T, N>& y) {
  return min<Dual<T, N>, Dual<T, N>, 0>(x, y);
}

/// fmin / fmax as min / max.
template <class X, class Y, std::enable_if_t<is_dual_v<X> || is_dual_v<Y>, int> = 0>
DIFFANA_HOST_DEVICE promote_t<X, Y> fmax(const X& x, const Y& y) {
  return max(x, y);
}
template <class X, class Y, std::enable_if_t<is_dual_v<X> || is_dual_v<Y>, int> = 0>
DIFFANA_HOST_DEVICE promote_t<X, Y> fmin(const X& x, const Y& y) {
  return min(x, y);
}

/// clamp(x, lo, hi) = min(max(x, lo), hi): the tangent of whichever value is returned
/// (x strictly inside or on the bounds takes x's tangent).
template <class X, class L, class H,
          std::enable_if_t<is_dual_v<X> || is_dual_v<L> || is_dual_v<H>, int> = 0>
DIFFANA_HOST_DEVICE promote_t<X, L, H> clamp(const X& x, const L& lo, const H& hi) {
  using R = promote_t<X, L, H>;
  using V = value_type_t<R>;
  const V v = static_cast<V>(value(x));
  const V a = static_cast<V>(value(lo));
  const V b = static_cast<V>(value(hi));
  R r(v < a ? a : (v > b ? b : v));
  if (v < a)
    detail::add_tangent(r, V(1), lo);
  else if (v > b)
    detail::add_tangent(r, V(1), hi);
  else
    detail::add_tangent(r, V(1), x);
  return r;
}

/// clamp of three Duals of the same type: as above, and preferred to std::clamp.
template <class T, int N>
DIFFANA_HOST_DEVICE Dual<T, N> clamp(const Dual<T, N>& x, const Dual<T, N>& lo,
                                     const Dual<T, N>& hi) {
  return clamp<Dual<T, N>, Dual<T, N>, Dual<T, N>, 0>(x, lo, hi);
}

/// isnan / isinf / isfinite look at the value.
template <class T, int N> DIFFANA_HOST_DEVICE bool isnan(const Dual<T, N>& x) {
  using std::isnan;
  return isnan(x.value());
}
template <class T, int N> DIFFANA_HOST_DEVICE bool isinf(const Dual<T, N>& x) {
  using std::isinf;
  return isinf(x.value());
}
template <class T, int N> DIFFANA_HOST_DEVICE bool isfinite(const Dual<T, N>& x) {
  using std::isfinite;
  return isfinite(x.value());
}

} // namespace diffana
