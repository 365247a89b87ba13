// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// What the C++ code generated from a correctionlib JSON file (`diffana.correction`)
/// needs at run time: bin lookup with correctionlib's flow rules, the errors an event
/// loop raises for an input out of range or an unknown category, the element-wise
/// evaluation over vectors (RVec, std::vector) and the smooth interpolation of an
/// up/down variation by a nuisance parameter. Needs nothing but the standard library
/// and diffana/ad/dual.hpp.
///
/// A generated correction is a struct with `evaluate(inputs...)` and
/// `operator()(inputs...)`; real inputs may be plain numbers or diffana::Dual, and the
/// result is a Dual whenever one of them is (derivatives flow through formulas; a
/// bin lookup is piecewise constant in its variable, so zero derivative there).
#pragma once

#include "diffana/ad/dual.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace diffana::correction {

/// What a binning does with a value outside its edges (correctionlib's `flow`):
/// the nearest bin, an error, the `flow` content node, or the value folded into the
/// range (periodic variables such as phi).
enum class Flow { clamp, error, value, wrap };

// ---- input kinds --------------------------------------------------------------------

/// A string input: anything a std::string_view is made from.
template <class X>
inline constexpr bool is_string_input_v =
    std::is_convertible_v<const X&, std::string_view>;

/// A real input: a plain number or a Dual.
template <class X>
inline constexpr bool is_real_input_v =
    std::is_arithmetic_v<std::decay_t<X>> || is_dual_v<X>;

/// An integer input (correctionlib's "int").
template <class X>
inline constexpr bool is_int_input_v =
    std::is_integral_v<std::decay_t<X>> && !std::is_same_v<std::decay_t<X>, bool>;

/// The type a real input is computed in: double for plain numbers (float inputs are
/// widened, as correctionlib evaluates in double), the Dual itself for a Dual.
template <class X> using real_t = promote_t<double, std::decay_t<X>>;

// ---- errors (thrown inside event loops; DiffFrame turns them into EventLoopError) ---

namespace detail {
inline std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
} // namespace detail

/// Throws std::domain_error for a value outside a binning whose flow is "error".
[[noreturn]] inline void out_of_range(const char* correction, const char* input,
                                      double v, double lo, double hi) {
  std::string where = std::isnan(v) ? "is NaN, outside"
                      : (v < lo)    ? "is below"
                                    : "is above";
  throw std::domain_error("correction '" + std::string(correction) + "': input '" +
                          input + "' = " + detail::number(v) + " " + where +
                          " the binning range [" + detail::number(lo) + ", " +
                          detail::number(hi) + ") (flow \"error\")");
}

/// Throws std::domain_error for a category key without an entry and no default.
[[noreturn]] inline void unknown_category(const char* correction, const char* input,
                                          std::string_view key) {
  throw std::domain_error("correction '" + std::string(correction) + "': input '" +
                          input + "' = \"" + std::string(key) +
                          "\" is not one of its categories (and there is no default)");
}
[[noreturn]] inline void unknown_category(const char* correction, const char* input,
                                          long long key) {
  throw std::domain_error("correction '" + std::string(correction) + "': input '" +
                          input + "' = " + std::to_string(key) +
                          " is not one of its categories (and there is no default)");
}

// ---- bin lookup ---------------------------------------------------------------------

namespace detail {
inline double wrap(double v, double lo, double hi) {
  const double width = hi - lo;
  double r = lo + std::fmod(v - lo, width);
  if (r < lo) r += width;
  return (r >= hi) ? lo : r;
}
} // namespace detail

/// The bin of v among `nedges` increasing edges (bins [e_i, e_{i+1})), as
/// correctionlib finds it: -1 means "use the flow content" (flow value). NaN counts
/// as above the range (correctionlib's upper_bound).
inline int find_bin(double v, const double* edges, int nedges, Flow flow,
                    const char* correction, const char* input) {
  const double lo = edges[0];
  const double hi = edges[nedges - 1];
  if (flow == Flow::wrap && !std::isnan(v) && (v < lo || v >= hi))
    v = detail::wrap(v, lo, hi);
  const double* it = std::upper_bound(edges, edges + nedges, v);
  if (it == edges || it == edges + nedges) {
    if (flow == Flow::value) return -1;
    if (flow != Flow::clamp) out_of_range(correction, input, v, lo, hi); // or NaN
    return (it == edges) ? 0 : nedges - 2;
  }
  return static_cast<int>(it - edges) - 1;
}

