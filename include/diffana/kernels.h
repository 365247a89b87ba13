/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The flat C API of diffana's batch kernels (implemented in src/kernels/, one kernel
 * per file, linked as the static library diffana::kernels).
 *
 * Conventions: tangent arrays are row-major [n, P] (tan[i * P + k]); Jacobians are
 * [nbins, P] (jac[b * P + k] = d bin_b / d param_k). Kernels accumulate (+=) into
 * outputs the caller has zeroed, never allocate, never throw, and return a status.
 * ARCHITECTURE.md documents every argument.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIFFANA_OK 0
#define DIFFANA_ERR_EDGES 1     /* < 2 edges, not strictly increasing, or not finite */
#define DIFFANA_ERR_BANDWIDTH 2 /* negative, NaN or infinite bandwidth */
#define DIFFANA_ERR_OVERFLOW 3  /* unknown overflow policy code */
#define DIFFANA_ERR_ARGUMENT 4  /* other bad argument (n < 0, NULL, NaN, ...) */
#define DIFFANA_ERR_DEVICE 5    /* a CUDA runtime call failed (CUDA launchers only) */

/* Overflow policies. */
#define DIFFANA_OVERFLOW_DROP 0
#define DIFFANA_OVERFLOW_FOLD 1

/** A static, human-readable description of a status code. */
const char* diffana_status_message(int status);

/* ---- histograms (src/kernels/hist_fill_1d.cpp, hist_fill_2d.cpp) ----
 *
 * Semantics: python/diffana/_reference.py (the source of truth). Hard binning
 * (bandwidth 0) is numpy.histogram's: bins [lo, hi), the last one closed; an event
 * adds w to its bin, and its Jacobian row gets d w (x_tan is not used). Soft binning
 * (bandwidth h > 0) is relaxed.hist's: an event adds c_b = w k_b,
 * k_b = Phi((e_{b+1} - x) / h) - Phi((e_b - x) / h), to every bin within 7.5 h of x
 * (DIFFANA_SOFT_TRUNCATION; the weight left out is <= 6.4e-14 w), with tangent
 * dc_b = k_b dw + w (dk_b/dx) dx. sumw2_b += c_b^2, sumw2_jac_b += 2 c_b dc_b.
 * overflow: DIFFANA_OVERFLOW_DROP or DIFFANA_OVERFLOW_FOLD (outer edges = -inf/+inf).
 *
 * Inputs: x[n]; x_tan[n*P] or NULL (constant x); w[n] or NULL (all 1); w_tan[n*P] or
 * NULL (constant w). Outputs, all accumulated (+=): values[nbins] (required);
 * sumw2[nbins], jac[nbins*P], sumw2_jac[nbins*P], n_skipped (one int64) may each be
 * NULL to skip them. Events with NaN x (or y) or a non-finite weight are skipped and
 * counted in n_skipped; x = +-inf is an under/overflow (zero derivative).
 * The 1D kernel's optional edge terms (soft binning only, else untouched; NULL to
 * skip), over the finite edges of each event's span:
 *   edge_density[nbins+1]  S_j += w phi(z_j) / h,      z_j = (e_j - x) / h
 *   edge_moment[nbins+1]   T_j += w phi(z_j) z_j / h
 * give d values_b / d e_b = -S_b, d values_b / d e_{b+1} = S_{b+1} and
 * d values_b / d h = T_b - T_{b+1} (with fold, S and T of the outer edges stay 0).
 *
 * Status, checked in this order: DIFFANA_ERR_ARGUMENT for n < 0 or P < 0;
 * DIFFANA_ERR_EDGES for nbins < 1, NULL edges, or edges not finite and strictly
 * increasing (2D: both axes); DIFFANA_ERR_BANDWIDTH for a negative, NaN or infinite
 * bandwidth; DIFFANA_ERR_OVERFLOW for an unknown overflow code; DIFFANA_ERR_ARGUMENT
 * for NULL values, or NULL x (2D: x or y) with n > 0. Nothing is written unless the
 * status is DIFFANA_OK. */

