# SPDX-License-Identifier: BSD-3-Clause
"""A column systematic reaches every expression that uses a varied define, however
the expression is written: a selection ``450>mjj`` (no space after the operator) is
varied exactly as ``mjj < 450`` is. The analysis layer rewrites names with the
rewriter DiffFrame uses for its parameters (`diffana.rdf.expressions.rename`); a
rewriter of its own once missed ``450>mjj``, and the JES histograms of the demo
configuration with that one more selection differed by 12 %."""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("jax")
yaml = pytest.importorskip("yaml")
pytest.importorskip("pydantic")
pytest.importorskip("uproot")

from diffana.analysis import Analysis, demo
from diffana.analysis import config as dc
from diffana.generators import toy as generate

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("column_syst")
    generate.generate(path / "samples", seed=3, events=3000)
    return path


def _histograms(folder, selection, name):
    raw = yaml.safe_load(demo.config_path().read_text())
    raw = copy.deepcopy(raw)
    raw["selections"].append({"filter": selection})
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    analysis = Analysis(dc.load(path), source=str(path))
    return analysis.histograms(analysis.config.param_values)


def test_a_selection_written_450_gt_mjj_is_varied_as_mjj_lt_450(folder):
    spaced = _histograms(folder, "mjj < 450", "spaced.yaml")
    tight = _histograms(folder, "450>mjj", "tight.yaml")
    for sample in ("signal", "ttbar", "qcd"):
        a, b = spaced[sample]["sr"], tight[sample]["sr"]
        assert list(a) == list(b)
        for variation in ("nominal", "jes_up", "jes_down"):
            for field in ("values", "variances", "jacobian", "variances_jacobian"):
                np.testing.assert_array_equal(
                    getattr(a[variation], field),
                    getattr(b[variation], field),
                    err_msg=f"{sample} {variation} {field}",
                )
        # The JES does vary the selection: its histograms differ from the nominal.
        for variation in ("jes_up", "jes_down"):
            assert not np.allclose(b[variation].values, b["nominal"].values)
    # and the cut acts: mjj < 450 removes events of the window (up to 520 GeV).
    full = _histograms(folder, "true", "full.yaml")
    assert np.sum(full["ttbar"]["sr"]["jes_up"].values) > np.sum(
        tight["ttbar"]["sr"]["jes_up"].values
    )
