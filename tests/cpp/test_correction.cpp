// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana/correction/correction.hpp, the run-time part of the C++ that
/// diffana.correction generates from correctionlib files: bin lookup with
/// correctionlib's rules (bins [lo, hi), upper_bound, NaN above the range, flows
/// clamp / error / value / wrap), the error messages, element-wise evaluation over
/// vectors, and updown (values at -1, 0, 1, the linear tails and every derivative
/// against finite differences). The generated code itself is compared with
/// correctionlib in tests/python/test_correction*.py.
#include "diffana/ad/dual.hpp"
#include "diffana/correction/correction.hpp"

#include "check.hpp"
#include "gradient_check.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace dc = diffana::correction;
using D1 = diffana::Dual<double, 1>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEdges[] = {0.0, 1.0, 2.5, 4.0};

int bin(double v, dc::Flow flow) {
  return dc::find_bin(v, kEdges, 4, flow, "c", "x");
}
int ubin(double v, dc::Flow flow) {
  return dc::find_bin_uniform(v, 4, 0.0, 2.0, flow, "c", "x");
}

/// A stand-in for a generated correction: evaluate(x, y) = x * y + 1.
struct Product {
  template <class X, class Y> auto evaluate(const X& x, const Y& y) const {
    return x * y + 1.0;
  }
};

} // namespace

DIFFANA_TEST(find_bin_inside_uses_half_open_bins) {
  CHECK(bin(0.0, dc::Flow::error) == 0);
  CHECK(bin(0.999, dc::Flow::error) == 0);
  CHECK(bin(1.0, dc::Flow::error) == 1);
  CHECK(bin(2.5, dc::Flow::error) == 2);
  CHECK(bin(3.999, dc::Flow::error) == 2);
}

DIFFANA_TEST(find_bin_flows) {
  CHECK(bin(-1.0, dc::Flow::clamp) == 0);
  CHECK(bin(4.0, dc::Flow::clamp) == 2);
  CHECK(bin(kInf, dc::Flow::clamp) == 2);
  CHECK(bin(kNaN, dc::Flow::clamp) == 2);
  CHECK(bin(-1.0, dc::Flow::value) == -1);
  CHECK(bin(4.0, dc::Flow::value) == -1);
  CHECK(bin(kNaN, dc::Flow::value) == -1);
  CHECK(bin(4.5, dc::Flow::wrap) == 0);  // 4.5 -> 0.5
  CHECK(bin(-1.0, dc::Flow::wrap) == 2); // -1 -> 3
  CHECK(bin(9.0, dc::Flow::wrap) == 1);  // 9 -> 1
  CHECK_THROWS_WITH(bin(4.0, dc::Flow::error), std::domain_error,
                    "correction 'c': input 'x' = 4 is above the binning range [0, 4)");
  CHECK_THROWS_WITH(bin(-0.5, dc::Flow::error), std::domain_error, "-0.5 is below");
  CHECK_THROWS_WITH(bin(kNaN, dc::Flow::error), std::domain_error, "is NaN");
  CHECK_THROWS_WITH(bin(kNaN, dc::Flow::wrap), std::domain_error, "is NaN");
}

DIFFANA_TEST(find_bin_with_infinite_edges) {
  const double edges[] = {-kInf, 0.0, kInf};
  CHECK(dc::find_bin(-1e300, edges, 3, dc::Flow::error, "c", "x") == 0);
  CHECK(dc::find_bin(0.0, edges, 3, dc::Flow::error, "c", "x") == 1);
  CHECK_THROWS(dc::find_bin(kInf, edges, 3, dc::Flow::error, "c", "x"));
}

