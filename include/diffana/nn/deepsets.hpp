// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A per-object summary over a jagged collection, deep-sets style (Zaheer et al.
/// 2017): `phi` (an `Mlp`) maps each object's features to k numbers, they are summed
/// or averaged over the event's objects ("the jets of this event in k floats"), and
/// `rho` (another `Mlp`) maps the event's own inputs followed by those k numbers to
/// the outputs:
///
///   y = rho(x_1 .. x_m, pool_j phi(f_j))      pool = sum or mean over objects j
///
/// The weights are one flat vector: phi's first, then rho's. An event without
/// objects pools to 0 (also for mean). The result does not depend on the objects'
/// order. As in mlp.hpp, `deepsets_forward` is templated on the scalar types and
/// `deepsets_pullback` is the hand-written reverse pass in double (adds, Clad
/// naming). Objects are rows of a row-major [n_objects][n_features] array.
#pragma once

#include "diffana/nn/mlp.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace diffana {
namespace nn {

/// How per-object summaries are combined.
enum class Pool : int { sum = 0, mean = 1 };

/// The pooling called `name` ("sum", "mean"); std::invalid_argument otherwise.
inline Pool pool_from_name(const std::string& name) {
  if (name == "sum") return Pool::sum;
  if (name == "mean") return Pool::mean;
  throw std::invalid_argument("diffana::nn: unknown pooling '" + name +
                              "' (known: sum, mean)");
}

/// The shape of a deep-sets network: phi over objects, rho over the event.
class DeepSets {
public:
  /// rho.n_in() must be at least phi.n_out(): rho's first n_event() inputs are the
  /// event's own, the last phi.n_out() the pooled summary.
  DeepSets(Mlp phi, Mlp rho, Pool pool)
      : phi_(std::move(phi)), rho_(std::move(rho)), pool_(pool) {
    if (rho_.n_in() < phi_.n_out())
      throw std::invalid_argument(
          "diffana::nn::DeepSets: rho has " + std::to_string(rho_.n_in()) +
          " inputs, fewer than phi's " + std::to_string(phi_.n_out()) + " outputs");
  }
  const Mlp& phi() const { return phi_; }
  const Mlp& rho() const { return rho_; }
  Pool pool() const { return pool_; }
  /// The event's own inputs (before the pooled summary).
  int n_event() const { return rho_.n_in() - phi_.n_out(); }
  int n_features() const { return phi_.n_in(); }
  int n_summary() const { return phi_.n_out(); }
  int n_out() const { return rho_.n_out(); }
  std::size_t n_weights() const { return phi_.n_weights() + rho_.n_weights(); }

private:
  Mlp phi_;
  Mlp rho_;
  Pool pool_;
};

/// The forward pass: y (net.n_out() values) from the event's inputs x
/// (net.n_event()) and n_obj objects (row-major, net.n_features() each). Uses
/// scratch buffers of this thread (no allocation once they have grown).
template <class T, class W>
inline void deepsets_forward(const DeepSets& net, const W* w, const T* x,
                             const T* objects, int n_obj, T* y) {
  if (n_obj < 0)
    throw std::invalid_argument(
        "diffana::nn::deepsets_forward: n_obj = " + std::to_string(n_obj) + " < 0");
  const Mlp& phi = net.phi();
  const int k = phi.n_out();
  thread_local std::vector<T> buf;
  const std::size_t need = phi.n_units() + std::size_t(net.rho().n_in());
  if (buf.size() < need) buf.resize(need);
  T* acts = buf.data();
  T* rin = buf.data() + phi.n_units();
  for (int i = 0; i < net.n_event(); ++i)
    rin[i] = x[i];
  T* summary = rin + net.n_event();
  for (int c = 0; c < k; ++c)
    summary[c] = T(0);
  const T* phi_out = acts + (phi.n_units() - std::size_t(k));
  for (int j = 0; j < n_obj; ++j) {
    mlp_forward(phi, w, objects + std::size_t(j) * std::size_t(phi.n_in()), acts);
    for (int c = 0; c < k; ++c)
      summary[c] += phi_out[c];
  }
  if (net.pool() == Pool::mean && n_obj > 0)
    for (int c = 0; c < k; ++c)
      summary[c] = summary[c] / double(n_obj);
  mlp(net.rho(), w + phi.n_weights(), rin, y);
}

/// Clad-style pullback of `deepsets_forward`: adds to d_w (net.n_weights(); may be
/// null), d_x (net.n_event(); may be null) and d_objects (n_obj * net.n_features();
/// may be null) the cotangents for the outputs' cotangent d_y.
inline void deepsets_pullback(const DeepSets& net, const double* w, const double* x,
                              const double* objects, int n_obj, const double* d_y,
                              double* d_w, double* d_x, double* d_objects) {
  if (n_obj < 0)
    throw std::invalid_argument(
        "diffana::nn::deepsets_pullback: n_obj = " + std::to_string(n_obj) + " < 0");
  const Mlp& phi = net.phi();
  const Mlp& rho = net.rho();
  const int k = phi.n_out();
  const int nf = phi.n_in();
  thread_local std::vector<double> buf;
  const std::size_t scratch =
      2 * (phi.max_width() > rho.max_width() ? phi.max_width() : rho.max_width());
  const std::size_t need = phi.n_units() + rho.n_units() + 2 * std::size_t(rho.n_in()) +
                           std::size_t(k) + scratch;
  if (buf.size() < need) buf.resize(need);
  double* acts = buf.data();
  double* racts = acts + phi.n_units();
  double* rin = racts + rho.n_units();
  double* d_rin = rin + rho.n_in();
  double* d_summary = d_rin + rho.n_in();
  double* work = d_summary + k;
  // Forward: the pooled summary, then rho's activations.
  for (int i = 0; i < net.n_event(); ++i)
    rin[i] = x[i];
  double* summary = rin + net.n_event();
  for (int c = 0; c < k; ++c)
    summary[c] = 0.0;
  const double* phi_out = acts + (phi.n_units() - std::size_t(k));
  for (int j = 0; j < n_obj; ++j) {
    mlp_forward(phi, w, objects + std::size_t(j) * std::size_t(nf), acts);
    for (int c = 0; c < k; ++c)
      summary[c] += phi_out[c];
  }
  const double scale = (net.pool() == Pool::mean && n_obj > 0) ? 1.0 / n_obj : 1.0;
  for (int c = 0; c < k; ++c)
    summary[c] *= scale;
  mlp_forward(rho, w + phi.n_weights(), rin, racts);
  // Reverse: rho, then phi once per object (its activations recomputed).
  for (int i = 0; i < rho.n_in(); ++i)
    d_rin[i] = 0.0;
  mlp_pullback_from(rho, w + phi.n_weights(), rin, racts, d_y,
                    d_w != nullptr ? d_w + phi.n_weights() : nullptr, d_rin, work);
  if (d_x != nullptr)
    for (int i = 0; i < net.n_event(); ++i)
      d_x[i] += d_rin[i];
  for (int c = 0; c < k; ++c)
    d_summary[c] = d_rin[net.n_event() + c] * scale;
  if (d_w == nullptr && d_objects == nullptr) return;
  for (int j = 0; j < n_obj; ++j) {
    const double* f = objects + std::size_t(j) * std::size_t(nf);
    mlp_forward(phi, w, f, acts);
    mlp_pullback_from(
        phi, w, f, acts, d_summary, d_w,
        d_objects ? d_objects + std::size_t(j) * std::size_t(nf) : nullptr, work);
  }
}

} // namespace nn
} // namespace diffana