/// The bin of v among n uniform bins on [low, high), with the same flow rules.
inline int find_bin_uniform(double v, int n, double low, double high, Flow flow,
                            const char* correction, const char* input) {
  if (flow == Flow::wrap && !std::isnan(v) && (v < low || v >= high))
    v = detail::wrap(v, low, high);
  if (!(v >= low && v < high)) {
    if (flow == Flow::value) return -1;
    if (flow != Flow::clamp) out_of_range(correction, input, v, low, high); // or NaN
    return (v < low) ? 0 : n - 1;
  }
  // correctionlib's own arithmetic, so that values on the edges land alike.
  const auto i = static_cast<int>(static_cast<double>(n) * ((v - low) / (high - low)));
  return std::min(i, n - 1);
}

// ---- element-wise evaluation --------------------------------------------------------

namespace detail {
template <class X, class = void> struct is_vector_like : std::false_type {};
template <class X>
struct is_vector_like<X, std::void_t<decltype(std::declval<const X&>().size()),
                                     decltype(std::declval<const X&>()[0])>>
    : std::bool_constant<!is_string_input_v<X>> {};
template <class X> inline constexpr bool is_vector_like_v = is_vector_like<X>::value;

/// V<R> for a vector type V<E, ...> (RVec<float> -> RVec<R>).
template <class V, class R> struct rebind;
template <template <class, class...> class V, class E, class... Rest, class R>
struct rebind<V<E, Rest...>, R> {
  using type = V<R>;
};

template <class X> decltype(auto) element(const X& x, std::size_t i) {
  if constexpr (is_vector_like_v<X>)
    return x[i];
  else
    return (x);
}

template <class X> void common_size(const X& x, std::size_t& n, bool& seen) {
  if constexpr (is_vector_like_v<X>) {
    const auto m = static_cast<std::size_t>(x.size());
    if (seen && m != n)
      throw std::invalid_argument(
          "a correction evaluated on vectors of different sizes (" + std::to_string(n) +
          " and " + std::to_string(m) + ")");
    n = m;
    seen = true;
  }
}

template <class... A> struct first_vector;
template <class A, class... Rest> struct first_vector<A, Rest...> {
  using type =
      std::conditional_t<is_vector_like_v<A>, A, typename first_vector<Rest...>::type>;
};
template <> struct first_vector<> {
  using type = void;
};
} // namespace detail

/// f.evaluate(args...) for scalars; element by element (scalars broadcast) when some
/// arguments are vectors (RVec, std::vector): the result is the first vector's
/// container of f's results. Vectors of different sizes throw
/// std::invalid_argument.
template <class F, class... A> auto apply(const F& f, const A&... a) {
  if constexpr ((detail::is_vector_like_v<A> || ...)) {
    std::size_t n = 0;
    bool seen = false;
    (detail::common_size(a, n, seen), ...);
    using E = decltype(f.evaluate(detail::element(a, 0)...));
    using V =
        typename detail::rebind<typename detail::first_vector<A...>::type, E>::type;
    V out(n);
    for (std::size_t i = 0; i < n; ++i)
      out[i] = f.evaluate(detail::element(a, i)...);
    return out;
  } else {
    return f.evaluate(a...);
  }
}

// ---- a nuisance parameter between down, nominal and up ------------------------------

/// The nominal value moved towards `up` (theta = +1) or `down` (theta = -1) by a
/// nuisance parameter theta, smoothly: pyhf's interpolation code 4p. With
/// d_up = up - nominal and d_dn = nominal - down, the shift is theta d_up for
/// theta > 1, theta d_dn for theta < -1, and in between the polynomial
/// theta (S + theta A (15 + theta^2 (3 theta^2 - 10))), S = (d_up + d_dn) / 2,
/// A = (d_up - d_dn) / 16, which matches both lines with their slopes at |theta| = 1.
/// d/dtheta at 0 is S = (up - down) / 2; every argument may be a Dual.
template <class Th, class Nom, class Up, class Down>
DIFFANA_HOST_DEVICE promote_t<double, Th, Nom, Up, Down>
updown(const Th& theta, const Nom& nominal, const Up& up, const Down& down) {
  using R = promote_t<double, Th, Nom, Up, Down>;
  using diffana::detail::convert;
  const R t = convert<R>(theta);
  const R nom = convert<R>(nominal);
  const R d_up = convert<R>(up) - nom;
  const R d_dn = nom - convert<R>(down);
  const double tv = static_cast<double>(value(theta));
  if (tv > 1.0) return nom + t * d_up;
  if (tv < -1.0) return nom + t * d_dn;
  const R s = 0.5 * (d_up + d_dn);
  const R a = 0.0625 * (d_up - d_dn);
  const R t2 = t * t;
  return nom + t * (s + t * a * (15.0 + t2 * (3.0 * t2 - 10.0)));
}

} // namespace diffana::correction
