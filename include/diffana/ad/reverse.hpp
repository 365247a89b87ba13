// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Reverse mode per event: `diffana::Rev<T>`, a number recorded on a `diffana::Tape`.
///
/// The tape is the adjoint half of a two-pass event loop: the histograms are filled
/// first (plain values), the statistics give the adjoint of every bin, and then each
/// event is evaluated again on Revs, seeded with the adjoint of its contributions and
/// swept back onto the parameters. One tape per thread (an RDataFrame slot), cleared
/// per event; its vectors keep their capacity, so a warm tape allocates nothing.
///
///   diffana::Tape& tape = diffana::active_tape();    // thread_local
///   tape.clear();                                    // per event
///   auto a = diffana::make_param(tape, 0, 1.02);     // grad[0] collects d/da
///   auto w = diffana::soft_cut(a * pt, 30.0, 0.2);
///   tape.seed(w, d_w);                               // adjoint of w (accumulates)
///   tape.sweep(grad.data(), grad.size());            // grad[p] += ...
///
/// The tape (tape.hpp) holds nodes, each with any number of parents and the partial
/// derivative towards each (an edge list), plus custom nodes: an op with n_in inputs
/// and n_out outputs (a network layer, a soft-histogram kernel) recorded once with its
/// own pullback, instead of as thousands of scalar nodes. A Rev is its value, its tape
/// and its node index; a constant (no tape, index -1) records nothing, so arithmetic on
/// constants is plain arithmetic.
///
/// Generic diffana code instantiates with Rev as it does with Dual: value(),
/// value_type_t, promote_t (a Rev with plain numbers gives the Rev), detail::convert
/// and detail::add_tangent (which appends edges to the node being built) are provided
/// here, and the math library is overloaded in namespace diffana (ADL). The derivative
/// rules are those of math.hpp, which the pullbacks of math_pullbacks.hpp apply too.
/// Rev and Dual do not mix. Not for device code.
///
/// A Rev is valid until its tape is cleared; using it afterwards is undefined. x + c
/// and x - c (c a plain number) share x's node, as their derivative is x's. An
/// operation on a temporary (`exp(-z)`, `s += a * b`) folds into the temporary's node
/// when that is the tape's last (see Rev): fewer nodes and edges, the same gradient.
/// add_tangent appends edges to the node it made for r as long as that is the tape's
/// last node: generic code builds a result with a run of add_tangent calls on it, and
/// a copy of r taken in the middle of such a run would see the later edges too.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"
#include "diffana/ad/math_pullbacks.hpp"
#include "diffana/ad/reverse_fwd.hpp"
#include "diffana/ad/tape.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffana {

// ---- traits (is_rev_v: reverse_fwd.hpp) ---------------------------------------------

/// value_type_t<Rev<T>> is T.
template <class T> struct value_type<Rev<T>> {
  using type = T;
};

namespace detail {
/// The Rev of a promotion: plain numbers adapt to a Rev's value type (as for Dual).
template <class T, class Y> struct rev_promote_pair {
  static_assert(!is_dual_v<Y>, "diffana: Rev and Dual cannot be mixed");
  static_assert(std::is_arithmetic_v<Y>,
                "diffana: a Rev combines with plain numbers and Revs only");
  using type = Rev<T>;
};
template <class T, class U> struct rev_promote_pair<T, Rev<U>> {
  using type = Rev<std::common_type_t<T, U>>;
};

template <class T, class Y, class... Rest> struct promote<Rev<T>, Y, Rest...> {
  using type = typename promote<typename rev_promote_pair<T, Y>::type, Rest...>::type;
};
template <class X, class T, class... Rest> struct promote<X, Rev<T>, Rest...> {
  using type = typename promote<typename rev_promote_pair<T, X>::type, Rest...>::type;
};
template <class T, class U, class... Rest> struct promote<Rev<T>, Rev<U>, Rest...> {
  using type = typename promote<Rev<std::common_type_t<T, U>>, Rest...>::type;
};
} // namespace detail

// ---- the type -----------------------------------------------------------------------

template <class T = double> class Rev;

namespace detail {
struct RevFold;
}

