# SPDX-License-Identifier: BSD-3-Clause
"""The built-in generator of AGC-like samples (``diffana generate --kind agc``).

Toy stand-ins for the CMS 2015 Open Data NanoAOD files of the Analysis Grand
Challenge (AGC) ttbar analysis: one ROOT file ``<sample>.root`` per sample,
each with a TTree ``Events`` holding the branches the AGC selection reads,

- ``event`` (uint64, 0, 1, 2, ... in every file), ``genWeight`` (float32, 1 ± 5 %),
- ``nJet`` and ``Jet_pt``, ``Jet_eta``, ``Jet_phi``, ``Jet_mass``, ``Jet_btagCSVV2``
  (in [0, 1]), ``Jet_jetId`` (NanoAOD bits: 6 for most jets, 2 for ~3 %) and
  ``Jet_hadronFlavour`` (5, 4 or 0), jets with pT > 15 GeV and |eta| < 4.7, ordered by
  decreasing pT,
- ``nElectron`` and ``Electron_pt``, ``Electron_eta``, ``Electron_phi``,
  ``Electron_cutBased`` (0..4, 4 = tight), ``Electron_sip3d``,
- ``nMuon`` and ``Muon_pt``, ``Muon_eta``, ``Muon_phi``, ``Muon_tightId``,
  ``Muon_sip3d``, ``Muon_pfRelIso04_all``.

Samples (all at parton level plus a simple detector: jets are partons with a 10 % pT
resolution and a mass, leptons are generator leptons with an identification model):

- ``ttbar``: 85 % semileptonic, 7.5 % dileptonic, 7.5 % all-hadronic; top pT on a
  falling spectrum (mean 100 GeV), t -> b W, W -> q q' or l nu (l = e, mu, tau) as
  massive two-body decays in the rest frame boosted to the lab; ISR/FSR jets
  (Poisson, mean 1.3, pT falling from 20 GeV). The trijet mass of the hard AGC
  selection's 4j2b region peaks near the top mass.
- ``single_top``: t-channel, t -> b l nu, a forward light jet (|eta| ~ 2-4), a soft
  spectator b, extra jets (Poisson, mean 0.8); few events have four jets.
- ``wjets``: W -> l nu plus jets with a falling (geometric) multiplicity of mean 2.5
  and a falling pT; 2 % b and 5 % c jets.

Detector model: b-tag scores from the jet's flavour (about 70 % of b jets, 30 % of c
jets and 2.5 % of light jets at >= 0.5); the lepton of a W passes the tight
identification, impact-parameter and isolation cuts in ~85 % of the cases; b and c
jets sometimes hold a soft non-isolated lepton, and light jets rarely fake one.

Files are written chunk by chunk (at most 100 000 events at a time, at least 8 chunks
for 8 or more events), so memory stays flat for any number of events; every chunk is
one cluster (basket) per branch, which ROOT's implicit multithreading shares out.
Sample k is drawn from ``numpy.random.default_rng([seed, k])``: the same seed and
number of events give the same file contents.

Imports numpy and `diffana.generators._common`; awkward and uproot only when it
writes files.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._common import check_request, written_atomically

__all__ = ["DEFAULT_EVENTS", "SAMPLES", "generate", "make_chunk"]

#: The samples, in the order that fixes their seeds.
SAMPLES: tuple[str, ...] = ("ttbar", "single_top", "wjets")
#: Events per sample of ``diffana generate --kind agc``.
DEFAULT_EVENTS = 100_000

MAX_CLUSTER = 100_000  # events per chunk (cluster), at most
MIN_CLUSTERS = 8  # chunks per file, at least (when there are enough events)
JET_PT_MIN = 15.0  # GeV
M_TOP, W_TOP = 172.5, 1.4  # GeV
M_W, W_W = 80.4, 2.1  # GeV
M_B = 4.8  # GeV

Array = np.ndarray[Any, Any]

# ---- kinematics -----------------------------------------------------------------------


def _breit_wigner(
    rng: np.random.Generator, mass: float, width: float, lo: float, hi: float, n: int
) -> Array:
    """A Breit-Wigner (Cauchy) mass, truncated to [lo, hi]."""
    a = np.arctan(2.0 * (lo - mass) / width)
    b = np.arctan(2.0 * (hi - mass) / width)
    return mass + 0.5 * width * np.tan(rng.uniform(a, b, n))


def _from_rapidity(pt: Array, y: Array, phi: Array, mass: Array) -> Array:
    """Four-momenta (px, py, pz, E) [4, n] from pt, rapidity, phi and mass."""
    mt = np.sqrt(pt**2 + mass**2)
    return np.stack(
        [pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y), mt * np.cosh(y)]
    )


def _pt_eta_phi(p: Array) -> tuple[Array, Array, Array]:
    """pt, pseudorapidity and phi of four-momenta [4, n]."""
    pt = np.hypot(p[0], p[1])
    return pt, np.arcsinh(p[2] / np.maximum(pt, 1e-9)), np.arctan2(p[1], p[0])


def _two_body(
    rng: np.random.Generator, mother: Array, mass: Array, m1: Array | float, m2: float
) -> tuple[Array, Array]:
    """The two daughters (masses m1, m2) of ``mother`` (four-momenta [4, n] of mass
    ``mass``), decaying isotropically in its rest frame: their four-momenta [4, n].

    The massive generalisation of the two-body decay of `diffana.generators.toy`:
    momentum p* = sqrt((M^2 - (m1 + m2)^2) (M^2 - (m1 - m2)^2)) / 2M in the rest
    frame, then a boost by beta = P / E (gamma = E / M) of the mother."""
    n = mass.size
    m1 = np.broadcast_to(np.asarray(m1, dtype=float), (n,))
    lam = (mass**2 - (m1 + m2) ** 2) * (mass**2 - (m1 - m2) ** 2)
    p = np.sqrt(np.maximum(lam, 0.0)) / (2.0 * mass)
    cos_t = rng.uniform(-1.0, 1.0, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi = rng.uniform(-np.pi, np.pi, n)
    d = p * np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])
    gamma = mother[3] / mass
    beta = mother[:3] / mother[3]
    out = []
    for sign, m in ((1.0, m1), (-1.0, np.full(n, m2))):
        q = sign * d
        e = np.sqrt(p**2 + m**2)
        bq = np.sum(beta * q, axis=0)
        # q' = q + ((gamma - 1) (beta.q) / beta^2 + gamma e) beta, with
        # (gamma - 1) / beta^2 = gamma^2 / (gamma + 1) (no 0 / 0 at rest).
        coef = gamma**2 / (gamma + 1.0) * bq + gamma * e
        out.append(np.concatenate([q + coef * beta, [gamma * (e + bq)]]))
    return out[0], out[1]


# ---- objects of a chunk ---------------------------------------------------------------


class _Objects:
    """Objects (jets or leptons) of a chunk, collected piece by piece as flat arrays:
    the event index and named columns."""

    def __init__(self) -> None:
        self.pieces: list[dict[str, Array]] = []

    def add(self, event: Array, **columns: Array | float) -> None:
        n = event.size
        piece = {"event": event}
        for key, value in columns.items():
            piece[key] = np.broadcast_to(np.asarray(value), (n,))
        self.pieces.append(piece)

    def add_p4(
        self, event: Array, p: Array, mask: Array, **columns: Array | float
    ) -> None:
        """Add the four-momenta ``p[:, mask]`` (of events ``event[mask]``)."""
        pt, eta, phi = _pt_eta_phi(p[:, mask])
        extra = {
            k: (np.asarray(v)[mask] if np.ndim(v) else v) for k, v in columns.items()
        }
        self.add(event[mask], pt=pt, eta=eta, phi=phi, **extra)

    def columns(self) -> dict[str, Array]:
        keys = self.pieces[0].keys()
        return {k: np.concatenate([p[k] for p in self.pieces]) for k in keys}


def _w_lepton(
    rng: np.random.Generator,
    event: Array,
    lepton: Array,
    mask: Array,
    jets: _Objects,
    leptons: _Objects,
) -> None:
    """The charged lepton of a leptonic W decay (``mask``): e or mu (40 % each), or
    a tau (20 %) that decays to a jet (65 %) or to a softer displaced e or mu."""
    n = event.size
    u = rng.uniform(size=n)
    tau = u >= 0.8
    flavour = np.where(u < 0.4, 11, 13)
    tau_lep = tau & (rng.uniform(size=n) < 0.35)
    flavour = np.where(tau_lep, np.where(rng.uniform(size=n) < 0.5, 11, 13), flavour)
    visible = np.where(tau, rng.uniform(0.2, 0.9, n), 1.0)
    p = lepton * visible
    is_lepton = mask & (~tau | tau_lep)
    leptons.add_p4(event, p, is_lepton, flavour=flavour, prompt=np.where(tau, 2, 1))
    jets.add_p4(event, p, mask & tau & ~tau_lep, flavour=0)


def _extra_jets(
    rng: np.random.Generator,
    event: Array,
    counts: Array,
    scale: float,
    sigma_eta: float = 1.8,
    heavy: tuple[float, float] = (0.02, 0.03),
) -> dict[str, Array]:
    """Columns of ``counts`` extra jets per event (ISR/FSR or W+jets): pT falling
    from 20 GeV with slope ``scale``; b with probability heavy[0], c heavy[1]."""
    ev = np.repeat(event, counts)
    total = ev.size
    u = rng.uniform(size=total)
    return {
        "event": ev,
        "pt": 20.0 + rng.exponential(scale, total),
        "eta": rng.normal(0.0, sigma_eta, total),
        "phi": rng.uniform(-np.pi, np.pi, total),
        "flavour": np.where(u < heavy[0], 5, np.where(u < sum(heavy), 4, 0)),
    }


def _top_decay(
    rng: np.random.Generator,
    event: Array,
    top: Array,
    m_top: Array,
    leptonic: Array,
    jets: _Objects,
    leptons: _Objects,
) -> None:
    """t -> b W, W -> q q' (c in half of the decays) or l nu, as ``leptonic`` says."""
    n = event.size
    m_w = _breit_wigner(rng, M_W, W_W, 60.0, 100.0, n)
    w, b = _two_body(rng, top, m_top, m_w, M_B)
    q1, q2 = _two_body(rng, w, m_w, 0.0, 0.0)
    everyone = np.ones(n, dtype=bool)
    jets.add_p4(event, b, everyone, flavour=5)
    hadronic = ~leptonic
    charm = rng.uniform(size=n) < 0.5
    jets.add_p4(event, q1, hadronic, flavour=np.where(charm, 4, 0))
    jets.add_p4(event, q2, hadronic, flavour=0)
    _w_lepton(rng, event, q1, leptonic, jets, leptons)


