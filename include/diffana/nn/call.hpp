// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Calling a network inside a forward-mode event loop: the weights are N_w
/// consecutive entries of a parameter block (`diffana::rdf::Params<N>`, or any type
/// with `value(i)` and `n_params`), the inputs are plain numbers or
/// `Dual<double, N>` columns, and the result is a `Dual<double, N>` whose tangents
/// are d y / d (every parameter).
///
/// The tangents are not pushed through the network as Duals (that costs
/// O(N_w * N) per event); one forward pass in double and one reverse sweep
/// (`mlp_pullback_from`, `deepsets_pullback`) give d y / d w and d y / d x, and
///
///   tangent_k(y) = sum_i d y / d x_i * tangent_k(x_i) + [k = offset + j] d y / d w_j,
///
/// which costs O(N_w + n_inputs * N): exactly the forward-mode tangents (a test
/// compares them with the all-Dual forward pass to 1e-12). Scratch buffers belong
/// to the calling thread, so the calls are safe under ROOT's implicit
/// multithreading and allocate nothing once the buffers have grown.
///
/// `mlp_call(net, block, offset, x...)` takes the inputs as separate arguments;
/// `deepsets_call(net, block, offset, std::forward_as_tuple(x...),
/// std::forward_as_tuple(f...))` takes the event's inputs and one container per
/// object feature (all of one length: an RVec of the event's jets).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/nn/deepsets.hpp"
#include "diffana/nn/mlp.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana {
namespace nn {
namespace detail {

/// The values and tangents of a call's inputs, gathered in this thread's buffers.
template <int N> struct Gathered {
  std::vector<double> value;
  std::vector<double> tangent;     // [i * N + k]
  std::vector<unsigned char> dual; // whether input i carries tangents
  void resize(std::size_t n) {
    if (value.size() < n) {
      value.resize(n);
      tangent.resize(n * std::size_t(N));
      dual.resize(n);
    }
  }
};

/// This thread's buffers of a call with Dual inputs (the gathered inputs and one
/// work buffer), behind one out-of-line accessor (see DIFFANA_NOINLINE: cling
/// emulates thread_local).
template <int N> struct DualCallScratch {
  Gathered<N> gathered;
  std::vector<double> buf;
};

template <int N> inline DIFFANA_NOINLINE DualCallScratch<N>& dual_call_scratch() {
  thread_local DualCallScratch<N> scratch;
  return scratch;
}

template <int N, class X> inline void put(Gathered<N>& g, std::size_t i, const X& x) {
  if constexpr (is_dual_v<X>) {
    static_assert(X::size == N, "diffana::nn: an input Dual has another number of "
                                "tangents than the parameter block");
    g.value[i] = double(x.value());
    g.dual[i] = 1;
    for (int k = 0; k < N; ++k)
      g.tangent[i * std::size_t(N) + std::size_t(k)] = double(x.tangent(k));
  } else {
    g.value[i] = double(x);
    g.dual[i] = 0;
  }
}

template <class Block>
inline void copy_weights(const Block& block, int offset, std::size_t n, double* w) {
  for (std::size_t j = 0; j < n; ++j)
    w[j] = block.value(offset + int(j));
}

/// y with tangents: the inputs' tangents times d_x, plus d_w at the weights.
template <int N>
inline Dual<double, N> assemble(double y, const Gathered<N>& g, std::size_t n_in,
                                const double* d_x, int offset, std::size_t n_w,
                                const double* d_w) {
  Dual<double, N> r(y);
  for (std::size_t i = 0; i < n_in; ++i) {
    if (!g.dual[i] || d_x[i] == 0.0) continue;
    const double* t = g.tangent.data() + i * std::size_t(N);
    for (int k = 0; k < N; ++k)
      r.tangent(k) += d_x[i] * t[k];
  }
  for (std::size_t j = 0; j < n_w; ++j)
    r.tangent(offset + int(j)) += d_w[j];
  return r;
}

template <class Block>
inline void check_block(const char* what, int offset, std::size_t n_w) {
  if (offset < 0 || offset + n_w > std::size_t(Block::n_params))
    throw std::invalid_argument(
        std::string("diffana::nn::") + what + ": weights [" + std::to_string(offset) +
        ", " + std::to_string(offset + n_w) + ") are outside the parameter block of " +
        std::to_string(Block::n_params));
}

} // namespace detail

/// The single output of `net` as a Dual<double, Block::n_params>: the weights are
/// block entries [offset, offset + net.n_weights()), the inputs x... (net.n_in() of
/// them, plain or Dual). Throws std::invalid_argument for another number of inputs
/// or outputs than 1.
template <class Block, class... X>
inline Dual<double, Block::n_params> mlp_call(const Mlp& net, const Block& block,
                                              int offset, const X&... x) {
  constexpr int N = Block::n_params;
  const std::size_t n_in = sizeof...(X);
  if (int(n_in) != net.n_in() || net.n_out() != 1)
    throw std::invalid_argument("diffana::nn::mlp_call: the network takes " +
                                std::to_string(net.n_in()) + " inputs and gives " +
                                std::to_string(net.n_out()) + " outputs; called with " +
                                std::to_string(n_in) + " inputs for 1 output");
  detail::check_block<Block>("mlp_call", offset, net.n_weights());
  detail::DualCallScratch<N>& scratch = detail::dual_call_scratch<N>();
  detail::Gathered<N>& g = scratch.gathered;
  std::vector<double>& buf = scratch.buf;
  const std::size_t nw = net.n_weights();
  const std::size_t need = 2 * nw + n_in + net.n_units() + 2 * net.max_width();
  if (buf.size() < need) buf.resize(need);
  g.resize(n_in);
  std::size_t i = 0;
  (detail::put<N>(g, i++, x), ...);
  double* w = buf.data();
  double* d_w = w + nw;
  double* d_x = d_w + nw;
  double* acts = d_x + n_in;
  double* work = acts + net.n_units();
  detail::copy_weights(block, offset, nw, w);
  for (std::size_t j = 0; j < nw + n_in; ++j)
    d_w[j] = 0.0; // d_w and d_x are adjacent
  mlp_forward(net, w, g.value.data(), acts);
  const double y = acts[net.n_units() - 1];
  const double one = 1.0;
  // d y / d x for the Dual inputs only (assemble skips the others).
  mlp_pullback_from(net, w, g.value.data(), acts, &one, d_w, d_x, work, g.dual.data());
  return detail::assemble<N>(y, g, n_in, d_x, offset, nw, d_w);
}

namespace detail {
template <class C> inline std::size_t length(const C& c) {
  return std::size_t(c.size());
}

/// The number of objects of an event: the common length of the feature containers;
/// std::invalid_argument (naming `what`) when they differ.
template <class... F>
inline std::size_t n_objects(const char* what, const std::tuple<F...>& features) {
  const std::size_t n_obj = length(std::get<0>(features));
  std::apply(
      [&](const auto&... f) {
        if (((length(f) != n_obj) || ...))
          throw std::invalid_argument(
              std::string("diffana::nn::") + what +
              ": the object features have different lengths in this event (every "
              "feature needs one entry per object)");
      },
      features);
  return n_obj;
}

/// A deep-sets call's inputs in g: the event's first, then the objects row-major
/// [object][feature].
template <int N, class... X, class... F>
inline void gather_deepsets(Gathered<N>& g, const std::tuple<X...>& event,
                            const std::tuple<F...>& features, std::size_t n_obj) {
  const std::size_t n_ev = sizeof...(X);
  const std::size_t nf = sizeof...(F);
  g.resize(n_ev + n_obj * nf);
  std::size_t i = 0;
  std::apply([&](const auto&... x) { (put<N>(g, i++, x), ...); }, event);
  std::size_t c = 0;
  std::apply(
      [&](const auto&... f) {
        (
            (void)[&](const auto& col) {
              for (std::size_t j = 0; j < n_obj; ++j)
                put<N>(g, n_ev + j * nf + c, col[j]);
              ++c;
            }(f),
            ...);
      },
      features);
}
} // namespace detail

/// The single output of a deep-sets network as a Dual<double, Block::n_params>:
/// `event` a tuple of the event's inputs (net.n_event()), `features` a tuple of
/// net.n_features() containers (RVec, std::vector) of one length, the objects'
/// features (plain or Dual). Throws std::invalid_argument for containers of
/// different lengths or a wrong number of inputs.
template <class Block, class... X, class... F>
inline Dual<double, Block::n_params>
deepsets_call(const DeepSets& net, const Block& block, int offset,
              const std::tuple<X...>& event, const std::tuple<F...>& features) {
  constexpr int N = Block::n_params;
  const std::size_t n_ev = sizeof...(X);
  const std::size_t nf = sizeof...(F);
  if (int(n_ev) != net.n_event() || int(nf) != net.n_features() || net.n_out() != 1)
    throw std::invalid_argument(
        "diffana::nn::deepsets_call: the network takes " +
        std::to_string(net.n_event()) + " event inputs and " +
        std::to_string(net.n_features()) + " object features and gives " +
        std::to_string(net.n_out()) + " outputs; called with " + std::to_string(n_ev) +
        " and " + std::to_string(nf) + " for 1 output");
  detail::check_block<Block>("deepsets_call", offset, net.n_weights());
  const std::size_t n_obj = detail::n_objects("deepsets_call", features);
  detail::DualCallScratch<N>& scratch = detail::dual_call_scratch<N>();
  detail::Gathered<N>& g = scratch.gathered;
  std::vector<double>& buf = scratch.buf;
  const std::size_t n_in = n_ev + n_obj * nf;
  const std::size_t nw = net.n_weights();
  if (buf.size() < 2 * nw + n_in) buf.resize(2 * nw + n_in);
  detail::gather_deepsets<N>(g, event, features, n_obj);
  double* w = buf.data();
  double* d_w = w + nw;
  double* d_in = d_w + nw;
  detail::copy_weights(block, offset, nw, w);
  for (std::size_t j = 0; j < nw + n_in; ++j)
    d_w[j] = 0.0; // d_w and d_in are adjacent
  double y = 0.0;
  deepsets_forward(net, w, g.value.data(), g.value.data() + n_ev, int(n_obj), &y);
  const double one = 1.0;
  deepsets_pullback(net, w, g.value.data(), g.value.data() + n_ev, int(n_obj), &one,
                    d_w, d_in, d_in + n_ev);
  return detail::assemble<N>(y, g, n_in, d_in, offset, nw, d_w);
}

} // namespace nn
} // namespace diffana
