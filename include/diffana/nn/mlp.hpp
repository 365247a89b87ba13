// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A small multilayer perceptron over per-event features, `diffana::nn::Mlp`, with
/// its weights as one flat, contiguous parameter vector.
///
/// Layout of the weights (what `Mlp::weight_offset` returns): layer l maps
/// sizes[l] inputs to sizes[l+1] outputs; its matrix W_l is stored row-major
/// [out][in] at weight_offset(l), its biases b_l right after it. Layers follow each
/// other, so the whole network is `n_weights()` numbers. Every layer but the last
/// applies the hidden activation, the last one the output activation.
///
/// `mlp_forward` is templated on the scalar types: double, `diffana::Dual` (weights or
/// inputs as Duals: forward mode), or any type with +, *, tanh, exp and < (a
/// reverse-mode scalar). `mlp_pullback` is the hand-written reverse pass in double
/// (Clad's naming: it *adds* d(loss)/d(weights) and d(loss)/d(inputs) to d_w and d_x
/// for a cotangent d_y of the outputs), so that a reverse-mode engine can record one
/// node per network call and a forward-mode caller can build an output's tangents
/// from one reverse sweep (`diffana/nn/call.hpp`).
///
/// Derivatives of the activations, written with the activation's value a:
///   tanh: 1 - a^2;  sigmoid: a (1 - a);  relu: 1 if a > 0 else 0;  none: 1.
/// Needs only the standard library (and diffana/ad/dual.hpp for its overloads).
#pragma once

#include "diffana/ad/dual.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace diffana {
namespace nn {

/// The activation of a layer. The numbers are part of the generated C++.
enum class Activation : int { none = 0, tanh = 1, relu = 2, sigmoid = 3 };

/// The activation called `name` ("none", "tanh", "relu", "sigmoid"); throws
/// std::invalid_argument naming the known ones otherwise.
inline Activation activation_from_name(const std::string& name) {
  if (name == "none") return Activation::none;
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  throw std::invalid_argument("diffana::nn: unknown activation '" + name +
                              "' (known: none, tanh, relu, sigmoid)");
}

/// The activation applied to z (any scalar type found by ADL or std::).
template <class T> inline T activate(Activation a, const T& z) {
  using std::exp;
  using std::tanh;
  switch (a) {
  case Activation::tanh:
    return tanh(z);
  case Activation::relu:
    return z > T(0) ? z : T(0);
  case Activation::sigmoid:
    return T(1) / (T(1) + exp(-z));
  case Activation::none:
  default:
    return z;
  }
}

/// tanh in double, about 5x faster than the C library's (which goes through expm1)
/// and within 8 ulp of it: 1 - 2 / (exp(2|z|) + 1) from |z| = 1/8 on, where
/// the result is far from 0, and its Taylor series to z^15 below (the next term is
/// under 1e-18 relative there). Odd, and exactly +-1 for large |z|.
inline double fast_tanh(double z) {
  const double a = z < 0.0 ? -z : z;
  double t;
  if (a < 0.125) {
    const double z2 = a * a;
    // tanh z = z (1 - z^2/3 + 2 z^4/15 - 17 z^6/315 + 62 z^8/2835
    //             - 1382 z^10/155925 + 21844 z^12/6081075 - 929569 z^14/638512875)
    double p = -929569.0 / 638512875.0;
    p = p * z2 + 21844.0 / 6081075.0;
    p = p * z2 - 1382.0 / 155925.0;
    p = p * z2 + 62.0 / 2835.0;
    p = p * z2 - 17.0 / 315.0;
    p = p * z2 + 2.0 / 15.0;
    p = p * z2 - 1.0 / 3.0;
    t = a + a * (z2 * p);
  } else {
    t = 1.0 - 2.0 / (std::exp(2.0 * a) + 1.0);
  }
  return z < 0.0 ? -t : t;
}

/// The activation in double (`fast_tanh` for tanh).
inline double activate(Activation a, double z) {
  switch (a) {
  case Activation::tanh:
    return fast_tanh(z);
  case Activation::relu:
    return z > 0.0 ? z : 0.0;
  case Activation::sigmoid:
    return 1.0 / (1.0 + std::exp(-z));
  case Activation::none:
  default:
    return z;
  }
}

/// d activation / dz, written with the activation's value a (see the file comment).
inline double activation_slope(Activation f, double a) {
  switch (f) {
  case Activation::tanh:
    return 1.0 - a * a;
  case Activation::relu:
    return a > 0.0 ? 1.0 : 0.0;
  case Activation::sigmoid:
    return a * (1.0 - a);
  case Activation::none:
  default:
    return 1.0;
  }
}

/// The shape of a multilayer perceptron: layer sizes (inputs first, outputs last)
/// and the activations. Holds no weights: they are a flat vector given per call.
class Mlp {
public:
  /// sizes: at least 2 entries (inputs, ..., outputs), each >= 1. Throws
  /// std::invalid_argument naming the bad entry.
  Mlp(std::vector<int> sizes, Activation hidden, Activation output = Activation::none)
      : sizes_(std::move(sizes)), hidden_(hidden), output_(output) {
    if (sizes_.size() < 2)
      throw std::invalid_argument("diffana::nn::Mlp: sizes needs at least 2 entries "
                                  "(inputs and outputs), got " +
                                  std::to_string(sizes_.size()));
    std::size_t off = 0;
    for (std::size_t l = 0; l < sizes_.size(); ++l) {
      if (sizes_[l] < 1)
        throw std::invalid_argument("diffana::nn::Mlp: sizes[" + std::to_string(l) +
                                    "] = " + std::to_string(sizes_[l]) +
                                    " must be >= 1");
      if (l + 1 < sizes_.size()) {
        offsets_.push_back(off);
        off += std::size_t(sizes_[l + 1]) * std::size_t(sizes_[l] + 1);
        units_ += std::size_t(sizes_[l + 1]);
      }
      if (std::size_t(sizes_[l]) > max_width_) max_width_ = std::size_t(sizes_[l]);
    }
    n_weights_ = off;
  }

