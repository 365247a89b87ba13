// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Clad's forward (clad::differentiate) and reverse (clad::gradient) derivatives of
/// user functions calling diffana's functions of containers, pointer + length and
/// four-vectors (user_containers.hpp), through the custom derivatives of
/// diffana/clad/select.hpp, agc.hpp and custom_derivatives.hpp, against
/// diffana::Dual: equal to 1e-10 (relative to max(1, |value|)), never NaN. Forward
/// mode is checked for every scalar parameter (Clad's forward mode takes no
/// std::vector independent variable; the entries of vector parameters are checked in
/// reverse mode). Built and run by tests/clad/run.sh (which fails on any warning of
/// the plugin). Exit status 0 when every check passes.
#include "diffana/clad/custom_derivatives.hpp"

#include "clad/Differentiator/Differentiator.h"
#include "user_containers.hpp"

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

/// Compares Clad's value, reverse derivatives rev[0..K-1] and forward derivatives
/// fwd[i] (where has_fwd[i]) with the Dual evaluation y.
template <int K>
void compare(const char* name, double value, const diffana::Dual<double, K>& y,
             const double (&rev)[K], const double (&fwd)[K], const bool (&has_fwd)[K]) {
  bool ok = close(value, y.value());
  bool nonzero = false;
  for (int i = 0; i < K; ++i) {
    ok = ok && close(rev[i], y.tangent(i)) &&
         (!has_fwd[i] || close(fwd[i], y.tangent(i)));
    nonzero = nonzero || y.tangent(i) != 0.0;
  }
  ok = ok && nonzero; // a test of derivatives that are all zero would test nothing
  ++checks;
  if (ok) {
    std::printf("ok   %-30s value %.12g\n", name, y.value());
    return;
  }
  ++failures;
  std::printf("FAIL %-30s value %.17g (Dual %.17g)\n", name, value, y.value());
  for (int i = 0; i < K; ++i)
    std::printf("     d/dx%d: reverse %.17g forward %.17g%s Dual %.17g\n", i, rev[i],
                fwd[i], has_fwd[i] ? "" : " (not checked)", y.tangent(i));
}

/// A function of three scalars: Clad forward (one call per argument) and reverse.
#define CHECK_SCALARS3(F, A, B, C)                                                     \
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
    const D y =                                                                        \
        user::F<D>(D::variable(x[0], 0), D::variable(x[1], 1), D::variable(x[2], 2));  \
    compare<3>(#F, user::F<double>(x[0], x[1], x[2]), y, rev, fwd,                     \
               {true, true, true});                                                    \
  } while (0)

/// A function of four scalars.
#define CHECK_SCALARS4(F, A, B, C, E)                                                  \
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
    const D y = user::F<D>(D::variable(x[0], 0), D::variable(x[1], 1),                 \
                           D::variable(x[2], 2), D::variable(x[3], 3));                \
    compare<4>(#F, user::F<double>(x[0], x[1], x[2], x[3]), y, rev, fwd,               \
               {true, true, true, true});                                              \
  } while (0)

/// A function of a 4-vector x and a scalar s: reverse for all five, forward for s.
#define CHECK_VECTOR4_SCALAR(F, X0, X1, X2, X3, S)                                     \
  do {                                                                                 \
    const std::vector<double> x = {X0, X1, X2, X3};                                    \
    const double s = S;                                                                \
    std::vector<double> dx(4, 0.0);                                                    \
    double ds = 0;                                                                     \
    clad::gradient(user::F<double>).execute(x, s, &dx, &ds);                           \
    const double rev[5] = {dx[0], dx[1], dx[2], dx[3], ds};                            \
    double fwd[5] = {0, 0, 0, 0, 0};                                                   \
    fwd[4] = clad::differentiate(user::F<double>, 1).execute(x, s);                    \
    using D = diffana::Dual<double, 5>;                                                \
    const std::vector<D> xd = {D::variable(x[0], 0), D::variable(x[1], 1),             \
                               D::variable(x[2], 2), D::variable(x[3], 3)};            \
    const D y = user::F<D>(xd, D::variable(s, 4));                                     \
    compare<5>(#F, user::F<double>(x, s), y, rev, fwd,                                 \
               {false, false, false, false, true});                                    \
  } while (0)

} // namespace

