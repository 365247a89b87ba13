// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of Rev's folding (diffana/ad/reverse.hpp): an operation on a temporary whose
/// node only it refers to rewrites that node instead of recording a new one. Checked:
/// the gradients of expressions that fold (unary chains, products, sums merged in a
/// loop, long sums scaled, compound assignment) against Dual (1e-12) and Dual against
/// finite differences; the tape shrinks as intended; copies, seeds, custom-node inputs
/// and add_tangent parents share a node, so a later fold leaves what they refer to
/// intact; a zero factor gives a zero partial, never 0 * inf. And Tape::mark /
/// Tape::rewind (parameters recorded once, an event per rewind) against a tape cleared
/// per event.
#include "diffana/ad/dual.hpp"
#include "diffana/ad/reverse.hpp"
#include "diffana/soft/cuts.hpp"

#include "check.hpp"
#include "gradient_check.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

namespace {

using diffana::Dual;
using diffana::Rev;
using diffana::Tape;

/// Value and gradient of f (generic on std::array<S, K>) with Rev against Dual.
template <std::size_t K, class F>
void compare(const char* file, int line, const std::string& what, const F& f,
             const std::array<double, K>& x) {
  using D = Dual<double, static_cast<int>(K)>;
  std::array<D, K> xd;
  for (std::size_t k = 0; k < K; ++k)
    xd[k] = D::variable(x[k], static_cast<int>(k));
  const D rd = f(xd);
  Tape tape;
  std::array<Rev<>, K> xr;
  for (std::size_t k = 0; k < K; ++k)
    xr[k] = diffana::make_param(tape, static_cast<int>(k), x[k]);
  const Rev<> rr = f(xr);
  std::array<double, K> g{};
  tape.gradient(rr, g.data(), K);
  if (!diffana::test::close(rr.value(), rd.value(), 1e-12, 1e-300))
    diffana::test::fail(file, line, what + ": value");
  for (std::size_t k = 0; k < K; ++k)
    if (!diffana::test::close(g[k], rd.tangent(static_cast<int>(k)), 1e-12, 1e-300))
      diffana::test::fail(file, line,
                          what + ": d/dx" + std::to_string(k) + " Rev " +
                              std::to_string(g[k]) + " vs Dual " +
                              std::to_string(rd.tangent(static_cast<int>(k))));
}
#define COMPARE(what, f, ...)                                                          \
  do {                                                                                 \
    compare(__FILE__, __LINE__, what, f, __VA_ARGS__);                                 \
    CHECK_GRADIENT(what " (Dual vs FD)", f, __VA_ARGS__);                              \
  } while (0)

template <class S> S sigmoid(const S& z) {
  return 1.0 / (1.0 + exp(-z));
}

DIFFANA_TEST(folded_expressions_match_dual) {
  const auto chain = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    const S z = v[0] * v[1] - v[2];
    return sigmoid(0.2 * (z - 3.0)) * sqrt(v[0] * v[1] * 2.5) * exp(-0.01 * (v[2] * z));
  };
  COMPARE("chain", chain, std::array<double, 3>{1.3, 2.1, 0.4});
  COMPARE("chain", chain, std::array<double, 3>{-0.6, -1.7, 2.0});
  const auto products = [](const auto& v) {
    return (v[0] * v[1]) * (v[1] * v[2]) * (v[0] / (v[2] + 1.0)) * (2.0 - v[0]) /
           (v[1] + 4.0);
  };
  COMPARE("products", products, std::array<double, 3>{1.3, -0.7, 2.2});
  const auto sums = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    S s = 0.0;
    for (int k = 0; k < 40; ++k)
      s += v[static_cast<std::size_t>(k % 3)] * (0.1 * k - 1.0);
    S t = v[0] * v[1];
    for (int k = 0; k < 5; ++k)
      t = 0.5 * t + v[2] * v[static_cast<std::size_t>(k % 2)]; // scaled each time
    S u = v[2];
    u -= v[0] * v[1];
    u *= v[0] - v[2];
    u /= v[1] * v[1] + 1.0;
    return s * 0.3 + t + u + (s + t) * (s - t) / 20.0;
  };
  COMPARE("sums", sums, std::array<double, 3>{0.9, -1.2, 0.5});
  // Operands that are the same node, moved and copied.
  const auto self = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    S a = v[0] * v[1];
    S b = a * std::move(a); // the copy shares a's node: nothing folds into it
    S c = v[2] * 3.0;
    S d = std::move(c) + c; // c moved-from, its value still the same
    // Read after a move: e * e's node has two edges to the node that g now holds, so
    // g + h must not make them g's own (edges from a node to itself).
    S e = v[0] * v[2];
    S g = std::move(e);
    S h = e * e;
    S f = std::move(g) + std::move(h);
    return b + d + f + (v[0] + v[1]) * (v[0] + v[1]);
  };
  COMPARE("self", self, std::array<double, 3>{1.1, 0.7, -0.3});
}

