// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana/physics/agc.hpp: soft counts and region probabilities against
/// brute-force enumeration, the soft trijet mass against an independent reference
/// built from lorentz.hpp's invariant_mass / pt_of_sum, derivatives against central
/// finite differences, the hard limits (scales -> 0 equal the hard AGC selection),
/// the pruning error bound, and edge cases (few jets, no b tag, NaN, bad options).
#include "diffana/ad/dual.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"

#include "check.hpp"
#include "gradient_check.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace {

using diffana::Dual;
namespace agc = diffana::agc;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Rng {
  std::mt19937_64 gen{20260522};
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(gen);
  }
};

struct Event {
  std::vector<double> pt, eta, phi, m, score;
};

Event random_event(Rng& rng, std::size_t n) {
  Event e;
  for (std::size_t j = 0; j < n; ++j) {
    e.pt.push_back(rng.uniform(20.0, 200.0));
    e.eta.push_back(rng.uniform(-2.6, 2.6));
    e.phi.push_back(rng.uniform(-3.14, 3.14));
    e.m.push_back(rng.uniform(2.0, 20.0));
    e.score.push_back(rng.uniform(0.0, 1.0));
  }
  return e;
}

// Brute force: P(count == c) by enumerating the 2^n outcomes.
std::vector<double> brute_counts(const std::vector<double>& w) {
  const std::size_t n = w.size();
  std::vector<double> p(n + 1, 0.0);
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    double pr = 1.0;
    std::size_t c = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool on = (mask >> i) & 1u;
      pr *= on ? w[i] : 1.0 - w[i];
      c += on ? 1 : 0;
    }
    p[c] += pr;
  }
  return p;
}

// Independent soft trijet reference: invariant_mass and pt_of_sum of lorentz.hpp,
// weights as 1 - prod(1 - b) and the softmax in the direct form.
double reference_trijet(const Event& e, const std::vector<double>& s,
                        const std::vector<double>& b, double temp, bool* valid) {
  const std::size_t n = e.pt.size();
  double cmax = -1e300;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      for (std::size_t k = j + 1; k < n; ++k) {
        const double w =
            s[i] * s[j] * s[k] * (1.0 - (1.0 - b[i]) * (1.0 - b[j]) * (1.0 - b[k]));
        const double p =
            diffana::pt_of_sum(e.pt[i], e.phi[i], e.pt[j], e.phi[j], e.pt[k], e.phi[k]);
        if (w > 0.0 && p > cmax) cmax = p;
      }
  double num = 0.0;
  double den = 0.0;
  double best_pt = -1.0;
  double best_m = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      for (std::size_t k = j + 1; k < n; ++k) {
        const double w =
            s[i] * s[j] * s[k] * (1.0 - (1.0 - b[i]) * (1.0 - b[j]) * (1.0 - b[k]));
        if (!(w > 0.0)) continue;
        const double p =
            diffana::pt_of_sum(e.pt[i], e.phi[i], e.pt[j], e.phi[j], e.pt[k], e.phi[k]);
        const double mt = diffana::invariant_mass(e.pt[i], e.eta[i], e.phi[i], e.m[i],
                                                  e.pt[j], e.eta[j], e.phi[j], e.m[j],
                                                  e.pt[k], e.eta[k], e.phi[k], e.m[k]);
        if (p > best_pt) {
          best_pt = p;
          best_m = mt;
        }
        if (temp > 0.0) {
          const double a = w * std::exp((p - cmax) / temp);
          num += a * mt;
          den += a;
        }
      }
  *valid = best_pt >= 0.0;
  if (!*valid) return 0.0;
  return temp > 0.0 ? num / den : best_m;
}

// The AGC jet weights: s = step(pt > 30) * (|eta| < 2.4), b = step(score > 0.5).
template <class S>
void agc_weights(const std::vector<S>& pt, const std::vector<double>& eta,
                 const std::vector<double>& score, const S& pt_cut, const S& b_cut,
                 double pt_width, double b_width, std::vector<S>& s,
                 std::vector<S>& b) {
  s.clear();
  b.clear();
  for (std::size_t j = 0; j < pt.size(); ++j) {
    s.push_back(agc::soft_step(pt[j], pt_cut, pt_width) *
                (std::fabs(eta[j]) < 2.4 ? 1.0 : 0.0));
    b.push_back(agc::soft_step(score[j], b_cut, b_width));
  }
}

