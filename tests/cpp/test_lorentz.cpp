// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of the Lorentz-vector helpers (include/diffana/physics/lorentz.hpp): values
/// against ROOT::Math::PtEtaPhiMVector on real CMS muon pairs and ttbar jets and
/// against hand-computed numbers, every helper's derivative w.r.t. every argument
/// against central finite differences (Dual<double, K> with K the number of inputs),
/// mixed plain/Dual arguments, float instantiation, massless, collinear and
/// back-to-back edge cases.
#include "diffana/physics/lorentz.hpp"

#include "check.hpp"
#include "gradient_check.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

namespace {

using diffana::Dual;
using diffana::PtEtaPhiM;
using diffana::PxPyPzE;
using D1 = Dual<double, 1>;
using D4 = Dual<double, 4>;

constexpr double kPi = 3.141592653589793;
constexpr double kInf = HUGE_VAL;

template <class T, int N> bool all_tangents_zero(const Dual<T, N>& x) {
  for (int i = 0; i < N; ++i)
    if (x.tangent(i) != T(0)) return false;
  return true;
}

/// A physical object (pt, eta, phi, m): pt in [1, 500] GeV, |eta| < 4, phi in
/// [-pi, pi), and m = 0 (a quarter of the time), a muon mass, or up to 100 GeV.
std::array<double, 4> random_object(std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double pt = 1.0 + 499.0 * u(rng);
  const double eta = -4.0 + 8.0 * u(rng);
  const double phi = -kPi + 2.0 * kPi * u(rng);
  const double c = u(rng);
  const double m = c < 0.25 ? 0.0 : (c < 0.5 ? 0.10565836727619171 : 100.0 * u(rng));
  return {pt, eta, phi, m};
}

// Reference values from ROOT 6.40's ROOT::Math::PtEtaPhiMVector (sum, M(), Pt(),
// Eta(), Phi()) and ROOT::Math::VectorUtil::DeltaR / DeltaPhi, on the first
// opposite-charge muon pairs of
// agc_open-data-example_Run2012BC_DoubleMuParked_Muons_100k.root (events 1, 6, 7, 8,
// 9; CMS Open Data, CC0) and on the three leading jets of events 0 and 1 of
// coffea_nano_tt_v12.root, all read with uproot:
//   v1 = ROOT.Math.PtEtaPhiMVector(pt1, eta1, phi1, m1); ...; s = v1 + v2
//   print(s.M(), s.Pt(), s.Eta(), s.Phi(), VectorUtil.DeltaR(v1, v2),
//         VectorUtil.DeltaPhi(v1, v2))
// ROOT's DeltaPhi(v1, v2) is phi2 - phi1; diffana's delta_phi(phi1, phi2) is
// phi1 - phi2.
struct DimuonReference {
  std::array<double, 4> mu1;
  std::array<double, 4> mu2;
  double mass;
  double pt;
  double eta;
  double phi;
  double delta_r;
  double root_delta_phi;
};

constexpr double kMuMass = 0.10565836727619171;
const DimuonReference kDimuons[] = {
    {{10.538490295410156, -0.42778006196022034, -0.2747921049594879, kMuMass},
     {16.327096939086914, 0.34922507405281067, 2.539781332015991, kMuMass},
     27.915489438238456,
     7.1934170685564629,
     0.16214891419990501,
     2.0498155370601139,
     2.9198562659005303,
     2.8145734369754791},
    {{57.6067008972168, -0.5320892930030823, -0.07179804146289825, kMuMass},
     {53.04507827758789, -1.0041686296463013, 3.089515209197998, kMuMass},
     113.64685563213845,
     4.6900693280956718,
     -3.7000729209901477,
     -0.29671678562823123,
     3.157363462979474,
     -3.1218720565186899},
    {{11.31967544555664, -0.7716585397720337, -2.2452728748321533, kMuMass},
     {23.906352996826172, -0.700996994972229, -2.1809616088867188, kMuMass},
     1.587766097105008,
     35.210143853346715,
     -0.72432479362079338,
     -2.2016241974150565,
     0.095545763071939599,
     0.06431126594543457},
    {{10.19356918334961, 0.4418068528175354, 0.6778520345687866, kMuMass},
     {14.204060554504395, 0.7021172642707825, -2.0344009399414062, kMuMass},
     23.723239249480443,
     6.5089244737339476,
     1.6001123699226703,
     -1.324290446884463,
     2.7247160784291542,
     -2.7122529745101929},
    {{11.470704078674316, 2.3417420387268066, 3.1309704780578613, kMuMass},
     {3.4690065383911133, 2.3523731231689453, 3.0211737155914307, kMuMass},
     0.73891147189899598,
     14.92366342507443,
     2.3452756221187192,
     3.1054967074755577,
     0.110310239799058,
     -0.10979676246643066},
};

/// Invariant mass of two (pt, eta, phi, m) objects in long double through the
/// Cartesian sum: E^2 - p^2 loses eps_ld (E / M)^2 relative, < 1e-15 here.
double mass_long_double(const std::array<double, 4>& a,
                        const std::array<double, 4>& b) {
  long double px = 0, py = 0, pz = 0, e = 0;
  for (const auto* o : {&a, &b}) {
    const long double pt = (*o)[0];
    const long double eta = (*o)[1];
    const long double phi = (*o)[2];
    const long double m = (*o)[3];
    px += pt * std::cos(phi);
    py += pt * std::sin(phi);
    pz += pt * std::sinh(eta);
    e += std::sqrt(pt * pt * std::cosh(eta) * std::cosh(eta) + m * m);
  }
  const long double p = std::sqrt(px * px + py * py + pz * pz);
  return static_cast<double>(std::sqrt((e - p) * (e + p)));
}

struct TrijetReference {
  std::array<std::array<double, 4>, 3> jets;
  double mass;
  double pt;
};

const TrijetReference kTrijets[] = {
    {{{{101.125, -2.8203125, -1.259033203125, 10.078125},
       {80.0, 0.82763671875, 2.49609375, 15.578125},
       {63.5625, 0.7496337890625, 0.7764892578125, 9.5078125}}},
     757.34576218777579,
     12.962837000054623},
    {{{{109.0625, -0.62841796875, -2.12890625, 13.2578125},
       {97.4375, -2.09326171875, 1.632080078125, 11.4921875},
       {67.0625, -2.3330078125, 0.6544189453125, 13.703125}}},
     359.27057554691913,
     46.760562845950545},
};

} // namespace

