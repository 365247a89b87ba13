// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana/ad/reverse.hpp: Rev arithmetic and math against Dual forward mode
/// (1e-12 relative) and finite differences, constants that record nothing, the
/// add_tangent route through generic diffana code (soft cuts, Lorentz helpers, soft
/// sort, AGC blocks), custom nodes, repeated seeds and sweeps, errors, one tape per
/// thread, the benchmark weight of benchmarks/hep_weight.hpp at P = 3, 8, 64 against
/// Dual, parameter blocks (push_params) against a leaf per read, seeded(), and a warm
/// tape that allocates nothing over 1000 events.
// The soft operations come before reverse.hpp on purpose: Rev support must not depend
// on the order of the includes (their qualified detail::add_tangent calls must find
// Rev's overload).
// clang-format off
#include "diffana/soft/cuts.hpp"
#include "diffana/soft/select.hpp"
// clang-format on
#include "diffana/ad/dual.hpp"
#include "diffana/ad/reverse.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"

#include "../../benchmarks/hep_weight.hpp"
#include "check.hpp"
#include "gradient_check.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using diffana::Dual;
using diffana::Rev;
using diffana::Tape;

/// Value and gradient of f (generic on std::array<S, K>) with Rev (parameters 0..K-1
/// on a fresh tape) against Dual<double, K>, to rel (plus abs for values near 0).
template <std::size_t K, class F>
void compare_rev_dual(const char* file, int line, const std::string& what, const F& f,
                      const std::array<double, K>& x, double rel = 1e-12,
                      double abs = 1e-300) {
  using D = Dual<double, static_cast<int>(K)>;
  std::array<D, K> xd;
  for (std::size_t k = 0; k < K; ++k)
    xd[k] = D::variable(x[k], static_cast<int>(k));
  const D rd = f(xd);
  Tape tape;
  std::array<Rev<double>, K> xr;
  for (std::size_t k = 0; k < K; ++k)
    xr[k] = diffana::make_param(tape, static_cast<int>(k), x[k]);
  const Rev<double> rr = f(xr);
  std::array<double, K> g{};
  tape.gradient(rr, g.data(), K);
  if (!diffana::test::close(rr.value(), rd.value(), rel, abs))
    diffana::test::fail(file, line,
                        diffana::test::describe(what, x.data(), K) + ": value Rev " +
                            std::to_string(rr.value()) + " vs Dual " +
                            std::to_string(rd.value()));
  for (std::size_t k = 0; k < K; ++k) {
    const double t = rd.tangent(static_cast<int>(k));
    if (!diffana::test::close(g[k], t, rel, abs)) {
      char buf[200];
      std::snprintf(buf, sizeof buf, ": d/dx%zu Rev %.17g vs Dual %.17g", k, g[k], t);
      diffana::test::fail(file, line, diffana::test::describe(what, x.data(), K) + buf);
    }
  }
}
#define COMPARE_REV_DUAL(...) compare_rev_dual(__FILE__, __LINE__, __VA_ARGS__)

// ---- arithmetic and math ----------------------------------------------------------

DIFFANA_TEST(arithmetic_matches_dual) {
  const auto f = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    const S a = v[0];
    const S b = v[1];
    const S c = v[2];
    S r = a * b - c / a + 3.0 * a - b / 2.0 + 1.5 - c + (-a) + (2.0 - b) + 4.0 / c;
    r += a;
    r -= b * c;
    r *= 1.1;
    r /= (a + 3.0);
    r *= c;
    r /= b;
    r += 0.5;
    r -= 0.25;
    return r;
  };
  COMPARE_REV_DUAL("arith", f, std::array<double, 3>{1.3, -0.7, 2.2});
  COMPARE_REV_DUAL("arith", f, std::array<double, 3>{-4.0, 3.5, 0.1});
  CHECK_GRADIENT("arith (Dual vs FD)", f, std::array<double, 3>{1.3, -0.7, 2.2});
}