// ---- counts -------------------------------------------------------------------------

DIFFANA_TEST(counts_match_brute_force) {
  Rng rng;
  for (std::size_t n = 0; n <= 8; ++n) {
    std::vector<double> w(n);
    for (auto& x : w)
      x = rng.uniform(0.0, 1.0);
    const auto p = brute_counts(w);
    double tail = 0.0;
    for (int k = static_cast<int>(n) + 1; k >= 0; --k) {
      if (static_cast<std::size_t>(k) <= n) tail += p[static_cast<std::size_t>(k)];
      const double exact = static_cast<std::size_t>(k) <= n ? p[std::size_t(k)] : 0.0;
      CHECK_CLOSE(agc::prob_count_exactly(w, k), exact, 1e-13, 1e-15);
      CHECK_CLOSE(agc::prob_count_at_least(w, k), tail, 1e-13, 1e-15);
    }
    CHECK(agc::prob_count_at_least(w, 0) == 1.0);
    CHECK(agc::prob_count_exactly(w, -1) == 0.0);
  }
  std::vector<double> w(3, 0.5);
  CHECK_THROWS_WITH(agc::prob_count_at_least(w, agc::kMaxCount + 1),
                    std::invalid_argument, "k = 16");
}

DIFFANA_TEST(counts_hard_weights_are_exact_indicators) {
  Rng rng;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> w(7);
    int count = 0;
    for (auto& x : w) {
      x = rng.uniform(0.0, 1.0) < 0.5 ? 0.0 : 1.0;
      count += x == 1.0 ? 1 : 0;
    }
    for (int k = 0; k <= 8; ++k) {
      CHECK(agc::prob_count_at_least(w, k) == (count >= k ? 1.0 : 0.0));
      CHECK(agc::prob_count_exactly(w, k) == (count == k ? 1.0 : 0.0));
    }
  }
}

DIFFANA_TEST(counts_gradients) {
  const std::array<double, 5> x{0.1, 0.7, 0.45, 0.99, 0.3};
  for (int k = 0; k <= 5; ++k) {
    CHECK_GRADIENT(
        "at_least", [k](const auto& w) { return agc::prob_count_at_least(w, k); }, x);
    CHECK_GRADIENT(
        "exactly", [k](const auto& w) { return agc::prob_count_exactly(w, k); }, x);
  }
}

DIFFANA_TEST(counts_nan_propagates) {
  const std::vector<double> w{0.5, kNaN, 0.2};
  CHECK(std::isnan(agc::prob_count_at_least(w, 2)));
  CHECK(std::isnan(agc::prob_count_exactly(w, 0)));
}

// ---- regions ------------------------------------------------------------------------