// ---- reference values ---------------------------------------------------------------

DIFFANA_TEST(dimuon_pairs_match_root) {
  for (const auto& ref : kDimuons) {
    const auto& a = ref.mu1;
    const auto& b = ref.mu2;
    const double m =
        diffana::invariant_mass(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
    const auto s = diffana::to_cartesian(a[0], a[1], a[2], a[3]) +
                   diffana::to_cartesian(b[0], b[1], b[2], b[3]);
    // ROOT forms E^2 - p^2 in double: its mass is good to about eps (E / M)^2.
    const double root_tol =
        1e-13 + 16 * DBL_EPSILON * (s.e / ref.mass) * (s.e / ref.mass);
    CHECK_CLOSE(m, ref.mass, root_tol, 0);
    CHECK_CLOSE(m, mass_long_double(a, b), 1e-14, 0);
    CHECK_CLOSE(diffana::mass(s), ref.mass, root_tol, 0);
    CHECK_CLOSE(diffana::pt(s), ref.pt, 1e-13, 0);
    CHECK_CLOSE(diffana::eta(s), ref.eta, 1e-13, 0);
    CHECK_CLOSE(diffana::phi(s), ref.phi, 1e-13, 0);
    CHECK_CLOSE(diffana::pt_of_sum(a[0], a[2], b[0], b[2]), ref.pt, 1e-13, 0);
    CHECK_CLOSE(diffana::pt_of_sum(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]),
                ref.pt, 1e-13, 0);
    CHECK_CLOSE(diffana::delta_r(a[1], a[2], b[1], b[2]), ref.delta_r, 1e-14, 0);
    CHECK_CLOSE(diffana::delta_phi(a[2], b[2]), -ref.root_delta_phi, 1e-14, 0);
    const PtEtaPhiM<double> pa{a[0], a[1], a[2], a[3]};
    const PtEtaPhiM<double> pb{b[0], b[1], b[2], b[3]};
    CHECK(diffana::invariant_mass(pa, pb) == m);
    CHECK_CLOSE(diffana::pt_of_sum(pa, pb), ref.pt, 1e-13, 0);
    const auto back = diffana::to_pt_eta_phi_m(s);
    CHECK_CLOSE(back.m, ref.mass, root_tol, 0);
    CHECK_CLOSE(back.pt, ref.pt, 1e-13, 0);
  }
}

DIFFANA_TEST(trijets_match_root) {
  for (const auto& ref : kTrijets) {
    const auto& a = ref.jets[0];
    const auto& b = ref.jets[1];
    const auto& c = ref.jets[2];
    CHECK_CLOSE(diffana::invariant_mass(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3],
                                        c[0], c[1], c[2], c[3]),
                ref.mass, 1e-13, 0);
    CHECK_CLOSE(diffana::pt_of_sum(a[0], a[2], b[0], b[2], c[0], c[2]), ref.pt, 1e-12,
                0);
    CHECK_CLOSE(diffana::pt_of_sum(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0],
                                   c[1], c[2], c[3]),
                ref.pt, 1e-12, 0);
    const PtEtaPhiM<double> pa{a[0], a[1], a[2], a[3]};
    const PtEtaPhiM<double> pb{b[0], b[1], b[2], b[3]};
    const PtEtaPhiM<double> pc{c[0], c[1], c[2], c[3]};
    CHECK_CLOSE(diffana::invariant_mass(pa, pb, pc), ref.mass, 1e-13, 0);
    CHECK_CLOSE(diffana::pt_of_sum(pa, pb, pc), ref.pt, 1e-12, 0);
    const auto s = diffana::to_cartesian(pa) + diffana::to_cartesian(pb) +
                   diffana::to_cartesian(pc);
    CHECK_CLOSE(diffana::mass(s), ref.mass, 1e-12, 0);
    CHECK_CLOSE(diffana::pt(s), ref.pt, 1e-12, 0);
  }
}

