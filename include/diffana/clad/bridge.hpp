// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// What the Clad custom derivatives of diffana (custom_derivatives.hpp and the
/// headers it includes) share: the checks that Clad is there, and the helpers that
/// turn diffana's rules into Clad's calling conventions -- adjoints added through
/// possibly null pointers, a pushforward through one diffana::Dual evaluation, a
/// pullback through diffana's own pullback, Dual copies of containers, adjoints
/// added into containers.
///
/// Needs Clad (see custom_derivatives.hpp). May include: diffana's headers and Clad's
/// Differentiator.h.
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

template <class V, class Rule, class Tuple, std::size_t... I>
void pullback_rule_impl(Rule&& rule, const Tuple& t, std::index_sequence<I...>) {
  constexpr std::size_t K = sizeof...(I);
  V a[K] = {};
  rule(static_cast<V>(std::get<I>(t))..., static_cast<V>(std::get<K>(t)), &a[I]...);
  (accumulate(std::get<K + 1 + I>(t), a[I]), ...);
}

/// Clad's pullback of a K-argument function from its 2K + 1 arguments (x_1..x_K, d_y,
/// d_x_1..d_x_K) through diffana's own pullback `rule(x_1..x_K, d_y, &a_1..&a_K)` of
/// plain doubles (lorentz.hpp, agc.hpp): the same code as diffana's reverse mode.
template <class Rule, class... A> void pullback_via_rule(Rule&& rule, const A&... a) {
  static_assert(sizeof...(A) % 2 == 1, "a pullback takes values, d_y and adjoints");
  constexpr std::size_t K = sizeof...(A) / 2;
  const auto t = std::forward_as_tuple(a...);
  pullback_rule_impl<double>(std::forward<Rule>(rule), t,
                             std::make_index_sequence<K>{});
}

/// The entries of a container x as Dual<T, 1>s with tangents d_x (0 past its end).
template <class C>
auto seeded(const C& x, const C& d_x)
    -> ::std::vector<Dual<std::decay_t<decltype(x[0])>, 1>> {
  using T = std::decay_t<decltype(x[0])>;
  ::std::vector<Dual<T, 1>> r;
  const std::size_t n = static_cast<std::size_t>(x.size());
  const std::size_t nd = static_cast<std::size_t>(d_x.size());
  r.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    r.emplace_back(x[i]);
    r.back().tangent(0) = i < nd ? d_x[i] : T(0);
  }
  return r;
}

/// The size of a container, or 0 for a null pointer to one.
template <class C> inline std::size_t size_of(const C* c) {
  return c == nullptr ? 0 : static_cast<std::size_t>(c->size());
}

/// (*d)[i] += a[i] for the entries both have (nothing for a null d): Clad's adjoint
/// containers have the size of the primal ones (clad::zero_like).
template <class C, class V> void add_into(C* d, const ::std::vector<V>& a) {
  if (d == nullptr) return;
  const std::size_t n = a.size() < size_of(d) ? a.size() : size_of(d);
  for (std::size_t i = 0; i < n; ++i)
    (*d)[i] += a[i];
}

/// d[i] += a[i] for i < n (nothing for a null d).
template <class T, class V> void add_into(T* d, const V* a, std::size_t n) {
  if (d == nullptr) return;
  for (std::size_t i = 0; i < n; ++i)
    d[i] += static_cast<T>(a[i]);
}

/// The n numbers at x as Dual<T, 1>s with tangents d_x (0 where d_x is null).
template <class T>
::std::vector<Dual<T, 1>> seeded(const T* x, const T* d_x, std::size_t n) {
  ::std::vector<Dual<T, 1>> r;
  r.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    r.emplace_back(x[i]);
    r.back().tangent(0) = d_x != nullptr ? d_x[i] : T(0);
  }
  return r;
}

/// A plain number and its tangent as one Dual<T, 1>.
template <class T> Dual<T, 1> dual1(T x, T d_x) {
  Dual<T, 1> r(x);
  r.tangent(0) = d_x;
  return r;
}

/// The values and the tangents of Dual<T, 1>s, as two vectors.
template <class T>
std::pair<::std::vector<T>, ::std::vector<T>>
split(const ::std::vector<Dual<T, 1>>& y) {
  std::pair<::std::vector<T>, ::std::vector<T>> r;
  r.first.reserve(y.size());
  r.second.reserve(y.size());
  for (const auto& v : y) {
    r.first.push_back(v.value());
    r.second.push_back(v.tangent(0));
  }
  return r;
}

/// The element type of a container.
template <class C>
using elem_t = ::std::decay_t<decltype(::std::declval<const C&>()[0])>;
/// The entries of a container as a ::std::vector of V.
template <class V, class C>::std::vector<V> to_vector(const C& x) {
  ::std::vector<V> r(static_cast<::std::size_t>(x.size()));
  for (::std::size_t i = 0; i < r.size(); ++i)
    r[i] = static_cast<V>(x[i]);
  return r;
}
/// d_y padded (or cut) to n entries: Clad's adjoint of a returned sequence.
template <class V>
::std::vector<V> adjoint_of(const ::std::vector<V>& d_y, ::std::size_t n) {
  ::std::vector<V> r(n, V(0));
  for (::std::size_t i = 0; i < n && i < d_y.size(); ++i)
    r[i] = d_y[i];
  return r;
}
} // namespace diffana::clad_bridge
