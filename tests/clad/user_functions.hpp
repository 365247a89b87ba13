// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// User functions that call one public diffana function each, written once as
/// templates over the scalar: instantiated with double they are what Clad
/// differentiates (test_custom_derivatives.cpp), with diffana::Dual they give the
/// reference derivatives. Each wraps the call in a little arithmetic so that the
/// chain rule through the custom derivative is exercised, not only the rule itself.
/// May include: diffana's headers.
#pragma once

#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"
#include "diffana/soft/select.hpp"

#include <cmath>
#include <vector>

namespace user {

template <class T> T f_soft_cut(T x, T cut, T slope) {
  return x * diffana::soft_cut(1.1 * x, cut, slope);
}
template <class T> T f_soft_cut_below(T x, T cut, T slope) {
  return diffana::soft_cut_below(x * x, cut, slope) + cut;
}
template <class T> T f_soft_window(T x, T lo, T hi, T slope) {
  return 2.0 * diffana::soft_window(x, lo, hi, slope);
}
template <class T> T f_straight_through_cut(T x, T cut, T slope) {
  return diffana::straight_through_cut(x, cut, slope) * slope;
}
template <class T> T f_straight_through_cut_below(T x, T cut, T slope) {
  return diffana::straight_through_cut_below(x, 2.0 * cut, slope);
}
template <class T> T f_soft_step(T x, T cut, T width) {
  return diffana::agc::soft_step(x, cut, width);
}
template <class T> T f_soft_step_below(T x, T cut, T width) {
  return diffana::agc::soft_step_below(x, cut, width) * x;
}
template <class T> T f_to_px(T pt, T phi) {
  return diffana::to_px(pt, phi) * pt;
}
template <class T> T f_to_py(T pt, T phi) {
  return diffana::to_py(pt, phi);
}
template <class T> T f_to_pz(T pt, T eta) {
  return diffana::to_pz(pt, eta);
}
template <class T> T f_to_energy(T pt, T eta, T m) {
  return diffana::to_energy(pt, eta, m);
}
template <class T> T f_delta_phi(T phi1, T phi2) {
  return diffana::delta_phi(phi1, phi2) * phi1;
}
template <class T> T f_delta_r(T eta1, T phi1, T eta2, T phi2) {
  return diffana::delta_r(eta1, phi1, eta2, phi2);
}
/// Dijet mass with a jet-energy scale on both pTs (the eta/phi/mass are fixed).
template <class T> T f_invariant_mass(T jes, T pt1, T pt2, T m1) {
  return diffana::invariant_mass(jes * pt1, 0.3, 1.2, m1, jes * pt2, -0.8, -2.1, 4.0);
}
template <class T> T f_invariant_mass3(T jes, T pt1, T eta2) {
  return diffana::invariant_mass(jes * pt1, 0.3, 1.2, 8.0, jes * 55.0, eta2, -2.1, 4.0,
                                 jes * 33.0, 1.1, 0.4, 6.0);
}
template <class T> T f_pt_of_sum(T pt1, T phi1, T pt2, T phi2) {
  return diffana::pt_of_sum(pt1, phi1, pt2, phi2);
}
/// The per-event weight of the measurement in ../shared/clad/README.md: a soft cut on
/// a scaled pT times a soft mass window.
template <class T> T f_weight(T jes, T pt_cut, T lo, T hi) {
  const T pt = jes * 47.0;
  const T m = jes * 91.0;
  return diffana::soft_cut(pt, pt_cut, 0.2) * diffana::soft_window(m, lo, hi, 0.1);
}

/// Soft selections of vectors that are parameters of the user function (Clad cannot
/// differentiate building a std::vector inside it).
template <class T> T f_soft_argmax(const std::vector<T>& x, T temperature) {
  return 3.0 * diffana::soft_argmax(x, temperature);
}
template <class T>
T f_soft_pick(const std::vector<T>& scores, const std::vector<T>& values,
              T temperature) {
  return diffana::soft_pick(scores, values, temperature) * temperature;
}

/// <cmath> at its kinks (and away from them). Clad cannot differentiate through a
/// using-declaration (`using std::hypot; hypot(x, y)` is "declaration kind 'Using'
/// is not supported"), so the std:: functions are called qualified, through the
/// overloads m::hypot & co.: std:: for double (what Clad sees, and differentiates with
/// diffana's rules of clad/math.hpp), diffana:: for Dual.
namespace m {
inline double hypot(double x, double y) {
  return std::hypot(x, y);
}
inline double atan2(double y, double x) {
  return std::atan2(y, x);
}
inline double pow(double x, double y) {
  return std::pow(x, y);
}
inline double fmax(double x, double y) {
  return std::fmax(x, y);
}
inline double fmin(double x, double y) {
  return std::fmin(x, y);
}
template <class D> D hypot(const D& x, const D& y) {
  return diffana::hypot(x, y);
}
template <class D> D atan2(const D& y, const D& x) {
  return diffana::atan2(y, x);
}
template <class D> D pow(const D& x, const D& y) {
  return diffana::pow(x, y);
}
template <class D> D fmax(const D& x, const D& y) {
  return diffana::fmax(x, y);
}
template <class D> D fmin(const D& x, const D& y) {
  return diffana::fmin(x, y);
}
} // namespace m
template <class T> T f_hypot(T x, T y) {
  return 2.0 * m::hypot(x - 1.0, y);
}
template <class T> T f_atan2(T y, T x) {
  return m::atan2(y, x - 2.0) + y;
}
template <class T> T f_pow(T x, T y) {
  return m::pow(x, y) + x;
}
template <class T> T f_fmax(T x, T y) {
  return m::fmax(x, y) * y;
}
template <class T> T f_fmin(T x, T y) {
  return m::fmin(x, y) - x;
}

} // namespace user
