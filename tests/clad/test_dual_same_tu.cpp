// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Regression test for a crash of the Clad plugin (clang segfault in
/// Sema::PushOnScopeChains): one translation unit with a Clad-differentiated model
/// and diffana::Dual<double, P> around it, where the first copy or move assignment of
/// a Dual<double, P> is in code that Clad instantiates after the end of the
/// translation unit (a custom pushforward and pullback below, written the ordinary
/// way: Duals default-constructed, then assigned). clang then defines Dual's
/// implicit assignment as a memcpy through a lazily declared __builtin_memcpy, which
/// needs the closed translation-unit scope; diffana/ad/dual.hpp gives Dual a
/// written-out copy assignment under the plugin, so this compiles. The same TU also
/// evaluates the model on Duals in ordinary code; Clad's forward and reverse
/// derivatives must equal those of diffana::Dual to 1e-10. Built by tests/clad/run.sh.
#include "diffana/ad/dual.hpp"
#include "diffana/clad/custom_derivatives.hpp"
#include "diffana/soft/cuts.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <cmath>
#include <cstdio>

namespace model {

/// A user building block whose derivative the user provides through diffana::Dual.
template <class T> T scaled_gauss(T x, T mu) {
  using std::exp;
  const T d = x - mu;
  return exp(-0.5 * d * d / 64.0);
}

/// The per-event weight: two soft cuts and the building block above.
template <class T> T weight(T jes, T cut, T mu) {
  const T pt = jes * 47.0;
  return diffana::soft_cut(pt, cut, 0.2) * scaled_gauss(jes * 91.0, mu) +
         0.1 * diffana::soft_cut_below(pt, cut + 20.0, 0.5);
}

} // namespace model

namespace clad::custom_derivatives::model {

// Dual<double, 7> and Dual<double, 9> appear nowhere but here, and are assigned.
template <class T>
clad::ValueAndPushforward<T, T> scaled_gauss_pushforward(T x, T mu, T d_x, T d_mu) {
  using D = ::diffana::Dual<T, 7>;
  D a, b; // default-constructed, then assigned: the pattern that crashed
  a = D::variable(x, 0);
  b = D::variable(mu, 1);
  D r;
  r = ::model::scaled_gauss(a, b);
  return {r.value(), r.tangent(0) * d_x + r.tangent(1) * d_mu};
}

template <class T> void scaled_gauss_pullback(T x, T mu, T d_y, T* d_x, T* d_mu) {
  using D = ::diffana::Dual<T, 9>;
  D args[2];
  args[0] = D::variable(x, 0);
  args[1] = D::variable(mu, 1);
  D r = D(0.0);
  r = ::model::scaled_gauss(args[0], args[1]); // the copy assignment
  D moved;
  moved = static_cast<D&&>(r); // and the move assignment
  *d_x += d_y * moved.tangent(0);
  *d_mu += d_y * moved.tangent(1);
}

} // namespace clad::custom_derivatives::model

int main() {
  const double x[3] = {1.03, 40.0, 93.0};
  double rev[3] = {0, 0, 0};
  clad::gradient(model::weight<double>)
      .execute(x[0], x[1], x[2], &rev[0], &rev[1], &rev[2]);
  const double fwd[3] = {
      clad::differentiate(model::weight<double>, 0).execute(x[0], x[1], x[2]),
      clad::differentiate(model::weight<double>, 1).execute(x[0], x[1], x[2]),
      clad::differentiate(model::weight<double>, 2).execute(x[0], x[1], x[2])};
  // The same model on Dual<double, 3> in ordinary code, in the same TU.
  using D = diffana::Dual<double, 3>;
  D y;
  y = model::weight<D>(D::variable(x[0], 0), D::variable(x[1], 1),
                       D::variable(x[2], 2));
  bool ok = std::fabs(model::weight<double>(x[0], x[1], x[2]) - y.value()) <=
            1e-10 * std::fmax(1.0, std::fabs(y.value()));
  for (int i = 0; i < 3; ++i) {
    const double tol = 1e-10 * std::fmax(1.0, std::fabs(y.tangent(i)));
    const bool good = !std::isnan(rev[i]) && !std::isnan(fwd[i]) &&
                      std::fabs(rev[i] - y.tangent(i)) <= tol &&
                      std::fabs(fwd[i] - y.tangent(i)) <= tol;
    if (!good)
      std::printf("     d/dx%d: reverse %.17g forward %.17g Dual %.17g\n", i, rev[i],
                  fwd[i], y.tangent(i));
    ok = ok && good;
  }
  std::printf("%s Clad model and Duals assigned in Clad-instantiated code, one TU: "
              "value %.12g\n",
              ok ? "ok  " : "FAIL", y.value());
  return ok ? 0 : 1;
}
