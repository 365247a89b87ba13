// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Relaxed selections over a small set of objects (the jets of one event, ...):
/// softmax, soft_argmax, soft_pick ("the value of the object with the largest
/// score"), and soft_sort / soft_rank with the quadratic regularisation of Blondel et
/// al. 2020, "Fast Differentiable Sorting and Ranking" (arXiv:2002.08871; semantics of
/// the reference implementation google-research/fast-soft-sort, numpy_ops.py with
/// regularization="l2").
///
/// Containers: anything with size() and operator[] (std::vector, std::array,
/// ROOT::VecOps::RVec, ...), whose elements are plain numbers, `Dual`s or `Rev`s
/// (reverse.hpp). Results that
/// are sequences are returned as a std::vector of the promoted element type (a Dual
/// if the elements or the temperature / strength are Duals, else the plain floating
/// type; integers become double), whatever the input container.
///
/// Allocation: besides the returned vector, soft_sort and soft_rank use O(n) scratch
/// (a permutation and the pooled blocks) in std::vectors; softmax and friends keep the
/// probabilities in a std::vector. These functions are meant for the handful of
/// objects of one event, not for device code (they are not DIFFANA_HOST_DEVICE).
///
/// Errors: temperature / strength must be > 0 and finite (std::invalid_argument
/// naming it and its value); every element must be finite (std::domain_error naming
/// the element, e.g. "x[2] = nan"), so no NaN is ever returned silently; soft_argmax
/// and soft_pick need at least one element, soft_pick equal sizes
/// (std::invalid_argument).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/reverse_fwd.hpp"
#include "diffana/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana {

namespace detail {

/// The element type of a container (what operator[] returns, without const / &).
template <class Container>
using select_element_t = std::decay_t<decltype(std::declval<const Container&>()[0])>;

/// promote_t with integers promoted to double.
template <class... Xs>
using select_result_t =
    std::conditional_t<std::is_integral_v<promote_t<Xs...>>, double, promote_t<Xs...>>;

inline std::string select_format(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

/// Throws std::invalid_argument unless the plain value v is > 0 and finite.
template <class V>
void select_check_positive(const char* function, const char* name, V v) {
  using std::isfinite;
  if (!(v > V(0)) || !isfinite(v))
    throw std::invalid_argument(std::string("diffana::") + function + ": " + name +
                                " must be positive and finite, got " +
                                select_format(static_cast<double>(v)));
}

/// Throws std::domain_error naming the first element of x that is not finite.
template <class Container>
void select_check_finite(const char* function, const char* name, const Container& x) {
  using std::isfinite;
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(value(x[i]));
    if (!isfinite(v))
      throw std::domain_error(std::string("diffana::") + function + ": " + name + "[" +
                              std::to_string(i) + "] = " + select_format(v) +
                              " is not finite");
  }
}

/// The softmax probabilities p_i = exp(u_i) / sum_j exp(u_j) of the scaled, shifted
/// scores u_i = (x_i - max_j x_j) / t (all u_i <= 0, so nothing overflows).
template <class V, class Container>
void select_softmax_plain(const Container& x, V t, std::vector<V>& p,
                          std::vector<V>& u) {
  using std::exp;
  const std::size_t n = x.size(); // p and u come with size n
  V m = static_cast<V>(value(x[0]));
  for (std::size_t i = 1; i < n; ++i)
    m = std::max(m, static_cast<V>(value(x[i])));
  V sum = V(0);
  for (std::size_t i = 0; i < n; ++i) {
    u[i] = (static_cast<V>(value(x[i])) - m) / t;
    p[i] = exp(u[i]);
    sum += p[i];
  }
  for (std::size_t i = 0; i < n; ++i)
    p[i] /= sum;
}

/// sum_i w_i u_i over the terms with w_i != 0 (u_i may be -inf where p_i = 0).
template <class V>
V select_weighted_u(const std::vector<V>& w, const std::vector<V>& u) {
  V s = V(0);
  for (std::size_t i = 0; i < w.size(); ++i)
    if (w[i] != V(0)) s += w[i] * u[i];
  return s;
}

/// A block of the pool-adjacent-violators solution: elements [start, start + size).
template <class V> struct SelectBlock {
  std::size_t start;
  std::size_t size;
  V sum;
};

/// Pool adjacent violators for argmin_{v_1 >= v_2 >= ... >= v_n} ||v - y||^2
/// (decreasing isotonic regression, as fast-soft-sort's isotonic_l2): returns the
/// blocks, in each of which the solution is the block mean. Adjacent blocks with
/// equal means are pooled too (as the reference does).
template <class V>
std::vector<SelectBlock<V>> select_pav_decreasing(const std::vector<V>& y) {
  std::vector<SelectBlock<V>> blocks;
  blocks.reserve(y.size());
  for (std::size_t j = 0; j < y.size(); ++j) {
    blocks.push_back({j, 1, y[j]});
    while (blocks.size() >= 2) {
      const auto& b = blocks[blocks.size() - 1];
      auto& a = blocks[blocks.size() - 2];
      // Ordered (a's mean strictly above b's): nothing to pool.
      if (a.sum / static_cast<V>(a.size) > b.sum / static_cast<V>(b.size)) break;
      a.size += b.size;
      a.sum += b.sum;
      blocks.pop_back();
    }
  }
  return blocks;
}

/// e as the result type R: a plain number is cast, a Dual of another value type
/// (Dual<float, N> into Dual<double, N>) is copied value and tangents.
template <class R, class E> R select_convert(const E& e) {
  if constexpr (std::is_same_v<R, E>) {
    return e;
  } else if constexpr (!is_dual_v<E>) {
    return R(static_cast<value_type_t<R>>(e));
  } else {
    using V = value_type_t<R>;
    R r(static_cast<V>(e.value()));
    for (int k = 0; k < R::size; ++k)
      r.tangent(k) = static_cast<V>(e.tangent(k));
    return r;
  }
}

/// Indices that order key descending (stable: ties keep their input order).
template <class V>
std::vector<std::size_t> select_order_descending(const std::vector<V>& key) {
  std::vector<std::size_t> perm(key.size());
  for (std::size_t i = 0; i < perm.size(); ++i)
    perm[i] = i;
  std::stable_sort(perm.begin(), perm.end(),
                   [&key](std::size_t a, std::size_t b) { return key[a] > key[b]; });
  return perm;
}

} // namespace detail

