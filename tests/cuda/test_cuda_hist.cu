// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The CUDA histogram fills against their CPU twins, through the C API only (no
/// Python): diffana_cuda_hist_fill_{1d,2d}_ex_f64 in every mode against
/// diffana_hist_fill_{1d,2d}_f64 on the same events, hard and soft binning, drop and
/// fold, P = 0, 1, 8, with and without weights and tangents, 1D edge terms, NaN
/// events, infinities, uneven edges, and a histogram too large for shared memory
/// (the fallbacks). Every output element must agree within 1e-12 relative to the
/// largest magnitude of its array; n_skipped exactly; the deterministic mode must
/// repeat bitwise. Status codes are checked against the CPU twin's.
///
/// Exit status: 0 all passed, 1 a check failed, 77 no CUDA device (ctest's skip code;
/// the argument checks that need no device ran and passed).
#include "diffana/kernels.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
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

/// A device copy of a host vector (freed by the destructor); empty -> nullptr.
class DeviceArray {
public:
  explicit DeviceArray(const std::vector<double>& h) : n_(h.size()) {
    if (n_ == 0) return;
    if (cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(double)) != cudaSuccess ||
        cudaMemcpy(p_, h.data(), n_ * sizeof(double), cudaMemcpyHostToDevice) !=
            cudaSuccess) {
      std::printf("FAIL: cudaMalloc/cudaMemcpy of %zu doubles\n", n_);
      std::exit(1);
    }
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (p_ != nullptr) cudaFree(p_);
  }
  double* get() const { return p_; }
  std::vector<double> host() const {
    std::vector<double> h(n_);
    if (n_ > 0) cudaMemcpy(h.data(), p_, n_ * sizeof(double), cudaMemcpyDeviceToHost);
    return h;
  }

private:
  std::size_t n_;
  double* p_ = nullptr;
};

/// max_i |a_i - b_i| / max_i |b_i| (0 for equal arrays, also all-zero ones).
double rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0.0;
  double worst = 0.0;
  for (std::size_t i = 0; i < b.size(); ++i)
    scale = std::max(scale, std::fabs(b[i]));
  for (std::size_t i = 0; i < b.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    if (!(d <= worst)) worst = d; // NaN propagates
  }
  return worst == 0.0 ? 0.0 : worst / scale;
}

std::vector<double> normal(std::mt19937_64& rng, std::size_t n, double sigma) {
  std::normal_distribution<double> d(0.0, sigma);
  std::vector<double> v(n);
  for (auto& e : v)
    e = d(rng);
  return v;
}

std::vector<double> linspace(double lo, double hi, std::int64_t nbins) {
  std::vector<double> e(static_cast<std::size_t>(nbins) + 1);
  for (std::int64_t i = 0; i <= nbins; ++i)
    e[static_cast<std::size_t>(i)] = lo + (hi - lo) * double(i) / double(nbins);
  return e;
}

const char* mode_name(int mode) {
  return mode == DIFFANA_CUDA_FILL_PRIVATE         ? "private"
         : mode == DIFFANA_CUDA_FILL_DETERMINISTIC ? "deterministic"
                                                   : "atomic";
}

constexpr double tolerance = 1e-12;

struct Case1D {
  std::int64_t n;
  std::int64_t P;
  std::vector<double> edges;
  double h;
  int overflow;
  bool weights;
  bool w_tan;
  bool x_tan;
  bool edge_terms;
};

