// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Nanoseconds per event of value + gradient of the per-event HEP weight of
/// benchmarks/hep_weight.hpp, for P = 3, 8 and 64 parameters: the primal (double), a
/// minimal dual type written below (value + P tangents, no checks, about 90 lines),
/// and diffana::Dual<double, P>. Each row sums weight and gradient over n events and
/// keeps, chunk by chunk, the best of `repeat` passes. Before timing, the gradients of
/// the minimal dual and of diffana::Dual are checked against each other event by event
/// (relative 1e-12) and the values against the primal; the exit status is 1 if they
/// differ. A timing program, never a test. Build and run (from the repository root):
///
///   g++ -std=c++17 -O3 -march=native -Iinclude
///       -o /tmp/bench_dual benchmarks/bench_dual.cpp
///   /tmp/bench_dual [n = 1000000] [repeat = 7]
///
/// To time another version of the dual headers side by side (say the last commit's),
/// concatenate them into one file without their diffana includes and name it with
/// -DBENCH_DUAL_BASELINE; it is compiled inside `namespace baseline` (extra column):
///
///   mkdir -p /tmp/dual_head
///   (git show HEAD:include/diffana/ad/math.hpp;
///    git show HEAD:include/diffana/ad/dual.hpp) |
///       grep -v '^#include "diffana' > /tmp/dual_head/dual_all.hpp
///   g++ -std=c++17 -O3 -march=native -Iinclude
///       -DBENCH_DUAL_BASELINE='"/tmp/dual_head/dual_all.hpp"'
///       -o /tmp/bench_dual benchmarks/bench_dual.cpp
///
/// On a busy machine, instruction counts are the steadier measure: run
/// `valgrind --tool=callgrind /tmp/bench_dual 20000 1` and read the inclusive cost of
/// each `Timer<P, S>::pass()` (callgrind_annotate --inclusive=yes), one pass over the
/// 20000 events per row.
#include "diffana/ad/dual.hpp"

#include "hep_weight.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#ifdef BENCH_DUAL_BASELINE
namespace baseline {
#include BENCH_DUAL_BASELINE
} // namespace baseline
#endif

namespace mini {

/// The smallest forward dual that runs hep_weight: value and P tangents, nothing
/// checked. The yardstick diffana::Dual is measured against.
template <int P> struct Dual {
  double v = 0;
  double t[P] = {};
  Dual() = default;
  Dual(double x) : v(x) {} // NOLINT: implicit, as a constant
  Dual& operator+=(const Dual& o) {
    v += o.v;
    for (int i = 0; i < P; ++i)
      t[i] += o.t[i];
    return *this;
  }
};
template <int P> inline Dual<P> operator-(const Dual<P>& a) {
  Dual<P> r(-a.v);
  for (int i = 0; i < P; ++i)
    r.t[i] = -a.t[i];
  return r;
}
template <int P> inline Dual<P> operator+(const Dual<P>& a, const Dual<P>& b) {
  Dual<P> r(a.v + b.v);
  for (int i = 0; i < P; ++i)
    r.t[i] = a.t[i] + b.t[i];
  return r;
}
template <int P> inline Dual<P> operator-(const Dual<P>& a, const Dual<P>& b) {
  Dual<P> r(a.v - b.v);
  for (int i = 0; i < P; ++i)
    r.t[i] = a.t[i] - b.t[i];
  return r;
}
template <int P> inline Dual<P> operator*(const Dual<P>& a, const Dual<P>& b) {
  Dual<P> r(a.v * b.v);
  for (int i = 0; i < P; ++i)
    r.t[i] = a.t[i] * b.v + a.v * b.t[i];
  return r;
}
template <int P> inline Dual<P> operator/(const Dual<P>& a, const Dual<P>& b) {
  const double inv = 1.0 / b.v;
  const double f = a.v * inv;
  Dual<P> r(f);
  for (int i = 0; i < P; ++i)
    r.t[i] = (a.t[i] - f * b.t[i]) * inv;
  return r;
}
template <int P> inline Dual<P> scale(const Dual<P>& a, double value, double d) {
  Dual<P> r(value);
  for (int i = 0; i < P; ++i)
    r.t[i] = d * a.t[i];
  return r;
}
template <int P> inline Dual<P> operator+(const Dual<P>& a, double b) {
  Dual<P> r = a;
  r.v += b;
  return r;
}
template <int P> inline Dual<P> operator+(double a, const Dual<P>& b) {
  return b + a;
}
template <int P> inline Dual<P> operator-(const Dual<P>& a, double b) {
  return a + -b;
}
template <int P> inline Dual<P> operator-(double a, const Dual<P>& b) {
  return -b + a;
}
template <int P> inline Dual<P> operator*(const Dual<P>& a, double b) {
  return scale(a, a.v * b, b);
}
template <int P> inline Dual<P> operator*(double a, const Dual<P>& b) {
  return b * a;
}
template <int P> inline Dual<P> operator/(const Dual<P>& a, double b) {
  return a * (1 / b);
}
template <int P> inline Dual<P> operator/(double a, const Dual<P>& b) {
  const double inv = 1.0 / b.v;
  const double f = a * inv;
  return scale(b, f, -f * inv);
}
template <int P> inline Dual<P> exp(const Dual<P>& a) {
  const double e = std::exp(a.v);
  return scale(a, e, e);
}
template <int P> inline Dual<P> sqrt(const Dual<P>& a) {
  const double s = std::sqrt(a.v);
  return scale(a, s, 0.5 / s);
}

} // namespace mini