DIFFANA_TEST(unary_math_matches_dual) {
  using std::abs;
  const auto f = [](const auto& v) {
    using std::acos;
    using std::acosh;
    using std::asin;
    using std::asinh;
    using std::atan;
    using std::atanh;
    using std::cbrt;
    using std::cos;
    using std::cosh;
    using std::erf;
    using std::erfc;
    using std::exp;
    using std::expm1;
    using std::fabs;
    using std::log;
    using std::log10;
    using std::log1p;
    using std::sin;
    using std::sinh;
    using std::sqrt;
    using std::tan;
    using std::tanh;
    const auto x = v[0]; // in (0, 1)
    return exp(x) + expm1(x) + log(x) + log1p(x) + log10(x) + sqrt(x) + cbrt(x) +
           sin(x) + cos(x) + tan(x) + asin(x) + acos(x * 0.5) + atan(x) + sinh(x) +
           cosh(x) + tanh(x) + asinh(x) + acosh(x + 1.5) + atanh(x * 0.9) + erf(x) +
           erfc(x) + abs(x - 0.2) + fabs(0.1 - x) + floor(x) + ceil(x) + round(x) +
           trunc(x);
  };
  for (double x : {0.13, 0.42, 0.77})
    COMPARE_REV_DUAL("unary", f, std::array<double, 1>{x});
}

DIFFANA_TEST(binary_math_matches_dual) {
  const auto f = [](const auto& v) {
    using std::atan2;
    using std::hypot;
    using std::max;
    using std::min;
    using std::pow;
    const auto a = v[0];
    const auto b = v[1];
    return pow(a, b) + pow(a, 2.5) + pow(1.7, b) + hypot(a, b) + hypot(a, 3.0) +
           atan2(a, b) + atan2(2.0, b) + max(a, b) + min(a, b) + max(a, 0.5) +
           min(0.9, b) + fmax(a, b) + fmin(a, b) + clamp(a, 0.0, b) + clamp(b, 0.0, a);
  };
  COMPARE_REV_DUAL("binary", f, std::array<double, 2>{1.3, 0.7});
  COMPARE_REV_DUAL("binary", f, std::array<double, 2>{0.6, 2.1});
  // Ties: half of the adjoint to each argument, as Dual.
  COMPARE_REV_DUAL("binary tie", f, std::array<double, 2>{0.8, 0.8});
  // hypot and atan2 at the origin: zero derivatives, no NaN.
  const auto g = [](const auto& v) {
    using std::atan2;
    using std::hypot;
    return hypot(v[0], v[1]) + atan2(v[0], v[1]);
  };
  COMPARE_REV_DUAL("origin", g, std::array<double, 2>{0.0, 0.0});
}

DIFFANA_TEST(comparisons_and_value) {
  Tape tape;
  const auto a = diffana::make_param(tape, 0, 2.0);
  const Rev<> b = 3.0;
  CHECK(a < b);
  CHECK(a <= 2.0);
  CHECK(2.0 == a);
  CHECK(b > a);
  CHECK(b != a);
  CHECK(1.0 < a);
  CHECK(diffana::value(a) == 2.0);
  CHECK(!diffana::isnan(a) && diffana::isfinite(a) && !diffana::isinf(a));
  CHECK((std::is_same_v<diffana::value_type_t<Rev<double>>, double>));
  CHECK((std::is_same_v<diffana::promote_t<double, Rev<double>, int>, Rev<double>>));
  CHECK((std::is_same_v<diffana::promote_floating_t<Rev<float>, double>, Rev<float>>));
  CHECK((std::is_same_v<diffana::promote_t<Rev<float>, Rev<double>>, Rev<double>>));
}

