// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Clad custom derivatives of the AGC blocks of physics/agc.hpp that take the
/// per-object inputs as pointer + length (or as contiguous containers):
/// prob_count_at_least, prob_count_exactly, count_distribution, soft_first_selected,
/// region_probabilities and soft_trijet_mass. (soft_step and soft_step_below, of
/// scalars, are in custom_derivatives.hpp.)
///
/// Reverse mode: diffana's own `_pullback`s of agc.hpp. Functions that write their
/// result into an output array (count_distribution, soft_first_selected) follow
/// Clad's convention for output parameters: the pullback reads the adjoints of the
/// written entries, pulls them back, and zeroes them (the call overwrote those
/// entries). Forward mode: one evaluation on Dual<T, 1>. Integer arguments (n, k)
/// and the trijet options are not differentiated.
///
/// Included by custom_derivatives.hpp (include that one). May include: diffana's
/// headers and diffana/clad/bridge.hpp.
#pragma once

#include "diffana/clad/bridge.hpp"
#include "diffana/physics/agc.hpp"

#include <array>
#include <cstddef>
#include <iterator>
#include <vector>

namespace clad::custom_derivatives {
namespace diffana::agc {

// ---- soft counts --------------------------------------------------------------------

#define DIFFANA_CLAD_COUNT(FN)                                                         \
  template <class W>                                                                   \
  clad::ValueAndPushforward<W, W> FN##_pushforward(const W* w, ::std::size_t n, int k, \
                                                   const W* d_w, ::std::size_t, int) { \
    const auto wd = ::diffana::clad_bridge::seeded(w, d_w, n);                         \
    const auto r = ::diffana::agc::FN(wd.data(), n, k);                                \
    return {r.value(), r.tangent(0)};                                                  \
  }                                                                                    \
  template <class W>                                                                   \
  void FN##_pullback(const W* w, ::std::size_t n, int k, W d_y, W* d_w,                \
                     ::std::size_t*, int*) {                                           \
    if (d_w != nullptr) ::diffana::agc::FN##_pullback(w, n, k, d_y, d_w);              \
  }                                                                                    \
  template <class C>                                                                   \
  clad::ValueAndPushforward<::diffana::clad_bridge::elem_t<C>,                         \
                            ::diffana::clad_bridge::elem_t<C>>                         \
  FN##_pushforward(const C& w, int k, const C& d_w, int) {                             \
    const auto wd = ::diffana::clad_bridge::seeded(w, d_w);                            \
    const auto r = ::diffana::agc::FN(wd.data(), wd.size(), k);                        \
    return {r.value(), r.tangent(0)};                                                  \
  }                                                                                    \
  template <class C>                                                                   \
  void FN##_pullback(const C& w, int k, ::diffana::clad_bridge::elem_t<C> d_y, C* d_w, \
                     int*) {                                                           \
    using V = ::diffana::clad_bridge::elem_t<C>;                                       \
    ::std::vector<V> a(static_cast<::std::size_t>(::std::size(w)), V(0));              \
    ::diffana::agc::FN##_pullback(::std::data(w), a.size(), k, d_y, a.data());         \
    ::diffana::clad_bridge::add_into(d_w, a);                                          \
  }
DIFFANA_CLAD_COUNT(prob_count_at_least)
DIFFANA_CLAD_COUNT(prob_count_exactly)
#undef DIFFANA_CLAD_COUNT

/// count_distribution writes out[0..k]: the pullback takes their adjoints and zeroes
/// them.
template <class W>
void count_distribution_pushforward(const W* w, ::std::size_t n, int k, W* out,
                                    const W* d_w, ::std::size_t, int, W* d_out) {
  const auto wd = ::diffana::clad_bridge::seeded(w, d_w, n);
  ::std::vector<::diffana::Dual<W, 1>> o(static_cast<::std::size_t>(k < 0 ? 0 : k) + 1);
  ::diffana::agc::count_distribution(wd.data(), n, k, o.data());
  for (::std::size_t j = 0; j < o.size(); ++j) {
    out[j] = o[j].value();
    if (d_out != nullptr) d_out[j] = o[j].tangent(0);
  }
}

