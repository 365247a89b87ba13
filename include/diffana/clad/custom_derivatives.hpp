// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana's derivative rules registered as Clad custom derivatives.
///
/// Clad (the source-transformation AD plugin of clang, shipped in ROOT's cling when
/// ROOT is built with it) differentiates a user function by rewriting its body. It
/// cannot rewrite diffana's bodies (`using std::exp;` declarations, constant
/// expressions, Dual-generic templates): its reverse mode then returns NaN. Clad first
/// looks for a custom derivative,
/// `clad::custom_derivatives::<namespace>::<fn>_pushforward` (forward mode,
/// `clad::differentiate`) and `<fn>_pullback` (reverse mode, `clad::gradient`); this
/// header declares them for every public scalar function a user calls inside a
/// differentiated expression, so Clad never enters diffana's code:
///
///   #include "clad/Differentiator/Differentiator.h"
///   #include "diffana/diffana.hpp"
///   #include "diffana/clad/custom_derivatives.hpp"
///   double weight(double jes, double cut) {
///     return diffana::soft_cut(jes * 42.0, cut, 0.2);
///   }
///   auto grad = clad::gradient(weight);   // uses soft_cut_pullback below
///
/// No derivative is written here: each wrapper forwards to diffana's own rule -- the
/// `*_pushforward` / `*_pullback` functions next to soft_cut & co. (soft/cuts.hpp,
/// soft/select.hpp), or, for functions whose rule is their Dual-generic body (Lorentz
/// helpers, AGC steps), one evaluation on `diffana::Dual` (one tangent for a
/// pushforward, one per argument for a pullback). Forward and reverse derivatives are
/// therefore those of diffana::Dual (tests/clad/ checks them to 1e-10).
///
/// Covered: soft_cut, soft_cut_below, soft_window, straight_through_cut(_below);
/// agc::soft_step(_below); to_px, to_py, to_pz, to_energy, delta_phi, delta_r,
/// invariant_mass and pt_of_sum of 2 or 3 objects (scalar arguments); soft_argmax and
/// soft_pick of std::vector arguments. Not covered: functions returning sequences
/// (softmax, soft_sort, soft_rank), pointer + length AGC blocks, histogram fills --
/// Clad's reverse mode cannot yet carry adjoints of returned containers; use
/// diffana::Dual or diffana's reverse mode (ad/reverse.hpp) for those. The math of
/// <cmath> (exp, hypot, ...) keeps Clad's own built-in derivatives.
///
/// Conventions (Clad's, and Clad checks them: a custom derivative whose signature is
/// not exactly the expected one is reported as "provided but not used"): the
/// function's own parameters (`const A&`), then for `<fn>_pushforward` their tangents
/// (`const A&`), returning `clad::ValueAndPushforward<R, R>`; for `<fn>_pullback` the
/// adjoint d_y of the result (R by value) and one `A*` adjoint per parameter, to which
/// d_y times the partial is added (never overwritten).
///
/// Clad and diffana::Dual in one translation unit: Clad instantiates these templates
/// at the end of the translation unit, after clang has closed its scopes. If that is
/// where a Dual<T, N> is first copy- or move-assigned, clang defines the assignment
/// then (a memcpy of the tangent array, through a lazily declared __builtin_memcpy)
/// and crashes (segfault in Sema::PushOnScopeChains). The wrappers here therefore
/// build Duals by construction only; in your own code instantiated by Clad, do the
/// same, or assign a Dual<T, N> of the same N once in ordinary code before (see
/// tests/clad/test_forward_only.cpp).
///
/// Needs Clad: including this header without Clad's headers, or without the plugin
/// loaded (`-fplugin=clad.so`; cling with Clad defines __CLING__), is an error.
/// May include: diffana's headers and Clad's Differentiator.h.
#pragma once

#if !defined(__has_include)
#error "diffana/clad/custom_derivatives.hpp needs a compiler with __has_include (clang)"
#endif
#if !__has_include("clad/Differentiator/Differentiator.h")
#error                                                                                 \
    "diffana/clad/custom_derivatives.hpp needs Clad: clad/Differentiator/Differentiator.h is not on the include path (add -I<clad>/include, or use ROOT built with Clad); without Clad use diffana::Dual instead"
