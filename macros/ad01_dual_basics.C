// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// \ingroup diffana_macros
/// Forward-mode derivatives with diffana::Dual inside a ROOT macro.
///
/// The invariant mass of a dimuon pair depends on a muon momentum scale `s` (both
/// transverse momenta are multiplied by it) and on a soft selection with a cut value
/// `c` on the leading muon pT. Seeding `s` and `c` as the two independent variables
/// of a Dual<double, 2> gives the weighted mass and both of its derivatives in one
/// evaluation; the macro prints them next to central finite differences.
///
/// Run (after make demo, from the repository root):
///   ROOT_INCLUDE_PATH=$(.venv/bin/diffana config --incdir) \
///     .venv/bin/root -l -b -q macros/ad01_dual_basics.C
///
/// \author diffana developers, 2026

#include "diffana/diffana.hpp"

#include <cstdio>

// A templated per-event computation: plain doubles give the value, Duals the gradient.
template <class T> T weighted_mass(const T& scale, const T& cut) {
  const T pt1 = 45.0 * scale;
  const T pt2 = 38.0 * scale;
  const T mass = diffana::invariant_mass(pt1, 0.3, 1.2, 0.105, pt2, -0.8, -1.9, 0.105);
  // A soft cut on the leading muon: ~1 well above the cut, ~0 well below.
  return mass * diffana::soft_cut(pt1, cut, 0.5);
}

void ad01_dual_basics() {
  using D = diffana::Dual<double, 2>;
  const D scale = D::variable(1.02, 0); // direction 0: d/d(scale)
  const D cut = D::variable(40.0, 1);   // direction 1: d/d(cut)
  const D m = weighted_mass(scale, cut);

  const double h = 1e-6;
  const double fd_scale =
      (weighted_mass(1.02 + h, 40.0) - weighted_mass(1.02 - h, 40.0)) / (2 * h);
  const double fd_cut =
      (weighted_mass(1.02, 40.0 + h) - weighted_mass(1.02, 40.0 - h)) / (2 * h);

  std::printf("weighted mass      = %.10f GeV\n", m.value());
  std::printf("d/d(scale)         = %.10f   (finite differences %.10f)\n", m.tangent(0),
              fd_scale);
  std::printf("d/d(cut)           = %.10f   (finite differences %.10f)\n", m.tangent(1),
              fd_cut);
}
