// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Clad custom derivatives of the soft selections of soft/select.hpp: softmax,
/// soft_argmax, soft_pick, soft_sort and soft_rank of containers (::std::vector,
/// ROOT::VecOps::RVec, ...) that are parameters of the differentiated function (Clad
/// cannot yet differentiate building a container inside it).
///
/// Reverse mode: diffana's pointer + length pullbacks (soft/select.hpp), with the
/// adjoints of the returned sequences (softmax, soft_sort, soft_rank) handed over by
/// Clad as a ::std::vector; `<fn>_reverse_forw` gives Clad the primal sequence and a
/// zero adjoint of its size. Forward mode: one evaluation on Dual<T, 1>. The optional
/// `descending` flag of soft_sort / soft_rank is not differentiated.
///
/// Included by custom_derivatives.hpp (include that one). May include: diffana's
/// headers and diffana/clad/bridge.hpp.
#pragma once

#include "diffana/clad/bridge.hpp"
#include "diffana/soft/select.hpp"

#include <cstddef>
#include <vector>

namespace diffana::clad_bridge {
/// The (plain) result type of a selection of the container C and a scale S.
template <class C, class S>
using select_t = ::diffana::detail::select_result_t<elem_t<C>, S>;
} // namespace diffana::clad_bridge

namespace clad::custom_derivatives {
namespace diffana {

// ---- scalar results: soft_argmax, soft_pick ----------------------------------------

template <class C, class S>
clad::ValueAndPushforward<::diffana::clad_bridge::select_t<C, S>,
                          ::diffana::clad_bridge::select_t<C, S>>
soft_argmax_pushforward(const C& x, const S& temperature, const C& d_x,
                        const S& d_temperature) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  const auto xd = ::diffana::clad_bridge::seeded(x, d_x);
  const auto r = ::diffana::soft_argmax(
      xd, ::diffana::clad_bridge::dual1(V(temperature), V(d_temperature)));
  return {r.value(), r.tangent(0)};
}

template <class C, class S>
void soft_argmax_pullback(const C& x, const S& temperature,
                          ::diffana::clad_bridge::select_t<C, S> d_y, C* d_x,
                          S* d_temperature) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  const auto xv = ::diffana::clad_bridge::to_vector<V>(x);
  ::std::vector<V> a_x(xv.size(), V(0));
  V a_t = V(0);
  ::diffana::soft_argmax_pullback<V>(xv.data(), xv.size(), V(temperature), d_y,
                                     a_x.data(), &a_t);
  ::diffana::clad_bridge::add_into(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_temperature, a_t);
}

template <class C, class D, class S>
clad::ValueAndPushforward<::diffana::clad_bridge::select_t<C, S>,
                          ::diffana::clad_bridge::select_t<C, S>>
soft_pick_pushforward(const C& scores, const D& values, const S& temperature,
                      const C& d_scores, const D& d_values, const S& d_temperature) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  const auto sd = ::diffana::clad_bridge::seeded(scores, d_scores);
  const auto vd = ::diffana::clad_bridge::seeded(values, d_values);
  const auto r = ::diffana::soft_pick(
      sd, vd, ::diffana::clad_bridge::dual1(V(temperature), V(d_temperature)));
  return {r.value(), r.tangent(0)};
}

template <class C, class D, class S>
void soft_pick_pullback(const C& scores, const D& values, const S& temperature,
                        ::diffana::clad_bridge::select_t<C, S> d_y, C* d_scores,
                        D* d_values, S* d_temperature) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  if (values.size() != scores.size()) // the same message as the function's
    (void)::diffana::soft_pick(scores, values, temperature);
  const auto sv = ::diffana::clad_bridge::to_vector<V>(scores);
  const auto vv = ::diffana::clad_bridge::to_vector<V>(values);
  ::std::vector<V> a_s(sv.size(), V(0));
  ::std::vector<V> a_v(vv.size(), V(0));
  V a_t = V(0);
  ::diffana::soft_pick_pullback<V>(sv.data(), vv.data(), sv.size(), V(temperature), d_y,
                                   a_s.data(), a_v.data(), &a_t);
  ::diffana::clad_bridge::add_into(d_scores, a_s);
  ::diffana::clad_bridge::add_into(d_values, a_v);
  ::diffana::clad_bridge::accumulate(d_temperature, a_t);
}

// ---- sequence results: softmax, soft_sort, soft_rank -------------------------------

template <class C, class S>
clad::ValueAndPushforward<::std::vector<::diffana::clad_bridge::select_t<C, S>>,
                          ::std::vector<::diffana::clad_bridge::select_t<C, S>>>
