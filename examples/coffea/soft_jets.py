# SPDX-License-Identifier: BSD-3-Clause
"""A coffea processor that fills diffana gradient histograms with a soft jet-pT cut.

Every jet gets the weight ``w = sigmoid(slope * (pt - cut))`` instead of a hard
``pt > cut``, and diffana carries ``d w / d cut`` into the histograms: the processor
returns, per dataset, the jet-pT histogram and the dijet-mass histogram of the two
leading jets (event weight ``w1 * w2``), each with its Jacobian with respect to the
cut, and the number of events. The output is a dict of gradient histograms, which
coffea's ``processor.accumulate`` (and so any coffea executor) adds chunk by chunk.

Input: NanoEvents (``events.Jet`` with ``pt``, ``eta``, ``phi``, ``mass``; NanoAOD's
float32 is read without copies and converted to float64 once), or any awkward array of
events with a ``Jet`` field of four-vector records (e.g. vector's ``Momentum4D``).

Run on a NanoAOD file (default: the ttbar sample in ../shared/data)::

    PYTHONPATH=python python examples/coffea/soft_jets.py [file.root]

Imports numpy, awkward, coffea and diffana.awkward.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
from coffea import processor

import diffana.awkward as dak

PT_EDGES = np.linspace(0.0, 300.0, 31)
MJJ_EDGES = np.linspace(0.0, 1000.0, 21)


class SoftJetProcessor(processor.ProcessorABC):
    """Jet pT and dijet mass with a soft pT cut, differentiable in the cut.

    Parameters
    ----------
    cut : float
        The soft cut's position in GeV.
    slope : float
        Its steepness in 1/GeV (``w = sigmoid(slope * (pt - cut))``).
    """

    def __init__(self, cut: float = 30.0, slope: float = 0.5) -> None:
        self.cut = cut
        self.slope = slope

    def process(self, events: Any) -> dict[str, Any]:
        metadata = getattr(events, "metadata", None) or {}
        dataset = metadata.get("dataset", "events")
        jets = events.Jet
        # d w / d cut for every jet: the Jacobian's one parameter, named "cut"
        w = dak.soft_cut(jets.pt, self.cut, self.slope, cut_tangents=[1.0])
        jet_pt = dak.histogram(
            jets.pt, PT_EDGES, weights=w.value, weight_tangents=w.tangents
        )

        # The two leading jets as four-vector records: no field-by-field unpacking.
        two = ak.num(jets) >= 2
        j1, j2 = jets[two][:, 0], jets[two][:, 1]
        mjj = dak.invariant_mass(j1, j2)
        w1, w2 = w.value[two][:, 0], w.value[two][:, 1]
        t1, t2 = w.tangents[two][:, 0], w.tangents[two][:, 1]
        weight = w1 * w2  # product rule for its tangents
        weight_tangents = t1 * w2[:, np.newaxis] + w1[:, np.newaxis] * t2
        dijet = dak.histogram(
            mjj.value, MJJ_EDGES, weights=weight, weight_tangents=weight_tangents
        )

        for h in (jet_pt, dijet):
            h.param_names = ("cut",)
        return {dataset: {"jet_pt": jet_pt, "mjj": dijet, "n_events": len(events)}}

    def postprocess(self, accumulator: Any) -> Any:
        return accumulator


def main(path: str) -> None:
    """Runs the processor with coffea's iterative executor in chunks of 50 events."""
    from coffea.nanoevents import NanoAODSchema

    run = processor.Runner(
        executor=processor.IterativeExecutor(), schema=NanoAODSchema, chunksize=50
    )
    out = run(
        {"ttbar": {"files": {path: "Events"}}}, processor_instance=SoftJetProcessor()
    )
    for name, h in out["ttbar"].items():
        if name == "n_events":
            print(f"{name}: {h}")
            continue
        print(
            f"{name}: sum of weights {h.values.sum():.2f}, "
            f"d/d cut {h.jacobian[:, 0].sum():.4f} per GeV"
        )


if __name__ == "__main__":
    default = (
        Path(__file__).parents[2] / ".." / "shared" / "data" / "coffea_nano_tt_v12.root"
    )
    main(sys.argv[1] if len(sys.argv) > 1 else str(default))