DIFFANA_TEST(regions_match_brute_force_and_hard_counts) {
  Rng rng;
  for (std::size_t n = 0; n <= 7; ++n) {
    std::vector<double> s(n), b(n);
    for (std::size_t j = 0; j < n; ++j) {
      s[j] = rng.uniform(0.0, 1.0);
      b[j] = rng.uniform(0.0, 1.0);
    }
    // 3^n outcomes: unselected, selected untagged, selected tagged.
    double p1 = 0.0;
    double p2 = 0.0;
    std::size_t states = 1;
    for (std::size_t j = 0; j < n; ++j)
      states *= 3;
    for (std::size_t code = 0; code < states; ++code) {
      std::size_t c = code;
      double pr = 1.0;
      int nj = 0;
      int nb = 0;
      for (std::size_t j = 0; j < n; ++j, c /= 3) {
        const std::size_t st = c % 3;
        pr *= st == 0 ? 1.0 - s[j] : (st == 1 ? s[j] * (1.0 - b[j]) : s[j] * b[j]);
        nj += st != 0 ? 1 : 0;
        nb += st == 2 ? 1 : 0;
      }
      if (nj >= 4 && nb == 1) p1 += pr;
      if (nj >= 4 && nb >= 2) p2 += pr;
    }
    const auto r = agc::region_probabilities(s, b);
    CHECK_CLOSE(r.p_4j1b, p1, 1e-13, 1e-15);
    CHECK_CLOSE(r.p_4j2b, p2, 1e-13, 1e-15);
  }
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<double> s(8), b(8);
    std::vector<char> sel(8), tag(8);
    for (std::size_t j = 0; j < 8; ++j) {
      sel[j] = rng.uniform(0.0, 1.0) < 0.6;
      tag[j] = rng.uniform(0.0, 1.0) < 0.3;
      s[j] = sel[j] ? 1.0 : 0.0;
      b[j] = tag[j] ? 1.0 : 0.0;
    }
    const auto h = agc::hard_counts(8, sel.data(), tag.data());
    const auto r = agc::region_probabilities(s, b);
    CHECK(r.p_4j1b == (h.is_4j1b() ? 1.0 : 0.0));
    CHECK(r.p_4j2b == (h.is_4j2b() ? 1.0 : 0.0));
  }
}

DIFFANA_TEST(regions_gradients) {
  const std::array<double, 8> x{0.9, 0.8, 0.6, 0.95, 0.3, 0.7, 0.2, 0.5};
  for (int which = 0; which < 2; ++which)
    CHECK_GRADIENT(
        "region",
        [which](const auto& v) {
          using S = std::decay_t<decltype(v[0])>;
          std::array<S, 4> s{v[0], v[1], v[2], v[3]};
          std::array<S, 4> b{v[4], v[5], v[6], v[7]};
          const auto r = agc::region_probabilities(s, b);
          return which == 0 ? r.p_4j1b : r.p_4j2b;
        },
        x);
}

// ---- soft steps
// -----------------------------------------------------------------------

DIFFANA_TEST(soft_step_limits) {
  CHECK(agc::soft_step(30.0, 30.0, 0.0) == 0.0); // strict, as the AGC's pt > 30
  CHECK(agc::soft_step(30.001, 30.0, 0.0) == 1.0);
  CHECK(agc::soft_step_below(2.4, 2.4, 0.0) == 0.0);
  CHECK(agc::soft_step(kNaN, 30.0, 0.0) == 0.0);
  CHECK(std::isnan(agc::soft_step(kNaN, 30.0, 1.0)));
  CHECK_CLOSE(agc::soft_step(31.0, 30.0, 1e-3), 1.0, 0.0, 1e-300);
  CHECK_CLOSE(agc::soft_step(29.0, 30.0, 1e-3), 0.0, 0.0, 1e-300);
  CHECK_CLOSE(agc::soft_step(30.0, 30.0, 5.0), 0.5, 1e-15, 0.0);
  using D = Dual<double, 1>;
  const D h = agc::soft_step(D::variable(35.0, 0), 30.0, 0.0);
  CHECK(h.value() == 1.0 && h.tangent(0) == 0.0);
}

DIFFANA_TEST(soft_step_width_is_differentiable) {
  // d/d(x, cut, width) of soft_step and soft_step_below, width a Dual.
  const std::array<double, 3> at{31.5, 30.0, 2.0};
  CHECK_GRADIENT(
      "soft_step", [](const auto& v) { return agc::soft_step(v[0], v[1], v[2]); }, at);
  CHECK_GRADIENT(
      "soft_step_below",
      [](const auto& v) { return agc::soft_step_below(v[0], v[1], v[2]); }, at);
  using D = Dual<double, 1>;
  const D hard = agc::soft_step(35.0, 30.0, D::variable(0.0, 0));
  CHECK(hard.value() == 1.0 && hard.tangent(0) == 0.0);
  CHECK_THROWS_WITH(agc::soft_step(1.0, 0.0, -1.0), std::invalid_argument, "width");
  CHECK_THROWS_WITH(agc::soft_step_below(1.0, 0.0, kNaN), std::invalid_argument,
                    "width");
}

// ---- leading selected objects -----------------------------------------------------

