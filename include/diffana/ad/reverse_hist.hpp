// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Pass 2 of a two-pass (adjoint) event loop for histograms: an event's position and
/// weight as `Rev`s (or plain numbers), the adjoints of the histogram's bins from the
/// statistics, and `seed_fill_1d` / `seed_fill_2d` pull the event's contributions
/// back (fill_event_1d_pullback / fill_event_2d_pullback of soft_binning.hpp) and
/// seed them on the tape. The one transpose of a fill for Revs: the adjoint event
/// loop's seed actions (diffana/rdf/adjoint.hpp) call it too. A sweep then adds the
/// event's share of dL/dtheta to the gradient:
///
///   tape.clear();
///   auto p = diffana::make_param(tape, 0, jes);
///   auto x = p * pt;  auto w = diffana::soft_cut(x, 30.0, 0.2);
///   diffana::seed_fill_1d(axis, x, w, d_values.data());
///   tape.sweep(grad.data(), grad.size());
#pragma once

#include "diffana/ad/reverse.hpp"
#include "diffana/hist/soft_binning.hpp"

namespace diffana {

namespace detail {
/// Seeds x's node with adjoint (nothing for a constant, a plain number or a zero
/// adjoint, so that Tape::seeded() tells whether a sweep would add anything).
template <class X> void rev_seed_if(const X& x, double adjoint) {
  if constexpr (is_rev_v<X>) {
    if (!x.is_constant() && adjoint != 0.0) x.tape()->seed(x, adjoint);
  } else {
    static_assert(std::is_arithmetic_v<X>, "diffana: expected a Rev or a plain number");
    (void)x;
    (void)adjoint;
  }
}
template <class X> bool rev_wants_adjoint(const X& x) {
  if constexpr (is_rev_v<X>) {
    return !x.is_constant();
  } else {
    (void)x;
    return false;
  }
}
} // namespace detail

/// Seeds the adjoints of one event's 1D fill at x with weight w (Revs or plain
/// numbers) given the adjoints of the bin values (d_values, nbins) and, or null, of
/// the sums of squares (d_sumw2). Returns false for a skipped event (as the fill).
template <class X, class W>
bool seed_fill_1d(const BinAxis<double>& axis, const X& x, const W& w,
                  const double* d_values, const double* d_sumw2 = nullptr) {
  double d_x = 0.0;
  double d_w = 0.0;
  const bool want_x = detail::rev_wants_adjoint(x);
  const bool ok = fill_event_1d_pullback(axis, static_cast<double>(value(x)),
                                         static_cast<double>(value(w)), d_values,
                                         d_sumw2, want_x ? &d_x : nullptr, &d_w);
  if (!ok) return false;
  if (want_x) detail::rev_seed_if(x, d_x);
  detail::rev_seed_if(w, d_w);
  return true;
}

/// seed_fill_1d for a 2D fill at (x, y) (bins row-major, ix * ny + iy).
template <class X, class Y, class W>
bool seed_fill_2d(const BinAxis<double>& ax, const BinAxis<double>& ay, const X& x,
                  const Y& y, const W& w, const double* d_values,
                  const double* d_sumw2 = nullptr) {
  double d_x = 0.0;
  double d_y = 0.0;
  double d_w = 0.0;
  const bool want_x = detail::rev_wants_adjoint(x);
  const bool want_y = detail::rev_wants_adjoint(y);
  const bool ok = fill_event_2d_pullback(
      ax, ay, static_cast<double>(value(x)), static_cast<double>(value(y)),
      static_cast<double>(value(w)), d_values, d_sumw2, want_x ? &d_x : nullptr,
      want_y ? &d_y : nullptr, &d_w);
  if (!ok) return false;
  if (want_x) detail::rev_seed_if(x, d_x);
  if (want_y) detail::rev_seed_if(y, d_y);
  detail::rev_seed_if(w, d_w);
  return true;
}

} // namespace diffana