DIFFANA_TEST(constants_record_nothing) {
  Tape tape;
  const Rev<> a = 1.5;
  const Rev<> b = 2.5;
  const Rev<> c = exp(a * b) + soft_cut(a, b, 2.0) + pow(a, b) + hypot(a, 1.0);
  CHECK(tape.size() == 0);
  CHECK(c.is_constant());
  CHECK(diffana::test::close(c.value(),
                             std::exp(3.75) + 1.0 / (1.0 + std::exp(2.0)) +
                                 std::pow(1.5, 2.5) + std::hypot(1.5, 1.0),
                             1e-15, 0.0));
  // A constant seed is a no-op; a sweep of nothing adds nothing.
  double g[1] = {0.0};
  tape.gradient(c, g, 1);
  CHECK(g[0] == 0.0);
  // One parameter: only the ops that touch it are recorded.
  const auto p = diffana::make_param(tape, 0, 0.5);
  const auto y = p * (a * b) + a;
  // leaf and p * const; the constant Rev a added to that temporary folds into its node
  CHECK(tape.size() == 2);
  tape.gradient(y, g, 1);
  CHECK(g[0] == 3.75);
}

DIFFANA_TEST(repeated_seed_and_sweep) {
  Tape tape;
  const auto a = diffana::make_param(tape, 0, 2.0);
  const auto b = diffana::make_param(tape, 1, 3.0);
  const auto y1 = a * b;
  const auto y2 = a + b * b;
  double g1[2] = {0, 0};
  double g2[2] = {0, 0};
  tape.gradient(y1, g1, 2);
  tape.gradient(y2, g2, 2); // the adjoints were zeroed by the first sweep
  CHECK(g1[0] == 3.0 && g1[1] == 2.0);
  CHECK(g2[0] == 1.0 && g2[1] == 6.0);
  // Seeds accumulate, and the sweep adds to grad.
  tape.seed(y1, 2.0);
  tape.seed(y2, 1.0);
  tape.seed(y1, 1.0);
  tape.sweep(g1, 2);
  CHECK(g1[0] == 3.0 + 9.0 + 1.0);
  CHECK(g1[1] == 2.0 + 6.0 + 6.0);
  // The same parameter on two leaves: both add to grad[0].
  tape.clear();
  const auto c = diffana::make_param(tape, 0, 2.0);
  const auto d = diffana::make_param(tape, 0, 2.0);
  double g[1] = {0};
  tape.gradient(c * d, g, 1);
  CHECK(g[0] == 4.0);
}

DIFFANA_TEST(clear_drops_unswept_seeds) {
  Tape tape;
  const auto a = diffana::make_param(tape, 0, 2.0);
  tape.seed(a * a, 5.0); // seeded, never swept
  tape.clear();
  const auto b = diffana::make_param(tape, 0, 3.0);
  const auto y = b * 2.0;
  double g[1] = {0.0};
  tape.gradient(y, g, 1);
  CHECK(g[0] == 2.0);
}

DIFFANA_TEST(errors) {
  Tape tape;
  CHECK_THROWS(diffana::make_param(tape, -1, 1.0));
  const auto a = diffana::make_param(tape, 3, 1.0);
  double g[2] = {0, 0};
  CHECK_THROWS(tape.gradient(a * 2.0, g, 2)); // parameter 3, grad of size 2
  Tape other;
  const auto b = diffana::make_param(other, 0, 1.0);
  CHECK_THROWS(a + b); // two tapes
}

// ---- the add_tangent route: generic diffana code on Revs ----------------------------

DIFFANA_TEST(soft_cut_is_one_node) {
  Tape tape;
  const auto x = diffana::make_param(tape, 0, 31.0);
  const auto c = diffana::make_param(tape, 1, 30.0);
  const auto s = diffana::make_param(tape, 2, 0.5);
  const std::size_t before = tape.size();
  const auto y = soft_cut(x, c, s);
  CHECK(tape.size() == before + 1);
  CHECK(tape.edge_count() == 3);
  const auto f = [](const auto& v) {
    return diffana::soft_cut(v[0], v[1], v[2]) *
               diffana::soft_window(v[0], 20.0, 40.0, v[2]) +
           diffana::straight_through_cut(v[0], v[1], v[2]) +
           diffana::soft_cut_below(v[0], v[1], 0.3) +
           diffana::straight_through_cut_below(v[0], 35.0, v[2]);
  };
  COMPARE_REV_DUAL("cuts", f, std::array<double, 3>{31.0, 30.0, 0.5});
  (void)y;
}

