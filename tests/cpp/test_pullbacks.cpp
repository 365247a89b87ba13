// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of the Clad-style pullbacks (`<fn>_pullback`): math (ad/math_pullbacks.hpp),
/// soft cuts, soft selection (softmax family, soft sort and rank), the Lorentz
/// helpers, the AGC blocks and one event's histogram fill. Each pullback is compared
/// with Dual forward mode (the adjoint times each tangent, 1e-12 relative where the
/// math is exact) and accumulates with +=; the Dual derivatives are checked against
/// central finite differences at the same points (CHECK_GRADIENT). Edge cases: zero
/// output adjoints add nothing (no 0 * inf), saturated sigmoids give exact zeros, NaN
/// inputs give what the forward op gives, bad widths / temperatures throw as the
/// forward op does.
#include "diffana/ad/dual.hpp"
#include "diffana/ad/math_pullbacks.hpp"
#include "diffana/ad/reverse.hpp"
#include "diffana/ad/reverse_hist.hpp"
#include "diffana/hist/histogram.hpp"
#include "diffana/hist/soft_binning.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"
#include "diffana/soft/select.hpp"

#include "check.hpp"
#include "gradient_check.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using diffana::Dual;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The pullback pb(x, d_y, d) (adding into d, prefilled with 1) against d_y times the
/// Dual tangents of f at x.
template <std::size_t K, class F, class PB>
void check_pullback(const char* file, int line, const std::string& what, const F& f,
                    const PB& pb, const std::array<double, K>& x, double d_y = 0.7,
                    double rel = 1e-12, double abs = 0.0) {
  using D = Dual<double, static_cast<int>(K)>;
  std::array<D, K> xd;
  for (std::size_t k = 0; k < K; ++k)
    xd[k] = D::variable(x[k], static_cast<int>(k));
  const D r = f(xd);
  std::array<double, K> d;
  d.fill(1.0);
  pb(x, d_y, d);
  for (std::size_t k = 0; k < K; ++k) {
    const double want = d_y * r.tangent(static_cast<int>(k));
    const double got = d[k] - 1.0;
    // Compare the increment; its rounding is that of 1 + got.
    const double abs_tol = abs + 4e-16 * (1.0 + std::fabs(got));
    if (!diffana::test::close(got, want, rel, abs_tol)) {
      char buf[200];
      std::snprintf(buf, sizeof buf, ": d%zu pullback %.17g vs Dual %.17g", k, got,
                    want);
      diffana::test::fail(file, line, diffana::test::describe(what, x.data(), K) + buf);
    }
  }
}
#define CHECK_PULLBACK(...) check_pullback(__FILE__, __LINE__, __VA_ARGS__)

/// Both: the pullback against Dual and Dual against finite differences.
template <std::size_t K, class F, class PB>
void check_pullback_fd(const char* file, int line, const std::string& what, const F& f,
                       const PB& pb, const std::array<double, K>& x) {
  check_pullback(file, line, what, f, pb, x);
  diffana::test::check_gradient(file, line, what, f, x);
}
#define CHECK_PULLBACK_FD(...) check_pullback_fd(__FILE__, __LINE__, __VA_ARGS__)

// ---- math ---------------------------------------------------------------------------

#define UNARY_CASE(NAME, X)                                                            \
  CHECK_PULLBACK_FD(                                                                   \
      #NAME,                                                                           \
      [](const auto& v) {                                                              \
        using std::NAME;                                                               \
        return NAME(v[0]);                                                             \
      },                                                                               \
      [](const auto& x, double d_y, auto& d) {                                         \
        diffana::NAME##_pullback(x[0], d_y, &d[0]);                                    \
      },                                                                               \
      (std::array<double, 1>{X}))

DIFFANA_TEST(math_unary_pullbacks) {
  for (double t : {0.15, 0.6}) {
    UNARY_CASE(exp, t);
    UNARY_CASE(expm1, t);
    UNARY_CASE(log, t);
    UNARY_CASE(log1p, t);
    UNARY_CASE(log10, t);
    UNARY_CASE(sqrt, t);
    UNARY_CASE(cbrt, t);
    UNARY_CASE(sin, t);
    UNARY_CASE(cos, t);
    UNARY_CASE(tan, t);
    UNARY_CASE(asin, t);
    UNARY_CASE(acos, t);
    UNARY_CASE(atan, t);
    UNARY_CASE(sinh, t);
    UNARY_CASE(cosh, t);
    UNARY_CASE(tanh, t);
    UNARY_CASE(asinh, t);
    UNARY_CASE(acosh, t + 1.0);
    UNARY_CASE(atanh, t);
    UNARY_CASE(erf, t);
    UNARY_CASE(erfc, t);
    UNARY_CASE(abs, t - 0.3);
    UNARY_CASE(fabs, 0.3 - t);
  }
}

