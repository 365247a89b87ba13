# SPDX-License-Identifier: BSD-3-Clause
"""The two-pass adjoint on a Dask cluster: a configuration whose network's weights
are reverse-mode parameters (``networks.nn.gradient``) gives on 2 workers the
single-process objective and full gradient (1e-10), and the single-process weights'
gradient for random cotangents of every histogram (every variation, the
variances, a mirrored down variation), with each worker's graph evicted between
the passes (``graphs_per_worker=1``: pass 2 rebuilds, it runs no pass 1 again), and a
worker killed in the middle of pass 2 changes nothing; a
network of 801 weights (more than DiffFrame's 512 forward
parameters) runs on the cluster; batched steps give the weights' gradient forward
mode gives for the same batched histograms; the client's sum of the workers'
gradient vectors refuses a partial sum.

The objective is the Asimov significance (no fit): a fit's tolerance would turn
the partitions' other order of summation (1e-16) into 1e-10 differences of the
gradient. The random cotangents cover what it does not use. One ``LocalCluster``
of 2 worker processes (one thread each) serves the module."""

from __future__ import annotations

import copy
import gc
import os
import pathlib
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("uproot")
distributed = pytest.importorskip("distributed", reason="dask.distributed is missing")

from diffana.analysis import Analysis, SampleError, demo
from diffana.analysis import config as dc
from diffana.analysis.graph import Graph
from diffana.distributed import DaskGraph, Partition, cluster
from diffana.distributed.merge import AdjointResult, add_gradients
from diffana.generators import toy

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def client():
    """2 worker processes, one thread each; closed after the module."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The demo's toy samples (600 events each) in samples/."""
    path = tmp_path_factory.mktemp("dask_adjoint")
    toy.generate(path / "samples", seed=2, events=600)
    return path


@pytest.fixture(scope="module")
def raw():
    """The demo configuration with network ``nn`` (2 inputs, 3 hidden units, a
    sigmoid output; its gradient from the adjoint) as a soft selection, and the
    jet energy scale symmetrized (its down histogram mirrored from the up one)."""
    r = yaml.safe_load(demo.config_path().read_text())
    r["defines"]["pt2_s"] = "(pt2 - 100.0) / 50.0"
    r["networks"] = {
        "nn": {
            "inputs": ["pt2_s", "disc"],
            "layers": [3, 1],
            "output_activation": "sigmoid",
            "seed": 2,
            "gradient": "adjoint",
        }
    }
    r["selections"].append({"soft_filter": "nn"})
    jes = next(s for s in r["systematics"] if s["name"] == "jes")
    jes.pop("down")
    jes["symmetrize"] = True
    r["objective"] = {"type": "asimov_significance"}
    return r


def _load(folder: pathlib.Path, raw: dict, name: str, **network) -> dc.Config:
    r = copy.deepcopy(raw)
    r["networks"]["nn"].update(network)
    path = folder / name
    path.write_text(yaml.safe_dump(r, sort_keys=False))
    return dc.load(path)


def _point(config: dc.Config, seed: int) -> dict[str, float]:
    """Off the initial point (nothing on a symmetric value)."""
    p = dict(config.param_values)
    rng = np.random.default_rng(seed)
    for name in config.network("nn").param_names():
        p[name] += 0.1 * rng.normal()
    p["disc_cut"] = 0.31
    return p


def _assert_same_evaluation(local, dist) -> None:
    assert dist.objective == pytest.approx(local.objective, rel=1e-10)
    assert list(dist.gradient) == list(local.gradient)
    scale = max(abs(v) for v in local.gradient.values())
    for name, v in local.gradient.items():
        assert dist.gradient[name] == pytest.approx(v, abs=1e-10 * scale), name


def _local(config: dc.Config, params: dict[str, float]):
    a = Analysis(config, source="local")
    assert isinstance(a.graph, Graph)
    assert a.graph.reverse == ("nn",)
    ev = a.evaluate(params)
    del a
    gc.collect()  # its parameter block goes back to the pool
    return ev


def _random_cotangents(histos, rng) -> dict:
    return {
        s: {
            c: {v: (rng.normal(size=h.values.shape), rng.normal(size=h.values.shape))
                for v, h in hs.items()}
            for c, hs in chans.items()
        }
        for s, chans in histos.items()
    }  # fmt: skip


