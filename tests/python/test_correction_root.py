# SPDX-License-Identifier: BSD-3-Clause
"""diffana.correction through ROOT's interpreter and in compiled C++: every case of
test_correction.py declared with `declare` and evaluated in cling on doubles (equal
to correctionlib to 1e-12) and on Duals (equal to the JAX gradient and to finite
differences); a DiffFrame gradient histogram of jets calibrated by the AGC example's
correctionlib file (examples/agc/corrections.json) against the same pipeline in JAX
and against finite differences of the DiffFrame; the errors inside event loops and at
compile time; `to_cpp` in a program built with the C++ compiler."""

from __future__ import annotations

import importlib.util
import itertools
import json
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from diffana import correction as dc

pytestmark = [pytest.mark.root, pytest.mark.jax]
jax = pytest.importorskip("jax")

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXAMPLE = REPO / "examples" / "agc"


def _load(name: str, path: pathlib.Path) -> Any:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


cases = _load("diffana_test_correction_cases", HERE / "test_correction.py")
_ids = itertools.count()


def cpp_eval(ROOT: Any, name: str, inputs: list[Any], wrt: int | None = None) -> Any:
    """``name(inputs)`` evaluated in cling element by element: the values, or with
    ``wrt`` the derivative in that input (a Dual<double, 1>)."""
    fn = f"correction_test_eval_{next(_ids)}"
    params, args, arrays = [], [], []
    for k, a in enumerate(inputs):
        if isinstance(a, np.ndarray):
            params.append(f"const ROOT::RVecD& a{k}")
            arrays.append(ROOT.VecOps.AsRVec(np.ascontiguousarray(a, dtype=float)))
            args.append("d" if k == wrt else f"a{k}[i]")
        elif isinstance(a, str):
            args.append(json.dumps(a))
        else:
            args.append(f"{int(a)}LL")
    first = next(k for k, a in enumerate(inputs) if isinstance(a, np.ndarray))
    seed = (
        f"diffana::Dual<double, 1>::variable(a{wrt}[i], 0)" if wrt is not None else "0"
    )
    result = f"{name}.evaluate({', '.join(args)})"
    result = f"({result}).tangent(0)" if wrt is not None else result
    code = (
        f"ROOT::RVecD {fn}({', '.join(params)}) {{\n"
        f"  ROOT::RVecD out(a{first}.size());\n"
        f"  for (std::size_t i = 0; i < out.size(); ++i) {{\n"
        f"    [[maybe_unused]] const auto d = {seed};\n"
        f"    out[i] = {result};\n  }}\n  return out;\n}}\n"
    )
    assert ROOT.gInterpreter.Declare(code), code
    return np.asarray(getattr(ROOT, fn)(*arrays))


@pytest.mark.parametrize("name", list(cases.CASES))
def test_cpp_equals_correctionlib_jax_and_finite_differences(name, ROOT, x64):
    corr, inputs, wrt = cases.case(name)
    cname = dc.declare(f"corr_{corr.name}", corr)
    ref = cases.reference(corr, inputs)
    np.testing.assert_allclose(cpp_eval(ROOT, cname, inputs), ref, rtol=1e-12, atol=0)
    tangent = cpp_eval(ROOT, cname, inputs, wrt)
    f = dc.to_jax(corr)
    arrays = [k for k, a in enumerate(inputs) if isinstance(a, np.ndarray)]

    def scalar(*values: Any) -> Any:
        args = list(inputs)
        for k, v in zip(arrays, values, strict=True):
            args[k] = v
        return f(*args)

    grad = jax.jit(jax.vmap(jax.grad(scalar, argnums=arrays.index(wrt))))(
        *(inputs[k] for k in arrays)
    )
    np.testing.assert_allclose(tangent, grad, rtol=1e-12, atol=1e-300)
    fd, smooth = cases.finite_difference(corr, inputs, wrt)
    np.testing.assert_allclose(tangent[smooth], fd[smooth], rtol=2e-6, atol=1e-10)


@pytest.mark.parametrize(("input_op", "output_op"), cases.COMPOUND_OPS)
def test_cpp_compound_corrections(input_op, output_op, ROOT, x64):
    cset = cases.compound_set(input_op, output_op)
    k = cases.COMPOUND_OPS.index((input_op, output_op))
    name = dc.declare(f"corr_l1l2_{k}", cset, "l1l2")
    inputs = cases._eta_pt(np.random.default_rng(5))
    ref = cases.compound_reference(cset, inputs)
    np.testing.assert_allclose(cpp_eval(ROOT, name, inputs), ref, rtol=1e-12, atol=0)
    grad = jax.jit(jax.vmap(jax.grad(dc.to_jax(cset, "l1l2"), argnums=1)))(*inputs)
    tangent = cpp_eval(ROOT, name, inputs, 1)
    np.testing.assert_allclose(tangent, grad, rtol=1e-12, atol=1e-300)


