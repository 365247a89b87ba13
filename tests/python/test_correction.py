# SPDX-License-Identifier: BSD-3-Clause
"""diffana.correction without ROOT: the TFormula parser against correctionlib's own
evaluator, the JAX corrections (every node type, every flow) against correctionlib
to 1e-12 on random inputs, their gradients against finite differences and jit, the
generated C++ text, and the errors. The same cases (`CASES`) run through cling and
DiffFrame in test_correction_root.py."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from correctionlib import schemav2 as cs

from diffana import correction as dc

pytestmark = pytest.mark.jax
jax = pytest.importorskip("jax")

N = 300


def real(name: str) -> cs.Variable:
    return cs.Variable(name=name, type="real")


def formula(expr: str, variables: list[str], params: list[float] | None = None) -> Any:
    return cs.Formula(
        nodetype="formula",
        expression=expr,
        parser="TFormula",
        variables=variables,
        parameters=params,
    )


def make(name: str, inputs: list[cs.Variable], data: Any, **kw: Any) -> cs.Correction:
    return cs.Correction(
        name=name, version=1, inputs=inputs, output=real("out"), data=data, **kw
    )


ETA_EDGES = [-5.0, -3.0, -1.3, 0.0, 1.3, 3.0, 5.0]


def jec_formula() -> cs.Correction:
    """A JEC-like formula in pt."""
    return make(
        "jec_formula",
        [real("pt")],
        formula("[0]+[1]*log10(x)+[2]*log10(x)^2", ["pt"], [1.1, -0.05, 0.004]),
    )


def eta_binning() -> cs.Correction:
    """A binning in eta of formulas in pt (clamped outside |eta| < 5)."""
    content = [
        formula("[0]+[1]*log10(x)", ["pt"], [1.02 + 0.01 * k, -0.01 - 0.002 * k])
        for k in range(len(ETA_EDGES) - 1)
    ]
    content[2] = formula("max(0.9, [0]+[1]*exp(-x/[2]))", ["pt"], [1.0, 0.2, 50.0])
    content[3] = 1.01
    return make(
        "eta_binning",
        [real("eta"), real("pt")],
        cs.Binning(
            nodetype="binning", input="eta", edges=ETA_EDGES, content=content,
            flow="clamp",
        ),
    )  # fmt: skip


def syst_category(default: bool = False) -> cs.Correction:
    """A category on a systematic string: nominal 1, up/down = 1 +- an uncertainty
    binned in eta and falling with pt."""

    def shifted(sign: float) -> Any:
        return cs.Binning(
            nodetype="binning",
            input="eta",
            edges=[0.0, 1.3, 2.5, 5.0],
            content=[
                formula(f"1{'+' if sign > 0 else '-'}([0]+[1]/sqrt(x))", ["pt"], p)
                for p in ([0.01, 0.2], [0.02, 0.3], [0.04, 0.5])
            ],
            flow="clamp",
        )

    items = [
        cs.CategoryItem(key="nominal", value=1.0),
        cs.CategoryItem(key="up", value=shifted(1.0)),
        cs.CategoryItem(key="down", value=shifted(-1.0)),
    ]
    return make(
        "syst_default" if default else "syst",
        [cs.Variable(name="syst", type="string"), real("eta"), real("pt")],
        cs.Category(
            nodetype="category",
            input="syst",
            content=items,
            default=formula("1+0*x", ["pt"]) if default else None,
        ),
    )


def multibinning() -> cs.Correction:
    """Scale factors in (eta, pt): non-uniform eta, uniform pt, 1.0 outside."""
    rng = np.random.default_rng(3)
    values = [float(v) for v in np.round(rng.uniform(0.8, 1.2, 4 * 5), 4)]
    return make(
        "multibinning",
        [real("eta"), real("pt")],
        cs.MultiBinning(
            nodetype="multibinning",
            inputs=["eta", "pt"],
            edges=[
                [-2.5, -1.0, 0.0, 1.0, 2.5],
                cs.UniformBinning(n=5, low=20, high=520),
            ],
            content=values,
            flow=1.0,
        ),
    )


def formularef() -> cs.Correction:
    """JERC style: one generic formula, parameters per (eta, pt) bin; pt clamped in
    the formula."""
    generic = formula(
        "[0]+[1]/(max(min(x,[3]),[4]))+[2]*log(max(min(x,[3]),[4]))", ["pt"]
    )
    content = [
        cs.FormulaRef(
            nodetype="formularef",
            index=0,
            parameters=[1.0 + 0.01 * k, 2.0 - 0.1 * k, 0.001 * k, 3000.0, 15.0],
        )
        for k in range(len(ETA_EDGES) - 1)
    ]
    return make(
        "formularef",
        [real("eta"), real("pt")],
        cs.Binning(
            nodetype="binning", input="eta", edges=ETA_EDGES, content=content,
            flow="clamp",
        ),
        generic_formulas=[generic],
    )  # fmt: skip


def flows() -> cs.Correction:
    """Every flow: a nested content node outside pt [20, 1000), wrap in phi, error in
    eta; int category with a default."""
    phi = cs.Binning(
        nodetype="binning",
        input="phi",
        edges=cs.UniformBinning(n=4, low=-3.141592653589793, high=3.141592653589793),
        content=[
            formula("1+0.001*x", ["pt"]),
            0.99,
            formula("1.01+0*x", ["pt"]),
            1.02,
        ],
        flow="wrap",
    )
    pt = cs.Binning(
        nodetype="binning",
        input="pt",
        edges=[20.0, 100.0, 1000.0],
        content=[phi, 1.05],
        flow=formula("0.5+0.5*tanh(x/500)", ["pt"]),
    )
    eta = cs.Binning(
        nodetype="binning",
        input="eta",
        edges=cs.UniformBinning(n=2, low=-4.7, high=4.7),
        content=[pt, formula("2-[0]*x/(1+x)", ["pt"], [0.3])],
        flow="error",
    )
    flav = cs.Category(
        nodetype="category",
        input="flavour",
        content=[
            cs.CategoryItem(key=5, value=eta),
            cs.CategoryItem(key=4, value=0.97),
        ],
        default=1.0,
    )
    return make(
        "flows",
        [cs.Variable(name="flavour", type="int"), real("eta"), real("phi"), real("pt")],
        flav,
    )


# name -> (correction factory, inputs factory, index of pt among the inputs)
def _eta_pt(rng: np.random.Generator, eta_max: float = 5.5) -> list[Any]:
    return [rng.uniform(-eta_max, eta_max, N), np.exp(rng.uniform(2.3, 8.5, N))]


def _flows_inputs(flavour: int, eta_max: float, rng: np.random.Generator) -> list[Any]:
    eta, phi = rng.uniform(-eta_max, eta_max, N), rng.uniform(-9, 9, N)
    return [flavour, eta, phi, np.exp(rng.uniform(2.3, 7.5, N))]


CASES: dict[str, tuple[Callable[[], cs.Correction], Callable[..., list[Any]], int]] = {
    "jec_formula": (jec_formula, lambda rng: [np.exp(rng.uniform(2.3, 8.5, N))], 0),
    "eta_binning": (eta_binning, _eta_pt, 1),
    "syst_up": (syst_category, lambda rng: ["up", *_eta_pt(rng)], 2),
    "syst_down": (syst_category, lambda rng: ["down", *_eta_pt(rng)], 2),
    "syst_nominal": (syst_category, lambda rng: ["nominal", *_eta_pt(rng)], 2),
    "syst_default": (
        lambda: syst_category(default=True),
        lambda rng: ["other", *_eta_pt(rng)],
        2,
    ),
    "multibinning": (multibinning, lambda rng: _eta_pt(rng, 3.0), 1),
    "formularef": (formularef, _eta_pt, 1),
    "flows_b": (flows, functools.partial(_flows_inputs, 5, 4.6), 3),
    "flows_c": (flows, functools.partial(_flows_inputs, 4, 9.0), 3),
    "flows_other": (flows, functools.partial(_flows_inputs, 0, 9.0), 3),
}


def case(name: str, seed: int = 7) -> tuple[cs.Correction, list[Any], int]:
    corr, inputs, wrt = CASES[name]
    return corr(), inputs(np.random.default_rng(seed)), wrt


def reference(corr: cs.Correction, inputs: list[Any]) -> np.ndarray:
    return np.asarray(corr.to_evaluator().evaluate(*inputs), dtype=float)


def finite_difference(
    corr: cs.Correction, inputs: list[Any], wrt: int
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences in input ``wrt`` with steps h and h/2, and a mask of the
    points where they agree (no bin edge within the step)."""
    x = np.asarray(inputs[wrt], dtype=float)
    out = []
    for h in (1e-6 * np.abs(x), 0.5e-6 * np.abs(x)):
        up = [*inputs[:wrt], x + h, *inputs[wrt + 1 :]]
        dn = [*inputs[:wrt], x - h, *inputs[wrt + 1 :]]
        out.append((reference(corr, up) - reference(corr, dn)) / (2 * h))
    smooth = np.abs(out[0] - out[1]) <= 1e-5 * (1 + np.abs(out[0]))
    return out[1], smooth


