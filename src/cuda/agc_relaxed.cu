// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_cuda_agc_relaxed_step_f64: the relaxed AGC step (agc_relaxed.hpp) on a
/// CUDA device, one thread per event, the two soft histograms accumulated by
/// src/cuda/private_hist.cuh (block-private copies in shared memory, or the
/// deterministic mode) exactly as the 1D fill does. The per-event function is
/// diffana::agc_relaxed::StepEvent, the same one the CPU twin step_host loops over;
/// diffana_agc_relaxed_step_f64 below is that twin with C linkage (host pointers), so
/// that a program holding the C API (libdiffana_capi.so, tests/cuda) compares both.
#include "agc_relaxed.hpp"
#include "private_hist.cuh"

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

extern "C" int diffana_cuda_agc_relaxed_step_f64(
    const int64_t* offsets, const double* pt, const double* eta, const double* phi,
    const double* mass, const double* btag, const double* ok, const double* weight,
    int64_t n_events, const double* params, const double* edges0, int64_t nbins0,
    double bw0, const double* edges1, int64_t nbins1, double bw1, int overflow,
    double* values, double* sumw2, double* jac, double* sumw2_jac, int64_t* n_skipped,
    int mode, void* stream) {
  using namespace diffana::agc_relaxed;
  using namespace diffana::cuda_detail;
  const auto s = static_cast<cudaStream_t>(stream);
  if (params == nullptr) return DIFFANA_ERR_ARGUMENT;
  const Params par = Params::of(params);
  const Columns col{offsets, pt, eta, phi, mass, btag, ok, weight, n_events};
  // Host copies of the edges for the checks and the uniform-spacing detection; the
  // kernel reads the device edges.
  if (nbins0 < 1 || nbins1 < 1 || edges0 == nullptr || edges1 == nullptr)
    return DIFFANA_ERR_EDGES;
  std::vector<double> host0(static_cast<std::size_t>(nbins0) + 1);
  std::vector<double> host1(static_cast<std::size_t>(nbins1) + 1);
  if (const int st = copy_edges(edges0, nbins0, host0.data(), s); st != DIFFANA_OK)
    return st;
  if (const int st = copy_edges(edges1, nbins1, host1.data(), s); st != DIFFANA_OK)
    return st;
  const int status = check_step(col, par, host0.data(), nbins0, bw0, host1.data(),
                                nbins1, bw1, overflow, values);
  if (status != DIFFANA_OK) return status;
  if (mode != DIFFANA_CUDA_FILL_PRIVATE && mode != DIFFANA_CUDA_FILL_DETERMINISTIC &&
      mode != DIFFANA_CUDA_FILL_ATOMIC)
    return DIFFANA_ERR_ARGUMENT;
  if (n_events == 0) return DIFFANA_OK;

  const auto ov = static_cast<diffana::Overflow>(overflow);
  StepEvent ev{col, par, diffana::make_bin_axis(host0.data(), nbins0, bw0, ov),
               diffana::make_bin_axis(host1.data(), nbins1, bw1, ov)};
  ev.axis0.edges = edges0;
  ev.axis1.edges = edges1;
  HistBuffers<double> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = jac;
  out.sumw2_jac = sumw2_jac;
  return launch_fill(ev, n_events, out, nbins0 + nbins1, n_params,
                     reinterpret_cast<long long*>(n_skipped), mode, s);
}

extern "C" int diffana_agc_relaxed_step_f64(
    const int64_t* offsets, const double* pt, const double* eta, const double* phi,
    const double* mass, const double* btag, const double* ok, const double* weight,
    int64_t n_events, const double* params, const double* edges0, int64_t nbins0,
    double bw0, const double* edges1, int64_t nbins1, double bw1, int overflow,
    double* values, double* sumw2, double* jac, double* sumw2_jac, int64_t* n_skipped) {
  const diffana::agc_relaxed::Columns col{offsets, pt, eta,    phi,     mass,
                                          btag,    ok, weight, n_events};
  return diffana::agc_relaxed::step_host(col, params, edges0, nbins0, bw0, edges1,
                                         nbins1, bw1, overflow, values, sumw2, jac,
                                         sumw2_jac, n_skipped);
}