DIFFANA_TEST(lorentz_generic_matches_dual) {
  const auto f = [](const auto& v) {
    using namespace diffana;
    const auto m2 = invariant_mass(v[0], v[1], v[2], v[3], v[4], v[5], v[6], 4.2);
    const auto m3 = invariant_mass(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 25.0,
                                   -0.4, 2.9, 1.0);
    const auto p4 =
        to_cartesian(v[0], v[1], v[2], v[3]) + to_cartesian(v[4], v[5], v[6], v[7]);
    return m2 + m3 + mass(p4) + pt(p4) + eta(p4) + phi(p4) +
           delta_r(v[1], v[2], v[5], v[6]) + delta_phi(v[2], v[6]) +
           pt_of_sum(v[0], v[2], v[4], v[6]) + to_energy(v[0], v[1], v[3]);
  };
  COMPARE_REV_DUAL("lorentz", f,
                   std::array<double, 8>{45.0, 0.3, 1.2, 5.0, 38.0, -1.1, -2.5, 3.0},
                   1e-11);
}

DIFFANA_TEST(soft_sort_and_rank_generic_match_dual) {
  const auto f = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    std::vector<S> x = {v[0], v[1], v[2], v[3]};
    const auto s = diffana::soft_sort(x, v[4]);
    const auto r = diffana::soft_rank(x, v[4], true);
    S acc = 0.0;
    for (std::size_t i = 0; i < 4; ++i)
      acc +=
          (1.0 + static_cast<double>(i)) * s[i] + (0.5 - static_cast<double>(i)) * r[i];
    return acc;
  };
  COMPARE_REV_DUAL("soft sort/rank", f, std::array<double, 5>{0.3, 2.0, 1.1, 1.4, 0.8});
  COMPARE_REV_DUAL("soft sort/rank", f, std::array<double, 5>{0.3, 2.0, 1.1, 1.4, 0.2});
}

DIFFANA_TEST(softmax_family_generic_matches_dual) {
  const auto f = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    const std::vector<S> x = {v[0], v[1], v[2]};
    const std::vector<double> c = {3.0, 1.0, 2.0};
    const auto p = diffana::softmax(x, v[3]);
    const auto q = diffana::softmax(c, v[3]); // plain scores, Rev temperature
    return 0.3 * p[0] - p[1] + 2.0 * p[2] + q[0] + diffana::soft_argmax(x, v[3]) +
           diffana::soft_pick(x, std::vector<S>{v[2], 4.0, v[0]}, v[3]) +
           diffana::soft_pick(c, x, 0.7);
  };
  COMPARE_REV_DUAL("softmax family", f, std::array<double, 4>{1.0, 2.5, 2.2, 0.6});
}

DIFFANA_TEST(agc_generic_matches_dual) {
  const auto f = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    using namespace diffana::agc;
    std::array<S, 5> w = {v[0], v[1], v[2], v[3], v[4]};
    std::array<S, 5> b = {v[4], v[3], v[2], v[1], v[0]};
    const auto rp = region_probabilities(w, b);
    S first[2];
    std::array<double, 5> x = {50.0, 40.0, 35.0, 30.0, 25.0};
    soft_first_selected(w.data(), x.data(), 5, 2, first);
    return prob_count_at_least(w, 3) + prob_count_exactly(w, 2) + rp.p_4j1b +
           2.0 * rp.p_4j2b + first[0] / 50.0 + first[1] / 40.0 +
           soft_step(v[5], 30.0, 2.0) + soft_step_below(v[5], 32.0, v[0]);
  };
  COMPARE_REV_DUAL("agc blocks", f,
                   std::array<double, 6>{0.9, 0.7, 0.2, 0.55, 0.35, 31.0});
}

