# SPDX-License-Identifier: BSD-3-Clause
"""``diffana select``: the selection stage of a chain. Events in (with their
tangents, if a previous stage wrote them), events out with tangents.

`select` runs a configuration's ``defines`` and ``selections`` over event files as
``diffana evaluate`` would (same parameters, same C++ expressions, same hard and
soft filters), on one `diffana.rdf.DiffFrame`, and writes the chosen columns of
the events that pass the hard filters: a dual column by its value in ``out`` and
its tangents in ``outgrad`` (`diffana.chain.events`). With soft filters, the
events' product of soft-filter weights is written as one more column (default
``select_weight``), with its tangents: the next stage multiplies its weight by it.

Input files with tangents (``ingrad``) are paired with their values by sha256, and
must carry this configuration's parameters at the same values
(`diffana.chain.events.pair`); their dual columns come back as Duals, so the
tangents written are d out / d parameters through every earlier stage.

May import `diffana.analysis` (config, errors), `diffana.rdf` (lazily) and the
modules above it in `diffana.chain`.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Sequence
from typing import Any

from ..analysis.config import Config
from ..analysis.graph import config_key, declare_corrections, define_all, select_all
from .events import (
    INPUT_PREFIX,
    EventGradient,
    combined,
    event_format,
    pair,
    values_marker,
    write_event_files,
)
from .record import ChainError

__all__ = ["select"]

#: The column that carries the soft filters' weight, unless told otherwise.
SELECT_WEIGHT = "select_weight"


def select(
    config: Config,
    inputs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    columns: Sequence[str],
    *,
    ingrad: Sequence[str | os.PathLike[str]] = (),
    outgrad: str | os.PathLike[str] | None = None,
    tree: str = "Events",
    weight_column: str = SELECT_WEIGHT,
    sumw: Sequence[str] = (),
    source: str = "config",
    program: str = "diffana select",
) -> EventGradient | None:
    """Select events of ``inputs`` with ``config``'s defines and selections and
    write ``columns`` to ``out`` (and their tangents to ``outgrad``).

    Parameters
    ----------
    config : Config
        Its ``parameters``, ``defines`` and ``selections`` are used (samples,
        observables and the rest are not).
    inputs : sequence of path
        Event files (ROOT trees ``tree`` or Parquet), read in this order.
    out, outgrad : path
        The values file and its gradient file (both ``.root`` or ``.parquet``).
    columns : sequence of str
        The columns to write (inputs' or defines').
    ingrad : sequence of path
        Gradient files of (some of) the inputs; an input without one has no
        tangents (its columns are constants).
    weight_column : str
        Where the soft filters' weight goes (written only if there are soft
        filters).
    sumw : sequence of str
        Weight expressions (e.g. ``genWeight``) whose sums over every input event
        (before the selections; for inputs selected earlier, the sums they
        record) the values file records: a later stage's ``xsec`` normalises to
        them, as to the original files.

    Returns
    -------
    EventGradient or None
        The description written into ``outgrad`` (None without it).
    """
    from ..rdf import DiffFrame, _import_root

    event_format(out, "--out")
    if not inputs:
        msg = "--in: no input files"
        raise ChainError(msg)
    params = config.param_values
    paired = pair(inputs, ingrad, params)
    if paired and len(paired) != len({os.fspath(v) for v in inputs}):
        lacking = [os.fspath(v) for v in inputs if os.fspath(v) not in paired]
        msg = (
            f"--ingrad: inputs {lacking} have no gradient file while others have: "
            "every input of one stage must carry tangents, or none"
        )
        raise ChainError(msg)
    descs = list(paired.values())
    if descs and any(d.dual != descs[0].dual or d.tree != descs[0].tree for d in descs):
        msg = "--ingrad: the gradient files hold different columns or trees"
        raise ChainError(msg)
    ROOT = _import_root()
    declare_corrections(config, source)
    target = pathlib.Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".diffana-select-", dir=target.parent) as d:
        folder = pathlib.Path(d)
        paths = [combined(v, paired.get(os.fspath(v)), tree, folder) for v in inputs]
        df = ROOT.RDataFrame(tree, ROOT.std.vector["std::string"](paths))
        sums = _sums_of_weights(df, inputs, sumw, source)
        with config_key(source, "parameters"):
            ddf = DiffFrame(df, params)
        if descs:
            ddf = ddf.with_tangents(descs[0].record.names, descs[0].dual, INPUT_PREFIX)
        ddf, written = _apply(ddf, config, list(columns), weight_column, source)
        snap = folder / "snapshot.root"
        with config_key(source, "--columns"):
            ddf.snapshot(tree, snap, written)
        recorded = {w: float(s if isinstance(s, float) else s.GetValue())
                    for w, s in sums.items()}  # fmt: skip
        return write_event_files(
            snap, tree, out, outgrad, config.model_dump(mode="json"), program, recorded
        )


def _sums_of_weights(
    df: Any, inputs: Sequence[str | os.PathLike[str]], sumw: Sequence[str], source: str
) -> dict[str, Any]:
    """Weight expression -> its sum over the inputs' events: the sums the inputs
    record (all of them must), or an RDataFrame Sum booked on ``df`` before any
    filter (filled by the snapshot's event loop)."""
    out: dict[str, Any] = {}
    markers = [values_marker(v) or {} for v in inputs]
    for j, w in enumerate(sumw):
        have = [m.get("sum_weights", {}).get(w) for m in markers]
        if all(h is not None for h in have):
            out[w] = float(sum(have))
        elif any(h is not None for h in have):
            lacking = [
                os.fspath(v) for v, h in zip(inputs, have, strict=True) if h is None
            ]
            msg = (
                f"--sumw {w}: inputs {lacking} do not record its sum while others do "
                "(they were not selected with --sumw)"
            )
            raise ChainError(msg)
        else:
            col = f"diffana_sumw_{j}"
            with config_key(source, f"--sumw {w}"):
                out[w] = df.Define(col, w).Sum(col)
    return out


def _apply(
    ddf: Any, config: Config, columns: list[str], weight_column: str, source: str
) -> tuple[Any, list[str]]:
    """``ddf`` with the configuration's defines and selections, and the columns to
    write (with the soft-filter weight's)."""
    ddf = select_all(define_all(ddf, config, source), config, source)
    if not columns:
        msg = "--columns: no columns to write"
        raise ChainError(msg)
    if ddf.weight_column is not None:
        if weight_column in columns:
            msg = (
                f"--columns: {weight_column!r} is where the soft filters' weight "
                "goes: choose another --weight-column"
            )
            raise ChainError(msg)
        with config_key(source, "selections (soft_filter weight)"):
            ddf = ddf.define(weight_column, ddf.weight_column)
        columns = [*columns, weight_column]
    return ddf, columns