DIFFANA_TEST(folding_shrinks_the_tape) {
  Tape tape;
  const auto x = diffana::make_param(tape, 0, 0.3);
  const auto y = diffana::make_param(tape, 1, 1.7);
  // x * y with two ops on the temporary: one node, two edges; sigmoid's argument is a
  // reference (a name), so -z is a new node, and exp, + 1 and 1 / fold into it.
  const auto s = sigmoid(2.0 * (x * y - 1.0));
  CHECK(tape.size() == 4 && tape.edge_count() == 3);
  const auto z = x * y;
  const auto w = sigmoid(z);
  CHECK(tape.size() == 6 && tape.edge_count() == 6);
  // Unfolded (every op a node of its own) the first would be 6 nodes and 7 edges.
  // A sum of products merges into one node with an edge per term.
  tape.clear();
  std::array<Rev<>, 10> p;
  const std::int32_t first = tape.push_params(0, 10);
  for (int k = 0; k < 10; ++k)
    p[static_cast<std::size_t>(k)] = Rev<>::on_node(1.0 + k, &tape, first + k);
  Rev<> acc = 0.0;
  for (int k = 0; k < 10; ++k)
    acc += p[static_cast<std::size_t>(k)] * (k + 0.5);
  CHECK(tape.size() == 11 && tape.edge_count() == 10);
  std::array<double, 10> g{};
  tape.gradient(acc / 4.0, g.data(), 10); // a long sum scaled: a new node
  for (int k = 0; k < 10; ++k)
    CHECK(g[static_cast<std::size_t>(k)] == (k + 0.5) / 4.0);
  CHECK(tape.size() == 12);
  (void)s;
  (void)w;
}

DIFFANA_TEST(shared_nodes_are_not_rewritten) {
  // A copy, a seed, a custom node's input and an add_tangent parent each keep the
  // node they refer to, whatever the Rev is later moved into.
  Tape tape;
  const auto x = diffana::make_param(tape, 0, 0.8);
  Rev<> a = x * x;
  const Rev<> b = a;                 // copy
  const Rev<> c = exp(std::move(a)); // must record a new node
  double g[1] = {0.0};
  tape.gradient(b + c, g, 1);
  CHECK(diffana::test::close(g[0], 1.6 + 1.6 * std::exp(0.64), 1e-14, 0.0));

  tape.clear();
  const auto y = diffana::make_param(tape, 0, 0.8);
  Rev<> u = y * 3.0;
  tape.seed(u, 1.0);                 // d/dy of u: 3
  const Rev<> v = exp(std::move(u)); // a new node, not the seeded one
  tape.seed(v, 1.0);                 // d/dy of exp(3y): 3 exp(2.4)
  g[0] = 0.0;
  tape.sweep(g, 1);
  CHECK(diffana::test::close(g[0], 3.0 + 3.0 * std::exp(2.4), 1e-14, 0.0));

  tape.clear();
  const auto p = diffana::make_param(tape, 0, 31.0);
  Rev<> q = p * 1.0;
  Rev<> r = diffana::soft_cut(q, 30.0, 0.5); // q is an add_tangent parent
  const Rev<> t = std::move(q) * 2.0;
  g[0] = 0.0;
  tape.gradient(r + t, g, 1);
  using D1 = Dual<double, 1>;
  const D1 pd = D1::variable(31.0, 0);
  const D1 rd = diffana::soft_cut(pd * 1.0, 30.0, 0.5) + pd * 2.0;
  CHECK(diffana::test::close(g[0], rd.tangent(0), 1e-14, 0.0));
}