// ---- softmax family ---------------------------------------------------------------

/// softmax(x / temperature)_i = exp(x_i / t) / sum_j exp(x_j / t), computed with the
/// maximum subtracted (never overflows). With p the result and t the temperature:
/// d p_i / d x_j = p_i (delta_ij - p_j) / t;
/// d p_i / d t = -p_i (x_i - sum_j p_j x_j) / t^2.
/// As t -> 0 it tends to the one-hot vector of the largest x (shared equally by ties);
/// as t -> inf to the uniform 1/n. An empty x gives an empty vector.
template <class Container, class Temperature>
std::vector<detail::select_result_t<detail::select_element_t<Container>, Temperature>>
softmax(const Container& x, const Temperature& temperature) {
  using E = detail::select_element_t<Container>;
  using R = detail::select_result_t<E, Temperature>;
  using V = value_type_t<R>;
  const V t = static_cast<V>(value(temperature));
  detail::select_check_positive("softmax", "temperature", t);
  detail::select_check_finite("softmax", "x", x);
  const std::size_t n = x.size();
  std::vector<R> out;
  if (n == 0) return out;
  std::vector<V> p(n);
  std::vector<V> u(n);
  detail::select_softmax_plain(x, t, p, u);
  const V u_bar = detail::select_weighted_u(p, u);
  out.reserve(n);
  if constexpr (is_dual_v<E> || is_rev_v<E>) {
    // x_bar carries sum_j p_j dx_j, so that dp_i = p_i (dx_i - x_bar) / t costs O(n).
    R x_bar(V(0));
    for (std::size_t j = 0; j < n; ++j)
      detail::add_tangent(x_bar, p[j], x[j]);
    for (std::size_t i = 0; i < n; ++i) {
      R r(p[i]);
      if (p[i] != V(0)) {
        R dx(V(0));
        detail::add_tangent(dx, V(1), x[i]);
        dx -= x_bar;
        detail::add_tangent(r, p[i] / t, dx);
        detail::add_tangent(r, -p[i] * (u[i] - u_bar) / t, temperature);
      }
      out.push_back(r);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      R r(p[i]);
      if (p[i] != V(0)) detail::add_tangent(r, -p[i] * (u[i] - u_bar) / t, temperature);
      out.push_back(r);
    }
  }
  return out;
}

