// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Building blocks of the relaxed AGC ttbar selection: soft object counts,
/// the soft region probabilities of 4j1b / 4j2b and the soft trijet mass, each
/// templated on the number type (double, float, Dual<double, N>, Rev<double>), each
/// with a Clad-style `_pullback` (pointer + length for the per-object inputs), and
/// each reducing exactly to the hard AGC selection when its relaxation scale is 0.
///
/// Relaxation scales (all documented at the function):
///  - soft_step(x, cut, width): the cut x > cut becomes soft_cut(x, cut, 1 / width);
///    width (in units of x, e.g. GeV for pt, score units for the b tag) = 0 is the
///    hard step (x > cut, strict, as the AGC's `jets.pt > 30`).
///  - counts: no scale of their own; the count of independent Bernoulli(w_i) objects
///    (a Poisson-binomial distribution) is hard when every w_i is 0 or 1.
///  - soft_trijet_mass: temperature T (GeV) of the softmax over triplets; T = 0 is the
///    hard argmax. Pruning threshold epsilon (dimensionless), see there.
///
/// Inputs are pointer + length (so the core needs neither ROOT nor allocation-heavy
/// containers); overloads take any contiguous container with data() and size()
/// (std::vector, std::array, ROOT::VecOps::RVec). Weights are not checked to lie in
/// [0, 1]. NaN: see each function (never a crash, never an exception from a NaN).
/// The arithmetic type is promote_floating_t of the inputs: float columns (NanoAOD's
/// RVecF) are computed in float; convert them (ROOT::RVecD(Jet_pt)) for double.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/reverse.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana::agc {

// ---- soft steps ---------------------------------------------------------------------

/// The cut x > cut relaxed with a transition width `width` (units of x):
/// soft_cut(x, cut, 1 / width) for width > 0, and the hard step (x > cut ? 1 : 0,
/// zero tangents) for width == 0 -- exactly the AGC's strict cut. As width -> 0 the
/// soft step tends to the hard one everywhere except at x == cut exactly, where it
/// stays 1/2 (NanoAOD's low-precision floats do hit cuts: a 30.0 GeV jet occurs in
/// the 200-event ttbar file); only width == 0 is exactly hard there. The width may
/// be a Dual (a relaxation scale with a gradient, e.g. an analysis parameter):
/// derivatives flow through x, cut and width. A NaN x gives NaN (width > 0) or 0
/// (width == 0, as `NaN > cut` is false in numpy and C++). Throws
/// std::invalid_argument for a negative or NaN width.
template <class X, class C, class W>
promote_floating_t<X, C, W> soft_step(const X& x, const C& cut, const W& width) {
  using R = promote_floating_t<X, C, W>;
  const double wv = static_cast<double>(value(width));
  if (wv == 0.0) return R(value(x) > value(cut) ? 1.0 : 0.0);
  if (!(wv > 0.0))
    throw std::invalid_argument(
        "diffana::agc::soft_step: width = " + std::to_string(wv) + " must be >= 0");
  return diffana::detail::convert<R>(soft_cut(x, cut, 1.0 / width));
}

/// The cut x < cut relaxed as soft_step (soft_cut_below; width 0: x < cut ? 1 : 0).
template <class X, class C, class W>
promote_floating_t<X, C, W> soft_step_below(const X& x, const C& cut, const W& width) {
  using R = promote_floating_t<X, C, W>;
  const double wv = static_cast<double>(value(width));
  if (wv == 0.0) return R(value(x) < value(cut) ? 1.0 : 0.0);
  if (!(wv > 0.0))
    throw std::invalid_argument("diffana::agc::soft_step_below: width = " +
                                std::to_string(wv) + " must be >= 0");
  return diffana::detail::convert<R>(soft_cut_below(x, cut, 1.0 / width));
}

/// soft_step(x, cut, width) pulled back (+=, as Clad's pullbacks): for width > 0 the
/// adjoints of soft_cut(x, cut, 1 / width), with d_width += d_slope (-1 / width^2);
/// nothing for width == 0 (the hard step). Throws as soft_step for a negative or NaN
/// width.
template <class T>
void soft_step_pullback(T x, T cut, T width, T d_y, T* d_x, T* d_cut, T* d_width) {
  if (width == T(0)) return;
  if (!(width > T(0)))
    throw std::invalid_argument("diffana::agc::soft_step: width = " +
                                std::to_string(static_cast<double>(width)) +
                                " must be >= 0");
  T d_slope = T(0);
  soft_cut_pullback(x, cut, T(1) / width, d_y, d_x, d_cut, &d_slope);
  *d_width -= d_slope / (width * width);
}

/// soft_step_below(x, cut, width) pulled back (soft_cut_below with slope 1 / width).
template <class T>
void soft_step_below_pullback(T x, T cut, T width, T d_y, T* d_x, T* d_cut,
                              T* d_width) {
  if (width == T(0)) return;
  if (!(width > T(0)))
    throw std::invalid_argument("diffana::agc::soft_step_below: width = " +
                                std::to_string(static_cast<double>(width)) +
                                " must be >= 0");
  T d_slope = T(0);
  soft_cut_below_pullback(x, cut, T(1) / width, d_y, d_x, d_cut, &d_slope);
  *d_width -= d_slope / (width * width);
}

// ---- jet energy resolution ----------------------------------------------------------

namespace detail {
/// SplitMix64 (Steele, Lea, Flood 2014): a bijective 64-bit mixer; consecutive
/// inputs give statistically independent outputs.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
} // namespace detail

/// The jet-energy-resolution smearing factor 1 + sigma z of jet `jet` of event
/// `event`, z ~ N(0, 1) (the AGC's `pt_res_up`: pt x N(1, 0.05)). Counter-based, so
/// reproducible in any order, on any thread and in numpy: with splitmix64 above and
/// all arithmetic modulo 2^64,
///   key = splitmix64(event ^ splitmix64(seed)),
///   h1 = splitmix64(key + 2 jet), h2 = splitmix64(key + 2 jet + 1),
///   u1 = ((h1 >> 11) + 0.5) 2^-53 in (0, 1), u2 = (h2 >> 11) 2^-53 in [0, 1),
///   z = sqrt(-2 log u1) cos(2 pi u2) (Box-Muller; |z| < 8.7).
inline double jer_factor(std::uint64_t event, std::size_t jet, double sigma = 0.05,
                         std::uint64_t seed = 0) {
  constexpr double two_pi = 6.283185307179586476925286766559;
  constexpr double inv_2_53 = 1.0 / 9007199254740992.0;
  const std::uint64_t key = detail::splitmix64(event ^ detail::splitmix64(seed));
  const std::uint64_t j2 = 2 * static_cast<std::uint64_t>(jet);
  const std::uint64_t h1 = detail::splitmix64(key + j2);
  const std::uint64_t h2 = detail::splitmix64(key + j2 + 1);
  const double u1 = (static_cast<double>(h1 >> 11) + 0.5) * inv_2_53;
  const double u2 = static_cast<double>(h2 >> 11) * inv_2_53;
  return 1.0 + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
}

// ---- soft counts (Poisson-binomial) -------------------------------------------------

