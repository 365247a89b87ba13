// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The second pass of the adjoint (reverse-mode) gradient through an RDataFrame event
/// loop, for many parameters (network weights, polynomial coefficients): the cost is
/// one extra pass whatever their number P, the memory O(P) plus one event's tape.
///
/// Pass 1 (GradHistAction, actions.hpp) fills the histograms. The statistics then give,
/// for every bin b of every histogram, g_b = dL/d values_b and g'_b = dL/d sumw2_b.
/// Pass 2 streams the events again through the same graph, now with the reverse
/// parameters as taped scalars (`Rev<double>`) and the forward ones as plain constants:
///   - `AdjointSeedAction` (one per histogram and variation) computes, for the event's
///     contributions c_b (weight x bin kernel, hard or soft, 1D or 2D), the adjoints of
///     S = sum_b (g_b c_b + g'_b c_b^2) with respect to the event's x, y and weight
///     and adds them to the tape as seeds (no sweep): that is the fill's transpose,
///     `seed_fill_1d` / `seed_fill_2d` of diffana/ad/reverse_hist.hpp;
///   - `AdjointSweepAction`, booked last on the unfiltered root node (RDataFrame runs
///     the booked actions of an entry in booking order, after every filter and define
///     they need), sweeps the tape once into its slot's gradient and clears it, for
///     every entry: an event rejected by a filter after nodes were recorded is cleared
///     as well and contributes nothing (it has no seed; `Tape::seeded()`).
/// Tapes are thread_local (a processing slot runs on one thread at a time and an
/// entry never leaves its thread); gradients are kept per slot and summed in slot
/// order in Finalize.
///
/// The taped scalar is `diffana::Rev<double>` on the thread's `diffana::Tape`
/// (diffana/ad/reverse.hpp): a scalar reverse parameter is a new leaf (`make_param`)
/// at each use, a vector one (`RevParamSpan`) n leaves recorded at once per
/// evaluation of the expression that reads it, a forward parameter a plain constant.
///
/// Needs ROOT (not in the umbrella header diffana/diffana.hpp).
#pragma once

#include "diffana/ad/reverse.hpp"
#include "diffana/ad/reverse_hist.hpp"
#include "diffana/hist/histogram.hpp"
#include "diffana/rdf/actions.hpp"
#include "diffana/rdf/frame.hpp"