/// Expected index under softmax(x / temperature): a = sum_i i p_i (0-based). With
/// u_i = x_i / t: d a / d x_i = p_i (i - a) / t; d a / d t = -sum_i p_i (i - a) x_i /
/// t^2. As t -> 0 it tends to the index of the largest x (the mean index of ties). x
/// must not be empty.
template <class Container, class Temperature>
detail::select_result_t<detail::select_element_t<Container>, Temperature>
soft_argmax(const Container& x, const Temperature& temperature) {
  using E = detail::select_element_t<Container>;
  using R = detail::select_result_t<E, Temperature>;
  using V = value_type_t<R>;
  const V t = static_cast<V>(value(temperature));
  detail::select_check_positive("soft_argmax", "temperature", t);
  if (x.size() == 0) throw std::invalid_argument("diffana::soft_argmax: x is empty");
  detail::select_check_finite("soft_argmax", "x", x);
  const std::size_t n = x.size();
  std::vector<V> p(n);
  std::vector<V> u(n);
  detail::select_softmax_plain(x, t, p, u);
  V a = V(0);
  for (std::size_t i = 0; i < n; ++i)
    a += static_cast<V>(i) * p[i];
  // w_i = p_i (i - a): the weight of du_i in da.
  std::vector<V> w(n);
  for (std::size_t i = 0; i < n; ++i)
    w[i] = p[i] * (static_cast<V>(i) - a);
  R r(a);
  if constexpr (is_dual_v<E> || is_rev_v<E>) {
    for (std::size_t i = 0; i < n; ++i)
      if (w[i] != V(0)) detail::add_tangent(r, w[i] / t, x[i]);
  }
  detail::add_tangent(r, -detail::select_weighted_u(w, u) / t, temperature);
  return r;
}

/// Soft pick: the value of the object with the largest score,
/// P = sum_i softmax(scores / temperature)_i values_i (e.g. the mass of the trijet
/// with the largest pT). With p the softmax and u_i = scores_i / t:
/// d P / d values_i = p_i; d P / d scores_i = p_i (values_i - P) / t;
/// d P / d t = -sum_i p_i (values_i - P) scores_i / t^2.
/// As t -> 0 it tends to the value at the largest score (the mean over ties).
/// scores and values must have the same, non-zero size.
template <class Scores, class Values, class Temperature>
detail::select_result_t<detail::select_element_t<Scores>,
                        detail::select_element_t<Values>, Temperature>
soft_pick(const Scores& scores, const Values& values, const Temperature& temperature) {
  using ES = detail::select_element_t<Scores>;
  using EV = detail::select_element_t<Values>;
  using R = detail::select_result_t<ES, EV, Temperature>;
  using V = value_type_t<R>;
  const V t = static_cast<V>(value(temperature));
  detail::select_check_positive("soft_pick", "temperature", t);
  const std::size_t n = scores.size();
  if (n == 0) throw std::invalid_argument("diffana::soft_pick: scores is empty");
  if (values.size() != n)
    throw std::invalid_argument(
        "diffana::soft_pick: scores and values differ in size (" + std::to_string(n) +
        " vs " + std::to_string(static_cast<std::size_t>(values.size())) + ")");
  detail::select_check_finite("soft_pick", "scores", scores);
  detail::select_check_finite("soft_pick", "values", values);
  std::vector<V> p(n);
  std::vector<V> u(n);
  detail::select_softmax_plain(scores, t, p, u);
  V pick = V(0);
  for (std::size_t i = 0; i < n; ++i)
    pick += p[i] * static_cast<V>(value(values[i]));
  std::vector<V> w(n); // p_i (values_i - P): the weight of du_i in dP
  for (std::size_t i = 0; i < n; ++i)
    w[i] = p[i] * (static_cast<V>(value(values[i])) - pick);
  R r(pick);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == V(0)) continue;
    detail::add_tangent(r, p[i], values[i]);
    if constexpr (is_dual_v<ES> || is_rev_v<ES>)
      detail::add_tangent(r, w[i] / t, scores[i]);
  }
  detail::add_tangent(r, -detail::select_weighted_u(w, u) / t, temperature);
  return r;
}