DIFFANA_TEST(trijet_generic_matches_dual) {
  const auto f = [](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    std::array<S, 5> pt = {v[0], 60.0, 45.0, v[1], 30.0};
    std::array<double, 5> eta = {0.1, -0.5, 1.2, 0.3, -1.8};
    std::array<double, 5> phi = {0.2, 2.5, -1.9, 1.0, -0.3};
    std::array<double, 5> m = {10.0, 8.0, 6.0, 5.0, 4.0};
    std::array<S, 5> s = {v[2], 1.0, 0.8, v[3], 0.9};
    std::array<double, 5> b = {0.1, 0.9, 0.2, 0.7, 0.05};
    diffana::agc::TrijetOptions opt;
    opt.temperature = 15.0;
    return diffana::agc::soft_trijet_mass(pt, eta, phi, m, s, b, opt).mass;
  };
  COMPARE_REV_DUAL("trijet", f, std::array<double, 4>{80.0, 40.0, 0.95, 0.6}, 1e-11);
  // One tape node, with an edge per input on the tape.
  Tape tape;
  std::array<Rev<>, 4> v;
  for (int k = 0; k < 4; ++k)
    v[static_cast<std::size_t>(k)] = diffana::make_param(tape, k, 50.0 + k);
  v[2] = diffana::make_param(tape, 2, 0.95);
  v[3] = diffana::make_param(tape, 3, 0.6);
  const std::size_t before = tape.size();
  (void)f(v);
  CHECK(tape.size() == before + 1);
}

// ---- custom nodes -----------------------------------------------------------------

/// y = W x (2 x 3), stored row-major in data: d_x = W^T d_y, d_W = d_y x^T. The
/// inputs are the 6 weights, then the 3 x; data holds W and x.
void dense_pullback(const diffana::CustomArgs& a) {
  const double* w = a.data;
  const double* x = a.data + 6;
  for (std::size_t o = 0; o < 2; ++o)
    for (std::size_t i = 0; i < 3; ++i) {
      a.d_in[3 * o + i] += a.d_out[o] * x[i];
      a.d_in[6 + i] += a.d_out[o] * w[3 * o + i];
    }
}

DIFFANA_TEST(custom_node_matches_scalar_nodes) {
  const std::array<double, 6> w0 = {0.3, -0.2, 0.5, 1.1, 0.4, -0.7};
  const std::array<double, 3> x0 = {2.0, -1.0, 0.5};
  // Scalar nodes.
  double g_scalar[9] = {};
  double y_scalar = 0.0;
  {
    Tape tape;
    std::array<Rev<>, 9> in;
    for (int i = 0; i < 9; ++i)
      in[static_cast<std::size_t>(i)] =
          diffana::make_param(tape, i,
                              i < 6 ? w0[static_cast<std::size_t>(i)]
                                    : x0[static_cast<std::size_t>(i - 6)]);
    Rev<> y0 = in[0] * in[6] + in[1] * in[7] + in[2] * in[8];
    Rev<> y1 = in[3] * in[6] + in[4] * in[7] + in[5] * in[8];
    const Rev<> out = tanh(y0) * y1 + y1;
    y_scalar = out.value();
    tape.gradient(out, g_scalar, 9);
  }
  // One custom node.
  Tape tape;
  std::array<Rev<>, 9> in;
  std::array<double, 9> data;
  for (int i = 0; i < 9; ++i) {
    const double v =
        i < 6 ? w0[static_cast<std::size_t>(i)] : x0[static_cast<std::size_t>(i - 6)];
    in[static_cast<std::size_t>(i)] = diffana::make_param(tape, i, v);
    data[static_cast<std::size_t>(i)] = v;
  }
  const double yv[2] = {w0[0] * x0[0] + w0[1] * x0[1] + w0[2] * x0[2],
                        w0[3] * x0[0] + w0[4] * x0[1] + w0[5] * x0[2]};
  Rev<> y[2];
  diffana::record_custom(in.data(), 9, yv, y, 2, &dense_pullback, data.data(), 9);
  CHECK(tape.size() == 9 + 2);
  const Rev<> out = tanh(y[0]) * y[1] + y[1];
  double g[9] = {};
  tape.gradient(out, g, 9);
  CHECK(diffana::test::close(out.value(), y_scalar, 1e-15, 0.0));
  for (int i = 0; i < 9; ++i)
    CHECK(diffana::test::close(g[i], g_scalar[i], 1e-14, 1e-300));
  // All-constant inputs record nothing and give constant outputs.
  std::array<Rev<>, 9> consts;
  for (std::size_t i = 0; i < 9; ++i)
    consts[i] = Rev<>(data[i]);
  const std::size_t before = tape.size();
  CHECK(diffana::record_custom(consts.data(), 9, yv, y, 2, &dense_pullback, data.data(),
                               9) == nullptr);
  CHECK(tape.size() == before && y[0].is_constant() && y[1].value() == yv[1]);
}

