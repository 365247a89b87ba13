// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// \ingroup diffana_macros
/// A trijet-mass histogram with its Jacobian with respect to the jet-energy scale and
/// the b-tag threshold, filled by a booked diffana::rdf::GradHist1DAction.
///
/// The analysis follows the ttbar example of the Analysis Grand Challenge: in events
/// with at least four jets (pT > 25 GeV and |eta| < 2.4, before the scale is applied),
/// take the trijet with the largest vector-sum pT among the triplets holding at least
/// one b-tagged jet (b tag: Jet_btagDeepFlavB > btag_cut). Both choices are made
/// differentiable:
///  - the b tag of jet j is soft, s_j = soft_cut(score_j, btag_cut, 20) (a transition
///    about 0.05 wide in score); a triplet holds a b tag with probability
///    P_t = 1 - prod_{j in t} (1 - s_j), and the event weight is the probability that
///    any selected jet is b tagged, w = 1 - prod_j (1 - s_j);
///  - the trijet is soft-picked: m3 = soft_pick(pT_t + T log P_t, m_t, T) =
///    sum_t P_t exp(pT_t / T) m_t / sum_t P_t exp(pT_t / T), temperature T = 10 GeV
///    (as T and the cut width go to 0 this is the hard choice).
/// The jet-energy scale jes multiplies every jet's pT (masses kept). Parameters:
/// jes = 1 (direction 0) and btag_cut = 0.5 (direction 1) in a Params<2>. The
/// histogram has 25 bins of 20 GeV on [50, 550] GeV with Gaussian soft binning of
/// bandwidth 10 GeV (hard bins would not see mass shifts). The events are the 200
/// Run-3 ttbar NanoAOD events of coffea_nano_tt_v12.root ($DIFFANA_DATA or
/// ../../shared/data relative to this macro).
///
/// Prints: the input, the selected event count, one line per bin
/// `bin b [lo, hi): value d/djes d/dcut`, and for each parameter, in the bin where
/// its derivative is largest in magnitude, the derivative next to a central finite
/// difference from plain event loops (`check bin b: d/djes = ... (finite differences
/// ...)`).
///
/// Run (after make demo, from the repository root):
///   ROOT_INCLUDE_PATH=$(.venv/bin/diffana config --incdir) \
///     .venv/bin/root -l -b -q macros/rdf03_trijet_mass.C
///
/// \author diffana developers, 2026

#include "diffana/diffana.hpp"
#include "diffana/rdf/actions.hpp"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>
#include <TSystem.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace rdf03 {

// The file from $DIFFANA_DATA, else ../../shared/data next to this macro; "" if absent.
inline std::string find_data(const std::string& name) {
  std::string dirs[2] = {std::getenv("DIFFANA_DATA") ? std::getenv("DIFFANA_DATA") : "",
                         std::string(gSystem->GetDirName(__FILE__).Data()) +
                             "/../../shared/data"};
  for (const auto& dir : dirs) {
    const std::string path = dir + "/" + name;
    if (!dir.empty() && !gSystem->AccessPathName(path.c_str())) return path;
  }
  return "";
}

constexpr double btag_slope = 20.0;  // 1 / (unit of b-tag score)
constexpr double temperature = 10.0; // GeV

// (soft trijet mass, event weight) for selected jets; T = double or a Dual. The
// products prod (1 - s_j) are summed as logs of soft_cut_below (no cancellation) and
// 1 - exp(L) is formed as -expm1(L).
template <class T>
std::pair<T, T> trijet(const T& jes, const T& cut, const ROOT::RVecF& pt,
                       const ROOT::RVecF& eta, const ROOT::RVecF& phi,
                       const ROOT::RVecF& m, const ROOT::RVecF& score) {
  using std::expm1;
  using std::log;
  const std::size_t n = pt.size();
  std::vector<T> log_untagged(n), pts(n);
  T log_none(0.0);
  for (std::size_t j = 0; j < n; ++j) {
    log_untagged[j] = log(diffana::soft_cut_below(double(score[j]), cut, btag_slope));
    log_none += log_untagged[j];
    pts[j] = jes * double(pt[j]);
  }
  std::vector<T> scores, masses;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      for (std::size_t k = j + 1; k < n; ++k) {
        const T p_b = -expm1(log_untagged[i] + log_untagged[j] + log_untagged[k]);
        scores.push_back(
            diffana::pt_of_sum(pts[i], phi[i], pts[j], phi[j], pts[k], phi[k]) +
            temperature * log(p_b));
        masses.push_back(diffana::invariant_mass(pts[i], eta[i], phi[i], m[i], pts[j],
                                                 eta[j], phi[j], m[j], pts[k], eta[k],
                                                 phi[k], m[k]));
      }
  return {diffana::soft_pick(scores, masses, temperature), -expm1(log_none)};
}

} // namespace rdf03

