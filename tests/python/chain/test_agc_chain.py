# SPDX-License-Identifier: BSD-3-Clause
"""The AGC analysis (examples/agc/agc.yaml, generated AGC-like samples of 3 x 2000
events) run as a chain of programs passing files: ``diffana evaluate --out
--outgrad`` -> ``diffana infer`` -> ``diffana backward``, as subprocesses, and
infer/backward again in-process on the same files.

The gradient that travels through the files equals the in-memory gradient of
`diffana.analysis.Analysis.evaluate` (what ``diffana optimize`` steps with) within
1e-10 relative, forward (g^T J) and backward (the yields' cotangents contracted
with the yields' Jacobian).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("pydantic")
pytest.importorskip("yaml")
pytest.importorskip("uproot")

from diffana.analysis import Analysis
from diffana.analysis import config as dc
from diffana.chain import (
    ChainError,
    backward,
    contract,
    infer,
    read_gradient,
    seed_cotangent,
)
from diffana.chain.yields import KEYS
from diffana.generators import agc as generate_agc

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "agc" / "agc.yaml"
RTOL = 1e-10


def _diffana(*args, cwd):
    """``python -m diffana ARGS`` in ``cwd``, on this source tree."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    done = subprocess.run(
        [sys.executable, "-m", "diffana", *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The AGC samples, the chain's files (made by subprocesses) and the in-memory
    evaluation at the configuration's point."""
    folder = tmp_path_factory.mktemp("agc_chain")
    generate_agc.generate(folder / "samples", seed=5, events=2000)
    cfg = folder / "agc.yaml"
    cfg.write_text(EXAMPLE.read_text())
    _diffana("evaluate", cfg, "--quiet", "--out", "yields.json",
             "--outgrad", "yields_grad.json", cwd=folder)  # fmt: skip
    _diffana("infer", cfg, "--in", "yields.json", "--ingrad", "yields_grad.json",
             "--out", "result.json", "--outgrad", "result_grad.json",
             "--saveforback", "back.json", cwd=folder)  # fmt: skip
    _diffana("backward", "--cfg", "back.json", "--seed", "1.0",
             "--ingrad", "yields_cot.json", cwd=folder)  # fmt: skip
    config = dc.load(cfg)
    memory = Analysis(config, source=str(cfg)).evaluate()
    return folder, config, memory


def test_forward_through_files_equals_in_memory(chain):
    folder, config, memory = chain
    names = [p.name for p in config.parameters]
    result = json.loads((folder / "result.json").read_text())
    assert result["objective"]["value"] == pytest.approx(memory.objective, rel=RTOL)
    _, tangents = read_gradient(
        folder / "result_grad.json", folder / "result.json", "forward", names
    )
    forward = np.asarray(tangents["objective"]["value"])
    expected = np.asarray([memory.gradient[n] for n in names])
    np.testing.assert_allclose(forward, expected, rtol=RTOL, atol=0.0)
    assert np.count_nonzero(expected) >= 4  # pt_cut, btag_cut, jes, widths


def test_backward_through_files_equals_in_memory(chain):
    folder, config, memory = chain
    names = [p.name for p in config.parameters]
    y = folder / "yields.json"
    _, cot = read_gradient(folder / "yields_cot.json", y, "backward", names)
    _, jac = read_gradient(folder / "yields_grad.json", y, "forward", names)
    expected = np.asarray([memory.gradient[n] for n in names])
    np.testing.assert_allclose(contract(cot, jac, KEYS), expected, rtol=RTOL, atol=0.0)


def test_in_process_stages_equal_the_programs(chain, tmp_path):
    """infer and backward called in-process on the files of the subprocess chain,
    the result's cotangent as a file: the same numbers."""
    folder, config, memory = chain
    names = [p.name for p in config.parameters]
    y, g = folder / "yields.json", folder / "yields_grad.json"
    r, back = tmp_path / "result.json", tmp_path / "back.json"
    out = infer(config, y, r, ingrad=g, saveforback=back)
    program = json.loads((folder / "result_grad.json").read_text())
    assert [out["gradient"][n] for n in names] == program["gradient"]["objective"][
        "value"
    ]
    expected = np.asarray([memory.gradient[n] for n in names])
    np.testing.assert_allclose(
        [out["gradient"][n] for n in names], expected, rtol=RTOL, atol=0.0
    )
    seed_cotangent(r, tmp_path / "result_cot.json", 1.0)
    backward(back, tmp_path / "yields_cot.json", tmp_path / "result_cot.json")
    _, cot = read_gradient(tmp_path / "yields_cot.json", y, "backward", names)
    _, jac = read_gradient(g, y, "forward", names)
    np.testing.assert_allclose(contract(cot, jac, KEYS), expected, rtol=RTOL, atol=0.0)
    # The pairing is by content: this result file has the program's bytes, so its
    # cotangent also fits the program's saved map.
    assert r.read_bytes() == (folder / "result.json").read_bytes()
    backward(folder / "back.json", tmp_path / "x.json", tmp_path / "result_cot.json")
    with pytest.raises(ChainError, match="belongs to the values file"):
        read_gradient(tmp_path / "x.json", folder / "result.json", "backward")


def test_evaluate_outgrad_needs_out(chain):
    folder, _, _ = chain
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    done = subprocess.run(
        [sys.executable, "-m", "diffana", "evaluate", "agc.yaml", "--outgrad", "g.json"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "diffana evaluate: error: --outgrad needs --out: the yields file the "
        "gradient belongs to\n"
    )
