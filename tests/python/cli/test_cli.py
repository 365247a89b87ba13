# SPDX-License-Identifier: BSD-3-Clause
"""The `diffana` command line, and the consumer test of STYLE.md: a tiny external CMake
project finds the installed package with find_package(diffana), compiles a program
that uses Dual and links diffana::kernels, and runs it."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import diffana
from diffana.cli import main


def run_cli(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "diffana", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_version():
    assert run_cli("--version") == f"diffana {diffana.__version__}"


def test_config_flags():
    include = diffana.get_include()
    assert run_cli("config", "--cflags") == f"-I{include} -std=c++17"
    assert run_cli("config", "--incdir") == include
    assert run_cli("config", "--cmake") == diffana.get_cmake_dir()
    assert run_cli("config", "--libdir") == diffana.get_lib_dir()
    assert run_cli("config", "--libs") == f"-L{diffana.get_lib_dir()} -ldiffana_kernels"
    # several flags: one line, in the order given
    assert run_cli("config", "--incdir", "--cmake") == (
        f"{include} {diffana.get_cmake_dir()}"
    )


def test_paths_hold_the_installed_files():
    inc = pathlib.Path(diffana.get_include())
    assert (inc / "diffana" / "diffana.hpp").is_file()
    assert (inc / "diffana" / "kernels.h").is_file()
    assert (pathlib.Path(diffana.get_cmake_dir()) / "diffanaConfig.cmake").is_file()
    assert (pathlib.Path(diffana.get_lib_dir()) / "libdiffana_kernels.a").is_file()


def test_main_in_process(capsys):
    assert main(["config", "--incdir"]) == 0
    assert capsys.readouterr().out.strip() == diffana.get_include()
    assert main([]) == 0
    assert "config" in capsys.readouterr().out


def test_config_without_flags_prints_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["config"])
    assert exc.value.code == 0
    assert "--cflags" in capsys.readouterr().out


def test_unknown_flag_fails():
    proc = subprocess.run(
        [sys.executable, "-m", "diffana", "config", "--nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unrecognized arguments: --nope" in proc.stderr


def test_console_script_is_installed():
    script = pathlib.Path(sys.executable).parent / "diffana"
    if not script.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    out = subprocess.run(
        [str(script), "config", "--incdir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == diffana.get_include()


@pytest.mark.parametrize(
    "command", ["config", "demo", "optimize", "evaluate", "generate"]
)
def test_every_command_has_help(command, capsys):
    if command != "config":
        pytest.importorskip("pydantic")
        pytest.importorskip("yaml")
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: diffana {command}")
    # the ecosystem's spelling in flags, help texts and configuration keys
    assert "optimis" not in out


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("config", "demo", "optimize", "evaluate", "generate"):
        assert command in out
    assert "optimize the analysis" in out
    assert "optimis" not in out


def test_import_loads_no_command_module():
    """`import diffana.cli` and `diffana config` load neither the analysis nor the
    generators (the command modules import only when their command runs)."""
    code = (
        "import sys, json, diffana.cli\n"
        "diffana.cli.main(['config', '--incdir'])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert "diffana.cli.config" in loaded
    for command in ("demo", "optimize", "evaluate", "generate"):
        assert f"diffana.cli.{command}" not in loaded
    assert "diffana.analysis" not in loaded
    assert "diffana.generators" not in loaded


def test_missing_dependency_says_what_to_install(monkeypatch, capsys):
    import diffana.cli

    monkeypatch.setitem(
        diffana.cli._COMMANDS, "demo", ("diffana.cli._no_such_module", "help")
    )
    assert main(["demo", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("diffana demo is not available: ")
    assert "pip install 'diffana[demo]'" in err


CONSUMER_CMAKE = """\
cmake_minimum_required(VERSION 3.18)
project(diffana_consumer LANGUAGES CXX)
find_package(diffana CONFIG REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE diffana::diffana diffana::kernels)
"""

CONSUMER_MAIN = """\
// A program outside the source tree: headers and the kernel library of the package.
#include "diffana/diffana.hpp"
#include "diffana/kernels.h"

#include <cstdio>

