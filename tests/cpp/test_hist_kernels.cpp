// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of the extern "C" histogram kernels (src/kernels/hist_fill_1d.cpp,
/// hist_fill_1d_vjp.cpp, hist_fill_2d.cpp, status.cpp): equality with
/// GradHist1D/2D<double, N> for N = 1, 3, 8, the edge terms against finite differences
/// in the edges and the bandwidth, runtime P, accumulation, optional outputs, NaN
/// events and status codes; the reverse-mode gather as the transpose of the fill.
#include "diffana/hist/histogram.hpp"
#include "diffana/kernels.h"

#include "check.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using diffana::Dual;
using diffana::GradHist1D;
using diffana::GradHist2D;
using diffana::Overflow;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const std::vector<double> kVariable = {-2.0, -1.1, -0.5, -0.2, 0.0,
                                       0.15, 0.6,  1.0,  2.5};

std::vector<double> linspace(std::int64_t n, double lo, double hi) {
  return GradHist1D<double, 0>::uniform(n, lo, hi).edges();
}

/// Random events with P tangents per input, plus a few special ones (NaN, +-inf, on
/// edges).
struct Data {
  std::int64_t n = 0;
  std::int64_t P = 0;
  std::vector<double> x, y, w, x_tan, y_tan, w_tan;
};

Data make_data(std::int64_t n, std::int64_t P, std::uint64_t seed, bool specials) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> pos(-2.5, 3.0);
  std::uniform_real_distribution<double> wd(0.2, 2.0);
  std::normal_distribution<double> tn(0.0, 1.0);
  Data d;
  d.n = n;
  d.P = P;
  for (std::int64_t i = 0; i < n; ++i) {
    d.x.push_back(pos(gen));
    d.y.push_back(pos(gen));
    d.w.push_back(wd(gen));
    for (std::int64_t k = 0; k < P; ++k) {
      d.x_tan.push_back(tn(gen));
      d.y_tan.push_back(tn(gen));
      d.w_tan.push_back(tn(gen));
    }
  }
  if (specials && n >= 8) {
    d.x[0] = kNaN;
    d.w[1] = kNaN;
    d.x[2] = kInf;
    d.x[3] = -kInf;
    d.x[4] = 0.15; // on an edge of kVariable
    d.x[5] = 2.5;  // on the last edge
    d.y[6] = kNaN; // 2D only
    d.w[7] = -kInf;
  }
  return d;
}

struct Out1D {
  std::vector<double> values, sumw2, jac, sumw2_jac, density, moment;
  std::int64_t skipped = 0;
  Out1D(std::int64_t nbins, std::int64_t P)
      : values(std::size_t(nbins)), sumw2(std::size_t(nbins)),
        jac(std::size_t(nbins * P)), sumw2_jac(std::size_t(nbins * P)),
        density(std::size_t(nbins + 1)), moment(std::size_t(nbins + 1)) {}
};

int run_1d(const Data& d, const std::vector<double>& edges, double bw, int ov, Out1D& o,
           bool use_xt = true, bool use_w = true, bool use_wt = true,
           bool edge_terms = true) {
  return diffana_hist_fill_1d_f64(
      d.x.data(), use_xt ? d.x_tan.data() : nullptr, use_w ? d.w.data() : nullptr,
      use_wt ? d.w_tan.data() : nullptr, d.n, d.P, edges.data(),
      static_cast<std::int64_t>(edges.size()) - 1, bw, ov, o.values.data(),
      o.sumw2.data(), o.jac.data(), o.sumw2_jac.data(), &o.skipped,
      edge_terms ? o.density.data() : nullptr, edge_terms ? o.moment.data() : nullptr);
}

bool all_close(const std::vector<double>& a, const std::vector<double>& b, double rel,
               double abs_tol) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!diffana::test::close(a[i], b[i], rel, abs_tol)) {
      std::fprintf(stderr, "  mismatch at %zu: %.17g vs %.17g\n", i, a[i], b[i]);
      return false;
    }
  return true;
}

template <int N>
Dual<double, N> dual_row(double v, const std::vector<double>& tan, std::int64_t i) {
  Dual<double, N> r(v);
  for (int k = 0; k < N; ++k)
    r.tangent(k) = tan[static_cast<std::size_t>(i * N + k)];
  return r;
}