DIFFANA_TEST(math_pullback_edges) {
  // A zero adjoint adds exactly nothing, also where the derivative is infinite.
  double d = 0.0;
  diffana::sqrt_pullback(0.0, 0.0, &d);
  diffana::log_pullback(0.0, 0.0, &d);
  diffana::acosh_pullback(1.0, 0.0, &d);
  CHECK(d == 0.0);
  // A non-zero adjoint at sqrt(0): inf, as Dual's tangent.
  diffana::sqrt_pullback(0.0, 1.0, &d);
  CHECK(std::isinf(d));
  // abs at 0: sign 0.
  d = 0.0;
  diffana::abs_pullback(0.0, 1.0, &d);
  CHECK(d == 0.0);
  // NaN in, NaN out.
  diffana::exp_pullback(kNaN, 1.0, &d);
  CHECK(std::isnan(d));
  // tanh saturates to an exact 0.
  d = 0.0;
  diffana::tanh_pullback(400.0, 1.0, &d);
  CHECK(d == 0.0);
}

DIFFANA_TEST(math_binary_pullbacks) {
  const auto pb = [](auto fn) {
    return
        [fn](const auto& x, double d_y, auto& d) { fn(x[0], x[1], d_y, &d[0], &d[1]); };
  };
  for (const auto& x :
       {std::array<double, 2>{1.3, 0.7}, std::array<double, 2>{0.4, 2.2},
        std::array<double, 2>{0.9, 0.9}}) {
    CHECK_PULLBACK_FD(
        "pow",
        [](const auto& v) {
          using std::pow;
          return pow(v[0], v[1]);
        },
        pb([](double a, double b, double g, double* da, double* db) {
          diffana::pow_pullback(a, b, g, da, db);
        }),
        x);
    CHECK_PULLBACK_FD(
        "hypot",
        [](const auto& v) {
          using std::hypot;
          return hypot(v[0], v[1]);
        },
        pb([](double a, double b, double g, double* da, double* db) {
          diffana::hypot_pullback(a, b, g, da, db);
        }),
        x);
    CHECK_PULLBACK_FD(
        "atan2",
        [](const auto& v) {
          using std::atan2;
          return atan2(v[0], v[1]);
        },
        pb([](double a, double b, double g, double* da, double* db) {
          diffana::atan2_pullback(a, b, g, da, db);
        }),
        x);
    // max / min (ties: half each, as Dual; FD is not meaningful at the kink).
    CHECK_PULLBACK(
        "max",
        [](const auto& v) {
          using std::max;
          return max(v[0], v[1]);
        },
        pb([](double a, double b, double g, double* da, double* db) {
          diffana::max_pullback(a, b, g, da, db);
        }),
        x);
    CHECK_PULLBACK(
        "min",
        [](const auto& v) {
          using std::min;
          return min(v[0], v[1]);
        },
        pb([](double a, double b, double g, double* da, double* db) {
          diffana::min_pullback(a, b, g, da, db);
        }),
        x);
  }
  // Origin: zero, not NaN.
  double da = 0.0;
  double db = 0.0;
  diffana::hypot_pullback(0.0, 0.0, 1.0, &da, &db);
  diffana::atan2_pullback(0.0, 0.0, 1.0, &da, &db);
  CHECK(da == 0.0 && db == 0.0);
  // clamp.
  double dx = 0.0;
  double dl = 0.0;
  double dh = 0.0;
  diffana::clamp_pullback(0.5, 0.0, 1.0, 2.0, &dx, &dl, &dh);
  diffana::clamp_pullback(-0.5, 0.0, 1.0, 3.0, &dx, &dl, &dh);
  diffana::clamp_pullback(1.5, 0.0, 1.0, 5.0, &dx, &dl, &dh);
  CHECK(dx == 2.0 && dl == 3.0 && dh == 5.0);
}

// ---- soft cuts ----------------------------------------------------------------------

