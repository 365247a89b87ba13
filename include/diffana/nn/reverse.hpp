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
/// `mlp_apply(net, w, x...)` and `deepsets_apply(net, w, event, features)` are the
/// calls an expression writes when the weights are a vector parameter read as
/// `w[j]` (`diffana.nn.cpp.apply_expression`, the adjoint method of
/// `diffana.rdf.adjoint`): plain numbers give a double (one forward pass), Dual
/// inputs a Dual (the first loop, where an input depends on a forward parameter),
/// any Rev among the weights or inputs a Rev recorded as one node.
///
/// The MLP on a taped parameter span (`diffana::rdf::RevParamSpan<true>`, the
/// adjoint loop's reading of a reverse vector) takes a faster road, per event
/// O(weights) in a few flat loops: its weights become one range of parameter leaves
/// (`Tape::push_params`) instead of a Rev each, the node keeps the inputs and the
/// activations instead of a copy of the weights (whose values stay put during the
/// loop; the node's context points at them), and the pullback recomputes nothing.
/// At 1000 weights this took the adjoint loop from 65 to 10 us per event (g++ -O2).
/// The node takes the span's own leaves where the view recorded them already
/// (`RevParamSpan::first`; a second range cost the sweep another pass over the
/// weights), the pullback computes the inputs' cotangents only for taped inputs,
/// and the weights go as a leaf range of the node (`Tape::push_custom_range`,
/// written in place in the sweep): no index, zeroing or scatter per weight, half
/// the adjoint loop's time at 1000 weights (callgrind: 49k to 27k instructions per
/// event, clang -O3).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/reverse.hpp"
#include "diffana/nn/call.hpp"
#include "diffana/nn/deepsets.hpp"
#include "diffana/nn/mlp.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <tuple>
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

