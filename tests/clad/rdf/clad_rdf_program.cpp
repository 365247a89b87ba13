// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A compiled RDataFrame program (typed Defines, no jitted code) whose per-event weight
/// gradient comes from Clad: clad::gradient of a plain C++ weight that calls diffana's
/// soft_cut, soft_window and invariant_mass (through
/// diffana/clad/custom_derivatives.hpp). One event loop sums the weight and its
/// gradient w.r.t. (jes, pt_cut, lo, hi) over N deterministic toy events and prints
/// `sum = ...` and `d/d<name> = ...` lines, which tests/clad/rdf/compare_diffframe.py
/// compares with diffana.rdf.DiffFrame. Built by tests/clad/rdf/run_rdf.sh (clang++-16,
/// the Clad plugin, the PyPI ROOT).
///
/// Usage: clad_rdf_program [N = 5000]
#include "diffana/clad/custom_derivatives.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <cstdio>
#include <cstdlib>

/// The per-event weight: a soft cut on the scaled leading-jet pT times a soft window on
/// the dijet mass of the scaled (massless) jets. Only the first four arguments are
/// differentiated.
double event_weight(double jes, double pt_cut, double lo, double hi, double pt1,
                    double eta1, double phi1, double pt2, double eta2, double phi2) {
  const double mjj =
      diffana::invariant_mass(jes * pt1, eta1, phi1, 0.0, jes * pt2, eta2, phi2, 0.0);
  return diffana::soft_cut(jes * pt1, pt_cut, 0.2) *
         diffana::soft_window(mjj, lo, hi, 0.1);
}

int main(int argc, char** argv) {
  const unsigned long long n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 5000;
  const double jes = 1.02, pt_cut = 40.0, lo = 80.0, hi = 160.0;
  auto grad = clad::gradient(event_weight, "jes, pt_cut, lo, hi");
  // The toy events of compare_diffframe.py, written as the same double arithmetic.
  auto df =
      ROOT::RDataFrame(n)
          .Define("pt1", [](ULong64_t e) { return 30.0 + double(e * 37 % 100); },
                  {"rdfentry_"})
          .Define("pt2", [](ULong64_t e) { return 20.0 + double(e * 53 % 60); },
                  {"rdfentry_"})
          .Define("eta1",
                  [](ULong64_t e) { return -2.0 + 0.001 * double(e * 71 % 4000); },
                  {"rdfentry_"})
          .Define("eta2",
                  [](ULong64_t e) { return -2.0 + 0.001 * double(e * 29 % 4000); },
                  {"rdfentry_"})
          .Define("phi1",
                  [](ULong64_t e) { return -3.0 + 0.001 * double(e * 13 % 6000); },
                  {"rdfentry_"})
          .Define("phi2",
                  [](ULong64_t e) { return -3.0 + 0.001 * double(e * 97 % 6000); },
                  {"rdfentry_"})
          .Define("wg",
                  [&grad, jes, pt_cut, lo, hi](double pt1, double eta1, double phi1,
                                               double pt2, double eta2, double phi2) {
                    ROOT::RVecD r(5, 0.0);
                    r[0] = event_weight(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2,
                                        phi2);
                    grad.execute(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2, phi2,
                                 &r[1], &r[2], &r[3], &r[4]);
                    return r;
                  },
                  {"pt1", "eta1", "phi1", "pt2", "eta2", "phi2"});
  const ROOT::RVecD total =
      df.Reduce([](const ROOT::RVecD& a,
                   const ROOT::RVecD& b) { return ROOT::RVecD(a + b); },
                "wg", ROOT::RVecD(5, 0.0))
          .GetValue();
  std::printf("events = %llu\n", n);
  std::printf("sum = %.17g\n", total[0]);
  const char* names[4] = {"jes", "pt_cut", "lo", "hi"};
  for (int i = 0; i < 4; ++i)
    std::printf("d/d%s = %.17g\n", names[i], total[1 + i]);
  return 0;
}
