# SPDX-License-Identifier: BSD-3-Clause
"""Independent references for the AGC ttbar analysis, without diffana: test oracles.

Three implementations of the analysis of examples/agc/agc.yaml (the Analysis Grand
Challenge's ttbar selection), written from its specification alone (nothing here
imports diffana), for the tests that check diffana against them and for the
benchmark (benchmarks/bench_agc.py):

- `jer_factors`: the per-jet JER smearing factors (splitmix64 counter hash in numpy
  uint64, wrapping modulo 2^64, then Box-Muller), vectorised over events;
- `hard_agc` / `hard_histograms`: the hard AGC selection (jets, leptons, 4j1b / 4j2b,
  HT, m_bjj) in plain numpy on flat jet arrays (awkward only to read and flatten);
  the trijet is found per jet multiplicity with static combination indices;
- `relaxed_jax`: the relaxed pipeline (soft jet selection and b tagging, exact joint
  Poisson-binomial region probabilities, soft HT, softmax trijet mass over *all*
  triplets, Gaussian-kernel soft histograms) in jit-compiled float64 jax.numpy, with
  the Jacobian of both histograms w.r.t. (pt_cut, btag_cut, jes).

`relaxed_jax` works on padded jets: `prepare_relaxed` keeps the events that pass the
hard lepton selection and have at least 4 jets passing the hard |eta| / jet-ID cuts
(every other event has p_4j1b = p_4j2b = 0 exactly, so it adds nothing to either
histogram or Jacobian), drops the jets failing those hard cuts (their soft weight is
exactly 0: they add nothing to any count, sum or triplet), and groups the events by
jet multiplicity into a few padded sizes (`PAD_SIZES`). Each group is processed in
fixed-size batches (static shapes, memory bounded by ``batch_triplets`` triplets per
batch; one compilation per shape); padded jets carry a validity mask.

Importable by path (``importlib`` / ``sys.path``): no package install needed.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EDGES = np.linspace(50.0, 550.0, 26)  # 25 bins of 20 GeV
PARAM_NAMES = ("pt_cut", "btag_cut", "jes")
THETA0 = (30.0, 0.5, 0.0)
#: Relaxation scales of the spec: pt width (GeV), b-tag width, softmax temperature
#: (GeV), histogram bandwidth (GeV).
WIDTHS = {"w_pt": 2.0, "w_b": 0.05, "temperature": 10.0, "bandwidth": 10.0}
#: Padded jet multiplicities of the JAX groups (events with n jets go to the
#: smallest size >= n; larger multiplicities get their own size).
PAD_SIZES = (4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20)
JES_SCALE = 0.03

BRANCHES = {
    "event": "event",
    "genWeight": "genWeight",
    "Jet_pt": "Jet_pt",
    "Jet_eta": "Jet_eta",
    "Jet_phi": "Jet_phi",
    "Jet_mass": "Jet_mass",
    "Jet_jetId": "Jet_jetId",
    "Electron_pt": "Electron_pt",
    "Electron_eta": "Electron_eta",
    "Electron_cutBased": "Electron_cutBased",
    "Electron_sip3d": "Electron_sip3d",
    "Muon_pt": "Muon_pt",
    "Muon_eta": "Muon_eta",
    "Muon_tightId": "Muon_tightId",
    "Muon_sip3d": "Muon_sip3d",
    "Muon_pfRelIso04_all": "Muon_pfRelIso04_all",
}


# ---- reading ----------------------------------------------------------------------


def read_events(
    path: str,
    btag_branch: str = "Jet_btagCSVV2",
    stop: int | None = None,
    start: int | None = None,
    tree: str = "Events",
) -> dict[str, Any]:
    """The branches the AGC selection needs, as awkward arrays (uproot), entries
    [start, stop). The b-tag branch is returned as ``Jet_btag``."""
    import uproot

    names = dict(BRANCHES, Jet_btag=btag_branch)
    with uproot.open(path) as f:
        arrays = f[tree].arrays(
            sorted(set(names.values())),
            entry_start=start,
            entry_stop=stop,
            library="ak",
        )
        return {k: arrays[v] for k, v in names.items()}


@dataclass
class _Flat:
    """Events as flat numpy arrays: per-event counts and the concatenated jets."""

    n_events: int
    counts: np.ndarray  # jets per event
    offsets: np.ndarray  # n_events + 1
    event_of_jet: np.ndarray
    jets: dict[str, np.ndarray]  # pt, eta, phi, mass, btag (float64), jet_id (int64)
    event: np.ndarray  # uint64
    weight: np.ndarray  # float64
    lepton: np.ndarray  # bool: exactly one tight lepton


def _np(a: Any, dtype: Any = np.float64) -> np.ndarray:
    import awkward as ak

    return np.asarray(ak.to_numpy(ak.flatten(a, axis=None)), dtype=dtype)


def lepton_mask(events: Mapping[str, Any]) -> np.ndarray:
    """Exactly one tight electron or muon (AGC v2 lepton cuts, in double)."""
    import awkward as ak

    def f64(name: str) -> Any:
        return ak.values_astype(events[name], np.float64)

    ele = (
        (f64("Electron_pt") > 30.0)
        & (abs(f64("Electron_eta")) < 2.1)
        & (events["Electron_cutBased"] == 4)
        & (f64("Electron_sip3d") < 4.0)
    )
    mu = (
        (f64("Muon_pt") > 30.0)
        & (abs(f64("Muon_eta")) < 2.1)
        & (events["Muon_tightId"] != 0)
        & (f64("Muon_sip3d") < 4.0)
        & (f64("Muon_pfRelIso04_all") < 0.15)
    )
    n = np.asarray(ak.sum(ele, axis=1)) + np.asarray(ak.sum(mu, axis=1))
    return np.asarray(n == 1)


def _flatten(events: Mapping[str, Any]) -> _Flat:
    import awkward as ak

    counts = np.asarray(ak.num(events["Jet_pt"], axis=1), dtype=np.int64)
    n = len(counts)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    jets = {
        "pt": _np(events["Jet_pt"]),
        "eta": _np(events["Jet_eta"]),
        "phi": _np(events["Jet_phi"]),
        "mass": _np(events["Jet_mass"]),
        "btag": _np(events["Jet_btag"]),
        "jet_id": _np(events["Jet_jetId"], np.int64),
    }
    return _Flat(
        n_events=n,
        counts=counts,
        offsets=offsets,
        event_of_jet=np.repeat(np.arange(n), counts),
        jets=jets,
        event=np.asarray(ak.to_numpy(events["event"]), dtype=np.uint64),
        weight=np.asarray(ak.to_numpy(events["genWeight"]), dtype=np.float64),
        lepton=lepton_mask(events),
    )


# ---- JER ----------------------------------------------------------------------------

_M64 = np.uint64


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 on a uint64 array (numpy arrays wrap modulo 2^64 silently)."""
    x = x + _M64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _M64(30))) * _M64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _M64(27))) * _M64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> _M64(31))
    return out


