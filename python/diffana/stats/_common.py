# SPDX-License-Identifier: BSD-3-Clause
"""Type aliases, the workspace error and three helpers shared by every layer of
`diffana.stats`.

Imports JAX only: every module of the package may import it, it imports none
of them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array
Workspace = Mapping[str, Any]
# A (rows, columns) table of indices, as nested tuples: hashable, so that it can
# be part of the static structure of a model under jit.
Table = tuple[tuple[int, ...], ...]


class WorkspaceError(ValueError):
    """A workspace (or pyhf object) that `diffana.stats` cannot read.

    One line that starts ``invalid workspace:`` and names what is wrong and
    where (channel, sample, modifier or parameter). A `ValueError`, so that
    ``except ValueError`` keeps catching it.
    """


def _is_traced(*xs: Any) -> bool:
    """Whether any of ``xs`` is a JAX tracer (abstract: it has no values to check)."""
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _fail(msg: str) -> WorkspaceError:
    """The error for a workspace that cannot be read (every message starts alike)."""
    return WorkspaceError(f"invalid workspace: {msg}")


def _pyhf_type(obj: Any) -> str:
    """The name of the pyhf class ``obj`` is an instance of ("" if none).

    Looks at the class's modules only, so that pyhf is not imported for
    anything that is not one of its objects.
    """
    for cls in type(obj).__mro__:
        if cls.__module__.split(".")[0] == "pyhf":
            return cls.__name__
    return ""


@functools.partial(jax.jit, static_argnums=(1,))
def _valid_or_one(x: Array, nonnegative: bool = True) -> Array:
    """``x`` where finite (and >= 0 if ``nonnegative``), else 1.

    Keeps the fits converging on bad (traced) yields and data while the checks
    report them; one kernel per shape instead of four eager ones.
    """
    ok = jnp.isfinite(x) & (x >= 0) if nonnegative else jnp.isfinite(x)
    return jnp.where(ok, x, 1.0)