/// The largest count threshold K of the count functions (their state lives on the
/// stack).
inline constexpr int kMaxCount = 15;

/// The distribution of the number of successes of n independent Bernoulli(w_i)
/// trials, capped at k: out[j] = P(count == j) for j < k and out[k] = P(count >= k)
/// (out must hold k + 1 numbers). The O(n k) recursion over objects
///   p_j <- p_j (1 - w_i) + p_{j-1} w_i   (j < k),   p_k <- p_k + p_{k-1} w_i
/// keeps P(count >= k) as an absorbing state, so no probability is formed as 1 - sum
/// (no cancellation). Every p_j is a polynomial in the w_i: derivatives flow through
/// them by the Dual arithmetic. With every w_i in {0, 1} the result is exactly the
/// indicator of the hard count. A NaN w_i makes the entries it reaches NaN.
/// Throws std::invalid_argument unless 0 <= k <= kMaxCount.
template <class W> void count_distribution(const W* w, std::size_t n, int k, W* out) {
  if (k < 0 || k > kMaxCount)
    throw std::invalid_argument(
        "diffana::agc::count_distribution: k = " + std::to_string(k) +
        " is outside [0, " + std::to_string(kMaxCount) + "]");
  for (int j = 0; j <= k; ++j)
    out[j] = W(j == 0 ? 1.0 : 0.0);
  if (k == 0) return; // P(count >= 0) = 1
  for (std::size_t i = 0; i < n; ++i) {
    const W& wi = w[i];
    const W qi = W(1.0) - wi;
    out[k] += out[k - 1] * wi;
    for (int j = k - 1; j >= 1; --j)
      out[j] = out[j] * qi + out[j - 1] * wi;
    out[0] *= qi;
  }
}

/// P(count >= k) of independent Bernoulli(w_i) (count_distribution; 1 for k <= 0).
/// E.g. "at least 4 jets" with w_i the jets' soft selection weights.
template <class W> W prob_count_at_least(const W* w, std::size_t n, int k) {
  if (k <= 0) return W(1.0);
  std::array<W, kMaxCount + 1> p;
  count_distribution(w, n, k, p.data());
  return p[static_cast<std::size_t>(k)];
}

/// P(count == k) of independent Bernoulli(w_i) (0 for k < 0).
/// E.g. "exactly one b tag" with w_i = s_i b_i (selected and tagged).
template <class W> W prob_count_exactly(const W* w, std::size_t n, int k) {
  if (k < 0) return W(0.0);
  std::array<W, kMaxCount + 2> p;
  count_distribution(w, n, k + 1, p.data());
  return p[static_cast<std::size_t>(k)];
}

/// prob_count_at_least of a contiguous container (data(), size()).
template <class Container>
auto prob_count_at_least(const Container& w, int k)
    -> std::decay_t<decltype(*std::data(w))> {
  return prob_count_at_least(std::data(w), std::size(w), k);
}

/// prob_count_exactly of a contiguous container (data(), size()).
template <class Container>
auto prob_count_exactly(const Container& w, int k)
    -> std::decay_t<decltype(*std::data(w))> {
  return prob_count_exactly(std::data(w), std::size(w), k);
}

namespace detail {
/// Per-thread scratch for the pullbacks' stored forward states (capacity kept, so a
/// warm thread allocates nothing).
template <class W> std::vector<W>& pullback_scratch(std::size_t size) {
  thread_local std::vector<W> buffer;
  buffer.assign(size, W(0));
  return buffer;
}
} // namespace detail

/// count_distribution(w, n, k, out) pulled back from the adjoints d_out[0..k] of out
/// (+=, into d_w[0..n-1]): the recursion run backwards over the stored states, with
/// d p'_j / d w_i = p_{j-1} - p_j (j < k), p_{k-1} (j = k), -p_0 (j = 0).
/// Throws as count_distribution unless 0 <= k <= kMaxCount.
template <class W>
void count_distribution_pullback(const W* w, std::size_t n, int k, const W* d_out,
                                 W* d_w) {
  if (k < 0 || k > kMaxCount)
    throw std::invalid_argument(
        "diffana::agc::count_distribution: k = " + std::to_string(k) +
        " is outside [0, " + std::to_string(kMaxCount) + "]");
  if (k == 0 || n == 0) return;
  const std::size_t m = static_cast<std::size_t>(k) + 1;
  std::vector<W>& states = detail::pullback_scratch<W>((n + 1) * m);
  states[0] = W(1); // state i: the distribution before object i
  for (std::size_t i = 0; i < n; ++i) {
    const W* p = &states[i * m];
    W* q = &states[(i + 1) * m];
    const W wi = w[i];
    const W qi = W(1) - wi;
    q[k] = p[k] + p[k - 1] * wi;
    for (int j = k - 1; j >= 1; --j)
      q[j] = p[j] * qi + p[j - 1] * wi;
    q[0] = p[0] * qi;
  }
  std::array<W, kMaxCount + 1> a{};
  std::array<W, kMaxCount + 1> a_prev{};
  for (std::size_t j = 0; j < m; ++j)
    a[j] = d_out[j];
  for (std::size_t i = n; i-- > 0;) {
    const W* p = &states[i * m];
    const W wi = w[i];
    const W qi = W(1) - wi;
    W dw = a[static_cast<std::size_t>(k)] * p[k - 1] - a[0] * p[0];
    for (int j = 1; j < k; ++j)
      dw += a[static_cast<std::size_t>(j)] * (p[j - 1] - p[j]);
    d_w[i] += dw;
    for (int j = 0; j < k; ++j)
      a_prev[static_cast<std::size_t>(j)] =
          a[static_cast<std::size_t>(j)] * qi + a[static_cast<std::size_t>(j + 1)] * wi;
    a_prev[static_cast<std::size_t>(k)] = a[static_cast<std::size_t>(k)];
    std::swap(a, a_prev); // a_prev is rewritten before its next read
  }
}

/// prob_count_at_least(w, n, k) pulled back (nothing for k <= 0).
template <class W>
void prob_count_at_least_pullback(const W* w, std::size_t n, int k, W d_y, W* d_w) {
  if (k <= 0) return;
  std::array<W, kMaxCount + 1> d_out{};
  if (k <= kMaxCount) d_out[static_cast<std::size_t>(k)] = d_y;
  count_distribution_pullback(w, n, k, d_out.data(), d_w);
}

/// prob_count_exactly(w, n, k) pulled back (nothing for k < 0).
template <class W>
void prob_count_exactly_pullback(const W* w, std::size_t n, int k, W d_y, W* d_w) {
  if (k < 0) return;
  std::array<W, kMaxCount + 2> d_out{};
  if (k < kMaxCount + 1) d_out[static_cast<std::size_t>(k)] = d_y;
  count_distribution_pullback(w, n, k + 1, d_out.data(), d_w);
}

