# SPDX-License-Identifier: BSD-3-Clause
"""Differentiable RDataFrame pipelines: `DiffFrame`.

A `DiffFrame` wraps a ``ROOT.RDataFrame`` (or any node of one) together with P named
analysis parameters. Expressions are C++, as in RDataFrame, and may name the
parameters; every column computed from a parameter (directly or through other
columns) is a ``diffana::Dual<double, P>`` (or an ``RVec`` of them), everything else
stays a plain number and costs nothing extra. Histograms booked with `DiffFrame.histo`
carry their Jacobian with respect to all P parameters::

    import ROOT, numpy as np
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame("Events", files)
    ddf = DiffFrame(df, params={"jes": 1.0, "pt_cut": 30.0, "btag_cut": 0.5})
    ddf = (ddf.define("jet_pt_c", "Jet_pt * jes")
              .define("w_jet", "diffana::soft_cut(jet_pt_c, pt_cut, 0.2)")
              .define("ht", "ROOT::VecOps::Sum(jet_pt_c * w_jet)")
              .define("w_evt", "diffana::soft_cut(ROOT::VecOps::Sum(w_jet), 3.5, 4.0)"))
    h = ddf.histo("ht", edges=np.linspace(100, 1000, 19), weight="w_evt")   # lazy
    r = h.result()          # one event loop fills every histogram booked so far
    r.values, r.variances, r.jacobian, r.param_names    # jacobian: bins x 3
    ddf.set_params(jes=1.02)  # the next result() runs a new loop, nothing is re-jitted

How it works
------------
- Each DiffFrame family (a frame and everything derived from it by `define`,
  `filter`, `soft_filter`) owns one ``diffana::rdf::Params<P>`` instance declared once
  in cling under a unique name (``diffana_params_<k>``), plus an accessor function
  ``diffana_param_dual_<k>(i)``. At construction every parameter becomes a column of
  the same name whose value is ``diffana_param_dual_<k>(i)``, the Dual that is the
  parameter's value with tangent direction i. RDataFrame's own type inference then
  makes any expression that names it Dual-valued: Dual arithmetic returns Duals,
  ``RVec<float> * Dual`` is an ``RVec<Dual>`` through RVec's templated operators, and
  ``diffana::soft_cut`` & co. accept RVecs element-wise (``diffana/rdf/vecops.hpp``).
  Before an expression is compiled, every parameter name in it is replaced by that
  call (whole identifiers, as RDataFrame substitutes column names), so cling inlines
  the parameter instead of RDataFrame reading a parameter column per event; the
  columns stay for direct use and are never computed unless used. Expressions reach
  the parameters only through free functions, never through member names, because
  RDataFrame substitutes column names textually (a column called ``dual`` would break
  ``p.dual(0)``).
- Parameter values live in C++ memory; `DiffFrame.set_params` changes them between
  event loops. RDataFrame results are computed once, so after a change the next
  `GradHistResult.result` books fresh actions (``diffana::rdf::frame_book_*`` from
  ``diffana/rdf/frame.hpp``: typed, one template instantiation per column-type
  combination, reused afterwards) on the same graph and runs one new loop for all of
  them. No expression is compiled again.
- JIT-compiled code runs at -O3: the first DiffFrame sets cling's optimisation level
  with ``.O 3`` (cling's default -O1 costs about 2x); this applies to everything the
  process jits later.
- `filter` is RDataFrame's hard ``Filter`` (a non-differentiable preselection);
  `soft_filter` multiplies the frame's event weight by a (soft, Dual) expression, and
  every histogram booked on that frame is weighted by it (times ``weight=`` if given).
- `GradHistResult.result` returns a `GradHistogram`: a `diffana.GradHistogram`
  (values, variances, jacobian ``[bins, P]``, variances_jacobian, edges, n_skipped,
  merging, ``to_hist``) with ``param_names``.
- Errors (unknown parameter or column, an expression that does not compile, with the
  compiler's messages and the expression, NaN/inf parameter values, bad edges)
  raise ValueError (or its subclass `CompileError`); a non-number parameter value or
  a histogram of a non-scalar column (an RVec) raises TypeError. Checks run before
  anything reaches the graph where possible; after a failed `define`/`filter` the
  frame and the graph stay usable (tested).
- Each family counts its event loops (`DiffFrame.n_loops`). Two families built on
  the same RDataFrame share its event loop (ROOT's rule); their results stay correct.

Gradients on disk
-----------------
`DiffFrame.snapshot` writes columns to a TTree (RDataFrame ``Snapshot``): a dual
column ``x`` (``Dual<double,P>`` or ``RVec<Dual<double,P>>``) becomes its value ``x``
(``double`` / ``RVec<double>``) plus one column per parameter, ``x__d_<param>``,
holding dx/d<param> (no ``std::array`` columns: ROOT writes unreadable files for
them); plain columns are written as they are. The same file gets a ``TNamed`` called
``diffana_snapshot_<tree>`` whose title is JSON: ``{"params": {name: value, ...},
"dual": [column, ...]}`` (parameter order = tangent order). `DiffFrame.from_snapshot`
reads such a tree with new parameters: every dual column listed there becomes a Dual
column again (``Redefine`` with ``diffana::rdf::dual_from_columns``) whose tangents
are the file's, mapped onto the new parameters by name; tangents for new parameters
the file does not know are 0, and a file parameter missing from the new frame is an
error. So a chain of separate programs passes forward-mode gradients along: the
final Jacobian w.r.t. the file's parameters is the chain rule through every stage.
The parameter values of an earlier stage are fixed in its file (stored for
reference); changing them in a later stage does not change the file's values.

Systematic variations, 2D, caching, progress
--------------------------------------------
- `DiffFrame.vary` registers named variations of a column (RDataFrame's ``Vary``:
  e.g. a JES shift of the calibrated jets, or of a weight column); every histogram
  booked downstream also fills one histogram per variation, with its own Jacobian,
  in the same event loop (``GradHistResult.variations()``).
- `DiffFrame.histo2d` books a 2D gradient histogram (`GradHistogram2D`).
- ``DiffFrame(df, params, cache=[columns])`` reads those input columns once into
  memory (RDataFrame's ``Cache``): optimisation loops then never touch the file.
- ``DiffFrame(df, params, progress=True)`` shows ROOT's progress bar during loops.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import os
import re
import sys
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import expressions
from .. import _checks
from ..hist import GradHistogram, GradHistogram2D

__all__ = [
    "CompileError",
    "DiffFrame",
    "GradHistResult",
]

_ids = itertools.count()
_root: Any = None
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ARITHMETIC = {
    "double", "float", "Double_t", "Float_t", "int", "Int_t", "unsigned int",
    "UInt_t", "long", "Long_t", "long long", "Long64_t", "unsigned long",
    "ULong_t", "unsigned long long", "ULong64_t", "short", "Short_t",
    "unsigned short", "UShort_t", "char", "Char_t", "unsigned char", "UChar_t",
    "bool", "Bool_t",
}  # fmt: skip
_ARITHMETIC |= {
    f"{ns}{u}int{b}_t"
    for ns in ("", "std::")
    for u in ("", "u")
    for b in (8, 16, 32, 64)
}


class CompileError(ValueError):
    """An expression that ROOT's interpreter could not compile (message included)."""


