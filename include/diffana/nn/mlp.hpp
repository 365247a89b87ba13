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
#include "diffana/nn/fast_math.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>
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

/// The activation in double (`fast_tanh_nb`, `fast_sigmoid` of fast_math.hpp: the
/// functions `activate_layer` applies to a whole layer, so that one unit and a layer
/// agree).
inline double activate(Activation a, double z) {
  switch (a) {
  case Activation::tanh:
    return fast_tanh_nb(z);
  case Activation::relu:
    return z > 0.0 ? z : 0.0;
  case Activation::sigmoid:
    return fast_sigmoid(z);
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

namespace detail {

/// f applied in place to z[0 .. n): one loop per activation, without calls or
/// branches inside (it vectorises).
DIFFANA_INLINE void activate_layer(Activation f, double* z, int n) {
  switch (f) {
  case Activation::tanh:
    for (int i = 0; i < n; ++i)
      z[i] = fast_tanh_nb(z[i]);
    break;
  case Activation::relu:
    for (int i = 0; i < n; ++i)
      z[i] = z[i] > 0.0 ? z[i] : 0.0;
    break;
  case Activation::sigmoid:
    for (int i = 0; i < n; ++i)
      z[i] = fast_sigmoid(z[i]);
    break;
  case Activation::none:
  default:
    break;
  }
}

/// sum_i a[i] b[i] in eight interleaved partial sums (lane j takes i = j mod 8,
/// then a fixed tree): a loop the compiler turns into vector multiply-adds without
/// reassociating anything itself, and whose dependency chain is n / 8 long, not n.
DIFFANA_INLINE double dot_lanes(const double* a, const double* b, int n) {
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      s[j] += a[i + j] * b[i + j];
  double t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  for (; i < n; ++i)
    t += a[i] * b[i];
  return t;
}

#if defined(__GNUC__) || defined(__clang__)
/// Four doubles as one value (GCC and clang vector extension: one AVX register, or
/// two SSE2 ones in the baseline copy), for sums the compiler would not vectorise
/// itself (that would reassociate them).
typedef double Vec4 __attribute__((vector_size(32)));

/// z[j] = b[j] + sum_i w[j * n + i] x[i] for the four rows j < 4 of a row-major w:
/// four lanes per row, x loaded once for all four, then each row's lanes summed.
DIFFANA_INLINE void dot_rows4(const double* w, const double* x, int n, const double* b,
                              double* z) {
  const double* r0 = w;
  const double* r1 = r0 + n;
  const double* r2 = r1 + n;
  const double* r3 = r2 + n;
  Vec4 a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    // Loaded by memcpy (unaligned), never passed by value: no vector in a
    // function's signature, whose ABI would depend on the instruction set.
    Vec4 v, w0, w1, w2, w3;
    std::memcpy(&v, x + i, sizeof v);
    std::memcpy(&w0, r0 + i, sizeof v);
    std::memcpy(&w1, r1 + i, sizeof v);
    std::memcpy(&w2, r2 + i, sizeof v);
    std::memcpy(&w3, r3 + i, sizeof v);
    a0 += w0 * v;
    a1 += w1 * v;
    a2 += w2 * v;
    a3 += w3 * v;
  }
  double s0 = (a0[0] + a0[2]) + (a0[1] + a0[3]);
  double s1 = (a1[0] + a1[2]) + (a1[1] + a1[3]);
  double s2 = (a2[0] + a2[2]) + (a2[1] + a2[3]);
  double s3 = (a3[0] + a3[2]) + (a3[1] + a3[3]);
  for (; i < n; ++i) {
    const double v = x[i];
    s0 += r0[i] * v;
    s1 += r1[i] * v;
    s2 += r2[i] * v;
    s3 += r3[i] * v;
  }
  z[0] = b[0] + s0;
  z[1] = b[1] + s1;
  z[2] = b[2] + s2;
  z[3] = b[3] + s3;
}
#endif

/// d[i] += sum_o g[o] w[o * n_in + i] (i < n_in: W^T g for a row-major [n_out][n_in]
/// W), four rows per step summed first, so that each d[i] waits on n_out / 4 adds.
DIFFANA_INLINE void add_transposed(const double* w, const double* g, int n_out,
                                   int n_in, double* d) {
  int o = 0;
  for (; o + 4 <= n_out; o += 4) {
    const double* r0 = w + std::size_t(o) * std::size_t(n_in);
    const double* r1 = r0 + n_in;
    const double* r2 = r1 + n_in;
    const double* r3 = r2 + n_in;
    const double g0 = g[o], g1 = g[o + 1], g2 = g[o + 2], g3 = g[o + 3];
    for (int i = 0; i < n_in; ++i)
      d[i] += (g0 * r0[i] + g1 * r1[i]) + (g2 * r2[i] + g3 * r3[i]);
  }
  for (; o < n_out; ++o) {
    const double* row = w + std::size_t(o) * std::size_t(n_in);
    const double go = g[o];
    for (int i = 0; i < n_in; ++i)
      d[i] += go * row[i];
  }
}

/// sum_o g[o] w[o * stride] in four interleaved partial sums.
DIFFANA_INLINE double dot_strided(const double* g, const double* w, int n,
                                  std::size_t stride) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int o = 0;
  for (; o + 4 <= n; o += 4) {
    s0 += g[o] * w[std::size_t(o) * stride];
    s1 += g[o + 1] * w[std::size_t(o + 1) * stride];
    s2 += g[o + 2] * w[std::size_t(o + 2) * stride];
    s3 += g[o + 3] * w[std::size_t(o + 3) * stride];
  }
  for (; o < n; ++o)
    s0 += g[o] * w[std::size_t(o) * stride];
  return (s0 + s1) + (s2 + s3);
}

/// The forward pass in double (see `mlp_forward`); forced inline into the two
/// compiled copies below, so that each is compiled for its instruction set.
DIFFANA_INLINE void mlp_forward_body(const Mlp& net, const double* w, const double* x,
                                     double* acts) {
  const double* in = x;
  double* out = acts;
  for (int l = 0; l < net.n_layers(); ++l) {
    const int n_in = net.size(l);
    const int n_out = net.size(l + 1);
    const double* wl = w + net.weight_offset(l);
    const double* bl = wl + std::size_t(n_out) * std::size_t(n_in);
    int o = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; o + 4 <= n_out; o += 4)
      dot_rows4(wl + std::size_t(o) * std::size_t(n_in), in, n_in, bl + o, out + o);
#endif
    for (; o < n_out; ++o)
      out[o] = bl[o] + dot_lanes(wl + std::size_t(o) * std::size_t(n_in), in, n_in);
    // The activations after the whole layer's sums: one vectorised pass.
    activate_layer(net.activation(l), out, n_out);
    in = out;
    out += n_out;
  }
}