// Brute force: E[x of the i-th selected object] over the 2^n selection patterns.
std::vector<double> brute_first_selected(const std::vector<double>& s,
                                         const std::vector<double>& x, int k) {
  const std::size_t n = s.size();
  std::vector<double> out(static_cast<std::size_t>(k), 0.0);
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    double pr = 1.0;
    for (std::size_t j = 0; j < n; ++j)
      pr *= (mask >> j) & 1u ? s[j] : 1.0 - s[j];
    int rank = 0;
    for (std::size_t j = 0; j < n && rank < k; ++j)
      if ((mask >> j) & 1u) out[static_cast<std::size_t>(rank++)] += pr * x[j];
  }
  return out;
}

DIFFANA_TEST(first_selected_matches_brute_force_and_hard_limit) {
  Rng rng;
  for (std::size_t n : {0u, 1u, 3u, 6u, 9u}) {
    std::vector<double> s, x;
    for (std::size_t j = 0; j < n; ++j) {
      s.push_back(rng.uniform(0.0, 1.0));
      x.push_back(rng.uniform(20.0, 200.0));
    }
    for (int k : {0, 1, 4}) {
      std::vector<double> out(static_cast<std::size_t>(k));
      agc::soft_first_selected(s.data(), x.data(), n, k, out.data());
      const auto ref = brute_first_selected(s, x, k);
      for (int i = 0; i < k; ++i)
        CHECK_CLOSE(out[static_cast<std::size_t>(i)], ref[static_cast<std::size_t>(i)],
                    1e-13, 1e-12);
    }
    // Hard weights: the values of the first selected objects, then zeros.
    std::vector<double> hard(n), expect;
    for (std::size_t j = 0; j < n; ++j) {
      hard[j] = s[j] > 0.5 ? 1.0 : 0.0;
      if (hard[j] == 1.0 && expect.size() < 4) expect.push_back(x[j]);
    }
    expect.resize(4, 0.0);
    std::vector<double> out(4);
    agc::soft_first_selected(hard.data(), x.data(), n, 4, out.data());
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(out[i] == expect[i]);
  }
  double out[1];
  CHECK_THROWS_WITH(agc::soft_first_selected(static_cast<const double*>(nullptr),
                                             static_cast<const double*>(nullptr), 0, -1,
                                             out),
                    std::invalid_argument, "k = -1");
}

DIFFANA_TEST(first_selected_gradients) {
  // Through s and x: six objects, the third leading value.
  const std::array<double, 12> at{0.9,   0.2,  0.6,  0.75, 0.1,  0.5,
                                  120.0, 80.0, 66.0, 50.0, 41.0, 33.0};
  for (int i = 0; i < 4; ++i)
    CHECK_GRADIENT(
        "soft_first_selected",
        [i](const auto& v) {
          using S = std::decay_t<decltype(v[0])>;
          S out[4];
          agc::soft_first_selected(v.data(), v.data() + 6, 6, 4, out);
          return out[i];
        },
        at);
}

// ---- JER smearing
// ---------------------------------------------------------------------

DIFFANA_TEST(jer_factor_is_reproducible_and_normal) {
  // Known values (the Python twin in benchmarks/agc_reference.py gives the same).
  CHECK(agc::jer_factor(0, 0) == agc::jer_factor(0, 0));
  CHECK(agc::jer_factor(7, 3) != agc::jer_factor(7, 4));
  CHECK(agc::jer_factor(7, 3) != agc::jer_factor(8, 3));
  CHECK(agc::jer_factor(7, 3, 0.05, 1) != agc::jer_factor(7, 3, 0.05, 0));
  CHECK(agc::jer_factor(7, 3, 0.0) == 1.0);
  // Moments over 2e5 jets: mean 1, standard deviation sigma, |z| < 8.7.
  double sum = 0.0, sum2 = 0.0, zmax = 0.0;
  const int n = 200000;
  for (int e = 0; e < n / 10; ++e)
    for (std::size_t j = 0; j < 10; ++j) {
      const double z = (agc::jer_factor(static_cast<std::uint64_t>(e), j) - 1.0) / 0.05;
      sum += z;
      sum2 += z * z;
      zmax = std::max(zmax, std::fabs(z));
    }
  const double mean = sum / n;
  CHECK(std::fabs(mean) < 5.0 / std::sqrt(double(n)));
  CHECK(std::fabs(sum2 / n - mean * mean - 1.0) < 0.02);
  CHECK(zmax < 8.7 && zmax > 3.5);
}

