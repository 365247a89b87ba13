// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// RDataFrame actions that fill diffana gradient histograms (needs ROOT; not part of
/// the umbrella header diffana/diffana.hpp).
///
/// `GradHistAction<Hist>` (aliases `GradHist1DAction<T, N>`, `GradHist2DAction<T, N>`)
/// is a booked action (ROOT::Detail::RDF::RActionImpl): it keeps one histogram per
/// processing slot, so filling needs no lock under `ROOT::EnableImplicitMT`, and
/// merges them (in slot order) into the result in Finalize. Its columns are the
/// histogram's fill arguments (x[, y][, w]); each may be a plain arithmetic type,
/// `Dual<T, N>` or `SparseDual<T, N, Mask>` (the Jacobian flows through whichever
/// carries tangents, as in GradHist1D::fill). It supports RDataFrame's systematic
/// variations (MakeNew).
///
/// From C++ (typed, nothing jitted):
///   auto h = diffana::rdf::book_grad_hist<2, diffana::Dual<double, 2>, double>(
///       df, "m3", "w", edges, 10.0);
///   h->values(); h->jacobian(b, k);
/// From Python (column types deduced by RDataFrame):
///   helper = ROOT.diffana.rdf.GradHistAction["diffana::GradHist1D<double, 2>"](
///       ROOT.diffana.GradHist1D["double", 2](edges, 10.0), node.GetNSlots())
///   (cppyy does not resolve the alias templates GradHist1DAction/GradHist2DAction)
///   h = node.Book(ROOT.std.move(helper), ["m3", "w"])
///
/// Parameters for the event loop live in diffana::rdf::Params<N> (params.hpp).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/sparse.hpp"
#include "diffana/hist/histogram.hpp"
#include "diffana/rdf/params.hpp"

#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RResultPtr.hxx>
#include <TROOT.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

class TTreeReader;

namespace diffana {
namespace rdf {

/// Number of slots an RDataFrame created now would use: the implicit-MT pool size
/// when ROOT::EnableImplicitMT is on, else 1. Prefer the node's own GetNSlots().
inline unsigned int default_slots() {
  return ROOT::IsImplicitMTEnabled() ? ROOT::GetThreadPoolSize() : 1u;
}

/// Booked action filling a gradient histogram (GradHist1D<T, N> or GradHist2D<T, N>)
/// from its columns: per event `hist.fill(cols...)` into the slot's own histogram,
/// i.e. (x), (x, w) for 1D and (x, y), (x, y, w) for 2D, each column a plain number
/// or a Dual<T, N>. Finalize adds the slot histograms in slot order into the result,
/// which equals a single-threaded fill up to floating-point summation order.
/// MakeNew lets RDataFrame's systematic variations (Vary + VariationsFor) fill one
/// histogram per variation in the same event loop.
template <class Hist>
class GradHistAction : public ROOT::Detail::RDF::RActionImpl<GradHistAction<Hist>> {
public:
  using Result_t = Hist;

  /// `prototype` gives the binning (its contents are ignored); `n_slots` is the
  /// number of slots of the graph the action is booked on (node.GetNSlots(); 0 =
  /// default_slots()).
  explicit GradHistAction(Hist prototype, unsigned int n_slots = 0)
      : GradHistAction(std::make_shared<Hist>(std::move(prototype)),
                       n_slots == 0 ? default_slots() : n_slots) {}
  GradHistAction(GradHistAction&&) = default;
  GradHistAction(const GradHistAction&) = delete;
  GradHistAction& operator=(const GradHistAction&) = delete;
  GradHistAction& operator=(GradHistAction&&) = default;

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  void Initialize() {}
  /// Throws std::out_of_range when the graph has more slots than the action was
  /// built for (construct it with the node's GetNSlots()).
  void InitTask(TTreeReader*, unsigned int slot) {
    if (slot >= slots_.size())
      throw std::out_of_range("diffana::rdf::GradHistAction: processing slot " +
                              std::to_string(slot) + " but built for " +
                              std::to_string(slots_.size()) +
                              " slots; pass the node's GetNSlots() as n_slots");
  }