int diffana_hist_fill_1d_f64(const double* x, const double* x_tan, const double* w,
                             const double* w_tan, int64_t n, int64_t P,
                             const double* edges, int64_t nbins, double bandwidth,
                             int overflow, double* values, double* sumw2, double* jac,
                             double* sumw2_jac, int64_t* n_skipped,
                             double* edge_density, double* edge_moment);

int diffana_hist_fill_2d_f64(const double* x, const double* x_tan, const double* y,
                             const double* y_tan, const double* w, const double* w_tan,
                             int64_t n, int64_t P, const double* xedges, int64_t nx,
                             const double* yedges, int64_t ny, double xbandwidth,
                             double ybandwidth, int overflow, double* values,
                             double* sumw2, double* jac, double* sumw2_jac,
                             int64_t* n_skipped);

/* ---- the reverse-mode gather of a 1D histogram (src/kernels/hist_fill_1d_vjp.cpp)
 * ----
 *
 * The transpose of diffana_hist_fill_1d_f64's tangent map with respect to the events
 * (what a reverse-mode VJP needs, one pass over the events for any number P of
 * cotangent directions): for a cotangent ct[nbins*P] of the bins (row-major,
 * ct[b * P + p] = d loss_p / d values_b),
 *   ct_x[i*P + p] += w_i sum_b ct[b*P + p] dk_b/dx(x_i)   (d loss_p / d x_i)
 *   ct_w[i*P + p] += sum_b ct[b*P + p] k_b(x_i)           (d loss_p / d w_i)
 * with the k_b and dk_b/dx of the fill above (soft binning: truncated Gaussian; hard
 * binning: k = 1 in the event's bin, dk/dx = 0; overflow fold: outer edges -inf/+inf).
 * x[n]; w[n] or NULL (all 1). Outputs, accumulated (+=): ct_x[n*P] and ct_w[n*P],
 * either may be NULL to skip it. Events the fill skips (NaN x, non-finite weight)
 * get no cotangent; x = +-inf has dk/dx = 0.
 *
 * Status, checked in this order: DIFFANA_ERR_ARGUMENT for n < 0 or P < 0;
 * DIFFANA_ERR_EDGES, DIFFANA_ERR_BANDWIDTH, DIFFANA_ERR_OVERFLOW as for the fill;
 * then DIFFANA_OK without work when n = 0, P = 0 or both outputs are NULL;
 * DIFFANA_ERR_ARGUMENT for NULL x or ct. Nothing is written unless the status is
 * DIFFANA_OK. */

int diffana_hist_fill_1d_vjp_f64(const double* x, const double* w, const double* ct,
                                 int64_t n, int64_t P, const double* edges,
                                 int64_t nbins, double bandwidth, int overflow,
                                 double* ct_x, double* ct_w);

/* ---- the histogram kernels on a CUDA device (src/cuda/; only in builds with
 * DIFFANA_CUDA=ON) ----
 *
 * diffana_cuda_hist_fill_1d_f64 and _2d_f64 take the arguments of their CPU twins in
 * the same order, all array pointers device pointers (edges too: they are copied to
 * the host once to be validated), and compute the same sums (within rounding: the
 * order of the additions differs). They are synchronous (return when the fill is
 * done) and use DIFFANA_CUDA_FILL_PRIVATE. Statuses as above, checked in the same
 * order, or DIFFANA_ERR_DEVICE when a CUDA call fails. The 2D fill is compiled only
 * with the CMake option DIFFANA_CUDA_2D=ON (ptxas takes very long on it).
 *
 * The _ex variants add, after the twin's arguments:
 *   mode    DIFFANA_CUDA_FILL_PRIVATE (what the plain functions use): each block
 *           accumulates into its own copies of the histogram in shared memory and
 *           merges them into the outputs once (one atomicAdd per element and block);
 *           the order of the additions depends on scheduling, so results can differ
 *           in the last bits from run to run. Histograms too large for shared memory
 *           fall back to DIFFANA_CUDA_FILL_ATOMIC.
 *           DIFFANA_CUDA_FILL_DETERMINISTIC: sums in a fixed order (per-warp copies,
 *           lanes in turn, per-block partials reduced in block order; the grid depends
 *           on n and the histogram size only), so the same inputs give bitwise the
 *           same outputs on every run and device. Slower (lanes take turns).
 *           DIFFANA_CUDA_FILL_ATOMIC: one thread per event, every contribution
 *           atomicAdd-ed into the outputs (the first kernel; for comparisons).
 *           Any other value: DIFFANA_ERR_ARGUMENT (after the twin's checks).
 *   stream  a cudaStream_t (NULL: the default stream). The work is queued on it and
 *           the function returns without waiting for it (the edges are copied to
 *           the host synchronously first); n_skipped and the outputs are final once
 *           the stream is synchronised. The deterministic mode allocates its partials
 *           with cudaMallocAsync on the stream. */
