# SPDX-License-Identifier: BSD-3-Clause
"""JSON values files and their gradient files.

A values file is a JSON object with ``"format"`` (its kind: ``diffana-yields``,
``diffana-result``, ...) and ``"format_version"``; some of its numbers (named by
the kind: ``values`` and ``variances`` of every histogram, ``value`` of an
objective) are differentiable. Its gradient file, written after it, is

``{"format": "diffana-gradient", "format_version": 1, "record": Record,
"gradient": TREE}``

where TREE repeats the values file's keys down to every differentiable number and
holds there, forward, one list of P tangents per number (an array of shape
``S`` becomes ``S + (P,)``), backward one cotangent per number (shape ``S``). The
`diffana.chain.record.Record` names the values file by path and sha256.

`read_gradient` checks, before any number is used: the direction, that the values
file is the one recorded (sha256), the parameter names, and that TREE covers every
differentiable number of the values file with the right shape (`ChainError`,
one line naming the file and the key).

May import numpy, the standard library, `diffana.chain.record` and
`diffana.analysis.outputs` (atomic writes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..analysis.outputs import write_atomic
from .record import ChainError, Record

__all__ = [
    "FORMAT_VERSION",
    "GRADIENT",
    "check_tree",
    "contract",
    "leaves",
    "read_gradient",
    "read_values",
    "write_gradient",
    "write_values",
]

#: The version of every format this module writes.
FORMAT_VERSION = 1
#: The ``format`` of gradient files.
GRADIENT = "diffana-gradient"

Path = tuple[str, ...]


def _dumps(data: Mapping[str, Any], where: str) -> str:
    try:
        return json.dumps(data, allow_nan=False)
    except ValueError:
        msg = f"{where}: a value or gradient is not finite (JSON cannot hold it)"
        raise ChainError(msg) from None


def write_values(
    path: str | os.PathLike[str], kind: str, content: Mapping[str, Any]
) -> None:
    """Write the values file ``path`` (atomically): ``content`` with its ``format``
    ``kind``."""
    data = {"format": kind, "format_version": FORMAT_VERSION, **content}
    write_atomic(path, _dumps(data, os.fspath(path)))


def _load(path: str | os.PathLike[str]) -> Any:
    where = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        msg = f"{where}: cannot read it ({e.strerror or e})"
        raise ChainError(msg) from None
    except (ValueError, UnicodeDecodeError) as e:
        msg = f"{where}: not a JSON file ({e})"
        raise ChainError(msg) from None


def _check_format(data: Any, kind: str, where: str) -> None:
    found = data.get("format") if isinstance(data, dict) else None
    if found != kind:
        msg = f"{where}: not a {kind} file (its format is {found!r})"
        raise ChainError(msg)
    if data.get("format_version") != FORMAT_VERSION:
        msg = (
            f"{where}: format_version {data.get('format_version')!r}, this diffana "
            f"reads {FORMAT_VERSION}"
        )
        raise ChainError(msg)


def read_values(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """The values file ``path`` of format ``kind`` (ChainError otherwise)."""
    data = _load(path)
    _check_format(data, kind, os.fspath(path))
    out: dict[str, Any] = data
    return out


def write_gradient(
    path: str | os.PathLike[str], tree: Mapping[str, Any], record: Record
) -> None:
    """Write the gradient file ``path`` (atomically): ``tree`` with ``record``."""
    data = {
        "format": GRADIENT,
        "format_version": FORMAT_VERSION,
        "record": record.to_json(),
        "gradient": tree,
    }
    write_atomic(path, _dumps(data, os.fspath(path)))


def read_gradient(
    path: str | os.PathLike[str],
    values_file: str | os.PathLike[str] | None,
    direction: str,
    names: Sequence[str] | None = None,
) -> tuple[Record, dict[str, Any]]:
    """The record and tree of gradient file ``path``, after the checks: its
    ``direction``, that it belongs to ``values_file`` (the sha256 of its bytes;
    None: not checked, for a caller that checks the recorded hash itself) and, if
    given, the parameter ``names``. ChainError naming the file otherwise."""
    where = os.fspath(path)
    data = _load(path)
    _check_format(data, GRADIENT, where)
    record = Record.from_json(data.get("record"), where)
    record.check_direction(direction, where)
    if values_file is not None:
        record.check_values(values_file, where)
    if names is not None:
        record.check_names(names, where)
    tree = data.get("gradient")
    if not isinstance(tree, dict):
        msg = f"{where}: no gradient object"
        raise ChainError(msg)
    return record, tree


def leaves(tree: Any, keys: Collection[str], path: Path = ()) -> Iterator[Path]:
    """The paths of ``tree``'s entries whose last key is one of ``keys`` (the
    differentiable numbers of a values file), depth first.

    Examples
    --------
    >>> list(leaves({"h": {"a": {"values": [1], "edges": [0, 1]}}}, {"values"}))
    [('h', 'a', 'values')]
    """
    if not isinstance(tree, dict):
        return
    for k, v in tree.items():
        if k in keys:
            yield (*path, k)
        else:
            yield from leaves(v, keys, (*path, k))


def _at(tree: Any, path: Path) -> Any:
    for k in path:
        tree = tree[k]
    return tree


def check_tree(
    values: Mapping[str, Any],
    grad: Mapping[str, Any],
    keys: Collection[str],
    n_params: int | None,
    where: str,
) -> None:
    """ChainError unless ``grad`` holds, for every differentiable number of
    ``values`` (the entries named ``keys``), and for nothing else, an array of the
    value's shape plus ``(n_params,)`` (forward) or of the value's shape
    (``n_params`` None: backward), all of it finite.

    Examples
    --------
    >>> v = {"h": {"values": [1.0, 2.0]}}
    >>> check_tree(v, {"h": {"values": [[0.1], [0.2]]}}, {"values"}, 1, "g.json")
    >>> try:
    ...     check_tree(v, {"h": {"values": [0.1]}}, {"values"}, None, "g.json")
    ... except ChainError as e:
    ...     print(e)
    g.json: h/values has shape (1,), expected (2,) (the values file's)
    """
    wanted = list(leaves(values, keys))
    present = set(leaves(grad, keys))
    missing = [p for p in wanted if p not in present]
    extra = sorted(present - set(wanted))
    for paths, what in (
        (missing, "has no gradient for"),
        (extra, "has a gradient for"),
    ):
        if paths:
            shown = ", ".join("/".join(p) for p in paths[:3])
            more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
            tail = "" if what.startswith("has no") else " (not in the values file)"
            msg = f"{where} {what} {shown}{more}{tail}"
            raise ChainError(msg)
    for p in wanted:
        key = "/".join(p)
        try:
            value = np.asarray(_at(values, p), dtype=float)
            g = np.asarray(_at(grad, p), dtype=float)
        except (TypeError, ValueError):
            msg = f"{where}: {key} is not an array of numbers"
            raise ChainError(msg) from None
        shape = value.shape + (() if n_params is None else (n_params,))
        if g.shape != shape:
            per = "" if n_params is None else f" x {n_params} parameters"
            msg = (
                f"{where}: {key} has shape {g.shape}, expected {shape} (the values "
                f"file's{per})"
            )
            raise ChainError(msg)
        if not np.all(np.isfinite(g)):
            msg = f"{where}: {key} holds a number that is not finite"
            raise ChainError(msg)


def contract(
    cotangents: Mapping[str, Any], tangents: Mapping[str, Any], keys: Collection[str]
) -> np.ndarray:
    """The inner product of a backward and a forward gradient of the same values
    file, one number per parameter: sum over every differentiable number of its
    cotangent times its tangents (c^T J: what the backward pass gives d result / d
    parameters through).

    Examples
    --------
    >>> cot = {"h": {"values": [1.0, 2.0]}}
    >>> tan = {"h": {"values": [[1.0, 0.0], [1.0, 1.0]]}}
    >>> contract(cot, tan, {"values"}).tolist()
    [3.0, 2.0]
    """
    total: np.ndarray | None = None
    for p in leaves(cotangents, keys):
        c = np.asarray(_at(cotangents, p), dtype=float)
        t = np.asarray(_at(tangents, p), dtype=float)
        term = np.tensordot(c, t, axes=c.ndim)
        total = term if total is None else total + term
    if total is None:
        msg = "contract: the cotangents hold no differentiable number"
        raise ChainError(msg)
    return total