DIFFANA_TEST(hand_computed_values) {
  // Components.
  CHECK(diffana::to_px(10.0, 0.0) == 10.0 && diffana::to_py(10.0, 0.0) == 0.0);
  CHECK_CLOSE(diffana::to_py(10.0, kPi / 2), 10.0, 1e-15, 0);
  CHECK_CLOSE(diffana::to_px(10.0, kPi / 3), 5.0, 1e-15, 0);
  CHECK(diffana::to_pz(10.0, 0.0) == 0.0);
  CHECK_CLOSE(diffana::to_pz(10.0, std::log(2.0)), 10.0 * 0.75, 1e-15, 0); // sinh(ln 2)
  CHECK_CLOSE(diffana::to_energy(10.0, std::log(2.0), 0.0), 12.5, 1e-15,
              0); // cosh(ln 2)
  CHECK_CLOSE(diffana::to_energy(3.0, 0.0, 4.0), 5.0, 1e-15, 0);
  // A particle at rest: E = m, mass = m; its eta is 0 by convention (pz = 0).
  const auto rest = diffana::to_cartesian(0.0, 1.0, 0.5, 91.1876);
  CHECK(rest.px == 0.0 && rest.py == 0.0 && rest.pz == 0.0 && rest.e == 91.1876);
  CHECK(diffana::mass(rest) == 91.1876 && diffana::eta(rest) == 0.0);
  // Z -> mu mu, massless back to back at eta = 0: M = 2 pt.
  CHECK_CLOSE(diffana::invariant_mass(45.5938, 0.0, 0.0, 0.0, 45.5938, 0.0, kPi, 0.0),
              91.1876, 1e-15, 0);
  // Back to back in phi and opposite eta: M^2 = 2 pt^2 (cosh(2 eta) + 1) = (2 pt cosh
  // eta)^2.
  CHECK_CLOSE(diffana::invariant_mass(40.0, 1.2, 0.3, 0.0, 40.0, -1.2, 0.3 - kPi, 0.0),
              2 * 40.0 * std::cosh(1.2), 1e-14, 0);
  // Massless: M^2 = 2 pt1 pt2 (cosh(deta) - cos(dphi)).
  CHECK_CLOSE(diffana::invariant_mass(30.0, 0.5, 1.0, 0.0, 50.0, -0.7, -2.0, 0.0),
              std::sqrt(2 * 30.0 * 50.0 * (std::cosh(1.2) - std::cos(3.0))), 1e-14, 0);
  // Two identical objects: M = 2 m; identical massless objects: M = 0.
  CHECK_CLOSE(diffana::invariant_mass(20.0, 0.3, 0.1, 4.0, 20.0, 0.3, 0.1, 4.0), 8.0,
              1e-14, 0);
  CHECK(diffana::invariant_mass(20.0, 0.3, 0.1, 0.0, 20.0, 0.3, 0.1, 0.0) == 0.0);
  // Three massless objects at 120 degrees in the transverse plane, eta = 0:
  // M = 3 pt (E = 3 pt, zero total momentum); pt of the sum 0.
  CHECK_CLOSE(diffana::invariant_mass(10.0, 0.0, 0.0, 0.0, 10.0, 0.0, 2 * kPi / 3, 0.0,
                                      10.0, 0.0, -2 * kPi / 3, 0.0),
              30.0, 1e-15, 0);
  CHECK_CLOSE(diffana::pt_of_sum(10.0, 0.0, 10.0, 2 * kPi / 3, 10.0, -2 * kPi / 3), 0.0,
              0, 1e-13);
  CHECK_CLOSE(diffana::pt_of_sum(3.0, 0.0, 4.0, kPi / 2), 5.0, 1e-15, 0);
  // delta_phi and delta_r.
  CHECK_CLOSE(diffana::delta_phi(0.5, 0.2), 0.3, 1e-15, 0);
  CHECK_CLOSE(diffana::delta_phi(3.0, -3.0), 6.0 - 2 * kPi, 1e-15, 0);
  CHECK_CLOSE(diffana::delta_phi(-3.0, 3.0), 2 * kPi - 6.0, 1e-15, 0);
  CHECK_CLOSE(diffana::delta_phi(20.0, 0.0), 20.0 - 6 * kPi, 1e-14, 0);
  CHECK_CLOSE(diffana::delta_r(0.0, 0.0, 0.3, 0.4), 0.5, 1e-15, 0);
  CHECK_CLOSE(diffana::delta_r(1.0, 3.0, 1.0, -3.0), 2 * kPi - 6.0, 1e-14, 0);
  // Integers work and give doubles.
  static_assert(std::is_same_v<decltype(diffana::to_px(10, 0)), double>);
  CHECK(diffana::to_px(10, 0) == 10.0);
  CHECK(diffana::delta_phi(1, 0) == 1.0);
}

DIFFANA_TEST(delta_phi_wraps_into_half_open_interval) {
  // [-pi, pi): +pi maps to -pi, -pi stays.
  CHECK(diffana::delta_phi(kPi, 0.0) == -kPi);
  CHECK(diffana::delta_phi(0.0, kPi) == -kPi);
  CHECK(diffana::delta_phi(-kPi, 0.0) == -kPi);
  std::mt19937 rng(17u);
  std::uniform_real_distribution<double> u(-40.0, 40.0);
  for (int i = 0; i < 2000; ++i) {
    const double a = u(rng);
    const double b = u(rng);
    const double d = diffana::delta_phi(a, b);
    CHECK(d >= -kPi && d < kPi);
    // Same angle modulo 2 pi.
    CHECK_CLOSE(std::cos(d), std::cos(a - b), 0, 1e-12);
    CHECK_CLOSE(std::sin(d), std::sin(a - b), 0, 1e-12);
    const D1 dd = diffana::delta_phi(D1::variable(a, 0), b);
    CHECK(dd.value() == d && dd.tangent(0) == 1.0);
    CHECK(diffana::delta_phi(a, D1::variable(b, 0)).tangent(0) == -1.0);
  }
  // NaN in, NaN out.
  CHECK(std::isnan(diffana::delta_phi(std::nan(""), 0.0)));
}