  /// One event: the histogram's fill arguments, each a number, a Dual<T, N> or a
  /// SparseDual<T, N, Mask> (expanded to the Dual here: once per event, where the
  /// columns that led to it carried only the tangents they can have).
  template <class... Cols> void Exec(unsigned int slot, const Cols&... cols) {
    slots_[slot].fill(to_dense(cols)...);
  }

  void Finalize() {
    result_->reset();
    for (const auto& h : slots_)
      result_->merge(h);
  }

  /// The action for one systematic variation, filling `*new_result` (a
  /// std::shared_ptr<Hist>* that RDataFrame allocated as a copy of our result).
  GradHistAction MakeNew(void* new_result, std::string_view /*variation*/ = "nominal") {
    auto& result = *static_cast<std::shared_ptr<Result_t>*>(new_result);
    return GradHistAction(result, static_cast<unsigned int>(slots_.size()));
  }

  std::string GetActionName() const { return "diffana::GradHist"; }

private:
  GradHistAction(std::shared_ptr<Result_t> result, unsigned int n_slots)
      : result_(std::move(result)) {
    slots_.reserve(n_slots);
    for (unsigned int s = 0; s < n_slots; ++s) {
      slots_.push_back(*result_); // same binning
      slots_.back().reset();      // zero contents
    }
  }

  std::shared_ptr<Result_t> result_;
  std::vector<Result_t> slots_;
};

/// The booked action for a GradHist1D<T, N> (columns x or x, w).
template <class T, int N> using GradHist1DAction = GradHistAction<GradHist1D<T, N>>;
/// The booked action for a GradHist2D<T, N> (columns x, y or x, y, w).
template <class T, int N> using GradHist2DAction = GradHistAction<GradHist2D<T, N>>;

/// Books a GradHist1DAction<double, N> on df, filled from column x (type XCol) with
/// weights from column w (type WCol); XCol and WCol are each double (or another
/// arithmetic type, exactly the column's type) or Dual<double, N>. The histogram is
/// filled when the event loop runs (lazily, like every RDataFrame action).
/// Throws std::invalid_argument for a bad binning (see GradHist1D).
template <int N, class XCol, class WCol>
ROOT::RDF::RResultPtr<GradHist1D<double, N>>
book_grad_hist(ROOT::RDF::RNode df, const std::string& x, const std::string& w,
               std::vector<double> edges, double bandwidth = 0,
               Overflow overflow = Overflow::drop) {
  static_assert(detail::hist_input_ok_v<XCol, double, N>,
                "book_grad_hist: XCol must be an arithmetic type or Dual<double, N>");
  static_assert(detail::hist_input_ok_v<WCol, double, N>,
                "book_grad_hist: WCol must be an arithmetic type or Dual<double, N>");
  GradHist1DAction<double, N> helper(
      GradHist1D<double, N>(std::move(edges), bandwidth, overflow), df.GetNSlots());
  return df.Book<XCol, WCol>(std::move(helper), {x, w});
}

/// Books a GradHist2DAction<double, N> on df, filled from columns x and y with
/// weights from column w (each an arithmetic type or Dual<double, N>); bandwidths
/// 0 = hard binning along that axis. Throws std::invalid_argument for a bad binning.
template <int N, class XCol, class YCol, class WCol>
ROOT::RDF::RResultPtr<GradHist2D<double, N>>
book_grad_hist_2d(ROOT::RDF::RNode df, const std::string& x, const std::string& y,
                  const std::string& w, std::vector<double> xedges,
                  std::vector<double> yedges, double xbandwidth = 0,
                  double ybandwidth = 0, Overflow overflow = Overflow::drop) {
  static_assert(detail::hist_input_ok_v<XCol, double, N> &&
                    detail::hist_input_ok_v<YCol, double, N> &&
                    detail::hist_input_ok_v<WCol, double, N>,
                "book_grad_hist_2d: columns must be arithmetic or Dual<double, N>");
  GradHist2DAction<double, N> helper(
      GradHist2D<double, N>(std::move(xedges), std::move(yedges), xbandwidth,
                            ybandwidth, overflow),
      df.GetNSlots());
  return df.Book<XCol, YCol, WCol>(std::move(helper), {x, y, w});
}

} // namespace rdf
} // namespace diffana
