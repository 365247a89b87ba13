// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Pullbacks (reverse-mode rules) of the scalar math library, named as Clad names its
/// custom derivatives: `exp_pullback(x, d_y, &d_x)` adds exp'(x) d_y to d_x.
///
/// Each pullback is derived from the forward rule of math.hpp (`NAME_pushforward` or
/// `NAME_partials`), which stays the single place where a derivative is written down:
/// for a scalar function the pullback of an adjoint is its pushforward, and for two
/// arguments each partial is scaled by the output adjoint. Pullbacks accumulate
/// (`+=`), as Clad's do, and a zero output adjoint adds exactly nothing (no 0 * inf
/// at a domain edge such as sqrt at 0, as a zero tangent in Dual). Plain
/// floating-point scalars only; `diffana::Rev` (reverse.hpp) uses them with d_y = 1 to
/// get the partials it stores on the tape.
#pragma once

#include "diffana/ad/math.hpp"
#include "diffana/config.hpp"

namespace diffana {

// ---- one argument: d_x += f'(x) d_y -------------------------------------------------

#define DIFFANA_MATH_PULLBACK(NAME)                                                    \
  template <class T> DIFFANA_HOST_DEVICE void NAME##_pullback(T x, T d_y, T* d_x) {    \
    if (d_y == T(0)) return;                                                           \
    *d_x += NAME##_pushforward(x, d_y).pushforward;                                    \
  }
/// exp_pullback(x, d_y, d_x): *d_x += exp(x) d_y.
DIFFANA_MATH_PULLBACK(exp)
/// expm1_pullback: *d_x += exp(x) d_y.
DIFFANA_MATH_PULLBACK(expm1)
/// log_pullback: *d_x += d_y / x.
DIFFANA_MATH_PULLBACK(log)
/// log1p_pullback: *d_x += d_y / (1 + x).
DIFFANA_MATH_PULLBACK(log1p)
/// log10_pullback: *d_x += d_y / (x ln 10).
DIFFANA_MATH_PULLBACK(log10)
/// sqrt_pullback: *d_x += d_y / (2 sqrt(x)) (infinite at 0 for d_y != 0).
DIFFANA_MATH_PULLBACK(sqrt)
/// cbrt_pullback: *d_x += d_y / (3 cbrt(x)^2).
DIFFANA_MATH_PULLBACK(cbrt)
/// sin_pullback: *d_x += cos(x) d_y.
DIFFANA_MATH_PULLBACK(sin)
/// cos_pullback: *d_x += -sin(x) d_y.
DIFFANA_MATH_PULLBACK(cos)
/// tan_pullback: *d_x += (1 + tan(x)^2) d_y.
DIFFANA_MATH_PULLBACK(tan)
/// asin_pullback: *d_x += d_y / sqrt(1 - x^2).
DIFFANA_MATH_PULLBACK(asin)
/// acos_pullback: *d_x += -d_y / sqrt(1 - x^2).
DIFFANA_MATH_PULLBACK(acos)
/// atan_pullback: *d_x += d_y / (1 + x^2).
DIFFANA_MATH_PULLBACK(atan)
/// sinh_pullback: *d_x += cosh(x) d_y.
DIFFANA_MATH_PULLBACK(sinh)
/// cosh_pullback: *d_x += sinh(x) d_y.
DIFFANA_MATH_PULLBACK(cosh)
/// tanh_pullback: *d_x += d_y / cosh(x)^2.
DIFFANA_MATH_PULLBACK(tanh)
/// asinh_pullback: *d_x += d_y / hypot(x, 1).
DIFFANA_MATH_PULLBACK(asinh)
/// acosh_pullback: *d_x += d_y / (sqrt(x - 1) sqrt(x + 1)).
DIFFANA_MATH_PULLBACK(acosh)
/// atanh_pullback: *d_x += d_y / (1 - x^2).
DIFFANA_MATH_PULLBACK(atanh)
/// erf_pullback: *d_x += 2 / sqrt(pi) exp(-x^2) d_y.
DIFFANA_MATH_PULLBACK(erf)
/// erfc_pullback: *d_x += -2 / sqrt(pi) exp(-x^2) d_y.
DIFFANA_MATH_PULLBACK(erfc)
/// abs_pullback: *d_x += sign(x) d_y (sign(0) = 0).
DIFFANA_MATH_PULLBACK(abs)
#undef DIFFANA_MATH_PULLBACK