#define DIFFANA_CUDA_FILL_PRIVATE 0
#define DIFFANA_CUDA_FILL_DETERMINISTIC 1
#define DIFFANA_CUDA_FILL_ATOMIC 2

int diffana_cuda_hist_fill_1d_f64(const double* x, const double* x_tan, const double* w,
                                  const double* w_tan, int64_t n, int64_t P,
                                  const double* edges, int64_t nbins, double bandwidth,
                                  int overflow, double* values, double* sumw2,
                                  double* jac, double* sumw2_jac, int64_t* n_skipped,
                                  double* edge_density, double* edge_moment);

int diffana_cuda_hist_fill_1d_ex_f64(const double* x, const double* x_tan,
                                     const double* w, const double* w_tan, int64_t n,
                                     int64_t P, const double* edges, int64_t nbins,
                                     double bandwidth, int overflow, double* values,
                                     double* sumw2, double* jac, double* sumw2_jac,
                                     int64_t* n_skipped, double* edge_density,
                                     double* edge_moment, int mode, void* stream);

int diffana_cuda_hist_fill_2d_f64(const double* x, const double* x_tan, const double* y,
                                  const double* y_tan, const double* w,
                                  const double* w_tan, int64_t n, int64_t P,
                                  const double* xedges, int64_t nx,
                                  const double* yedges, int64_t ny, double xbandwidth,
                                  double ybandwidth, int overflow, double* values,
                                  double* sumw2, double* jac, double* sumw2_jac,
                                  int64_t* n_skipped);

int diffana_cuda_hist_fill_2d_ex_f64(
    const double* x, const double* x_tan, const double* y, const double* y_tan,
    const double* w, const double* w_tan, int64_t n, int64_t P, const double* xedges,
    int64_t nx, const double* yedges, int64_t ny, double xbandwidth, double ybandwidth,
    int overflow, double* values, double* sumw2, double* jac, double* sumw2_jac,
    int64_t* n_skipped, int mode, void* stream);

/* The reverse-mode gather on a CUDA device (src/cuda/hist_fill_1d_vjp.cu): the
 * arguments of diffana_hist_fill_1d_vjp_f64, device pointers (edges copied to the
 * host once to be validated), the same statuses or DIFFANA_ERR_DEVICE. One thread per
 * event, no atomics (deterministic). The plain function is synchronous; _ex queues
 * the work on stream (a cudaStream_t, NULL: the default stream) and returns. */
int diffana_cuda_hist_fill_1d_vjp_f64(const double* x, const double* w,
                                      const double* ct, int64_t n, int64_t P,
                                      const double* edges, int64_t nbins,
                                      double bandwidth, int overflow, double* ct_x,
                                      double* ct_w);

int diffana_cuda_hist_fill_1d_vjp_ex_f64(const double* x, const double* w,
                                         const double* ct, int64_t n, int64_t P,
                                         const double* edges, int64_t nbins,
                                         double bandwidth, int overflow, double* ct_x,
                                         double* ct_w, void* stream);