/// The values x of the first k selected objects (in input order, e.g. the leading
/// selected jets of a pt-ordered collection), relaxed: object j is selected with
/// probability s_j (independently) and
///   out[i] = sum_j s_j P(exactly i of the objects 0 .. j-1 are selected) x_j,
/// the expected x of the i-th selected object (counting from 0), with 0 where fewer
/// than i + 1 objects are selected. With every s_j in {0, 1} this is exactly x of the
/// i-th selected object, or 0. The probabilities come from the count_distribution
/// recursion (O(n k)). Derivatives flow through s and x. out must hold k numbers.
/// Throws std::invalid_argument unless 0 <= k <= kMaxCount.
template <class S, class X>
void soft_first_selected(const S* s, const X* x, std::size_t n, int k,
                         promote_floating_t<S, X>* out) {
  using R = promote_floating_t<S, X>;
  if (k < 0 || k > kMaxCount)
    throw std::invalid_argument(
        "diffana::agc::soft_first_selected: k = " + std::to_string(k) +
        " is outside [0, " + std::to_string(kMaxCount) + "]");
  std::array<R, kMaxCount + 1> before; // P(exactly i of the objects before j)
  for (int i = 0; i < k; ++i) {
    before[static_cast<std::size_t>(i)] = R(i == 0 ? 1.0 : 0.0);
    out[i] = R(0.0);
  }
  for (std::size_t j = 0; j < n; ++j) {
    const R sj = diffana::detail::convert<R>(s[j]);
    const R sx = sj * diffana::detail::convert<R>(x[j]);
    for (int i = 0; i < k; ++i)
      out[i] += sx * before[static_cast<std::size_t>(i)];
    const R qj = R(1.0) - sj;
    for (int i = k - 1; i >= 1; --i)
      before[static_cast<std::size_t>(i)] =
          before[static_cast<std::size_t>(i)] * qj +
          before[static_cast<std::size_t>(i - 1)] * sj;
    if (k > 0) before[0] *= qj;
  }
}

/// soft_first_selected(s, x, n, k, out) pulled back from d_out[0..k-1] (+=, into
/// d_s and d_x): the recursion over objects run backwards on the stored
/// probabilities. Throws as soft_first_selected unless 0 <= k <= kMaxCount.
template <class T>
void soft_first_selected_pullback(const T* s, const T* x, std::size_t n, int k,
                                  const T* d_out, T* d_s, T* d_x) {
  if (k < 0 || k > kMaxCount)
    throw std::invalid_argument(
        "diffana::agc::soft_first_selected: k = " + std::to_string(k) +
        " is outside [0, " + std::to_string(kMaxCount) + "]");
  if (k == 0 || n == 0) return;
  const std::size_t m = static_cast<std::size_t>(k);
  std::vector<T>& before = detail::pullback_scratch<T>((n + 1) * m);
  before[0] = T(1); // row j: P(exactly i of the objects before j)
  for (std::size_t j = 0; j < n; ++j) {
    const T* p = &before[j * m];
    T* q = &before[(j + 1) * m];
    const T qj = T(1) - s[j];
    for (std::size_t i = m - 1; i >= 1; --i)
      q[i] = p[i] * qj + p[i - 1] * s[j];
    q[0] = p[0] * qj;
  }
  std::array<T, kMaxCount> a{}; // adjoint of the row after object j
  std::array<T, kMaxCount> a_prev{};
  for (std::size_t j = n; j-- > 0;) {
    const T* p = &before[j * m];
    const T sj = s[j];
    const T qj = T(1) - sj;
    // The row update (before -> after object j).
    T ds = -a[0] * p[0];
    for (std::size_t i = 1; i < m; ++i)
      ds += a[i] * (p[i - 1] - p[i]);
    for (std::size_t i = 0; i < m; ++i)
      a_prev[i] = a[i] * qj + (i + 1 < m ? a[i + 1] * sj : T(0));
    // out[i] += s_j x_j before[i].
    T d_sx = T(0);
    for (std::size_t i = 0; i < m; ++i) {
      d_sx += d_out[i] * p[i];
      a_prev[i] += d_out[i] * sj * x[j];
    }
    d_s[j] += ds + d_sx * x[j];
    d_x[j] += d_sx * sj;
    std::swap(a, a_prev); // a_prev is rewritten before its next read
  }
}

/// Probabilities of the two AGC signal regions.
template <class T> struct RegionProbabilities {
  T p_4j1b; ///< P(>= 4 selected jets and exactly 1 b-tagged selected jet)
  T p_4j2b; ///< P(>= 4 selected jets and >= 2 b-tagged selected jets)
};

/// The AGC regions for jets selected with probability s_j and, once selected,
/// b tagged with probability b_j (independently per jet): each jet is unselected
/// (1 - s_j), selected untagged (s_j (1 - b_j)) or selected tagged (s_j b_j). The
/// joint distribution of (jet count capped at 4, b count capped at 2) is computed by
/// an O(15 n) recursion (absorbing caps, no 1 - sum), so the region probabilities are
/// the correct joint ones, not the product of the marginals. With s_j, b_j in {0, 1}
/// they are exactly the hard AGC region indicators (>= 4 jets, == 1 or >= 2 b tags).
/// NaN inputs make the result NaN.
template <class S, class B>
RegionProbabilities<promote_floating_t<S, B>>
region_probabilities(const S* s, const B* b, std::size_t n) {
  using R = promote_floating_t<S, B>;
  constexpr int nj = 5; // jet counts 0..3, >= 4
  constexpr int nb = 3; // b counts 0, 1, >= 2
  std::array<R, nj * nb> p;
  for (auto& x : p)
    x = R(0.0);
  p[0] = R(1.0);
  for (std::size_t i = 0; i < n; ++i) {
    const R si = diffana::detail::convert<R>(s[i]);
    const R bi = diffana::detail::convert<R>(b[i]);
    const R not_sel = R(1.0) - si;
    const R sel_b = si * bi;
    const R sel_l = si - sel_b; // s (1 - b)
    std::array<R, nj * nb> q;
    for (auto& x : q)
      x = R(0.0);
    for (int j = 0; j < nj; ++j)
      for (int c = 0; c < nb; ++c) {
        const R& v = p[static_cast<std::size_t>(j * nb + c)];
        const int j1 = j + 1 < nj ? j + 1 : nj - 1;
        const int c1 = c + 1 < nb ? c + 1 : nb - 1;
        q[static_cast<std::size_t>(j * nb + c)] += v * not_sel;
        q[static_cast<std::size_t>(j1 * nb + c)] += v * sel_l;
        q[static_cast<std::size_t>(j1 * nb + c1)] += v * sel_b;
      }
    std::swap(p, q);
  }
  return {p[4 * nb + 1], p[4 * nb + 2]};
}

/// region_probabilities of two contiguous containers of equal size.
template <class SC, class BC>
auto region_probabilities(const SC& s, const BC& b)
    -> decltype(region_probabilities(std::data(s), std::data(b), std::size(s))) {
  if (std::size(s) != std::size(b))
    throw std::invalid_argument("diffana::agc::region_probabilities: s and b differ "
                                "in size");
  return region_probabilities(std::data(s), std::data(b), std::size(s));
}

