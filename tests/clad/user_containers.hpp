// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// User functions that call one diffana function of containers, pointer + length or
/// four-vectors each (soft selections, AGC blocks, Lorentz helpers of a PxPyPzE),
/// written once as templates over the scalar: with double they are what Clad
/// differentiates (test_containers.cpp), with diffana::Dual they give the reference
/// derivatives. Per-object inputs that are not parameters are built in local C
/// arrays from the scalar parameters (Clad differentiates through those, not through
/// building a std::vector). May include: diffana's headers.
#pragma once

#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/select.hpp"

#include <vector>

namespace user {

// ---- soft selections of vector parameters ------------------------------------------

template <class T> T f_softmax(const std::vector<T>& x, T temperature) {
  const std::vector<T> p = diffana::softmax(x, temperature);
  return 1.0 * p[0] + 2.5 * p[1] - 0.5 * p[2] + 4.0 * p[3];
}
template <class T> T f_soft_sort(const std::vector<T>& x, T strength) {
  const std::vector<T> y = diffana::soft_sort(x, strength);
  return 1.0 * y[0] + 2.0 * y[1] + 3.0 * y[2] + 4.0 * y[3];
}
template <class T> T f_soft_sort_descending(const std::vector<T>& x, T strength) {
  const std::vector<T> y = diffana::soft_sort(x, strength, true);
  return y[0] * y[0] - 2.0 * y[2];
}
template <class T> T f_soft_rank(const std::vector<T>& x, T strength) {
  const std::vector<T> r = diffana::soft_rank(x, strength);
  return 1.0 * r[0] + 3.0 * r[1] - 2.0 * r[2] + 0.5 * r[3];
}
template <class T> T f_soft_rank_descending(const std::vector<T>& x, T strength) {
  const std::vector<T> r = diffana::soft_rank(x, strength, true);
  return r[1] * strength + r[3];
}

// ---- AGC blocks ---------------------------------------------------------------------
// Jet weights from three parameters: a jet-energy scale, a cut and a width.

template <class T> T f_count_at_least(T jes, T cut, T width) {
  const T w[5] = {diffana::agc::soft_step(jes * 45.0, cut, width),
                  diffana::agc::soft_step(jes * 31.0, cut, width),
                  diffana::agc::soft_step(jes * 29.0, cut, width),
                  diffana::agc::soft_step(jes * 52.0, cut, width),
                  diffana::agc::soft_step(jes * 27.5, cut, width)};
  return diffana::agc::prob_count_at_least(w, 5, 3) * jes;
}
template <class T> T f_count_exactly(T jes, T cut, T width) {
  const T w[4] = {diffana::agc::soft_step(jes * 45.0, cut, width),
                  diffana::agc::soft_step(jes * 31.0, cut, width),
                  diffana::agc::soft_step(jes * 29.0, cut, width),
                  diffana::agc::soft_step(jes * 30.5, cut, width)};
  return diffana::agc::prob_count_exactly(w, 4, 2);
}
template <class T> T f_count_container(const std::vector<T>& w) {
  return diffana::agc::prob_count_at_least(w, 2) +
         diffana::agc::prob_count_exactly(w, 1);
}
template <class T> T f_count_distribution(T jes, T cut, T width) {
  const T w[3] = {diffana::agc::soft_step(jes * 31.0, cut, width),
                  diffana::agc::soft_step(jes * 29.0, cut, width),
                  diffana::agc::soft_step(jes * 30.5, cut, width)};
  T out[3];
  diffana::agc::count_distribution(w, 3, 2, out);
  return out[0] + 2.0 * out[1] + 3.0 * out[2];
}
template <class T> T f_first_selected(T jes, T cut, T width) {
  const T s[4] = {diffana::agc::soft_step(jes * 45.0, cut, width),
                  diffana::agc::soft_step(jes * 31.0, cut, width),
                  diffana::agc::soft_step(jes * 29.0, cut, width),
                  diffana::agc::soft_step(jes * 30.5, cut, width)};
  const T x[4] = {jes * 45.0, jes * 31.0, jes * 29.0, jes * 30.5};
  T out[2];
  diffana::agc::soft_first_selected(s, x, 4, 2, out);
  return out[0] + out[1] * out[1] / 40.0;
}
template <class T> T f_regions(T jes, T cut, T btag_cut) {
  const T s[5] = {diffana::agc::soft_step(jes * 45.0, cut, 2.0),
                  diffana::agc::soft_step(jes * 31.0, cut, 2.0),
                  diffana::agc::soft_step(jes * 29.0, cut, 2.0),
                  diffana::agc::soft_step(jes * 52.0, cut, 2.0),
                  diffana::agc::soft_step(jes * 30.5, cut, 2.0)};
  const T b[5] = {diffana::agc::soft_step(0.9, btag_cut, 0.1),
                  diffana::agc::soft_step(0.2, btag_cut, 0.1),
                  diffana::agc::soft_step(0.55, btag_cut, 0.1),
                  diffana::agc::soft_step(0.7, btag_cut, 0.1),
                  diffana::agc::soft_step(0.45, btag_cut, 0.1)};
  const diffana::agc::RegionProbabilities<T> r =
      diffana::agc::region_probabilities(s, b, 5);
  return r.p_4j1b + 2.0 * r.p_4j2b;
}
template <class T>
T f_regions_container(const std::vector<T>& s, const std::vector<T>& b) {
  const diffana::agc::RegionProbabilities<T> r =
      diffana::agc::region_probabilities(s, b);
  return 3.0 * r.p_4j1b - r.p_4j2b;
}
template <class T> T f_trijet(T jes, T cut, T btag_cut) {
  const T pt[5] = {jes * 95.0, jes * 61.0, jes * 48.0, jes * 33.0, jes * 29.0};
  const T eta[5] = {0.3, -1.1, 0.8, 2.0, -0.4};
  const T phi[5] = {0.1, 2.5, -2.0, 1.2, -0.7};
  const T m[5] = {12.0, 8.0, 6.5, 5.0, 4.0};
  const T s[5] = {diffana::agc::soft_step(pt[0], cut, 3.0),
                  diffana::agc::soft_step(pt[1], cut, 3.0),
                  diffana::agc::soft_step(pt[2], cut, 3.0),
                  diffana::agc::soft_step(pt[3], cut, 3.0),
                  diffana::agc::soft_step(pt[4], cut, 3.0)};
  const T b[5] = {diffana::agc::soft_step(0.8, btag_cut, 0.1),
                  diffana::agc::soft_step(0.3, btag_cut, 0.1),
                  diffana::agc::soft_step(0.6, btag_cut, 0.1),
                  diffana::agc::soft_step(0.1, btag_cut, 0.1),
                  diffana::agc::soft_step(0.5, btag_cut, 0.1)};
  diffana::agc::TrijetOptions opt;
  opt.temperature = 20.0;
  const diffana::agc::TrijetResult<T> r =
      diffana::agc::soft_trijet_mass(5, pt, eta, phi, m, s, b, opt);
  return r.mass;
}

// ---- Lorentz helpers of a PxPyPzE (built from scalar parameters) ------------------

template <class T> T f_vector_pt(T px, T py, T pz, T e) {
  const diffana::PxPyPzE<T> v{px, py, pz, e};
  return diffana::pt(v) * 2.0;
}
template <class T> T f_vector_eta(T px, T py, T pz, T e) {
  const diffana::PxPyPzE<T> v{px, py, pz, e};
  return diffana::eta(v);
}
template <class T> T f_vector_phi(T px, T py, T pz, T e) {
  const diffana::PxPyPzE<T> v{px, py, pz, e};
  return diffana::phi(v) + px;
}
template <class T> T f_vector_mass(T px, T py, T pz, T e) {
  const diffana::PxPyPzE<T> v{px, py, pz, e};
  return diffana::mass(v);
}

} // namespace user
