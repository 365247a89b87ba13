# SPDX-License-Identifier: BSD-3-Clause
"""Event files with tangents: a values file and its gradient file, in ROOT or
Parquet (awkward), paired by the values file's sha256.

A program that writes events (``diffana select``) writes two files of the same
format (by suffix: ``.root`` or ``.parquet``):

- the values file: every column, a dual one (``x``) by its value, readable by any
  tool (RDataFrame, uproot, awkward, pandas);
- the gradient file: for every dual column ``x`` and parameter ``p`` the column
  ``x__d_<p>`` (dx/dp, same shape as ``x``: a number or a list per event), in the
  values file's entry order, plus `EventGradient`: the `diffana.chain.record.Record`
  (parameter names and values, the values file's path and sha256, the
  configuration, the program), the tree name, the dual columns and the number of
  entries. ROOT: a ``TObjString`` named ``diffana_gradient`` beside the tree;
  Parquet: the schema's key-value metadata ``diffana``.

A program that reads events with their gradient (``--in V --ingrad G``) calls
`pair`: each gradient file must name one of the values files by sha256 and carry
the reader's parameters at the same values (`ChainError` naming the file and what
differs). RDataFrame then reads one ROOT file per pair that holds both (`combined`):
a copy, so that no entry alignment between two trees is ever assumed.

May import the standard library, `diffana.chain.record` and
`diffana.chain._columns` (uproot, awkward and pyarrow, lazily), and
`diffana.rdf.snapshot` lazily.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from ._columns import (
    Rows,
    Writer,
    chunks,
    column_names,
    columns_of,
    event_format,
    read_all,
    write_files,
)
from .record import ChainError, Record, sha256_file

__all__ = [
    "EVENT_GRADIENT",
    "EventGradient",
    "Inputs",
    "combined",
    "event_format",
    "pair",
    "read_events",
    "read_gradient_info",
    "tangent_column",
    "values_marker",
    "write_event_files",
]

#: The ``format`` of an event gradient's description.
EVENT_GRADIENT = "diffana-event-gradient"
_FORMAT_VERSION = 1
#: The name of the description in a ROOT gradient file / Parquet metadata key.
_KEY = "diffana_gradient"
#: The name of the marker of a values file whose columns have tangents elsewhere.
_VALUES_KEY = "diffana_values"  # = diffana.analysis.inputs.TANGENTS_MARKER
#: The tangent columns' prefix in `combined` copies: a stage that writes a dual
#: column again writes its own ``x__d_<p>``, which must not collide.
INPUT_PREFIX = "diffana_in_"


def tangent_column(column: str, param: str) -> str:
    """The gradient file's column of d ``column`` / d ``param``.

    Examples
    --------
    >>> tangent_column("jet_pt", "jes")
    'jet_pt__d_jes'
    """
    return f"{column}__d_{param}"


@dataclasses.dataclass(frozen=True)
class EventGradient:
    """What a gradient event file says of itself: its record, the tree, the dual
    columns (in order) and the number of entries; ``path``: where it was read."""

    record: Record
    tree: str
    dual: tuple[str, ...]
    entries: int
    path: str = ""

    @property
    def columns(self) -> list[str]:
        """The tangent columns, dual column by dual column, parameter by parameter."""
        return [tangent_column(c, p) for c in self.dual for p in self.record.names]

    def to_json(self) -> dict[str, Any]:
        """The description as JSON types."""
        return {
            "format": EVENT_GRADIENT,
            "format_version": _FORMAT_VERSION,
            "record": self.record.to_json(),
            "tree": self.tree,
            "dual": list(self.dual),
            "entries": self.entries,
        }

    @classmethod
    def from_json(cls, text: str, where: str) -> EventGradient:
        """The description `to_json` wrote (ChainError naming ``where`` otherwise)."""
        try:
            data = json.loads(text)
        except ValueError:
            msg = f"{where}: its {_KEY} description is not JSON"
            raise ChainError(msg) from None
        if not isinstance(data, dict) or data.get("format") != EVENT_GRADIENT:
            msg = f"{where}: not a diffana event gradient file"
            raise ChainError(msg)
        if data.get("format_version") != _FORMAT_VERSION:
            msg = (
                f"{where}: format_version {data.get('format_version')!r}, this "
                f"diffana reads {_FORMAT_VERSION}"
            )
            raise ChainError(msg)
        record = Record.from_json(data.get("record"), where)
        try:
            return cls(
                record,
                str(data["tree"]),
                tuple(str(c) for c in data["dual"]),
                int(data["entries"]),
                where,
            )
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{where}: not a diffana event gradient file ({e})"
            raise ChainError(msg) from None


def write_event_files(
    snapshot: str | os.PathLike[str],
    tree: str,
    out: str | os.PathLike[str],
    outgrad: str | os.PathLike[str] | None,
    config: Mapping[str, Any] | None,
    program: str,
    sum_weights: Mapping[str, float] | None = None,
) -> EventGradient | None:
    """Split a `diffana.rdf.DiffFrame.snapshot` file (values and tangents in one
    tree) into the values file ``out`` and, if given, its gradient file
    ``outgrad`` (same format, by suffix), each written whole or not at all; the
    gradient's description (None without ``outgrad``). ``sum_weights`` (weight
    expression -> its sum over the events the file was selected from) goes into
    the values file's marker, for the normalisation of later stages."""
    from ..rdf.snapshot import info

    out, src = pathlib.Path(out), pathlib.Path(snapshot)
    kind = event_format(out, "--out")
    if outgrad is not None and event_format(outgrad, "--outgrad") != kind:
        msg = f"--out {out} and --outgrad {outgrad}: both must be .root or .parquet"
        raise ChainError(msg)
    meta = info(tree, src)
    params: dict[str, float] = dict(meta["params"])
    dual = tuple(meta["dual"])
    tangents = {tangent_column(c, p) for c in dual for p in params}
    import uproot

    with uproot.open(src) as f:
        names = [k for k in columns_of(f[tree]) if k not in tangents]
    marker = json.dumps(
        {
            "dual": list(dual),
            "param_names": list(params),
            "program": program,
            "sum_weights": dict(sum_weights or {}),
        },
        allow_nan=False,
    )
    entries = write_files(src, tree, [(out, names, marker)], _VALUES_KEY)
    if outgrad is None:
        return None
    grad = pathlib.Path(outgrad)
    description: dict[str, EventGradient] = {}

    def describe() -> str:
        record = Record.for_values("forward", params, out, config, program)
        description["g"] = EventGradient(record, tree, dual, entries, os.fspath(grad))
        return json.dumps(description["g"].to_json(), allow_nan=False)

    columns = [tangent_column(c, p) for c in dual for p in params]
    write_files(src, tree, [(grad, columns, describe)], _KEY)
    return description["g"]