# ---- the parser -------------------------------------------------------------------------

EXPRESSIONS = [
    "-x^2", "2^-x", "-[0]^2", "2*-x", "x-3", "x -3", "1.e2*x", "x<y == 1",
    "x || y", "x && y", "(x>1) && (y<=0.5)", "x != y", "x[1]*x[0]", "atan2(y, x)",
    "pow(x, 0.5)", "max(x,y)-min(x,y)", "acosh(1+x)+asinh(y)+atanh(y/(1+abs(y)))",
    "erf(x)*exp(-y)", "log(x)/log10(x)", "sqrt(abs(y))", "cos(x)+sin(y)+tan(y/9)",
    "acos(y/9)+asin(y/9)+atan(x)", "cosh(y)-sinh(y)+tanh(x)", "x^2^0.5",
    "[0]*x^[1] + [2]/y", "  [0] + ( x * [1] )  ", "3e-2*x", "-(x+y)*2", "- x",
]  # fmt: skip


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_parser_matches_correctionlib(expression, x64, rng):
    corr = make(
        "f", [real("x"), real("y")], formula(expression, ["x", "y"], [1.5, 0.7, 2.0])
    )
    x, y = rng.uniform(0.1, 5, 50), rng.uniform(-3, 3, 50)
    got = np.asarray(dc.to_jax(corr)(x, y))
    np.testing.assert_allclose(got, reference(corr, [x, y]), rtol=1e-12, atol=1e-300)


