# SPDX-License-Identifier: BSD-3-Clause
"""The relaxed AGC ttbar step on jagged jet columns, on the CPU or a CUDA device.

One C++ function per event (src/cuda/agc_relaxed.hpp) computes the chain of
examples/agc/agc.yaml's ``defines`` -- soft jet selection and b tagging, the
Poisson-binomial region probabilities P(4j1b) and P(4j2b), H_T and the soft trijet
mass -- and fills the two soft histograms (4j1b: H_T, 4j2b: m_bjj) with their
Jacobians with respect to ``pt_cut``, ``btag_cut`` and ``jes``. The same function
runs in a host loop (the CPU twin, ``_core.agc_relaxed``) and in a CUDA kernel with
block-private histograms (``_core.cuda.agc_relaxed_step``); the numbers equal those of
the CPU analysis path (`diffana.analysis` with examples/agc/agc.yaml) to rounding.

- `JetColumns`: the columns the step reads (offsets + contents), numpy or CuPy.
- `columns_from_branches`: NanoAOD-like branches (``nJet``, ``Jet_pt``, ...; e.g.
  `diffana.generators.agc.make_chunk`) to `JetColumns`, with the configuration's hard
  event selection (exactly one tight lepton, at least four jets passing |eta| < 2.4
  and the jet ID) applied once: it does not depend on the parameters.
- `to_device`: the columns copied once to the GPU, for optimisation loops there.
- `step`: the two histograms at one parameter point, where the columns are.

Imports numpy, `_core`, `_checks`, `_device` and `hist`; CuPy only for device
columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _checks, _core, _device
from .hist import GradHistogram

__all__ = [
    "CHANNELS",
    "DEFAULTS",
    "PARAMS",
    "JetColumns",
    "columns_from_branches",
    "step",
    "to_device",
]

#: The differentiated parameters, in the Jacobians' column order.
PARAMS: tuple[str, ...] = ("pt_cut", "btag_cut", "jes")
#: The channels, in the order of the kernel's outputs.
CHANNELS: tuple[str, ...] = ("4j1b", "4j2b")
#: Every parameter of a step and its value in examples/agc/agc.yaml (``epsilon`` is
#: ``trijet_epsilon``; jet pT is scaled by 1 + jes_step jes).
DEFAULTS: dict[str, float] = {
    "pt_cut": 30.0,
    "btag_cut": 0.5,
    "jes": 0.0,
    "pt_width": 2.0,
    "btag_width": 0.05,
    "temperature": 10.0,
    "epsilon": 1e-4,
    "jes_step": 0.03,
}
_EDGES = np.linspace(50.0, 550.0, 26)
_MODES = {"private": 0, "deterministic": 1, "atomic": 2}


@dataclasses.dataclass(frozen=True)
class JetColumns:
    """Jets of the selected events: jets of event i are ``offsets[i]`` to
    ``offsets[i + 1] - 1`` of the float64 jet columns; ``ok`` is the hard jet mask
    (1.0 or 0.0) and ``weight`` one number per event. All numpy, or all CuPy."""

    offsets: Any
    pt: Any
    eta: Any
    phi: Any
    mass: Any
    btag: Any
    ok: Any
    weight: Any

    @property
    def n_events(self) -> int:
        return int(self.offsets.shape[0]) - 1

    @property
    def on_device(self) -> bool:
        return _device.is_device_array(self.pt)

    def arrays(self) -> tuple[Any, ...]:
        """The columns in the kernels' order."""
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))


def columns_from_branches(
    branches: Mapping[str, Any], btag: str = "Jet_btagCSVV2", select: bool = True
) -> JetColumns:
    """`JetColumns` from flat NanoAOD-like branches (counts ``nJet``, ``nElectron``,
    ``nMuon`` and the objects' columns one after the other), with the AGC's hard event
    selection applied when ``select``. Raises ValueError when an event has more jets
    than the kernels hold (``_core.agc_relaxed.max_jets``).

    Examples
    --------
    >>> import numpy as np
    >>> from diffana.generators.agc import make_chunk
    >>> b = make_chunk("ttbar", 200, np.random.default_rng(1))
    >>> cols = columns_from_branches(b)
    >>> 0 < cols.n_events < 200, cols.offsets[0]
    (True, np.int64(0))
    """

    def f64(name: str) -> np.ndarray[Any, Any]:
        return np.asarray(branches[name], dtype=np.float64)

    n_jet = np.asarray(branches["nJet"], dtype=np.int64)
    eta = f64("Jet_eta")
    # The configuration compares the float32 branch with 2.4 in double: so here.
    ok = (np.abs(eta) < 2.4) & ((np.asarray(branches["Jet_jetId"]) & 4) != 0)
    event = np.repeat(np.arange(n_jet.size), n_jet)
    keep = np.ones(n_jet.size, dtype=bool)
    if select:
        n_ok = np.bincount(event, weights=ok, minlength=n_jet.size)
        keep = (n_ok >= 4) & (_tight_leptons(branches) == 1)
    jet_keep = keep[event]
    counts = n_jet[keep]
    limit = int(_core.agc_relaxed.max_jets)
    if counts.size and int(counts.max()) > limit:
        msg = (
            f"an event has {int(counts.max())} jets; the relaxed AGC kernels hold at "
            f"most {limit} per event"
        )
        raise ValueError(msg)
    return JetColumns(
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        pt=f64("Jet_pt")[jet_keep],
        eta=eta[jet_keep],
        phi=f64("Jet_phi")[jet_keep],
        mass=f64("Jet_mass")[jet_keep],
        btag=f64(btag)[jet_keep],
        ok=ok[jet_keep].astype(np.float64),
        weight=f64("genWeight")[keep],
    )


