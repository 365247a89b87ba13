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

#include "diffana/soft/cuts.hpp"

#include <ROOT/RVec.hxx>

#include <cstddef>

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

} // namespace diffana
