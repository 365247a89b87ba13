// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_to_cartesian_f64: (pt, eta, phi, m) -> (px, py, pz, E),
/// element-wise, with its partial derivatives. The maths is diffana/physics/lorentz.hpp
/// and the loop diffana::batch::elementwise (diffana/physics/batch.hpp); this file only
/// instantiates it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_to_cartesian_f64(const double* pt, const double* eta,
                                                const double* phi, const double* m,
                                                int64_t n, double* value,
                                                double* partials) {
  const double* const in[] = {pt, eta, phi, m};
  return diffana::batch::elementwise<diffana::batch::ToCartesian>(in, n, value,
                                                                  partials);
}