/// Events x ~ N(0, 1.5) with 0.1 % NaN, a few +-inf, weights ~ 1 + N(0, 0.2).
void check_1d(const Case1D& c, std::mt19937_64& rng) {
  const auto n = static_cast<std::size_t>(c.n);
  const auto P = static_cast<std::size_t>(c.P);
  const auto nb = static_cast<std::size_t>(c.edges.size() - 1);
  std::vector<double> x = normal(rng, n, 1.5);
  for (std::size_t i = 0; i < n; i += 997)
    x[i] = std::nan("");
  if (n > 10) {
    x[3] = HUGE_VAL;
    x[5] = -HUGE_VAL;
  }
  std::vector<double> w = normal(rng, c.weights ? n : 0, 0.2);
  for (auto& e : w)
    e += 1.0;
  if (c.weights && n > 20) w[17] = HUGE_VAL; // a skipped event
  const std::vector<double> xt = normal(rng, c.x_tan ? n * P : 0, 0.1);
  const std::vector<double> wt = normal(rng, c.w_tan ? n * P : 0, 0.1);
  const bool soft = c.h > 0.0;
  const bool et = c.edge_terms && soft;

  std::vector<double> v(nb), s2(nb), j(nb * P), sj(nb * P), S(et ? nb + 1 : 0),
      T(et ? nb + 1 : 0);
  std::int64_t skipped = 0;
  const int cpu = diffana_hist_fill_1d_f64(
      x.data(), c.x_tan ? xt.data() : nullptr, c.weights ? w.data() : nullptr,
      c.w_tan ? wt.data() : nullptr, c.n, c.P, c.edges.data(), std::int64_t(nb), c.h,
      c.overflow, v.data(), s2.data(), P > 0 ? j.data() : nullptr,
      P > 0 ? sj.data() : nullptr, &skipped, et ? S.data() : nullptr,
      et ? T.data() : nullptr);
  expect(cpu == DIFFANA_OK, "CPU 1D fill status");

  const DeviceArray dx(x), dxt(xt), dw(w), dwt(wt), de(c.edges);
  std::vector<double> prev_det;
  for (int mode : {DIFFANA_CUDA_FILL_PRIVATE, DIFFANA_CUDA_FILL_DETERMINISTIC,
                   DIFFANA_CUDA_FILL_ATOMIC, DIFFANA_CUDA_FILL_DETERMINISTIC}) {
    const std::vector<double> zb(nb, 0.0), zj(nb * P, 0.0), ze(et ? nb + 1 : 0, 0.0);
    const DeviceArray gv(zb), gs2(zb), gj(zj), gsj(zj), gS(ze), gT(ze);
    const DeviceArray gskip(std::vector<double>(1, 0.0)); // 8 zero bytes
    const int st = diffana_cuda_hist_fill_1d_ex_f64(
        dx.get(), dxt.get(), dw.get(), dwt.get(), c.n, c.P, de.get(), std::int64_t(nb),
        c.h, c.overflow, gv.get(), gs2.get(), gj.get(), gsj.get(),
        reinterpret_cast<int64_t*>(gskip.get()), gS.get(), gT.get(), mode, nullptr);
    const bool synced = cudaDeviceSynchronize() == cudaSuccess;
    char label[256];
    std::snprintf(label, sizeof label,
                  "1D n=%lld P=%lld nbins=%zu h=%g overflow=%d w=%d w_tan=%d x_tan=%d "
                  "edge_terms=%d mode=%s",
                  static_cast<long long>(c.n), static_cast<long long>(c.P), nb, c.h,
                  c.overflow, int(c.weights), int(c.w_tan), int(c.x_tan), int(et),
                  mode_name(mode));
    expect(st == DIFFANA_OK && synced,
           std::string(label) + ": status " + std::to_string(st));
    std::int64_t gskipped = 0;
    cudaMemcpy(&gskipped, gskip.get(), sizeof gskipped, cudaMemcpyDeviceToHost);
    expect(gskipped == skipped, std::string(label) + ": n_skipped " +
                                    std::to_string(gskipped) + " vs " +
                                    std::to_string(skipped));
    const std::vector<std::vector<double>> got = {gv.host(),  gs2.host(), gj.host(),
                                                  gsj.host(), gS.host(),  gT.host()};
    const std::vector<const std::vector<double>*> want = {&v, &s2, &j, &sj, &S, &T};
    const char* names[] = {"values",    "sumw2",        "jac",
                           "sumw2_jac", "edge_density", "edge_moment"};
    for (int k = 0; k < 6; ++k) {
      const double r = rel_diff(got[k], *want[k]);
      expect(r <= tolerance, std::string(label) + ": " + names[k] +
                                 " relative difference " + std::to_string(r));
    }
    if (mode == DIFFANA_CUDA_FILL_DETERMINISTIC) {
      std::vector<double> all;
      for (const auto& g : got)
        all.insert(all.end(), g.begin(), g.end());
      if (!prev_det.empty())
        expect(all == prev_det, std::string(label) + ": not bitwise repeatable");
      prev_det = all;
    }
  }
}