def _import_root() -> Any:
    global _root
    if _root is not None:
        return _root
    from .. import root as _droot

    ROOT = _droot._import_root()
    _droot.register()
    # Before anything of ours is jitted: cling's default -O1 is about 2x slower, and
    # -O3 vectorises the Dual tangent loops (callgrind: 23 % fewer instructions than
    # -O2 for the README pipeline at P = 8, 13 % fewer for the plain one).
    ROOT.gInterpreter.ProcessLine(".O 3")
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


def _compiled(what: str, expr: str, call: Any) -> Any:
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


class _Core:
    """What all frames derived from one DiffFrame share: the parameter block in C++
    and the booked histograms."""

    def __init__(self, ROOT: Any, params: Mapping[str, Any]) -> None:
        self.ROOT = ROOT
        self.names = tuple(params)
        self.values = [_checks.finite_scalar(params[n], f"parameter {n!r}") for n in self.names]
        self.n = len(self.names)
        self.id = next(_ids)
        while hasattr(ROOT, f"diffana_params_{self.id}"):
            self.id = next(_ids)
        self.cname = f"diffana_params_{self.id}"
        self.dual_fn = f"diffana_param_dual_{self.id}"
        names = ", ".join(f'"{n}"' for n in self.names)
        vals = ", ".join(repr(v) for v in self.values)
        code = (
            f"diffana::rdf::Params<{self.n}> {self.cname}({{{names}}}, {{{vals}}});\n"
            f"inline diffana::Dual<double, {self.n}> {self.dual_fn}(int i) "
            f"{{ return {self.cname}.dual(i); }}\n"
        )
        if not ROOT.gInterpreter.Declare(code):
            msg = f"could not declare the parameter block {self.cname}"
            raise RuntimeError(msg)
        self.cpp = getattr(ROOT, self.cname)
        self.param_calls = {
            n: f"{self.dual_fn}({k})" for k, n in enumerate(self.names)
        }
        self.generation = 0
        self.histos: weakref.WeakSet[GradHistResult] = weakref.WeakSet()
        self.n_loops = 0
        self.n_columns = 0
        self.cached: Any = None  # the in-memory RDataFrame of DiffFrame(cache=...)

    def set(self, values: Mapping[str, Any]) -> None:
        new = list(self.values)
        for name, v in values.items():
            if name not in self.names:
                msg = (
                    f"unknown parameter {name!r}; this DiffFrame's parameters are "
                    f"{list(self.names)}"
                )
                raise ValueError(msg)
            new[self.names.index(name)] = _checks.finite_scalar(v, f"parameter {name!r}")
        self.cpp.set_values(self.ROOT.std.vector["double"](new))
        self.values = new
        self.generation += 1

    def run(self) -> None:
        """Book what needs booking, run one event loop, harvest every booked result."""
        pending = [h for h in self.histos if h._gen != self.generation]
        for h in pending:
            if h._ptr is None:
                h._book()
        booked = [h for h in self.histos if h._ptr is not None]
        if not booked:
            return
        booked[0]._ptr.GetValue()  # one loop fills every action booked on the graph
        self.n_loops += 1
        for h in booked:
            h._harvest(self.generation)