DIFFANA_TEST(invariant_mass_agrees_with_cartesian_sum) {
  std::mt19937 rng(23u);
  for (int i = 0; i < 2000; ++i) {
    const auto a = random_object(rng);
    const auto b = random_object(rng);
    const auto c = random_object(rng);
    const double m2 =
        diffana::invariant_mass(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
    const auto sab = diffana::to_cartesian(a[0], a[1], a[2], a[3]) +
                     diffana::to_cartesian(b[0], b[1], b[2], b[3]);
    // The Cartesian route loses digits to E^2 - p^2 cancellation: allow for it.
    const double tol = 64 * DBL_EPSILON * (sab.e / m2) * (sab.e / m2) + 1e-13;
    CHECK_CLOSE(diffana::mass(sab), m2, tol, 1e-12);
    const double m3 = diffana::invariant_mass(a[0], a[1], a[2], a[3], b[0], b[1], b[2],
                                              b[3], c[0], c[1], c[2], c[3]);
    const auto sabc = sab + diffana::to_cartesian(c[0], c[1], c[2], c[3]);
    const double tol3 = 64 * DBL_EPSILON * (sabc.e / m3) * (sabc.e / m3) + 1e-13;
    CHECK_CLOSE(diffana::mass(sabc), m3, tol3, 1e-12);
    CHECK_CLOSE(diffana::pt_of_sum(a[0], a[2], b[0], b[2], c[0], c[2]),
                diffana::pt(sabc), 1e-12, 1e-12);
  }
}

DIFFANA_TEST(invariant_mass_of_nearly_collinear_pairs_is_accurate) {
  // Massless: M = 2 sqrt(pt1 pt2 (sinh^2(deta/2) + sin^2(dphi/2))) without
  // cancellation.
  for (const double d : {1e-3, 1e-6, 1e-9}) {
    const double pt1 = 300.0;
    const double pt2 = 200.0;
    const double exact = 2 * std::sqrt(pt1 * pt2 *
                                       (std::sinh(d / 2) * std::sinh(d / 2) +
                                        std::sin(d / 2) * std::sin(d / 2)));
    const double m =
        diffana::invariant_mass(pt1, 1.0, 0.5, 0.0, pt2, 1.0 + d, 0.5 + d, 0.0);
    // deta and dphi as represented: the differences of the doubles actually passed.
    const double deta = (1.0 + d) - 1.0;
    const double dphi = (0.5 + d) - 0.5;
    const double exact_repr = 2 * std::sqrt(pt1 * pt2 *
                                            (std::sinh(deta / 2) * std::sinh(deta / 2) +
                                             std::sin(dphi / 2) * std::sin(dphi / 2)));
    CHECK_CLOSE(m, exact_repr, 1e-13, 0);
    CHECK_CLOSE(m, exact, 1e-6, 0);
  }
  // Massive collinear pair: M^2 = m1^2 + m2^2 + 2 (E1 E2 - p1 p2) with equal
  // directions: = (m1^2 p2^2 + ... ) form; check against long double.
  const long double pt1 = 1000.0L;
  const long double pt2 = 500.0L;
  const long double m1 = 0.1L;
  const long double m2 = 0.2L;
  const long double ch = std::cosh(2.0L);
  const long double e1 = std::sqrt(pt1 * pt1 * ch * ch + m1 * m1);
  const long double e2 = std::sqrt(pt2 * pt2 * ch * ch + m2 * m2);
  const long double p1 = pt1 * ch;
  const long double p2 = pt2 * ch;
  // E1 E2 - p1 p2 = (E1^2 E2^2 - p1^2 p2^2) / (E1 E2 + p1 p2), without cancellation.
  const long double dot =
      (m1 * m1 * p2 * p2 + m2 * m2 * p1 * p1 + m1 * m1 * m2 * m2) / (e1 * e2 + p1 * p2);
  const long double ref = std::sqrt(m1 * m1 + m2 * m2 + 2 * dot);
  CHECK_CLOSE(diffana::invariant_mass(1000.0, 2.0, 0.3, 0.1, 500.0, 2.0, 0.3, 0.2),
              static_cast<double>(ref), 1e-12, 0);
}

// ---- derivatives against finite differences -----------------------------------------

DIFFANA_TEST(component_conversions_match_finite_differences) {
  std::mt19937 rng(29u);
  const auto px = [](const auto& a) { return diffana::to_px(a[0], a[1]); };
  const auto py = [](const auto& a) { return diffana::to_py(a[0], a[1]); };
  const auto pz = [](const auto& a) { return diffana::to_pz(a[0], a[1]); };
  const auto en = [](const auto& a) { return diffana::to_energy(a[0], a[1], a[2]); };
  const auto cart = [](int k) {
    return [k](const auto& a) {
      const auto v = diffana::to_cartesian(a[0], a[1], a[2], a[3]);
      return k == 0 ? v.px : (k == 1 ? v.py : (k == 2 ? v.pz : v.e));
    };
  };
  for (int i = 0; i < 300; ++i) {
    const auto o = random_object(rng);
    CHECK_GRADIENT("to_px", px, std::array<double, 2>{o[0], o[2]}, {0.0, 1.0});
    CHECK_GRADIENT("to_py", py, std::array<double, 2>{o[0], o[2]}, {0.0, 1.0});
    CHECK_GRADIENT("to_pz", pz, std::array<double, 2>{o[0], o[1]});
    CHECK_GRADIENT("to_energy", en, std::array<double, 3>{o[0], o[1], o[3]});
    for (int k = 0; k < 4; ++k)
      CHECK_GRADIENT("to_cartesian", cart(k), o, {0.0, 0.0, 1.0, 0.0});
  }
  // Edges: pt = 0 with a mass, large |eta|, large pt.
  for (const auto& o : {std::array<double, 4>{0.0, 1.0, 0.5, 5.0},
                        {1e4, 6.0, -3.1, 0.0},
                        {1e4, -6.0, 3.1, 1e3},
                        {1e-3, 0.0, 0.0, 1e-3}}) {
    CHECK_GRADIENT("to_energy", en, std::array<double, 3>{o[0], o[1], o[3]});
    for (int k = 0; k < 4; ++k)
      CHECK_GRADIENT("to_cartesian", cart(k), o, {0.0, 0.0, 1.0, 0.0});
  }
}

DIFFANA_TEST(cartesian_to_collider_basis_matches_finite_differences) {
  const auto vec = [](const auto& a) {
    using S = std::decay_t<decltype(a[0])>;
    return PxPyPzE<S>{a[0], a[1], a[2], a[3]};
  };
  const auto f_pt = [&](const auto& a) { return diffana::pt(vec(a)); };
  const auto f_eta = [&](const auto& a) { return diffana::eta(vec(a)); };
  const auto f_phi = [&](const auto& a) { return diffana::phi(vec(a)); };
  const auto f_mass = [&](const auto& a) { return diffana::mass(vec(a)); };
  std::mt19937 rng(31u);
  std::uniform_real_distribution<double> u(-200.0, 200.0);
  std::uniform_real_distribution<double> um(0.5, 100.0);
  for (int i = 0; i < 300; ++i) {
    const double x = u(rng);
    const double y = u(rng);
    const double z = u(rng);
    const double e = std::sqrt(x * x + y * y + z * z + um(rng) * um(rng));
    const std::array<double, 4> p{x, y, z, e};
    const double pt = std::hypot(x, y);
    CHECK_GRADIENT("pt", f_pt, p, {pt, pt, 0.0, 0.0});
    CHECK_GRADIENT("eta", f_eta, p, {pt, pt, 0.0, 0.0});
    // phi jumps across the negative x axis.
    const double dphi = (x < 0) ? std::fabs(y) : pt;
    CHECK_GRADIENT("phi", f_phi, p, {dphi, dphi, 0.0, 0.0});
    // E^2 - p^2 cancels: the rounding of the mass is about eps E^2 / m.
    const double m = diffana::mass(PxPyPzE<double>{x, y, z, e});
    CHECK_GRADIENT("mass", f_mass, p, {}, 1e-7, e, DBL_EPSILON * e * e / m);
  }
  // Round trip: to_cartesian then back is the identity, tangents included.
  std::mt19937 rng2(37u);
  for (int i = 0; i < 200; ++i) {
    auto o = random_object(rng2);
    if (o[3] == 0.0) o[3] = 1.0; // mass() is not differentiable at 0
    D4 in[4];
    for (int k = 0; k < 4; ++k)
      in[k] = D4::variable(o[static_cast<std::size_t>(k)], k);
    const auto back =
        diffana::to_pt_eta_phi_m(diffana::to_cartesian(in[0], in[1], in[2], in[3]));
    const D4 out[4] = {back.pt, back.eta, back.phi, back.m};
    for (int k = 0; k < 4; ++k) {
      // The mass comes back through E^2 - p^2: relative precision eps (E / m)^2.
      const double scale = std::cosh(o[1]) * o[0] / o[3];
      const double tol = (k == 3) ? 1e-13 * (1.0 + scale * scale) : 1e-12;
      CHECK_CLOSE(out[k].value(), o[static_cast<std::size_t>(k)], tol, tol);
      for (int j = 0; j < 4; ++j)
        CHECK_CLOSE(out[k].tangent(j), j == k ? 1.0 : 0.0, tol, tol);
    }
  }
}

DIFFANA_TEST(invariant_mass_matches_finite_differences) {
  const auto m2 = [](const auto& a) {
    return diffana::invariant_mass(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  };
  const auto m3 = [](const auto& a) {
    return diffana::invariant_mass(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                                   a[9], a[10], a[11]);
  };
  const auto cart2 = [](const auto& a) {
    return diffana::mass(diffana::to_cartesian(a[0], a[1], a[2], a[3]) +
                         diffana::to_cartesian(a[4], a[5], a[6], a[7]));
  };
  const std::array<double, 8> s2{0, 0, 1, 0, 0, 0, 1, 0};
  const std::array<double, 12> s3{0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0};
  std::mt19937 rng(41u);
  for (int i = 0; i < 300; ++i) {
    const auto a = random_object(rng);
    const auto b = random_object(rng);
    const auto c = random_object(rng);
    const std::array<double, 8> x2{a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]};
    const std::array<double, 12> x3{a[0], a[1], a[2], a[3], b[0], b[1],
                                    b[2], b[3], c[0], c[1], c[2], c[3]};
    CHECK_GRADIENT("invariant_mass(2)", m2, x2, s2);
    CHECK_GRADIENT("invariant_mass(3)", m3, x3, s3);
    // Cross-check through the Cartesian sum (with its E^2 - p^2 cancellation).
    const auto sum = diffana::to_cartesian(a[0], a[1], a[2], a[3]) +
                     diffana::to_cartesian(b[0], b[1], b[2], b[3]);
    const double msum = diffana::mass(sum);
    CHECK_GRADIENT("mass(sum of 2)", cart2, x2, s2, 1e-6, 1.0,
                   DBL_EPSILON * sum.e * sum.e / msum);
  }
  for (const auto& ref : kDimuons) {
    const auto& a = ref.mu1;
    const auto& b = ref.mu2;
    CHECK_GRADIENT(
        "invariant_mass(dimuon)", m2,
        std::array<double, 8>{a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]}, s2);
  }
  for (const auto& ref : kTrijets) {
    const auto& j = ref.jets;
    CHECK_GRADIENT("invariant_mass(trijet)", m3,
                   std::array<double, 12>{j[0][0], j[0][1], j[0][2], j[0][3], j[1][0],
                                          j[1][1], j[1][2], j[1][3], j[2][0], j[2][1],
                                          j[2][2], j[2][3]},
                   s3);
  }
  // Back to back (phi2 = phi1 + pi, eta2 = -eta1), massless and massive; large pt
  // and |eta|; a massive object at rest (pt = 0).
  for (const auto& x : {std::array<double, 8>{45.0, 0.0, 0.0, 0.0, 45.0, 0.0, kPi, 0.0},
                        {40.0, 1.2, 0.3, 0.0, 60.0, -1.2, 0.3 - kPi, 0.0},
                        {40.0, 1.2, 0.3, 5.0, 60.0, -1.2, 0.3 + kPi, 10.0},
                        {3e3, 4.5, 1.0, 0.0, 2e3, -4.5, -2.0, 80.0},
                        {0.0, 0.7, 0.2, 5.0, 30.0, -1.0, 2.0, 0.0},
                        {30.0, 2.0, 0.2, 0.0, 30.0, 2.0, 0.2 + 1e-3, 0.0}}) {
    CHECK_GRADIENT("invariant_mass(edge)", m2, x, s2);
  }
}