void rdf03_trijet_mass() {
  using D = diffana::Dual<double, 2>;
  using ROOT::RVecF;
  const std::string path = rdf03::find_data("coffea_nano_tt_v12.root");
  if (path.empty()) {
    std::printf("input: coffea_nano_tt_v12.root was not found; nothing to do\n");
    return;
  }
  std::printf("input: %s\n", path.c_str());

  // 1. Jet preselection (independent of the parameters) and at least four jets.
  ROOT::RDataFrame df("Events", path);
  auto jets =
      df.Define("sel",
                [](const RVecF& pt, const RVecF& eta) {
                  return pt > 25.f && abs(eta) < 2.4f;
                },
                {"Jet_pt", "Jet_eta"})
          .Define("pt", "Jet_pt[sel]")
          .Define("eta", "Jet_eta[sel]")
          .Define("phi", "Jet_phi[sel]")
          .Define("m", "Jet_mass[sel]")
          .Define("score", "Jet_btagDeepFlavB[sel]")
          .Filter([](const RVecF& pt) { return pt.size() >= 4; }, {"pt"}, ">= 4 jets");

  // 2. The soft trijet mass and event weight, as Duals (d/djes, d/dcut) and plain.
  diffana::rdf::Params<2> p({"jes", "btag_cut"}, {1.0, 0.5});
  const ROOT::RDF::ColumnNames_t cols = {"pt", "eta", "phi", "m", "score"};
  auto graph =
      jets.Define(
              "trijet",
              [&p](const RVecF& pt, const RVecF& eta, const RVecF& phi, const RVecF& m,
                   const RVecF& score) {
                return rdf03::trijet(p.dual(0), p.dual(1), pt, eta, phi, m, score);
              },
              cols)
          .Define("m3", [](const std::pair<D, D>& t) { return t.first; }, {"trijet"})
          .Define("w3", [](const std::pair<D, D>& t) { return t.second; }, {"trijet"})
          .Define(
              "trijet_plain",
              [&p](const RVecF& pt, const RVecF& eta, const RVecF& phi, const RVecF& m,
                   const RVecF& score) {
                return rdf03::trijet(p.value(0), p.value(1), pt, eta, phi, m, score);
              },
              cols)
          .Define("m3_plain",
                  [](const std::pair<double, double>& t) { return t.first; },
                  {"trijet_plain"})
          .Define("w3_plain",
                  [](const std::pair<double, double>& t) { return t.second; },
                  {"trijet_plain"});

  // 3. The gradient histogram: one booked action, one event loop.
  const std::vector<double> edges =
      diffana::GradHist1D<double, 0>::uniform(25, 50.0, 550.0).edges();
  const double bandwidth = 10.0;
  auto count = graph.Count();
  auto hist =
      diffana::rdf::book_grad_hist<2, D, D>(graph, "m3", "w3", edges, bandwidth);
  std::printf("events with >= 4 jets = %lld\n", static_cast<long long>(*count));
  std::printf("bin  [lo, hi) GeV        value        d/djes       d/dcut\n");
  std::int64_t check[2] = {0, 0}; // per parameter, the bin with the largest |d/dk|
  for (std::int64_t b = 0; b < hist->nbins(); ++b) {
    std::printf("bin %2lld [%3.0f, %3.0f): %12.6f %12.6f %12.6f\n",
                static_cast<long long>(b), edges[std::size_t(b)],
                edges[std::size_t(b) + 1], hist->values()[std::size_t(b)],
                hist->jacobian(b, 0), hist->jacobian(b, 1));
    for (int k = 0; k < 2; ++k)
      if (std::abs(hist->jacobian(b, k)) > std::abs(hist->jacobian(check[k], k)))
        check[k] = b;
  }

  // 4. Finite-difference checks: for each parameter, the bin it moves most, from plain
  //    event loops (N = 0 histograms of the plain columns) at the parameter +- h.
  const double h = 1e-6;
  for (int k = 0; k < 2; ++k) {
    const double v = p.value(k);
    double at[2];
    for (int side = 0; side < 2; ++side) {
      p.set(k, v + (side == 0 ? h : -h));
      auto plain = diffana::rdf::book_grad_hist<0, double, double>(
          graph, "m3_plain", "w3_plain", edges, bandwidth);
      at[side] = plain->values()[std::size_t(check[k])];
    }
    p.set(k, v);
    std::printf("check bin %lld: d/d%-8s = %.10f (finite differences %.10f)\n",
                static_cast<long long>(check[k]), p.name(k).c_str(),
                hist->jacobian(check[k], k), (at[0] - at[1]) / (2 * h));
  }
}
