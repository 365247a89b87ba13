// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Nanoseconds per event of value + gradient of the per-event HEP weight of
/// benchmarks/hep_weight.hpp (P = 3, 8, 64 parameters) with four engines side by
/// side: diffana::Dual<double, P> (forward, all P tangents in one pass), diffana's
/// reverse mode (include/diffana/ad/reverse.hpp, when present; the parameters as a
/// make_param leaf each per event, as one block of leaves per event, and as one block
/// recorded once with the tape rewound per event), Clad's forward mode
/// (clad::differentiate w.r.t. one scalar parameter, called P times per event)
/// and Clad's reverse mode (clad::gradient, one call per event; the value from one
/// primal call more, as Clad's gradient returns none). Before timing, every engine's
/// gradient is checked against diffana::Dual event by event (relative 1e-10). A
/// timing program, never a test; built with clang++-16 and the Clad plugin:
///
///   eval "$(../shared/clad/build-clad.sh)"
///   $CLAD_CXX -std=c++17 -O3 -march=native -DNDEBUG -fplugin=$CLAD_PLUGIN \
///     -isystem $CLAD_INCLUDE -Iinclude -Ibenchmarks -o /tmp/bench_clad \
///     benchmarks/bench_clad.cpp
///   /tmp/bench_clad [n = 1000000] [repeat = 5]
///
/// Rows time each engine over the events in chunks, keeping per chunk the best of
/// `repeat` interleaved passes, in the thread's CPU time (robust on a shared machine:
/// time spent descheduled does not count).
#include "diffana/ad/dual.hpp"

#include "clad/Differentiator/Differentiator.h"
#include "hep_weight.hpp"

#if __has_include("diffana/ad/reverse.hpp")
#include "diffana/ad/reverse.hpp"
#define BENCH_CLAD_HAS_REVERSE 1
#else
#define BENCH_CLAD_HAS_REVERSE 0
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <time.h>
#include <vector>

// The weights as plain functions of doubles: what Clad differentiates. The event
// comes as six doubles and is built inside: Clad's forward mode declares the tangent
// of an Event parameter without initialising it (`const Event _d_ev;` is a compile
// error; a by-value Event gets garbage tangents that leak into d/dp), whereas the
// tangent of a locally built Event is made from the scalars' (zero) tangents.
#define BENCH_CLAD_EVENT_ARGS                                                          \
  double pt1, double eta1, double phi1, double pt2, double eta2, double phi2
#define BENCH_CLAD_EVENT(ev) ev.pt1, ev.eta1, ev.phi1, ev.pt2, ev.eta2, ev.phi2
double weight3(BENCH_CLAD_EVENT_ARGS, const double* p) {
  const hep_weight::Event ev = {pt1, eta1, phi1, pt2, eta2, phi2};
  return hep_weight::hep_weight3(ev, p);
}
double weight8(BENCH_CLAD_EVENT_ARGS, const double* p) {
  const hep_weight::Event ev = {pt1, eta1, phi1, pt2, eta2, phi2};
  return hep_weight::hep_weight8(ev, p);
}
double weight64(BENCH_CLAD_EVENT_ARGS, const double* p) {
  const hep_weight::Event ev = {pt1, eta1, phi1, pt2, eta2, phi2};
  return hep_weight::hep_weight_binned(ev, p, 56);
}

// Clad's forward mode w.r.t. one parameter. Not clad::differentiate(weight3, "p[k]"):
// that seeds p's tangent as a one-element array `(double[1]){1.}` and the pushforward
// of hep_weight3 then reads _d_p[1], _d_p[2] past its end (garbage derivatives; a
// Clad bug). Instead parameter k is the scalar q, copied into a local array.
#define BENCH_CLAD_AT(NAME, P, CALL)                                                   \
  double NAME(double q, int k, BENCH_CLAD_EVENT_ARGS, const double* p) {               \
    double pl[P];                                                                      \
    for (int i = 0; i < (P); ++i)                                                      \
      pl[i] = p[i];                                                                    \
    pl[k] = q;                                                                         \
    const hep_weight::Event ev = {pt1, eta1, phi1, pt2, eta2, phi2};                   \
    return CALL;                                                                       \
  }