namespace detail {

template <class C>
using element_t = std::decay_t<decltype(std::declval<const C&>()[0])>;

/// The tangent count of the first Dual among Ts (0 when there is none).
template <class... Ts> struct first_dual;
template <> struct first_dual<> {
  static constexpr int value = 0;
};
template <class T, class... Ts> struct first_dual<T, Ts...> {
  static constexpr int value =
      is_dual_v<T> ? tangent_count_v<std::decay_t<T>> : first_dual<Ts...>::value;
};

/// Whether W is a span of a parameter vector: `values` (a pointer to every value)
/// and `offset` (its first entry's index there, also its parameter index), as
/// `diffana::rdf::RevParamSpan` (known here by its members only: nn/ does not
/// depend on rdf/).
template <class W, class = void> struct is_weight_span : std::false_type {};
template <class W>
struct is_weight_span<W, std::void_t<decltype(std::declval<const W&>().values +
                                              std::declval<const W&>().offset)>>
    : std::true_type {};

/// The weights as doubles: a span's own storage, else a copy in this thread's
/// buffer (w[j]: double).
template <class W> inline const double* weight_values(const W& w, std::size_t nw) {
  if constexpr (is_weight_span<W>::value && !is_rev_v<element_t<W>>) {
    return w.values + w.offset;
  } else {
    thread_local std::vector<double> buf;
    if (buf.size() < nw) buf.resize(nw);
    for (std::size_t j = 0; j < nw; ++j)
      buf[j] = double(w[j]);
    return buf.data();
  }
}

/// Throws std::invalid_argument "diffana::nn::<what>: the network takes <shape>;
/// called with <called>" (the texts are built only then: this runs per event).
template <class Shape, class Called>
inline void check_apply(const char* what, bool ok, const Shape& shape,
                        const Called& called) {
  if (!ok)
    throw std::invalid_argument(std::string("diffana::nn::") + what +
                                ": the network takes " + shape() + "; called with " +
                                called());
}

/// The context of an MLP node whose weights are a parameter span: the shape and
/// the weights' values, which stay put during an event loop (a reverse-mode
/// parameter vector changes between loops only), so the node stores neither them
/// nor a copy per event. One per (shape, values) for this thread, never freed
/// (tape nodes point at them; a loop sees a handful).
struct SpanContext {
  const Mlp* net;
  const double* w;
};

/// This thread's buffers of the span path, behind one out-of-line accessor (see
/// DIFFANA_NOINLINE: cling emulates thread_local).
struct SpanScratch {
  std::vector<double> data;         // a node's inputs, activations and flags
  std::vector<std::int32_t> index;  // its inputs' tape nodes
  std::vector<double> work;         // the pullback's two layer-wide buffers
  std::vector<unsigned char> want;  // which inputs the pullback gives cotangents
  std::deque<SpanContext> contexts; // see SpanContext
  const SpanContext* last = nullptr;
};

inline DIFFANA_NOINLINE SpanScratch& span_scratch() {
  thread_local SpanScratch scratch;
  return scratch;
}

inline const SpanContext* span_context(SpanScratch& s, const Mlp& net,
                                       const double* w) {
  if (s.last != nullptr && s.last->net == &net && s.last->w == w) return s.last;
  for (const SpanContext& c : s.contexts)
    if (c.net == &net && c.w == w) return s.last = &c;
  s.contexts.push_back({&net, w});
  return s.last = &s.contexts.back();
}

/// The pullback of a span node, recorded with the weights as a leaf range of the
/// tape (`Tape::push_custom_range`): its data are the inputs, then every layer's
/// activations of the forward pass (nothing recomputed), then which inputs are
/// taped; d_w is the leaves' adjoint storage itself (CustomArgs::d_range), d_in the
/// inputs' cotangents only.
inline void mlp_span_node_pullback(const CustomArgs& a) {
  const SpanContext& c = *static_cast<const SpanContext*>(a.context);
  const Mlp& net = *c.net;
  const std::size_t nx = std::size_t(net.n_in());
  SpanScratch& s = span_scratch();
  std::vector<double>& work = s.work;
  std::vector<unsigned char>& want = s.want;
  if (work.size() < 2 * net.max_width()) work.resize(2 * net.max_width());
  if (want.size() < nx) want.resize(nx);
  // The flags after the activations: which inputs are taped (the others' cotangents
  // would be dropped; a column of W each, not all of W^T delta).
  const double* flags = a.data + nx + net.n_units();
  bool any = false;
  for (std::size_t i = 0; i < nx; ++i) {
    want[i] = flags[i] != 0.0;
    any = any || want[i];
  }
  mlp_pullback_from(net, c.w, a.data, a.data + nx, a.d_out, a.d_range,
                    any ? a.d_in : nullptr, work.data(), want.data());
}

template <class W, class = void> struct has_leaf_range : std::false_type {};
template <class W>
struct has_leaf_range<W, std::void_t<decltype(std::declval<const W&>().first),
                                     decltype(std::declval<const W&>().tape)>>
    : std::true_type {};

/// The first of count parameter leaves for w[0 .. count): the span's own, when it
/// recorded them on this tape already (`RevParamSpan::first`: the adjoint loop's
/// view records its leaves where the expression makes it), else a new range (a
/// second range would cost the sweep another pass over the weights).
template <class Tp, class W>
inline std::int32_t span_leaves(Tp& tape, const W& w, std::int32_t count) {
  if constexpr (has_leaf_range<W>::value) {
    if (w.first >= 0 && w.tape == &tape && static_cast<std::int64_t>(w.size()) >= count)
      return w.first;
  }
  return tape.push_params(static_cast<int>(w.offset), count);
}

/// The MLP on a taped parameter span w (see `is_weight_span`) and inputs x (double
/// or Rev): one tape node whose inputs are nw consecutive parameter leaves (one
/// range in the sweep: the span's own where it has them) and the inputs, and whose
/// data are the inputs' values, the activations and which inputs are taped.
template <class W, class... X>
inline Rev<double> mlp_on_span(const Mlp& net, const W& w, const X&... x) {
  Tape& tape = active_tape();
  const std::size_t nw = net.n_weights();
  const std::size_t nx = sizeof...(X);
  const double* wv = w.values + w.offset;
  SpanScratch& scratch = span_scratch();
  std::vector<double>& data = scratch.data;
  std::vector<std::int32_t>& index = scratch.index;
  const std::size_t n_data = nx + net.n_units() + nx; // inputs, activations, flags
  if (data.size() < n_data) data.resize(n_data);
  if (index.size() < nx) index.resize(nx);
  std::size_t i = 0;
  (
      [&](const auto& xi) {
        if constexpr (is_rev_v<std::decay_t<decltype(xi)>>) {
          if (xi.tape() != nullptr && xi.tape() != &tape)
            throw std::logic_error("diffana::nn::mlp_apply: an input is recorded on "
                                   "another tape than this thread's");
          data[i] = xi.value();
          index[i] = xi.tape() != nullptr ? xi.index() : -1;
        } else {
          data[i] = double(xi);
          index[i] = -1;
        }
        ++i;
      }(x),
      ...);
  double* acts = data.data() + nx;
  double* flags = acts + net.n_units();
  for (std::size_t k = 0; k < nx; ++k)
    flags[k] = index[k] >= 0 ? 1.0 : 0.0;
  mlp_forward(net, wv, data.data(), acts);
  const double y = acts[net.n_units() - 1];
  const std::int32_t first_leaf = span_leaves(tape, w, static_cast<std::int32_t>(nw));
  void* context = const_cast<SpanContext*>(span_context(scratch, net, wv));
  // The weights as one leaf range (no index, zeroing or scatter per weight in the
  // sweep), then the inputs (index: their nodes, -1 for constants).
  const std::int32_t out = tape.push_custom_range(
      first_leaf, nw, [ix = index.data()](std::size_t k) { return ix[k]; }, nx, 1,
      &mlp_span_node_pullback, data.data(), n_data, context);
  return Rev<double>::on_tape(y, &tape, out);
}

} // namespace detail

