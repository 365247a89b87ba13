# SPDX-License-Identifier: BSD-3-Clause
"""Input files checked before the first event loop: every basket of every branch the
analysis reads, read with uproot.

ROOT trusts its input: a corrupt basket (flipped bytes) can crash the process with a
segmentation violation in the middle of an event loop, and a truncated file ends in
a C++ exception. uproot is pure Python: the same damage raises an exception. So
`validate` reads, for each sample, every basket of the branches that the analysis's
expressions name (`diffana.rdf.expressions.free_names` of every expression,
intersected with the tree's branches, plus the counters of jagged ones) and turns a
failure into one `InputError` line naming the file, the tree, the branch and the
entry range of the bad basket.

A file is checked once per process for a given set of branches (cached by path,
size and modification time), so rebuilding an analysis (``--hard``, finite
differences) costs nothing more. What it cannot see: damage that leaves a basket
readable (bytes flipped in an uncompressed basket give wrong numbers, not an error).

May import numpy, uproot (inside functions), `diffana.rdf.expressions`,
`diffana.analysis.config` and `diffana.analysis._errors`.

Examples
--------
>>> from diffana.analysis.config import load_dict
>>> cfg = load_dict({
...     "samples": [{"name": "s", "files": "s.root", "role": "signal",
...                  "weight": "genWeight * puWeight"},
...                 {"name": "b", "files": "b.root", "role": "background"}],
...     "parameters": [{"name": "cut", "value": 1.0, "bounds": [0.0, 2.0]}],
...     "defines": {"ht": "ROOT::VecOps::Sum(Jet_pt[Jet_pt > cut])"},
...     "observables": [{"name": "sr", "expression": "ht", "bins": [0.0, 1.0]}],
...     "objective": {"type": "discovery_significance"}})
>>> sorted(used_names(cfg) & {"Jet_pt", "genWeight", "puWeight", "Jet_eta"})
['Jet_pt', 'genWeight', 'puWeight']
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..rdf.expressions import free_names
from ._errors import InputError
from .config import ColumnSystematic, Config, WeightSystematic

__all__ = ["InputCheck", "used_names", "validate"]


class InputCheck:
    """What `validate` found: ``entries`` (sample -> number of entries in its
    files), ``seconds`` (the time spent reading), ``branches`` (sample -> the
    branches that were read) and ``sum_weights`` (sample -> weight expression ->
    the sum over the events its files were selected from, where every file records
    it: ``diffana select --sumw``)."""

    def __init__(self) -> None:
        self.entries: dict[str, int] = {}
        self.branches: dict[str, list[str]] = {}
        self.sum_weights: dict[str, dict[str, float]] = {}
        self.seconds = 0.0

    def __repr__(self) -> str:
        return f"InputCheck(entries={self.entries!r}, seconds={self.seconds:.3f})"


def _expressions(config: Config) -> Iterator[str]:
    yield from config.defines.values()
    for sel in config.selections:
        yield sel.expression
    for obs in config.observables:
        yield obs.expression
        if obs.weight is not None:
            yield obs.weight
    for sample in config.samples:
        yield sample.weight
    for sy in config.systematics:
        if isinstance(sy, WeightSystematic):
            yield sy.up
            yield sy.down
        elif isinstance(sy, ColumnSystematic):
            yield from sy.up.values()
            yield from (sy.down or {}).values()


def used_names(config: Config) -> set[str]:
    """Every free identifier of the configuration's expressions: the branches it
    reads are those of them that the tree has."""
    out: set[str] = set()
    for expr in _expressions(config):
        out |= free_names(expr)
    return out


def _reason(e: BaseException) -> str:
    kind = type(e).__name__
    if type(e).__module__ not in ("builtins", "__main__"):
        kind = f"{type(e).__module__.split('.')[0]}.{kind}"  # zlib.error
    text = " ".join(str(e).split())
    return f"{kind}: {text}" if text else kind


def _bad_basket(branch: Any) -> str:
    """Where a branch that failed to read fails: ``entries a-b (basket i)``."""
    for i in range(branch.num_baskets):
        start, stop = branch.basket_entry_start_stop(i)
        try:
            branch.array(entry_start=start, entry_stop=stop, library="np")
        except Exception as e:  # noqa: BLE001 (uproot raises many kinds)
            return f"entries {start}-{stop - 1} (basket {i}): {_reason(e)}"
    return "no single basket fails alone"


#: Entries read at a time: the check's memory stays bounded whatever the file's size.
_CHUNK = 1_000_000


def _check_branch(branch: Any) -> str | None:
    """None when every basket of ``branch`` reads, else where and why it fails."""
    # awkward for jagged branches (numpy would build one object per entry); numpy
    # without awkward.
    library = "ak" if _have_awkward() else "np"
    n = int(branch.num_entries)
    for start in range(0, max(n, 1), _CHUNK):
        try:
            branch.array(
                entry_start=start, entry_stop=min(n, start + _CHUNK), library=library
            )
        except Exception:  # noqa: BLE001
            return _bad_basket(branch)
    return None


def _have_awkward() -> bool:
    try:
        import awkward  # noqa: F401
    except ImportError:  # pragma: no cover - uproot installs awkward
        return False
    return True


class _FileInfo:
    """What is known of one tree in one file: its entries, its branches (name ->
    the counter branch of a jagged one, else None) and the branches read whole."""

    def __init__(self, entries: int, branches: dict[str, str | None]) -> None:
        self.entries = entries
        self.branches = branches
        self.checked: set[str] = set()
        self.sum_weights: dict[str, float] = {}

    def needed(self, names: set[str]) -> set[str]:
        out = set()
        for name in names & self.branches.keys():
            out.add(name)
            counter = self.branches[name]
            if counter is not None:
                out.add(counter)
        return out


# (real path, size, mtime_ns, tree) -> what is known of it
_checked: dict[tuple[str, int, int, str], _FileInfo] = {}


def _open_tree(f: Any, path: str, tree: str) -> tuple[Any, _FileInfo]:
    import uproot

    if tree not in f:
        msg = f"{path}: no tree {tree!r}"
        raise InputError(msg)
    t = f[tree]
    if isinstance(t, uproot.TTree):
        branches = {}
        for name in t.keys():  # noqa: SIM118 (uproot: every branch, nested too)
            counter = t[name].count_branch
            branches[name] = None if counter is None else counter.name
    else:  # an RNTuple: its fields
        branches = dict.fromkeys(t.keys())
    return t, _FileInfo(int(t.num_entries), branches)


#: What `diffana.chain.events` writes into a values file whose dual columns have
#: their tangents in a separate gradient file.
TANGENTS_MARKER = "diffana_values"


def _read_marker(path: str, text: str, names: set[str]) -> dict[str, float]:
    """The sums of weights a selected file records (weight expression -> sum over
    the events it was selected from). InputError when the analysis reads columns
    of ``path`` whose tangents are in a gradient file it was not given: they would
    be constants, and every derivative through them silently 0."""
    try:
        data = json.loads(text)
        dual = [str(c) for c in data.get("dual", [])]
        sums = {str(k): float(v) for k, v in (data.get("sum_weights") or {}).items()}
    except (ValueError, AttributeError, TypeError):
        return {}
    used = [c for c in dual if c in names]
    if used:
        msg = (
            f"{path}: its columns {used} have tangents in a gradient file (written "
            "by diffana select --outgrad): pass it with diffana evaluate --ingrad; "
            "read alone they would be constants and their derivatives 0"
        )
        raise InputError(msg)
    return sums


def _check_file(path: str, tree: str, names: set[str]) -> _FileInfo:
    """What is known of ``tree`` in ``path`` once the branches of ``names`` are
    read; raises InputError."""
    import uproot

    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, tree)
    info = _checked.get(key)
    if info is not None and info.needed(names) <= info.checked:
        return info
    try:
        with uproot.open(path) as f:
            t, fresh = _open_tree(f, path, tree)
            if TANGENTS_MARKER in f:
                fresh.sum_weights = _read_marker(path, str(f[TANGENTS_MARKER]), names)
            info = info or fresh
            needed = info.needed(names)
            todo = sorted(needed - info.checked)
            if not isinstance(t, uproot.TTree):
                t.arrays(todo)  # an RNTuple: no baskets to locate
            else:
                for name in todo:
                    problem = _check_branch(t[name])
                    if problem is not None:
                        msg = (
                            f"{path}: tree {tree!r}, branch {name!r}, {problem}: "
                            "the file is corrupt or truncated (ROOT could crash "
                            "reading it)"
                        )
                        raise InputError(msg)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 (uproot raises many kinds)
        msg = (
            f"{path}: cannot read tree {tree!r} ({_reason(e)}): the file is "
            "corrupt or truncated"
        )
        raise InputError(msg) from None
    info.checked |= needed
    _checked[key] = info
    return info


def validate(
    config: Config,
    files: Mapping[str, Sequence[str]] | None = None,
    source: str = "config",
) -> InputCheck:
    """Read every basket of every branch the analysis uses, in every sample's files
    (``files``: sample -> paths, default the configuration's), before any event
    loop. Raises `InputError` ``"<source>: samples[i] (<name>): <file>: tree ...,
    branch ..., entries a-b (basket k): <reason>: ..."`` for the first failure.

    Without uproot nothing is read (the check needs a reader that cannot crash).
    """
    out = InputCheck()
    try:
        import uproot  # noqa: F401
    except ImportError:  # pragma: no cover - uproot is a dependency of the CLI
        return out
    t0 = time.perf_counter()
    names = used_names(config)
    for i, sample in enumerate(config.samples):
        paths = list(files[sample.name]) if files else config.sample_files(sample)
        entries = 0
        read: set[str] = set()
        sums: list[dict[str, float]] = []
        for path in paths:
            try:
                info = _check_file(path, sample.tree, names)
            except InputError as e:
                msg = f"{source}: samples[{i}] ({sample.name}): {e}"
                raise InputError(msg) from None
            except OSError as e:
                msg = f"{source}: samples[{i}] ({sample.name}): {path}: {e}"
                raise InputError(msg) from None
            entries += info.entries
            read.update(info.needed(names))
            sums.append(info.sum_weights)
        out.entries[sample.name] = entries
        out.branches[sample.name] = sorted(read)
        common = set.intersection(*(set(s) for s in sums)) if sums else set()
        out.sum_weights[sample.name] = {w: sum(s[w] for s in sums) for w in common}
    out.seconds = time.perf_counter() - t0
    return out
