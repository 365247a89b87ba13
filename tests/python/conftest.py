# SPDX-License-Identifier: BSD-3-Clause
"""Shared fixtures: repository paths, the CMS test files and seeded random numbers."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# The development checkout keeps the CMS files next to the repository.
DATA_DIR = REPO_ROOT.parent / "shared" / "data"


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


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so that failures reproduce."""
    return np.random.default_rng(20240607)
