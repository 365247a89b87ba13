// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// Tests of diffana/nn/: the MLP and the deep-sets summary in double and with Dual
/// weights and inputs (forward mode), their hand-written pullbacks against the
/// forward mode (1e-12) and against central finite differences, the forward-mode
/// calls on a parameter block (mlp_call, deepsets_call) against the all-Dual forward
/// pass, and the errors.
#include "diffana/ad/dual.hpp"
#include "diffana/nn/call.hpp"
#include "diffana/nn/deepsets.hpp"
#include "diffana/nn/mlp.hpp"

#include "check.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace {

using diffana::Dual;
using diffana::nn::Activation;
using diffana::nn::DeepSets;
using diffana::nn::Mlp;
using diffana::nn::Pool;

constexpr int kN = 64; // tangent directions: enough for every weight of the nets below
using DN = Dual<double, kN>;

std::vector<double> random_vector(std::size_t n, unsigned seed, double scale = 0.7) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v)
    x = d(gen);
  return v;
}

const std::array<Activation, 4> kActivations = {Activation::tanh, Activation::sigmoid,
                                                Activation::relu, Activation::none};

double loss_mlp(const Mlp& net, const std::vector<double>& w,
                const std::vector<double>& x, const std::vector<double>& d_y) {
  std::vector<double> y(std::size_t(net.n_out()));
  diffana::nn::mlp(net, w.data(), x.data(), y.data());
  double s = 0;
  for (std::size_t k = 0; k < y.size(); ++k)
    s += d_y[k] * y[k];
  return s;
}

} // namespace

DIFFANA_TEST(mlp_layout) {
  const Mlp net({3, 5, 2}, Activation::tanh);
  CHECK(net.n_weights() == std::size_t(5 * 3 + 5 + 2 * 5 + 2));
  CHECK(net.weight_offset(1) == std::size_t(20));
  CHECK(net.n_units() == std::size_t(7));
  CHECK(net.activation(0) == Activation::tanh);
  CHECK(net.activation(1) == Activation::none);
  // A 1-1 linear net is w x + b.
  const Mlp lin({1, 1}, Activation::tanh, Activation::none);
  const double w[2] = {2.0, 0.5};
  const double x = 3.0;
  double y = 0;
  diffana::nn::mlp(lin, w, &x, &y);
  CHECK_CLOSE(y, 6.5, 0, 0);
}

DIFFANA_TEST(mlp_pullback_equals_forward_mode_and_finite_differences) {
  for (Activation f : kActivations) {
    const Mlp net({3, 5, 4, 2}, f, Activation::sigmoid);
    const std::size_t nw = net.n_weights();
    CHECK(nw <= std::size_t(kN));
    const auto w = random_vector(nw, 1);
    const auto x = random_vector(3, 2, 1.0);
    const std::vector<double> d_y = {0.7, -1.3};
    std::vector<double> d_w(nw, 0.0), d_x(3, 0.0);
    diffana::nn::mlp_pullback(net, w.data(), x.data(), d_y.data(), d_w.data(),
                              d_x.data());
    // Forward mode: every weight a Dual direction.
    std::vector<DN> wd(nw), xd(3), yd(2);
    for (std::size_t j = 0; j < nw; ++j)
      wd[j] = DN::variable(w[j], int(j));
    for (int i = 0; i < 3; ++i)
      xd[std::size_t(i)] = DN(x[std::size_t(i)]);
    diffana::nn::mlp(net, wd.data(), xd.data(), yd.data());
    for (std::size_t j = 0; j < nw; ++j) {
      const double fwd =
          d_y[0] * yd[0].tangent(int(j)) + d_y[1] * yd[1].tangent(int(j));
      CHECK_CLOSE(d_w[j], fwd, 1e-12, 1e-14);
    }
    // Forward mode on the inputs.
    for (int i = 0; i < 3; ++i)
      xd[std::size_t(i)] = DN::variable(x[std::size_t(i)], i);
    diffana::nn::mlp(net, w.data(), xd.data(), yd.data());
    for (int i = 0; i < 3; ++i) {
      const double fwd = d_y[0] * yd[0].tangent(i) + d_y[1] * yd[1].tangent(i);
      CHECK_CLOSE(d_x[std::size_t(i)], fwd, 1e-12, 1e-14);
    }
    // Central finite differences (relu: away from its kink for these inputs).
    const double h = 1e-6;
    for (std::size_t j = 0; j < nw; ++j) {
      auto wp = w, wm = w;
      wp[j] += h;
      wm[j] -= h;
      const double fd =
          (loss_mlp(net, wp, x, d_y) - loss_mlp(net, wm, x, d_y)) / (2 * h);
      CHECK_CLOSE(d_w[j], fd, 1e-6, 1e-8);
    }
    for (std::size_t i = 0; i < 3; ++i) {
      auto xp = x, xm = x;
      xp[i] += h;
      xm[i] -= h;
      const double fd =
          (loss_mlp(net, w, xp, d_y) - loss_mlp(net, w, xm, d_y)) / (2 * h);
      CHECK_CLOSE(d_x[i], fd, 1e-6, 1e-8);
    }
  }
}