#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RResultPtr.hxx>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace diffana {
namespace rdf {

// ---- reverse parameters -----------------------------------------------------------

/// A view of n consecutive reverse parameters starting at `offset` (a vector
/// parameter `theta`, used as `theta[k]` in expressions): pass 1 reads plain values
/// (Taped = false); in pass 2 `RevParams::params` records the n parameter leaves on
/// the thread's tape at once when it makes the view (`first`: element 0's leaf), so
/// that reading `theta[k]` records nothing (every read of one view shares the leaf;
/// adjoints add up as for separate leaves). A view made without them (first < 0, or
/// k beyond n) reads a new leaf per element (make_param).
template <bool Taped> struct RevParamSpan {
  const double* values = nullptr;
  std::int64_t offset = 0;
  std::int64_t n = 0;
  Tape* tape = nullptr;    ///< the tape holding the leaves (pass 2)
  std::int32_t first = -1; ///< the leaf of element 0, or -1
  std::size_t size() const { return static_cast<std::size_t>(n); }
  DIFFANA_INLINE auto operator[](std::size_t k) const {
    const double v = values[offset + static_cast<std::int64_t>(k)];
    if constexpr (Taped) {
      if (first >= 0 && k < size())
        return Rev<double>::on_node(v, tape, first + static_cast<std::int32_t>(k));
      return make_param(tape != nullptr ? *tape : active_tape(),
                        static_cast<int>(offset) + static_cast<int>(k), v);
    } else {
      return v;
    }
  }
};

/// The values of a family's reverse-mode parameters (all of them, flattened; a
/// vector parameter is a range of them). Set between event loops only.
class RevParams {
public:
  explicit RevParams(std::vector<double> values) : values_(std::move(values)) {}
  std::int64_t size() const { return static_cast<std::int64_t>(values_.size()); }
  double value(std::int64_t i) const { return values_[static_cast<std::size_t>(i)]; }
  Rev<double> param(std::int64_t i) const {
    return make_param(active_tape(), static_cast<int>(i), value(i));
  }
  RevParamSpan<false> values(std::int64_t offset, std::int64_t n) const {
    return {values_.data(), offset, n};
  }
  RevParamSpan<true> params(std::int64_t offset, std::int64_t n) const {
    Tape& tape = active_tape();
    return {values_.data(), offset, n, &tape,
            tape.push_params(static_cast<int>(offset), static_cast<std::int32_t>(n))};
  }
  /// Sets all values (same count). Throws std::invalid_argument naming `values`.
  void set_values(const std::vector<double>& values) {
    if (values.size() != values_.size())
      throw std::invalid_argument("diffana::rdf::RevParams::set_values: values must "
                                  "have " +
                                  std::to_string(values_.size()) + " entries, got " +
                                  std::to_string(values.size()));
    values_ = values;
  }

private:
  std::vector<double> values_;
};

// ---- pass 2 ------------------------------------------------------------------------

/// The binning of a histogram and the cotangents (g, g') of each of its variations
/// ("nominal", "<variation>:<tag>"), each nbins long (row-major for 2D). A variation
/// without cotangents contributes nothing.
class AdjointSpec {
public:
  AdjointSpec(std::vector<double> xedges, double xbandwidth, std::vector<double> yedges,
              double ybandwidth, int overflow)
      : xedges_(std::move(xedges)), yedges_(std::move(yedges)), xbw_(xbandwidth),
        ybw_(ybandwidth), overflow_(overflow_from_code(overflow)) {}
  /// Cotangents of one variation. Throws std::invalid_argument for a wrong length.
  void add(const std::string& key, std::vector<double> g, std::vector<double> gv) {
    const std::size_t nb = nbins();
    if (g.size() != nb || gv.size() != nb)
      throw std::invalid_argument(
          "diffana::rdf::AdjointSpec::add: '" + key + "' needs " + std::to_string(nb) +
          " cotangents per array, got " + std::to_string(g.size()) + " and " +
          std::to_string(gv.size()));
    cot_[key] = {std::move(g), std::move(gv)};
  }
  std::size_t nbins() const {
    const std::size_t nx = xedges_.size() - 1;
    return yedges_.empty() ? nx : nx * (yedges_.size() - 1);
  }
  BinAxis<double> xaxis() const {
    return make_bin_axis(xedges_.data(), std::int64_t(xedges_.size()) - 1, xbw_,
                         overflow_);
  }
  BinAxis<double> yaxis() const {
    return make_bin_axis(yedges_.data(), std::int64_t(yedges_.size()) - 1, ybw_,
                         overflow_);
  }
  /// The cotangents (g, g') of a variation, null when it has none.
  const std::pair<std::vector<double>, std::vector<double>>*
  cotangents(std::string_view key) const {
    auto it = cot_.find(std::string(key));
    return it == cot_.end() ? nullptr : &it->second;
  }

private:
  std::vector<double> xedges_;
  std::vector<double> yedges_;
  double xbw_;
  double ybw_;
  Overflow overflow_;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> cot_;
};

/// What the seed actions of one histogram (and variation) did: events seeded and
/// events skipped (as the fill skips them).
struct AdjointSeedCount {
  std::int64_t seeded = 0;
  std::int64_t skipped = 0;
};

/// Booked action of pass 2 for one histogram: per event, the adjoints of S w.r.t. the
/// event's columns (x[, y][, w]; each a number or Rev<double>) added to the
/// tape as seeds (seed_fill_1d / seed_fill_2d). Dim = 1 or 2; Weighted: a weight
/// column follows.
template <int Dim, bool Weighted>
class AdjointSeedAction
    : public ROOT::Detail::RDF::RActionImpl<AdjointSeedAction<Dim, Weighted>> {
public:
  using Result_t = AdjointSeedCount;

  AdjointSeedAction(std::shared_ptr<const AdjointSpec> spec, unsigned int n_slots,
                    std::string_view variation = "nominal")
      : spec_(std::move(spec)), result_(std::make_shared<Result_t>()),
        counts_(n_slots == 0 ? default_slots() : n_slots), xaxis_(spec_->xaxis()) {
    if constexpr (Dim == 2) yaxis_ = spec_->yaxis();
    cot_ = spec_->cotangents(variation);
    // All-zero d L / d sumw2 (statistics of the values only) is passed as null: the
    // pullback then skips the term 2 c_b g'_b per bin, which is exactly zero, so the
    // seeds are the same (and finite also where 2 c_b overflows, inf * 0 = NaN).
    if (cot_ != nullptr && std::any_of(cot_->second.begin(), cot_->second.end(),
                                       [](double v) { return v != 0.0; }))
      d_sumw2_ = cot_->second.data();
  }
  AdjointSeedAction(AdjointSeedAction&&) = default;
  AdjointSeedAction(const AdjointSeedAction&) = delete;

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  void Initialize() {}
  void InitTask(TTreeReader*, unsigned int slot) {
    if (slot >= counts_.size())
      throw std::out_of_range("diffana::rdf::AdjointSeedAction: slot " +
                              std::to_string(slot) + " but built for " +
                              std::to_string(counts_.size()));
  }

  template <class... Cols> void Exec(unsigned int slot, const Cols&... cols) {
    if (cot_ == nullptr) return;
    if constexpr (Dim == 1) {
      exec1(slot, cols...);
    } else {
      exec2(slot, cols...);
    }
  }

  void Finalize() {
    *result_ = {};
    for (const auto& c : counts_) {
      result_->seeded += c.seeded;
      result_->skipped += c.skipped;
    }
  }

  AdjointSeedAction MakeNew(void* new_result, std::string_view variation = "nominal") {
    AdjointSeedAction a(spec_, static_cast<unsigned int>(counts_.size()), variation);
    a.result_ = *static_cast<std::shared_ptr<Result_t>*>(new_result);
    return a;
  }

  std::string GetActionName() const { return "diffana::AdjointSeed"; }

private:
  template <class X, class W = double>
  void exec1(unsigned int slot, const X& x, const W& w = 1.0) {
    if (seed_fill_1d(xaxis_, x, w, cot_->first.data(), d_sumw2_)) {
      ++counts_[slot].seeded;
    } else {
      ++counts_[slot].skipped;
    }
  }
  template <class X, class Y, class W = double>
  void exec2(unsigned int slot, const X& x, const Y& y, const W& w = 1.0) {
    if (seed_fill_2d(xaxis_, yaxis_, x, y, w, cot_->first.data(), d_sumw2_)) {
      ++counts_[slot].seeded;
    } else {
      ++counts_[slot].skipped;
    }
  }

  std::shared_ptr<const AdjointSpec> spec_;
  std::shared_ptr<Result_t> result_;
  std::vector<AdjointSeedCount> counts_;
  BinAxis<double> xaxis_;
  BinAxis<double> yaxis_;
  const std::pair<std::vector<double>, std::vector<double>>* cot_ = nullptr;
  const double* d_sumw2_ = nullptr; ///< cot_->second, or null when it is all zero
};

/// The result of pass 2: d L / d (reverse parameter k) for the part of L the seeded
/// histograms carry, and what the tapes did.
struct AdjointGradient {
  std::vector<double> grad;
  std::int64_t n_events = 0;      ///< entries swept (every entry of the loop)
  std::int64_t n_seeded = 0;      ///< entries with at least one seed
  std::size_t max_tape_nodes = 0; ///< the largest tape of one entry
  std::size_t leftover_nodes = 0; ///< nodes left on a tape at the end of a task (0)
};

/// Booked last on the root node: per entry, sweeps this thread's tape into the slot's
/// gradient (when it was seeded) and clears it. The tape is looked up once per task
/// (a slot's task runs on one thread), not per entry.
class AdjointSweepAction : public ROOT::Detail::RDF::RActionImpl<AdjointSweepAction> {
public:
  using Result_t = AdjointGradient;

