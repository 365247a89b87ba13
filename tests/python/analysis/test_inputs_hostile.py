# SPDX-License-Identifier: BSD-3-Clause
"""Hostile inputs of an analysis: corrupt and truncated ROOT files (found by reading
every basket with uproot before ROOT sees them), a C++ exception inside an event loop
(a clean error naming the sample), thousands of bins (fit bins merged in linear time
and memory) and error messages that stay one short line."""

from __future__ import annotations

import os
import pathlib
import shutil
import tracemalloc

import numpy as np
import pytest

from diffana.analysis import config as cfgmod
from diffana.analysis import inputs
from diffana.analysis._errors import InputError, ObjectiveError, SampleError
from diffana.generators import toy

uproot = pytest.importorskip("uproot", reason="uproot is not installed")


def write_samples(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """Small demo samples (several baskets per branch)."""
    paths = {}
    for k, (name, n) in enumerate({"signal": 400, "ttbar": 200}.items()):
        branches = toy.make_sample(name, n, np.random.default_rng([3, k]))
        paths[name] = folder / f"{name}.root"
        toy._write(paths[name], branches)
    return paths


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory) -> dict[str, pathlib.Path]:
    return write_samples(tmp_path_factory.mktemp("hostile"))


def corrupt(src: pathlib.Path, dst: pathlib.Path, branch: str) -> None:
    """A copy of ``src`` with the bytes of ``branch``'s first basket flipped (its
    key header, the first 100 bytes, kept: the damage is in the data)."""
    with uproot.open(src) as f:
        b = f["Events"][branch]
        seek = int(b.member("fBasketSeek")[0])
        size = int(b.member("fBasketBytes")[0])
    data = bytearray(src.read_bytes())
    for i in range(seek + 100, seek + size - 8, 7):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))


def raw_config(files: dict[str, pathlib.Path], **extra: object) -> dict[str, object]:
    return {
        "samples": [
            {"name": "sig", "files": str(files["signal"]), "role": "signal",
             "weight": "genWeight"},
            {"name": "bkg", "files": str(files["ttbar"]), "role": "background",
             "weight": "genWeight"},
        ],
        "parameters": [{"name": "cut", "value": 30.0, "bounds": [0.0, 100.0]}],
        "defines": {"ht": "ROOT::VecOps::Sum(Jet_pt[Jet_pt > cut])"},
        "selections": [{"filter": "nJet >= 1"}],
        "observables": [{"name": "sr", "expression": "ht", "bins": [0.0, 500.0]}],
        "objective": {"type": "asimov_significance"},
        **extra,
    }  # fmt: skip


def analysis_config(files: dict[str, pathlib.Path], **extra: object) -> cfgmod.Config:
    return cfgmod.load_dict(raw_config(files, **extra), ".", source="a.yaml")


def test_used_names_are_the_free_identifiers():
    cfg = analysis_config({"signal": pathlib.Path("s"), "ttbar": pathlib.Path("t")})
    assert {"Jet_pt", "nJet", "genWeight", "cut", "ht"} <= inputs.used_names(cfg)
    assert "Sum" not in inputs.used_names(cfg)  # qualified: not a column


def test_corrupt_basket_is_an_input_error(sample_files, tmp_path):
    bad = tmp_path / "signal_bad.root"
    corrupt(sample_files["signal"], bad, "Jet_pt")
    cfg = analysis_config({**sample_files, "signal": bad})
    with pytest.raises(InputError) as err:
        inputs.validate(cfg, source="a.yaml")
    text = str(err.value)
    assert "\n" not in text
    for part in ("a.yaml: samples[0] (sig)", str(bad), "tree 'Events'",
                 "branch 'Jet_pt'", "entries 0-", "corrupt or truncated"):  # fmt: skip
        assert part in text
    # A branch the analysis does not read is not read.
    corrupt(sample_files["signal"], bad, "Jet_phi")
    inputs.validate(cfg)


def test_branches_are_read_in_bounded_chunks(sample_files, tmp_path, monkeypatch):
    """The check reads a branch a chunk of entries at a time (its memory does not
    grow with the file): with tiny chunks a good file passes and a bad basket is
    still found."""
    monkeypatch.setattr(inputs, "_CHUNK", 7)
    monkeypatch.setattr(inputs, "_checked", {})
    good = inputs.validate(analysis_config(sample_files))
    assert good.entries["sig"] > 7
    bad = tmp_path / "signal_bad.root"
    corrupt(sample_files["signal"], bad, "Jet_pt")
    with pytest.raises(InputError, match="branch 'Jet_pt', entries"):
        inputs.validate(analysis_config({**sample_files, "signal": bad}))


@pytest.mark.parametrize("fraction", [0.5, 0.7, 0.9])
def test_truncated_file_is_an_input_error(sample_files, tmp_path, fraction):
    data = sample_files["signal"].read_bytes()
    cut = tmp_path / f"signal_{int(fraction * 100)}.root"
    cut.write_bytes(data[: int(len(data) * fraction)])
    cfg = analysis_config({**sample_files, "signal": cut})
    with pytest.raises(InputError, match=r"samples\[0\] \(sig\): .*signal_\d+\.root"):
        inputs.validate(cfg)


def test_missing_tree_is_an_input_error(sample_files):
    raw: dict = raw_config(sample_files)
    raw["samples"][1]["tree"] = "Nope"
    cfg = cfgmod.load_dict(raw, ".")
    with pytest.raises(InputError, match=r"samples\[1\] \(bkg\): .*no tree 'Nope'"):
        inputs.validate(cfg)