def read_gradient_info(path: str | os.PathLike[str]) -> EventGradient:
    """The description of the gradient event file ``path`` (ChainError naming the
    file when it is not one)."""
    where = os.fspath(path)
    if not os.path.isfile(where):
        msg = f"{where}: no such file"
        raise ChainError(msg)
    if event_format(path, "--ingrad") == "parquet":
        import pyarrow.parquet as pq

        try:
            metadata = pq.read_schema(where).metadata or {}
        except (OSError, ValueError) as e:
            msg = f"{where}: cannot read it as Parquet ({e})"
            raise ChainError(msg) from None
        if _KEY.encode() not in metadata:
            msg = f"{where}: not a diffana event gradient file (no {_KEY} metadata)"
            raise ChainError(msg)
        return EventGradient.from_json(metadata[_KEY.encode()].decode(), where)
    import uproot

    try:
        with uproot.open(where) as f:
            if _KEY not in f:
                msg = f"{where}: not a diffana event gradient file (no {_KEY})"
                raise ChainError(msg)
            text = str(f[_KEY])
    except (OSError, ValueError) as e:
        if isinstance(e, ChainError):
            raise
        msg = f"{where}: cannot read it as a ROOT file ({e})"
        raise ChainError(msg) from None
    return EventGradient.from_json(text, where)