void identity_pullback(const diffana::CustomArgs& a) {
  a.d_in[0] += a.d_out[0];
}

DIFFANA_TEST(custom_inputs_are_shared) {
  Tape tape;
  const auto x = diffana::make_param(tape, 0, 2.0);
  Rev<> in[1] = {x * 5.0};
  const double out_value = in[0].value();
  Rev<> out[1];
  diffana::record_custom(in, 1, &out_value, out, 1, identity_pullback, nullptr, 0);
  const Rev<> later = std::move(in[0]) * 7.0; // the custom node's input stays 5 x
  double g[1] = {0.0};
  tape.gradient(out[0] + later, g, 1);
  CHECK(g[0] == 5.0 + 35.0);
}

DIFFANA_TEST(zero_factor_gives_zero_partial) {
  // 0 * sqrt(x) at x = 0: the partial of sqrt is infinite, the fold scales it by 0
  // and stores 0 (as the unfolded sweep skips the zero adjoint), never NaN.
  Tape tape;
  const auto x = diffana::make_param(tape, 0, 0.0);
  double g[1] = {0.0};
  tape.gradient(0.0 * sqrt(x) + x, g, 1);
  CHECK(g[0] == 1.0);
  tape.clear();
  const auto y = diffana::make_param(tape, 0, 0.0);
  g[0] = 0.0;
  tape.gradient(sqrt(y * 1.0) * 0.0 + y * 2.0, g, 1);
  CHECK(g[0] == 2.0);
}

DIFFANA_TEST(rewind_keeps_the_parameters) {
  // Parameters recorded once, the tape rewound to just after them per event: the
  // same gradients as a tape cleared and recorded again per event, and nothing
  // allocated once warm.
  constexpr int P = 8;
  const std::array<double, P> p0 = {1.02, 30.0, 120.0, 0.01, 25.0, 3.0, 1.3, 0.5};
  const auto f = [](const auto* p, double x) {
    return sigmoid(0.2 * (p[0] * x - p[1])) * exp(-p[7] * p[3] * x) * p[6] +
           p[2] * p[4] / (p[5] + x);
  };
  Tape once;
  std::array<Rev<>, P> pr;
  const std::int32_t first = once.push_params(0, P);
  for (int k = 0; k < P; ++k)
    pr[static_cast<std::size_t>(k)] =
        Rev<>::on_node(p0[static_cast<std::size_t>(k)], &once, first + k);
  const Tape::Mark mark = once.mark();
  Tape each;
  std::array<double, P> g_once{};
  std::array<double, P> g_each{};
  std::size_t warm = 0;
  for (int e = 0; e < 50; ++e) {
    const double x = 20.0 + e;
    once.rewind(mark);
    CHECK(once.size() == static_cast<std::size_t>(P));
    once.seed(f(pr.data(), x), 1.0);
    if (e == 10)
      once.seed(pr[1] * 2.0, 1.0); // a seed dropped by the next rewind
    else
      once.sweep(g_once.data(), P);
    if (e == 11) warm = once.reserved_bytes();
    if (e == 10) continue;
    each.clear();
    std::array<Rev<>, P> pe;
    for (int k = 0; k < P; ++k)
      pe[static_cast<std::size_t>(k)] =
          diffana::make_param(each, k, p0[static_cast<std::size_t>(k)]);
    each.gradient(f(pe.data(), x), g_each.data(), P);
  }
  CHECK(once.reserved_bytes() == warm);
  for (std::size_t k = 0; k < static_cast<std::size_t>(P); ++k)
    CHECK(diffana::test::close(g_once[k], g_each[k], 1e-12, 1e-300));
  // A mark beyond the tape (taken before a clear) is refused.
  const auto y = pr[0] * 3.0;
  const Tape::Mark later = once.mark();
  once.clear();
  CHECK_THROWS(once.rewind(later));
  (void)y;
}

} // namespace

int main() {
  return diffana::test::run_all();
}
