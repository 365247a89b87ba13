# SPDX-License-Identifier: BSD-3-Clause
"""Gradient files with provenance (diffana.chain.record and .files): the record
round-trips, and reading refuses, in one line naming the files, a gradient paired
with another values file, other parameter names, the other direction, or a tree
that does not cover the values file's differentiable numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diffana import __version__
from diffana.chain import ChainError, Record, contract, read_gradient, sha256_file
from diffana.chain.files import check_tree, write_gradient, write_values

KEYS = ("values",)
VALUES = {"histograms": {"sr": {"s": {"values": [1.0, 2.0], "edges": [0, 1, 2]}}}}
TANGENTS = {"histograms": {"sr": {"s": {"values": [[1.0, 0.5], [0.0, 2.0]]}}}}


@pytest.fixture
def pair(tmp_path):
    """A values file and its forward gradient w.r.t. (a, b)."""
    values, grad = tmp_path / "v.json", tmp_path / "v_grad.json"
    write_values(values, "test-values", VALUES)
    record = Record.for_values(
        "forward", {"a": 1.0, "b": 2.0}, values, {"lumi": 1.0}, "test"
    )
    write_gradient(grad, TANGENTS, record)
    return values, grad


def test_record_holds_the_provenance(pair):
    values, grad = pair
    data = json.loads(grad.read_text())
    rec = data["record"]
    assert rec["direction"] == "forward"
    assert rec["param_names"] == ["a", "b"]
    assert rec["params"] == {"a": 1.0, "b": 2.0}
    assert rec["values_file"] == {
        "path": str(values.resolve()),
        "sha256": sha256_file(values),
    }
    assert rec["config"] == {"lumi": 1.0}
    assert rec["diffana_version"] == __version__
    assert Record.from_json(rec) == Record.for_values(
        "forward", {"a": 1.0, "b": 2.0}, values, {"lumi": 1.0}, "test"
    )


def test_read_gradient_pairs_and_checks(pair):
    values, grad = pair
    record, tree = read_gradient(grad, values, "forward", ["a", "b"])
    assert record.names == ("a", "b")
    check_tree(VALUES, tree, KEYS, 2, str(grad))


def test_refuses_another_values_file(pair, tmp_path):
    values, grad = pair
    other = tmp_path / "other.json"
    write_values(other, "test-values", {"histograms": {}})
    with pytest.raises(ChainError) as err:
        read_gradient(grad, other, "forward", ["a", "b"])
    text = str(err.value)
    assert "\n" not in text
    assert f"{grad} belongs to the values file {values.resolve()}" in text
    assert f"not to {other}" in text


def test_refuses_a_changed_values_file(pair):
    values, grad = pair
    data = json.loads(values.read_text())
    data["histograms"]["sr"]["s"]["values"][0] = 1.5
    values.write_text(json.dumps(data))
    with pytest.raises(ChainError, match="belongs to the values file"):
        read_gradient(grad, values, "forward")


def test_refuses_other_parameter_names(pair):
    values, grad = pair
    with pytest.raises(ChainError) as err:
        read_gradient(grad, values, "forward", ["a", "c"])
    assert str(err.value) == (
        f"{grad}: tangents w.r.t. parameters ['a', 'b'], expected ['a', 'c']"
    )
    with pytest.raises(ChainError, match=r"\['a', 'b'\], expected \['b', 'a'\]"):
        read_gradient(grad, values, "forward", ["b", "a"])


def test_refuses_the_other_direction(pair):
    values, grad = pair
    with pytest.raises(ChainError, match="holds forward tangents, expected backward"):
        read_gradient(grad, values, "backward")


@pytest.mark.parametrize(
    ("tree", "n", "message"),
    [
        ({"histograms": {}}, 2, "has no gradient for histograms/sr/s/values"),
        (
            {"histograms": {"sr": {"s": {"values": [[1.0, 0.5]]}}}},
            2,
            r"histograms/sr/s/values has shape \(1, 2\), expected \(2, 2\)",
        ),
        (
            {"histograms": {"sr": {"s": {"values": [1.0, 2.0]}, "t": {"values": [1]}}}},
            None,
            "has a gradient for histograms/sr/t/values",
        ),
        (
            {"histograms": {"sr": {"s": {"values": [1.0, "x"]}}}},
            None,
            "histograms/sr/s/values is not an array of numbers",
        ),
    ],
)
def test_check_tree_refuses(tree, n, message):
    with pytest.raises(ChainError, match=message):
        check_tree(VALUES, tree, KEYS, n, "g.json")


def test_not_a_gradient_file(tmp_path, pair):
    values, _ = pair
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ChainError, match=r"bad\.json: not a JSON file"):
        read_gradient(bad, values, "forward")
    with pytest.raises(ChainError, match="not a diffana-gradient file"):
        read_gradient(values, values, "forward")
    with pytest.raises(ChainError, match=r"missing\.json: cannot read it"):
        read_gradient(tmp_path / "missing.json", values, "forward")


def test_non_finite_gradient_is_not_written(tmp_path, pair):
    values, _ = pair
    record = Record.for_values("forward", {"a": 1.0}, values)
    with pytest.raises(ChainError, match="not finite"):
        write_gradient(tmp_path / "g.json", {"x": {"values": [np.nan]}}, record)
    assert not (tmp_path / "g.json").exists()


def test_contract():
    cot = {"histograms": {"sr": {"s": {"values": [2.0, -1.0]}}}}
    assert contract(cot, TANGENTS, KEYS).tolist() == [2.0, -1.0]