/// The kernel with P = N equals GradHist1D<double, N> filled with Duals built from
/// the same rows, for every combination of binning and present/absent inputs.
template <int N> void check_kernel_equals_template() {
  const Data d = make_data(300, N, 100 + N, true);
  for (const auto& edges : {kVariable, linspace(13, -2.0, 2.5)}) {
    for (double bw : {0.0, 0.04, 0.5}) {
      for (int ov : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
        for (int mask = 0; mask < 8; ++mask) {
          const bool use_xt = (mask & 1) != 0;
          const bool use_w = (mask & 2) != 0;
          const bool use_wt = (mask & 4) != 0;
          const auto nb = static_cast<std::int64_t>(edges.size()) - 1;
          Out1D o(nb, N);
          CHECK(run_1d(d, edges, bw, ov, o, use_xt, use_w, use_wt) == DIFFANA_OK);
          GradHist1D<double, N> h(edges, bw, static_cast<Overflow>(ov));
          for (std::int64_t i = 0; i < d.n; ++i) {
            const auto ii = static_cast<std::size_t>(i);
            Dual<double, N> x =
                use_xt ? dual_row<N>(d.x[ii], d.x_tan, i) : Dual<double, N>(d.x[ii]);
            const double wv = use_w ? d.w[ii] : 1.0;
            Dual<double, N> w =
                use_wt ? dual_row<N>(wv, d.w_tan, i) : Dual<double, N>(wv);
            h.fill(x, w);
          }
          CHECK(all_close(o.values, h.values(), 1e-14, 1e-15));
          CHECK(all_close(o.sumw2, h.sumw2(), 1e-14, 1e-15));
          CHECK(all_close(o.jac, h.jacobian(), 1e-13, 1e-14));
          CHECK(all_close(o.sumw2_jac, h.sumw2_jacobian(), 1e-13, 1e-14));
          CHECK(o.skipped == h.n_skipped());
          CHECK(o.skipped == (use_w ? 3 : 1)); // NaN x; NaN w, -inf w
          // Without the edge terms the kernel takes its vectorised path (AVX2 where
          // the CPU has it): the same operations, so the same bits, unless the build
          // lets the compiler contract to FMA (then only the rounding differs).
          Out1D f(nb, N);
          CHECK(run_1d(d, edges, bw, ov, f, use_xt, use_w, use_wt, false) ==
                DIFFANA_OK);
#if defined(__FP_FAST_FMA)
          CHECK(all_close(f.values, o.values, 1e-14, 1e-15));
          CHECK(all_close(f.jac, o.jac, 1e-13, 1e-14));
#else
          CHECK(f.values == o.values && f.sumw2 == o.sumw2);
          CHECK(f.jac == o.jac && f.sumw2_jac == o.sumw2_jac);
#endif
        }
      }
    }
  }
}

/// The values of a plain kernel fill (no tangents) for the edges and bandwidth given.
std::vector<double> values_1d(const Data& d, const std::vector<double>& edges,
                              double bw, int ov) {
  Data plain = d;
  plain.P = 0;
  Out1D o(static_cast<std::int64_t>(edges.size()) - 1, 0);
  (void)run_1d(plain, edges, bw, ov, o, false, true, false, false);
  return o.values;
}

} // namespace

DIFFANA_TEST(kernel_1d_equals_template_n1) {
  check_kernel_equals_template<1>();
}
DIFFANA_TEST(kernel_1d_equals_template_n3) {
  check_kernel_equals_template<3>();
}
DIFFANA_TEST(kernel_1d_equals_template_n8) {
  check_kernel_equals_template<8>();
}

DIFFANA_TEST(kernel_1d_runtime_p_columns_are_independent) {
  // P = 50 (no template instance needed): column k equals a P = 1 run on column k.
  const std::int64_t P = 50;
  const Data d = make_data(200, P, 7, false);
  const auto nb = static_cast<std::int64_t>(kVariable.size()) - 1;
  for (double bw : {0.0, 0.3}) {
    Out1D big(nb, P);
    CHECK(run_1d(d, kVariable, bw, DIFFANA_OVERFLOW_DROP, big) == DIFFANA_OK);
    for (std::int64_t k : {std::int64_t(0), std::int64_t(17), P - 1}) {
      Data one = d;
      one.P = 1;
      one.x_tan.clear();
      one.w_tan.clear();
      for (std::int64_t i = 0; i < d.n; ++i) {
        one.x_tan.push_back(d.x_tan[static_cast<std::size_t>(i * P + k)]);
        one.w_tan.push_back(d.w_tan[static_cast<std::size_t>(i * P + k)]);
      }
      Out1D o(nb, 1);
      CHECK(run_1d(one, kVariable, bw, DIFFANA_OVERFLOW_DROP, o) == DIFFANA_OK);
      for (std::int64_t b = 0; b < nb; ++b) {
        const auto bk = static_cast<std::size_t>(b * P + k);
        CHECK_CLOSE(big.jac[bk], o.jac[static_cast<std::size_t>(b)], 1e-14, 1e-15);
        CHECK_CLOSE(big.sumw2_jac[bk], o.sumw2_jac[static_cast<std::size_t>(b)], 1e-14,
                    1e-15);
      }
      CHECK(all_close(big.values, o.values, 1e-15, 0));
    }
  }
}

DIFFANA_TEST(kernel_1d_jacobian_matches_fd) {
  // x_i = a u_i + b, w_i = c v_i: P = 3 with tangents (u, 1, 0) and (0, 0, v).
  const Data base = make_data(300, 0, 8, false);
  const std::array<double, 3> th = {1.2, 0.1, 0.9};
  auto build = [&](const std::array<double, 3>& t, bool tangents) {
    Data d = base;
    d.P = tangents ? 3 : 0;
    d.x_tan.clear();
    d.w_tan.clear();
    for (std::int64_t i = 0; i < d.n; ++i) {
      const auto ii = static_cast<std::size_t>(i);
      const double u = base.x[ii];
      const double v = base.w[ii];
      d.x[ii] = t[0] * u + t[1];
      d.w[ii] = t[2] * v;
      if (tangents) {
        d.x_tan.insert(d.x_tan.end(), {u, 1.0, 0.0});
        d.w_tan.insert(d.w_tan.end(), {0.0, 0.0, v});
      }
    }
    return d;
  };
  for (double bw : {0.0, 0.2}) {
    for (int ov : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
      const auto nb = static_cast<std::int64_t>(kVariable.size()) - 1;
      Out1D o(nb, 3);
      CHECK(run_1d(build(th, true), kVariable, bw, ov, o) == DIFFANA_OK);
      for (int k = 0; k < 3; ++k) {
        const double eps = 1e-6;
        auto tp = th;
        auto tm = th;
        tp[static_cast<std::size_t>(k)] += eps;
        tm[static_cast<std::size_t>(k)] -= eps;
        Data dp = build(tp, true);
        Data dm = build(tm, true);
        Out1D op(nb, 3);
        Out1D om(nb, 3);
        (void)run_1d(dp, kVariable, bw, ov, op);
        (void)run_1d(dm, kVariable, bw, ov, om);
        for (std::int64_t b = 0; b < nb; ++b) {
          const auto bi = static_cast<std::size_t>(b);
          const auto bk = static_cast<std::size_t>(b * 3 + k);
          CHECK_CLOSE(o.jac[bk], (op.values[bi] - om.values[bi]) / (2 * eps), 1e-6,
                      1e-5);
          CHECK_CLOSE(o.sumw2_jac[bk], (op.sumw2[bi] - om.sumw2[bi]) / (2 * eps), 1e-6,
                      1e-5);
        }
      }
    }
  }
}