def _ttbar(rng: np.random.Generator, event: Array) -> tuple[_Objects, _Objects]:
    n = event.size
    jets, leptons = _Objects(), _Objects()
    u = rng.uniform(size=n)
    semi, dilep = u < 0.85, (u >= 0.85) & (u < 0.925)
    first = rng.uniform(size=n) < 0.5
    lep1 = dilep | (semi & first)
    lep2 = dilep | (semi & ~first)
    # The tops: back to back in the transverse plane up to an ISR recoil.
    pt1 = rng.gamma(2.0, 50.0, n)
    phi1 = rng.uniform(-np.pi, np.pi, n)
    recoil = rng.exponential(20.0, n)
    phi_r = rng.uniform(-np.pi, np.pi, n)
    px2 = -pt1 * np.cos(phi1) + recoil * np.cos(phi_r)
    py2 = -pt1 * np.sin(phi1) + recoil * np.sin(phi_r)
    y1 = rng.normal(0.0, 1.0, n)
    y2 = 0.3 * y1 + rng.normal(0.0, 1.0, n)
    for pt, y, phi, leptonic in (
        (pt1, y1, phi1, lep1),
        (np.hypot(px2, py2), y2, np.arctan2(py2, px2), lep2),
    ):
        m_top = _breit_wigner(rng, M_TOP, W_TOP, 160.0, 185.0, n)
        top = _from_rapidity(pt, y, phi, m_top)
        _top_decay(rng, event, top, m_top, leptonic, jets, leptons)
    jets.add(**_extra_jets(rng, event, rng.poisson(1.3, n), 30.0))
    return jets, leptons