#endif
#if !defined(__CLAD__) && !defined(__CLING__)
#error                                                                                 \
    "diffana/clad/custom_derivatives.hpp: the Clad plugin is not loaded (compile with clang++ -fplugin=<path>/clad.so); without Clad use diffana::Dual instead"
#endif

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"
#include "diffana/soft/select.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana::clad_bridge {

/// The plain floating type a derivative is computed in (double for integer args).
template <class... Xs> using value_t = promote_floating_t<std::decay_t<Xs>...>;

/// *p += v for an adjoint pointer; nothing for a null one (or a literal nullptr).
template <class P, class V> inline void accumulate(P* p, V v) {
  if (p != nullptr) *p += static_cast<P>(v);
}
template <class V> inline void accumulate(std::nullptr_t, V) {}

/// f on Dual<V, 1> arguments (value x_i, tangent dx_i): {value, directional
/// derivative}.
template <class V, class F, class Tuple, std::size_t... I>
clad::ValueAndPushforward<V, V> pushforward_impl(F&& f, const Tuple& t,
                                                 std::index_sequence<I...>) {
  constexpr std::size_t K = sizeof...(I);
  using D = Dual<V, 1>;
  D a[K] = {D(static_cast<V>(std::get<I>(t)))...};
  const V d[K] = {static_cast<V>(std::get<K + I>(t))...};
  for (std::size_t i = 0; i < K; ++i)
    a[i].tangent(0) = d[i];
  const D r = f(a[I]...);
  return {r.value(), r.tangent(0)};
}

/// Clad's pushforward of a K-argument function f from its 2K arguments
/// (x_1..x_K, dx_1..dx_K), through one Dual<V, 1> evaluation of f.
template <class F, class... A> auto pushforward_via_dual(F&& f, const A&... a) {
  static_assert(sizeof...(A) % 2 == 0, "a pushforward takes values and tangents");
  constexpr std::size_t K = sizeof...(A) / 2;
  const auto t = std::forward_as_tuple(a...);
  using V = double; // the Dual's value type; every diffana function is exact in double
  return pushforward_impl<V>(std::forward<F>(f), t, std::make_index_sequence<K>{});
}

template <class V, class F, class Tuple, std::size_t... I>
void pullback_impl(F&& f, const Tuple& t, std::index_sequence<I...>) {
  constexpr std::size_t K = sizeof...(I);
  using D = Dual<V, static_cast<int>(K)>;
  const D r = f(D::variable(static_cast<V>(std::get<I>(t)), static_cast<int>(I))...);
  const V d_y = static_cast<V>(std::get<K>(t));
  // A zero d_y contributes nothing, even where a partial is infinite.
  if (d_y == V(0)) return;
  (accumulate(std::get<K + 1 + I>(t), d_y * r.tangent(static_cast<int>(I))), ...);
}

/// Clad's pullback of a K-argument function f from its 2K + 1 arguments
/// (x_1..x_K, d_y, d_x_1..d_x_K), through one Dual<V, K> evaluation of f.
template <class F, class... A> void pullback_via_dual(F&& f, const A&... a) {
  static_assert(sizeof...(A) % 2 == 1, "a pullback takes values, d_y and adjoints");
  constexpr std::size_t K = sizeof...(A) / 2;
  const auto t = std::forward_as_tuple(a...);
  pullback_impl<double>(std::forward<F>(f), t, std::make_index_sequence<K>{});
}

/// x as Dual<T, 1>s with tangents d_x (0 past its end). Built by construction only:
/// no Dual is assigned in code that Clad instantiates while it differentiates (see
/// the note on crashes above).
template <class T>
::std::vector<Dual<T, 1>> seeded(const ::std::vector<T>& x,
                                 const ::std::vector<T>& d_x) {
  ::std::vector<Dual<T, 1>> r;
  r.reserve(x.size());
  for (::std::size_t i = 0; i < x.size(); ++i) {
    r.emplace_back(x[i]);
    r.back().tangent(0) = i < d_x.size() ? d_x[i] : T(0);
  }
  return r;
}

} // namespace diffana::clad_bridge