DIFFANA_TEST(mlp_pullback_accumulates) {
  const Mlp net({2, 3, 1}, Activation::tanh);
  const auto w = random_vector(net.n_weights(), 3);
  const double x[2] = {0.3, -0.2};
  const double d_y = 1.0;
  std::vector<double> once(net.n_weights(), 0.0), twice(net.n_weights(), 0.0);
  diffana::nn::mlp_pullback(net, w.data(), x, &d_y, once.data(), nullptr);
  diffana::nn::mlp_pullback(net, w.data(), x, &d_y, twice.data(), nullptr);
  diffana::nn::mlp_pullback(net, w.data(), x, &d_y, twice.data(), nullptr);
  for (std::size_t j = 0; j < once.size(); ++j)
    CHECK_CLOSE(twice[j], 2 * once[j], 1e-15, 0);
}

namespace {

double loss_ds(const DeepSets& net, const std::vector<double>& w,
               const std::vector<double>& x, const std::vector<double>& obj,
               int n_obj) {
  double y = 0;
  diffana::nn::deepsets_forward(net, w.data(), x.data(), obj.data(), n_obj, &y);
  return y;
}

} // namespace

DIFFANA_TEST(deepsets_pullback_equals_forward_mode_and_finite_differences) {
  for (Pool pool : {Pool::sum, Pool::mean}) {
    for (int n_obj : {0, 1, 4}) {
      // phi: 3 features -> 4 -> 2; rho: 2 event inputs + 2 summary -> 3 -> 1.
      const DeepSets net(Mlp({3, 4, 2}, Activation::tanh, Activation::tanh),
                         Mlp({4, 3, 1}, Activation::tanh, Activation::sigmoid), pool);
      const std::size_t nw = net.n_weights();
      CHECK(nw == std::size_t(16 + 10 + 15 + 4));
      CHECK(nw <= std::size_t(kN));
      const auto w = random_vector(nw, 4);
      const auto x = random_vector(2, 5, 1.0);
      const auto obj = random_vector(std::size_t(n_obj) * 3, 6, 1.0);
      std::vector<double> d_w(nw, 0.0), d_x(2, 0.0), d_obj(obj.size(), 0.0);
      const double d_y = 1.0;
      diffana::nn::deepsets_pullback(net, w.data(), x.data(), obj.data(), n_obj, &d_y,
                                     d_w.data(), d_x.data(), d_obj.data());
      std::vector<DN> wd(nw), xd(2), od(obj.size());
      for (std::size_t j = 0; j < nw; ++j)
        wd[j] = DN::variable(w[j], int(j));
      for (std::size_t i = 0; i < 2; ++i)
        xd[i] = DN(x[i]);
      for (std::size_t i = 0; i < obj.size(); ++i)
        od[i] = DN(obj[i]);
      DN y;
      diffana::nn::deepsets_forward(net, wd.data(), xd.data(), od.data(), n_obj, &y);
      CHECK_CLOSE(y.value(), loss_ds(net, w, x, obj, n_obj), 1e-15, 0);
      for (std::size_t j = 0; j < nw; ++j)
        CHECK_CLOSE(d_w[j], y.tangent(int(j)), 1e-12, 1e-14);
      // Inputs and object features as the Dual directions.
      for (std::size_t i = 0; i < 2; ++i)
        xd[i] = DN::variable(x[i], int(i));
      for (std::size_t i = 0; i < obj.size(); ++i)
        od[i] = DN::variable(obj[i], int(2 + i));
      diffana::nn::deepsets_forward(net, w.data(), xd.data(), od.data(), n_obj, &y);
      for (std::size_t i = 0; i < 2; ++i)
        CHECK_CLOSE(d_x[i], y.tangent(int(i)), 1e-12, 1e-14);
      for (std::size_t i = 0; i < obj.size(); ++i)
        CHECK_CLOSE(d_obj[i], y.tangent(int(2 + i)), 1e-12, 1e-14);
      const double h = 1e-6;
      for (std::size_t j = 0; j < nw; ++j) {
        auto wp = w, wm = w;
        wp[j] += h;
        wm[j] -= h;
        const double fd =
            (loss_ds(net, wp, x, obj, n_obj) - loss_ds(net, wm, x, obj, n_obj)) /
            (2 * h);
        CHECK_CLOSE(d_w[j], fd, 1e-6, 1e-8);
      }
    }
  }
}

