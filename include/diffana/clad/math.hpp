// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana's rules for the <cmath> functions whose Clad built-in derivatives differ
/// from diffana's (ad/math.hpp, ad/math_pullbacks.hpp) -- only at kinks, where Clad's
/// give NaN or a one-sided derivative and diffana::Dual (like JAX) does not:
///   hypot(x, y) at the origin:  0 (Clad: NaN), so the pt of a null vector has none;
///   atan2(y, x) at the origin:  0 (Clad: NaN);
///   pow(x, y) at x = 0:         d/dy = 0 (Clad: 0 * log(0) = NaN);
///   fmax / fmin at a tie:       half the adjoint to each argument (Clad: all to one).
/// Registered for double arguments in clad::custom_derivatives::std, where Clad looks
/// for the derivatives of std:: functions; a non-template overload is preferred to
/// Clad's templates. A zero tangent contributes nothing even where a partial is
/// infinite (pow at x = 0 with y < 1), as in diffana::Dual.
///
/// Included by custom_derivatives.hpp (include that one). May include: diffana's
/// headers and Clad's Differentiator.h.
#pragma once

#include "diffana/ad/math.hpp"
#include "diffana/ad/math_pullbacks.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <cmath>

namespace diffana::clad_bridge {
/// partial * tangent, 0 for a zero tangent (whatever the partial).
inline double times(double partial, double tangent) {
  return tangent == 0.0 ? 0.0 : partial * tangent;
}
} // namespace diffana::clad_bridge

namespace clad::custom_derivatives::std {

// Functions of two arguments whose rule is diffana's NAME_partials / NAME_pullback.
#define DIFFANA_CLAD_MATH2(NAME)                                                       \
  inline ::clad::ValueAndPushforward<double, double> NAME##_pushforward(               \
      double x, double y, double d_x, double d_y) {                                    \
    const auto p = ::diffana::NAME##_partials(x, y);                                   \
    return {p.value, ::diffana::clad_bridge::times(p.d_x, d_x) +                       \
                         ::diffana::clad_bridge::times(p.d_y, d_y)};                   \
  }                                                                                    \
  inline void NAME##_pullback(double x, double y, double d_z, double* d_x,             \
                              double* d_y) {                                           \
    ::diffana::NAME##_pullback(x, y, d_z, d_x, d_y);                                   \
  }
DIFFANA_CLAD_MATH2(hypot)
DIFFANA_CLAD_MATH2(atan2)
DIFFANA_CLAD_MATH2(pow)
#undef DIFFANA_CLAD_MATH2

inline ::clad::ValueAndPushforward<double, double>
fmax_pushforward(double x, double y, double d_x, double d_y) {
  const double w = x > y ? 1.0 : (x < y ? 0.0 : 0.5);
  return {::std::fmax(x, y), w * d_x + (1.0 - w) * d_y};
}
inline void fmax_pullback(double x, double y, double d_z, double* d_x, double* d_y) {
  ::diffana::fmax_pullback(x, y, d_z, d_x, d_y);
}
inline ::clad::ValueAndPushforward<double, double>
fmin_pushforward(double x, double y, double d_x, double d_y) {
  const double w = x < y ? 1.0 : (x > y ? 0.0 : 0.5);
  return {::std::fmin(x, y), w * d_x + (1.0 - w) * d_y};
}
inline void fmin_pullback(double x, double y, double d_z, double* d_x, double* d_y) {
  ::diffana::fmin_pullback(x, y, d_z, d_x, d_y);
}

} // namespace clad::custom_derivatives::std
