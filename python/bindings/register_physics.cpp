// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.physics`: the Lorentz kernels `diffana_physics_<op>_f64`
/// (src/kernels/physics_<op>.cpp) on numpy arrays, one function per line of the table
/// in `register_physics`. Each broadcasts its inputs, runs the kernel with the GIL
/// released and returns the value and the partial derivatives with respect to every
/// input; the Python layer (`diffana.physics`) multiplies them with the user's
/// tangents.
#include "pybind11.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace diffana::bindings {
namespace {

template <class T, std::size_t> using repeat = T;

template <class In> struct PhysicsKernel;

/// The kernel type int(*)(const double* x K, int64_t, double* value, double* partials)
/// and a call that spreads an array of input pointers over its arguments.
template <std::size_t... I> struct PhysicsKernel<std::index_sequence<I...>> {
  using type = int (*)(repeat<const double*, I>..., std::int64_t, double*, double*);

  static int call(type kernel, const std::array<const double*, sizeof...(I)>& in,
                  std::int64_t n, double* value, double* partials) {
    return kernel(in[I]..., n, value, partials);
  }
};

/// One Lorentz kernel with K inputs and O results per element (1, or 4 for the basis
/// changes): a line of the table in register_physics.
template <std::size_t K, std::size_t O> struct PhysicsOp {
  using Kernel = PhysicsKernel<std::make_index_sequence<K>>;

  const char* name;        ///< `_core.physics.<name>`
  const char* kernel_name; ///< the C entry point, for error messages
  typename Kernel::type kernel;
  std::array<const char*, K> inputs;
  const char* doc;
};

/// Broadcasts the inputs to a shape s and returns (value, partials): value[s] and
/// partials[s + (K,)] for O = 1, value[s + (O,)] and partials[s + (O, K)] otherwise.
template <std::size_t K, std::size_t O>
py::tuple call_physics(const PhysicsOp<K, O>& op,
                       const std::array<py::object, K>& objs) {
  const auto in =
      broadcast(std::vector<py::object>(objs.begin(), objs.end()),
                std::vector<const char*>(op.inputs.begin(), op.inputs.end()));
  auto shape = shape_of(in[0]);
  if constexpr (O > 1) shape.push_back(static_cast<py::ssize_t>(O));
  auto value = zeros(shape);
  shape.push_back(static_cast<py::ssize_t>(K));
  auto partials = zeros(shape);
  std::array<const double*, K> in_ptrs{};
  for (std::size_t k = 0; k < K; ++k)
    in_ptrs[k] = in[k].data();
  const auto n = static_cast<std::int64_t>(in[0].size());
  double* pv = value.mutable_data();
  double* pd = partials.mutable_data();
  int status = 0;
  {
    py::gil_scoped_release release;
    status = PhysicsOp<K, O>::Kernel::call(op.kernel, in_ptrs, n, pv, pd);
  }
  raise_status(op.kernel_name, status);
  return py::make_tuple(value, partials);
}

template <std::size_t K, std::size_t O, std::size_t... I>
void def_physics(py::module_& m, const PhysicsOp<K, O>& op, std::index_sequence<I...>) {
  m.def(
      op.name,
      [op](repeat<py::object, I>... in) { return call_physics(op, {{in...}}); },
      py::arg(op.inputs[I])..., op.doc);
}

/// `_core.physics.<op.name>(in_0, ..., in_{K-1})` for one table line.
template <std::size_t K, std::size_t O>
void register_physics_op(py::module_& m, const PhysicsOp<K, O>& op) {
  def_physics(m, op, std::make_index_sequence<K>{});
}

} // namespace
} // namespace diffana::bindings

void register_physics(pybind11::module_ m) {
  using diffana::bindings::PhysicsOp;
  using diffana::bindings::register_physics_op;
  m.doc() = "Lorentz-vector helpers: value and partials (raw; see diffana.physics).";
  register_physics_op(
      m, PhysicsOp<8, 1>{"invariant_mass",
                         "diffana_physics_invariant_mass_f64",
                         &diffana_physics_invariant_mass_f64,
                         {"pt1", "eta1", "phi1", "m1", "pt2", "eta2", "phi2", "m2"},
                         "Invariant mass of two (pt, eta, phi, m) objects "
                         "(diffana_physics_invariant_mass_f64): (value[s], "
                         "partials[s, 8])."});
  register_physics_op(m, PhysicsOp<12, 1>{"invariant_mass3",
                                          "diffana_physics_invariant_mass3_f64",
                                          &diffana_physics_invariant_mass3_f64,
                                          {"pt1", "eta1", "phi1", "m1", "pt2", "eta2",
                                           "phi2", "m2", "pt3", "eta3", "phi3", "m3"},
                                          "Invariant mass of three objects "
                                          "(diffana_physics_invariant_mass3_f64): "
                                          "(value[s], partials[s, 12])."});
  register_physics_op(m, PhysicsOp<4, 1>{"pt_of_sum",
                                         "diffana_physics_pt_of_sum_f64",
                                         &diffana_physics_pt_of_sum_f64,
                                         {"pt1", "phi1", "pt2", "phi2"},
                                         "pT of the sum of two objects "
                                         "(diffana_physics_pt_of_sum_f64): (value[s], "
                                         "partials[s, 4])."});
  register_physics_op(m, PhysicsOp<6, 1>{"pt_of_sum3",
                                         "diffana_physics_pt_of_sum3_f64",
                                         &diffana_physics_pt_of_sum3_f64,
                                         {"pt1", "phi1", "pt2", "phi2", "pt3", "phi3"},
                                         "pT of the sum of three objects "
                                         "(diffana_physics_pt_of_sum3_f64): (value[s], "
                                         "partials[s, 6])."});
  register_physics_op(m, PhysicsOp<2, 1>{"delta_phi",
                                         "diffana_physics_delta_phi_f64",
                                         &diffana_physics_delta_phi_f64,
                                         {"phi1", "phi2"},
                                         "phi1 - phi2 wrapped into [-pi, pi) "
                                         "(diffana_physics_delta_phi_f64): (value[s], "
                                         "partials[s, 2])."});
  register_physics_op(m, PhysicsOp<4, 1>{"delta_r",
                                         "diffana_physics_delta_r_f64",
                                         &diffana_physics_delta_r_f64,
                                         {"eta1", "phi1", "eta2", "phi2"},
                                         "Delta R (diffana_physics_delta_r_f64): "
                                         "(value[s], partials[s, 4])."});
  register_physics_op(m, PhysicsOp<4, 4>{"to_cartesian",
                                         "diffana_physics_to_cartesian_f64",
                                         &diffana_physics_to_cartesian_f64,
                                         {"pt", "eta", "phi", "m"},
                                         "(pt, eta, phi, m) -> (px, py, pz, E) "
                                         "(diffana_physics_to_cartesian_f64): "
                                         "(value[s, 4], partials[s, 4, 4])."});
  register_physics_op(m, PhysicsOp<4, 4>{"from_cartesian",
                                         "diffana_physics_from_cartesian_f64",
                                         &diffana_physics_from_cartesian_f64,
                                         {"px", "py", "pz", "e"},
                                         "(px, py, pz, E) -> (pt, eta, phi, m) "
                                         "(diffana_physics_from_cartesian_f64): "
                                         "(value[s, 4], partials[s, 4, 4])."});
}
