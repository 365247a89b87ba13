// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Lorentz-vector helpers for collider kinematics, generic in the scalar.
///
/// Every function takes any mix of float, double, integers and `Dual<T, N>` (or
/// `Rev<T>`, reverse.hpp) and returns `promote_floating_t` of its arguments (a Dual
/// if any argument is one; double when all are integers). The arguments are converted
/// once to that type and the computation is written with ordinary arithmetic and the
/// math library, so the derivative is exact forward-mode AD of the formula given in
/// each comment. Each has a Clad-style `_pullback` (at the end of this file).
///
/// Conventions (all units are those of the inputs, GeV and radians in NanoAOD):
/// - (pt, eta, phi, m) is the detector basis: px = pt cos(phi), py = pt sin(phi),
///   pz = pt sinh(eta), E = sqrt((pt cosh(eta))^2 + m^2). A negative m enters as m^2.
/// - Non-differentiable points take the zero tangent (the smallest-norm subgradient,
///   and what a central finite difference gives at a symmetric kink): a null vector
///   (pt = m = 0) in to_energy, pt = 0 in pt(v), coinciding directions in delta_r,
///   a vanishing mass in mass() and invariant_mass(). Nothing returns NaN unless an
///   input is NaN.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math.hpp"
#include "diffana/config.hpp"

#include <cfloat>
#include <cmath>
#include <type_traits>

