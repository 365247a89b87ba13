// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Branch-free exp, tanh and sigmoid in double for whole layers of a network
/// (`diffana::nn::activate_layer`): loops over them vectorise (no call into the
/// C library, no data-dependent branch), where a call of std::exp per unit cost
/// about 8 ns and was, at 100 hidden units, half of a network's forward pass.
///
/// `fast_exp` is Cody-Waite range reduction, x = n ln 2 + r with |r| <= ln 2 / 2,
/// a degree-13 Taylor polynomial for e^r (the next term is under 4e-18 relative)
/// and 2^n put into the exponent bits. Within 2 ulp of std::exp for
/// x in [-708, 709] (1 ulp measured); the argument is clamped to that range (below
/// -708 it gives about 3e-308 instead of a subnormal or 0, above 709 about 8e307
/// instead of inf), which the activations below absorb: tanh is exactly +-1 there,
/// sigmoid 1 or about 1e-308 (not 0). NaN stays NaN.
///
/// `DIFFANA_NN_TARGET_SIMD` marks the copies of the network kernels compiled for
/// AVX2 and FMA (x86-64 with GCC, clang or cling, which otherwise compile for the
/// baseline x86-64: SSE2, two doubles per instruction), and `simd_enabled()` says
/// whether this CPU runs them (checked once; `set_simd(false)` turns them off, for a
/// test that compares both). A build for AVX2 already (-mavx2, -march=native) or
/// another architecture has one copy only. The two copies agree to rounding (FMA
/// rounds once where a multiply and an add round twice), not to the bit.
///
/// Needs only the standard library.
#pragma once

#include "diffana/config.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) &&                                      \
    (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__) &&               \
    !(defined(__AVX2__) && defined(__FMA__))
#include <cpuid.h>
#define DIFFANA_NN_DISPATCH_SIMD 1
#define DIFFANA_NN_TARGET_SIMD __attribute__((target("avx2,fma")))
#else
#define DIFFANA_NN_DISPATCH_SIMD 0
#define DIFFANA_NN_TARGET_SIMD
#endif

namespace diffana {
namespace nn {

namespace detail {
inline std::atomic<int>& simd_switch() {
  static std::atomic<int> on{1};
  return on;
}
#if DIFFANA_NN_DISPATCH_SIMD
/// AVX2 and FMA from CPUID, and the YMM registers saved by the OS (XGETBV). Not
/// __builtin_cpu_supports: cling cannot resolve the runtime symbols it calls.
inline bool cpu_has_simd_now() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = (c >> 12) & 1u;
  const bool osxsave = (c >> 27) & 1u;
  const bool avx = (c >> 28) & 1u;
  if (!(fma && osxsave && avx)) return false;
  unsigned xlo = 0, xhi = 0;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & 0x6u) != 0x6u) return false; // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (b >> 5) & 1u; // AVX2
}
#endif
inline bool cpu_has_simd() {
#if DIFFANA_NN_DISPATCH_SIMD
  static const bool yes = cpu_has_simd_now();
  return yes;
#else
  return false;
#endif
}
} // namespace detail

/// Whether the network kernels run their AVX2 + FMA copy (this CPU has it, the
/// build has a separate copy, and `set_simd` did not turn it off).
inline bool simd_enabled() {
  return DIFFANA_NN_DISPATCH_SIMD && detail::cpu_has_simd() &&
         detail::simd_switch().load(std::memory_order_relaxed) != 0;
}

/// Turns the AVX2 + FMA copy of the network kernels on (the default, where the CPU
/// has it) or off (the baseline copy everywhere); returns the previous setting.
inline bool set_simd(bool on) {
  return detail::simd_switch().exchange(on ? 1 : 0) != 0;
}

/// e^x, branch-free (see the file comment for range and accuracy).
DIFFANA_INLINE double fast_exp(double x) {
  constexpr double log2e = 1.4426950408889634;
  constexpr double ln2_hi = 0.6931471803691238; // 31 significant bits: n ln2_hi exact
  constexpr double ln2_lo = 1.9082149292705877e-10; // ln 2 - ln2_hi
  constexpr double shifter = 6755399441055744.0;    // 1.5 * 2^52: rounds to an integer
  x = x < -708.0 ? -708.0 : x;
  x = x > 709.0 ? 709.0 : x;
  // t = n + 1.5 * 2^52 holds n in its low mantissa bits (n rounded to nearest).
  const double t = x * log2e + shifter;
  const double n = t - shifter;
  const double r = (x - n * ln2_hi) - n * ln2_lo;
  // e^r = 1 + r + r^2 T(r): T (degree 11) in Estrin's form, six independent pairs
  // joined by r^2 and r^4, a dependency chain of 5 multiply-adds where Horner's had
  // 13 (a layer's loop is latency-bound); the last two steps as Horner's, which
  // keeps the result as accurate (T's rounding is scaled by r^2 <= 0.12).
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double p23 = 0.5 + r * (1.0 / 6.0);
  const double p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
  const double p67 = 1.0 / 720.0 + r * (1.0 / 5040.0);
  const double p89 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
  const double p1011 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
  const double p1213 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
  const double q0 = p23 + r2 * p45;
  const double q1 = p67 + r2 * p89;
  const double q2 = p1011 + r2 * p1213;
  const double t_r = q0 + r4 * (q1 + r4 * q2);
  const double p = 1.0 + (r + r2 * t_r);
  std::int64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  // The low 52 bits of t's mantissa are n + 2^51 (two's complement for n < 0):
  // n + 1023 shifted into the exponent field is 2^n.
  const std::int64_t e = ((bits - std::int64_t(0x4338000000000000)) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

/// tanh z, branch-free: 1 - 2 / (e^{2|z|} + 1) from |z| = 1/8 on, the Taylor series
/// to z^15 below (the next term is under 1e-18 relative there); odd, exactly +-1 for
/// large |z|. Both branches are computed, so that a loop over a layer vectorises.
DIFFANA_INLINE double fast_tanh_nb(double z) {
  const double a = z < 0.0 ? -z : z;
  const double z2 = a * a;
  double p = -929569.0 / 638512875.0;
  p = p * z2 + 21844.0 / 6081075.0;
  p = p * z2 - 1382.0 / 155925.0;
  p = p * z2 + 62.0 / 2835.0;
  p = p * z2 - 17.0 / 315.0;
  p = p * z2 + 2.0 / 15.0;
  p = p * z2 - 1.0 / 3.0;
  const double small = a + a * (z2 * p);
  const double large = 1.0 - 2.0 / (fast_exp(2.0 * a) + 1.0);
  const double t = a < 0.125 ? small : large;
  return z < 0.0 ? -t : t;
}

/// 1 / (1 + e^{-z}), branch-free.
DIFFANA_INLINE double fast_sigmoid(double z) {
  return 1.0 / (1.0 + fast_exp(-z));
}

} // namespace nn
} // namespace diffana
