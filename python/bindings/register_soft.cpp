// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.soft`: the relaxed element-wise ops on numpy arrays, one function per
/// line of the table in relaxed_ops.hpp, all registered by `register_relaxed_op`. Each
/// returns the value and its partial derivatives with respect to every input (the
/// Python layer, `diffana.soft_cut` and friends, combines them with the user's
/// tangents).
#include "pybind11.hpp"
#include "relaxed_ops.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace diffana::bindings {
namespace {

/// Broadcasts the inputs, runs the op's kernel with the GIL released and returns
/// (value, d/d in_0, ...) as numpy arrays of the broadcast shape.
template <std::size_t K, std::size_t M>
py::tuple call_relaxed(const RelaxedOp<K, M>& op, const std::array<py::object, K>& objs,
                       const std::array<int, M>& options) {
  const auto in =
      broadcast(std::vector<py::object>(objs.begin(), objs.end()),
                std::vector<const char*>(op.inputs.begin(), op.inputs.end()));
  const auto shape = shape_of(in[0]);
  std::vector<py::array_t<double>> out;
  std::array<const double*, K> in_ptrs{};
  std::array<double*, K + 1> out_ptrs{};
  for (std::size_t k = 0; k < K; ++k)
    in_ptrs[k] = in[k].data();
  for (std::size_t k = 0; k < K + 1; ++k) {
    out.push_back(zeros(shape));
    out_ptrs[k] = out.back().mutable_data();
  }
  const auto n = static_cast<std::int64_t>(in[0].size());
  int status = 0;
  {
    py::gil_scoped_release release;
    status = op(in_ptrs, n, options, out_ptrs);
  }
  raise_status(op.kernel_name, status);
  py::tuple result(K + 1);
  for (std::size_t k = 0; k < K + 1; ++k)
    result[k] = out[k];
  return result;
}

template <std::size_t K, std::size_t M, std::size_t... I, std::size_t... J>
void def_relaxed(py::module_& m, const RelaxedOp<K, M>& op, std::index_sequence<I...>,
                 std::index_sequence<J...>) {
  m.def(
      op.name,
      [op](detail::repeat<py::object, I>... in, detail::repeat<int, J>... opt) {
        return call_relaxed(op, {{in...}}, {{opt...}});
      },
      py::arg(op.inputs[I])...,
      py::arg_v(op.options[J].name, op.options[J].default_value)..., op.doc);
}

/// `_core.soft.<op.name>(in_0, ..., in_{K-1}, opt_0=default, ...)` for one table line.
template <std::size_t K, std::size_t M>
void register_relaxed_op(py::module_& m, const RelaxedOp<K, M>& op) {
  def_relaxed(m, op, std::make_index_sequence<K>{}, std::make_index_sequence<M>{});
}

} // namespace
} // namespace diffana::bindings

void register_soft(pybind11::module_ m) {
  m.doc() = "Element-wise relaxed cuts (raw; see diffana.soft_cut).";
  diffana::bindings::for_each_relaxed_op(
      [&](const auto& op) { diffana::bindings::register_relaxed_op(m, op); });
}
