# SPDX-License-Identifier: BSD-3-Clause
"""Gradients on disk: DiffFrame.snapshot writes dual columns as value plus one tangent
column per parameter, DiffFrame.from_snapshot restores them, and a two-stage chain of
programs gives the single-program Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.root

EDGES = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 14.0]


def events(ROOT, n=5000):
    return (
        ROOT.RDataFrame(n)
        .Define("u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 3.0")
        .Define("v", "1.0 + std::sin(double(rdfentry_))")
        .Define("n", "int(rdfentry_ % 4)")
    )


def test_round_trip_is_exact(ROOT, tmp_path):
    from diffana.rdf import DiffFrame

    jes, b = 1.1, 0.3
    ddf = (
        DiffFrame(events(ROOT), {"jes": jes, "b": b})
        .define("x", "jes * u + b * b")
        .define("xs", "ROOT::VecOps::RVec<double>(n, u) * jes")
    )
    path = tmp_path / "stage1.root"
    ddf.snapshot("t", path, ["x", "xs", "u", "v"])
    info = DiffFrame.snapshot_info("t", path)
    assert info == {"params": {"jes": jes, "b": b}, "dual": ["x", "xs"]}

    # On disk: plain doubles / RVec<double>, values and tangents exactly.
    plain = ROOT.RDataFrame("t", str(path))
    assert plain.GetColumnType("x") == "Double_t"
    assert plain.GetColumnType("x__d_jes") == "Double_t"
    assert plain.GetColumnType("xs__d_b") == "ROOT::VecOps::RVec<double>"
    cols = plain.AsNumpy(["u", "x", "x__d_jes", "x__d_b", "xs", "xs__d_jes"])
    u = cols["u"]
    np.testing.assert_array_equal(cols["x"], jes * u + b * b)
    np.testing.assert_array_equal(cols["x__d_jes"], u)
    np.testing.assert_array_equal(cols["x__d_b"], np.full_like(u, 2 * b))
    for i, (xs, d) in enumerate(zip(cols["xs"], cols["xs__d_jes"], strict=True)):
        assert len(xs) == i % 4
        np.testing.assert_array_equal(np.asarray(xs), np.full(i % 4, u[i] * jes))
        np.testing.assert_array_equal(np.asarray(d), np.full(i % 4, u[i]))

    # Read back with the parameters reordered plus a new one: Dual columns again,
    # tangents mapped by name, zero for the new parameter.
    back = DiffFrame.from_snapshot("t", path, {"cut": 2.0, "b": b, "jes": jes})
    assert back.param_names == ("cut", "b", "jes")
    assert back.column_type("x").replace(" ", "") == "diffana::Dual<double,3>"
    assert "RVec<diffana::Dual<double,3>>" in back.column_type("xs").replace(" ", "")
    assert back.column_type("u") == "Double_t"
    back = back.define("sx", "ROOT::VecOps::Sum(xs)")
    ddf = ddf.define("sx", "ROOT::VecOps::Sum(xs)")
    for col, kw in (("x", {}), ("x", {"bandwidth": 0.4}), ("sx", {"weight": "x"})):
        ref = ddf.histo(col, EDGES, **kw).result()
        got = back.histo(col, EDGES, **kw).result()
        np.testing.assert_array_equal(got.values, ref.values)
        np.testing.assert_array_equal(got.jacobian[:, 0], 0.0)
        np.testing.assert_array_equal(got.jacobian[:, 1], ref.jacobian[:, 1])
        np.testing.assert_array_equal(got.jacobian[:, 2], ref.jacobian[:, 0])
        assert np.any(ref.jacobian != 0) == bool(kw)  # hard, unweighted: 0


def stage1(ROOT, path, jes):
    from diffana.rdf import DiffFrame

    ddf = DiffFrame(events(ROOT), {"jes": jes}).define(
        "pt_c", "jes * u * u + 0.5 * jes"
    )
    ddf.snapshot("Events", path, ["pt_c", "v"])


def stage2(path, jes, cut):
    from diffana.rdf import DiffFrame

    ddf = DiffFrame.from_snapshot("Events", path, {"jes": jes, "cut": cut})
    sel = ddf.soft_filter("diffana::soft_cut(pt_c, cut, 2.0)")
    return ddf, sel.histo("pt_c", EDGES, weight="v", bandwidth=0.3)


def test_two_stage_chain_equals_single_program(ROOT, tmp_path):
    from diffana.rdf import DiffFrame

    jes, cut = 1.05, 1.5
    path = tmp_path / "calibrated.root"
    stage1(ROOT, path, jes)
    ddf2, h2 = stage2(path, jes, cut)
    chain = h2.result()
    assert chain.param_names == ("jes", "cut")

    single = (
        DiffFrame(events(ROOT), {"jes": jes, "cut": cut})
        .define("pt_c", "jes * u * u + 0.5 * jes")
        .soft_filter("diffana::soft_cut(pt_c, cut, 2.0)")
        .histo("pt_c", EDGES, weight="v", bandwidth=0.3)
        .result()
    )
    np.testing.assert_allclose(chain.values, single.values, rtol=1e-12, atol=0)
    scale = np.abs(single.jacobian).max()
    assert np.all(np.abs(single.jacobian).max(axis=0) > 0)
    np.testing.assert_allclose(
        chain.jacobian, single.jacobian, rtol=1e-12, atol=1e-12 * scale
    )

    # Central finite differences: jes by re-running stage 1, cut in stage 2.
    eps = 1e-5
    shifted = {}
    for sign in (1, -1):
        p = tmp_path / f"jes_{sign}.root"
        stage1(ROOT, p, jes + sign * eps)
        shifted["jes", sign] = stage2(p, jes + sign * eps, cut)[1].result().values
        ddf2.set_params(cut=cut + sign * eps)
        shifted["cut", sign] = h2.result().values
    ddf2.set_params(cut=cut)
    np.testing.assert_array_equal(h2.result().values, chain.values)
    for k, name in enumerate(("jes", "cut")):
        fd = (shifted[name, 1] - shifted[name, -1]) / (2 * eps)
        s = np.abs(chain.jacobian[:, k]).max()
        np.testing.assert_allclose(
            chain.jacobian[:, k], fd, rtol=1e-5, atol=1e-6 * s, err_msg=name
        )


def test_errors(ROOT, tmp_path):
    from diffana.rdf import DiffFrame

    ddf = DiffFrame(events(ROOT, 10), {"jes": 1.0}).define("x", "jes * u")
    path = tmp_path / "s.root"
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        ddf.snapshot("t", path, ["x", "nope"])
    with pytest.raises(ValueError, match="no columns"):
        ddf.snapshot("t", path, [])
    assert not path.exists()
    ddf.snapshot("t", path, ["x"])
    with pytest.raises(ValueError, match=r"parameter\(s\) \['jes'\] are missing"):
        DiffFrame.from_snapshot("t", path, {"cut": 1.0})
    with pytest.raises(ValueError, match=r"not written by DiffFrame\.snapshot"):
        DiffFrame.from_snapshot("other", path, {"jes": 1.0})
    plain = tmp_path / "plain.root"
    events(ROOT, 10).Snapshot("t", str(plain), ["u"])
    with pytest.raises(ValueError, match=r"not written by DiffFrame\.snapshot"):
        DiffFrame.from_snapshot("t", plain, {"jes": 1.0})
    # The frame stays usable after the errors.
    back = DiffFrame.from_snapshot("t", path, {"jes": 1.0})
    h = back.histo("x", [0.0, 1.0, 3.0]).result()
    assert h.values.sum() == 10
    np.testing.assert_array_equal(h.jacobian, 0.0)  # hard bins: x moves within


@pytest.mark.data
def test_jagged_nanoaod_round_trip(ROOT, tt_file, tmp_path):
    from diffana.rdf import DiffFrame

    ddf = DiffFrame(ROOT.RDataFrame("Events", str(tt_file)), {"jes": 1.02}).define(
        "jet_pt_c", "Jet_pt * jes"
    )
    path = tmp_path / "jets.root"
    ddf.snapshot("Events", path, ["jet_pt_c"])
    back = DiffFrame.from_snapshot("Events", path, {"jes": 1.02})
    edges = np.linspace(0, 2000, 21)
    ref = ddf.define("ht", "ROOT::VecOps::Sum(jet_pt_c)").histo(
        "ht", edges, bandwidth=50.0
    )
    got = back.define("ht", "ROOT::VecOps::Sum(jet_pt_c)").histo(
        "ht", edges, bandwidth=50.0
    )
    np.testing.assert_array_equal(got.result().values, ref.result().values)
    np.testing.assert_array_equal(got.result().jacobian, ref.result().jacobian)