/// region_probabilities(s, b, n) pulled back from the adjoints of p_4j1b and p_4j2b
/// (+=, into d_s and d_b): the 15-state recursion run backwards on the stored
/// states, with not selected 1 - s, selected untagged s (1 - b), selected tagged s b.
template <class T>
void region_probabilities_pullback(const T* s, const T* b, std::size_t n, T d_p_4j1b,
                                   T d_p_4j2b, T* d_s, T* d_b) {
  constexpr int nj = 5;
  constexpr int nb = 3;
  constexpr std::size_t m = nj * nb;
  if (n == 0) return;
  std::vector<T>& states = detail::pullback_scratch<T>((n + 1) * m);
  states[0] = T(1);
  for (std::size_t i = 0; i < n; ++i) {
    const T* p = &states[i * m];
    T* q = &states[(i + 1) * m];
    const T not_sel = T(1) - s[i];
    const T sel_b = s[i] * b[i];
    const T sel_l = s[i] - sel_b;
    for (int j = 0; j < nj; ++j)
      for (int c = 0; c < nb; ++c) {
        const T v = p[j * nb + c];
        const int j1 = j + 1 < nj ? j + 1 : nj - 1;
        const int c1 = c + 1 < nb ? c + 1 : nb - 1;
        q[j * nb + c] += v * not_sel;
        q[j1 * nb + c] += v * sel_l;
        q[j1 * nb + c1] += v * sel_b;
      }
  }
  std::array<T, m> a{};
  a[4 * nb + 1] = d_p_4j1b;
  a[4 * nb + 2] = d_p_4j2b;
  for (std::size_t i = n; i-- > 0;) {
    const T* p = &states[i * m];
    const T not_sel = T(1) - s[i];
    const T sel_b = s[i] * b[i];
    const T sel_l = s[i] - sel_b;
    std::array<T, m> a_prev{};
    T d_not_sel = T(0);
    T d_sel_l = T(0);
    T d_sel_b = T(0);
    for (int j = 0; j < nj; ++j)
      for (int c = 0; c < nb; ++c) {
        const std::size_t jc = static_cast<std::size_t>(j * nb + c);
        const int j1 = j + 1 < nj ? j + 1 : nj - 1;
        const int c1 = c + 1 < nb ? c + 1 : nb - 1;
        const T a0 = a[jc];
        const T a1 = a[static_cast<std::size_t>(j1 * nb + c)];
        const T a2 = a[static_cast<std::size_t>(j1 * nb + c1)];
        a_prev[jc] = a0 * not_sel + a1 * sel_l + a2 * sel_b;
        d_not_sel += p[jc] * a0;
        d_sel_l += p[jc] * a1;
        d_sel_b += p[jc] * a2;
      }
    d_s[i] += -d_not_sel + d_sel_l * (T(1) - b[i]) + d_sel_b * b[i];
    d_b[i] += s[i] * (d_sel_b - d_sel_l);
    std::swap(a, a_prev); // a_prev is rewritten before its next read
  }
}

// ---- trijet mass
// ----------------------------------------------------------------------

/// Relaxation settings of soft_trijet_mass.
struct TrijetOptions {
  /// Softmax temperature T in GeV (of the triplets' vector-sum pT); 0: hard argmax.
  double temperature = 10.0;
  /// Pruning threshold (dimensionless, 0 <= epsilon < 1); 0: no pruning.
  double epsilon = 0.0;
};

/// Result of soft_trijet_mass.
template <class T> struct TrijetResult {
  /// The (soft) trijet mass in GeV; 0 with zero tangents when there is no candidate,
  /// NaN when a used jet has a non-finite input.
  T mass = T(0.0);
  /// True when at least one triplet has weight > 0 and every used input is finite.
  bool valid = false;
  std::size_t jets_used = 0;       ///< jets with s_j > 0 not pruned
  std::size_t triplets_used = 0;   ///< triplets evaluated in T (kept)
  std::size_t triplets_pruned = 0; ///< triplets of used jets dropped by the ratio test
  /// Upper bound on the dropped share of the softmax weight,
  /// sum_dropped a_t / sum_kept a_t (jet and triplet pruning together); 0 without
  /// pruning, +inf when nothing is kept.
  double dropped_fraction_bound = 0.0;
  /// Upper bound on |mass - unpruned mass|: dropped_fraction_bound times the sum of
  /// the three largest jet energies among the jets with s_j > 0 (a bound on every
  /// trijet mass).
  double mass_error_bound = 0.0;
};

namespace detail {
/// soft_trijet_mass on Revs: one tape node with the partials of trijet_partials.
template <class R, class Pt, class Eta, class Phi, class M, class S, class B>
TrijetResult<R> trijet_rev(std::size_t n, const Pt* pt, const Eta* eta, const Phi* phi,
                           const M* m, const S* s, const B* b,
                           const TrijetOptions& opt);
} // namespace detail