softmax_pushforward(const C& x, const S& temperature, const C& d_x,
                    const S& d_temperature) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  const auto y = ::diffana::softmax(
      ::diffana::clad_bridge::seeded(x, d_x),
      ::diffana::clad_bridge::dual1(V(temperature), V(d_temperature)));
  auto r = ::diffana::clad_bridge::split(y);
  return {::std::move(r.first), ::std::move(r.second)};
}

template <class C, class S>
clad::ValueAndAdjoint<::std::vector<::diffana::clad_bridge::select_t<C, S>>,
                      ::std::vector<::diffana::clad_bridge::select_t<C, S>>>
softmax_reverse_forw(const C& x, const S& temperature, const C& /*d_x*/,
                     const S& /*d_temperature*/) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  auto y = ::diffana::softmax(x, temperature);
  ::std::vector<V> d_y(y.size(), V(0));
  return {::std::move(y), ::std::move(d_y)};
}

template <class C, class S>
void softmax_pullback(const C& x, const S& temperature,
                      ::std::vector<::diffana::clad_bridge::select_t<C, S>> d_y, C* d_x,
                      S* d_temperature) {
  using V = ::diffana::clad_bridge::select_t<C, S>;
  const auto xv = ::diffana::clad_bridge::to_vector<V>(x);
  const auto g = ::diffana::clad_bridge::adjoint_of(d_y, xv.size());
  ::std::vector<V> a_x(xv.size(), V(0));
  V a_t = V(0);
  ::diffana::softmax_pullback<V>(xv.data(), xv.size(), V(temperature), g.data(),
                                 a_x.data(), &a_t);
  ::diffana::clad_bridge::add_into(d_x, a_x);
  ::diffana::clad_bridge::accumulate(d_temperature, a_t);
}

// soft_sort and soft_rank: the same three, with the descending flag passed through.
#define DIFFANA_CLAD_SORT_LIKE(FN)                                                     \
  template <class C, class S>                                                          \
  clad::ValueAndPushforward<::std::vector<::diffana::clad_bridge::select_t<C, S>>,     \
                            ::std::vector<::diffana::clad_bridge::select_t<C, S>>>     \
  FN##_pushforward(const C& x, const S& strength, bool descending, const C& d_x,       \
                   const S& d_strength, bool /*d_descending*/) {                       \
    using V = ::diffana::clad_bridge::select_t<C, S>;                                  \
    const auto y = ::diffana::FN(                                                      \
        ::diffana::clad_bridge::seeded(x, d_x),                                        \
        ::diffana::clad_bridge::dual1(V(strength), V(d_strength)), descending);        \
    auto r = ::diffana::clad_bridge::split(y);                                         \
    return {::std::move(r.first), ::std::move(r.second)};                              \
  }                                                                                    \
  template <class C, class S>                                                          \
  clad::ValueAndAdjoint<::std::vector<::diffana::clad_bridge::select_t<C, S>>,         \
                        ::std::vector<::diffana::clad_bridge::select_t<C, S>>>         \
  FN##_reverse_forw(const C& x, const S& strength, bool descending, const C&,          \
                    const S&, bool) {                                                  \
    using V = ::diffana::clad_bridge::select_t<C, S>;                                  \
    auto y = ::diffana::FN(x, strength, descending);                                   \
    ::std::vector<V> d_y(y.size(), V(0));                                              \
    return {::std::move(y), ::std::move(d_y)};                                         \
  }                                                                                    \
  template <class C, class S>                                                          \
  void FN##_pullback(const C& x, const S& strength, bool descending,                   \
                     ::std::vector<::diffana::clad_bridge::select_t<C, S>> d_y,        \
                     C* d_x, S* d_strength, bool* /*d_descending*/) {                  \
    using V = ::diffana::clad_bridge::select_t<C, S>;                                  \
    const auto xv = ::diffana::clad_bridge::to_vector<V>(x);                           \
    const auto g = ::diffana::clad_bridge::adjoint_of(d_y, xv.size());                 \
    ::std::vector<V> a_x(xv.size(), V(0));                                             \
    V a_s = V(0);                                                                      \
    ::diffana::FN##_pullback<V>(xv.data(), xv.size(), V(strength), descending,         \
                                g.data(), a_x.data(), &a_s);                           \
    ::diffana::clad_bridge::add_into(d_x, a_x);                                        \
    ::diffana::clad_bridge::accumulate(d_strength, a_s);                               \
  }
DIFFANA_CLAD_SORT_LIKE(soft_sort)
DIFFANA_CLAD_SORT_LIKE(soft_rank)
#undef DIFFANA_CLAD_SORT_LIKE

} // namespace diffana
} // namespace clad::custom_derivatives
