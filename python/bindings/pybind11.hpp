// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The single pybind11 prelude that every binding file of `diffana._core` includes
/// first, so that every translation unit sees the same pybind11 headers, the same
/// type casters and the same helpers (iminuit and boost-histogram keep such a header
/// to avoid ODR violations between binding files).
#pragma once

#include "diffana/config.hpp"
#include "diffana/kernels.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace diffana::bindings {

namespace py = pybind11;

/// A C-contiguous float64 numpy array; pybind11 converts any array-like (lists,
/// float32 or integer arrays, non-contiguous views) once, at the boundary.
using ArrayF64 = py::array_t<double, py::array::c_style | py::array::forcecast>;

/// "(3, 4)": a shape as numpy prints it.
inline std::string shape_string(const py::array& a) {
  std::ostringstream os;
  os << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    os << (i ? ", " : "") << a.shape(i);
  }
  if (a.ndim() == 1) os << ",";
  os << ")";
  return os.str();
}

/// Converts an array-like to a contiguous float64 array, raising a TypeError that
/// names the argument when the conversion is impossible (None, strings, objects).
inline ArrayF64 to_f64(const py::handle& obj, const char* name) {
  if (obj.is_none()) {
    throw py::type_error(std::string(name) + " must be an array of numbers, got None");
  }
  // numpy turns strings into arrays of dtype '<U..' that forcecast would then try to
  // parse: refuse them here, with the argument's name.
  const auto arr = py::array::ensure(obj);
  const char kind = arr ? arr.dtype().kind() : 'O';
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
    const std::string what =
        arr ? "dtype " + py::str(arr.dtype()).cast<std::string>()
            : py::str(py::type::of(obj).attr("__name__")).cast<std::string>();
    throw py::type_error(std::string(name) + " must be an array of real numbers, got " +
                         what);
  }
  return ArrayF64::ensure(arr);
}

/// Raises ValueError("<name> must be <what>, got shape (...)") unless ndim matches.
inline void require_ndim(const py::array& a, py::ssize_t ndim, const char* name) {
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) +
                          "-dimensional, got shape " + shape_string(a));
  }
}

/// Raises ValueError naming both arguments and both shapes unless a.shape == b.shape.
inline void require_same_shape(const py::array& a, const char* a_name,
                               const py::array& b, const char* b_name) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i)
    same = a.shape(i) == b.shape(i);
  if (!same) {
    throw py::value_error(std::string(a_name) + " and " + b_name +
                          " must have the same shape, got " + shape_string(a) +
                          " and " + shape_string(b));
  }
}

/// Turns a non-zero kernel status into ValueError("<kernel>: <message>").
inline void raise_status(const char* kernel, int status) {
  if (status != DIFFANA_OK) {
    throw py::value_error(std::string(kernel) + " failed with status " +
                          std::to_string(status) + ": " +
                          diffana_status_message(status));
  }
}

/// An optional argument: None stays empty, anything else goes through to_f64.
inline std::optional<ArrayF64> optional_f64(const py::handle& obj, const char* name) {
  if (obj.is_none()) return std::nullopt;
  return to_f64(obj, name);
}

/// The pointer to an optional array's data, or nullptr for an absent argument.
inline const double* data_or_null(const std::optional<ArrayF64>& a) {
  return a ? a->data() : nullptr;
}

/// A new zero-filled float64 array of the given shape.
inline py::array_t<double> zeros(const std::vector<py::ssize_t>& shape) {
  py::array_t<double> a(shape);
  std::fill(a.mutable_data(), a.mutable_data() + a.size(), 0.0);
  return a;
}

/// Broadcasts the inputs against each other (numpy rules) and returns them as
/// contiguous float64 arrays of the common shape; a ValueError names the arguments
/// and their shapes when they do not broadcast.
inline std::vector<ArrayF64> broadcast(const std::vector<py::object>& objs,
                                       const std::vector<const char*>& names) {
  std::vector<ArrayF64> arrays;
  py::list list;
  for (std::size_t i = 0; i < objs.size(); ++i) {
    arrays.push_back(to_f64(objs[i], names[i]));
    list.append(arrays.back());
  }
  py::object numpy = py::module_::import("numpy");
  py::object out;
  try {
    out = numpy.attr("broadcast_arrays")(*list);
  } catch (const py::error_already_set& e) {
    if (!e.matches(PyExc_ValueError)) throw;
    std::string msg = "the arguments do not broadcast together: ";
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      msg += (i ? ", " : "") + std::string(names[i]) + " has shape " +
             shape_string(arrays[i]);
    }
    throw py::value_error(msg);
  }
  std::vector<ArrayF64> result;
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    result.push_back(ArrayF64::ensure(py::object(out[py::int_(i)])));
  }
  return result;
}

inline std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

} // namespace diffana::bindings

// One registration function per `_core` submodule (one file each).
void register_hist(pybind11::module_ m);
void register_soft(pybind11::module_ m);
void register_physics(pybind11::module_ m);
/// The relaxed AGC step's CPU twin (register_agc_relaxed.cpp).
void register_agc_relaxed(pybind11::module_ m);
/// The CUDA kernels on device pointers (register_cuda.cpp; `built` tells whether the
/// extension holds them).
void register_cuda(pybind11::module_ m);
/// XLA FFI handlers of diffana.jax (register_jax_ffi.cpp; `has_ffi` tells whether
/// the extension was built with jaxlib's FFI headers).
void register_jax_ffi(pybind11::module_ m);
