// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_physics_pt_of_sum3_f64: pT of the vector sum of three objects, element-wise,
/// with its partial derivatives. The maths is diffana/physics/lorentz.hpp and the loop
/// diffana::batch::elementwise (diffana/physics/batch.hpp); this file only instantiates
/// it.
#include "diffana/kernels.h"
#include "diffana/physics/batch.hpp"

#include <cstdint>

extern "C" int diffana_physics_pt_of_sum3_f64(const double* pt1, const double* phi1,
                                              const double* pt2, const double* phi2,
                                              const double* pt3, const double* phi3,
                                              int64_t n, double* value,
                                              double* partials) {
  const double* const in[] = {pt1, phi1, pt2, phi2, pt3, phi3};
  return diffana::batch::elementwise<diffana::batch::PtOfSum3>(in, n, value, partials);
}
