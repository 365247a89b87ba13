// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core`: only creates the submodules; each lives in register_<area>.cpp.
#include "pybind11.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "diffana's compiled kernels (raw, minimal; use the diffana package).";
  m.attr("__version__") = DIFFANA_VERSION_STRING;
  register_hist(m.def_submodule("hist", "Histogram kernels with Jacobians."));
  register_soft(m.def_submodule("soft", "Element-wise relaxed cuts."));
  register_physics(m.def_submodule("physics", "Lorentz-vector helpers with partials."));
  register_agc_relaxed(
      m.def_submodule("agc_relaxed", "The relaxed AGC step (CPU twin)."));
  register_cuda(m.def_submodule("cuda", "CUDA kernels on device pointers."));
  register_jax_ffi(m.def_submodule("jax_ffi", "XLA FFI handlers used by diffana.jax."));
}
