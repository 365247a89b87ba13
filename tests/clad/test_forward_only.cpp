// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Regression test for a crash of the Clad plugin (clang segfault in
/// Sema::PushOnScopeChains): Clad instantiates custom derivatives at the end of the
/// translation unit, when clang has no scope left to declare __builtin_memcpy in; the
/// first copy or move assignment of a diffana::Dual (a class with an array member)
/// inside such an instantiation made clang define that operator then, with a memcpy
/// of the tangent array, and crash. This TU uses Dual<double, 1> nowhere but inside
/// the custom pushforward of soft_argmax (forward mode only); test_dual_same_tu.cpp
/// covers assignments in both modes. Built by tests/clad/run.sh.
#include "diffana/clad/custom_derivatives.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <cmath>
#include <cstdio>
#include <vector>

double weight(const std::vector<double>& scores, double temperature) {
  return 3.0 * diffana::soft_argmax(scores, temperature);
}

int main() {
  const std::vector<double> x = {1.0, 1.4, 1.2};
  const double d = clad::differentiate(weight, "temperature").execute(x, 0.5);
  // d/dt of 3 soft_argmax: -3 sum_i p_i (i - a) u_i / t, from the closed form.
  double p[3], sum = 0, a = 0, g = 0;
  for (int i = 0; i < 3; ++i)
    sum += p[i] = std::exp((x[i] - 1.4) / 0.5);
  for (int i = 0; i < 3; ++i)
    a += i * (p[i] /= sum);
  for (int i = 0; i < 3; ++i)
    g += p[i] * (i - a) * (x[i] - 1.4) / 0.5;
  const double expected = -3.0 * g / 0.5;
  const bool ok = std::fabs(d - expected) <= 1e-12 * std::fabs(expected);
  std::printf("%s forward-only TU (no Dual assignment at the end of the TU): %.15g vs "
              "%.15g\n",
              ok ? "ok  " : "FAIL", d, expected);
  return ok ? 0 : 1;
}
