// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Per-event cost of a network call (diffana/nn/): the forward pass in double, the
/// forward-mode call on a parameter block (mlp_call: forward in double + one reverse
/// sweep, tangents assembled) and the all-Dual forward pass (every weight a Dual
/// direction), for the example's 5-8-1 network with P = 64 tangents. Prints a
/// markdown table. Build and run:
///   g++ -std=c++17 -O3 -march=x86-64-v2 -Iinclude benchmarks/bench_nn.cpp -o
///   /tmp/bench_nn /tmp/bench_nn
#include "diffana/nn/call.hpp"

#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace {

constexpr int kN = 64;
using DN = diffana::Dual<double, kN>;

struct Block {
  static constexpr int n_params = kN;
  std::vector<double> v;
  double value(int i) const { return v[std::size_t(i)]; }
};

template <class F> double ns_per_call(F&& f, int n) {
  const auto t0 = std::chrono::steady_clock::now();
  double sink = 0;
  for (int i = 0; i < n; ++i)
    sink += f(i);
  const auto t1 = std::chrono::steady_clock::now();
  if (sink == 12345.678) std::printf("!");
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
}

} // namespace

int main() {
  using namespace diffana::nn;
  const Mlp net({5, 8, 1}, Activation::tanh, Activation::sigmoid);
  const int off = 6;
  std::mt19937_64 gen(1);
  std::normal_distribution<double> d(0.0, 0.5);
  Block block{std::vector<double>(kN)};
  for (auto& x : block.v)
    x = d(gen);
  const int n_ev = 1 << 14;
  std::vector<double> xs(std::size_t(n_ev) * 5);
  for (auto& x : xs)
    x = d(gen);
  const int n = 400000;
  const double t_double = ns_per_call(
      [&](int i) {
        double y;
        mlp(net, block.v.data() + off, xs.data() + 5 * (i % n_ev), &y);
        return y;
      },
      n);
  const DN p0 = DN::variable(0.3, 0);
  const double t_call = ns_per_call(
      [&](int i) {
        const double* x = xs.data() + 5 * (i % n_ev);
        const DN y = mlp_call(net, block, off, x[0] * p0, x[1], x[2], x[3], x[4]);
        return y.tangent(off);
      },
      n);
  std::vector<DN> wd(net.n_weights());
  for (std::size_t j = 0; j < wd.size(); ++j)
    wd[j] = DN::variable(block.v[std::size_t(off) + j], off + int(j));
  const double t_dual = ns_per_call(
      [&](int i) {
        const double* x = xs.data() + 5 * (i % n_ev);
        const DN in[5] = {x[0] * p0, DN(x[1]), DN(x[2]), DN(x[3]), DN(x[4])};
        DN y;
        mlp(net, wd.data(), in, &y);
        return y.tangent(off);
      },
      n);
  std::printf("| 5-8-1 network (57 weights), P = %d | ns per event | vs double |\n",
              kN);
  std::printf("|---|---|---|\n");
  std::printf("| forward, double | %.1f | 1.0 |\n", t_double);
  std::printf("| mlp_call (forward + reverse sweep, Dual result) | %.1f | %.1f |\n",
              t_call, t_call / t_double);
  std::printf("| all-Dual forward (weights as Dual directions) | %.1f | %.1f |\n",
              t_dual, t_dual / t_double);
  return 0;
}