def jer_factors(
    event: Any, counts: Any, sigma: float = 0.05, seed: int = 0
) -> np.ndarray:
    """The JER smearing factors r_j of every jet, flat (event order, then jet index):
    ``event`` (uint64 event numbers) and ``counts`` (jets per event) are scalars or
    arrays of equal length; the result has sum(counts) entries. Exactly the spec's
    hash: key = splitmix64(event ^ splitmix64(seed)), h1/h2 = splitmix64(key + 2j
    [+ 1]), u1 = ((h1 >> 11) + 0.5) 2^-53, u2 = (h2 >> 11) 2^-53,
    r = 1 + sigma sqrt(-2 log u1) cos(2 pi u2)."""
    ev = np.atleast_1d(np.asarray(event, dtype=np.uint64))
    cnt = np.atleast_1d(np.asarray(counts, dtype=np.int64))
    if ev.shape != cnt.shape:
        msg = f"event and counts differ in shape: {ev.shape} vs {cnt.shape}"
        raise ValueError(msg)
    seed_h = _splitmix64(np.array([seed], dtype=np.uint64))
    key = _splitmix64(ev ^ seed_h)
    starts = np.repeat(np.cumsum(cnt) - cnt, cnt)
    j = (np.arange(int(cnt.sum()), dtype=np.int64) - starts).astype(np.uint64)
    k = np.repeat(key, cnt)
    h1 = _splitmix64(k + _M64(2) * j)
    h2 = _splitmix64(k + _M64(2) * j + _M64(1))
    u1 = ((h1 >> _M64(11)).astype(np.float64) + 0.5) * 2.0**-53
    u2 = (h2 >> _M64(11)).astype(np.float64) * 2.0**-53
    r: np.ndarray = 1.0 + sigma * np.sqrt(-2.0 * np.log(u1)) * np.cos(
        2.0 * math.pi * u2
    )
    return r


