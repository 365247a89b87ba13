// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The CUDA XLA FFI handlers of jax_ffi_cuda.cu, seen from register_jax_ffi.cpp
/// (which knows pybind11 but not CUDA): {target name, XLA_FFI_Handler*} pairs for
/// `jax.ffi.register_ffi_target(name, capsule, platform="CUDA")`.
#pragma once

#include <vector>

namespace diffana::bindings {

struct CudaHandler {
  const char* name;
  void* handler;
};

/// The CUDA handlers, under the target names of their CPU twins.
std::vector<CudaHandler> jax_ffi_cuda_handlers();

} // namespace diffana::bindings
