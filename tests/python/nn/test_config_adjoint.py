# SPDX-License-Identifier: BSD-3-Clause
"""``networks.<name>.gradient``: a configuration's network weights get their
gradient from forward mode or from the adjoint event loop (automatically for
large networks); both give the same objective and gradient (1e-10), through a
soft selection, a weight systematic and a symmetrized column systematic that varies
the network's input, and the adjoint one equals central finite differences in a
random direction."""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")
pytest.importorskip("uproot")

from diffana.analysis import config as dc
from diffana.analysis._schema_networks import ADJOINT_MIN_WEIGHTS, adjoint_networks


@pytest.fixture(scope="module")
def raw(raw):
    """conftest's configuration, its jes systematic symmetrized."""
    r = raw
    # The down variation mirrored from the up one (its cotangent moves to both).
    jes = next(s for s in r["systematics"] if s["name"] == "jes")
    jes.pop("down")
    jes["symmetrize"] = True
    return r


def load(folder, raw, name, **network):
    r = copy.deepcopy(raw)
    r["networks"]["nn"].update(network)
    path = folder / name
    path.write_text(yaml.safe_dump(r, sort_keys=False))
    return dc.load(path), path


def test_the_rule_takes_the_adjoint_for_large_networks(folder, raw):
    small, _ = load(folder, raw, "small.yaml")
    assert small.networks["nn"].gradient == "auto"
    assert adjoint_networks(small) == []
    # 2 inputs, k hidden units: 3 k + k + 1 weights.
    k = -(-(ADJOINT_MIN_WEIGHTS - 1) // 4)
    large, _ = load(folder, raw, "large.yaml", layers=[k, 1])
    assert large.network("nn").n_weights >= ADJOINT_MIN_WEIGHTS
    assert adjoint_networks(large) == ["nn"]
    forced, _ = load(folder, raw, "forced.yaml", layers=[k, 1], gradient="forward")
    assert adjoint_networks(forced) == []
    assert adjoint_networks(load(folder, raw, "a.yaml", gradient="adjoint")[0]) == [
        "nn"
    ]


def test_forward_mode_past_the_diffframe_limit_is_a_config_error(folder, raw):
    # 2 inputs, 200 hidden units: 801 weights, more than 512 forward parameters.
    with pytest.raises(dc.ConfigError) as info:
        load(folder, raw, "huge.yaml", layers=[200, 1], gradient="forward")
    msg = str(info.value)
    assert "networks.nn.gradient: forward with 801 weights, more than the 512" in msg
    assert "use adjoint or auto" in msg
    big, _ = load(folder, raw, "big.yaml", layers=[200, 1])  # auto: the adjoint
    assert adjoint_networks(big) == ["nn"]


def test_unknown_gradient_mode_is_one_line(folder, raw):
    with pytest.raises(dc.ConfigError) as info:
        load(folder, raw, "bad.yaml", gradient="backward")
    msg = str(info.value)
    assert "networks.nn.gradient: Input should be 'auto', 'forward' or 'adjoint'" in msg
    assert len(msg.splitlines()) == 2


@pytest.fixture(scope="module")
def analyses(folder, raw):
    pytest.importorskip("ROOT")
    pytest.importorskip("jax")
    from diffana.analysis.evaluation import Analysis

    out = {}
    for mode in ("forward", "adjoint"):
        cfg, path = load(folder, raw, f"{mode}.yaml", gradient=mode)
        out[mode] = Analysis(cfg, source=str(path))
    return out


def test_forward_and_adjoint_agree(analyses):
    fwd, adj = analyses["forward"], analyses["adjoint"]
    assert fwd.graph.reverse == ()
    assert adj.graph.reverse == ("nn",)
    # Off the initial point, so that nothing sits on a symmetric value.
    p = dict(fwd.config.param_values)
    rng = np.random.default_rng(5)
    for name in fwd.config.network("nn").param_names():
        p[name] += 0.1 * rng.normal()
    p["disc_cut"] = 0.31
    a, b = fwd.evaluate(p), adj.evaluate(p)
    assert b.objective == pytest.approx(a.objective, rel=1e-10)
    assert set(a.gradient) == set(b.gradient)
    scale = max(abs(v) for v in a.gradient.values())
    for name, v in a.gradient.items():
        assert b.gradient[name] == pytest.approx(v, abs=1e-10 * scale), name
    assert any(a.gradient[n] != 0.0 for n in fwd.config.network("nn").param_names())
    assert b.params == p
    # The histograms carry every parameter (0 in the weights' columns).
    h = b.histograms["signal"]["sr"]["nominal"]
    assert h.param_names == tuple(pm.name for pm in adj.config.parameters)


def test_adjoint_gradient_equals_finite_differences(analyses):
    adj = analyses["adjoint"]
    p = dict(adj.config.param_values)
    ev = adj.evaluate(p)
    rng = np.random.default_rng(11)
    names = [*adj.config.network("nn").param_names(), "disc_cut"]
    d = rng.normal(size=len(names))
    d /= np.linalg.norm(d)
    eps = 1e-5
    step = dict(zip(names, d, strict=True))
    up = adj.objective_at({**p, **{n: p[n] + eps * x for n, x in step.items()}})
    down = adj.objective_at({**p, **{n: p[n] - eps * x for n, x in step.items()}})
    fd = (up - down) / (2 * eps)
    analytic = sum(ev.gradient[n] * x for n, x in step.items())
    assert analytic == pytest.approx(fd, rel=1e-5, abs=1e-9)
