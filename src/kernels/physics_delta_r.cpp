// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_delta_r_f64: Delta R of two objects, element-wise, with its partial
/// derivatives. The maths is diffana/physics/lorentz.hpp and the loop
/// diffana::batch::elementwise (diffana/physics/batch.hpp); this file only instantiates
/// it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_delta_r_f64(const double* eta1, const double* phi1,
                                           const double* eta2, const double* phi2,
                                           int64_t n, double* value, double* partials) {
  const double* const in[] = {eta1, phi1, eta2, phi2};
  return diffana::batch::elementwise<diffana::batch::DeltaR>(in, n, value, partials);
}
