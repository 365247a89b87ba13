// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The relaxed element-wise ops, declared once: the table `relaxed_ops` that
/// register_soft.cpp (the numpy-level functions of `diffana._core.soft`) and
/// register_jax_ffi.cpp (the XLA FFI handlers `diffana_jax_soft_<name>`) both walk,
/// as boost-histogram registers every storage through one `register_storage<T>`.
///
/// Every relaxed kernel has the shape that include/diffana/kernels.h documents,
///   int diffana_soft_<name>_f64(in_0, ..., in_{K-1}, n, opt_0, ..., opt_{M-1},
///                               value, d_in_0, ..., d_in_{K-1});
/// so a table line names the op, its kernel, its K inputs (in_0 is the event data, the
/// others are parameters that must be finite) and its M integer options with their
/// defaults. `RelaxedOp<K, M>` spells out the kernel's type from K and M: a line whose
/// kernel does not have that shape does not compile. The Python side of the same table
/// is python/diffana/_ops.py. Includes nothing of pybind11 or XLA.
#pragma once

#include "diffana/kernels.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

namespace diffana::bindings {

namespace detail {

template <class T, std::size_t> using repeat = T;

template <class In, class Opt, class Out> struct RelaxedKernel;

/// The kernel type int(*)(const double* x K, int64_t, int x M, double* x (K + 1)) and
/// a call that spreads arrays of pointers and options over its arguments.
template <std::size_t... I, std::size_t... J, std::size_t... R>
struct RelaxedKernel<std::index_sequence<I...>, std::index_sequence<J...>,
                     std::index_sequence<R...>> {
  using type = int (*)(repeat<const double*, I>..., std::int64_t, repeat<int, J>...,
                       repeat<double*, R>...);

  static int call(type kernel, const std::array<const double*, sizeof...(I)>& in,
                  std::int64_t n, const std::array<int, sizeof...(J)>& options,
                  const std::array<double*, sizeof...(R)>& out) {
    return kernel(in[I]..., n, options[J]..., out[R]...);
  }
};

} // namespace detail

/// An integer option of a relaxed kernel (e.g. keep_above) and its default.
struct RelaxedOption {
  const char* name;
  int default_value;
};

/// One relaxed op with K inputs and M options: a line of the table below.
template <std::size_t K, std::size_t M> struct RelaxedOp {
  using Kernel =
      detail::RelaxedKernel<std::make_index_sequence<K>, std::make_index_sequence<M>,
                            std::make_index_sequence<K + 1>>;
  static constexpr std::size_t n_inputs = K;
  static constexpr std::size_t n_options = M;

  const char* name;        ///< `_core.soft.<name>`, FFI target diffana_jax_soft_<name>
  const char* kernel_name; ///< the C entry point, for error messages
  typename Kernel::type kernel;
  std::array<const char*, K> inputs;
  std::array<RelaxedOption, M> options;
  const char* doc; ///< the docstring of `_core.soft.<name>`

  /// Runs the kernel on n elements: out = (value, d/d in_0, ..., d/d in_{K-1}).
  int operator()(const std::array<const double*, K>& in, std::int64_t n,
                 const std::array<int, M>& opts,
                 const std::array<double*, K + 1>& out) const {
    return Kernel::call(kernel, in, n, opts, out);
  }
};

/// The table: one line per relaxed op (python/diffana/_ops.py has the same entries).
inline constexpr auto relaxed_ops = std::make_tuple(
    RelaxedOp<3, 1>{"cut",
                    "diffana_soft_cut_f64",
                    &diffana_soft_cut_f64,
                    {"x", "cut", "slope"},
                    {{{"keep_above", 1}}},
                    R"doc(Sigmoid cut (diffana_soft_cut_f64), as relaxed.cut.

keep_above=1: sigmoid(slope * (x - cut)); 0: sigmoid(slope * (cut - x)). The inputs
broadcast against each other. Returns (value, d_value/d_x, d_value/d_cut,
d_value/d_slope), each of the broadcast shape.)doc"},
    RelaxedOp<4, 0>{"window",
                    "diffana_soft_window_f64",
                    &diffana_soft_window_f64,
                    {"x", "lo", "hi", "slope"},
                    {},
                    R"doc(Soft window lo < x < hi (diffana_soft_window_f64).

Returns (value, d/d_x, d/d_lo, d/d_hi, d/d_slope), each of the broadcast shape.)doc"});

/// Calls f(op) for every line of the table, in order.
template <class F> void for_each_relaxed_op(F&& f) {
  std::apply([&](const auto&... op) { (f(op), ...); }, relaxed_ops);
}

} // namespace diffana::bindings
