# SPDX-License-Identifier: BSD-3-Clause
"""Event loops on a Dask cluster (`diffana.distributed.DaskGraph`) give the
single-process histograms: nominal and every variation, values, variances and both
Jacobians within 1e-12 relative, skipped-event counts and events equal, with 1, 2
and 4 workers and different partitionings, on generated samples, on generated AGC
samples and on a real CMS file; a worker killed in the middle of a step changes
nothing; an unreadable partition stops the step with an error naming the file and
the entry range.

One ``LocalCluster`` of 4 worker processes (one thread each) serves the module;
fewer workers are the same cluster with the tasks restricted to some of them.
Workers keep one compiled graph each (``graphs_per_worker=1``): every further
partition is a rebuild that compiles nothing, which keeps the module fast."""

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

from diffana.analysis import Analysis, InputError
from diffana.analysis import config as dc
from diffana.analysis.graph import Graph
from diffana.distributed import DaskGraph, active_client, cluster, fill_partition
from diffana.generators import agc as generate_agc
from diffana.generators import toy

pytestmark = [pytest.mark.root]

REPO = pathlib.Path(__file__).resolve().parents[3]
AGC = REPO / "examples" / "agc" / "agc.yaml"
FIELDS = ("values", "variances", "jacobian", "variances_jacobian")


def _raw(files: dict[str, str]) -> dict:
    """A small configuration with what the merge must get right: xsec scaling (by
    the whole sample's sum of weights), soft binning, a weight systematic, a
    symmetrized column systematic, a soft and a hard selection."""
    return {
        "lumi": 1000.0,
        "samples": [
            {"name": "sig", "files": files["signal"], "role": "signal",
             "weight": "genWeight", "xsec": 0.5},
            {"name": "tt", "files": files["ttbar"], "role": "background",
             "weight": "genWeight", "xsec": 5.0},
            {"name": "qcd", "files": files["qcd"], "role": "background",
             "weight": "genWeight", "xsec": 50.0},
        ],
        "parameters": [
            {"name": "pt_cut", "value": 40.0, "bounds": [20.0, 100.0]},
            {"name": "disc_cut", "value": 0.3, "bounds": [0.0, 0.95]},
        ],
        "defines": {
            "jet_pt": "ROOT::RVecD(Jet_pt)",
            "ht": "ROOT::VecOps::Sum(jet_pt * diffana::soft_cut(jet_pt, pt_cut, 0.2))",
        },
        "selections": [
            {"filter": "nJet >= 2"},
            {"soft_filter": "diffana::soft_cut(disc, disc_cut, 20.0)"},
        ],
        "observables": [
            {"name": "sr", "expression": "ht", "bins": {"low": 0.0, "high": 800.0, "n": 8},
             "bandwidth": 20.0},
        ],
        "systematics": [
            {"name": "lumi", "type": "normsys", "lo": 0.98, "hi": 1.02},
            {"name": "pileup", "type": "weight", "up": "genWeight * puWeightUp / puWeight",
             "down": "genWeight * puWeightDown / puWeight"},
            {"name": "jes", "type": "column", "up": {"jet_pt": "ROOT::RVecD(Jet_pt) * 1.03"},
             "symmetrize": True},
        ],
        "objective": {"type": "asimov_significance"},
    }  # fmt: skip


def _load(folder: pathlib.Path, raw: dict, name: str) -> dc.Config:
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return dc.load(path)