namespace diffana {

/// A four-momentum in the Cartesian basis (px, py, pz, E).
template <class T> struct PxPyPzE {
  T px;
  T py;
  T pz;
  T e;
};

/// A four-momentum in the collider basis (pt, eta, phi, m).
template <class T> struct PtEtaPhiM {
  T pt;
  T eta;
  T phi;
  T m;
};

namespace detail {

/// Machine epsilon of T without std::numeric_limits (usable in device code).
template <class T> DIFFANA_HOST_DEVICE constexpr T epsilon() {
  if constexpr (std::is_same_v<T, float>) {
    return FLT_EPSILON;
  } else if constexpr (std::is_same_v<T, double>) {
    return DBL_EPSILON;
  } else {
    return static_cast<T>(LDBL_EPSILON);
  }
}

/// sqrt(x) for x > 0; 0 with zero tangents for x <= 0 (sqrt is not differentiable at
/// 0, and a rounding-level negative x means 0); NaN stays NaN.
template <class R> DIFFANA_HOST_DEVICE R sqrt_or_zero(const R& x) {
  using std::sqrt;
  if (value(x) <= value_type_t<R>(0)) return R(0);
  return sqrt(x);
}

/// The quantities of one object that the pairwise invariant products need:
/// transverse mass mt = hypot(pt, m) and rapidity y = asinh(pz / mt).
template <class R> struct Transverse {
  R pt;
  R y;
  R phi;
  R m2;
  R mt;
};

/// Rapidity from (pt, eta, m): sinh(y) = pt sinh(eta) / mt. For m = 0, y = eta
/// exactly, and there dy/dpt = dy/dm = 0, so the massless case (including pt = 0)
/// takes eta directly instead of forming 0/0.
template <class R>
DIFFANA_HOST_DEVICE Transverse<R> transverse(const R& pt, const R& eta, const R& phi,
                                             const R& m) {
  using std::asinh;
  using std::hypot;
  using std::sinh;
  const R mt = hypot(pt, m);
  if (value(m) == value_type_t<R>(0)) return {pt, eta, phi, m * m, mt};
  return {pt, asinh(pt * sinh(eta) / mt), phi, m * m, mt};
}

/// The Minkowski product p_a.p_b = E_a E_b - p_a.p_b, written as a sum of
/// non-negative terms so that nearly collinear pairs lose no precision:
///   mt_a mt_b cosh(dy) - pt_a pt_b cos(dphi)
///   = (m_a^2 pt_b^2 + m_b^2 pt_a^2 + m_a^2 m_b^2) / (mt_a mt_b + pt_a pt_b)
///     + 2 mt_a mt_b sinh^2(dy / 2) + 2 pt_a pt_b sin^2(dphi / 2).
template <class R>
DIFFANA_HOST_DEVICE R minkowski_dot(const Transverse<R>& a, const Transverse<R>& b) {
  using std::sin;
  using std::sinh;
  using V = value_type_t<R>;
  const R mtmt = a.mt * b.mt;
  const R ptpt = a.pt * b.pt;
  const R denom = mtmt + ptpt; // >= 0 since mt >= |pt|
  const R base =
      (value(denom) > V(0))
          ? (a.m2 * (b.pt * b.pt) + b.m2 * (a.pt * a.pt) + a.m2 * b.m2) / denom
          : mtmt - ptpt;
  const R sy = sinh((a.y - b.y) * V(0.5));
  const R sp = sin((a.phi - b.phi) * V(0.5));
  return base + V(2) * (mtmt * (sy * sy) + ptpt * (sp * sp));
}

} // namespace detail

// ---- four-vector arithmetic ---------------------------------------------------------

/// Component-wise sum; the derivative of each component is the sum of derivatives.
template <class A, class B>
DIFFANA_HOST_DEVICE PxPyPzE<promote_floating_t<A, B>> operator+(const PxPyPzE<A>& a,
                                                                const PxPyPzE<B>& b) {
  using R = promote_floating_t<A, B>;
  using detail::convert;
  return {convert<R>(a.px) + convert<R>(b.px), convert<R>(a.py) + convert<R>(b.py),
          convert<R>(a.pz) + convert<R>(b.pz), convert<R>(a.e) + convert<R>(b.e)};
}

/// Component-wise difference.
template <class A, class B>
DIFFANA_HOST_DEVICE PxPyPzE<promote_floating_t<A, B>> operator-(const PxPyPzE<A>& a,
                                                                const PxPyPzE<B>& b) {
  using R = promote_floating_t<A, B>;
  using detail::convert;
  return {convert<R>(a.px) - convert<R>(b.px), convert<R>(a.py) - convert<R>(b.py),
          convert<R>(a.pz) - convert<R>(b.pz), convert<R>(a.e) - convert<R>(b.e)};
}

// ---- (pt, eta, phi, m) -> (px, py, pz, E) -------------------------------------------

/// px = pt cos(phi).  d/dpt = cos(phi); d/dphi = -pt sin(phi).
template <class Pt, class Phi>
DIFFANA_HOST_DEVICE promote_floating_t<Pt, Phi> to_px(const Pt& pt, const Phi& phi) {
  using R = promote_floating_t<Pt, Phi>;
  using std::cos;
  return detail::convert<R>(pt) * cos(detail::convert<R>(phi));
}

/// py = pt sin(phi).  d/dpt = sin(phi); d/dphi = pt cos(phi).
template <class Pt, class Phi>
DIFFANA_HOST_DEVICE promote_floating_t<Pt, Phi> to_py(const Pt& pt, const Phi& phi) {
  using R = promote_floating_t<Pt, Phi>;
  using std::sin;
  return detail::convert<R>(pt) * sin(detail::convert<R>(phi));
}

/// pz = pt sinh(eta).  d/dpt = sinh(eta); d/deta = pt cosh(eta).
template <class Pt, class Eta>
DIFFANA_HOST_DEVICE promote_floating_t<Pt, Eta> to_pz(const Pt& pt, const Eta& eta) {
  using R = promote_floating_t<Pt, Eta>;
  using std::sinh;
  return detail::convert<R>(pt) * sinh(detail::convert<R>(eta));
}

/// E = sqrt((pt cosh(eta))^2 + m^2) = hypot(pt cosh(eta), m).
/// d/dpt = pt cosh^2(eta) / E; d/deta = pt^2 cosh(eta) sinh(eta) / E; d/dm = m / E;
/// all 0 for a null vector (pt = m = 0, where E = |pt| cosh(eta) has a kink).
template <class Pt, class Eta, class M>
DIFFANA_HOST_DEVICE promote_floating_t<Pt, Eta, M>
to_energy(const Pt& pt, const Eta& eta, const M& m) {
  using R = promote_floating_t<Pt, Eta, M>;
  using std::cosh;
  using std::hypot;
  return hypot(detail::convert<R>(pt) * cosh(detail::convert<R>(eta)),
               detail::convert<R>(m));
}

/// (px, py, pz, E) of (pt, eta, phi, m): to_px, to_py, to_pz and to_energy together
/// (each transcendental function evaluated once).
template <class Pt, class Eta, class Phi, class M>
DIFFANA_HOST_DEVICE PxPyPzE<promote_floating_t<Pt, Eta, Phi, M>>
to_cartesian(const Pt& pt, const Eta& eta, const Phi& phi, const M& m) {
  using R = promote_floating_t<Pt, Eta, Phi, M>;
  using std::cos;
  using std::cosh;
  using std::hypot;
  using std::sin;
  using std::sinh;
  const R p = detail::convert<R>(pt);
  const R h = detail::convert<R>(eta);
  const R f = detail::convert<R>(phi);
  return {p * cos(f), p * sin(f), p * sinh(h),
          hypot(p * cosh(h), detail::convert<R>(m))};
}

/// to_cartesian of a PtEtaPhiM.
template <class T>
DIFFANA_HOST_DEVICE PxPyPzE<promote_floating_t<T>> to_cartesian(const PtEtaPhiM<T>& v) {
  return to_cartesian(v.pt, v.eta, v.phi, v.m);
}

// ---- (px, py, pz, E) -> (pt, eta, phi, m) -------------------------------------------

/// Transverse momentum hypot(px, py).  d/dpx = px / pt, d/dpy = py / pt; 0 at pt = 0.
template <class T> DIFFANA_HOST_DEVICE T pt(const PxPyPzE<T>& v) {
  using std::hypot;
  return hypot(v.px, v.py);
}

/// Pseudorapidity asinh(pz / pt).  With p = |(px, py, pz)|: d/dpz = 1 / p;
/// d/dpx = -pz px / (pt^2 p), d/dpy = -pz py / (pt^2 p).
/// Convention at pt = 0 (along the beam): +inf for pz > 0, -inf for pz < 0, 0 for
/// pz = 0 (ROOT's TVector3 returns +-1e10 instead), all with zero tangents.
template <class T> DIFFANA_HOST_DEVICE T eta(const PxPyPzE<T>& v) {
  using std::asinh;
  using std::hypot;
  using std::isnan;
  using V = value_type_t<T>;
  const T t = hypot(v.px, v.py);
  if (value(t) == V(0)) {
    const V z = value(v.pz);
    if (isnan(z)) return T(z);
    const V inf = static_cast<V>(INFINITY);
    return T(z > V(0) ? inf : (z < V(0) ? -inf : V(0)));
  }
  return asinh(v.pz / t);
}

/// Azimuth atan2(py, px) in [-pi, pi].  d/dpx = -py / pt^2, d/dpy = px / pt^2; 0 at
/// pt = 0 (where phi is 0 or pi by atan2's convention).
template <class T> DIFFANA_HOST_DEVICE T phi(const PxPyPzE<T>& v) {
  using std::atan2;
  return atan2(v.py, v.px);
}

/// Invariant mass sqrt(max(E^2 - p^2, 0)), with E^2 - p^2 formed as (E - p)(E + p).
/// d/dE = E / m, d/dp_i = -p_i / m. Where the mass vanishes (massless particles,
/// spacelike vectors) the value is 0 with zero tangents, not NaN. E^2 - p^2 below
/// its rounding level, 16 eps E^2 (eps the machine epsilon of the value type; a
/// mass below 4 sqrt(eps) E, 6e-8 E in double), counts as 0: that is what a
/// massless particle built with to_cartesian(pt, eta, phi, 0) gives, and its mass
/// must not depend on (pt, eta, phi).
template <class T> DIFFANA_HOST_DEVICE T mass(const PxPyPzE<T>& v) {
  using std::hypot;
  using V = value_type_t<T>;
  const T p = hypot(hypot(v.px, v.py), v.pz);
  const T m2 = (v.e - p) * (v.e + p);
  const V e = value(v.e);
  if (value(m2) <= V(16) * detail::epsilon<V>() * e * e) return T(0);
  return detail::sqrt_or_zero(m2);
}

/// (pt, eta, phi, m) of a Cartesian four-vector (pt(), eta(), phi(), mass()).
template <class T>
DIFFANA_HOST_DEVICE PtEtaPhiM<T> to_pt_eta_phi_m(const PxPyPzE<T>& v) {
  return {pt(v), eta(v), phi(v), mass(v)};
}

// ---- angles -------------------------------------------------------------------------

/// phi1 - phi2 wrapped into [-pi, pi).  d/dphi1 = 1, d/dphi2 = -1 (the wrap by a
/// multiple of 2 pi is piecewise constant). The sign follows coffea's
/// `a.delta_phi(b)`; ROOT's VectorUtil::DeltaPhi(v1, v2) is phi2 - phi1.
template <class Phi1, class Phi2>
DIFFANA_HOST_DEVICE promote_floating_t<Phi1, Phi2> delta_phi(const Phi1& phi1,
                                                             const Phi2& phi2) {
  using R = promote_floating_t<Phi1, Phi2>;
  using V = value_type_t<R>;
  using std::floor;
  const V pi = detail::pi<V>();
  const V two_pi = V(2) * pi;
  R d = detail::convert<R>(phi1) - detail::convert<R>(phi2);
  const V dv = value(d);
  if (dv >= -pi && dv < pi) return d;
  d -= two_pi * floor((dv + pi) / two_pi);
  // Rounding in the division can leave d on the wrong side of an end point.
  if (value(d) >= pi) d -= two_pi;
  if (value(d) < -pi) d += two_pi;
  return d;
}

/// Angular distance sqrt(deta^2 + dphi^2), dphi = delta_phi(phi1, phi2).
/// d/deta1 = deta / dR, d/dphi1 = dphi / dR (minus these for object 2); 0 at dR = 0.
template <class Eta1, class Phi1, class Eta2, class Phi2>
DIFFANA_HOST_DEVICE promote_floating_t<Eta1, Phi1, Eta2, Phi2>
delta_r(const Eta1& eta1, const Phi1& phi1, const Eta2& eta2, const Phi2& phi2) {
  using R = promote_floating_t<Eta1, Phi1, Eta2, Phi2>;
  using std::hypot;
  const R deta = detail::convert<R>(eta1) - detail::convert<R>(eta2);
  const R dphi = delta_phi(detail::convert<R>(phi1), detail::convert<R>(phi2));
  return hypot(deta, dphi);
}

// ---- invariant masses and vector sums -----------------------------------------------

/// Invariant mass of two objects given as (pt, eta, phi, m):
///   M^2 = m1^2 + m2^2 + 2 p1.p2,
/// with the Minkowski product p1.p2 = mt1 mt2 cosh(y1 - y2) - pt1 pt2 cos(phi1 - phi2)
/// (mt = hypot(pt, m), y the rapidity) written as a sum of non-negative terms, so
/// the result is accurate for nearly collinear pairs and equal to
/// mass(to_cartesian(1) + to_cartesian(2)) up to rounding. For massless objects
/// M^2 = 2 pt1 pt2 (cosh(eta1 - eta2) - cos(phi1 - phi2)).
/// Derivatives are those of this formula: e.g. for massless objects
/// dM/dpt1 = M / (2 pt1), dM/deta1 = pt1 pt2 sinh(eta1 - eta2) / M,
/// dM/dphi1 = pt1 pt2 sin(phi1 - phi2) / M. M = 0 (collinear massless pair) gives 0
/// with zero tangents.
template <class Pt1, class Eta1, class Phi1, class M1, class Pt2, class Eta2,
          class Phi2, class M2>
DIFFANA_HOST_DEVICE promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2>
invariant_mass(const Pt1& pt1, const Eta1& eta1, const Phi1& phi1, const M1& m1,
               const Pt2& pt2, const Eta2& eta2, const Phi2& phi2, const M2& m2) {
  using R = promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2>;
  using V = value_type_t<R>;
  using detail::convert;
  const auto a = detail::transverse(convert<R>(pt1), convert<R>(eta1), convert<R>(phi1),
                                    convert<R>(m1));
  const auto b = detail::transverse(convert<R>(pt2), convert<R>(eta2), convert<R>(phi2),
                                    convert<R>(m2));
  return detail::sqrt_or_zero(a.m2 + b.m2 + V(2) * detail::minkowski_dot(a, b));
}

/// Invariant mass of three objects: M^2 = sum_i m_i^2 + 2 sum_{i<j} p_i.p_j, each
/// product as in the two-object version (every term non-negative). 0 with zero
/// tangents when M = 0.
template <class Pt1, class Eta1, class Phi1, class M1, class Pt2, class Eta2,
          class Phi2, class M2, class Pt3, class Eta3, class Phi3, class M3>
DIFFANA_HOST_DEVICE
    promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2, Pt3, Eta3, Phi3, M3>
    invariant_mass(const Pt1& pt1, const Eta1& eta1, const Phi1& phi1, const M1& m1,
                   const Pt2& pt2, const Eta2& eta2, const Phi2& phi2, const M2& m2,
                   const Pt3& pt3, const Eta3& eta3, const Phi3& phi3, const M3& m3) {
  using R =
      promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2, Pt3, Eta3, Phi3, M3>;
  using V = value_type_t<R>;
  using detail::convert;
  const auto a = detail::transverse(convert<R>(pt1), convert<R>(eta1), convert<R>(phi1),
                                    convert<R>(m1));
  const auto b = detail::transverse(convert<R>(pt2), convert<R>(eta2), convert<R>(phi2),
                                    convert<R>(m2));
  const auto c = detail::transverse(convert<R>(pt3), convert<R>(eta3), convert<R>(phi3),
                                    convert<R>(m3));
  const R dots = detail::minkowski_dot(a, b) + detail::minkowski_dot(a, c) +
                 detail::minkowski_dot(b, c);
  return detail::sqrt_or_zero(a.m2 + b.m2 + c.m2 + V(2) * dots);
}

/// invariant_mass of two PtEtaPhiM objects.
template <class A, class B>
DIFFANA_HOST_DEVICE promote_floating_t<A, B> invariant_mass(const PtEtaPhiM<A>& a,
                                                            const PtEtaPhiM<B>& b) {
  return invariant_mass(a.pt, a.eta, a.phi, a.m, b.pt, b.eta, b.phi, b.m);
}

/// invariant_mass of three PtEtaPhiM objects.
template <class A, class B, class C>
DIFFANA_HOST_DEVICE promote_floating_t<A, B, C>
invariant_mass(const PtEtaPhiM<A>& a, const PtEtaPhiM<B>& b, const PtEtaPhiM<C>& c) {
  return invariant_mass(a.pt, a.eta, a.phi, a.m, b.pt, b.eta, b.phi, b.m, c.pt, c.eta,
                        c.phi, c.m);
}

/// Transverse momentum of the vector sum of two objects: hypot(sum px, sum py) with
/// px = pt cos(phi), py = pt sin(phi). With P the sum: d/dpt1 = (Px cos(phi1) +
/// Py sin(phi1)) / pT, d/dphi1 = pt1 (Py cos(phi1) - Px sin(phi1)) / pT; 0 when the
/// sum vanishes (equal back-to-back pts).
template <class Pt1, class Phi1, class Pt2, class Phi2>
DIFFANA_HOST_DEVICE promote_floating_t<Pt1, Phi1, Pt2, Phi2>
pt_of_sum(const Pt1& pt1, const Phi1& phi1, const Pt2& pt2, const Phi2& phi2) {
  using R = promote_floating_t<Pt1, Phi1, Pt2, Phi2>;
  using detail::convert;
  using std::hypot;
  const R p1 = convert<R>(pt1);
  const R f1 = convert<R>(phi1);
  const R p2 = convert<R>(pt2);
  const R f2 = convert<R>(phi2);
  return hypot(to_px(p1, f1) + to_px(p2, f2), to_py(p1, f1) + to_py(p2, f2));
}

/// Transverse momentum of the vector sum of three objects (as the two-object
/// version), e.g. to pick the trijet with the largest pT.
template <class Pt1, class Phi1, class Pt2, class Phi2, class Pt3, class Phi3>
DIFFANA_HOST_DEVICE promote_floating_t<Pt1, Phi1, Pt2, Phi2, Pt3, Phi3>
pt_of_sum(const Pt1& pt1, const Phi1& phi1, const Pt2& pt2, const Phi2& phi2,
          const Pt3& pt3, const Phi3& phi3) {
  using R = promote_floating_t<Pt1, Phi1, Pt2, Phi2, Pt3, Phi3>;
  using detail::convert;
  using std::hypot;
  const R p1 = convert<R>(pt1);
  const R f1 = convert<R>(phi1);
  const R p2 = convert<R>(pt2);
  const R f2 = convert<R>(phi2);
  const R p3 = convert<R>(pt3);
  const R f3 = convert<R>(phi3);
  return hypot(to_px(p1, f1) + to_px(p2, f2) + to_px(p3, f3),
               to_py(p1, f1) + to_py(p2, f2) + to_py(p3, f3));
}

/// pt_of_sum with the (pt, eta, phi, m) argument list of invariant_mass; eta and m
/// do not enter (zero derivative).
template <class Pt1, class Eta1, class Phi1, class M1, class Pt2, class Eta2,
          class Phi2, class M2>
DIFFANA_HOST_DEVICE promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2>
pt_of_sum(const Pt1& pt1, const Eta1& eta1, const Phi1& phi1, const M1& m1,
          const Pt2& pt2, const Eta2& eta2, const Phi2& phi2, const M2& m2) {
  using R = promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2>;
  (void)eta1;
  (void)m1;
  (void)eta2;
  (void)m2;
  return pt_of_sum(detail::convert<R>(pt1), detail::convert<R>(phi1),
                   detail::convert<R>(pt2), detail::convert<R>(phi2));
}

/// pt_of_sum of three objects with the argument list of invariant_mass.
template <class Pt1, class Eta1, class Phi1, class M1, class Pt2, class Eta2,
          class Phi2, class M2, class Pt3, class Eta3, class Phi3, class M3>
DIFFANA_HOST_DEVICE
    promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2, Pt3, Eta3, Phi3, M3>
    pt_of_sum(const Pt1& pt1, const Eta1& eta1, const Phi1& phi1, const M1& m1,
              const Pt2& pt2, const Eta2& eta2, const Phi2& phi2, const M2& m2,
              const Pt3& pt3, const Eta3& eta3, const Phi3& phi3, const M3& m3) {
  using R =
      promote_floating_t<Pt1, Eta1, Phi1, M1, Pt2, Eta2, Phi2, M2, Pt3, Eta3, Phi3, M3>;
  (void)eta1;
  (void)m1;
  (void)eta2;
  (void)m2;
  (void)eta3;
  (void)m3;
  return pt_of_sum(detail::convert<R>(pt1), detail::convert<R>(phi1),
                   detail::convert<R>(pt2), detail::convert<R>(phi2),
                   detail::convert<R>(pt3), detail::convert<R>(phi3));
}

/// pt_of_sum of two PtEtaPhiM objects.
template <class A, class B>
DIFFANA_HOST_DEVICE promote_floating_t<A, B> pt_of_sum(const PtEtaPhiM<A>& a,
                                                       const PtEtaPhiM<B>& b) {
  return pt_of_sum(a.pt, a.phi, b.pt, b.phi);
}

/// pt_of_sum of three PtEtaPhiM objects.
template <class A, class B, class C>
DIFFANA_HOST_DEVICE promote_floating_t<A, B, C>
pt_of_sum(const PtEtaPhiM<A>& a, const PtEtaPhiM<B>& b, const PtEtaPhiM<C>& c) {
  return pt_of_sum(a.pt, a.phi, b.pt, b.phi, c.pt, c.phi);
}

// ---- Clad-style pullbacks (plain numbers) -----------------------------------------
//
// `<fn>_pullback(inputs..., d_y, d_inputs...)` adds d_y times the partial derivative
// of <fn> w.r.t. each input to that input's adjoint (+=, as Clad's pullbacks; a zero
// d_y adds exactly nothing). The simple products are written out; the others apply
// forward mode with one tangent per input to the generic function above, so that
// their derivative (and its conventions at kinks: null vectors, pt = 0, M = 0) is
// exactly the one documented there. Four-vector arguments take their adjoint as a
// PxPyPzE<T>*.

namespace detail {
/// d_x[k] += d_y df/dx_k for the K inputs x of f (a functor on `const Dual<T, K>*`).
template <int K, class T, class F>
DIFFANA_HOST_DEVICE void lorentz_pullback(const F& f, const T* x, T d_y,
                                          T* const* d_x) {
  if (d_y == T(0)) return;
  Dual<T, K> xd[K];
  for (int k = 0; k < K; ++k)
    xd[k] = Dual<T, K>::variable(x[k], k);
  const Dual<T, K> y = f(xd);
  for (int k = 0; k < K; ++k)
    *d_x[k] += y.tangent(k) * d_y;
}

struct LorentzToEnergy {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return to_energy(v[0], v[1], v[2]);
  }
};
struct LorentzPt {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return pt(PxPyPzE<D>{v[0], v[1], v[2], v[3]});
  }
};
struct LorentzEta {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return eta(PxPyPzE<D>{v[0], v[1], v[2], v[3]});
  }
};
struct LorentzPhi {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return phi(PxPyPzE<D>{v[0], v[1], v[2], v[3]});
  }
};
struct LorentzMass {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return mass(PxPyPzE<D>{v[0], v[1], v[2], v[3]});
  }
};
struct LorentzDeltaR {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return delta_r(v[0], v[1], v[2], v[3]);
  }
};
struct LorentzMass2 {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return invariant_mass(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
  }
};
struct LorentzMass3 {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return invariant_mass(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                          v[10], v[11]);
  }
};
struct LorentzPtOfSum2 {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return pt_of_sum(v[0], v[1], v[2], v[3]);
  }
};
struct LorentzPtOfSum3 {
  template <class D> DIFFANA_HOST_DEVICE D operator()(const D* v) const {
    return pt_of_sum(v[0], v[1], v[2], v[3], v[4], v[5]);
  }
};