/// The mass of the trijet with the largest vector-sum pT among the triplets with at
/// least one b tag, relaxed. Jet j is selected with probability s_j and b tagged with
/// probability b_j; triplet t = (i, j, k), i < j < k, has weight
///   w_t = s_i s_j s_k P_t,  P_t = 1 - (1 - b_i)(1 - b_j)(1 - b_k)
///                               = b_i + (1 - b_i)(b_j + (1 - b_j) b_k)
/// (the second form has no cancellation), vector-sum pT_t and mass m_t (Cartesian
/// sums of to_cartesian(pt, eta, phi, m), mass() of lorentz.hpp), and
///   mass = sum_t a_t m_t / sum_t a_t,  a_t = w_t exp((pT_t - c) / T),
/// c = max pT_t over the triplets with w_t > 0 (a plain number: the ratio does not
/// depend on it, value or derivatives). As T -> 0 this tends to m_t of the largest
/// pT_t with w_t > 0; T = 0 computes that argmax (first triplet in (i, j, k) order on
/// ties), so with w_t in {0, 1} it is exactly the hard AGC choice (see
/// hard_trijet_mass). Derivatives flow through pt, eta, phi, m, s and b (any of them
/// plain or Dual); at T = 0 only through m_t.
///
/// Cost: O(n^3) triplets; per triplet the sums of the jets' precomputed (px, py, pz,
/// E) in T, one hypot, one exp and one sqrt, after a cheap plain-double pass.
///
/// Pruning (epsilon > 0), with r_t = w_t exp((pT_t - c) / T) in plain doubles:
///  1. jets with s_j < epsilon are skipped (jets with s_j == 0 always are: their
///     triplets have a_t = 0 exactly);
///  2. of the remaining triplets, those with r_t < epsilon max_t r_t are dropped
///     (at T = 0 nothing is dropped by this test).
/// Error bound: with D the dropped triplets and K the kept ones,
///   |mass - mass_pruned| = |sum_D a_t (m_t - mass_pruned)| / sum_all a_t
///                       <= delta M,   delta = sum_D a_t / sum_K a_t,
/// M >= every m_t (the sum of the three largest jet energies). Step 2 contributes
/// exactly sum_D2 r_t / sum_K r_t <= |D2| epsilon to delta. Step 1 triplets have
/// w_t < epsilon and pT_t <= pt_i + pt_j + pt_k <= P3 (the sum of the three largest
/// jet pTs), so a_t < epsilon exp((P3 - c) / T): they contribute at most
/// |D1| epsilon exp((P3 - c) / T) / sum_K r_t. Both are returned
/// (dropped_fraction_bound, mass_error_bound). The derivatives' error is of order
/// delta (max_D |dm_t| + |m_t - mass| |d log a_t|); it is checked empirically in
/// tests/cpp/test_agc.cpp, not bounded here.
///
/// Edge cases: fewer than 3 used jets, or every w_t == 0 (no b tag at all in the hard
/// limit): mass 0 with zero tangents, valid = false. Non-finite pt, eta, phi, m, s or
/// b of a used jet (a NaN s_j is never skipped): mass NaN (zero tangents), valid =
/// false. Throws std::invalid_argument for a negative or non-finite temperature or
/// epsilon outside [0, 1).
template <class Pt, class Eta, class Phi, class M, class S, class B>
TrijetResult<promote_floating_t<Pt, Eta, Phi, M, S, B>>
soft_trijet_mass(std::size_t n, const Pt* pt, const Eta* eta, const Phi* phi,
                 const M* m, const S* s, const B* b, const TrijetOptions& opt = {}) {
  using R = promote_floating_t<Pt, Eta, Phi, M, S, B>;
  // Revs: one tape node whose partials come from the mixed-mode path below.
  if constexpr (is_rev_v<R>)
    return detail::trijet_rev<R>(n, pt, eta, phi, m, s, b, opt);
  using std::exp;
  using std::hypot;
  const double temp = opt.temperature;
  const double eps = opt.epsilon;
  if (!(temp >= 0.0) || !std::isfinite(temp))
    throw std::invalid_argument("diffana::agc::soft_trijet_mass: temperature = " +
                                std::to_string(temp) + " must be finite and >= 0");
  if (!(eps >= 0.0 && eps < 1.0))
    throw std::invalid_argument("diffana::agc::soft_trijet_mass: epsilon = " +
                                std::to_string(eps) + " must be in [0, 1)");
  TrijetResult<R> res;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  // Jets: the used ones (s_j > 0, not pruned), plain bounds over all s_j > 0 ones.
  std::vector<std::size_t> idx;
  idx.reserve(n);
  std::array<double, 3> top_e{0.0, 0.0, 0.0};
  std::array<double, 3> top_pt{0.0, 0.0, 0.0};
  const auto push_top = [](std::array<double, 3>& top, double v) {
    if (v > top[2]) {
      top[2] = v;
      if (top[2] > top[1]) std::swap(top[1], top[2]);
      if (top[1] > top[0]) std::swap(top[0], top[1]);
    }
  };
  std::size_t n_pruned_jets = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double sj = static_cast<double>(value(s[j]));
    if (sj == 0.0) continue;
    const double ptj = static_cast<double>(value(pt[j]));
    const double etaj = static_cast<double>(value(eta[j]));
    const double phij = static_cast<double>(value(phi[j]));
    const double mj = static_cast<double>(value(m[j]));
    const double bj = static_cast<double>(value(b[j]));
    const bool finite = std::isfinite(ptj) && std::isfinite(etaj) &&
                        std::isfinite(phij) && std::isfinite(mj) && std::isfinite(sj) &&
                        std::isfinite(bj);
    if (finite) {
      push_top(top_pt, std::fabs(ptj));
      push_top(top_e, value(to_energy(ptj, etaj, mj)));
    }
    if (finite && sj < eps) {
      ++n_pruned_jets;
      continue;
    }
    if (!finite) {
      res.mass = R(nan);
      res.valid = false;
      return res;
    }
    idx.push_back(j);
  }
  const std::size_t nu = idx.size();
  res.jets_used = nu;
  if (nu < 3) {
    res.dropped_fraction_bound = n_pruned_jets > 0 ? inf : 0.0;
    res.mass_error_bound = n_pruned_jets > 0 ? inf : 0.0;
    return res;
  }

  // Mixed mode (below) for Dual results in double; the generic path otherwise.
  constexpr bool mixed = is_dual_v<R> && std::is_same_v<value_type_t<R>, double>;
  using diffana::detail::convert;
  const auto p4_of = [&](std::size_t u) { // jet u's four-vector in R
    const std::size_t j = idx[u];
    return to_cartesian(convert<R>(pt[j]), convert<R>(eta[j]), convert<R>(phi[j]),
                        convert<R>(m[j]));
  };
  // Per-jet four-vectors and weights in R (generic path only).
  std::vector<PxPyPzE<R>> p4(mixed ? 0 : nu);
  std::vector<R> sr(mixed ? 0 : nu), br(mixed ? 0 : nu);
  // All plain per-jet and per-triplet arrays in one allocation (this runs per event).
  const std::size_t ntrip = nu * (nu - 1) * (nu - 2) / 6;
  std::vector<double> scratch(6 * nu + 2 * ntrip);
  double* const px = scratch.data();
  double* const py = px + nu;
  double* const pz = py + nu;
  double* const en = pz + nu;
  double* const sv = en + nu;
  double* const bv = sv + nu;
  double* const tpt = bv + nu; // per triplet: pT_t, then e_t (below)
  double* const tw = tpt + ntrip;
  for (std::size_t u = 0; u < nu; ++u) {
    const std::size_t j = idx[u];
    PxPyPzE<double> v;
    if constexpr (mixed) {
      v = to_cartesian(
          static_cast<double>(value(pt[j])), static_cast<double>(value(eta[j])),
          static_cast<double>(value(phi[j])), static_cast<double>(value(m[j])));
    } else {
      sr[u] = convert<R>(s[j]);
      br[u] = convert<R>(b[j]);
      p4[u] = p4_of(u);
      v = {static_cast<double>(value(p4[u].px)), static_cast<double>(value(p4[u].py)),
           static_cast<double>(value(p4[u].pz)), static_cast<double>(value(p4[u].e))};
    }
    px[u] = v.px;
    py[u] = v.py;
    pz[u] = v.pz;
    en[u] = v.e;
    sv[u] = static_cast<double>(value(s[j]));
    bv[u] = static_cast<double>(value(b[j]));
  }

  // Pass 1 (plain): pT_t and w_t of every triplet, c and the argmax.
  double c = -inf;
  std::size_t best = ntrip;
  std::array<std::size_t, 3> best_ijk{0, 0, 0};
  {
    std::size_t t = 0;
    for (std::size_t i = 0; i < nu; ++i)
      for (std::size_t j = i + 1; j < nu; ++j) {
        const double pxij = px[i] + px[j];
        const double pyij = py[i] + py[j];
        const double sij = sv[i] * sv[j];
        const double qij = (1.0 - bv[i]) * (1.0 - bv[j]);
        const double pij = bv[i] + (1.0 - bv[i]) * bv[j];
        for (std::size_t k = j + 1; k < nu; ++k, ++t) {
          const double tx = pxij + px[k];
          const double ty = pyij + py[k];
          // sqrt, not hypot: glibc's hypot guards against overflow (not a risk for
          // momenta) and was a fifth of the time of this function.
          const double ptt = std::sqrt(tx * tx + ty * ty);
          const double wt = sij * sv[k] * (pij + qij * bv[k]);
          tpt[t] = ptt;
          tw[t] = wt;
          if (wt > 0.0 && ptt > c) {
            c = ptt;
            best = t;
            best_ijk = {i, j, k};
          }
        }
      }
  }
  if (best == ntrip) { // no triplet with w_t > 0
    res.dropped_fraction_bound = n_pruned_jets > 0 ? inf : 0.0;
    res.mass_error_bound = n_pruned_jets > 0 ? inf : 0.0;
    return res;
  }
  const double m_bound = top_e[0] + top_e[1] + top_e[2];

  if (temp == 0.0) { // hard argmax
    res.mass = mass(p4_of(best_ijk[0]) + p4_of(best_ijk[1]) + p4_of(best_ijk[2]));
    res.valid = true;
    res.triplets_used = 1;
    // Pruned jets can only matter through a triplet with pT_t > c.
    if (n_pruned_jets > 0 && top_pt[0] + top_pt[1] + top_pt[2] > c) {
      res.dropped_fraction_bound = inf;
      res.mass_error_bound = inf;
    }
    return res;
  }

  // Ratios r_t = w_t e_t, e_t = exp((pT_t - c) / T), their maximum; the keep
  // threshold.
  double r_max = 0.0;
  for (std::size_t t = 0; t < ntrip; ++t) {
    const double e = std::exp((tpt[t] - c) / temp);
    tpt[t] = e; // reuse the storage: tpt now holds e_t
    const double r = tw[t] * e;
    if (r > r_max) r_max = r;
  }
  const double keep_at = eps * r_max;
  double r_kept = 0.0;
  double r_dropped = 0.0;
  // Whether triplet t enters pass 2 (weight > 0 and not pruned); counts and sums
  // what is kept and what is dropped.
  const auto kept = [&](std::size_t t) {
    const double r = tw[t] * tpt[t];
    if (!(tw[t] > 0.0)) return false;
    if (eps > 0.0 && r < keep_at) {
      r_dropped += r;
      ++res.triplets_pruned;
      return false;
    }
    r_kept += r;
    ++res.triplets_used;
    return true;
  };

  if constexpr (is_dual_v<R> && std::is_same_v<value_type_t<R>, double>) {
    // Pass 2 in mixed mode: the kept triplets in plain doubles (the formulas of the
    // generic pass below; equal to rounding, pT and |p| by sqrt), accumulating
    // the partial derivatives of num = sum a_t m_t and den = sum a_t w.r.t. each
    // used jet's (px, py, pz, E, s, b) -- a local reverse pass -- which are
    // contracted with the jets' tangents once at the end: O(triplets) plain work
    // plus O(jets x N), instead of O(triplets x N) Dual arithmetic.
    //   d a_t = e_t d w_t + a_t d pT_t / T,  e_t = exp((pT_t - c) / T),
    //   d pT_t = (X dX + Y dY) / pT_t,  d m_t = (E dE - X dX - Y dY - Z dZ) / m_t,
    //   d w_t / d s_i = s_j s_k P_t,  d w_t / d b_i = s_i s_j s_k (1 - b_j)(1 - b_k),
    //   d mass = (d num - mass d den) / den.
    constexpr double tiny = 16.0 * std::numeric_limits<double>::epsilon();
    // coef[12 u + q]: d num / d (px, py, pz, E, s, b) of jet u for q = 0..5, and
    // d den / d (the same) for q = 6..11.
    std::vector<double> coef(12 * nu, 0.0);
    double num = 0.0;
    double den = 0.0;
    std::size_t t = 0;
    for (std::size_t i = 0; i < nu; ++i)
      for (std::size_t j = i + 1; j < nu; ++j) {
        const double sij = sv[i] * sv[j];
        const double qij = (1.0 - bv[i]) * (1.0 - bv[j]);
        const double p_ij = bv[i] + (1.0 - bv[i]) * bv[j];
        for (std::size_t k = j + 1; k < nu; ++k, ++t) {
          if (!kept(t)) continue;
          const double x = px[i] + px[j] + px[k];
          const double y = py[i] + py[j] + py[k];
          const double z = pz[i] + pz[j] + pz[k];
          const double e = en[i] + en[j] + en[k];
          const double ptt = std::sqrt(x * x + y * y); // as in pass 1
          const double prob = p_ij + qij * bv[k];
          const double ex = tpt[t];
          const double a = tw[t] * ex; // w_t = s_i s_j s_k prob, as in pass 1
          // mass() of lorentz.hpp: 0, with zero derivative, at or below tiny E^2.
          const double p = std::sqrt(x * x + y * y + z * z);
          const double m2 = (e - p) * (e + p);
          double mt = 0.0;
          double inv_m = 0.0;
          if (m2 > tiny * e * e) {
            mt = std::sqrt(m2);
            inv_m = 1.0 / mt;
          }
          num += a * mt;
          den += a;
          const double k_pt = ptt > 0.0 ? a / (temp * ptt) : 0.0; // d a / (X dX)
          const double num_x = (mt * k_pt - a * inv_m) * x;
          const double num_y = (mt * k_pt - a * inv_m) * y;
          const double num_z = -a * inv_m * z;
          const double num_e = a * inv_m * e;
          const double den_x = k_pt * x;
          const double den_y = k_pt * y;
          const double sss = sij * sv[k];
          const std::size_t jets[3][3] = {{i, j, k}, {j, i, k}, {k, i, j}};
          for (const auto& o : jets) {
            double* cu = &coef[12 * o[0]];
            const double dw_ds = sv[o[1]] * sv[o[2]] * prob;
            const double dw_db = sss * (1.0 - bv[o[1]]) * (1.0 - bv[o[2]]);
            cu[0] += num_x;
            cu[1] += num_y;
            cu[2] += num_z;
            cu[3] += num_e;
            cu[4] += mt * ex * dw_ds;
            cu[5] += mt * ex * dw_db;
            cu[6] += den_x;
            cu[7] += den_y;
            cu[10] += ex * dw_ds;
            cu[11] += ex * dw_db;
          }
        }
      }
    // d mass / d (px, py, pz, E, s, b) of each jet, then through to_cartesian's
    // Jacobian to (pt, eta, phi, m): px = pt cos(phi), py = pt sin(phi),
    // pz = pt sinh(eta), E = hypot(pt cosh(eta), m). Only Dual inputs have tangents.
    const double mass_value = num / den;
    R out(mass_value);
    const auto add = [&out](double g, const auto& x) {
      if constexpr (is_dual_v<decltype(x)>)
        for (int d = 0; d < R::size; ++d)
          out.tangent(d) += g * x.tangent(d);
    };
    for (std::size_t u = 0; u < nu; ++u) {
      const std::size_t j = idx[u];
      const double* cu = &coef[12 * u];
      double g[6];
      for (int q = 0; q < 6; ++q)
        g[q] = (cu[q] - mass_value * cu[q + 6]) / den;
      const double ptv = static_cast<double>(value(pt[j]));
      const double etav = static_cast<double>(value(eta[j]));
      const double mv = static_cast<double>(value(m[j]));
      const double e = en[u];
      const double ch = std::cosh(etav);
      const double pch_e = e > 0.0 ? ptv * ch / e : 0.0; // d E / d (pt cosh(eta))
      const double cphi = ptv != 0.0 ? px[u] / ptv : 0.0;
      const double sphi = ptv != 0.0 ? py[u] / ptv : 0.0;
      const double sh = ptv != 0.0 ? pz[u] / ptv : std::sinh(etav);
      add(g[0] * cphi + g[1] * sphi + g[2] * sh + g[3] * pch_e * ch, pt[j]);
      add(g[2] * ptv * ch + g[3] * pch_e * ptv * sh, eta[j]);
      add(-g[0] * py[u] + g[1] * px[u], phi[j]);
      add(e > 0.0 ? g[3] * mv / e : 0.0, m[j]);
      add(g[4], s[j]);
      add(g[5], b[j]);
    }
    res.mass = out;
  } else {
    // Pass 2 (in R): the kept triplets.
    R num(0.0);
    R den(0.0);
    {
      std::size_t t = 0;
      for (std::size_t i = 0; i < nu; ++i)
        for (std::size_t j = i + 1; j < nu; ++j) {
          const PxPyPzE<R> pij = p4[i] + p4[j];
          const R sij = sr[i] * sr[j];
          const R& bi = br[i];
          const R& bj = br[j];
          const R qij = (R(1.0) - bi) * (R(1.0) - bj);
          const R p_ij = bi + (R(1.0) - bi) * bj;
          for (std::size_t k = j + 1; k < nu; ++k, ++t) {
            if (!kept(t)) continue;
            const PxPyPzE<R> v = pij + p4[k];
            const R ptt = hypot(v.px, v.py);
            const R wt = sij * sr[k] * (p_ij + qij * br[k]);
            const R a = wt * exp((ptt - c) / temp);
            num += a * mass(v);
            den += a;
          }
        }
    }
    res.mass = num / den;
  }
  res.valid = true;
  double delta = r_dropped / r_kept;
  if (n_pruned_jets > 0) {
    // Triplets with at least one pruned jet: C(nu + np, 3) - C(nu, 3) of them.
    const double na = static_cast<double>(nu + n_pruned_jets);
    const double nk = static_cast<double>(nu);
    const double count =
        na * (na - 1) * (na - 2) / 6.0 - nk * (nk - 1) * (nk - 2) / 6.0;
    const double p3 = top_pt[0] + top_pt[1] + top_pt[2];
    delta += count * eps * std::exp((p3 - c) / temp) / r_kept;
  }
  res.dropped_fraction_bound = delta;
  res.mass_error_bound = delta * m_bound;
  return res;
}

