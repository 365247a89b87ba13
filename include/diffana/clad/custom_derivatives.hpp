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
/// No derivative is written here: each wrapper forwards to diffana's own rules -- the
/// `*_pushforward` / `*_pullback` functions next to the functions (soft/cuts.hpp,
/// soft/select.hpp, physics/lorentz.hpp, physics/agc.hpp, hist/soft_binning.hpp),
/// the same code as diffana's reverse mode -- and, where diffana has no pushforward,
/// to one evaluation of the Dual-generic function on diffana::Dual<double, 1>.
/// Forward and reverse derivatives are therefore those of diffana::Dual (tests/clad/
/// checks them to 1e-10).
///
/// Covered here: soft_cut, soft_cut_below, soft_window, straight_through_cut(_below);
/// agc::soft_step(_below); to_px, to_py, to_pz, to_energy, delta_phi, delta_r,
/// invariant_mass and pt_of_sum of 2 or 3 objects (scalar arguments), and pt, eta,
/// phi, mass of a PxPyPzE. In the headers included at the end: the soft selections
/// of containers (softmax, soft_argmax, soft_pick, soft_sort, soft_rank;
/// clad/select.hpp), the AGC blocks of pointer + length or containers (clad/agc.hpp),
/// histogram fills into arrays of bins (diffana::fill_bins_1d / fill_bins_2d of
/// clad/fill.hpp, derivatives in clad/hist.hpp), and diffana's rules for the <cmath>
/// functions whose Clad built-ins differ from them at kinks (hypot and atan2 at the
/// origin, pow at 0, fmax / fmin at a tie; clad/math.hpp). The rest of <cmath> (exp,
/// log, sqrt, ...) keeps Clad's built-in derivatives, which are diffana's.
///
/// Conventions (Clad's, and Clad checks them: a custom derivative whose signature is
/// not exactly the expected one is reported as "provided but not used"): the
/// function's own parameters (`const A&`), then for `<fn>_pushforward` their tangents
/// (`const A&`), returning `clad::ValueAndPushforward<R, R>`; for `<fn>_pullback` the
/// adjoint d_y of the result (R by value) and one `A*` adjoint per parameter, to which
/// d_y times the partial is added (never overwritten).
///
/// Clad and diffana::Dual in one translation unit: Clad instantiates the code it
/// generates at the end of the translation unit, after clang has closed its scopes.
/// Where a Dual<T, N> is first copy- or move-assigned there, clang would define the
/// implicit assignment then (a memcpy of the tangent array, through a lazily declared
/// __builtin_memcpy) and crash (segfault in Sema::PushOnScopeChains); under the plugin
/// (__CLAD__), Dual therefore has a written-out copy assignment (ad/dual.hpp), and
/// tests/clad/test_dual_same_tu.cpp keeps that so.
///
/// Needs Clad: including this header without Clad's headers, or without the plugin
/// loaded (`-fplugin=clad.so`; cling with Clad defines __CLING__), is an error.
/// In the code Clad differentiates, call <cmath> qualified (std::hypot(x, y)): Clad
/// does not differentiate through a using-declaration (`using std::hypot;` gives
/// "declaration kind 'Using' is not supported" and a numerical fallback).
///
/// May include: diffana's headers, diffana/clad/*.hpp and Clad's Differentiator.h.
#pragma once

#include "diffana/clad/bridge.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <cstddef>
#include <vector>

/// Clad custom derivatives of a diffana function `NS::FN` of K scalar arguments: the
/// pushforward through one diffana::Dual<double, 1> evaluation of its Dual-generic
/// body, the pullback through diffana's own `NS::FN_pullback` (the same code as
/// diffana's reverse mode).
/// Clad matches a custom derivative by its exact signature: the function's own
/// parameters (`const A&`), then d_y of the result type and `A*` adjoints (pullback),
/// or the tangents as `const A&` (pushforward). One macro per arity K.
#define DIFFANA_CLAD_R(...) ::diffana::clad_bridge::value_t<__VA_ARGS__>
#define DIFFANA_CLAD_PF(...)                                                           \
  clad::ValueAndPushforward<DIFFANA_CLAD_R(__VA_ARGS__), DIFFANA_CLAD_R(__VA_ARGS__)>
#define DIFFANA_CLAD_CALL(NS, FN) [](const auto&... v) { return ::NS::FN(v...); }
#define DIFFANA_CLAD_RULE(NS, FN) [](const auto&... v) { ::NS::FN##_pullback(v...); }
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
    ::diffana::clad_bridge::pullback_via_rule(DIFFANA_CLAD_RULE(NS, FN), a1, a2, d_y,  \
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
    ::diffana::clad_bridge::pullback_via_rule(DIFFANA_CLAD_RULE(NS, FN), a1, a2, a3,   \
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
    ::diffana::clad_bridge::pullback_via_rule(DIFFANA_CLAD_RULE(NS, FN), a1, a2, a3,   \
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
    ::diffana::clad_bridge::pullback_via_rule(DIFFANA_CLAD_RULE(NS, FN), a1, a2, a3,   \
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
    ::diffana::clad_bridge::pullback_via_rule(DIFFANA_CLAD_RULE(NS, FN), a1, a2, a3,   \
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
    ::diffana::clad_bridge::pullback_via_rule(                                         \
        DIFFANA_CLAD_RULE(NS, FN), a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12,  \
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

// Functions of a four-vector: pullbacks are diffana's (lorentz.hpp), pushforwards one
// Dual<T, 1> evaluation.
#define DIFFANA_CLAD_OF_VECTOR(FN)                                                     \
  template <class T>                                                                   \
  clad::ValueAndPushforward<T, T> FN##_pushforward(const ::diffana::PxPyPzE<T>& v,     \
                                                   const ::diffana::PxPyPzE<T>& d_v) { \
    using ::diffana::clad_bridge::dual1;                                               \
    const auto r = ::diffana::FN(::diffana::PxPyPzE<::diffana::Dual<T, 1>>{            \
        dual1(v.px, d_v.px), dual1(v.py, d_v.py), dual1(v.pz, d_v.pz),                 \
        dual1(v.e, d_v.e)});                                                           \
    return {r.value(), r.tangent(0)};                                                  \
  }                                                                                    \
  template <class T>                                                                   \
  void FN##_pullback(const ::diffana::PxPyPzE<T>& v, T d_y,                            \
                     ::diffana::PxPyPzE<T>* d_v) {                                     \
    if (d_v != nullptr) ::diffana::FN##_pullback(v, d_y, d_v);                         \
  }
DIFFANA_CLAD_OF_VECTOR(pt)
DIFFANA_CLAD_OF_VECTOR(eta)
DIFFANA_CLAD_OF_VECTOR(phi)
DIFFANA_CLAD_OF_VECTOR(mass)
#undef DIFFANA_CLAD_OF_VECTOR

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
#undef DIFFANA_CLAD_RULE
#undef DIFFANA_CLAD_VIA_DUAL2
#undef DIFFANA_CLAD_VIA_DUAL3
#undef DIFFANA_CLAD_VIA_DUAL4
#undef DIFFANA_CLAD_VIA_DUAL6
#undef DIFFANA_CLAD_VIA_DUAL8
#undef DIFFANA_CLAD_VIA_DUAL12

// Custom derivatives of functions of containers, pointer + length and histogram
// fills: one header per family.
#include "diffana/clad/agc.hpp"
#include "diffana/clad/hist.hpp"
#include "diffana/clad/math.hpp"
#include "diffana/clad/select.hpp"
