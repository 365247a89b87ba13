// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_delta_phi_f64: phi1 - phi2 wrapped into [-pi, pi), element-wise,
/// with its partial derivatives. The maths is diffana/physics/lorentz.hpp and the loop
/// diffana::batch::elementwise (diffana/physics/batch.hpp); this file only instantiates
/// it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_delta_phi_f64(const double* phi1, const double* phi2,
                                             int64_t n, double* value,
                                             double* partials) {
  const double* const in[] = {phi1, phi2};
  return diffana::batch::elementwise<diffana::batch::DeltaPhi>(in, n, value, partials);
}
