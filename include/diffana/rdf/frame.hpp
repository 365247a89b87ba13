// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Support for the Python front end `diffana.rdf.DiffFrame`: typed booking of a
/// GradHist1DAction (so that booking a new action for each event loop instantiates
/// one template per column-type combination, once, and jits nothing afterwards) and
/// a plain-value accessor for column checks. Includes actions.hpp and vecops.hpp.
#pragma once

#include "diffana/rdf/actions.hpp"
#include "diffana/rdf/vecops.hpp"

#include <string>
#include <utility>
#include <vector>

namespace diffana {
namespace rdf {

/// Books GradHist1DAction<double, N> on df filled from column x (type XCol) with
/// weights from column w (type WCol); overflow 0 = drop, 1 = fold.
template <int N, class XCol, class WCol>
ROOT::RDF::RResultPtr<GradHist1D<double, N>>
frame_book_weighted(ROOT::RDF::RNode df, const std::string& x, const std::string& w,
                    std::vector<double> edges, double bandwidth, int overflow) {
  GradHist1DAction<double, N> helper(std::move(edges), bandwidth,
                                     overflow == 1 ? Overflow::fold : Overflow::drop,
                                     df.GetNSlots());
  return df.Book<XCol, WCol>(std::move(helper), {x, w});
}

/// As frame_book_weighted, with weight 1.
template <int N, class XCol>
ROOT::RDF::RResultPtr<GradHist1D<double, N>>
frame_book_unweighted(ROOT::RDF::RNode df, const std::string& x,
                      std::vector<double> edges, double bandwidth, int overflow) {
  GradHist1DAction<double, N> helper(std::move(edges), bandwidth,
                                     overflow == 1 ? Overflow::fold : Overflow::drop,
                                     df.GetNSlots());
  return df.Book<XCol>(std::move(helper), {x});
}

} // namespace rdf
} // namespace diffana
