// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The relaxed AGC ttbar step of one event, written once for the host and a CUDA
/// device: the chain of examples/agc/agc.yaml's `defines` from the jet columns to the
/// two soft histograms (4j1b: H_T weighted by P(4j1b); 4j2b: the soft trijet mass
/// weighted by P(4j2b)) with their Jacobians with respect to (pt_cut, btag_cut, jes).
///
/// Per event (jets j of the event, Dual<double, 3> seeded on the three parameters):
///   jet_pt_j = pt_j (1 + jes_step jes)
///   s_j      = soft_step(jet_pt_j, pt_cut, pt_width) ok_j   (ok_j: the hard jet mask)
///   b_j      = soft_step(btag_j, btag_cut, btag_width)
///   (P(4j1b), P(4j2b)) = region_probabilities(s, b)
///   H_T      = sum_j s_j jet_pt_j
///   m_bjj    = soft_trijet_mass(jet_pt, eta, phi, m, s, b, {temperature, epsilon})
/// then fill_event_1d (diffana/hist/soft_binning.hpp) of (H_T, weight P(4j1b)) and
/// (m_bjj, weight P(4j2b)), weight = the event's weight column. The formulas are those
/// of diffana::agc (include/diffana/physics/agc.hpp) in the same order of operations
/// (so the host twin equals the CPU analysis path to rounding); they are repeated here
/// because agc.hpp allocates (std::vector scratch) and throws, which device code
/// cannot: here every per-jet array is on the stack (at most max_jets jets per event),
/// the per-triplet quantities are recomputed in each pass instead of stored, and the
/// parameters are validated once by the entry points, not per event.
///
/// The entry points: agc_relaxed_step_host (the CPU twin, a host loop) here, and
/// diffana_cuda_agc_relaxed_step_f64 (src/cuda/agc_relaxed.cu, one thread per event,
/// block-private histograms of src/cuda/private_hist.cuh), with the same arguments.
/// Outputs are the two histograms concatenated: values[nbins0 + nbins1],
/// jac[(nbins0 + nbins1) * 3] row-major (bin, parameter); sumw2 and sumw2_jac alike
/// (optional).
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/config.hpp"
#include "diffana/hist/soft_binning.hpp"
#include "diffana/kernels.h"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"

#include <cfloat>
#include <cmath>
#include <cstdint>

namespace diffana::agc_relaxed {

/// Tangent directions: d/d pt_cut, d/d btag_cut, d/d jes.
inline constexpr int n_params = 3;
/// Most jets per event (the stack arrays of the trijet pass); events with more are
/// skipped and counted, and the Python layer refuses such data before a step.
inline constexpr int max_jets = 32;
/// Values of Params::values, in this order.
inline constexpr int n_values = 8;

using D = Dual<double, n_params>;

/// The parameters of a step: (pt_cut, btag_cut, jes, pt_width, btag_width,
/// temperature, epsilon, jes_step), the AGC configuration's names; jet pT is scaled by
/// 1 + jes_step jes (0.03 in examples/agc/agc.yaml).
struct Params {
  double pt_cut = 30.0;
  double btag_cut = 0.5;
  double jes = 0.0;
  double pt_width = 2.0;
  double btag_width = 0.05;
  double temperature = 10.0;
  double epsilon = 1e-4;
  double jes_step = 0.03;

