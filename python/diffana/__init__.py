# SPDX-License-Identifier: BSD-3-Clause
"""diffana: differentiable analysis for high-energy physics.

Dual numbers, relaxed cuts and histograms that carry their Jacobian, in C++ with
numpy, awkward, JAX and ROOT front ends. The numpy API lives here::

    import diffana
    w = diffana.soft_cut(pt, cut=30.0, slope=0.5, cut_tangents=[1.0])
    h = diffana.histogram(mass, edges, weights=w.value, weight_tangents=w.tangents)
    h.values, h.jacobian          # bins, d bins / d cut

Optional worlds load on first use: `diffana.awkward` (jagged arrays), `diffana.jax`
(JAX primitives), `diffana.root` (cling / PyROOT), `diffana.correction`
(correctionlib corrections on dual numbers), `diffana.chain` (gradients between
programs); importing diffana imports none of JAX, ROOT, awkward, hist or matplotlib.
"""

from __future__ import annotations

import logging
import pathlib
import pkgutil

# A library logs and never configures logging (the command line does): without a
# handler of the application's, its records are dropped, not printed.
logging.getLogger(__name__).addHandler(logging.NullHandler())


def _import_core() -> object:
    try:
        from . import _core
    except ImportError:
        # Running from the source tree (e.g. `pytest --doctest-modules python/diffana`
        # after `pip install .`): the source package has no compiled extension, so
        # let it find the installed one (pkgutil.extend_path adds every `diffana`
        # folder on sys.path to this package's search path).
        global __path__
        __path__ = pkgutil.extend_path(__path__, __name__)
    else:
        return _core
    try:
        from . import _core
    except ImportError as err:  # pragma: no cover - depends on the installation
        msg = (
            f"{err}\n\ndiffana's compiled extension diffana._core could not be "
            "imported. Build and install the package from its source tree with "
            "`pip install .` (needs a C++17 compiler, CMake and pybind11; "
            "scikit-build-core drives the build)."
        )
        raise ImportError(msg) from err
    return _core


_import_core()  # first: everything below needs the extension

from . import _core, physics, soft, testing
from ._dual import DualArray
from .fill import histogram, histogram2d
from .hist import GradHistogram, GradHistogram2D
from .soft import soft_cut, soft_window

__version__: str = _core.__version__

__all__ = [
    "DualArray",
    "GradHistogram",
    "GradHistogram2D",
    "__version__",
    "get_cmake_dir",
    "get_include",
    "get_lib_dir",
    "histogram",
    "histogram2d",
    "physics",
    "soft",
    "soft_cut",
    "soft_window",
    "testing",
]


def _package_dirs() -> list[pathlib.Path]:
    return [pathlib.Path(p).absolute() for p in __path__]


def _find(sub: str, marker: str) -> str:
    """The first package folder's ``sub`` that holds ``marker``; in a source checkout
    the headers are the repository's include/, ahead of an installed copy's."""
    candidates: list[pathlib.Path] = []
    for d in _package_dirs():  # the imported package's own files first
        candidates.append(d / sub)
        if sub == "include":  # a source checkout: python/diffana -> include/
            candidates.append(d.parents[1] / "include")
    for c in candidates:
        if (c / marker).exists():
            return str(c)
    msg = (
        f"diffana's C++ files ({sub}/{marker}) are not installed next to the package "
        f"({', '.join(str(d) for d in _package_dirs())}); reinstall it with "
        "`pip install .`"
    )
    raise FileNotFoundError(msg)


def get_include() -> str:
    """The folder holding ``diffana/diffana.hpp``: add it with ``-I`` (or to cling).

    Examples
    --------
    >>> import os, diffana
    >>> os.path.isfile(os.path.join(diffana.get_include(), "diffana", "diffana.hpp"))
    True
    """
    return _find("include", "diffana/diffana.hpp")


def get_cmake_dir() -> str:
    """The folder holding ``diffanaConfig.cmake``: pass it as ``-Ddiffana_DIR=...``.

    Examples
    --------
    >>> import os, diffana
    >>> os.path.isfile(os.path.join(diffana.get_cmake_dir(), "diffanaConfig.cmake"))
    True
    """
    return _find("cmake", "diffanaConfig.cmake")


def get_lib_dir() -> str:
    """The folder holding the static kernel library (``libdiffana_kernels.a``).

    Examples
    --------
    >>> import os, diffana
    >>> os.path.isfile(os.path.join(diffana.get_lib_dir(), "libdiffana_kernels.a"))
    True
    """
    return _find("lib", "libdiffana_kernels.a")


_LAZY_SUBMODULES = (
    "analysis", "awkward", "chain", "cli", "correction", "generators", "jax", "nn",
    "rdf", "root", "stats",
)  # fmt: skip


def __getattr__(name: str) -> object:
    # Optional worlds import on first use: `diffana.awkward.soft_cut(...)` works after
    # a plain `import diffana`, which itself imports none of their dependencies.
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return list(__all__)