/* ---- element-wise soft operations (src/kernels/soft_cut.cpp, soft_window.cpp) ----
 *
 * The relaxed ops. Every one has the same shape, which the bindings rely on (one
 * template, python/bindings/relaxed_ops.hpp, registers them all):
 *   int diffana_soft_<op>_f64(in_0, ..., in_{K-1}, n, opt_0, ..., opt_{M-1},
 *                             value, d_in_0, ..., d_in_{K-1});
 * with K const double* inputs, int64_t n, M int options and K + 1 double* outputs.
 * in_0 is the event data (NaN allowed: it propagates to that element); the other
 * inputs are parameters that must be finite.
 *
 * Unlike the histogram kernels these WRITE (=, not +=) their outputs: value[i] and
 * the partial derivatives of value[i] w.r.t. each input at element i (callers combine
 * them with their own tangents). All arrays have length n (the binding broadcasts
 * scalars first). value must not be NULL when n > 0; any of the derivative outputs
 * may be NULL to skip it.
 *
 * soft_cut: keep_above = 1: value = 1 / (1 + exp(-slope (x - cut)))  (relaxed.cut
 *           keep="above"); keep_above = 0: value = 1 / (1 + exp(slope (x - cut)))
 *           (keep="below"). d_x = +-slope v (1 - v), d_cut = -d_x,
 *           d_slope = +-(x - cut) v (1 - v) (+ above, - below).
 * soft_window: value = soft_cut(x, lo, slope) * soft_cut_below(x, hi, slope), with
 *           d_x, d_lo, d_hi, d_slope (product rule, see diffana/soft/cuts.hpp).
 * For large |slope (x - cut)| values are exactly 0 or 1 and derivatives exactly 0.
 *
 * Returns DIFFANA_ERR_ARGUMENT for n < 0, keep_above not 0 or 1, a NULL input or
 * value pointer (n > 0), or a NaN/infinite cut, lo, hi or slope element; the outputs
 * are then partly written and must be discarded. A NaN x[i] is not an error: it gives
 * NaN value[i] and derivatives at i only; x[i] = +-inf gives the limit 0 or 1 with
 * zero derivatives (slope != 0). */

int diffana_soft_cut_f64(const double* x, const double* cut, const double* slope,
                         int64_t n, int keep_above, double* value, double* d_x,
                         double* d_cut, double* d_slope);

int diffana_soft_window_f64(const double* x, const double* lo, const double* hi,
                            const double* slope, int64_t n, double* value, double* d_x,
                            double* d_lo, double* d_hi, double* d_slope);

/* The soft ops on a CUDA device (src/cuda/soft_ops.cu): the arguments of the CPU
 * twins (device pointers) and a stream (a cudaStream_t, NULL: the default stream);
 * the same statuses, or DIFFANA_ERR_DEVICE. The finiteness of the parameters is
 * checked on the device, so these wait for the stream before they return. */
int diffana_cuda_soft_cut_f64(const double* x, const double* cut, const double* slope,
                              int64_t n, int keep_above, double* value, double* d_x,
                              double* d_cut, double* d_slope, void* stream);

int diffana_cuda_soft_window_f64(const double* x, const double* lo, const double* hi,
                                 const double* slope, int64_t n, double* value,
                                 double* d_x, double* d_lo, double* d_hi,
                                 double* d_slope, void* stream);