def _single_top(rng: np.random.Generator, event: Array) -> tuple[_Objects, _Objects]:
    n = event.size
    jets, leptons = _Objects(), _Objects()
    m_top = _breit_wigner(rng, M_TOP, W_TOP, 160.0, 185.0, n)
    top = _from_rapidity(
        rng.gamma(2.0, 30.0, n),
        rng.normal(0.0, 1.2, n),
        rng.uniform(-np.pi, np.pi, n),
        m_top,
    )
    _top_decay(rng, event, top, m_top, np.ones(n, dtype=bool), jets, leptons)
    # The forward light jet and the soft spectator b of the t-channel.
    side = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    jets.add(
        event,
        pt=20.0 + rng.exponential(35.0, n),
        eta=side * np.abs(rng.normal(2.7, 0.8, n)),
        phi=rng.uniform(-np.pi, np.pi, n),
        flavour=0,
    )
    jets.add(
        event,
        pt=8.0 + rng.exponential(15.0, n),
        eta=rng.normal(0.0, 2.0, n),
        phi=rng.uniform(-np.pi, np.pi, n),
        flavour=5,
    )
    jets.add(**_extra_jets(rng, event, rng.poisson(0.8, n), 25.0))
    return jets, leptons


def _wjets(rng: np.random.Generator, event: Array) -> tuple[_Objects, _Objects]:
    n = event.size
    jets, leptons = _Objects(), _Objects()
    # Jets first: a falling multiplicity (geometric, mean 2.5) and pT; the W recoils.
    counts = rng.geometric(1.0 / 3.5, n) - 1
    extra = _extra_jets(rng, event, counts, 25.0, 1.6, (0.02, 0.05))
    jets.add(**extra)
    # (event is the index of the event in the chunk)
    recoil_x = -extra["pt"] * np.cos(extra["phi"])
    recoil_y = -extra["pt"] * np.sin(extra["phi"])
    px = np.bincount(extra["event"], recoil_x, minlength=n) + rng.normal(0.0, 10.0, n)
    py = np.bincount(extra["event"], recoil_y, minlength=n) + rng.normal(0.0, 10.0, n)
    m_w = _breit_wigner(rng, M_W, W_W, 60.0, 100.0, n)
    w = _from_rapidity(
        np.hypot(px, py), rng.normal(0.0, 1.5, n), np.arctan2(py, px), m_w
    )
    lepton, _ = _two_body(rng, w, m_w, 0.0, 0.0)
    _w_lepton(rng, event, lepton, np.ones(n, dtype=bool), jets, leptons)
    return jets, leptons