/// fabs_pullback is abs_pullback.
template <class T> DIFFANA_HOST_DEVICE void fabs_pullback(T x, T d_y, T* d_x) {
  abs_pullback(x, d_y, d_x);
}

// ---- two arguments: d_x += df/dx d_z, d_y += df/dy d_z ------------------------------

#define DIFFANA_MATH_PULLBACK2(NAME)                                                   \
  template <class T>                                                                   \
  DIFFANA_HOST_DEVICE void NAME##_pullback(T x, T y, T d_z, T* d_x, T* d_y) {          \
    if (d_z == T(0)) return;                                                           \
    const auto p = NAME##_partials(x, y);                                              \
    *d_x += p.d_x * d_z;                                                               \
    *d_y += p.d_y * d_z;                                                               \
  }
/// pow_pullback(x, y, d_z, d_x, d_y) for z = x^y (conventions of pow_partials: 0 for
/// d/dx at y = 0, 0 for d/dy where x = 0 or x^y = 0).
DIFFANA_MATH_PULLBACK2(pow)
/// hypot_pullback(x, y, d_z, d_x, d_y): d_x += x / z d_z, d_y += y / z d_z (0 at the
/// origin).
DIFFANA_MATH_PULLBACK2(hypot)
/// atan2_pullback(y, x, d_z, d_y, d_x) in the argument order of atan2(y, x): the
/// first pointer gets d/dy = x / r^2, the second d/dx = -y / r^2 (0 at the origin).
DIFFANA_MATH_PULLBACK2(atan2)
#undef DIFFANA_MATH_PULLBACK2

/// max_pullback(x, y, d_z, d_x, d_y): the adjoint goes to the larger argument, half to
/// each at a tie (as Dual and JAX).
template <class T>
DIFFANA_HOST_DEVICE void max_pullback(T x, T y, T d_z, T* d_x, T* d_y) {
  const T wx = (x > y) ? T(1) : ((x < y) ? T(0) : T(0.5));
  *d_x += wx * d_z;
  *d_y += (T(1) - wx) * d_z;
}

/// min_pullback(x, y, d_z, d_x, d_y): the adjoint goes to the smaller argument, half
/// to each at a tie.
template <class T>
DIFFANA_HOST_DEVICE void min_pullback(T x, T y, T d_z, T* d_x, T* d_y) {
  const T wx = (x < y) ? T(1) : ((x > y) ? T(0) : T(0.5));
  *d_x += wx * d_z;
  *d_y += (T(1) - wx) * d_z;
}

/// fmax_pullback / fmin_pullback are max_pullback / min_pullback.
template <class T>
DIFFANA_HOST_DEVICE void fmax_pullback(T x, T y, T d_z, T* d_x, T* d_y) {
  max_pullback(x, y, d_z, d_x, d_y);
}
template <class T>
DIFFANA_HOST_DEVICE void fmin_pullback(T x, T y, T d_z, T* d_x, T* d_y) {
  min_pullback(x, y, d_z, d_x, d_y);
}

/// clamp_pullback(x, lo, hi, d_z, d_x, d_lo, d_hi): the adjoint goes to whichever
/// value clamp returns (x when lo <= x <= hi).
template <class T>
DIFFANA_HOST_DEVICE void clamp_pullback(T x, T lo, T hi, T d_z, T* d_x, T* d_lo,
                                        T* d_hi) {
  if (x < lo)
    *d_lo += d_z;
  else if (x > hi)
    *d_hi += d_z;
  else
    *d_x += d_z;
}

} // namespace diffana
