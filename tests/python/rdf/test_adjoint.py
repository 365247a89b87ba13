# SPDX-License-Identifier: BSD-3-Clause
"""The adjoint event loop (diffana.rdf.adjoint): reverse-mode parameters of a
DiffFrame against the same parameters in forward mode (hard and soft binning, 1D and
2D, a filter, a soft filter, a variation, weights, fold overflow; to 1e-12), many
parameters (a 200-coefficient Chebyshev polynomial in the weight and the position)
against central finite differences, the tape of rejected events, threads, and bad
input."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.root

N_EVENTS = 3000
VALUES = {"a": 1.1, "b": 0.2, "c": 0.5}
EDGES = np.linspace(0.0, 1.6, 9)
EDGES_Y = np.linspace(0.0, 1.2, 7)
UNIFORM = "double(((rdfentry_ + 1) * {m}ULL) % 1000003ULL) / 1000003.0"


def _data(ROOT, n):
    return (
        ROOT.RDataFrame(n)
        .Define("x", UNIFORM.format(m=2654435761))
        .Define("y", UNIFORM.format(m=40503))
    )


def _pipeline(ROOT, forward, reverse, n=N_EVENTS, cut="xs > 0.3"):
    """The test graph with the parameters split into forward and reverse ones;
    returns the frame and its histograms."""
    from diffana.rdf import DiffFrame

    ddf = DiffFrame(_data(ROOT, n), forward, reverse=reverse or None)
    ddf = (
        ddf.define("xs", "x * a + b")
        .filter(cut)
        .soft_filter("1.0 / (1.0 + exp(-(y - c) / 0.1))")
        .define("w", "exp(-c * x) * (1.0 + b * y)")
        .vary("xs", {"up": "xs * (1.0 + 0.1 * b)", "down": "xs - 0.05"})
        .define("ys", "y + 0.3 * xs")
    )
    hists = [
        ddf.histo("xs", EDGES, weight="w"),
        ddf.histo("ys", EDGES_Y, weight="w", bandwidth=0.08),
        ddf.histo2d("xs", "ys", EDGES, EDGES_Y, bandwidth=(0.1, None)),
        ddf.histo("ys", EDGES_Y, bandwidth=0.05, overflow="fold"),
    ]
    return ddf, hists


def _cotangents(hists, seed=7):
    rng = np.random.default_rng(seed)
    out = {}
    for h in hists:
        shape = tuple(e.size - 1 for e in h._edges)
        out[h] = {
            key: (rng.normal(size=shape), rng.normal(size=shape))
            for key in ("nominal", "xs:up", "xs:down")
        }
    return out


def _forward_gradient(hists, cot):
    """sum over histograms and variations of g . J + g' . J' (pass 1 only)."""
    total = 0.0
    for h in hists:
        varied = h.variations()
        for key, (g, gv) in cot[h].items():
            r = varied[key]
            axes = tuple(range(g.ndim))
            total = total + np.tensordot(g, r.jacobian, axes=(axes, axes))
            total = total + np.tensordot(gv, r.variances_jacobian, axes=(axes, axes))
    return total


@pytest.fixture(scope="module")
def reference(ROOT):
    """The all-forward gradient (d L / d a, b, c) from the Jacobians of pass 1."""
    _, hists = _pipeline(ROOT, VALUES, None)
    cot = _cotangents(hists)
    return _forward_gradient(hists, cot), [h.result().values for h in hists]


def _assert_close(actual, expected):
    scale = np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * scale)


# ---- reverse mode equals forward mode ----------------------------------------------


@pytest.mark.parametrize(
    ("forward", "reverse"),
    [
        ({"a": 1.1}, {"b": 0.2, "c": 0.5}),  # forward for one, reverse for two
        ({"unused": 3.0}, VALUES),  # all three in reverse mode
    ],
)
def test_adjoint_equals_forward_mode(ROOT, reference, forward, reverse):
    from diffana.rdf import adjoint_gradient

    expected, values = reference
    _, hists = _pipeline(ROOT, forward, reverse)
    cot = _cotangents(hists)
    grad = adjoint_gradient(cot)
    assert set(grad) == set(forward) | set(reverse)
    got = np.array([grad[k] for k in VALUES])
    _assert_close(got, expected)
    if "unused" in grad:
        assert grad["unused"] == 0.0
    # Pass 1 of the reverse frame fills the same histograms (reverse parameters are
    # plain numbers there).
    for h, v in zip(hists, values, strict=True):
        _assert_close(h.result().values, v)


def test_vector_parameter_and_set_params(ROOT, reference):
    """A vector reverse parameter (theta[k]) is the same as scalar ones; set_params
    changes it between loops, for pass 1 and pass 2."""
    from diffana.rdf import DiffFrame, adjoint_gradient

    ddf = DiffFrame(_data(ROOT, 500), {"s": 1.0}, reverse={"theta": [1.0, 0.0]})
    ddf = ddf.define("xs", "x * theta[0] + theta[1] * s")
    h = ddf.histo("xs", EDGES, bandwidth=0.1)
    ref = DiffFrame(_data(ROOT, 500), {"t0": 1.1, "t1": 0.2, "s": 1.0})
    ref = ref.define("xs", "x * t0 + t1 * s")
    hr = ref.histo("xs", EDGES, bandwidth=0.1)
    g = np.linspace(-1.0, 1.0, EDGES.size - 1)
    with pytest.raises(ValueError, match=r"'theta' has shape \(2,\), got \(3,\)"):
        ddf.set_params(theta=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must be finite"):
        ddf.set_params(theta=[1.0, np.nan])
    ddf.set_params(theta=np.array([1.1, 0.2]))
    np.testing.assert_array_equal(ddf.reverse_params["theta"], [1.1, 0.2])
    _assert_close(h.result().values, hr.result().values)
    grad = adjoint_gradient({h: (g, None)})
    want = np.tensordot(g, hr.result().jacobian, axes=(0, 0))
    _assert_close(np.append(grad["theta"], grad["s"]), want)


PROBE = """
double diffana_test_rev_soft_cut_probe() {
  diffana::Tape& t = diffana::active_tape();
  t.clear();
  auto a = diffana::make_param(t, 0, 2.0);
  std::vector<double> g(1);
  t.seed(diffana::soft_cut(a, 1.0, 1.0), 1.0);
  t.sweep(g.data(), 1);
  t.clear();
  return g[0];
}
"""


def test_soft_cuts_of_reverse_parameters(ROOT):
    """diffana's soft cuts take reverse parameters (generic code instantiated with
    Rev): the same pipeline with a soft cut in the soft filter and the weight."""
    from diffana.rdf import DiffFrame, adjoint_gradient
    from diffana.rdf.adjoint import _declare_header

    _declare_header(ROOT)
    ROOT.gInterpreter.Declare(PROBE)
    if ROOT.diffana_test_rev_soft_cut_probe() == 0.0:
        pytest.skip(
            "the diffana headers cling sees predate Rev support in the soft cuts "
            "(an installed copy older than the source tree): reinstall diffana"
        )

    def build(forward, reverse):
        ddf = DiffFrame(_data(ROOT, 800), forward, reverse=reverse or None)
        ddf = ddf.define("xs", "x * a + b").soft_filter("diffana::soft_cut(y, c, 8.0)")
        return ddf.histo("xs", EDGES, weight="xs", bandwidth=0.1)

    ref = build(VALUES, None)
    g = np.linspace(-1.0, 1.0, EDGES.size - 1)
    want = np.tensordot(g, ref.result().jacobian, axes=(0, 0))
    h = build({"a": 1.1}, {"b": 0.2, "c": 0.5})
    grad = adjoint_gradient({h: (g, g**2)})
    want = want + np.tensordot(g**2, ref.result().variances_jacobian, axes=(0, 0))
    _assert_close(np.array([grad[k] for k in VALUES]), want)


# ---- many parameters -----------------------------------------------------------------

CHEB = """
template <class S> auto diffana_test_cheb(const S& th, double x) {
  decltype(th[0] * 1.0) s = 0.0;
  double t0 = 1.0, t1 = x;  // T_k and T_{k+1}
  for (std::size_t k = 0; k < th.size(); ++k) {
    s += th[k] * t0;
    const double t2 = 2.0 * x * t1 - t0;
    t0 = t1;
    t1 = t2;
  }
  return s;
}
"""


def test_many_parameters_against_finite_differences(ROOT):
    """200 reverse parameters in the weight and the position of every event: random
    directional derivatives of L = g . values + g' . variances equal central finite
    differences of pass 1."""
    from diffana.rdf import DiffFrame, adjoint_gradient

    assert ROOT.gInterpreter.Declare(CHEB)
    rng = np.random.default_rng(11)
    p = 200
    theta0 = rng.normal(scale=0.5, size=p)
    ddf = DiffFrame(_data(ROOT, 1500), {"k": 0.3}, reverse={"theta": theta0})
    ddf = (
        ddf.define("x2", "2.0 * x - 1.0")
        .define("z", "diffana_test_cheb(theta, x2) / 20.0")
        .define("pos", "x2 + 0.2 * tanh(z) + k * y")
        .define("w", "exp(0.3 * z)")
    )
    edges = np.linspace(-1.0, 1.4, 13)
    hists = [
        ddf.histo("pos", edges, weight="w", bandwidth=0.05),
        ddf.histo("pos", edges, weight="w"),
    ]
    cot = {h: (rng.normal(size=12), rng.normal(size=12)) for h in hists}

    def loss(theta):
        ddf.set_params(theta=theta)
        out = 0.0
        for h in hists:
            r = h.result()
            g, gv = cot[h]
            out += float(g @ r.values + gv @ r.variances)
        return out

    ddf.set_params(theta=theta0)
    grad = adjoint_gradient(cot)
    assert grad["theta"].shape == (p,)
    eps = 1e-5
    for _ in range(3):
        v = rng.normal(size=p)
        v /= np.linalg.norm(v)
        fd = (loss(theta0 + eps * v) - loss(theta0 - eps * v)) / (2 * eps)
        np.testing.assert_allclose(grad["theta"] @ v, fd, rtol=1e-6, atol=1e-8)
    # The forward parameter k moves the position: its Jacobian column is nonzero.
    assert grad["k"] != 0.0


# ---- the tape of rejected events, threads ----------------------------------------------


def test_rejected_events_leave_nothing_on_the_tape(ROOT):
    """A filter that reads a reverse parameter records nodes before it rejects the
    event: the sweep action clears them every entry (nothing left at the end of a
    task, the largest tape is one event's, whatever the number of events) and they
    add nothing to the gradient."""
    from diffana.rdf import adjoint_pass

    forward, reverse = {"a": 1.1}, {"b": 0.2, "c": 0.5}
    runs = {}
    for n in (1000, 4000):
        _, hists = _pipeline(ROOT, forward, reverse, n=n)
        runs[n] = adjoint_pass(_cotangents(hists))
    for n, run in runs.items():
        assert run.n_events == n
        assert 0 < run.n_seeded < n
        assert run.leftover_nodes == 0
        assert run.gradient.shape == (2,)
    assert runs[1000].max_tape_nodes == runs[4000].max_tape_nodes < 200

    _, hists = _pipeline(ROOT, forward, reverse, n=1000, cut="xs > 1e9")
    none = adjoint_pass(_cotangents(hists))
    assert none.n_events == 1000
    assert none.n_seeded == 0
    assert none.max_tape_nodes > 0  # the filter recorded xs = x * a + b ...
    assert none.leftover_nodes == 0  # ... and the sweep action cleared it
    np.testing.assert_array_equal(none.gradient, [0.0, 0.0])


def test_named_filters_record_nothing_in_pass_1(ROOT):
    """A named filter on a reverse parameter (RDataFrame may evaluate named filters
    in every loop, for the cut-flow report; the pass-2 copy is unnamed): pass-1
    loops after an adjoint loop leave this thread's tape empty."""
    from diffana.rdf import DiffFrame, adjoint_pass

    ddf = DiffFrame(_data(ROOT, 300), {"a": 1.0}, reverse={"t": 0.1})
    ddf = ddf.define("xs", "x * a + t").filter("xs > 0.5", "xs_cut")
    h = ddf.histo("xs", EDGES, weight="xs")
    run = adjoint_pass({h: (np.ones(8), None)})
    assert run.n_seeded > 0
    assert run.leftover_nodes == 0
    ddf.set_params(t=0.2)
    h.result()  # a pass-1 loop: the pass-2 graph stays idle
    assert ROOT.diffana.active_tape().size() == 0


def test_implicit_mt_equals_single_threaded(ROOT, reference):
    from diffana.rdf import adjoint_gradient

    expected, _ = reference
    ROOT.EnableImplicitMT(2)
    try:
        ddf, hists = _pipeline(ROOT, {"a": 1.1}, {"b": 0.2, "c": 0.5})
        assert ddf.node.GetNSlots() == 2
        grad = adjoint_gradient(_cotangents(hists))
    finally:
        ROOT.DisableImplicitMT()
    _assert_close(np.array([grad[k] for k in VALUES]), expected)


# ---- bad input ----------------------------------------------------------------------


def test_bad_input(ROOT):
    from diffana.rdf import DiffFrame, adjoint_gradient

    df = _data(ROOT, 100)
    with pytest.raises(ValueError, match="'a' is also a forward parameter"):
        DiffFrame(df, {"a": 1.0}, reverse={"a": 2.0})
    with pytest.raises(ValueError, match="'x' is already a column"):
        DiffFrame(df, {"a": 1.0}, reverse={"x": 2.0})
    with pytest.raises(ValueError, match="must be finite"):
        DiffFrame(df, {"a": 1.0}, reverse={"t": [1.0, np.inf]})
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        DiffFrame(df, {"a": 1.0}, reverse={"t": np.ones((2, 2))})
    ddf = DiffFrame(df, {"a": 1.0}, reverse={"t": 0.5}).define("xs", "x * a + t")
    h = ddf.histo("xs", EDGES)
    with pytest.raises(
        ValueError, match=r"d L/d values has shape \(3,\), expected \(8,\)"
    ):
        adjoint_gradient({h: (np.ones(3), None)})
    with pytest.raises(ValueError, match="not finite"):
        adjoint_gradient({h: (np.full(8, np.nan), None)})
    with pytest.raises(ValueError, match="unknown variation 'xs:up'"):
        adjoint_gradient({h: {"xs:up": (np.ones(8), None)}})
    with pytest.raises(ValueError, match="must be a pair"):
        adjoint_gradient({h: np.ones(8)})
    other = DiffFrame(df, {"a": 1.0}).histo("x", EDGES)
    with pytest.raises(ValueError, match="same DiffFrame family"):
        adjoint_gradient({h: (np.ones(8), None), other: (np.ones(8), None)})
    with pytest.raises(ValueError, match="non-empty mapping"):
        adjoint_gradient({})
    # The frame still works after the errors (an unweighted hard histogram has no
    # gradient: it depends on the parameters only through bin edges crossings).
    grad = adjoint_gradient({h: (np.ones(8), None)})
    assert grad["t"] == 0.0
    assert grad["a"] == 0.0