/// soft_trijet_mass of contiguous containers (data(), size()) of equal size.
template <class PtC, class EtaC, class PhiC, class MC, class SC, class BC>
auto soft_trijet_mass(const PtC& pt, const EtaC& eta, const PhiC& phi, const MC& m,
                      const SC& s, const BC& b, const TrijetOptions& opt = {})
    -> decltype(soft_trijet_mass(std::size(pt), std::data(pt), std::data(eta),
                                 std::data(phi), std::data(m), std::data(s),
                                 std::data(b), opt)) {
  const std::size_t n = std::size(pt);
  if (std::size(eta) != n || std::size(phi) != n || std::size(m) != n ||
      std::size(s) != n || std::size(b) != n)
    throw std::invalid_argument("diffana::agc::soft_trijet_mass: the jet columns "
                                "differ in size");
  return soft_trijet_mass(n, std::data(pt), std::data(eta), std::data(phi),
                          std::data(m), std::data(s), std::data(b), opt);
}

namespace detail {

/// The value of soft_trijet_mass on the plain values of the inputs (TrijetResult in
/// double) and its partial derivatives w.r.t. (pt, eta, phi, m, s, b) of every jet,
/// written to partials[q n + j] (q the column in that order, 6 n entries), by forward
/// mode through the mixed-mode path of soft_trijet_mass (O(triplets) plain work plus
/// O(n K) per pass): inputs first .. first + K - 1 get one tangent each per pass, so
/// ceil(6 n / K) passes give every partial.
template <int K, class Pt, class Eta, class Phi, class M, class S, class B>
TrijetResult<double> trijet_partials_dual(std::size_t n, const Pt* pt, const Eta* eta,
                                          const Phi* phi, const M* m, const S* s,
                                          const B* b, const TrijetOptions& opt,
                                          double* partials) {
  using D = Dual<double, K>;
  thread_local std::vector<D> in;
  in.resize(6 * n);
  TrijetResult<double> out;
  for (std::size_t first = 0; first < 6 * n || first == 0; first += K) {
    for (std::size_t j = 0; j < n; ++j) {
      const double v[6] = {
          static_cast<double>(value(pt[j])),  static_cast<double>(value(eta[j])),
          static_cast<double>(value(phi[j])), static_cast<double>(value(m[j])),
          static_cast<double>(value(s[j])),   static_cast<double>(value(b[j]))};
      for (std::size_t q = 0; q < 6; ++q) {
        const std::size_t i = q * n + j;
        in[i] = (i >= first && i < first + K)
                    ? D::variable(v[q], static_cast<int>(i - first))
                    : D(v[q]);
      }
    }
    const auto r =
        soft_trijet_mass(n, in.data(), in.data() + n, in.data() + 2 * n,
                         in.data() + 3 * n, in.data() + 4 * n, in.data() + 5 * n, opt);
    for (std::size_t i = first; i < 6 * n && i < first + K; ++i)
      partials[i] = r.mass.tangent(static_cast<int>(i - first));
    out.mass = r.mass.value();
    out.valid = r.valid;
    out.jets_used = r.jets_used;
    out.triplets_used = r.triplets_used;
    out.triplets_pruned = r.triplets_pruned;
    out.dropped_fraction_bound = r.dropped_fraction_bound;
    out.mass_error_bound = r.mass_error_bound;
    if (n == 0) break;
  }
  return out;
}

/// soft_trijet_mass in double with its 6 n partials (see trijet_partials_dual): one
/// pass for up to 16 jets, more beyond.
template <class Pt, class Eta, class Phi, class M, class S, class B>
TrijetResult<double> trijet_partials(std::size_t n, const Pt* pt, const Eta* eta,
                                     const Phi* phi, const M* m, const S* s, const B* b,
                                     const TrijetOptions& opt, double* partials) {
  if (n <= 8) return trijet_partials_dual<48>(n, pt, eta, phi, m, s, b, opt, partials);
  return trijet_partials_dual<96>(n, pt, eta, phi, m, s, b, opt, partials);
}

/// The tape index of x (-1 for a constant or a plain number).
template <class X> std::int32_t trijet_rev_index(const X& x) {
  if constexpr (is_rev_v<X>) {
    return x.index();
  } else {
    (void)x;
    return -1;
  }
}

/// The tape of x (null for a constant or a plain number).
template <class X> Tape* trijet_rev_tape(const X& x) {
  if constexpr (is_rev_v<X>) {
    return x.tape();
  } else {
    (void)x;
    return nullptr;
  }
}

template <class R, class Pt, class Eta, class Phi, class M, class S, class B>
TrijetResult<R> trijet_rev(std::size_t n, const Pt* pt, const Eta* eta, const Phi* phi,
                           const M* m, const S* s, const B* b,
                           const TrijetOptions& opt) {
  thread_local std::vector<double> partials;
  partials.assign(6 * n, 0.0);
  const TrijetResult<double> r =
      trijet_partials(n, pt, eta, phi, m, s, b, opt, partials.data());
  TrijetResult<R> out;
  out.mass = R(r.mass);
  out.valid = r.valid;
  out.jets_used = r.jets_used;
  out.triplets_used = r.triplets_used;
  out.triplets_pruned = r.triplets_pruned;
  out.dropped_fraction_bound = r.dropped_fraction_bound;
  out.mass_error_bound = r.mass_error_bound;
  Tape* tape = nullptr;
  for (std::size_t j = 0; j < n && tape == nullptr; ++j) {
    Tape* const t[6] = {trijet_rev_tape(pt[j]),  trijet_rev_tape(eta[j]),
                        trijet_rev_tape(phi[j]), trijet_rev_tape(m[j]),
                        trijet_rev_tape(s[j]),   trijet_rev_tape(b[j])};
    for (Tape* x : t)
      if (tape == nullptr) tape = x;
  }
  if (tape == nullptr) return out;
  // One node, with an edge to every input on the tape whose partial is not zero.
  const std::int32_t idx = tape->push_n_with(
      [&](std::size_t i) {
        const std::size_t q = i / n;
        const std::size_t j = i % n;
        const std::int32_t k = q == 0   ? trijet_rev_index(pt[j])
                               : q == 1 ? trijet_rev_index(eta[j])
                               : q == 2 ? trijet_rev_index(phi[j])
                               : q == 3 ? trijet_rev_index(m[j])
                               : q == 4 ? trijet_rev_index(s[j])
                                        : trijet_rev_index(b[j]);
        return Tape::Edge{partials[i] != 0.0 ? k : -1, partials[i]};
      },
      6 * n);
  out.mass = R::on_tape(r.mass, tape, idx);
  return out;
}

} // namespace detail