DIFFANA_TEST(soft_cut_pullbacks) {
  const auto cut_pb = [](const auto& x, double d_y, auto& d) {
    diffana::soft_cut_pullback(x[0], x[1], x[2], d_y, &d[0], &d[1], &d[2]);
  };
  const auto below_pb = [](const auto& x, double d_y, auto& d) {
    diffana::soft_cut_below_pullback(x[0], x[1], x[2], d_y, &d[0], &d[1], &d[2]);
  };
  const auto st_pb = [](const auto& x, double d_y, auto& d) {
    diffana::straight_through_cut_pullback(x[0], x[1], x[2], d_y, &d[0], &d[1], &d[2]);
  };
  const auto st_below_pb = [](const auto& x, double d_y, auto& d) {
    diffana::straight_through_cut_below_pullback(x[0], x[1], x[2], d_y, &d[0], &d[1],
                                                 &d[2]);
  };
  const auto cut = [](const auto& v) { return diffana::soft_cut(v[0], v[1], v[2]); };
  const auto below = [](const auto& v) {
    return diffana::soft_cut_below(v[0], v[1], v[2]);
  };
  const auto st = [](const auto& v) {
    return diffana::straight_through_cut(v[0], v[1], v[2]);
  };
  const auto st_below = [](const auto& v) {
    return diffana::straight_through_cut_below(v[0], v[1], v[2]);
  };
  for (const auto& x :
       {std::array<double, 3>{31.0, 30.0, 0.5}, std::array<double, 3>{25.0, 30.0, 0.2},
        std::array<double, 3>{30.0, 30.0, -1.5}}) {
    CHECK_PULLBACK_FD("soft_cut", cut, cut_pb, x);
    CHECK_PULLBACK_FD("soft_cut_below", below, below_pb, x);
    CHECK_PULLBACK("straight_through_cut", st, st_pb, x);
    CHECK_PULLBACK("straight_through_cut_below", st_below, st_below_pb, x);
  }
  // Saturated: exact zeros; slope 0 at an infinite x: zeros; NaN x: NaN (as Dual).
  for (const auto& x : {std::array<double, 3>{5000.0, 30.0, 0.5},
                        std::array<double, 3>{-5000.0, 30.0, 0.5},
                        std::array<double, 3>{kInf, 30.0, 0.0},
                        std::array<double, 3>{kNaN, 30.0, 0.5}}) {
    CHECK_PULLBACK("soft_cut edge", cut, cut_pb, x);
    CHECK_PULLBACK("soft_cut_below edge", below, below_pb, x);
    CHECK_PULLBACK("straight_through edge", st, st_pb, x);
  }
  std::array<double, 3> d{};
  cut_pb(std::array<double, 3>{5000.0, 30.0, 0.5}, 1.0, d);
  CHECK(d[0] == 0.0 && d[1] == 0.0 && d[2] == 0.0);
  // A zero adjoint adds nothing, even for a NaN x.
  cut_pb(std::array<double, 3>{kNaN, 30.0, 0.5}, 0.0, d);
  CHECK(d[0] == 0.0);

  const auto window = [](const auto& v) {
    return diffana::soft_window(v[0], v[1], v[2], v[3]);
  };
  const auto window_pb = [](const auto& x, double d_y, auto& dd) {
    diffana::soft_window_pullback(x[0], x[1], x[2], x[3], d_y, &dd[0], &dd[1], &dd[2],
                                  &dd[3]);
  };
  for (const auto& x : {std::array<double, 4>{91.0, 80.0, 100.0, 0.3},
                        std::array<double, 4>{79.0, 80.0, 100.0, 2.0},
                        std::array<double, 4>{91.0, 80.0, 100.0, 0.0}})
    CHECK_PULLBACK_FD("soft_window", window, window_pb, x);
  CHECK_PULLBACK("soft_window NaN", window, window_pb,
                 std::array<double, 4>{kNaN, 80.0, 100.0, 0.3});
}

// ---- Lorentz helpers ----------------------------------------------------------------