_PROCESSES = {"ttbar": _ttbar, "single_top": _single_top, "wjets": _wjets}

# ---- detector -------------------------------------------------------------------------


def _btag(rng: np.random.Generator, flavour: Array) -> Array:
    """CSVv2-like scores in [0, 1]: b jets mostly high (~70 % >= 0.5), c jets in
    between (~30 %), light jets mostly low (~2.5 %)."""
    score = np.empty(flavour.size)
    b, c = flavour == 5, flavour == 4
    light = ~(b | c)
    nb = int(b.sum())
    score[b] = np.where(
        rng.uniform(size=nb) < 0.66, rng.beta(6.0, 1.0, nb), rng.beta(1.2, 3.0, nb)
    )
    score[c] = rng.beta(1.6, 2.6, int(c.sum()))
    score[light] = rng.beta(1.0, 5.3, int(light.sum()))
    return np.clip(score, 0.0, 1.0)


def _soft_leptons(
    rng: np.random.Generator, jets: dict[str, Array], leptons: _Objects
) -> None:
    """Non-prompt leptons: semileptonic b (10 % e, 10 % mu) and c (8 % each) decays
    inside their jet; light jets fake one rarely (0.5 % each)."""
    flavour = jets["flavour"]
    rate = np.where(flavour == 5, 0.2, np.where(flavour == 4, 0.16, 0.01))
    u = rng.uniform(size=flavour.size)
    has = u < rate
    ev = jets["event"][has]
    k = int(has.sum())
    leptons.add(
        ev,
        pt=jets["pt"][has] * rng.beta(1.5, 6.0, k),
        eta=jets["eta"][has] + rng.normal(0.0, 0.05, k),
        phi=jets["phi"][has] + rng.normal(0.0, 0.05, k),
        flavour=np.where(u[has] < 0.5 * rate[has], 11, 13),
        prompt=0,
    )


def _lepton_columns(
    rng: np.random.Generator, lep: dict[str, Array], flavour: int
) -> dict[str, Array]:
    """The NanoAOD columns of one lepton flavour: prompt (1 from a W, 2 from a tau)
    or not (0, in a jet)."""
    eta_max = 2.5 if flavour == 11 else 2.4
    keep = (
        (lep["flavour"] == flavour) & (lep["pt"] > 5.0) & (np.abs(lep["eta"]) < eta_max)
    )
    lep = {k: v[keep] for k, v in lep.items()}
    n = lep["pt"].size
    prompt = lep["prompt"]
    # Impact parameter significance: small for W leptons, larger for taus and b/c.
    scale = np.choose(prompt, [3.0, 0.9, 2.0])
    sip3d = rng.exponential(1.0, n) * scale
    out = {
        "pt": lep["pt"] * rng.normal(1.0, 0.01, n),
        "eta": lep["eta"],
        "phi": lep["phi"],
        "sip3d": sip3d,
    }
    good = rng.uniform(size=n) < np.where(prompt > 0, 0.87, 0.25)
    if flavour == 11:
        loose = rng.choice(np.array([0, 1, 2, 3]), n, p=[0.35, 0.15, 0.25, 0.25])
        out["cutBased"] = np.where(good, 4, loose)
    else:
        out["tightId"] = rng.uniform(size=n) < np.where(prompt > 0, 0.9, 0.85)
        # Isolation: mostly isolated W leptons (5 % with jet activity nearby),
        # leptons in jets mostly not.
        iso = np.where(
            rng.uniform(size=n) < 0.95,
            rng.exponential(0.025, n),
            rng.uniform(0.0, 0.6, n),
        )
        out["pfRelIso04_all"] = np.where(
            prompt > 0, iso, 0.05 + rng.exponential(0.5, n)
        )
    return {"event": lep["event"], **out}


