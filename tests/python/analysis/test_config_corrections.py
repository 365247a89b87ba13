# SPDX-License-Identifier: BSD-3-Clause
"""The ``corrections:`` key: a correctionlib file's correction, called from the
configuration's expressions on dual numbers, gives the same histograms and
Jacobians as the same formula written in C++; a file or correction that does not
fit is one ConfigError naming the key, before any event loop."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
pytest.importorskip("correctionlib")
pytest.importorskip("jax")
yaml = pytest.importorskip("yaml")

from correctionlib import schemav2 as cs

from diffana.analysis import Analysis, demo
from diffana.analysis import config as dc
from diffana.generators import toy as generate

pytestmark = pytest.mark.root

# A jet energy correction: 1 + 0.02 log10(pT / 30) in |eta| < 1.5, 1.01 beyond.
FORMULA = "1.0 + 0.02 * log10(x / 30.0)"


def _corrections() -> dict:
    jec = cs.Correction(
        name="jec",
        version=1,
        inputs=[cs.Variable(name="eta", type="real"), cs.Variable(name="pt", type="real")],
        output=cs.Variable(name="factor", type="real"),
        data=cs.Binning(
            nodetype="binning",
            input="eta",
            edges=[-10.0, -1.5, 1.5, 10.0],
            content=[
                1.01,
                cs.Formula(nodetype="formula", expression=FORMULA, parser="TFormula",
                           variables=["pt"]),
                1.01,
            ],
            flow="clamp",
        ),
    )  # fmt: skip
    other = cs.Correction(
        name="other", version=1, inputs=[cs.Variable(name="x", type="real")],
        output=cs.Variable(name="y", type="real"), data=1.0,
    )  # fmt: skip
    cset = cs.CorrectionSet(schema_version=2, corrections=[jec, other])
    return json.loads(cset.model_dump_json(exclude_unset=True))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("corrections")
    generate.generate(path / "samples", seed=4, events=2000)
    (path / "jec.json").write_text(json.dumps(_corrections()))
    return path


# The same correction written by hand in C++, element by element.
REFERENCE = """
template <class E, class V> V test_jec(const E& eta, const V& pt) {
  V out(pt.size());
  for (std::size_t i = 0; i < pt.size(); ++i) {
    using std::log10;
    using std::abs;
    out[i] = abs(eta[i]) < 1.5 ? 1.0 + 0.02 * log10(pt[i] / 30.0) : 0.0 * pt[i] + 1.01;
  }
  return out;
}
"""


def _analysis(folder, edit):
    raw = yaml.safe_load(demo.config_path().read_text())
    raw = copy.deepcopy(raw)
    edit(raw)
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return Analysis(dc.load(path), source=str(path))


def test_a_correction_equals_its_formula_in_cpp(folder):
    from diffana.rdf import _import_root

    assert _import_root().gInterpreter.Declare(REFERENCE)
    # The jets' pT carries a tangent (pt_width / 10 is 1 at its value), so the
    # Jacobian goes through the correction's formula too.
    raw_pt = "ROOT::RVecD(Jet_pt) * (pt_width / 10.0)"

    def with_file(raw):
        raw["corrections"] = {"jec": "jec.json"}
        raw["defines"] = {"jet_raw": raw_pt, **raw["defines"]}
        raw["defines"]["jet_pt"] = "jet_raw * jec(Jet_eta, jet_raw)"

    cpp = "jet_raw * test_jec(Jet_eta, jet_raw)"

    def inline(raw):
        raw["defines"] = {"jet_raw": raw_pt, **raw["defines"]}
        raw["defines"]["jet_pt"] = cpp

    a, b = _analysis(folder, with_file), _analysis(folder, inline)
    ha = a.histograms(a.config.param_values)
    hb = b.histograms(b.config.param_values)
    for sample in ha:
        for var, h in ha[sample]["sr"].items():
            g = hb[sample]["sr"][var]
            np.testing.assert_allclose(h.values, g.values, rtol=1e-12, atol=0)
            np.testing.assert_allclose(h.jacobian, g.jacobian, rtol=1e-10, atol=1e-12)
    # The correction moved the jets: the histograms differ from the demo's.
    plain = _analysis(folder, lambda raw: None)
    hp = plain.histograms(plain.config.param_values)
    assert not np.allclose(hp["signal"]["sr"]["nominal"].values,
                           ha["signal"]["sr"]["nominal"].values)  # fmt: skip


@pytest.mark.parametrize(
    ("corrections", "expected"),
    [
        ({"jec": {"file": "jec.json", "correction": "nope"}}, "corrections.jec: "),
        ({"jec2": "jec.json"}, "several corrections ['jec', 'other']: choose one"),
        ({"jec": "samples/signal.root"}, "corrections.jec: "),
    ],
)
def test_a_correction_that_does_not_fit_names_the_key(folder, corrections, expected):
    raw = yaml.safe_load(demo.config_path().read_text())
    raw["corrections"] = corrections
    path = folder / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(dc.ConfigError) as info:
        dc.load(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)
