// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Histogram fills of one event into plain arrays of bins, written so that Clad can
/// differentiate a loss built from them: `fill_bins_1d(axis, x, w, values)` adds the
/// event's (soft or hard) binned weight c_b to values[b] (and c_b^2 to sumw2[b]), as
/// diffana's histograms fill (hist/soft_binning.hpp: the same bins, truncation,
/// overflow policy and skipped events). Their Clad custom derivatives are in
/// clad/hist.hpp: the pullback is the transpose of the fill, diffana's
/// fill_event_1d_pullback / fill_event_2d_pullback.
///
///   double loss(double jes, const double* pt, int n, const diffana::BinAxis<double>&
///   ax,
///               const double* target) {
///     double bins[8] = {};
///     for (int i = 0; i < n; ++i)
///       diffana::fill_bins_1d(ax, jes * pt[i], 1.0, bins);
///     double l = 0;
///     for (int b = 0; b < 8; ++b) l += (bins[b] - target[b]) * (bins[b] - target[b]);
///     return l;
///   }
///   auto grad = clad::gradient(loss, "jes");
///
/// Plain C++: usable (and giving the same numbers) without Clad. The edges and the
/// bandwidth are not differentiated. May include: diffana's headers.
#pragma once

#include "diffana/hist/soft_binning.hpp"

namespace diffana {

namespace detail {
/// No tangents (a null tangent pointer of the fill).
template <class T> constexpr const T* none() {
  return nullptr;
}
} // namespace detail

/// One event at x with weight w into the nbins values of a 1D histogram (axis: see
/// make_bin_axis). Nothing for a skipped event (NaN x, non-finite w).
template <class T> void fill_bins_1d(const BinAxis<T>& axis, T x, T w, T* values) {
  detail::HistBuffers<T> out;
  out.values = values;
  (void)detail::fill_event_1d(axis, x, detail::none<T>(), w, detail::none<T>(), 0, out,
                              detail::PlainAdd{});
}

/// fill_bins_1d, also adding the squared contributions to sumw2.
template <class T>
void fill_bins_1d(const BinAxis<T>& axis, T x, T w, T* values, T* sumw2) {
  detail::HistBuffers<T> out;
  out.values = values;
  out.sumw2 = sumw2;
  (void)detail::fill_event_1d(axis, x, detail::none<T>(), w, detail::none<T>(), 0, out,
                              detail::PlainAdd{});
}

/// One event at (x, y) into a 2D histogram of ax.nbins x ay.nbins values (row-major,
/// b = ix * ny + iy). Nothing for a skipped event (NaN x or y, non-finite w).
template <class T>
void fill_bins_2d(const BinAxis<T>& ax, const BinAxis<T>& ay, T x, T y, T w,
                  T* values) {
  detail::HistBuffers<T> out;
  out.values = values;
  (void)detail::fill_event_2d(ax, ay, x, detail::none<T>(), y, detail::none<T>(), w,
                              detail::none<T>(), 0, out, detail::PlainAdd{});
}

} // namespace diffana