namespace {

template <class S> struct is_mini : std::false_type {};
template <int P> struct is_mini<mini::Dual<P>> : std::true_type {};

template <class S> double value_of(const S& x) {
  if constexpr (std::is_same_v<S, double>)
    return x;
  else if constexpr (is_mini<S>::value)
    return x.v;
  else
    return x.value();
}

template <class S> double tangent_of(const S& x, int i) {
  if constexpr (is_mini<S>::value)
    return x.t[i];
  else
    return x.tangent(i);
}

// Parameters as S: plain values, or the i-th one seeded with tangent e_i.
template <class S> std::vector<S> seed(const std::vector<double>& p, int P) {
  std::vector<S> s(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    s[i] = S(p[i]);
    if constexpr (!std::is_same_v<S, double>) {
      if (static_cast<int>(i) < P) {
        if constexpr (is_mini<S>::value)
          s[i].t[i] = 1.0;
        else
          s[i].tangent(static_cast<int>(i)) = 1.0;
      }
    }
  }
  return s;
}

// Times one pass of S over the events in chunks of kChunk, keeping in best[c] the
// fastest time seen for chunk c. The sum of the chunk minima over several passes is
// robust against a shared, noisy machine: a chunk (milliseconds) that another process
// interrupted is simply timed again in the next pass.
constexpr std::size_t kChunk = 50000;

template <int P, class S> class Timer {
public:
  explicit Timer(const std::vector<hep_weight::Event>& events)
      : events_(events), p_(seed<S>(hep_weight::nominal_parameters(P), P)),
        best_((events.size() + kChunk - 1) / kChunk, 1e300) {}

  // Not inlined, so that a profiler (valgrind --tool=callgrind) shows one entry per
  // row; the call is outside the timed loop.
  __attribute__((noinline)) void pass() {
    for (std::size_t c = 0; c < best_.size(); ++c) {
      const std::size_t lo = c * kChunk;
      const std::size_t hi = std::min(events_.size(), lo + kChunk);
      S total(0.0);
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t e = lo; e < hi; ++e)
        total += hep_weight::weight<P>(events_[e], p_.data());
      const auto t1 = std::chrono::steady_clock::now();
      best_[c] =
          std::min(best_[c], std::chrono::duration<double, std::nano>(t1 - t0).count());
      // The tangents go into the checksum too, so that none of them is optimised away.
      checksum_ += value_of(total);
      if constexpr (!std::is_same_v<S, double>)
        for (int i = 0; i < P; ++i)
          checksum_ += tangent_of(total, i);
    }
  }

  double ns_per_event() const {
    double sum = 0;
    for (const double b : best_)
      sum += b;
    return sum / static_cast<double>(events_.size());
  }
  double checksum() const { return checksum_; }

private:
  const std::vector<hep_weight::Event>& events_;
  std::vector<S> p_;
  std::vector<double> best_;
  double checksum_ = 0;
};

