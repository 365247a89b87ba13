// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Checks forward-mode tangents against central finite differences (shared by the
/// C++ tests): CHECK_GRADIENT(what, f, x, scale = {}, rel = 1e-7, length = 1, noise =
/// 0) evaluates f (a generic callable on std::array<S, K>) with S = Dual<double, K>
/// seeded with unit tangents and with S = double, and compares value and every tangent.
#pragma once

#include "diffana/ad/dual.hpp"

#include "check.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>

namespace diffana::test {

std::string describe(const std::string& what, const double* x, std::size_t k) {
  std::ostringstream os;
  os.precision(17);
  os << what << " at (";
  for (std::size_t i = 0; i < k; ++i)
    os << (i ? ", " : "") << x[i];
  os << ")";
  return os.str();
}

/// Central difference with one Richardson step (error O(h^4)); the step actually
/// taken, (x + h) - (x - h), is used.
template <class G> double central_difference(const G& g, double x, double h) {
  const double xp = x + h;
  const double xm = x - h;
  const double d_h = (g(xp) - g(xm)) / (xp - xm);
  const double xp2 = x + 0.5 * h;
  const double xm2 = x - 0.5 * h;
  const double d_h2 = (g(xp2) - g(xm2)) / (xp2 - xm2);
  return (4.0 * d_h2 - d_h) / 3.0;
}

/// Value and every tangent of f (generic on std::array<S, K>) against f on doubles
/// and central differences in each argument, step 1e-6 max(|x_k|, length) (at most
/// 1e-3 scale[k] when scale[k] > 0), tolerance 1e-7 relative plus the finite
/// difference's rounding, 100 noise / h, where noise is the rounding error of f
/// (default eps |f|; larger where f cancels, e.g. eps E^2 / m for a mass from E^2 -
/// p^2).
template <std::size_t K, class F>
void check_gradient(const char* file, int line, const std::string& what, const F& f,
                    const std::array<double, K>& x,
                    const std::array<double, K>& scale = {}, double rel = 1e-7,
                    double length = 1.0, double noise = 0.0) {
  using D = ::diffana::Dual<double, static_cast<int>(K)>;
  std::array<D, K> xd;
  for (std::size_t k = 0; k < K; ++k)
    xd[k] = D::variable(x[k], static_cast<int>(k));
  const D r = f(xd);
  const double v = f(x);
  if (!close(r.value(), v, 1e-15, 0.0))
    fail(file, line,
         describe(what, x.data(), K) + ": value " + std::to_string(r.value()) + " vs " +
             std::to_string(v));
  for (std::size_t k = 0; k < K; ++k) {
    double h = 1e-6 * std::max(std::fabs(x[k]), length);
    if (scale[k] > 0.0) h = std::min(h, 1e-3 * scale[k]);
    const auto g = [&](double t) {
      std::array<double, K> y = x;
      y[k] = t;
      return f(y);
    };
    const double fd = central_difference(g, x[k], h);
    const double fmag =
        std::max({std::fabs(g(x[k] + h)), std::fabs(g(x[k] - h)), 1e-300});
    const double abs_tol = 100.0 * std::max(DBL_EPSILON * fmag, noise) / h;
    const double ad = r.tangent(static_cast<int>(k));
    if (!close(ad, fd, rel, abs_tol)) {
      std::ostringstream os;
      os.precision(17);
      os << describe(what, x.data(), K) << ": d/dx" << k << " AD " << ad << " vs FD "
         << fd << " (abs tol " << abs_tol << ")";
      fail(file, line, os.str());
    }
  }
}

} // namespace diffana::test

#define CHECK_GRADIENT(...)                                                            \
  ::diffana::test::check_gradient(__FILE__, __LINE__, __VA_ARGS__)