DIFFANA_TEST(kernel_1d_edge_terms_match_fd) {
  const Data d = make_data(400, 0, 9, true);
  for (const auto& edges : {kVariable, linspace(9, -1.5, 2.0)}) {
    const auto nb = static_cast<std::int64_t>(edges.size()) - 1;
    for (int ov : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
      for (double bw : {0.07, 0.4}) {
        Out1D o(nb, 0);
        CHECK(run_1d(d, edges, bw, ov, o) == DIFFANA_OK);
        const double eps = 1e-6;
        // d values_b / d e_j: -S_b for j = b, S_{b+1} for j = b + 1, else 0 (fold: the
        // outer edges are infinite and contribute nothing).
        for (std::int64_t j = 0; j <= nb; ++j) {
          auto ep = edges;
          auto em = edges;
          ep[static_cast<std::size_t>(j)] += eps;
          em[static_cast<std::size_t>(j)] -= eps;
          const auto vp = values_1d(d, ep, bw, ov);
          const auto vm = values_1d(d, em, bw, ov);
          for (std::int64_t b = 0; b < nb; ++b) {
            const auto bi = static_cast<std::size_t>(b);
            double expect = 0;
            if (j == b) expect = -o.density[static_cast<std::size_t>(j)];
            if (j == b + 1) expect = o.density[static_cast<std::size_t>(j)];
            CHECK_CLOSE(expect, (vp[bi] - vm[bi]) / (2 * eps), 1e-6, 1e-6);
          }
        }
        if (ov == DIFFANA_OVERFLOW_FOLD) {
          CHECK(o.density.front() == 0.0 && o.density.back() == 0.0);
          CHECK(o.moment.front() == 0.0 && o.moment.back() == 0.0);
        }
        // d values_b / d h = T_b - T_{b+1}.
        const auto hp = values_1d(d, edges, bw + eps, ov);
        const auto hm = values_1d(d, edges, bw - eps, ov);
        for (std::int64_t b = 0; b < nb; ++b) {
          const auto bi = static_cast<std::size_t>(b);
          CHECK_CLOSE(o.moment[bi] - o.moment[bi + 1], (hp[bi] - hm[bi]) / (2 * eps),
                      1e-6, 1e-6);
        }
      }
    }
  }
  // Hard binning leaves the edge terms untouched.
  Out1D o(8, 0);
  std::fill(o.density.begin(), o.density.end(), 42.0);
  std::fill(o.moment.begin(), o.moment.end(), 42.0);
  CHECK(run_1d(d, kVariable, 0.0, DIFFANA_OVERFLOW_DROP, o) == DIFFANA_OK);
  for (double v : o.density)
    CHECK(v == 42.0);
  for (double v : o.moment)
    CHECK(v == 42.0);
}

DIFFANA_TEST(kernel_1d_edge_terms_over_long_spans) {
  // Spans of up to ~60 bins, several blocks of the per-event loop: every edge term is
  // the direct sum over events of w phi(z) / h and w phi(z) z / h (untruncated here;
  // the truncated terms are below 2.5e-13 w / h), each edge counted once.
  const Data d = make_data(300, 0, 21, false);
  const auto edges = linspace(61, -3.0, 3.5);
  const std::int64_t nb = 61;
  for (double bw : {0.05, 0.3, 0.9}) {
    for (int ov : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
      Out1D o(nb, 0);
      CHECK(run_1d(d, edges, bw, ov, o) == DIFFANA_OK);
      double sum_w = 0;
      for (double w : d.w)
        sum_w += w;
      for (std::int64_t j = 0; j <= nb; ++j) {
        const auto jj = static_cast<std::size_t>(j);
        if (ov == DIFFANA_OVERFLOW_FOLD && (j == 0 || j == nb)) {
          CHECK(o.density[jj] == 0.0 && o.moment[jj] == 0.0);
          continue;
        }
        long double s = 0;
        long double t = 0;
        for (std::size_t i = 0; i < d.x.size(); ++i) {
          const long double z = (static_cast<long double>(edges[jj]) - d.x[i]) / bw;
          const long double p =
              d.w[i] * diffana::normal_pdf(static_cast<double>(z)) / bw;
          s += p;
          t += p * z;
        }
        const double tol = 1e-12 * sum_w / bw;
        CHECK_CLOSE(o.density[jj], static_cast<double>(s), 1e-13, tol);
        CHECK_CLOSE(o.moment[jj], static_cast<double>(t), 1e-13, tol);
      }
    }
  }
}