#if DIFFANA_TEST_CUDA_2D
struct Case2D {
  std::int64_t n;
  std::int64_t P;
  std::int64_t nx;
  std::int64_t ny;
  double hx;
  double hy;
  int overflow;
  bool weights;
};

void check_2d(const Case2D& c, std::mt19937_64& rng) {
  const auto n = static_cast<std::size_t>(c.n);
  const auto P = static_cast<std::size_t>(c.P);
  const auto nb = static_cast<std::size_t>(c.nx * c.ny);
  std::vector<double> x = normal(rng, n, 1.2), y = normal(rng, n, 0.8);
  for (std::size_t i = 1; i < n; i += 1009)
    y[i] = std::nan("");
  std::vector<double> w = normal(rng, c.weights ? n : 0, 0.2);
  for (auto& e : w)
    e += 1.0;
  const std::vector<double> xt = normal(rng, n * P, 0.1), yt = normal(rng, n * P, 0.1),
                            wt = normal(rng, c.weights ? n * P : 0, 0.1);
  const std::vector<double> xe = linspace(-3.0, 3.0, c.nx),
                            ye = linspace(-2.0, 2.5, c.ny);
  std::vector<double> v(nb), s2(nb), j(nb * P), sj(nb * P);
  std::int64_t skipped = 0;
  const int cpu = diffana_hist_fill_2d_f64(
      x.data(), xt.data(), y.data(), yt.data(), c.weights ? w.data() : nullptr,
      c.weights ? wt.data() : nullptr, c.n, c.P, xe.data(), c.nx, ye.data(), c.ny, c.hx,
      c.hy, c.overflow, v.data(), s2.data(), j.data(), sj.data(), &skipped);
  expect(cpu == DIFFANA_OK, "CPU 2D fill status");
  const DeviceArray dx(x), dxt(xt), dy(y), dyt(yt), dw(w), dwt(wt), dxe(xe), dye(ye);
  std::vector<double> prev_det;
  for (int mode : {DIFFANA_CUDA_FILL_PRIVATE, DIFFANA_CUDA_FILL_DETERMINISTIC,
                   DIFFANA_CUDA_FILL_ATOMIC, DIFFANA_CUDA_FILL_DETERMINISTIC}) {
    const std::vector<double> zb(nb, 0.0), zj(nb * P, 0.0);
    const DeviceArray gv(zb), gs2(zb), gj(zj), gsj(zj);
    const DeviceArray gskip(std::vector<double>(1, 0.0));
    const int st = diffana_cuda_hist_fill_2d_ex_f64(
        dx.get(), dxt.get(), dy.get(), dyt.get(), dw.get(), dwt.get(), c.n, c.P,
        dxe.get(), c.nx, dye.get(), c.ny, c.hx, c.hy, c.overflow, gv.get(), gs2.get(),
        gj.get(), gsj.get(), reinterpret_cast<int64_t*>(gskip.get()), mode, nullptr);
    const bool synced = cudaDeviceSynchronize() == cudaSuccess;
    char label[256];
    std::snprintf(label, sizeof label,
                  "2D n=%lld P=%lld %lldx%lld hx=%g hy=%g overflow=%d w=%d mode=%s",
                  static_cast<long long>(c.n), static_cast<long long>(c.P),
                  static_cast<long long>(c.nx), static_cast<long long>(c.ny), c.hx,
                  c.hy, c.overflow, int(c.weights), mode_name(mode));
    expect(st == DIFFANA_OK && synced,
           std::string(label) + ": status " + std::to_string(st));
    std::int64_t gskipped = 0;
    cudaMemcpy(&gskipped, gskip.get(), sizeof gskipped, cudaMemcpyDeviceToHost);
    expect(gskipped == skipped, std::string(label) + ": n_skipped");
    const std::vector<std::vector<double>> got = {gv.host(), gs2.host(), gj.host(),
                                                  gsj.host()};
    const std::vector<const std::vector<double>*> want = {&v, &s2, &j, &sj};
    const char* names[] = {"values", "sumw2", "jac", "sumw2_jac"};
    for (int k = 0; k < 4; ++k) {
      const double r = rel_diff(got[k], *want[k]);
      expect(r <= tolerance, std::string(label) + ": " + names[k] +
                                 " relative difference " + std::to_string(r));
    }
    if (mode == DIFFANA_CUDA_FILL_DETERMINISTIC) {
      std::vector<double> all;
      for (const auto& g : got)
        all.insert(all.end(), g.begin(), g.end());
      if (!prev_det.empty())
        expect(all == prev_det, std::string(label) + ": not bitwise repeatable");
      prev_det = all;
    }
  }
}