#if DIFFANA_NN_DISPATCH_SIMD
DIFFANA_NN_TARGET_SIMD inline void mlp_forward_simd(const Mlp& net, const double* w,
                                                    const double* x, double* acts) {
  mlp_forward_body(net, w, x, acts);
}
#endif
inline void mlp_forward_base(const Mlp& net, const double* w, const double* x,
                             double* acts) {
  mlp_forward_body(net, w, x, acts);
}

} // namespace detail

/// The forward pass: acts[0 .. net.n_units()) receives every layer's activations,
/// layer after layer (the outputs are the last net.n_out() of them). x holds
/// net.n_in() inputs, w net.n_weights() weights. T must be constructible from W
/// (double weights with Dual inputs, or Dual weights: forward mode). No allocation.
/// In double, one of two compiled copies runs (`simd_enabled`, fast_math.hpp).
template <class T, class W>
inline void mlp_forward(const Mlp& net, const W* w, const T* x, T* acts) {
  if constexpr (std::is_same_v<T, double> && std::is_same_v<W, double>) {
#if DIFFANA_NN_DISPATCH_SIMD
    if (simd_enabled()) {
      detail::mlp_forward_simd(net, w, x, acts);
      return;
    }
#endif
    detail::mlp_forward_base(net, w, x, acts);
    return;
  } else {
    const T* in = x;
    T* out = acts;
    for (int l = 0; l < net.n_layers(); ++l) {
      const int n_in = net.size(l);
      const int n_out = net.size(l + 1);
      const W* wl = w + net.weight_offset(l);
      const W* bl = wl + std::size_t(n_out) * std::size_t(n_in);
      const Activation f = net.activation(l);
      for (int o = 0; o < n_out; ++o) {
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

namespace detail {

/// The reverse pass in double (see `mlp_pullback_from`); forced inline into the two
/// compiled copies below.
DIFFANA_INLINE void mlp_pullback_body(const Mlp& net, const double* w, const double* x,
                                      const double* acts, const double* d_y,
                                      double* d_w, double* d_x, double* work,
                                      const unsigned char* want_x) {
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
    switch (f) { // one branch-free loop per activation (it vectorises)
    case Activation::tanh:
      for (int o = 0; o < n_out; ++o)
        delta[o] = upstream[o] * (1.0 - a_out[o] * a_out[o]);
      break;
    case Activation::sigmoid:
      for (int o = 0; o < n_out; ++o)
        delta[o] = upstream[o] * (a_out[o] * (1.0 - a_out[o]));
      break;
    case Activation::relu:
      for (int o = 0; o < n_out; ++o)
        delta[o] = a_out[o] > 0.0 ? upstream[o] : 0.0;
      break;
    case Activation::none:
    default:
      for (int o = 0; o < n_out; ++o)
        delta[o] = upstream[o];
      break;
    }
    const double* wl = w + net.weight_offset(l);
    if (d_w != nullptr) {
      // The weights' cotangent is the outer product delta a_in^T: one contiguous
      // row per output, four at a time (a first layer's rows are too short for
      // the loop vectoriser, which wants 16, and a_in may alias d_w as far as it
      // knows: it left this loop scalar, 2x slower).
      double* dwl = d_w + net.weight_offset(l);
      double* dbl = dwl + std::size_t(n_out) * std::size_t(n_in);
      for (int o = 0; o < n_out; ++o) {
        const double g = delta[o];
        double* drow = dwl + std::size_t(o) * std::size_t(n_in);
        int i = 0;
#if defined(__GNUC__) || defined(__clang__)
        const Vec4 gv = {g, g, g, g};
        for (; i + 4 <= n_in; i += 4) {
          Vec4 xv, dv;
          std::memcpy(&xv, a_in + i, sizeof xv);
          std::memcpy(&dv, drow + i, sizeof dv);
          dv += gv * xv;
          std::memcpy(drow + i, &dv, sizeof dv);
        }
#endif
        for (; i < n_in; ++i)
          drow[i] += g * a_in[i];
        dbl[o] += g;
      }
    }
    if (l > 0 || (d_x != nullptr && want_x == nullptr)) {
      // d_in = W^T delta (W is row-major [out][in]).
      for (int i = 0; i < n_in; ++i)
        d_in[i] = 0.0;
      add_transposed(wl, delta, n_out, n_in, d_in);
      if (l == 0)
        for (int i = 0; i < n_in; ++i)
          d_x[i] += d_in[i];
    } else if (d_x != nullptr) {
      // Only the inputs asked for: a column of W each (n_out multiply-adds), where
      // all of W^T delta would cost n_in times that.
      for (int i = 0; i < n_in; ++i)
        if (want_x[i]) d_x[i] += dot_strided(delta, wl + i, n_out, std::size_t(n_in));
    }
    end -= std::size_t(n_out);
  }
}

#if DIFFANA_NN_DISPATCH_SIMD
DIFFANA_NN_TARGET_SIMD inline void
mlp_pullback_simd(const Mlp& net, const double* w, const double* x, const double* acts,
                  const double* d_y, double* d_w, double* d_x, double* work,
                  const unsigned char* want_x) {
  mlp_pullback_body(net, w, x, acts, d_y, d_w, d_x, work, want_x);
}
#endif
inline void mlp_pullback_base(const Mlp& net, const double* w, const double* x,
                              const double* acts, const double* d_y, double* d_w,
                              double* d_x, double* work, const unsigned char* want_x) {
  mlp_pullback_body(net, w, x, acts, d_y, d_w, d_x, work, want_x);
}

} // namespace detail

/// The reverse pass from the activations of `mlp_forward` (double): adds
/// sum_k d_y[k] d y_k / d w_j to d_w[j] (every weight) and d y / d x_i to d_x[i]
/// (d_w or d_x may be null: that part is skipped, so a caller that wants only the
/// inputs' cotangents pays nothing for the weights'). want_x, when not null, holds
/// net.n_in() flags: only the inputs flagged get their cotangent (the others' d_x
/// entries are left as they are), at n_out multiply-adds each. work holds
/// 2 * net.max_width() doubles. One of two compiled copies runs (`simd_enabled`).
inline void mlp_pullback_from(const Mlp& net, const double* w, const double* x,
                              const double* acts, const double* d_y, double* d_w,
                              double* d_x, double* work,
                              const unsigned char* want_x = nullptr) {
#if DIFFANA_NN_DISPATCH_SIMD
  if (simd_enabled()) {
    detail::mlp_pullback_simd(net, w, x, acts, d_y, d_w, d_x, work, want_x);
    return;
  }
#endif
  detail::mlp_pullback_base(net, w, x, acts, d_y, d_w, d_x, work, want_x);
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
