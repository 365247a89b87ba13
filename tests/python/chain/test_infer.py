# SPDX-License-Identifier: BSD-3-Clause
"""The inference stage and its backward pass on synthetic yields (no event loop,
no ROOT): the forward gradient (``infer --ingrad --outgrad``) equals the inner
product of the backward pass's yield cotangents with the yields' Jacobian, and the
objective's finite differences along the Jacobian; through fit bins, the MC
statistics (variances) and shape systematics. Files that do not fit are refused
with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")

from diffana.analysis.config import load_dict
from diffana.analysis.graph import NOMINAL
from diffana.chain import (
    ChainError,
    Statistics,
    backward,
    contract,
    infer,
    read_gradient,
    read_histograms,
    read_result,
    seed_cotangent,
    write_yields,
)
from diffana.chain.yields import KEYS, needed
from diffana.cli import main
from diffana.hist import GradHistogram

PARAMS = {"cut": 1.0, "width": 0.5, "scale": 2.0}
RAW = {
    "samples": [
        {"name": "s", "files": "s.root", "role": "signal"},
        {"name": "b1", "files": "b1.root", "role": "background"},
        {"name": "b2", "files": "b2.root", "role": "background"},
    ],
    "parameters": [
        {"name": n, "value": v, "bounds": [0.0, 5.0]} for n, v in PARAMS.items()
    ],
    "observables": [
        {"name": "sr", "expression": "x", "bins": {"low": 0.0, "high": 6.0, "n": 6},
         "fit_bins": [1.0, 3.0, 4.0, 6.0]},
        {"name": "cr", "expression": "y", "bins": [0.0, 1.0, 2.0]},
    ],
    "systematics": [
        {"name": "lumi", "type": "normsys", "lo": 0.98, "hi": 1.02},
        {"name": "pu", "type": "weight", "up": "w * 1.1", "down": "w * 0.9",
         "samples": ["b1"]},
    ],
    "mc_stat": True,
    "objective": {"type": "asimov_significance", "background_uncertainty": 0.1},
}  # fmt: skip


def _config(**changes):
    return load_dict({**RAW, **changes})


def _histograms(config, seed=1):
    """Random positive histograms with random Jacobians, for every histogram the
    model needs."""
    rng = np.random.default_rng(seed)
    edges = {o.name: np.asarray(o.edges, float) for o in config.observables}
    out = {}
    for ch, s, v in needed(config):
        n = edges[ch].size - 1
        scale = 5.0 if s == "s" else 50.0
        values = scale * (1.0 + rng.random(n))
        h = GradHistogram(
            values,
            values * rng.uniform(0.01, 0.1, n),
            rng.normal(0.0, 1.0, (n, len(PARAMS))),
            rng.normal(0.0, 0.1, (n, len(PARAMS))),
            edges[ch],
            param_names=list(PARAMS),
        )
        out.setdefault(s, {}).setdefault(ch, {})[v] = h
    return out


@pytest.fixture
def files(tmp_path):
    config = _config()
    y, g = tmp_path / "yields.json", tmp_path / "yields_grad.json"
    write_yields(y, g, _histograms(config), PARAMS, config, "test")
    return config, y, g


@pytest.mark.parametrize(
    "objective",
    [
        {"type": "asimov_significance", "background_uncertainty": 0.1},
        # a fit: the variances (mc_stat) enter; slower (compiling the fit)
        pytest.param({"type": "discovery_significance"}, marks=pytest.mark.slow),
    ],
)
def test_forward_equals_backward(files, tmp_path, objective):
    _, y, g = files
    config = _config(objective=objective)
    r, rg, back = tmp_path / "r.json", tmp_path / "rg.json", tmp_path / "back.json"
    result = infer(config, y, r, ingrad=g, outgrad=rg, saveforback=back)
    _, tangents = read_gradient(rg, r, "forward", list(PARAMS))
    forward = np.asarray(tangents["objective"]["value"])
    assert forward.tolist() == [result["gradient"][n] for n in PARAMS]
    assert read_result(r)["objective"]["value"] == result["objective"]["value"]
    cot = tmp_path / "yc.json"
    backward(back, cot, seed=1.0)
    _, cots = read_gradient(cot, y, "backward")
    _, jac = read_gradient(g, y, "forward", list(PARAMS))
    np.testing.assert_allclose(contract(cots, jac, KEYS), forward, rtol=1e-10)
    # The fit bins drop the bin [0, 1); the variances (mc_stat) carry part of a
    # fit's gradient.
    sr = cots["histograms"]["sr"]
    fit = objective["type"] == "discovery_significance"
    assert any(c != 0.0 for c in sr["b1"][NOMINAL]["variances"]) == fit
    assert sr["b1"][NOMINAL]["values"][0] == 0.0
    assert all(c == 0.0 for c in sr["b1"]["pu_up"]["variances"])


def test_forward_equals_finite_differences(files, tmp_path):
    """d objective / d theta_k from the files against the objective of the yields
    moved along the Jacobian's column k (exact: the objective is a function of the
    yields only)."""
    config, y, g = files
    result = infer(config, y, tmp_path / "r.json", ingrad=g)
    stats = Statistics(config, PARAMS)  # one compilation for every point
    data = json.loads(y.read_text())
    _, tangents = read_gradient(g, y, "forward")
    eps = 1e-5
    for k, name in enumerate(PARAMS):
        values = []
        for sign in (1.0, -1.0):
            moved = json.loads(json.dumps(data))
            for ch, samples in moved["histograms"].items():
                for s, variations in samples.items():
                    for v, h in variations.items():
                        t = tangents["histograms"][ch][s][v]
                        for key in KEYS:
                            h[key] = (
                                np.asarray(h[key])
                                + sign * eps * np.asarray(t[key])[:, k]
                            ).tolist()
            path = tmp_path / "moved.json"
            path.write_text(json.dumps(moved))
            values.append(stats.objective_value(read_histograms(config, path)[1])[0])
        fd = (values[0] - values[1]) / (2 * eps)
        assert result["gradient"][name] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_refuses_grad_of_another_yields_file(files, tmp_path):
    config, y, g = files
    other = tmp_path / "other.json"
    write_yields(other, None, _histograms(config, seed=2), PARAMS, config, "test")
    with pytest.raises(ChainError, match=rf"{g} belongs to the values file {y}"):
        infer(config, other, tmp_path / "r.json", ingrad=g)


def test_refuses_other_parameter_names(files, tmp_path):
    _, y, g = files
    params = [dict(p) for p in RAW["parameters"]]
    params[1]["name"] = "width2"
    config = _config(parameters=params)
    with pytest.raises(ChainError) as err:
        infer(config, y, tmp_path / "r.json", ingrad=g)
    assert str(err.value) == (
        f"{g}: tangents w.r.t. parameters ['cut', 'width', 'scale'], expected "
        "['cut', 'width2', 'scale']"
    )
    with pytest.raises(ChainError, match="made at parameters"):
        infer(config, y, tmp_path / "r.json")


def test_refuses_missing_histogram_and_other_bins(files, tmp_path):
    _, y, _ = files
    systematics = [*RAW["systematics"], {"name": "jes", "type": "weight",
                   "up": "w", "down": "w"}]  # fmt: skip
    with pytest.raises(ChainError, match="no histogram sr/s/jes_up"):
        infer(_config(systematics=systematics), y, tmp_path / "r.json")
    observables = [dict(o) for o in RAW["observables"]]
    observables[1]["bins"] = [0.0, 1.0, 3.0]
    with pytest.raises(ChainError, match=r"histograms/cr/s/nominal has edges"):
        infer(_config(observables=observables), y, tmp_path / "r.json")


def test_backward_refuses_cotangent_of_another_result(files, tmp_path):
    config, y, g = files
    r, back = tmp_path / "r.json", tmp_path / "back.json"
    infer(config, y, r, saveforback=back)
    other = tmp_path / "r2.json"
    infer(_config(objective={"type": "asimov_significance"}), y, other)
    seed_cotangent(other, tmp_path / "c2.json")
    with pytest.raises(ChainError, match=r"c2\.json is a cotangent of .*r2\.json"):
        backward(back, tmp_path / "yc.json", tmp_path / "c2.json")
    seed_cotangent(r, tmp_path / "c.json", 2.0)
    backward(back, tmp_path / "yc2.json", tmp_path / "c.json")
    backward(back, tmp_path / "yc1.json", seed=1.0)
    _, c2 = read_gradient(tmp_path / "yc2.json", y, "backward")
    _, c1 = read_gradient(tmp_path / "yc1.json", y, "backward")
    _, jac = read_gradient(g, y, "forward")
    np.testing.assert_allclose(
        contract(c2, jac, KEYS), 2.0 * contract(c1, jac, KEYS), rtol=1e-15
    )


def test_command_line(files, tmp_path, capsys):
    config, y, g = files
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(RAW))
    r, rg, back = tmp_path / "r.json", tmp_path / "rg.json", tmp_path / "back.json"
    args = ["infer", str(cfg), "--in", str(y), "--out", str(r)]
    assert main([*args, "--ingrad", str(g), "--outgrad", str(rg),
                 "--saveforback", str(back)]) == 0  # fmt: skip
    assert main(["backward", "--cfg", str(back), "--seed", "1",
                 "--ingrad", str(tmp_path / "yc.json")]) == 0  # fmt: skip
    capsys.readouterr()
    # the wrong pairing, and --outgrad without --ingrad: status 2, one line
    other = tmp_path / "other.json"
    write_yields(other, None, _histograms(config, seed=3), PARAMS, config, "test")
    assert main(["infer", str(cfg), "--in", str(other), "--out", str(r),
                 "--ingrad", str(g)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"diffana infer: error: {g} belongs to the values file")
    assert main([*args, "--outgrad", str(rg)]) == 2
    assert "--outgrad needs --ingrad" in capsys.readouterr().err
    assert main(["backward", "--cfg", str(back), "--outgrad", str(rg),
                 "--ingrad", str(tmp_path / "yc.json")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err == (
        f"diffana backward: error: {rg}: holds forward tangents, expected backward "
        "cotangents\n"
    )