template <class F, class T>
DIFFANA_HOST_DEVICE void lorentz_vector_pullback(const PxPyPzE<T>& v, T d_y,
                                                 PxPyPzE<T>* d_v) {
  const T x[4] = {v.px, v.py, v.pz, v.e};
  T* const d[4] = {&d_v->px, &d_v->py, &d_v->pz, &d_v->e};
  lorentz_pullback<4>(F{}, x, d_y, d);
}
} // namespace detail

/// to_px(pt, phi) pulled back: d_pt += cos(phi) d_y, d_phi -= pt sin(phi) d_y.
template <class T>
DIFFANA_HOST_DEVICE void to_px_pullback(T pt, T phi, T d_y, T* d_pt, T* d_phi) {
  using std::cos;
  using std::sin;
  if (d_y == T(0)) return;
  *d_pt += cos(phi) * d_y;
  *d_phi -= pt * sin(phi) * d_y;
}

/// to_py(pt, phi) pulled back: d_pt += sin(phi) d_y, d_phi += pt cos(phi) d_y.
template <class T>
DIFFANA_HOST_DEVICE void to_py_pullback(T pt, T phi, T d_y, T* d_pt, T* d_phi) {
  using std::cos;
  using std::sin;
  if (d_y == T(0)) return;
  *d_pt += sin(phi) * d_y;
  *d_phi += pt * cos(phi) * d_y;
}