#endif // DIFFANA_TEST_CUDA_2D

/// Statuses that need no device: negative n or P come before any CUDA call.
void check_arguments_without_device() {
  double v = 0.0;
  expect(diffana_cuda_hist_fill_1d_f64(
             nullptr, nullptr, nullptr, nullptr, -1, 0, nullptr, 1, 0.0, 0, &v, nullptr,
             nullptr, nullptr, nullptr, nullptr, nullptr) == DIFFANA_ERR_ARGUMENT,
         "1D n < 0 -> DIFFANA_ERR_ARGUMENT");
  expect(diffana_cuda_hist_fill_1d_f64(
             nullptr, nullptr, nullptr, nullptr, 1, -1, nullptr, 1, 0.0, 0, &v, nullptr,
             nullptr, nullptr, nullptr, nullptr, nullptr) == DIFFANA_ERR_ARGUMENT,
         "1D P < 0 -> DIFFANA_ERR_ARGUMENT");
  expect(diffana_cuda_hist_fill_1d_f64(
             nullptr, nullptr, nullptr, nullptr, 1, 0, nullptr, 1, 0.0, 0, &v, nullptr,
             nullptr, nullptr, nullptr, nullptr, nullptr) == DIFFANA_ERR_EDGES,
         "1D NULL edges -> DIFFANA_ERR_EDGES");
#if DIFFANA_TEST_CUDA_2D
  expect(diffana_cuda_hist_fill_2d_f64(nullptr, nullptr, nullptr, nullptr, nullptr,
                                       nullptr, -1, 0, nullptr, 1, nullptr, 1, 0.0, 0.0,
                                       0, &v, nullptr, nullptr, nullptr,
                                       nullptr) == DIFFANA_ERR_ARGUMENT,
         "2D n < 0 -> DIFFANA_ERR_ARGUMENT");
  expect(diffana_cuda_hist_fill_2d_f64(nullptr, nullptr, nullptr, nullptr, nullptr,
                                       nullptr, 1, 0, nullptr, 0, nullptr, 1, 0.0, 0.0,
                                       0, &v, nullptr, nullptr, nullptr,
                                       nullptr) == DIFFANA_ERR_EDGES,
         "2D nx = 0 -> DIFFANA_ERR_EDGES");
#endif
}

