// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Clad through histogram fills: a loss built from diffana::fill_bins_1d /
/// fill_bins_2d (clad/fill.hpp) of a few events whose position and weight depend on
/// two parameters (a jet-energy scale and a shift), differentiated by Clad's forward
/// (clad::differentiate) and reverse (clad::gradient) modes through the custom
/// derivatives of clad/hist.hpp, against diffana's own forward mode of the fill (the
/// tangents of hist/soft_binning.hpp's fill_event_1d / fill_event_2d, chained into
/// the loss): equal to 1e-10, never NaN, and against central finite differences (to
/// 1e-6). Soft and hard 1D axes, with and without sums of squares, and a soft x hard
/// 2D histogram. Built and run by tests/clad/run.sh. Exit status 0 when every check
/// passes.
#include "diffana/clad/custom_derivatives.hpp"
#include "diffana/clad/fill.hpp"

#include "clad/Differentiator/Differentiator.h"

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

constexpr int kEvents = 6;
const double kPt[kEvents] = {31.0, 47.5, 52.0, 38.2, 60.1, 44.4};
const double kEta[kEvents] = {0.2, -1.3, 0.9, 1.7, -0.4, 0.05};
const double kWeight[kEvents] = {1.0, 0.8, 1.2, 0.5, 1.1, 0.9};
constexpr int kBins = 5;
const double kEdges[kBins + 1] = {25.0, 35.0, 45.0, 55.0, 65.0, 75.0};
const double kTarget[kBins] = {1.5, 0.5, 2.0, 1.0, 0.3};
constexpr int kBinsY = 3;
const double kEdgesY[kBinsY + 1] = {-2.0, -0.5, 0.5, 2.0};

int failures = 0;

/// Event i at x = jes pt_i + shift with weight w_i (1 + 0.1 (jes - 1)).
double event_x(double jes, double shift, int i) {
  return jes * kPt[i] + shift;
}
double event_w(double jes, int i) {
  return kWeight[i] * (1.0 + 0.1 * (jes - 1.0));
}

} // namespace

/// sum_b (values_b - target_b)^2 of the events filled on `axis`.
double loss_1d(double jes, double shift, const diffana::BinAxis<double>& axis) {
  double values[kBins] = {};
  for (int i = 0; i < kEvents; ++i)
    diffana::fill_bins_1d(axis, event_x(jes, shift, i), event_w(jes, i), values);
  double l = 0.0;
  for (int b = 0; b < kBins; ++b)
    l += (values[b] - kTarget[b]) * (values[b] - kTarget[b]);
  return l;
}

/// sum_b (values_b - target_b)^2 / (1 + sumw2_b): the sums of squares enter too.
double loss_1d_sumw2(double jes, double shift, const diffana::BinAxis<double>& axis) {
  double values[kBins] = {};
  double sumw2[kBins] = {};
  for (int i = 0; i < kEvents; ++i)
    diffana::fill_bins_1d(axis, event_x(jes, shift, i), event_w(jes, i), values, sumw2);
  double l = 0.0;
  for (int b = 0; b < kBins; ++b)
    l += (values[b] - kTarget[b]) * (values[b] - kTarget[b]) / (1.0 + sumw2[b]);
  return l;
}

/// sum_b values_b^2 c_b of a 2D histogram (x soft, y = eta + shift / 50 hard).
double loss_2d(double jes, double shift, const diffana::BinAxis<double>& ax,
               const diffana::BinAxis<double>& ay) {
  double values[kBins * kBinsY] = {};
  for (int i = 0; i < kEvents; ++i)
    diffana::fill_bins_2d(ax, ay, event_x(jes, shift, i), kEta[i] + shift / 50.0,
                          event_w(jes, i), values);
  double l = 0.0;
  for (int b = 0; b < kBins * kBinsY; ++b)
    l += values[b] * values[b] * (1.0 + 0.1 * b);
  return l;
}

