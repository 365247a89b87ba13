# SPDX-License-Identifier: BSD-3-Clause
"""`import diffana` stays light: no JAX, ROOT, awkward, hist or matplotlib (checked in a
fresh interpreter, since the test session itself may have imported them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["jax", "jaxlib", "ROOT", "cppyy", "awkward", "uproot", "hist", "matplotlib"]


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_diffana_imports_no_optional_world():
    loaded = modules_after("import diffana; diffana.histogram([1.0], [0.0, 2.0])")
    assert "diffana._core" in loaded
    assert sorted(m for m in HEAVY if m in loaded) == []


@pytest.mark.parametrize("module", ["diffana.cli", "diffana.testing", "diffana.root"])
def test_light_submodules_stay_light(module):
    loaded = modules_after(f"import {module}")
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_optional_submodules_load_on_attribute_access():
    pytest.importorskip("awkward")
    loaded = modules_after("import diffana; diffana.awkward.soft_cut")
    assert "awkward" in loaded
    assert "diffana.awkward" in loaded


def test_missing_extension_explains_how_to_build(tmp_path):
    """A package without its compiled _core says how to build it (-S: no
    site-packages, so no installed diffana to fall back on)."""
    import diffana

    pkg = tmp_path / "diffana"
    pkg.mkdir()
    src = __import__("pathlib").Path(diffana.__file__).read_text()
    (pkg / "__init__.py").write_text(src)
    proc = subprocess.run(
        [sys.executable, "-S", "-c", "import diffana"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode != 0
    assert "pip install ." in proc.stderr


def test_source_tree_uses_the_installed_extension(repo_root):
    """`pytest --doctest-modules python/diffana` imports the source package, which has
    no compiled _core: it falls back on the installed extension."""
    code = (
        f"import sys; sys.path.insert(0, {str(repo_root / 'python')!r}); "
        "import diffana, os; print(diffana.__file__); print(diffana._core.__file__); "
        "print(os.path.isdir(diffana.get_include()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == str(repo_root / "python" / "diffana" / "__init__.py")
    assert out[2] == "True"


@pytest.mark.parametrize(
    ("attribute", "needs"),
    [("rdf.DiffFrame", "ROOT"), ("analysis.Analysis", "pydantic")],
)
def test_more_submodules_load_on_attribute_access(attribute, needs):
    pytest.importorskip(needs)
    module = "diffana." + attribute.split(".")[0]
    loaded = modules_after(f"import diffana; diffana.{attribute}")
    assert module in loaded
