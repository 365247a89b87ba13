// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A per-event HEP weight, written once as a template over the scalar type, so that
/// every differentiation engine (plain double, a dual number, Clad, a reverse mode)
/// can be timed on the very same function. Used by benchmarks/bench_dual.cpp.
///
/// The event is a dijet system (two massless jets). With parameters p:
///
///   p[0] jet energy scale (JES)          p[4] second-jet pT cut
///   p[1] leading-jet pT cut              p[5] |delta eta| cut (keep below)
///   p[2] dijet-mass cut                  p[6] normalisation
///   p[3] eta-dependent scale coefficient p[7] exponential reweighting slope
///
/// hep_weight3 uses p[0..2]: soft cuts on the JES-scaled leading-jet pT and on the
/// dijet mass of the scaled jets. hep_weight8 adds the eta-dependent scale
/// (1 + p[3] eta^2) on both jets, a soft cut on the second jet's pT, a soft
/// |delta eta| cut, the normalisation and exp(-p[7] pT1 / 100).
/// hep_weight_binned(ev, p, nbins) is hep_weight8 with nbins more parameters
/// p[8 + k]: a JES correction (1 + p[8 + k]) per eta bin k of each jet (P = 8 + nbins).
///
/// Written for source-transformation tools too: plain functions, no using-
/// declarations, no `if constexpr`, math called unqualified (`exp(z)` finds ::exp for
/// double and the dual type's overload by argument-dependent lookup), and event data
/// in plain doubles that are never differentiated.
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace hep_weight {

/// One event: two massless jets. Inputs, never differentiated.
struct Event {
  double pt1, eta1, phi1;
  double pt2, eta2, phi2;
};

/// Slopes of the soft cuts (fixed, not parameters): 1/GeV for pT and mass, 1 for eta.
constexpr double kPtSlope = 0.2;
constexpr double kMassSlope = 0.05;
constexpr double kEtaSlope = 2.0;

/// The logistic function 1 / (1 + exp(-z)), as a user writes it.
template <class S> inline S sigmoid(const S& z) {
  return 1.0 / (1.0 + exp(-z));
}

/// Dijet mass of two massless jets from their (scaled) pT and the fixed angles:
/// m^2 = 2 pT1 pT2 (cosh(delta eta) - cos(delta phi)).
template <class S>
inline S dijet_mass(const S& pt1, const S& pt2, double deta, double dphi) {
  const double angular = 2.0 * (std::cosh(deta) - std::cos(dphi));
  return sqrt(pt1 * pt2 * angular);
}

/// The 3-parameter weight: soft cuts on the scaled leading-jet pT and the dijet mass.
template <class S> inline S hep_weight3(const Event& ev, const S* p) {
  const S pt1 = p[0] * ev.pt1;
  const S pt2 = p[0] * ev.pt2;
  const S m = dijet_mass(pt1, pt2, ev.eta1 - ev.eta2, ev.phi1 - ev.phi2);
  return sigmoid(kPtSlope * (pt1 - p[1])) * sigmoid(kMassSlope * (m - p[2]));
}

/// The 8-parameter weight on jets scaled by jes1, jes2 (shared with hep_weight_binned).
template <class S>
inline S hep_weight8_scaled(const Event& ev, const S* p, const S& jes1, const S& jes2) {
  const S pt1 = jes1 * (1.0 + p[3] * (ev.eta1 * ev.eta1)) * ev.pt1;
  const S pt2 = jes2 * (1.0 + p[3] * (ev.eta2 * ev.eta2)) * ev.pt2;
  const double deta = ev.eta1 - ev.eta2;
  const S m = dijet_mass(pt1, pt2, deta, ev.phi1 - ev.phi2);
  const S cuts = sigmoid(kPtSlope * (pt1 - p[1])) * sigmoid(kMassSlope * (m - p[2])) *
                 sigmoid(kPtSlope * (pt2 - p[4])) *
                 sigmoid(kEtaSlope * (p[5] - std::fabs(deta)));
  return p[6] * cuts * exp(-0.01 * (p[7] * pt1));
}

/// The 8-parameter weight (see the file comment).
template <class S> inline S hep_weight8(const Event& ev, const S* p) {
  return hep_weight8_scaled(ev, p, p[0], p[0]);
}

/// Eta bin of a jet for hep_weight_binned: nbins equal bins on [-2.8, 2.8), clamped.
inline int eta_bin(double eta, int nbins) {
  const int k = static_cast<int>((eta + 2.8) / 5.6 * nbins);
  return k < 0 ? 0 : (k >= nbins ? nbins - 1 : k);
}

/// hep_weight8 with a JES correction (1 + p[8 + k]) per eta bin k (8 + nbins params).
template <class S> inline S hep_weight_binned(const Event& ev, const S* p, int nbins) {
  const S jes1 = p[0] * (1.0 + p[8 + eta_bin(ev.eta1, nbins)]);
  const S jes2 = p[0] * (1.0 + p[8 + eta_bin(ev.eta2, nbins)]);
  return hep_weight8_scaled(ev, p, jes1, jes2);
}

/// The weight for P parameters: hep_weight3 (P = 3), hep_weight8 (P = 8), or
/// hep_weight_binned with P - 8 bins (P > 8).
template <int P, class S> inline S weight(const Event& ev, const S* p) {
  if (P == 3) return hep_weight3(ev, p);
  if (P == 8) return hep_weight8(ev, p);
  return hep_weight_binned(ev, p, P - 8);
}

/// Nominal parameter values (P of them; 0 for the per-bin corrections).
inline std::vector<double> nominal_parameters(int P) {
  std::vector<double> p = {1.02, 30.0, 120.0, 0.01, 25.0, 3.0, 1.3, 0.5};
  p.resize(static_cast<std::size_t>(P < 8 ? 8 : P), 0.0);
  if (P > 8)
    for (int k = 8; k < P; ++k)
      p[static_cast<std::size_t>(k)] = 0.001 * (k - 8);
  return p;
}

/// n events with a fixed seed: jet pT falling from 20 GeV, |eta| < 2.5, the second jet
/// softer than the first.
inline std::vector<Event> make_events(std::size_t n, unsigned seed = 12345u) {
  std::mt19937_64 gen(seed);
  std::exponential_distribution<double> falling(1.0 / 40.0);
  std::uniform_real_distribution<double> eta(-2.5, 2.5);
  std::uniform_real_distribution<double> phi(-3.141592653589793, 3.141592653589793);
  std::vector<Event> events(n);
  for (Event& ev : events) {
    const double a = 20.0 + falling(gen);
    const double b = 20.0 + falling(gen);
    ev = {a > b ? a : b, eta(gen), phi(gen), a > b ? b : a, eta(gen), phi(gen)};
  }
  return events;
}

} // namespace hep_weight