// ---- trijet -------------------------------------------------------------------------

DIFFANA_TEST(trijet_soft_matches_reference) {
  Rng rng;
  for (int trial = 0; trial < 30; ++trial) {
    const auto e = random_event(rng, 3 + static_cast<std::size_t>(trial % 8));
    std::vector<double> s, b;
    agc_weights(e.pt, e.eta, e.score, 30.0, 0.5, 5.0, 0.05, s, b);
    for (double temp : {0.0, 1.0, 10.0, 100.0}) {
      bool valid = false;
      const double ref = reference_trijet(e, s, b, temp, &valid);
      agc::TrijetOptions opt;
      opt.temperature = temp;
      const auto r = agc::soft_trijet_mass(e.pt, e.eta, e.phi, e.m, s, b, opt);
      CHECK(r.valid == valid);
      CHECK_CLOSE(r.mass, ref, 1e-11, 1e-9);
      CHECK(r.dropped_fraction_bound == 0.0);
    }
  }
}

DIFFANA_TEST(trijet_hard_mode_is_the_agc_selection) {
  Rng rng;
  int valid_events = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const auto e = random_event(rng, static_cast<std::size_t>(trial % 10));
    std::vector<char> sel, tag;
    std::vector<double> s, b;
    for (std::size_t j = 0; j < e.pt.size(); ++j) {
      sel.push_back(e.pt[j] > 30.0 && std::fabs(e.eta[j]) < 2.4);
      tag.push_back(e.score[j] > 0.5);
      s.push_back(sel.back() ? 1.0 : 0.0);
      b.push_back(tag.back() ? 1.0 : 0.0);
    }
    bool valid = false;
    const double ref = reference_trijet(e, s, b, 0.0, &valid);
    const auto h =
        agc::hard_trijet_mass(e.pt.size(), e.pt.data(), e.eta.data(), e.phi.data(),
                              e.m.data(), sel.data(), tag.data());
    CHECK(h.valid == valid);
    CHECK_CLOSE(h.mass, ref, 1e-12, 1e-9);
    valid_events += valid ? 1 : 0;
    // The relaxed version with every scale 0 is exactly the hard one.
    std::vector<double> s0, b0;
    agc_weights(e.pt, e.eta, e.score, 30.0, 0.5, 0.0, 0.0, s0, b0);
    agc::TrijetOptions opt;
    opt.temperature = 0.0;
    const auto z = agc::soft_trijet_mass(e.pt, e.eta, e.phi, e.m, s0, b0, opt);
    CHECK(z.valid == h.valid);
    CHECK(z.mass == h.mass);
    // Small scales approach it: T = 1e-3 GeV, pt width 1e-4 GeV, score width 1e-6.
    std::vector<double> s1, b1;
    agc_weights(e.pt, e.eta, e.score, 30.0, 0.5, 1e-4, 1e-6, s1, b1);
    opt.temperature = 1e-3;
    const auto l = agc::soft_trijet_mass(e.pt, e.eta, e.phi, e.m, s1, b1, opt);
    if (h.valid) CHECK_CLOSE(l.mass, h.mass, 1e-9, 1e-9);
    // Region probabilities with zero widths are the hard regions.
    const auto hc = agc::hard_counts(sel.size(), sel.data(), tag.data());
    const auto rp = agc::region_probabilities(s0, b0);
    CHECK(rp.p_4j1b == (hc.is_4j1b() ? 1.0 : 0.0));
    CHECK(rp.p_4j2b == (hc.is_4j2b() ? 1.0 : 0.0));
  }
  CHECK(valid_events > 50);
}

