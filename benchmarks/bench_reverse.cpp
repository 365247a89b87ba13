// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Nanoseconds per event of value + gradient of the per-event weight of
/// benchmarks/hep_weight.hpp (hep_weight3 / hep_weight8 / hep_weight_binned) at
/// P = 3, 8, 64 parameters, by reverse mode (diffana::Rev on one tape, cleared per
/// event, seeded with 1 and swept into a gradient buffer) and by forward mode
/// (diffana::Dual<double, P>), with plain double (value only) for reference. The
/// three run side by side on the same events, interleaved per repeat; the best of
/// `repeat` runs over n events is printed as a markdown table. A timing program,
/// never a test:
///
///   g++ -std=c++17 -O3 -DNDEBUG -I include -o /tmp/bench_reverse
///       benchmarks/bench_reverse.cpp
///   /tmp/bench_reverse [n = 200000] [repeat = 7]
#include "diffana/ad/dual.hpp"
#include "diffana/ad/reverse.hpp"

#include "hep_weight.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// Keeps a result alive without the optimiser dropping the loop.
volatile double g_sink = 0.0;

template <class F> double time_ns_per_event(std::size_t n, const F& run) {
  const auto t0 = Clock::now();
  run();
  const auto t1 = Clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() /
         static_cast<double>(n);
}

struct Row {
  int P;
  double plain;
  double dual;
  double rev;
  std::size_t nodes;
};

template <int P> Row bench(const std::vector<hep_weight::Event>& events, int repeat) {
  const auto p0 = hep_weight::nominal_parameters(P);
  const std::size_t n = events.size();
  Row row{P, 1e300, 1e300, 1e300, 0};
  // Gradients summed over events, so that the three agree and nothing is elided.
  std::vector<double> g_rev(P, 0.0);
  std::vector<double> g_dual(P, 0.0);
  diffana::Tape& tape = diffana::active_tape();
  std::array<diffana::Rev<>, P> pr;
  using D = diffana::Dual<double, P>;
  std::array<D, P> pd;
  for (int k = 0; k < P; ++k)
    pd[static_cast<std::size_t>(k)] = D::variable(p0[static_cast<std::size_t>(k)], k);
  for (int r = 0; r < repeat; ++r) {
    row.plain = std::min(row.plain, time_ns_per_event(n, [&] {
                           double s = 0.0;
                           for (const auto& ev : events)
                             s += hep_weight::weight<P>(ev, p0.data());
                           g_sink = s;
                         }));
    row.dual = std::min(row.dual, time_ns_per_event(n, [&] {
                          for (const auto& ev : events) {
                            const D w = hep_weight::weight<P>(ev, pd.data());
                            for (int k = 0; k < P; ++k)
                              g_dual[static_cast<std::size_t>(k)] += w.tangent(k);
                          }
                        }));
    row.rev = std::min(
        row.rev, time_ns_per_event(n, [&] {
          for (const auto& ev : events) {
            tape.clear();
            for (int k = 0; k < P; ++k)
              pr[static_cast<std::size_t>(k)] =
                  diffana::make_param(tape, k, p0[static_cast<std::size_t>(k)]);
            tape.gradient(hep_weight::weight<P>(ev, pr.data()), g_rev.data(), P);
          }
        }));
  }
  row.nodes = tape.size();
  double diff = 0.0;
  double scale = 0.0;
  for (int k = 0; k < P; ++k) {
    diff = std::max(diff, std::abs(g_rev[static_cast<std::size_t>(k)] -
                                   g_dual[static_cast<std::size_t>(k)]));
    scale = std::max(scale, std::abs(g_dual[static_cast<std::size_t>(k)]));
  }
  if (diff > 1e-10 * scale) {
    std::fprintf(stderr, "P = %d: Rev and Dual gradients differ (%g)\n", P, diff);
    std::exit(1);
  }
  return row;
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 7;
  const auto events = hep_weight::make_events(n);
  const Row rows[] = {bench<3>(events, repeat), bench<8>(events, repeat),
                      bench<64>(events, repeat)};
  std::printf("hep_weight, %zu events, best of %d (ns/event; Rev and Dual: value + "
              "gradient)\n\n",
              n, repeat);
  std::printf(
      "| P | double (value) | Dual<P> | Rev (tape) | Rev / Dual | tape nodes |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows)
    std::printf("| %d | %.1f | %.1f | %.1f | %.2f | %zu |\n", r.P, r.plain, r.dual,
                r.rev, r.rev / r.dual, r.nodes);
  return 0;
}