DIFFANA_TEST(deepsets_is_permutation_invariant) {
  const DeepSets net(Mlp({2, 3, 2}, Activation::relu), Mlp({3, 2, 1}, Activation::tanh),
                     Pool::mean);
  const auto w = random_vector(net.n_weights(), 7);
  const double x = 0.4;
  const std::vector<double> a = {0.1, 0.2, -0.5, 0.7, 1.1, -0.3};
  const std::vector<double> b = {1.1, -0.3, 0.1, 0.2, -0.5, 0.7};
  CHECK_CLOSE(loss_ds(net, w, {x}, a, 3), loss_ds(net, w, {x}, b, 3), 1e-14, 0);
}

namespace {

/// A stand-in for diffana::rdf::Params<N>.
struct Block {
  static constexpr int n_params = kN;
  std::vector<double> v;
  double value(int i) const { return v[std::size_t(i)]; }
};

} // namespace

DIFFANA_TEST(mlp_call_tangents_equal_the_all_dual_forward_pass) {
  const Mlp net({3, 6, 1}, Activation::tanh, Activation::sigmoid);
  const int offset = 5;
  Block block{random_vector(std::size_t(kN), 8)};
  // Inputs: a Dual depending on parameters 0 and 1, a plain double, a Dual on 2.
  DN x0 = DN::variable(0.4, 0) * DN::variable(1.3, 1);
  const double x1 = -0.8;
  DN x2 = 2.0 * DN::variable(0.25, 2);
  const DN y = diffana::nn::mlp_call(net, block, offset, x0, x1, x2);
  std::vector<DN> wd(net.n_weights());
  for (std::size_t j = 0; j < wd.size(); ++j)
    wd[j] = DN::variable(block.v[std::size_t(offset) + j], offset + int(j));
  const std::vector<DN> xd = {x0, DN(x1), x2};
  DN ref;
  diffana::nn::mlp(net, wd.data(), xd.data(), &ref);
  CHECK_CLOSE(y.value(), ref.value(), 1e-15, 0);
  for (int k = 0; k < kN; ++k)
    CHECK_CLOSE(y.tangent(k), ref.tangent(k), 1e-12, 1e-14);
  CHECK_THROWS(diffana::nn::mlp_call(net, block, offset, x0, x1));
  CHECK_THROWS(diffana::nn::mlp_call(net, block, kN - 3, x0, x1, x2));
}

