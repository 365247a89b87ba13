// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Element-wise soft selections on ROOT::VecOps::RVec (jagged NanoAOD columns), so
/// that RDataFrame expressions such as `diffana::soft_cut(Jet_pt * jes, pt_cut, 0.2)`
/// work on a whole jet collection: the result is an RVec of the promoted element
/// type (a Dual when x's elements, the cut or the slope are Duals). The scalar
/// overloads in soft/cuts.hpp drop out of overload resolution for RVec arguments
/// (their result type, promote_t, is made well-formed for RVecs below) and the
/// more specialised RVec overloads are chosen. Arithmetic between RVec and Dual
/// (`Jet_pt * jes`, `RVec<Dual> * RVec<Dual>`) and ROOT::VecOps::Sum already work
/// through RVec's own templated operators. Needs ROOT (not in diffana/diffana.hpp).
#pragma once

#include "diffana/physics/agc.hpp"
#include "diffana/soft/cuts.hpp"

#include <ROOT/RVec.hxx>

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace diffana {

namespace detail {
/// promote_t with an RVec first argument: an RVec of the promoted element type. This
/// keeps the scalar soft_cut & co. (whose result type is promote_t of the arguments)
/// well-formed during overload resolution, so that the more specialised RVec
/// overloads below are chosen instead of a hard error in std::common_type.
template <class X, class Y, class... Rest>
struct promote<ROOT::VecOps::RVec<X>, Y, Rest...> {
  using type = ROOT::VecOps::RVec<typename promote<X, Y, Rest...>::type>;
};
} // namespace detail

#define DIFFANA_RVEC_SOFT3(NAME)                                                       \
  template <class X, class C, class S>                                                 \
  auto NAME(const ROOT::VecOps::RVec<X>& x, const C& cut, const S& slope)              \
      -> ROOT::VecOps::RVec<decltype(NAME(x[0], cut, slope))> {                        \
    ROOT::VecOps::RVec<decltype(NAME(x[0], cut, slope))> r(x.size());                  \
    for (std::size_t i = 0; i < x.size(); ++i)                                         \
      r[i] = NAME(x[i], cut, slope);                                                   \
    return r;                                                                          \
  }

/// soft_cut / soft_cut_below / straight_through_cut(_below) of every element of x.
DIFFANA_RVEC_SOFT3(soft_cut)
DIFFANA_RVEC_SOFT3(soft_cut_below)
DIFFANA_RVEC_SOFT3(straight_through_cut)
DIFFANA_RVEC_SOFT3(straight_through_cut_below)
namespace agc {
/// agc::soft_step / soft_step_below(x_i, cut, width) of every element of x.
DIFFANA_RVEC_SOFT3(soft_step)
DIFFANA_RVEC_SOFT3(soft_step_below)
} // namespace agc
#undef DIFFANA_RVEC_SOFT3

/// soft_window(x_i, lo, hi, slope) for every element of x.
template <class X, class L, class H, class S>
auto soft_window(const ROOT::VecOps::RVec<X>& x, const L& lo, const H& hi,
                 const S& slope)
    -> ROOT::VecOps::RVec<decltype(soft_window(x[0], lo, hi, slope))> {
  ROOT::VecOps::RVec<decltype(soft_window(x[0], lo, hi, slope))> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    r[i] = soft_window(x[i], lo, hi, slope);
  return r;
}

namespace agc {

/// The JER smearing factors agc::jer_factor(event, j, sigma, seed) of the n jets of an
/// event (e.g. `Jet_pt * diffana::agc::jer_factors(event, nJet)`).
inline ROOT::VecOps::RVec<double> jer_factors(std::uint64_t event, std::size_t n,
                                              double sigma = 0.05,
                                              std::uint64_t seed = 0) {
  ROOT::VecOps::RVec<double> r(n);
  for (std::size_t j = 0; j < n; ++j)
    r[j] = jer_factor(event, j, sigma, seed);
  return r;
}

/// agc::soft_first_selected of two RVecs of equal size: the k leading selected values.
template <class S, class X>
auto soft_first_selected(const ROOT::VecOps::RVec<S>& s, const ROOT::VecOps::RVec<X>& x,
                         int k) -> ROOT::VecOps::RVec<promote_floating_t<S, X>> {
  if (s.size() != x.size())
    throw std::invalid_argument("diffana::agc::soft_first_selected: s and x differ in "
                                "size");
  ROOT::VecOps::RVec<promote_floating_t<S, X>> r(k > 0 ? static_cast<std::size_t>(k)
                                                       : 0);
  soft_first_selected(s.data(), x.data(), s.size(), k, r.data());
  return r;
}

} // namespace agc

} // namespace diffana
