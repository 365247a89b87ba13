# SPDX-License-Identifier: BSD-3-Clause
"""The RDataFrame front end (include/diffana/rdf/actions.hpp): the rdf macros run
headless and their derivatives match their finite differences, and
GradHist1DAction booked from PyROOT gives the same histogram with and without
implicit multithreading."""

from __future__ import annotations

import itertools
import os
import pathlib
import re

import numpy as np
import pytest

import diffana

pytestmark = pytest.mark.root

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
MACROS = REPO_ROOT / "macros"
# The macros look for the CMS files in $DIFFANA_DATA, else ../../shared/data next to
# themselves (the development checkout's ../shared/data).
DATA_DIR = pathlib.Path(
    os.environ.get("DIFFANA_DATA", REPO_ROOT.parent / "shared" / "data")
)
TT_FILE = "coffea_nano_tt_v12.root"
MU_FILE = "agc_open-data-example_Run2012BC_DoubleMuParked_Muons_100k.root"
HEADER = pathlib.Path(diffana.get_include()) / "diffana" / "rdf" / "actions.hpp"

needs_header = pytest.mark.skipif(
    not HEADER.is_file(),
    reason=f"the installed diffana package has no {HEADER.name} (reinstall it)",
)


def needs_data(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not (DATA_DIR / name).is_file(),
        reason=f"the CMS test file {DATA_DIR / name} is not available",
    )


NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"


def numbers_of(line: str) -> list[float]:
    """The numbers after the first ' = ' (else ':') of a printed line."""
    sep = " = " if " = " in line else ":"
    return [float(v) for v in re.findall(NUMBER, line.split(sep, 1)[1])]


