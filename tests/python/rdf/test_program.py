# SPDX-License-Identifier: BSD-3-Clause
"""The C++ front end in a compiled program: examples/rdf_program (jet_calibration.cpp)
configured with CMake (cmake/ROOTWheel.cmake makes the ROOT targets of the PyPI
wheel, find_package(diffana) the headers), built with Ninja and run without
LD_LIBRARY_PATH. Its derivatives must match its finite differences, the cling macro
macros/rdf01_jet_calibration.C and an independent numpy/uproot computation."""

from __future__ import annotations

import importlib.util
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import diffana

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE = REPO_ROOT / "examples" / "rdf_program"
MACRO = REPO_ROOT / "macros" / "rdf01_jet_calibration.C"
# The tools of this interpreter's environment first (pip-installed cmake/ninja/root).
SEARCH_PATH = os.pathsep.join(
    [str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]
)
# The program's histogram: 30 bins of 50 GeV on [0, 1500], 20 GeV soft binning, each
# event weighted by soft_cut(jes * pT_2, 40 GeV, 0.2 / GeV).
EDGES = np.linspace(0.0, 1500.0, 31)
BANDWIDTH = 20.0
# d(mean dijet mass)/d(jes) on coffea_nano_tt_v12.root (the macro's number).
TT_DERIVATIVE = 282.2265