/// soft_trijet_mass(n, pt, eta, phi, m, s, b, opt) pulled back from the adjoint d_mass
/// of its mass (+=, into the six per-jet adjoint arrays of n entries): the partials of
/// detail::trijet_partials (forward mode through the mixed-mode path, one pass per 96
/// inputs), so the derivative is that of the function, pruning included. Nothing is
/// added where the mass has zero derivatives (no candidate, non-finite inputs). Throws
/// as soft_trijet_mass for bad options. diffana::Rev inputs take the same route (one
/// tape node per call).
template <class T>
void soft_trijet_mass_pullback(std::size_t n, const T* pt, const T* eta, const T* phi,
                               const T* m, const T* s, const T* b,
                               const TrijetOptions& opt, T d_mass, T* d_pt, T* d_eta,
                               T* d_phi, T* d_m, T* d_s, T* d_b) {
  thread_local std::vector<double> partials;
  partials.assign(6 * n, 0.0);
  detail::trijet_partials(n, pt, eta, phi, m, s, b, opt, partials.data());
  if (d_mass == T(0)) return;
  T* d_cols[6] = {d_pt, d_eta, d_phi, d_m, d_s, d_b};
  for (std::size_t q = 0; q < 6; ++q)
    for (std::size_t j = 0; j < n; ++j)
      d_cols[q][j] += d_mass * static_cast<T>(partials[q * n + j]);
}

