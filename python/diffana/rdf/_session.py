# SPDX-License-Identifier: BSD-3-Clause
"""ROOT's interpreter as the DiffFrame layer uses it, and the parameter block.

Here live the one-time set-up of cling (`_import_root`: diffana's headers, ``.O 3``),
compiling an expression with cling's messages turned into `CompileError`
(`_compiled`), running ROOT code that may fail with its failures turned into
`EventLoopError` (`_guarded`), and `_Core`: what a DiffFrame family shares, i.e. the
parameter block declared in C++ and the event loop that fills every booked result.
Booked results talk to `_Core` through the small `LoopResult` protocol only.

Parameter blocks are pooled: when a family is gone its block (``diffana_params_<k>``)
goes back to a pool keyed by the parameter names, and the next family with the same
names takes it. The expressions of a rebuilt graph are then the same text, and
RDataFrame, which keeps one compiled function per distinct expression text, compiles
nothing again (cling cannot unload code, so a fresh block per family grew the process
by the compiled code of every graph).

May import: the standard library, ``diffana._checks`` and ``diffana.root``; ROOT only
inside `_import_root`. Nothing else of ``diffana.rdf`` (the other modules build on
this one).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from .. import _checks

__all__ = ["CompileError", "EventLoopError", "LoopResult"]

_ids = itertools.count()
_root: Any = None
# Parameter names -> ids of declared parameter blocks that no family uses now.
_free_blocks: dict[tuple[str, ...], list[int]] = {}


class CompileError(ValueError):
    """An expression that ROOT's interpreter could not compile (message included)."""


class EventLoopError(RuntimeError):
    """An event loop that failed inside ROOT: a C++ exception (``throw`` in an
    expression, a column ROOT could not read) or a crash (segmentation violation,
    abort) turned into an exception. The message is the C++ one, on one line.

    After a crash the family's state in C++ is not trusted any more: every later
    event loop of it raises this error again (build a new DiffFrame).
    """


def cling_optimization_level() -> int:
    """The optimisation level of the code DiffFrame jit-compiles: 3, or
    ``$DIFFANA_CLING_OPT`` (0 to 3). Lower levels compile about twice as fast and run
    slower, with the same results (no fast-math at any level): the test suite, which
    compiles far more than it runs, uses 0."""
    text = os.environ.get("DIFFANA_CLING_OPT", "3")
    if text.strip() not in ("0", "1", "2", "3"):
        msg = f"DIFFANA_CLING_OPT must be 0, 1, 2 or 3, got {text!r}"
        raise ValueError(msg)
    return int(text)


def _import_root() -> Any:
    """PyROOT with diffana's headers declared and cling at -O3 (once per process)."""
    global _root
    if _root is not None:
        return _root
    from .. import root as _droot

    level = cling_optimization_level()
    ROOT = _droot._import_root()
    _droot.register()
    # Before anything of ours is jitted: cling's default -O1 is about 2x slower, and
    # -O3 vectorises the Dual tangent loops (callgrind: 23 % fewer instructions than
    # -O2 for the README pipeline at P = 8, 13 % fewer for the plain one).
    ROOT.gInterpreter.ProcessLine(f".O {level}")
    if not ROOT.gInterpreter.Declare('#include "diffana/rdf/frame.hpp"'):
        msg = "ROOT's interpreter could not compile diffana/rdf/frame.hpp"
        raise RuntimeError(msg)
    _root = ROOT
    return ROOT


@contextmanager
def _capture_stderr() -> Iterator[list[str]]:
    """Collect what C++ writes to file descriptor 2 (cling's diagnostics)."""
    out: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def _compiled(what: str, expr: str, call: Callable[[], Any]) -> Any:
    """Run call() (a Define/Filter); raise CompileError with cling's messages."""
    with _capture_stderr() as err:
        try:
            node = call()
            exc: Exception | None = None
        except Exception as e:  # noqa: BLE001 (cppyy: std::runtime_error & co.)
            node, exc = None, e
    text = err[0] if err else ""
    if exc is not None:
        lines = list(
            dict.fromkeys(
                re.sub(r"^input_line_\d+:", "", ln)
                for ln in text.splitlines()
                if "error" in ln.lower()
            )
        ) or [str(exc).strip()]
        msg = f"{what}: the expression {expr!r} does not compile:\n" + "\n".join(
            lines[:20]
        )
        raise CompileError(msg) from None
    if text.strip():  # warnings of a successful compilation: show them as usual
        sys.stderr.write(text)
    return node


