# SPDX-License-Identifier: BSD-3-Clause
"""A four-program chain on AGC-like samples (3 x 1000 events), with the
configurations of examples/chain (the README's chain): select (ROOT in,
Parquet out: the lepton selection and the jet energy scale) -> select (Parquet in,
ROOT out: the soft jet selection and b tagging, the jet-count filter) -> evaluate
(yields and their Jacobian) -> infer (the expected POI uncertainty), forward and
backward.

The gradient that travelled through the event files and the yields files equals
the in-memory gradient of the same analysis in one configuration (what ``diffana
optimize`` steps with) within 1e-10 relative, forward (the result's tangents) and
backward (the yields' cotangents contracted with the yields' Jacobian); the
yields themselves are equal. Pairing mistakes are refused with one line.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib

import numpy as np
import pytest

ak = pytest.importorskip("awkward")

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
pytest.importorskip("yaml")
pytest.importorskip("uproot")
pytest.importorskip("pyarrow", reason="Parquet event files need pyarrow")

import yaml

from diffana.analysis import Analysis, ConfigError, run_evaluate
from diffana.analysis import config as dc
from diffana.analysis._errors import InputError
from diffana.chain import (
    ChainError,
    backward,
    contract,
    infer,
    read_gradient,
    seed_cotangent,
)
from diffana.chain.events import read_events, read_gradient_info, values_marker
from diffana.chain.select import select
from diffana.chain.yields import KEYS
from diffana.generators import agc as generate_agc

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "chain"
RTOL = 1e-10
SAMPLES = ("ttbar", "single_top", "wjets")
# Stage A computes these (the jet energy scale and the lepton selection) ...
STAGE_A = ("jet_btag", "jet_pt", "jet_ok")
# ... stage B these (the soft jet selection, b tagging, the jet-count filter).
STAGE_B = ("n_jet_ok", "jet_sel", "jet_tag")
JETS = ("Jet_eta", "Jet_phi", "Jet_mass", "genWeight", "event", "nJet")


def _configs(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """The whole analysis in one configuration (examples/chain/select.yaml: the AGC
    without its jet-pT variations, which a later program cannot vary), the two
    selection stages split from it, and the histogram stage
    (examples/chain/yields.yaml), on the files of ``folder``. The selections record
    the sum of genWeight over the original events (``--sumw``), so that the last
    stage's xsec normalises as the whole analysis does."""
    full = yaml.safe_load((EXAMPLES / "select.yaml").read_text())
    for s in full["samples"]:
        s["files"] = f"samples/{s['name']}.root"
    lepton, njet = full["selections"]
    a = copy.deepcopy(full)
    a["defines"] = {k: full["defines"][k] for k in STAGE_A}
    a["selections"] = [lepton]
    b = copy.deepcopy(full)
    b["defines"] = {k: full["defines"][k] for k in STAGE_B}
    b["selections"] = [njet]
    c = yaml.safe_load((EXAMPLES / "yields.yaml").read_text())
    assert "selections" not in c
    assert set(c["defines"]) == set(full["defines"]) - set(STAGE_A + STAGE_B)
    for s in c["samples"]:
        s["files"] = f"b/{s['name']}.root"
    out = {}
    for name, cfg in (("full", full), ("a", a), ("b", b), ("c", c)):
        out[name] = folder / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    folder = tmp_path_factory.mktemp("event_chain")
    generate_agc.generate(folder / "samples", seed=11, events=1000)
    cfgs = _configs(folder)
    a_cfg, b_cfg = dc.load(cfgs["a"]), dc.load(cfgs["b"])
    for s in SAMPLES:
        select(a_cfg, [folder / "samples" / f"{s}.root"], folder / "a" / f"{s}.parquet",
               [*STAGE_A, *JETS], outgrad=folder / "a" / f"{s}_grad.parquet",
               sumw=["genWeight"])  # fmt: skip
        select(b_cfg, [folder / "a" / f"{s}.parquet"], folder / "b" / f"{s}.root",
               ["jet_pt", "jet_sel", "jet_tag", *JETS],
               ingrad=[folder / "a" / f"{s}_grad.parquet"],
               outgrad=folder / "b" / f"{s}_grad.root", sumw=["genWeight"])  # fmt: skip
    y, g = folder / "yields.json", folder / "yields_grad.json"
    run_evaluate(cfgs["c"], quiet=True, out=y, outgrad=g,
                 ingrad=[folder / "b" / f"{s}_grad.root" for s in SAMPLES])  # fmt: skip
    c_cfg = dc.load(cfgs["c"], check_files=False)
    r, back = folder / "result.json", folder / "back.json"
    forward = infer(c_cfg, y, r, ingrad=g, saveforback=back)
    seed_cotangent(r, folder / "result_cot.json", 1.0)
    backward(back, folder / "yields_cot.json", folder / "result_cot.json")
    full = dc.load(cfgs["full"])
    analysis = Analysis(full, source=str(cfgs["full"]))
    memory = analysis.evaluate()
    return folder, full, memory, forward, analysis


