// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The element-wise Lorentz kernels `diffana_physics_<op>_f64` of
/// include/diffana/kernels.h as one template, so that every
/// src/kernels/physics_<op>.cpp only instantiates it.
///
/// An op is a small struct naming its K inputs and O outputs and evaluating the helper
/// of diffana/physics/lorentz.hpp on K scalars of any type (double or Dual):
///   struct Op { static constexpr int n_inputs = K, n_outputs = O;
///               template <class T> static void eval(const T* in, T* out); };
/// `batch::elementwise<Op>` validates the arguments and loops over the n elements: on
/// Dual<double, K> seeded with unit tangents (input k is direction k), which gives
/// value[i * O + j] and partials[(i * O + j) * K + k] = d out_j / d in_k at element i,
/// or on plain doubles when partials is NULL. It never throws and never allocates
/// (Dual<double, K> lives on the stack).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/config.hpp"
#include "diffana/kernels.h"
#include "diffana/physics/lorentz.hpp"

#include <cstdint>

namespace diffana::batch {

/// Runs Op on n elements of its K input arrays; the status codes of kernels.h.
template <class Op, int K>
int elementwise(const double* const (&in)[K], std::int64_t n, double* value,
                double* partials) {
  static_assert(K == Op::n_inputs, "one input array per input of the op");
  constexpr int O = Op::n_outputs;
  if (n < 0) return DIFFANA_ERR_ARGUMENT;
  if (n == 0) return DIFFANA_OK;
  for (const double* p : in)
    if (!p) return DIFFANA_ERR_ARGUMENT;
  if (!value) return DIFFANA_ERR_ARGUMENT;
  if (!partials) {
    for (std::int64_t i = 0; i < n; ++i) {
      double x[K] = {};
      double r[O] = {};
      for (int k = 0; k < K; ++k)
        x[k] = in[k][i];
      Op::eval(x, r);
      for (int j = 0; j < O; ++j)
        value[i * O + j] = r[j];
    }
    return DIFFANA_OK;
  }
  using D = Dual<double, K>;
  for (std::int64_t i = 0; i < n; ++i) {
    D x[K];
    D r[O];
    for (int k = 0; k < K; ++k)
      x[k] = D::variable(in[k][i], k);
    Op::eval(x, r);
    for (int j = 0; j < O; ++j) {
      value[i * O + j] = r[j].value();
      for (int k = 0; k < K; ++k)
        partials[(i * O + j) * K + k] = r[j].tangent(k);
    }
  }
  return DIFFANA_OK;
}

// ---- the ops: the argument order of each kernel -------------------------------------

/// invariant_mass(pt1, eta1, phi1, m1, pt2, eta2, phi2, m2).
struct InvariantMass {
  static constexpr int n_inputs = 8;
  static constexpr int n_outputs = 1;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    out[0] = invariant_mass(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
  }
};

/// invariant_mass(pt1, eta1, phi1, m1, ..., pt3, eta3, phi3, m3).
struct InvariantMass3 {
  static constexpr int n_inputs = 12;
  static constexpr int n_outputs = 1;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    out[0] = invariant_mass(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9],
                            x[10], x[11]);
  }
};

/// pt_of_sum(pt1, phi1, pt2, phi2).
struct PtOfSum {
  static constexpr int n_inputs = 4;
  static constexpr int n_outputs = 1;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    out[0] = pt_of_sum(x[0], x[1], x[2], x[3]);
  }
};

/// pt_of_sum(pt1, phi1, pt2, phi2, pt3, phi3).
struct PtOfSum3 {
  static constexpr int n_inputs = 6;
  static constexpr int n_outputs = 1;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    out[0] = pt_of_sum(x[0], x[1], x[2], x[3], x[4], x[5]);
  }
};

/// delta_phi(phi1, phi2).
struct DeltaPhi {
  static constexpr int n_inputs = 2;
  static constexpr int n_outputs = 1;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    out[0] = delta_phi(x[0], x[1]);
  }
};

/// delta_r(eta1, phi1, eta2, phi2).
struct DeltaR {
  static constexpr int n_inputs = 4;
  static constexpr int n_outputs = 1;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    out[0] = delta_r(x[0], x[1], x[2], x[3]);
  }
};

/// (pt, eta, phi, m) -> (px, py, pz, E).
struct ToCartesian {
  static constexpr int n_inputs = 4;
  static constexpr int n_outputs = 4;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    const auto v = to_cartesian(x[0], x[1], x[2], x[3]);
    out[0] = v.px;
    out[1] = v.py;
    out[2] = v.pz;
    out[3] = v.e;
  }
};

/// (px, py, pz, E) -> (pt, eta, phi, m).
struct FromCartesian {
  static constexpr int n_inputs = 4;
  static constexpr int n_outputs = 4;
  template <class T> DIFFANA_HOST_DEVICE static void eval(const T* x, T* out) {
    const auto r = to_pt_eta_phi_m(PxPyPzE<T>{x[0], x[1], x[2], x[3]});
    out[0] = r.pt;
    out[1] = r.eta;
    out[2] = r.phi;
    out[3] = r.m;
  }
};

} // namespace diffana::batch