DIFFANA_TEST(pt_of_sum_matches_finite_differences) {
  const auto p2 = [](const auto& a) {
    return diffana::pt_of_sum(a[0], a[1], a[2], a[3]);
  };
  const auto p3 = [](const auto& a) {
    return diffana::pt_of_sum(a[0], a[1], a[2], a[3], a[4], a[5]);
  };
  const auto p2long = [](const auto& a) {
    return diffana::pt_of_sum(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  };
  const auto p3long = [](const auto& a) {
    return diffana::pt_of_sum(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                              a[9], a[10], a[11]);
  };
  std::mt19937 rng(43u);
  for (int i = 0; i < 300; ++i) {
    const auto a = random_object(rng);
    const auto b = random_object(rng);
    const auto c = random_object(rng);
    CHECK_GRADIENT("pt_of_sum(2)", p2, std::array<double, 4>{a[0], a[2], b[0], b[2]},
                   {0, 1, 0, 1});
    CHECK_GRADIENT("pt_of_sum(3)", p3,
                   std::array<double, 6>{a[0], a[2], b[0], b[2], c[0], c[2]},
                   {0, 1, 0, 1, 0, 1});
    // The (pt, eta, phi, m) argument list: eta and m have zero derivative.
    CHECK_GRADIENT(
        "pt_of_sum(2, long)", p2long,
        std::array<double, 8>{a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]},
        {0, 0, 1, 0, 0, 0, 1, 0});
    CHECK_GRADIENT("pt_of_sum(3, long)", p3long,
                   std::array<double, 12>{a[0], a[1], a[2], a[3], b[0], b[1], b[2],
                                          b[3], c[0], c[1], c[2], c[3]},
                   {0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0});
  }
  // Back to back with unequal pts (smooth), and nearly aligned.
  CHECK_GRADIENT("pt_of_sum(back to back)", p2,
                 std::array<double, 4>{50.0, 0.3, 30.0, 0.3 + kPi}, {0, 1, 0, 1});
  CHECK_GRADIENT("pt_of_sum(aligned)", p2,
                 std::array<double, 4>{50.0, -1.0, 30.0, -1.0}, {0, 1, 0, 1});
}