/// The statuses of bad edges, bandwidth, overflow code and mode, as the CPU twin's.
void check_statuses() {
  const std::vector<double> x = {0.1, 0.2};
  const DeviceArray dx(x), good(std::vector<double>{0.0, 0.5, 1.0}),
      unsorted(std::vector<double>{0.0, 1.0, 0.5}), gv(std::vector<double>(2, 0.0));
  auto fill = [&](const DeviceArray& e, double h, int overflow, int mode) {
    return diffana_cuda_hist_fill_1d_ex_f64(
        dx.get(), nullptr, nullptr, nullptr, 2, 0, e.get(), 2, h, overflow, gv.get(),
        nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, mode, nullptr);
  };
  expect(fill(unsorted, 0.0, 0, 0) == DIFFANA_ERR_EDGES, "unsorted edges");
  expect(fill(good, -0.1, 0, 0) == DIFFANA_ERR_BANDWIDTH, "negative bandwidth");
  expect(fill(good, std::nan(""), 0, 0) == DIFFANA_ERR_BANDWIDTH, "NaN bandwidth");
  expect(fill(good, 0.1, 2, 0) == DIFFANA_ERR_OVERFLOW, "overflow code 2");
  expect(fill(good, 0.1, 0, 7) == DIFFANA_ERR_ARGUMENT, "unknown mode");
  expect(fill(good, 0.1, 0, 0) == DIFFANA_OK, "good arguments");
  const std::vector<double> he = {0.0, 1.0, 0.5};
  double hv[2] = {0.0, 0.0};
  expect(diffana_hist_fill_1d_f64(x.data(), nullptr, nullptr, nullptr, 2, 0, he.data(),
                                  2, 0.0, 0, hv, nullptr, nullptr, nullptr, nullptr,
                                  nullptr, nullptr) == DIFFANA_ERR_EDGES,
         "CPU twin: unsorted edges");
}

} // namespace

int main() {
  check_arguments_without_device();
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device (%s); %d argument checks passed without one\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "0 devices",
                checks - failures);
    return failures == 0 ? 77 : 1;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  std::printf("device: %s (compute capability %d.%d)\n", prop.name, prop.major,
              prop.minor);
  check_statuses();

  std::mt19937_64 rng(20261205);
  const std::vector<double> uniform = linspace(-3.0, 3.0, 20);
  const std::vector<double> uneven = {-4.0, -2.5, -1.7, -1.0, -0.6, -0.2, 0.0,
                                      0.1,  0.45, 0.9,  1.6,  2.2,  3.5};
  for (const auto* edges : {&uniform, &uneven}) {
    for (double h : {0.0, 0.1, 0.7}) {
      for (int overflow : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
        for (std::int64_t P : {0, 1, 8}) {
          check_1d({200000, P, *edges, h, overflow, true, true, true, true}, rng);
          check_1d({100000, P, *edges, h, overflow, false, false, P > 0, false}, rng);
        }
      }
    }
  }
  // Weights with tangents but constant x, and the edge terms alone.
  check_1d({100000, 3, uniform, 0.3, 0, true, true, false, false}, rng);
  check_1d({100000, 0, uniform, 0.3, 1, true, false, false, true}, rng);
  // Too large for shared memory: private falls back to global atomics, deterministic
  // to global per-warp copies.
  check_1d({50000, 8, linspace(-3.0, 3.0, 3000), 0.01, 0, true, true, true, true}, rng);
  // Few events (fewer than a warp, a block).
  check_1d({7, 2, uniform, 0.3, 1, true, true, true, true}, rng);
  check_1d({300, 2, uniform, 0.0, 0, true, true, false, false}, rng);

#if DIFFANA_TEST_CUDA_2D
  for (double hx : {0.0, 0.2}) {
    for (double hy : {0.0, 0.15}) {
      for (int overflow : {DIFFANA_OVERFLOW_DROP, DIFFANA_OVERFLOW_FOLD}) {
        for (std::int64_t P : {0, 3}) {
          check_2d({100000, P, 12, 9, hx, hy, overflow, true}, rng);
          check_2d({50000, P, 5, 30, hx, hy, overflow, false}, rng);
        }
      }
    }
  }
  check_2d({20000, 8, 60, 50, 0.05, 0.05, 0, true}, rng); // beyond shared memory
#else
  std::printf("2D fill not built (CMake option DIFFANA_CUDA_2D=OFF): not tested\n");
#endif

  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
