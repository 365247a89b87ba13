# SPDX-License-Identifier: BSD-3-Clause
"""The ``networks:`` configuration key: the weights become parameters (seeded or
from a weights file), the network column is used as a soft selection, varied by a
column systematic, and the objective's gradient w.r.t. a weight equals finite
differences; mistakes are one line naming the key."""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")
pytest.importorskip("uproot")

from diffana.analysis import config as dc
from diffana.nn import save_weights


def write(folder, raw, name="c.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def error(folder, raw):
    with pytest.raises(dc.ConfigError) as info:
        dc.load(write(folder, raw))
    return str(info.value)


def test_weights_are_appended_parameters(folder, raw):
    cfg = dc.load(write(folder, raw))
    net = cfg.network("nn")
    names = [p.name for p in cfg.parameters]
    assert names[:4] == ["disc_cut", "pt2_cut", "disc_width", "pt_width"]
    assert names[4:] == net.param_names()
    assert len(names) == 4 + 3 * 3 + 4
    weights = cfg.parameters[4:]
    assert all(p.bounds == (-3.0, 3.0) and p.optimize for p in weights)
    np.testing.assert_array_equal([p.value for p in weights], net.init_weights())
    # The pt cuts alone may be fixed: the network is still trained.
    fixed = copy.deepcopy(raw)
    for p in fixed["parameters"]:
        p["optimize"] = False
    assert sum(p.optimize for p in dc.load(write(folder, fixed)).parameters) == 13


def test_weights_file_sets_the_initial_values(folder, raw):
    cfg = dc.load(write(folder, raw))
    net = cfg.network("nn")
    w = np.linspace(-1, 1, net.n_weights) / 3
    save_weights(folder / "w.json", net, w)
    r = copy.deepcopy(raw)
    r["networks"]["nn"]["weights"] = "w.json"
    got = [p.value for p in dc.load(write(folder, r)).parameters[4:]]
    assert np.array(got).tobytes() == w.tobytes()
    r["networks"]["nn"]["bound"] = 0.2  # the file's weights reach 1/3
    assert "networks.nn: weight nn__l0_w_0_0 = -0.333" in error(folder, r)
    assert "(raise networks.nn.bound)" in error(folder, r)
    r["networks"]["nn"]["layers"] = [4, 1]
    assert "networks.nn.weights: " in error(folder, r)
    assert "another network (layers: file [3, 1], configuration [4, 1])" in error(
        folder, r
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda n: n.update(layers=[0, 1]),
            "networks.nn.layers: layer sizes must be >= 1, got [0, 1]",
        ),
        (
            lambda n: n.update(layers=[4, 2]),
            "networks.nn.layers: the last layer must have 1 unit",
        ),
        (
            lambda n: n.update(layers=[]),
            "networks.nn.layers: List should have at least 1",
        ),
        (
            lambda n: n.update(activation="softplus"),
            "networks.nn.activation: Input should be 'tanh', 'relu', 'sigmoid' or 'none'",
        ),
        (
            lambda n: n.update(inputs=["pt2 / 2"]),
            "networks.nn.inputs: 'pt2 / 2' is not a column name",
        ),
        (lambda n: n.update(layer=[1]), "networks.nn.layer: unknown key; did you mean"),
        (
            lambda n: n.update(inputs=[]),
            "networks.nn: a network needs inputs, jets or both",
        ),
        (
            lambda n: n.update(
                jets={"features": ["Jet_pt"], "layers": [2], "pool": "max"}
            ),
            "networks.nn.jets.pool: Input should be 'mean' or 'sum'",
        ),
        (
            lambda n: n.update(bound=0),
            "networks.nn.bound: Input should be greater than 0",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_key(folder, raw, edit, expected):
    r = copy.deepcopy(raw)
    edit(r["networks"]["nn"])
    msg = error(folder, r)
    assert expected in msg
    assert len(msg.splitlines()) == 2  # "<file>: invalid configuration:" + the line


def test_names_that_clash(folder, raw):
    r = copy.deepcopy(raw)
    r["networks"]["mjj"] = r["networks"].pop("nn")
    assert "networks.mjj: the name is also a parameter, define" in error(folder, r)
    r = copy.deepcopy(raw)
    r["parameters"].append({"name": "nn__x", "value": 0.0, "optimize": False})
    assert "'nn__x' is named like a network's weight but is none" in error(folder, r)


@pytest.fixture(scope="module")
def analysis(folder, raw):
    pytest.importorskip("ROOT")
    pytest.importorskip("jax")
    from diffana.analysis.evaluation import Analysis

    path = write(folder, raw, "ok.yaml")
    return Analysis(dc.load(path), source=str(path))


def test_objective_gradient_wrt_weights_equals_finite_differences(analysis):
    ev = analysis.evaluate()
    names = ["nn__l0_w_1_1", "nn__l1_b_0"]
    fd = analysis.finite_difference(ev.params, names)
    for n in names:
        assert ev.gradient[n] != 0.0
        assert ev.gradient[n] == pytest.approx(fd[n], rel=1e-5, abs=1e-9)


def test_unknown_input_column_is_one_line(folder, raw):
    pytest.importorskip("ROOT")
    from diffana.analysis.evaluation import Analysis

    r = copy.deepcopy(raw)
    r["networks"]["nn"]["inputs"] = ["pt2_s", "nope"]
    path = write(folder, r, "bad.yaml")
    with pytest.raises(dc.ConfigError) as info:
        Analysis(dc.load(path), source=str(path))
    assert str(info.value) == (
        f"{path}: networks.nn.inputs: unknown column 'nope' (not a define nor a "
        "branch of the input)"
    )