DIFFANA_TEST(angles_match_finite_differences) {
  const auto dphi = [](const auto& a) { return diffana::delta_phi(a[0], a[1]); };
  const auto dr = [](const auto& a) {
    return diffana::delta_r(a[0], a[1], a[2], a[3]);
  };
  std::mt19937 rng(47u);
  std::uniform_real_distribution<double> ue(-4.0, 4.0);
  std::uniform_real_distribution<double> up(-kPi, kPi);
  for (int i = 0; i < 300; ++i) {
    const double p1 = up(rng);
    const double p2 = up(rng);
    // delta_phi jumps by 2 pi where phi1 - phi2 = pi (mod 2 pi): step away from it.
    const double d = diffana::delta_phi(p1, p2);
    const double gap = std::min(std::fabs(d - kPi), std::fabs(d + kPi));
    CHECK_GRADIENT("delta_phi", dphi, std::array<double, 2>{p1, p2}, {gap, gap});
    const std::array<double, 4> x{ue(rng), p1, ue(rng), p2};
    const double r = diffana::delta_r(x[0], x[1], x[2], x[3]);
    const double g = std::min(gap, r);
    CHECK_GRADIENT("delta_r", dr, x, {g, g, g, g});
  }
  // Unwrapped inputs (|phi| > pi) are fine too.
  CHECK_GRADIENT("delta_phi", dphi, std::array<double, 2>{10.0, -7.0}, {0.1, 0.1});
  CHECK_GRADIENT("delta_r", dr, std::array<double, 4>{0.3, 10.0, -0.2, -7.0},
                 {0.1, 0.1, 0.1, 0.1});
}

// ---- conventions at singular points -------------------------------------------------

DIFFANA_TEST(massless_particles_have_zero_mass_and_zero_tangents) {
  std::mt19937 rng(53u);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    const double pt = 1e-3 + 5e3 * u(rng);
    const double eta = -6.0 + 12.0 * u(rng);
    const double phi = -kPi + 2 * kPi * u(rng);
    const auto v = diffana::to_cartesian(D4::variable(pt, 0), D4::variable(eta, 1),
                                         D4::variable(phi, 2), D4::variable(0.0, 3));
    const D4 m = diffana::mass(v);
    CHECK(m.value() == 0.0);
    CHECK(all_tangents_zero(m));
    // float as well.
    using F4 = Dual<float, 4>;
    const auto vf =
        diffana::to_cartesian(F4::variable(static_cast<float>(pt), 0),
                              F4::variable(static_cast<float>(eta), 1),
                              F4::variable(static_cast<float>(phi), 2), 0.0f);
    const F4 mf = diffana::mass(vf);
    CHECK(mf.value() == 0.0f && all_tangents_zero(mf));
  }
  // Spacelike (E < |p|) and null vectors: 0 with zero tangents, never NaN.
  const D4 sl = diffana::mass(PxPyPzE<D4>{D4::variable(3.0, 0), D4::variable(4.0, 1),
                                          D4::variable(0.0, 2), D4::variable(4.0, 3)});
  CHECK(sl.value() == 0.0 && all_tangents_zero(sl));
  const D4 nl = diffana::mass(PxPyPzE<D4>{D4::variable(0.0, 0), D4::variable(0.0, 1),
                                          D4::variable(0.0, 2), D4::variable(0.0, 3)});
  CHECK(nl.value() == 0.0 && all_tangents_zero(nl));
  // A collinear massless pair: M = 0 with zero tangents.
  D4 pt1 = D4::variable(20.0, 0);
  const D4 im = diffana::invariant_mass(pt1, D4::variable(0.3, 1), D4::variable(0.1, 2),
                                        D4::variable(0.0, 3), 35.0, 0.3, 0.1, 0.0);
  CHECK(im.value() == 0.0 && all_tangents_zero(im));
  // A light but massive particle keeps its mass (muon at 1 TeV).
  const auto mu = diffana::to_cartesian(1000.0, 1.0, 0.2, kMuMass);
  CHECK_CLOSE(diffana::mass(mu), kMuMass, 1e-6, 0);
}

