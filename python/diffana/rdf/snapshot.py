# SPDX-License-Identifier: BSD-3-Clause
"""Gradients on disk: writing Dual columns to a TTree and reading them back.

`write` (behind `DiffFrame.snapshot`) writes columns with RDataFrame ``Snapshot``: a
dual column ``x`` (``Dual<double,P>`` or ``RVec<Dual<double,P>>``) becomes its value
``x`` (``double`` / ``RVec<double>``) plus one column per parameter, ``x__d_<param>``,
holding dx/d<param> (no ``std::array`` columns: ROOT writes unreadable files for
them); plain columns are written as they are. The same file gets a ``TNamed`` called
``diffana_snapshot_<tree>`` whose title is JSON: ``{"params": {name: value, ...},
"dual": [column, ...]}`` (parameter order = tangent order), read by `info`.
`restore_duals` (behind `DiffFrame.from_snapshot`) turns every dual column listed
there into a Dual column again (``Redefine`` with ``diffana::rdf::dual_from_columns``)
whose tangents are the file's, mapped onto the new parameters by name.

The functions work on RDataFrame nodes and the family's `_Core`, not on `DiffFrame`,
so that `diffana.rdf.frame` can use them without an import circle.

May import: the standard library, ``diffana._checks``, ``diffana.rdf._session`` and
``diffana.rdf._types``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _checks
from . import _types
from ._session import _compiled, _Core, _import_root

__all__ = ["check_params", "info", "restore_duals", "write"]


def _record(tree: str) -> str:
    """The name of the TNamed that describes ``tree``."""
    return f"diffana_snapshot_{tree}"


def write(
    node: Any,
    core: _Core,
    tree: str,
    file: str | os.PathLike[str],
    columns: str | Sequence[str],
) -> None:
    """Write ``columns`` of ``node`` to TTree ``tree`` in ``file`` (recreated), the
    dual ones as value plus tangents, and the record `info` reads; runs an event
    loop now (counted in ``core.n_loops``). See `DiffFrame.snapshot`."""
    ROOT = core.ROOT
    if not isinstance(tree, str) or not tree:
        msg = f"snapshot: tree must be a non-empty string, got {tree!r}"
        raise ValueError(msg)
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        msg = "snapshot: no columns given"
        raise ValueError(msg)
    if len(set(cols)) != len(cols):
        msg = f"snapshot: repeated columns in {cols}"
        raise ValueError(msg)
    kinds: dict[str, str | None] = {}
    for c in cols:
        ctype = _types.column_type(node, c, "snapshot")
        # The frame's soft-filter weight (diffana_...) is written like any column.
        _checks.identifier(c, "snapshot: column name", reserved=False)
        kind = _types.dual_kind(ctype, core.n)
        if kind is None and "diffana::Dual" in ctype:
            msg = (
                f"snapshot: column {c!r} has type {ctype}; only Dual<double,P> "
                "and RVec<Dual<double,P>> columns can be written"
            )
            raise TypeError(msg)
        kinds[c] = kind
    out: list[str] = []
    duals = [c for c in cols if kinds[c] is not None]
    for c in cols:
        out.append(c)
        if kinds[c] is None:
            continue
        for k, p in enumerate(core.names):
            name = f"{c}__d_{p}"
            if node.HasColumn(name) or name in cols:
                msg = f"snapshot: cannot write {c!r}: column {name!r} exists"
                raise ValueError(msg)
            node = node.Define(name, f"diffana::rdf::snap_tangent({c}, {k})")
            out.append(name)
    for c in duals:  # after the tangents, which read the Dual column
        node = node.Redefine(c, f"diffana::rdf::snap_value({c})")
    path = os.fspath(file)
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fMode = "RECREATE"
    columns = ROOT.std.vector["std::string"](out)
    core.loop("snapshot", lambda: node.Snapshot(tree, path, columns, opts))
    params = dict(zip(core.names, core.values, strict=True))
    meta = json.dumps({"params": params, "dual": duals})
    f = ROOT.TFile.Open(path, "UPDATE")
    if not f or f.IsZombie():
        msg = f"snapshot: could not reopen {path!r} to store the parameters"
        raise OSError(msg)
    try:
        ROOT.TNamed(_record(tree), meta).Write()
    finally:
        f.Close()


def info(tree: str, file: str | os.PathLike[str]) -> dict[str, Any]:
    """What `write` stored about tree ``tree`` in ``file``:
    ``{"params": {name: value}, "dual": [columns]}``. ValueError if absent."""
    ROOT = _import_root()
    path = os.fspath(file)
    f = ROOT.TFile.Open(path, "READ")
    if not f or f.IsZombie():
        msg = f"cannot open {path!r}"
        raise ValueError(msg)
    try:
        obj = f.Get(_record(tree))
        if not obj:
            msg = (
                f"{path!r} has no {_record(tree)} record: tree {tree!r} "
                "was not written by DiffFrame.snapshot"
            )
            raise ValueError(msg)
        meta: dict[str, Any] = json.loads(str(obj.GetTitle()))
    finally:
        f.Close()
    return meta


def check_params(meta: dict[str, Any], params: Any) -> None:
    """TypeError unless ``params`` is a mapping, ValueError naming the file's
    parameters that ``params`` lacks."""
    file_params = list(meta["params"])
    if not isinstance(params, Mapping):
        msg = f"params must be a mapping name -> value, got {params!r}"
        raise TypeError(msg)
    missing = [p for p in file_params if p not in params]
    if missing:
        msg = (
            f"from_snapshot: the file's parameter(s) {missing} are missing from "
            f"params {list(params)}; the file has {file_params}"
        )
        raise ValueError(msg)


def restore_duals(
    node: Any,
    core: _Core,
    meta: dict[str, Any],
    file: str | os.PathLike[str],
    prefix: str = "",
) -> Any:
    """``node`` (a frame on the written tree, with ``core``'s parameters) with every
    dual column of ``meta`` redefined as a Dual: value from ``x``, tangents from
    ``<prefix>x__d_<name>`` for the file's parameters, 0 for the others."""
    file_params = list(meta["params"])
    for c in meta["dual"]:
        ctype = str(node.GetColumnType(c))
        vector = "RVec" in ctype
        args = []
        for p in core.names:
            name = f"{prefix}{c}__d_{p}"
            if p in file_params:
                if not node.HasColumn(name):
                    msg = f"from_snapshot: column {name!r} is missing from {file}"
                    raise ValueError(msg)
                args.append(name)
            else:
                args.append("0.0")
        fn = "dual_vec_from_columns" if vector else "dual_from_columns"
        expr = f"diffana::rdf::{fn}<{core.n}>({c}, {', '.join(args)})"
        node = _compiled(
            "from_snapshot", expr, functools.partial(node.Redefine, c, expr)
        )
    return node