/// Clad custom derivatives of a diffana function `NS::FN` of K scalar arguments whose
/// rule is its Dual-generic body (pushforward and pullback through diffana::Dual).
/// Clad matches a custom derivative by its exact signature: the function's own
/// parameters (`const A&`), then d_y of the result type and `A*` adjoints (pullback),
/// or the tangents as `const A&` (pushforward). One macro per arity K.
#define DIFFANA_CLAD_R(...) ::diffana::clad_bridge::value_t<__VA_ARGS__>
#define DIFFANA_CLAD_PF(...)                                                           \
  clad::ValueAndPushforward<DIFFANA_CLAD_R(__VA_ARGS__), DIFFANA_CLAD_R(__VA_ARGS__)>
#define DIFFANA_CLAD_CALL(NS, FN) [](const auto&... v) { return ::NS::FN(v...); }
#define DIFFANA_CLAD_VIA_DUAL2(NS, FN)                                                 \
  template <class A1, class A2>                                                        \
  DIFFANA_CLAD_PF(A1, A2)                                                              \
  FN##_pushforward(const A1& a1, const A2& a2, const A1& d1, const A2& d2) {           \
    return ::diffana::clad_bridge::pushforward_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, \
                                                        a2, d1, d2);                   \
  }                                                                                    \
  template <class A1, class A2>                                                        \
  void FN##_pullback(const A1& a1, const A2& a2, DIFFANA_CLAD_R(A1, A2) d_y, A1* p1,   \
                     A2* p2) {                                                         \
    ::diffana::clad_bridge::pullback_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, a2, d_y,  \
                                              p1, p2);                                 \
  }
#define DIFFANA_CLAD_VIA_DUAL3(NS, FN)                                                 \
  template <class A1, class A2, class A3>                                              \
  DIFFANA_CLAD_PF(A1, A2, A3)                                                          \
  FN##_pushforward(const A1& a1, const A2& a2, const A3& a3, const A1& d1,             \
                   const A2& d2, const A3& d3) {                                       \
    return ::diffana::clad_bridge::pushforward_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, \
                                                        a2, a3, d1, d2, d3);           \
  }                                                                                    \
  template <class A1, class A2, class A3>                                              \
  void FN##_pullback(const A1& a1, const A2& a2, const A3& a3,                         \
                     DIFFANA_CLAD_R(A1, A2, A3) d_y, A1* p1, A2* p2, A3* p3) {         \
    ::diffana::clad_bridge::pullback_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3,   \
                                              d_y, p1, p2, p3);                        \
  }
#define DIFFANA_CLAD_VIA_DUAL4(NS, FN)                                                 \
  template <class A1, class A2, class A3, class A4>                                    \
  DIFFANA_CLAD_PF(A1, A2, A3, A4)                                                      \
  FN##_pushforward(const A1& a1, const A2& a2, const A3& a3, const A4& a4,             \
                   const A1& d1, const A2& d2, const A3& d3, const A4& d4) {           \
    return ::diffana::clad_bridge::pushforward_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, \
                                                        a2, a3, a4, d1, d2, d3, d4);   \
  }                                                                                    \
  template <class A1, class A2, class A3, class A4>                                    \
  void FN##_pullback(const A1& a1, const A2& a2, const A3& a3, const A4& a4,           \
                     DIFFANA_CLAD_R(A1, A2, A3, A4) d_y, A1* p1, A2* p2, A3* p3,       \
                     A4* p4) {                                                         \
    ::diffana::clad_bridge::pullback_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3,   \
                                              a4, d_y, p1, p2, p3, p4);                \
  }