DIFFANA_TEST(deepsets_call_tangents_equal_the_all_dual_forward_pass) {
  const DeepSets net(Mlp({2, 3, 2}, Activation::tanh),
                     Mlp({3, 4, 1}, Activation::tanh, Activation::none), Pool::sum);
  const int offset = 3;
  Block block{random_vector(std::size_t(kN), 9)};
  const DN ev = DN::variable(0.7, 0);
  const std::vector<DN> pt = {DN::variable(1.2, 1), 0.5 * DN::variable(0.9, 2),
                              DN(0.3)};
  const std::vector<float> eta = {0.1f, -1.5f, 2.0f};
  const DN y = diffana::nn::deepsets_call(net, block, offset, std::forward_as_tuple(ev),
                                          std::forward_as_tuple(pt, eta));
  std::vector<DN> wd(net.n_weights());
  for (std::size_t j = 0; j < wd.size(); ++j)
    wd[j] = DN::variable(block.v[std::size_t(offset) + j], offset + int(j));
  std::vector<DN> obj;
  for (std::size_t j = 0; j < 3; ++j) {
    obj.push_back(pt[j]);
    obj.push_back(DN(double(eta[j])));
  }
  DN ref;
  diffana::nn::deepsets_forward(net, wd.data(), &ev, obj.data(), 3, &ref);
  CHECK_CLOSE(y.value(), ref.value(), 1e-15, 0);
  for (int k = 0; k < kN; ++k)
    CHECK_CLOSE(y.tangent(k), ref.tangent(k), 1e-12, 1e-14);
  const std::vector<float> short_eta = {0.1f};
  CHECK_THROWS(diffana::nn::deepsets_call(net, block, offset, std::forward_as_tuple(ev),
                                          std::forward_as_tuple(pt, short_eta)));
}

DIFFANA_TEST(errors) {
  CHECK_THROWS(Mlp({3}, Activation::tanh));
  CHECK_THROWS(Mlp({3, 0, 1}, Activation::tanh));
  CHECK_THROWS(diffana::nn::activation_from_name("softplus"));
  CHECK(diffana::nn::activation_from_name("relu") == Activation::relu);
  CHECK_THROWS(diffana::nn::pool_from_name("max"));
  CHECK_THROWS(DeepSets(Mlp({2, 4}, Activation::tanh), Mlp({3, 1}, Activation::tanh),
                        Pool::sum));
}

#if __has_include("diffana/ad/reverse.hpp")
#include "diffana/nn/reverse.hpp"