DIFFANA_TEST(beam_axis_and_origin_conventions) {
  // eta at pt = 0: +-inf (sign of pz) or 0, zero tangents.
  const auto beam = [](double pz) {
    return PxPyPzE<D4>{D4::variable(0.0, 0), D4::variable(0.0, 1), D4::variable(pz, 2),
                       D4::variable(std::fabs(pz) + 1.0, 3)};
  };
  const D4 ep = diffana::eta(beam(5.0));
  const D4 em = diffana::eta(beam(-5.0));
  const D4 e0 = diffana::eta(beam(0.0));
  CHECK(ep.value() == kInf && all_tangents_zero(ep));
  CHECK(em.value() == -kInf && all_tangents_zero(em));
  CHECK(e0.value() == 0.0 && all_tangents_zero(e0));
  CHECK(std::isnan(diffana::eta(PxPyPzE<double>{0.0, 0.0, std::nan(""), 1.0})));
  // pt and phi at the origin of the transverse plane: zero tangents.
  const D4 p = diffana::pt(beam(5.0));
  const D4 f = diffana::phi(beam(5.0));
  CHECK(p.value() == 0.0 && all_tangents_zero(p));
  CHECK(f.value() == 0.0 && all_tangents_zero(f));
  // delta_r at zero separation.
  const D4 r = diffana::delta_r(D4::variable(1.0, 0), D4::variable(2.0, 1),
                                D4::variable(1.0, 2), D4::variable(2.0, 3));
  CHECK(r.value() == 0.0 && all_tangents_zero(r));
  // to_energy of a null vector (pt = m = 0).
  const D4 e = diffana::to_energy(D4::variable(0.0, 0), D4::variable(1.0, 1),
                                  D4::variable(0.0, 2));
  CHECK(e.value() == 0.0 && all_tangents_zero(e));
  // pt_of_sum of equal back-to-back pts: 0 up to rounding, finite tangents.
  const D4 ps = diffana::pt_of_sum(D4::variable(40.0, 0), D4::variable(0.0, 1),
                                   D4::variable(40.0, 2), D4::variable(kPi, 3));
  CHECK(ps.value() < 1e-13);
  for (int i = 0; i < 4; ++i)
    CHECK(std::isfinite(ps.tangent(i)));
  // A null object in an invariant mass: no NaN.
  const D4 in = diffana::invariant_mass(D4::variable(0.0, 0), D4::variable(1.0, 1),
                                        D4::variable(2.0, 2), D4::variable(0.0, 3),
                                        30.0, -1.0, 0.5, 0.0);
  CHECK(in.value() == 0.0);
  for (int i = 0; i < 4; ++i)
    CHECK(std::isfinite(in.tangent(i)));
}

// ---- types: mixing, float, four-vector sums -----------------------------------------

DIFFANA_TEST(plain_and_dual_arguments_mix) {
  // All-Dual reference, then the same call with some arguments plain: the tangents
  // of the Dual arguments are unchanged.
  using D8 = Dual<double, 8>;
  const std::array<double, 8> x{45.0, 0.4, 1.0, kMuMass, 38.0, -0.9, -2.2, kMuMass};
  std::array<D8, 8> xd;
  for (int k = 0; k < 8; ++k)
    xd[static_cast<std::size_t>(k)] = D8::variable(x[static_cast<std::size_t>(k)], k);
  const D8 all =
      diffana::invariant_mass(xd[0], xd[1], xd[2], xd[3], xd[4], xd[5], xd[6], xd[7]);
  const D8 mixed = diffana::invariant_mass(xd[0], x[1], static_cast<float>(x[2]), x[3],
                                           xd[4], xd[5], x[6], 0);
  static_assert(std::is_same_v<decltype(mixed), const D8>);
  const double mixed_plain =
      diffana::invariant_mass(x[0], x[1], static_cast<double>(static_cast<float>(x[2])),
                              x[3], x[4], x[5], x[6], 0.0);
  CHECK_CLOSE(mixed.value(), mixed_plain, 1e-15, 0);
  CHECK_CLOSE(all.value(),
              diffana::invariant_mass(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]),
              1e-15, 0);
  // Directions 0, 4, 5 come from Duals in both calls (phi1 rounded to float differs
  // slightly, and m2 = 0 vs a muon mass, so compare loosely).
  for (const int k : {0, 4, 5})
    CHECK_CLOSE(mixed.tangent(k), all.tangent(k), 1e-5, 0);
  for (const int k : {1, 2, 3, 6, 7})
    CHECK(mixed.tangent(k) == 0.0);
  // A single Dual among plain numbers, each helper.
  const D1 v = D1::variable(30.0, 0);
  static_assert(std::is_same_v<decltype(diffana::to_px(v, 0.5f)), D1>);
  static_assert(std::is_same_v<decltype(diffana::to_energy(1, v, 0.5)), D1>);
  static_assert(std::is_same_v<decltype(diffana::delta_r(0, 0.5f, v, 1.0)), D1>);
  CHECK_CLOSE(diffana::to_px(v, 0.5f).tangent(0), std::cos(0.5), 1e-7, 0);
  CHECK_CLOSE(diffana::to_py(2, D1::variable(0.5, 0)).tangent(0), 2 * std::cos(0.5),
              1e-15, 0);
  CHECK_CLOSE(diffana::to_pz(v, 1.0).tangent(0), std::sinh(1.0), 1e-15, 0);
  CHECK_CLOSE(diffana::delta_phi(0.1f, D1::variable(0.5, 0)).tangent(0), -1.0, 0, 0);
  const auto c = diffana::to_cartesian(v, 0.3, 1, 0.105f);
  static_assert(std::is_same_v<decltype(c), const PxPyPzE<D1>>);
  CHECK_CLOSE(c.px.tangent(0), std::cos(1.0), 1e-15, 0);
  // Mixed four-vector sums.
  const PxPyPzE<double> a{1.0, 2.0, 3.0, 10.0};
  const PxPyPzE<D1> b{D1::variable(1.0, 0), 0.0, 0.0, 5.0};
  const auto s = a + b;
  static_assert(std::is_same_v<decltype(s), const PxPyPzE<D1>>);
  CHECK(s.px.value() == 2.0 && s.px.tangent(0) == 1.0 && s.e.value() == 15.0);
  const auto dd = b - a;
  CHECK(dd.px.value() == 0.0 && dd.px.tangent(0) == 1.0 && dd.e.value() == -5.0);
  const PxPyPzE<float> fa{1.0f, 2.0f, 3.0f, 10.0f};
  const auto sf = fa + a;
  static_assert(std::is_same_v<decltype(sf), const PxPyPzE<double>>);
  const auto sfd = fa + b;
  static_assert(std::is_same_v<decltype(sfd), const PxPyPzE<D1>>);
  CHECK(sfd.px.tangent(0) == 1.0 && sfd.pz.value() == 3.0);
}

