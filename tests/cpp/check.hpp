// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// A tiny single-header test framework for diffana's C++ tests (ctest runs each
/// test_*.cpp as one executable; a non-zero exit code fails it).
///
///   DIFFANA_TEST(name) { CHECK(a == b); CHECK_CLOSE(x, y, rel, abs);
///   CHECK_THROWS(expr); } int main() { return diffana::test::run_all(); }
///
/// It prints one line per failure and, at the end, "N passed, M failed".
#pragma once

#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace diffana::test {

struct Registry {
  std::vector<std::pair<std::string, std::function<void()>>> tests;
  int failures_in_current = 0;
  static Registry& get() {
    static Registry r;
    return r;
  }
};

struct Register {
  Register(const char* name, std::function<void()> fn) {
    Registry::get().tests.emplace_back(name, std::move(fn));
  }
};

inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
  ++Registry::get().failures_in_current;
}

/// |a - b| <= abs_tol + rel_tol * max(|a|, |b|); NaN never passes unless both are NaN.
inline bool close(double a, double b, double rel_tol, double abs_tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true; // covers equal infinities
  return std::fabs(a - b) <= abs_tol + rel_tol * std::fmax(std::fabs(a), std::fabs(b));
}

inline int run_all() {
  int passed = 0;
  int failed = 0;
  for (auto& [name, fn] : Registry::get().tests) {
    Registry::get().failures_in_current = 0;
    try {
      fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: unexpected exception: %s\n", name.c_str(), e.what());
      ++Registry::get().failures_in_current;
    }
    if (Registry::get().failures_in_current == 0) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "[FAIL] %s\n", name.c_str());
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

} // namespace diffana::test

#define DIFFANA_TEST_CAT2(a, b) a##b
#define DIFFANA_TEST_CAT(a, b) DIFFANA_TEST_CAT2(a, b)
#define DIFFANA_TEST(name)                                                             \
  static void DIFFANA_TEST_CAT(diffana_test_, name)();                                 \
  static const ::diffana::test::Register DIFFANA_TEST_CAT(diffana_register_, name)(    \
      #name, &DIFFANA_TEST_CAT(diffana_test_, name));                                  \
  static void DIFFANA_TEST_CAT(diffana_test_, name)()

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) ::diffana::test::fail(__FILE__, __LINE__, #cond);                     \
  } while (0)

#define CHECK_CLOSE(a, b, rel, abs_tol)                                                \
  do {                                                                                 \
    const double diffana_a_ = static_cast<double>(a);                                  \
    const double diffana_b_ = static_cast<double>(b);                                  \
    if (!::diffana::test::close(diffana_a_, diffana_b_, rel, abs_tol))                 \
      ::diffana::test::fail(__FILE__, __LINE__,                                        \
                            std::string(#a " ~= " #b ": ") +                           \
                                std::to_string(diffana_a_) + " vs " +                  \
                                std::to_string(diffana_b_));                           \
  } while (0)

#define CHECK_THROWS(expr)                                                             \
  do {                                                                                 \
    bool diffana_threw_ = false;                                                       \
    try {                                                                              \
      (void)(expr);                                                                    \
    } catch (...) {                                                                    \
      diffana_threw_ = true;                                                           \
    }                                                                                  \
    if (!diffana_threw_)                                                               \
      ::diffana::test::fail(__FILE__, __LINE__, "expected an exception from " #expr);  \
  } while (0)

/// Expects an exception of type E whose what() contains `needle`.
#define CHECK_THROWS_WITH(expr, E, needle)                                             \
  do {                                                                                 \
    bool diffana_ok_ = false;                                                          \
    std::string diffana_msg_ = "no exception";                                         \
    try {                                                                              \
      (void)(expr);                                                                    \
    } catch (const E& e) {                                                             \
      diffana_msg_ = e.what();                                                         \
      diffana_ok_ = diffana_msg_.find(needle) != std::string::npos;                    \
    } catch (const std::exception& e) {                                                \
      diffana_msg_ = std::string("other exception: ") + e.what();                      \
    }                                                                                  \
    if (!diffana_ok_)                                                                  \
      ::diffana::test::fail(__FILE__, __LINE__,                                        \
                            std::string(#expr " should throw " #E " containing '") +   \
                                needle + "', got: " + diffana_msg_);                   \
  } while (0)