def line_starting(out: str, prefix: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, f"expected one line starting {prefix!r} in:\n{out}"
    return lines[0]


@needs_header
@needs_data(TT_FILE)
@pytest.mark.data
@pytest.mark.slow
def test_rdf01_jet_calibration(run_macro):
    out = run_macro("rdf01_jet_calibration.C")
    assert TT_FILE in line_starting(out, "input:")
    assert numbers_of(line_starting(out, "events with two jets")) == [200.0]
    mean = numbers_of(line_starting(out, "mean dijet mass"))[0]
    deriv = numbers_of(line_starting(out, "d(mean)/d(jes)"))[0]
    fd = numbers_of(line_starting(out, "finite differences"))[0]
    assert deriv == pytest.approx(fd, rel=1e-5)
    # ttbar leading dijets: a few hundred GeV; a pT-only scale changes the mass a
    # little less than proportionally (the jet masses stay).
    assert 100 < mean < 600
    assert 0.8 * mean < deriv < 1.0 * mean


@needs_header
@needs_data(MU_FILE)
@pytest.mark.data
@pytest.mark.slow
def test_rdf02_mass_window(run_macro):
    out = run_macro("rdf02_mass_window.C")
    for name in ("dZ/dlo", "dZ/dhi"):
        deriv, fd = numbers_of(line_starting(out, name))
        assert deriv == pytest.approx(fd, rel=1e-5)
    # Starting from [70, 110] GeV the window must open towards the Z peak: lower lo.
    assert numbers_of(line_starting(out, "dZ/dlo"))[0] > 0
    assert numbers_of(line_starting(out, "dZ/dhi"))[0] < 0
    steps = [
        [float(v) for v in re.findall(NUMBER, line.split(":", 1)[1])]
        for line in out.splitlines()
        if line.startswith("step ")
    ]
    assert len(steps) >= 4
    z_start = numbers_of(line_starting(out, "Z at the start"))[0]
    assert steps[0][2] == pytest.approx(z_start, rel=1e-6)
    zs = [z for _, _, z in steps]
    assert all(b > a for a, b in itertools.pairwise(zs)), zs  # gradient ascent climbs
    lo, hi, _ = steps[-1]
    assert 60 < lo < 91.1876 < hi < 120  # the window keeps the Z peak
    assert 20 < zs[0] < zs[-1] < 1000


@needs_header
@needs_data(TT_FILE)
@pytest.mark.data
@pytest.mark.slow
def test_rdf03_trijet_mass(run_macro):
    out = run_macro("rdf03_trijet_mass.C")
    n_events = numbers_of(line_starting(out, "events with >= 4 jets"))[0]
    assert 100 <= n_events <= 200
    bins = [
        [float(v) for v in re.findall(NUMBER, line.split(":", 1)[1])]
        for line in out.splitlines()
        if re.match(r"bin +\d+ \[", line)
    ]
    assert len(bins) == 25
    values = np.array([b[0] for b in bins])
    jac = np.array([b[1:] for b in bins])
    assert np.all(values >= 0)
    # The soft event weight is at most 1 and little is lost off the axis.
    assert 0.5 * n_events < values.sum() <= n_events
    # The top-quark peak: the fullest bin lies between 130 and 250 GeV.
    assert 130 <= 50 + 20 * int(np.argmax(values)) < 250
    assert np.all(np.isfinite(jac))
    assert np.all(np.any(jac != 0, axis=0))  # both parameters move some bin
    checks = [line for line in out.splitlines() if line.startswith("check bin")]
    assert len(checks) == 2
    for k, line in enumerate(checks):
        b = int(re.match(r"check bin (\d+)", line).group(1))
        deriv, fd = numbers_of(line.split(":", 1)[1])
        assert deriv == pytest.approx(fd, rel=1e-5)
        assert deriv == pytest.approx(jac[b, k], rel=1e-6)
        assert abs(deriv) == pytest.approx(np.abs(jac[:, k]).max(), rel=1e-6)


# ---- the action booked from PyROOT ------------------------------------------------

CODE = r"""
#include "diffana/rdf/actions.hpp"
namespace diffana_rdf_test {
// Read by the jitted Define strings below; set from Python between event loops.
diffana::rdf::Params<2> pars({"scale", "shift"}, {1.1, 0.2});
}
"""


@pytest.fixture(scope="module")
def rdf_root():
    ROOT = pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    if not HEADER.is_file():
        pytest.skip(
            f"the installed diffana package has no {HEADER.name} (reinstall it)"
        )
    import diffana.root

    diffana.root.register()
    assert ROOT.gInterpreter.Declare(CODE)
    return ROOT


def fill_from_pyroot(ROOT, n: int) -> dict[str, np.ndarray]:
    """x = scale * u + shift (Dual, directions 0 and 1), w = 1 + sin(entry) (plain)."""
    df = (
        ROOT.RDataFrame(n)
        .Define("u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 4.0")
        .Define(
            "xd", "diffana_rdf_test::pars.dual(0) * u + diffana_rdf_test::pars.dual(1)"
        )
        .Define("wt", "1.0 + std::sin(double(rdfentry_))")
    )
    node = ROOT.RDF.AsRNode(df)
    edges = ROOT.std.vector["double"]([0.0, 0.5, 1.0, 2.0, 3.0, 4.5])
    # cppyy does not know alias templates: GradHistAction<GradHist1D<...>>.
    helper = ROOT.diffana.rdf.GradHistAction["diffana::GradHist1D<double, 2>"](
        ROOT.diffana.GradHist1D["double", 2](edges, 0.3), node.GetNSlots()
    )
    result = node.Book(ROOT.std.move(helper), ["xd", "wt"])
    h = result.GetValue()
    return {
        "values": np.array(list(h.values())),
        "sumw2": np.array(list(h.sumw2())),
        "jac": np.array(list(h.jacobian())).reshape(-1, 2),
        "n_slots": node.GetNSlots(),
        "u": np.asarray(df.AsNumpy(["u"])["u"]),
        "wt": np.asarray(df.AsNumpy(["wt"])["wt"]),
    }


def test_action_from_pyroot_multithreaded_equals_single(rdf_root):
    ROOT = rdf_root
    n = 100_000
    single = fill_from_pyroot(ROOT, n)
    assert single["n_slots"] == 1
    ROOT.EnableImplicitMT(2)
    try:
        multi = fill_from_pyroot(ROOT, n)
    finally:
        ROOT.DisableImplicitMT()
    assert multi["n_slots"] == 2
    for key in ("values", "sumw2", "jac"):
        scale = np.abs(single[key]).max()
        np.testing.assert_allclose(
            multi[key], single[key], rtol=1e-12, atol=1e-12 * scale, err_msg=key
        )
    # The same histogram from the Python API (independent of the action).
    u, wt = single["u"], single["wt"]
    x = 1.1 * u + 0.2
    ref = diffana.histogram(
        x,
        [0.0, 0.5, 1.0, 2.0, 3.0, 4.5],
        weights=wt,
        bandwidth=0.3,
        x_tangents=np.stack([u, np.ones_like(u)], axis=1),
    )
    np.testing.assert_allclose(single["values"], ref.values, rtol=1e-10)
    np.testing.assert_allclose(single["jac"], ref.jacobian, rtol=1e-10, atol=1e-9)


def test_params_change_between_event_loops(rdf_root):
    ROOT = rdf_root
    pars = ROOT.diffana_rdf_test.pars
    assert pars.index("shift") == 1
    assert pars.name(0) == "scale"
    before = fill_from_pyroot(ROOT, 2000)
    pars.set("shift", 0.7)
    try:
        after = fill_from_pyroot(ROOT, 2000)
    finally:
        pars.set("shift", 0.2)
    assert not np.allclose(before["values"], after["values"])
    d = pars.dual(1)
    assert (d.value(), d.tangent(0), d.tangent(1)) == (0.2, 0.0, 1.0)
    with pytest.raises(Exception, match="names must have 2 entries"):
        ROOT.diffana.rdf.Params[2](["a"], [1.0, 2.0])


def test_action_unweighted_multithreaded(rdf_root):
    ROOT = rdf_root
    edges = [0.0, 3.0, 7.0]
    ROOT.EnableImplicitMT(2)
    try:
        node = ROOT.RDF.AsRNode(
            ROOT.RDataFrame(1000).Define("x", "double(rdfentry_ % 7)")
        )
        # One column: weight 1 (N = 1, no tangents: an all-zero Jacobian).
        helper = ROOT.diffana.rdf.GradHistAction["diffana::GradHist1D<double, 1>"](
            ROOT.diffana.GradHist1D["double", 1](ROOT.std.vector["double"](edges)),
            node.GetNSlots(),
        )
        h = node.Book(ROOT.std.move(helper), ["x"]).GetValue()
        x = np.arange(1000) % 7
        assert list(h.values()) == [float(np.sum(x < 3)), float(np.sum(x >= 3))]
        assert list(h.jacobian()) == [0.0, 0.0]
    finally:
        ROOT.DisableImplicitMT()
