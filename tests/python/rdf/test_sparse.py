# SPDX-License-Identifier: BSD-3-Clause
"""Sparse tangents in DiffFrame (diffana.rdf._sparse, include/diffana/ad/sparse.hpp):
columns carry only the tangents of the parameters they are computed from, with
histograms identical to the dense Dual<double, P> path (DIFFANA_SPARSE_TANGENTS=0);
expressions that cannot run on sparse tangents fall back to dense ones, variations
and snapshots of sparse columns work, and the Jacobian matches finite differences."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.root

EDGES = np.linspace(0.0, 400.0, 9)
PARAMS = {
    "jes": 1.02,
    "a0": 0.0,
    "pt_cut": 30.0,
    "a1": 0.0,
    "n_cut": 2.5,
    "n_slope": 3.0,
    "a2": 0.0,
}
PIPELINE = [
    ("jet_pt_c", "Jet_pt * jes"),
    ("w_jet", "diffana::soft_cut(jet_pt_c, pt_cut, 0.2)"),
    ("ht", "ROOT::VecOps::Sum(jet_pt_c * w_jet)"),
    ("n_soft", "ROOT::VecOps::Sum(w_jet)"),
    ("w_evt", "diffana::soft_cut(n_soft, n_cut, n_slope)"),
]


def source(ROOT, n=3000):
    return ROOT.RDataFrame(n).Define(
        "Jet_pt",
        "TRandom3 r(rdfentry_ + 1); ROOT::RVecF v(r.Poisson(5.0));"
        "for (auto& x : v) x = 20.0f + float(r.Exp(40.0)); return v;",
    )


def build(ROOT, sparse, monkeypatch, params=PARAMS):
    from diffana.rdf import DiffFrame

    monkeypatch.setenv("DIFFANA_SPARSE_TANGENTS", "1" if sparse else "0")
    ddf = DiffFrame(source(ROOT), params)
    for name, expr in PIPELINE:
        ddf = ddf.define(name, expr)
    return ddf


@pytest.fixture(scope="module")
def frames(ROOT):
    # The switch is read when a DiffFrame is made: restore it right away.
    mp = pytest.MonkeyPatch()
    try:
        return build(ROOT, True, mp), build(ROOT, False, mp)
    finally:
        mp.undo()


def assert_same(a, b):
    np.testing.assert_allclose(a.values, b.values, rtol=1e-14, atol=0)
    np.testing.assert_allclose(a.variances, b.variances, rtol=1e-14, atol=0)
    np.testing.assert_allclose(a.jacobian, b.jacobian, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(
        a.variances_jacobian, b.variances_jacobian, rtol=1e-14, atol=1e-300
    )


def test_columns_carry_only_their_parameters(frames):
    sparse, dense = frames
    raw = {name: str(sparse.node.GetColumnType(name)) for name, _ in PIPELINE}
    # jes is parameter 0, pt_cut 2, n_cut 4, n_slope 5 (bits 1, 4, 5 + 16 + 32).
    assert raw["jet_pt_c"].replace(" ", "").endswith("SparseDual<double,7,1>>")
    assert raw["w_jet"].replace(" ", "").endswith("SparseDual<double,7,5>>")
    assert raw["ht"].replace(" ", "") == "diffana::SparseDual<double,7,5>"
    assert raw["w_evt"].replace(" ", "") == "diffana::SparseDual<double,7,53>"
    # Users see the dense type, as on the dense path.
    for name, _ in PIPELINE:
        assert sparse.column_type(name).replace(" ", "") == dense.column_type(
            name
        ).replace(" ", "")
    assert "Dual<double,7>" in sparse.column_type("ht").replace(" ", "")


def test_histograms_match_the_dense_path(frames):
    sparse, dense = frames
    for bw in (None, 20.0):
        a = sparse.histo("ht", EDGES, weight="w_evt", bandwidth=bw).result()
        b = dense.histo("ht", EDGES, weight="w_evt", bandwidth=bw).result()
        assert_same(a, b)
        assert np.all(a.jacobian[:, [1, 3, 6]] == 0)  # unused parameters
        assert np.all(np.abs(a.jacobian[:, [0, 2, 4, 5]]).max(axis=0) > 0)
    # 2D, a soft filter, a histogram of a parameter's column.
    hs = [
        f.soft_filter("diffana::soft_cut(ht, 80.0 * jes, 0.05)").histo2d(
            "ht", "n_soft", EDGES, np.linspace(0, 8, 5), weight="w_evt", bandwidth=20.0
        )
        for f in frames
    ]
    assert_same(hs[0].result(), hs[1].result())
    hp = [f.histo("jes", [0.0, 1.0, 2.0], weight="ht") for f in frames]
    assert_same(hp[0].result(), hp[1].result())


def test_jacobian_matches_central_differences(frames):
    sparse, _ = frames
    h = sparse.histo("ht", EDGES, weight="w_evt", bandwidth=20.0)
    base = dict(sparse.params)
    jac = h.result().jacobian
    try:
        for name, eps in [
            ("jes", 1e-6),
            ("pt_cut", 1e-4),
            ("n_cut", 1e-5),
            ("n_slope", 1e-5),
        ]:
            col = list(PARAMS).index(name)
            sparse.set_params({name: base[name] + eps})
            up = h.result().values
            sparse.set_params({name: base[name] - eps})
            down = h.result().values
            sparse.set_params(base)
            fd = (up - down) / (2 * eps)
            np.testing.assert_allclose(
                jac[:, col], fd, rtol=1e-5, atol=1e-6, err_msg=name
            )
    finally:
        sparse.set_params(base)


def test_fallback_to_dense_for_other_functions(ROOT, frames):
    """A function written for Dual<double, P> gets dense columns (converted from
    the sparse ones it reads); later sparse expressions mix with plain numbers."""
    ROOT.gInterpreter.Declare(
        "diffana::Dual<double, 7> diffana_test_sparse_twice("
        "const diffana::Dual<double, 7>& x) { return 2.0 * x; }"
    )
    out = []
    for f in frames:
        g = f.define("ht2", "diffana_test_sparse_twice(ht) + pt_cut")
        g = g.define("ht3", "ht2 * 0.5 + ht")
        out.append(g.histo("ht3", EDGES, weight="w_evt").result())
        assert "Dual<double,7>" in str(g.node.GetColumnType("ht2")).replace(" ", "")
    assert_same(out[0], out[1])


def test_variations_and_snapshot_of_sparse_columns(ROOT, frames, tmp_path):
    from diffana.rdf import DiffFrame

    res = []
    for f in frames:
        v = f.vary("jet_pt_c", {"up": "jet_pt_c * (1.0 + a0 + 0.03)"}, name="jes")
        v = v.define("ht_v", "ROOT::VecOps::Sum(jet_pt_c * w_jet)")
        h = v.histo("ht_v", EDGES, weight="w_evt", bandwidth=20.0)
        res.append(h.variations())
    assert set(res[0]) == {"nominal", "jes:up"}
    for key in res[0]:
        assert_same(res[0][key], res[1][key])
    # The varied histogram depends on a0 (through the variation only).
    assert np.any(res[0]["jes:up"].jacobian[:, 1] != 0)
    assert np.all(res[0]["nominal"].jacobian[:, 1] == 0)

    path = tmp_path / "sparse.root"
    frames[0].snapshot("t", path, ["ht", "w_jet"])
    back = DiffFrame.from_snapshot("t", path, PARAMS)
    assert "Dual<double,7>" in back.column_type("ht").replace(" ", "")
    a = back.histo("ht", EDGES).result()
    b = frames[1].histo("ht", EDGES).result()
    assert_same(a, b)


def test_which_expressions_are_sparse(monkeypatch):
    from diffana.rdf import _sparse

    types = {"x": "ROOT::VecOps::RVec<float>", "d": "diffana::Dual<double,3>"}.get

    def ok(expr):
        return _sparse.usable(expr, {"p"}, lambda n: types(n, ""))

    assert ok("ROOT::VecOps::Sum(x * p) + std::exp(-p) * x.size()")
    assert ok("diffana::soft_window(x, p, 2.0 * p, 0.5) /* any_name */")
    assert not ok("d * p")  # a dense column: dense expression
    assert not ok("my_function(x, p)")
    assert not ok("diffana::agc::soft_step(x, p, 1.0)")
    assert _sparse.enabled(2)
    assert not _sparse.enabled(1)
    assert not _sparse.enabled(64)
    monkeypatch.setenv("DIFFANA_SPARSE_TANGENTS", "0")
    assert not _sparse.enabled(2)
    monkeypatch.setenv("DIFFANA_SPARSE_TANGENTS", "yes")
    with pytest.raises(ValueError, match="DIFFANA_SPARSE_TANGENTS"):
        _sparse.enabled(2)
    calls = _sparse.param_calls("blk", ["a", "b"])
    assert calls["b"] == "diffana::rdf::sparse_param<1>(blk)"
    wrapped = _sparse.dense_wrapped(
        "s * p + x",
        {"p": "P"},
        lambda n: "diffana::SparseDual<double,2,1>" * (n == "s"),
    )
    assert wrapped == "diffana::rdf::dense_column(s) * P + x"
