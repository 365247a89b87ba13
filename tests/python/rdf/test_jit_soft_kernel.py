# SPDX-License-Identifier: BSD-3-Clause
"""The soft-binning kernel as DiffFrame's event loops run it: compiled by cling at
-O3, where the edge loop of diffana/hist/soft_binning.hpp is vectorised (the test
suite's cling runs at -O0, so a subprocess at the default level checks that code),
against the same header compiled by the C++ compiler into ``diffana._core`` (the
batch fill and its VJP gather: the same numbers, bit for bit on x86-64), and its
pullback against central finite differences of the fill. And the adjoint pass's
seeds with dL/dsumw2 all zero (passed to the pullback as null) against the same
seeds through the per-bin term 2 c_b g'_b, and against forward mode."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.root

# Uniform edges with a span of several blocks of 16 bins; uneven edges with a bin far
# wider than the bandwidth (edges beyond 37.5 bandwidths: the erfc path); fold.
CASES = [
    (np.linspace(0.0, 1.0, 21), 0.05, 0),
    (np.linspace(-0.5, 1.5, 201), 0.05, 0),
    (np.array([0.0, 0.1, 0.15, 0.9, 0.95, 1.0, 1.3]), 0.004, 1),
    (np.array([-0.2, 0.1, 0.45, 0.5, 0.8, 1.2]), 0.3, 1),
]

_SCRIPT = r"""
import json, sys
import numpy as np
from diffana.rdf import _import_root

ROOT = _import_root()
ROOT.gInterpreter.Declare(r'''
#include "diffana/diffana.hpp"
namespace diffana_test_jit {
// values, sumw2, jacobian (P = 1, x tangents xt), then d_x, d_w of every event's
// pullback with bin adjoints g (d_sumw2 null)
inline std::vector<double> run(const std::vector<double>& x,
                               const std::vector<double>& w,
                               const std::vector<double>& xt,
                               const std::vector<double>& edges, double bw,
                               int overflow, const std::vector<double>& g) {
  diffana::GradHist1D<double, 1> h(edges, bw, diffana::Overflow(overflow));
  for (std::size_t i = 0; i < x.size(); ++i) {
    diffana::Dual<double, 1> xi(x[i]);
    xi.tangent(0) = xt[i];
    h.fill(xi, w[i]);
  }
  std::vector<double> out(h.values());
  out.insert(out.end(), h.sumw2().begin(), h.sumw2().end());
  out.insert(out.end(), h.jacobian().begin(), h.jacobian().end());
  const auto axis = diffana::make_bin_axis(edges.data(),
                                           std::int64_t(edges.size()) - 1, bw,
                                           diffana::Overflow(overflow));
  for (std::size_t i = 0; i < x.size(); ++i) {
    double dx = 0, dw = 0;
    diffana::fill_event_1d_pullback(axis, x[i], w[i], g.data(),
                                    static_cast<const double*>(nullptr), &dx, &dw);
    out.push_back(dx);
    out.push_back(dw);
  }
  return out;
}
}
''')
vec = ROOT.std.vector["double"]
out = []
for case in json.loads(sys.stdin.read()):
    args = [vec(case[k]) for k in ("x", "w", "xt", "edges")]
    r = ROOT.diffana_test_jit.run(*args, case["bw"], case["overflow"], vec(case["g"]))
    out.append(list(r))