def which(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def missing_tools() -> list[str]:
    """What the build needs and this machine lacks, as human-readable reasons."""
    missing = []
    if which("cmake") is None:
        missing.append("cmake is not installed")
    if which("ninja") is None:
        missing.append("ninja is not installed")
    cxx = os.environ.get("CXX") or next(
        (c for c in ("c++", "g++", "clang++") if which(c)), None
    )
    if cxx is None or which(cxx.split()[0]) is None:
        missing.append("no C++ compiler (c++, g++, clang++ or $CXX)")
    spec = importlib.util.find_spec("ROOT")
    if spec is None or not spec.submodule_search_locations:
        missing.append("ROOT (the PyPI wheel) is not installed")
    cmake_dir = pathlib.Path(diffana.get_cmake_dir())
    if not (cmake_dir / "diffanaConfig.cmake").is_file():
        missing.append(f"the installed diffana package has no {cmake_dir}")
    if not (diffana.get_include() / pathlib.Path("diffana/rdf/actions.hpp")).is_file():
        missing.append("the installed diffana package has no rdf/actions.hpp")
    return missing


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    env.update(kwargs.pop("env", {}))
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=kwargs.pop("timeout", 300),
        check=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """examples/rdf_program configured and built (Release, Ninja, 2 jobs)."""
    missing = missing_tools()
    if missing:
        pytest.skip("cannot build the C++ program: " + "; ".join(missing))
    build = tmp_path_factory.mktemp("rdf_program")
    configure = run(
        [
            which("cmake"),
            "-S",
            EXAMPLE,
            "-B",
            build,
            "-G",
            "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={which('ninja')}",
            "-DCMAKE_BUILD_TYPE=Release",
            # ROOT is found next to diffana in site-packages: no Python hint.
            f"-Ddiffana_DIR={diffana.get_cmake_dir()}",
        ]
    )
    assert configure.returncode == 0, configure.stdout + configure.stderr
    assert "ROOTWheel: ROOT 6." in configure.stdout, configure.stdout
    built = run([which("cmake"), "--build", build, "-j", "2"])
    assert built.returncode == 0, built.stdout + built.stderr
    exe = build / "jet_calibration"
    assert exe.is_file()
    return exe


NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
BIN_LINE = re.compile(
    rf"bin +(\d+) \[ *({NUMBER}), *({NUMBER})\): value = ({NUMBER}) "
    rf"d/d\(jes\) = ({NUMBER}) finite differences = ({NUMBER})$"
)


def line_starting(out: str, prefix: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, f"expected one line starting {prefix!r} in:\n{out}"
    return lines[0]


def first_number(line: str) -> float:
    return float(re.findall(NUMBER, line.split(" = ", 1)[1])[0])


def parse(out: str) -> dict[str, object]:
    """The printed numbers: input, n, mean, deriv, fd and the histogram arrays."""
    bins = np.array(
        [
            [float(v) for v in m.groups()]
            for m in map(BIN_LINE.match, out.splitlines())
            if m
        ]
    )
    assert bins.shape == (len(EDGES) - 1, 6), out
    np.testing.assert_array_equal(bins[:, 0], np.arange(len(EDGES) - 1))
    np.testing.assert_array_equal(bins[:, 1], EDGES[:-1])
    np.testing.assert_array_equal(bins[:, 2], EDGES[1:])
    return {
        "input": line_starting(out, "input:"),
        "n": first_number(line_starting(out, "events with two jets")),
        "mean": first_number(line_starting(out, "mean dijet mass")),
        "deriv": first_number(line_starting(out, "d(mean)/d(jes)")),
        "fd": first_number(line_starting(out, "finite differences")),
        "slots": int(line_starting(out, "histogram:").rsplit("slots = ", 1)[1]),
        "values": bins[:, 3],
        "jac": bins[:, 4],
        "hist_fd": bins[:, 5],
    }


def run_program(exe: pathlib.Path, *args: str) -> dict[str, object]:
    proc = run([exe, *args])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return parse(proc.stdout)


def check_self_consistent(r: dict[str, object]) -> None:
    """Derivatives against the program's own central finite differences (h = 1e-4)."""
    assert r["deriv"] == pytest.approx(r["fd"], rel=1e-7)
    jac, fd, values = r["jac"], r["hist_fd"], r["values"]
    scale = np.abs(jac).max()
    assert scale > 0
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-5 * scale)
    assert np.all(values >= 0)
    # Weights are soft cuts (<= 1); 20 GeV smearing loses little off [0, 1500] GeV.
    assert 0.5 * r["n"] < values.sum() <= r["n"]


def test_generated_events(program):
    r = run_program(program)
    assert "generated 2000 toy events" in r["input"]
    assert r["n"] == 2000
    assert r["slots"] == 1
    check_self_consistent(r)
    assert 100 < r["mean"] < 600
    assert 0.8 * r["mean"] < r["deriv"] < 1.0 * r["mean"]


def test_generated_events_multithreaded_equal_single(program):
    single = run_program(program, "--events", "5000")
    multi = run_program(program, "--events", "5000", "--threads", "2")
    assert multi["slots"] == 2
    assert multi["n"] == single["n"] == 5000
    for key in ("mean", "deriv", "fd"):
        assert multi[key] == pytest.approx(single[key], rel=1e-9), key
    for key in ("values", "jac"):
        scale = np.abs(single[key]).max()
        np.testing.assert_allclose(
            multi[key], single[key], rtol=1e-9, atol=1e-9 * scale, err_msg=key
        )


def test_generated_events_match_the_macro(program, tmp_path, run_macro):
    """The same toy events (TRandom3(e + 1)) through cling: the same numbers."""
    # A copy of the macro where neither $DIFFANA_DATA nor ../../shared/data exists.
    macro_dir = tmp_path / "a" / "macros"
    macro_dir.mkdir(parents=True)
    shutil.copy(MACRO, macro_dir)
    out = run_macro(
        macro_dir / MACRO.name, env={"DIFFANA_DATA": str(tmp_path / "no_data")}
    )
    assert "using 2000 toy events" in out, out
    r = run_program(program)
    for prefix, key in [
        ("events with two jets", "n"),
        ("mean dijet mass", "mean"),
        ("d(mean)/d(jes)", "deriv"),
        ("finite differences", "fd"),
    ]:
        assert first_number(line_starting(out, prefix)) == pytest.approx(
            r[key], rel=1e-12, abs=1e-9
        ), prefix


def dijet_mass_and_derivative(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mass of the two leading jets (rows: events, columns: jet 0 and 1) at jes = 1
    and its derivative w.r.t. a jes multiplying both pT (masses fixed)."""
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    p2 = px**2 + py**2 + pz**2
    e = np.sqrt(p2 + m**2)
    de = p2 / e  # dE/djes at jes = 1: every momentum component scales with jes
    big_e = e.sum(axis=1)
    big_p2 = px.sum(axis=1) ** 2 + py.sum(axis=1) ** 2 + pz.sum(axis=1) ** 2
    mass = np.sqrt(big_e**2 - big_p2)
    dmass2 = 2 * big_e * de.sum(axis=1) - 2 * big_p2
    return mass, dmass2 / (2 * mass)


@pytest.mark.data
def test_ttbar_file(program, tt_file):
    r = run_program(program, str(tt_file))
    assert str(tt_file) in r["input"]
    assert r["n"] == 200
    assert r["slots"] == 1
    check_self_consistent(r)
    assert r["deriv"] == pytest.approx(TT_DERIVATIVE, abs=1e-4)

    # Independently: the same quantities from the file with uproot and numpy.
    uproot = pytest.importorskip("uproot")
    with uproot.open(tt_file) as f:
        jets = f["Events"].arrays(
            ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"], library="np"
        )
    keep = np.array([len(pt) >= 2 for pt in jets["Jet_pt"]])
    assert keep.sum() == 200

    def leading(name: str) -> np.ndarray:
        return np.array([v[:2] for v in jets[name][keep]], dtype=np.float64)

    pt = leading("Jet_pt")
    mass, dmass = dijet_mass_and_derivative(
        pt, leading("Jet_eta"), leading("Jet_phi"), leading("Jet_mass")
    )
    assert r["mean"] == pytest.approx(mass.mean(), rel=1e-9)
    assert r["deriv"] == pytest.approx(dmass.mean(), rel=1e-9)
    s = 1 / (1 + np.exp(-0.2 * (pt[:, 1] - 40.0)))
    ref = diffana.histogram(
        mass,
        EDGES,
        weights=s,
        bandwidth=BANDWIDTH,
        x_tangents=dmass[:, None],
        weight_tangents=(0.2 * s * (1 - s) * pt[:, 1])[:, None],
    )
    np.testing.assert_allclose(r["values"], ref.values, rtol=1e-8, atol=1e-9)
    scale = np.abs(ref.jacobian).max()
    np.testing.assert_allclose(
        r["jac"], ref.jacobian[:, 0], rtol=1e-8, atol=1e-9 * scale
    )
    assert math.isclose(r["values"].sum(), ref.values.sum(), rel_tol=1e-9)


def test_bad_arguments(program, tmp_path):
    bad = run([program, "--events", "0"])
    assert bad.returncode == 2
    assert "--events needs a positive integer" in bad.stderr
    assert "usage: jet_calibration" in bad.stderr
    assert run([program, "--frobnicate"]).returncode == 2
    missing = run([program, str(tmp_path / "missing.root")])
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "jet_calibration: error:" in missing.stderr