// ---- soft sort and rank (Blondel et al. 2020, quadratic regularisation) -----------

/// Soft sort with strength eps (fast-soft-sort's soft_sort, regularization="l2"):
/// the projection of rho / eps, rho = (n, n-1, ..., 1), onto the permutahedron of x
/// (computed, as in the reference, by pool-adjacent-violators isotonic regression).
/// Returns the n soft-sorted values in sorted position order: ascending by default,
/// descending with descending = true. Let s be x sorted descending (ascending: -x
/// sorted descending, and the result negated); the solution splits the positions into
/// blocks B, and at position j in block B the result is
///   out_j = (rho_j - mean_B rho) / eps + mean_B s.
/// Derivatives: d out_j / d x_k = 1 / |B| for the x_k sorted into B (0 otherwise) --
/// the tangents of x are block-averaged; d out_j / d eps = -(rho_j - mean_B rho) /
/// eps^2 (times -1 for ascending order). In words: neighbouring sorted values closer
/// than 1 / eps come out exact (singleton blocks), larger gaps are shrunk to 1 / eps
/// and pool their neighbours. The sum of x is kept. eps -> 0 (eps << 1 / largest gap)
/// gives the hard sort; a large eps puts everything into one block: all outputs tend
/// to the mean of x (as (rho_j - mean rho) / eps). Ties are sorted stably
/// (the value does not depend on it; the derivative at a tie is the one-sided one of
/// that order). The PAV blocks are exact here, where the reference's Jacobian merges
/// adjacent blocks whose values agree to 1e-9.
template <class Container, class Strength>
std::vector<detail::select_result_t<detail::select_element_t<Container>, Strength>>
soft_sort(const Container& x, const Strength& strength, bool descending = false) {
  using E = detail::select_element_t<Container>;
  using R = detail::select_result_t<E, Strength>;
  using V = value_type_t<R>;
  const V eps = static_cast<V>(value(strength));
  detail::select_check_positive("soft_sort", "strength", eps);
  detail::select_check_finite("soft_sort", "x", x);
  const std::size_t n = x.size();
  std::vector<R> out;
  if (n == 0) return out;
  // The reference's sign: +1 for descending, -1 for ascending.
  const V sign = descending ? V(1) : V(-1);
  std::vector<V> key(n);
  for (std::size_t i = 0; i < n; ++i)
    key[i] = sign * static_cast<V>(value(x[i]));
  const std::vector<std::size_t> perm = detail::select_order_descending(key);
  // PAV of rho / eps - s; scaled by eps when eps <= 1 (PAV commutes with positive
  // scaling, so the blocks are the same) so that nothing overflows for tiny eps.
  std::vector<V> y(n);
  for (std::size_t j = 0; j < n; ++j) {
    const V rho = static_cast<V>(n - j);
    const V s = key[perm[j]];
    y[j] = (eps <= V(1)) ? rho - eps * s : rho / eps - s;
  }
  const auto blocks = detail::select_pav_decreasing(y);
  const R inv_eps = R(V(1)) / detail::select_convert<R>(strength);
  out.reserve(n);
  for (const auto& b : blocks) {
    R mean_s(V(0));
    V mean_rho = V(0);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      mean_s += sign * detail::select_convert<R>(x[perm[j]]);
      mean_rho += static_cast<V>(n - j);
    }
    mean_s /= static_cast<V>(b.size);
    mean_rho /= static_cast<V>(b.size);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      const V d_rho = static_cast<V>(n - j) - mean_rho;
      // Singleton blocks (d_rho = 0) give exactly the hard sorted value.
      if (d_rho == V(0))
        out.push_back(sign * mean_s);
      else
        out.push_back(sign * (d_rho * inv_eps + mean_s));
    }
  }
  return out;
}