BENCH_CLAD_AT(weight3_at, 3, hep_weight::hep_weight3(ev, pl))
BENCH_CLAD_AT(weight8_at, 8, hep_weight::hep_weight8(ev, pl))
BENCH_CLAD_AT(weight64_at, 64, hep_weight::hep_weight_binned(ev, pl, 56))

namespace {

constexpr std::size_t kChunk = 50000;
using Events = std::vector<hep_weight::Event>;

/// This thread's CPU time in nanoseconds.
double thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// One engine: f(event, gradient out) returns the value and writes P partials.
template <class F> class Timer {
public:
  Timer(const Events& events, int P, F f)
      : events_(events), P_(P), f_(f), g_(static_cast<std::size_t>(P)),
        best_((events.size() + kChunk - 1) / kChunk, 1e300) {}

  void pass() {
    for (std::size_t c = 0; c < best_.size(); ++c) {
      const std::size_t lo = c * kChunk;
      const std::size_t hi = std::min(events_.size(), lo + kChunk);
      double total = 0;
      std::vector<double> grad(static_cast<std::size_t>(P_), 0.0);
      const double t0 = thread_cpu_ns();
      for (std::size_t e = lo; e < hi; ++e) {
        total += f_(events_[e], g_.data());
        for (int i = 0; i < P_; ++i)
          grad[static_cast<std::size_t>(i)] += g_[static_cast<std::size_t>(i)];
      }
      best_[c] = std::min(best_[c], thread_cpu_ns() - t0);
      checksum_ += total;
      for (const double g : grad)
        checksum_ += g;
    }
  }
  double ns_per_event() const {
    double sum = 0;
    for (const double b : best_)
      sum += b;
    return sum / static_cast<double>(events_.size());
  }
  double checksum() const { return checksum_; }
  double call(const hep_weight::Event& ev, double* g) { return f_(ev, g); }

private:
  const Events& events_;
  int P_;
  F f_;
  std::vector<double> g_;
  std::vector<double> best_;
  double checksum_ = 0;
};

template <class F> Timer<F> make_timer(const Events& ev, int P, F f) {
  return Timer<F>(ev, P, f);
}

bool close(double a, double b, double rtol) {
  return std::fabs(a - b) <= rtol * std::max({std::fabs(a), std::fabs(b), 1e-300});
}

// diffana::Dual<double, P>: value and all P tangents in one pass.
template <int P> struct DualEngine {
  std::vector<diffana::Dual<double, P>> p;
  explicit DualEngine(const std::vector<double>& p0) : p(p0.size()) {
    for (std::size_t i = 0; i < p0.size(); ++i)
      p[i] = diffana::Dual<double, P>::variable(p0[i], static_cast<int>(i));
  }
  double operator()(const hep_weight::Event& ev, double* g) const {
    const auto w = hep_weight::weight<P>(ev, p.data());
    for (int i = 0; i < P; ++i)
      g[i] = w.tangent(i);
    return w.value();
  }
};

#if BENCH_CLAD_HAS_REVERSE
// diffana's reverse mode: the weight on Revs of a tape cleared per event, one sweep.
// Block: the P parameters as one block of leaves (Tape::push_params, as a vector
// parameter of the adjoint event loop); else a make_param call each.
template <int P, bool Block> struct ReverseEngine {
  const std::vector<double>* p0;
  double operator()(const hep_weight::Event& ev, double* g) const {
    diffana::Tape& tape = diffana::active_tape();
    tape.clear();
    diffana::Rev<double> pr[P];
    if (Block) {
      const std::int32_t first = tape.push_params(0, P);
      for (int k = 0; k < P; ++k)
        pr[k] = diffana::Rev<double>::on_node((*p0)[static_cast<std::size_t>(k)], &tape,
                                              first + k);
    } else {
      for (int k = 0; k < P; ++k)
        pr[k] = diffana::make_param(tape, k, (*p0)[static_cast<std::size_t>(k)]);
    }
    const auto w = hep_weight::weight<P>(ev, pr);
    std::fill(g, g + P, 0.0);
    tape.gradient(w, g, P);
    return w.value();
  }
};

// The parameters recorded once on a tape of its own (a block of leaves), which is
// rewound to just after them per event (Tape::mark, Tape::rewind) instead of cleared.
template <int P> struct ReverseOnceEngine {
  struct State {
    diffana::Tape tape;
    diffana::Rev<double> pr[P];
    diffana::Tape::Mark mark;
  };
  std::shared_ptr<State> s;
  explicit ReverseOnceEngine(const std::vector<double>& p0)
      : s(std::make_shared<State>()) {
    const std::int32_t first = s->tape.push_params(0, P);
    for (int k = 0; k < P; ++k)
      s->pr[k] = diffana::Rev<double>::on_node(p0[static_cast<std::size_t>(k)],
                                               &s->tape, first + k);
    s->mark = s->tape.mark();
  }
  double operator()(const hep_weight::Event& ev, double* g) const {
    s->tape.rewind(s->mark);
    const auto w = hep_weight::weight<P>(ev, s->pr);
    std::fill(g, g + P, 0.0);
    s->tape.gradient(w, g, P);
    return w.value();
  }
};
#endif

template <int P> double primal(const hep_weight::Event& ev, const double* p) {
  if (P == 3) return weight3(BENCH_CLAD_EVENT(ev), p);
  if (P == 8) return weight8(BENCH_CLAD_EVENT(ev), p);
  return weight64(BENCH_CLAD_EVENT(ev), p);
}

} // namespace