DIFFANA_TEST(rev_overloads_record_one_node_and_equal_the_pullbacks) {
  using diffana::Rev;
  diffana::Tape& tape = diffana::active_tape();
  {
    tape.clear();
    const Mlp net({3, 5, 2}, Activation::tanh, Activation::sigmoid);
    const std::size_t nw = net.n_weights();
    const auto w = random_vector(nw, 10);
    const auto x = random_vector(3, 11, 1.0);
    std::vector<Rev<double>> wr, xr(3), yr(2);
    for (std::size_t j = 0; j < nw; ++j)
      wr.push_back(diffana::make_param(tape, int(j), w[j]));
    for (std::size_t i = 0; i < 3; ++i)
      xr[i] = diffana::make_param(tape, int(nw + i), x[i]);
    const std::size_t before = tape.size();
    diffana::nn::mlp(net, wr.data(), xr.data(), yr.data());
    CHECK(tape.size() == before + 2); // one custom node: its two outputs
    const std::vector<double> d_y = {0.4, -0.9};
    tape.seed(yr[0], d_y[0]);
    tape.seed(yr[1], d_y[1]);
    std::vector<double> grad(nw + 3, 0.0), d_w(nw, 0.0), d_x(3, 0.0);
    tape.sweep(grad.data(), grad.size());
    diffana::nn::mlp_pullback(net, w.data(), x.data(), d_y.data(), d_w.data(),
                              d_x.data());
    double y[2];
    diffana::nn::mlp(net, w.data(), x.data(), y);
    CHECK_CLOSE(yr[0].value(), y[0], 0, 0);
    for (std::size_t j = 0; j < nw; ++j)
      CHECK_CLOSE(grad[j], d_w[j], 1e-15, 0);
    for (std::size_t i = 0; i < 3; ++i)
      CHECK_CLOSE(grad[nw + i], d_x[i], 1e-15, 0);
  }
  {
    tape.clear();
    const DeepSets net(Mlp({2, 3, 2}, Activation::tanh),
                       Mlp({3, 2, 1}, Activation::tanh), Pool::mean);
    const std::size_t nw = net.n_weights();
    const auto w = random_vector(nw, 12);
    const auto x = random_vector(1, 13, 1.0);
    const auto obj = random_vector(6, 14, 1.0);
    std::vector<Rev<double>> wr, xr, orr;
    for (std::size_t j = 0; j < nw; ++j)
      wr.push_back(diffana::make_param(tape, int(j), w[j]));
    xr.push_back(diffana::make_param(tape, int(nw), x[0]));
    for (std::size_t i = 0; i < obj.size(); ++i)
      orr.push_back(diffana::make_param(tape, int(nw + 1 + i), obj[i]));
    Rev<double> yr;
    diffana::nn::deepsets_forward(net, wr.data(), xr.data(), orr.data(), 3, &yr);
    std::vector<double> grad(nw + 1 + obj.size(), 0.0);
    tape.gradient(yr, grad.data(), grad.size());
    std::vector<double> d_w(nw, 0.0), d_x(1, 0.0), d_obj(obj.size(), 0.0);
    const double one = 1.0;
    diffana::nn::deepsets_pullback(net, w.data(), x.data(), obj.data(), 3, &one,
                                   d_w.data(), d_x.data(), d_obj.data());
    for (std::size_t j = 0; j < nw; ++j)
      CHECK_CLOSE(grad[j], d_w[j], 1e-15, 0);
    CHECK_CLOSE(grad[nw], d_x[0], 1e-15, 0);
    for (std::size_t i = 0; i < obj.size(); ++i)
      CHECK_CLOSE(grad[nw + 1 + i], d_obj[i], 1e-15, 0);
  }
}
namespace {

/// A vector parameter whose elements are new tape leaves (as an adjoint pass reads
/// a reverse-mode parameter vector).
struct RevVector {
  diffana::Tape* tape;
  const std::vector<double>* v;
  diffana::Rev<double> operator[](std::size_t j) const {
    return diffana::make_param(*tape, int(j), (*v)[j]);
  }
};

} // namespace

DIFFANA_TEST(mlp_apply_on_doubles_and_on_a_rev_parameter_vector) {
  const Mlp net({2, 4, 1}, Activation::tanh, Activation::sigmoid);
  const auto w = random_vector(net.n_weights(), 15);
  const double x0 = 0.3, x1 = -1.2;
  const double x[2] = {x0, x1};
  double ref = 0;
  diffana::nn::mlp(net, w.data(), x, &ref);
  const double plain = diffana::nn::mlp_apply(net, w, x0, x1);
  CHECK_CLOSE(plain, ref, 0, 0);
  diffana::Tape& tape = diffana::active_tape();
  tape.clear();
  const diffana::Rev<double> y =
      diffana::nn::mlp_apply(net, RevVector{&tape, &w}, x0, x1);
  CHECK_CLOSE(y.value(), ref, 0, 0);
  std::vector<double> grad(net.n_weights(), 0.0), d_w(net.n_weights(), 0.0);
  tape.gradient(y, grad.data(), grad.size());
  const double one = 1.0;
  diffana::nn::mlp_pullback(net, w.data(), x, &one, d_w.data(), nullptr);
  for (std::size_t j = 0; j < d_w.size(); ++j)
    CHECK_CLOSE(grad[j], d_w[j], 1e-15, 0);
  CHECK_THROWS(diffana::nn::mlp_apply(net, w, x0));
}
#endif

int main() {
  return diffana::test::run_all();
}