namespace {

/// The loss and its two partials from diffana's forward-mode fill (P = 2 tangents:
/// d/djes, d/dshift), chained by hand into the loss.
struct Reference {
  double value;
  double d[2];
};

Reference reference_1d(double jes, double shift, const diffana::BinAxis<double>& axis,
                       bool with_sumw2) {
  std::vector<double> v(kBins, 0.0), s(kBins, 0.0), jac(2 * kBins, 0.0),
      sjac(2 * kBins, 0.0);
  diffana::detail::HistBuffers<double> out;
  out.values = v.data();
  out.jac = jac.data();
  if (with_sumw2) {
    out.sumw2 = s.data();
    out.sumw2_jac = sjac.data();
  }
  for (int i = 0; i < kEvents; ++i) {
    const double x_tan[2] = {kPt[i], 1.0};
    const double w_tan[2] = {kWeight[i] * 0.1, 0.0};
    diffana::detail::fill_event_1d(axis, event_x(jes, shift, i), x_tan, event_w(jes, i),
                                   w_tan, 2, out, diffana::detail::PlainAdd{});
  }
  Reference r{0.0, {0.0, 0.0}};
  for (int b = 0; b < kBins; ++b) {
    const double e = v[b] - kTarget[b];
    const double den = with_sumw2 ? 1.0 + s[b] : 1.0;
    r.value += e * e / den;
    for (int k = 0; k < 2; ++k) {
      r.d[k] += 2.0 * e * jac[2 * b + k] / den;
      if (with_sumw2) r.d[k] -= e * e * sjac[2 * b + k] / (den * den);
    }
  }
  return r;
}

Reference reference_2d(double jes, double shift, const diffana::BinAxis<double>& ax,
                       const diffana::BinAxis<double>& ay) {
  const int nb = kBins * kBinsY;
  std::vector<double> v(nb, 0.0), jac(2 * nb, 0.0);
  diffana::detail::HistBuffers<double> out;
  out.values = v.data();
  out.jac = jac.data();
  for (int i = 0; i < kEvents; ++i) {
    const double x_tan[2] = {kPt[i], 1.0};
    const double y_tan[2] = {0.0, 1.0 / 50.0};
    const double w_tan[2] = {kWeight[i] * 0.1, 0.0};
    diffana::detail::fill_event_2d(ax, ay, event_x(jes, shift, i), x_tan,
                                   kEta[i] + shift / 50.0, y_tan, event_w(jes, i),
                                   w_tan, 2, out, diffana::detail::PlainAdd{});
  }
  Reference r{0.0, {0.0, 0.0}};
  for (int b = 0; b < nb; ++b) {
    r.value += v[b] * v[b] * (1.0 + 0.1 * b);
    for (int k = 0; k < 2; ++k)
      r.d[k] += 2.0 * v[b] * (1.0 + 0.1 * b) * jac[2 * b + k];
  }
  return r;
}

bool close(double a, double b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return false;
  return std::fabs(a - b) <= tol * std::fmax(1.0, std::fabs(b));
}

template <class F>
void compare(const char* name, const Reference& ref, double value,
             const double (&rev)[2], const double (&fwd)[2], const F& f, double jes,
             double shift) {
  const double h[2] = {1e-6, 1e-5};
  bool ok = close(value, ref.value, 1e-10) && (ref.d[0] != 0.0 || ref.d[1] != 0.0);
  double fd[2];
  fd[0] = (f(jes + h[0], shift) - f(jes - h[0], shift)) / (2 * h[0]);
  fd[1] = (f(jes, shift + h[1]) - f(jes, shift - h[1])) / (2 * h[1]);
  for (int k = 0; k < 2; ++k)
    ok = ok && close(rev[k], ref.d[k], 1e-10) && close(fwd[k], ref.d[k], 1e-10) &&
         close(fd[k], ref.d[k], 1e-6);
  if (ok) {
    std::printf("ok   %-16s loss %.12g  d/djes %.10g  d/dshift %.10g\n", name, value,
                ref.d[0], ref.d[1]);
    return;
  }
  ++failures;
  std::printf("FAIL %-16s loss %.17g (reference %.17g)\n", name, value, ref.value);
  for (int k = 0; k < 2; ++k)
    std::printf("     d%d: reverse %.17g forward %.17g reference %.17g fd %.10g\n", k,
                rev[k], fwd[k], ref.d[k], fd[k]);
}

} // namespace

int main() {
  const double jes = 1.03, shift = 0.7;
  const auto soft = diffana::make_bin_axis(kEdges, kBins, 4.0, diffana::Overflow::drop);
  const auto hard = diffana::make_bin_axis(kEdges, kBins, 0.0, diffana::Overflow::fold);
  const auto hard_y =
      diffana::make_bin_axis(kEdgesY, kBinsY, 0.0, diffana::Overflow::fold);

  auto g1 = clad::gradient(loss_1d, "jes, shift");
  auto f1j = clad::differentiate(loss_1d, "jes");
  auto f1s = clad::differentiate(loss_1d, "shift");
  for (const auto* axis : {&soft, &hard}) {
    double rev[2] = {0, 0};
    g1.execute(jes, shift, *axis, &rev[0], &rev[1]);
    const double fwd[2] = {f1j.execute(jes, shift, *axis),
                           f1s.execute(jes, shift, *axis)};
    compare(
        axis == &soft ? "fill_1d soft" : "fill_1d hard",
        reference_1d(jes, shift, *axis, false), loss_1d(jes, shift, *axis), rev, fwd,
        [&](double a, double b) { return loss_1d(a, b, *axis); }, jes, shift);
  }

  auto g2 = clad::gradient(loss_1d_sumw2, "jes, shift");
  auto f2j = clad::differentiate(loss_1d_sumw2, "jes");
  auto f2s = clad::differentiate(loss_1d_sumw2, "shift");
  {
    double rev[2] = {0, 0};
    g2.execute(jes, shift, soft, &rev[0], &rev[1]);
    const double fwd[2] = {f2j.execute(jes, shift, soft),
                           f2s.execute(jes, shift, soft)};
    compare(
        "fill_1d sumw2", reference_1d(jes, shift, soft, true),
        loss_1d_sumw2(jes, shift, soft), rev, fwd,
        [&](double a, double b) { return loss_1d_sumw2(a, b, soft); }, jes, shift);
  }

  auto g3 = clad::gradient(loss_2d, "jes, shift");
  auto f3j = clad::differentiate(loss_2d, "jes");
  auto f3s = clad::differentiate(loss_2d, "shift");
  {
    double rev[2] = {0, 0};
    g3.execute(jes, shift, soft, hard_y, &rev[0], &rev[1]);
    const double fwd[2] = {f3j.execute(jes, shift, soft, hard_y),
                           f3s.execute(jes, shift, soft, hard_y)};
    compare(
        "fill_2d", reference_2d(jes, shift, soft, hard_y),
        loss_2d(jes, shift, soft, hard_y), rev, fwd,
        [&](double a, double b) { return loss_2d(a, b, soft, hard_y); }, jes, shift);
  }
  std::printf("%s histogram fills through Clad\n", failures == 0 ? "ok  " : "FAIL");
  return failures == 0 ? 0 : 1;
}
