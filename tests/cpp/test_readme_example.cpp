// SPDX-License-Identifier: BSD-3-Clause
// The computation of the README's C++ example (grad_hist.C), checked against finite
// differences. tests/python/test_readme.py compiles and runs the README's block itself
// and checks that this file fills the same histogram from the same seeds.
#include "diffana/diffana.hpp"

#include "check.hpp"

#include <array>
#include <vector>

namespace {

// The README example's histogram, as a function of the parameters.
template <class S>
diffana::GradHist1D<double, 2> readme_histogram(const S& scale, const S& cut) {
  diffana::GradHist1D<double, 2> h({0, 50, 100, 150, 200}, /*bandwidth=*/5.0);
  for (double pt : {42.0, 77.0, 151.0, 28.0}) {
    const S pt_s = pt * scale; // a calibrated jet pT
    h.fill(pt_s, diffana::soft_cut(pt_s, cut, 0.5));
  }
  return h;
}

} // namespace

DIFFANA_TEST(readme_example_jacobian_matches_finite_differences) {
  using D = diffana::Dual<double, 2>;
  const auto h = readme_histogram(D::variable(1.02, 0), D::variable(30.0, 1));
  const double eps = 1e-6;
  const std::array<std::array<double, 2>, 2> shifts{{{eps, 0.0}, {0.0, eps}}};
  for (int k = 0; k < 2; ++k) {
    const auto up = readme_histogram(1.02 + shifts[k][0], 30.0 + shifts[k][1]);
    const auto down = readme_histogram(1.02 - shifts[k][0], 30.0 - shifts[k][1]);
    for (int b = 0; b < 4; ++b) {
      const double fd = (up.values()[b] - down.values()[b]) / (2 * eps);
      CHECK_CLOSE(h.jacobian(b, k), fd, 1e-6, 1e-8);
    }
  }
  // Soft binning with fold-free edges keeps nearly all of the weight in range.
  double total = 0;
  for (double v : h.values())
    total += v;
  CHECK(total > 3.0 && total < 4.0);
}

int main() {
  return diffana::test::run_all();
}
