// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Support for the Python front end `diffana.rdf.DiffFrame`: typed booking of
/// GradHist1DAction / GradHist2DAction and of their systematic variations (so that
/// booking a new action for each event loop instantiates one template per column-type
/// combination, once, and jits nothing afterwards) and a plain-value accessor for
/// column checks; the sparse parameter accessor and the conversion of sparse columns
/// to the dense Dual; value/tangent accessors and Dual builders for snapshots of dual
/// columns. Includes actions.hpp and vecops.hpp.
#pragma once

#include "diffana/ad/sparse.hpp"
#include "diffana/rdf/actions.hpp"
#include "diffana/rdf/params.hpp"
#include "diffana/rdf/vecops.hpp"

#include <ROOT/RDFHelpers.hxx>
#include <ROOT/RVec.hxx>

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana {
namespace rdf {

/// DiffFrame's overflow codes: 0 = drop, 1 = fold.
inline Overflow overflow_from_code(int code) {
  return code == 1 ? Overflow::fold : Overflow::drop;
}

template <class T> struct is_rvec : std::false_type {};
template <class T> struct is_rvec<ROOT::RVec<T>> : std::true_type {};
template <class T> inline constexpr bool is_rvec_v = is_rvec<T>::value;

/// Books GradHist1DAction<double, N> on df filled from column x (type XCol) with
/// weights from column w (type WCol); overflow 0 = drop, 1 = fold.
template <int N, class XCol, class WCol>
ROOT::RDF::RResultPtr<GradHist1D<double, N>>
frame_book_weighted(ROOT::RDF::RNode df, const std::string& x, const std::string& w,
                    std::vector<double> edges, double bandwidth, int overflow) {
  GradHist1DAction<double, N> helper(
      GradHist1D<double, N>(std::move(edges), bandwidth, overflow_from_code(overflow)),
      df.GetNSlots());
  return df.Book<XCol, WCol>(std::move(helper), {x, w});
}

/// As frame_book_weighted, with weight 1.
template <int N, class XCol>
ROOT::RDF::RResultPtr<GradHist1D<double, N>>
frame_book_unweighted(ROOT::RDF::RNode df, const std::string& x,
                      std::vector<double> edges, double bandwidth, int overflow) {
  GradHist1DAction<double, N> helper(
      GradHist1D<double, N>(std::move(edges), bandwidth, overflow_from_code(overflow)),
      df.GetNSlots());
  return df.Book<XCol>(std::move(helper), {x});
}

/// Books GradHist2DAction<double, N> on df filled from columns x, y (types XCol,
/// YCol) with weights from column w (type WCol).
template <int N, class XCol, class YCol, class WCol>
ROOT::RDF::RResultPtr<GradHist2D<double, N>>
frame_book_2d_weighted(ROOT::RDF::RNode df, const std::string& x, const std::string& y,
                       const std::string& w, std::vector<double> xedges,
                       std::vector<double> yedges, double xbandwidth, double ybandwidth,
                       int overflow) {
  GradHist2DAction<double, N> helper(
      GradHist2D<double, N>(std::move(xedges), std::move(yedges), xbandwidth,
                            ybandwidth, overflow_from_code(overflow)),
      df.GetNSlots());
  return df.Book<XCol, YCol, WCol>(std::move(helper), {x, y, w});
}

/// As frame_book_2d_weighted, with weight 1.
template <int N, class XCol, class YCol>
ROOT::RDF::RResultPtr<GradHist2D<double, N>>
frame_book_2d_unweighted(ROOT::RDF::RNode df, const std::string& x,
                         const std::string& y, std::vector<double> xedges,
                         std::vector<double> yedges, double xbandwidth,
                         double ybandwidth, int overflow) {
  GradHist2DAction<double, N> helper(
      GradHist2D<double, N>(std::move(xedges), std::move(yedges), xbandwidth,
                            ybandwidth, overflow_from_code(overflow)),
      df.GetNSlots());
  return df.Book<XCol, YCol>(std::move(helper), {x, y});
}

/// The histograms of every systematic variation that a booked histogram depends on
/// (RDataFrame's Vary), keyed "nominal", "<variation>:<tag>", ...; filled by the
/// same event loop. Must be called before the loop runs.
template <class Hist>
ROOT::RDF::Experimental::RResultMap<Hist>
frame_variations(ROOT::RDF::RResultPtr<Hist> h) {
  return ROOT::RDF::Experimental::VariationsFor(h);
}

/// The keys of a variations map (cppyy does not expose GetKeys' const reference
/// well on every version).
template <class Hist>
std::vector<std::string>
frame_variation_keys(const ROOT::RDF::Experimental::RResultMap<Hist>& m) {
  return m.GetKeys();
}

/// A varied value converted to the nominal column's type T (DiffFrame.vary wraps
/// each variation's expression in it): e.g. RVec<float> * double is an
/// RVec<double>, which RDataFrame's Vary needs back as the column's RVec<float>.
template <class T, class U> T vary_as(const U& u) {
  if constexpr (std::is_same_v<T, U>) {
    return u;
  } else if constexpr (is_rvec_v<T>) {
    return T(u.begin(), u.end());
  } else {
    return T(u);
  }
}

// ---- sparse tangents (DiffFrame's expressions) -------------------------------------

/// Parameter K of a block as a SparseDual that carries K's tangent only: what
/// DiffFrame puts behind a parameter name, so that a column carries the tangents of
/// the parameters it is computed from and no others (see ad/sparse.hpp).
template <int K, int N>
SparseDual<double, N, (TangentMask(1) << K)> sparse_param(const Params<N>& p) {
  static_assert(K >= 0 && K < N && N <= 64, "sparse_param: K in [0, N), N <= 64");
  return SparseDual<double, N, (TangentMask(1) << K)>::variable(p.value(K));
}

/// A column as the dense type: a SparseDual<T, P, M> as the Dual<T, P> with the same
/// tangents, an RVec of them element by element, anything else unchanged (DiffFrame
/// uses it where an expression or a snapshot needs the dense type).
template <class X> X dense_column(const X& x) {
  return x;
}
template <class T, int P, TangentMask M>
Dual<T, P> dense_column(const SparseDual<T, P, M>& x) {
  return to_dense(x);
}
template <class T, int P, TangentMask M>
ROOT::RVec<Dual<T, P>> dense_column(const ROOT::RVec<SparseDual<T, P, M>>& x) {
  ROOT::RVec<Dual<T, P>> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    out[i] = to_dense(x[i]);
  return out;
}

// ---- snapshots of dual columns (DiffFrame.snapshot / DiffFrame.from_snapshot) ----

/// The value of a Dual column (written to disk as the column itself).
template <class T, int N> double snap_value(const Dual<T, N>& x) {
  return double(x.value());
}
/// The k-th tangent of a Dual column (written as the column `<x>__d_<param k>`).
template <class T, int N> double snap_tangent(const Dual<T, N>& x, int k) {
  return double(x.tangent(k));
}
/// Element-wise snap_value of an RVec of Duals.
template <class T, int N>
ROOT::RVec<double> snap_value(const ROOT::RVec<Dual<T, N>>& x) {
  ROOT::RVec<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    out[i] = double(x[i].value());
  return out;
}
/// Element-wise snap_tangent of an RVec of Duals.
template <class T, int N>
ROOT::RVec<double> snap_tangent(const ROOT::RVec<Dual<T, N>>& x, int k) {
  ROOT::RVec<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    out[i] = double(x[i].tangent(k));
  return out;
}

namespace detail {
inline double snap_tangent_at(double t, std::size_t) {
  return t;
}
template <class T> double snap_tangent_at(const ROOT::RVec<T>& t, std::size_t i) {
  return double(t[i]);
}
} // namespace detail

/// A Dual<double, N> from a value and N tangents (columns read from a snapshot, or
/// 0.0 for parameters the file does not know).
template <int N, class... Ts> Dual<double, N> dual_from_columns(double v, Ts... t) {
  static_assert(sizeof...(Ts) == std::size_t(N), "dual_from_columns: N tangents");
  Dual<double, N> d(v);
  int k = 0;
  ((d.tangent(k++) = double(t)), ...);
  return d;
}

/// An RVec<Dual<double, N>> from an RVec of values and N tangents, each an RVec of
/// the same length (a snapshot column) or a number (0.0: an unknown parameter).
template <int N, class V, class... Ts>
ROOT::RVec<Dual<double, N>> dual_vec_from_columns(const ROOT::RVec<V>& v,
                                                  const Ts&... t) {
  static_assert(sizeof...(Ts) == std::size_t(N), "dual_vec_from_columns: N tangents");
  ROOT::RVec<Dual<double, N>> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    Dual<double, N> d(static_cast<double>(v[i]));
    int k = 0;
    ((d.tangent(k++) = detail::snap_tangent_at(t, i)), ...);
    out[i] = d;
  }
  return out;
}

} // namespace rdf
} // namespace diffana
