# SPDX-License-Identifier: BSD-3-Clause
"""Nothing lost, nothing silently wrong in a run of ``diffana optimize``: the
optimizer stops on NaN/inf with the last good point, names parameters whose gradient
is exactly zero, reports the best point; the output folder is checked and locked
before the first event loop, written atomically with a marker of completion, a
previous run is refused or moved aside; a checkpoint after every step lets an
interrupted run (SIGINT, SIGTERM, in the loop or while writing) continue to the same
result as an uninterrupted one."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("optax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
pytest.importorskip("uproot")

from diffana.analysis import (
    Analysis,
    ConfigError,
    ObjectiveError,
    Status,
    demo,
    driver,
    optimizer,
    outputs,
)
from diffana.analysis import config as dc
from diffana.generators import toy as generate

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("safety")
    generate.generate(path / "samples", seed=5, events=4000)
    return path


@pytest.fixture(scope="module")
def raw():
    r = yaml.safe_load(demo.config_path().read_text())
    r["optimizer"] = {"name": "adam", "learning_rate": 0.05, "steps": 4}
    return r


def write(folder, raw, name):
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def analysis(folder, raw):
    path = write(folder, raw, "base.yaml")
    return Analysis(dc.load(path), source=str(path))


@pytest.fixture(scope="module")
def reference(analysis):
    """The uninterrupted optimization."""
    return optimizer.optimize(analysis)


def same_run(a, b):
    assert [h["step"] for h in a.history] == [h["step"] for h in b.history]
    for x, y in zip(a.history, b.history, strict=True):
        assert x["params"] == y["params"]
        assert x["objective"] == y["objective"]
    assert a.final.params == b.final.params
    assert a.status == b.status


class Stop(Exception):
    pass


@pytest.mark.parametrize("after", [1, 2, 4])
def test_resume_from_any_checkpoint_gives_the_same_result(analysis, reference, after):
    """Interrupted after ``after`` steps' checkpoints (4: after the last step, as
    when the outputs are being written), resumed through a JSON round trip of the
    state: the same trajectory, bit for bit."""
    states = []

    def checkpoint(state):
        states.append(json.loads(json.dumps(state)))
        if len(states) == after:
            raise Stop

    with pytest.raises(Stop):
        optimizer.optimize(analysis, checkpoint=checkpoint)
    resumed = optimizer.optimize(analysis, resume=states[-1])
    same_run(resumed, reference)
    assert resumed.best_step == reference.best_step


def test_best_point_and_objective_direction(reference):
    objectives = [h["objective"] for h in reference.history]
    assert reference.best["objective"] == max(objectives)  # maximized
    assert reference.best_step == int(np.argmax(objectives))


def _poisoned(analysis, at_call, field, value):
    """An Analysis whose ``at_call``-th evaluate returns ``value`` in ``field``."""
    calls = {"n": 0}
    real = analysis.evaluate

    def evaluate(params=None):
        ev = real(params)
        calls["n"] += 1
        if calls["n"] == at_call:
            if field == "objective":
                return dataclasses.replace(ev, objective=value)
            grad = dict(ev.gradient)
            grad["pt2_cut"] = value
            return dataclasses.replace(ev, gradient=grad)
        return ev

    proxy = copy.copy(analysis)
    proxy.evaluate = evaluate
    return proxy


@pytest.mark.parametrize(
    ("field", "value"),
    [("objective", float("nan")), ("gradient", float("inf")), ("gradient", np.nan)],
)
def test_a_non_finite_step_stops_at_the_last_good_point(
    analysis, reference, field, value
):
    res = optimizer.optimize(_poisoned(analysis, 3, field, value))
    assert res.status is Status.NON_FINITE
    assert "step 2" in res.message
    expected = (
        "gradient is not finite for pt2_cut"
        if field == "gradient"
        else "objective is nan"
    )
    assert expected in res.message
    assert len(res.history) == 2
    assert res.final.params == reference.history[1]["params"]
    assert np.isfinite(res.final.objective)


def test_a_non_finite_start_is_an_error_naming_it(analysis):
    with pytest.raises(ObjectiveError, match=r"starting point.*gradient.*pt2_cut"):
        optimizer.optimize(_poisoned(analysis, 1, "gradient", np.nan))


def test_a_saturated_cut_is_named_not_converged(folder, raw):
    """A soft cut of slope 1e12 has a gradient of exactly 0: the parameter is named
    (a warning) and, when nothing can move, the run stops as zero_gradient rather
    than 'converged after 1 steps'."""
    r = copy.deepcopy(raw)
    r["selections"][1] = {"soft_filter": "diffana::soft_cut(disc, disc_cut, 1e12)"}
    r["optimizer"]["tolerance"] = 1e-3
    for p in r["parameters"]:
        p["optimize"] = p["name"] == "disc_cut"
    path = write(folder, r, "saturated.yaml")
    res = optimizer.optimize(Analysis(dc.load(path), source=str(path)))
    assert res.status is Status.ZERO_GRADIENT
    assert len(res.history) == 1
    assert len(res.warnings) == 1
    assert "disc_cut" in res.warnings[0]
    assert "saturated" in res.warnings[0]


# -- the output folder --------------------------------------------------------------


def test_output_folder_states(tmp_path):
    out = tmp_path / "run"
    with outputs.RunFolder(out) as f:
        with pytest.raises(outputs.OutputError, match="another diffana run"):
            outputs.RunFolder(out).__enter__()
        f.write_json("report.json", {"a": 1})
        f.save_checkpoint({"format": 1, "step": 1})
    # An interrupted run: refused, or resumed, or moved aside.
    with pytest.raises(outputs.OutputError, match=r"interrupted run.*--resume"):
        outputs.RunFolder(out).__enter__()
    with outputs.RunFolder(out, resume=True) as f:
        assert f.load_checkpoint()["step"] == 1
        f.complete(["report.json"])
    assert not (out / outputs.CHECKPOINT).exists()
    with pytest.raises(outputs.OutputError, match=r"complete run.*--force"):
        outputs.RunFolder(out).__enter__()
    with pytest.raises(outputs.OutputError, match="nothing to resume"):
        outputs.RunFolder(out, resume=True).__enter__()
    with outputs.RunFolder(out, force=True):
        pass
    assert sorted(p.name for p in (out / "previous").iterdir()) == [
        "report.json",
        outputs.MARKER,
    ]
    assert not (out / "report.json").exists()
    # A file where the folder belongs; a folder where a file belongs.
    (tmp_path / "file").write_text("x")
    with pytest.raises(outputs.OutputError, match="a file, not a folder"):
        outputs.RunFolder(tmp_path / "file").__enter__()
    with pytest.raises(outputs.OutputError, match="is a file"):
        outputs.RunFolder(tmp_path / "file" / "sub").__enter__()
    with pytest.raises(outputs.OutputError, match="a folder, not a file"):
        outputs.check_file_target(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(outputs.OutputError, match="no permission"):
            outputs.RunFolder(tmp_path / "run").__enter__()
    finally:
        tmp_path.chmod(0o700)


def test_an_interrupted_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")

    def boom(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        outputs.write_atomic(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_output_problems_are_found_before_the_first_event_loop(folder, raw, tmp_path):
    path = write(folder, raw, "outputs.yaml")
    (tmp_path / "file").write_text("x")
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"--out .*a file, not a folder"):
        driver.run(path, out=tmp_path / "file", quiet=True)
    with pytest.raises(ConfigError, match=r"--json .*a folder, not a file"):
        driver.run(path, json_file=tmp_path, quiet=True)
    r = copy.deepcopy(raw)
    r["observables"][0]["label"] = r"$\frac{a$"
    bad = write(folder, r, "label.yaml")
    with pytest.raises(ConfigError, match=r"observables\[0\]\.label: matplotlib"):
        driver.run(bad, out=tmp_path / "run", quiet=True)
    assert time.perf_counter() - t0 < 30  # no event loop ran (that would compile)
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_an_interrupt_while_writing_keeps_a_resumable_run(
    folder, raw, tmp_path, monkeypatch
):
    """SIGINT while the plots are written: no marker, the finished checkpoint
    stays; --resume writes the outputs of the same result."""
    path = write(folder, raw, "writing.yaml")
    out = tmp_path / "run"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(driver, "plot", interrupted)
        with pytest.raises(driver.RunInterrupted, match="--resume") as err:
            driver.run(path, out=out, quiet=True)
    assert err.value.signum == signal.SIGINT
    assert not (out / outputs.MARKER).exists()
    assert (out / outputs.CHECKPOINT).exists()
    first = json.loads((out / "report.json").read_text())
    other = copy.deepcopy(raw)
    other["optimizer"]["learning_rate"] = 0.01
    with pytest.raises(ConfigError, match=r"another configuration.*optimizer"):
        driver.run(write(folder, other, "other.yaml"), out=out, quiet=True, resume=True)
    rep = driver.run(path, out=out, quiet=True, resume=True)
    assert rep["final"] == first["final"]
    marker = json.loads((out / outputs.MARKER).read_text())
    assert "report.json" in marker["files"]
    assert "optimization.png" in marker["files"]
    assert not (out / outputs.CHECKPOINT).exists()
    with pytest.raises(ConfigError, match="nothing to resume"):
        driver.run(path, out=out, quiet=True, resume=True)
    assert "best" in rep
    assert rep["gradient_norm"]["final"] >= 0
    assert rep["warnings"] == []
    # The demo's samples have no NaN/inf weights: every count is there, and zero.
    skipped = rep["skipped_events"]["final"]["signal"]
    assert skipped["events"] == round(4000 * generate.SAMPLES["signal"])
    assert set(skipped["skipped"]["sr"].values()) == {0}


# -- signals, end to end --------------------------------------------------------------


def _cli(*args):
    return [sys.executable, "-m", "diffana", *map(str, args)]


def _wait_for_step(out, step, proc, timeout=240):
    t0 = time.time()
    while time.time() - t0 < timeout:
        ck = out / outputs.CHECKPOINT
        if ck.exists():
            try:
                if json.loads(ck.read_text())["step"] >= step:
                    return
            except (ValueError, KeyError):
                pass
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        time.sleep(0.05)
    pytest.fail("no checkpoint in time")


def _interrupt(cmd, out, step, sig):
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for_step(out, step, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + int(sig), err
    assert "--resume continues it" in err
    assert "Traceback" not in err
    assert not (out / outputs.MARKER).exists()


@pytest.fixture(scope="module")
def uninterrupted(folder, raw, tmp_path_factory):
    path = write(folder, raw, "signals.yaml")
    out = tmp_path_factory.mktemp("whole")
    return path, driver.run(path, out=out, quiet=True, plots=False)


def test_sigint_to_the_command_leaves_a_checkpoint_that_resume_continues(
    uninterrupted, tmp_path
):
    """Ctrl-C (SIGINT) to ``diffana optimize`` after step 2: exit status 130, one
    line, no marker; the same command with --resume (here in this process) ends
    with the report of the uninterrupted run."""
    path, whole = uninterrupted
    out = tmp_path / "cut"
    _interrupt(_cli("optimize", path, "--out", out, "--quiet"), out, 2, signal.SIGINT)
    rep = driver.run(path, out=out, quiet=True, resume=True)
    assert rep["final"] == json.loads(json.dumps(whole["final"]))
    assert [h["params"] for h in rep["history"]] == [
        h["params"] for h in whole["history"]
    ]
    assert (out / outputs.MARKER).exists()


@pytest.mark.parametrize(
    ("sig", "after"), [(signal.SIGTERM, 1), (signal.SIGINT, 3)], ids=["TERM", "INT"]
)
def test_signals_during_the_loop_resume_to_the_same_result(
    uninterrupted, tmp_path, monkeypatch, sig, after
):
    """The signal is delivered to this process (the handlers are the real ones)
    right after step ``after``'s checkpoint."""
    path, whole = uninterrupted
    save = outputs.RunFolder.save_checkpoint

    def save_then_signal(self, state):
        save(self, state)
        if state["step"] == after and state["finished"] is None:
            os.kill(os.getpid(), sig)

    out = tmp_path / "cut"
    with monkeypatch.context() as m:
        m.setattr(outputs.RunFolder, "save_checkpoint", save_then_signal)
        with pytest.raises(driver.RunInterrupted, match="--resume") as err:
            driver.run(path, out=out, quiet=True, plots=False)
    assert err.value.signum == sig
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or sig != signal.SIGTERM
    assert json.loads((out / outputs.CHECKPOINT).read_text())["step"] == after
    rep = driver.run(path, out=out, quiet=True, plots=False, resume=True)
    assert rep["final"] == json.loads(json.dumps(whole["final"]))
    assert rep["status"] == whole["status"]