/// A value recorded on a tape (or a constant: no tape, index -1).
///
/// The result of an operation is the only Rev that refers to its node until it is
/// copied (own_: that node's edge count, 0 once shared). An operation that consumes
/// such a Rev as a temporary (`exp(-z)`, `s += a * b`, `x * y * 2.0`) rewrites the
/// node, when it is the tape's last, instead of recording a new one (detail::RevFold):
/// the chain rule applied at record time, which cuts nodes and edges and the chains
/// of dependent adjoints in the sweep. A copy, or taking its index() (a seed, an
/// edge, a custom node's input), shares the node and ends that. A Rev that std::move
/// handed to an operation refers to the rewritten node afterwards: as with any
/// moved-from object, do not use it.
template <class T> class Rev {
  static_assert(std::is_floating_point_v<T>, "diffana::Rev needs a floating-point T");

public:
  using value_type = T;

  /// Zero, a constant.
  constexpr Rev() : val_(0), tape_(nullptr), idx_(-1) {}

  /// A constant (implicit, so `Rev<> x = 2.0` works); records nothing.
  template <class S, enable_if_arithmetic_t<S> = 0>
  constexpr Rev(S v) : val_(static_cast<T>(v)), tape_(nullptr), idx_(-1) {}

  /// A copy shares o's node: neither may rewrite it any more.
  constexpr Rev(const Rev& o) : val_(o.val_), tape_(o.tape_), idx_(o.idx_) {
    o.share();
  }
  constexpr Rev(Rev&& o) noexcept
      : val_(o.val_), tape_(o.tape_), idx_(o.idx_), own_(o.own_) {
    o.own_ = 0;
  }
  constexpr Rev& operator=(const Rev& o) {
    val_ = o.val_;
    tape_ = o.tape_;
    idx_ = o.idx_;
    own_ = 0;
    o.share();
    return *this;
  }
  constexpr Rev& operator=(Rev&& o) noexcept {
    val_ = o.val_;
    tape_ = o.tape_;
    idx_ = o.idx_;
    const std::int32_t own = o.own_;
    o.own_ = 0;
    own_ = own;
    return *this;
  }
  ~Rev() = default;

  /// Marks the node as referred to elsewhere (a seed, a custom node's input): no
  /// operation on this Rev rewrites it then. Written only when set, so that a
  /// constant in read-only memory is never written.
  constexpr void share() const {
    if (own_ != 0) own_ = 0;
  }

  /// The node `index` of `tape` with value v (index < 0: a constant).
  DIFFANA_INLINE static Rev on_tape(T v, Tape* tape, std::int32_t index) {
    Rev r(v);
    if (index >= 0) {
      r.tape_ = tape;
      r.idx_ = index;
    }
    return r;
  }

  /// on_tape for an index known to be >= 0 (not checked) and a non-null tape.
  DIFFANA_INLINE static Rev on_node(T v, Tape* tape, std::int32_t index) {
    Rev r(v);
    r.tape_ = tape;
    r.idx_ = index;
    return r;
  }

  constexpr const T& value() const { return val_; }
  Tape* tape() const { return tape_; }
  /// The node's index. Whoever takes it may refer to the node (an edge, a seed), so
  /// the node is shared from then on (see share()).
  std::int32_t index() const {
    share();
    return idx_;
  }
  bool is_constant() const { return idx_ < 0; }

  // Forced inline, as the arithmetic: cling's machine code pays for every call. By
  // value and moving *this, so that `s += a * b` merges a * b into s's node.
  DIFFANA_INLINE Rev& operator+=(Rev o) {
    return *this = std::move(*this) + std::move(o);
  }
  DIFFANA_INLINE Rev& operator-=(Rev o) {
    return *this = std::move(*this) - std::move(o);
  }
  DIFFANA_INLINE Rev& operator*=(Rev o) {
    return *this = std::move(*this) * std::move(o);
  }
  DIFFANA_INLINE Rev& operator/=(Rev o) {
    return *this = std::move(*this) / std::move(o);
  }
  template <class S, enable_if_arithmetic_t<S> = 0> Rev& operator+=(S s) {
    val_ += static_cast<T>(s);
    if (idx_ >= 0) tape_->seal();
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0> Rev& operator-=(S s) {
    val_ -= static_cast<T>(s);
    if (idx_ >= 0) tape_->seal();
    return *this;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE Rev& operator*=(S s) {
    return *this = std::move(*this) * s;
  }
  template <class S, enable_if_arithmetic_t<S> = 0>
  DIFFANA_INLINE Rev& operator/=(S s) {
    return *this = std::move(*this) / s;
  }

private:
  friend struct detail::RevFold;
  T val_;
  Tape* tape_;
  std::int32_t idx_;
  mutable std::int32_t own_ =
      0; // edges of idx_'s node while only this Rev refers to it
};

template <class T> void Tape::seed(const Rev<T>& y, double adjoint) {
  seed_index(y.index(), adjoint); // index() shares: the seed stays on this node
}

/// A parameter: a leaf of `tape` with value `value` whose adjoint sweep adds to
/// grad[param_index].
DIFFANA_INLINE Rev<double> make_param(Tape& tape, int param_index, double value) {
  return Rev<double>::on_tape(value, &tape, tape.push_param(param_index));
}

/// A leaf of `tape` that is no parameter (its adjoint can be read with
/// tape.adjoint(x.index()) after seeding, or it is an input whose adjoint a custom node
/// wants).
template <class T = double> Rev<T> make_leaf(Tape& tape, T value) {
  return Rev<T>::on_tape(value, &tape, tape.push_leaf());
}

// ---- accessors ----------------------------------------------------------------------

/// The value of a Rev.
template <class T> constexpr T value(const Rev<T>& x) {
  return x.value();
}

namespace detail {

[[noreturn]] inline DIFFANA_NOINLINE void rev_throw_two_tapes() {
  throw std::logic_error("diffana::Rev: operands recorded on different tapes "
                         "(one tape per thread)");
}

/// The tape of x or of y (the one that is not a constant); throws when they differ.
template <class T, class U>
DIFFANA_INLINE Tape* rev_tape(const Rev<T>& x, const Rev<U>& y) {
  Tape* t = x.tape();
  if (t == nullptr) return y.tape();
  if (y.tape() != nullptr && y.tape() != t) rev_throw_two_tapes();
  return t;
}

/// Rev's recording with folding (see Rev): the arithmetic and the math library make
/// their results with it.
struct RevFold {
  /// Folding scales the node's edges: only for nodes with at most this many (or a
  /// factor 1), so that a long sum times a constant stays O(1).
  static constexpr std::int32_t kMaxScaled = 16;

  template <class T> static DIFFANA_INLINE std::int32_t own(const Rev<T>& x) {
    return x.own_;
  }
  /// x's index without sharing its node (the caller folds it or copies x).
  template <class T> static DIFFANA_INLINE std::int32_t index(const Rev<T>& x) {
    return x.idx_;
  }
  /// The Rev of value v on node i of t that only it refers to (own edges).
  template <class T>
  static DIFFANA_INLINE Rev<T> make(T v, Tape* t, std::int32_t i, std::int32_t own) {
    Rev<T> r(v);
    r.tape_ = t;
    r.idx_ = i;
    r.own_ = own;
    return r;
  }
  /// Whether x's node can be folded with the factor p: x alone refers to it, it is
  /// node `at` of the tape, and scaling it is cheap.
  template <class T>
  static DIFFANA_INLINE bool foldable(const Rev<T>& x, std::int32_t at, double p) {
    return x.own_ != 0 && x.idx_ == at && (x.own_ <= kMaxScaled || p == 1.0);
  }
};

/// x plus a constant, as value v: the derivative is x's, so the result shares x's
/// node (no new node), and takes x's claim on it.
template <class T> DIFFANA_INLINE Rev<T> rev_shift(Rev<T> x, T v) {
  if (x.is_constant()) return Rev<T>(v);
  x.tape()->seal();
  return RevFold::make(v, x.tape(), RevFold::index(x), RevFold::own(x));
}

// rev_unary and rev_binary test each operand once (a Rev on a tape has an index >=
// 0) and then record without further tests: every branch costs spills in
// cling-compiled code.

/// The Rev of value v with one parent x (partial p): x's node rewritten when only x
/// refers to it and it is the last node, else a new node.
template <class T> DIFFANA_INLINE Rev<T> rev_unary(Rev<T> x, T v, double p) {
  const std::int32_t a = RevFold::index(x);
  if (a < 0) return Rev<T>(v);
  Tape* t = x.tape();
  if (RevFold::foldable(x, t->last_node(), p)) {
    t->fold_scale(RevFold::own(x), p);
    return RevFold::make(v, t, a, RevFold::own(x));
  }
  return RevFold::make(v, t, t->push1_unchecked(a, p), 1);
}

/// The Rev of value v with parents x, y (partials px, py). Folding, when the last
/// node is one of them and only it refers to that node: with a partial 1 and the
/// other one's node just before it (and only its), the last node's edges move to
/// that node (a sum: no new node or edge); else the last node takes the other
/// operand as one more edge.
template <class T>
DIFFANA_INLINE Rev<T> rev_binary(Rev<T> x, Rev<T> y, T v, double px, double py) {
  const std::int32_t a = RevFold::index(x);
  const std::int32_t b = RevFold::index(y);
  if (a >= 0 && b >= 0) {
    Tape* t = x.tape();
    if (y.tape() != t) rev_throw_two_tapes();
    const std::int32_t last = t->last_node();
    if (a != b) {
      if (RevFold::foldable(y, last, py)) {
        if (px == 1.0 && RevFold::foldable(x, last - 1, 1.0) &&
            t->fold_merge(a, RevFold::own(y), py))
          return RevFold::make(v, t, a, RevFold::own(x) + RevFold::own(y));
        t->fold_scale(RevFold::own(y), py);
        t->fold_edge(a, px);
        return RevFold::make(v, t, b, RevFold::own(y) + 1);
      }
      if (RevFold::foldable(x, last, px)) {
        if (py == 1.0 && RevFold::foldable(y, last - 1, 1.0) &&
            t->fold_merge(b, RevFold::own(x), px))
          return RevFold::make(v, t, b, RevFold::own(x) + RevFold::own(y));
        t->fold_scale(RevFold::own(x), px);
        t->fold_edge(b, py);
        return RevFold::make(v, t, a, RevFold::own(x) + 1);
      }
    }
    return RevFold::make(v, t, t->push2_unchecked(a, px, b, py), 2);
  }
  if (a >= 0) return rev_unary(std::move(x), v, px);
  if (b >= 0) return rev_unary(std::move(y), v, py);
  return Rev<T>(v);
}

/// Rev overload of add_tangent (dual.hpp): r += partial * d(arg), by appending the
/// edge (arg, partial) to the node r is being built as (generic diffana code builds
/// results as `R r(value); add_tangent(r, partial, arg); ...`). Nothing for a plain or
/// constant arg.
template <class T, class A>
void add_tangent(Rev<T>& r, typename rev_identity<T>::type partial, const A& arg) {
  if constexpr (is_rev_v<A>) {
    if (arg.is_constant()) return;
    Tape* t = rev_tape(r, arg);
    r = Rev<T>::on_tape(
        r.value(), t,
        t->add_edge(r.index(), arg.index(), static_cast<double>(partial)));
  } else {
    static_assert(!is_dual_v<A>, "diffana: Rev and Dual cannot be mixed");
    (void)r;
    (void)partial;
    (void)arg;
  }
}

} // namespace detail

// ---- arithmetic ---------------------------------------------------------------------

// Operands by value: a temporary's claim on its node moves in (and may be folded, see
// Rev); a named Rev is copied and so shared.
template <class T> DIFFANA_INLINE Rev<T> operator+(Rev<T> x) {
  return x;
}
template <class T> DIFFANA_INLINE Rev<T> operator-(Rev<T> x) {
  const T v = -x.value();
  return detail::rev_unary(std::move(x), v, -1.0);
}

template <class T> DIFFANA_INLINE Rev<T> operator+(Rev<T> x, Rev<T> y) {
  const T v = x.value() + y.value();
  return detail::rev_binary(std::move(x), std::move(y), v, 1.0, 1.0);
}
template <class T> DIFFANA_INLINE Rev<T> operator-(Rev<T> x, Rev<T> y) {
  const T v = x.value() - y.value();
  return detail::rev_binary(std::move(x), std::move(y), v, 1.0, -1.0);
}
template <class T> DIFFANA_INLINE Rev<T> operator*(Rev<T> x, Rev<T> y) {
  const T xv = x.value();
  const T yv = y.value();
  return detail::rev_binary(std::move(x), std::move(y), xv * yv,
                            static_cast<double>(yv), static_cast<double>(xv));
}
/// d(u/v) = du / v - (u/v) dv / v
template <class T> DIFFANA_INLINE Rev<T> operator/(Rev<T> x, Rev<T> y) {
  const T inv = T(1) / y.value();
  const T f = x.value() * inv;
  return detail::rev_binary(std::move(x), std::move(y), f, static_cast<double>(inv),
                            static_cast<double>(-f * inv));
}

template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator+(Rev<T> x, S y) {
  const T v = x.value() + static_cast<T>(y);
  return detail::rev_shift(std::move(x), v);
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator+(S x, Rev<T> y) {
  const T v = static_cast<T>(x) + y.value();
  return detail::rev_shift(std::move(y), v);
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator-(Rev<T> x, S y) {
  const T v = x.value() - static_cast<T>(y);
  return detail::rev_shift(std::move(x), v);
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator-(S x, Rev<T> y) {
  const T v = static_cast<T>(x) - y.value();
  return detail::rev_unary(std::move(y), v, -1.0);
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator*(Rev<T> x, S y) {
  const T c = static_cast<T>(y);
  const T v = x.value() * c;
  return detail::rev_unary(std::move(x), v, static_cast<double>(c));
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator*(S x, Rev<T> y) {
  const T c = static_cast<T>(x);
  const T v = c * y.value();
  return detail::rev_unary(std::move(y), v, static_cast<double>(c));
}
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator/(Rev<T> x, S y) {
  const T inv = T(1) / static_cast<T>(y);
  const T v = x.value() * inv;
  return detail::rev_unary(std::move(x), v, static_cast<double>(inv));
}
/// d(s/v) = -(s/v) dv / v
template <class T, class S, enable_if_arithmetic_t<S> = 0>
DIFFANA_INLINE Rev<T> operator/(S x, Rev<T> y) {
  const T inv = T(1) / y.value();
  const T f = static_cast<T>(x) * inv;
  return detail::rev_unary(std::move(y), f, static_cast<double>(-f * inv));
}

// ---- comparisons act on the value ---------------------------------------------------

#define DIFFANA_REV_COMPARISON(OP)                                                     \
  template <class T> constexpr bool operator OP(const Rev<T>& x, const Rev<T>& y) {    \
    return x.value() OP y.value();                                                     \
  }                                                                                    \
  template <class T, class S, enable_if_arithmetic_t<S> = 0>                           \
  constexpr bool operator OP(const Rev<T>& x, S y) {                                   \
    return x.value() OP static_cast<T>(y);                                             \
  }                                                                                    \
  template <class T, class S, enable_if_arithmetic_t<S> = 0>                           \
  constexpr bool operator OP(S x, const Rev<T>& y) {                                   \
    return static_cast<T>(x) OP y.value();                                             \
  }
DIFFANA_REV_COMPARISON(==)
DIFFANA_REV_COMPARISON(!=)
DIFFANA_REV_COMPARISON(<)
DIFFANA_REV_COMPARISON(<=)
DIFFANA_REV_COMPARISON(>)
DIFFANA_REV_COMPARISON(>=)
#undef DIFFANA_REV_COMPARISON

/// Prints `3.5 @7` (value and tape index; `3.5` for a constant).
template <class T> std::ostream& operator<<(std::ostream& os, const Rev<T>& x) {
  os << x.value();
  if (!x.is_constant()) os << " @" << detail::RevFold::index(x);
  return os;
}

// ---- custom nodes on Revs -----------------------------------------------------------

/// Records an op of n_in Rev inputs with n_out outputs as one custom node (see
/// Tape::push_custom): out[o] gets value out_values[o] and, unless every input is a
/// constant (then the outputs are constants), the o-th output node. The pullback gets
/// d_out (n_out adjoints) and accumulates d_in (n_in, in the order of `in`). Returns
/// the tape used (null when every input is constant).
template <class T>
Tape* record_custom(const Rev<T>* in, std::size_t n_in, const T* out_values,
                    Rev<T>* out, std::size_t n_out, CustomPullback fn,
                    const double* data, std::size_t n_data, void* context = nullptr) {
  Tape* tape = nullptr;
  for (std::size_t i = 0; i < n_in; ++i) {
    if (in[i].tape() == nullptr) continue;
    if (tape != nullptr && in[i].tape() != tape)
      throw std::logic_error("diffana::record_custom: inputs recorded on different "
                             "tapes (one tape per thread)");
    tape = in[i].tape();
  }
  if (tape == nullptr) {
    for (std::size_t o = 0; o < n_out; ++o)
      out[o] = Rev<T>(out_values[o]);
    return nullptr;
  }
  const std::int32_t first =
      tape->push_custom_with([in](std::size_t i) { return in[i].index(); }, n_in, n_out,
                             fn, data, n_data, context);
  for (std::size_t o = 0; o < n_out; ++o)
    out[o] = Rev<T>::on_tape(out_values[o], tape, first + static_cast<std::int32_t>(o));
  return tape;
}

} // namespace diffana

// The math library on Revs (exp, sqrt, pow, max, ...): generic code finds it by ADL.
#include "diffana/ad/reverse_math.hpp"