template <class W>
void count_distribution_pullback(const W* w, ::std::size_t n, int k, W* /*out*/, W* d_w,
                                 ::std::size_t*, int*, W* d_out) {
  if (d_out == nullptr) return;
  if (d_w != nullptr) ::diffana::agc::count_distribution_pullback(w, n, k, d_out, d_w);
  for (int j = 0; j <= k; ++j)
    d_out[j] = W(0);
}

/// soft_first_selected writes out[0..k-1]: as count_distribution.
template <class T>
void soft_first_selected_pushforward(const T* s, const T* x, ::std::size_t n, int k,
                                     T* out, const T* d_s, const T* d_x, ::std::size_t,
                                     int, T* d_out) {
  const auto sd = ::diffana::clad_bridge::seeded(s, d_s, n);
  const auto xd = ::diffana::clad_bridge::seeded(x, d_x, n);
  ::std::vector<::diffana::Dual<T, 1>> o(static_cast<::std::size_t>(k < 0 ? 0 : k));
  ::diffana::agc::soft_first_selected(sd.data(), xd.data(), n, k, o.data());
  for (::std::size_t j = 0; j < o.size(); ++j) {
    out[j] = o[j].value();
    if (d_out != nullptr) d_out[j] = o[j].tangent(0);
  }
}

template <class T>
void soft_first_selected_pullback(const T* s, const T* x, ::std::size_t n, int k,
                                  T* /*out*/, T* d_s, T* d_x, ::std::size_t*, int*,
                                  T* d_out) {
  if (d_out == nullptr) return;
  ::std::vector<T> a_s(n, T(0)), a_x(n, T(0));
  ::diffana::agc::soft_first_selected_pullback(s, x, n, k, d_out, a_s.data(),
                                               a_x.data());
  ::diffana::clad_bridge::add_into(d_s, a_s.data(), n);
  ::diffana::clad_bridge::add_into(d_x, a_x.data(), n);
  for (int j = 0; j < k; ++j)
    d_out[j] = T(0);
}

// ---- region probabilities -----------------------------------------------------------

template <class T>
clad::ValueAndPushforward<::diffana::agc::RegionProbabilities<T>,
                          ::diffana::agc::RegionProbabilities<T>>
region_probabilities_pushforward(const T* s, const T* b, ::std::size_t n, const T* d_s,
                                 const T* d_b, ::std::size_t) {
  const auto sd = ::diffana::clad_bridge::seeded(s, d_s, n);
  const auto bd = ::diffana::clad_bridge::seeded(b, d_b, n);
  const auto r = ::diffana::agc::region_probabilities(sd.data(), bd.data(), n);
  return {{r.p_4j1b.value(), r.p_4j2b.value()},
          {r.p_4j1b.tangent(0), r.p_4j2b.tangent(0)}};
}

template <class T>
void region_probabilities_pullback(const T* s, const T* b, ::std::size_t n,
                                   ::diffana::agc::RegionProbabilities<T> d_y, T* d_s,
                                   T* d_b, ::std::size_t*) {
  ::std::vector<T> a_s(n, T(0)), a_b(n, T(0));
  ::diffana::agc::region_probabilities_pullback(s, b, n, d_y.p_4j1b, d_y.p_4j2b,
                                                a_s.data(), a_b.data());
  ::diffana::clad_bridge::add_into(d_s, a_s.data(), n);
  ::diffana::clad_bridge::add_into(d_b, a_b.data(), n);
}

template <class C>
clad::ValueAndPushforward<
    ::diffana::agc::RegionProbabilities<::diffana::clad_bridge::elem_t<C>>,
    ::diffana::agc::RegionProbabilities<::diffana::clad_bridge::elem_t<C>>>
