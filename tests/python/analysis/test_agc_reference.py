# SPDX-License-Identifier: BSD-3-Clause
"""benchmarks/agc_reference.py, the independent references of the AGC analysis: the
JER factors (statistics, and equal to C++ ``diffana::agc::jer_factors``), the relaxed
JAX pipeline at vanishing relaxation scales against the hard numpy selection on the
real files, and the JAX Jacobian against central finite differences."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.data]

# One padded size and one batch shape per file: each new shape costs an XLA
# compilation of several seconds.
PAD = (16,)
TINY = {"w_pt": 1e-6, "w_b": 1e-6, "temperature": 1e-6}


@pytest.fixture(scope="module")
def ref(agc_reference: Any) -> Any:
    return agc_reference


def _file(data_dir: pathlib.Path, name: str) -> pathlib.Path:
    path = data_dir / name
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def v12(ref: Any, data_dir: pathlib.Path) -> Any:
    """coffea_nano_tt_v12.root (Run 3: b tag Jet_btagDeepFlavB), 200 events."""
    return ref.read_events(
        str(_file(data_dir, "coffea_nano_tt_v12.root")), "Jet_btagDeepFlavB"
    )


@pytest.fixture(scope="module")
def open2015(ref: Any, data_dir: pathlib.Path) -> Any:
    """nanoAOD_2015_CMS_Open_Data_ttbar.root (Jet_btagCSVV2), 200 events."""
    return ref.read_events(
        str(_file(data_dir, "nanoAOD_2015_CMS_Open_Data_ttbar.root")), "Jet_btagCSVV2"
    )


# ---- JER ----------------------------------------------------------------------------


def test_jer_factors_statistics(ref: Any) -> None:
    n = 200_000
    event = np.arange(n // 4, dtype=np.uint64)
    counts = np.full(n // 4, 4)
    r = ref.jer_factors(event, counts)
    assert r.shape == (n,)
    assert abs(r.mean() - 1.0) < 4 * 0.05 / np.sqrt(n)
    assert abs(r.std() - 0.05) < 0.05 * 0.01
    # Reproducible per (event, jet): a jet's factor does not depend on the others.
    one = ref.jer_factors(event[7], 4)
    np.testing.assert_array_equal(one, r[28:32])
    assert not np.array_equal(ref.jer_factors(event[7], 4, seed=1), one)
    # sigma scales z: r - 1 is proportional to sigma.
    np.testing.assert_allclose(
        ref.jer_factors(event, counts, sigma=0.1) - 1, 2 * (r - 1), atol=1e-15
    )


def test_jer_factors_match_cpp(ref: Any, ROOT: Any) -> None:
    ok = ROOT.gInterpreter.Declare('#include "diffana/rdf/vecops.hpp"')
    if not ok or not hasattr(ROOT.diffana.agc, "jer_factors"):
        pytest.skip(
            "diffana::agc::jer_factors is not declared (not in the installed diffana "
            "headers yet)"
        )
    rng = np.random.default_rng(5)
    events = [0, 1, 2, 2**63 + 12345, 2**64 - 1, *rng.integers(0, 2**62, 20).tolist()]
    for seed in (0, 7):
        for e in events:
            n = 6
            cpp = np.asarray(ROOT.diffana.agc.jer_factors(e, n, 0.05, seed))
            py = ref.jer_factors(np.uint64(e), n, 0.05, seed)
            np.testing.assert_array_equal(cpp, py)


# ---- hard selection vs relaxed JAX at vanishing scales ---------------------------------


def _ties(ev: dict[str, Any], pt_cut: float, btag_cut: float) -> np.ndarray:
    """Events with a jet at the pT cut or a b-tag score at the b-tag cut (within
    the tiny widths' transition): there the width -> 0 limit is 1/2, not the hard
    decision (NanoAOD's few-bit floats do hit 30.0 GeV)."""
    import awkward as ak

    near_pt = abs(ak.values_astype(ev["Jet_pt"], np.float64) - pt_cut) < 1e-3
    near_b = abs(ak.values_astype(ev["Jet_btag"], np.float64) - btag_cut) < 1e-4
    return np.asarray(ak.any(near_pt | near_b, axis=1))


@pytest.mark.parametrize("which", ["v12", "open2015"])
@pytest.mark.parametrize("lepton", [True, False])
def test_relaxed_jax_hard_limit(
    ref: Any, x64: None, request: pytest.FixtureRequest, which: str, lepton: bool
) -> None:
    ev = request.getfixturevalue(which)
    # The 2015 file has few jets (3 events with 4 jets at 30 GeV): also test looser
    # cuts there, where the regions are populated.
    cuts = [(30.0, 0.5), (15.0, 0.2)] if which == "open2015" else [(30.0, 0.5)]
    prepared = ref.prepare_relaxed(ev, require_lepton=lepton, pad_sizes=PAD)
    for pt_cut, btag_cut in cuts:
        hard = ref.hard_agc(ev, pt_cut, btag_cut, require_lepton=lepton)
        soft = ref.relaxed_event_quantities(prepared, (pt_cut, btag_cut, 0.0), **TINY)
        ok = ~_ties(ev, pt_cut, btag_cut)
        assert ok.sum() >= len(ok) - 3
        np.testing.assert_allclose(soft["p_4j1b"][ok], hard["4j1b"][ok], atol=1e-12)
        np.testing.assert_allclose(soft["p_4j2b"][ok], hard["4j2b"][ok], atol=1e-12)
        r1, r2 = hard["4j1b"] & ok, hard["4j2b"] & ok
        np.testing.assert_allclose(soft["ht"][r1], hard["ht"][r1], rtol=1e-12)
        np.testing.assert_allclose(soft["mbjj"][r2], hard["mbjj"][r2], rtol=1e-10)
        if which == "v12" and lepton:
            assert r1.sum() >= 5
            assert r2.sum() >= 20
        if which == "open2015" and pt_cut == 15.0 and not lepton:
            assert r1.sum() >= 5
            assert r2.sum() >= 10
        # Events outside the hard regions were dropped or have p = 0.
        assert not np.any(hard["4j1b"] & ~soft["kept"])


def test_hard_histograms(ref: Any, v12: dict[str, Any]) -> None:
    sel = ref.hard_agc(v12)
    h = ref.hard_histograms(sel)
    for region, obs in (("4j1b", "ht"), ("4j2b", "mbjj")):
        values, sumw2 = h[region]
        assert values.shape == sumw2.shape == (25,)
        x = sel[obs][sel[region]]
        inside = (x >= 50) & (x <= 550)
        w = sel["weight"][sel[region]][inside]
        np.testing.assert_allclose(values.sum(), w.sum(), rtol=1e-12)
        np.testing.assert_allclose(sumw2.sum(), (w * w).sum(), rtol=1e-12)


# ---- Jacobian -----------------------------------------------------------------------


def test_relaxed_jax_jacobian_matches_finite_differences(
    ref: Any, x64: None, v12: dict[str, Any]
) -> None:
    prepared = ref.prepare_relaxed(v12, pad_sizes=PAD)
    theta = np.array(ref.THETA0)
    got = ref.relaxed_jax(prepared, theta, mode="jacfwd")
    steps = (1e-3, 1e-5, 1e-4)  # GeV, score, JES units
    for k, h in enumerate(steps):
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        hu = ref.relaxed_jax(prepared, up, mode="value")
        hd = ref.relaxed_jax(prepared, down, mode="value")
        for region in ("4j1b", "4j2b"):
            fd = (hu[region] - hd[region]) / (2 * h)
            jac = got["jacobian"][region][:, k]
            scale = np.max(np.abs(jac))
            assert scale > 0
            np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-6 * scale)
    # Reverse mode and the scalar pullback agree with forward mode.
    rev = ref.relaxed_jax(prepared, theta, mode="jacrev")
    for region in ("4j1b", "4j2b"):
        np.testing.assert_allclose(
            rev["jacobian"][region], got["jacobian"][region], rtol=1e-10, atol=1e-9
        )
        np.testing.assert_allclose(rev[region], got[region], rtol=1e-12)