/// The single output of `net` with weights w[0 .. net.n_weights()) (any type with
/// operator[]: double or Rev<double> elements, e.g. a reverse-mode parameter
/// vector) and inputs x... (net.n_in() of them):
///
/// - nothing a Rev or Dual: a double (one forward pass);
/// - a Rev among the weights or inputs: a Rev<double> recorded as one tape node
///   (the adjoint loop, where forward parameters are constants);
/// - Dual inputs (double weights): a Dual with the inputs' tangents pushed through
///   the network by one reverse sweep for d y / d x (the first loop of the
///   adjoint method, where an input depends on a forward parameter).
///
/// Rev and Dual do not mix (a compile-time error). Throws std::invalid_argument
/// for another number of inputs or outputs than 1.
template <class W, class... X>
inline auto mlp_apply(const Mlp& net, const W& w, const X&... x) {
  using WE = detail::element_t<W>;
  constexpr bool rev = is_rev_v<WE> || (is_rev_v<X> || ...);
  constexpr bool dual = (is_dual_v<X> || ...);
  static_assert(!(rev && dual), "diffana::nn::mlp_apply: reverse-mode (Rev) and "
                                "forward-mode (Dual) scalars do not mix");
  detail::check_apply(
      "mlp_apply", int(sizeof...(X)) == net.n_in() && net.n_out() == 1,
      [&] {
        return std::to_string(net.n_in()) + " inputs and gives " +
               std::to_string(net.n_out()) + " outputs";
      },
      [&] { return std::to_string(sizeof...(X)) + " inputs for 1 output"; });
  const std::size_t nw = net.n_weights();
  if constexpr (rev && detail::is_weight_span<W>::value && is_rev_v<WE>) {
    return detail::mlp_on_span(net, w, x...);
  } else if constexpr (rev) {
    // Straight into the call's buffers: weights, then inputs.
    thread_local detail::RevCall call;
    const std::size_t nx = sizeof...(X);
    call.in.resize(nw + nx);
    call.data.resize(nw + nx);
    for (std::size_t j = 0; j < nw; ++j) {
      call.in[j] = Rev<double>(w[j]);
      call.data[j] = call.in[j].value();
    }
    std::size_t i = nw;
    ((call.in[i] = Rev<double>(x), call.data[i] = call.in[i].value(), ++i), ...);
    double y = 0.0;
    mlp(net, call.data.data(), call.data.data() + nw, &y);
    Rev<double> out;
    record_custom(call.in.data(), nw + nx, &y, &out, 1, &detail::mlp_node_pullback,
                  call.data.data(), nw + nx, const_cast<Mlp*>(&net));
    return out;
  } else if constexpr (dual) {
    constexpr int N = detail::first_dual<X...>::value;
    const std::size_t nx = sizeof...(X);
    detail::DualCallScratch<N>& scratch = detail::dual_call_scratch<N>();
    detail::Gathered<N>& g = scratch.gathered;
    std::vector<double>& buf = scratch.buf;
    const std::size_t need = nx + net.n_units() + 2 * net.max_width();
    if (buf.size() < need) buf.resize(need);
    g.resize(nx);
    std::size_t i = 0;
    (detail::put<N>(g, i++, x), ...);
    const double* wv = detail::weight_values(w, nw);
    double* d_x = buf.data();
    double* acts = d_x + nx;
    for (std::size_t k = 0; k < nx; ++k)
      d_x[k] = 0.0;
    mlp_forward(net, wv, g.value.data(), acts);
    const double y = acts[net.n_units() - 1];
    const double one = 1.0;
    // d y / d x for the Dual inputs only (assemble skips the others).
    mlp_pullback_from(net, wv, g.value.data(), acts, &one, nullptr, d_x,
                      acts + net.n_units(), g.dual.data());
    return detail::assemble<N>(y, g, nx, d_x, 0, 0, nullptr);
  } else {
    const double* wv = detail::weight_values(w, nw);
    const double xs[] = {double(x)...};
    double y = 0.0;
    mlp(net, wv, xs, &y);
    return y;
  }
}

