# SPDX-License-Identifier: BSD-3-Clause
"""Compares the compiled Clad RDataFrame program (clad_rdf_program.cpp) with
diffana.rdf.DiffFrame on the same toy events, to 1e-10 relative: the summed per-event
weight and its gradient w.r.t. (jes, pt_cut, lo, hi), and the loss of the program's
two-pass adjoint, sum_b (h_b - t_b)^2 over a soft-binned histogram of the dijet mass,
with its gradient (DiffFrame: the histogram's forward-mode Jacobian, chained into the
loss).

Usage: python compare_diffframe.py PROGRAM [N]   (exit status 0 when they agree)
May import: diffana.rdf, numpy, ROOT (through diffana.rdf).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from diffana.rdf import DiffFrame, _import_root

PARAMS = {"jes": 1.02, "pt_cut": 40.0, "lo": 80.0, "hi": 160.0}
# The toy events of the program, as the same double arithmetic.
COLUMNS = {
    "pt1": "30.0 + double(rdfentry_ * 37 % 100)",
    "pt2": "20.0 + double(rdfentry_ * 53 % 60)",
    "eta1": "-2.0 + 0.001 * double(rdfentry_ * 71 % 4000)",
    "eta2": "-2.0 + 0.001 * double(rdfentry_ * 29 % 4000)",
    "phi1": "-3.0 + 0.001 * double(rdfentry_ * 13 % 6000)",
    "phi2": "-3.0 + 0.001 * double(rdfentry_ * 97 % 6000)",
}
MASS = "diffana::invariant_mass(jes * pt1, eta1, phi1, 0.0, jes * pt2, eta2, phi2, 0.0)"
WEIGHT = (
    "diffana::soft_cut(jes * pt1, pt_cut, 0.2) * diffana::soft_window("
    "diffana::invariant_mass(jes * pt1, eta1, phi1, 0.0, jes * pt2, eta2, phi2, 0.0),"
    " lo, hi, 0.1)"
)


def diffframe_sums(n: int) -> dict[str, float]:
    """Sum of the weight and its gradient from one DiffFrame event loop."""
    root = _import_root()
    df = root.RDataFrame(n)
    for name, expr in COLUMNS.items():
        df = df.Define(name, expr)
    ddf = DiffFrame(df, params=PARAMS).define("one", "0.5").define("w", WEIGHT)
    r = ddf.histo("one", edges=np.array([0.0, 1.0]), weight="w").result()
    out = {"sum": float(r.values[0])}
    for k, name in enumerate(r.param_names):
        out[f"d/d{name}"] = float(r.jacobian[0, k])
    return out


# The adjoint's histogram and target (as in the program).
EDGES = np.arange(40.0, 401.0, 30.0)
BANDWIDTH = 12.0


def diffframe_loss(n: int) -> dict[str, float]:
    """The adjoint's loss and its gradient, from DiffFrame's histogram Jacobian."""
    root = _import_root()
    df = root.RDataFrame(n)
    for name, expr in COLUMNS.items():
        df = df.Define(name, expr)
    ddf = DiffFrame(df, params=PARAMS).define("m", MASS).define("w", WEIGHT)
    r = ddf.histo("m", edges=EDGES, weight="w", bandwidth=BANDWIDTH).result()
    target = 1e-3 * n * (6.0 - 0.4 * np.arange(len(EDGES) - 1))
    e = np.asarray(r.values) - target
    grad = 2.0 * e @ np.asarray(r.jacobian)
    out = {"loss": float(e @ e)}
    for k, name in enumerate(r.param_names):
        out[f"dL/d{name}"] = float(grad[k])
    return out


def program_output(program: str, n: int) -> tuple[str, dict[str, float]]:
    """The adjoint engine and the numeric `key = value` lines of the program."""
    text = subprocess.run(
        [program, str(n)], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    engine = "?"
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        if key == "engine":
            engine = value
        elif key != "events":
            out[key] = float(value)
    return engine, out


def main() -> int:
    program = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    engine, clad = program_output(program, n)
    dual = diffframe_sums(n) | diffframe_loss(n)
    print(f"     rdf adjoint engine of the program: {engine}")
    ok = True
    for key, want in dual.items():
        got = clad[key]
        good = abs(got - want) <= 1e-10 * max(1.0, abs(want))
        ok = ok and good
        print(
            f"{'ok  ' if good else 'FAIL'} rdf {key:10s} program {got:.15g} "
            f"DiffFrame {want:.15g}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