@pytest.fixture(scope="module")
def client():
    """4 worker processes, one thread each; closed after the module. (Not
    `cluster`, which would make every Analysis of the module use it.)"""
    with (
        distributed.LocalCluster(
            n_workers=4, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def toy_raw(tmp_path_factory):
    """The small configuration (a dict) on 3 generated samples of 1500 events."""
    folder = tmp_path_factory.mktemp("dask_toy")
    files = {}
    for k, name in enumerate(("signal", "ttbar", "qcd")):
        files[name] = str(folder / f"{name}.root")
        toy._write(pathlib.Path(files[name]), toy.make_sample(name, 1500, np.random.default_rng([5, k])))  # fmt: skip
    return _raw(files)


@pytest.fixture(scope="module")
def toy_config(toy_raw, tmp_path_factory):
    return _load(tmp_path_factory.mktemp("dask_cfg"), toy_raw, "toy.yaml")


def _local(config: dc.Config, points: list[dict], evaluate: bool = True) -> list:
    """Histograms, events and evaluations (None without ``evaluate``) of the
    single-process run at ``points``."""
    a = Analysis(config, graph=Graph(config, source="local"))
    assert active_client() is None
    out = []
    for p in points:
        params = {**config.param_values, **p}
        histos = a.histograms(params)
        ev = a.evaluation(params, histos) if evaluate else None
        out.append((histos, dict(a.events), ev))
    del a
    gc.collect()  # its parameter block goes back to the pool: the next graph reuses it
    return out


@pytest.fixture(scope="module")
def toy_reference(toy_config):
    return _local(toy_config, [{}, {"pt_cut": 55.0, "disc_cut": 0.5}])


def assert_same(local, dist) -> None:
    """Every histogram within 1e-12 relative (of the array's largest entry, so that
    a Jacobian entry that is 0 up to rounding compares too); equal counts."""
    assert list(local) == list(dist)
    for s in local:
        assert list(local[s]) == list(dist[s])
        for c in local[s]:
            assert list(local[s][c]) == list(dist[s][c]), (s, c)
            for v, h in local[s][c].items():
                d = dist[s][c][v]
                assert d.n_skipped == h.n_skipped, (s, c, v)
                assert d.param_names == h.param_names
                for f in FIELDS:
                    x, y = getattr(h, f), getattr(d, f)
                    scale = float(np.max(np.abs(x), initial=0.0))
                    np.testing.assert_allclose(
                        y, x, rtol=1e-12, atol=1e-12 * scale, err_msg=f"{s} {c} {v} {f}"
                    )


def _workers(client, n: int) -> list[str]:
    return sorted(client.scheduler_info()["workers"])[:n]


@pytest.mark.parametrize(
    ("n_workers", "partitioning"),
    [(1, {"per_file": 1}), (2, {"per_file": 2}), (4, {"max_entries": 400})],
    ids=["1-worker-per-file", "2-workers-2-per-file", "4-workers-400-entries"],
)
def test_equal_to_the_single_process_run(
    client, toy_config, toy_reference, n_workers, partitioning
):
    graph = DaskGraph(
        toy_config, client, source="toy", graphs_per_worker=1,
        workers=_workers(client, n_workers), **partitioning,
    )  # fmt: skip
    analysis = Analysis(toy_config, graph=graph)
    for (histos, events, ev), point in zip(
        toy_reference, [{}, {"pt_cut": 55.0, "disc_cut": 0.5}], strict=True
    ):
        params = {**toy_config.param_values, **point}
        dist = analysis.histograms(params)
        assert_same(histos, dist)
        assert analysis.events == events
        got = analysis.evaluation(params, dist)
        assert got.objective == pytest.approx(ev.objective, rel=1e-12)
        for n in ev.gradient:
            assert got.gradient[n] == pytest.approx(
                ev.gradient[n], rel=1e-10, abs=1e-14
            )
    assert graph.n_loops == 2 * len(graph.partitions)
    if "max_entries" in partitioning:
        assert all(p.entries <= 400 for p in graph.partitions)
        assert len(graph.partitions) == 12
    graph.close()


def test_a_worker_keeps_its_graphs_and_rebuilds_without_compiling(toy_config):
    """The task in this process: the second call of a cached partition builds
    nothing; with room for one graph, switching partitions rebuilds (the block of
    the graph that left is reused: the same C++ text, nothing compiled)."""
    from diffana.distributed import fingerprint, make_partitions, worker

    parts = make_partitions(toy_config, per_file=2)[:2]
    key = fingerprint(toy_config)
    params = toy_config.param_values
    first = fill_partition(toy_config, key, parts[0], params, "toy", cache_size=2)
    again = fill_partition(toy_config, key, parts[0], params, "toy", cache_size=2)
    assert first.build_s > 0.0
    assert again.build_s == 0.0
    assert worker.cached(key, parts[0])
    other = fill_partition(toy_config, key, parts[1], params, "toy", cache_size=1)
    assert other.build_s > 0.0
    assert worker.cached(key, parts[1])
    assert not worker.cached(key, parts[0])  # evicted: room for one graph
    h, g = first.histograms["sr"]["nominal"], again.histograms["sr"]["nominal"]
    np.testing.assert_array_equal(h.jacobian, g.jacobian)
    assert first.events == parts[0].entries
    worker._graphs.clear()


def test_analysis_inside_a_cluster_block_runs_there(client, toy_config, toy_reference):
    """`cluster(scheduler=client)` makes every Analysis built inside use it."""
    with cluster(scheduler=client) as c:
        assert c is client
        assert active_client() is client
        analysis = Analysis(toy_config, source="toy")
    assert active_client() is None
    assert isinstance(analysis.graph, DaskGraph)
    assert_same(toy_reference[0][0], analysis.histograms(toy_config.param_values))


def test_generated_agc_samples(client, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask_agc")
    generate_agc.generate(folder / "samples", seed=11, events=600)
    raw = yaml.safe_load(AGC.read_text())
    config = _load(folder, raw, "agc.yaml")
    point = {"pt_cut": 33.0, "btag_cut": 0.45}
    # 600 events: too few for the statistical model (an empty background bin);
    # the histograms are what is compared.
    ((histos, events, _),) = _local(config, [point], evaluate=False)
    graph = DaskGraph(config, client, source="agc", graphs_per_worker=1,
                      workers=_workers(client, 2), per_file=2)  # fmt: skip
    dist = graph.histograms({**config.param_values, **point})
    assert_same(histos, dist)
    assert graph.events == events
    graph.close()


def test_real_cms_file(client, data_dir, tmp_path):
    """The AGC configuration with every sample reading the real Run-3 ttbar file,
    cut into ranges of 50 entries (4 partitions per sample)."""
    path = data_dir / "coffea_nano_tt_v12.root"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    raw = yaml.safe_load(AGC.read_text())
    raw["defines"]["jet_btag"] = "ROOT::RVecD(Jet_btagDeepFlavB)"
    for s in raw["samples"]:
        s["files"] = str(path)
    config = _load(tmp_path, raw, "agc_cms.yaml")
    ((histos, events, _),) = _local(config, [{}])
    graph = DaskGraph(config, client, source="cms", graphs_per_worker=1, max_entries=50)
    assert len(graph.partitions) == 12
    assert_same(histos, graph.histograms(config.param_values))
    assert graph.events == events == {"ttbar": 200, "single_top": 200, "wjets": 200}
    graph.close()


def test_batched_steps_keep_the_latest_result_of_every_partition(
    client, toy_config, toy_reference
):
    """``batch=2`` on 6 partitions: after a full first step, each step runs 2 of
    them; once all 6 ran at the new point the histograms are that point's."""
    graph = DaskGraph(toy_config, client, graphs_per_worker=1, per_file=2, batch=2)
    assert len(graph.partitions) == 6
    analysis = Analysis(toy_config, graph=graph)
    first = {**toy_config.param_values}
    second = {**toy_config.param_values, "pt_cut": 55.0, "disc_cut": 0.5}
    assert_same(toy_reference[0][0], analysis.histograms(first))
    assert graph.timings[-1].partitions == 6
    mixed = analysis.histograms(second)  # partitions 0 and 1 (sig) at the new point
    assert graph.timings[-1].partitions == 2
    assert_same({"sig": toy_reference[1][0]["sig"]}, {"sig": mixed["sig"]})
    assert not np.allclose(
        mixed["tt"]["sr"]["nominal"].values,
        toy_reference[1][0]["tt"]["sr"]["nominal"].values,
    )
    analysis.histograms(second)
    assert_same(toy_reference[1][0], analysis.histograms(second))
    assert graph.n_loops == 6 + 3 * 2
    graph.close()


def test_a_batched_optimization_reports_a_full_statistics_end_point(
    client, toy_raw, tmp_path
):
    """``run(..., batch=2, max_entries=750)``: 6 partitions, 2 per step after the
    first; the report's end point is the single-process evaluation at its
    parameters, and its history's steps each ran only their batch."""
    from diffana.analysis import driver

    raw = {**toy_raw, "optimizer": {"name": "adam", "learning_rate": 0.05, "steps": 3}}
    path = tmp_path / "batched.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    rep = driver.run(path, quiet=True, plots=False, scheduler=client, batch=2,
                     max_entries=750)  # fmt: skip
    assert active_client() is None
    final = rep["final"]["params"]
    config = dc.load(path)
    local = Analysis(config, graph=Graph(config, source="local")).evaluate(final)
    assert rep["final"]["objective"] == pytest.approx(local.objective, rel=1e-12)
    assert rep["history"][-1]["params"] == final
    # 3 samples x 2 ranges: a full start, 3 steps of 2, a full end point
    assert rep["event_loops"] == 6 + 3 * 2 + 6


# ---- faults --------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_missing_tree_and_truncated_file_name_the_file(
    client, toy_raw, toy_config, tmp_path, fraction
):
    """Found on the client (the file's metadata) or by the worker's input check:
    an InputError naming the sample and the file either way."""
    good = toy_config.sample_files(toy_config.samples[1])[0]
    cut = tmp_path / "cut.root"
    data = pathlib.Path(good).read_bytes()
    cut.write_bytes(data[: int(len(data) * fraction)])
    config = toy_config.with_files({"tt": [str(cut)]})

    def step() -> None:
        graph = DaskGraph(config, client, source="toy", graphs_per_worker=1)
        graph.histograms(config.param_values)

    with pytest.raises(InputError, match=r"samples\[1\] \(tt\): .*cut\.root"):
        step()
    raw = copy.deepcopy(toy_raw)
    raw["samples"][2]["tree"] = "Nope"
    config = dc.load_dict(raw, ".", source="toy")
    with pytest.raises(InputError, match=r"samples\[2\] \(qcd\): .*no tree 'Nope'"):
        DaskGraph(config, client, source="toy")


def test_corrupt_partition_stops_the_step_naming_file_and_entries(
    client, toy_config, tmp_path
):
    """A basket that cannot be read: the worker's input check (uproot, before ROOT
    reads) fails, and the step raises an InputError naming the partition."""
    import uproot

    src = pathlib.Path(toy_config.sample_files(toy_config.samples[1])[0])
    with uproot.open(src) as f:
        b = f["Events"]["Jet_pt"]
        seek, size = int(b.member("fBasketSeek")[0]), int(b.member("fBasketBytes")[0])
    data = bytearray(src.read_bytes())
    for i in range(seek + 100, seek + size - 8, 7):
        data[i] ^= 0xFF
    bad = tmp_path / "bad.root"
    bad.write_bytes(bytes(data))
    config = toy_config.with_files({"tt": [str(bad)]})
    graph = DaskGraph(config, client, source="toy", graphs_per_worker=1, per_file=2)
    with pytest.raises(InputError) as info:
        graph.histograms(config.param_values)
    text = str(info.value)
    assert "bad.root" in text
    assert "sample 'tt'" in text
    assert "entries 0-749" in text or "entries 750-1499" in text
    assert "branch 'Jet_pt'" in text
    assert graph.n_loops == 0  # no partial sum was made
    graph.close()


def test_a_worker_killed_in_the_middle_of_a_step(client, toy_raw, toy_reference):
    """The killed worker's partitions run again elsewhere; the sum is the same.
    Every event sleeps 1 ms (a selection that passes all), so that the step lasts
    long enough to be interrupted."""
    slow = "(std::this_thread::sleep_for(std::chrono::milliseconds(1)), true)"
    raw = copy.deepcopy(toy_raw)
    raw["selections"].insert(0, {"filter": slow})
    config = dc.load_dict(raw, ".", source="slow")
    graph = DaskGraph(config, client, source="slow", graphs_per_worker=1, per_file=2)
    pids = client.run(os.getpid)
    out: dict = {}

    def step() -> None:
        try:
            out["histos"] = graph.histograms(config.param_values)
        except BaseException as e:  # noqa: BLE001 (reported below)
            out["error"] = e

    thread = threading.Thread(target=step)
    thread.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            time.sleep(1.0)  # inside the loop (or the build) of its partition
            victim = busy[0]
        time.sleep(0.05)
    assert victim is not None, "no task ever ran"
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    assert_same(toy_reference[0][0], out["histos"])
    graph.close()