/// to_pz(pt, eta) pulled back: d_pt += sinh(eta) d_y, d_eta += pt cosh(eta) d_y.
template <class T>
DIFFANA_HOST_DEVICE void to_pz_pullback(T pt, T eta, T d_y, T* d_pt, T* d_eta) {
  using std::cosh;
  using std::sinh;
  if (d_y == T(0)) return;
  *d_pt += sinh(eta) * d_y;
  *d_eta += pt * cosh(eta) * d_y;
}

/// to_energy(pt, eta, m) pulled back (0 for a null vector).
template <class T>
DIFFANA_HOST_DEVICE void to_energy_pullback(T pt, T eta, T m, T d_y, T* d_pt, T* d_eta,
                                            T* d_m) {
  const T x[3] = {pt, eta, m};
  T* const d[3] = {d_pt, d_eta, d_m};
  detail::lorentz_pullback<3>(detail::LorentzToEnergy{}, x, d_y, d);
}

/// to_cartesian(pt, eta, phi, m) pulled back from the adjoints d_p of its four
/// components (to_px, to_py, to_pz and to_energy pulled back together).
template <class T>
DIFFANA_HOST_DEVICE void to_cartesian_pullback(T pt, T eta, T phi, T m,
                                               const PxPyPzE<T>& d_p, T* d_pt, T* d_eta,
                                               T* d_phi, T* d_m) {
  to_px_pullback(pt, phi, d_p.px, d_pt, d_phi);
  to_py_pullback(pt, phi, d_p.py, d_pt, d_phi);
  to_pz_pullback(pt, eta, d_p.pz, d_pt, d_eta);
  to_energy_pullback(pt, eta, m, d_p.e, d_pt, d_eta, d_m);
}

