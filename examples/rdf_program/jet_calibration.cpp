// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A compiled RDataFrame program (no cling-generated code: every Define, Filter and
/// action is typed) linked against the PyPI ROOT wheel: the physics of
/// macros/rdf01_jet_calibration.C plus a gradient histogram.
///
/// A jet-energy scale `jes` multiplies every jet's pT (the jet masses are kept).
/// Seeded as a Dual<double, 1> (diffana::rdf::Params<1>), the dijet mass of the two
/// leading jets carries d/d(jes) event by event, and one event loop gives
///   - the mean dijet mass and d(mean)/d(jes) (a Sum of the Dual column), and
///   - a GradHist1D of the dijet mass (diffana::rdf::book_grad_hist), 30 bins on
///     [0, 1500] GeV with 20 GeV Gaussian soft binning, each event weighted by a soft
///     cut on its subleading jet, soft_cut(jes * pT_2, 40 GeV, 0.2 / GeV) (the RVec
///     overload of diffana/rdf/vecops.hpp), so the Jacobian flows through both the
///     position and the weight.
/// Two more loops with plain doubles at jes = 1 +- h give central finite differences
/// of both.
///
/// Usage: jet_calibration [--events N] [--threads T] [FILE]
///   FILE       a NanoAOD file with an `Events` tree (Jet_pt, Jet_eta, Jet_phi,
///              Jet_mass), e.g. ../shared/data/coffea_nano_tt_v12.root;
///   no FILE    N toy events (default 2000) generated with RDataFrame(N), event e from
///              TRandom3(e + 1): the same events as the macro's fallback;
///   --threads  ROOT::EnableImplicitMT(T) (default: single-threaded).
///
/// Prints `key = value` lines (the macro's first five, then the histogram):
///   input: ...
///   events with two jets = ...
///   mean dijet mass      = ... GeV at jes = 1
///   d(mean)/d(jes)       = ... GeV
///   finite differences   = ... GeV (h = ...)
///   histogram: ...
///   bin  B [lo, hi): value = ... d/d(jes) = ... finite differences = ...
/// Exit status 0, or 2 for bad arguments, 1 for any other error (message on stderr).
///
/// \author diffana developers, 2026

#include "diffana/diffana.hpp"
#include "diffana/rdf/actions.hpp"
#include "diffana/rdf/params.hpp"
#include "diffana/rdf/vecops.hpp"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>
#include <TMath.h>
#include <TROOT.h>
#include <TRandom3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

using D = diffana::Dual<double, 1>;

// Dijet mass of the two leading jets (NanoAOD sorts jets by pT; a common scale keeps
// the order) with every pT multiplied by jes. T = double or a Dual.
template <class T>
T dijet_mass(const T& jes, const ROOT::RVecF& pt, const ROOT::RVecF& eta,
             const ROOT::RVecF& phi, const ROOT::RVecF& m) {
  return diffana::invariant_mass(jes * double(pt[0]), eta[0], phi[0], m[0],
                                 jes * double(pt[1]), eta[1], phi[1], m[1]);
}

// Event weight: a soft cut at 40 GeV (slope 0.2 / GeV) on the scaled subleading jet,
// from the element-wise soft_cut of every jet.
template <class T> T subleading_weight(const T& jes, const ROOT::RVecF& pt) {
  const ROOT::RVec<double> ptd(pt.begin(), pt.end());
  const auto w_jet = diffana::soft_cut(ptd * jes, 40.0, 0.2);
  return w_jet[1];
}

// The toy events of the macro: 2-6 jets, event e from TRandom3(e + 1), pT sorted.
ROOT::RVec<ROOT::RVecF> toy_event(ULong64_t e) {
  TRandom3 r(static_cast<UInt_t>(e + 1));
  const int n = 2 + static_cast<int>(r.Integer(5));
  ROOT::RVecF pt(n), eta(n), phi(n), m(n);
  for (int i = 0; i < n; ++i) {
    pt[i] = static_cast<float>(30 + r.Exp(40));
    eta[i] = static_cast<float>(r.Uniform(-2.4, 2.4));
    phi[i] = static_cast<float>(r.Uniform(-TMath::Pi(), TMath::Pi()));
    m[i] = static_cast<float>(5 + r.Exp(5));
  }
  return {ROOT::VecOps::Sort(pt, [](float a, float b) { return a > b; }), eta, phi, m};
}

ROOT::RDF::RNode make_input(const std::string& path, unsigned long long n_toy) {
  if (!path.empty()) {
    std::printf("input: %s\n", path.c_str());
    return ROOT::RDataFrame("Events", path);
  }
  std::printf("input: generated %llu toy events (TRandom3)\n", n_toy);
  ROOT::RDF::RNode df = ROOT::RDataFrame(n_toy).Define("toy", toy_event, {"rdfentry_"});
  const char* names[4] = {"Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"};
  for (std::size_t k = 0; k < 4; ++k) {
    df = df.Define(names[k], [k](const ROOT::RVec<ROOT::RVecF>& t) { return t[k]; },
                   {"toy"});
  }
  return df;
}