/* ---- element-wise Lorentz helpers (src/kernels/physics_<op>.cpp) ----
 *
 * The helpers of diffana/physics/lorentz.hpp on arrays, with their partial
 * derivatives. Every one has the same shape (one template instantiated per file,
 * diffana::batch::elementwise in diffana/physics/batch.hpp):
 *   int diffana_physics_<op>_f64(in_0, ..., in_{K-1}, n, value, partials);
 * with K const double* inputs of length n (the binding broadcasts scalars first),
 * int64_t n, and two outputs for O results per element (O = 1, or 4 for the basis
 * changes): value[n*O] with value[i*O + j] = result j at element i, and
 * partials[n*O*K] with partials[(i*O + j)*K + k] = d value[i*O + j] / d in_k[i]
 * (so [n, K] row-major for O = 1, [n, 4, 4] for O = 4). Like the soft ops they WRITE
 * (=, not +=) their outputs; partials may be NULL to skip it (the value alone is then
 * computed without tangents).
 *
 * Semantics and derivatives: diffana/physics/lorentz.hpp (python/diffana/_reference.py
 * is the NumPy reference). At a non-differentiable point the partials are 0: a
 * vanishing invariant mass (collinear massless pair) or mass, a vanishing pT of the
 * sum or pt, Delta R = 0, a null vector (pt = m = 0) in E. A NaN input gives NaN at
 * its element only; no input value is an error.
 *
 *   op               inputs (in_0, ..., in_{K-1})              K  results (O)
 *   invariant_mass   pt1, eta1, phi1, m1, pt2, eta2, phi2, m2   8  M (1)
 *   invariant_mass3  pt1, ..., m1, pt2, ..., m2, pt3, ..., m3  12  M (1)
 *   pt_of_sum        pt1, phi1, pt2, phi2                       4  pT of the sum (1)
 *   pt_of_sum3       pt1, phi1, pt2, phi2, pt3, phi3            6  pT of the sum (1)
 *   delta_phi        phi1, phi2                                 2  phi1 - phi2 in
 *                                                                  [-pi, pi) (1)
 *   delta_r          eta1, phi1, eta2, phi2                     4  Delta R (1)
 *   to_cartesian     pt, eta, phi, m                            4  px, py, pz, E (4)
 *   from_cartesian   px, py, pz, e                              4  pt, eta, phi, m (4)
 * from_cartesian along the beam (px = py = 0): eta = +-inf (0 for pz = 0), phi by
 * atan2's convention, zero partials; m = 0 where E^2 - p^2 <= 16 eps E^2.
 *
 * Returns DIFFANA_ERR_ARGUMENT for n < 0, or a NULL input or value pointer with n > 0
 * (nothing is written); DIFFANA_OK otherwise. */

int diffana_physics_invariant_mass_f64(const double* pt1, const double* eta1,
                                       const double* phi1, const double* m1,
                                       const double* pt2, const double* eta2,
                                       const double* phi2, const double* m2, int64_t n,
                                       double* value, double* partials);

int diffana_physics_invariant_mass3_f64(const double* pt1, const double* eta1,
                                        const double* phi1, const double* m1,
                                        const double* pt2, const double* eta2,
                                        const double* phi2, const double* m2,
                                        const double* pt3, const double* eta3,
                                        const double* phi3, const double* m3, int64_t n,
                                        double* value, double* partials);

int diffana_physics_pt_of_sum_f64(const double* pt1, const double* phi1,
                                  const double* pt2, const double* phi2, int64_t n,
                                  double* value, double* partials);

int diffana_physics_pt_of_sum3_f64(const double* pt1, const double* phi1,
                                   const double* pt2, const double* phi2,
                                   const double* pt3, const double* phi3, int64_t n,
                                   double* value, double* partials);

int diffana_physics_delta_phi_f64(const double* phi1, const double* phi2, int64_t n,
                                  double* value, double* partials);

int diffana_physics_delta_r_f64(const double* eta1, const double* phi1,
                                const double* eta2, const double* phi2, int64_t n,
                                double* value, double* partials);

int diffana_physics_to_cartesian_f64(const double* pt, const double* eta,
                                     const double* phi, const double* m, int64_t n,
                                     double* value, double* partials);

int diffana_physics_from_cartesian_f64(const double* px, const double* py,
                                       const double* pz, const double* e, int64_t n,
                                       double* value, double* partials);

#ifdef __cplusplus
}
#endif