/// pt(v) pulled back into the adjoint d_v of v (0 at pt = 0).
template <class T>
DIFFANA_HOST_DEVICE void pt_pullback(const PxPyPzE<T>& v, T d_y, PxPyPzE<T>* d_v) {
  detail::lorentz_vector_pullback<detail::LorentzPt>(v, d_y, d_v);
}

/// eta(v) pulled back (0 along the beam, pt = 0).
template <class T>
DIFFANA_HOST_DEVICE void eta_pullback(const PxPyPzE<T>& v, T d_y, PxPyPzE<T>* d_v) {
  detail::lorentz_vector_pullback<detail::LorentzEta>(v, d_y, d_v);
}

/// phi(v) pulled back (0 at pt = 0).
template <class T>
DIFFANA_HOST_DEVICE void phi_pullback(const PxPyPzE<T>& v, T d_y, PxPyPzE<T>* d_v) {
  detail::lorentz_vector_pullback<detail::LorentzPhi>(v, d_y, d_v);
}

/// mass(v) pulled back (0 where the mass vanishes).
template <class T>
DIFFANA_HOST_DEVICE void mass_pullback(const PxPyPzE<T>& v, T d_y, PxPyPzE<T>* d_v) {
  detail::lorentz_vector_pullback<detail::LorentzMass>(v, d_y, d_v);
}

