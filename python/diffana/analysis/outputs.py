# SPDX-License-Identifier: BSD-3-Clause
"""Where a run writes, so that nothing is lost and nothing is half-written: the
output folder (`RunFolder`: checked before the first event loop, locked against a
second run, the previous run's files moved aside or refused), atomic writes
(`write_atomic`: a temporary name in the same folder, then a rename), the marker of
a complete run (`MARKER`) and the optimizer's checkpoint (`CHECKPOINT`).

A folder's states and what a new run does there:

- empty, or holding no file a run writes: it is used;
- a complete run (the marker) or outputs without a checkpoint: refused, unless
  ``force`` (the old files are moved into ``previous/``, replacing an older one);
- an interrupted run (a checkpoint, no marker): refused unless ``resume``
  (continue it) or ``force`` (move it aside and start again).

The marker is written last and lists the files of the run; it is removed before
a run writes anything, so a folder without it never claims to be complete.

`network_weights` gives the trained weights files of a configuration's networks
(``weights_<name>.json``, `diffana.nn.weights`) for the folder to write.

May import the standard library, `diffana.analysis._errors` and `diffana.nn.weights`
(inside `network_weights`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import pathlib
import shutil
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

from ._errors import ConfigError

__all__ = [
    "CHECKPOINT",
    "MARKER",
    "OutputError",
    "RunFolder",
    "check_file_target",
    "network_weights",
    "write_atomic",
]

log = logging.getLogger(__name__)

#: Written last: the run in this folder is complete (lists its files).
MARKER = "run_complete.json"
#: The optimizer's state after its last completed step (removed when complete).
CHECKPOINT = "checkpoint.json"
#: Held (``flock``) by the run writing into the folder; released when it exits.
LOCK = ".diffana.lock"
#: Where ``force`` moves the previous run's files.
PREVIOUS = "previous"
#: What a run writes besides plots (``*.png``/``*.pdf``).
_RUN_FILES = ("report.json", "workspace_initial.json", "workspace_final.json")


class OutputError(ConfigError):
    """An output location that cannot be used (a file where a folder belongs, no
    write permission, a folder held by another run, a previous run in the way);
    the message names the path and what to do."""


def _first_existing(path: pathlib.Path) -> pathlib.Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_creatable(path: pathlib.Path, what: str) -> None:
    """The nearest existing ancestor of ``path`` is a writable folder."""
    base = _first_existing(path.parent)
    if not base.is_dir():
        msg = f"{what} {path}: {base} is a file, not a folder"
        raise OutputError(msg)
    if not os.access(base, os.W_OK | os.X_OK):
        msg = f"{what} {path}: no permission to write in {base}"
        raise OutputError(msg)


def check_file_target(path: str | os.PathLike[str], what: str = "--json") -> None:
    """Raise `OutputError` unless ``path`` can be written as a file: not a folder,
    and writable (or creatable, its folder included).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_file_target(pathlib.Path(d) / "sub" / "r.json")
    ...     try:
    ...         check_file_target(d)
    ...     except OutputError as e:
    ...         print(str(e).split(": ", 1)[1])
    a folder, not a file
    """
    p = pathlib.Path(path)
    if p.is_dir():
        msg = f"{what} {p}: a folder, not a file"
        raise OutputError(msg)
    if p.exists():
        if not os.access(p, os.W_OK):
            msg = f"{what} {p}: no permission to write it"
            raise OutputError(msg)
        return
    _check_creatable(p, what)


def write_atomic(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], Any] | str | bytes,
) -> pathlib.Path:
    """Write ``path`` whole or not at all: ``write`` (text, bytes, or a function
    given the open binary file) goes to a temporary file in the same folder, which
    is flushed to disk and renamed over ``path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_atomic(pathlib.Path(d) / "a.txt", "hello")
    ...     p.read_text(), sorted(x.name for x in pathlib.Path(d).iterdir())
    ('hello', ['a.txt'])
    """
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            if isinstance(write, str):
                f.write(write.encode())
            elif isinstance(write, bytes):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


class RunFolder:
    """The output folder of one run (a context manager holding its lock).

    ``force``: move a previous run's files into ``previous/``; ``resume``: continue
    the interrupted run whose checkpoint is there. Every check that can fail is made
    on entry, before the first event loop.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with RunFolder(pathlib.Path(d) / "run") as out:
    ...         _ = out.write_text("report.json", "{}")
    ...         out.complete(["report.json"])
    ...     try:
    ...         RunFolder(pathlib.Path(d) / "run").__enter__()
    ...     except OutputError as e:
    ...         print(str(e).split(": ", 1)[1][:33])
    holds a complete run's outputs; -
    """

    def __init__(
        self, path: str | os.PathLike[str], force: bool = False, resume: bool = False
    ) -> None:
        self.path = pathlib.Path(path)
        self.force = force
        self.resume = resume
        self._lock: int | None = None

    # -- checks and lock -----------------------------------------------------
    def __enter__(self) -> RunFolder:  # noqa: PYI034 (typing.Self needs 3.11)
        if self.path.exists() and not self.path.is_dir():
            msg = f"--out {self.path}: a file, not a folder"
            raise OutputError(msg)
        if not self.path.exists():
            _check_creatable(self.path, "--out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            msg = f"--out {self.path}: cannot create the folder ({e.strerror})"
            raise OutputError(msg) from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            msg = f"--out {self.path}: no permission to write in it"
            raise OutputError(msg)
        self._acquire()
        try:
            self._settle_previous()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _acquire(self) -> None:
        import fcntl

        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                msg = (
                    f"--out {self.path}: another diffana run (pid {holder}) is "
                    "writing there; wait for it or choose another --out"
                )
                raise OutputError(msg) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    def _outputs(self) -> list[pathlib.Path]:
        names = {*_RUN_FILES, MARKER, CHECKPOINT}
        return sorted(
            p
            for p in self.path.iterdir()
            if p.is_file()
            and (
                p.name in names
                or p.suffix in (".png", ".pdf")
                or (p.name.startswith("weights_") and p.suffix == ".json")
            )
        )

    def _settle_previous(self) -> None:
        old = self._outputs()
        complete = (self.path / MARKER).exists()
        checkpoint = (self.path / CHECKPOINT).exists()
        if self.resume:
            if complete:
                msg = (
                    f"--out {self.path}: the run there is complete; nothing to "
                    "resume (--force to run it again)"
                )
                raise OutputError(msg)
            if not checkpoint:
                msg = f"--out {self.path}: no checkpoint ({CHECKPOINT}) to resume"
                raise OutputError(msg)
            return
        if old and not self.force:
            what = (
                "an interrupted run (a checkpoint): --resume continues it, --force "
                "moves it"
                if checkpoint and not complete
                else "a complete run's outputs; --force moves them"
                if complete
                else "a previous run's outputs; --force moves them"
            )
            msg = (
                f"--out {self.path}: holds {what} into {self.path / PREVIOUS}/, "
                "or choose another --out"
            )
            raise OutputError(msg)
        if old:
            previous = self.path / PREVIOUS
            if previous.exists():
                shutil.rmtree(previous)
            previous.mkdir()
            # The marker first: a crash while moving never leaves it behind.
            for p in sorted(old, key=lambda p: p.name != MARKER):
                os.replace(p, previous / p.name)
            log.info("moved the previous run's %d files into %s", len(old), previous)

    # -- writing --------------------------------------------------------------
    def file(self, name: str) -> pathlib.Path:
        return self.path / name

    def write_text(self, name: str, text: str) -> pathlib.Path:
        """Write ``name`` in the folder atomically."""
        return write_atomic(self.path / name, text)

    def write_json(self, name: str, data: Any) -> pathlib.Path:
        return self.write_text(name, json.dumps(data, indent=1))

    def save_figure(self, fig: Any, name: str) -> pathlib.Path:
        """``fig.savefig`` to ``name``, atomically (the format from its suffix)."""
        fmt = pathlib.Path(name).suffix.lstrip(".")
        return write_atomic(self.path / name, lambda f: fig.savefig(f, format=fmt))

    def begin(self) -> None:
        """Remove the marker before anything is written (a resumed run's folder)."""
        with contextlib.suppress(FileNotFoundError):
            (self.path / MARKER).unlink()

    def complete(self, files: list[str]) -> None:
        """Write the marker (listing ``files``) and drop the checkpoint."""
        self.write_json(
            MARKER,
            {"complete": True, "files": files, "finished": time.time()},
        )
        with contextlib.suppress(FileNotFoundError):
            (self.path / CHECKPOINT).unlink()

    # -- checkpoint ------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        self.write_json(CHECKPOINT, state)

    def load_checkpoint(self) -> dict[str, Any]:
        p = self.path / CHECKPOINT
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError) as e:
            msg = f"--resume: cannot read {p} ({e})"
            raise OutputError(msg) from None
        if not isinstance(data, dict) or data.get("format") != 1:
            msg = f"--resume: {p} is not a diffana checkpoint (format 1)"
            raise OutputError(msg)
        return data


def network_weights(config: Any, params: Mapping[str, float]) -> dict[str, str]:
    """File name -> text of the weights file of each network of ``config``
    (``weights_<name>.json``) at ``params`` (e.g. the optimization's final point);
    ``networks.<name>.weights: weights_<name>.json`` reads one back. Empty without
    networks."""
    from ..nn.weights import dumps

    out: dict[str, str] = {}
    for name in getattr(config, "networks", {}):
        net = config.network(name)
        out[f"weights_{name}.json"] = dumps(net, [params[n] for n in net.param_names()])
    return out