def _cpp_reason(exc: BaseException) -> str:
    """The C++ part of a cppyy exception, on one line: cppyy writes ``<C++
    signature> =>\n    <type>: <what>``; keep ``<type>: <what>``."""
    text = str(exc).strip()
    if "=>" in text:
        text = text.split("=>", 1)[1]
    text = " ".join(text.split())
    return text or type(exc).__name__


def _guarded(what: str, call: Callable[[], Any]) -> Any:
    """Run ``call`` (C++ through cppyy that runs an event loop); a C++ exception or
    a crash inside it (SIGSEGV, SIGBUS, SIGILL, SIGABRT) raises `EventLoopError`
    ``"<what> failed: <reason>"`` instead of killing the process.

    cppyy's ``signals_as_exception`` turns the signal into a Python exception on the
    thread that called C++ (ROOT's own handler then prints one ``*** Break ***``
    line; its stack trace is switched off for the call). Under ROOT's implicit
    multithreading a crash in a worker thread cannot be caught this way.

    In a process that called `release_gil_during_loops` (a Dask worker) the loop
    runs without Python's GIL instead, so that the process's other threads (the
    worker's link to its scheduler) go on; a crash then ends the process (the
    cluster reruns or reports the task), because cppyy cannot return to Python
    from a signal without the GIL. C++ exceptions are caught either way.
    """
    import cppyy.ll

    if hasattr(call, "__release_gil__"):  # a cppyy overload
        call.__release_gil__ = _loops_without_gil

    ROOT = _import_root()
    env = ROOT.gEnv
    trace = str(env.GetValue("Root.Stacktrace", "yes"))
    env.SetValue("Root.Stacktrace", "no")
    try:
        if _loops_without_gil:
            return call()
        with cppyy.ll.signals_as_exception():
            return call()
    except Exception as e:  # any C++ exception; cppyy.ll.FatalError for a signal
        if isinstance(e, EventLoopError):
            raise
        msg = f"{what} failed: {_cpp_reason(e)}"
        raise EventLoopError(msg) from None
    finally:
        env.SetValue("Root.Stacktrace", trace)


_loops_without_gil = False


def release_gil_during_loops() -> None:
    """Run this process's event loops without Python's GIL (see `_guarded`): for a
    Dask worker, whose link to the scheduler is a Python thread that must answer
    while a long partition runs."""
    global _loops_without_gil
    if not _loops_without_gil:
        # Without the GIL, two worker threads can now run loops at the same time.
        _import_root().EnableThreadSafety()
    _loops_without_gil = True


def _release_block(names: tuple[str, ...], block_id: int) -> None:
    _free_blocks.setdefault(names, []).append(block_id)


class LoopResult(Protocol):
    """What `_Core.run` needs of a booked result (`GradHistResult` is one).

    RDataFrame results are computed once, so a result is booked again on the graph
    after every parameter change; one event loop then fills all of them.
    """

    def pending(self, generation: int) -> Any:
        """The booked RDataFrame result (an ``RResultPtr``) this result still waits
        for at parameter ``generation``, booking it now if needed; None when the
        result is already current."""
        ...

    def harvest(self, generation: int) -> None:
        """Read the filled result after the loop; it is now current at
        ``generation``."""
        ...