DIFFANA_TEST(lorentz_pullbacks) {
  using namespace diffana;
  CHECK_PULLBACK_FD(
      "to_px", [](const auto& v) { return to_px(v[0], v[1]); },
      [](const auto& x, double g, auto& d) {
        to_px_pullback(x[0], x[1], g, &d[0], &d[1]);
      },
      (std::array<double, 2>{40.0, 1.1}));
  CHECK_PULLBACK_FD(
      "to_py", [](const auto& v) { return to_py(v[0], v[1]); },
      [](const auto& x, double g, auto& d) {
        to_py_pullback(x[0], x[1], g, &d[0], &d[1]);
      },
      (std::array<double, 2>{40.0, -2.1}));
  CHECK_PULLBACK_FD(
      "to_pz", [](const auto& v) { return to_pz(v[0], v[1]); },
      [](const auto& x, double g, auto& d) {
        to_pz_pullback(x[0], x[1], g, &d[0], &d[1]);
      },
      (std::array<double, 2>{40.0, 0.7}));
  const auto energy = [](const auto& v) { return to_energy(v[0], v[1], v[2]); };
  const auto energy_pb = [](const auto& x, double g, auto& d) {
    to_energy_pullback(x[0], x[1], x[2], g, &d[0], &d[1], &d[2]);
  };
  CHECK_PULLBACK_FD("to_energy", energy, energy_pb,
                    (std::array<double, 3>{40.0, 0.7, 5.0}));
  CHECK_PULLBACK("to_energy null", energy, energy_pb,
                 (std::array<double, 3>{0.0, 0.7, 0.0}));
  // to_cartesian with adjoints on all four components.
  CHECK_PULLBACK_FD(
      "to_cartesian",
      [](const auto& v) {
        const auto p = to_cartesian(v[0], v[1], v[2], v[3]);
        return 0.3 * p.px - 1.2 * p.py + 0.5 * p.pz + 2.0 * p.e;
      },
      [](const auto& x, double g, auto& d) {
        to_cartesian_pullback(x[0], x[1], x[2], x[3],
                              PxPyPzE<double>{0.3 * g, -1.2 * g, 0.5 * g, 2.0 * g},
                              &d[0], &d[1], &d[2], &d[3]);
      },
      (std::array<double, 4>{40.0, 0.7, -2.0, 5.0}));
  // Four-vector functions.
  const auto vec_case = [](const char* what, auto f, auto pb, std::array<double, 4> x) {
    CHECK_PULLBACK_FD(
        what,
        [f](const auto& v) {
          return f(PxPyPzE<std::decay_t<decltype(v[0])>>{v[0], v[1], v[2], v[3]});
        },
        [pb](const auto& xx, double g, auto& d) {
          PxPyPzE<double> dv{d[0], d[1], d[2], d[3]};
          pb(PxPyPzE<double>{xx[0], xx[1], xx[2], xx[3]}, g, &dv);
          d = {dv.px, dv.py, dv.pz, dv.e};
        },
        x);
  };
  const std::array<double, 4> p4 = {30.0, -20.0, 45.0, 80.0};
  vec_case(
      "pt", [](const auto& v) { return pt(v); },
      [](const auto& v, double g, auto* d) { pt_pullback(v, g, d); }, p4);
  vec_case(
      "eta", [](const auto& v) { return eta(v); },
      [](const auto& v, double g, auto* d) { eta_pullback(v, g, d); }, p4);
  vec_case(
      "phi", [](const auto& v) { return phi(v); },
      [](const auto& v, double g, auto* d) { phi_pullback(v, g, d); }, p4);
  vec_case(
      "mass", [](const auto& v) { return mass(v); },
      [](const auto& v, double g, auto* d) { mass_pullback(v, g, d); }, p4);
  CHECK_PULLBACK_FD(
      "delta_phi", [](const auto& v) { return delta_phi(v[0], v[1]); },
      [](const auto& x, double g, auto& d) {
        delta_phi_pullback(x[0], x[1], g, &d[0], &d[1]);
      },
      (std::array<double, 2>{3.0, -3.0}));
  CHECK_PULLBACK_FD(
      "delta_r", [](const auto& v) { return delta_r(v[0], v[1], v[2], v[3]); },
      [](const auto& x, double g, auto& d) {
        delta_r_pullback(x[0], x[1], x[2], x[3], g, &d[0], &d[1], &d[2], &d[3]);
      },
      (std::array<double, 4>{0.3, 2.9, -0.4, -3.0}));
  CHECK_PULLBACK_FD(
      "invariant_mass 2",
      [](const auto& v) {
        return invariant_mass(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
      },
      [](const auto& x, double g, auto& d) {
        invariant_mass_pullback(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], g,
                                &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]);
      },
      (std::array<double, 8>{45.0, 0.3, 1.2, 5.0, 38.0, -1.1, -2.5, 3.0}));
  CHECK_PULLBACK_FD(
      "invariant_mass 3",
      [](const auto& v) {
        return invariant_mass(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
                              v[9], v[10], v[11]);
      },
      [](const auto& x, double g, auto& d) {
        invariant_mass_pullback(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8],
                                x[9], x[10], x[11], g, &d[0], &d[1], &d[2], &d[3],
                                &d[4], &d[5], &d[6], &d[7], &d[8], &d[9], &d[10],
                                &d[11]);
      },
      (std::array<double, 12>{45.0, 0.3, 1.2, 5.0, 38.0, -1.1, -2.5, 3.0, 25.0, 2.0,
                              0.1, 0.0}));
  CHECK_PULLBACK_FD(
      "pt_of_sum 2", [](const auto& v) { return pt_of_sum(v[0], v[1], v[2], v[3]); },
      [](const auto& x, double g, auto& d) {
        pt_of_sum_pullback(x[0], x[1], x[2], x[3], g, &d[0], &d[1], &d[2], &d[3]);
      },
      (std::array<double, 4>{45.0, 0.3, 38.0, 2.0}));
  CHECK_PULLBACK_FD(
      "pt_of_sum 3",
      [](const auto& v) { return pt_of_sum(v[0], v[1], v[2], v[3], v[4], v[5]); },
      [](const auto& x, double g, auto& d) {
        pt_of_sum_pullback(x[0], x[1], x[2], x[3], x[4], x[5], g, &d[0], &d[1], &d[2],
                           &d[3], &d[4], &d[5]);
      },
      (std::array<double, 6>{45.0, 0.3, 38.0, 2.0, 20.0, -1.0}));
  CHECK_PULLBACK(
      "pt_of_sum 2 (eta, m)",
      [](const auto& v) {
        return pt_of_sum(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
      },
      [](const auto& x, double g, auto& d) {
        pt_of_sum_pullback(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], g, &d[0],
                           &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]);
      },
      (std::array<double, 8>{45.0, 0.3, 1.2, 5.0, 38.0, -1.1, -2.5, 3.0}));
  // Collinear massless pair: M = 0 with zero adjoints, no NaN.
  std::array<double, 8> d{};
  invariant_mass_pullback(40.0, 0.5, 1.0, 0.0, 20.0, 0.5, 1.0, 0.0, 1.0, &d[0], &d[1],
                          &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]);
  for (double v : d)
    CHECK(v == 0.0);
}