# (correctionlib accepts a trailing operator, "x +", as "x"; diffana refuses it.)
@pytest.mark.parametrize("expression", ["- 3", "1e+5", "foo(x)", "x y", "[a]", "x )"])
def test_parser_refuses_what_correctionlib_refuses(expression):
    corr = make("f", [real("x")], formula(expression, ["x"]))
    with pytest.raises(RuntimeError):
        corr.to_evaluator().evaluate(1.0)
    with pytest.raises(dc.CorrectionError, match=r"correction 'f': formula"):
        dc.to_jax(corr)
    with pytest.raises(dc.CorrectionError, match=r"correction 'f': formula"):
        dc.to_cpp(corr, "f")


def test_parse_tree():
    tree = dc.parse("-x^2")
    assert tree.name == "^"
    assert tree.args[0].kind == "neg"  # correctionlib: (-x)^2
    assert dc.parse("x[1]").index == 1
    assert dc.parse("[3]").kind == "par"


# ---- JAX against correctionlib --------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_jax_values_equal_correctionlib(name, x64):
    corr, inputs, _ = case(name)
    got = np.asarray(dc.to_jax(corr)(*inputs))
    np.testing.assert_allclose(got, reference(corr, inputs), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", list(CASES))
def test_jax_gradient_equals_finite_differences(name, x64):
    corr, inputs, wrt = case(name)
    f = dc.to_jax(corr)

    arrays = [k for k, a in enumerate(inputs) if isinstance(a, np.ndarray)]

    def scalar(*values: Any) -> Any:
        args = list(inputs)
        for k, v in zip(arrays, values, strict=True):
            args[k] = v
        return f(*args)

    grad = jax.vmap(jax.grad(scalar, argnums=arrays.index(wrt)))(
        *(inputs[k] for k in arrays)
    )
    fd, smooth = finite_difference(corr, inputs, wrt)
    assert smooth.mean() > 0.9
    np.testing.assert_allclose(
        np.asarray(grad)[smooth], fd[smooth], rtol=2e-6, atol=1e-10
    )


def test_jax_is_jittable_and_piecewise_constant_in_the_binned_variable(x64):
    corr, inputs, _ = case("multibinning")
    f = dc.to_jax(corr)
    np.testing.assert_array_equal(jax.jit(f)(*inputs), f(*inputs))
    d_eta = jax.grad(lambda e: f(e, 100.0))(0.3)
    assert float(d_eta) == 0.0
    corr, inputs, _ = case("syst_up")
    g = jax.jit(dc.to_jax(corr), static_argnums=0)
    np.testing.assert_allclose(
        g("up", *inputs[1:]), reference(corr, inputs), rtol=1e-12
    )


def test_jax_int_category_on_arrays(x64, rng):
    corr = flows()
    flav = rng.choice([0, 4, 5], N)
    eta, phi, pt = rng.uniform(-4, 4, N), rng.uniform(-9, 9, N), rng.uniform(10, 900, N)
    got = np.asarray(dc.to_jax(corr)(flav, eta, phi, pt))
    ref = [
        reference(corr, [int(k), e, p, q])
        for k, e, p, q in zip(flav, eta, phi, pt, strict=True)
    ]
    np.testing.assert_allclose(got, np.asarray(ref), rtol=1e-12)


def test_updown_interpolation(x64):
    theta = np.linspace(-2.5, 2.5, 101)
    nom, up, down = 10.0, 12.5, 9.2

    def f(t: Any) -> Any:
        return dc.updown(t, nom, up, down)

    v = np.asarray(jax.jit(f)(theta))
    assert v[theta == 0.0][0] == nom
    np.testing.assert_allclose(jax.jit(f)(np.array([-1.0, 1.0])), [down, up])
    np.testing.assert_allclose(v[theta >= 1], nom + theta[theta >= 1] * (up - nom))
    g = jax.jit(jax.vmap(jax.grad(f)))(theta)
    h = 1e-6
    fd = (np.asarray(jax.jit(f)(theta + h)) - np.asarray(jax.jit(f)(theta - h))) / (
        2 * h
    )
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    assert float(jax.jit(jax.grad(f))(0.0)) == (up - down) / 2


def test_updown_is_pyhfs_code4p(x64):
    pyhf = pytest.importorskip("pyhf")
    theta = np.linspace(-2.5, 2.5, 21)
    for nom, up, down in [(10.0, 12.5, 9.2), (1.0, 0.9, 1.3), (5.0, 5.5, 4.5)]:
        interp = pyhf.interpolators.code4p([[[[down], [nom], [up]]]])
        delta = np.asarray(interp(np.array([theta]))).ravel()
        np.testing.assert_allclose(
            dc.updown(theta, nom, up, down), nom + delta, rtol=1e-14, atol=1e-14
        )


# ---- compound corrections ----------------------------------------------------------------


def compound_set(input_op: str, output_op: str) -> cs.CorrectionSet:
    """eta_binning then formularef, the second on pt updated by the first (CMS's
    L1L2L3 jet energy corrections are such a stack)."""
    return cs.CorrectionSet(
        schema_version=2,
        corrections=[eta_binning(), formularef(), jec_formula()],
        compound_corrections=[
            cs.CompoundCorrection(
                name="l1l2",
                inputs=[real("eta"), real("pt")],
                output=real("out"),
                inputs_update=["pt"],
                input_op=input_op,
                output_op=output_op,
                stack=["eta_binning", "formularef", "jec_formula"],
            )
        ],
    )


COMPOUND_OPS = [("*", "*"), ("+", "last"), ("/", "+")]


def compound_reference(cset: cs.CorrectionSet, inputs: list[Any]) -> np.ndarray:
    return np.asarray(cset.to_evaluator().compound["l1l2"].evaluate(*inputs))


@pytest.mark.parametrize(("input_op", "output_op"), COMPOUND_OPS)
def test_compound_corrections(input_op, output_op, x64):
    cset = compound_set(input_op, output_op)
    inputs = _eta_pt(np.random.default_rng(5))
    f = dc.to_jax(cset, "l1l2")
    ref = compound_reference(cset, inputs)
    np.testing.assert_allclose(f(*inputs), ref, rtol=1e-12, atol=0)
    grad = jax.jit(jax.vmap(jax.grad(f, argnums=1)))(*inputs)
    h = 1e-6 * inputs[1]
    fd = (
        compound_reference(cset, [inputs[0], inputs[1] + h])
        - compound_reference(cset, [inputs[0], inputs[1] - h])
    ) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=2e-6, atol=1e-10)
    assert isinstance(dc.load(cset, "l1l2"), dc.Compound)


