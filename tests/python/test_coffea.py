# SPDX-License-Identifier: BSD-3-Clause
"""Gradient histograms as coffea accumulators, and the example processor in
examples/coffea on NanoEvents read from ../shared/data (or, without it, on events
built with awkward and vector)."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest

import diffana

ak = pytest.importorskip("awkward")
processor = pytest.importorskip("coffea.processor")
vector = pytest.importorskip("vector")

# coffea's NanoAOD schema warns about cross-references that small test files lack
pytestmark = pytest.mark.filterwarnings("ignore:Missing cross-reference:RuntimeWarning")

EDGES = np.linspace(0.0, 4.0, 9)


def chunk_hist(x, w, xt, wt):
    return diffana.histogram(x, EDGES, w, 0.2, xt, wt)


@pytest.fixture
def chunks(rng):
    n = 600
    data = (
        rng.uniform(-0.5, 4.5, n),
        rng.uniform(0.5, 1.5, n),
        rng.normal(size=(n, 2)),
        rng.normal(size=(n, 2)),
    )
    whole = chunk_hist(*data)
    parts = [chunk_hist(*(a[s] for a in data)) for s in np.array_split(np.arange(n), 3)]
    return whole, parts


def assert_close(a, b):
    for attr in ("values", "variances", "jacobian", "variances_jacobian"):
        np.testing.assert_allclose(
            getattr(a, attr), getattr(b, attr), rtol=1e-12, atol=1e-12
        )
    assert a.n_skipped == b.n_skipped


def test_accumulate_equals_one_fill(chunks):
    whole, parts = chunks
    kept = [copy.deepcopy(p) for p in parts]
    assert_close(processor.accumulate(parts), whole)
    for p, k in zip(parts, kept, strict=True):  # the inputs are not changed
        np.testing.assert_array_equal(p.values, k.values)
        np.testing.assert_array_equal(p.jacobian, k.jacobian)
    assert_close(sum(parts), whole)


def test_accumulate_dicts_of_histograms(chunks):
    # what processors return: nested dicts of histograms and counters
    whole, parts = chunks
    outs = [{"ttbar": {"x": p, "n": 200}} for p in parts]
    total = processor.accumulate(outs)
    assert_close(total["ttbar"]["x"], whole)
    assert total["ttbar"]["n"] == 600
    one_sided = processor.accumulate([{"a": parts[0]}, {"b": parts[1]}])
    assert set(one_sided) == {"a", "b"}


def test_in_place_add_leaves_other_references_alone(chunks):
    whole, parts = chunks
    acc = parts[0]
    alias = acc
    acc += parts[1]
    acc += parts[2]
    assert_close(acc, whole)
    np.testing.assert_array_equal(alias.values, parts[0].values)
    with pytest.raises(
        ValueError, match="cannot merge histograms with different edges"
    ):
        processor.accumulate([parts[0], diffana.histogram([0.5], [0.0, 1.0])])


# ---- the example processor ----------------------------------------------------------


@pytest.fixture(scope="module")
def example(repo_root):
    path = repo_root / "examples" / "coffea" / "soft_jets.py"
    spec = importlib.util.spec_from_file_location("soft_jets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected(module, pt, eta, phi, mass, cut=30.0, slope=0.5):
    """The processor's histograms computed directly from the jet arrays."""
    pt = ak.values_astype(pt, np.float64)
    sig = 1.0 / (1.0 + np.exp(-slope * (pt - cut)))
    dsig = -slope * sig * (1.0 - sig)  # d w / d cut
    flat = ak.to_numpy(ak.flatten(pt)).astype(np.float64)
    jet_pt = diffana.histogram(
        flat,
        module.PT_EDGES,
        ak.to_numpy(ak.flatten(sig)),
        weight_tangents=ak.to_numpy(ak.flatten(dsig))[:, None],
    )
    two = ak.num(pt) >= 2

    def leading(i):
        parts = {"pt": pt, "eta": eta, "phi": phi, "mass": mass}
        return vector.array(
            {k: ak.to_numpy(a[two][:, i]).astype(np.float64) for k, a in parts.items()}
        )

    v = [leading(0), leading(1)]
    mjj = (v[0] + v[1]).mass
    s1, s2 = (ak.to_numpy(sig[two][:, i]) for i in (0, 1))
    d1, d2 = (ak.to_numpy(dsig[two][:, i]) for i in (0, 1))
    dijet = diffana.histogram(
        mjj, module.MJJ_EDGES, s1 * s2, weight_tangents=(d1 * s2 + s1 * d2)[:, None]
    )
    return jet_pt, dijet


def check_output(module, out, pt, eta, phi, mass):
    jet_pt, dijet = expected(module, pt, eta, phi, mass)
    np.testing.assert_allclose(out["jet_pt"].values, jet_pt.values, rtol=1e-9)
    np.testing.assert_allclose(
        out["jet_pt"].jacobian, jet_pt.jacobian, rtol=1e-7, atol=1e-12
    )
    np.testing.assert_allclose(out["mjj"].values, dijet.values, rtol=1e-9)
    np.testing.assert_allclose(
        out["mjj"].jacobian, dijet.jacobian, rtol=1e-7, atol=1e-12
    )
    assert out["jet_pt"].param_names == ("cut",)


def test_example_on_vector_records(example, rng):
    counts = rng.integers(0, 6, 300)
    n = int(counts.sum())

    def jagged(a):
        return ak.unflatten(a.astype(np.float32), counts)

    pt, eta = jagged(rng.exponential(40.0, n) + 5.0), jagged(rng.normal(0, 1.5, n))
    phi, mass = jagged(rng.uniform(-np.pi, np.pi, n)), jagged(rng.uniform(2, 20, n))
    jets = ak.zip(
        {"pt": pt, "eta": eta, "phi": phi, "mass": mass},
        with_name="Momentum4D",
        behavior=vector.backends.awkward.behavior,
    )
    events = ak.zip({"Jet": jets}, depth_limit=1)
    proc = example.SoftJetProcessor()
    out = proc.postprocess(proc.process(events))["events"]
    assert out["n_events"] == 300
    check_output(example, out, pt, eta, phi, mass)
    # finite differences of the whole processor in its cut
    eps = 1e-4
    up = example.SoftJetProcessor(30.0 + eps).process(events)["events"]
    down = example.SoftJetProcessor(30.0 - eps).process(events)["events"]
    for name in ("jet_pt", "mjj"):
        fd = (up[name].values - down[name].values) / (2 * eps)
        np.testing.assert_allclose(out[name].jacobian[:, 0], fd, rtol=1e-5, atol=1e-7)


def test_example_on_nanoevents_in_chunks(example, data_dir):
    path = data_dir / "coffea_nano_tt_v12.root"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    nanoevents = pytest.importorskip("coffea.nanoevents")
    # virtual mode reads only the branches the processor touches
    events = nanoevents.NanoEventsFactory.from_root(
        {str(path): "Events"},
        schemaclass=nanoevents.NanoAODSchema,
        mode="virtual",
        metadata={"dataset": "ttbar"},
    ).events()
    proc = example.SoftJetProcessor()
    whole = proc.process(events)
    parts = processor.accumulate(
        proc.process(events[a : a + 50]) for a in range(0, 200, 50)
    )
    assert parts["ttbar"]["n_events"] == whole["ttbar"]["n_events"] == 200
    for name in ("jet_pt", "mjj"):
        assert_close(parts["ttbar"][name], whole["ttbar"][name])
    jets = events.Jet
    check_output(example, whole["ttbar"], jets.pt, jets.eta, jets.phi, jets.mass)
