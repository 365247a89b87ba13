// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// RDataFrame actions that fill diffana gradient histograms (needs ROOT; not part of
/// the umbrella header diffana/diffana.hpp).
///
/// `GradHist1DAction<T, N>` is a booked action (ROOT::Detail::RDF::RActionImpl): it
/// keeps one `GradHist1D<T, N>` per processing slot, so filling needs no lock under
/// `ROOT::EnableImplicitMT`, and merges them (in slot order) into the result in
/// Finalize. Its columns are x and, optionally, a weight; each may be a plain
/// arithmetic type or `Dual<T, N>` (the Jacobian flows through whichever carries
/// tangents, as in GradHist1D::fill).
///
/// From C++ (typed, nothing jitted):
///   auto h = diffana::rdf::book_grad_hist<2, diffana::Dual<double, 2>, double>(
///       df, "m3", "w", edges, 10.0);
///   h->values(); h->jacobian(b, k);
/// From Python (column types deduced by RDataFrame):
///   helper = ROOT.diffana.rdf.GradHist1DAction["double", 2](edges, 10.0,
///       ROOT.diffana.Overflow.drop, node.GetNSlots())
///   h = node.Book(ROOT.std.move(helper), ["m3", "w"])
///
/// Parameters for the event loop live in diffana::rdf::Params<N> (params.hpp).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/hist/histogram.hpp"
#include "diffana/rdf/params.hpp"

#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RResultPtr.hxx>
#include <TROOT.h>

#include <memory>
#include <stdexcept>
#include <string>
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

/// Booked action filling a GradHist1D<T, N> from a column x and an optional weight
/// column: per event `hist.fill(x, w)` (or `hist.fill(x)`, weight 1) into the slot's
/// own histogram; Finalize adds the slot histograms in slot order into the result.
/// The result equals a single-threaded fill up to floating-point summation order.
template <class T, int N>
class GradHist1DAction : public ROOT::Detail::RDF::RActionImpl<GradHist1DAction<T, N>> {
public:
  using Result_t = GradHist1D<T, N>;

  /// Binning as GradHist1D (edges, bandwidth, overflow; it throws
  /// std::invalid_argument on bad ones) and the number of slots of the graph the
  /// action is booked on (node.GetNSlots(); 0 = default_slots()).
  explicit GradHist1DAction(std::vector<T> edges, T bandwidth = T(0),
                            Overflow overflow = Overflow::drop,
                            unsigned int n_slots = 0)
      : result_(std::make_shared<Result_t>(std::move(edges), bandwidth, overflow)) {
    const unsigned int n = n_slots == 0 ? default_slots() : n_slots;
    slots_.reserve(n);
    for (unsigned int s = 0; s < n; ++s) {
      slots_.push_back(*result_); // same binning, zero contents
    }
  }
  GradHist1DAction(GradHist1DAction&&) = default;
  GradHist1DAction(const GradHist1DAction&) = delete;
  GradHist1DAction& operator=(const GradHist1DAction&) = delete;
  GradHist1DAction& operator=(GradHist1DAction&&) = default;

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  void Initialize() {}
  /// Throws std::out_of_range when the graph has more slots than the action was
  /// built for (construct it with the node's GetNSlots()).
  void InitTask(TTreeReader*, unsigned int slot) {
    if (slot >= slots_.size())
      throw std::out_of_range("diffana::rdf::GradHist1DAction: processing slot " +
                              std::to_string(slot) + " but built for " +
                              std::to_string(slots_.size()) +
                              " slots; pass the node's GetNSlots() as n_slots");
  }

  /// One event: x and w each a plain number or a Dual<T, N>.
  template <class X, class W> void Exec(unsigned int slot, const X& x, const W& w) {
    slots_[slot].fill(x, w);
  }
  /// One event with weight 1.
  template <class X> void Exec(unsigned int slot, const X& x) { slots_[slot].fill(x); }

  void Finalize() {
    result_->reset();
    for (const auto& h : slots_)
      result_->merge(h);
  }

  std::string GetActionName() const { return "diffana::GradHist1D"; }

private:
  std::shared_ptr<Result_t> result_;
  std::vector<Result_t> slots_;
};

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
  GradHist1DAction<double, N> helper(std::move(edges), bandwidth, overflow,
                                     df.GetNSlots());
  return df.Book<XCol, WCol>(std::move(helper), {x, w});
}

} // namespace rdf
} // namespace diffana