// Clad's reverse mode: one gradient function per weight (zeroed output, then +=).
#define BENCH_CLAD_REVERSE(P, FN)                                                      \
  [](const hep_weight::Event& ev, double* g) {                                         \
    static auto grad = clad::gradient(FN, "p");                                        \
    std::fill(g, g + (P), 0.0);                                                        \
    grad.execute(BENCH_CLAD_EVENT(ev), p0.data(), g);                                  \
    return FN(BENCH_CLAD_EVENT(ev), p0.data());                                        \
  }

template <int P, class Fwd, class Rev>
void run(const Events& events, int repeat, Fwd clad_forward, Rev clad_reverse,
         bool* all_ok) {
  const std::vector<double> p0 = hep_weight::nominal_parameters(P);
  auto dual = make_timer(events, P, DualEngine<P>(p0));
  auto cfwd = make_timer(events, P, clad_forward);
  auto crev = make_timer(events, P, clad_reverse);
#if BENCH_CLAD_HAS_REVERSE
  auto rev = make_timer(events, P, ReverseEngine<P, false>{&p0});
  auto revb = make_timer(events, P, ReverseEngine<P, true>{&p0});
  auto revo = make_timer(events, P, ReverseOnceEngine<P>(p0));
#endif
  auto prim = make_timer(events, P, [&p0](const hep_weight::Event& ev, double*) {
    return primal<P>(ev, p0.data());
  });
  // Every engine against diffana::Dual, event by event.
  bool ok = true;
  std::vector<double> gd(P), gf(P), gr(P), ga(P);
  for (std::size_t e = 0; e < std::min<std::size_t>(20000, events.size()); ++e) {
    const double vd = dual.call(events[e], gd.data());
    const double vf = cfwd.call(events[e], gf.data());
    const double vr = crev.call(events[e], gr.data());
    bool good = close(vd, vf, 1e-10) && close(vd, vr, 1e-10);
    for (int i = 0; i < P; ++i)
      good = good && close(gd[i], gf[i], 1e-10) && close(gd[i], gr[i], 1e-10);
#if BENCH_CLAD_HAS_REVERSE
    good = good && close(vd, rev.call(events[e], ga.data()), 1e-10);
    for (int i = 0; i < P; ++i)
      good = good && close(gd[i], ga[i], 1e-10);
    good = good && close(vd, revb.call(events[e], ga.data()), 1e-10);
    for (int i = 0; i < P; ++i)
      good = good && close(gd[i], ga[i], 1e-10);
    good = good && close(vd, revo.call(events[e], ga.data()), 1e-10);
    for (int i = 0; i < P; ++i)
      good = good && close(gd[i], ga[i], 1e-10);
#endif
    if (!good && ok) {
      std::fprintf(stderr, "P=%d event %zu: engines differ\n", P, e);
      for (int i = 0; i < P; ++i)
        std::fprintf(stderr, "  d/dp%d Dual %.17g Clad fwd %.17g Clad rev %.17g\n", i,
                     gd[i], gf[i], gr[i]);
    }
    ok = ok && good;
  }
  *all_ok = *all_ok && ok;
  const int rep = P > 8 ? std::max(1, repeat / 2) : repeat;
  for (int r = 0; r < rep; ++r) {
    prim.pass();
    dual.pass();
#if BENCH_CLAD_HAS_REVERSE
    rev.pass();
    revb.pass();
    revo.pass();
#endif
    cfwd.pass();
    crev.pass();
  }
  double sink = prim.checksum() + dual.checksum() + cfwd.checksum() + crev.checksum();
#if BENCH_CLAD_HAS_REVERSE
  sink += rev.checksum() + revb.checksum() + revo.checksum();
  const double t_rev = rev.ns_per_event();
  const double t_revb = revb.ns_per_event();
  const double t_revo = revo.ns_per_event();
#else
  const double t_rev = std::nan("");
  const double t_revb = std::nan("");
  const double t_revo = std::nan("");
#endif
  const double best = std::isnan(t_rev)
                          ? dual.ns_per_event()
                          : std::min({dual.ns_per_event(), t_rev, t_revb, t_revo});
  std::printf("| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %s |\n",
              P, prim.ns_per_event(), dual.ns_per_event(), t_rev, t_revb, t_revo,
              cfwd.ns_per_event(), crev.ns_per_event(), crev.ns_per_event() / best,
              ok ? "yes" : "NO");
  if (sink == 0.0) std::printf("(checksum 0)\n");
}