int usage(const char* message) {
  std::fprintf(stderr,
               "jet_calibration: %s\nusage: jet_calibration [--events N] "
               "[--threads T] [FILE]\n",
               message);
  return 2;
}

int run(const std::string& path, unsigned long long n_toy, unsigned int threads) {
  if (threads > 0) ROOT::EnableImplicitMT(threads);

  // 1. Events with at least two jets; the selection does not depend on jes.
  auto dijets = make_input(path, n_toy)
                    .Filter([](const ROOT::RVecF& pt) { return pt.size() >= 2; },
                            {"Jet_pt"}, "two jets");

  // 2. jes in C++ memory: Dual columns read p.dual(0), plain ones p.value(0), so
  //    changing p between event loops needs no recompilation.
  diffana::rdf::Params<1> p({"jes"}, {1.0});
  const ROOT::RDF::ColumnNames_t jets = {"Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"};
  auto graph = dijets
                   .Define(
                       "mjj",
                       [&p](const ROOT::RVecF& pt, const ROOT::RVecF& eta,
                            const ROOT::RVecF& phi, const ROOT::RVecF& m) {
                         return dijet_mass(p.dual(0), pt, eta, phi, m);
                       },
                       jets)
                   .Define(
                       "mjj_plain",
                       [&p](const ROOT::RVecF& pt, const ROOT::RVecF& eta,
                            const ROOT::RVecF& phi, const ROOT::RVecF& m) {
                         return dijet_mass(p.value(0), pt, eta, phi, m);
                       },
                       jets)
                   .Define("w",
                           [&p](const ROOT::RVecF& pt) {
                             return subleading_weight(p.dual(0), pt);
                           },
                           {"Jet_pt"})
                   .Define("w_plain",
                           [&p](const ROOT::RVecF& pt) {
                             return subleading_weight(p.value(0), pt);
                           },
                           {"Jet_pt"});

  // 3. One loop (everything booked before the first result is read): the mean and its
  //    derivative, and the gradient histogram.
  std::vector<double> edges(31);
  for (std::size_t i = 0; i < edges.size(); ++i)
    edges[i] = 50.0 * double(i);
  const double bandwidth = 20.0;
  auto sum = graph.Sum<D>("mjj", D(0.0));
  auto count = graph.Count();
  auto hist =
      diffana::rdf::book_grad_hist<1, D, D>(graph, "mjj", "w", edges, bandwidth);
  const double n = static_cast<double>(*count);
  const D mean = *sum / n;

  // 4. Central finite differences: two plain loops at jes = 1 +- h.
  const double h = 1e-4;
  double mean_at[2];
  std::vector<double> values_at[2];
  for (int s = 0; s < 2; ++s) {
    p.set(0, s == 0 ? 1.0 + h : 1.0 - h);
    auto plain_sum = graph.Sum<double>("mjj_plain");
    auto plain_hist = diffana::rdf::book_grad_hist<1, double, double>(
        graph, "mjj_plain", "w_plain", edges, bandwidth);
    mean_at[s] = *plain_sum / n;
    values_at[s] = plain_hist->values();
  }
  p.set(0, 1.0);

  std::printf("events with two jets = %lld\n", static_cast<long long>(*count));
  std::printf("mean dijet mass      = %.10f GeV at jes = 1\n", mean.value());
  std::printf("d(mean)/d(jes)       = %.10f GeV\n", mean.tangent(0));
  std::printf("finite differences   = %.10f GeV (h = %g)\n",
              (mean_at[0] - mean_at[1]) / (2 * h), h);
  std::printf("histogram: mjj, %lld bins on [%g, %g] GeV, bandwidth = %g GeV, "
              "slots = %u\n",
              static_cast<long long>(hist->nbins()), edges.front(), edges.back(),
              bandwidth, graph.GetNSlots());
  for (std::int64_t b = 0; b < hist->nbins(); ++b) {
    const std::size_t i = static_cast<std::size_t>(b);
    std::printf("bin %2lld [%4.0f, %4.0f): value = %.10f d/d(jes) = %.10f "
                "finite differences = %.10f\n",
                static_cast<long long>(b), edges[i], edges[i + 1], hist->values()[i],
                hist->jacobian(b, 0), (values_at[0][i] - values_at[1][i]) / (2 * h));
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string path;
  unsigned long long n_toy = 2000;
  unsigned int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--events" || arg == "--threads") {
      if (i + 1 >= argc) return usage((arg + " needs a number").c_str());
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || v == 0)
        return usage((arg + " needs a positive integer").c_str());
      if (arg == "--events")
        n_toy = v;
      else
        threads = static_cast<unsigned int>(v);
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: jet_calibration [--events N] [--threads T] [FILE]\n");
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage(("unknown option " + arg).c_str());
    } else if (path.empty()) {
      path = arg;
    } else {
      return usage("more than one FILE");
    }
  }
  try {
    return run(path, n_toy, threads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jet_calibration: error: %s\n", e.what());
    return 1;
  }
}
