# SPDX-License-Identifier: BSD-3-Clause
"""The backward pass of the inference stage (``diffana backward``): a cotangent of
the result in, the cotangents of every yield out.

``diffana infer --saveforback back.json`` saved the objective's gradient w.r.t.
every bin's value and variance of its yields file, the yields file's record and
the sha256 of the result file it wrote. `backward` reads a cotangent of that result
(a backward gradient file of ``result.json``, e.g. from `seed_cotangent` or from
the backward pass of the next program), checks that it belongs to that very
result, and writes c * (d objective / d yields): a backward gradient file of the
yields file, with the yields file's structure. Its inner product with the yields'
forward gradient (`diffana.chain.files.contract`) is c * d objective / d
parameters.

May import numpy and `diffana.chain`'s ``files``, ``infer`` (format names),
``record`` and ``yields``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .files import check_tree, leaves, read_gradient, read_values, write_gradient
from .infer import BACKWARD, RESULT, RESULT_KEYS
from .record import ChainError, Record
from .yields import KEYS

__all__ = ["backward", "seed_cotangent"]


def seed_cotangent(
    result_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    value: float = 1.0,
) -> None:
    """Write ``out``: the cotangent ``value`` of the objective of ``result_file``
    (1.0: what `backward` turns into d objective / d yields)."""
    data = read_values(result_file, RESULT)
    if not np.isfinite(value):
        msg = f"the cotangent of {os.fspath(result_file)} must be finite, got {value}"
        raise ChainError(msg)
    record = Record.for_values(
        "backward", data["params"], result_file, program="diffana backward --seed"
    )
    write_gradient(out, {"objective": {"value": float(value)}}, record)


def _scaled(tree: Any, c: float) -> Any:
    if isinstance(tree, dict):
        return {k: _scaled(v, c) for k, v in tree.items()}
    return (c * np.asarray(tree, dtype=float)).tolist()


def backward(
    back_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    result_cotangent: str | os.PathLike[str] | None = None,
    seed: float | None = None,
) -> Record:
    """Map the result's cotangent (the file ``result_cotangent``, or the number
    ``seed``) through the map ``back_file`` saved, to the backward gradient file
    ``out`` of the yields file; returns its record.

    Raises `ChainError` (one line naming the file) when ``back_file`` is not what
    ``diffana infer --saveforback`` wrote, or the cotangent belongs to another
    result or other parameters.
    """
    where = os.fspath(back_file)
    back = read_values(back_file, BACKWARD)
    try:
        record = Record.from_json(back["record"], where)
        result_sha = str(back["result_file"]["sha256"])
        result_path = str(back["result_file"]["path"])
        objective = float(back["objective"]["value"])
        tree = back["gradient"]
    except (KeyError, TypeError, ValueError) as e:
        msg = f"{where}: not a complete --saveforback file ({type(e).__name__}: {e})"
        raise ChainError(msg) from None
    if (result_cotangent is None) == (seed is None):
        msg = "give the result's cotangent as a file (--outgrad) or a number (--seed)"
        raise ChainError(msg)
    if result_cotangent is not None:
        cot_where = os.fspath(result_cotangent)
        cot_record, cot = read_gradient(result_cotangent, None, "backward")
        if cot_record.values_sha256 != result_sha:
            msg = (
                f"{cot_where} is a cotangent of {cot_record.values_path} (sha256 "
                f"{cot_record.values_sha256[:12]}), not of the result {result_path} "
                f"(sha256 {result_sha[:12]}) that {where} was saved with"
            )
            raise ChainError(msg)
        cot_record.check_names(record.names, cot_where)
        stub = {"objective": {"value": objective}}
        check_tree(stub, cot, RESULT_KEYS, None, cot_where)
        c = float(cot["objective"]["value"])
    else:
        c = float(seed)  # type: ignore[arg-type]
        if not np.isfinite(c):
            msg = f"--seed must be a finite number, got {seed}"
            raise ChainError(msg)
    out_record = Record(
        "backward",
        record.params,
        record.values_path,
        record.values_sha256,
        record.config,
        "diffana backward",
    )
    grad = _scaled(tree, c)
    # The saved map has the yields file's structure: a damaged one is refused here
    # rather than written on.
    if not isinstance(grad, dict) or not list(leaves(grad, KEYS)):
        msg = f"{where}: its gradient holds no yields"
        raise ChainError(msg)
    write_gradient(out, grad, out_record)
    return out_record