// ---- soft selection -----------------------------------------------------------------

DIFFANA_TEST(select_pullbacks) {
  using namespace diffana;
  const std::array<double, 4> w = {0.3, -1.1, 0.8, 2.0}; // output adjoints
  // softmax: the pullback of the adjoint vector w is the gradient of sum_i w_i p_i.
  const auto softmax_f = [w](const auto& v) {
    using S = std::decay_t<decltype(v[0])>;
    const std::vector<S> x = {v[0], v[1], v[2], v[3]};
    const auto p = softmax(x, v[4]);
    S acc = 0.0;
    for (std::size_t i = 0; i < 4; ++i)
      acc += w[i] * p[i];
    return acc;
  };
  const auto softmax_pb = [w](const auto& x, double g, auto& d) {
    const std::array<double, 4> dy = {g * w[0], g * w[1], g * w[2], g * w[3]};
    softmax_pullback(x.data(), 4, x[4], dy.data(), d.data(), &d[4]);
  };
  CHECK_PULLBACK_FD("softmax", softmax_f, softmax_pb,
                    (std::array<double, 5>{1.0, 2.5, 0.3, 2.4, 0.7}));
  CHECK_PULLBACK("softmax cold", softmax_f, softmax_pb,
                 (std::array<double, 5>{1.0, 2.5, 0.3, 900.0, 0.5}));
  CHECK_PULLBACK_FD(
      "soft_argmax",
      [](const auto& v) {
        using S = std::decay_t<decltype(v[0])>;
        return soft_argmax(std::vector<S>{v[0], v[1], v[2], v[3]}, v[4]);
      },
      [](const auto& x, double g, auto& d) {
        soft_argmax_pullback(x.data(), 4, x[4], g, d.data(), &d[4]);
      },
      (std::array<double, 5>{1.0, 2.5, 0.3, 2.4, 0.7}));
  CHECK_PULLBACK_FD(
      "soft_pick",
      [](const auto& v) {
        using S = std::decay_t<decltype(v[0])>;
        return soft_pick(std::vector<S>{v[0], v[1], v[2]},
                         std::vector<S>{v[3], v[4], v[5]}, v[6]);
      },
      [](const auto& x, double g, auto& d) {
        soft_pick_pullback(x.data(), x.data() + 3, 3, x[6], g, d.data(), d.data() + 3,
                           &d[6]);
      },
      (std::array<double, 7>{1.0, 2.5, 2.2, 170.0, 120.0, 90.0, 0.6}));
  // soft sort / rank, ascending and descending, pooled and singleton blocks.
  for (bool desc : {false, true})
    for (double eps : {0.2, 1.5, 30.0}) {
      const auto sort_f = [w, desc](const auto& v) {
        using S = std::decay_t<decltype(v[0])>;
        const auto s = soft_sort(std::vector<S>{v[0], v[1], v[2], v[3]}, v[4], desc);
        S acc = 0.0;
        for (std::size_t i = 0; i < 4; ++i)
          acc += w[i] * s[i];
        return acc;
      };
      const auto sort_pb = [w, desc](const auto& x, double g, auto& d) {
        const std::array<double, 4> dy = {g * w[0], g * w[1], g * w[2], g * w[3]};
        soft_sort_pullback(x.data(), 4, x[4], desc, dy.data(), d.data(), &d[4]);
      };
      const auto rank_f = [w, desc](const auto& v) {
        using S = std::decay_t<decltype(v[0])>;
        const auto r = soft_rank(std::vector<S>{v[0], v[1], v[2], v[3]}, v[4], desc);
        S acc = 0.0;
        for (std::size_t i = 0; i < 4; ++i)
          acc += w[i] * r[i];
        return acc;
      };
      const auto rank_pb = [w, desc](const auto& x, double g, auto& d) {
        const std::array<double, 4> dy = {g * w[0], g * w[1], g * w[2], g * w[3]};
        soft_rank_pullback(x.data(), 4, x[4], desc, dy.data(), d.data(), &d[4]);
      };
      const std::array<double, 5> x = {0.3, 2.0, 1.1, 1.4, eps};
      CHECK_PULLBACK_FD("soft_sort", sort_f, sort_pb, x);
      CHECK_PULLBACK_FD("soft_rank", rank_f, rank_pb, x);
    }
  // Errors as the forward functions.
  const std::array<double, 2> x2 = {1.0, kNaN};
  std::array<double, 2> d{};
  double dt = 0.0;
  CHECK_THROWS(softmax_pullback(x2.data(), 2, 1.0, x2.data(), d.data(), &dt));
  CHECK_THROWS(softmax_pullback(x2.data(), 1, 0.0, x2.data(), d.data(), &dt));
  CHECK_THROWS(soft_argmax_pullback(x2.data(), 0, 1.0, 1.0, d.data(), &dt));
  CHECK_THROWS(soft_sort_pullback(x2.data(), 1, -1.0, false, x2.data(), d.data(), &dt));
}