// ---- hard mode
// ------------------------------------------------------------------------

/// The hard AGC trijet mass: among the triplets of selected jets (selected[j] != 0)
/// holding at least one b-tagged jet (btagged[j] != 0), the mass of the one with the
/// largest vector-sum pT (first in (i, j, k) order on ties, as ak.argmax over
/// ak.combinations). Exactly soft_trijet_mass with 0/1 weights and T = 0. valid =
/// false and mass 0 without a candidate; NaN mass (valid = false) when a selected
/// jet has a non-finite input.
template <class Pt, class Eta, class Phi, class M, class Sel, class Tag>
TrijetResult<promote_floating_t<Pt, Eta, Phi, M>>
hard_trijet_mass(std::size_t n, const Pt* pt, const Eta* eta, const Phi* phi,
                 const M* m, const Sel* selected, const Tag* btagged) {
  std::vector<double> s(n), b(n);
  for (std::size_t j = 0; j < n; ++j) {
    s[j] = selected[j] ? 1.0 : 0.0;
    b[j] = btagged[j] ? 1.0 : 0.0;
  }
  TrijetOptions opt;
  opt.temperature = 0.0;
  opt.epsilon = 0.0;
  const auto r = soft_trijet_mass(n, pt, eta, phi, m, s.data(), b.data(), opt);
  using R = promote_floating_t<Pt, Eta, Phi, M>;
  TrijetResult<R> out;
  out.mass = diffana::detail::convert<R>(r.mass);
  out.valid = r.valid;
  out.jets_used = r.jets_used;
  out.triplets_used = r.triplets_used;
  return out;
}

/// hard_trijet_mass of contiguous containers (data(), size()) of equal size (masks
/// of char, int, double or ROOT::VecOps::RVec<bool>; not std::vector<bool>).
template <class PtC, class EtaC, class PhiC, class MC, class SelC, class TagC>
auto hard_trijet_mass(const PtC& pt, const EtaC& eta, const PhiC& phi, const MC& m,
                      const SelC& selected, const TagC& btagged)
    -> decltype(hard_trijet_mass(std::size(pt), std::data(pt), std::data(eta),
                                 std::data(phi), std::data(m), std::data(selected),
                                 std::data(btagged))) {
  const std::size_t n = std::size(pt);
  if (std::size(eta) != n || std::size(phi) != n || std::size(m) != n ||
      std::size(selected) != n || std::size(btagged) != n)
    throw std::invalid_argument("diffana::agc::hard_trijet_mass: the jet columns "
                                "differ in size");
  return hard_trijet_mass(n, std::data(pt), std::data(eta), std::data(phi),
                          std::data(m), std::data(selected), std::data(btagged));
}

/// The hard AGC region of one event: number of selected jets and of selected
/// b-tagged jets.
struct HardCounts {
  std::size_t jets = 0;
  std::size_t btags = 0;
  bool is_4j1b() const { return jets >= 4 && btags == 1; }
  bool is_4j2b() const { return jets >= 4 && btags >= 2; }
};

/// Counts of selected (selected[j] != 0) and selected b-tagged jets.
template <class Sel, class Tag>
HardCounts hard_counts(std::size_t n, const Sel* selected, const Tag* btagged) {
  HardCounts h;
  for (std::size_t j = 0; j < n; ++j)
    if (selected[j]) {
      ++h.jets;
      if (btagged[j]) ++h.btags;
    }
  return h;
}

/// hard_counts of two contiguous containers of equal size.
template <class SelC, class TagC>
auto hard_counts(const SelC& selected, const TagC& btagged)
    -> decltype(hard_counts(std::size(selected), std::data(selected),
                            std::data(btagged))) {
  if (std::size(selected) != std::size(btagged))
    throw std::invalid_argument("diffana::agc::hard_counts: the masks differ in size");
  return hard_counts(std::size(selected), std::data(selected), std::data(btagged));
}

} // namespace diffana::agc