# ---- the generated C++ text ------------------------------------------------------------------


def test_cpp_uses_tables_for_numbers_and_formula_refs():
    text = dc.to_cpp(multibinning(), "sf")
    assert "static constexpr double t[] = {" in text
    assert "find_bin_uniform" in text
    assert "Flow::value" in text
    text = dc.to_cpp(formularef(), "jerc")
    assert text.count("static constexpr double p[][5]") == 1
    assert "inline const diffana_correction_jerc::Correction jerc{};" in text
    assert text.startswith("// SPDX-License-Identifier: BSD-3-Clause")


# ---- loading and errors ------------------------------------------------------------------------


def test_load_files(tmp_path):
    cset = cs.CorrectionSet(
        schema_version=2, corrections=[jec_formula(), eta_binning()]
    )
    text = cset.model_dump_json(by_alias=True)
    (tmp_path / "c.json").write_text(text)
    (tmp_path / "c.json.gz").write_bytes(gzip.compress(text.encode()))
    for f in ("c.json", "c.json.gz"):
        assert dc.load(tmp_path / f, "eta_binning").name == "eta_binning"
    assert dc.load(json.loads(text), "jec_formula").name == "jec_formula"
    with pytest.raises(dc.CorrectionError, match="several corrections"):
        dc.load(tmp_path / "c.json")
    with pytest.raises(dc.CorrectionError, match="no correction 'jes'"):
        dc.load(tmp_path / "c.json", "jes")
    with pytest.raises(dc.CorrectionError, match="cannot read the correction file"):
        dc.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"schema_version": 2}')
    with pytest.raises(dc.CorrectionError, match="is not a correctionlib"):
        dc.load(tmp_path / "bad.json")