def _jet_pt(
    flat: _Flat, jes: float, jer: bool, sigma: float = 0.05, seed: int = 0
) -> np.ndarray:
    """pt_j = Jet_pt (1 + 0.03 a) r_j in double."""
    pt = flat.jets["pt"] * (1.0 + JES_SCALE * jes)
    if jer:
        pt = pt * jer_factors(flat.event, flat.counts, sigma, seed)
    return pt


def _hard_jet_mask(flat: _Flat) -> np.ndarray:
    """|eta| < 2.4 and tight-lepton-veto jet ID (bit 4)."""
    ok: np.ndarray = (np.abs(flat.jets["eta"]) < 2.4) & ((flat.jets["jet_id"] & 4) != 0)
    return ok


# ---- hard selection -----------------------------------------------------------------


def _cartesian(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        pt * np.cos(phi),
        pt * np.sin(phi),
        pt * np.sinh(eta),
        np.hypot(pt * np.cosh(eta), m),
    )


def _mass(px: Any, py: Any, pz: Any, e: Any) -> Any:
    """sqrt(max(E^2 - p^2, 0)) as (E - p)(E + p); below 16 eps E^2 it is 0."""
    p = np.hypot(np.hypot(px, py), pz)
    m2 = (e - p) * (e + p)
    ok = m2 > 16.0 * np.finfo(np.float64).eps * e * e
    return np.where(ok, np.sqrt(np.where(ok, m2, 0.0)), 0.0)


@functools.lru_cache(maxsize=64)
def _combinations(k: int) -> np.ndarray:
    """All (i < j < k) index triplets of k objects in lexicographic order, [T, 3]."""
    return np.array(list(itertools.combinations(range(k), 3)), dtype=np.int64).reshape(
        -1, 3
    )