def values_marker(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What a values file written with a gradient file says of its dual columns
    (``{"dual": [...], "param_names": [...], "program": ...}``), None for other
    event files."""
    where = os.fspath(path)
    try:
        if event_format(path, "--in") == "parquet":
            import pyarrow.parquet as pq

            text = (pq.read_schema(where).metadata or {}).get(_VALUES_KEY.encode())
        else:
            import uproot

            with uproot.open(where) as f:
                text = str(f[_VALUES_KEY]) if _VALUES_KEY in f else None
    except (OSError, ValueError):
        return None  # not readable here: the event loop's checks name the problem
    if text is None:
        return None
    try:
        data: dict[str, Any] = json.loads(text)
    except ValueError:
        return None
    return data


def check_no_tangents(path: str | os.PathLike[str]) -> None:
    """ChainError when ``path`` is a values file whose columns have tangents in a
    gradient file that was not given: reading it alone would make them constants
    and every derivative through them silently 0."""
    marker = values_marker(path)
    if marker and marker.get("dual"):
        msg = (
            f"{os.fspath(path)} was written with tangents of {marker['dual']} "
            f"w.r.t. {marker.get('param_names')} in a gradient file: pass that file "
            "with --ingrad (derivatives through these columns would be 0 without it)"
        )
        raise ChainError(msg)


def pair(
    inputs: Sequence[str | os.PathLike[str]],
    gradients: Sequence[str | os.PathLike[str]],
    params: Mapping[str, float] | None = None,
) -> dict[str, EventGradient]:
    """Input file -> the gradient file that belongs to it (by sha256), for every
    gradient file. ChainError naming the file when one belongs to none of the
    inputs, two belong to the same input, or (``params`` given: the reader's
    parameters) a file's parameter is not among ``params`` or has another value
    (its tangents were computed at that value)."""
    by_hash: dict[str, str] = {}
    for v in inputs:
        by_hash.setdefault(sha256_file(v), os.fspath(v))
    paired: dict[str, EventGradient] = {}
    for g in gradients:
        desc = read_gradient_info(g)
        desc.record.check_direction("forward", os.fspath(g))
        values = by_hash.get(desc.record.values_sha256)
        if values is None:
            msg = (
                f"--ingrad {os.fspath(g)} belongs to the values file "
                f"{desc.record.values_path} (sha256 {desc.record.values_sha256[:12]}), "
                "which is not among the inputs: pass the values file it was written with"
            )
            raise ChainError(msg)
        if values in paired:
            msg = f"--ingrad {paired[values].path} and {os.fspath(g)} both belong to {values}"
            raise ChainError(msg)
        if params is not None:
            _check_params(desc, params)
        paired[values] = desc
    return paired


def _check_params(desc: EventGradient, params: Mapping[str, float]) -> None:
    missing = [p for p in desc.record.names if p not in params]
    if missing:
        msg = (
            f"{desc.path}: tangents w.r.t. parameter(s) {missing}, which this "
            f"configuration does not have (its parameters: {list(params)})"
        )
        raise ChainError(msg)
    for p, v in desc.record.params.items():
        if float(params[p]) != v:
            msg = (
                f"{desc.path}: its tangents were computed at {p} = {v!r}, this "
                f"configuration has {p} = {float(params[p])!r}: rerun the stage that "
                "wrote it with the same value"
            )
            raise ChainError(msg)


def read_events(
    values: str | os.PathLike[str],
    gradient: str | os.PathLike[str] | None = None,
    tree: str = "Events",
) -> tuple[Any, Any, EventGradient | None]:
    """An event file as awkward arrays: (values, tangents, description). With
    ``gradient``: the tangents (a record array of the ``x__d_<p>`` columns, None
    without) after the check that it belongs to ``values``; the tree is the
    gradient's (``tree`` only without one).

    Examples
    --------
    >>> from diffana.chain.events import read_events  # doctest: +SKIP
    >>> v, t, g = read_events("sel.parquet", "sel_grad.parquet")  # doctest: +SKIP
    >>> t["jet_pt__d_jes"]  # doctest: +SKIP
    """
    desc = None
    if gradient is not None:
        desc = read_gradient_info(gradient)
        desc.record.check_direction("forward", os.fspath(gradient))
        desc.record.check_values(values, os.fspath(gradient))
        tree = desc.tree
    vals = read_all(values, tree, None)
    tans = None if desc is None else read_all(gradient, tree, desc.columns)
    if tans is not None and len(tans) != len(vals):  # pragma: no cover (sha256)
        msg = f"{gradient}: {len(tans)} entries, the values file has {len(vals)}"
        raise ChainError(msg)
    return vals, tans, desc


def combined(
    values: str | os.PathLike[str],
    desc: EventGradient | None,
    tree: str,
    folder: pathlib.Path,
) -> str:
    """A ROOT file RDataFrame can read with the values (and, with ``desc``, the
    tangent columns) of ``values``: the file itself when it is ROOT without a
    gradient, else a copy in ``folder``."""
    if desc is None:
        check_no_tangents(values)
        if event_format(values, "--in") == "root":
            return os.fspath(values)
    # A gradient's record holds the (checked) hash: large inputs are not read again.
    digest = desc.record.values_sha256 if desc is not None else sha256_file(values)
    target = folder / f"{pathlib.Path(values).stem}.{digest[:16]}.root"
    if target.exists():
        return os.fspath(target)
    if desc is not None:
        tree = desc.tree
    value_cols = column_names(values, tree)
    # The copy keeps the sums of weights (its tangents are the prefixed columns).
    sums = (values_marker(values) or {}).get("sum_weights")
    keep = json.dumps({"sum_weights": sums}) if sums else None
    writer = Writer(target, tree, keep, _VALUES_KEY)
    try:
        tangents = None if desc is None else Rows(chunks(desc.path, tree, desc.columns))
        for chunk in chunks(values, tree, value_cols):
            if tangents is not None:
                more = tangents.take(len(next(iter(chunk.values()))))
                chunk = {**chunk, **{INPUT_PREFIX + k: v for k, v in more.items()}}
            writer.write(chunk)
        if writer.empty:
            msg = f"{os.fspath(values)}: no events"
            raise ChainError(msg)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return os.fspath(target)


class Inputs:
    """The inputs of a configuration's event loops when some files carry tangents:
    `paths` (sample -> ROOT files for RDataFrame: `combined` copies in a temporary
    folder that lives as long as this object) and `tangents` (sample -> (the
    tangents' parameter names, the dual columns), for
    `diffana.rdf.DiffFrame.with_tangents`).

    Every gradient file must belong to one input file and carry the
    configuration's parameters at its values (`pair`); a sample's files carry
    tangents all or none (ChainError naming the sample otherwise).
    """

    def __init__(
        self, config: Any, gradients: Sequence[str | os.PathLike[str]]
    ) -> None:
        samples = {s.name: config.sample_files(s) for s in config.samples}
        every = [f for files in samples.values() for f in files]
        paired = pair(every, gradients, config.param_values)
        first = pathlib.Path(os.fspath(gradients[0])).parent if gradients else None
        folder = pathlib.Path(tempfile.mkdtemp(prefix=".diffana-inputs-", dir=first))
        # Removed with this object (or at exit): the event loops read the copies.
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.paths: dict[str, list[str]] = {}
        self.tangents: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {}
        for s in config.samples:
            files = samples[s.name]
            descs = [paired.get(os.fspath(f)) for f in files]
            have = [d for d in descs if d is not None]
            if have and len(have) != len(descs):
                lacking = [
                    os.fspath(f) for f, d in zip(files, descs, strict=True) if d is None
                ]
                msg = (
                    f"sample {s.name}: inputs {lacking} have no gradient file while "
                    "its other inputs have: a sample's inputs carry tangents all or none"
                )
                raise ChainError(msg)
            if any(d.dual != have[0].dual or d.record.names != have[0].record.names
                   for d in have):  # fmt: skip
                msg = f"sample {s.name}: its gradient files hold different columns"
                raise ChainError(msg)
            self.paths[s.name] = [
                combined(f, d, s.tree, folder)
                for f, d in zip(files, descs, strict=True)
            ]
            if have:
                self.tangents[s.name] = (
                    have[0].record.names,
                    have[0].dual,
                    INPUT_PREFIX,
                )
