// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Clad custom derivatives of the histogram fills of clad/fill.hpp (fill_bins_1d,
/// fill_bins_2d). A fill adds c_b(x, w) to values[b]: the adjoints of the values pass
/// through unchanged, and the pullback adds sum_b d_values[b] dc_b/dx to d_x (and
/// dc_b/dw to d_w; with sumw2, 2 c_b d_sumw2[b] dc_b too) -- the transpose of the
/// fill's tangent map, which is diffana's fill_event_1d_pullback /
/// fill_event_2d_pullback (hist/soft_binning.hpp). The pushforward is the fill with
/// one tangent (the values' tangents are added to d_values). The axes (edges,
/// bandwidth) are not differentiated.
///
/// Included by custom_derivatives.hpp (include that one). May include: diffana's
/// headers, diffana/clad/bridge.hpp and diffana/clad/fill.hpp.
#pragma once

#include "diffana/clad/bridge.hpp"
#include "diffana/clad/fill.hpp"
#include "diffana/hist/soft_binning.hpp"

namespace clad::custom_derivatives {
namespace diffana {

template <class T>
void fill_bins_1d_pushforward(const ::diffana::BinAxis<T>& axis, T x, T w, T* values,
                              const ::diffana::BinAxis<T>& /*d_axis*/, T d_x, T d_w,
                              T* d_values) {
  ::diffana::detail::HistBuffers<T> out;
  out.values = values;
  out.jac = d_values; // [nbins, P = 1]
  (void)::diffana::detail::fill_event_1d(axis, x, &d_x, w, &d_w, 1, out,
                                         ::diffana::detail::PlainAdd{});
}

template <class T>
void fill_bins_1d_pullback(const ::diffana::BinAxis<T>& axis, T x, T w, T* /*values*/,
                           ::diffana::BinAxis<T>* /*d_axis*/, T* d_x, T* d_w,
                           T* d_values) {
  if (d_values == nullptr) return;
  T a_w = T(0);
  (void)::diffana::fill_event_1d_pullback(axis, x, w, d_values,
                                          static_cast<T*>(nullptr), d_x, &a_w);
  ::diffana::clad_bridge::accumulate(d_w, a_w);
}

template <class T>
void fill_bins_1d_pushforward(const ::diffana::BinAxis<T>& axis, T x, T w, T* values,
                              T* sumw2, const ::diffana::BinAxis<T>& /*d_axis*/, T d_x,
                              T d_w, T* d_values, T* d_sumw2) {
  ::diffana::detail::HistBuffers<T> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = d_values;
  out.sumw2_jac = d_sumw2;
  (void)::diffana::detail::fill_event_1d(axis, x, &d_x, w, &d_w, 1, out,
                                         ::diffana::detail::PlainAdd{});
}

template <class T>
void fill_bins_1d_pullback(const ::diffana::BinAxis<T>& axis, T x, T w, T* /*values*/,
                           T* /*sumw2*/, ::diffana::BinAxis<T>* /*d_axis*/, T* d_x,
                           T* d_w, T* d_values, T* d_sumw2) {
  if (d_values == nullptr) return;
  T a_w = T(0);
  (void)::diffana::fill_event_1d_pullback(axis, x, w, d_values, d_sumw2, d_x, &a_w);
  ::diffana::clad_bridge::accumulate(d_w, a_w);
}

template <class T>
void fill_bins_2d_pushforward(const ::diffana::BinAxis<T>& ax,
                              const ::diffana::BinAxis<T>& ay, T x, T y, T w, T* values,
                              const ::diffana::BinAxis<T>& /*d_ax*/,
                              const ::diffana::BinAxis<T>& /*d_ay*/, T d_x, T d_y,
                              T d_w, T* d_values) {
  ::diffana::detail::HistBuffers<T> out;
  out.values = values;
  out.jac = d_values;
  (void)::diffana::detail::fill_event_2d(ax, ay, x, &d_x, y, &d_y, w, &d_w, 1, out,
                                         ::diffana::detail::PlainAdd{});
}

template <class T>
void fill_bins_2d_pullback(const ::diffana::BinAxis<T>& ax,
                           const ::diffana::BinAxis<T>& ay, T x, T y, T w,
                           T* /*values*/, ::diffana::BinAxis<T>* /*d_ax*/,
                           ::diffana::BinAxis<T>* /*d_ay*/, T* d_x, T* d_y, T* d_w,
                           T* d_values) {
  if (d_values == nullptr) return;
  T a_w = T(0);
  (void)::diffana::fill_event_2d_pullback(ax, ay, x, y, w, d_values,
                                          static_cast<T*>(nullptr), d_x, d_y, &a_w);
  ::diffana::clad_bridge::accumulate(d_w, a_w);
}

} // namespace diffana
} // namespace clad::custom_derivatives