def test_forward_through_four_programs_equals_in_memory(chain):
    _, config, memory, forward, _ = chain
    names = [p.name for p in config.parameters]
    assert forward["objective"]["value"] == pytest.approx(memory.objective, rel=RTOL)
    expected = np.asarray([memory.gradient[n] for n in names])
    got = np.asarray([forward["gradient"][n] for n in names])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0.0)
    assert np.count_nonzero(expected) >= 4  # pt_cut, btag_cut, jes, the widths


def test_backward_through_four_programs_equals_in_memory(chain):
    folder, config, memory, _, _ = chain
    names = [p.name for p in config.parameters]
    y = folder / "yields.json"
    _, cot = read_gradient(folder / "yields_cot.json", y, "backward", names)
    _, jac = read_gradient(folder / "yields_grad.json", y, "forward", names)
    expected = np.asarray([memory.gradient[n] for n in names])
    np.testing.assert_allclose(contract(cot, jac, KEYS), expected, rtol=RTOL, atol=0.0)


def test_yields_through_the_chain_equal_in_memory(chain):
    folder, _, _, _, analysis = chain
    yields = json.loads((folder / "yields.json").read_text())
    histos = analysis.histograms(analysis.config.param_values)
    for sample, by_channel in histos.items():
        for channel, by_var in by_channel.items():
            for var, h in by_var.items():
                got = yields["histograms"][channel][sample][var]
                np.testing.assert_allclose(got["values"], h.values, rtol=RTOL, atol=0)


def test_event_files_carry_their_provenance(chain):
    import uproot

    folder, config, _, _, _ = chain
    with uproot.open(folder / "samples" / "ttbar.root") as f:
        sumw = float(np.sum(f["Events"]["genWeight"].array(library="np"), dtype="f8"))
    marker = values_marker(folder / "b" / "ttbar.root")
    assert marker is not None
    assert marker["sum_weights"] == {"genWeight": pytest.approx(sumw, rel=1e-12)}
    g = read_gradient_info(folder / "b" / "ttbar_grad.root")
    assert g.record.names == tuple(p.name for p in config.parameters)
    assert g.record.values_path == os.fspath(folder / "b" / "ttbar.root")
    assert g.dual == ("jet_pt", "jet_sel", "jet_tag")
    assert g.record.config is not None
    assert g.record.config["defines"].keys() == set(STAGE_B)
    values, tangents, desc = read_events(
        folder / "a" / "ttbar.parquet", folder / "a" / "ttbar_grad.parquet"
    )
    assert desc is not None
    assert len(values) == len(tangents) == desc.entries
    # jet_pt = Jet_pt (1 + 0.03 jes): d jet_pt / d jes = 0.03 Jet_pt, exactly
    # what stage A wrote; pt_cut does not move it.
    flat = ak.flatten
    np.testing.assert_allclose(
        flat(tangents["jet_pt__d_jes"]).to_numpy(),
        0.03 * flat(values["jet_pt"]).to_numpy(),  # at jes = 0
        rtol=1e-15,
    )
    assert not np.any(flat(tangents["jet_pt__d_pt_cut"]).to_numpy())