DIFFANA_TEST(trijet_gradients) {
  // Parameters: jet-energy scale, pt cut, b-tag cut; 7 jets.
  Rng rng;
  for (int trial = 0; trial < 5; ++trial) {
    const auto e = random_event(rng, 7);
    for (double temp : {3.0, 10.0}) {
      const auto f = [&e, temp](const auto& x) {
        using S = std::decay_t<decltype(x[0])>;
        std::vector<S> pt;
        for (double p : e.pt)
          pt.push_back(x[0] * p);
        std::vector<S> s, b;
        agc_weights(pt, e.eta, e.score, x[1], x[2], 5.0, 0.05, s, b);
        agc::TrijetOptions opt;
        opt.temperature = temp;
        return agc::soft_trijet_mass(pt, e.eta, e.phi, e.m, s, b, opt).mass;
      };
      CHECK_GRADIENT("trijet", f, std::array<double, 3>{1.02, 30.0, 0.5}, {}, 1e-6, 1.0,
                     1e-12 * 1000.0);
    }
  }
}

DIFFANA_TEST(trijet_gradients_through_every_input) {
  // d/d (pt, eta, phi, m, s, b) of jet 1 of a 5-jet event.
  Rng rng;
  const auto e = random_event(rng, 5);
  const std::vector<double> s0{0.9, 0.8, 0.7, 0.95, 0.6};
  const std::vector<double> b0{0.2, 0.6, 0.1, 0.3, 0.05};
  const auto f = [&](const auto& x) {
    using S = std::decay_t<decltype(x[0])>;
    std::vector<S> pt(e.pt.begin(), e.pt.end()), eta(e.eta.begin(), e.eta.end()),
        phi(e.phi.begin(), e.phi.end()), m(e.m.begin(), e.m.end()),
        s(s0.begin(), s0.end()), b(b0.begin(), b0.end());
    pt[1] = x[0];
    eta[1] = x[1];
    phi[1] = x[2];
    m[1] = x[3];
    s[1] = x[4];
    b[1] = x[5];
    return agc::soft_trijet_mass(pt, eta, phi, m, s, b).mass;
  };
  CHECK_GRADIENT(
      "trijet inputs", f,
      std::array<double, 6>{e.pt[1], e.eta[1], e.phi[1], e.m[1], s0[1], b0[1]}, {},
      1e-6, 1.0, 1e-9);
}

DIFFANA_TEST(trijet_pruning_error_is_bounded) {
  Rng rng;
  using D = Dual<double, 3>;
  std::size_t jets_pruned = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const auto e = random_event(rng, 6 + static_cast<std::size_t>(trial % 9));
    std::vector<D> pt;
    for (double p : e.pt)
      pt.push_back(D::variable(1.0, 0) * p);
    // Odd trials: a sharp pt step (1 GeV), so that jets below 30 GeV are pruned.
    const double width = trial % 2 ? 1.0 : 5.0;
    std::vector<D> s, b;
    agc_weights(pt, e.eta, e.score, D::variable(30.0, 1), D::variable(0.5, 2), width,
                0.05, s, b);
    agc::TrijetOptions opt;
    opt.temperature = 10.0;
    const auto full = agc::soft_trijet_mass(pt, e.eta, e.phi, e.m, s, b, opt);
    for (double eps : {1e-2, 1e-4, 1e-8}) {
      opt.epsilon = eps;
      const auto p = agc::soft_trijet_mass(pt, e.eta, e.phi, e.m, s, b, opt);
      if (!p.valid) { // every jet with a b tag pruned: reported as unbounded
        CHECK(std::isinf(p.mass_error_bound) || !full.valid);
        continue;
      }
      CHECK(full.valid);
      jets_pruned += full.jets_used - p.jets_used;
      const double err = std::fabs(p.mass.value() - full.mass.value());
      CHECK(err <= p.mass_error_bound * (1.0 + 1e-12) + 1e-9);
      CHECK(p.dropped_fraction_bound >= 0.0);
      // Derivatives, empirically: within 1e3 * delta * M per unit parameter scale.
      for (int k = 0; k < 3; ++k) {
        const double scale = k == 0 ? 1.0 : (k == 1 ? 30.0 : 0.5);
        const double derr = std::fabs(p.mass.tangent(k) - full.mass.tangent(k)) * scale;
        CHECK(derr <= 1e3 * p.mass_error_bound + 1e-7);
      }
      if (eps == 1e-8) CHECK(err <= 1e-4);
    }
  }
  CHECK(jets_pruned > 0);
}

