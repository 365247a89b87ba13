# SPDX-License-Identifier: BSD-3-Clause
"""Write examples/agc/corrections.json: the AGC example's jet calibration as a
correctionlib file (schema v2), for agc_correctionlib.yaml.

Two corrections, in the shape of CMS's JERC files (made-up numbers, close to the
plain AGC example's calibration, which is 1 with a flat 3 % JES uncertainty):

- ``jec(eta, pt)``: the jet energy correction factor, a binning in eta whose bins
  all refer to one generic formula in pt, ``[0]+[1]*log10(x)+[2]*log10(x)^2``
  evaluated at pt clamped to [15, 3000] GeV (JERC's ``formularef`` style);
- ``jes_unc(eta, pt)``: the relative JES uncertainty, a binning in |eta|-like eta
  bins of ``[0]+[1]/sqrt(x)``, 3 % at high pT, a little more at low pT.

Run ``python examples/agc/make_corrections.py`` to rewrite the file (the committed
copy is its output; tests/python/test_correction_root.py checks that they agree).
"""

from __future__ import annotations

import pathlib
import sys

from correctionlib import schemav2 as cs

ETA_EDGES = [-5.2, -3.0, -2.5, -1.3, 0.0, 1.3, 2.5, 3.0, 5.2]
JEC_PARAMETERS = [
    [1.06, -0.030, 0.0035],
    [1.04, -0.022, 0.0025],
    [1.03, -0.018, 0.0020],
    [1.02, -0.012, 0.0012],
    [1.02, -0.012, 0.0012],
    [1.03, -0.018, 0.0020],
    [1.04, -0.022, 0.0025],
    [1.06, -0.030, 0.0035],
]
UNC_PARAMETERS = [[0.045, 0.10], [0.035, 0.08], [0.030, 0.05], [0.028, 0.04]]


def _real(name: str, description: str) -> cs.Variable:
    return cs.Variable(name=name, type="real", description=description)


def corrections() -> cs.CorrectionSet:
    """The two corrections as a correctionlib CorrectionSet."""
    inputs = [_real("eta", "jet pseudorapidity"), _real("pt", "jet pT [GeV]")]
    jec = cs.Correction(
        name="jec",
        description="Jet energy correction factor (AGC example, made-up numbers)",
        version=1,
        inputs=inputs,
        output=_real("factor", "multiplies the jet pT"),
        generic_formulas=[
            cs.Formula(
                nodetype="formula",
                expression=(
                    "[0]+[1]*log10(max(min(x,3000.0),15.0))"
                    "+[2]*log10(max(min(x,3000.0),15.0))^2"
                ),
                parser="TFormula",
                variables=["pt"],
            )
        ],
        data=cs.Binning(
            nodetype="binning",
            input="eta",
            edges=ETA_EDGES,
            content=[
                cs.FormulaRef(nodetype="formularef", index=0, parameters=p)
                for p in JEC_PARAMETERS
            ],
            flow="clamp",
        ),
    )
    unc_edges = [-5.2, -3.0, -2.5, -1.3, 1.3, 2.5, 3.0, 5.2]
    unc_index = [0, 1, 2, 3, 2, 1, 0]
    jes_unc = cs.Correction(
        name="jes_unc",
        description="Relative jet energy scale uncertainty (AGC example)",
        version=1,
        inputs=inputs,
        output=_real("uncertainty", "relative: pT x (1 +- uncertainty)"),
        data=cs.Binning(
            nodetype="binning",
            input="eta",
            edges=unc_edges,
            content=[
                cs.Formula(
                    nodetype="formula",
                    expression="[0]+[1]/sqrt(x)",
                    parser="TFormula",
                    variables=["pt"],
                    parameters=UNC_PARAMETERS[k],
                )
                for k in unc_index
            ],
            flow="clamp",
        ),
    )
    return cs.CorrectionSet(
        schema_version=2,
        description="Jet calibration of the differentiable AGC example",
        corrections=[jec, jes_unc],
    )


def main(out: pathlib.Path) -> None:
    """Write the correction set to ``out`` (JSON, indented)."""
    out.write_text(corrections().model_dump_json(indent=1, exclude_unset=True) + "\n")


if __name__ == "__main__":
    here = pathlib.Path(__file__).resolve().parent
    main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here / "corrections.json")