// ---- the benchmark weight and allocation
// ----------------------------------------------

template <int P> void check_hep_weight() {
  const auto events = hep_weight::make_events(50);
  const auto p0 = hep_weight::nominal_parameters(P);
  Tape tape;
  using D = Dual<double, P>;
  std::array<D, P> pd;
  for (int k = 0; k < P; ++k)
    pd[static_cast<std::size_t>(k)] = D::variable(p0[static_cast<std::size_t>(k)], k);
  std::array<Rev<>, P> pr;
  for (const auto& ev : events) {
    tape.clear();
    for (int k = 0; k < P; ++k)
      pr[static_cast<std::size_t>(k)] =
          diffana::make_param(tape, k, p0[static_cast<std::size_t>(k)]);
    const Rev<> wr = hep_weight::weight<P>(ev, pr.data());
    std::array<double, P> g{};
    tape.gradient(wr, g.data(), P);
    const D wd = hep_weight::weight<P>(ev, pd.data());
    CHECK(diffana::test::close(wr.value(), wd.value(), 1e-14, 0.0));
    for (int k = 0; k < P; ++k)
      CHECK(diffana::test::close(g[static_cast<std::size_t>(k)], wd.tangent(k), 1e-12,
                                 1e-300));
  }
}

DIFFANA_TEST(hep_weight_matches_dual) {
  check_hep_weight<3>();
  check_hep_weight<8>();
  check_hep_weight<64>();
}

DIFFANA_TEST(warm_tape_allocates_nothing) {
  constexpr int P = 64;
  const auto events = hep_weight::make_events(1000);
  const auto p0 = hep_weight::nominal_parameters(P);
  Tape& tape = diffana::active_tape();
  std::vector<Rev<>> pr(P);
  std::vector<double> g(P, 0.0);
  std::size_t warm = 0;
  std::size_t nodes = 0;
  for (std::size_t e = 0; e < events.size(); ++e) {
    tape.clear();
    for (int k = 0; k < P; ++k)
      pr[static_cast<std::size_t>(k)] =
          diffana::make_param(tape, k, p0[static_cast<std::size_t>(k)]);
    Rev<> w = hep_weight::weight<P>(events[e], pr.data());
    w = w * soft_cut(pr[0], 1.0, 5.0); // one more op with add_tangent edges
    tape.gradient(w, g.data(), P);
    if (e == 0) {
      warm = tape.reserved_bytes();
      nodes = tape.size();
    }
    CHECK(tape.size() == nodes);
  }
  CHECK(tape.reserved_bytes() == warm);
  tape.clear();
}