def _hard_trijet(
    counts: np.ndarray,
    p4: tuple[np.ndarray, ...],
    tag: np.ndarray,
    candidates: np.ndarray,
    chunk_triplets: int = 1 << 22,
) -> np.ndarray:
    """m_bjj per event: jets (selected only, flat, event order) with per-event counts;
    for events in ``candidates`` the mass of the triplet with the largest vector-sum
    pT among those with a tagged jet (np.argmax: first in (i, j, k) order on ties)."""
    n = len(counts)
    out = np.zeros(n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    px, py, pz, e = p4
    for k in np.unique(counts[candidates]):
        k = int(k)
        comb = _combinations(k)
        ev_all = np.flatnonzero(candidates & (counts == k))
        step = max(1, chunk_triplets // len(comb))
        for lo in range(0, len(ev_all), step):
            ev = ev_all[lo : lo + step]
            jets = offsets[ev][:, None] + np.arange(k)  # [m, k]
            i, j, kk = (jets[:, comb[:, c]] for c in range(3))  # [m, T] each
            sx = px[i] + px[j] + px[kk]
            sy = py[i] + py[j] + py[kk]
            ptt = np.hypot(sx, sy)
            has_tag = tag[i] | tag[j] | tag[kk]
            best = np.argmax(np.where(has_tag, ptt, -np.inf), axis=1)
            rows = np.arange(len(ev))
            bi, bj, bk = i[rows, best], j[rows, best], kk[rows, best]
            out[ev] = _mass(
                px[bi] + px[bj] + px[bk],
                py[bi] + py[bj] + py[bk],
                pz[bi] + pz[bj] + pz[bk],
                e[bi] + e[bj] + e[bk],
            )
    return out


def hard_agc(
    events: Mapping[str, Any],
    pt_cut: float = 30.0,
    btag_cut: float = 0.5,
    jes: float = 0.0,
    jer: bool = False,
    require_lepton: bool = True,
    jer_sigma: float = 0.05,
    jer_seed: int = 0,
) -> dict[str, np.ndarray]:
    """The hard AGC selection of the spec, per event.

    Returns numpy arrays over all events: ``lepton`` (exactly one tight lepton),
    ``njet`` / ``nbtag`` (selected / selected b-tagged jets), ``4j1b`` / ``4j2b``
    (region flags, including the lepton requirement unless ``require_lepton`` is
    False), ``ht`` (sum of the selected jets' pt), ``mbjj`` (the trijet mass; 0 where
    no triplet of selected jets holds a b tag), ``has_trijet``, ``weight``
    (genWeight). Cuts: jet pt_j = Jet_pt (1 + 0.03 jes) r_j > pt_cut (strict),
    |eta| < 2.4, jetId & 4; tagged: selected and btag >= btag_cut (the spec's
    ``>=``; the relaxed limit decides the tie btag == btag_cut by ``>``).
    """
    flat = _flatten(events)
    pt = _jet_pt(flat, jes, jer, jer_sigma, jer_seed)
    sel = _hard_jet_mask(flat) & (pt > pt_cut)
    tag = sel & (flat.jets["btag"] >= btag_cut)
    evj = flat.event_of_jet
    n = flat.n_events
    njet = np.bincount(evj[sel], minlength=n)
    nbtag = np.bincount(evj[tag], minlength=n)
    ht = np.bincount(evj[sel], weights=pt[sel], minlength=n)
    lep = flat.lepton if require_lepton else np.ones(n, dtype=bool)
    cand = (njet >= 3) & (nbtag >= 1)
    p4 = _cartesian(
        pt[sel], flat.jets["eta"][sel], flat.jets["phi"][sel], flat.jets["mass"][sel]
    )
    mbjj = _hard_trijet(njet, p4, tag[sel], cand)
    return {
        "lepton": flat.lepton,
        "njet": njet,
        "nbtag": nbtag,
        "4j1b": lep & (njet >= 4) & (nbtag == 1),
        "4j2b": lep & (njet >= 4) & (nbtag >= 2),
        "ht": ht,
        "mbjj": mbjj,
        "has_trijet": cand,
        "weight": flat.weight,
    }


def hard_histograms(
    selection: Mapping[str, np.ndarray], edges: np.ndarray = EDGES
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"4j1b": (values, sumw2) of HT, "4j2b": (values, sumw2) of m_bjj}: hard bins
    (numpy's convention, [lo, hi) with the last bin closed; outside dropped),
    weighted by genWeight, from a `hard_agc` result."""
    out = {}
    for region, obs in (("4j1b", "ht"), ("4j2b", "mbjj")):
        m = selection[region]
        x, w = selection[obs][m], selection["weight"][m]
        values, _ = np.histogram(x, bins=edges, weights=w)
        sumw2, _ = np.histogram(x, bins=edges, weights=w * w)
        out[region] = (values, sumw2)
    return out


# ---- relaxed pipeline in JAX ----------------------------------------------------------


@dataclass
class Group:
    """Events with at most ``size`` jets (padded to ``size``), in batches of
    ``batch`` events (the last one padded with empty, weight-0 events)."""

    size: int
    batch: int
    index: np.ndarray  # original event index of each (real) event
    arrays: dict[str, np.ndarray]  # [n_batches, batch, size] / [n_batches, batch]

    @property
    def n_events(self) -> int:
        return len(self.index)


@dataclass
class Prepared:
    """Input of `relaxed_jax`: the kept events grouped by padded jet multiplicity."""

    n_events: int  # all events read
    groups: list[Group] = field(default_factory=list)

    @property
    def n_kept(self) -> int:
        return sum(g.n_events for g in self.groups)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return sorted({(g.batch, g.size) for g in self.groups})


def _pow2_ceil(x: int) -> int:
    return 1 << max(0, (int(x) - 1).bit_length())


def prepare_relaxed(
    events: Mapping[str, Any],
    jer: bool = False,
    require_lepton: bool = True,
    pad_sizes: Sequence[int] = PAD_SIZES,
    batch_triplets: int = 1 << 13,
    max_batch: int = 1 << 14,
    jer_sigma: float = 0.05,
    jer_seed: int = 0,
) -> Prepared:
    """Keep the events that can contribute (hard lepton selection, >= 4 jets passing
    |eta| < 2.4 and jet ID), drop the jets that fail those hard cuts, and group the
    events into padded sizes with batches of about ``batch_triplets`` triplets
    (at most ``max_batch`` events; fewer, a power of 2, for small groups)."""
    flat = _flatten(events)
    hard = _hard_jet_mask(flat)
    pt_raw = flat.jets["pt"]  # r_j applied here; the JES factor inside JAX
    if jer:
        pt_raw = pt_raw * jer_factors(flat.event, flat.counts, jer_sigma, jer_seed)
    n = flat.n_events
    nkeep = np.bincount(flat.event_of_jet[hard], minlength=n)
    lep = flat.lepton if require_lepton else np.ones(n, dtype=bool)
    keep_ev = lep & (nkeep >= 4)
    jet_keep = hard & keep_ev[flat.event_of_jet]
    cols = {
        "pt": pt_raw[jet_keep],
        "eta": flat.jets["eta"][jet_keep],
        "phi": flat.jets["phi"][jet_keep],
        "mass": flat.jets["mass"][jet_keep],
        "btag": flat.jets["btag"][jet_keep],
    }
    ev_idx = np.flatnonzero(keep_ev)
    counts = nkeep[ev_idx]
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    sizes = sorted(set(pad_sizes))
    top = int(counts.max()) if len(counts) else 4
    if top > sizes[-1]:
        sizes.append(top)
    bucket = np.searchsorted(np.asarray(sizes), counts, side="left")
    # Padding jets: pt = mass = 1 (no 0/0 in derivatives of hypot), valid = 0.
    pad_value = {"pt": 1.0, "eta": 0.0, "phi": 0.0, "mass": 1.0, "btag": 0.0}
    out = Prepared(n_events=n)
    for b, size in enumerate(sizes):
        members = np.flatnonzero(bucket == b)
        if len(members) == 0:
            continue
        ntrip = math.comb(size, 3)
        per = max(1, batch_triplets // ntrip)
        full = max(64, min(max_batch, 1 << (per.bit_length() - 1)))
        batch = min(full, _pow2_ceil(len(members)))
        nb = -(-len(members) // batch)
        total = nb * batch
        cnt = np.zeros(total, dtype=np.int64)
        cnt[: len(members)] = counts[members]
        start = np.zeros(total, dtype=np.int64)
        start[: len(members)] = offsets[members]
        valid = np.arange(size)[None, :] < cnt[:, None]
        take = np.where(valid, start[:, None] + np.arange(size)[None, :], 0)
        arrays: dict[str, np.ndarray] = {}
        for name, col in cols.items():
            a = np.where(valid, col[take] if len(col) else 0.0, pad_value[name])
            arrays[name] = a.reshape(nb, batch, size)
        arrays["valid"] = valid.astype(np.float64).reshape(nb, batch, size)
        w = np.zeros(total)
        w[: len(members)] = flat.weight[ev_idx[members]]
        arrays["weight"] = w.reshape(nb, batch)
        out.groups.append(Group(size, batch, ev_idx[members], arrays))
    return out


def _jax() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
    return jax


def _event_quantities(
    theta: Any, b: Mapping[str, Any], widths: tuple[float, float, float]
) -> tuple[Any, Any, Any, Any]:
    """(p_4j1b, p_4j2b, HT, m_bjj) of a batch [B, K] of padded events (jax)."""
    jax = _jax()
    jnp = jax.numpy
    w_pt, w_b, temp = widths
    pt_cut, btag_cut, jes = theta[0], theta[1], theta[2]
    pt = b["pt"] * (1.0 + JES_SCALE * jes)
    s = jax.nn.sigmoid((pt - pt_cut) / w_pt) * b["valid"]
    tb = jax.nn.sigmoid((b["btag"] - btag_cut) / w_b)
    nbat, k = pt.shape

    # Joint (jets 0..3, >=4) x (b tags 0, 1, >=2) distribution, absorbing caps.
    zj = jnp.zeros((nbat, 1, 3), dtype=pt.dtype)
    zb = jnp.zeros((nbat, 5, 1), dtype=pt.dtype)

    def step(p: Any, sb_j: Any) -> tuple[Any, None]:
        sj = sb_j[0][:, None, None]
        sb = sj * sb_j[1][:, None, None]
        sl = sj - sb
        pj = jnp.concatenate([zj, p[:, :3], p[:, 3:4] + p[:, 4:5]], axis=1)
        pjb = jnp.concatenate([zb, pj[:, :, :1], pj[:, :, 1:2] + pj[:, :, 2:3]], axis=2)
        return p * (1.0 - sj) + pj * sl + pjb * sb, None

    p0 = jnp.zeros((nbat, 5, 3), dtype=pt.dtype).at[:, 0, 0].set(1.0)
    p, _ = jax.lax.scan(step, p0, (s.T, tb.T))
    p1, p2 = p[:, 4, 1], p[:, 4, 2]
    ht = jnp.sum(s * pt, axis=1)

    # Softmax trijet over every triplet (i < j < k) of the padded jets.
    px, py = pt * jnp.cos(b["phi"]), pt * jnp.sin(b["phi"])
    pz = pt * jnp.sinh(b["eta"])
    e = jnp.hypot(pt * jnp.cosh(b["eta"]), b["mass"])
    comb = _combinations(k)
    i, j2, k2 = comb[:, 0], comb[:, 1], comb[:, 2]

    def tri(x: Any) -> Any:
        return x[:, i] + x[:, j2] + x[:, k2]

    sx, sy, sz, se = tri(px), tri(py), tri(pz), tri(e)
    ptt = jnp.hypot(sx, sy)
    bi, bj, bk = tb[:, i], tb[:, j2], tb[:, k2]
    wt = s[:, i] * s[:, j2] * s[:, k2] * (bi + (1.0 - bi) * (bj + (1.0 - bj) * bk))
    pos = wt > 0.0
    c = jax.lax.stop_gradient(jnp.max(jnp.where(pos, ptt, -jnp.inf), axis=1))
    has = jnp.isfinite(c)
    c = jnp.where(has, c, 0.0)
    arg = jnp.where(pos, (ptt - c[:, None]) / temp, -jnp.inf)
    a = wt * jnp.exp(arg)
    p3 = jnp.hypot(jnp.hypot(sx, sy), sz)
    m2 = (se - p3) * (se + p3)
    ok = m2 > 16.0 * np.finfo(np.float64).eps * se * se
    mt = jnp.where(ok, jnp.sqrt(jnp.where(ok, m2, 1.0)), 0.0)
    den = jnp.sum(a, axis=1)
    num = jnp.sum(a * mt, axis=1)
    good = den > 0.0
    mbjj = jnp.where(good, num / jnp.where(good, den, 1.0), 0.0)
    return p1, p2, ht, mbjj


def _soft_hist(x: Any, w: Any, edges: np.ndarray, bandwidth: float) -> Any:
    """sum_events w (Phi((e_{b+1} - x) / h) - Phi((e_b - x) / h))."""
    jax = _jax()
    cdf = jax.scipy.special.ndtr(
        (jax.numpy.asarray(edges)[None, :] - x[:, None]) / bandwidth
    )
    return w @ (cdf[:, 1:] - cdf[:, :-1])


def _batch_histograms(
    theta: Any,
    b: Mapping[str, Any],
    widths: tuple[float, float, float],
    edges: np.ndarray,
    bandwidth: float,
) -> Any:
    """Both soft histograms of a batch, [2, bins]."""
    jnp = _jax().numpy
    p1, p2, ht, mbjj = _event_quantities(theta, b, widths)
    w = b["weight"]
    return jnp.stack(
        [
            _soft_hist(ht, w * p1, edges, bandwidth),
            _soft_hist(mbjj, w * p2, edges, bandwidth),
        ]
    )


MODES = ("jacfwd", "jacrev", "vjp_scalar", "value")


@functools.lru_cache(maxsize=32)
def _batch_function(
    mode: str,
    widths: tuple[float, float, float],
    edges: tuple[float, ...],
    bandwidth: float,
) -> Callable[..., Any]:
    """The jitted per-batch function of a mode:

    - ``jacfwd``: (jacobian [2, bins, 3], histograms [2, bins]) by forward mode;
    - ``jacrev``: the same by reverse mode (one pullback per output bin, vmapped);
    - ``vjp_scalar``: (gradient [3] of the scalar sum(c * histograms) with fixed
      pseudo-random c, histograms): one reverse pass, *not* the full Jacobian;
    - ``value``: the histograms only.
    """
    jax = _jax()
    e = np.asarray(edges)

    def hist(theta: Any, b: Any) -> Any:
        h = _batch_histograms(theta, b, widths, e, bandwidth)
        return h, h

    if mode == "jacfwd":
        fn = jax.jacfwd(hist, has_aux=True)
    elif mode == "jacrev":
        fn = jax.jacrev(hist, has_aux=True)
    elif mode == "vjp_scalar":
        c = np.random.default_rng(0).uniform(0.5, 1.5, size=(2, len(e) - 1))

        def scalar(theta: Any, b: Any) -> Any:
            h = _batch_histograms(theta, b, widths, e, bandwidth)
            return jax.numpy.sum(c * h), h

        fn = jax.value_and_grad(scalar, has_aux=True)
    elif mode == "value":

        def fn(theta: Any, b: Any) -> Any:
            return _batch_histograms(theta, b, widths, e, bandwidth)

    else:
        msg = f"mode must be one of {MODES}, got {mode!r}"
        raise ValueError(msg)
    jitted: Callable[..., Any] = jax.jit(fn)
    return jitted


def _widths(kw: Mapping[str, float]) -> tuple[tuple[float, float, float], float]:
    w = dict(WIDTHS)
    unknown = set(kw) - set(w)
    if unknown:
        msg = f"unknown relaxation scales {sorted(unknown)}; known: {sorted(w)}"
        raise ValueError(msg)
    w.update(kw)
    return (float(w["w_pt"]), float(w["w_b"]), float(w["temperature"])), float(
        w["bandwidth"]
    )


def _batch(group: Group, i: int) -> dict[str, np.ndarray]:
    return {k: v[i] for k, v in group.arrays.items()}


def compile_relaxed(
    prepared: Prepared,
    mode: str = "jacfwd",
    theta: Sequence[float] = THETA0,
    edges: np.ndarray = EDGES,
    **widths: float,
) -> dict[tuple[int, int], Any]:
    """Ahead-of-time compiled executables of the mode's batch function, one per
    (batch, size) shape of ``prepared`` (what the first call would compile)."""
    jax = _jax()
    w, bw = _widths(widths)
    fn: Any = _batch_function(mode, w, tuple(float(x) for x in edges), bw)
    th = jax.numpy.asarray(theta, dtype=np.float64)
    out = {}
    for g in prepared.groups:
        key = (g.batch, g.size)
        if key not in out:
            out[key] = fn.lower(th, _batch(g, 0)).compile()
    return out


def relaxed_jax(
    prepared: Prepared,
    theta: Sequence[float] = THETA0,
    mode: str = "jacfwd",
    edges: np.ndarray = EDGES,
    compiled: Mapping[tuple[int, int], Any] | None = None,
    **widths: float,
) -> dict[str, Any]:
    """The relaxed pipeline at ``theta`` = (pt_cut, btag_cut, jes) on prepared events.

    Returns ``{"4j1b": values, "4j2b": values, "jacobian": {"4j1b": [bins, 3],
    "4j2b": [bins, 3]}}`` (mode jacfwd / jacrev), or ``"grad"`` ([3], the gradient of
    the fixed linear scalar, mode vjp_scalar), or the values only (mode value).
    ``widths``: w_pt, w_b, temperature, bandwidth (default `WIDTHS`).
    """
    jax = _jax()
    jnp = jax.numpy
    w, bw = _widths(widths)
    fn = _batch_function(mode, w, tuple(float(x) for x in edges), bw)
    th = jnp.asarray(theta, dtype=np.float64)
    nb = len(edges) - 1
    hist = jnp.zeros((2, nb))
    deriv = jnp.zeros((2, nb, 3)) if mode in ("jacfwd", "jacrev") else jnp.zeros(3)
    for g in prepared.groups:
        f = fn if compiled is None else compiled[(g.batch, g.size)]
        for i in range(g.arrays["weight"].shape[0]):
            r = f(th, _batch(g, i))
            if mode == "value":
                hist = hist + r
            elif mode == "vjp_scalar":
                (_, h), gr = r
                hist, deriv = hist + h, deriv + gr
            else:
                jac, h = r
                hist, deriv = hist + h, deriv + jac
    h_np = np.asarray(hist)
    out: dict[str, Any] = {"4j1b": h_np[0], "4j2b": h_np[1]}
    if mode in ("jacfwd", "jacrev"):
        d = np.asarray(deriv)
        out["jacobian"] = {"4j1b": d[0], "4j2b": d[1]}
    elif mode == "vjp_scalar":
        out["grad"] = np.asarray(deriv)
    return out


@functools.lru_cache(maxsize=8)
def _event_function(widths: tuple[float, float, float]) -> Callable[..., Any]:
    jax = _jax()
    jitted: Callable[..., Any] = jax.jit(
        lambda theta, b: _event_quantities(theta, b, widths)
    )
    return jitted


def relaxed_event_quantities(
    prepared: Prepared, theta: Sequence[float] = THETA0, **widths: float
) -> dict[str, np.ndarray]:
    """Per-event p_4j1b, p_4j2b, HT and m_bjj of the relaxed pipeline (arrays over
    all events read; events that `prepare_relaxed` dropped have p = 0 and NaN HT and
    m_bjj), and ``kept`` (bool)."""
    jax = _jax()
    w, _ = _widths(widths)
    fn = _event_function(w)
    th = jax.numpy.asarray(theta, dtype=np.float64)
    n = prepared.n_events
    out = {
        "p_4j1b": np.zeros(n),
        "p_4j2b": np.zeros(n),
        "ht": np.full(n, np.nan),
        "mbjj": np.full(n, np.nan),
        "kept": np.zeros(n, dtype=bool),
    }
    for g in prepared.groups:
        parts = [
            np.concatenate([np.asarray(x) for x in col])
            for col in zip(
                *(fn(th, _batch(g, i)) for i in range(g.arrays["weight"].shape[0])),
                strict=True,
            )
        ]
        m = g.n_events
        for name, val in zip(("p_4j1b", "p_4j2b", "ht", "mbjj"), parts, strict=True):
            out[name][g.index] = val[:m]
        out["kept"][g.index] = True
    return out