/// Soft rank with strength eps (fast-soft-sort's soft_rank, regularization="l2"):
/// the projection of theta = x / eps (-x / eps for descending) onto the permutahedron
/// of rho = (n, n-1, ..., 1). Ranks are 1-based as in the reference: in the hard limit
/// eps -> 0 the smallest x gets 1 and the largest n (descending: the largest gets 1).
/// Returned in the order of x. Let perm sort theta descending and t_j = eps
/// theta_perm(j); the solution splits the positions into blocks B, and
///   out_perm(j) = (t_j - mean_B t) / eps + mean_B rho.
/// Derivatives: d out_perm(j) / d x_perm(k) = +-(delta_jk - 1 / |B|) / eps for k in B
/// (+ ascending, - descending; 0 for k outside B); d out_perm(j) / d eps =
/// -(t_j - mean_B t) / eps^2. In words: values closer than about eps pool and share
/// their ranks; eps << smallest gap gives the hard rank (exactly, zero derivative); a
/// large eps puts everything into one block: all ranks tend to (n + 1) / 2. Tied x
/// always share a block (so share a rank). The ranks always sum to n (n + 1) / 2.
template <class Container, class Strength>
std::vector<detail::select_result_t<detail::select_element_t<Container>, Strength>>
soft_rank(const Container& x, const Strength& strength, bool descending = false) {
  using E = detail::select_element_t<Container>;
  using R = detail::select_result_t<E, Strength>;
  using V = value_type_t<R>;
  const V eps = static_cast<V>(value(strength));
  detail::select_check_positive("soft_rank", "strength", eps);
  detail::select_check_finite("soft_rank", "x", x);
  const std::size_t n = x.size();
  std::vector<R> out(n);
  if (n == 0) return out;
  // The reference's sign: +1 for ascending, -1 for descending.
  const V sign = descending ? V(-1) : V(1);
  std::vector<V> key(n);
  for (std::size_t i = 0; i < n; ++i)
    key[i] = sign * static_cast<V>(value(x[i]));
  const std::vector<std::size_t> perm = detail::select_order_descending(key);
  // PAV of theta_sorted - rho, scaled by eps when eps <= 1 (same blocks, no overflow).
  std::vector<V> y(n);
  for (std::size_t j = 0; j < n; ++j) {
    const V rho = static_cast<V>(n - j);
    const V t = key[perm[j]];
    y[j] = (eps <= V(1)) ? t - eps * rho : t / eps - rho;
  }
  const auto blocks = detail::select_pav_decreasing(y);
  const R inv_eps = R(V(1)) / detail::select_convert<R>(strength);
  for (const auto& b : blocks) {
    R mean_t(V(0));
    V mean_rho = V(0);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      mean_t += sign * detail::select_convert<R>(x[perm[j]]);
      mean_rho += static_cast<V>(n - j);
    }
    mean_t /= static_cast<V>(b.size);
    mean_rho /= static_cast<V>(b.size);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      if (b.size == 1) {
        out[perm[j]] = R(mean_rho); // exactly the hard rank
      } else {
        R d_t = sign * detail::select_convert<R>(x[perm[j]]);
        d_t -= mean_t;
        out[perm[j]] = d_t * inv_eps + mean_rho;
      }
    }
  }
  return out;
}

// ---- Clad-style pullbacks (plain numbers, pointer + length) ------------------------
//
// `<fn>_pullback(inputs..., d_y, d_inputs...)` adds the output adjoints d_y pulled
// back through <fn> to the input adjoints (+=, as Clad's pullbacks). Sequences are
// pointer + length (x has n elements; d_x, like d_y for sequence outputs, n too). The
// checks and conventions are those of the functions above (same exceptions), and
// each pullback recomputes the forward quantities it needs (softmax probabilities,
// the sort permutation and PAV blocks) exactly as the function does.

