# SPDX-License-Identifier: BSD-3-Clause
"""Whether ROOT's interpreter has Clad: `has_clad`.

ROOT built with Clad (LCG views, conda-forge) loads Clad's plugin into cling, so
``clad::gradient`` works in jitted code and diffana's derivative rules can be handed
to it (``diffana/clad/custom_derivatives.hpp``). The PyPI ROOT wheel is built
without Clad; there `has_clad` is False and diffana's own engines (Dual, and the
adjoint's Rev tape) are the only ones. A Clad plugin built elsewhere cannot be added
to the wheel's cling: cling would load it (``EXTRA_CLING_ARGS=-fplugin=clad.so``),
but the wheel links its LLVM/Clang (version 20) into libCling.so without exporting
their symbols, so the plugin fails to load (``undefined symbol:
_ZTIN5clang18ExternalSemaSourceE``) whatever LLVM it was built against. This module
may import ``_session`` (ROOT and cling set-up) only.
"""

from __future__ import annotations

import functools
import itertools

from ._session import _capture_stderr, _import_root

__all__ = ["has_clad"]

CLAD_HEADER = "clad/Differentiator/Differentiator.h"

# Differentiates x^2 at 3 with clad::differentiate: 6 where Clad's plugin transforms
# the call; a compile error (Clad's header refuses without the plugin) or a wrong
# number where only a header named like Clad's is found.
# Each probe has its own namespace, so that probing twice redeclares nothing.
_PROBE = """
namespace diffana_clad_probe_{n} {{
inline double square(double x) {{ return x * x; }}
inline double derivative() {{ return clad::differentiate(square, 0).execute(3.0); }}
}}
"""
_probe_ids = itertools.count()


def _probe_clad() -> bool:
    """`has_clad` without its cache (one probe; declares into cling when it can)."""
    root = _import_root()
    with _capture_stderr():
        if not root.gInterpreter.Declare(f'#include "{CLAD_HEADER}"'):
            return False
        n = next(_probe_ids)
        if not root.gInterpreter.Declare(_PROBE.format(n=n)):
            return False
    return float(getattr(root, f"diffana_clad_probe_{n}").derivative()) == 6.0


@functools.cache
def has_clad() -> bool:
    """Whether ROOT's cling has a working Clad (header and plugin).

    Declares ``#include "clad/Differentiator/Differentiator.h"`` and a probe that
    differentiates x^2 at 3 with ``clad::differentiate`` once (cached for the
    process): True only when the probe gives 6, so Clad's headers on the include
    path without the plugin give False. cling's diagnostics are swallowed.

    Returns
    -------
    bool
        True where ROOT's interpreter has Clad; False for the PyPI ROOT wheel.

    Examples
    --------
    >>> from diffana.rdf._clad import has_clad
    >>> has_clad() in (True, False)
    True
    """
    return _probe_clad()
