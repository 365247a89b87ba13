# SPDX-License-Identifier: BSD-3-Clause
"""The network kernels in double (include/diffana/nn/fast_math.hpp, mlp.hpp) as cling
compiles them: the branch-free exp, tanh and sigmoid against NumPy; the forward pass
and the pullback (weights, all inputs, flagged inputs) of the AVX2 copy and the
baseline copy against each other, against NumPy's forward pass and against central
finite differences; and the adjoint event loop with an input that is itself taped
(a reverse parameter feeds the network) against forward mode."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ROOT")

from diffana.nn import Network, declare, expression
from diffana.nn.cpp import apply_expression

ACTS = {"none": 0, "tanh": 1, "relu": 2, "sigmoid": 3}

_HELPERS = r"""
#include "diffana/nn/reverse.hpp"
namespace diffana_test_kernels {
inline void fast_math(const double* x, double* out, int n, int which) {
  for (int i = 0; i < n; ++i)
    out[i] = which == 0   ? diffana::nn::fast_exp(x[i])
             : which == 1 ? diffana::nn::fast_tanh_nb(x[i])
                          : diffana::nn::fast_sigmoid(x[i]);
}
// y, then d_w (n_weights), then d_x (n_in) for d_y = 1; want: flags or all inputs.
inline void forward_pullback(int n_in, int hidden1, int hidden2, int hid, int out_act,
                             const double* w, const double* x, const unsigned char* want,
                             int use_want, double* res) {
  diffana::nn::Mlp net({n_in, hidden1, hidden2, 1}, diffana::nn::Activation(hid),
                       diffana::nn::Activation(out_act));
  std::vector<double> acts(net.n_units()), work(2 * net.max_width());
  diffana::nn::mlp_forward(net, w, x, acts.data());
  res[0] = acts.back();
  double* d_w = res + 1;
  double* d_x = d_w + net.n_weights();
  const double one = 1.0;
  diffana::nn::mlp_pullback_from(net, w, x, acts.data(), &one, d_w, d_x, work.data(),
                                 use_want ? want : nullptr);
}
}
"""


@pytest.fixture(scope="module")
def cpp():
    from diffana import rdf

    ROOT = rdf._import_root()
    from diffana.nn.cpp import _include

    _include(ROOT)
    if not hasattr(ROOT, "diffana_test_kernels"):
        assert ROOT.gInterpreter.Declare(_HELPERS)
    return ROOT


def _fast_math(cpp, x, which):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    cpp.diffana_test_kernels.fast_math(x, out, x.size, which)
    return out


def test_fast_exp_tanh_sigmoid_match_numpy(cpp):
    rng = np.random.default_rng(1)
    x = np.concatenate([
        rng.uniform(-700, 700, 3000), rng.uniform(-3, 3, 3000),
        rng.uniform(-0.2, 0.2, 2000), [0.0, -0.0, 0.125, -0.125, 1e-300, 5e-324],
    ])  # fmt: skip
    np.testing.assert_allclose(_fast_math(cpp, x, 0), np.exp(x), rtol=4e-16, atol=0)
    np.testing.assert_allclose(_fast_math(cpp, x, 1), np.tanh(x), rtol=4e-15, atol=0)
    with np.errstate(over="ignore"):
        sig = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(_fast_math(cpp, x, 2), sig, rtol=2e-15, atol=1e-300)
    # Out of range: clamped, finite, and the activations saturate exactly.
    ends = np.array([-1e4, -746.0, 710.0, 1e4])
    assert np.all(np.isfinite(_fast_math(cpp, ends, 0)))
    assert _fast_math(cpp, ends, 0)[0] < 1e-307
    np.testing.assert_array_equal(_fast_math(cpp, ends, 1), [-1.0, -1.0, 1.0, 1.0])
    sig_ends = _fast_math(cpp, ends, 2)
    np.testing.assert_array_equal(sig_ends[2:], [1.0, 1.0])
    assert np.all((sig_ends[:2] >= 0.0) & (sig_ends[:2] < 1e-307))
    assert np.isnan(_fast_math(cpp, np.array([np.nan]), 0)[0])
    assert np.isnan(_fast_math(cpp, np.array([np.nan]), 1)[0])


def _net(hid, out):
    # Widths that leave remainders for every unrolled loop (8 lanes, 4 rows).
    return Network("k", inputs=tuple(f"x{i}" for i in range(11)), layers=(13, 6, 1),
                   activation=hid, output_activation=out)  # fmt: skip


def _forward_pullback(cpp, net, w, x, want=None):
    res = np.zeros(1 + net.n_weights + x.size)
    flags = np.zeros(x.size, dtype=np.uint8) if want is None else want.astype(np.uint8)
    cpp.diffana_test_kernels.forward_pullback(
        x.size, 13, 6, ACTS[net.activation], ACTS[net.output_activation],
        np.ascontiguousarray(w), np.ascontiguousarray(x), flags, int(want is not None),
        res,
    )  # fmt: skip
    return res[0], res[1 : 1 + net.n_weights], res[1 + net.n_weights :]


@pytest.mark.parametrize(("hid", "out"), [("tanh", "sigmoid"), ("relu", "none"),
                                          ("sigmoid", "tanh")])  # fmt: skip
def test_simd_and_baseline_copies_agree_with_numpy_and_differences(cpp, hid, out):
    net = _net(hid, out)
    rng = np.random.default_rng(3)
    w = net.init_weights(seed=4) + rng.normal(0.0, 0.05, net.n_weights)
    x = rng.normal(0.0, 1.0, 11)
    nn = cpp.diffana.nn
    results = {}
    try:
        for on in (True, False):
            nn.set_simd(on)
            results[on] = _forward_pullback(cpp, net, w, x)
    finally:
        nn.set_simd(True)
    (y1, dw1, dx1), (y0, dw0, dx0) = results[True], results[False]
    assert y1 == pytest.approx(y0, rel=1e-14)
    np.testing.assert_allclose(dw1, dw0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx1, dx0, rtol=1e-12, atol=1e-15)
    assert y1 == pytest.approx(float(net.forward(w, x[None, :])[0]), rel=1e-13)
    # A random direction in (w, x) against central differences of NumPy's forward.
    d = rng.normal(size=w.size + x.size)
    eps = 1e-6

    def f(step):
        return float(
            net.forward(w + step * d[: w.size], (x + step * d[w.size :])[None])[0]
        )

    fd = (f(eps) - f(-eps)) / (2 * eps)
    assert dw1 @ d[: w.size] + dx1 @ d[w.size :] == pytest.approx(
        fd, rel=1e-6, abs=1e-9
    )
    # Flagged inputs only: theirs as with all inputs, the others' left at zero.
    want = np.zeros(11, dtype=bool)
    want[[0, 5, 10]] = True
    _, dw_m, dx_m = _forward_pullback(cpp, net, w, x, want)
    np.testing.assert_array_equal(dw_m, dw1)
    np.testing.assert_allclose(dx_m[want], dx1[want], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(dx_m[~want], 0.0)


def test_adjoint_with_a_taped_input_equals_forward_mode(cpp):
    """A reverse parameter t scales an input, so that pass 2 feeds the network a
    Rev input next to the weights' leaves (the span's own range)."""
    from diffana import rdf

    net = Network("tin", inputs=("x0", "x1", "x2"), layers=(5, 1),
                  output_activation="sigmoid")  # fmt: skip
    w = net.init_weights(seed=6)
    edges = np.linspace(0.0, 1.0, 6)
    t0, s0 = 0.8, 1.1
    g = np.random.default_rng(5).normal(size=edges.size - 1)

    def columns(ddf, t):
        ddf = ddf.define("x0", f"std::sin(0.37 * rdfentry_) * {t}")
        ddf = ddf.define("x1", "std::cos(0.11 * rdfentry_) * s")
        return ddf.define("x2", "std::sin(0.05 * rdfentry_ + 1.0)")

    root = cpp.RDataFrame(300)
    fwd_params = {"s": s0, "t": t0, **dict(zip(net.param_names(), w, strict=True))}
    fwd = columns(rdf.DiffFrame(root, fwd_params), "t")
    fwd = fwd.define("tin", expression(net, declare(net, fwd)))
    jac = fwd.histo("tin", edges, bandwidth=0.1).result()
    want = g @ jac.jacobian  # s, t, the weights

    adj = rdf.DiffFrame(root, {"s": s0}, reverse={"t": [t0], "tin__weights": w})
    adj = columns(adj, "t[0]")
    adj = adj.define("tin", apply_expression(net, "tin__weights"))
    h = adj.histo("tin", edges, bandwidth=0.1)
    np.testing.assert_allclose(h.result().values, jac.values, rtol=1e-14)
    grad = rdf.adjoint_gradient({h: (g, None)})
    scale = np.max(np.abs(want))
    assert grad["s"] == pytest.approx(want[0], abs=1e-10 * scale)
    assert grad["t"][0] == pytest.approx(want[1], abs=1e-10 * scale)
    np.testing.assert_allclose(
        grad["tin__weights"], want[2:], rtol=0, atol=1e-10 * scale
    )
