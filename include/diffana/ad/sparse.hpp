// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana::SparseDual<T, P, Mask>`: a forward-mode dual number over P parameters
/// that stores only the tangents its type says it may have.
///
/// `Mask` is a P-bit set (P <= 64): bit k set means the number may depend on
/// parameter k. Only popcount(Mask) tangents are stored, in parameter order; the
/// others are zero by construction, not by value. An operation on two SparseDuals
/// gives the union of their masks, so in an analysis where a jet's pT depends on
/// one parameter (the jet-energy scale) of eight, the jets carry one tangent, not
/// eight, and parameters that an expression does not use cost nothing. The masks
/// are template arguments: which tangent goes where is decided by the compiler,
/// and two numbers with the same mask run the same loops as `Dual<T, N>`.
///
/// `to_dense(x)` gives the `Dual<T, P>` with the same value and tangents (zeros
/// for the parameters outside the mask); DiffFrame's histogram fills call it once
/// per event. Results equal those of `Dual<T, P>` (same formulas on the stored
/// tangents; a missing tangent is a zero that takes part in nothing, so where the
/// dense type computes `inf * 0 = NaN` for a parameter that a number cannot depend
/// on, this type has an exact 0).
///
/// What works: arithmetic (with plain numbers too), comparisons, the math library
/// of dual.hpp (exp, log, sqrt, pow, hypot, atan2, min, max, clamp, ...), and every
/// generic function built on `promote_t` and `detail::add_tangent` (the soft cuts of
/// soft/cuts.hpp), ROOT::VecOps containers of them. A SparseDual never mixes with a
/// `Dual<T, N>` in one operation (a compile error: convert with to_dense). Needs
/// only dual.hpp.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"
#include "diffana/config.hpp"

#include <cstdint>
#include <ostream>
#include <type_traits>

