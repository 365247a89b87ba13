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
#define DIFFANA_ERR_EDGES 1     /* fewer than 2 edges, not strictly increasing, or not finite */
#define DIFFANA_ERR_BANDWIDTH 2 /* negative, NaN or infinite bandwidth */
#define DIFFANA_ERR_OVERFLOW 3  /* unknown overflow policy code */
#define DIFFANA_ERR_ARGUMENT 4  /* another bad argument (negative n or P, NaN parameter, ...) */

/* Overflow policies. */
#define DIFFANA_OVERFLOW_DROP 0
#define DIFFANA_OVERFLOW_FOLD 1

/** A static, human-readable description of a status code. */
const char* diffana_status_message(int status);

/* ---- histograms (src/kernels/hist_fill_1d.cpp, hist_fill_2d.cpp) ---- */

int diffana_hist_fill_1d_f64(const double* x, const double* x_tan, const double* w,
                             const double* w_tan, int64_t n, int64_t P,
                             const double* edges, int64_t nbins, double bandwidth,
                             int overflow, double* values, double* sumw2, double* jac,
                             double* sumw2_jac, int64_t* n_skipped, double* edge_density,
                             double* edge_moment);

int diffana_hist_fill_2d_f64(const double* x, const double* x_tan, const double* y,
                             const double* y_tan, const double* w, const double* w_tan,
                             int64_t n, int64_t P, const double* xedges, int64_t nx,
                             const double* yedges, int64_t ny, double xbandwidth,
                             double ybandwidth, int overflow, double* values,
                             double* sumw2, double* jac, double* sumw2_jac,
                             int64_t* n_skipped);

/* ---- element-wise soft operations (src/kernels/soft_cut.cpp, soft_window.cpp) ---- */

int diffana_soft_cut_f64(const double* x, const double* cut, const double* slope,
                         int64_t n, int keep_above, double* value, double* d_x,
                         double* d_cut, double* d_slope);

int diffana_soft_window_f64(const double* x, const double* lo, const double* hi,
                            const double* slope, int64_t n, double* value, double* d_x,
                            double* d_lo, double* d_hi, double* d_slope);

#ifdef __cplusplus
}
#endif