DIFFANA_TEST(find_bin_uniform_matches_the_edges) {
  CHECK(ubin(0.0, dc::Flow::error) == 0);
  CHECK(ubin(0.5, dc::Flow::error) == 1);
  CHECK(ubin(1.999999, dc::Flow::error) == 3);
  CHECK(ubin(-0.1, dc::Flow::clamp) == 0);
  CHECK(ubin(2.0, dc::Flow::clamp) == 3);
  CHECK(ubin(kNaN, dc::Flow::clamp) == 3);
  CHECK(ubin(2.0, dc::Flow::value) == -1);
  CHECK(ubin(2.25, dc::Flow::wrap) == 0);
  CHECK_THROWS_WITH(ubin(2.0, dc::Flow::error), std::domain_error,
                    "input 'x' = 2 is above the binning range [0, 2)");
}

DIFFANA_TEST(unknown_category_names_the_key) {
  CHECK_THROWS_WITH(dc::unknown_category("jes", "syst", std::string_view("upp")),
                    std::domain_error, "correction 'jes': input 'syst' = \"upp\"");
  CHECK_THROWS_WITH(dc::unknown_category("c", "flavour", 7LL), std::domain_error,
                    "input 'flavour' = 7 is not one of its categories");
}

DIFFANA_TEST(input_kinds) {
  static_assert(dc::is_real_input_v<float> && dc::is_real_input_v<D1>);
  static_assert(dc::is_string_input_v<const char*> &&
                dc::is_string_input_v<std::string>);
  static_assert(!dc::is_string_input_v<double> && !dc::is_real_input_v<std::string>);
  static_assert(dc::is_int_input_v<long> && !dc::is_int_input_v<bool>);
  static_assert(std::is_same_v<dc::real_t<float>, double>);
  static_assert(std::is_same_v<dc::real_t<D1>, D1>);
  CHECK(true);
}

DIFFANA_TEST(apply_is_element_wise_and_broadcasts_scalars) {
  const Product f;
  CHECK(dc::apply(f, 2.0, 3.0) == 7.0);
  const std::vector<float> x{1.0F, 2.0F, 3.0F};
  const auto r = dc::apply(f, x, 2.0);
  static_assert(std::is_same_v<std::decay_t<decltype(r)>, std::vector<double>>);
  CHECK(r.size() == 3 && r[0] == 3.0 && r[2] == 7.0);
  const std::vector<double> y{1.0, 0.5, 0.0};
  const auto s = dc::apply(f, x, y);
  CHECK(s[1] == 2.0 && s[2] == 1.0);
  CHECK_THROWS_WITH(dc::apply(f, x, std::vector<double>{1.0}), std::invalid_argument,
                    "different sizes (3 and 1)");
  CHECK(dc::apply(f, std::vector<double>{}, 1.0).empty());
}

DIFFANA_TEST(updown_values) {
  CHECK(dc::updown(0.0, 10.0, 12.0, 9.0) == 10.0);
  CHECK_CLOSE(dc::updown(1.0, 10.0, 12.0, 9.0), 12.0, 1e-15, 0.0);
  CHECK_CLOSE(dc::updown(-1.0, 10.0, 12.0, 9.0), 9.0, 1e-15, 0.0);
  CHECK_CLOSE(dc::updown(2.0, 10.0, 12.0, 9.0), 14.0, 1e-15, 0.0);
  CHECK_CLOSE(dc::updown(-3.0, 10.0, 12.0, 9.0), 7.0, 1e-15, 0.0);
  // symmetric variations: exactly linear
  CHECK_CLOSE(dc::updown(0.3, 10.0, 11.0, 9.0), 10.3, 1e-15, 0.0);
  // d/dtheta at 0 is (up - down) / 2
  const D1 t = D1::variable(0.0, 0);
  CHECK_CLOSE(dc::updown(t, 10.0, 12.0, 9.0).tangent(0), 1.5, 1e-15, 0.0);
}

DIFFANA_TEST(updown_gradients) {
  const auto f = [](const auto& a) { return dc::updown(a[0], a[1], a[2], a[3]); };
  for (double theta : {-2.5, -1.0 - 1e-3, -0.7, -0.2, 0.0, 0.4, 0.999, 1.5})
    CHECK_GRADIENT("updown", f, std::array<double, 4>{theta, 10.0, 12.5, 9.2});
}
int main() {
  return diffana::test::run_all();
}