DIFFANA_TEST(float_instantiation) {
  for (const auto& ref : kDimuons) {
    const auto& a = ref.mu1;
    const auto& b = ref.mu2;
    const auto f = [](double x) { return static_cast<float>(x); };
    const float m = diffana::invariant_mass(f(a[0]), f(a[1]), f(a[2]), f(a[3]), f(b[0]),
                                            f(b[1]), f(b[2]), f(b[3]));
    static_assert(std::is_same_v<decltype(diffana::invariant_mass(
                                     1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f)),
                                 float>);
    CHECK_CLOSE(m, ref.mass, 1e-5, 0);
    CHECK_CLOSE(diffana::pt_of_sum(f(a[0]), f(a[2]), f(b[0]), f(b[2])), ref.pt, 1e-5,
                1e-5);
    CHECK_CLOSE(diffana::delta_r(f(a[1]), f(a[2]), f(b[1]), f(b[2])), ref.delta_r, 1e-5,
                0);
    const auto s = diffana::to_cartesian(f(a[0]), f(a[1]), f(a[2]), f(a[3])) +
                   diffana::to_cartesian(f(b[0]), f(b[1]), f(b[2]), f(b[3]));
    static_assert(std::is_same_v<decltype(s), const PxPyPzE<float>>);
    CHECK_CLOSE(diffana::pt(s), ref.pt, 1e-5, 1e-5);
    CHECK_CLOSE(diffana::eta(s), ref.eta, 1e-4, 1e-5);
    CHECK_CLOSE(diffana::phi(s), ref.phi, 1e-5, 1e-5);
    // Float Duals give the same tangents as double Duals to float precision.
    using F4 = Dual<float, 4>;
    const F4 mf = diffana::invariant_mass(
        F4::variable(f(a[0]), 0), F4::variable(f(a[1]), 1), F4::variable(f(a[2]), 2),
        f(a[3]), F4::variable(f(b[0]), 3), f(b[1]), f(b[2]), f(b[3]));
    static_assert(std::is_same_v<decltype(mf), const F4>);
    const D4 md = diffana::invariant_mass(D4::variable(a[0], 0), D4::variable(a[1], 1),
                                          D4::variable(a[2], 2), a[3],
                                          D4::variable(b[0], 3), b[1], b[2], b[3]);
    for (int k = 0; k < 4; ++k)
      CHECK_CLOSE(mf.tangent(k), md.tangent(k), 1e-4, 1e-5);
  }
  // The other helpers instantiate for float and float Duals.
  using F1 = Dual<float, 1>;
  const F1 x = F1::variable(0.5f, 0);
  const F1 all = diffana::to_px(x, x) + diffana::to_py(x, 1.0f) +
                 diffana::to_pz(x, 2.0) + diffana::to_energy(x, 1, 0.5f) +
                 diffana::delta_phi(x, 3.0f) + diffana::delta_r(x, 0.0f, 1.0f, x) +
                 diffana::pt_of_sum(x, 0.0f, 2.0f, x, 1.0f, 2.0f) +
                 diffana::invariant_mass(x, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 0.0f,
                                         2.0f, 2.0f, x, 0.1f);
  const D1 xd = D1::variable(0.5, 0);
  const D1 alld = diffana::to_px(xd, xd) + diffana::to_py(xd, 1.0) +
                  diffana::to_pz(xd, 2.0) + diffana::to_energy(xd, 1, 0.5) +
                  diffana::delta_phi(xd, 3.0) + diffana::delta_r(xd, 0.0, 1.0, xd) +
                  diffana::pt_of_sum(xd, 0.0, 2.0, xd, 1.0, 2.0) +
                  diffana::invariant_mass(xd, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 2.0,
                                          2.0, xd, 0.1f);
  CHECK_CLOSE(all.value(), alld.value(), 1e-5, 1e-6);
  CHECK_CLOSE(all.tangent(0), alld.tangent(0), 1e-4, 1e-5);
  const auto pf = diffana::to_pt_eta_phi_m(diffana::to_cartesian(x, 0.5f, 0.5f, 1.0f));
  CHECK_CLOSE(pf.pt.value(), 0.5, 1e-6, 0);
  CHECK_CLOSE(pf.m.value(), 1.0, 1e-5, 0);
}

int main() {
  return diffana::test::run_all();
}