DIFFANA_TEST(trijet_edge_cases) {
  const std::vector<double> pt{50, 60, 70, 80}, eta{0.1, -0.5, 1.0, 2.0},
      phi{0.0, 2.0, -2.0, 1.0}, m{5, 6, 7, 8};
  const std::vector<double> one(4, 1.0), zero(4, 0.0);
  using D = Dual<double, 2>;
  // Fewer than 3 jets.
  for (std::size_t n = 0; n < 3; ++n) {
    const auto r = agc::soft_trijet_mass(n, pt.data(), eta.data(), phi.data(), m.data(),
                                         one.data(), one.data());
    CHECK(!r.valid && r.mass == 0.0);
  }
  // Only 2 selected jets.
  const std::vector<double> two{1, 0, 1, 0};
  CHECK(!agc::soft_trijet_mass(pt, eta, phi, m, two, one).valid);
  // No b tag at all: weight 0, mass 0 with zero tangents.
  {
    std::vector<D> bd(4, D(0.0));
    const auto r = agc::soft_trijet_mass(pt, eta, phi, m, one, bd);
    CHECK(!r.valid && r.mass.value() == 0.0 && r.mass.tangent(0) == 0.0);
    const std::vector<char> sel(4, 1), tag(4, 0);
    const auto h = agc::hard_trijet_mass(4, pt.data(), eta.data(), phi.data(), m.data(),
                                         sel.data(), tag.data());
    CHECK(!h.valid && h.mass == 0.0);
  }
  // NaN in a used jet: NaN mass, not valid; in an unselected jet (s = 0): ignored.
  for (int which = 0; which < 6; ++which) {
    std::vector<std::vector<double>> cols{pt, eta, phi, m, one, one};
    cols[std::size_t(which)][2] = kNaN;
    const auto r =
        agc::soft_trijet_mass(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
    CHECK(!r.valid && std::isnan(r.mass));
    if (which < 4 || which == 5) {
      std::vector<double> s = one;
      s[2] = 0.0;
      const auto q =
          agc::soft_trijet_mass(cols[0], cols[1], cols[2], cols[3], s, cols[5]);
      CHECK(q.valid && std::isfinite(q.mass));
    }
  }
  // Infinite pt: as NaN.
  {
    std::vector<double> p = pt;
    p[0] = std::numeric_limits<double>::infinity();
    CHECK(std::isnan(agc::soft_trijet_mass(p, eta, phi, m, one, one).mass));
  }
  // Bad options.
  agc::TrijetOptions bad;
  bad.temperature = -1.0;
  CHECK_THROWS_WITH(agc::soft_trijet_mass(pt, eta, phi, m, one, one, bad),
                    std::invalid_argument, "temperature");
  bad.temperature = 10.0;
  bad.epsilon = 1.0;
  CHECK_THROWS_WITH(agc::soft_trijet_mass(pt, eta, phi, m, one, one, bad),
                    std::invalid_argument, "epsilon");
  const std::vector<double> short_eta{0.1};
  CHECK_THROWS_WITH(agc::soft_trijet_mass(pt, short_eta, phi, m, one, one),
                    std::invalid_argument, "size");
  // Exactly three jets, one b tag: the trijet of all three.
  const std::vector<double> tag1{0, 0, 1};
  const auto r3 = agc::soft_trijet_mass(3, pt.data(), eta.data(), phi.data(), m.data(),
                                        one.data(), tag1.data());
  CHECK(r3.valid);
  CHECK_CLOSE(r3.mass,
              diffana::invariant_mass(pt[0], eta[0], phi[0], m[0], pt[1], eta[1],
                                      phi[1], m[1], pt[2], eta[2], phi[2], m[2]),
              1e-12, 0.0);
  (void)zero;
}

} // namespace

int main() {
  return diffana::test::run_all();
}
