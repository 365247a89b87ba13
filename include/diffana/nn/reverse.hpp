// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The networks on the reverse-mode scalar `diffana::Rev<double>`
/// (diffana/ad/reverse.hpp): each call records ONE custom tape node whose pullback
/// is the hand-written `mlp_pullback` / `deepsets_pullback`, instead of one node per
/// multiply-add (the generic templates in mlp.hpp and deepsets.hpp would record
/// those). These are non-template overloads, so `diffana::nn::mlp(net, w, x, y)`
/// with Rev arrays picks them.
///
/// The node stores the values of the weights and inputs on the tape (its data) and
/// a pointer to the network's shape (its context): the shape must outlive the
/// tape's sweep (a `static` shape, as the generated code declares, does). The
/// node's inputs are the weights first, then the inputs (then, for deep sets, the
/// objects' features), in the order of the pullbacks' d_w, d_x, d_objects.
///
/// `mlp_apply(net, w, x...)` is the call an expression writes when the weights are
/// a vector parameter read as `w[j]`: plain numbers give a double (one forward
/// pass), any Rev among the weights or inputs gives a Rev recorded as one node (a
/// reverse-mode parameter vector of an adjoint event loop reads as Rev leaves).
#pragma once

#include "diffana/ad/reverse.hpp"
#include "diffana/nn/deepsets.hpp"
#include "diffana/nn/mlp.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana {
namespace nn {
namespace detail {

inline void mlp_node_pullback(const CustomArgs& a) {
  const Mlp& net = *static_cast<const Mlp*>(a.context);
  const std::size_t nw = net.n_weights();
  mlp_pullback(net, a.data, a.data + nw, a.d_out, a.d_in, a.d_in + nw);
}

inline void deepsets_node_pullback(const CustomArgs& a) {
  const DeepSets& net = *static_cast<const DeepSets*>(a.context);
  const std::size_t nw = net.n_weights();
  const std::size_t ne = std::size_t(net.n_event());
  const std::size_t n_obj = (a.n_data - nw - ne) / std::size_t(net.n_features());
  deepsets_pullback(net, a.data, a.data + nw, a.data + nw + ne, int(n_obj), a.d_out,
                    a.d_in, a.d_in + nw, a.d_in + nw + ne);
}

/// Values and Rev inputs of one call, in this thread's buffers: weights, then x.
struct RevCall {
  std::vector<double> data;
  std::vector<Rev<double>> in;
  std::vector<double> out;
  void gather(const Rev<double>* w, std::size_t nw, const Rev<double>* x,
              std::size_t nx, const Rev<double>* objects, std::size_t no) {
    const std::size_t n = nw + nx + no;
    data.resize(n);
    in.resize(n);
    for (std::size_t j = 0; j < nw; ++j)
      in[j] = w[j];
    for (std::size_t i = 0; i < nx; ++i)
      in[nw + i] = x[i];
    for (std::size_t i = 0; i < no; ++i)
      in[nw + nx + i] = objects[i];
    for (std::size_t k = 0; k < n; ++k)
      data[k] = in[k].value();
  }
};

} // namespace detail

/// The MLP on Rev weights and inputs: y[0 .. net.n_out()) recorded as one tape node.
inline void mlp(const Mlp& net, const Rev<double>* w, const Rev<double>* x,
                Rev<double>* y) {
  thread_local detail::RevCall call;
  const std::size_t nw = net.n_weights();
  const std::size_t nx = std::size_t(net.n_in());
  call.gather(w, nw, x, nx, nullptr, 0);
  call.out.resize(std::size_t(net.n_out()));
  mlp(net, call.data.data(), call.data.data() + nw, call.out.data());
  record_custom(call.in.data(), nw + nx, call.out.data(), y, call.out.size(),
                &detail::mlp_node_pullback, call.data.data(), nw + nx,
                const_cast<Mlp*>(&net));
}

/// The deep-sets network on Rev weights, event inputs and objects (row-major
/// [n_obj][n_features]): y[0 .. net.n_out()) recorded as one tape node.
inline void deepsets_forward(const DeepSets& net, const Rev<double>* w,
                             const Rev<double>* x, const Rev<double>* objects,
                             int n_obj, Rev<double>* y) {
  if (n_obj < 0)
    throw std::invalid_argument(
        "diffana::nn::deepsets_forward: n_obj = " + std::to_string(n_obj) + " < 0");
  thread_local detail::RevCall call;
  const std::size_t nw = net.n_weights();
  const std::size_t nx = std::size_t(net.n_event());
  const std::size_t no = std::size_t(n_obj) * std::size_t(net.n_features());
  call.gather(w, nw, x, nx, objects, no);
  call.out.resize(std::size_t(net.n_out()));
  const double* d = call.data.data();
  deepsets_forward(net, d, d + nw, d + nw + nx, n_obj, call.out.data());
  record_custom(call.in.data(), nw + nx + no, call.out.data(), y, call.out.size(),
                &detail::deepsets_node_pullback, call.data.data(), nw + nx + no,
                const_cast<DeepSets*>(&net));
}

/// The single output of `net` with weights w[0 .. net.n_weights()) (any type with
/// operator[]: double or Rev<double> elements) and inputs x... (double or
/// Rev<double>; net.n_in() of them): a double when nothing is a Rev, else a
/// Rev<double> recorded as one tape node. Throws std::invalid_argument for another
/// number of inputs or outputs than 1.
template <class W, class... X>
inline auto mlp_apply(const Mlp& net, const W& w, const X&... x) {
  using WE = std::decay_t<decltype(w[0])>;
  constexpr bool rev = is_rev_v<WE> || (is_rev_v<X> || ...);
  if (int(sizeof...(X)) != net.n_in() || net.n_out() != 1)
    throw std::invalid_argument("diffana::nn::mlp_apply: the network takes " +
                                std::to_string(net.n_in()) + " inputs and gives " +
                                std::to_string(net.n_out()) + " outputs; called with " +
                                std::to_string(sizeof...(X)) + " inputs for 1 output");
  using S = std::conditional_t<rev, Rev<double>, double>;
  thread_local std::vector<S> ws;
  const std::size_t nw = net.n_weights();
  ws.resize(nw);
  for (std::size_t j = 0; j < nw; ++j)
    ws[j] = S(w[j]);
  const S xs[] = {S(x)...};
  S y;
  mlp(net, ws.data(), xs, &y);
  return y;
}

} // namespace nn
} // namespace diffana