bool close(double a, double b, double rtol) {
  return std::fabs(a - b) <= rtol * std::max({std::fabs(a), std::fabs(b), 1e-300});
}

// Event by event: the two duals give the same value and gradient (rtol), and the
// value equals the primal.
template <int P, class A, class B>
bool same_gradient(const std::vector<hep_weight::Event>& events, std::size_t n,
                   double rtol) {
  const std::vector<double> p0 = hep_weight::nominal_parameters(P);
  const std::vector<A> pa = seed<A>(p0, P);
  const std::vector<B> pb = seed<B>(p0, P);
  int bad = 0;
  for (std::size_t e = 0; e < std::min(n, events.size()); ++e) {
    const A a = hep_weight::weight<P>(events[e], pa.data());
    const B b = hep_weight::weight<P>(events[e], pb.data());
    const double w = hep_weight::weight<P>(events[e], p0.data());
    bool ok = close(value_of(a), w, rtol) && close(value_of(b), w, rtol);
    for (int i = 0; i < P; ++i)
      ok = ok && close(tangent_of(a, i), tangent_of(b, i), rtol);
    if (!ok && bad++ < 3) {
      std::fprintf(stderr, "P=%d event %zu: value %.17g / %.17g / %.17g\n", P, e,
                   value_of(a), value_of(b), w);
      for (int i = 0; i < P; ++i)
        std::fprintf(stderr, "  d/dp%d %.17g %.17g\n", i, tangent_of(a, i),
                     tangent_of(b, i));
    }
  }
  return bad == 0;
}

template <int P>
void run(const std::vector<hep_weight::Event>& events, int repeat, bool* all_ok) {
  using Mini = mini::Dual<P>;
  using Diff = diffana::Dual<double, P>;
  const bool ok = same_gradient<P, Mini, Diff>(events, 100000, 1e-12);
  *all_ok = *all_ok && ok;
  const int rep = P > 8 ? std::max(1, repeat / 2) : repeat;
  Timer<P, double> primal(events);
  Timer<P, Mini> minimal(events);
  Timer<P, Diff> dual(events);
#ifdef BENCH_DUAL_BASELINE
  Timer<P, baseline::diffana::Dual<double, P>> before(events);
#endif
  // Interleaved, so that all rows see the same load on the machine.
  for (int r = 0; r < rep; ++r) {
    primal.pass();
    minimal.pass();
    dual.pass();
#ifdef BENCH_DUAL_BASELINE
    before.pass();
#endif
  }
  double sink = primal.checksum() + minimal.checksum() + dual.checksum();
  std::printf("| %d | %.1f | %.1f | %.1f |", P, primal.ns_per_event(),
              minimal.ns_per_event(), dual.ns_per_event());
#ifdef BENCH_DUAL_BASELINE
  sink += before.checksum();
  std::printf(" %.1f |", before.ns_per_event());
#endif
  std::printf(" %.2f | %s |\n", dual.ns_per_event() / minimal.ns_per_event(),
              ok ? "yes" : "NO");
  if (sink == 0.0) std::printf("(checksum 0)\n");
}

} // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 7;
  const std::vector<hep_weight::Event> events =
      hep_weight::make_events(static_cast<std::size_t>(n));
  std::printf(
      "ns per event, value + gradient, %ld events, per chunk of %zu the best of %d "
      "passes (P = 64: half as many)\n\n",
      n, kChunk, repeat);
#ifdef BENCH_DUAL_BASELINE
  std::printf(
      "| P | primal | minimal dual | diffana::Dual | diffana::Dual (baseline) | "
      "Dual / minimal | same gradient |\n|---:|---:|---:|---:|---:|---:|:---:|\n");
#else
  std::printf("| P | primal | minimal dual | diffana::Dual | Dual / minimal | same "
              "gradient |\n|---:|---:|---:|---:|---:|:---:|\n");
#endif
  bool ok = true;
  run<3>(events, repeat, &ok);
  run<8>(events, repeat, &ok);
  run<64>(events, repeat, &ok);
  return ok ? 0 : 1;
}
