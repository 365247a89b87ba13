# SPDX-License-Identifier: BSD-3-Clause
"""Shared fixtures: repository paths, the CMS test files, seeded random numbers,
PyROOT, a runner for ROOT macros, float64 JAX and the independent AGC references."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator

import numpy as np
import pytest

# The suite jit-compiles far more C++ than it runs: cling at -O0 halves its time, with
# the same numbers (diffana.rdf._session.cling_optimization_level; one CLI test runs
# at the default -O3). Subprocesses inherit it.
os.environ.setdefault("DIFFANA_CLING_OPT", "0")

# XLA compiles the same jitted functions (the fits and test statistics of
# diffana.stats above all, ~0.4 s each) in many tests, in both pytest-xdist workers
# and in the CLI subprocesses. JAX's persistent compilation cache, one folder per
# session (the workers and subprocesses inherit it), compiles each once; the
# executables are the same. A size limit turns on the cache's file lock, so that a
# worker never reads an entry the other is writing.
_JAX_CACHE: str | None = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _JAX_CACHE = tempfile.mkdtemp(prefix="diffana-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _JAX_CACHE
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(4 << 30))

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# The development checkout keeps the CMS files next to the repository.
DATA_DIR = REPO_ROOT.parent / "shared" / "data"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's JAX compilation cache (in the process that made it)."""
    if _JAX_CACHE is not None:
        shutil.rmtree(_JAX_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    """The repository's root folder."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    """../shared/data relative to the repository; skips the test when it is absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"the CMS test files are not available ({DATA_DIR} is missing)")
    return DATA_DIR


@pytest.fixture(scope="session")
def tt_file(data_dir: pathlib.Path) -> pathlib.Path:
    """coffea_nano_tt_v12.root: 200 Run-3 ttbar NanoAOD events (mean 7.5 jets)."""
    path = data_dir / "coffea_nano_tt_v12.root"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def ROOT():
    """PyROOT with diffana's headers declared (as diffana.rdf does, cling at -O3);
    skips the test when ROOT is not importable."""
    root = pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    from diffana import rdf

    rdf._import_root()
    return root


@pytest.fixture(scope="session")
def run_macro() -> Callable[..., str]:
    """A runner for ROOT macros: ``run_macro(macro, env=None)`` runs ``root -l -b -q``
    on ``macro`` (a path, or a name in macros/) with diffana's headers on
    ROOT_INCLUDE_PATH and $DIFFANA_DATA defaulting to ../shared/data (``env``
    overrides), and returns its stdout; a non-zero exit or an error on stderr fails
    the test. Skips the test when the ``root`` executable is not installed."""
    root_exe = shutil.which(
        "root",
        path=os.pathsep.join(
            [str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]
        ),
    )
    if root_exe is None:
        pytest.skip("the `root` executable is not installed")
    import diffana

    def run(macro: str | pathlib.Path, env: dict[str, str] | None = None) -> str:
        path = (
            macro if isinstance(macro, pathlib.Path) else REPO_ROOT / "macros" / macro
        )
        full = dict(os.environ, ROOT_INCLUDE_PATH=diffana.get_include())
        full.setdefault("DIFFANA_DATA", str(DATA_DIR))
        full.update(env or {})
        proc = subprocess.run(
            [root_exe, "-l", "-b", "-q", str(path)],
            capture_output=True,
            text=True,
            env=full,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "error" not in proc.stderr.lower(), proc.stderr
        return proc.stdout

    return run


@pytest.fixture
def x64() -> Iterator[None]:
    """float64 JAX (jax_enable_x64) for the test, restored afterwards."""
    jax = pytest.importorskip("jax", reason="JAX is not installed")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so that failures reproduce."""
    return np.random.default_rng(20240607)


@pytest.fixture(scope="session")
def agc_reference() -> object:
    """tests/references/agc_reference.py, the AGC analysis written without diffana (hard
    numpy selection, relaxed JAX pipeline, JER factors), loaded by path."""
    pytest.importorskip("awkward", reason="awkward is not installed")
    pytest.importorskip("uproot", reason="uproot is not installed")
    name = "agc_reference"
    if name not in sys.modules:
        path = REPO_ROOT / "tests" / "references" / "agc_reference.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]
