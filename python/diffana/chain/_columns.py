# SPDX-License-Identifier: BSD-3-Clause
"""Event columns on disk, chunk by chunk: ROOT trees (read and written with uproot,
written as TTrees) and Parquet files (pyarrow, read as awkward arrays), in bounded
memory whatever the file's size; files written under a temporary name and renamed
when whole. What the columns mean (values, tangents, provenance) is
`diffana.chain.events`'s business.

May import the standard library, numpy, awkward, uproot and pyarrow (the last
three lazily) and `diffana.chain.record` (its error).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .record import ChainError

__all__ = ["Rows", "Writer", "chunks", "column_names", "columns_of", "event_format",
           "read_all", "write_files"]  # fmt: skip

_SUFFIXES = {".root": "root", ".parquet": "parquet"}
#: Entries read or written at once (bounded memory whatever the file's size).
STEP = 100_000


def event_format(path: str | os.PathLike[str], option: str) -> str:
    """``"root"`` or ``"parquet"`` from ``path``'s suffix (ChainError naming
    ``option`` otherwise).

    Examples
    --------
    >>> event_format("out.parquet", "--out")
    'parquet'
    >>> try:
    ...     event_format("out.csv", "--out")
    ... except ChainError as e:
    ...     print(e)
    --out out.csv: an event file must end in .root or .parquet
    """
    kind = _SUFFIXES.get(pathlib.Path(path).suffix.lower())
    if kind is None:
        msg = f"{option} {os.fspath(path)}: an event file must end in .root or .parquet"
        raise ChainError(msg)
    return kind


# ---- reading and writing columns, chunk by chunk -----------------------------------


def chunks(
    path: str | os.PathLike[str], tree: str, columns: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """``columns`` of ``path`` (ROOT tree ``tree`` or Parquet), ``STEP`` entries at
    a time, as a dict of awkward/numpy arrays."""
    where = os.fspath(path)
    if event_format(path, "file") == "parquet":
        import awkward as ak
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(where)
            missing = [c for c in columns if c not in pf.schema_arrow.names]
            if missing:
                msg = f"{where}: no column(s) {missing}"
                raise ChainError(msg)
            for batch in pf.iter_batches(batch_size=STEP, columns=list(columns)):
                arr = ak.from_arrow(batch)
                yield {c: arr[c] for c in columns}
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            if isinstance(e, ChainError):
                raise
            msg = f"{where}: cannot read it as Parquet ({e})"
            raise ChainError(msg) from None
        return
    import uproot

    try:
        with uproot.open(where) as f:
            if tree not in f:
                msg = f"{where}: no tree {tree!r}"
                raise ChainError(msg)
            t = f[tree]
            missing = [c for c in columns if c not in t]
            if missing:
                msg = f"{where}: tree {tree!r} has no column(s) {missing}"
                raise ChainError(msg)
            yield from t.iterate(list(columns), step_size=STEP, how=dict)
    except (OSError, ValueError) as e:
        if isinstance(e, ChainError):
            raise
        msg = f"{where}: cannot read it as a ROOT file ({e})"
        raise ChainError(msg) from None


class Writer:
    """Write column chunks to a ROOT tree (uproot) or a Parquet file (pyarrow),
    into a temporary file that `close` renames over ``path``."""

    def __init__(
        self, path: pathlib.Path, tree: str, meta: str | None, key: str
    ) -> None:
        self.path, self.tree, self.meta, self.key = path, tree, meta, key
        self.kind = event_format(path, "file")
        self.tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
        self._file: Any = None
        self._tree: Any = None

    @property
    def empty(self) -> bool:
        """Whether nothing was written yet."""
        return self._file is None

    def write(self, chunk: Mapping[str, Any]) -> None:
        if self.kind == "root":
            import uproot

            if self._file is None:
                self._file = uproot.recreate(self.tmp)
                types = {
                    k: getattr(v, "type", None) or v.dtype for k, v in chunk.items()
                }
                self._tree = self._file.mktree(self.tree, types)
            self._tree.extend(dict(chunk))
            return
        import awkward as ak
        import pyarrow.parquet as pq

        table = ak.to_arrow_table(ak.zip(dict(chunk), depth_limit=1))
        if self._file is None:
            schema = table.schema
            if self.meta is not None:
                schema = schema.with_metadata({self.key: self.meta})
            self._file = pq.ParquetWriter(self.tmp, schema)
        self._file.write_table(table.cast(self._file.schema))

    def close(self) -> None:
        if self.kind == "root" and self.meta is not None:
            self._file[self.key] = self.meta
        self._file.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._file is not None:
            # The error that stopped the writing is the one to report.
            with contextlib.suppress(Exception):
                self._file.close()
        self.tmp.unlink(missing_ok=True)


def write_files(
    source: pathlib.Path,
    tree: str,
    targets: Sequence[tuple[pathlib.Path, list[str], Any]],
    key: str,
) -> int:
    """Copy columns of ``source`` into each target (path, columns, description or
    None; a callable description is called once the earlier targets are written),
    chunk by chunk; the number of entries."""
    entries = 0
    for path, columns, meta in targets:
        text = meta() if callable(meta) else meta
        writer = Writer(path, tree, text, key)
        try:
            entries = 0
            for chunk in chunks(source, tree, columns):
                writer.write(chunk)
                entries += len(next(iter(chunk.values())))
            if writer.empty:  # no events: an empty file of the same columns
                writer.write(_empty(source, tree, columns))
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return entries


def _empty(source: pathlib.Path, tree: str, columns: Sequence[str]) -> dict[str, Any]:
    import uproot

    with uproot.open(source) as f:
        return dict(f[tree].arrays(list(columns), entry_stop=0, how=dict))


def read_all(path: Any, tree: str, columns: Sequence[str] | None) -> Any:
    import awkward as ak

    where = os.fspath(path)
    if event_format(path, "file") == "parquet":
        return ak.from_parquet(where, columns=columns)
    import uproot

    with uproot.open(where) as f:
        if tree not in f:
            msg = f"{where}: no tree {tree!r}"
            raise ChainError(msg)
        return f[tree].arrays(columns)


class Rows:
    """The next ``n`` rows of a stream of column chunks, whatever its chunking (the
    values and the gradient file may be cut into chunks differently)."""

    def __init__(self, chunks: Iterator[dict[str, Any]]) -> None:
        self.chunks = chunks
        self._buf: dict[str, Any] | None = None

    def take(self, n: int) -> dict[str, Any]:
        import awkward as ak

        parts: list[dict[str, Any]] = []
        while n > 0:
            if self._buf is None or len(next(iter(self._buf.values()))) == 0:
                self._buf = next(self.chunks)
            have = len(next(iter(self._buf.values())))
            k = min(n, have)
            parts.append({c: a[:k] for c, a in self._buf.items()})
            self._buf = {c: a[k:] for c, a in self._buf.items()}
            n -= k
        if len(parts) == 1:
            return parts[0]
        return {c: ak.concatenate([p[c] for p in parts]) for c in parts[0]}


def column_names(path: str | os.PathLike[str], tree: str) -> list[str]:
    where = os.fspath(path)
    if event_format(path, "--in") == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(where).names)
    import uproot

    with uproot.open(where) as f:
        if tree not in f:
            msg = f"{where}: no tree {tree!r}"
            raise ChainError(msg)
        return columns_of(f[tree])


def columns_of(t: Any) -> list[str]:
    """A TTree's columns without the counters of its jagged ones (``n<x>`` written
    by uproot, ``R_rdf_sizeof_<x>`` by RDataFrame): those are rewritten with them."""
    jagged = {b.name for b in t.branches if b.count_branch is not None}
    counters = {
        b.count_branch.name
        for b in t.branches
        if b.count_branch is not None
        and (b.count_branch.name.startswith("R_rdf_sizeof_")
             or b.count_branch.name == f"n{b.name}")
    }  # fmt: skip
    return [k for k in t.keys(recursive=False) if k not in counters or k in jagged]
