// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The relaxed AGC step on a CUDA device (diffana_cuda_agc_relaxed_step_f64) against
/// its CPU twin (diffana_agc_relaxed_step_f64, the same per-event function in a host
/// loop), through the C API only: random jagged events (0 to 14 jets, a few NaN jets
/// and a few events with more than max_jets jets), relaxed and hard scales, pruning
/// on and off, drop and fold, every fill mode. Every output element must agree within
/// 1e-12 relative to the largest magnitude of its array; n_skipped exactly; the
/// deterministic mode must repeat bitwise. Status codes of bad arguments equal the
/// twin's.
///
/// Exit status: 0 all passed, 1 a check failed, 77 no CUDA device (ctest's skip code;
/// the CPU twin's argument checks ran and passed).
#include "diffana/kernels.h"

#include "agc_relaxed.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

void expect(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("FAIL: %s\n", what.c_str());
  }
}

/// A device copy of a host vector (freed by the destructor).
template <class T> class DeviceArray {
public:
  explicit DeviceArray(const std::vector<T>& h) : n_(h.size()) {
    const std::size_t bytes = (n_ > 0 ? n_ : 1) * sizeof(T);
    if (cudaMalloc(reinterpret_cast<void**>(&p_), bytes) != cudaSuccess ||
        (n_ > 0 && cudaMemcpy(p_, h.data(), n_ * sizeof(T), cudaMemcpyHostToDevice) !=
                       cudaSuccess)) {
      std::printf("FAIL: cudaMalloc/cudaMemcpy of %zu elements\n", n_);
      std::exit(1);
    }
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(p_); }
  T* get() const { return p_; }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    if (n_ > 0) cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }

private:
  std::size_t n_;
  T* p_ = nullptr;
};

double rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0.0;
  double worst = 0.0;
  for (std::size_t i = 0; i < b.size(); ++i)
    scale = std::max(scale, std::fabs(b[i]));
  for (std::size_t i = 0; i < b.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst == 0.0 ? 0.0 : worst / scale;
}

/// Random AGC-like events: jets ordered by falling pT, 0 to 14 per event.
struct Events {
  std::vector<std::int64_t> offsets{0};
  std::vector<double> pt, eta, phi, mass, btag, ok, weight;

  Events(std::int64_t n, std::mt19937_64& rng, bool with_bad) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::poisson_distribution<int> count(6.0);
    for (std::int64_t i = 0; i < n; ++i) {
      int nj = std::min(count(rng), 14);
      if (with_bad && i % 997 == 5) nj = diffana::agc_relaxed::max_jets + 2;
      double p = 120.0 + 200.0 * u(rng);
      for (int j = 0; j < nj; ++j) {
        p *= 0.6 + 0.35 * u(rng);
        pt.push_back(15.0 + p);
        eta.push_back(4.0 * u(rng) - 2.0);
        phi.push_back(6.283185307179586 * u(rng) - 3.141592653589793);
        mass.push_back((0.05 + 0.2 * u(rng)) * pt.back());
        btag.push_back(u(rng));
        ok.push_back(u(rng) < 0.9 ? 1.0 : 0.0);
      }
      if (with_bad && i % 1499 == 7 && nj > 0) pt.back() = std::nan("");
      offsets.push_back(static_cast<std::int64_t>(pt.size()));
      weight.push_back(0.9 + 0.2 * u(rng));
    }
  }
  std::int64_t n() const { return static_cast<std::int64_t>(weight.size()); }
};

struct Outputs {
  std::vector<double> values, sumw2, jac, sumw2_jac;
  std::int64_t skipped = 0;
  int status = 0;
};

