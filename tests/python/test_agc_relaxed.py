# SPDX-License-Identifier: BSD-3-Clause
"""The relaxed AGC step's CPU twin (src/cuda/agc_relaxed.hpp, `diffana.agc_relaxed`)
against the CPU path: the AGC configuration's expressions (examples/agc/agc.yaml's
``defines``) written with diffana::agc's functions of include/diffana/physics/agc.hpp
on Dual<double, 3> in cling, event by event, and the numpy fill kernel on what they
give. Values and Jacobians agree to 1e-12 (relative to each array's largest
magnitude), relaxed (with and without trijet pruning) and in the hard limit.
Plus the twin's argument checks. The CUDA kernel against this twin:
tests/python/gpu/test_cuda_agc.py and tests/cuda/test_cuda_agc.cu."""

from __future__ import annotations

import ctypes
import types

import numpy as np
import pytest

from diffana import _core
from diffana import agc_relaxed as ar
from diffana.generators.agc import make_chunk

pytestmark = pytest.mark.root

REFERENCE = r"""
#include "diffana/physics/agc.hpp"
#include <ROOT/RVec.hxx>
namespace agc_twin_reference {
using D = diffana::Dual<double, 3>;
// Per event, out[16 i ..]: H_T, m_bjj, w_4j1b, w_4j2b, then the three tangents of
// each, written as the configuration's defines (jet_pt, jet_sel, jet_tag, regions,
// ht, trijet).
void events(int n, const double* off, const double* pt, const double* eta,
            const double* phi, const double* m, const double* btag, const double* ok,
            const double* weight, const double* par, double* out) {
  const D pt_cut = D::variable(par[0], 0);
  const D btag_cut = D::variable(par[1], 1);
  const D jes = D::variable(par[2], 2);
  const D pt_width(par[3]);
  const D btag_width(par[4]);
  for (int i = 0; i < n; ++i) {
    const auto a = static_cast<std::size_t>(off[i]);
    const auto b = static_cast<std::size_t>(off[i + 1]);
    const ROOT::RVecD Jet_pt(pt + a, pt + b), Jet_eta(eta + a, eta + b),
        Jet_phi(phi + a, phi + b), Jet_mass(m + a, m + b), jet_btag(btag + a, btag + b);
    ROOT::RVec<int> jet_ok(b - a);
    for (std::size_t j = 0; j < b - a; ++j) jet_ok[j] = ok[a + j] != 0.0;
    const ROOT::RVec<D> jet_pt = Jet_pt * (1.0 + par[7] * jes);
    ROOT::RVec<D> jet_sel(b - a), jet_tag(b - a);
    for (std::size_t j = 0; j < b - a; ++j) {
      jet_sel[j] = diffana::agc::soft_step(jet_pt[j], pt_cut, pt_width) * jet_ok[j];
      jet_tag[j] = diffana::agc::soft_step(jet_btag[j], btag_cut, btag_width);
    }
    const auto regions = diffana::agc::region_probabilities(jet_sel, jet_tag);
    const D ht = ROOT::VecOps::Sum(jet_sel * jet_pt);
    const auto trijet = diffana::agc::soft_trijet_mass(
        jet_pt, Jet_eta, Jet_phi, Jet_mass, jet_sel, jet_tag,
        diffana::agc::TrijetOptions{par[5], par[6]});
    const D w1 = regions.p_4j1b * weight[i];
    const D w2 = regions.p_4j2b * weight[i];
    const D* all[4] = {&ht, &trijet.mass, &w1, &w2};
    for (int k = 0; k < 4; ++k) {
      out[16 * i + k] = all[k]->value();
      for (int d = 0; d < 3; ++d) out[16 * i + 4 + 3 * k + d] = all[k]->tangent(d);
    }
  }
}
}
"""

RELAXED = {"pt_cut": 32.0, "btag_cut": 0.45, "jes": 0.4}
CASES = {
    "relaxed": RELAXED,
    "unpruned": {**RELAXED, "epsilon": 0.0, "temperature": 5.0, "pt_width": 4.0},
    "hard": {**RELAXED, "pt_width": 0.0, "btag_width": 0.0, "temperature": 0.0},
}


@pytest.fixture(scope="module")
def twin():
    if not hasattr(_core, "agc_relaxed"):
        pytest.skip(
            "diffana._core predates the relaxed AGC step: rebuild the extension "
            "(make install)"
        )
    return _core.agc_relaxed


@pytest.fixture(scope="module")
def reference():
    ROOT = pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    from diffana import rdf

    rdf._import_root()
    assert ROOT.gInterpreter.Declare(REFERENCE)
    return ROOT.agc_twin_reference.events


