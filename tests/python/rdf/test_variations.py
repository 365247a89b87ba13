# SPDX-License-Identifier: BSD-3-Clause
"""DiffFrame systematic variations (`vary`) and 2D histograms (`histo2d`): every
variation in one event loop equals a separate DiffFrame with the varied expression
(values and Jacobians), multithreaded equals single-threaded, 2D histograms against
diffana.histogram2d and central finite differences, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import diffana

pytestmark = pytest.mark.root

N_EVENTS = 20_000
EDGES = [0.0, 0.5, 1.0, 2.0, 3.0, 4.5]
PARAMS = {"scale": 1.1, "shift": 0.2, "cut": 1.5}


def base(ROOT, params=PARAMS):
    """Generated events: u in [0, 4) (quasi-random), v = 1 + sin(entry)."""
    from diffana.rdf import DiffFrame

    df = (
        ROOT.RDataFrame(N_EVENTS)
        .Define("u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 4.0")
        .Define("v", "1.0 + std::sin(double(rdfentry_))")
    )
    return DiffFrame(df, params).define("x", "scale * u + shift")


def downstream(ddf, x="x"):
    """What depends on x: a soft weight and two histograms of x (hard and soft)."""
    d = ddf.define("w", f"v * diffana::soft_cut({x}, cut, 2.0)")
    return d.histo(x, EDGES, weight="w"), d.histo(x, EDGES, weight="w", bandwidth=0.3)


def assert_same(a, b, rtol=1e-12):
    for key in ("values", "variances", "jacobian", "variances_jacobian"):
        x, y = getattr(a, key), getattr(b, key)
        np.testing.assert_allclose(
            y, x, rtol=rtol, atol=rtol * np.abs(x).max(), err_msg=key
        )


def test_column_variation_equals_separate_frames(ROOT):
    ddf = base(ROOT)
    varied = ddf.vary("x", {"up": "x * 1.03", "down": "x * 0.97"}, name="xscale")
    hard, soft = downstream(varied)
    got_hard, got_soft = hard.variations(), soft.variations()
    assert ddf.n_loops == 1  # every variation of both histograms: one loop
    assert set(got_hard) == {"nominal", "xscale:up", "xscale:down"}
    assert hard.result() is got_hard["nominal"]
    for key, factor in (("nominal", 1.0), ("xscale:up", 1.03), ("xscale:down", 0.97)):
        ref_hard, ref_soft = downstream(
            base(ROOT).define("x_v", f"x * {factor}"), x="x_v"
        )
        assert_same(ref_hard.result(), got_hard[key])
        assert_same(ref_soft.result(), got_soft[key])
    # The variations differ from the nominal, in values and in Jacobians.
    assert not np.allclose(got_soft["xscale:up"].jacobian, got_soft["nominal"].jacobian)


def test_weight_variation_and_parameters_in_variations(ROOT):
    d = base(ROOT).define("w", "v * diffana::soft_cut(x, cut, 2.0)")
    d = d.vary("w", {"up": "w * 1.1", "down": "w * (0.9 + 0.01 * scale)"}, name="wsys")
    got = d.histo("x", EDGES, weight="w", bandwidth=0.3).variations()
    nom, up, down = got["nominal"], got["wsys:up"], got["wsys:down"]
    np.testing.assert_allclose(up.values, 1.1 * nom.values, rtol=1e-12)
    np.testing.assert_allclose(up.jacobian, 1.1 * nom.jacobian, rtol=1e-12)
    # down = nominal * (0.9 + 0.01 scale): d/dscale gains 0.01 * nominal.
    f = 0.9 + 0.01 * PARAMS["scale"]
    np.testing.assert_allclose(down.values, f * nom.values, rtol=1e-12)
    expect = f * nom.jacobian
    expect[:, 0] += 0.01 * nom.values
    np.testing.assert_allclose(down.jacobian, expect, rtol=1e-11, atol=1e-9)


def test_variations_follow_set_params_and_threads(ROOT):
    def fill():
        d = base(ROOT).vary("x", {"up": "x + 0.1", "down": "x - 0.1"}, name="sh")
        hard, soft = downstream(d)
        first = soft.variations()
        d.set_params(cut=1.7)
        return d, first, hard.variations(), soft.variations()

    d1, first, hard1, soft1 = fill()
    assert d1.n_loops == 2
    assert not np.allclose(first["sh:up"].values, soft1["sh:up"].values)
    ROOT.EnableImplicitMT(2)
    try:
        d2, _, hard2, soft2 = fill()
        assert d2.node.GetNSlots() == 2
    finally:
        ROOT.DisableImplicitMT()
    for single, multi in ((hard1, hard2), (soft1, soft2)):
        for key in single:
            assert_same(single[key], multi[key])


def test_vary_errors_leave_frame_usable(ROOT):
    from diffana.rdf import CompileError

    d = base(ROOT)
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        d.vary("nope", {"up": "x"})
    with pytest.raises(ValueError, match="non-empty mapping"):
        d.vary("x", {})
    with pytest.raises(ValueError, match="tag 'a:b'"):
        d.vary("x", {"a:b": "x"})
    with pytest.raises(ValueError, match="not a C\\+\\+ identifier"):
        d.vary("x", {"up": "x"}, name="bad name")
    with pytest.raises(CompileError, match="does not compile"):
        d.vary("x", {"up": "x * undefined_thing"})
    hard, _ = downstream(d)
    assert hard.variations().keys() == {"nominal"}
    assert hard.result().values.sum() > 0


# ---- 2D histograms ---------------------------------------------------------------


def test_histo2d_matches_histogram2d_and_finite_differences(ROOT):
    xedges, yedges = [0.0, 1.0, 2.0, 3.0, 4.5], [0.0, 1.5, 3.0, 4.0]

    def fill(params):
        d = base(ROOT, params).define("w", "v * diffana::soft_cut(x, cut, 2.0)")
        hard = d.histo2d("x", "u", xedges, yedges, weight="w")
        soft = d.histo2d("x", "u", xedges, yedges, weight="w", bandwidth=(0.3, None))
        both = d.histo2d("u", "x", yedges, xedges, bandwidth=0.4)
        return hard.result(), soft.result(), both.result()

    hard, soft, both = fill(PARAMS)
    assert hard.values.shape == (4, 3)
    assert soft.jacobian.shape == (4, 3, 3)
    assert soft.param_names == tuple(PARAMS)
    df = ROOT.RDataFrame(N_EVENTS).Define(
        "u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 4.0"
    )
    u = np.asarray(df.AsNumpy(["u"])["u"])
    v = 1.0 + np.sin(np.arange(u.size, dtype=float))
    x = PARAMS["scale"] * u + PARAMS["shift"]
    w = v * diffana.soft_cut(x, PARAMS["cut"], 2.0).value
    ref = diffana.histogram2d(x, u, xedges, yedges, weights=w)
    np.testing.assert_allclose(hard.values, ref.values, rtol=1e-10)
    np.testing.assert_allclose(hard.variances, ref.variances, rtol=1e-10)
    # Soft binning along x (and both axes): Jacobians against central differences.
    for i, name in enumerate(PARAMS):
        step = 1e-5
        up = fill({**PARAMS, name: PARAMS[name] + step})
        dn = fill({**PARAMS, name: PARAMS[name] - step})
        for k, got in ((1, soft), (2, both)):
            fd = (up[k].values - dn[k].values) / (2 * step)
            np.testing.assert_allclose(
                got.jacobian[..., i], fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max()
            )


def test_histo2d_bad_input(ROOT):
    d = base(ROOT)
    with pytest.raises(ValueError, match="yedges must be strictly increasing"):
        d.histo2d("x", "u", [0, 1], [1, 0])
    with pytest.raises(ValueError, match="pair"):
        d.histo2d("x", "u", [0, 1], [0, 1], bandwidth=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="unknown column 'y'"):
        d.histo2d("x", "y", [0, 1], [0, 1])