int main() {
  // Soft selections returning sequences.
  CHECK_VECTOR4_SCALAR(f_softmax, 1.0, 1.4, 1.2, 0.3, 0.5);
  CHECK_VECTOR4_SCALAR(f_soft_sort, 3.0, 1.0, 2.5, 2.2, 2.0);
  CHECK_VECTOR4_SCALAR(f_soft_sort_descending, 3.0, 1.0, 2.5, 2.2, 2.0);
  CHECK_VECTOR4_SCALAR(f_soft_rank, 3.0, 1.0, 2.5, 2.2, 1.5);
  CHECK_VECTOR4_SCALAR(f_soft_rank_descending, 3.0, 1.0, 2.5, 2.2, 1.5);

  // AGC blocks, pointer + length.
  CHECK_SCALARS3(f_count_at_least, 1.02, 30.0, 2.0);
  CHECK_SCALARS3(f_count_exactly, 0.99, 30.0, 1.5);
  CHECK_SCALARS3(f_count_distribution, 1.01, 30.0, 1.0);
  CHECK_SCALARS3(f_first_selected, 1.03, 30.0, 2.0);
  CHECK_SCALARS3(f_regions, 1.0, 30.0, 0.5);
  CHECK_SCALARS3(f_trijet, 1.02, 30.0, 0.5);

  // AGC blocks, containers.
  {
    const std::vector<double> w = {0.9, 0.3, 0.6, 0.05};
    std::vector<double> dw(4, 0.0);
    clad::gradient(user::f_count_container<double>).execute(w, &dw);
    const double rev[4] = {dw[0], dw[1], dw[2], dw[3]};
    const double fwd[4] = {0, 0, 0, 0};
    using D = diffana::Dual<double, 4>;
    const std::vector<D> wd = {D::variable(w[0], 0), D::variable(w[1], 1),
                               D::variable(w[2], 2), D::variable(w[3], 3)};
    compare<4>("f_count_container", user::f_count_container<double>(w),
               user::f_count_container<D>(wd), rev, fwd, {false, false, false, false});
  }
  {
    const std::vector<double> s = {0.9, 0.8, 0.95, 0.7, 0.6};
    const std::vector<double> b = {0.9, 0.1, 0.6, 0.2, 0.3};
    std::vector<double> ds(5, 0.0), db(5, 0.0);
    clad::gradient(user::f_regions_container<double>).execute(s, b, &ds, &db);
    double rev[10], fwd[10] = {};
    for (int i = 0; i < 5; ++i) {
      rev[i] = ds[static_cast<std::size_t>(i)];
      rev[5 + i] = db[static_cast<std::size_t>(i)];
    }
    using D = diffana::Dual<double, 10>;
    std::vector<D> sd, bd;
    for (int i = 0; i < 5; ++i) {
      sd.push_back(D::variable(s[static_cast<std::size_t>(i)], i));
      bd.push_back(D::variable(b[static_cast<std::size_t>(i)], 5 + i));
    }
    compare<10>("f_regions_container", user::f_regions_container<double>(s, b),
                user::f_regions_container<D>(sd, bd), rev, fwd, {});
  }

  // Lorentz helpers of a PxPyPzE.
  CHECK_SCALARS4(f_vector_pt, 30.0, -40.0, 12.0, 60.0);
  CHECK_SCALARS4(f_vector_eta, 30.0, -40.0, 12.0, 60.0);
  CHECK_SCALARS4(f_vector_phi, 30.0, -40.0, 12.0, 60.0);
  CHECK_SCALARS4(f_vector_mass, 30.0, -40.0, 12.0, 60.0);

  std::printf("%d of %d functions agree with diffana::Dual\n", checks - failures,
              checks);
  return failures == 0 ? 0 : 1;
}