class _Core:
    """What all frames derived from one DiffFrame share: the parameter block in C++
    and the booked results.

    Attributes other modules read: ``ROOT``, ``names`` and ``values`` (the
    parameters, in tangent order), ``n`` (P), ``id``, ``dual_fn`` (the C++ function
    returning parameter i's Dual), ``param_calls`` (name -> that call),
    ``generation`` (incremented by every `set`), ``n_loops``, ``cached``, ``root``
    (the node under the parameter columns) and ``reverse`` (the reverse-mode
    parameters of `diffana.rdf.adjoint`, or None).
    """

    def __init__(self, ROOT: Any, params: Mapping[str, Any]) -> None:
        self.ROOT = ROOT
        self.names = tuple(params)
        self.values = [
            _checks.finite_scalar(params[n], f"parameter {n!r}") for n in self.names
        ]
        self.n = len(self.names)
        free = _free_blocks.get(self.names)
        reused = bool(free)
        if free:
            self.id = free.pop()
        else:
            self.id = next(_ids)
            while hasattr(ROOT, f"diffana_params_{self.id}"):
                self.id = next(_ids)
        self.cname = f"diffana_params_{self.id}"
        self.dual_fn = f"diffana_param_dual_{self.id}"
        if reused:
            self.cpp = getattr(ROOT, self.cname)
            self.cpp.set_values(ROOT.std.vector["double"](self.values))
        else:
            names = ", ".join(f'"{n}"' for n in self.names)
            vals = ", ".join(repr(v) for v in self.values)
            code = (
                f"diffana::rdf::Params<{self.n}> {self.cname}({{{names}}}, "
                f"{{{vals}}});\n"
                f"inline diffana::Dual<double, {self.n}> {self.dual_fn}(int i) "
                f"{{ return {self.cname}.dual(i); }}\n"
            )
            if not ROOT.gInterpreter.Declare(code):
                msg = f"could not declare the parameter block {self.cname}"
                raise RuntimeError(msg)
            self.cpp = getattr(ROOT, self.cname)
        # The block goes back to the pool when this family is gone (no frame,
        # result or snapshot reader holds the core any more).
        weakref.finalize(self, _release_block, self.names, self.id)
        self.param_calls = {n: f"{self.dual_fn}({k})" for k, n in enumerate(self.names)}
        self.generation = 0
        self.n_loops = 0
        self.cached: Any = None  # the in-memory RDataFrame of DiffFrame(cache=...)
        # The node under the parameter columns (the adjoint pass rebuilds the graph
        # on it) and the reverse-mode parameters (`diffana.rdf.adjoint`), if any.
        self.root: Any = None
        self.reverse: Any = None
        # Weak: a result nobody holds any more is neither booked nor filled again.
        self._results: weakref.WeakSet[LoopResult] = weakref.WeakSet()
        self._n_columns = 0
        self.failed: str | None = None  # why an event loop failed (then no more)

    def add(self, result: LoopResult) -> None:
        """Fill ``result`` in this family's event loops from now on."""
        self._results.add(result)

    def hidden_column(self, kind: str) -> str:
        """A new column name of diffana's own (``diffana_<kind>_<id>_<k>``)."""
        self._n_columns += 1
        return f"diffana_{kind}_{self.id}_{self._n_columns}"

    def set(self, values: Mapping[str, Any]) -> None:
        """Change parameter values; all are checked before anything changes."""
        new = list(self.values)
        for name, v in values.items():
            if name not in self.names:
                msg = (
                    f"unknown parameter {name!r}; this DiffFrame's parameters are "
                    f"{list(self.names)}"
                )
                raise ValueError(msg)
            new[self.names.index(name)] = _checks.finite_scalar(
                v, f"parameter {name!r}"
            )
        self.cpp.set_values(self.ROOT.std.vector["double"](new))
        self.values = new
        self.generation += 1

    def run(self) -> None:
        """Book what needs booking, run one event loop, harvest every booked result."""
        gen = self.generation
        waiting = [
            (r, ptr) for r in list(self._results) if (ptr := r.pending(gen)) is not None
        ]
        if not waiting:
            return
        self.loop("the event loop", waiting[0][1].GetValue)
        for r, _ in waiting:
            r.harvest(gen)

    def loop(self, what: str, call: Callable[[], Any]) -> Any:
        """Run one event loop (``call``, e.g. ``GetValue`` of a booked result) and
        count it; a failure raises `EventLoopError`, and so does every later loop
        of this family (the C++ state after a crash is not trusted)."""
        if self.failed is not None:
            msg = (
                f"{what}: an earlier event loop of this DiffFrame failed "
                f"({self.failed}); build a new DiffFrame"
            )
            raise EventLoopError(msg)
        try:
            out = _guarded(what, call)
        except EventLoopError as e:
            self.failed = str(e)
            raise
        self.n_loops += 1
        return out