def test_equal_to_the_single_process_run(client, folder, raw):
    config = _load(folder, raw, "small.yaml")
    p = _point(config, 5)
    local = Analysis(config, source="local")
    assert isinstance(local.graph, Graph)
    assert local.graph.reverse == ("nn",)
    ev = local.evaluate(p)
    # 6 partitions on 2 workers keeping 1 graph each: pass 2 of a partition finds
    # its graph evicted by the pass 1 of another and builds it again.
    graph = DaskGraph(config, client, source="dask", graphs_per_worker=1,
                      per_file=2, reverse=["nn"])  # fmt: skip
    assert graph.reverse == ("nn",)
    analysis = Analysis(config, graph=graph)
    dist = analysis.evaluate(p)
    _assert_same_evaluation(ev, dist)
    h = dist.histograms["signal"]["sr"]["nominal"]
    assert h.param_names == tuple(pm.name for pm in config.parameters)
    weights = config.network("nn").param_names()
    assert any(dist.gradient[n] != 0.0 for n in weights)
    assert graph.n_loops == 2 * len(graph.partitions) == 12  # pass 1, pass 2
    assert graph.adjoint_timings[-1].partitions == 6
    # Every histogram seeded: variations, variances, the mirrored jes_down.
    assert "jes_down" in dist.histograms["signal"]["sr"]
    cot = _random_cotangents(ev.histograms, np.random.default_rng(3))
    want = local.graph.reverse_gradient(cot, ev.histograms)
    got = graph.reverse_gradient(cot, dist.histograms)
    assert list(got) == list(want) == list(weights)
    scale = max(abs(v) for v in want.values())
    for name, v in want.items():
        assert got[name] == pytest.approx(v, abs=1e-10 * scale), name
    graph.close()
    del local
    gc.collect()


def test_a_network_above_the_forward_limit_runs_on_a_cluster(client, folder, raw):
    """801 weights (2 inputs, 200 hidden units): ``auto`` takes the adjoint, which
    `diffana.distributed.cluster` keeps (forward mode would refuse them)."""
    config = _load(folder, raw, "large.yaml", layers=[200, 1], gradient="auto")
    assert config.network("nn").n_weights == 801
    p = _point(config, 7)
    local = _local(config, p)
    with cluster(scheduler=client):
        analysis = Analysis(config, source="large")
    assert isinstance(analysis.graph, DaskGraph)
    assert analysis.graph.reverse == ("nn",)
    dist = analysis.evaluate(p)
    _assert_same_evaluation(local, dist)
    analysis.graph.close()


def test_batched_steps_give_the_forward_mode_gradient(client, folder, raw):
    """``batch=1``: after a full step, one partition per step at the new point;
    the histograms mix two points and the adjoint's weights gradient (pass 2 on
    every partition at its own point) is forward mode's for them."""
    config = _load(folder, raw, "batched.yaml")
    first, second = dict(config.param_values), _point(config, 9)
    out = {}
    for mode, reverse in (("forward", []), ("adjoint", ["nn"])):
        graph = DaskGraph(config, client, source=mode, graphs_per_worker=1,
                          per_file=1, batch=1, reverse=reverse)  # fmt: skip
        analysis = Analysis(config, graph=graph)
        analysis.histograms(first)
        mixed = analysis.histograms(second)  # the signal at the second point only
        assert graph.timings[-1].partitions == 1
        out[mode] = analysis.evaluation(second, mixed)
        graph.close()
        del analysis, graph
        gc.collect()
    _assert_same_evaluation(out["forward"], out["adjoint"])


def test_a_partial_gradient_sum_is_an_error():
    parts = [Partition(k, "s", 0, "f.root", "t", 10 * k, 10 * k + 10) for k in range(3)]
    results = [AdjointResult(p, np.full(2, float(p.index))) for p in parts]
    assert add_gradients(parts, results[::-1], 2).tolist() == [3.0, 3.0]
    with pytest.raises(SampleError, match="no adjoint result for partition 1"):
        add_gradients(parts, [results[0], results[2]], 2)
    with pytest.raises(SampleError, match="came back twice"):
        add_gradients(parts, [*results, results[1]], 2)
    with pytest.raises(SampleError, match="gave 3 values, expected 2"):
        add_gradients(parts, [*results[:2], AdjointResult(parts[2], np.ones(3))], 2)


def test_a_worker_killed_in_the_middle_of_pass_2(client, folder, raw):
    """The killed worker's adjoint tasks run again on the other one (or on the
    restarted one, which builds the graph again): the same weights' gradient as an
    undisturbed pass 2 at the same point. Every event sleeps 1 ms (a selection
    that passes all), so that pass 2 lasts long enough to be interrupted."""
    slow = "(std::this_thread::sleep_for(std::chrono::milliseconds(1)), true)"
    r = copy.deepcopy(raw)
    r["selections"].insert(0, {"filter": slow})
    config = _load(folder, r, "slow.yaml")
    graph = DaskGraph(config, client, source="slow", per_file=1, reverse=["nn"])
    histos = graph.histograms(_point(config, 5))
    cot = _random_cotangents(histos, np.random.default_rng(4))
    pids = client.run(os.getpid)
    out: dict = {}

    def pass_2() -> None:
        try:
            out["grad"] = graph.reverse_gradient(cot, histos)
        except BaseException as e:  # noqa: BLE001 (reported below)
            out["error"] = e

    thread = threading.Thread(target=pass_2)
    thread.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            time.sleep(0.2)  # inside the adjoint loop of its partition (0.6 s)
            victim = busy[0]
        time.sleep(0.02)
    assert victim is not None, "no task ever ran"
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    again = graph.reverse_gradient(cot, histos)
    scale = max(abs(v) for v in again.values())
    for name, v in again.items():
        assert out["grad"][name] == pytest.approx(v, abs=1e-12 * scale), name
    graph.close()
