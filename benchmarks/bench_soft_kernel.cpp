// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Nanoseconds per event of diffana_hist_fill_1d_f64 (src/kernels/hist_fill_1d.cpp)
/// in the configuration of benchmarks/bench_hist.py: 20 bins on [-3, 3], x ~ N(0, 1),
/// w ~ U(0.5, 1.5), tangents ~ N(0, 0.1); soft (bandwidth 0.1, about 7 edges per
/// event) and hard, for P = 0, 1, 4, 8 (P = 0: values and sumw2 only). Prints the
/// best of `repeat` runs over n events (an optional third argument picks one case,
/// e.g. "soft8", for a profiler). A timing program, never a test:
///
///   g++ -std=c++17 -O3 -DNDEBUG -I include -o /tmp/bench_soft_kernel
///       benchmarks/bench_soft_kernel.cpp src/kernels/hist_fill_1d.cpp
///   /tmp/bench_soft_kernel [n = 1000000] [repeat = 7] [case]
///
/// Add -DDIFFANA_NO_ISA_DISPATCH to time the baseline (SSE2) code instead of the
/// AVX2 build of the soft fill that the kernel picks at run time.
#include "diffana/kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

struct Case {
  const char* name;
  double bandwidth;
  std::int64_t P;
};

double best_ns_per_event(const Case& c, std::int64_t n, int repeat) {
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.5, 1.5);
  const auto un = static_cast<std::size_t>(n);
  const auto up = static_cast<std::size_t>(c.P);
  std::vector<double> x(un), w(un), xt(un * up), wt(un * up);
  for (std::size_t i = 0; i < un; ++i) {
    x[i] = normal(gen);
    w[i] = uniform(gen);
  }
  for (auto& v : xt)
    v = 0.1 * normal(gen);
  for (auto& v : wt)
    v = 0.1 * normal(gen);
  std::vector<double> edges(21);
  for (std::size_t j = 0; j < 21; ++j)
    edges[j] = -3.0 + 6.0 * static_cast<double>(j) / 20.0;
  const std::size_t nbins = 20;
  std::vector<double> values(nbins), sumw2(nbins), jac(nbins * up), sjac(nbins * up);
  double best = 1e300;
  double checksum = 0;
  for (int r = 0; r < repeat; ++r) {
    std::fill(values.begin(), values.end(), 0.0);
    std::fill(sumw2.begin(), sumw2.end(), 0.0);
    std::fill(jac.begin(), jac.end(), 0.0);
    std::fill(sjac.begin(), sjac.end(), 0.0);
    std::int64_t skipped = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const int status = diffana_hist_fill_1d_f64(
        x.data(), c.P > 0 ? xt.data() : nullptr, w.data(),
        c.P > 0 ? wt.data() : nullptr, n, c.P, edges.data(), 20, c.bandwidth, 0,
        values.data(), sumw2.data(), c.P > 0 ? jac.data() : nullptr,
        c.P > 0 ? sjac.data() : nullptr, &skipped, nullptr, nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    if (status != 0) {
      std::fprintf(stderr, "status %d\n", status);
      std::exit(1);
    }
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    best = std::min(best, ns / static_cast<double>(n));
    checksum += values[10];
  }
  if (checksum == 0.0) std::printf("(checksum 0)\n");
  return best;
}

} // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 7;
  const std::string only = argc > 3 ? argv[3] : "";
  const Case cases[] = {{"hard", 0.0, 0}, {"hard", 0.0, 1}, {"hard", 0.0, 8},
                        {"soft", 0.1, 0}, {"soft", 0.1, 1}, {"soft", 0.1, 4},
                        {"soft", 0.1, 8}};
  std::printf("%-6s %3s %12s\n", "kind", "P", "ns/event");
  for (const Case& c : cases) {
    if (!only.empty() && only != c.name + std::to_string(c.P)) continue;
    std::printf("%-6s %3lld %12.1f\n", c.name, static_cast<long long>(c.P),
                best_ns_per_event(c, n, repeat));
  }
  return 0;
}