def _tight_leptons(b: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    """Tight electrons plus tight muons per event (the configuration's filter)."""

    def count(prefix: str, passed: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        n = np.asarray(b[f"n{prefix}"], dtype=np.int64)
        event = np.repeat(np.arange(n.size), n)
        return np.bincount(event, weights=passed, minlength=n.size)

    def f(name: str) -> np.ndarray[Any, Any]:
        return np.asarray(b[name], dtype=np.float64)

    el = (
        (f("Electron_pt") > 30)
        & (np.abs(f("Electron_eta")) < 2.1)
        & (np.asarray(b["Electron_cutBased"]) == 4)
        & (f("Electron_sip3d") < 4)
    )
    mu = (
        (f("Muon_pt") > 30)
        & (np.abs(f("Muon_eta")) < 2.1)
        & np.asarray(b["Muon_tightId"], dtype=bool)
        & (f("Muon_sip3d") < 4)
        & (f("Muon_pfRelIso04_all") < 0.15)
    )
    total: np.ndarray[Any, Any] = count("Electron", el) + count("Muon", mu)
    return total


def to_device(columns: JetColumns) -> JetColumns:
    """The columns copied to the current CUDA device (CuPy), once; `DeviceError`
    where there is none or diffana has no CUDA kernels."""
    _device.require_cuda("to_device asks for the GPU")
    cp = _device._cupy("to_device")
    return JetColumns(*(cp.asarray(a) for a in columns.arrays()))


def _param_vector(params: Mapping[str, float] | None) -> list[float]:
    values = dict(DEFAULTS)
    for name, v in (params or {}).items():
        if name not in values:
            msg = f"unknown parameter {name!r}; the step knows {list(DEFAULTS)}"
            raise ValueError(msg)
        values[name] = float(v)
    return [values[k] for k in DEFAULTS]


def step(
    columns: JetColumns,
    params: Mapping[str, float] | None = None,
    edges: tuple[Any, Any] = (_EDGES, _EDGES),
    bandwidth: tuple[float, float] = (10.0, 10.0),
    overflow: str = "drop",
    mode: str = "private",
) -> dict[str, GradHistogram]:
    """The 4j1b and 4j2b histograms at ``params`` (missing ones: `DEFAULTS`), with
    Jacobians w.r.t. `PARAMS`; on the GPU when the columns are there (``mode``: the
    CUDA fill mode, "private", "deterministic" or "atomic"), else the CPU twin.
    The histograms are unscaled sums of the event weights.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana.generators.agc import make_chunk
    >>> cols = columns_from_branches(make_chunk("ttbar", 300, np.random.default_rng(2)))
    >>> h = step(cols, {"pt_cut": 32.0})
    >>> h["4j2b"].jacobian.shape, h["4j2b"].param_names
    ((25, 3), ('pt_cut', 'btag_cut', 'jes'))
    """
    p = _param_vector(params)
    code = _checks.Overflow.of(overflow)
    e0, e1 = (np.asarray(_checks.edges(e, f"edges[{i}]")) for i, e in enumerate(edges))
    bw = [float(b) for b in bandwidth]
    nb0 = e0.size - 1
    if columns.on_device:
        if mode not in _MODES:
            msg = f"mode must be one of {list(_MODES)}, got {mode!r}"
            raise ValueError(msg)
        cuda = _device.require_cuda("the jet columns are on a CUDA device")
        cp = _device._cupy("the jet columns")
        d0, d1 = cp.asarray(e0), cp.asarray(e1)
        nb = nb0 + e1.size - 1
        outs = [cp.zeros(nb), cp.zeros(nb), cp.zeros((nb, 3)), cp.zeros((nb, 3))]
        skipped = cp.zeros(1, dtype=cp.int64)
        cols = [int(a.data.ptr) for a in columns.arrays()]
        status = cuda.agc_relaxed_step(
            cols, columns.n_events, p, int(d0.data.ptr), nb0, bw[0],
            int(d1.data.ptr), e1.size - 1, bw[1], int(code),
            [*(int(o.data.ptr) for o in outs), int(skipped.data.ptr)],
            _MODES[mode], int(cp.cuda.get_current_stream().ptr),
        )  # fmt: skip
        if status != 0:
            msg = f"diffana_cuda_agc_relaxed_step_f64 failed with status {status}"
            raise ValueError(msg)
        values, sumw2, jac, sumw2_jac = (o.get() for o in outs)
        n_skipped = int(skipped.get()[0])
    else:
        c = columns
        values, sumw2, jac, sumw2_jac, n_skipped = _core.agc_relaxed.step(
            c.offsets, c.pt, c.eta, c.phi, c.mass, c.btag, c.ok, c.weight,
            p, e0, bw[0], e1, bw[1], int(code),
        )  # fmt: skip
    out = {}
    for name, sl, e, h in (
        (CHANNELS[0], slice(0, nb0), e0, bw[0]),
        (CHANNELS[1], slice(nb0, None), e1, bw[1]),
    ):
        out[name] = GradHistogram(
            values[sl], sumw2[sl], jac[sl], sumw2_jac[sl], e, h or None, str(code),
            n_skipped, param_names=PARAMS,
        )  # fmt: skip
    return out