/// delta_phi(phi1, phi2) pulled back: d_phi1 += d_y, d_phi2 -= d_y.
template <class T>
DIFFANA_HOST_DEVICE void delta_phi_pullback(T phi1, T phi2, T d_y, T* d_phi1,
                                            T* d_phi2) {
  (void)phi1;
  (void)phi2;
  *d_phi1 += d_y;
  *d_phi2 -= d_y;
}

/// delta_r(eta1, phi1, eta2, phi2) pulled back (0 at dR = 0).
template <class T>
DIFFANA_HOST_DEVICE void delta_r_pullback(T eta1, T phi1, T eta2, T phi2, T d_y,
                                          T* d_eta1, T* d_phi1, T* d_eta2, T* d_phi2) {
  const T x[4] = {eta1, phi1, eta2, phi2};
  T* const d[4] = {d_eta1, d_phi1, d_eta2, d_phi2};
  detail::lorentz_pullback<4>(detail::LorentzDeltaR{}, x, d_y, d);
}

/// invariant_mass of two objects pulled back (0 at M = 0).
template <class T>
DIFFANA_HOST_DEVICE void
invariant_mass_pullback(T pt1, T eta1, T phi1, T m1, T pt2, T eta2, T phi2, T m2, T d_y,
                        T* d_pt1, T* d_eta1, T* d_phi1, T* d_m1, T* d_pt2, T* d_eta2,
                        T* d_phi2, T* d_m2) {
  const T x[8] = {pt1, eta1, phi1, m1, pt2, eta2, phi2, m2};
  T* const d[8] = {d_pt1, d_eta1, d_phi1, d_m1, d_pt2, d_eta2, d_phi2, d_m2};
  detail::lorentz_pullback<8>(detail::LorentzMass2{}, x, d_y, d);
}

