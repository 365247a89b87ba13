# SPDX-License-Identifier: BSD-3-Clause
"""The client's part of a distributed evaluation, without a cluster: partitions
cover every entry exactly once, the sum of partition results does not depend on
the order in which they arrive, and a partial or inconsistent set of results is an
error, never a sum."""

from __future__ import annotations

import itertools
import pathlib

import numpy as np
import pytest

pytest.importorskip("pydantic")
pytest.importorskip("yaml")
uproot = pytest.importorskip("uproot")

import diffana
from diffana.analysis import InputError, SampleError
from diffana.analysis import config as dc
from diffana.distributed import Partition, PartitionResult, add, make_partitions
from diffana.distributed.partitions import _ranges


def _files(folder: pathlib.Path, sizes: dict[str, list[int]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, ns in sizes.items():
        for k, n in enumerate(ns):
            path = folder / f"{name}_{k}.root"
            with uproot.recreate(path) as f:
                f["Events"] = {"x": np.arange(n, dtype=float)}
            out.setdefault(name, []).append(str(path))
    return out


def _config(files: dict[str, list[str]]) -> dc.Config:
    return dc.load_dict({
        "samples": [
            {"name": "s", "files": files["s"], "role": "signal"},
            {"name": "b", "files": files["b"], "role": "background"},
        ],
        "parameters": [{"name": "c", "value": 1.0, "bounds": [0.0, 2.0]}],
        "observables": [{"name": "sr", "expression": "x", "bins": [0.0, 5.0, 10.0]}],
        "objective": {"type": "asimov_significance"},
    })  # fmt: skip


@pytest.mark.parametrize(("n", "parts"), [(10, 3), (1, 4), (1000, 7), (7, 7), (0, 3)])
def test_ranges_cover_every_entry_once(n, parts):
    ranges = _ranges(n, parts)
    if n == 0:
        assert ranges == []
        return
    assert ranges[0][0] == 0
    assert ranges[-1][1] == n
    assert all(a < b for a, b in ranges)
    assert all(r[1] == s[0] for r, s in itertools.pairwise(ranges))
    assert len(ranges) == min(parts, n)


def test_partitions_in_a_fixed_order(tmp_path):
    files = _files(tmp_path, {"s": [10, 3], "b": [5]})
    config = _config(files)
    parts = make_partitions(config, per_file=2)
    assert [p.index for p in parts] == list(range(len(parts)))
    assert [(p.sample, pathlib.Path(p.path).name, p.start, p.stop) for p in parts] == [
        ("s", "s_0.root", 0, 5), ("s", "s_0.root", 5, 10),
        ("s", "s_1.root", 0, 1), ("s", "s_1.root", 1, 3),
        ("b", "b_0.root", 0, 2), ("b", "b_0.root", 2, 5),
    ]  # fmt: skip
    capped = make_partitions(config, max_entries=4)
    assert [p.entries for p in capped] == [3, 3, 4, 3, 2, 3]
    assert make_partitions(config, files) == make_partitions(config)
    with pytest.raises(ValueError, match="per_file"):
        make_partitions(config, per_file=0)
    with pytest.raises(ValueError, match="max_entries"):
        make_partitions(config, max_entries=0)


def test_unreadable_files_are_input_errors_naming_them(tmp_path):
    files = _files(tmp_path, {"s": [10], "b": [5]})
    missing = str(tmp_path / "nope.root")
    with pytest.raises(InputError, match=r"samples\[1\] \(b\): .*nope\.root"):
        make_partitions(_config({**files, "b": [missing]}), source="c.yaml")
    (tmp_path / "empty").mkdir()
    empty = _files(tmp_path / "empty", {"b": [0]})
    with pytest.raises(InputError, match=r"samples\[1\] \(b\): no entries"):
        make_partitions(_config({**files, **empty}))


def _result(
    part: Partition, rng: np.random.Generator, events: int | None = None
) -> PartitionResult:
    h = diffana.histogram(
        rng.uniform(0, 10, 50), [0.0, 5.0, 10.0], weights=rng.normal(1, 0.3, 50),
        bandwidth=0.5, weight_tangents=rng.normal(0, 1, (50, 2)),
    )  # fmt: skip
    return PartitionResult(
        part, {"sr": {"nominal": h}}, part.entries if events is None else events, 2.5
    )


def _parts(n: int) -> list[Partition]:
    return [
        Partition(i, "s", 0, "f.root", "Events", 10 * i, 10 * i + 10) for i in range(n)
    ]


def test_sum_does_not_depend_on_the_finishing_order(rng):
    parts = _parts(6)
    results = [_result(p, rng) for p in parts]
    first = add("s", parts, results)
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(results))
        again = add("s", parts, [results[i] for i in order])
        for f in ("values", "variances", "jacobian", "variances_jacobian"):
            np.testing.assert_array_equal(
                getattr(again.histograms["sr"]["nominal"], f),
                getattr(first.histograms["sr"]["nominal"], f),
            )
        assert again.sumw == first.sumw == 15.0
    assert first.events == 60
    expected = (
        results[0]
        .histograms["sr"]["nominal"]
        .merge(*(r.histograms["sr"]["nominal"] for r in results[1:]))
    )
    np.testing.assert_array_equal(
        first.histograms["sr"]["nominal"].jacobian, expected.jacobian
    )


def test_a_partial_sum_is_an_error(rng):
    parts = _parts(3)
    results = [_result(p, rng) for p in parts]
    with pytest.raises(SampleError, match=r"no result for partition 2 .*partial"):
        add("s", parts, results[:2])
    with pytest.raises(SampleError, match="came back twice"):
        add("s", parts, [*results, results[0]])
    short = _result(parts[1], rng, events=7)
    with pytest.raises(
        SampleError, match=r"partition 1 .* read 7 entries instead of 10"
    ):
        add("s", parts, [results[0], short, results[2]])
    other = PartitionResult(
        parts[2], {"sr": {"jes_up": results[2].histograms["sr"]["nominal"]}}, 10, 2.5
    )
    with pytest.raises(SampleError, match="booked other histograms"):
        add("s", parts, [results[0], results[1], other])