@pytest.fixture(scope="module")
def columns(twin):
    """ttbar and W+jets events after the hard selection, plus the unselected ttbar
    events (fewer than four jets, no lepton: every region probability 0)."""
    rng = np.random.default_rng(17)
    tt = make_chunk("ttbar", 1500, rng)
    wj = make_chunk("wjets", 1500, rng)
    parts = [
        ar.columns_from_branches(tt),
        ar.columns_from_branches(wj),
        ar.columns_from_branches(make_chunk("ttbar", 300, rng), select=False),
    ]
    fields = {}
    for f in ("pt", "eta", "phi", "mass", "btag", "ok", "weight"):
        fields[f] = np.concatenate([getattr(c, f) for c in parts])
    counts = np.concatenate([np.diff(c.offsets) for c in parts])
    return ar.JetColumns(np.concatenate([[0], np.cumsum(counts)]), **fields)


def _close(got, want, what):
    scale = np.max(np.abs(want)) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale, err_msg=what)


def _reference_events(reference, cols, params):
    out = np.zeros((cols.n_events, 16))
    reference(
        cols.n_events,
        cols.offsets.astype(np.float64),
        *(np.ascontiguousarray(a) for a in cols.arrays()[1:]),
        np.array(ar._param_vector(params)),
        out,
    )
    x = out[:, 0:2]
    w = out[:, 2:4]
    x_tan = out[:, 4:10].reshape(-1, 2, 3)
    w_tan = out[:, 10:16].reshape(-1, 2, 3)
    return x, x_tan, w, w_tan


@pytest.mark.parametrize("case", list(CASES))
def test_events_equal_agc_hpp(twin, reference, columns, case):
    params = CASES[case]
    x, x_tan, w, w_tan, valid = twin.events(*columns.arrays(), ar._param_vector(params))
    assert valid.all()
    ref = _reference_events(reference, columns, params)
    for got, want, what in zip(
        (x, x_tan, w, w_tan), ref, ("x", "x_tan", "w", "w_tan"), strict=True
    ):
        _close(got, want, f"{case}: {what}")
    # The case is not vacuous: both regions populated, tangents of every parameter.
    assert (w[:, 0] > 1e-3).sum() > 50
    assert (w[:, 1] > 1e-3).sum() > 50
    if case != "hard":
        assert np.all(np.abs(w_tan).sum(axis=(0, 1)) > 0)


@pytest.mark.parametrize("case", list(CASES))
def test_step_equals_the_cpu_fill(twin, reference, columns, case):
    params = CASES[case]
    x, x_tan, w, w_tan = _reference_events(reference, columns, params)
    bandwidth = 0.0 if case == "hard" else 10.0
    got = ar.step(columns, params, bandwidth=(bandwidth, bandwidth))
    for c, name in enumerate(ar.CHANNELS):
        values, sumw2, jac, sumw2_jac, n_skipped, _, _ = _core.hist.fill_1d(
            x[:, c], ar._EDGES, w[:, c], bandwidth, x_tan[:, c], w_tan[:, c], 0, False
        )
        h = got[name]
        _close(h.values, values, f"{case} {name}: values")
        _close(h.variances, sumw2, f"{case} {name}: sumw2")
        _close(h.jacobian, jac, f"{case} {name}: jacobian")
        _close(h.variances_jacobian, sumw2_jac, f"{case} {name}: sumw2 jacobian")
        assert h.n_skipped == n_skipped == 0


def test_jacobian_matches_finite_differences(twin, columns):
    base = ar.step(columns, RELAXED)
    for k, name in enumerate(ar.PARAMS):
        h = {"pt_cut": 1e-3, "btag_cut": 1e-5, "jes": 1e-4}[name]
        up = ar.step(columns, {**RELAXED, name: RELAXED[name] + h})
        down = ar.step(columns, {**RELAXED, name: RELAXED[name] - h})
        for ch in ar.CHANNELS:
            fd = (up[ch].values - down[ch].values) / (2 * h)
            scale = np.max(np.abs(base[ch].jacobian[:, k]))
            np.testing.assert_allclose(
                base[ch].jacobian[:, k], fd, rtol=1e-4, atol=1e-4 * scale
            )