  DIFFANA_HOST_DEVICE static Params of(const double* v) {
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  }
  /// DIFFANA_OK, or DIFFANA_ERR_ARGUMENT for a non-finite value, a negative width or
  /// temperature, or epsilon outside [0, 1).
  int check() const {
    const double all[n_values] = {pt_cut,     btag_cut,    jes,     pt_width,
                                  btag_width, temperature, epsilon, jes_step};
    for (double v : all)
      if (!std::isfinite(v)) return DIFFANA_ERR_ARGUMENT;
    if (pt_width < 0.0 || btag_width < 0.0 || temperature < 0.0)
      return DIFFANA_ERR_ARGUMENT;
    if (!(epsilon >= 0.0 && epsilon < 1.0)) return DIFFANA_ERR_ARGUMENT;
    return DIFFANA_OK;
  }
};

/// The jet columns of the events (host or device pointers): jets of event i are
/// offsets[i] .. offsets[i + 1] - 1. ok is the hard jet mask (|eta| < 2.4 and the
/// jet ID) as 0/1; weight the event weight (genWeight).
struct Columns {
  const std::int64_t* offsets = nullptr;
  const double* pt = nullptr;
  const double* eta = nullptr;
  const double* phi = nullptr;
  const double* mass = nullptr;
  const double* btag = nullptr;
  const double* ok = nullptr;
  const double* weight = nullptr;
  std::int64_t n_events = 0;
};

/// One event's inputs to the two fills: observable x, weight w and their tangents.
struct EventObservables {
  double x[2] = {0.0, 0.0};
  double x_tan[2][n_params] = {};
  double w[2] = {0.0, 0.0};
  double w_tan[2][n_params] = {};
  bool valid = false; ///< the event has at most max_jets jets
};

/// diffana::agc::soft_step for a validated width (>= 0, finite).
DIFFANA_HOST_DEVICE inline D soft_step(const D& x, const D& cut, double width) {
  if (width == 0.0) return D(x.value() > cut.value() ? 1.0 : 0.0);
  return soft_cut(x, cut, 1.0 / width);
}

/// diffana::agc::region_probabilities: (P(4j1b), P(4j2b)).
DIFFANA_HOST_DEVICE inline void region_probabilities(const D* s, const D* b, int n,
                                                     D* p_4j1b, D* p_4j2b) {
  constexpr int nj = 5;
  constexpr int nb = 3;
  D p[nj * nb];
  for (auto& x : p)
    x = D(0.0);
  p[0] = D(1.0);
  for (int i = 0; i < n; ++i) {
    const D& si = s[i];
    const D& bi = b[i];
    const D not_sel = D(1.0) - si;
    const D sel_b = si * bi;
    const D sel_l = si - sel_b;
    D q[nj * nb];
    for (auto& x : q)
      x = D(0.0);
    for (int j = 0; j < nj; ++j)
      for (int c = 0; c < nb; ++c) {
        const D& v = p[j * nb + c];
        const int j1 = j + 1 < nj ? j + 1 : nj - 1;
        const int c1 = c + 1 < nb ? c + 1 : nb - 1;
        q[j * nb + c] += v * not_sel;
        q[j1 * nb + c] += v * sel_l;
        q[j1 * nb + c1] += v * sel_b;
      }
    for (int k = 0; k < nj * nb; ++k)
      p[k] = q[k];
  }
  *p_4j1b = p[4 * nb + 1];
  *p_4j2b = p[4 * nb + 2];
}

/// The plain per-triplet quantities of diffana::agc::soft_trijet_mass, recomputed
/// identically wherever they are needed: vector-sum pT and weight w_t.
struct TripletPlain {
  const double* px;
  const double* py;
  const double* sv;
  const double* bv;