Outputs run_host(const Events& ev, const std::vector<double>& params,
                 const std::vector<double>& e0, double bw0,
                 const std::vector<double>& e1, double bw1, int overflow) {
  const std::int64_t nb = static_cast<std::int64_t>(e0.size() + e1.size()) - 2;
  Outputs o;
  o.values.assign(nb, 0.0);
  o.sumw2.assign(nb, 0.0);
  o.jac.assign(nb * 3, 0.0);
  o.sumw2_jac.assign(nb * 3, 0.0);
  o.status = diffana_agc_relaxed_step_f64(
      ev.offsets.data(), ev.pt.data(), ev.eta.data(), ev.phi.data(), ev.mass.data(),
      ev.btag.data(), ev.ok.data(), ev.weight.data(), ev.n(), params.data(), e0.data(),
      static_cast<std::int64_t>(e0.size()) - 1, bw0, e1.data(),
      static_cast<std::int64_t>(e1.size()) - 1, bw1, overflow, o.values.data(),
      o.sumw2.data(), o.jac.data(), o.sumw2_jac.data(), &o.skipped);
  return o;
}

Outputs run_device(const Events& ev, const std::vector<double>& params,
                   const std::vector<double>& e0, double bw0,
                   const std::vector<double>& e1, double bw1, int overflow, int mode) {
  const std::size_t nb = e0.size() + e1.size() - 2;
  const DeviceArray<std::int64_t> off(ev.offsets);
  const DeviceArray<double> pt(ev.pt), eta(ev.eta), phi(ev.phi), mass(ev.mass),
      btag(ev.btag), ok(ev.ok), weight(ev.weight), d0(e0), d1(e1);
  const DeviceArray<double> values(std::vector<double>(nb, 0.0));
  const DeviceArray<double> sumw2(std::vector<double>(nb, 0.0));
  const DeviceArray<double> jac(std::vector<double>(nb * 3, 0.0));
  const DeviceArray<double> sumw2_jac(std::vector<double>(nb * 3, 0.0));
  const DeviceArray<std::int64_t> skipped(std::vector<std::int64_t>(1, 0));
  Outputs o;
  o.status = diffana_cuda_agc_relaxed_step_f64(
      off.get(), pt.get(), eta.get(), phi.get(), mass.get(), btag.get(), ok.get(),
      weight.get(), ev.n(), params.data(), d0.get(),
      static_cast<std::int64_t>(e0.size()) - 1, bw0, d1.get(),
      static_cast<std::int64_t>(e1.size()) - 1, bw1, overflow, values.get(),
      sumw2.get(), jac.get(), sumw2_jac.get(), skipped.get(), mode, nullptr);
  if (cudaDeviceSynchronize() != cudaSuccess) o.status = DIFFANA_ERR_DEVICE;
  o.values = values.host();
  o.sumw2 = sumw2.host();
  o.jac = jac.host();
  o.sumw2_jac = sumw2_jac.host();
  o.skipped = skipped.host()[0];
  return o;
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> e(n + 1);
  for (int i = 0; i <= n; ++i)
    e[i] = lo + (hi - lo) * i / n;
  return e;
}

/// Bad arguments: the twin's statuses (no device needed).
void check_arguments_without_device() {
  std::mt19937_64 rng(7);
  const Events ev(10, rng, false);
  const auto e = linspace(50.0, 550.0, 25);
  const std::vector<double> good = {30.0, 0.5, 0.0, 2.0, 0.05, 10.0, 1e-4, 0.03};
  auto with = [&](int k, double v) {
    std::vector<double> p = good;
    p[k] = v;
    return p;
  };
  expect(run_host(ev, good, e, 10.0, e, 10.0, 0).status == DIFFANA_OK, "twin: valid");
  expect(run_host(ev, with(3, -1.0), e, 10.0, e, 10.0, 0).status ==
             DIFFANA_ERR_ARGUMENT,
         "twin: negative pt_width");
  expect(run_host(ev, with(6, 1.0), e, 10.0, e, 10.0, 0).status == DIFFANA_ERR_ARGUMENT,
         "twin: epsilon = 1");
  expect(run_host(ev, with(0, std::nan("")), e, 10.0, e, 10.0, 0).status ==
             DIFFANA_ERR_ARGUMENT,
         "twin: NaN pt_cut");
  expect(run_host(ev, good, e, -1.0, e, 10.0, 0).status == DIFFANA_ERR_BANDWIDTH,
         "twin: negative bandwidth");
  expect(run_host(ev, good, e, 10.0, e, 10.0, 7).status == DIFFANA_ERR_OVERFLOW,
         "twin: overflow code");
  std::vector<double> bad = e;
  std::swap(bad[3], bad[4]);
  expect(run_host(ev, good, bad, 10.0, e, 10.0, 0).status == DIFFANA_ERR_EDGES,
         "twin: unsorted edges");
}