def test_an_interrupt_swallowed_on_the_way_still_stops_the_run(
    uninterrupted, tmp_path, monkeypatch
):
    """A SIGINT whose KeyboardInterrupt something catches (as a JAX computation or
    a C++ call can turn it into an ordinary error) still ends the run as
    interrupted: no marker, the checkpoint of the last step before it."""
    path, whole = uninterrupted
    save = outputs.RunFolder.save_checkpoint

    def save_then_swallowed_signal(self, state):
        save(self, state)
        if state["step"] == 2 and state["finished"] is None:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)  # the handler runs here
            except KeyboardInterrupt:
                pass

    out = tmp_path / "cut"
    with monkeypatch.context() as m:
        m.setattr(outputs.RunFolder, "save_checkpoint", save_then_swallowed_signal)
        with pytest.raises(driver.RunInterrupted, match="--resume") as err:
            driver.run(path, out=out, quiet=True, plots=False)
    assert err.value.signum == signal.SIGINT
    assert not (out / outputs.MARKER).exists()
    assert json.loads((out / outputs.CHECKPOINT).read_text())["step"] == 2
    rep = driver.run(path, out=out, quiet=True, plots=False, resume=True)
    assert rep["final"] == json.loads(json.dumps(whole["final"]))


def test_a_gradient_that_vanishes_on_the_way_is_named(analysis):
    """The last step's gradient for pt2_cut is exactly 0 (it ran into a saturated
    relaxation): a warning says so, with the step."""
    res = optimizer.optimize(_poisoned(analysis, 5, "gradient", 0.0))
    assert res.status is Status.MAX_STEPS
    assert [w.split(" is exactly")[0] for w in res.warnings] == [
        "d objective / d pt2_cut"
    ]
    assert "at the end (step 4)" in res.warnings[0]