/// invariant_mass of three objects pulled back (0 at M = 0).
template <class T>
DIFFANA_HOST_DEVICE void
invariant_mass_pullback(T pt1, T eta1, T phi1, T m1, T pt2, T eta2, T phi2, T m2, T pt3,
                        T eta3, T phi3, T m3, T d_y, T* d_pt1, T* d_eta1, T* d_phi1,
                        T* d_m1, T* d_pt2, T* d_eta2, T* d_phi2, T* d_m2, T* d_pt3,
                        T* d_eta3, T* d_phi3, T* d_m3) {
  const T x[12] = {pt1, eta1, phi1, m1, pt2, eta2, phi2, m2, pt3, eta3, phi3, m3};
  T* const d[12] = {d_pt1,  d_eta1, d_phi1, d_m1,   d_pt2,  d_eta2,
                    d_phi2, d_m2,   d_pt3,  d_eta3, d_phi3, d_m3};
  detail::lorentz_pullback<12>(detail::LorentzMass3{}, x, d_y, d);
}

/// pt_of_sum(pt1, phi1, pt2, phi2) pulled back (0 when the sum vanishes).
template <class T>
DIFFANA_HOST_DEVICE void pt_of_sum_pullback(T pt1, T phi1, T pt2, T phi2, T d_y,
                                            T* d_pt1, T* d_phi1, T* d_pt2, T* d_phi2) {
  const T x[4] = {pt1, phi1, pt2, phi2};
  T* const d[4] = {d_pt1, d_phi1, d_pt2, d_phi2};
  detail::lorentz_pullback<4>(detail::LorentzPtOfSum2{}, x, d_y, d);
}