def test_files_are_checked_once_per_content(sample_files, tmp_path):
    files = {k: shutil.copy(v, tmp_path / v.name) for k, v in sample_files.items()}
    cfg = analysis_config({k: pathlib.Path(v) for k, v in files.items()})
    first = inputs.validate(cfg)
    assert first.entries == {"sig": 400, "bkg": 200}
    assert first.branches["sig"] == ["Jet_pt", "genWeight", "nJet"]
    again = inputs.validate(cfg)
    assert again.entries == first.entries
    # A file changed in place (new size and time) is read again.
    corrupt(sample_files["signal"], pathlib.Path(files["signal"]), "Jet_pt")
    os.utime(files["signal"], ns=(1, 1))
    with pytest.raises(InputError, match="branch 'Jet_pt'"):
        inputs.validate(cfg)


@pytest.mark.root
def test_the_graph_validates_before_root_reads(sample_files, tmp_path):
    """Without the check this analysis crashes the process (segmentation
    violation while ROOT decompresses the basket)."""
    from diffana.analysis.graph import Graph

    bad = tmp_path / "signal_bad.root"
    corrupt(sample_files["signal"], bad, "Jet_pt")
    with pytest.raises(InputError, match="branch 'Jet_pt'"):
        Graph(analysis_config({**sample_files, "signal": bad}), source="a.yaml")


@pytest.mark.root
@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("Jet_pt.at(100) * cut", "out_of_range"),
        ('nJet > 3 ? throw std::runtime_error("bad event") : cut', "bad event"),
    ],
)
def test_cpp_exception_in_the_loop_names_the_sample(sample_files, expression, reason):
    from diffana.analysis.graph import Graph

    cfg = analysis_config(sample_files, defines={"ht": expression})
    graph = Graph(cfg, source="a.yaml")
    with pytest.raises(SampleError) as err:
        graph.histograms(cfg.param_values)
    text = str(err.value)
    assert "\n" not in text
    assert "a.yaml: sample 'sig' (tree 'Events' in " in text
    assert str(sample_files["signal"]) in text
    assert reason in text
    assert isinstance(err.value, ObjectiveError)  # the CLI's one-line errors


def test_real_nanoaod_corrupt_basket(data_dir, tmp_path):
    src = data_dir / "coffea_nano_tt_v12.root"
    if not src.is_file():
        pytest.skip(f"{src} is missing")
    files = {"signal": src, "ttbar": src}
    cfg = analysis_config(files)
    check = inputs.validate(cfg)
    assert check.entries == {"sig": 200, "bkg": 200}
    bad = tmp_path / "tt_bad.root"
    corrupt(src, bad, "Jet_pt")
    with pytest.raises(
        InputError, match=r"tt_bad\.root: tree 'Events', branch 'Jet_pt'"
    ):
        inputs.validate(analysis_config({**files, "ttbar": bad}))


# ---- many bins ---------------------------------------------------------------------


def many_bins_config(n: int, fit_every: int) -> cfgmod.Config:
    edges = np.linspace(0.0, 1.0, n + 1)
    fit = edges[::fit_every].tolist()
    d: dict = raw_config({"signal": pathlib.Path("s"), "ttbar": pathlib.Path("t")})
    d["observables"] = [
        {"name": "sr", "expression": "ht", "bins": {"low": 0.0, "high": 1.0, "n": n},
         "fit_bins": fit},
    ]  # fmt: skip
    return cfgmod.load_dict(d, ".")


def test_fit_bins_merge_like_rebinned():
    import diffana
    from diffana.analysis.workspace import StatModel

    cfg = many_bins_config(60, 4)
    rng = np.random.default_rng(1)
    x = rng.random(500)
    h = diffana.histogram(x, np.linspace(0.0, 1.0, 61), weights=rng.random(500))
    model = StatModel(cfg)
    got = model.rebinned(h, "sr")
    want = h.rebinned(cfg.observables[0].fit_edges)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-12)
    np.testing.assert_allclose(got.variances, want.variances, rtol=1e-12)
    np.testing.assert_allclose(got.jacobian, want.jacobian, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.edges, want.edges)


def test_six_thousand_fit_bins_in_linear_memory():
    """A dense merge matrix would take 6000 x 3000 x 8 bytes (144 MB) per array."""
    import diffana
    from diffana.analysis.workspace import StatModel

    n = 6000
    cfg = many_bins_config(n, 2)
    model = StatModel(cfg)
    h = diffana.histogram(np.random.default_rng(2).random(20_000),
                          np.linspace(0.0, 1.0, n + 1))  # fmt: skip
    histos = {"sig": {"sr": {"nominal": h}}, "bkg": {"sr": {"nominal": h}}}
    tracemalloc.start()
    try:
        leaves = model.leaves(histos)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert leaves["sig/sr/nominal"][0].shape == (n // 2,)
    assert leaves["sig/sr/nominal"][0].sum() == pytest.approx(20_000)
    assert peak < 10e6


@pytest.mark.root
def test_empty_background_bins_are_summarized(sample_files):
    """2000 empty bins: the message counts them and shows the first few."""
    pytest.importorskip("jax", reason="JAX is not installed")
    from diffana.analysis.evaluation import Analysis

    raw: dict = raw_config(sample_files)
    raw["observables"][0]["bins"] = {"low": 0.0, "high": 2000.0, "n": 2000}
    analysis = Analysis(cfgmod.load_dict(raw, "."))
    histos = analysis.histograms(analysis.config.param_values)
    with pytest.raises(ObjectiveError) as err:
        analysis._check_yields(histos)
    text = str(err.value)
    assert "channel 'sr': the total background is not positive in " in text
    assert " of 2000 bins: 0 [0, 1), " in text
    assert "(background samples ['bkg'])" in text
    assert len(text) < 500