/// The single output of a deep-sets network with weights w[0 .. net.n_weights())
/// (as in `mlp_apply`), the event's inputs `event` (a tuple, net.n_event()) and
/// `features` (a tuple of net.n_features() containers of one length: the objects'
/// features): a double, a Rev<double> (one tape node) or a Dual, by the same rules
/// as `mlp_apply`. Throws std::invalid_argument for containers of different lengths
/// or a wrong number of inputs.
template <class W, class... X, class... F>
inline auto deepsets_apply(const DeepSets& net, const W& w,
                           const std::tuple<X...>& event,
                           const std::tuple<F...>& features) {
  using WE = detail::element_t<W>;
  constexpr bool rev = is_rev_v<WE> || (is_rev_v<X> || ...) ||
                       (is_rev_v<detail::element_t<std::decay_t<F>>> || ...);
  constexpr bool dual =
      (is_dual_v<X> || ...) || (is_dual_v<detail::element_t<std::decay_t<F>>> || ...);
  static_assert(!(rev && dual), "diffana::nn::deepsets_apply: reverse-mode (Rev) and "
                                "forward-mode (Dual) scalars do not mix");
  const std::size_t n_ev = sizeof...(X);
  const std::size_t nf = sizeof...(F);
  detail::check_apply(
      "deepsets_apply",
      int(n_ev) == net.n_event() && int(nf) == net.n_features() && net.n_out() == 1,
      [&] {
        return std::to_string(net.n_event()) + " event inputs and " +
               std::to_string(net.n_features()) + " object features and gives " +
               std::to_string(net.n_out()) + " outputs";
      },
      [&] {
        return std::to_string(n_ev) + " and " + std::to_string(nf) + " for 1 output";
      });
  const std::size_t n_obj = detail::n_objects("deepsets_apply", features);
  const std::size_t nw = net.n_weights();
  const std::size_t n_in = n_ev + n_obj * nf;
  if constexpr (rev) {
    thread_local detail::RevCall call;
    call.in.resize(nw + n_in);
    call.data.resize(nw + n_in);
    for (std::size_t j = 0; j < nw; ++j)
      call.in[j] = Rev<double>(w[j]);
    std::size_t i = nw;
    std::apply([&](const auto&... x) { ((call.in[i++] = Rev<double>(x)), ...); },
               event);
    std::size_t c = 0;
    std::apply(
        [&](const auto&... f) {
          (
              (void)[&](const auto& col) {
                for (std::size_t j = 0; j < n_obj; ++j)
                  call.in[nw + n_ev + j * nf + c] = Rev<double>(col[j]);
                ++c;
              }(f),
              ...);
        },
        features);
    for (std::size_t k = 0; k < nw + n_in; ++k)
      call.data[k] = call.in[k].value();
    const double* d = call.data.data();
    double y = 0.0;
    deepsets_forward(net, d, d + nw, d + nw + n_ev, int(n_obj), &y);
    Rev<double> out;
    record_custom(call.in.data(), nw + n_in, &y, &out, 1,
                  &detail::deepsets_node_pullback, call.data.data(), nw + n_in,
                  const_cast<DeepSets*>(&net));
    return out;
  } else {
    constexpr int N0 =
        detail::first_dual<X..., detail::element_t<std::decay_t<F>>...>::value;
    constexpr int N = dual ? N0 : 1;
    detail::DualCallScratch<N>& scratch = detail::dual_call_scratch<N>();
    detail::Gathered<N>& g = scratch.gathered;
    detail::gather_deepsets<N>(g, event, features, n_obj);
    const double* wv = detail::weight_values(w, nw);
    double y = 0.0;
    deepsets_forward(net, wv, g.value.data(), g.value.data() + n_ev, int(n_obj), &y);
    if constexpr (!dual) {
      return y;
    } else {
      std::vector<double>& d_in = scratch.buf;
      d_in.assign(n_in, 0.0);
      const double one = 1.0;
      deepsets_pullback(net, wv, g.value.data(), g.value.data() + n_ev, int(n_obj),
                        &one, nullptr, d_in.data(), d_in.data() + n_ev);
      return detail::assemble<N>(y, g, n_in, d_in.data(), 0, 0, nullptr);
    }
  }
}

} // namespace nn
} // namespace diffana
