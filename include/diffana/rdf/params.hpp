// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana::rdf::Params<N>`: a block of N named analysis parameters (jet-energy
/// scale, cut values, ...) held in C++ memory. Event-loop code reads them through
/// `dual(i)` (the value seeded as tangent direction i, so everything computed from it
/// carries d/dparam_i) or `value(i)` (a plain number, for finite differences).
/// Setting new values between event loops changes what the next loop computes
/// without recompiling anything: RDataFrame `Define`s capture the block by reference
/// (C++) or name a global instance (a jitted string expression). Values must not
/// change while an event loop runs. Needs only the standard library.
#pragma once

#include "diffana/ad/dual.hpp"

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace diffana {
namespace rdf {

/// N named parameters with values: dual(i) = Dual<double, N>::variable(value_i, i).
///
///   diffana::rdf::Params<2> p({"jes", "btag_cut"}, {1.0, 0.5});
///   df.Define("jes", [&p] { return p.dual(0); });   // d/d(jes) in direction 0
///   p.set("jes", 1.01);                             // before the next event loop
template <int N> class Params {
  static_assert(N >= 1, "diffana::rdf::Params needs N >= 1");

public:
  using dual_type = Dual<double, N>;
  static constexpr int n_params = N;

  /// names and values must each have exactly N entries; names must be distinct and
  /// non-empty. Throws std::invalid_argument naming the argument otherwise.
  Params(const std::vector<std::string>& names, const std::vector<double>& values) {
    if (names.size() != std::size_t(N))
      throw std::invalid_argument("diffana::rdf::Params<" + std::to_string(N) +
                                  ">: names must have " + std::to_string(N) +
                                  " entries, got " + std::to_string(names.size()));
    if (values.size() != std::size_t(N))
      throw std::invalid_argument("diffana::rdf::Params<" + std::to_string(N) +
                                  ">: values must have " + std::to_string(N) +
                                  " entries, got " + std::to_string(values.size()));
    for (std::size_t i = 0; i < std::size_t(N); ++i) {
      if (names[i].empty())
        throw std::invalid_argument("diffana::rdf::Params: names[" + std::to_string(i) +
                                    "] is empty");
      for (std::size_t j = 0; j < i; ++j)
        if (names[j] == names[i])
          throw std::invalid_argument("diffana::rdf::Params: names[" +
                                      std::to_string(i) + "] = '" + names[i] +
                                      "' repeats names[" + std::to_string(j) + "]");
      names_[i] = names[i];
      values_[i] = values[i];
    }
  }

  /// Number of parameters (N).
  static constexpr int size() { return N; }
  /// Index of the parameter called name; throws std::invalid_argument if unknown.
  int index(const std::string& name) const {
    for (int i = 0; i < N; ++i)
      if (names_[std::size_t(i)] == name) return i;
    throw std::invalid_argument("diffana::rdf::Params: no parameter named '" + name +
                                "'");
  }
  const std::string& name(int i) const { return names_[checked(i, "name")]; }
  /// The plain value of parameter i (no bounds check: called per event).
  double value(int i) const { return values_[std::size_t(i)]; }
  /// Parameter i as a Dual: value_i with tangent e_i (d/dparam_i = 1, others 0).
  dual_type dual(int i) const {
    return dual_type::variable(values_[std::size_t(i)], i);
  }
  /// Sets parameter i (between event loops only). Throws std::out_of_range.
  void set(int i, double v) { values_[checked(i, "set")] = v; }
  /// Sets the parameter called name. Throws std::invalid_argument if unknown.
  void set(const std::string& name, double v) { values_[std::size_t(index(name))] = v; }
  /// All values, in order.
  std::vector<double> values() const {
    return std::vector<double>(values_.begin(), values_.end());
  }
  /// Sets all values (exactly N). Throws std::invalid_argument naming `values`.
  void set_values(const std::vector<double>& values) {
    if (values.size() != std::size_t(N))
      throw std::invalid_argument(
          "diffana::rdf::Params::set_values: values must have " + std::to_string(N) +
          " entries, got " + std::to_string(values.size()));
    for (std::size_t i = 0; i < std::size_t(N); ++i)
      values_[i] = values[i];
  }

private:
  std::size_t checked(int i, const char* where) const {
    if (i < 0 || i >= N)
      throw std::out_of_range(std::string("diffana::rdf::Params::") + where +
                              ": index i = " + std::to_string(i) +
                              " out of range [0, " + std::to_string(N) + ")");
    return std::size_t(i);
  }

  std::array<std::string, std::size_t(N)> names_;
  std::array<double, std::size_t(N)> values_{};
};

} // namespace rdf
} // namespace diffana