def _jagged(
    n: int, columns: dict[str, Array], dtypes: dict[str, type]
) -> tuple[Array, dict[str, Array]]:
    """Counts per event and the columns sorted by (event, decreasing pT), cast."""
    # One stable sort on the key (event, -pt) packed in an int64: the bits of a
    # positive float32 order like its value.
    pt_bits = columns["pt"].astype(np.float32).view(np.int32).astype(np.int64)
    key = (columns["event"].astype(np.int64) << 32) | (0x7FFFFFFF - pt_bits)
    order = np.argsort(key, kind="stable")
    counts = np.bincount(columns["event"], minlength=n).astype(np.int32)
    return counts, {k: columns[k][order].astype(t) for k, t in dtypes.items()}


def make_chunk(
    name: str, n: int, rng: np.random.Generator, first: int = 0
) -> dict[str, Any]:
    """The branches of ``n`` events of sample ``name`` (numbered from ``first``):
    numpy arrays, one entry per event (``event``, ``genWeight``, ``nJet``,
    ``nElectron``, ``nMuon``), and for the collections (``Jet_*``, ``Electron_*``,
    ``Muon_*``) flat arrays holding the objects of all events one after the other."""
    check_request(name, n, SAMPLES, "the AGC generator")
    event = np.arange(n)
    parts, leptons = _PROCESSES[name](rng, event)
    jets = parts.columns()
    jets["event"] = jets["event"].astype(np.int64)
    jets["flavour"] = jets["flavour"].astype(np.int32)
    _soft_leptons(rng, jets, leptons)
    # Jets: 10 % pT resolution (b jets slightly low: neutrinos), small angular
    # smearing, a mass of ~10 % of the pT; acceptance pT > 15 GeV, |eta| < 4.7.
    m = jets["pt"].size
    response = np.where(jets["flavour"] == 5, 0.98, 1.0)
    jets["pt"] = jets["pt"] * np.maximum(rng.normal(response, 0.10, m), 0.05)
    jets["eta"] = jets["eta"] + rng.normal(0.0, 0.02, m)
    jets["phi"] = np.angle(np.exp(1j * (jets["phi"] + rng.normal(0.0, 0.02, m))))
    jets["mass"] = jets["pt"] * np.clip(rng.normal(0.11, 0.04, m), 0.02, 0.3)
    jets["btagCSVV2"] = _btag(rng, jets["flavour"])
    jets["jetId"] = np.where(rng.uniform(size=m) < 0.03, 2, 6)
    keep = (jets["pt"] > JET_PT_MIN) & (np.abs(jets["eta"]) < 4.7)
    jets = {k: v[keep] for k, v in jets.items()}
    f32, i32 = np.float32, np.int32
    n_jet, jet = _jagged(
        n,
        jets,
        {"pt": f32, "eta": f32, "phi": f32, "mass": f32, "btagCSVV2": f32,
         "jetId": i32, "flavour": i32},
    )  # fmt: skip
    jet["hadronFlavour"] = jet.pop("flavour")
    lep = leptons.columns()
    lep["phi"] = np.angle(np.exp(1j * lep["phi"]))
    n_el, el = _jagged(
        n,
        _lepton_columns(rng, lep, 11),
        {"pt": f32, "eta": f32, "phi": f32, "cutBased": i32, "sip3d": f32},
    )
    n_mu, mu = _jagged(
        n,
        _lepton_columns(rng, lep, 13),
        {"pt": f32, "eta": f32, "phi": f32, "tightId": np.bool_, "sip3d": f32,
         "pfRelIso04_all": f32},
    )  # fmt: skip
    weight = np.clip(rng.normal(1.0, 0.05, n), 0.5, 1.5).astype(f32)
    return {
        "event": (first + event).astype(np.uint64),
        "genWeight": weight,
        "nJet": n_jet,
        **{f"Jet_{k}": v for k, v in jet.items()},
        "nElectron": n_el,
        **{f"Electron_{k}": v for k, v in el.items()},
        "nMuon": n_mu,
        **{f"Muon_{k}": v for k, v in mu.items()},
    }