  DIFFANA_HOST_DEVICE void at(int i, int j, int k, double* ptt, double* wt) const {
    const double pxij = px[i] + px[j];
    const double pyij = py[i] + py[j];
    const double sij = sv[i] * sv[j];
    const double qij = (1.0 - bv[i]) * (1.0 - bv[j]);
    const double pij = bv[i] + (1.0 - bv[i]) * bv[j];
    const double tx = pxij + px[k];
    const double ty = pyij + py[k];
    *ptt = std::sqrt(tx * tx + ty * ty);
    *wt = sij * sv[k] * (pij + qij * bv[k]);
  }
};

/// diffana::agc::soft_trijet_mass(n, pt, eta, phi, m, s, b, {temp, eps}).mass for
/// Dual pt, s, b and plain eta, phi, m (the mixed-mode path of agc.hpp; at T = 0 its
/// hard argmax). NaN for a used jet with a non-finite input; 0 without a candidate.
DIFFANA_HOST_DEVICE inline D trijet_mass(int n, const D* pt, const double* eta,
                                         const double* phi, const double* m, const D* s,
                                         const D* b, double temp, double eps) {
  int idx[max_jets];
  double px[max_jets];
  double py[max_jets];
  double pz[max_jets];
  double en[max_jets];
  double sv[max_jets];
  double bv[max_jets];
  int nu = 0;
  for (int j = 0; j < n; ++j) {
    const double sj = s[j].value();
    if (sj == 0.0) continue;
    const double ptj = pt[j].value();
    const double bj = b[j].value();
    const bool finite = std::isfinite(ptj) && std::isfinite(eta[j]) &&
                        std::isfinite(phi[j]) && std::isfinite(m[j]) &&
                        std::isfinite(sj) && std::isfinite(bj);
    if (finite && sj < eps) continue;
    if (!finite) return D(std::nan(""));
    idx[nu++] = j;
  }
  if (nu < 3) return D(0.0);
  for (int u = 0; u < nu; ++u) {
    const int j = idx[u];
    const PxPyPzE<double> v = to_cartesian(pt[j].value(), eta[j], phi[j], m[j]);
    px[u] = v.px;
    py[u] = v.py;
    pz[u] = v.pz;
    en[u] = v.e;
    sv[u] = s[j].value();
    bv[u] = b[j].value();
  }
  const TripletPlain plain{px, py, sv, bv};
  constexpr double inf = HUGE_VAL;

  // Pass 1: c = the largest pT_t among the triplets with w_t > 0, and the argmax.
  double c = -inf;
  int best[3] = {-1, -1, -1};
  for (int i = 0; i < nu; ++i)
    for (int j = i + 1; j < nu; ++j)
      for (int k = j + 1; k < nu; ++k) {
        double ptt = 0.0;
        double wt = 0.0;
        plain.at(i, j, k, &ptt, &wt);
        if (wt > 0.0 && ptt > c) {
          c = ptt;
          best[0] = i;
          best[1] = j;
          best[2] = k;
        }
      }
  if (best[0] < 0) return D(0.0);

  const auto p4_of = [&](int u) {
    const int j = idx[u];
    return to_cartesian(pt[j], D(eta[j]), D(phi[j]), D(m[j]));
  };
  if (temp == 0.0) return mass(p4_of(best[0]) + p4_of(best[1]) + p4_of(best[2]));

  // The largest r_t = w_t exp((pT_t - c) / T), for the pruning threshold.
  double r_max = 0.0;
  for (int i = 0; i < nu; ++i)
    for (int j = i + 1; j < nu; ++j)
      for (int k = j + 1; k < nu; ++k) {
        double ptt = 0.0;
        double wt = 0.0;
        plain.at(i, j, k, &ptt, &wt);
        const double r = wt * std::exp((ptt - c) / temp);
        if (r > r_max) r_max = r;
      }
  const double keep_at = eps * r_max;

  // Pass 2: num = sum a_t m_t, den = sum a_t over the kept triplets, with their
  // partials w.r.t. every used jet's (px, py, pz, E, s, b) in coef (agc.hpp's local
  // reverse pass).
  constexpr double tiny = 16.0 * DBL_EPSILON;
  double coef[12 * max_jets];
  for (int q = 0; q < 12 * nu; ++q)
    coef[q] = 0.0;
  double num = 0.0;
  double den = 0.0;
  for (int i = 0; i < nu; ++i)
    for (int j = i + 1; j < nu; ++j) {
      const double sij = sv[i] * sv[j];
      const double qij = (1.0 - bv[i]) * (1.0 - bv[j]);
      const double p_ij = bv[i] + (1.0 - bv[i]) * bv[j];
      for (int k = j + 1; k < nu; ++k) {
        double ptt_plain = 0.0;
        double wt = 0.0;
        plain.at(i, j, k, &ptt_plain, &wt);
        const double ex = std::exp((ptt_plain - c) / temp);
        if (!(wt > 0.0)) continue;
        if (eps > 0.0 && wt * ex < keep_at) continue;
        const double x = px[i] + px[j] + px[k];
        const double y = py[i] + py[j] + py[k];
        const double z = pz[i] + pz[j] + pz[k];
        const double e = en[i] + en[j] + en[k];
        const double ptt = std::sqrt(x * x + y * y);
        const double prob = p_ij + qij * bv[k];
        const double a = wt * ex;
        const double p = std::sqrt(x * x + y * y + z * z);
        const double m2 = (e - p) * (e + p);
        double mt = 0.0;
        double inv_m = 0.0;
        if (m2 > tiny * e * e) {
          mt = std::sqrt(m2);
          inv_m = 1.0 / mt;
        }
        num += a * mt;
        den += a;
        const double k_pt = ptt > 0.0 ? a / (temp * ptt) : 0.0;
        const double num_x = (mt * k_pt - a * inv_m) * x;
        const double num_y = (mt * k_pt - a * inv_m) * y;
        const double num_z = -a * inv_m * z;
        const double num_e = a * inv_m * e;
        const double den_x = k_pt * x;
        const double den_y = k_pt * y;
        const double sss = sij * sv[k];
        const int jets[3][3] = {{i, j, k}, {j, i, k}, {k, i, j}};
        for (const auto& o : jets) {
          double* cu = &coef[12 * o[0]];
          const double dw_ds = sv[o[1]] * sv[o[2]] * prob;
          const double dw_db = sss * (1.0 - bv[o[1]]) * (1.0 - bv[o[2]]);
          cu[0] += num_x;
          cu[1] += num_y;
          cu[2] += num_z;
          cu[3] += num_e;
          cu[4] += mt * ex * dw_ds;
          cu[5] += mt * ex * dw_db;
          cu[6] += den_x;
          cu[7] += den_y;
          cu[10] += ex * dw_ds;
          cu[11] += ex * dw_db;
        }
      }
    }
  // d mass / d (px, py, pz, E, s, b) of each jet, through to_cartesian's Jacobian to
  // pt (the only Dual among pt, eta, phi, m here), s and b.
  const double mass_value = num / den;
  D out(mass_value);
  const auto add = [&out](double g, const D& x) {
    for (int d = 0; d < n_params; ++d)
      out.tangent(d) += g * x.tangent(d);
  };
  for (int u = 0; u < nu; ++u) {
    const int j = idx[u];
    const double* cu = &coef[12 * u];
    double g[6];
    for (int q = 0; q < 6; ++q)
      g[q] = (cu[q] - mass_value * cu[q + 6]) / den;
    const double ptv = pt[j].value();
    const double etav = eta[j];
    const double e = en[u];
    const double ch = std::cosh(etav);
    const double pch_e = e > 0.0 ? ptv * ch / e : 0.0;
    const double cphi = ptv != 0.0 ? px[u] / ptv : 0.0;
    const double sphi = ptv != 0.0 ? py[u] / ptv : 0.0;
    const double sh = ptv != 0.0 ? pz[u] / ptv : std::sinh(etav);
    add(g[0] * cphi + g[1] * sphi + g[2] * sh + g[3] * pch_e * ch, pt[j]);
    add(g[4], s[j]);
    add(g[5], b[j]);
  }
  return out;
}

/// The observables of event i: (H_T, P(4j1b) weight) and (m_bjj, P(4j2b) weight)
/// with their tangents. valid = false (and zeros) for an event with more than
/// max_jets jets.
DIFFANA_HOST_DEVICE inline EventObservables
event_observables(const Columns& col, std::int64_t i, const Params& par) {
  EventObservables out;
  const std::int64_t j0 = col.offsets[i];
  const std::int64_t nj = col.offsets[i + 1] - j0;
  if (nj < 0 || nj > max_jets) return out;
  const int n = static_cast<int>(nj);
  const D pt_cut = D::variable(par.pt_cut, 0);
  const D btag_cut = D::variable(par.btag_cut, 1);
  const D jes = D::variable(par.jes, 2);
  const D scale = 1.0 + par.jes_step * jes;
  D pt[max_jets];
  D s[max_jets];
  D b[max_jets];
  D ht(0.0);
  for (int j = 0; j < n; ++j) {
    pt[j] = col.pt[j0 + j] * scale;
    s[j] = soft_step(pt[j], pt_cut, par.pt_width) * col.ok[j0 + j];
    b[j] = soft_step(D(col.btag[j0 + j]), btag_cut, par.btag_width);
    ht += s[j] * pt[j];
  }
  D p_4j1b;
  D p_4j2b;
  region_probabilities(s, b, n, &p_4j1b, &p_4j2b);
  const D mbjj = trijet_mass(n, pt, col.eta + j0, col.phi + j0, col.mass + j0, s, b,
                             par.temperature, par.epsilon);
  const double w = col.weight[i];
  const D w1 = p_4j1b * w;
  const D w2 = p_4j2b * w;
  out.x[0] = ht.value();
  out.x[1] = mbjj.value();
  out.w[0] = w1.value();
  out.w[1] = w2.value();
  for (int d = 0; d < n_params; ++d) {
    out.x_tan[0][d] = ht.tangent(d);
    out.x_tan[1][d] = mbjj.tangent(d);
    out.w_tan[0][d] = w1.tangent(d);
    out.w_tan[1][d] = w2.tangent(d);
  }
  out.valid = true;
  return out;
}

/// The per-event work of a step, in the form src/cuda/private_hist.cuh's launch_fill
/// takes: out holds the two histograms one after the other (nbins0 + nbins1 bins).
/// Returns false (nothing added) for an event with too many jets, and false after
/// filling when either fill skipped the event (NaN observable, non-finite weight).
struct StepEvent {
  Columns col;
  Params par;
  BinAxis<double> axis0;
  BinAxis<double> axis1;