// ---- AGC blocks
// -----------------------------------------------------------------------

DIFFANA_TEST(agc_pullbacks) {
  using namespace diffana::agc;
  const auto step_f = [](const auto& v) { return soft_step(v[0], v[1], v[2]); };
  const auto step_pb = [](const auto& x, double g, auto& d) {
    soft_step_pullback(x[0], x[1], x[2], g, &d[0], &d[1], &d[2]);
  };
  const auto below_f = [](const auto& v) { return soft_step_below(v[0], v[1], v[2]); };
  const auto below_pb = [](const auto& x, double g, auto& d) {
    soft_step_below_pullback(x[0], x[1], x[2], g, &d[0], &d[1], &d[2]);
  };
  CHECK_PULLBACK_FD("soft_step", step_f, step_pb,
                    (std::array<double, 3>{31.0, 30.0, 2.0}));
  CHECK_PULLBACK_FD("soft_step_below", below_f, below_pb,
                    (std::array<double, 3>{31.0, 30.0, 2.0}));
  // Width 0: the hard step, nothing; negative and NaN widths refused.
  CHECK_PULLBACK("soft_step hard", step_f, step_pb,
                 (std::array<double, 3>{31.0, 30.0, 0.0}));
  std::array<double, 3> d{};
  CHECK_THROWS(step_pb(std::array<double, 3>{31.0, 30.0, -1.0}, 1.0, d));
  CHECK_THROWS(step_pb(std::array<double, 3>{31.0, 30.0, kNaN}, 1.0, d));
  CHECK_THROWS(below_pb(std::array<double, 3>{31.0, 30.0, -1.0}, 1.0, d));

  const std::array<double, 6> w0 = {0.9, 0.7, 0.2, 0.55, 0.35, 1.0};
  for (int k : {0, 1, 2, 3, 4, 7}) {
    CHECK_PULLBACK_FD(
        "prob_count_at_least",
        [k](const auto& v) { return prob_count_at_least(v.data(), v.size(), k); },
        [k](const auto& x, double g, auto& dd) {
          prob_count_at_least_pullback(x.data(), x.size(), k, g, dd.data());
        },
        w0);
    CHECK_PULLBACK_FD(
        "prob_count_exactly",
        [k](const auto& v) { return prob_count_exactly(v.data(), v.size(), k); },
        [k](const auto& x, double g, auto& dd) {
          prob_count_exactly_pullback(x.data(), x.size(), k, g, dd.data());
        },
        w0);
  }
  // The full distribution with a vector of adjoints.
  CHECK_PULLBACK(
      "count_distribution",
      [](const auto& v) {
        using S = std::decay_t<decltype(v[0])>;
        S out[4];
        count_distribution(v.data(), v.size(), 3, out);
        return 0.5 * out[0] - out[1] + 2.0 * out[2] + 3.0 * out[3];
      },
      [](const auto& x, double g, auto& dd) {
        const double d_out[4] = {0.5 * g, -g, 2.0 * g, 3.0 * g};
        count_distribution_pullback(x.data(), x.size(), 3, d_out, dd.data());
      },
      w0);
  std::vector<double> dw(2);
  CHECK_THROWS(count_distribution_pullback(w0.data(), 2, 16, w0.data(), dw.data()));

  // soft_first_selected: inputs s[0..4], x[0..4].
  CHECK_PULLBACK_FD(
      "soft_first_selected",
      [](const auto& v) {
        using S = std::decay_t<decltype(v[0])>;
        S out[3];
        soft_first_selected(v.data(), v.data() + 5, 5, 3, out);
        return 0.3 * out[0] + 1.1 * out[1] - 0.7 * out[2];
      },
      [](const auto& x, double g, auto& dd) {
        const double d_out[3] = {0.3 * g, 1.1 * g, -0.7 * g};
        soft_first_selected_pullback(x.data(), x.data() + 5, 5, 3, d_out, dd.data(),
                                     dd.data() + 5);
      },
      (std::array<double, 10>{0.9, 0.2, 0.7, 1.0, 0.4, 50.0, 45.0, 33.0, 31.0, 20.0}));

  // region_probabilities: inputs s[0..5], b[0..5].
  CHECK_PULLBACK_FD(
      "region_probabilities",
      [](const auto& v) {
        const auto r = region_probabilities(v.data(), v.data() + 6, 6);
        return 1.3 * r.p_4j1b - 0.6 * r.p_4j2b;
      },
      [](const auto& x, double g, auto& dd) {
        region_probabilities_pullback(x.data(), x.data() + 6, 6, 1.3 * g, -0.6 * g,
                                      dd.data(), dd.data() + 6);
      },
      (std::array<double, 12>{0.9, 0.7, 0.95, 0.6, 0.8, 0.3, 0.1, 0.8, 0.3, 0.05, 0.6,
                              0.2}));

  // soft_trijet_mass: 5 jets, inputs pt, eta, phi, m, s, b (30), against the Dual
  // (mixed-mode) derivative; with pruning too.
  for (double eps : {0.0, 0.05}) {
    TrijetOptions opt;
    opt.temperature = 12.0;
    opt.epsilon = eps;
    const std::array<double, 30> x = {80.0, 60.0, 45.0, 40.0, 30.0,  // pt
                                      0.1,  -0.5, 1.2,  0.3,  -1.8,  // eta
                                      0.2,  2.5,  -1.9, 1.0,  -0.3,  // phi
                                      10.0, 8.0,  6.0,  5.0,  4.0,   // m
                                      0.95, 1.0,  0.8,  0.6,  0.03,  // s
                                      0.1,  0.9,  0.2,  0.7,  0.05}; // b
    CHECK_PULLBACK(
        "soft_trijet_mass",
        [opt](const auto& v) {
          return soft_trijet_mass(5, v.data(), v.data() + 5, v.data() + 10,
                                  v.data() + 15, v.data() + 20, v.data() + 25, opt)
              .mass;
        },
        [opt](const auto& xx, double g, auto& dd) {
          soft_trijet_mass_pullback(5, xx.data(), xx.data() + 5, xx.data() + 10,
                                    xx.data() + 15, xx.data() + 20, xx.data() + 25, opt,
                                    g, dd.data(), dd.data() + 5, dd.data() + 10,
                                    dd.data() + 15, dd.data() + 20, dd.data() + 25);
        },
        // Derivatives that vanish up to rounding differ by the rounding of the two
        // computations (mixed-mode Dual vs the generic path on the tape).
        x, 0.7, 1e-10, 1e-12);
  }
}

