// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of the extern "C" Lorentz kernels (src/kernels/physics_<op>.cpp): status
/// codes, known values and partials, the output layout (value[n*O],
/// partials[(i*O + j)*K + k]), the value alone with partials NULL, and agreement with
/// the header functions of diffana/physics/lorentz.hpp evaluated on Dual numbers.
#include "diffana/ad/dual.hpp"
#include "diffana/kernels.h"
#include "diffana/physics/lorentz.hpp"

#include "check.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

using diffana::Dual;

constexpr double kPi = 3.14159265358979323846;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// n random values in [lo, hi).
std::vector<double> uniform(std::mt19937_64& gen, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v)
    x = d(gen);
  return v;
}

DIFFANA_TEST(statuses_of_every_kernel) {
  const double x[1] = {1.0};
  double value[4] = {};
  double partials[48] = {};
  // n < 0, then NULL inputs or value with n > 0: DIFFANA_ERR_ARGUMENT
  CHECK(diffana_physics_invariant_mass_f64(x, x, x, x, x, x, x, x, -1, value,
                                           partials) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_invariant_mass_f64(x, x, x, x, x, x, x, nullptr, 1, value,
                                           partials) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_invariant_mass3_f64(x, x, x, x, x, x, x, x, x, x, x, x, 1,
                                            nullptr, partials) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_invariant_mass3_f64(nullptr, x, x, x, x, x, x, x, x, x, x, x, 1,
                                            value, partials) == DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_pt_of_sum_f64(x, x, nullptr, x, 1, value, partials) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_pt_of_sum3_f64(x, x, x, x, x, x, -5, value, partials) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_delta_phi_f64(x, nullptr, 1, value, partials) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_delta_r_f64(x, x, x, x, 1, nullptr, nullptr) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_to_cartesian_f64(x, x, x, nullptr, 1, value, partials) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(diffana_physics_from_cartesian_f64(x, x, x, x, -1, value, partials) ==
        DIFFANA_ERR_ARGUMENT);
  // n = 0: nothing to do, any pointers
  CHECK(diffana_physics_invariant_mass_f64(nullptr, nullptr, nullptr, nullptr, nullptr,
                                           nullptr, nullptr, nullptr, 0, nullptr,
                                           nullptr) == DIFFANA_OK);
  CHECK(diffana_physics_from_cartesian_f64(nullptr, nullptr, nullptr, nullptr, 0,
                                           nullptr, nullptr) == DIFFANA_OK);
  // no input value is an error: NaN and infinities give DIFFANA_OK
  const double odd[1] = {kNaN};
  const double inf[1] = {kInf};
  CHECK(diffana_physics_delta_phi_f64(odd, inf, 1, value, partials) == DIFFANA_OK);
  CHECK(std::isnan(value[0]));
  CHECK(diffana_physics_to_cartesian_f64(x, inf, x, x, 1, value, partials) ==
        DIFFANA_OK);
  // a failed call writes nothing
  value[0] = 7.0;
  CHECK(diffana_physics_delta_r_f64(x, x, x, nullptr, 1, value, partials) ==
        DIFFANA_ERR_ARGUMENT);
  CHECK(value[0] == 7.0);
  CHECK(diffana_status_message(DIFFANA_ERR_ARGUMENT) != nullptr);
}

DIFFANA_TEST(invariant_mass_values_and_partials) {
  // massless back to back (M = 2 sqrt(pt1 pt2), dM/dpt1 = sqrt(pt2 / pt1)),
  // massless collinear (M = 0, zero partials)
  const double pt1[2] = {40.0, 30.0}, eta1[2] = {0.0, 1.0}, phi1[2] = {0.0, 0.5},
               m1[2] = {0.0, 0.0};
  const double pt2[2] = {90.0, 60.0}, eta2[2] = {0.0, 1.0}, phi2[2] = {kPi, 0.5},
               m2[2] = {0.0, 0.0};
  double value[2] = {};
  double partials[16] = {};
  CHECK(diffana_physics_invariant_mass_f64(pt1, eta1, phi1, m1, pt2, eta2, phi2, m2, 2,
                                           value, partials) == DIFFANA_OK);
  CHECK_CLOSE(value[0], 120.0, 1e-14, 0.0);
  CHECK_CLOSE(partials[0], 1.5, 1e-13, 0.0); // d/dpt1 = sqrt(90 / 40)
  CHECK_CLOSE(partials[4], 1.0 / 1.5, 1e-13, 0.0);
  CHECK(partials[3] == 0.0 && partials[7] == 0.0); // massless: d/dm = 0
  CHECK(value[1] == 0.0);
  for (int k = 0; k < 8; ++k)
    CHECK(partials[8 + k] == 0.0);
}

DIFFANA_TEST(invariant_mass3_of_a_symmetric_star) {
  const double third = 2.0 * kPi / 3.0;
  const double pt[1] = {10.0}, zero[1] = {0.0}, pa[1] = {third}, pb[1] = {-third};
  double value[1] = {};
  double partials[12] = {};
  CHECK(diffana_physics_invariant_mass3_f64(pt, zero, zero, zero, pt, zero, pa, zero,
                                            pt, zero, pb, zero, 1, value,
                                            partials) == DIFFANA_OK);
  CHECK_CLOSE(value[0], 30.0, 1e-14, 0.0);
  // scaling every pt by s scales M by s: sum_a pt_a dM/dpt_a = M
  CHECK_CLOSE(10.0 * (partials[0] + partials[4] + partials[8]), 30.0, 1e-13, 0.0);
}

DIFFANA_TEST(pt_of_sum_and_delta_r_values) {
  const double pt1[1] = {3.0}, phi1[1] = {0.0}, pt2[1] = {4.0}, phi2[1] = {kPi / 2};
  double value[1] = {};
  double partials[6] = {};
  CHECK(diffana_physics_pt_of_sum_f64(pt1, phi1, pt2, phi2, 1, value, partials) ==
        DIFFANA_OK);
  CHECK_CLOSE(value[0], 5.0, 1e-15, 0.0);
  CHECK_CLOSE(partials[0], 0.6, 1e-15, 1e-16); // d/dpt1 = cos(angle to the sum)
  CHECK_CLOSE(partials[1], 2.4, 1e-15, 1e-16); // d/dphi1 = pt1 (Py c - Px s) / pT
  CHECK_CLOSE(partials[3], -2.4, 1e-15, 1e-16);
  const double zero[1] = {0.0};
  CHECK(diffana_physics_pt_of_sum3_f64(zero, phi1, zero, phi2, zero, phi1, 1, value,
                                       partials) == DIFFANA_OK);
  CHECK(value[0] == 0.0);
  for (int k = 0; k < 6; ++k)
    CHECK(partials[k] == 0.0);

  const double eta1[2] = {0.3, 1.0}, ph1[2] = {3.1, 2.0}, eta2[2] = {0.0, 1.0},
               ph2[2] = {-3.1, 2.0};
  double dr[2] = {};
  double d_dr[8] = {};
  CHECK(diffana_physics_delta_r_f64(eta1, ph1, eta2, ph2, 2, dr, d_dr) == DIFFANA_OK);
  const double dphi = 6.2 - 2.0 * kPi; // wrapped across the boundary
  CHECK_CLOSE(dr[0], std::hypot(0.3, dphi), 1e-13, 0.0);
  CHECK_CLOSE(d_dr[1], dphi / dr[0], 1e-12, 0.0);
  CHECK_CLOSE(d_dr[3], -dphi / dr[0], 1e-12, 0.0);
  CHECK(dr[1] == 0.0); // coinciding directions: 0 with zero partials
  for (int k = 4; k < 8; ++k)
    CHECK(d_dr[k] == 0.0);
}

DIFFANA_TEST(delta_phi_wraps_into_half_open_interval) {
  const double phi1[5] = {3.0, kPi, 0.0, 10.0 * kPi + 0.1, 0.5};
  const double phi2[5] = {-3.0, 0.0, kPi, 0.0, 0.2};
  double value[5] = {};
  double partials[10] = {};
  CHECK(diffana_physics_delta_phi_f64(phi1, phi2, 5, value, partials) == DIFFANA_OK);
  CHECK_CLOSE(value[0], 6.0 - 2.0 * kPi, 1e-14, 0.0);
  CHECK(value[1] == -kPi); // [-pi, pi)
  CHECK(value[2] == -kPi);
  CHECK_CLOSE(value[3], 0.1, 1e-12, 0.0);
  CHECK(value[4] == 0.5 - 0.2); // in range: the plain difference
  for (int i = 0; i < 5; ++i) {
    CHECK(value[i] >= -kPi && value[i] < kPi);
    CHECK(partials[2 * i] == 1.0 && partials[2 * i + 1] == -1.0);
  }
}

DIFFANA_TEST(basis_changes_layout_and_round_trip) {
  // (pt, eta, phi, m) = (3, 0, 0, 4): (px, py, pz, E) = (3, 0, 0, 5) and back
  const double pt[2] = {3.0, 0.0}, eta[2] = {0.0, 0.7}, phi[2] = {0.0, 1.0},
               m[2] = {4.0, 0.0};
  double cart[8] = {};
  double d_cart[32] = {};
  CHECK(diffana_physics_to_cartesian_f64(pt, eta, phi, m, 2, cart, d_cart) ==
        DIFFANA_OK);
  CHECK_CLOSE(cart[0], 3.0, 1e-15, 0.0);
  CHECK_CLOSE(cart[3], 5.0, 1e-15, 0.0);
  // partials[(i*4 + j)*4 + k]: row j = E of element 0 is (pt/E, 0, 0, m/E)
  CHECK_CLOSE(d_cart[12], 0.6, 1e-15, 0.0);
  CHECK_CLOSE(d_cart[15], 0.8, 1e-15, 0.0);
  CHECK_CLOSE(d_cart[2 * 4 + 1], 3.0, 1e-15, 0.0); // d pz / d eta = pt cosh(eta)
  // element 1 is a null vector: E = 0 with zero partials
  CHECK(cart[7] == 0.0);
  for (int k = 0; k < 4; ++k)
    CHECK(d_cart[(1 * 4 + 3) * 4 + k] == 0.0);

  const double px[3] = {cart[0], 0.0, 3.0}, py[3] = {cart[1], 0.0, 4.0},
               pz[3] = {cart[2], -5.0, 0.0}, e[3] = {cart[3], 13.0, 5.0};
  double back[12] = {};
  double d_back[48] = {};
  CHECK(diffana_physics_from_cartesian_f64(px, py, pz, e, 3, back, d_back) ==
        DIFFANA_OK);
  CHECK_CLOSE(back[0], 3.0, 1e-15, 0.0);
  CHECK_CLOSE(back[3], 4.0, 1e-14, 0.0);
  CHECK_CLOSE(d_back[3 * 4 + 3], 5.0 / 4.0, 1e-14, 0.0); // dm/dE = E / m
  // along the beam: pt = 0, eta = -inf, zero partials of pt, eta, phi; m = 12
  CHECK(back[4] == 0.0 && back[5] == -kInf);
  CHECK_CLOSE(back[7], 12.0, 1e-15, 0.0);
  for (int k = 0; k < 12; ++k)
    CHECK(d_back[16 + k] == 0.0);
  // massless (E = |p|): m = 0 with zero partials
  CHECK(back[11] == 0.0);
  for (int k = 0; k < 4; ++k)
    CHECK(d_back[(2 * 4 + 3) * 4 + k] == 0.0);
}

DIFFANA_TEST(partials_null_gives_the_same_values) {
  std::mt19937_64 gen(7);
  const std::size_t n = 64;
  const auto pt1 = uniform(gen, n, 20, 300), eta1 = uniform(gen, n, -2.5, 2.5),
             phi1 = uniform(gen, n, -kPi, kPi), m1 = uniform(gen, n, 0, 30);
  const auto pt2 = uniform(gen, n, 20, 300), eta2 = uniform(gen, n, -2.5, 2.5),
             phi2 = uniform(gen, n, -kPi, kPi), m2 = uniform(gen, n, 0, 30);
  const auto ni = static_cast<std::int64_t>(n);
  std::vector<double> with(n), without(n), partials(n * 8);
  CHECK(diffana_physics_invariant_mass_f64(
            pt1.data(), eta1.data(), phi1.data(), m1.data(), pt2.data(), eta2.data(),
            phi2.data(), m2.data(), ni, with.data(), partials.data()) == DIFFANA_OK);
  CHECK(diffana_physics_invariant_mass_f64(
            pt1.data(), eta1.data(), phi1.data(), m1.data(), pt2.data(), eta2.data(),
            phi2.data(), m2.data(), ni, without.data(), nullptr) == DIFFANA_OK);
  std::vector<double> cart(4 * n), cart_plain(4 * n), d_cart(16 * n);
  CHECK(diffana_physics_to_cartesian_f64(pt1.data(), eta1.data(), phi1.data(),
                                         m1.data(), ni, cart.data(),
                                         d_cart.data()) == DIFFANA_OK);
  CHECK(diffana_physics_to_cartesian_f64(pt1.data(), eta1.data(), phi1.data(),
                                         m1.data(), ni, cart_plain.data(),
                                         nullptr) == DIFFANA_OK);
  for (std::size_t i = 0; i < n; ++i) {
    CHECK_CLOSE(with[i], without[i], 1e-15, 0.0);
    for (std::size_t j = 0; j < 4; ++j)
      CHECK_CLOSE(cart[4 * i + j], cart_plain[4 * i + j], 1e-15, 0.0);
  }
}

DIFFANA_TEST(kernels_agree_with_the_header_on_duals) {
  // The argument order of every kernel: input k is tangent direction k.
  std::mt19937_64 gen(11);
  const std::size_t n = 32;
  std::array<std::vector<double>, 12> in;
  for (std::size_t k = 0; k < 12; ++k) {
    const double lo[4] = {20.0, -2.5, -kPi, 0.0};
    const double hi[4] = {300.0, 2.5, kPi, 30.0};
    in[k] = uniform(gen, n, lo[k % 4], hi[k % 4]);
  }
  const auto ni = static_cast<std::int64_t>(n);
  std::vector<double> value(n), partials(12 * n);
  CHECK(diffana_physics_invariant_mass3_f64(
            in[0].data(), in[1].data(), in[2].data(), in[3].data(), in[4].data(),
            in[5].data(), in[6].data(), in[7].data(), in[8].data(), in[9].data(),
            in[10].data(), in[11].data(), ni, value.data(),
            partials.data()) == DIFFANA_OK);
  std::vector<double> dr(n), d_dr(4 * n);
  CHECK(diffana_physics_delta_r_f64(in[1].data(), in[2].data(), in[5].data(),
                                    in[6].data(), ni, dr.data(),
                                    d_dr.data()) == DIFFANA_OK);
  std::vector<double> back(4 * n), d_back(16 * n);
  CHECK(diffana_physics_from_cartesian_f64(in[0].data(), in[1].data(), in[2].data(),
                                           in[4].data(), ni, back.data(),
                                           d_back.data()) == DIFFANA_OK);
  using D12 = Dual<double, 12>;
  using D4 = Dual<double, 4>;
  for (std::size_t i = 0; i < n; ++i) {
    std::array<D12, 12> x;
    for (int k = 0; k < 12; ++k)
      x[static_cast<std::size_t>(k)] =
          D12::variable(in[static_cast<std::size_t>(k)][i], k);
    const D12 m = diffana::invariant_mass(x[0], x[1], x[2], x[3], x[4], x[5], x[6],
                                          x[7], x[8], x[9], x[10], x[11]);
    CHECK(value[i] == m.value());
    for (int k = 0; k < 12; ++k)
      CHECK(partials[12 * i + static_cast<std::size_t>(k)] == m.tangent(k));

    const D4 r = diffana::delta_r(D4::variable(in[1][i], 0), D4::variable(in[2][i], 1),
                                  D4::variable(in[5][i], 2), D4::variable(in[6][i], 3));
    CHECK(dr[i] == r.value());
    for (int k = 0; k < 4; ++k)
      CHECK(d_dr[4 * i + static_cast<std::size_t>(k)] == r.tangent(k));

    const diffana::PxPyPzE<D4> v{D4::variable(in[0][i], 0), D4::variable(in[1][i], 1),
                                 D4::variable(in[2][i], 2), D4::variable(in[4][i], 3)};
    const auto c = diffana::to_pt_eta_phi_m(v);
    const D4 outs[4] = {c.pt, c.eta, c.phi, c.m};
    for (std::size_t j = 0; j < 4; ++j) {
      CHECK(back[4 * i + j] == outs[j].value());
      for (int k = 0; k < 4; ++k)
        CHECK(d_back[(4 * i + j) * 4 + static_cast<std::size_t>(k)] ==
              outs[j].tangent(k));
    }
  }
}

} // namespace

int main() {
  return diffana::test::run_all();
}