region_probabilities_pushforward(const C& s, const C& b, const C& d_s, const C& d_b) {
  const auto sd = ::diffana::clad_bridge::seeded(s, d_s);
  const auto bd = ::diffana::clad_bridge::seeded(b, d_b);
  const auto r = ::diffana::agc::region_probabilities(sd, bd);
  return {{r.p_4j1b.value(), r.p_4j2b.value()},
          {r.p_4j1b.tangent(0), r.p_4j2b.tangent(0)}};
}

template <class C>
void region_probabilities_pullback(
    const C& s, const C& b,
    ::diffana::agc::RegionProbabilities<::diffana::clad_bridge::elem_t<C>> d_y, C* d_s,
    C* d_b) {
  using V = ::diffana::clad_bridge::elem_t<C>;
  if (::std::size(s) != ::std::size(b)) // the same message as the function's
    (void)::diffana::agc::region_probabilities(s, b);
  const ::std::size_t n = static_cast<::std::size_t>(::std::size(s));
  ::std::vector<V> a_s(n, V(0)), a_b(n, V(0));
  ::diffana::agc::region_probabilities_pullback(::std::data(s), ::std::data(b), n,
                                                d_y.p_4j1b, d_y.p_4j2b, a_s.data(),
                                                a_b.data());
  ::diffana::clad_bridge::add_into(d_s, a_s);
  ::diffana::clad_bridge::add_into(d_b, a_b);
}

// ---- soft trijet mass ---------------------------------------------------------------
// Only the mass is differentiated (the other fields of TrijetResult are counts and
// bounds); its tangent comes from diffana's trijet partials.

template <class T>
clad::ValueAndPushforward<::diffana::agc::TrijetResult<T>,
                          ::diffana::agc::TrijetResult<T>>
soft_trijet_mass_pushforward(::std::size_t n, const T* pt, const T* eta, const T* phi,
                             const T* m, const T* s, const T* b,
                             const ::diffana::agc::TrijetOptions& opt, ::std::size_t,
                             const T* d_pt, const T* d_eta, const T* d_phi,
                             const T* d_m, const T* d_s, const T* d_b,
                             const ::diffana::agc::TrijetOptions&) {
  using ::diffana::clad_bridge::seeded;
  const auto r = ::diffana::agc::soft_trijet_mass(
      n, seeded(pt, d_pt, n).data(), seeded(eta, d_eta, n).data(),
      seeded(phi, d_phi, n).data(), seeded(m, d_m, n).data(), seeded(s, d_s, n).data(),
      seeded(b, d_b, n).data(), opt);
  ::diffana::agc::TrijetResult<T> value;
  value.mass = r.mass.value();
  value.valid = r.valid;
  value.jets_used = r.jets_used;
  value.triplets_used = r.triplets_used;
  value.triplets_pruned = r.triplets_pruned;
  value.dropped_fraction_bound = r.dropped_fraction_bound;
  value.mass_error_bound = r.mass_error_bound;
  ::diffana::agc::TrijetResult<T> tangent;
  tangent.mass = r.mass.tangent(0);
  return {value, tangent};
}

template <class T>
void soft_trijet_mass_pullback(::std::size_t n, const T* pt, const T* eta, const T* phi,
                               const T* m, const T* s, const T* b,
                               const ::diffana::agc::TrijetOptions& opt,
                               ::diffana::agc::TrijetResult<T> d_y, ::std::size_t*,
                               T* d_pt, T* d_eta, T* d_phi, T* d_m, T* d_s, T* d_b,
                               ::diffana::agc::TrijetOptions*) {
  ::std::vector<T> a(6 * n, T(0));
  ::diffana::agc::soft_trijet_mass_pullback(
      n, pt, eta, phi, m, s, b, opt, d_y.mass, a.data(), a.data() + n, a.data() + 2 * n,
      a.data() + 3 * n, a.data() + 4 * n, a.data() + 5 * n);
  T* d[6] = {d_pt, d_eta, d_phi, d_m, d_s, d_b};
  for (::std::size_t q = 0; q < 6; ++q)
    ::diffana::clad_bridge::add_into(d[q], a.data() + q * n, n);
}

} // namespace diffana::agc
} // namespace clad::custom_derivatives