DIFFANA_TEST(trijet_pullback_many_jets) {
  // 17 jets: 102 inputs, two forward passes of 96 tangents inside the pullback.
  using namespace diffana::agc;
  std::array<double, 102> x{};
  for (std::size_t j = 0; j < 17; ++j) {
    const double t = static_cast<double>(j);
    x[j] = 120.0 - 6.0 * t;                   // pt
    x[17 + j] = std::sin(1.3 * t);            // eta
    x[34 + j] = 3.0 * std::cos(0.7 * t + 1);  // phi
    x[51 + j] = 4.0 + 0.5 * t;                // m
    x[68 + j] = 0.5 + 0.45 * std::sin(t);     // s
    x[85 + j] = 0.5 + 0.45 * std::cos(2 * t); // b
  }
  TrijetOptions opt;
  opt.temperature = 20.0;
  CHECK_PULLBACK(
      "soft_trijet_mass 17 jets",
      [opt](const auto& v) {
        return soft_trijet_mass(17, v.data(), v.data() + 17, v.data() + 34,
                                v.data() + 51, v.data() + 68, v.data() + 85, opt)
            .mass;
      },
      [opt](const auto& xx, double g, auto& dd) {
        soft_trijet_mass_pullback(17, xx.data(), xx.data() + 17, xx.data() + 34,
                                  xx.data() + 51, xx.data() + 68, xx.data() + 85, opt,
                                  g, dd.data(), dd.data() + 17, dd.data() + 34,
                                  dd.data() + 51, dd.data() + 68, dd.data() + 85);
      },
      x, 0.7, 1e-12, 1e-12);
}

// ---- one event's histogram fill
// -------------------------------------------------------

/// d_x, d_w of fill_event_1d_pullback against the Jacobian of a GradHist1D filled with
/// x = Dual variable 0 and w = Dual variable 1: sum_b (d_values_b J_b + d_sumw2_b S_b).
void check_fill_1d(double bandwidth, diffana::Overflow overflow, double x, double w) {
  using D2 = Dual<double, 2>;
  diffana::GradHist1D<double, 2> h({0.0, 1.0, 2.0, 3.5, 4.0, 6.0}, bandwidth, overflow);
  h.fill(D2::variable(x, 0), D2::variable(w, 1));
  const auto nb = static_cast<std::size_t>(h.nbins());
  std::vector<double> d_values(nb);
  std::vector<double> d_sumw2(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    d_values[b] = 0.5 + 0.3 * static_cast<double>(b) - 0.1 * static_cast<double>(b * b);
    d_sumw2[b] = 0.2 - 0.05 * static_cast<double>(b);
  }
  double want_x = 0.0;
  double want_w = 0.0;
  for (std::size_t b = 0; b < nb; ++b) {
    const auto bi = static_cast<std::int64_t>(b);
    want_x += d_values[b] * h.jacobian(bi, 0) + d_sumw2[b] * h.sumw2_jacobian(bi, 0);
    want_w += d_values[b] * h.jacobian(bi, 1) + d_sumw2[b] * h.sumw2_jacobian(bi, 1);
  }
  double d_x = 1.0;
  double d_w = 1.0;
  const bool ok = diffana::fill_event_1d_pullback(h.axis(), x, w, d_values.data(),
                                                  d_sumw2.data(), &d_x, &d_w);
  CHECK(ok == (h.n_skipped() == 0));
  CHECK_CLOSE(d_x - 1.0, want_x, 1e-12, 1e-15);
  CHECK_CLOSE(d_w - 1.0, want_w, 1e-12, 1e-15);
  // Without d_x (and without sumw2 adjoints).
  double d_w2 = 0.0;
  diffana::fill_event_1d_pullback(h.axis(), x, w, d_values.data(),
                                  static_cast<const double*>(nullptr),
                                  static_cast<double*>(nullptr), &d_w2);
  double want_w2 = 0.0;
  for (std::size_t b = 0; b < nb; ++b)
    want_w2 += d_values[b] * h.jacobian(static_cast<std::int64_t>(b), 1);
  CHECK_CLOSE(d_w2, want_w2, 1e-12, 1e-15);
}