def test_declare_is_idempotent_and_refuses_a_different_correction(ROOT):
    a = cases.jec_formula()
    assert dc.declare("corr_idem", a) == "corr_idem"
    assert dc.declare("corr_idem", a) == "corr_idem"
    with pytest.raises(dc.CorrectionError, match="different correction is already"):
        dc.declare("corr_idem", cases.eta_binning())
    with pytest.raises(dc.CorrectionError, match="already a name in ROOT"):
        dc.declare("TH1D", a)
    with pytest.raises(ValueError, match="reserved"):
        dc.declare("Sum", a)


# ---- DiffFrame: the AGC example's calibration --------------------------------------------


def test_example_file_is_the_generator_output(tmp_path):
    gen = _load("diffana_agc_make_corrections", EXAMPLE / "make_corrections.py")
    gen.main(tmp_path / "c.json")
    assert (tmp_path / "c.json").read_text() == (
        EXAMPLE / "corrections.json"
    ).read_text()


def _jets(n_events: int = 200) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    cols = {}
    for j in range(3):
        cols[f"pt{j}"] = np.exp(rng.uniform(np.log(12), np.log(400), n_events))
        cols[f"eta{j}"] = rng.uniform(-4.0, 4.0, n_events)
    return cols


def test_diffframe_gradient_histogram_of_calibrated_jets(ROOT, x64):
    """HT of three jets calibrated with jec and shifted by jes x jes_unc, times a
    free scale, in a soft-binned gradient histogram: values and Jacobian (jes,
    scale) against the same pipeline in JAX, and against finite differences of the
    DiffFrame itself; plus the systematic category through updown."""
    from diffana.rdf import DiffFrame

    path = EXAMPLE / "corrections.json"
    jec = dc.declare("jec", path)
    unc = dc.declare("jes_unc", path)
    cols = _jets()
    df = ROOT.RDF.FromNumpy(cols)
    pt = "ROOT::RVecD{pt0, pt1, pt2}"
    eta = "ROOT::RVecD{eta0, eta1, eta2}"
    params = {"jes": 0.4, "scale": 1.02}
    ddf = (
        DiffFrame(df, params)
        .define("jet_pt_raw", pt)
        .define("jet_eta", eta)
        .define("jet_pt_jec", f"jet_pt_raw * {jec}(jet_eta, jet_pt_raw)")
        .define(
            "jet_pt", f"scale * jet_pt_jec * (1.0 + jes * {unc}(jet_eta, jet_pt_jec))"
        )
        .define("ht", "ROOT::VecOps::Sum(jet_pt)")
    )
    assert "Dual" in ddf.column_type("ht")
    edges = np.linspace(50, 900, 18)
    # the up/down entries of a systematic category, interpolated by the nuisance
    syst = dc.declare("corr_syst", cases.syst_category())
    weight = (
        f'diffana::correction::updown(jes, {syst}("nominal", eta0, pt0), '
        f'{syst}("up", eta0, pt0), {syst}("down", eta0, pt0))'
    )
    booked = [
        ddf.histo("ht", edges=edges, bandwidth=30.0),
        ddf.define("w", weight).histo("ht", edges=edges, weight="w", bandwidth=30.0),
    ]
    results = [b.result() for b in booked]
    assert ddf.n_loops == 1

    fjec = dc.to_jax(path, "jec")
    func = dc.to_jax(path, "jes_unc")
    g = dc.to_jax(cases.syst_category())
    p_raw = np.stack([cols[f"pt{j}"] for j in range(3)], axis=1)
    e_raw = np.stack([cols[f"eta{j}"] for j in range(3)], axis=1)
    e0, p0 = cols["eta0"], cols["pt0"]

    def pipeline(theta: Any) -> Any:
        jes, scale = theta[0], theta[1]
        p_jec = p_raw * fjec(e_raw, p_raw)
        ht = (scale * p_jec * (1.0 + jes * func(e_raw, p_jec))).sum(axis=1)
        w = dc.updown(jes, g("nominal", e0, p0), g("up", e0, p0), g("down", e0, p0))
        cdf = jax.scipy.stats.norm.cdf((edges[None, :] - ht[:, None]) / 30.0)
        kernel = cdf[:, 1:] - cdf[:, :-1]
        return jax.numpy.stack([kernel.sum(axis=0), (w[:, None] * kernel).sum(axis=0)])

    theta = np.array([params["jes"], params["scale"]])
    values, jac = jax.jit(lambda t: (pipeline(t), jax.jacfwd(pipeline)(t)))(theta)
    for k, r in enumerate(results):
        np.testing.assert_allclose(r.values, values[k], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(r.jacobian, jac[k], rtol=1e-9, atol=1e-9)
    assert np.abs(results[0].jacobian[:, 0]).max() > 1.0  # jes really moves HT

    h = 1e-4
    shifted = []
    for sign in (1, -1):
        ddf.set_params(jes=params["jes"] + sign * h)
        shifted.append(booked[0].result().values)
    fd = (shifted[0] - shifted[1]) / (2 * h)
    np.testing.assert_allclose(results[0].jacobian[:, 0], fd, rtol=1e-5, atol=1e-6)


# ---- errors ---------------------------------------------------------------------------------


def test_errors_in_event_loops_and_at_compile_time(ROOT):
    from diffana.rdf import CompileError, DiffFrame, EventLoopError

    flows = dc.declare("corr_flows", cases.flows())
    df = ROOT.RDF.FromNumpy(
        {"eta": np.array([0.0, 5.5]), "phi": np.zeros(2), "pt": np.full(2, 50.0)}
    )
    ddf = DiffFrame(df, {"a": 1.0}).define("c", f"a * {flows}(5, eta, phi, pt)")
    with pytest.raises(
        EventLoopError,
        match=r"correction 'flows': input 'eta' = 5\.5 is above the binning range "
        r"\[-4\.7, 4\.7\) \(flow \"error\"\)",
    ):
        ddf.histo("c", edges=[0.0, 1.0, 2.0]).result()

    ddf = DiffFrame(df, {"a": 1.0})
    with pytest.raises(CompileError, match=r"correction 'flows' takes 4 inputs"):
        ddf.define("c", f"{flows}(5, eta, pt)")
    with pytest.raises(CompileError, match=r"input 'flavour' must be an integer"):
        ddf.define("c", f"{flows}(eta, eta, phi, pt)")
    syst = dc.declare("corr_syst", cases.syst_category())
    with pytest.raises(CompileError, match=r"input 'syst' must be a string"):
        ddf.define("c", f"{syst}(1.0, eta, pt)")
    bad = ddf.define("c", f'{syst}("upp", eta, pt * a)')
    with pytest.raises(EventLoopError, match=r"input 'syst' = \"upp\" is not one of"):
        bad.histo("c", edges=[0.0, 1.0, 2.0]).result()
    with pytest.raises(Exception, match=r"input 'eta' = 5\.5 is above"):
        ROOT.corr_flows.evaluate(5, 5.5, 0.0, 50.0)


# ---- a compiled program --------------------------------------------------------------------


def test_to_cpp_builds_with_the_compiler(tmp_path):
    """Every case (and a compound correction) as headers of one program built with
    warnings as errors; its values and derivatives at a few points."""
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    import diffana

    n = 6
    calls, expected = [], []
    for k, name in enumerate(cases.CASES):
        corr, inputs, wrt = cases.case(name)
        inputs = [a[:n] if isinstance(a, np.ndarray) else a for a in inputs]
        (tmp_path / f"c{k}.hpp").write_text(dc.to_cpp(corr, f"c{k}"))
        for i in range(n):
            args = [
                f"{float(a[i])!r}" if isinstance(a, np.ndarray) else json.dumps(a)
                for a in inputs
            ]
            dual = list(args)
            dual[wrt] = f"diffana::Dual<double, 1>::variable({args[wrt]}, 0)"
            calls.append(
                f'  std::printf("%.17g %.17g\\n", c{k}.evaluate({", ".join(args)}), '
                f"c{k}({', '.join(dual)}).tangent(0));\n"
            )
        fd, smooth = cases.finite_difference(corr, inputs, wrt)
        expected.append(np.stack([cases.reference(corr, inputs), fd, smooth], axis=1))
    cset = cases.compound_set("*", "*")
    (tmp_path / "l1l2.hpp").write_text(dc.to_cpp(cset, "l1l2", "l1l2"))
    includes = "".join(f'#include "c{k}.hpp"\n' for k in range(len(cases.CASES)))
    (tmp_path / "main.cpp").write_text(
        f'{includes}#include "l1l2.hpp"\n#include <cstdio>\n'
        "int main() {\n" + "".join(calls) + '  std::printf("%.17g\\n", '
        "l1l2.evaluate(0.7, 45.0));\n}\n"
    )
    cmd = [compiler, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wconversion",
           "-Wshadow", f"-I{REPO / 'include'}", f"-I{diffana.get_include()}",
           "main.cpp", "-o", "main"]  # fmt: skip
    built = subprocess.run(
        cmd, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr
    out = subprocess.run(
        [str(tmp_path / "main")], check=True, capture_output=True, text=True
    ).stdout.split()
    got = np.array([float(v) for v in out[:-1]]).reshape(-1, 2)
    want = np.concatenate(expected)
    np.testing.assert_allclose(got[:, 0], want[:, 0], rtol=1e-12)
    smooth = want[:, 2] == 1.0
    np.testing.assert_allclose(got[smooth, 1], want[smooth, 1], rtol=1e-5, atol=1e-9)
    ref = cases.compound_reference(cset, [np.array([0.7]), np.array([45.0])])
    np.testing.assert_allclose(float(out[-1]), ref[0], rtol=1e-12)


# ---- the AGC variant's expressions on NanoAOD ---------------------------------------------


@pytest.mark.data
def test_agc_variant_calibration_on_nanoaod(ROOT, data_dir, x64):
    """The calibration defines and the JES systematic of
    examples/agc/agc_correctionlib.yaml, run by a DiffFrame on CMS NanoAOD: HT of
    the calibrated jets, its derivative in the JES nuisance and the jes up/down
    variations, against the same computation in JAX on the jets read by uproot."""
    yaml = pytest.importorskip("yaml")
    uproot = pytest.importorskip("uproot")
    awkward = pytest.importorskip("awkward")
    from diffana.rdf import DiffFrame

    path = data_dir / "nanoAOD_2015_CMS_Open_Data_ttbar.root"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    config = yaml.safe_load((EXAMPLE / "agc_correctionlib.yaml").read_text())
    for name, file in config["corrections"].items():
        dc.declare(name, EXAMPLE / file)
    ddf = DiffFrame(ROOT.RDataFrame("Events", str(path)), {"jes": 0.0})
    for column in ("jet_pt_raw", "jet_pt_jec", "jet_unc", "jet_pt"):
        ddf = ddf.define(column, config["defines"][column])
    (jes,) = (s for s in config["systematics"] if s["name"] == "jes")
    ddf = ddf.vary(
        "jet_pt", {t: jes[t]["jet_pt"] for t in ("up", "down")}, name="jes"
    ).define("ht", "ROOT::VecOps::Sum(jet_pt)")
    edges = np.linspace(0, 1500, 16)
    booked = ddf.histo("ht", edges=edges, bandwidth=40.0)
    nominal, varied = booked.result(), booked.variations()

    jets = uproot.open(path)["Events"].arrays(["Jet_pt", "Jet_eta"])
    counts = np.asarray(awkward.num(jets["Jet_pt"]))
    pt = np.asarray(awkward.flatten(jets["Jet_pt"]), dtype=float)
    eta = np.asarray(awkward.flatten(jets["Jet_eta"]), dtype=float)
    event = np.repeat(np.arange(len(counts)), counts)
    fjec = dc.to_jax(EXAMPLE / "corrections.json", "jec")
    func = dc.to_jax(EXAMPLE / "corrections.json", "jes_unc")

    def histogram(theta: Any) -> Any:
        p_jec = pt * fjec(eta, pt)
        jet_pt = p_jec * (1.0 + theta * func(eta, p_jec))
        ht = jax.ops.segment_sum(jet_pt, event, num_segments=len(counts))
        cdf = jax.scipy.stats.norm.cdf((edges[None, :] - ht[:, None]) / 40.0)
        return (cdf[:, 1:] - cdf[:, :-1]).sum(axis=0)

    value, slope = jax.jit(jax.jvp, static_argnums=0)(histogram, (0.0,), (1.0,))
    np.testing.assert_allclose(nominal.values, value, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(nominal.jacobian[:, 0], slope, rtol=1e-8, atol=1e-8)
    assert np.abs(slope).max() > 0.1
    for tag, theta in (("up", 1.0), ("down", -1.0)):
        np.testing.assert_allclose(
            varied[f"jes:{tag}"].values, jax.jit(histogram)(theta), rtol=1e-9, atol=1e-9
        )