#define DIFFANA_CLAD_VIA_DUAL6(NS, FN)                                                 \
  template <class A1, class A2, class A3, class A4, class A5, class A6>                \
  DIFFANA_CLAD_PF(A1, A2, A3, A4, A5, A6)                                              \
  FN##_pushforward(const A1& a1, const A2& a2, const A3& a3, const A4& a4,             \
                   const A5& a5, const A6& a6, const A1& d1, const A2& d2,             \
                   const A3& d3, const A4& d4, const A5& d5, const A6& d6) {           \
    return ::diffana::clad_bridge::pushforward_via_dual(                               \
        DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3, a4, a5, a6, d1, d2, d3, d4, d5, d6);    \
  }                                                                                    \
  template <class A1, class A2, class A3, class A4, class A5, class A6>                \
  void FN##_pullback(const A1& a1, const A2& a2, const A3& a3, const A4& a4,           \
                     const A5& a5, const A6& a6,                                       \
                     DIFFANA_CLAD_R(A1, A2, A3, A4, A5, A6) d_y, A1* p1, A2* p2,       \
                     A3* p3, A4* p4, A5* p5, A6* p6) {                                 \
    ::diffana::clad_bridge::pullback_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3,   \
                                              a4, a5, a6, d_y, p1, p2, p3, p4, p5,     \
                                              p6);                                     \
  }
#define DIFFANA_CLAD_VIA_DUAL8(NS, FN)                                                 \
  template <class A1, class A2, class A3, class A4, class A5, class A6, class A7,      \
            class A8>                                                                  \
  DIFFANA_CLAD_PF(A1, A2, A3, A4, A5, A6, A7, A8)                                      \
  FN##_pushforward(const A1& a1, const A2& a2, const A3& a3, const A4& a4,             \
                   const A5& a5, const A6& a6, const A7& a7, const A8& a8,             \
                   const A1& d1, const A2& d2, const A3& d3, const A4& d4,             \
                   const A5& d5, const A6& d6, const A7& d7, const A8& d8) {           \
    return ::diffana::clad_bridge::pushforward_via_dual(                               \
        DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3, a4, a5, a6, a7, a8, d1, d2, d3, d4, d5, \
        d6, d7, d8);                                                                   \
  }                                                                                    \
  template <class A1, class A2, class A3, class A4, class A5, class A6, class A7,      \
            class A8>                                                                  \
  void FN##_pullback(const A1& a1, const A2& a2, const A3& a3, const A4& a4,           \
                     const A5& a5, const A6& a6, const A7& a7, const A8& a8,           \
                     DIFFANA_CLAD_R(A1, A2, A3, A4, A5, A6, A7, A8) d_y, A1* p1,       \
                     A2* p2, A3* p3, A4* p4, A5* p5, A6* p6, A7* p7, A8* p8) {         \
    ::diffana::clad_bridge::pullback_via_dual(DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3,   \
                                              a4, a5, a6, a7, a8, d_y, p1, p2, p3, p4, \
                                              p5, p6, p7, p8);                         \
  }
#define DIFFANA_CLAD_VIA_DUAL12(NS, FN)                                                \
  template <class A1, class A2, class A3, class A4, class A5, class A6, class A7,      \
            class A8, class A9, class A10, class A11, class A12>                       \
  DIFFANA_CLAD_PF(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12)                   \
  FN##_pushforward(const A1& a1, const A2& a2, const A3& a3, const A4& a4,             \
                   const A5& a5, const A6& a6, const A7& a7, const A8& a8,             \
                   const A9& a9, const A10& a10, const A11& a11, const A12& a12,       \
                   const A1& d1, const A2& d2, const A3& d3, const A4& d4,             \
                   const A5& d5, const A6& d6, const A7& d7, const A8& d8,             \
                   const A9& d9, const A10& d10, const A11& d11, const A12& d12) {     \
    return ::diffana::clad_bridge::pushforward_via_dual(                               \
        DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,  \
        d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12);                            \
  }                                                                                    \
  template <class A1, class A2, class A3, class A4, class A5, class A6, class A7,      \
            class A8, class A9, class A10, class A11, class A12>                       \
  void FN##_pullback(const A1& a1, const A2& a2, const A3& a3, const A4& a4,           \
                     const A5& a5, const A6& a6, const A7& a7, const A8& a8,           \
                     const A9& a9, const A10& a10, const A11& a11, const A12& a12,     \
                     DIFFANA_CLAD_R(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12) \
                         d_y,                                                          \
                     A1* p1, A2* p2, A3* p3, A4* p4, A5* p5, A6* p6, A7* p7, A8* p8,   \
                     A9* p9, A10* p10, A11* p11, A12* p12) {                           \
    ::diffana::clad_bridge::pullback_via_dual(                                         \
        DIFFANA_CLAD_CALL(NS, FN), a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,  \
        d_y, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12);                       \
  }