def test_pairing_mistakes_are_refused(chain, tmp_path):
    folder = chain[0]
    b_cfg = dc.load(folder / "b.yaml")
    a = folder / "a"
    # A gradient of another values file.
    with pytest.raises(
        ChainError, match=r"belongs to the values file .*wjets\.parquet"
    ):
        select(b_cfg, [a / "ttbar.parquet"], tmp_path / "x.root", ["jet_pt"],
               ingrad=[a / "wjets_grad.parquet"])  # fmt: skip
    # Tangents computed at another point.
    moved = dc.load(folder / "b.yaml", ["pt_cut=35"])
    with pytest.raises(ChainError, match=r"computed at pt_cut = 30\.0, this config"):
        select(moved, [a / "ttbar.parquet"], tmp_path / "x.root", ["jet_pt"],
               ingrad=[a / "ttbar_grad.parquet"])  # fmt: skip
    # A values file with tangents read without them.
    with pytest.raises(ChainError, match="pass that file with --ingrad"):
        select(b_cfg, [a / "ttbar.parquet"], tmp_path / "x.root", ["jet_pt"])
    with pytest.raises(InputError, match="have tangents in a gradient file"):
        run_evaluate(folder / "c.yaml", quiet=True)
    # Inputs with tangents are read in this process, not on a cluster.
    with pytest.raises(ConfigError, match="not on a Dask cluster"):
        run_evaluate(folder / "c.yaml", quiet=True, workers=2,
                     ingrad=[folder / "b" / f"{s}_grad.root" for s in SAMPLES])  # fmt: skip
    # Parameters the reader does not have.
    cfg = yaml.safe_load((folder / "b.yaml").read_text())
    cfg["parameters"] = [p for p in cfg["parameters"] if p["name"] != "jes"]
    (tmp_path / "nojes.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ChainError, match=r"parameter\(s\) \['jes'\], which this"):
        select(dc.load(tmp_path / "nojes.yaml", check_files=False),
               [a / "ttbar.parquet"], tmp_path / "x.root", ["jet_pt"],
               ingrad=[a / "ttbar_grad.parquet"])  # fmt: skip
    assert not list(tmp_path.glob("x.root*"))
    assert not list(tmp_path.glob(".x*"))


def test_select_program(chain, tmp_path, capsys, monkeypatch):
    """``diffana select`` as a command: the same events and tangents as the
    in-process stage; bad arguments exit 2 with one line."""
    from diffana.cli import main

    folder = chain[0]
    monkeypatch.chdir(folder)
    out, grad = tmp_path / "ttbar.parquet", tmp_path / "ttbar_grad.parquet"
    rc = main(["select", "a.yaml", "--in", "samples/ttbar.root", "--columns",
               *STAGE_A, *JETS, "--out", str(out), "--outgrad", str(grad)])  # fmt: skip
    assert rc == 0
    assert "events ->" in capsys.readouterr().out
    v1, t1, _ = read_events(out, grad)
    a = folder / "a"
    v0, t0, _ = read_events(a / "ttbar.parquet", a / "ttbar_grad.parquet")
    assert v1.to_list() == v0.to_list()
    assert t1.to_list() == t0.to_list()
    rc = main(["select", "a.yaml", "--in", "samples/ttbar.root", "--columns",
               "jet_pt", "--out", str(tmp_path / "x.csv")])  # fmt: skip
    assert rc == 2
    expected = (
        f"diffana select: error: --out {tmp_path / 'x.csv'}: an event file must "
        "end in .root or .parquet"
    )
    assert capsys.readouterr().err.strip().splitlines() == [expected]