  template <class Add>
  DIFFANA_HOST_DEVICE bool operator()(std::int64_t i,
                                      const detail::HistBuffers<double>& out,
                                      const Add& add) const {
    const EventObservables ev = event_observables(col, i, par);
    if (!ev.valid) return false;
    const std::int64_t nb0 = axis0.nbins;
    detail::HistBuffers<double> h0;
    h0.values = out.values;
    h0.sumw2 = out.sumw2;
    h0.jac = out.jac;
    h0.sumw2_jac = out.sumw2_jac;
    detail::HistBuffers<double> h1;
    h1.values = out.values + nb0;
    h1.sumw2 = out.sumw2 != nullptr ? out.sumw2 + nb0 : nullptr;
    h1.jac = out.jac != nullptr ? out.jac + nb0 * n_params : nullptr;
    h1.sumw2_jac = out.sumw2_jac != nullptr ? out.sumw2_jac + nb0 * n_params : nullptr;
    const bool ok0 = detail::fill_event_1d(axis0, ev.x[0], ev.x_tan[0], ev.w[0],
                                           ev.w_tan[0], n_params, h0, add);
    const bool ok1 = detail::fill_event_1d(axis1, ev.x[1], ev.x_tan[1], ev.w[1],
                                           ev.w_tan[1], n_params, h1, add);
    return ok0 && ok1;
  }
};

/// The argument checks shared by both entry points (host copies of the edges):
/// DIFFANA_ERR_ARGUMENT for n_events < 0, a bad parameter or a missing column or
/// output; DIFFANA_ERR_EDGES / _BANDWIDTH / _OVERFLOW for an axis.
inline int check_step(const Columns& col, const Params& par, const double* edges0,
                      std::int64_t nbins0, double bw0, const double* edges1,
                      std::int64_t nbins1, double bw1, int overflow,
                      const double* values) {
  if (col.n_events < 0) return DIFFANA_ERR_ARGUMENT;
  if (nbins0 < 1 || nbins1 < 1 || edges0 == nullptr || edges1 == nullptr)
    return DIFFANA_ERR_EDGES;
  if (first_bad_edge(edges0, nbins0 + 1) >= 0 ||
      first_bad_edge(edges1, nbins1 + 1) >= 0)
    return DIFFANA_ERR_EDGES;
  for (double bw : {bw0, bw1})
    if (!(bw >= 0.0) || !std::isfinite(bw)) return DIFFANA_ERR_BANDWIDTH;
  if (overflow != DIFFANA_OVERFLOW_DROP && overflow != DIFFANA_OVERFLOW_FOLD)
    return DIFFANA_ERR_OVERFLOW;
  if (par.check() != DIFFANA_OK || values == nullptr) return DIFFANA_ERR_ARGUMENT;
  if (col.n_events > 0 &&
      (col.offsets == nullptr || col.pt == nullptr || col.eta == nullptr ||
       col.phi == nullptr || col.mass == nullptr || col.btag == nullptr ||
       col.ok == nullptr || col.weight == nullptr))
    return DIFFANA_ERR_ARGUMENT;
  return DIFFANA_OK;
}

/// The CPU twin of diffana_cuda_agc_relaxed_step_f64: the same events, the same
/// per-event function, accumulated in event order (all pointers on the host).
/// Outputs are added to (+=), as the fills do. n_skipped (optional) += the events
/// skipped (too many jets, or a fill skipped them).
inline int step_host(const Columns& col, const double* params, const double* edges0,
                     std::int64_t nbins0, double bw0, const double* edges1,
                     std::int64_t nbins1, double bw1, int overflow, double* values,
                     double* sumw2, double* jac, double* sumw2_jac,
                     std::int64_t* n_skipped) {
  if (params == nullptr) return DIFFANA_ERR_ARGUMENT;
  const Params par = Params::of(params);
  const int status =
      check_step(col, par, edges0, nbins0, bw0, edges1, nbins1, bw1, overflow, values);
  if (status != DIFFANA_OK) return status;
  const auto ov = static_cast<Overflow>(overflow);
  const StepEvent ev{col, par, make_bin_axis(edges0, nbins0, bw0, ov),
                     make_bin_axis(edges1, nbins1, bw1, ov)};
  detail::HistBuffers<double> out;
  out.values = values;
  out.sumw2 = sumw2;
  out.jac = jac;
  out.sumw2_jac = sumw2_jac;
  const detail::PlainAdd add;
  std::int64_t skipped = 0;
  for (std::int64_t i = 0; i < col.n_events; ++i)
    skipped += ev(i, out, add) ? 0 : 1;
  if (n_skipped != nullptr) *n_skipped += skipped;
  return DIFFANA_OK;
}

} // namespace diffana::agc_relaxed

