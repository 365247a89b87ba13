# SPDX-License-Identifier: BSD-3-Clause
"""Installation that explains itself: a missing optional dependency is reported as the
pip command that installs it, by every optional subpackage and by the command line
(one line on stderr, exit status 2); and the table of `diffana._optional` agrees with
the extras of pyproject.toml and with what the package's modules import."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest

from diffana import _optional as opt

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

# One fresh interpreter runs every case: for each, the dependencies are hidden
# (sys.modules[name] = None makes `import name` fail as if it were not installed),
# diffana's optional subpackages are forgotten, and the import (or the command)
# runs again. Cases: (label, modules to hide, "import X" or ["cli", "args"...]).
_RUNNER = r"""
import contextlib, io, json, sys
import diffana, diffana.cli

cases = json.loads(sys.argv[1])
results = {}
for label, hidden, action in cases:
    saved = dict(sys.modules)
    for name in list(sys.modules):
        if name.startswith("diffana.") and name not in ("diffana._core",) and not \
                name.startswith(("diffana._core.", "diffana.cli")):
            del sys.modules[name]
    for name in hidden:
        sys.modules[name] = None
    err = io.StringIO()
    try:
        if isinstance(action, list):
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                rc = diffana.cli.main(action)
            results[label] = {"rc": rc, "text": err.getvalue()}
        else:
            exec(action, {})
            results[label] = {"rc": 0, "text": ""}
    except Exception as e:
        results[label] = {"rc": None, "text": str(e), "type": type(e).__name__}
    finally:
        sys.modules.clear()
        sys.modules.update(saved)
