# SPDX-License-Identifier: BSD-3-Clause
"""Optional dependencies: which extra of ``pip install 'diffana[...]'`` installs what
each part of diffana needs, and the one error that says so.

Three tables: `DISTRIBUTIONS` (the import name of every optional dependency -> the
distribution pip installs), `EXTRAS` (each extra of ``pyproject.toml`` -> the import
names it provides; a test checks the two agree, and that every module of the package
imports only what its extra provides) and `FEATURES` (a part of diffana: a
subpackage, a module or a command -> its extra and the modules it needs).

`require` is called first thing in a subpackage's ``__init__`` (before its imports,
so that a missing dependency is reported as what to install, not as a traceback from
somewhere inside): it looks the modules up without importing them
(`importlib.util.find_spec`), so that importing diffana.analysis still imports neither
ROOT nor JAX. A missing one raises `MissingDependency`, an ImportError whose message
is the pip command: ``diffana.stats needs equinox: pip install 'diffana[stats]'``.
`hint` turns a ModuleNotFoundError raised later (by an import inside a function) into
the same error, for `diffana.cli.main`, which prints it as one line (exit status 2).

Adding an optional dependency is one row in `DISTRIBUTIONS`, its name in an extra of
`EXTRAS` (and of ``pyproject.toml``) and in the `FEATURES` that need it.

Imports only the standard library.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = [
    "DISTRIBUTIONS",
    "EXTRAS",
    "FEATURES",
    "MissingDependency",
    "hint",
    "import_optional",
    "missing",
    "require",
]

#: import name -> the distribution that provides it (``pip install NAME``)
DISTRIBUTIONS: dict[str, str] = {
    "awkward": "awkward",
    "uproot": "uproot",
    "pyarrow": "pyarrow",
    "jax": "jax",
    "optimistix": "optimistix",
    "equinox": "equinox",
    "pyhf": "pyhf",
    "optax": "optax",
    "yaml": "pyyaml",
    "pydantic": "pydantic",
    "rich": "rich",
    "ROOT": "root",
    "matplotlib": "matplotlib",
    "mplhep": "mplhep",
    "hist": "hist",
    "dask": "dask",
    "distributed": "distributed",
    "correctionlib": "correctionlib",
    "coffea": "coffea",
    "vector": "vector",
    "cabinetry": "cabinetry",
    # installed with the distribution named, never on their own
    "pydantic_core": "pydantic",
    "annotated_types": "pydantic",
    "cppyy": "root",
}

_STATS = ("jax", "optimistix", "equinox", "pyhf")
_CONFIG = ("yaml", "pydantic", "pydantic_core", "annotated_types", "rich")
_PLOT = ("matplotlib", "mplhep", "hist")
_ROOT = ("ROOT", "cppyy")
_ANALYSIS = (*_STATS, "optax", *_CONFIG, "awkward", "uproot", *_ROOT, *_PLOT)

#: extra of ``pyproject.toml`` -> the import names it installs
EXTRAS: dict[str, tuple[str, ...]] = {
    "awkward": ("awkward", "uproot"),
    "parquet": ("awkward", "pyarrow"),
    "jax": ("jax",),
    "stats": _STATS,
    "cli": _CONFIG,
    "root": _ROOT,
    "plot": _PLOT,
    "analysis": _ANALYSIS,
    "demo": _ANALYSIS,
    "dask": ("dask", "distributed"),
    "correctionlib": ("correctionlib",),
    "coffea": ("coffea", "vector", "awkward", "hist"),
    "cabinetry": ("cabinetry", "pyhf"),
}

_FIT = ("yaml", "pydantic", "jax", "optimistix", "equinox")
_RUN = (*_FIT, "uproot", "ROOT", "optax")
_PLOT_USED = ("matplotlib", "mplhep")

#: part of diffana -> (its extra, the modules it needs before it can do anything).
#: A subpackage's entry lists what it imports when it is imported (a module inside
#: another part needs both extras); a command's entry everything the command uses.
FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "diffana.awkward": ("awkward", ("awkward",)),
    "diffana.jax": ("jax", ("jax",)),
    "diffana.stats": ("stats", ("jax", "optimistix", "equinox")),
    "diffana.rdf": ("root", ("ROOT",)),
    "diffana.root": ("root", ("ROOT",)),
    "diffana.generators": ("awkward", ("awkward", "uproot")),
    "diffana.analysis": ("analysis", ("yaml", "pydantic")),
    "diffana.analysis.optimizer": ("analysis", ("jax", "optax")),
    "diffana.analysis.plots": ("plot", ("matplotlib", "mplhep")),
    "diffana.chain": ("analysis", ("yaml", "pydantic")),
    "diffana.correction": ("correctionlib", ("correctionlib",)),
    "diffana.jax._correction": ("correctionlib", ("correctionlib",)),
    "diffana.distributed": ("dask", ("dask", "distributed")),
    "diffana demo": ("demo", ("awkward", *_RUN, *_PLOT_USED)),
    "diffana optimize": ("analysis", (*_RUN, *_PLOT_USED)),
    "diffana evaluate": ("analysis", _RUN),
    "diffana infer": ("analysis", _FIT),
    "diffana backward": ("analysis", _FIT),
    "diffana generate": ("awkward", ("awkward", "uproot")),
}


class MissingDependency(ModuleNotFoundError):
    """An optional dependency is not installed; the message is the pip command that
    installs it (``name``: the missing module, ``extra``: diffana's extra).

    Examples
    --------
    >>> err = MissingDependency("diffana.stats", "equinox", "stats")
    >>> str(err)
    "diffana.stats needs equinox: pip install 'diffana[stats]'"
    >>> isinstance(err, ImportError), err.name, err.extra
    (True, 'equinox', 'stats')
    """

    def __init__(self, feature: str, name: str, extra: str) -> None:
        dist = DISTRIBUTIONS.get(name, name)
        super().__init__(f"{feature} needs {dist}: pip install 'diffana[{extra}]'")
        self.name = name
        self.feature = feature
        self.extra = extra


def _installed(name: str) -> bool:
    """Whether module ``name`` can be imported, without importing it (a module set
    to None in sys.modules counts as missing, as the import system does)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing(feature: str) -> list[str]:
    """The modules ``feature`` (a key of `FEATURES`) needs that are not installed.

    Examples
    --------
    >>> missing("diffana.generators")
    []
    """
    return [m for m in FEATURES[feature][1] if not _installed(m)]


def require(feature: str) -> None:
    """Raise `MissingDependency` for the first module that ``feature`` (a key of
    `FEATURES`, e.g. a subpackage's ``__name__``) needs and that is not installed.

    Examples
    --------
    >>> require("diffana.generators")
    >>> import sys
    >>> sys.modules["uproot"], saved = None, sys.modules.get("uproot")
    >>> try:
    ...     require("diffana.generators")
    ... except ImportError as e:
    ...     print(e)
    ... finally:
    ...     _ = sys.modules.pop("uproot") if saved is None else None
    ...     sys.modules.update({} if saved is None else {"uproot": saved})
    diffana.generators needs uproot: pip install 'diffana[awkward]'
    """
    absent = missing(feature)
    if absent:
        raise MissingDependency(feature, absent[0], FEATURES[feature][0])


def hint(err: BaseException, feature: str) -> MissingDependency | None:
    """``err`` (or the ImportError it was raised from) as `MissingDependency` for
    ``feature`` when it is a missing optional dependency (a module of
    `DISTRIBUTIONS`); None otherwise (a missing module of diffana itself, a broken
    installation: those keep their traceback).

    Examples
    --------
    >>> print(hint(ModuleNotFoundError("No module named 'yaml'", name="yaml"),
    ...            "diffana demo"))
    diffana demo needs pyyaml: pip install 'diffana[demo]'
    >>> hint(ModuleNotFoundError("x", name="diffana._nothing"), "diffana demo") is None
    True
    """
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, MissingDependency):
            return seen
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            top = seen.name.split(".")[0]
            if top in DISTRIBUTIONS:
                extra = FEATURES.get(feature, (_extra_of(top), ()))[0]
                return MissingDependency(feature, top, extra)
        seen = seen.__cause__ or seen.__context__
    return None


def _extra_of(name: str) -> str:
    """The smallest extra that installs module ``name``."""
    extras = [e for e, mods in EXTRAS.items() if name in mods]
    return min(extras, key=lambda e: len(EXTRAS[e]))


def import_optional(name: str, feature: str) -> ModuleType:
    """``importlib.import_module(name)``, or `MissingDependency` naming the extra of
    ``feature`` when ``name`` is not installed: for the imports inside functions.

    Examples
    --------
    >>> import_optional("numpy", "diffana.analysis.plots").__name__
    'numpy'
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        found = hint(err, feature)
        if found is None:
            raise
        raise found from err
