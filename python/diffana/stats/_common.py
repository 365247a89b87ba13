# SPDX-License-Identifier: BSD-3-Clause
"""Type aliases and two helpers shared by every layer of `diffana.stats`.

Imports JAX only: every module of the package may import it, it imports none
of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

Array = jax.Array
Workspace = Mapping[str, Any]
# A (rows, columns) table of indices, as nested tuples: hashable, so that it can
# be part of the static structure of a model under jit.
Table = tuple[tuple[int, ...], ...]


def _is_traced(*xs: Any) -> bool:
    """Whether any of ``xs`` is a JAX tracer (abstract: it has no values to check)."""
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _fail(msg: str) -> ValueError:
    """The error for a workspace that cannot be read (every message starts alike)."""
    return ValueError(f"invalid workspace: {msg}")
