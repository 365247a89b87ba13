# SPDX-License-Identifier: BSD-3-Clause
"""Ctrl-C (SIGINT) of an optimization whose event loops run on a Dask cluster
(``workers=1``, a LocalCluster started by the run) leaves the output folder as
without one: exit status 130 and one line, the last complete step's checkpoint, no
half-written file and no completion marker; resuming it (here without a cluster:
the checkpoint's objective must come out the same, within 1e-9) completes the
run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("optax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("distributed", reason="dask.distributed is missing")

from diffana.analysis import demo, driver, outputs
from diffana.generators import toy

pytestmark = [pytest.mark.root]

SCRIPT = """
import sys
from diffana.analysis import run
from diffana.cli._analysis import report_or_status

status = report_or_status(
    "diffana optimize",
    lambda: run(sys.argv[1], out=sys.argv[2], quiet=True, plots=False, workers=1),
)
sys.exit(status if isinstance(status, int) else 0)
"""


def test_sigint_with_a_cluster_keeps_the_folder_consistent(tmp_path):
    toy.generate(tmp_path / "samples", seed=5, events=1000)
    raw = yaml.safe_load(demo.config_path().read_text())
    raw["optimizer"] = {"name": "adam", "learning_rate": 0.05, "steps": 40}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(path), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    step = -1
    while step < 2 and time.monotonic() < deadline:
        ck = out / outputs.CHECKPOINT
        if ck.exists():
            with contextlib.suppress(ValueError, KeyError):  # being replaced
                step = json.loads(ck.read_text())["step"]
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        time.sleep(0.05)
    assert step >= 2, "no checkpoint in time"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    assert "--resume continues it" in err
    assert "Traceback" not in err
    assert not (out / outputs.MARKER).exists()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    state = json.loads((out / outputs.CHECKPOINT).read_text())
    assert state["step"] >= 2
    rep = driver.run(path, out=out, quiet=True, plots=False, resume=True)
    assert rep["history"][: state["step"] + 1] == state["history"]
    assert (out / outputs.MARKER).exists()