namespace diffana {

/// The set of parameters a SparseDual may depend on: bit k for parameter k.
using TangentMask = std::uint64_t;

template <class T, int P, TangentMask M> class SparseDual;

namespace detail {

constexpr int mask_popcount(TangentMask m) {
  int c = 0;
  for (; m != 0; m &= m - 1)
    ++c;
  return c;
}

/// Where a mask stores parameter k's tangent, or -1 if it has none.
constexpr int mask_slot(TangentMask m, int k) {
  return ((m >> k) & 1u) ? mask_popcount(m & ((TangentMask(1) << k) - 1)) : -1;
}

/// The parameter whose tangent a mask stores at slot j.
constexpr int mask_param(TangentMask m, int j) {
  for (int k = 0; k < 64; ++k)
    if ((m >> k) & 1u) {
      if (j == 0) return k;
      --j;
    }
  return -1;
}

/// For each slot of mask R, the slot of the same parameter in mask X (-1: none).
/// The loops below read these as constants: for small masks the compiler unrolls
/// them and the tests on -1 disappear.
template <TangentMask R, TangentMask X> struct SlotMap {
  static constexpr int n = mask_popcount(R);
  struct Table {
    int at[n > 0 ? n : 1];
  };
  static constexpr Table make() {
    Table t{};
    for (int j = 0; j < n; ++j)
      t.at[j] = mask_slot(X, mask_param(R, j));
    return t;
  }
  static constexpr Table table = make();
};

/// The parameter of each slot of mask M, and the slot of each of the P parameters
/// in M (-1: none), as constants (the loops over them then unroll to plain loads
/// and stores: no bit arithmetic per event).
template <TangentMask M, int P> struct MaskTables {
  static constexpr int n = mask_popcount(M);
  struct Params {
    int at[n > 0 ? n : 1];
  };
  struct Slots {
    int at[P];
  };
  static constexpr Params make_params() {
    Params t{};
    for (int j = 0; j < n; ++j)
      t.at[j] = mask_param(M, j);
    return t;
  }
  static constexpr Slots make_slots() {
    Slots t{};
    for (int k = 0; k < P; ++k)
      t.at[k] = mask_slot(M, k);
    return t;
  }
  static constexpr Params params = make_params();
  static constexpr Slots slots = make_slots();
};

template <class X> struct is_sparse_dual : std::false_type {};
template <class T, int P, TangentMask M>
struct is_sparse_dual<SparseDual<T, P, M>> : std::true_type {};

} // namespace detail

/// True for SparseDual<T, P, M>.
template <class X>
inline constexpr bool is_sparse_dual_v = detail::is_sparse_dual<std::decay_t<X>>::value;

/// A value and the tangents of the parameters in M (see the file comment).
template <class T, int P, TangentMask M> class SparseDual {
  static_assert(std::is_floating_point_v<T>,
                "diffana::SparseDual needs a floating-point T");
  static_assert(P >= 1 && P <= 64, "diffana::SparseDual needs 1 <= P <= 64");
  static_assert(P == 64 || (M >> P) == 0,
                "diffana::SparseDual: the mask names a parameter >= P");

public:
  using value_type = T;
  /// Number of parameters (the length of the dense tangent vector).
  static constexpr int n_params = P;
  static constexpr TangentMask mask = M;
  /// Number of stored tangents.
  static constexpr int size = detail::mask_popcount(M);

  /// Zero value, zero tangents.
  constexpr SparseDual() : val_(0), tan_{} {}
  /// A constant (implicit, as for Dual).
  template <class S, enable_if_arithmetic_t<S> = 0>
  constexpr SparseDual(S v) : val_(static_cast<T>(v)), tan_{} {}
  /// Value v, tangents unset: the caller writes all of them before any is read.
  DIFFANA_INLINE SparseDual(detail::TangentsUnset, T v) : val_(v) {
    if constexpr (size == 0) tan_[0] = T(0);
  }
  /// A number whose mask is a subset of M (lossless, so implicit): the missing
  /// tangents are zeros.
  template <TangentMask M2, std::enable_if_t<(M2 & ~M) == 0 && M2 != M, int> = 0>
  DIFFANA_INLINE SparseDual(const SparseDual<T, P, M2>& x) : val_(x.value()) {
    constexpr auto map = detail::SlotMap<M, M2>::table;
    for (int j = 0; j < size; ++j)
      tan_[j] = map.at[j] >= 0 ? x.slot(map.at[j]) : T(0);
    if constexpr (size == 0) tan_[0] = T(0);
  }

  /// Parameter k as an independent variable (M must be the single bit k).
  static constexpr SparseDual variable(T v) {
    static_assert(size == 1, "SparseDual::variable needs a one-parameter mask");
    SparseDual x(v);
    x.tan_[0] = T(1);
    return x;
  }

  constexpr const T& value() const { return val_; }
  constexpr T& value() { return val_; }
  /// The j-th stored tangent (that of parameter detail::mask_param(M, j)).
  constexpr const T& slot(int j) const { return tan_[j]; }
  constexpr T& slot(int j) { return tan_[j]; }
  /// The tangent of parameter k (0 for a parameter outside M).
  constexpr T tangent(int k) const {
    const int j = (k >= 0 && k < P) ? detail::MaskTables<M, P>::slots.at[k] : -1;
    return j >= 0 ? tan_[j] : T(0);
  }

  /// Explicit conversion drops the tangents, as for Dual.
  explicit constexpr operator T() const { return val_; }

  DIFFANA_INLINE SparseDual& operator+=(const SparseDual& o) {
    val_ += o.val_;
    for (int j = 0; j < size; ++j)
      tan_[j] += o.tan_[j];
    return *this;
  }
  DIFFANA_INLINE SparseDual& operator-=(const SparseDual& o) {
    val_ -= o.val_;
    for (int j = 0; j < size; ++j)
      tan_[j] -= o.tan_[j];
    return *this;
  }
  DIFFANA_INLINE SparseDual& operator*=(const SparseDual& o) {
    const T u = val_;
    const T v = o.val_;
    for (int j = 0; j < size; ++j)
      tan_[j] = tan_[j] * v + u * o.tan_[j];
    val_ = u * v;
    return *this;
  }
  DIFFANA_INLINE SparseDual& operator/=(const SparseDual& o) {
    const T inv = T(1) / o.val_;
    const T f = val_ * inv;
    for (int j = 0; j < size; ++j)
      tan_[j] = (tan_[j] - f * o.tan_[j]) * inv;
    val_ = f;
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE SparseDual& operator+=(S s) {
    val_ += static_cast<T>(s);
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE SparseDual& operator-=(S s) {
    val_ -= static_cast<T>(s);
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE SparseDual& operator*=(S s) {
    const T c = static_cast<T>(s);
    val_ *= c;
    for (int j = 0; j < size; ++j)
      tan_[j] *= c;
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE SparseDual& operator/=(S s) {
    const T inv = T(1) / static_cast<T>(s);
    val_ *= inv;
    for (int j = 0; j < size; ++j)
      tan_[j] *= inv;
    return *this;
  }

private:
  T val_;
  T tan_[size > 0 ? size : 1];
};

// ---- traits and accessors -------------------------------------------------------

template <class T, int P, TangentMask M> struct value_type<SparseDual<T, P, M>> {
  using type = T;
};

/// The value of a SparseDual.
template <class T, int P, TangentMask M>
constexpr T value(const SparseDual<T, P, M>& x) {
  return x.value();
}
/// The tangent of parameter k (0 outside the mask).
template <class T, int P, TangentMask M>
constexpr T tangent(const SparseDual<T, P, M>& x, int k) {
  return x.tangent(k);
}

/// The Dual<T, P> with x's value and tangents (zeros outside the mask).
template <class T, int P, TangentMask M>
DIFFANA_INLINE Dual<T, P> to_dense(const SparseDual<T, P, M>& x) {
  constexpr auto slots = detail::MaskTables<M, P>::slots;
  Dual<T, P> r(detail::TangentsUnset{}, x.value());
  for (int k = 0; k < P; ++k)
    r.tangent(k) = slots.at[k] >= 0 ? x.slot(slots.at[k]) : T(0);
  return r;
}
/// Anything else unchanged (a plain number, a Dual).
template <class X, std::enable_if_t<!is_sparse_dual_v<X>, int> = 0>
DIFFANA_INLINE const X& to_dense(const X& x) {
  return x;
}

namespace detail {

// promote_t: a SparseDual with a plain number keeps its mask; two SparseDuals give
// the union. Mixing with a Dual<T, N> is not defined (no type here).
template <class T, int P, TangentMask M, class B>
struct promote2<SparseDual<T, P, M>, B, std::enable_if_t<std::is_arithmetic_v<B>>> {
  using type = SparseDual<T, P, M>;
};
template <class A, class T, int P, TangentMask M>
struct promote2<A, SparseDual<T, P, M>, std::enable_if_t<std::is_arithmetic_v<A>>> {
  using type = SparseDual<T, P, M>;
};
template <class T, class U, int P, TangentMask M1, TangentMask M2>
struct promote2<SparseDual<T, P, M1>, SparseDual<U, P, M2>> {
  using type = SparseDual<std::common_type_t<T, U>, P, M1 | M2>;
};

// add_tangent(r, partial, arg) for a SparseDual arg: r must be a SparseDual whose
// mask holds arg's (promote_t makes it so); anything else does not compile rather
// than drop tangents.
template <class R, class T, int P, TangentMask M>
struct add_tangent_hook<R, SparseDual<T, P, M>> {
  static constexpr bool active = true;
  DIFFANA_INLINE static void apply(R& r, value_type_t<R> partial,
                                   const SparseDual<T, P, M>& arg) {
    static_assert(is_sparse_dual_v<R>,
                  "diffana: a SparseDual argument needs a SparseDual result");
    if constexpr (is_sparse_dual_v<R>) {
      static_assert(R::n_params == P && (M & ~R::mask) == 0,
                    "diffana: the result's mask must hold the argument's");
      using V = value_type_t<R>;
      constexpr auto map = SlotMap<M, R::mask>::table; // arg slot -> r slot
      if (finite_number(partial)) {
        for (int j = 0; j < SparseDual<T, P, M>::size; ++j)
          r.slot(map.at[j]) += partial * static_cast<V>(arg.slot(j));
        return;
      }
      for (int j = 0; j < SparseDual<T, P, M>::size; ++j) {
        const V t = static_cast<V>(arg.slot(j));
        if (t != V(0)) r.slot(map.at[j]) += partial * t;
      }
    }
  }
};

/// A SparseDual<T, P, RM> with value f and tangents g(tx, ty) per parameter, where
/// tx, ty are those of x and y; a parameter that only one of them has takes gx(tx)
/// or gy(ty) (a missing tangent is a structural zero: it enters no product).
template <TangentMask RM, class T, int P, TangentMask MX, TangentMask MY, class G,
          class GX, class GY>
DIFFANA_INLINE SparseDual<T, P, RM> sparse_combine(const SparseDual<T, P, MX>& x,
                                                   const SparseDual<T, P, MY>& y, T f,
                                                   G g, GX gx, GY gy) {
  SparseDual<T, P, RM> r(TangentsUnset{}, f);
  constexpr int n = SparseDual<T, P, RM>::size;
  if constexpr (MX == RM && MY == RM) {
    for (int j = 0; j < n; ++j)
      r.slot(j) = g(x.slot(j), y.slot(j));
  } else {
    constexpr auto mx = SlotMap<RM, MX>::table;
    constexpr auto my = SlotMap<RM, MY>::table;
    for (int j = 0; j < n; ++j) {
      const int a = mx.at[j];
      const int b = my.at[j];
      r.slot(j) =
          a >= 0 ? (b >= 0 ? g(x.slot(a), y.slot(b)) : gx(x.slot(a))) : gy(y.slot(b));
    }
  }
  return r;
}

/// A SparseDual with value f and the tangents of x times c.
template <class T, int P, TangentMask M>
DIFFANA_INLINE SparseDual<T, P, M> sparse_scaled(const SparseDual<T, P, M>& x, T f,
                                                 T c) {
  SparseDual<T, P, M> r(TangentsUnset{}, f);
  for (int j = 0; j < SparseDual<T, P, M>::size; ++j)
    r.slot(j) = x.slot(j) * c;
  return r;
}
/// A SparseDual with value f and the tangents of x.
template <class T, int P, TangentMask M>
DIFFANA_INLINE SparseDual<T, P, M> sparse_shifted(const SparseDual<T, P, M>& x, T f) {
  SparseDual<T, P, M> r(TangentsUnset{}, f);
  for (int j = 0; j < SparseDual<T, P, M>::size; ++j)
    r.slot(j) = x.slot(j);
  return r;
}
/// As chain_safe of dual.hpp: a zero tangent stays zero when dfdx is not finite.
template <class T, int P, TangentMask M>
DIFFANA_INLINE SparseDual<T, P, M> sparse_chain(const SparseDual<T, P, M>& x, T f,
                                                T dfdx, bool safe) {
  if (!safe || finite_number(dfdx)) return sparse_scaled(x, f, dfdx);
  SparseDual<T, P, M> r(TangentsUnset{}, f);
  for (int j = 0; j < SparseDual<T, P, M>::size; ++j) {
    const T t = x.slot(j);
    r.slot(j) = (t == T(0)) ? T(0) : dfdx * t;
  }
  return r;
}

} // namespace detail

// ---- arithmetic (the formulas of dual.hpp) --------------------------------------

template <class T, int P, TangentMask M>
DIFFANA_INLINE SparseDual<T, P, M> operator+(const SparseDual<T, P, M>& x) {
  return x;
}
template <class T, int P, TangentMask M>
DIFFANA_INLINE SparseDual<T, P, M> operator-(const SparseDual<T, P, M>& x) {
  return detail::sparse_scaled(x, -x.value(), T(-1));
}

template <class T, int P, TangentMask A, TangentMask B>
DIFFANA_INLINE SparseDual<T, P, A | B> operator+(const SparseDual<T, P, A>& x,
                                                 const SparseDual<T, P, B>& y) {
  return detail::sparse_combine<A | B>(
      x, y, x.value() + y.value(), [](T a, T b) { return a + b; },
      [](T a) { return a; }, [](T b) { return b; });
}
template <class T, int P, TangentMask A, TangentMask B>
DIFFANA_INLINE SparseDual<T, P, A | B> operator-(const SparseDual<T, P, A>& x,
                                                 const SparseDual<T, P, B>& y) {
  return detail::sparse_combine<A | B>(
      x, y, x.value() - y.value(), [](T a, T b) { return a - b; },
      [](T a) { return a; }, [](T b) { return -b; });
}
/// d(uv) = u dv + v du
template <class T, int P, TangentMask A, TangentMask B>
DIFFANA_INLINE SparseDual<T, P, A | B> operator*(const SparseDual<T, P, A>& x,
                                                 const SparseDual<T, P, B>& y) {
  const T u = x.value();
  const T v = y.value();
  return detail::sparse_combine<A | B>(
      x, y, u * v, [u, v](T a, T b) { return a * v + u * b; },
      [v](T a) { return a * v; }, [u](T b) { return u * b; });
}
/// d(u/v) = (du - (u/v) dv) / v
template <class T, int P, TangentMask A, TangentMask B>
DIFFANA_INLINE SparseDual<T, P, A | B> operator/(const SparseDual<T, P, A>& x,
                                                 const SparseDual<T, P, B>& y) {
  const T inv = T(1) / y.value();
  const T f = x.value() * inv;
  return detail::sparse_combine<A | B>(
      x, y, f, [f, inv](T a, T b) { return (a - f * b) * inv; },
      [inv](T a) { return a * inv; }, [f, inv](T b) { return (-f * b) * inv; });
}

template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator+(const SparseDual<T, P, M>& x, S y) {
  return detail::sparse_shifted(x, x.value() + static_cast<T>(y));
}
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator+(S x, const SparseDual<T, P, M>& y) {
  return detail::sparse_shifted(y, y.value() + static_cast<T>(x));
}
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator-(const SparseDual<T, P, M>& x, S y) {
  return detail::sparse_shifted(x, x.value() - static_cast<T>(y));
}
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator-(S x, const SparseDual<T, P, M>& y) {
  return detail::sparse_scaled(y, -y.value() + static_cast<T>(x), T(-1));
}
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator*(const SparseDual<T, P, M>& x, S y) {
  const T c = static_cast<T>(y);
  return detail::sparse_scaled(x, x.value() * c, c);
}
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator*(S x, const SparseDual<T, P, M>& y) {
  const T c = static_cast<T>(x);
  return detail::sparse_scaled(y, y.value() * c, c);
}
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator/(const SparseDual<T, P, M>& x, S y) {
  const T inv = T(1) / static_cast<T>(y);
  return detail::sparse_scaled(x, x.value() * inv, inv);
}
/// d(s/v) = -(s/v) dv / v
template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE SparseDual<T, P, M> operator/(S x, const SparseDual<T, P, M>& y) {
  const T inv = T(1) / y.value();
  const T f = static_cast<T>(x) * inv;
  return detail::sparse_scaled(y, f, -f * inv);
}

// ---- comparisons act on the value -----------------------------------------------

#define DIFFANA_SPARSE_COMPARISON(OP)                                                  \
  template <class T, int P, TangentMask A, TangentMask B>                              \
  constexpr bool operator OP(const SparseDual<T, P, A>& x,                             \
                             const SparseDual<T, P, B>& y) {                           \
    return x.value() OP y.value();                                                     \
  }                                                                                    \
  template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>     \
  constexpr bool operator OP(const SparseDual<T, P, M>& x, S y) {                      \
    return x.value() OP static_cast<T>(y);                                             \
  }                                                                                    \
  template <class T, int P, TangentMask M, class S, enable_if_arithmetic_t<S> = 0>     \
  constexpr bool operator OP(S x, const SparseDual<T, P, M>& y) {                      \
    return static_cast<T>(x) OP y.value();                                             \
  }
DIFFANA_SPARSE_COMPARISON(==)
DIFFANA_SPARSE_COMPARISON(!=)
DIFFANA_SPARSE_COMPARISON(<)
DIFFANA_SPARSE_COMPARISON(<=)
DIFFANA_SPARSE_COMPARISON(>)
DIFFANA_SPARSE_COMPARISON(>=)
#undef DIFFANA_SPARSE_COMPARISON

/// Prints as the dense Dual<T, P> does: `3.5 [1, 0, 0.2]`.
template <class T, int P, TangentMask M>
std::ostream& operator<<(std::ostream& os, const SparseDual<T, P, M>& x) {
  return os << to_dense(x);
}

// ---- math library (rules in math.hpp) -------------------------------------------

#define DIFFANA_SPARSE_UNARY(NAME, SAFE)                                               \
  template <class T, int P, TangentMask M>                                             \
  SparseDual<T, P, M> NAME(const SparseDual<T, P, M>& x) {                             \
    const auto r = NAME##_pushforward(x.value(), T(1));                                \
    return detail::sparse_chain(x, r.value, r.pushforward, SAFE);                      \
  }
DIFFANA_SPARSE_UNARY(exp, false)
DIFFANA_SPARSE_UNARY(expm1, false)
DIFFANA_SPARSE_UNARY(log, true)
DIFFANA_SPARSE_UNARY(log1p, true)
DIFFANA_SPARSE_UNARY(log10, true)
DIFFANA_SPARSE_UNARY(sqrt, true)
DIFFANA_SPARSE_UNARY(cbrt, true)
DIFFANA_SPARSE_UNARY(sin, false)
DIFFANA_SPARSE_UNARY(cos, false)
DIFFANA_SPARSE_UNARY(tan, false)
DIFFANA_SPARSE_UNARY(asin, true)
DIFFANA_SPARSE_UNARY(acos, true)
DIFFANA_SPARSE_UNARY(atan, false)
DIFFANA_SPARSE_UNARY(sinh, false)
DIFFANA_SPARSE_UNARY(cosh, false)
DIFFANA_SPARSE_UNARY(tanh, false)
DIFFANA_SPARSE_UNARY(asinh, false)
DIFFANA_SPARSE_UNARY(acosh, true)
DIFFANA_SPARSE_UNARY(atanh, true)
DIFFANA_SPARSE_UNARY(erf, false)
DIFFANA_SPARSE_UNARY(erfc, false)
DIFFANA_SPARSE_UNARY(abs, false)
#undef DIFFANA_SPARSE_UNARY

template <class T, int P, TangentMask M>
SparseDual<T, P, M> fabs(const SparseDual<T, P, M>& x) {
  return abs(x);
}

#define DIFFANA_SPARSE_STEP(NAME)                                                      \
  template <class T, int P, TangentMask M>                                             \
  SparseDual<T, P, M> NAME(const SparseDual<T, P, M>& x) {                             \
    using std::NAME;                                                                   \
    return SparseDual<T, P, M>(NAME(x.value()));                                       \
  }
DIFFANA_SPARSE_STEP(floor)
DIFFANA_SPARSE_STEP(ceil)
DIFFANA_SPARSE_STEP(round)
DIFFANA_SPARSE_STEP(trunc)
#undef DIFFANA_SPARSE_STEP

/// pow, hypot, atan2, max, min, fmax, fmin, clamp of SparseDuals (and plain
/// numbers): the generic versions of dual.hpp are constrained to Dual arguments, so
/// these forward to the same rules.
template <class X, class Y>
using enable_if_sparse2_t =
    std::enable_if_t<(is_sparse_dual_v<X> || is_sparse_dual_v<Y>) && !is_dual_v<X> &&
                         !is_dual_v<Y>,
                     int>;

#define DIFFANA_SPARSE_BINARY_FUNCTION(NAME)                                           \
  template <class X, class Y, enable_if_sparse2_t<X, Y> = 0>                           \
  promote_t<X, Y> NAME(const X& x, const Y& y) {                                       \
    using R = promote_t<X, Y>;                                                         \
    using V = value_type_t<R>;                                                         \
    const auto p =                                                                     \
        NAME##_partials(static_cast<V>(value(x)), static_cast<V>(value(y)));           \
    R r(p.value);                                                                      \
    detail::add_tangent(r, p.d_x, x);                                                  \
    detail::add_tangent(r, p.d_y, y);                                                  \
    return r;                                                                          \
  }
DIFFANA_SPARSE_BINARY_FUNCTION(pow)
DIFFANA_SPARSE_BINARY_FUNCTION(hypot)
DIFFANA_SPARSE_BINARY_FUNCTION(atan2)
#undef DIFFANA_SPARSE_BINARY_FUNCTION

/// max(x, y): the tangent of the larger argument; at a tie the mean of both.
template <class X, class Y, enable_if_sparse2_t<X, Y> = 0>
promote_t<X, Y> max(const X& x, const Y& y) {
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
/// min(x, y): the tangent of the smaller argument; at a tie the mean of both.
template <class X, class Y, enable_if_sparse2_t<X, Y> = 0>
promote_t<X, Y> min(const X& x, const Y& y) {
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
// Two of the same type: preferred to std::max / std::min (as for Dual).
template <class T, int P, TangentMask M>
SparseDual<T, P, M> max(const SparseDual<T, P, M>& x, const SparseDual<T, P, M>& y) {
  return max<SparseDual<T, P, M>, SparseDual<T, P, M>, 0>(x, y);
}
template <class T, int P, TangentMask M>
SparseDual<T, P, M> min(const SparseDual<T, P, M>& x, const SparseDual<T, P, M>& y) {
  return min<SparseDual<T, P, M>, SparseDual<T, P, M>, 0>(x, y);
}
template <class X, class Y, enable_if_sparse2_t<X, Y> = 0>
promote_t<X, Y> fmax(const X& x, const Y& y) {
  return max(x, y);
}
template <class X, class Y, enable_if_sparse2_t<X, Y> = 0>
promote_t<X, Y> fmin(const X& x, const Y& y) {
  return min(x, y);
}

/// clamp(x, lo, hi): the tangent of whichever value is returned.
template <class X, class L, class H,
          std::enable_if_t<(is_sparse_dual_v<X> || is_sparse_dual_v<L> ||
                            is_sparse_dual_v<H>) &&
                               !is_dual_v<X> && !is_dual_v<L> && !is_dual_v<H>,
                           int> = 0>
promote_t<X, L, H> clamp(const X& x, const L& lo, const H& hi) {
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

/// isnan / isinf / isfinite look at the value.
template <class T, int P, TangentMask M> bool isnan(const SparseDual<T, P, M>& x) {
  using std::isnan;
  return isnan(x.value());
}
template <class T, int P, TangentMask M> bool isinf(const SparseDual<T, P, M>& x) {
  using std::isinf;
  return isinf(x.value());
}
template <class T, int P, TangentMask M> bool isfinite(const SparseDual<T, P, M>& x) {
  using std::isfinite;
  return isfinite(x.value());
}

} // namespace diffana