DIFFANA_TEST(fill_1d_pullback_matches_jacobian) {
  for (auto overflow : {diffana::Overflow::drop, diffana::Overflow::fold})
    for (double h : {0.0, 0.3, 2.0})
      for (double x : {-1.0, 0.0, 1.7, 3.5, 5.9, 6.0, 8.0})
        check_fill_1d(h, overflow, x, 1.3);
  // Skipped events: nothing added, false returned.
  diffana::GradHist1D<double, 1> h({0.0, 1.0, 2.0}, 0.3);
  const double dv[2] = {1.0, 2.0};
  double d_x = 0.0;
  double d_w = 0.0;
  CHECK(!diffana::fill_event_1d_pullback(
      h.axis(), kNaN, 1.0, dv, static_cast<const double*>(nullptr), &d_x, &d_w));
  CHECK(!diffana::fill_event_1d_pullback(
      h.axis(), 0.5, kInf, dv, static_cast<const double*>(nullptr), &d_x, &d_w));
  CHECK(d_x == 0.0 && d_w == 0.0);
}

DIFFANA_TEST(fill_2d_pullback_matches_jacobian) {
  using D3 = Dual<double, 3>;
  for (double hx : {0.0, 0.4})
    for (double hy : {0.0, 0.25}) {
      diffana::GradHist2D<double, 3> h({0.0, 1.0, 2.0, 3.0}, {-1.0, 0.0, 0.5, 1.0}, hx,
                                       hy);
      const double x = 1.2;
      const double y = 0.3;
      const double w = 0.8;
      h.fill(D3::variable(x, 0), D3::variable(y, 1), D3::variable(w, 2));
      const auto nb = static_cast<std::size_t>(h.nbins());
      std::vector<double> dv(nb);
      std::vector<double> ds(nb);
      for (std::size_t b = 0; b < nb; ++b) {
        dv[b] = 0.1 * static_cast<double>(b) - 0.4;
        ds[b] = 0.05 * static_cast<double>(b % 3);
      }
      double want[3] = {0.0, 0.0, 0.0};
      for (std::size_t b = 0; b < nb; ++b)
        for (int k = 0; k < 3; ++k)
          want[k] += dv[b] * h.jacobian(static_cast<std::int64_t>(b), k) +
                     ds[b] * h.sumw2_jacobian(static_cast<std::int64_t>(b), k);
      double d[3] = {0.0, 0.0, 0.0};
      CHECK(diffana::fill_event_2d_pullback(h.xaxis(), h.yaxis(), x, y, w, dv.data(),
                                            ds.data(), &d[0], &d[1], &d[2]));
      for (int k = 0; k < 3; ++k)
        CHECK_CLOSE(d[k], want[k], 1e-12, 1e-15);
    }
}

DIFFANA_TEST(seed_fill_on_the_tape) {
  // Pass 2 for one event: x = jes pt, w = soft_cut(x, 30, 0.2); the gradient of
  // sum_b d_values_b c_b equals the forward-mode one.
  diffana::GradHist1D<double, 1> h({0.0, 20.0, 40.0, 60.0, 80.0}, 5.0);
  const std::vector<double> d_values = {0.3, -1.0, 0.7, 2.0};
  const double pt = 36.0;
  const double jes = 1.02;
  using D1 = Dual<double, 1>;
  const D1 xd = D1::variable(jes, 0) * pt;
  h.fill(xd, diffana::soft_cut(xd, 30.0, 0.2));
  double want = 0.0;
  for (std::int64_t b = 0; b < 4; ++b)
    want += d_values[static_cast<std::size_t>(b)] * h.jacobian(b, 0);
  diffana::Tape tape;
  const auto p = diffana::make_param(tape, 0, jes);
  const auto x = p * pt;
  const auto w = diffana::soft_cut(x, 30.0, 0.2);
  CHECK(diffana::seed_fill_1d(h.axis(), x, w, d_values.data()));
  double g = 0.0;
  tape.sweep(&g, 1);
  CHECK_CLOSE(g, want, 1e-12, 1e-15);
  // A plain weight and position: nothing to seed, still true.
  CHECK(diffana::seed_fill_1d(h.axis(), 35.0, 1.0, d_values.data()));
}

} // namespace

int main() {
  return diffana::test::run_all();
}
