// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Clad's forward (clad::differentiate, one call per argument) and reverse
/// (clad::gradient) derivatives of user functions that call diffana, through the
/// custom derivatives of diffana/clad/custom_derivatives.hpp, against diffana::Dual:
/// equal to 1e-10 (relative to max(1, |value|)), never NaN. Built and run by
/// tests/clad/run.sh with clang++-16 and the Clad plugin (which also fails on any
/// warning of the plugin). Exit status 0 when every check passes.
#include "diffana/clad/custom_derivatives.hpp"

#include "clad/Differentiator/Differentiator.h"
#include "user_functions.hpp"

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

bool close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return false;
  return std::fabs(a - b) <= 1e-10 * std::fmax(1.0, std::fabs(b));
}

/// Compares Clad's reverse (rev) and forward (fwd) derivatives of `name` at x with
/// those of the Dual evaluation (value y and tangents).
template <int K>
void compare(const char* name, const double (&x)[K], const diffana::Dual<double, K>& y,
             const double (&rev)[K], const double (&fwd)[K], double value) {
  bool ok = close(value, y.value());
  for (int i = 0; i < K; ++i)
    ok = ok && close(rev[i], y.tangent(i)) && close(fwd[i], y.tangent(i));
  ++checks;
  if (ok) {
    std::printf("ok   %-30s value %.12g\n", name, y.value());
    return;
  }
  ++failures;
  std::printf("FAIL %-30s at", name);
  for (int i = 0; i < K; ++i)
    std::printf(" %g", x[i]);
  std::printf(": value %.17g (Dual %.17g)\n", value, y.value());
  for (int i = 0; i < K; ++i)
    std::printf("     d/dx%d: reverse %.17g forward %.17g Dual %.17g\n", i, rev[i],
                fwd[i], y.tangent(i));
}

} // namespace

// One macro per arity: Clad needs the function as a compile-time argument.
#define CHECK2(F, A, B)                                                                \
  do {                                                                                 \
    const double x[2] = {A, B};                                                        \
    double rev[2] = {0, 0};                                                            \
    clad::gradient(user::F<double>).execute(x[0], x[1], &rev[0], &rev[1]);             \
    const double fwd[2] = {                                                            \
        clad::differentiate(user::F<double>, 0).execute(x[0], x[1]),                   \
        clad::differentiate(user::F<double>, 1).execute(x[0], x[1])};                  \
    using D = diffana::Dual<double, 2>;                                                \
    compare<2>(#F, x, user::F<D>(D::variable(x[0], 0), D::variable(x[1], 1)), rev,     \
               fwd, user::F<double>(x[0], x[1]));                                      \
  } while (0)

#define CHECK3(F, A, B, C)                                                             \
  do {                                                                                 \
    const double x[3] = {A, B, C};                                                     \
    double rev[3] = {0, 0, 0};                                                         \
    clad::gradient(user::F<double>)                                                    \
        .execute(x[0], x[1], x[2], &rev[0], &rev[1], &rev[2]);                         \
    const double fwd[3] = {                                                            \
        clad::differentiate(user::F<double>, 0).execute(x[0], x[1], x[2]),             \
        clad::differentiate(user::F<double>, 1).execute(x[0], x[1], x[2]),             \
        clad::differentiate(user::F<double>, 2).execute(x[0], x[1], x[2])};            \
    using D = diffana::Dual<double, 3>;                                                \
    compare<3>(                                                                        \
        #F, x,                                                                         \
        user::F<D>(D::variable(x[0], 0), D::variable(x[1], 1), D::variable(x[2], 2)),  \
        rev, fwd, user::F<double>(x[0], x[1], x[2]));                                  \
  } while (0)

#define CHECK4(F, A, B, C, E)                                                          \
  do {                                                                                 \
    const double x[4] = {A, B, C, E};                                                  \
    double rev[4] = {0, 0, 0, 0};                                                      \
    clad::gradient(user::F<double>)                                                    \
        .execute(x[0], x[1], x[2], x[3], &rev[0], &rev[1], &rev[2], &rev[3]);          \
    const double fwd[4] = {                                                            \
        clad::differentiate(user::F<double>, 0).execute(x[0], x[1], x[2], x[3]),       \
        clad::differentiate(user::F<double>, 1).execute(x[0], x[1], x[2], x[3]),       \
        clad::differentiate(user::F<double>, 2).execute(x[0], x[1], x[2], x[3]),       \
        clad::differentiate(user::F<double>, 3).execute(x[0], x[1], x[2], x[3])};      \
    using D = diffana::Dual<double, 4>;                                                \
    compare<4>(#F, x,                                                                  \
               user::F<D>(D::variable(x[0], 0), D::variable(x[1], 1),                  \
                          D::variable(x[2], 2), D::variable(x[3], 3)),                 \
               rev, fwd, user::F<double>(x[0], x[1], x[2], x[3]));                     \
  } while (0)

