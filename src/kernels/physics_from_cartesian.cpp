// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_from_cartesian_f64: (px, py, pz, E) -> (pt, eta, phi, m),
/// element-wise, with its partial derivatives. The maths is diffana/physics/lorentz.hpp
/// and the loop diffana::batch::elementwise (diffana/physics/batch.hpp); this file only
/// instantiates it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_from_cartesian_f64(const double* px, const double* py,
                                                  const double* pz, const double* e,
                                                  int64_t n, double* value,
                                                  double* partials) {
  const double* const in[] = {px, py, pz, e};
  return diffana::batch::elementwise<diffana::batch::FromCartesian>(in, n, value,
                                                                    partials);
}