print("RESULT " + json.dumps(out))
"""


def _events(rng, lo, hi, n=400):
    x = rng.uniform(lo - 0.3, hi + 0.3, n)
    x[:4] = [lo, hi, np.nan, np.inf]  # on the outer edges, skipped, overflow
    x[4:10] = np.linspace(lo, hi, 6)  # on inner edges for the linspace cases
    return x, rng.uniform(0.5, 2.0, n), rng.normal(size=n)


@pytest.fixture(scope="module")
def jit_results():
    """Each CASE's events and what the cling-compiled (-O3) header made of them."""
    rng = np.random.default_rng(11)
    cases = []
    for edges, bw, overflow in CASES:
        x, w, xt = _events(rng, edges[0], edges[-1])
        g = rng.normal(size=edges.size - 1)
        cases.append({"x": x, "w": w, "xt": xt, "edges": edges, "bw": bw,
                      "overflow": overflow, "g": g})  # fmt: skip
    payload = json.dumps([{k: (v.tolist() if isinstance(v, np.ndarray) else v)
                           for k, v in c.items()} for c in cases])  # fmt: skip
    env = {**os.environ, "DIFFANA_CLING_OPT": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], input=payload, env=env,
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    lines = [s for s in done.stdout.splitlines() if s.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    return cases, [np.array(r) for r in json.loads(lines[0][7:])]


def _split(case, r):
    nb = case["edges"].size - 1
    values, sumw2, jac = r[:nb], r[nb : 2 * nb], r[2 * nb : 3 * nb]
    pull = r[3 * nb :].reshape(-1, 2)
    return values, sumw2, jac, pull[:, 0], pull[:, 1]


def _assert_same(actual, expected):
    """Bit for bit where both compilers do plain IEEE double arithmetic (x86-64:
    SSE2, no contraction into FMA); elsewhere to 1e-14 relative."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        np.testing.assert_array_equal(actual, expected)
    else:
        scale = np.max(np.abs(expected))
        np.testing.assert_allclose(actual, expected, rtol=1e-14, atol=1e-14 * scale)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_fill_equals_the_compiled_kernel(jit_results, i):
    import diffana

    cases, results = jit_results
    c = cases[i]
    values, sumw2, jac, _, _ = _split(c, results[i])
    ov = "fold" if c["overflow"] else "drop"
    ref = diffana.histogram(c["x"], c["edges"], weights=c["w"], bandwidth=c["bw"],
                            x_tangents=c["xt"][:, None], overflow=ov)  # fmt: skip
    _assert_same(values, ref.values)
    _assert_same(sumw2, ref.variances)
    _assert_same(jac, ref.jacobian[:, 0])


@pytest.mark.parametrize("i", range(len(CASES)))
def test_pullback_equals_the_compiled_gather(jit_results, i):
    from diffana import _core

    cases, results = jit_results
    c = cases[i]
    _, _, _, d_x, d_w = _split(c, results[i])
    ct_x, ct_w = _core.hist.fill_1d_vjp(
        c["x"], c["edges"], c["g"][:, None], c["w"], c["bw"], c["overflow"]
    )
    _assert_same(d_x, np.asarray(ct_x)[:, 0])
    _assert_same(d_w, np.asarray(ct_w)[:, 0])


@pytest.mark.parametrize("i", range(len(CASES)))
def test_pullback_against_finite_differences(jit_results, i):
    """d/dx and d/dw of S = sum_b g_b values_b for single events, central
    differences of the compiled fill."""
    import diffana

    cases, results = jit_results
    c = cases[i]
    _, _, _, d_x, d_w = _split(c, results[i])
    ov = "fold" if c["overflow"] else "drop"

    def s(x, w):
        h = diffana.histogram([x], c["edges"], weights=[w], bandwidth=c["bw"],
                              overflow=ov)  # fmt: skip
        return float(c["g"] @ h.values)

    # Events in the range, away from the edges by more than the step.
    for j in range(20, 40):
        x, w = c["x"][j], c["w"][j]
        if not np.isfinite(x) or np.min(np.abs(c["edges"] - x)) < 1e-3:
            continue
        eps = 1e-6 * c["bw"]
        fd_x = (s(x + eps, w) - s(x - eps, w)) / (2 * eps)
        fd_w = (s(x, w + 1e-6) - s(x, w - 1e-6)) / 2e-6
        scale = np.max(np.abs(c["g"])) * w / c["bw"]
        assert abs(d_x[j] - fd_x) <= 1e-6 * scale, (j, d_x[j], fd_x)
        assert abs(d_w[j] - fd_w) <= 1e-8 * np.max(np.abs(c["g"])), (j, d_w[j], fd_w)


# ---- the adjoint pass with d L / d sumw2 all zero ------------------------------------

EDGES = np.linspace(0.0, 1.6, 9)
N_EVENTS = 2000


def _frame(ROOT, reverse):
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame(N_EVENTS).Define(
        "x", "double(((rdfentry_ + 1) * 2654435761ULL) % 1000003ULL) / 1000003.0"
    )
    forward = {"a": 1.1, "b": 0.2} if not reverse else {"unused": 0.0}
    ddf = DiffFrame(df, forward, reverse={"a": 1.1, "b": 0.2} if reverse else None)
    ddf = ddf.define("xs", "x * a + b").define("w", "1.0 + b * x")
    # Events reach xs in [0.2, 1.3]: the last bin [1.4, 1.6] gets nothing, also with
    # the soft kernel truncated at 7.5 bandwidths.
    return [
        ddf.histo("xs", EDGES, weight="w"),
        ddf.histo("xs", EDGES, weight="w", bandwidth=0.01),
        ddf.histo2d("xs", "x", EDGES, EDGES, weight="w", bandwidth=(0.01, None)),
    ]


@pytest.fixture(scope="module")
def adjoint_frames(ROOT):
    return _frame(ROOT, reverse=False), _frame(ROOT, reverse=True)


def test_zero_sumw2_cotangents_take_the_short_path_exactly(adjoint_frames):
    """(g, 0) skips the per-bin term of d L / d sumw2; (g, g') with g' non-zero only
    in a bin no event reaches runs it, adding exactly zero: the same gradient bit
    for bit. Both equal forward mode (pass 1's Jacobians) to 1e-12."""
    from diffana.rdf import adjoint_gradient, adjoint_pass

    forward_hists, hists = adjoint_frames
    rng = np.random.default_rng(5)
    for fh, h in zip(forward_hists, hists, strict=True):
        shape = tuple(e.size - 1 for e in h._edges)
        g = rng.normal(size=shape)
        far = np.zeros(shape)
        far[-1, ...] = 1.0
        assert np.all(h.result().values[-1, ...] == 0.0)
        short = adjoint_pass({h: (g, None)}).gradient
        long = adjoint_pass({h: (g, far)}).gradient
        np.testing.assert_array_equal(short, long)
        fwd = adjoint_gradient({fh: (g, None)})
        expected = np.array([fwd["a"], fwd["b"]])
        scale = np.max(np.abs(expected))
        np.testing.assert_allclose(short, expected, rtol=1e-12, atol=1e-12 * scale)
