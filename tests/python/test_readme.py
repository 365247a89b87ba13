# SPDX-License-Identifier: BSD-3-Clause
"""The README's examples run as written and compute what they say.

The Python and RDataFrame examples are executed; the C++ example is saved to a file,
compiled as a program with the repository's headers and run as a ROOT macro, and
its output must match both the output the README shows and the numpy front end.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
# The name the README tells the reader to save the C++ example under.
CPP_FILE = "grad_hist.C"

# The source tree's documentation: absent where only the tests are copied (the Docker
# image runs them against the installed package).
pytestmark = pytest.mark.skipif(
    not (REPO_ROOT / "python" / "diffana").is_dir() or not README.is_file(),
    reason="needs the repository's source tree (README.md, docs/, python/)",
)


def code_blocks(section: str, lang: str) -> list[str]:
    """The fenced blocks of language ``lang`` ("" for plain ones) in the README
    section whose ``## `` heading starts with ``section``."""
    parts = re.split(r"^## ", README.read_text(), flags=re.MULTILINE)
    matches = [p for p in parts if p.startswith(section)]
    assert len(matches) == 1, f"no single README section {section!r}"
    blocks: list[str] = []
    body: list[str] = []
    fence: str | None = None  # the language of the open block, None outside
    for line in matches[0].splitlines(keepends=True):
        if line.startswith("```"):
            if fence is None:
                fence, body = line[3:].strip(), []
            else:
                if fence == lang:
                    blocks.append("".join(body))
                fence = None
        elif fence is not None:
            body.append(line)
    return blocks


def test_readme_python_example_runs_and_is_correct():
    (block,) = code_blocks("Python in ten lines", "python")
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 (our own README)
    h = namespace["h"]
    assert h.values.shape == (20,)
    assert h.jacobian.shape == (20, 2)

    # The same histogram as a function of (scale, cut), by central differences.
    import diffana

    pt = namespace["pt"]

    def values(scale: float, cut: float) -> np.ndarray:
        w = diffana.soft_cut(pt * scale, cut, slope=0.5)
        return diffana.histogram(
            pt * scale, np.linspace(0, 200, 21), weights=w.value, bandwidth=5.0
        ).values

    eps = (1e-6, 1e-4)
    for k, step in enumerate(eps):
        shift = np.zeros(2)
        shift[k] = step
        fd = (
            values(*(np.array([1.0, 30.0]) + shift))
            - values(*(np.array([1.0, 30.0]) - shift))
        ) / (2 * step)
        np.testing.assert_allclose(h.jacobian[:, k], fd, rtol=1e-5, atol=1e-6)


def test_readme_rdataframe_example_runs(tt_file):
    """The RDataFrame example on the ttbar NanoAOD file: one loop for the nominal
    and both variations, a Jacobian per parameter, a re-run after set_params."""
    pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    (block,) = code_blocks("RDataFrame in ten lines", "python")
    namespace: dict = {"files": str(tt_file)}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 (our own README)
    r, v, ddf, h = (namespace[k] for k in ("r", "v", "ddf", "h"))
    assert r.jacobian.shape == (18, 2)
    assert r.param_names == ("jes", "pt_cut")
    assert set(v) == {"nominal", "jet_pt_c:up", "jet_pt_c:down"}
    assert v["jet_pt_c:up"].values.sum() != r.values.sum()
    assert ddf.n_loops == 1
    assert h.result().values.sum() != r.values.sum()  # jes = 1.02 now
    assert ddf.n_loops == 2


# ---- the C++ example ---------------------------------------------------------------


def cpp_example() -> str:
    (block,) = code_blocks("C++ in ten lines", "cpp")
    return block


def parse_bins(output: str) -> np.ndarray:
    """``bin b: value [d/d(scale), d/d(cut)]`` lines -> rows (value, d0, d1)."""
    number = r"(-?[\d.]+(?:e[-+]?\d+)?)"
    line = rf"^bin (\d+): {number} \[{number}, {number}\]$"
    rows = re.findall(line, output, flags=re.MULTILINE)
    assert [int(r[0]) for r in rows] == list(range(len(rows))), output
    return np.array([[float(x) for x in r[1:]] for r in rows])


def check_cpp_output(output: str) -> None:
    """The program's output equals the README's output block and the numpy front
    end's histogram of the same four jets (it prints 6 significant digits)."""
    got = parse_bins(output)
    assert got.shape == (4, 3), output
    (shown,) = code_blocks("C++ in ten lines", "")
    np.testing.assert_allclose(got, parse_bins(shown), rtol=1e-5, atol=1e-12)

    import diffana

    pt = np.array([42.0, 77.0, 151.0, 28.0])
    scale, cut = 1.02, 30.0
    d_pt_s = np.stack([pt, np.zeros_like(pt)], axis=-1)
    w = diffana.soft_cut(
        pt * scale, cut, slope=0.5, x_tangents=d_pt_s, cut_tangents=[0.0, 1.0]
    )
    h = diffana.histogram(
        pt * scale,
        [0.0, 50.0, 100.0, 150.0, 200.0],
        weights=w.value,
        bandwidth=5.0,
        x_tangents=d_pt_s,
        weight_tangents=w.tangents,
    )
    expected = np.column_stack([h.values, h.jacobian])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-12)


def test_readme_cpp_example_is_a_complete_program(tmp_path):
    """Compiled as the README says (g++ with diffana's include folder, nothing else
    to link: the core is header-only), warning-free, and run."""
    cxx = os.environ.get("CXX") or next(
        (c for c in ("g++", "c++", "clang++") if shutil.which(c)), None
    )
    if cxx is None:
        pytest.skip("no C++ compiler (g++, c++, clang++ or $CXX)")
    source = tmp_path / CPP_FILE
    source.write_text(cpp_example())
    exe = tmp_path / "grad_hist"
    build = subprocess.run(
        [
            *cxx.split(),
            "-std=c++17",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{REPO_ROOT / 'include'}",
            str(source),
            "-o",
            str(exe),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    run = subprocess.run(
        [str(exe)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    check_cpp_output(run.stdout)


@pytest.mark.root
def test_readme_cpp_example_is_a_root_macro(tmp_path, run_macro):
    """The same file, unchanged, as a ROOT macro (``root -l -b -q grad_hist.C``)."""
    source = tmp_path / CPP_FILE
    source.write_text(cpp_example())
    check_cpp_output(run_macro(source))


def test_readme_cpp_example_names_the_file_it_is_saved_as():
    """The macro's function is named after the file, as ROOT requires, and the
    README's commands run that file."""
    assert f"void {pathlib.Path(CPP_FILE).stem}()" in cpp_example()
    (commands,) = code_blocks("C++ in ten lines", "bash")
    assert f"-q {CPP_FILE}" in commands
    assert f" {CPP_FILE} -o " in commands


def test_cpp_tests_mirror_the_readme_example():
    """tests/cpp/test_readme_example.cpp checks the example's Jacobian against finite
    differences; it must compute what the README's block computes."""
    mirror = (REPO_ROOT / "tests" / "cpp" / "test_readme_example.cpp").read_text()
    block = cpp_example()
    for line in (
        "diffana::GradHist1D<double, 2> h({0, 50, 100, 150, 200}, /*bandwidth=*/5.0);",
        "for (double pt : {42.0, 77.0, 151.0, 28.0}) {",
        "h.fill(pt_s, diffana::soft_cut(pt_s, cut, 0.5));",
    ):
        assert line in block
        assert line in mirror
    for seed in ("D::variable(1.02, 0)", "D::variable(30.0, 1)"):
        assert seed in block
        assert seed in mirror