// Clad's forward mode: the pushforward w.r.t. q called once per parameter k (the
// value from one primal call more, as the generated derivative returns no value).
template <class D, class F> struct CladForward {
  const std::vector<double>* p;
  D* d;
  F f;
  double operator()(const hep_weight::Event& ev, double* g) const {
    const int P = static_cast<int>(p->size());
    for (int k = 0; k < P; ++k)
      g[k] = d->execute((*p)[static_cast<std::size_t>(k)], k, BENCH_CLAD_EVENT(ev),
                        p->data());
    return f(BENCH_CLAD_EVENT(ev), p->data());
  }
};
template <class D, class F>
CladForward<D, F> clad_forward(const std::vector<double>* p, D* d, F f) {
  return {p, d, f};
}

// One block per P: Clad needs the functions as compile-time arguments.
#define BENCH_CLAD_BLOCK(P, FN, FN_AT)                                                 \
  {                                                                                    \
    static std::vector<double> p0 = hep_weight::nominal_parameters(P);                 \
    p0.resize(P);                                                                      \
    static auto fwd = clad::differentiate(FN_AT, "q");                                 \
    run<P>(events, repeat, clad_forward(&p0, &fwd, FN), BENCH_CLAD_REVERSE(P, FN),     \
           &ok);                                                                       \
  }

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 5;
  const Events events = hep_weight::make_events(static_cast<std::size_t>(n));
  std::printf(
      "ns per event, value + gradient, %ld events, per chunk of %zu the best of "
      "%d passes (P = 64: half as many)%s\n\n",
      n, kChunk, repeat,
      BENCH_CLAD_HAS_REVERSE ? "" : "; diffana reverse.hpp not present");
  std::printf(
      "| P | primal | diffana::Dual | diffana reverse (make_param each) | diffana "
      "reverse (parameter block) | diffana reverse (parameters once, rewind) | Clad "
      "forward | Clad reverse | Clad reverse / best diffana | same gradient |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
  bool ok = true;
  BENCH_CLAD_BLOCK(3, weight3, weight3_at)
  BENCH_CLAD_BLOCK(8, weight8, weight8_at)
  BENCH_CLAD_BLOCK(64, weight64, weight64_at)
  return ok ? 0 : 1;
}