namespace clad::custom_derivatives {
namespace diffana {

// ---- soft cuts, windows, straight-through (soft/cuts.hpp) ---------------------------
// The rules are diffana's *_partials (one evaluation, all partials) and *_pushforward.

template <class X, class C, class S>
clad::ValueAndPushforward<::diffana::clad_bridge::value_t<X, C, S>,
                          ::diffana::clad_bridge::value_t<X, C, S>>
soft_cut_pushforward(const X& x, const C& cut, const S& slope, const X& d_x,
                     const C& d_cut, const S& d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  const auto r = ::diffana::soft_cut_pushforward<V>(V(x), V(cut), V(slope), V(d_x),
                                                    V(d_cut), V(d_slope));
  return {r.value, r.pushforward};
}

template <class X, class C, class S>
void soft_cut_pullback(const X& x, const C& cut, const S& slope,
                       ::diffana::clad_bridge::value_t<X, C, S> d_y, X* d_x, C* d_cut,
                       S* d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  V a_x = V(0), a_cut = V(0), a_slope = V(0);
  ::diffana::soft_cut_pullback<V>(V(x), V(cut), V(slope), d_y, &a_x, &a_cut, &a_slope);
  ::diffana::clad_bridge::accumulate(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_cut, a_cut);
  ::diffana::clad_bridge::accumulate(d_slope, a_slope);
}

template <class X, class C, class S>
clad::ValueAndPushforward<::diffana::clad_bridge::value_t<X, C, S>,
                          ::diffana::clad_bridge::value_t<X, C, S>>
soft_cut_below_pushforward(const X& x, const C& cut, const S& slope, const X& d_x,
                           const C& d_cut, const S& d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  const auto r = ::diffana::soft_cut_below_pushforward<V>(V(x), V(cut), V(slope),
                                                          V(d_x), V(d_cut), V(d_slope));
  return {r.value, r.pushforward};
}

template <class X, class C, class S>
void soft_cut_below_pullback(const X& x, const C& cut, const S& slope,
                             ::diffana::clad_bridge::value_t<X, C, S> d_y, X* d_x,
                             C* d_cut, S* d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  V a_x = V(0), a_cut = V(0), a_slope = V(0);
  ::diffana::soft_cut_below_pullback<V>(V(x), V(cut), V(slope), d_y, &a_x, &a_cut,
                                        &a_slope);
  ::diffana::clad_bridge::accumulate(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_cut, a_cut);
  ::diffana::clad_bridge::accumulate(d_slope, a_slope);
}

template <class X, class L, class H, class S>
clad::ValueAndPushforward<::diffana::clad_bridge::value_t<X, L, H, S>,
                          ::diffana::clad_bridge::value_t<X, L, H, S>>
soft_window_pushforward(const X& x, const L& lo, const H& hi, const S& slope,
                        const X& d_x, const L& d_lo, const H& d_hi, const S& d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, L, H, S>;
  const auto r = ::diffana::soft_window_pushforward<V>(
      V(x), V(lo), V(hi), V(slope), V(d_x), V(d_lo), V(d_hi), V(d_slope));
  return {r.value, r.pushforward};
}

template <class X, class L, class H, class S>
void soft_window_pullback(const X& x, const L& lo, const H& hi, const S& slope,
                          ::diffana::clad_bridge::value_t<X, L, H, S> d_y, X* d_x,
                          L* d_lo, H* d_hi, S* d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, L, H, S>;
  V a_x = V(0), a_lo = V(0), a_hi = V(0), a_slope = V(0);
  ::diffana::soft_window_pullback<V>(V(x), V(lo), V(hi), V(slope), d_y, &a_x, &a_lo,
                                     &a_hi, &a_slope);
  ::diffana::clad_bridge::accumulate(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_lo, a_lo);
  ::diffana::clad_bridge::accumulate(d_hi, a_hi);
  ::diffana::clad_bridge::accumulate(d_slope, a_slope);
}

// Straight-through: the hard step's value with soft_cut's derivative (a surrogate).
template <class X, class C, class S>
clad::ValueAndPushforward<::diffana::clad_bridge::value_t<X, C, S>,
                          ::diffana::clad_bridge::value_t<X, C, S>>
straight_through_cut_pushforward(const X& x, const C& cut, const S& slope, const X& d_x,
                                 const C& d_cut, const S& d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  const auto r = ::diffana::straight_through_cut_pushforward<V>(
      V(x), V(cut), V(slope), V(d_x), V(d_cut), V(d_slope));
  return {r.value, r.pushforward};
}

template <class X, class C, class S>
void straight_through_cut_pullback(const X& x, const C& cut, const S& slope,
                                   ::diffana::clad_bridge::value_t<X, C, S> d_y, X* d_x,
                                   C* d_cut, S* d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  V a_x = V(0), a_cut = V(0), a_slope = V(0);
  ::diffana::straight_through_cut_pullback<V>(V(x), V(cut), V(slope), d_y, &a_x, &a_cut,
                                              &a_slope);
  ::diffana::clad_bridge::accumulate(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_cut, a_cut);
  ::diffana::clad_bridge::accumulate(d_slope, a_slope);
}

template <class X, class C, class S>
DIFFANA_CLAD_PF(X, C, S)
straight_through_cut_below_pushforward(const X& x, const C& cut, const S& slope,
                                       const X& d_x, const C& d_cut, const S& d_slope) {
  return ::diffana::clad_bridge::pushforward_via_dual(
      DIFFANA_CLAD_CALL(diffana, straight_through_cut_below), x, cut, slope, d_x, d_cut,
      d_slope);
}

template <class X, class C, class S>
void straight_through_cut_below_pullback(const X& x, const C& cut, const S& slope,
                                         ::diffana::clad_bridge::value_t<X, C, S> d_y,
                                         X* d_x, C* d_cut, S* d_slope) {
  using V = ::diffana::clad_bridge::value_t<X, C, S>;
  V a_x = V(0), a_cut = V(0), a_slope = V(0);
  ::diffana::straight_through_cut_below_pullback<V>(V(x), V(cut), V(slope), d_y, &a_x,
                                                    &a_cut, &a_slope);
  ::diffana::clad_bridge::accumulate(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_cut, a_cut);
  ::diffana::clad_bridge::accumulate(d_slope, a_slope);
}

// ---- soft selection (soft/select.hpp), scalar results of std::vector arguments ----
// Clad differentiates these when the vectors are parameters of the differentiated
// function (it cannot yet differentiate the construction of a std::vector inside
// it). Reverse: diffana's pointer + length pullbacks; forward: one Dual<T, 1>
// evaluation. Adjoint vectors have the size of the primal ones (Clad's zero_like).

template <class T>
clad::ValueAndPushforward<T, T>
soft_argmax_pushforward(const ::std::vector<T>& x, const T& temperature,
                        const ::std::vector<T>& d_x, const T& d_temperature) {
  using D = ::diffana::Dual<T, 1>;
  ::std::vector<D> xd = ::diffana::clad_bridge::seeded(x, d_x);
  D t(temperature);
  t.tangent(0) = d_temperature;
  const D r = ::diffana::soft_argmax(xd, t);
  return {r.value(), r.tangent(0)};
}

template <class T>
void soft_argmax_pullback(const ::std::vector<T>& x, const T& temperature, T d_y,
                          ::std::vector<T>* d_x, T* d_temperature) {
  ::std::vector<T> a_x(x.size(), T(0));
  T a_t = T(0);
  ::diffana::soft_argmax_pullback<T>(x.data(), x.size(), temperature, d_y, a_x.data(),
                                     &a_t);
  if (d_x != nullptr)
    for (::std::size_t i = 0; i < x.size() && i < d_x->size(); ++i)
      (*d_x)[i] += a_x[i];
  ::diffana::clad_bridge::accumulate(d_temperature, a_t);
}

template <class T>
clad::ValueAndPushforward<T, T>
soft_pick_pushforward(const ::std::vector<T>& scores, const ::std::vector<T>& values,
                      const T& temperature, const ::std::vector<T>& d_scores,
                      const ::std::vector<T>& d_values, const T& d_temperature) {
  using D = ::diffana::Dual<T, 1>;
  const ::std::vector<D> sd = ::diffana::clad_bridge::seeded(scores, d_scores);
  const ::std::vector<D> vd = ::diffana::clad_bridge::seeded(values, d_values);
  D t(temperature);
  t.tangent(0) = d_temperature;
  const D r = ::diffana::soft_pick(sd, vd, t);
  return {r.value(), r.tangent(0)};
}

template <class T>
void soft_pick_pullback(const ::std::vector<T>& scores, const ::std::vector<T>& values,
                        const T& temperature, T d_y, ::std::vector<T>* d_scores,
                        ::std::vector<T>* d_values, T* d_temperature) {
  if (values.size() != scores.size()) // the same message as the function's
    (void)::diffana::soft_pick(scores, values, temperature);
  ::std::vector<T> a_s(scores.size(), T(0));
  ::std::vector<T> a_v(values.size(), T(0));
  T a_t = T(0);
  ::diffana::soft_pick_pullback<T>(scores.data(), values.data(), scores.size(),
                                   temperature, d_y, a_s.data(), a_v.data(), &a_t);
  if (d_scores != nullptr)
    for (::std::size_t i = 0; i < a_s.size() && i < d_scores->size(); ++i)
      (*d_scores)[i] += a_s[i];
  if (d_values != nullptr)
    for (::std::size_t i = 0; i < a_v.size() && i < d_values->size(); ++i)
      (*d_values)[i] += a_v[i];
  ::diffana::clad_bridge::accumulate(d_temperature, a_t);
}

// ---- Lorentz helpers (physics/lorentz.hpp), scalar-argument overloads --------------
// Their rule is the Dual-generic body (exact forward-mode AD of the documented
// formula).

DIFFANA_CLAD_VIA_DUAL2(diffana, to_px)
DIFFANA_CLAD_VIA_DUAL2(diffana, to_py)
DIFFANA_CLAD_VIA_DUAL2(diffana, to_pz)
DIFFANA_CLAD_VIA_DUAL3(diffana, to_energy)
DIFFANA_CLAD_VIA_DUAL2(diffana, delta_phi)
DIFFANA_CLAD_VIA_DUAL4(diffana, delta_r)
DIFFANA_CLAD_VIA_DUAL8(diffana, invariant_mass)
DIFFANA_CLAD_VIA_DUAL12(diffana, invariant_mass)
DIFFANA_CLAD_VIA_DUAL4(diffana, pt_of_sum)
DIFFANA_CLAD_VIA_DUAL6(diffana, pt_of_sum)
DIFFANA_CLAD_VIA_DUAL8(diffana, pt_of_sum)
DIFFANA_CLAD_VIA_DUAL12(diffana, pt_of_sum)

// ---- AGC blocks (physics/agc.hpp), scalar-argument ones ----------------------------

namespace agc {
DIFFANA_CLAD_VIA_DUAL3(diffana::agc, soft_step)
DIFFANA_CLAD_VIA_DUAL3(diffana::agc, soft_step_below)
} // namespace agc

} // namespace diffana
} // namespace clad::custom_derivatives

#undef DIFFANA_CLAD_R
#undef DIFFANA_CLAD_PF
#undef DIFFANA_CLAD_CALL
#undef DIFFANA_CLAD_VIA_DUAL2
#undef DIFFANA_CLAD_VIA_DUAL3
#undef DIFFANA_CLAD_VIA_DUAL4
#undef DIFFANA_CLAD_VIA_DUAL6
#undef DIFFANA_CLAD_VIA_DUAL8
#undef DIFFANA_CLAD_VIA_DUAL12