namespace detail {
/// A pointer + length seen as a container (size(), operator[]).
template <class T> struct SelectSpan {
  const T* data;
  std::size_t n;
  std::size_t size() const { return n; }
  const T& operator[](std::size_t i) const { return data[i]; }
};
} // namespace detail

/// softmax(x / temperature) pulled back: with p the softmax, u_i = (x_i - max x) / t
/// and g = sum_i d_y_i p_i: d_x_j += p_j (d_y_j - g) / t;
/// d_temperature -= sum_i d_y_i p_i (u_i - sum_k p_k u_k) / t.
template <class T>
void softmax_pullback(const T* x, std::size_t n, T temperature, const T* d_y, T* d_x,
                      T* d_temperature) {
  const T t = temperature;
  detail::select_check_positive("softmax", "temperature", t);
  const detail::SelectSpan<T> xs{x, n};
  detail::select_check_finite("softmax", "x", xs);
  if (n == 0) return;
  std::vector<T> p(n);
  std::vector<T> u(n);
  detail::select_softmax_plain(xs, t, p, u);
  const T u_bar = detail::select_weighted_u(p, u);
  T g = T(0);
  T dt = T(0);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == T(0)) continue;
    g += d_y[i] * p[i];
    dt -= d_y[i] * p[i] * (u[i] - u_bar);
  }
  for (std::size_t j = 0; j < n; ++j)
    if (p[j] != T(0)) d_x[j] += p[j] * (d_y[j] - g) / t;
  *d_temperature += dt / t;
}

/// soft_argmax(x, temperature) pulled back: with w_i = p_i (i - a):
/// d_x_i += d_y w_i / t; d_temperature -= d_y sum_i w_i u_i / t.
template <class T>
void soft_argmax_pullback(const T* x, std::size_t n, T temperature, T d_y, T* d_x,
                          T* d_temperature) {
  const T t = temperature;
  detail::select_check_positive("soft_argmax", "temperature", t);
  if (n == 0) throw std::invalid_argument("diffana::soft_argmax: x is empty");
  const detail::SelectSpan<T> xs{x, n};
  detail::select_check_finite("soft_argmax", "x", xs);
  std::vector<T> p(n);
  std::vector<T> u(n);
  detail::select_softmax_plain(xs, t, p, u);
  T a = T(0);
  for (std::size_t i = 0; i < n; ++i)
    a += static_cast<T>(i) * p[i];
  std::vector<T> w(n);
  for (std::size_t i = 0; i < n; ++i)
    w[i] = p[i] * (static_cast<T>(i) - a);
  for (std::size_t i = 0; i < n; ++i)
    if (w[i] != T(0)) d_x[i] += d_y * w[i] / t;
  *d_temperature -= d_y * detail::select_weighted_u(w, u) / t;
}

/// soft_pick(scores, values, temperature) pulled back: with p the softmax of the
/// scores and w_i = p_i (values_i - P): d_values_i += d_y p_i;
/// d_scores_i += d_y w_i / t; d_temperature -= d_y sum_i w_i u_i / t.
template <class T>
void soft_pick_pullback(const T* scores, const T* values, std::size_t n, T temperature,
                        T d_y, T* d_scores, T* d_values, T* d_temperature) {
  const T t = temperature;
  detail::select_check_positive("soft_pick", "temperature", t);
  if (n == 0) throw std::invalid_argument("diffana::soft_pick: scores is empty");
  const detail::SelectSpan<T> ss{scores, n};
  const detail::SelectSpan<T> vs{values, n};
  detail::select_check_finite("soft_pick", "scores", ss);
  detail::select_check_finite("soft_pick", "values", vs);
  std::vector<T> p(n);
  std::vector<T> u(n);
  detail::select_softmax_plain(ss, t, p, u);
  T pick = T(0);
  for (std::size_t i = 0; i < n; ++i)
    pick += p[i] * values[i];
  std::vector<T> w(n);
  for (std::size_t i = 0; i < n; ++i)
    w[i] = p[i] * (values[i] - pick);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == T(0)) continue;
    d_values[i] += d_y * p[i];
    d_scores[i] += d_y * w[i] / t;
  }
  *d_temperature -= d_y * detail::select_weighted_u(w, u) / t;
}