def test_too_many_jets_are_skipped_and_refused(twin):
    n = int(twin.max_jets) + 1
    one = np.ones(n)
    args = (np.array([0, n]), 40.0 * one, 0 * one, 0 * one, 5 * one, one, one, [1.0])
    *_, valid = twin.events(*args, ar._param_vector(None))
    assert not valid[0]
    *_, n_skipped = twin.step(*args, ar._param_vector(None), ar._EDGES, 10.0,
                              ar._EDGES, 10.0)  # fmt: skip
    assert n_skipped == 1
    branches = {"nJet": [n], "Jet_pt": 40 * one, "Jet_eta": 0 * one,
                "Jet_phi": 0 * one, "Jet_mass": 5 * one, "Jet_btagCSVV2": one,
                "Jet_jetId": np.full(n, 6), "genWeight": [1.0]}  # fmt: skip
    with pytest.raises(ValueError, match=f"an event has {n} jets"):
        ar.columns_from_branches(branches, select=False)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"pt_width": -1.0}, "params must be finite, with pt_width"),
        ({"epsilon": 1.0}, "epsilon in"),
        ({"temperature": float("nan")}, "params must be finite"),
        ({"bogus": 1.0}, "unknown parameter 'bogus'"),
    ],
)
def test_bad_parameters(twin, columns, change, match):
    with pytest.raises(ValueError, match=match):
        ar.step(columns, change)


def test_bad_columns(twin, columns):
    cols = columns.arrays()
    with pytest.raises(ValueError, match="offsets must start with 0"):
        twin.events(cols[0] + 1, *cols[1:], ar._param_vector(None))
    with pytest.raises(ValueError, match="pt must have"):
        twin.events(cols[0], cols[1][:-1], *cols[2:], ar._param_vector(None))
    with pytest.raises(ValueError, match="weight must have"):
        twin.events(*cols[:-1], cols[-1][:-1], ar._param_vector(None))
    with pytest.raises(ValueError, match="edges"):
        ar.step(columns, edges=([0.0, 1.0, 1.0], ar._EDGES))


def test_device_columns_without_a_gpu_fail_clearly(twin, columns):
    cuda = getattr(_core, "cuda", None)
    if cuda is not None and cuda.device_count()[0] > 0:
        pytest.skip("a CUDA device is present (tests/python/gpu covers it)")
    from diffana._device import DeviceError

    with pytest.raises(DeviceError, match="to_device asks for the GPU, but"):
        ar.to_device(columns)


class _HostAsDevice(np.ndarray):
    """A numpy array posing as a CuPy one (device pointer = host pointer)."""

    __cuda_array_interface__ = property(
        lambda self: {"shape": self.shape, "typestr": self.dtype.str,
                      "data": (self.ctypes.data, False), "version": 3}
    )  # fmt: skip
    data = property(lambda self: types.SimpleNamespace(ptr=self.ctypes.data))

    def get(self):
        return np.array(self)


def test_device_step_plumbing(twin, columns, monkeypatch):
    """`step` on device columns passes the kernel what it needs, in the order of
    diffana_cuda_agc_relaxed_step_f64 (a stand-in kernel runs the twin on them)."""

    def read(ptr, n, ctype=ctypes.c_double):
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctype)), (n,))

    def kernel(cols, n, params, e0, nb0, bw0, e1, nb1, bw1, overflow, outs, mode, s):
        assert mode == 1
        assert s == 0
        offsets = read(cols[0], n + 1, ctypes.c_int64)
        m = int(offsets[-1])
        jets = [read(c, m) for c in cols[1:7]]
        r = twin.step(offsets, *jets, read(cols[7], n), params, read(e0, nb0 + 1),
                      bw0, read(e1, nb1 + 1), bw1, overflow)  # fmt: skip
        nb = nb0 + nb1
        for ptr, got, size in zip(outs, r, (nb, nb, 3 * nb, 3 * nb), strict=False):
            read(ptr, size)[...] += got.ravel()
        read(outs[4], 1, ctypes.c_int64)[0] += r[4]
        return 0

    class Cp:
        int64 = np.int64
        cuda = types.SimpleNamespace(
            get_current_stream=lambda: types.SimpleNamespace(ptr=0)
        )

        @staticmethod
        def asarray(a):
            return np.ascontiguousarray(a).view(_HostAsDevice)

        @staticmethod
        def zeros(shape, dtype=np.float64):
            return np.zeros(shape, dtype).view(_HostAsDevice)

    cuda = types.SimpleNamespace(
        built=True, device_count=lambda: (1, ""), agc_relaxed_step=kernel
    )
    monkeypatch.setattr(_core, "cuda", cuda, raising=False)
    from diffana import _device

    monkeypatch.setattr(_device, "_cupy", lambda what: Cp)
    device = ar.to_device(columns)
    assert device.on_device
    want = ar.step(columns, RELAXED, overflow="fold")
    got = ar.step(device, RELAXED, overflow="fold", mode="deterministic")
    for ch in ar.CHANNELS:
        for key in ("values", "variances", "jacobian", "variances_jacobian"):
            np.testing.assert_array_equal(getattr(got[ch], key), getattr(want[ch], key))
    with pytest.raises(ValueError, match="mode must be one of"):
        ar.step(device, mode="fast")
