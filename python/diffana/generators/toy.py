# SPDX-License-Identifier: BSD-3-Clause
"""The toy dijet samples of ``diffana demo`` (``diffana generate --kind demo``).

A toy search for a dijet resonance X (m = 400 GeV) in NanoAOD-like ROOT files: a
TTree ``Events`` per sample with jagged jet branches (``nJet``, ``Jet_pt``,
``Jet_eta``, ``Jet_phi``, ``Jet_mass``, jets ordered by decreasing pT, pT > 20 GeV),
a per-event discriminant ``disc`` in [0, 1] (a stand-in for a tagger score), the
event weight ``genWeight`` and pile-up-like weights ``puWeight``, ``puWeightUp`` and
``puWeightDown`` (a shape systematic as a weight variation; the jet energy scale is
the other one, as a column variation ``Jet_pt * (1 ± 0.03)`` in the config).

Samples (files ``<name>.root``):

- ``signal``: X → jj with the X at low pT, plus soft extra jets; ``disc`` peaks at 1.
- ``ttbar``: four to six jets of moderate pT, ``disc`` in the middle.
- ``qcd``: two or more jets on a steeply falling pT spectrum, ``disc`` mostly near 0
  with a flat tail up to 1 (so that a tight ``disc`` cut does not remove it all).

The cuts on ``disc`` and on the subleading jet pT each have an interior optimum of the
expected significance of a fit to the dijet mass.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed and sizes
give the same files, byte for byte in their contents.

Imports numpy and `diffana.generators._common`; awkward and uproot only when it
writes files.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import check_request, written_atomically

__all__ = ["DEFAULT_EVENTS", "SAMPLES", "check_request", "generate", "make_sample"]

#: The samples and their share of the events.
SAMPLES: dict[str, float] = {"signal": 0.2, "ttbar": 0.3, "qcd": 0.5}
#: Total number of events of the default ``diffana demo`` samples.
DEFAULT_EVENTS = 100_000

M_X = 400.0  # GeV, the resonance mass


def _isotropic_decay(
    rng: np.random.Generator, mass: np.ndarray, pt: np.ndarray, eta: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Two massless daughters of a particle (mass, pt, eta, phi=random): pt, eta, phi."""
    n = mass.size
    phi = rng.uniform(-np.pi, np.pi, n)
    # The mother's four-momentum.
    px, py = pt * np.cos(phi), pt * np.sin(phi)
    pz = np.sqrt(pt**2 + mass**2) * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    # A daughter in the rest frame, isotropic.
    cos_t = rng.uniform(-1.0, 1.0, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi_d = rng.uniform(-np.pi, np.pi, n)
    p = mass / 2.0
    d = np.stack([p * sin_t * np.cos(phi_d), p * sin_t * np.sin(phi_d), p * cos_t])
    out = []
    for sign in (1.0, -1.0):
        # Boost (sign * d, p) by beta = P / E of the mother.
        bx, by, bz = px / e, py / e, pz / e
        b2 = bx**2 + by**2 + bz**2
        gamma = 1.0 / np.sqrt(1.0 - b2)
        dx, dy, dz = sign * d
        bp = bx * dx + by * dy + bz * dz
        coef = np.where(b2 > 0, (gamma - 1.0) * bp / np.where(b2 > 0, b2, 1.0), 0.0)
        qx = dx + coef * bx + gamma * bx * p
        qy = dy + coef * by + gamma * by * p
        qz = dz + coef * bz + gamma * bz * p
        qpt = np.hypot(qx, qy)
        out += [qpt, np.arcsinh(qz / np.maximum(qpt, 1e-9)), np.arctan2(qy, qx)]
    return tuple(out)


def _extra_jets(
    rng: np.random.Generator, counts: np.ndarray, scale: float, offset: float = 20.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat arrays of pt, eta, phi for ``counts`` jets per event."""
    total = int(counts.sum())
    pt = offset + rng.exponential(scale, total)
    eta = rng.normal(0.0, 1.6, total)
    phi = rng.uniform(-np.pi, np.pi, total)
    return pt, eta, phi


def make_sample(name: str, n: int, rng: np.random.Generator) -> dict[str, Any]:
    """The branches of ``n`` events of sample ``name`` (see the module docstring):
    numpy arrays, one entry per event, except the ``Jet_*`` arrays, which hold the
    jets of all events one after the other (``nJet`` of them per event)."""
    check_request(name, n, SAMPLES)
    if name == "signal":
        mass = rng.normal(M_X, 0.04 * M_X, n)
        pt_x = rng.exponential(40.0, n)
        eta_x = rng.normal(0.0, 0.8, n)
        pt1, eta1, phi1, pt2, eta2, phi2 = _isotropic_decay(rng, mass, pt_x, eta_x)
        hard = [(pt1, eta1, phi1), (pt2, eta2, phi2)]
        n_extra = rng.poisson(1.0, n)
        extra = _extra_jets(rng, n_extra, 25.0)
        disc = rng.beta(4.0, 1.5, n)
        pu_slope = 0.01
    elif name == "ttbar":
        n_extra = 4 + rng.poisson(0.8, n)
        extra = _extra_jets(rng, n_extra, 45.0, 25.0)
        hard = []
        disc = rng.beta(2.0, 2.5, n)
        pu_slope = 0.02
    else:  # qcd
        # Two leading jets on a falling spectrum (a Pareto tail) plus soft extra jets.
        lead = 25.0 * (1.0 + rng.pareto(3.5, n))
        dphi = np.pi + rng.normal(0.0, 0.3, n)
        phi1 = rng.uniform(-np.pi, np.pi, n)
        eta1 = rng.normal(0.0, 1.5, n)
        eta2 = eta1 + rng.normal(0.0, 1.3, n)
        pt2 = lead * rng.uniform(0.5, 1.0, n)
        phi2 = np.angle(np.exp(1j * (phi1 + dphi)))
        hard = [(lead, eta1, phi1), (pt2, eta2, phi2)]
        n_extra = rng.poisson(1.5, n)
        extra = _extra_jets(rng, n_extra, 20.0)
        is_tail = rng.uniform(size=n) < 0.12
        disc = np.where(is_tail, rng.uniform(size=n), rng.beta(1.2, 5.0, n))
        pu_slope = 0.015

    # Assemble the jets of every event: hard jets (smeared) + extra jets, pT-ordered.
    n_hard = len(hard)
    counts = n_hard + n_extra
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    pt, eta, phi = np.empty(total), np.empty(total), np.empty(total)
    for k, (hpt, heta, hphi) in enumerate(hard):
        idx = offsets[:-1] + k
        pt[idx] = hpt * rng.normal(1.0, 0.08, n)
        eta[idx], phi[idx] = heta, hphi
    is_extra = np.ones(total, dtype=bool)
    for k in range(n_hard):
        is_extra[offsets[:-1] + k] = False
    extra_idx = np.flatnonzero(is_extra)
    pt[extra_idx], eta[extra_idx], phi[extra_idx] = extra
    jet_mass = np.abs(rng.normal(0.08, 0.03, total)) * pt
    event = np.repeat(np.arange(n), counts)
    keep = (pt > 20.0) & (np.abs(eta) < 4.7)
    # pT order inside every event: sort by (event, -pt).
    order = np.lexsort((-pt, event))
    order = order[keep[order]]
    event = event[order]
    n_jet = np.bincount(event, minlength=n).astype(np.int32)

    def jagged(a: np.ndarray) -> np.ndarray:
        return a[order].astype(np.float32)

    # Weights: genWeight near 1; a pile-up weight whose variations tilt with nJet.
    gen_weight = rng.lognormal(0.0, 0.1, n).astype(np.float32)
    n_pu = rng.poisson(30.0, n)
    pu = 1.0 + 0.2 * (n_pu - 30.0) / 30.0
    tilt = pu_slope * (n_jet - 3.0)
    return {
        "nJet": n_jet,
        "Jet_pt": jagged(pt),
        "Jet_eta": jagged(eta),
        "Jet_phi": jagged(phi),
        "Jet_mass": jagged(jet_mass),
        "disc": disc.astype(np.float32),
        "genWeight": gen_weight,
        "puWeight": pu.astype(np.float32),
        "puWeightUp": (pu * (1.0 + 0.03 + tilt)).astype(np.float32),
        "puWeightDown": (pu * (1.0 - 0.03 - tilt)).astype(np.float32),
    }


def _write(path: pathlib.Path, branches: Mapping[str, Any]) -> None:
    import awkward as ak
    import uproot

    counts = np.asarray(branches["nJet"])
    jets = ak.zip(
        {
            key[4:]: ak.unflatten(np.asarray(branches[key]), counts)
            for key in ("Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass")
        }
    )
    flat = {k: v for k, v in branches.items() if not k.startswith(("Jet_", "nJet"))}
    data = {"Jet": jets, **flat}
    with written_atomically(path) as tmp, uproot.recreate(tmp) as f:
        tree = f.mktree(
            "Events",
            {
                k: v.type if isinstance(v, ak.Array) else v.dtype
                for k, v in data.items()
            },
            counter_name=lambda counted: f"n{counted}",
            field_name=lambda outer, inner: f"{outer}_{inner}",
        )
        # Several clusters (baskets) per file, so that ROOT's implicit
        # multithreading has something to share out.
        n = len(counts)
        step = max(1, min(n, 10_000))
        for start in range(0, n, step):
            tree.extend({k: v[start : start + step] for k, v in data.items()})


def generate(
    out: str | pathlib.Path,
    seed: int = 1,
    events: int = DEFAULT_EVENTS,
    samples: Sequence[str] | None = None,
) -> dict[str, pathlib.Path]:
    """Write ``<out>/<sample>.root`` for every sample (default: all of `SAMPLES`),
    ``events`` in total shared as in `SAMPLES`; returns {sample: path}.

    Reproducible: sample k is drawn from ``default_rng([seed, k])``.

    Examples
    --------
    >>> import tempfile, uproot
    >>> from diffana.generators.toy import generate
    >>> paths = generate(tempfile.mkdtemp(), seed=3, events=1000)
    >>> sorted(paths)
    ['qcd', 'signal', 'ttbar']
    >>> uproot.open(paths["signal"])["Events"].num_entries
    200
    """
    names = list(SAMPLES) if samples is None else list(samples)
    if int(events) < len(names):
        msg = f"events must be at least the number of samples, got {events}"
        raise ValueError(msg)
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    share = sum(SAMPLES[s] for s in names if s in SAMPLES)
    paths = {}
    for name in names:
        if name not in SAMPLES:
            msg = f"unknown sample {name!r}; the generator knows {list(SAMPLES)}"
            raise ValueError(msg)
        k = list(SAMPLES).index(name)
        n = max(1, round(int(events) * SAMPLES[name] / share))
        rng = np.random.default_rng([int(seed), k])
        path = folder / f"{name}.root"
        _write(path, make_sample(name, n, rng))
        paths[name] = path
    return paths