def test_unsupported_node_types_name_the_correction():
    corr = make(
        "smear",
        [real("pt"), real("eta")],
        cs.HashPRNG(nodetype="hashprng", inputs=["pt", "eta"], distribution="stdflat"),
    )
    with pytest.raises(
        dc.CorrectionError, match=r"correction 'smear': node type 'hashprng'"
    ):
        dc.to_cpp(corr, "smear")
    with pytest.raises(
        dc.CorrectionError, match=r"correction 'smear': node type 'hashprng'"
    ):
        dc.to_jax(corr)
    bad = compound_set("*", "*")
    bad.compound_corrections[0].stack.append("jer")  # type: ignore[index]
    with pytest.raises(dc.CorrectionError, match="'l1l2': no correction 'jer' in"):
        dc.load(bad, "l1l2")
    bad = compound_set("*", "*")
    bad.compound_corrections[0].inputs.pop(0)  # type: ignore[index]
    with pytest.raises(dc.CorrectionError, match="takes input 'eta', which the comp"):
        dc.load(bad, "l1l2")


def test_jax_errors_name_correction_input_and_value(x64):
    corr = flows()
    f = dc.to_jax(corr)
    with pytest.raises(
        dc.CorrectionError, match=r"correction 'flows': input 'eta' = 5\.5 is above"
    ):
        f(5, np.array([0.0, 5.5]), 0.0, 50.0)
    out = jax.jit(f, static_argnums=0)(5, np.array([0.0, 5.5]), 0.0, 50.0)
    assert np.isfinite(out[0])
    assert np.isnan(out[1])
    with pytest.raises(
        dc.CorrectionError, match=r"takes 4 inputs \(flavour: int, eta: real"
    ):
        f(5, 0.0, 0.0)
    g = dc.to_jax(syst_category())
    with pytest.raises(dc.CorrectionError, match=r"input 'syst' = 'upp' is not one of"):
        g("upp", 0.0, 50.0)
    with pytest.raises(dc.CorrectionError, match="input 'syst' must be a string"):
        g(1.0, 0.0, 50.0)


def test_bad_names_and_parameters():
    with pytest.raises(ValueError, match="is not a C\\+\\+ identifier"):
        dc.to_cpp(jec_formula(), "jec-1")
    short = make("few", [real("x")], formula("[0]+[3]*x", ["x"], [1.0]))
    with pytest.raises(dc.CorrectionError, match=r"uses parameter \[3\] of 1"):
        dc.to_cpp(short, "few")