print(json.dumps(results))
"""

# subpackage -> (its extra, the statement that needs it)
_SUBPACKAGES = {
    "diffana.stats": ("stats", "import diffana.stats"),
    "diffana.analysis": ("analysis", "import diffana.analysis"),
    "diffana.chain": ("analysis", "import diffana.chain"),
    "diffana.generators": ("awkward", "import diffana.generators"),
    "diffana.awkward": ("awkward", "import diffana.awkward"),
    "diffana.jax": ("jax", "import diffana.jax"),
    "diffana.analysis.plots": (
        "plot",
        "from diffana.analysis import plots; plots.plot(None, None, None)",
    ),
    "diffana.analysis.optimizer": (
        "analysis",
        "from diffana.analysis import optimizer; optimizer.optimize(None)",
    ),
}

_IMPORT_CASES = [
    (f"{feature}:{module}", [module], statement)
    for feature, (_, statement) in _SUBPACKAGES.items()
    for module in opt.FEATURES[feature][1]
]
# The ROOT front ends: diffana.root says what to install when ROOT is first used.
_IMPORT_CASES.append(
    ("diffana.rdf:ROOT", ["ROOT"], "import diffana.rdf; diffana.rdf._import_root()")
)

_CLI_CASES = [
    ("cli demo:yaml", ["yaml"], ["demo", "--quiet"]),
    ("cli demo:ROOT", ["ROOT"], ["demo", "--quiet"]),
    ("cli optimize:mplhep", ["mplhep"], ["optimize", "a.yaml"]),
    ("cli evaluate:optax", ["optax"], ["evaluate", "a.yaml"]),
    ("cli infer:equinox", ["equinox"], ["infer", "a.yaml"]),
    ("cli generate:uproot", ["uproot"], ["generate", "--out", "x"]),
    ("cli -v generate:uproot", ["uproot"], ["-v", "generate", "--out", "x"]),
    ("cli config:everything", sorted(opt.DISTRIBUTIONS), ["config", "--cflags"]),
]


@pytest.fixture(scope="module")
def results():
    cases = _IMPORT_CASES + _CLI_CASES
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize(("label", "hidden", "action"), _IMPORT_CASES)
def test_a_missing_dependency_names_the_pip_command(results, label, hidden, action):
    feature, module = label.split(":")
    got = results[label]
    assert got["rc"] is None, f"{action!r} worked without {module}"
    if feature == "diffana.rdf":
        assert "pip install" in got["text"]
        assert "diffana[root]" in got["text"]
        return
    extra = _SUBPACKAGES[feature][0]
    if feature == "diffana.jax":  # diffana.jax words it itself
        assert f"pip install 'diffana[{extra}]'" in got["text"]
        return
    dist = opt.DISTRIBUTIONS[module]
    assert got["text"] == f"{feature} needs {dist}: pip install 'diffana[{extra}]'"
    assert got["type"] == "MissingDependency"


@pytest.mark.parametrize(("label", "hidden", "argv"), _CLI_CASES)
def test_the_command_line_says_what_to_install_in_one_line(
    results, label, hidden, argv
):
    got = results[label]
    command = label.split()[-1].split(":")[0]
    if command == "config":  # needs no optional dependency at all
        assert got == {"rc": 0, "text": ""}
        return
    extra, _ = opt.FEATURES[f"diffana {command}"]
    dist = opt.DISTRIBUTIONS[hidden[0]]
    assert got["rc"] == 2
    assert got["text"] == (
        f"diffana {command} needs {dist}: pip install 'diffana[{extra}]'\n"
    )


def test_missing_dependency_is_an_import_error():
    err = opt.MissingDependency("diffana.stats", "equinox", "stats")
    assert isinstance(err, ModuleNotFoundError)
    assert (err.name, err.extra, err.feature) == ("equinox", "stats", "diffana.stats")
    assert str(err) == "diffana.stats needs equinox: pip install 'diffana[stats]'"


def test_hint_leaves_other_import_errors_alone():
    own = ModuleNotFoundError(
        "No module named 'diffana.nothing'", name="diffana.nothing"
    )
    assert opt.hint(own, "diffana demo") is None
    assert opt.hint(ImportError("cannot import name 'x'"), "diffana demo") is None
    # a missing dependency raised from inside another error is still found
    try:
        try:
            raise ModuleNotFoundError("No module named 'rich'", name="rich")
        except ImportError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        found = opt.hint(outer, "diffana optimize")
    assert str(found) == "diffana optimize needs rich: pip install 'diffana[analysis]'"


# -- the table against pyproject.toml and the sources ---------------------------


def _name(requirement: str) -> set[str]:
    """The distributions a requirement installs by name: ``dask[distributed]>=1``
    -> {"dask", "distributed"} (an extra that is a distribution of its own)."""
    m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?", requirement)
    assert m is not None, requirement
    name = m.group(1).lower().replace("_", "-")
    extras = {e.strip().lower() for e in (m.group(2) or "").split(",") if e.strip()}
    return {name} | (extras & {"distributed"})


@pytest.fixture(scope="module")
def extras(repo_root):
    data = tomllib.loads((repo_root / "pyproject.toml").read_text())
    return {
        extra: set().union(*(_name(r) for r in reqs))
        for extra, reqs in data["project"]["optional-dependencies"].items()
    }


def test_every_extra_of_the_table_is_in_pyproject_with_exactly_its_packages(extras):
    for extra, modules in opt.EXTRAS.items():
        assert extra in extras, f"pyproject.toml has no extra {extra!r}"
        wanted = {opt.DISTRIBUTIONS[m] for m in modules}
        assert extras[extra] == wanted, extra


def test_every_feature_needs_only_what_its_extra_installs():
    for feature, (extra, modules) in opt.FEATURES.items():
        assert extra in opt.EXTRAS, feature
        assert set(modules) <= set(opt.EXTRAS[extra]), feature


def test_the_test_extra_installs_every_optional_dependency(extras):
    # ROOT comes from the root extra (the PyPI wheel is large and alpha).
    wanted = {d for d in opt.DISTRIBUTIONS.values() if d != "root"}
    assert wanted <= extras["test"], sorted(wanted - extras["test"])


def _third_party(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The top-level names of the absolute imports of a module: (at module level,
    inside functions), leaving out imports in a ``try`` that catches ImportError
    (they have a fallback) and those for type checkers only."""
    eager: set[str] = set()
    lazy: set[str] = set()

    def visit(node: ast.AST, in_function: bool, guarded: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom) and not guarded:
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                names = [node.module or ""] if node.level == 0 else []
            for name in names:
                (lazy if in_function else eager).add(name.split(".")[0])
        for child in ast.iter_child_nodes(node):
            typing_only = (
                isinstance(node, ast.If)
                and "TYPE_CHECKING" in ast.unparse(node.test)
                and child in node.body
            )
            catches = isinstance(node, ast.Try) and any(
                h.type is not None
                and any(
                    isinstance(n, ast.Name)
                    and n.id in ("ImportError", "ModuleNotFoundError")
                    for n in ast.walk(h.type)
                )
                for h in node.handlers
            )
            visit(
                child,
                in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef),
                guarded or typing_only or (catches and child in node.body),
            )

    visit(tree, False, False)
    return eager, lazy


def test_modules_import_only_what_their_extra_installs(repo_root):
    """A module's imports at module level come with the extras of the parts it
    belongs to (the `FEATURES` entries its name starts with); imports inside
    functions (features of their own, such as Dask or cabinetry) are optional
    dependencies the table knows."""
    package = repo_root / "python" / "diffana"
    known = {"numpy", "diffana", *sys.stdlib_module_names, *opt.DISTRIBUTIONS}
    parts = [f for f in opt.FEATURES if " " not in f]
    problems = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        eager, lazy = _third_party(ast.parse(path.read_text()))
        unknown = (eager | lazy) - known
        if unknown:
            problems.append(f"{module}: {sorted(unknown)} not in DISTRIBUTIONS")
        within = [f for f in parts if module == f or module.startswith(f + ".")]
        if within:
            allowed = set().union(*(opt.EXTRAS[opt.FEATURES[f][0]] for f in within))
            extra = sorted((eager & set(opt.DISTRIBUTIONS)) - allowed)
            if extra:
                problems.append(f"{module} ({within}) imports {extra} at module level")
    assert problems == [], "\n".join(problems)