class GradHistResult:
    """A lazily filled gradient histogram booked by `DiffFrame.histo` or
    `DiffFrame.histo2d`.

    `result` runs the event loop when needed (once for every histogram booked on the
    same DiffFrame family) and returns a `GradHistogram` (`GradHistogram2D`);
    `variations` returns the histograms of every systematic variation registered
    with `DiffFrame.vary` upstream, filled by the same loop.
    """

    def __init__(
        self,
        core: _Core,
        node: Any,
        columns: list[tuple[str, str]],
        edges: tuple[np.ndarray, ...],
        bandwidth: tuple[float | None, ...],
        overflow: str,
        varied: bool,
    ) -> None:
        self._core = core
        self._node = node
        self._columns = columns  # (name, C++ type): x[, y][, weight]
        self._weighted = len(columns) > len(edges)
        self.edges = edges[0] if len(edges) == 1 else edges
        self._edges = edges
        self.bandwidth = bandwidth[0] if len(bandwidth) == 1 else bandwidth
        self._bandwidth = bandwidth
        self.overflow = overflow
        self._varied = varied
        self._ptr: Any = None
        self._vmap: Any = None
        self._gen = -1
        self._value: dict[str, GradHistogram | GradHistogram2D] = {}
        self._book()

    def _book(self) -> None:
        ROOT, core = self._core.ROOT, self._core
        node = ROOT.RDF.AsRNode(self._node)
        vec = ROOT.std.vector["double"]
        edges = [vec(e.tolist()) for e in self._edges]
        bws = [0.0 if b is None else b for b in self._bandwidth]
        names = [c for c, _ in self._columns]
        types = [t for _, t in self._columns]
        code = int(_checks.Overflow.of(self.overflow))
        rdf = ROOT.diffana.rdf
        kind = "weighted" if self._weighted else "unweighted"
        key = (core.n, *types)  # template arguments: N, column types
        if len(self._edges) == 1:
            fn = getattr(rdf, f"frame_book_{kind}")[key]
            self._ptr = fn(node, *names, edges[0], bws[0], code)
        else:
            fn = getattr(rdf, f"frame_book_2d_{kind}")[key]
            self._ptr = fn(node, *names, *edges, *bws, code)
        if self._varied:
            self._vmap = rdf.frame_variations(self._ptr)

    def _convert(self, h: Any) -> GradHistogram | GradHistogram2D:
        p = self._core.n
        shape = tuple(e.size - 1 for e in self._edges)
        values = np.array(np.asarray(h.values())).reshape(shape)
        sumw2 = np.array(np.asarray(h.sumw2())).reshape(shape)
        jac = np.array(np.asarray(h.jacobian())).reshape(*shape, p)
        sumw2_jac = np.array(np.asarray(h.sumw2_jacobian())).reshape(*shape, p)
        arrays = (values, sumw2, jac, sumw2_jac)
        skipped, names = int(h.n_skipped()), self._core.names
        if len(shape) == 1:
            return GradHistogram(
                *arrays, self._edges[0], self._bandwidth[0], self.overflow, skipped,
                param_names=names,
            )  # fmt: skip
        xb, yb = self._bandwidth
        return GradHistogram2D(
            *arrays, *self._edges, (xb, yb), self.overflow, skipped, param_names=names
        )

    def _harvest(self, generation: int) -> None:
        if self._vmap is None:
            self._value = {"nominal": self._convert(self._ptr.GetValue())}
        else:
            keys = self._core.ROOT.diffana.rdf.frame_variation_keys(self._vmap)
            self._value = {}
            for key in keys:
                k = key.decode() if isinstance(key, bytes) else str(key)
                self._value[k] = self._convert(self._vmap[k])
        self._gen = generation
        self._ptr = None
        self._vmap = None

    def _current(self) -> dict[str, GradHistogram | GradHistogram2D]:
        if self._gen != self._core.generation or not self._value:
            self._core.run()
        return self._value

    def result(self) -> Any:
        """The histogram at the current parameter values (runs a loop if needed):
        a `GradHistogram` (1D) or `GradHistogram2D`."""
        return self._current()["nominal"]

    def variations(self) -> dict[str, Any]:
        """Every variation of this histogram, keyed ``"nominal"`` and
        ``"<name>:<tag>"`` for each `DiffFrame.vary` it depends on (only
        ``"nominal"`` without one); runs a loop if needed."""
        return dict(self._current())

    def __repr__(self) -> str:
        cols = [c for c, _ in self._columns]
        return (
            f"GradHistResult(columns={cols!r}, weighted={self._weighted}, "
            f"shape={tuple(e.size - 1 for e in self._edges)}, "
            f"bandwidth={self.bandwidth!r})"
        )


