# SPDX-License-Identifier: BSD-3-Clause
"""The generators package (diffana.generators): one entry point for both kinds of
samples, the same files as each generator's own function, and modules that do not
import each other."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import diffana.generators as gen


def test_kinds_samples_and_defaults():
    assert gen.KINDS == ("demo", "agc")
    assert gen.samples("demo") == tuple(gen.toy.SAMPLES)
    assert gen.samples("agc") == gen.agc.SAMPLES
    assert gen.default_events("demo") == gen.toy.DEFAULT_EVENTS
    assert gen.default_events("agc") == gen.agc.DEFAULT_EVENTS
    for bad in (gen.samples, gen.default_events):
        with pytest.raises(ValueError, match="unknown kind of samples 'toy'"):
            bad("toy")


def flat(a):
    """A branch as one array (jagged branches come as arrays of arrays)."""
    return np.concatenate(a) if a.dtype == object else a


@pytest.mark.parametrize(
    ("kind", "events", "sample"), [("demo", 500, "ttbar"), ("agc", 300, "wjets")]
)
def test_generate_by_kind_equals_the_module(tmp_path, kind, events, sample):
    uproot = pytest.importorskip("uproot")
    module = gen.toy if kind == "demo" else gen.agc
    a = gen.generate(kind, tmp_path / "a", seed=4, events=events, samples=[sample])
    b = module.generate(tmp_path / "b", seed=4, events=events, samples=[sample])
    assert list(a) == [sample]
    ta = uproot.open(a[sample])["Events"].arrays(library="np")
    tb = uproot.open(b[sample])["Events"].arrays(library="np")
    assert sorted(ta) == sorted(tb)
    for key in ta:
        np.testing.assert_array_equal(flat(ta[key]), flat(tb[key]))


def test_generate_rejects_an_unknown_kind_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"known: \['demo', 'agc'\]"):
        gen.generate("zjets", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sample_builders_are_exported():
    assert gen.make_sample is gen.toy.make_sample
    assert gen.make_chunk is gen.agc.make_chunk
    assert gen.toy.check_request is gen._common.check_request
    branches = gen.make_sample("signal", 5, np.random.default_rng(0))
    assert branches["disc"].shape == (5,)


def test_generator_modules_do_not_import_each_other():
    folder = pathlib.Path(gen.__file__).parent
    for name, other in (("toy", "agc"), ("agc", "toy")):
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
                imported.update(alias.name for alias in node.names)
        assert other not in imported, f"generators/{name}.py imports {other}"
