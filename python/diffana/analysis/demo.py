# SPDX-License-Identifier: BSD-3-Clause
"""The main job of the README (``make demo``, ``diffana demo``).

A toy search for a dijet resonance, end to end: the built-in event generator
(`diffana.generate`, seeded) writes NanoAOD-like ROOT files for a signal and two
backgrounds into ``OUT/samples``, and the shipped configuration
``diffana/examples/demo.yaml`` (copied to ``OUT/demo.yaml``) is run by
`diffana.analysis.driver.run`, as ``diffana optimize OUT/demo.yaml --out OUT`` would.

The analysis optimizes two parameters: a soft cut on a tagger score (``disc_cut``)
and a soft cut on the subleading jet pT (``pt2_cut``), each a sigmoid step whose
width is a relaxation scale (``disc_width``, ``pt_width``). The observable is the
dijet mass in GeV, in fixed bins (eight of 20 GeV from 320 to 480 GeV). The event
loop (RDataFrame through `diffana.rdf.DiffFrame`, forward mode) fills the histograms
of every sample and systematic variation (jet energy scale, pile-up weights) with
their Jacobians; JAX gives the gradient of the expected discovery significance (the
profile likelihood of a HistFactory model with every systematic and the MC
statistics inside the fit, `diffana.stats`) w.r.t. the bins; their product is the
gradient w.r.t. the parameters, with which optax (adam) climbs to the optimum.

It logs (the command line prints) the objective and parameters before and after,
the starting gradient next to central finite differences and the hard analysis'
objective (step widths 0) at the start and at the end, and writes ``report.json``,
the pyhf workspaces and the plots (PNG and PDF) into ``OUT``.

May import `diffana.analysis.driver` and `diffana.generators.toy` (inside `run`).
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
from importlib import resources
from typing import Any

__all__ = ["config_path", "run"]

log = logging.getLogger(__name__)


def config_path() -> pathlib.Path:
    """The shipped example configuration (``diffana/examples/demo.yaml``)."""
    return pathlib.Path(str(resources.files("diffana") / "examples" / "demo.yaml"))


def run(
    out: str | os.PathLike[str] = "out/demo",
    seed: int = 1,
    events: int | None = None,
    steps: int | None = None,
    threads: int | None = None,
    quiet: bool = False,
    plots: bool = True,
    check_gradient: bool = True,
) -> dict[str, Any]:
    """Generate the samples, run the demo configuration; returns the report."""
    from ..generators import toy as generate
    from .driver import run as run_analysis

    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    n = generate.DEFAULT_EVENTS if events is None else int(events)
    paths = generate.generate(folder / "samples", seed=seed, events=n)
    if not quiet:
        log.info(
            "generated %d events (seed %d): %s",
            n,
            seed,
            ", ".join(map(str, paths.values())),
        )
    config = folder / "demo.yaml"
    shutil.copyfile(config_path(), config)
    overrides = [] if steps is None else [f"optimizer.steps={int(steps)}"]
    return run_analysis(
        config,
        out=folder,
        quiet=quiet,
        overrides=overrides,
        check_gradient=check_gradient,
        plots=plots,
        threads=threads,
        force=True,  # a new demo replaces the last one (moved into previous/)
    )