class DiffFrame:
    """An RDataFrame node with P named, differentiable parameters.

    Parameters
    ----------
    df : ROOT.RDataFrame or an RDataFrame node
        The input (any node: a Define/Filter of an RDataFrame works).
    params : mapping of str to float
        Parameter names (C++ identifiers, not existing columns) and initial values
        (finite); at least one. Each becomes a Dual column of that name.
    cache : str or sequence of str, optional
        Input columns to read once into memory now (RDataFrame's ``Cache``, one
        event loop); later loops run on the cached copy, which is what an
        optimisation loop wants. Only these columns exist downstream.
    progress : bool
        Show ROOT's progress bar (``RDF.Experimental.AddProgressBar``) in loops.

    Frames derived by `define`, `filter`, `soft_filter` and `vary` are new DiffFrame
    objects (the original is unchanged) that share the parameters and the event loop.
    """

    def __init__(
        self,
        df: Any,
        params: Mapping[str, Any],
        *,
        cache: str | Sequence[str] | None = None,
        progress: bool = False,
    ) -> None:
        ROOT = _import_root()
        if not isinstance(params, Mapping) or len(params) == 0:
            msg = f"params must be a non-empty mapping name -> value, got {params!r}"
            raise ValueError(msg)
        node = ROOT.RDF.AsRNode(df)
        for name in params:
            if not isinstance(name, str) or not _IDENT.match(name):
                msg = f"parameter name {name!r} is not a C++ identifier"
                raise ValueError(msg)
            if node.HasColumn(name):
                msg = f"parameter name {name!r} is already a column of the input"
                raise ValueError(msg)
        core = _Core(ROOT, params)
        if cache is not None:
            cols = [cache] if isinstance(cache, str) else list(cache)
            if not cols:
                msg = "cache: no columns given (None for no cache)"
                raise ValueError(msg)
            for c in cols:
                if not isinstance(c, str) or not node.HasColumn(c):
                    msg = f"cache: unknown column {c!r}"
                    raise ValueError(msg)
            # Cache runs one event loop now and returns a new, in-memory RDataFrame.
            core.cached = node.Cache(ROOT.std.vector["std::string"](cols))
            core.n_loops += 1
            node = ROOT.RDF.AsRNode(core.cached)
        if progress:
            ROOT.RDF.Experimental.AddProgressBar(node)
        for i, name in enumerate(core.names):
            node = node.Define(name, f"{core.dual_fn}({i})")
        self._core = core
        self._node = node
        self._weight: str | None = None
        self._varied = False

    # ---- internals --------------------------------------------------------------

    def _derive(
        self, node: Any, weight: str | None, varied: bool | None = None
    ) -> DiffFrame:
        new = object.__new__(DiffFrame)
        new._core = self._core
        new._node = node
        new._weight = weight
        new._varied = self._varied if varied is None else varied
        return new

    def _inline_params(self, expression: str) -> str:
        """The expression with every parameter name replaced by the call that
        returns its Dual (``diffana_param_dual_<k>(i)``), so that cling inlines the
        parameters into the expression instead of RDataFrame reading a parameter
        column per event (at P = 8 that read cost about as much as the tangent
        arithmetic). Like RDataFrame's own column substitution this works on
        free identifiers (`diffana.rdf.expressions`); the parameter
        columns stay defined for direct use (``histo("jes", ...)``)."""
        return expressions.rename(expression, self._core.param_calls)

    def _check_new_column(self, name: str) -> None:
        if not isinstance(name, str) or not _IDENT.match(name):
            msg = f"column name {name!r} is not a C++ identifier"
            raise ValueError(msg)
        if self._node.HasColumn(name):
            what = "a parameter" if name in self._core.names else "already a column"
            msg = f"cannot define {name!r}: it is {what}"
            raise ValueError(msg)

    def _check_column(self, name: str, what: str) -> str:
        if not isinstance(name, str) or not self._node.HasColumn(name):
            msg = f"{what}: unknown column {name!r}"
            raise ValueError(msg)
        return str(self._node.GetColumnType(name))

    def _hidden(self, kind: str) -> str:
        self._core.n_columns += 1
        return f"diffana_{kind}_{self._core.id}_{self._core.n_columns}"

    def _scalar_type(self, name: str, ctype: str, what: str) -> str:
        dual = f"diffana::Dual<double,{self._core.n}>"
        if ctype.replace(" ", "") == dual:
            return f"diffana::Dual<double, {self._core.n}>"
        if ctype in _ARITHMETIC:
            return ctype
        msg = (
            f"{what}: column {name!r} has type {ctype}; a histogram needs a number or "
            f"a {dual} per event (reduce RVec columns first, e.g. ROOT::VecOps::Sum)"
        )
        raise TypeError(msg)

    def _dual_kind(self, ctype: str) -> str | None:
        """ "scalar" / "vector" for Dual<double,P> / RVec<Dual<double,P>>, else None."""
        t = ctype.replace(" ", "")
        dual = f"diffana::Dual<double,{self._core.n}>"
        if t == dual:
            return "scalar"
        for vec in ("ROOT::VecOps::RVec<", "ROOT::RVec<"):
            if t == f"{vec}{dual}>":
                return "vector"
        return None

    # ---- the public API -----------------------------------------------------------

    @property
    def param_names(self) -> tuple[str, ...]:
        """The parameter names, in Jacobian column order."""
        return self._core.names

    @property
    def params(self) -> dict[str, float]:
        """The current parameter values."""
        return dict(zip(self._core.names, self._core.values, strict=True))

    @property
    def node(self) -> Any:
        """The underlying RDataFrame node (``ROOT.RDF.RNode``)."""
        return self._node

    @property
    def weight_column(self) -> str | None:
        """The event-weight column made by `soft_filter` (None without one)."""
        return self._weight

    @property
    def n_loops(self) -> int:
        """Event loops run so far for this DiffFrame family."""
        return self._core.n_loops

    def column_type(self, name: str) -> str:
        """The C++ type of a column (``diffana::Dual<double,P>`` if it is dual)."""
        return self._check_column(name, "column_type")

    def define(self, name: str, expression: str) -> DiffFrame:
        """A new frame with column ``name`` = the C++ ``expression``.

        Raises ValueError for a bad or existing name, CompileError (a ValueError)
        with the compiler's messages when the expression does not compile.
        """
        self._check_new_column(name)
        if not isinstance(expression, str) or not expression.strip():
            msg = f"define({name!r}): expression must be a non-empty string"
            raise ValueError(msg)
        code = self._inline_params(expression)
        node = _compiled(
            f"define({name!r})", expression, lambda: self._node.Define(name, code)
        )
        return self._derive(node, self._weight)

    def filter(self, expression: str, name: str = "") -> DiffFrame:
        """A new frame keeping the events where the C++ ``expression`` is true (a
        hard, non-differentiable selection)."""
        if not isinstance(expression, str) or not expression.strip():
            msg = "filter: expression must be a non-empty string"
            raise ValueError(msg)
        code = self._inline_params(expression)
        node = _compiled("filter", expression, lambda: self._node.Filter(code, name))
        return self._derive(node, self._weight)

    def soft_filter(self, expression: str) -> DiffFrame:
        """A new frame whose event weight is multiplied by the C++ ``expression``
        (e.g. ``diffana::soft_cut(ht, ht_cut, 0.1)``): a differentiable selection.
        Histograms booked on the new frame are weighted by the product of all
        soft filters (times their own ``weight=``)."""
        if not isinstance(expression, str) or not expression.strip():
            msg = "soft_filter: expression must be a non-empty string"
            raise ValueError(msg)
        col = self._hidden("w")
        code = self._inline_params(expression)
        full = code if self._weight is None else f"{self._weight} * ({code})"
        node = _compiled(
            "soft_filter", expression, lambda: self._node.Define(col, full)
        )
        return self._derive(node, col)

    def vary(
        self, column: str, variations: Mapping[str, str], name: str | None = None
    ) -> DiffFrame:
        """A new frame on which column ``column`` also takes varied values: a
        systematic variation (RDataFrame's ``Vary``).

        ``variations`` maps tags to C++ expressions of the varied value (of the
        same kind as the column; they may use the column itself and parameters),
        e.g. ``{"up": "jet_pt_c * 1.03", "down": "jet_pt_c * 0.97"}``; ``name``
        (default: the column) names the variation. Every histogram booked
        downstream fills, in the same event loop, one histogram per tag with
        everything that depends on the column recomputed: `GradHistResult.variations`
        gives them as ``{"nominal": ..., "<name>:<tag>": ...}``, each with its own
        Jacobian. A weight variation is a `vary` of the weight column. As in
        RDataFrame, the variation reaches the columns defined after the `vary`
        call (define the column, vary it, then define what depends on it).
        """
        ctype = self._check_column(column, "vary")
        vname = column if name is None else name
        if not isinstance(vname, str) or not _IDENT.match(vname):
            msg = f"vary: variation name {vname!r} is not a C++ identifier"
            raise ValueError(msg)
        if not isinstance(variations, Mapping) or not variations:
            msg = (
                "vary: variations must be a non-empty mapping tag -> expression, "
                f"got {variations!r}"
            )
            raise ValueError(msg)
        for tag, expr in variations.items():
            if not isinstance(tag, str) or not re.match(r"^[A-Za-z0-9_]+$", tag):
                msg = f"vary: tag {tag!r} must be a non-empty word (letters, digits, _)"
                raise ValueError(msg)
            if not isinstance(expr, str) or not expr.strip():
                msg = f"vary: the expression for {tag!r} must be a non-empty string"
                raise ValueError(msg)
        items = [
            f"diffana::rdf::vary_as<{ctype}>({self._inline_params(e)})"
            for e in variations.values()
        ]
        # A Vary expression that fails to compile leaves ROOT 6.40's graph corrupt
        # (free(): invalid pointer at exit): compile each one as an unused Define first.
        for tag, item in zip(variations, items, strict=True):
            hidden = self._hidden("vary")
            _compiled(
                f"vary({column!r}) {tag!r}",
                variations[tag],
                lambda i=item, h=hidden: self._node.Define(h, i),
            )
        full = f"ROOT::RVec<{ctype}>{{{', '.join(items)}}}"
        tags = self._core.ROOT.std.vector["std::string"](list(variations))
        node = _compiled(
            f"vary({column!r})",
            str(dict(variations)),
            lambda: self._node.Vary(column, full, tags, vname),
        )
        return self._derive(self._core.ROOT.RDF.AsRNode(node), self._weight, True)

    def _weight_for(self, weight: str | None, what: str) -> tuple[Any, str | None]:
        """The node and weight column of a histogram: ``weight`` times the
        soft-filter weight (a hidden column) when both exist."""
        if weight is not None:
            self._scalar_type(weight, self._check_column(weight, what), what)
        if self._weight is None:
            return self._node, weight
        if weight is None:
            return self._node, self._weight
        w = self._hidden("hw")
        expr = f"{self._weight} * {weight}"
        node = _compiled(what, expr, lambda: self._node.Define(w, expr))
        return node, w

    def _book(
        self,
        xs: list[str],
        edges: list[np.ndarray],
        weight: str | None,
        bandwidth: tuple[float | None, ...],
        overflow: str,
        what: str,
    ) -> GradHistResult:
        _checks.Overflow.of(overflow)
        columns = [
            (x, self._scalar_type(x, self._check_column(x, what), what)) for x in xs
        ]
        node, w = self._weight_for(weight, what)
        if w is not None:
            columns.append((w, self._scalar_type(w, str(node.GetColumnType(w)), what)))
        h = GradHistResult(
            self._core, node, columns, tuple(edges), bandwidth, overflow, self._varied
        )
        self._core.histos.add(h)
        return h

    def histo(
        self,
        x: str,
        edges: ArrayLike,
        weight: str | None = None,
        bandwidth: float | None = None,
        overflow: str = "drop",
    ) -> GradHistResult:
        """Book a 1D gradient histogram of column ``x`` (lazy).

        ``edges``: strictly increasing, finite bin edges; ``weight``: a weight
        column (multiplied by the soft-filter weight, if any); ``bandwidth``: None
        for hard binning, > 0 for Gaussian soft binning (`diffana.histogram`);
        ``overflow``: "drop" or "fold". Columns may be plain numbers or Duals.
        """
        e = _checks.edges(edges)
        bw = _checks.bandwidth(bandwidth)
        return self._book([x], [e], weight, (bw,), overflow, "histo")

    def histo2d(
        self,
        x: str,
        y: str,
        xedges: ArrayLike,
        yedges: ArrayLike,
        weight: str | None = None,
        bandwidth: float | tuple[float | None, float | None] | None = None,
        overflow: str = "drop",
    ) -> GradHistResult:
        """Book a 2D gradient histogram of columns ``x`` and ``y`` (lazy); its
        result is a `GradHistogram2D` (``values[ix, iy]``, ``jacobian[ix, iy, k]``).

        ``bandwidth``: None (hard), one number for both axes, or a pair
        ``(x, y)`` with None for hard binning along that axis. Otherwise as
        `histo`.
        """
        ex = _checks.edges(xedges, "xedges")
        ey = _checks.edges(yedges, "yedges")
        if isinstance(bandwidth, tuple):
            if len(bandwidth) != 2:
                msg = f"bandwidth must be a number or a pair (x, y), got {bandwidth!r}"
                raise ValueError(msg)
            bws = (
                _checks.bandwidth(bandwidth[0], "bandwidth[0]"),
                _checks.bandwidth(bandwidth[1], "bandwidth[1]"),
            )
        else:
            bw = _checks.bandwidth(bandwidth)
            bws = (bw, bw)
        return self._book([x, y], [ex, ey], weight, bws, overflow, "histo2d")

    def set_params(self, values: Mapping[str, Any] | None = None, **kw: Any) -> None:
        """Change parameter values (all checked first: unknown names and NaN/inf
        values raise, nothing changes). The next `GradHistResult.result` runs a new
        event loop; nothing is compiled again."""
        new = dict(values or {})
        new.update(kw)
        self._core.set(new)

    def snapshot(self, tree: str, file: str | os.PathLike[str], columns: Any) -> None:
        """Write ``columns`` to TTree ``tree`` in ROOT file ``file`` (recreated); runs
        an event loop now.

        A dual column ``x`` is written as its value ``x`` (double, or RVec<double>
        for an RVec of Duals) plus ``x__d_<param>`` for every parameter; plain
        columns are written as they are. A TNamed ``diffana_snapshot_<tree>`` in the
        same file records the parameters (names and current values, JSON) and the
        dual columns; `DiffFrame.from_snapshot` reads it. The frame's soft-filter
        weight is not written unless listed (it is a column like any other).

        Raises ValueError for an unknown column, a name that is not a C++
        identifier, an output column that collides with an existing one, or an
        empty list; TypeError for a dual column of another kind (e.g. a nested
        RVec of Duals).
        """
        ROOT, core = self._core.ROOT, self._core
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
            ctype = self._check_column(c, "snapshot")
            if not _IDENT.match(c):
                msg = f"snapshot: column name {c!r} is not a C++ identifier"
                raise ValueError(msg)
            kind = self._dual_kind(ctype)
            if kind is None and "diffana::Dual" in ctype:
                msg = (
                    f"snapshot: column {c!r} has type {ctype}; only Dual<double,P> "
                    "and RVec<Dual<double,P>> columns can be written"
                )
                raise TypeError(msg)
            kinds[c] = kind
        node = self._node
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
        node.Snapshot(tree, path, ROOT.std.vector["std::string"](out), opts)
        core.n_loops += 1
        meta = json.dumps({"params": self.params, "dual": duals})
        f = ROOT.TFile.Open(path, "UPDATE")
        if not f or f.IsZombie():
            msg = f"snapshot: could not reopen {path!r} to store the parameters"
            raise OSError(msg)
        try:
            ROOT.TNamed(f"diffana_snapshot_{tree}", meta).Write()
        finally:
            f.Close()

    @classmethod
    def from_snapshot(
        cls, tree: str, file: str | os.PathLike[str], params: Mapping[str, Any]
    ) -> DiffFrame:
        """A DiffFrame on a tree written by `snapshot`, with parameters ``params``.

        Every dual column of the file becomes a Dual column again: value from
        ``x``, tangents from ``x__d_<name>`` mapped onto ``params`` by name
        (0 for parameters the file does not know). ``params`` must contain every
        parameter of the file (ValueError naming the missing ones otherwise); its
        values for those parameters are only labels here (the file's numbers were
        computed at the values stored in it, see `snapshot_info`).
        """
        ROOT = _import_root()
        meta = cls.snapshot_info(tree, file)
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
        ddf = cls(ROOT.RDataFrame(tree, os.fspath(file)), params)
        core = ddf._core
        node = ddf._node
        for c in meta["dual"]:
            ctype = str(node.GetColumnType(c))
            vector = "RVec" in ctype
            args = []
            for p in core.names:
                name = f"{c}__d_{p}"
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
                "from_snapshot", expr, lambda n=node, c=c, e=expr: n.Redefine(c, e)
            )
        ddf._node = node
        return ddf

    @staticmethod
    def snapshot_info(tree: str, file: str | os.PathLike[str]) -> dict[str, Any]:
        """What `snapshot` stored about tree ``tree`` in ``file``:
        ``{"params": {name: value}, "dual": [columns]}``. ValueError if absent."""
        ROOT = _import_root()
        path = os.fspath(file)
        f = ROOT.TFile.Open(path, "READ")
        if not f or f.IsZombie():
            msg = f"cannot open {path!r}"
            raise ValueError(msg)
        try:
            obj = f.Get(f"diffana_snapshot_{tree}")
            if not obj:
                msg = (
                    f"{path!r} has no diffana_snapshot_{tree} record: tree {tree!r} "
                    "was not written by DiffFrame.snapshot"
                )
                raise ValueError(msg)
            meta: dict[str, Any] = json.loads(str(obj.GetTitle()))
        finally:
            f.Close()
        return meta

    def run(self) -> None:
        """Run the event loop now for every booked histogram that is not current."""
        self._core.run()

    def __repr__(self) -> str:
        return f"DiffFrame(params={self.params!r}, weight={self._weight!r})"