DIFFANA_TEST(kernel_1d_accumulates_and_chunks_merge) {
  const Data d = make_data(301, 2, 10, true);
  for (double bw : {0.0, 0.3}) {
    Out1D once(8, 2);
    CHECK(run_1d(d, kVariable, bw, DIFFANA_OVERFLOW_FOLD, once) == DIFFANA_OK);
    // Two calls on the same buffers: everything doubles.
    Out1D twice(8, 2);
    (void)run_1d(d, kVariable, bw, DIFFANA_OVERFLOW_FOLD, twice);
    (void)run_1d(d, kVariable, bw, DIFFANA_OVERFLOW_FOLD, twice);
    for (std::size_t b = 0; b < 8; ++b) {
      CHECK_CLOSE(twice.values[b], 2 * once.values[b], 1e-14, 1e-15);
      CHECK_CLOSE(twice.jac[2 * b + 1], 2 * once.jac[2 * b + 1], 1e-14, 1e-15);
    }
    CHECK(twice.skipped == 2 * once.skipped);
    // Chunks [0, 100) and [100, 301) into the same buffers equal one call.
    Out1D chunks(8, 2);
    const std::int64_t cut = 100;
    auto part = [&](std::int64_t lo, std::int64_t hi) {
      return diffana_hist_fill_1d_f64(
          d.x.data() + lo, d.x_tan.data() + lo * 2, d.w.data() + lo,
          d.w_tan.data() + lo * 2, hi - lo, 2, kVariable.data(), 8, bw,
          DIFFANA_OVERFLOW_FOLD, chunks.values.data(), chunks.sumw2.data(),
          chunks.jac.data(), chunks.sumw2_jac.data(), &chunks.skipped,
          chunks.density.data(), chunks.moment.data());
    };
    CHECK(part(0, cut) == DIFFANA_OK);
    CHECK(part(cut, d.n) == DIFFANA_OK);
    CHECK(all_close(chunks.values, once.values, 1e-13, 1e-14));
    CHECK(all_close(chunks.jac, once.jac, 1e-13, 1e-14));
    CHECK(all_close(chunks.sumw2_jac, once.sumw2_jac, 1e-13, 1e-14));
    CHECK(all_close(chunks.density, once.density, 1e-13, 1e-14));
    CHECK(chunks.skipped == once.skipped);
  }
}

DIFFANA_TEST(kernel_1d_optional_outputs_may_be_null) {
  const Data d = make_data(200, 3, 11, true);
  for (double bw : {0.0, 0.3}) {
    Out1D full(8, 3);
    CHECK(run_1d(d, kVariable, bw, DIFFANA_OVERFLOW_DROP, full) == DIFFANA_OK);
    std::vector<double> values(8, 0.0);
    CHECK(diffana_hist_fill_1d_f64(
              d.x.data(), d.x_tan.data(), d.w.data(), d.w_tan.data(), d.n, 3,
              kVariable.data(), 8, bw, DIFFANA_OVERFLOW_DROP, values.data(), nullptr,
              nullptr, nullptr, nullptr, nullptr, nullptr) == DIFFANA_OK);
    CHECK(all_close(values, full.values, 0, 0));
    // Only the sumw2 Jacobian.
    std::vector<double> v2(8, 0.0);
    std::vector<double> sj(24, 0.0);
    CHECK(diffana_hist_fill_1d_f64(d.x.data(), d.x_tan.data(), d.w.data(),
                                   d.w_tan.data(), d.n, 3, kVariable.data(), 8, bw,
                                   DIFFANA_OVERFLOW_DROP, v2.data(), nullptr, nullptr,
                                   sj.data(), nullptr, nullptr, nullptr) == DIFFANA_OK);
    CHECK(all_close(sj, full.sumw2_jac, 1e-15, 0));
    // n = 0 with NULL inputs is fine and adds nothing.
    CHECK(diffana_hist_fill_1d_f64(nullptr, nullptr, nullptr, nullptr, 0, 3,
                                   kVariable.data(), 8, bw, DIFFANA_OVERFLOW_DROP,
                                   v2.data(), nullptr, nullptr, nullptr, nullptr,
                                   nullptr, nullptr) == DIFFANA_OK);
    CHECK(all_close(v2, full.values, 0, 0));
  }
}

DIFFANA_TEST(kernel_1d_nan_events_are_skipped) {
  const std::vector<double> x = {kNaN, 0.5, 0.5, 0.5, kInf};
  const std::vector<double> w = {1.0, kNaN, kInf, 2.0, 1.0};
  for (double bw : {0.0, 0.2}) {
    std::vector<double> values(2, 0.0);
    std::vector<double> sumw2(2, 0.0);
    std::int64_t skipped = 5; // accumulated, not overwritten
    CHECK(diffana_hist_fill_1d_f64(x.data(), nullptr, w.data(), nullptr, 5, 0,
                                   kVariable.data(), 2, bw, DIFFANA_OVERFLOW_FOLD,
                                   values.data(), sumw2.data(), nullptr, nullptr,
                                   &skipped, nullptr, nullptr) == DIFFANA_OK);
    CHECK(skipped == 5 + 3);
    CHECK(std::isfinite(values[0]) && std::isfinite(values[1]));
    CHECK_CLOSE(values[0] + values[1], 3.0, 1e-15, 0); // 2 at 0.5 + 1 at +inf (fold)
  }
}

