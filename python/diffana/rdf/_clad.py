# SPDX-License-Identifier: BSD-3-Clause
"""Whether ROOT's interpreter has Clad: `has_clad`.

ROOT built with Clad (LCG views, conda-forge) loads Clad's plugin into cling, so
``clad::gradient`` works in jitted code and diffana's derivative rules can be handed
to it (``diffana/clad/custom_derivatives.hpp``). The PyPI ROOT wheel is built
without Clad; there `has_clad` is False and diffana's own Dual engine is the only
one. This module may import ``_session`` (ROOT and cling set-up) only.
"""

from __future__ import annotations

import functools

from ._session import _capture_stderr, _import_root

__all__ = ["has_clad"]

CLAD_HEADER = "clad/Differentiator/Differentiator.h"


@functools.cache
def has_clad() -> bool:
    """Whether ROOT's cling has Clad (its header, which ROOT ships with its plugin).

    Declares ``#include "clad/Differentiator/Differentiator.h"`` once (cached for
    the process); cling's diagnostics for a missing header are swallowed, so a
    ROOT without Clad just gives False.

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
    root = _import_root()
    # ROOT ships Clad's headers only together with its plugin (etc/cling/plugins), so
    # the header is the test; the plugin's own macro __CLAD__ is not reliably defined
    # in cling, where the plugin is loaded after the preprocessor is set up.
    with _capture_stderr():
        return bool(root.gInterpreter.Declare(f'#include "{CLAD_HEADER}"'))