void check_case(const Events& ev, const std::vector<double>& params, double bw,
                int overflow, const std::string& name) {
  const auto e0 = linspace(50.0, 550.0, 25);
  const auto e1 = linspace(50.0, 550.0, 25);
  const Outputs ref = run_host(ev, params, e0, bw, e1, bw, overflow);
  expect(ref.status == DIFFANA_OK, name + ": twin status");
  for (int mode : {DIFFANA_CUDA_FILL_PRIVATE, DIFFANA_CUDA_FILL_DETERMINISTIC,
                   DIFFANA_CUDA_FILL_ATOMIC}) {
    const Outputs got = run_device(ev, params, e0, bw, e1, bw, overflow, mode);
    const std::string what = name + " mode " + std::to_string(mode);
    expect(got.status == DIFFANA_OK, what + ": status " + std::to_string(got.status));
    const double dv = rel_diff(got.values, ref.values);
    const double ds = rel_diff(got.sumw2, ref.sumw2);
    const double dj = rel_diff(got.jac, ref.jac);
    const double dsj = rel_diff(got.sumw2_jac, ref.sumw2_jac);
    expect(dv <= 1e-12 && ds <= 1e-12 && dj <= 1e-12 && dsj <= 1e-12,
           what + ": values " + std::to_string(dv) + ", sumw2 " + std::to_string(ds) +
               ", jac " + std::to_string(dj) + ", sumw2_jac " + std::to_string(dsj));
    expect(got.skipped == ref.skipped, what + ": n_skipped " +
                                           std::to_string(got.skipped) + " vs " +
                                           std::to_string(ref.skipped));
    if (mode == DIFFANA_CUDA_FILL_DETERMINISTIC) {
      const Outputs again = run_device(ev, params, e0, bw, e1, bw, overflow, mode);
      expect(again.values == got.values && again.jac == got.jac &&
                 again.sumw2_jac == got.sumw2_jac,
             what + ": not bitwise repeatable");
    }
  }
}

} // namespace

int main() {
  check_arguments_without_device();
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device (%s); %d twin argument checks passed\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "0 devices",
                checks - failures);
    return failures == 0 ? 77 : 1;
  }
  std::mt19937_64 rng(20261205);
  const Events ev(200000, rng, true);
  const std::vector<double> relaxed = {30.0, 0.5, 0.2, 2.0, 0.05, 10.0, 1e-4, 0.03};
  const std::vector<double> unpruned = {32.0, 0.45, -0.3, 3.0, 0.1, 5.0, 0.0, 0.03};
  const std::vector<double> hard = {30.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03};
  check_case(ev, relaxed, 10.0, DIFFANA_OVERFLOW_DROP, "relaxed, drop");
  check_case(ev, relaxed, 10.0, DIFFANA_OVERFLOW_FOLD, "relaxed, fold");
  check_case(ev, unpruned, 10.0, DIFFANA_OVERFLOW_DROP, "no pruning");
  check_case(ev, hard, 0.0, DIFFANA_OVERFLOW_DROP, "hard");
  std::printf("%s: %d checks, %d failed\n", failures == 0 ? "PASS" : "FAIL", checks,
              failures);
  return failures == 0 ? 0 : 1;
}