int main() {
  CHECK3(f_soft_cut, 31.0, 30.0, 0.2);
  CHECK3(f_soft_cut_below, 5.2, 30.0, 0.5);
  CHECK4(f_soft_window, 91.0, 80.0, 100.0, 0.3);
  CHECK3(f_straight_through_cut, 31.0, 30.0, 0.2);
  CHECK3(f_straight_through_cut_below, 55.0, 30.0, 0.2);
  CHECK3(f_soft_step, 31.0, 30.0, 4.0);
  CHECK3(f_soft_step_below, 29.0, 30.0, 4.0);
  CHECK2(f_to_px, 45.0, 0.7);
  CHECK2(f_to_py, 45.0, 0.7);
  CHECK2(f_to_pz, 45.0, -1.3);
  CHECK3(f_to_energy, 45.0, -1.3, 7.0);
  CHECK2(f_delta_phi, 3.0, -2.9);
  CHECK4(f_delta_r, 0.4, 3.0, -0.2, -2.9);
  CHECK4(f_invariant_mass, 1.02, 61.0, 42.0, 9.0);
  CHECK3(f_invariant_mass3, 1.02, 61.0, 0.4);
  CHECK4(f_pt_of_sum, 61.0, 0.3, 42.0, 2.2);
  CHECK4(f_weight, 1.0, 30.0, 80.0, 100.0);
  // <cmath> at the kinks where Clad's built-ins give NaN or one-sided derivatives,
  // and away from them.
  CHECK2(f_hypot, 1.0, 0.0);
  CHECK2(f_hypot, 4.0, -3.0);
  CHECK2(f_atan2, 0.0, 2.0);
  CHECK2(f_atan2, 1.5, -1.0);
  CHECK2(f_pow, 0.0, 2.0);
  CHECK2(f_pow, 1.5, 2.5);
  CHECK2(f_fmax, 1.0, 1.0);
  CHECK2(f_fmax, 2.0, 1.0);
  CHECK2(f_fmin, 1.0, 1.0);
  CHECK2(f_fmin, 2.0, 3.0);
  {
    // soft_argmax(x, t): x = (1.0, 1.4, 1.2), t = 0.5.
    const std::vector<double> x = {1.0, 1.4, 1.2};
    const double t = 0.5;
    std::vector<double> dx(3, 0.0);
    double dt = 0;
    clad::gradient(user::f_soft_argmax<double>).execute(x, t, &dx, &dt);
    const double xs[4] = {x[0], x[1], x[2], t};
    const double rev[4] = {dx[0], dx[1], dx[2], dt};
    // Clad's forward mode takes scalar independent variables only: the vector
    // entries' forward derivatives stand in as the Dual ones (checked in reverse).
    using D = diffana::Dual<double, 4>;
    const std::vector<D> xd = {D::variable(x[0], 0), D::variable(x[1], 1),
                               D::variable(x[2], 2)};
    const D y = user::f_soft_argmax<D>(xd, D::variable(t, 3));
    double fwd[4] = {y.tangent(0), y.tangent(1), y.tangent(2), 0.0};
    fwd[3] =
        clad::differentiate(user::f_soft_argmax<double>, "temperature").execute(x, t);
    compare<4>("f_soft_argmax", xs, y, rev, fwd, user::f_soft_argmax<double>(x, t));
  }
  {
    // soft_pick(scores, values, t) * t: two objects.
    const std::vector<double> s = {0.3, 0.9};
    const std::vector<double> v = {91.0, 120.0};
    const double t = 0.4;
    std::vector<double> ds(2, 0.0), dv(2, 0.0);
    double dt = 0;
    clad::gradient(user::f_soft_pick<double>).execute(s, v, t, &ds, &dv, &dt);
    const double xs[5] = {s[0], s[1], v[0], v[1], t};
    const double rev[5] = {ds[0], ds[1], dv[0], dv[1], dt};
    using D = diffana::Dual<double, 5>;
    const std::vector<D> sd = {D::variable(s[0], 0), D::variable(s[1], 1)};
    const std::vector<D> vd = {D::variable(v[0], 2), D::variable(v[1], 3)};
    const D y = user::f_soft_pick<D>(sd, vd, D::variable(t, 4));
    double fwd[5] = {y.tangent(0), y.tangent(1), y.tangent(2), y.tangent(3), 0.0};
    fwd[4] =
        clad::differentiate(user::f_soft_pick<double>, "temperature").execute(s, v, t);
    compare<5>("f_soft_pick", xs, y, rev, fwd, user::f_soft_pick<double>(s, v, t));
  }
  std::printf("%d of %d functions agree with diffana::Dual\n", checks - failures,
              checks);
  return failures == 0 ? 0 : 1;
}
