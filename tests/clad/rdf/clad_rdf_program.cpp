// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A compiled RDataFrame program (typed Defines, no jitted code) whose per-event
/// derivatives come from Clad, through diffana/clad/custom_derivatives.hpp:
///  1. the per-event weight gradient: clad::gradient of a plain C++ weight that calls
///     diffana's soft_cut, soft_window and invariant_mass; one event loop sums the
///     weight and its gradient w.r.t. (jes, pt_cut, lo, hi) (`sum = ...`,
///     `d/d<name> = ...`);
///  2. a two-pass adjoint: pass 1 fills a soft-binned histogram of the dijet mass with
///     that weight (diffana::fill_bins_1d), the loss L = sum_b (h_b - t_b)^2 gives
///     g_b = dL/dh_b, and pass 2 pulls every event's contributions back onto its mass
///     and weight (fill_event_1d_pullback) and then through the event's computation
///     onto the parameters -- the per-event reverse pass. Its engine is chosen when
///     the program is built: -DDIFFANA_ADJOINT_ENGINE_CLAD=1 takes it from
///     clad::gradient (of a_m m(theta) + a_w w(theta), the event's vector-Jacobian
///     product), the default from diffana's own reverse mode (diffana::Rev on the
///     thread's tape, as DiffFrame's adjoint). Prints `engine = clad|diffana`,
///     `loss = ...` and `dL/d<name> = ...`.
/// tests/clad/rdf/compare_diffframe.py compares both with diffana.rdf.DiffFrame.
/// Built by tests/clad/rdf/run_rdf.sh (clang++-16, the Clad plugin, the PyPI ROOT).
///
/// Usage: clad_rdf_program [N = 5000]
#include "diffana/ad/reverse.hpp"
#include "diffana/clad/custom_derivatives.hpp"
#include "diffana/clad/fill.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifndef DIFFANA_ADJOINT_ENGINE_CLAD
#define DIFFANA_ADJOINT_ENGINE_CLAD 0
#endif

/// The dijet mass of the scaled (massless) jets. T = double, or diffana::Rev for
/// diffana's own reverse pass.
template <class T>
T event_mass(T jes, double pt1, double eta1, double phi1, double pt2, double eta2,
             double phi2) {
  return diffana::invariant_mass(jes * pt1, eta1, phi1, 0.0, jes * pt2, eta2, phi2,
                                 0.0);
}

/// The per-event weight: a soft cut on the scaled leading-jet pT times a soft window on
/// the dijet mass.
template <class T>
T event_weight_t(T jes, T pt_cut, T lo, T hi, double pt1, double eta1, double phi1,
                 double pt2, double eta2, double phi2) {
  const T mjj = event_mass(jes, pt1, eta1, phi1, pt2, eta2, phi2);
  return diffana::soft_cut(jes * pt1, pt_cut, 0.2) *
         diffana::soft_window(mjj, lo, hi, 0.1);
}

/// The weight as Clad differentiates it (only the first four arguments).
double event_weight(double jes, double pt_cut, double lo, double hi, double pt1,
                    double eta1, double phi1, double pt2, double eta2, double phi2) {
  return event_weight_t(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2, phi2);
}

/// One event's vector-Jacobian product for the adjoint: a_m m + a_w w, with the
/// adjoints a_m, a_w of its histogram position and weight held constant.
double event_vjp(double jes, double pt_cut, double lo, double hi, double pt1,
                 double eta1, double phi1, double pt2, double eta2, double phi2,
                 double a_m, double a_w) {
  return a_m * event_mass(jes, pt1, eta1, phi1, pt2, eta2, phi2) +
         a_w * event_weight_t(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2, phi2);
}

// The histogram of the adjoint: 12 bins of 30 GeV from 40 GeV, 12 GeV soft binning,
// and the loss' target.
constexpr int kBins = 12;
const std::array<double, kBins + 1> kEdges = {40.0,  70.0,  100.0, 130.0, 160.0,
                                              190.0, 220.0, 250.0, 280.0, 310.0,
                                              340.0, 370.0, 400.0};
constexpr double kBandwidth = 12.0;
double target(int b, unsigned long long n) {
  return 1e-3 * double(n) * (6.0 - 0.4 * b);
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

  // 2. The two-pass adjoint (single-threaded: the program enables no implicit MT).
  const auto axis =
      diffana::make_bin_axis(kEdges.data(), kBins, kBandwidth, diffana::Overflow::drop);
  const std::vector<std::string> cols = {"pt1", "eta1", "phi1", "pt2", "eta2", "phi2"};
  std::vector<double> h(kBins, 0.0);
  df.Foreach(
      [&](double pt1, double eta1, double phi1, double pt2, double eta2, double phi2) {
        diffana::fill_bins_1d(
            axis, event_mass(jes, pt1, eta1, phi1, pt2, eta2, phi2),
            event_weight(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2, phi2),
            h.data());
      },
      cols);
  double loss = 0.0;
  std::vector<double> g(kBins);
  for (int b = 0; b < kBins; ++b) {
    const double e = h[static_cast<std::size_t>(b)] - target(b, n);
    loss += e * e;
    g[static_cast<std::size_t>(b)] = 2.0 * e;
  }
  double d_loss[4] = {0.0, 0.0, 0.0, 0.0};
#if DIFFANA_ADJOINT_ENGINE_CLAD
  auto vjp = clad::gradient(event_vjp, "jes, pt_cut, lo, hi");
#endif
  df.Foreach(
      [&](double pt1, double eta1, double phi1, double pt2, double eta2, double phi2) {
        const double m = event_mass(jes, pt1, eta1, phi1, pt2, eta2, phi2);
        const double w =
            event_weight(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2, phi2);
        double a_m = 0.0, a_w = 0.0;
        if (!diffana::fill_event_1d_pullback(
                axis, m, w, g.data(), static_cast<const double*>(nullptr), &a_m, &a_w))
          return;
#if DIFFANA_ADJOINT_ENGINE_CLAD
        vjp.execute(jes, pt_cut, lo, hi, pt1, eta1, phi1, pt2, eta2, phi2, a_m, a_w,
                    &d_loss[0], &d_loss[1], &d_loss[2], &d_loss[3]);
#else
        diffana::Tape& tape = diffana::active_tape();
        tape.clear();
        const auto p_jes = diffana::make_param(tape, 0, jes);
        const auto p_cut = diffana::make_param(tape, 1, pt_cut);
        const auto p_lo = diffana::make_param(tape, 2, lo);
        const auto p_hi = diffana::make_param(tape, 3, hi);
        tape.seed(event_mass(p_jes, pt1, eta1, phi1, pt2, eta2, phi2), a_m);
        tape.seed(
            event_weight_t(p_jes, p_cut, p_lo, p_hi, pt1, eta1, phi1, pt2, eta2, phi2),
            a_w);
        tape.sweep(d_loss, 4);
#endif
      },
      cols);
  std::printf("engine = %s\n", DIFFANA_ADJOINT_ENGINE_CLAD ? "clad" : "diffana");
  std::printf("loss = %.17g\n", loss);
  for (int i = 0; i < 4; ++i)
    std::printf("dL/d%s = %.17g\n", names[i], d_loss[i]);
  return 0;
}