  AdjointSweepAction(std::int64_t n_params, unsigned int n_slots)
      : n_params_(n_params), result_(std::make_shared<Result_t>()),
        slots_(n_slots == 0 ? default_slots() : n_slots), tapes_(slots_.size()) {
    for (auto& s : slots_)
      s.grad.assign(static_cast<std::size_t>(n_params_), 0.0);
  }
  AdjointSweepAction(AdjointSweepAction&&) = default;
  AdjointSweepAction(const AdjointSweepAction&) = delete;

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  void Initialize() {}
  void InitTask(TTreeReader*, unsigned int slot) {
    if (slot >= slots_.size())
      throw std::out_of_range("diffana::rdf::AdjointSweepAction: slot " +
                              std::to_string(slot) + " but built for " +
                              std::to_string(slots_.size()));
    tapes_[slot] = &active_tape();
    tapes_[slot]->clear(); // nothing of an earlier loop on this thread
  }
  void Exec(unsigned int slot) {
    Tape& tape = *tapes_[slot];
    Result_t& s = slots_[slot];
    s.max_tape_nodes = std::max(s.max_tape_nodes, tape.size());
    ++s.n_events;
    if (tape.seeded()) {
      ++s.n_seeded;
      tape.sweep(s.grad.data(), static_cast<std::size_t>(n_params_));
    }
    tape.clear();
  }
  void FinalizeTask(unsigned int slot) {
    slots_[slot].leftover_nodes += active_tape().size();
    active_tape().clear();
    tapes_[slot] = nullptr;
  }
  void Finalize() {
    Result_t& r = *result_;
    r = {};
    r.grad.assign(static_cast<std::size_t>(n_params_), 0.0);
    for (const auto& s : slots_) { // fixed slot order
      for (std::size_t k = 0; k < r.grad.size(); ++k)
        r.grad[k] += s.grad[k];
      r.n_events += s.n_events;
      r.n_seeded += s.n_seeded;
      r.max_tape_nodes = std::max(r.max_tape_nodes, s.max_tape_nodes);
      r.leftover_nodes += s.leftover_nodes;
    }
  }
  std::string GetActionName() const { return "diffana::AdjointSweep"; }

private:
  std::int64_t n_params_;
  std::shared_ptr<Result_t> result_;
  std::vector<Result_t> slots_;
  std::vector<Tape*> tapes_; // this task's tape per slot
};

// ---- typed booking (one template instantiation per column-type combination) --------

/// Books the seed action of a 1D histogram filled from x (XCol) with weights w (WCol).
template <class XCol, class WCol>
ROOT::RDF::RResultPtr<AdjointSeedCount>
adjoint_book_weighted(ROOT::RDF::RNode df, const std::string& x, const std::string& w,
                      std::shared_ptr<AdjointSpec> spec) {
  AdjointSeedAction<1, true> a(std::move(spec), df.GetNSlots());
  return df.Book<XCol, WCol>(std::move(a), {x, w});
}
template <class XCol>
ROOT::RDF::RResultPtr<AdjointSeedCount>
adjoint_book_unweighted(ROOT::RDF::RNode df, const std::string& x,
                        std::shared_ptr<AdjointSpec> spec) {
  AdjointSeedAction<1, false> a(std::move(spec), df.GetNSlots());
  return df.Book<XCol>(std::move(a), {x});
}
template <class XCol, class YCol, class WCol>
ROOT::RDF::RResultPtr<AdjointSeedCount>
adjoint_book_2d_weighted(ROOT::RDF::RNode df, const std::string& x,
                         const std::string& y, const std::string& w,
                         std::shared_ptr<AdjointSpec> spec) {
  AdjointSeedAction<2, true> a(std::move(spec), df.GetNSlots());
  return df.Book<XCol, YCol, WCol>(std::move(a), {x, y, w});
}
template <class XCol, class YCol>
ROOT::RDF::RResultPtr<AdjointSeedCount>
adjoint_book_2d_unweighted(ROOT::RDF::RNode df, const std::string& x,
                           const std::string& y, std::shared_ptr<AdjointSpec> spec) {
  AdjointSeedAction<2, false> a(std::move(spec), df.GetNSlots());
  return df.Book<XCol, YCol>(std::move(a), {x, y});
}

/// Books the sweep action on the root node (book it after every seed action and
/// every VariationsFor of them: actions run in booking order).
inline ROOT::RDF::RResultPtr<AdjointGradient>
adjoint_book_sweep(ROOT::RDF::RNode df, std::int64_t n_params) {
  AdjointSweepAction a(n_params, df.GetNSlots());
  return df.Book<>(std::move(a), {});
}

/// An AdjointSpec owned by a shared pointer (cppyy builds it from Python).
inline std::shared_ptr<AdjointSpec> make_adjoint_spec(std::vector<double> xedges,
                                                      double xbandwidth,
                                                      std::vector<double> yedges,
                                                      double ybandwidth, int overflow) {
  return std::make_shared<AdjointSpec>(std::move(xedges), xbandwidth, std::move(yedges),
                                       ybandwidth, overflow);
}

/// The seed counts of every variation (as frame_variations).
inline ROOT::RDF::Experimental::RResultMap<AdjointSeedCount>
adjoint_variations(ROOT::RDF::RResultPtr<AdjointSeedCount> r) {
  return ROOT::RDF::Experimental::VariationsFor(r);
}

} // namespace rdf
} // namespace diffana
