// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_invariant_mass_f64: invariant mass of two (pt, eta, phi, m) objects,
/// element-wise, with its partial derivatives. The maths is diffana/physics/lorentz.hpp
/// and the loop diffana::batch::elementwise (diffana/physics/batch.hpp); this file only
/// instantiates it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_invariant_mass_f64(const double* pt1, const double* eta1,
                                                  const double* phi1, const double* m1,
                                                  const double* pt2, const double* eta2,
                                                  const double* phi2, const double* m2,
                                                  int64_t n, double* value,
                                                  double* partials) {
  const double* const in[] = {pt1, eta1, phi1, m1, pt2, eta2, phi2, m2};
  return diffana::batch::elementwise<diffana::batch::InvariantMass>(in, n, value,
                                                                    partials);
}