# ---- files ----------------------------------------------------------------------------


def _chunk_size(events: int) -> int:
    """Events per chunk (cluster): at most MAX_CLUSTER, and at least MIN_CLUSTERS
    chunks when there are enough events."""
    k = max(MIN_CLUSTERS, math.ceil(events / MAX_CLUSTER))
    return max(1, math.ceil(events / k))


def _chunks(events: int) -> Iterator[tuple[int, int]]:
    """(first, size) of the chunks of a file: all of `_chunk_size` but the last."""
    size = _chunk_size(events)
    for first in range(0, events, size):
        yield first, min(size, events - first)


def _records(branches: dict[str, Any]) -> dict[str, Any]:
    """The chunk as uproot wants it: flat branches plus one record array per
    collection (uproot writes its counter ``nX`` and the branches ``X_field``)."""
    import awkward as ak

    out: dict[str, Any] = {}
    for key, value in branches.items():
        if key in ("nJet", "nElectron", "nMuon"):
            prefix = key[1:]
            fields = {
                k[len(prefix) + 1 :]: v
                for k, v in branches.items()
                if k.startswith(prefix + "_")
            }
            out[prefix] = ak.unflatten(ak.zip(fields), value)
        elif "_" not in key or key == "genWeight":
            out[key] = value
    return out


def _write(
    path: pathlib.Path, name: str, events: int, rng: np.random.Generator
) -> None:
    import uproot

    with (
        written_atomically(path) as tmp,
        uproot.recreate(tmp, compression=uproot.ZSTD(1)) as f,
    ):
        tree = None
        for first, size in _chunks(events):
            data = _records(make_chunk(name, size, rng, first))
            if tree is None:
                tree = f.mktree(
                    "Events",
                    {k: getattr(v, "type", None) or v.dtype for k, v in data.items()},
                    counter_name=lambda counted: f"n{counted}",
                    field_name=lambda outer, inner: f"{outer}_{inner}",
                )
                # Every extend is one basket per branch; tell ROOT that the clusters
                # are these chunks (a positive fAutoFlush counts entries), or it
                # estimates cluster ranges from the bytes (uproot's default -30 MB),
                # which cut across the baskets. Private to uproot: skipped if absent.
                meta = getattr(getattr(tree, "_cascading", None), "_metadata", None)
                if isinstance(meta, dict) and "fAutoFlush" in meta:
                    meta["fAutoFlush"] = _chunk_size(events)
            tree.extend(data)


def generate(
    out: str | pathlib.Path,
    seed: int = 1,
    events: int = DEFAULT_EVENTS,
    samples: Sequence[str] | None = None,
) -> dict[str, pathlib.Path]:
    """Write ``<out>/<sample>.root`` with ``events`` events for every sample (default:
    all of `SAMPLES`); returns {sample: path}.

    Reproducible: sample k is drawn from ``default_rng([seed, k])``, chunk by chunk.
    ``events`` is per sample (1e4 to 1e7 are typical; memory does not grow with it).

    Examples
    --------
    >>> import tempfile, uproot
    >>> from diffana.generators.agc import generate
    >>> paths = generate(tempfile.mkdtemp(), seed=3, events=1000, samples=["wjets"])
    >>> list(paths)
    ['wjets']
    >>> tree = uproot.open(paths["wjets"])["Events"]
    >>> tree.num_entries, tree["Jet_btagCSVV2"].typename
    (1000, 'float[]')
    """
    names = list(SAMPLES) if samples is None else list(samples)
    for name in names:
        if name not in SAMPLES:
            msg = f"unknown sample {name!r}; the AGC generator knows {list(SAMPLES)}"
            raise ValueError(msg)
    if int(events) < 1:
        msg = f"events (per sample) must be at least 1, got {events}"
        raise ValueError(msg)
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names:
        rng = np.random.default_rng([int(seed), SAMPLES.index(name)])
        path = folder / f"{name}.root"
        _write(path, name, int(events), rng)
        paths[name] = path
    return paths
