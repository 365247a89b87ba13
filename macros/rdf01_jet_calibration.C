// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// \ingroup diffana_macros
/// The derivative of the mean dijet mass with respect to the jet-energy scale, in one
/// RDataFrame event loop.
///
/// A jet-energy scale `jes` multiplies every jet's transverse momentum (a pT-only
/// scale: the jet masses are kept, so the dijet mass is not simply proportional to
/// it). Seeding jes as a Dual<double, 1> (diffana::rdf::Params<1>) makes the dijet
/// mass of the two leading jets carry d/d(jes) event by event; summing it gives the
/// mean and its derivative together. Two more event loops with plain doubles at
/// jes +- h give a central finite difference to compare with. The events are the
/// 200 Run-3 ttbar NanoAOD events of coffea_nano_tt_v12.root, taken from
/// $DIFFANA_DATA or ../../shared/data relative to this macro (from the repository
/// root: ../shared/data); when the file is absent, toy dijet events generated with
/// TRandom3 stand in (the macro says so).
///
/// Prints: the input, the number of events, `mean dijet mass = ...`,
/// `d(mean)/d(jes) = ...` and `finite differences = ...`.
///
/// Run (after make demo, from the repository root):
///   ROOT_INCLUDE_PATH=$(.venv/bin/diffana config --incdir) \
///     .venv/bin/root -l -b -q macros/rdf01_jet_calibration.C
///
/// \author diffana developers, 2026

#include "diffana/diffana.hpp"
#include "diffana/rdf/actions.hpp"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>
#include <TMath.h>
#include <TRandom3.h>
#include <TSystem.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace rdf01 {

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

// Dijet mass of the two leading jets (NanoAOD sorts jets by pT; a common scale keeps
// the order) with every pT multiplied by jes. T = double or a Dual.
template <class T>
T dijet_mass(const T& jes, const ROOT::RVecF& pt, const ROOT::RVecF& eta,
             const ROOT::RVecF& phi, const ROOT::RVecF& m) {
  return diffana::invariant_mass(jes * double(pt[0]), eta[0], phi[0], m[0],
                                 jes * double(pt[1]), eta[1], phi[1], m[1]);
}

} // namespace rdf01

void rdf01_jet_calibration() {
  using D = diffana::Dual<double, 1>;
  const std::string path = rdf01::find_data("coffea_nano_tt_v12.root");

  // 1. The events: the ttbar file, or (if absent) 2000 toy events with 2-6 jets each.
  //    Toy event e is drawn from TRandom3(e + 1), so every event loop sees the same.
  ROOT::RDF::RNode df = ROOT::RDataFrame(0);
  if (!path.empty()) {
    std::printf("input: %s\n", path.c_str());
    df = ROOT::RDataFrame("Events", path);
  } else {
    std::printf("input: coffea_nano_tt_v12.root not found, using 2000 toy events "
                "(TRandom3)\n");
    df = ROOT::RDataFrame(2000)
             .Define(
                 "toy",
                 [](ULong64_t e) {
                   TRandom3 r(static_cast<UInt_t>(e + 1));
                   const int n = 2 + static_cast<int>(r.Integer(5));
                   ROOT::RVecF pt(n), eta(n), phi(n), m(n);
                   for (int i = 0; i < n; ++i) {
                     pt[i] = static_cast<float>(30 + r.Exp(40));
                     eta[i] = static_cast<float>(r.Uniform(-2.4, 2.4));
                     phi[i] = static_cast<float>(r.Uniform(-TMath::Pi(), TMath::Pi()));
                     m[i] = static_cast<float>(5 + r.Exp(5));
                   }
                   return ROOT::RVec<ROOT::RVecF>{
                       Sort(pt, [](float a, float b) { return a > b; }), eta, phi, m};
                 },
                 {"rdfentry_"})
             .Define("Jet_pt", [](const ROOT::RVec<ROOT::RVecF>& t) { return t[0]; },
                     {"toy"})
             .Define("Jet_eta", [](const ROOT::RVec<ROOT::RVecF>& t) { return t[1]; },
                     {"toy"})
             .Define("Jet_phi", [](const ROOT::RVec<ROOT::RVecF>& t) { return t[2]; },
                     {"toy"})
             .Define("Jet_mass", [](const ROOT::RVec<ROOT::RVecF>& t) { return t[3]; },
                     {"toy"});
  }

  // 2. Events with at least two jets; the selection does not depend on jes.
  auto dijets = df.Filter([](const ROOT::RVecF& pt) { return pt.size() >= 2; },
                          {"Jet_pt"}, "two jets");

  // 3. The parameter lives in C++ memory: the Dual column reads p.dual(0), the plain
  //    column p.value(0), so changing p between event loops needs no recompilation.
  diffana::rdf::Params<1> p({"jes"}, {1.0});
  const ROOT::RDF::ColumnNames_t jets = {"Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"};
  auto graph = dijets
                   .Define(
                       "mjj",
                       [&p](const ROOT::RVecF& pt, const ROOT::RVecF& eta,
                            const ROOT::RVecF& phi, const ROOT::RVecF& m) {
                         return rdf01::dijet_mass(p.dual(0), pt, eta, phi, m);
                       },
                       jets)
                   .Define(
                       "mjj_plain",
                       [&p](const ROOT::RVecF& pt, const ROOT::RVecF& eta,
                            const ROOT::RVecF& phi, const ROOT::RVecF& m) {
                         return rdf01::dijet_mass(p.value(0), pt, eta, phi, m);
                       },
                       jets);

  // 4. One loop for the mean and d(mean)/d(jes): the sum of the Dual column carries
  //    sum_i d m_i / d jes; the event count does not depend on jes.
  auto sum = graph.Sum<D>("mjj", D(0.0));
  auto count = graph.Count();
  const double n = static_cast<double>(*count);
  const D mean = *sum / n;

  // 5. Central finite differences: two plain loops at jes = 1 +- h.
  const double h = 1e-4;
  p.set(0, 1.0 + h);
  const double up = *graph.Sum<double>("mjj_plain") / n;
  p.set(0, 1.0 - h);
  const double down = *graph.Sum<double>("mjj_plain") / n;
  p.set(0, 1.0);

  std::printf("events with two jets = %lld\n", static_cast<long long>(*count));
  std::printf("mean dijet mass      = %.10f GeV at jes = 1\n", mean.value());
  std::printf("d(mean)/d(jes)       = %.10f GeV\n", mean.tangent(0));
  std::printf("finite differences   = %.10f GeV (h = %g)\n", (up - down) / (2 * h), h);
}
