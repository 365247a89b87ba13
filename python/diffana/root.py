# SPDX-License-Identifier: BSD-3-Clause
"""Make diffana's C++ headers available to ROOT's interpreter (cling) from PyROOT.

After `register`, macros, ``ROOT.gInterpreter.Declare`` and RDataFrame expressions
can use everything in ``diffana/diffana.hpp`` (``diffana::Dual``,
``diffana::soft_cut``, ``diffana::GradHist1D``, the Lorentz helpers, ...). The headers
ship inside the package (`diffana.get_include`), as correctionlib does for its
``register_pyroot_binding``.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["register"]

_registered = False


def _optimized_register_allocation() -> None:
    """Ask cling for LLVM's optimising register allocator, before it starts.

    ROOT passes ``-mllvm -optimize-regalloc=0`` to cling (root-project/root#9342: it
    shortens jitting of very large RDataFrame graphs), so jitted code keeps values on
    the stack between loop iterations whatever its ``-O`` level. For diffana's event
    loops that costs more than it saves: with the allocator back, the README pipeline
    runs 1.3x faster at P = 8 and a taped adjoint pass 2x faster (docs/benchmarks.md).
    Cling reads ``EXTRA_CLING_ARGS`` once, when it starts: a ROOT session already
    running keeps its setting. Not done when ``DIFFANA_CLING_OPT`` is 0 (the test
    suite: compiling dominates there) or when ``EXTRA_CLING_ARGS`` already says.
    """
    extra = os.environ.get("EXTRA_CLING_ARGS", "")
    if os.environ.get("DIFFANA_CLING_OPT", "3").strip() == "0":
        return
    if "optimize-regalloc" not in extra:
        os.environ["EXTRA_CLING_ARGS"] = f"{extra} -mllvm -optimize-regalloc=1".strip()


def _import_root() -> Any:
    _optimized_register_allocation()
    try:
        with warnings.catch_warnings():
            # The PyPI wheel warns on every import that it is an alpha release; that
            # is ROOT's news, not a problem of the user's analysis.
            warnings.filterwarnings("ignore", "(?s).*alpha stage", UserWarning)
            import ROOT
    except ImportError as err:
        msg = (
            "diffana.root.register() needs PyROOT: pip install root (or diffana[root]), "
            "or use a ROOT installation whose Python bindings are on the path"
        )
        raise ImportError(msg) from err
    return ROOT


def register() -> None:
    """Add diffana's include directory to cling and declare ``diffana/diffana.hpp``.

    Idempotent: later calls do nothing. Raises ImportError when ROOT cannot be
    imported and RuntimeError when cling rejects the header.

    Examples
    --------
    >>> import diffana.root
    >>> diffana.root.register()  # doctest: +SKIP
    >>> import ROOT  # doctest: +SKIP
    >>> ROOT.diffana.Dual["double", 1].variable(2.0, 0).tangent(0)  # doctest: +SKIP
    1.0
    """
    global _registered
    if _registered:
        return
    from . import get_include

    root = _import_root()
    include = get_include()
    root.gInterpreter.AddIncludePath(include)
    if not root.gInterpreter.Declare('#include "diffana/diffana.hpp"'):
        msg = (
            "ROOT's interpreter could not compile diffana/diffana.hpp from "
            f"{include}; see the messages above"
        )
        raise RuntimeError(msg)
    _registered = True