  int n_in() const { return sizes_.front(); }
  int n_out() const { return sizes_.back(); }
  /// The number of weight layers (sizes - 1).
  int n_layers() const { return int(sizes_.size()) - 1; }
  int size(int l) const { return sizes_[std::size_t(l)]; }
  const std::vector<int>& sizes() const { return sizes_; }
  /// The length of the flat weight vector.
  std::size_t n_weights() const { return n_weights_; }
  /// The number of activations a forward pass stores (every layer's outputs).
  std::size_t n_units() const { return units_; }
  std::size_t max_width() const { return max_width_; }
  /// Where W_l starts in the flat weights (b_l follows at + size(l+1) * size(l)).
  std::size_t weight_offset(int l) const { return offsets_[std::size_t(l)]; }
  Activation activation(int l) const { return l + 1 == n_layers() ? output_ : hidden_; }
  Activation hidden() const { return hidden_; }
  Activation output() const { return output_; }

private:
  std::vector<int> sizes_;
  Activation hidden_;
  Activation output_;
  std::vector<std::size_t> offsets_;
  std::size_t n_weights_ = 0;
  std::size_t units_ = 0;
  std::size_t max_width_ = 0;
};

/// The forward pass: acts[0 .. net.n_units()) receives every layer's activations,
/// layer after layer (the outputs are the last net.n_out() of them). x holds
/// net.n_in() inputs, w net.n_weights() weights. T must be constructible from W
/// (double weights with Dual inputs, or Dual weights: forward mode). No allocation.
template <class T, class W>
inline void mlp_forward(const Mlp& net, const W* w, const T* x, T* acts) {
  const T* in = x;
  T* out = acts;
  for (int l = 0; l < net.n_layers(); ++l) {
    const int n_in = net.size(l);
    const int n_out = net.size(l + 1);
    const W* wl = w + net.weight_offset(l);
    const W* bl = wl + std::size_t(n_out) * std::size_t(n_in);
    const Activation f = net.activation(l);
    int o = 0;
    if constexpr (std::is_same_v<T, double> && std::is_same_v<W, double>) {
      // Four rows at once: four independent sums (each in the same order as one
      // row alone, so the result is the same to the bit) hide the latency of the
      // multiply-adds, which one running sum waits for.
      for (; o + 4 <= n_out; o += 4) {
        const double* r0 = wl + std::size_t(o) * std::size_t(n_in);
        const double* r1 = r0 + n_in;
        const double* r2 = r1 + n_in;
        const double* r3 = r2 + n_in;
        double z0 = bl[o], z1 = bl[o + 1], z2 = bl[o + 2], z3 = bl[o + 3];
        for (int i = 0; i < n_in; ++i) {
          const double v = in[i];
          z0 += r0[i] * v;
          z1 += r1[i] * v;
          z2 += r2[i] * v;
          z3 += r3[i] * v;
        }
        out[o] = activate(f, z0);
        out[o + 1] = activate(f, z1);
        out[o + 2] = activate(f, z2);
        out[o + 3] = activate(f, z3);
      }
    }
    for (; o < n_out; ++o) {
      const W* row = wl + std::size_t(o) * std::size_t(n_in);
      T z(bl[o]);
      for (int i = 0; i < n_in; ++i)
        z += row[i] * in[i];
      out[o] = activate(f, z);
    }
    in = out;
    out += n_out;
  }
}

/// The network's outputs (net.n_out() values into y) through a scratch buffer of
/// this thread (no allocation once it has grown).
template <class T, class W>
inline void mlp(const Mlp& net, const W* w, const T* x, T* y) {
  thread_local std::vector<T> acts;
  if (acts.size() < net.n_units()) acts.resize(net.n_units());
  mlp_forward(net, w, x, acts.data());
  const T* last = acts.data() + (net.n_units() - std::size_t(net.n_out()));
  for (int k = 0; k < net.n_out(); ++k)
    y[k] = last[k];
}

/// The reverse pass from the activations of `mlp_forward` (double): adds
/// sum_k d_y[k] d y_k / d w_j to d_w[j] (every weight) and d y / d x_i to d_x[i]
/// (d_w or d_x may be null: that part is skipped, so a caller that wants only the
/// inputs' cotangents pays nothing for the weights'). work holds
/// 2 * net.max_width() doubles.
inline void mlp_pullback_from(const Mlp& net, const double* w, const double* x,
                              const double* acts, const double* d_y, double* d_w,
                              double* d_x, double* work) {
  const std::size_t width = net.max_width();
  double* delta = work;        // d loss / d z of the current layer
  double* d_in = work + width; // d loss / d (its inputs)
  std::size_t end = net.n_units();
  for (int l = net.n_layers() - 1; l >= 0; --l) {
    const int n_in = net.size(l);
    const int n_out = net.size(l + 1);
    const double* a_out = acts + (end - std::size_t(n_out));
    const double* a_in = l == 0 ? x : a_out - n_in;
    const Activation f = net.activation(l);
    const double* upstream = l + 1 == net.n_layers() ? d_y : d_in;
    for (int o = 0; o < n_out; ++o)
      delta[o] = upstream[o] * activation_slope(f, a_out[o]);
    const double* wl = w + net.weight_offset(l);
    const bool need_in = l > 0 || d_x != nullptr;
    if (d_w != nullptr) {
      // The weights' cotangent is the outer product delta a_in^T: one contiguous
      // row per output (a loop the compiler vectorises).
      double* dwl = d_w + net.weight_offset(l);
      double* dbl = dwl + std::size_t(n_out) * std::size_t(n_in);
      for (int o = 0; o < n_out; ++o) {
        const double g = delta[o];
        double* drow = dwl + std::size_t(o) * std::size_t(n_in);
        for (int i = 0; i < n_in; ++i)
          drow[i] += g * a_in[i];
        dbl[o] += g;
      }
    }
    if (need_in) {
      // d_in = W^T delta, row by row (W is row-major [out][in]).
      for (int i = 0; i < n_in; ++i)
        d_in[i] = 0.0;
      for (int o = 0; o < n_out; ++o) {
        const double g = delta[o];
        const double* row = wl + std::size_t(o) * std::size_t(n_in);
        for (int i = 0; i < n_in; ++i)
          d_in[i] += g * row[i];
      }
    }
    if (l == 0 && d_x != nullptr)
      for (int i = 0; i < n_in; ++i)
        d_x[i] += d_in[i];
    end -= std::size_t(n_out);
  }
}

/// Clad-style pullback of `mlp`: adds the weights' and inputs' cotangents for the
/// outputs' cotangent d_y (d_x may be null). Recomputes the forward pass in a
/// scratch buffer of this thread.
inline void mlp_pullback(const Mlp& net, const double* w, const double* x,
                         const double* d_y, double* d_w, double* d_x) {
  thread_local std::vector<double> buf;
  const std::size_t need = net.n_units() + 2 * net.max_width();
  if (buf.size() < need) buf.resize(need);
  mlp_forward(net, w, x, buf.data());
  mlp_pullback_from(net, w, x, buf.data(), d_y, d_w, d_x, buf.data() + net.n_units());
}

} // namespace nn
} // namespace diffana