extern "C" {
/// The relaxed AGC step on a CUDA device (src/cuda/agc_relaxed.cu): the arguments of
/// diffana::agc_relaxed::step_host with every array a device pointer except params
/// (8 host doubles, Params' order), plus the fill mode (DIFFANA_CUDA_FILL_*) and a
/// stream (cudaStream_t; NULL: the default stream). Asynchronous with respect to the
/// host except for the copy of the edges; DIFFANA_ERR_DEVICE when a CUDA call fails.
/// Outputs and *n_skipped (optional) are added to: zero them first.
int diffana_cuda_agc_relaxed_step_f64(
    const int64_t* offsets, const double* pt, const double* eta, const double* phi,
    const double* mass, const double* btag, const double* ok, const double* weight,
    int64_t n_events, const double* params, const double* edges0, int64_t nbins0,
    double bw0, const double* edges1, int64_t nbins1, double bw1, int overflow,
    double* values, double* sumw2, double* jac, double* sumw2_jac, int64_t* n_skipped,
    int mode, void* stream);

/// diffana::agc_relaxed::step_host with C linkage (src/cuda/agc_relaxed.cu): the CPU
/// twin of the function above, host pointers (outputs and *n_skipped are added to,
/// as on the device: zero them first).
int diffana_agc_relaxed_step_f64(
    const int64_t* offsets, const double* pt, const double* eta, const double* phi,
    const double* mass, const double* btag, const double* ok, const double* weight,
    int64_t n_events, const double* params, const double* edges0, int64_t nbins0,
    double bw0, const double* edges1, int64_t nbins1, double bw1, int overflow,
    double* values, double* sumw2, double* jac, double* sumw2_jac, int64_t* n_skipped);
}
