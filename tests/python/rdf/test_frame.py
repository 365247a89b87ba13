# SPDX-License-Identifier: BSD-3-Clause
"""The Python front end diffana.rdf.DiffFrame: the documented example pipeline on
real NanoAOD, Jacobians against central finite differences of the same DiffFrame,
values against plain RDataFrame Histo1D, re-runs after set_params without jitting,
implicit multithreading, parameter inlining and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import diffana

pytestmark = pytest.mark.root

EDGES = np.linspace(100, 1000, 19)
PARAMS = {"jes": 1.0, "pt_cut": 30.0, "btag_cut": 0.5}


def snippet(ROOT, files, params=PARAMS):
    """The example of diffana.rdf's docstring, verbatim (plus the returned histogram
    handles)."""
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame("Events", files)
    ddf = DiffFrame(df, params=params)
    ddf = (
        ddf.define("jet_pt_c", "Jet_pt * jes")
        .define("w_jet", "diffana::soft_cut(jet_pt_c, pt_cut, 0.2)")
        .define("ht", "ROOT::VecOps::Sum(jet_pt_c * w_jet)")
        .define("w_evt", "diffana::soft_cut(ROOT::VecOps::Sum(w_jet), 3.5, 4.0)")
    )
    h = ddf.histo("ht", edges=np.linspace(100, 1000, 19), weight="w_evt")
    s = ddf.histo(
        "ht", edges=np.linspace(100, 1000, 19), weight="w_evt", bandwidth=25.0
    )
    return df, ddf, h, s


@pytest.fixture(scope="module")
def tt_snippet(ROOT, tt_file):
    return snippet(ROOT, str(tt_file))


# ---- the snippet on real NanoAOD ------------------------------------------------


@pytest.mark.data
def test_snippet_runs_one_loop_for_all_histograms(tt_snippet):
    _, ddf, h, s = tt_snippet
    loops = ddf.n_loops
    r = h.result()
    rs = s.result()
    assert ddf.n_loops == loops + 1  # one event loop filled both
    assert r.param_names == ("jes", "pt_cut", "btag_cut")
    assert r.values.shape == r.variances.shape == (18,)
    assert r.jacobian.shape == r.variances_jacobian.shape == (18, 3)
    assert isinstance(r, diffana.GradHistogram)
    np.testing.assert_array_equal(r.edges, EDGES)
    assert rs.bandwidth == 25.0
    assert r.bandwidth is None
    for hist in (r, rs):
        assert np.all(np.isfinite(hist.values))
        assert np.all(np.isfinite(hist.jacobian))
        assert np.all(hist.values >= 0)
        assert np.all(hist.variances >= 0)
        assert hist.n_skipped == 0
    # 200 ttbar events, most with several jets: the soft event weight keeps most.
    assert 100 < r.values.sum() <= 200
    assert 100 < rs.values.sum() <= 200
    # jes moves the histogram, pt_cut too; btag_cut is not used: zero column.
    assert np.any(r.jacobian[:, 0] != 0)
    assert np.any(rs.jacobian[:, 1] != 0)
    assert np.all(r.jacobian[:, 2] == 0)
    assert np.all(rs.jacobian[:, 2] == 0)
    # Columns not computed from a parameter stay plain.
    assert ddf.column_type("Jet_pt") == "ROOT::VecOps::RVec<Float_t>"
    assert ddf.column_type("ht").replace(" ", "") == "diffana::Dual<double,3>"


@pytest.mark.data
def test_jacobian_matches_central_finite_differences(tt_snippet):
    """The soft-binned histogram is a smooth function of all parameters."""
    _, ddf, _, s = tt_snippet
    base = dict(ddf.params)
    jac = s.result().jacobian
    try:
        for k, (name, eps) in enumerate([("jes", 1e-5), ("pt_cut", 1e-3)]):
            ddf.set_params({name: base[name] + eps})
            up = s.result().values
            ddf.set_params({name: base[name] - eps})
            down = s.result().values
            ddf.set_params(base)
            fd = (up - down) / (2 * eps)
            scale = np.abs(jac[:, k]).max()
            assert scale > 0
            np.testing.assert_allclose(
                jac[:, k], fd, rtol=1e-5, atol=1e-5 * scale, err_msg=name
            )
    finally:
        ddf.set_params(base)
    np.testing.assert_array_equal(s.result().jacobian, jac)


@pytest.mark.data
def test_hard_histogram_values_match_plain_histo1d(ROOT, tt_file, tt_snippet):
    _, _, h, _ = tt_snippet
    r = h.result()
    plain = (
        ROOT.RDataFrame("Events", str(tt_file))
        .Define("jet_pt_c", "Jet_pt * 1.0")
        .Define("w_jet", "diffana::soft_cut(jet_pt_c, 30.0, 0.2)")
        .Define("ht", "ROOT::VecOps::Sum(jet_pt_c * w_jet)")
        .Define("w_evt", "diffana::soft_cut(ROOT::VecOps::Sum(w_jet), 3.5, 4.0)")
    )
    assert plain.GetColumnType("ht") == "double"
    model = ROOT.RDF.TH1DModel("ht_plain", "", len(EDGES) - 1, EDGES)
    th1 = plain.Histo1D(model, "ht", "w_evt").GetValue()
    values = np.array([th1.GetBinContent(b + 1) for b in range(len(EDGES) - 1)])
    errors2 = np.array([th1.GetBinError(b + 1) ** 2 for b in range(len(EDGES) - 1)])
    np.testing.assert_allclose(r.values, values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.variances, errors2, rtol=1e-12, atol=1e-12)


@pytest.mark.data
def test_set_params_reruns_without_jitting(ROOT, tt_file, tt_snippet, capfd):
    _, ddf, h, s = tt_snippet
    before = h.result().values.copy()
    loops = ddf.n_loops
    ROOT.gInterpreter.Declare(
        "#include <ROOT/RLogger.hxx>\n#include <ROOT/RDF/Utils.hxx>\n"
        "std::unique_ptr<ROOT::RLogScopedVerbosity> diffana_test_rdf_verbosity;"
    )
    capfd.readouterr()
    ROOT.gInterpreter.ProcessLine(
        "diffana_test_rdf_verbosity = std::make_unique<ROOT::RLogScopedVerbosity>("
        "ROOT::Detail::RDF::RDFLogChannel(), ROOT::ELogLevel::kInfo);"
    )
    try:
        ddf.set_params(jes=1.02)
        after = h.result().values.copy()
        after_soft = s.result().values.copy()
    finally:
        ROOT.gInterpreter.ProcessLine("diffana_test_rdf_verbosity.reset();")
        ddf.set_params(jes=1.0)
    log = capfd.readouterr().err
    assert ddf.n_loops == loops + 1  # one new loop for both histograms
    assert "Nothing to jit and execute" in log, log
    assert "Just-in-time compilation phase completed" not in log, log
    assert not np.array_equal(before, after)
    # The same as a fresh DiffFrame built at jes = 1.02.
    _, _, h2, s2 = snippet(ROOT, str(tt_file), dict(PARAMS, jes=1.02))
    np.testing.assert_allclose(after, h2.result().values, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(after_soft, s2.result().values, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(h.result().values, before)  # back at jes = 1.0


# ---- generated events (no data needed) -----------------------------------------


def generated_frame(ROOT, n, params=None):
    from diffana.rdf import DiffFrame

    df = (
        ROOT.RDataFrame(n)
        .Define("u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 4.0")
        .Define("v", "1.0 + std::sin(double(rdfentry_))")
    )
    ddf = DiffFrame(df, params or {"scale": 1.1, "shift": 0.2, "cut": 1.5})
    return df, ddf.define("x", "scale * u + shift")


def fill_generated(ROOT, n):
    _, ddf = generated_frame(ROOT, n)
    sel = ddf.filter("u > 0.25").soft_filter("diffana::soft_cut(x, cut, 2.0)")
    edges = [0.0, 0.5, 1.0, 2.0, 3.0, 4.5]
    hard = sel.histo("x", edges, weight="v")
    soft = sel.histo("x", edges, weight="v", bandwidth=0.3)
    plain = ddf.histo("u", edges)  # plain x, no weight: an all-zero Jacobian
    only_soft = sel.histo("x", edges, bandwidth=0.3)  # weight: the soft filter only
    return ddf, hard.result(), soft.result(), plain.result(), only_soft.result()


def test_generated_matches_numpy_reference(ROOT):
    ddf, hard, soft, plain, only_soft = fill_generated(ROOT, 20_000)
    assert ddf.n_loops == 1
    df = ROOT.RDataFrame(20_000).Define(
        "u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 4.0"
    )
    u = np.asarray(df.AsNumpy(["u"])["u"])
    v = 1.0 + np.sin(np.arange(u.size, dtype=float))
    keep = u > 0.25
    u, v = u[keep], v[keep]
    x = 1.1 * u + 0.2
    s = 1.0 / (1.0 + np.exp(-2.0 * (x - 1.5)))
    ds = 2.0 * s * (1.0 - s)
    # d(x)/d(scale, shift, cut) and d(weight)/d(...), weight = v * s(x - cut)
    xt = np.stack([u, np.ones_like(u), np.zeros_like(u)], axis=1)
    wt = (v * ds)[:, None] * np.stack([u, np.ones_like(u), -np.ones_like(u)], axis=1)
    edges = [0.0, 0.5, 1.0, 2.0, 3.0, 4.5]
    for got, bw in ((hard, None), (soft, 0.3)):
        ref = diffana.histogram(
            x, edges, weights=v * s, bandwidth=bw, x_tangents=xt, weight_tangents=wt
        )
        np.testing.assert_allclose(got.values, ref.values, rtol=1e-10)
        np.testing.assert_allclose(got.variances, ref.variances, rtol=1e-10)
        np.testing.assert_allclose(got.jacobian, ref.jacobian, rtol=1e-9, atol=1e-9)
    assert got.param_names == ("scale", "shift", "cut")
    ref = diffana.histogram(
        x,
        edges,
        weights=s,
        bandwidth=0.3,
        x_tangents=xt,
        weight_tangents=wt / v[:, None],
    )
    np.testing.assert_allclose(only_soft.values, ref.values, rtol=1e-10)
    np.testing.assert_allclose(only_soft.jacobian, ref.jacobian, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(plain.jacobian, np.zeros((5, 3)))
    assert plain.values.sum() == 20_000


def test_implicit_mt_equals_single_threaded(ROOT):
    _, *single = fill_generated(ROOT, 200_000)
    ROOT.EnableImplicitMT(2)
    try:
        ddf, *multi = fill_generated(ROOT, 200_000)
        assert ddf.node.GetNSlots() == 2
    finally:
        ROOT.DisableImplicitMT()
    for a, b in zip(single, multi, strict=True):
        for key in ("values", "variances", "jacobian", "variances_jacobian"):
            x, y = getattr(a, key), getattr(b, key)
            scale = np.abs(x).max()
            np.testing.assert_allclose(
                y, x, rtol=1e-12, atol=1e-12 * scale, err_msg=key
            )


# ---- bad input -------------------------------------------------------------------


def test_too_many_forward_parameters_are_refused_before_anything_is_compiled(
    ROOT, monkeypatch
):
    # Thousands of forward tangents overflow the event loop's stack (the process
    # dies with SIGSEGV at about 2500 on an 8 MB stack): refused with the way out.
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame(10)
    many = {f"p{i}": 0.0 for i in range(513)}
    with pytest.raises(ValueError, match=r"513 forward-mode parameters.*reverse="):
        DiffFrame(df, many)
    monkeypatch.setenv("DIFFANA_MAX_FORWARD_PARAMS", "2")
    with pytest.raises(ValueError, match="3 forward-mode parameters, more than 2"):
        DiffFrame(df, {"a": 1.0, "b": 1.0, "c": 1.0})
    monkeypatch.setenv("DIFFANA_MAX_FORWARD_PARAMS", "lots")
    with pytest.raises(ValueError, match="must be an integer"):
        DiffFrame(df, {"a": 1.0})


def test_bad_input_raises_and_frame_stays_usable(ROOT):
    from diffana.rdf import CompileError, DiffFrame

    _, ddf = generated_frame(ROOT, 1000)
    good = ddf.histo("x", [0.0, 2.0, 5.0], bandwidth=0.5)
    ref = good.result()

    with pytest.raises(ValueError, match="unknown parameter 'jse'"):
        ddf.set_params(jse=1.0)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="'shift' must be finite"):
            ddf.set_params(scale=2.0, shift=bad)
    assert ddf.params == {"scale": 1.1, "shift": 0.2, "cut": 1.5}  # nothing changed
    with pytest.raises(TypeError, match="real number"):
        ddf.set_params(scale="2")
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        ddf.histo("nope", [0.0, 1.0])
    with pytest.raises(ValueError, match="unknown column 'wnope'"):
        ddf.histo("x", [0.0, 1.0], weight="wnope")
    with pytest.raises(ValueError, match="strictly increasing"):
        ddf.histo("x", [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        ddf.histo("x", [0.0, math.nan])
    with pytest.raises(ValueError, match="at least 2"):
        ddf.histo("x", [1.0])
    with pytest.raises(ValueError, match="bandwidth"):
        ddf.histo("x", [0.0, 1.0], bandwidth=-1.0)
    with pytest.raises(CompileError) as err:
        ddf.define("y", "x * undefined_thing + ")
    msg = str(err.value)
    assert "x * undefined_thing + " in msg
    assert "undeclared identifier" in msg
    with pytest.raises(CompileError, match="u >> "):
        ddf.filter("u >> ")
    with pytest.raises(ValueError, match="it is a parameter"):
        ddf.define("scale", "1.0")
    with pytest.raises(ValueError, match="already a column"):
        ddf.define("x", "1.0")
    with pytest.raises(ValueError, match="is already a column"):
        DiffFrame(ROOT.RDataFrame(1).Define("a", "1.0"), {"a": 1.0})
    with pytest.raises(ValueError, match="must be finite"):
        DiffFrame(ROOT.RDataFrame(1), {"a": math.nan})
    with pytest.raises(ValueError, match="non-empty"):
        DiffFrame(ROOT.RDataFrame(1), {})
    with pytest.raises(TypeError, match="RVec"):
        ddf.define("xs", "ROOT::VecOps::RVec<double>{u, u}").histo("xs", [0.0, 1.0])

    # Still usable: a new column, a new histogram, new parameter values.
    ok = ddf.define("y", "x * 2.0")
    h2 = ok.histo("y", [0.0, 4.0, 10.0])
    assert h2.result().values.sum() == 1000
    np.testing.assert_array_equal(good.result().values, ref.values)
    ddf.set_params(shift=0.3)
    assert not np.array_equal(good.result().values, ref.values)


# ---- jagged dual columns: VecOps and Lorentz helpers ------------------------------

JETS = [
    ("jet_pt_c", "Jet_pt * {jes}"),
    ("order", "ROOT::VecOps::Reverse(ROOT::VecOps::Argsort(jet_pt_c))"),
    ("pts", "ROOT::VecOps::Take(jet_pt_c, order)"),
    ("sorted_pts", "ROOT::VecOps::Reverse(ROOT::VecOps::Sort(jet_pt_c))"),
    ("pairs", "ROOT::VecOps::Combinations(jet_pt_c, 2)"),
    ("n_pairs", "double(pairs[0].size())"),
    ("lead", "ROOT::VecOps::Max(jet_pt_c)"),
    ("lead_by_argmax", "jet_pt_c[ROOT::VecOps::ArgMax(jet_pt_c)]"),
    ("same_lead", "double(lead == pts[0] && lead == sorted_pts[0])"),
    (
        "mjj",
        (
            "diffana::invariant_mass(pts[0], Jet_eta[order[0]], Jet_phi[order[0]], "
            "Jet_mass[order[0]], pts[1], Jet_eta[order[1]], Jet_phi[order[1]], "
            "Jet_mass[order[1]])"
        ),
    ),
]


@pytest.mark.data
@pytest.mark.slow
def test_vecops_and_lorentz_on_dual_jets(ROOT, tt_file):
    from diffana.rdf import DiffFrame

    ddf = DiffFrame(
        ROOT.RDataFrame("Events", str(tt_file)).Filter("nJet >= 2"), {"jes": 1.0}
    )
    plain = ROOT.RDataFrame("Events", str(tt_file)).Filter("nJet >= 2")
    for name, expr in JETS:
        ddf = ddf.define(name, expr.format(jes="jes"))
        plain = plain.Define(name, expr.format(jes="1.0"))
    for name in ("pts", "sorted_pts"):
        assert "Dual<double,1>" in ddf.column_type(name).replace(" ", "")
    assert ddf.column_type("n_pairs") == "double"
    edges = np.linspace(0, 800, 17)
    hists = {
        name: (ddf.histo(name, edges), ddf.histo(name, edges, bandwidth=20.0))
        for name in ("mjj", "lead", "lead_by_argmax")
    }
    same = ddf.histo("same_lead", [-0.5, 0.5, 1.5]).result()
    assert same.values.tolist() == [0.0, same.values.sum()]
    for name, (hard, _) in hists.items():
        model = ROOT.RDF.TH1DModel(f"p_{name}", "", len(edges) - 1, edges)
        th1 = plain.Histo1D(model, name).GetValue()
        ref = [th1.GetBinContent(b + 1) for b in range(len(edges) - 1)]
        np.testing.assert_array_equal(hard.result().values, ref, err_msg=name)
    assert ddf.n_loops == 1
    jac = {name: soft.result().jacobian[:, 0] for name, (_, soft) in hists.items()}
    eps = 1e-5
    ddf.set_params(jes=1.0 + eps)
    up = {name: soft.result().values for name, (_, soft) in hists.items()}
    ddf.set_params(jes=1.0 - eps)
    down = {name: soft.result().values for name, (_, soft) in hists.items()}
    ddf.set_params(jes=1.0)
    for name, j in jac.items():
        fd = (up[name] - down[name]) / (2 * eps)
        scale = np.abs(j).max()
        assert scale > 0
        np.testing.assert_allclose(j, fd, rtol=1e-5, atol=1e-5 * scale, err_msg=name)


@pytest.mark.data
def test_rntuple_input(ROOT, data_dir):
    from diffana.rdf import DiffFrame

    path = data_dir / (
        "cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root"
    )
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    df = ROOT.RDataFrame("Events", str(path))
    ddf = DiffFrame(df, {"jes": 1.0}).define("ht", "ROOT::VecOps::Sum(Jet_pt * jes)")
    edges = np.linspace(0, 2000, 11)
    h = ddf.histo("ht", edges, bandwidth=50.0)
    n = ddf.histo("nJet", [0, 5, 10, 20])  # std::uint32_t column
    ht = [float(np.sum(v)) for v in df.AsNumpy(["Jet_pt"])["Jet_pt"]]
    ref = diffana.histogram(ht, edges, bandwidth=50.0, x_tangents=np.array(ht)[:, None])
    np.testing.assert_allclose(h.result().values, ref.values, rtol=1e-6)
    np.testing.assert_allclose(h.result().jacobian, ref.jacobian, rtol=1e-6, atol=1e-9)
    assert n.result().values.sum() == 10


def test_parameters_are_inlined_into_expressions(ROOT):
    """Parameter names in expressions become the parameter's Dual directly (no
    per-event column read); longer names, members and qualified names are left
    alone, and the parameter columns still exist."""
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame(10).Define("u", "double(rdfentry_)")
    ddf = DiffFrame(df, {"jes": 2.0, "c": 3.0})
    code = ddf._inline_params("u*jes + jes_up + a.jes + p->c + ns::c + (u>c)")
    fn = ddf._core.dual_fn
    assert code == f"u*{fn}(0) + jes_up + a.jes + p->c + ns::c + (u>{fn}(1))"
    d = ddf.define("jes_up", "jes * 1.5").define("y", "u * jes + jes_up * c")
    h = d.histo("y", [0.0, 100.0], weight="y").result()
    u = np.arange(10.0)
    # sum of y = u jes + 1.5 jes c; d/djes = sum(u + 1.5 c), d/dc = sum(1.5 jes)
    np.testing.assert_allclose(h.values, [np.sum(2.0 * u + 9.0)])
    np.testing.assert_allclose(h.jacobian[0], [np.sum(u + 4.5), 10 * 3.0])
    assert d.histo("jes", [0.0, 5.0]).result().values.sum() == 10


def test_cling_optimization_level(monkeypatch):
    """DiffFrame's JIT code runs at -O3 unless $DIFFANA_CLING_OPT says otherwise
    (the suite sets 0); anything but 0-3 is refused with the variable named."""
    from diffana.rdf._session import cling_optimization_level

    monkeypatch.delenv("DIFFANA_CLING_OPT", raising=False)
    assert cling_optimization_level() == 3
    monkeypatch.setenv("DIFFANA_CLING_OPT", "1")
    assert cling_optimization_level() == 1
    for bad in ("7", "-O2", ""):
        monkeypatch.setenv("DIFFANA_CLING_OPT", bad)
        with pytest.raises(ValueError, match="DIFFANA_CLING_OPT must be 0, 1, 2 or 3"):
            cling_optimization_level()