/// soft_sort(x, strength, descending) pulled back (output adjoints d_y in sorted
/// position order): each x sorted into block B gets the mean of d_y over B;
/// d_strength gets -sum_j d_y_j s (rho_j - mean_B rho) / eps^2 (s = +1 descending,
/// -1 ascending).
template <class T>
void soft_sort_pullback(const T* x, std::size_t n, T strength, bool descending,
                        const T* d_y, T* d_x, T* d_strength) {
  const T eps = strength;
  detail::select_check_positive("soft_sort", "strength", eps);
  detail::select_check_finite("soft_sort", "x", detail::SelectSpan<T>{x, n});
  if (n == 0) return;
  const T sign = descending ? T(1) : T(-1);
  std::vector<T> key(n);
  for (std::size_t i = 0; i < n; ++i)
    key[i] = sign * x[i];
  const std::vector<std::size_t> perm = detail::select_order_descending(key);
  std::vector<T> y(n);
  for (std::size_t j = 0; j < n; ++j) {
    const T rho = static_cast<T>(n - j);
    const T s = key[perm[j]];
    y[j] = (eps <= T(1)) ? rho - eps * s : rho / eps - s;
  }
  const auto blocks = detail::select_pav_decreasing(y);
  T d_eps = T(0);
  for (const auto& b : blocks) {
    T mean_rho = T(0);
    T g = T(0);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      mean_rho += static_cast<T>(n - j);
      g += d_y[j];
    }
    mean_rho /= static_cast<T>(b.size);
    g /= static_cast<T>(b.size);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      d_x[perm[j]] += g;
      const T d_rho = static_cast<T>(n - j) - mean_rho;
      if (d_rho != T(0)) d_eps -= d_y[j] * sign * d_rho / (eps * eps);
    }
  }
  *d_strength += d_eps;
}

/// soft_rank(x, strength, descending) pulled back (d_y in the order of x): in a block
/// B of more than one element, d_x_k += s (d_y_k - mean_B d_y) / eps and d_strength
/// -= sum_B d_y_k (t_k - mean_B t) / eps^2 (s = +1 ascending, -1 descending,
/// t_k = s x_k); singleton blocks (exact hard ranks) add nothing.
template <class T>
void soft_rank_pullback(const T* x, std::size_t n, T strength, bool descending,
                        const T* d_y, T* d_x, T* d_strength) {
  const T eps = strength;
  detail::select_check_positive("soft_rank", "strength", eps);
  detail::select_check_finite("soft_rank", "x", detail::SelectSpan<T>{x, n});
  if (n == 0) return;
  const T sign = descending ? T(-1) : T(1);
  std::vector<T> key(n);
  for (std::size_t i = 0; i < n; ++i)
    key[i] = sign * x[i];
  const std::vector<std::size_t> perm = detail::select_order_descending(key);
  std::vector<T> y(n);
  for (std::size_t j = 0; j < n; ++j) {
    const T rho = static_cast<T>(n - j);
    const T t = key[perm[j]];
    y[j] = (eps <= T(1)) ? t - eps * rho : t / eps - rho;
  }
  const auto blocks = detail::select_pav_decreasing(y);
  T d_eps = T(0);
  for (const auto& b : blocks) {
    if (b.size == 1) continue;
    T mean_t = T(0);
    T mean_g = T(0);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      mean_t += key[perm[j]];
      mean_g += d_y[perm[j]];
    }
    mean_t /= static_cast<T>(b.size);
    mean_g /= static_cast<T>(b.size);
    for (std::size_t j = b.start; j < b.start + b.size; ++j) {
      const std::size_t k = perm[j];
      d_x[k] += sign * (d_y[k] - mean_g) / eps;
      d_eps -= d_y[k] * (key[k] - mean_t) / (eps * eps);
    }
  }
  *d_strength += d_eps;
}

} // namespace diffana