int main() {
  // forward mode by hand: f(x) = x^2 exp(x) at x = 0.5
  auto x = diffana::Dual<double, 1>::variable(0.5, 0);
  auto f = x * x * exp(x);
  std::printf("%.17g %.17g\\n", f.value(), f.tangent(0));
  // the same soft cut through the header and through the kernel library
  auto s = diffana::soft_cut(diffana::Dual<double, 1>::variable(1.0, 0), 0.25, 2.0);
  double xs[2] = {1.0, -1.0}, cut[2] = {0.25, 0.25}, slope[2] = {2.0, 2.0};
  double v[2], dx[2], dc[2], ds[2];
  int status = diffana_soft_cut_f64(xs, cut, slope, 2, 1, v, dx, dc, ds);
  std::printf("%d %.17g %.17g %.17g %.17g\\n", status, s.value(), s.tangent(0), v[0],
              v[1]);
  return status;
}
"""


@pytest.mark.slow
def test_external_cmake_project_finds_and_links_diffana(tmp_path):
    cmake = shutil.which("cmake")
    ninja = shutil.which("ninja")
    if cmake is None or ninja is None:
        pytest.skip("cmake and ninja are needed for the consumer test")
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(CONSUMER_CMAKE)
    (src / "main.cpp").write_text(CONSUMER_MAIN)
    build = tmp_path / "build"
    env = dict(os.environ)
    proc = subprocess.run(
        [
            cmake,
            "-S",
            str(src),
            "-B",
            str(build),
            "-G",
            "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={ninja}",
            f"-Ddiffana_DIR={run_cli('config', '--cmake')}",
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run(
        [cmake, "--build", str(build)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = subprocess.run(
        [str(build / "consumer")], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    f, df = map(float, out[0].split())
    assert f == pytest.approx(0.25 * np.exp(0.5), rel=1e-15)
    assert df == pytest.approx((2 * 0.5 + 0.25) * np.exp(0.5), rel=1e-15)
    status, s, ds, v0, v1 = out[1].split()
    assert status == "0"
    ref = diffana.soft_cut([1.0, -1.0], 0.25, 2.0, x_tangents=[[1.0], [0.0]])
    assert float(s) == pytest.approx(ref.value[0], rel=1e-15)
    assert float(ds) == pytest.approx(ref.tangents[0, 0], rel=1e-15)
    assert [float(v0), float(v1)] == pytest.approx(ref.value.tolist(), rel=1e-15)


@pytest.mark.slow
def test_cflags_and_libs_build_a_program(tmp_path):
    """g++ $(diffana config --cflags) prog.cpp $(diffana config --libs)."""
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    (tmp_path / "main.cpp").write_text(CONSUMER_MAIN)
    exe = tmp_path / "prog"
    cmd = [
        cxx,
        *run_cli("config", "--cflags").split(),
        str(tmp_path / "main.cpp"),
        "-o",
        str(exe),
        *run_cli("config", "--libs").split(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[1].startswith("0 ")


def test_demo_subcommand_hands_its_arguments_to_the_demo():
    pytest.importorskip("diffana.analysis.demo")
    out = run_cli("demo", "--help")
    assert out.startswith("usage:")
    assert "--steps" in out


def run_cli_status(
    *args: str, cwd: pathlib.Path | None = None, env: dict[str, str] | None = None
):
    return subprocess.run(
        [sys.executable, "-m", "diffana", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_optimize_and_generate_are_listed_and_have_help():
    pytest.importorskip("pydantic")
    pytest.importorskip("yaml")
    assert "optimize" in run_cli("--help")
    out = run_cli("optimize", "--help")
    assert out.startswith("usage: diffana optimize")
    for flag in ("--out", "--quiet", "--json", "--set"):
        assert flag in out
    assert "--events" in run_cli("generate", "--help")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("samples: [1, 2\n", "not valid YAML"),
        ("lumi: 1\nsampels: []\n", "sampels: unknown key"),
        (None, "samples[0] (signal).files:"),  # the demo config without its samples
    ],
)
def test_optimize_bad_config_exits_2_without_traceback(tmp_path, text, expected):
    pytest.importorskip("pydantic")
    pytest.importorskip("yaml")
    from diffana.analysis import demo

    path = tmp_path / "bad.yaml"
    path.write_text(demo.config_path().read_text() if text is None else text)
    proc = run_cli_status("optimize", str(path), "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert str(path) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    proc = run_cli_status("optimize", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    assert "cannot read the configuration" in proc.stderr
    if text is None:
        proc = run_cli_status("optimize", str(path), "--set", "nonsense")
        assert proc.returncode == 2
        assert "expected NAME=VALUE" in proc.stderr


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("disc_cut=abc", "parameters[0].value: Input should be a valid number"),
        ("optimizer.steps=-1", "optimizer.steps: Input should be greater than"),
        ("nokey=3", "no parameter or key 'nokey' in the config"),
        ("optimiser.steps=3", "did you mean 'optimizer.steps'?"),
    ],
)
def test_set_errors_blame_set_not_the_file(tmp_path, item, expected):
    """A valid file with a bad ``--set`` item: exit 2, and the one-line error names
    the item first, not the file (which is fine)."""
    pytest.importorskip("pydantic")
    pytest.importorskip("yaml")
    from diffana.analysis import demo

    path = tmp_path / "a.yaml"
    path.write_text(demo.config_path().read_text())
    proc = run_cli_status("optimize", str(path), "--quiet", "--set", item)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"diffana optimize: error: --set {item!r}: ")
    assert expected in proc.stderr
    assert str(path) not in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.root
@pytest.mark.slow
def test_optimize_runs_a_config(tmp_path):
    pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    pytest.importorskip("optax")
    pytest.importorskip("uproot")
    import json

    from diffana.analysis import demo
    from diffana.generators import toy as generate

    generate.generate(tmp_path / "samples", seed=6, events=3000)
    (tmp_path / "a.yaml").write_text(demo.config_path().read_text())
    # As users run it: the JIT-compiled code at its default -O3 (conftest.py lowers
    # the level for the rest of the suite, which compiles more than it runs).
    env = {k: v for k, v in os.environ.items() if k != "DIFFANA_CLING_OPT"}
    proc = run_cli_status(
        "optimize", "a.yaml", "--quiet", "--json", "r.json",
        "--set", "optimizer.steps=2", "--set", "disc_cut=0.4",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["steps"] == 2
    assert rep["initial"]["params"]["disc_cut"] == 0.4
    assert rep["status"] == "max_steps"


def test_unrecognized_arguments_blame_the_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--out", "x", "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: diffana generate")
    assert "diffana generate: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize("value", ["-3", "two", "1.5"])
def test_threads_must_be_a_whole_number_not_below_zero(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["optimize", "a.yaml", "--threads", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --threads: expected a whole number >= 0" in err
    assert "Traceback" not in err


def test_generate_into_a_file_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--out", str(tmp_path / "f")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path / 'f'}: a file, not a folder" in err
    assert (tmp_path / "f").read_text() == "x"