DIFFANA_TEST(kernel_1d_status_codes) {
  const std::vector<double> x = {0.1, 0.2};
  std::vector<double> values(2, 0.0);
  const std::vector<double> e = {0.0, 1.0, 2.0};
  auto call = [&](const double* xp, std::int64_t n, std::int64_t P, const double* edges,
                  std::int64_t nbins, double bw, int ov, double* vals) {
    return diffana_hist_fill_1d_f64(xp, nullptr, nullptr, nullptr, n, P, edges, nbins,
                                    bw, ov, vals, nullptr, nullptr, nullptr, nullptr,
                                    nullptr, nullptr);
  };
  CHECK(call(x.data(), 2, 0, e.data(), 2, 0.0, 0, values.data()) == DIFFANA_OK);
  values.assign(2, 0.0);
  CHECK(call(x.data(), -1, 0, e.data(), 2, 0.0, 0, values.data()) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(call(x.data(), 2, -1, e.data(), 2, 0.0, 0, values.data()) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(call(x.data(), 2, 0, e.data(), 0, 0.0, 0, values.data()) == DIFFANA_ERR_EDGES);
  CHECK(call(x.data(), 2, 0, nullptr, 2, 0.0, 0, values.data()) == DIFFANA_ERR_EDGES);
  const std::vector<double> unsorted = {0.0, 2.0, 1.0};
  const std::vector<double> repeated = {0.0, 1.0, 1.0};
  const std::vector<double> nan_edge = {0.0, kNaN, 2.0};
  const std::vector<double> inf_edge = {-kInf, 1.0, 2.0};
  for (const auto* bad : {&unsorted, &repeated, &nan_edge, &inf_edge})
    CHECK(call(x.data(), 2, 0, bad->data(), 2, 0.0, 0, values.data()) ==
          DIFFANA_ERR_EDGES);
  for (double bw : {-1.0, -0.0 - 1e-300, kNaN, kInf})
    CHECK(call(x.data(), 2, 0, e.data(), 2, bw, 0, values.data()) ==
          DIFFANA_ERR_BANDWIDTH);
  for (int ov : {-1, 2, 7})
    CHECK(call(x.data(), 2, 0, e.data(), 2, 0.0, ov, values.data()) ==
          DIFFANA_ERR_OVERFLOW);
  CHECK(call(x.data(), 2, 0, e.data(), 2, 0.0, 0, nullptr) == DIFFANA_ERR_ARGUMENT);
  CHECK(call(nullptr, 2, 0, e.data(), 2, 0.0, 0, values.data()) ==
        DIFFANA_ERR_ARGUMENT);
  // Nothing was written by the failed calls.
  CHECK(values[0] == 0.0 && values[1] == 0.0);
  // The order of the checks: n before edges before bandwidth before overflow.
  CHECK(call(x.data(), -1, 0, nullptr, 0, kNaN, 9, nullptr) == DIFFANA_ERR_ARGUMENT);
  CHECK(call(x.data(), 2, 0, nullptr, 0, kNaN, 9, nullptr) == DIFFANA_ERR_EDGES);
  CHECK(call(x.data(), 2, 0, e.data(), 2, kNaN, 9, nullptr) == DIFFANA_ERR_BANDWIDTH);
  CHECK(call(x.data(), 2, 0, e.data(), 2, 0.0, 9, nullptr) == DIFFANA_ERR_OVERFLOW);
}

DIFFANA_TEST(status_messages) {
  const int codes[] = {
      DIFFANA_OK,           DIFFANA_ERR_EDGES,    DIFFANA_ERR_BANDWIDTH,
      DIFFANA_ERR_OVERFLOW, DIFFANA_ERR_ARGUMENT, DIFFANA_ERR_DEVICE};
  std::vector<std::string> seen;
  for (int c : codes) {
    const char* m = diffana_status_message(c);
    CHECK(m != nullptr && std::strlen(m) > 0);
    for (const auto& s : seen)
      CHECK(s != m);
    seen.emplace_back(m);
  }
  CHECK(std::string(diffana_status_message(DIFFANA_ERR_EDGES)).find("edges") !=
        std::string::npos);
  CHECK(std::string(diffana_status_message(DIFFANA_ERR_BANDWIDTH)).find("bandwidth") !=
        std::string::npos);
  CHECK(std::string(diffana_status_message(DIFFANA_ERR_OVERFLOW)).find("overflow") !=
        std::string::npos);
  CHECK(std::string(diffana_status_message(12345)).find("unknown") !=
        std::string::npos);
}

// ---- the reverse-mode gather (hist_fill_1d_vjp.cpp) -------------------------------

namespace {

/// ct_x / ct_w of diffana_hist_fill_1d_vjp_f64 for a cotangent ct[nbins * P].
struct Vjp {
  std::vector<double> ct_x, ct_w;
  Vjp(std::int64_t n, std::int64_t P)
      : ct_x(std::size_t(n * P)), ct_w(std::size_t(n * P)) {}
};

int run_vjp(const Data& d, const std::vector<double>& ct, std::int64_t P,
            const std::vector<double>& edges, double bw, int ov, Vjp& o,
            bool use_w = true) {
  return diffana_hist_fill_1d_vjp_f64(d.x.data(), use_w ? d.w.data() : nullptr,
                                      ct.data(), d.n, P, edges.data(),
                                      static_cast<std::int64_t>(edges.size()) - 1, bw,
                                      ov, o.ct_x.data(), o.ct_w.data());
}

std::vector<double> random_cotangent(std::int64_t nbins, std::int64_t P,
                                     std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> ct;
  for (std::int64_t i = 0; i < nbins * P; ++i)
    ct.push_back(dist(gen));
  return ct;
}

} // namespace

DIFFANA_TEST(kernel_1d_vjp_is_the_transpose_of_the_fill) {
  // J[b, i] = d values_b / d x_i (or d w_i) from the fill with identity tangents
  // (P = n); the gather must give J^T ct, skipped events and infinities included.
  const std::int64_t n = 60;
  const std::int64_t P = 3;
  const auto nb = static_cast<std::int64_t>(kVariable.size()) - 1;
  const std::vector<double> ct = random_cotangent(nb, P, 21);
  for (double bw : {0.0, 0.3, 2.0}) {
    for (int ov : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
      for (bool weighted : {true, false}) {
        Data d = make_data(n, 0, 22, true);
        d.P = n;
        d.x_tan.assign(std::size_t(n * n), 0.0);
        d.w_tan.assign(std::size_t(n * n), 0.0);
        for (std::int64_t i = 0; i < n; ++i) {
          d.x_tan[std::size_t(i * n + i)] = 1.0;
          d.w_tan[std::size_t(i * n + i)] = 1.0;
        }
        Out1D jx(nb, n);
        Out1D jw(nb, n);
        CHECK(run_1d(d, kVariable, bw, ov, jx, true, weighted, false) == DIFFANA_OK);
        CHECK(run_1d(d, kVariable, bw, ov, jw, false, weighted, true) == DIFFANA_OK);
        Vjp g(n, P);
        CHECK(run_vjp(d, ct, P, kVariable, bw, ov, g, weighted) == DIFFANA_OK);
        for (std::int64_t i = 0; i < n; ++i) {
          for (std::int64_t p = 0; p < P; ++p) {
            double want_x = 0.0;
            double want_w = 0.0;
            for (std::int64_t b = 0; b < nb; ++b) {
              const double c = ct[std::size_t(b * P + p)];
              want_x += jx.jac[std::size_t(b * n + i)] * c;
              want_w += jw.jac[std::size_t(b * n + i)] * c;
            }
            const auto ip = std::size_t(i * P + p);
            CHECK_CLOSE(g.ct_x[ip], want_x, 1e-13, 1e-14);
            CHECK_CLOSE(g.ct_w[ip], want_w, 1e-13, 1e-14);
          }
        }
        // make_data's specials: NaN x (0), NaN weight (1), -inf weight (7).
        for (std::int64_t i : {0, 1, 7}) {
          if (i != 0 && !weighted) continue;
          for (std::int64_t p = 0; p < P; ++p) {
            CHECK(g.ct_x[std::size_t(i * P + p)] == 0.0);
            CHECK(g.ct_w[std::size_t(i * P + p)] == 0.0);
          }
        }
      }
    }
  }
}

DIFFANA_TEST(kernel_1d_vjp_hard_binning_gathers_the_event_bin) {
  // Hard binning: ct_w_i is the cotangent row of the event's bin, ct_x is 0.
  const std::vector<double> x = {0.5, 1.5, 2.0, -1.0, 3.0};
  const std::vector<double> e = {0.0, 1.0, 2.0};
  const std::vector<double> ct = {1.0, 2.0, 10.0, 20.0}; // [2 bins, P = 2]
  std::vector<double> ct_x(10, 0.0);
  std::vector<double> ct_w(10, 0.0);
  CHECK(diffana_hist_fill_1d_vjp_f64(x.data(), nullptr, ct.data(), 5, 2, e.data(), 2,
                                     0.0, DIFFANA_OVERFLOW_DROP, ct_x.data(),
                                     ct_w.data()) == DIFFANA_OK);
  const std::vector<double> want = {1.0,  2.0, 10.0, 20.0, 10.0,
                                    20.0, 0.0, 0.0,  0.0,  0.0};
  CHECK(ct_w == want);
  CHECK(ct_x == std::vector<double>(10, 0.0));
  // fold: under/overflow land in the first/last bin
  ct_w.assign(10, 0.0);
  CHECK(diffana_hist_fill_1d_vjp_f64(x.data(), nullptr, ct.data(), 5, 2, e.data(), 2,
                                     0.0, DIFFANA_OVERFLOW_FOLD, nullptr,
                                     ct_w.data()) == DIFFANA_OK);
  const std::vector<double> folded = {1.0,  2.0, 10.0, 20.0, 10.0,
                                      20.0, 1.0, 2.0,  10.0, 20.0};
  CHECK(ct_w == folded);
}

DIFFANA_TEST(kernel_1d_vjp_accumulates_and_chunks_merge) {
  const std::int64_t P = 2;
  const Data d = make_data(100, 0, 23, true);
  const auto nb = static_cast<std::int64_t>(kVariable.size()) - 1;
  const std::vector<double> ct = random_cotangent(nb, P, 24);
  Vjp once(d.n, P);
  CHECK(run_vjp(d, ct, P, kVariable, 0.4, DIFFANA_OVERFLOW_FOLD, once) == DIFFANA_OK);
  Vjp twice(d.n, P);
  CHECK(run_vjp(d, ct, P, kVariable, 0.4, DIFFANA_OVERFLOW_FOLD, twice) == DIFFANA_OK);
  CHECK(run_vjp(d, ct, P, kVariable, 0.4, DIFFANA_OVERFLOW_FOLD, twice) == DIFFANA_OK);
  for (std::size_t i = 0; i < once.ct_x.size(); ++i) {
    // Each call adds its sum to what is there: equal up to rounding.
    CHECK_CLOSE(twice.ct_x[i], 2.0 * once.ct_x[i], 1e-14, 1e-300);
    CHECK_CLOSE(twice.ct_w[i], 2.0 * once.ct_w[i], 1e-14, 1e-300);
  }
  // Two chunks of events (rows are independent) give the same rows.
  Vjp chunks(d.n, P);
  const std::int64_t half = 37;
  for (auto [lo, len] : {std::pair<std::int64_t, std::int64_t>{0, half},
                         std::pair<std::int64_t, std::int64_t>{half, d.n - half}}) {
    CHECK(diffana_hist_fill_1d_vjp_f64(
              d.x.data() + lo, d.w.data() + lo, ct.data(), len, P, kVariable.data(), nb,
              0.4, DIFFANA_OVERFLOW_FOLD, chunks.ct_x.data() + lo * P,
              chunks.ct_w.data() + lo * P) == DIFFANA_OK);
  }
  CHECK(chunks.ct_x == once.ct_x);
  CHECK(chunks.ct_w == once.ct_w);
  // A NULL output is skipped; the other is unchanged.
  Vjp only_w(d.n, P);
  CHECK(diffana_hist_fill_1d_vjp_f64(d.x.data(), d.w.data(), ct.data(), d.n, P,
                                     kVariable.data(), nb, 0.4, DIFFANA_OVERFLOW_FOLD,
                                     nullptr, only_w.ct_w.data()) == DIFFANA_OK);
  CHECK(only_w.ct_w == once.ct_w);
}

DIFFANA_TEST(kernel_1d_vjp_status_codes) {
  const std::vector<double> x = {0.1, 0.2};
  const std::vector<double> e = {0.0, 1.0, 2.0};
  const std::vector<double> ct = {1.0, 1.0};
  std::vector<double> out(2, 0.0);
  auto call = [&](const double* xp, const double* ctp, std::int64_t n, std::int64_t P,
                  const double* edges, std::int64_t nbins, double bw, int ov,
                  double* ct_x) {
    return diffana_hist_fill_1d_vjp_f64(xp, nullptr, ctp, n, P, edges, nbins, bw, ov,
                                        ct_x, nullptr);
  };
  CHECK(call(x.data(), ct.data(), 2, 1, e.data(), 2, 0.5, 0, out.data()) == DIFFANA_OK);
  out.assign(2, 0.0);
  CHECK(call(x.data(), ct.data(), -1, 1, e.data(), 2, 0.5, 0, out.data()) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(call(x.data(), ct.data(), 2, -1, e.data(), 2, 0.5, 0, out.data()) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(call(x.data(), ct.data(), 2, 1, e.data(), 0, 0.5, 0, out.data()) ==
        DIFFANA_ERR_EDGES);
  CHECK(call(x.data(), ct.data(), 2, 1, nullptr, 2, 0.5, 0, out.data()) ==
        DIFFANA_ERR_EDGES);
  const std::vector<double> unsorted = {0.0, 2.0, 1.0};
  const std::vector<double> nan_edge = {0.0, kNaN, 2.0};
  for (const auto* bad : {&unsorted, &nan_edge})
    CHECK(call(x.data(), ct.data(), 2, 1, bad->data(), 2, 0.5, 0, out.data()) ==
          DIFFANA_ERR_EDGES);
  for (double bw : {-1.0, kNaN, kInf})
    CHECK(call(x.data(), ct.data(), 2, 1, e.data(), 2, bw, 0, out.data()) ==
          DIFFANA_ERR_BANDWIDTH);
  for (int ov : {-1, 2})
    CHECK(call(x.data(), ct.data(), 2, 1, e.data(), 2, 0.5, ov, out.data()) ==
          DIFFANA_ERR_OVERFLOW);
  CHECK(call(nullptr, ct.data(), 2, 1, e.data(), 2, 0.5, 0, out.data()) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(call(x.data(), nullptr, 2, 1, e.data(), 2, 0.5, 0, out.data()) ==
        DIFFANA_ERR_ARGUMENT);
  // Nothing was written by the failed calls.
  CHECK(out[0] == 0.0 && out[1] == 0.0);
  // Nothing to do (n = 0, P = 0 or no outputs) is fine, even with NULL inputs.
  CHECK(call(nullptr, nullptr, 0, 1, e.data(), 2, 0.5, 0, out.data()) == DIFFANA_OK);
  CHECK(call(nullptr, nullptr, 2, 0, e.data(), 2, 0.5, 0, out.data()) == DIFFANA_OK);
  CHECK(call(nullptr, nullptr, 2, 1, e.data(), 2, 0.5, 0, nullptr) == DIFFANA_OK);
  // The order of the checks: n before edges before bandwidth before overflow.
  CHECK(call(nullptr, nullptr, -1, 1, nullptr, 0, kNaN, 9, nullptr) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(call(nullptr, nullptr, 2, 1, nullptr, 0, kNaN, 9, nullptr) ==
        DIFFANA_ERR_EDGES);
  CHECK(call(nullptr, nullptr, 2, 1, e.data(), 2, kNaN, 9, nullptr) ==
        DIFFANA_ERR_BANDWIDTH);
  CHECK(call(nullptr, nullptr, 2, 1, e.data(), 2, 0.5, 9, nullptr) ==
        DIFFANA_ERR_OVERFLOW);
}

// ---- 2D -------------------------------------------------------------------------

namespace {

template <int N> void check_kernel_2d_equals_template() {
  const Data d = make_data(250, N, 200 + N, true);
  const std::vector<double> xe = {-2.0, -0.7, -0.1, 0.2, 0.9, 2.6};
  const std::vector<double> ye = linspace(7, -2.2, 2.8);
  const auto nx = static_cast<std::int64_t>(xe.size()) - 1;
  const auto ny = static_cast<std::int64_t>(ye.size()) - 1;
  for (double hx : {0.0, 0.3}) {
    for (double hy : {0.0, 0.05}) {
      for (int ov : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
        for (bool tangents : {false, true}) {
          const auto nb = static_cast<std::size_t>(nx * ny);
          std::vector<double> values(nb), sumw2(nb), jac(nb * N), sj(nb * N);
          std::int64_t skipped = 0;
          const double* xt = tangents ? d.x_tan.data() : nullptr;
          const double* yt = tangents ? d.y_tan.data() : nullptr;
          const double* wt = tangents ? d.w_tan.data() : nullptr;
          CHECK(diffana_hist_fill_2d_f64(d.x.data(), xt, d.y.data(), yt, d.w.data(), wt,
                                         d.n, N, xe.data(), nx, ye.data(), ny, hx, hy,
                                         ov, values.data(), sumw2.data(), jac.data(),
                                         sj.data(), &skipped) == DIFFANA_OK);
          GradHist2D<double, N> h(xe, ye, hx, hy, static_cast<Overflow>(ov));
          for (std::int64_t i = 0; i < d.n; ++i) {
            const auto ii = static_cast<std::size_t>(i);
            if (tangents)
              h.fill(dual_row<N>(d.x[ii], d.x_tan, i), dual_row<N>(d.y[ii], d.y_tan, i),
                     dual_row<N>(d.w[ii], d.w_tan, i));
            else
              h.fill(d.x[ii], d.y[ii], d.w[ii]);
          }
          CHECK(all_close(values, h.values(), 1e-14, 1e-15));
          CHECK(all_close(sumw2, h.sumw2(), 1e-14, 1e-15));
          CHECK(all_close(jac, h.jacobian(), 1e-13, 1e-14));
          CHECK(all_close(sj, h.sumw2_jacobian(), 1e-13, 1e-14));
          CHECK(skipped == h.n_skipped() && skipped == 4);
        }
      }
    }
  }
}

} // namespace

DIFFANA_TEST(kernel_2d_equals_template_n1) {
  check_kernel_2d_equals_template<1>();
}
DIFFANA_TEST(kernel_2d_equals_template_n3) {
  check_kernel_2d_equals_template<3>();
}
DIFFANA_TEST(kernel_2d_equals_template_n8) {
  check_kernel_2d_equals_template<8>();
}

DIFFANA_TEST(kernel_2d_status_codes_and_unweighted) {
  const std::vector<double> x = {0.5, 1.5, 1.5};
  const std::vector<double> y = {0.5, 0.5, 2.5};
  const std::vector<double> e = {0.0, 1.0, 2.0};
  const std::vector<double> e3 = {0.0, 1.0, 2.0, 3.0};
  std::vector<double> values(6, 0.0);
  auto call = [&](const double* xe, std::int64_t nx, const double* ye, std::int64_t ny,
                  double hx, double hy, int ov, const double* yp) {
    return diffana_hist_fill_2d_f64(x.data(), nullptr, yp, nullptr, nullptr, nullptr, 3,
                                    0, xe, nx, ye, ny, hx, hy, ov, values.data(),
                                    nullptr, nullptr, nullptr, nullptr);
  };
  CHECK(call(e.data(), 2, e3.data(), 3, 0.0, 0.0, 0, y.data()) == DIFFANA_OK);
  CHECK(values[0] == 1.0 && values[3] == 1.0 && values[5] == 1.0); // row-major
  const std::vector<double> bad = {0.0, 0.0, 1.0};
  CHECK(call(bad.data(), 2, e3.data(), 3, 0.0, 0.0, 0, y.data()) == DIFFANA_ERR_EDGES);
  CHECK(call(e.data(), 2, bad.data(), 2, 0.0, 0.0, 0, y.data()) == DIFFANA_ERR_EDGES);
  CHECK(call(e.data(), 0, e3.data(), 3, 0.0, 0.0, 0, y.data()) == DIFFANA_ERR_EDGES);
  CHECK(call(e.data(), 2, e3.data(), 3, -1.0, 0.0, 0, y.data()) ==
        DIFFANA_ERR_BANDWIDTH);
  CHECK(call(e.data(), 2, e3.data(), 3, 0.0, kInf, 0, y.data()) ==
        DIFFANA_ERR_BANDWIDTH);
  CHECK(call(e.data(), 2, e3.data(), 3, 0.0, 0.0, 3, y.data()) == DIFFANA_ERR_OVERFLOW);
  CHECK(call(e.data(), 2, e3.data(), 3, 0.0, 0.0, 0, nullptr) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_hist_fill_2d_f64(x.data(), nullptr, y.data(), nullptr, nullptr, nullptr,
                                 -3, 0, e.data(), 2, e3.data(), 3, 0.0, 0.0, 0,
                                 values.data(), nullptr, nullptr, nullptr,
                                 nullptr) == DIFFANA_ERR_ARGUMENT);
}

int main() {
  return diffana::test::run_all();
}