/// pt_of_sum(pt1, phi1, pt2, phi2, pt3, phi3) pulled back.
template <class T>
DIFFANA_HOST_DEVICE void pt_of_sum_pullback(T pt1, T phi1, T pt2, T phi2, T pt3, T phi3,
                                            T d_y, T* d_pt1, T* d_phi1, T* d_pt2,
                                            T* d_phi2, T* d_pt3, T* d_phi3) {
  const T x[6] = {pt1, phi1, pt2, phi2, pt3, phi3};
  T* const d[6] = {d_pt1, d_phi1, d_pt2, d_phi2, d_pt3, d_phi3};
  detail::lorentz_pullback<6>(detail::LorentzPtOfSum3{}, x, d_y, d);
}

/// pt_of_sum with the argument list of invariant_mass (two objects) pulled back; eta
/// and m get nothing.
template <class T>
DIFFANA_HOST_DEVICE void pt_of_sum_pullback(T pt1, T eta1, T phi1, T m1, T pt2, T eta2,
                                            T phi2, T m2, T d_y, T* d_pt1, T* d_eta1,
                                            T* d_phi1, T* d_m1, T* d_pt2, T* d_eta2,
                                            T* d_phi2, T* d_m2) {
  (void)eta1, (void)m1, (void)eta2, (void)m2, (void)d_eta1, (void)d_m1, (void)d_eta2,
      (void)d_m2;
  pt_of_sum_pullback(pt1, phi1, pt2, phi2, d_y, d_pt1, d_phi1, d_pt2, d_phi2);
}

/// pt_of_sum with the argument list of invariant_mass (three objects) pulled back.
template <class T>
DIFFANA_HOST_DEVICE void
pt_of_sum_pullback(T pt1, T eta1, T phi1, T m1, T pt2, T eta2, T phi2, T m2, T pt3,
                   T eta3, T phi3, T m3, T d_y, T* d_pt1, T* d_eta1, T* d_phi1, T* d_m1,
                   T* d_pt2, T* d_eta2, T* d_phi2, T* d_m2, T* d_pt3, T* d_eta3,
                   T* d_phi3, T* d_m3) {
  (void)eta1, (void)m1, (void)eta2, (void)m2, (void)eta3, (void)m3;
  (void)d_eta1, (void)d_m1, (void)d_eta2, (void)d_m2, (void)d_eta3, (void)d_m3;
  pt_of_sum_pullback(pt1, phi1, pt2, phi2, pt3, phi3, d_y, d_pt1, d_phi1, d_pt2, d_phi2,
                     d_pt3, d_phi3);
}

} // namespace diffana