DIFFANA_TEST(parameter_block_equals_leaf_per_read) {
  // push_params records a vector parameter's leaves at once (what a reverse-mode
  // parameter span does in the adjoint event loop): the gradient is that of a new
  // leaf per read, reads of one element sharing its leaf add up.
  constexpr int P = 8;
  const auto events = hep_weight::make_events(50);
  const auto p0 = hep_weight::nominal_parameters(P);
  Tape tape;
  std::array<double, P> g_leaf{};
  std::array<double, P> g_block{};
  std::array<Rev<>, P> pr;
  for (const auto& ev : events) {
    tape.clear();
    for (int k = 0; k < P; ++k)
      pr[static_cast<std::size_t>(k)] =
          diffana::make_param(tape, k, p0[static_cast<std::size_t>(k)]);
    const Rev<> a = hep_weight::weight<P>(ev, pr.data());
    tape.gradient(a * pr[1] + pr[1], g_leaf.data(), P);
    tape.clear();
    const std::int32_t first = tape.push_params(0, P);
    CHECK(first == 0 && tape.size() == static_cast<std::size_t>(P));
    for (int k = 0; k < P; ++k)
      pr[static_cast<std::size_t>(k)] =
          Rev<>::on_tape(p0[static_cast<std::size_t>(k)], &tape, first + k);
    const Rev<> b = hep_weight::weight<P>(ev, pr.data());
    tape.gradient(b * pr[1] + pr[1], g_block.data(), P);
  }
  for (std::size_t k = 0; k < static_cast<std::size_t>(P); ++k)
    CHECK(diffana::test::close(g_block[k], g_leaf[k], 1e-12, 1e-300));
  // An offset block, a grad too short for it, a negative first parameter.
  tape.clear();
  const std::int32_t first = tape.push_params(3, 2);
  const Rev<> y =
      Rev<>::on_tape(2.0, &tape, first) * Rev<>::on_tape(5.0, &tape, first + 1);
  std::array<double, 5> g{};
  tape.gradient(y, g.data(), 5);
  CHECK(g[3] == 5.0 && g[4] == 2.0 && g[0] == 0.0);
  CHECK_THROWS(tape.gradient(y, g.data(), 4));
  CHECK_THROWS(tape.push_params(-1, 2));
  CHECK(tape.push_params(0, 0) == -1);
}

DIFFANA_TEST(seeded_tells_whether_a_sweep_adds_anything) {
  Tape tape;
  const auto a = diffana::make_param(tape, 0, 2.0);
  const auto y = a * a;
  CHECK(!tape.seeded());
  tape.seed(y, 0.0); // a zero seed adds nothing
  CHECK(!tape.seeded());
  tape.seed(Rev<>(3.0), 1.0); // nor does a constant
  CHECK(!tape.seeded());
  tape.seed(y, 0.5);
  CHECK(tape.seeded());
  double g[1] = {0.0};
  tape.sweep(g, 1);
  CHECK(!tape.seeded() && g[0] == 2.0);
  tape.seed(y, 1.0);
  tape.clear(); // drops the seed
  CHECK(!tape.seeded());
}

DIFFANA_TEST(one_tape_per_thread) {
  const auto events = hep_weight::make_events(200);
  const auto p0 = hep_weight::nominal_parameters(8);
  const auto run = [&](std::size_t begin, std::size_t end, std::vector<double>& g) {
    Tape& tape = diffana::active_tape();
    std::array<Rev<>, 8> pr;
    for (std::size_t e = begin; e < end; ++e) {
      tape.clear();
      for (int k = 0; k < 8; ++k)
        pr[static_cast<std::size_t>(k)] =
            diffana::make_param(tape, k, p0[static_cast<std::size_t>(k)]);
      tape.gradient(hep_weight::weight<8>(events[e], pr.data()), g.data(), 8);
    }
  };
  std::vector<double> g_all(8, 0.0), g_a(8, 0.0), g_b(8, 0.0);
  run(0, 200, g_all);
  std::thread ta([&] { run(0, 100, g_a); });
  std::thread tb([&] { run(100, 200, g_b); });
  ta.join();
  tb.join();
  for (std::size_t k = 0; k < 8; ++k)
    CHECK(diffana::test::close(g_a[k] + g_b[k], g_all[k], 1e-12, 1e-300));
}

} // namespace

int main() {
  return diffana::test::run_all();
}
