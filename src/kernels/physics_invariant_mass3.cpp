// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_invariant_mass3_f64: invariant mass of three (pt, eta, phi, m)
/// objects, element-wise, with its partial derivatives. The maths is
/// diffana/physics/lorentz.hpp and the loop diffana::batch::elementwise
/// (diffana/physics/batch.hpp); this file only instantiates it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_invariant_mass3_f64(
    const double* pt1, const double* eta1, const double* phi1, const double* m1,
    const double* pt2, const double* eta2, const double* phi2, const double* m2,
    const double* pt3, const double* eta3, const double* phi3, const double* m3,
    int64_t n, double* value, double* partials) {
  const double* const in[] = {pt1,  eta1, phi1, m1,   pt2,  eta2,
                              phi2, m2,   pt3,  eta3, phi3, m3};
  return diffana::batch::elementwise<diffana::batch::InvariantMass3>(in, n, value,
                                                                     partials);
}
