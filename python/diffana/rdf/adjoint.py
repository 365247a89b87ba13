# SPDX-License-Identifier: BSD-3-Clause
"""Reverse-mode parameters of a DiffFrame and the adjoint (second) event loop.

Forward mode (a ``Dual<double, P>`` per column) costs O(P) per event; for many
parameters (network weights, polynomial coefficients) a DiffFrame takes them as
*reverse-mode* parameters instead (``DiffFrame(df, params, reverse={...})``) and
`adjoint_gradient` gets dL/dtheta for all of them with one more event loop, whatever
their number. Forward for the few, reverse for the many, joined by an inner product:

1. Pass 1 is the ordinary event loop: the histograms' values and variances (and
   Jacobians for the forward parameters). Reverse parameters are plain numbers in
   it (``theta[k]`` reads a double), so they cost nothing there.
2. The statistics (any objective, e.g. in JAX) give per bin
   ``g_b = dL/d values_b`` and ``g'_b = dL/d variances_b``.
3. Pass 2 (`adjoint_gradient`) builds the same graph again on the family's root node
   with other C++ behind the same names: forward parameters become plain constants
   (``diffana_param_value_<k>(i)``) and reverse parameters taped scalars
   (``diffana::Rev<double>`` of ``diffana/ad/reverse.hpp``: a scalar is a new leaf
   of the thread's tape per use, ``make_param``; a vector records its leaves at
   once where an expression reads it, ``RevParamSpan``), so
   cling's type inference makes every column that depends on them a Rev. Every
   `DiffFrame` keeps the steps that made it (define, filter, soft filter, vary, with
   their expressions before renaming) and every booked histogram the steps of its
   node; pass 2 replays them (shared prefixes give shared nodes). For each histogram
   (and each of its variations) an ``AdjointSeedAction`` adds to the event's tape the
   adjoints of ``S = sum_b (g_b c_b + g'_b c_b^2)`` w.r.t. the event's x, y and
   weight (c_b: weight x bin kernel, hard or soft, exactly the fill of pass 1);
   no sweep there. Last, an ``AdjointSweepAction`` booked on the unfiltered root
   node after every seed action (and after ``VariationsFor``, which books the
   varied ones) sweeps the tape once into the slot's gradient and clears it, for
   every entry: RDataFrame runs an entry's actions in booking order
   (``RLoopManager::RunAndCheckFilters`` loops over the booked actions), so the
   seeds of all histograms and variations are in when the sweep runs, and an event a
   filter rejected after recording nodes is cleared without contributing (its nodes
   have no seed). Tapes are thread_local (one per slot under
   ``ROOT.EnableImplicitMT``), gradients kept per slot and summed in slot order.
   The pass-2 graph stays on the RDataFrame and is reused by later adjoint loops
   (nothing is compiled again); its filters are unnamed, so that no pass-1 loop
   evaluates them (RDataFrame runs named filters in every loop).
4. The forward parameters' gradient is the inner product of (g, g') with pass 1's
   Jacobians (``jacobian``, ``variances_jacobian``); the reverse parameters' is pass
   2's sum.

Cost: pass 2 evaluates the graph once with taped scalars plus one sweep per event;
memory O(P) per slot plus one event's tape (cleared per entry, never O(events)).
Measured (``benchmarks/bench_adjoint.py``, 1e5 events, a weight and a position from
a Chebyshev polynomial of P coefficients, process CPU time): pass 2 takes 2.1x, 4.9x
and 6.9x the value-only loop for P = 10, 100, 1000, forward mode 2x, 11x and 155x;
the peak RSS does not grow with P. What sets pass 2's factor is the tape's cost per
recorded operation (about 11 ns in cling-compiled code, two per coefficient here:
a product and a sum) and per edge in the sweep (about 2.5 ns) against one
multiply-add per coefficient in the value loop. cling's machine code keeps few
values in registers (the same C++ compiled by g++ -O3 records about 5x faster), so
the tape's recording functions are small, forced inline and nearly branch-free.

The taped scalar supports what the Dual does (arithmetic, comparisons on values, the
math library, diffana's soft cuts and physics helpers), but Rev and Dual do not mix:
an expression must not combine a reverse parameter with a column that is a Dual in
pass 2 (none is: forward parameters are constants there). Parameters are read in C++
as plain values in pass 1 and as tape leaves in pass 2: a scalar parameter gets a new
leaf per use, a vector parameter one leaf per element each time an expression makes
its view (reads of ``theta[k]`` in one expression share it); either way the adjoints
of several leaves of one parameter add up.

May import: numpy, ``diffana._checks`` and ``diffana.rdf`` below ``frame``
(``expressions``, ``_session``, ``results``); ``frame`` imports this module.

Examples
--------
>>> import numpy as np
>>> from diffana.rdf import DiffFrame, adjoint_gradient, _import_root
>>> ROOT = _import_root()
>>> df = ROOT.RDataFrame(50).Define("x", "0.02 * rdfentry_")
>>> ddf = DiffFrame(df, {"s": 1.0}, reverse={"theta": [0.5, 0.1]})
>>> ddf = ddf.define("w", "theta[0] + theta[1] * x * s")
>>> h = ddf.histo("x", np.linspace(0, 1, 5), weight="w")
>>> g = np.ones(4)                      # L = sum of the bin contents
>>> grad = adjoint_gradient({h: (g, np.zeros(4))})
>>> np.round(grad["theta"], 6).tolist(), round(grad["s"], 6)
([50.0, 24.5], 2.45)
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _checks
from . import expressions
from ._session import _compiled, _Core
from .results import GradHistResult

__all__ = ["AdjointPass", "adjoint_gradient", "adjoint_pass"]

# One step of a frame's recipe: ("define", name, expr), ("filter", expr, name) or
# ("vary", column, ((tag, expr), ...), variation name).
Step = tuple[Any, ...]

_REV = "diffana::Rev<double>"
_declared_header = False
# (parameter block id, reverse names and shapes) -> the C++ name of its block.
_rev_blocks: dict[tuple[int, tuple[tuple[str, tuple[int, ...]], ...]], str] = {}


def _declare_header(ROOT: Any) -> None:
    """``#include "diffana/rdf/adjoint.hpp"`` once (from the source tree's include/
    when the installed copy of the headers predates it)."""
    global _declared_header
    if _declared_header:
        return
    from .. import _find, get_include

    where = _find("include", "diffana/rdf/adjoint.hpp")
    if where != get_include():
        ROOT.gInterpreter.AddIncludePath(where)
    if not ROOT.gInterpreter.Declare('#include "diffana/rdf/adjoint.hpp"'):
        msg = "ROOT's interpreter could not compile diffana/rdf/adjoint.hpp"
        raise RuntimeError(msg)
    _declared_header = True


class ReverseBlock:
    """The reverse-mode parameters of one DiffFrame family: names, shapes (``()`` for
    a scalar, ``(n,)`` for a vector used as ``name[k]``), their flat values in a C++
    ``diffana::rdf::RevParams`` and the calls that stand for each name in pass 1
    (plain values) and pass 2 (tape leaves)."""

    def __init__(self, ROOT: Any, core: _Core, reverse: Mapping[str, Any]) -> None:
        _declare_header(ROOT)
        if not isinstance(reverse, Mapping) or not reverse:
            msg = (
                f"reverse must be a non-empty mapping name -> value(s), got {reverse!r}"
            )
            raise ValueError(msg)
        self.names = tuple(reverse)
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.offsets: dict[str, int] = {}
        flat: list[float] = []
        for name in self.names:
            _checks.identifier(name, "reverse parameter name")
            if name in core.names:
                msg = f"reverse parameter {name!r} is also a forward parameter"
                raise ValueError(msg)
            arr = self._array(name, reverse[name])
            self.shapes[name] = arr.shape
            self.offsets[name] = len(flat)
            flat.extend(arr.ravel().tolist())
        self.size = len(flat)
        self.values = np.asarray(flat, dtype=np.float64)
        self.ROOT = ROOT
        # Pooled like the parameter blocks (`diffana.rdf._session`): a family that
        # took over the parameter block of one that is gone also takes its reverse
        # block when the names and shapes are the same, so that a rebuilt graph is
        # the same C++ text and compiles nothing again.
        layout = (core.id, tuple((n, self.shapes[n]) for n in self.names))
        reused = _rev_blocks.get(layout)
        if reused is not None:
            self.cname = reused
            self.cpp = getattr(ROOT, reused)
            self.apply(self.values)
        else:
            self.cname = f"diffana_rev_params_{core.id}"
            n = 0
            while hasattr(ROOT, self.cname):  # cling cannot declare a name again
                n += 1
                self.cname = f"diffana_rev_params_{core.id}_{n}"
            self._declare(flat)
            _rev_blocks[layout] = self.cname
        c = self.cname
        self.value_calls: dict[str, str] = {}
        self.param_calls: dict[str, str] = {}
        for name in self.names:
            o, shape = self.offsets[name], self.shapes[name]
            if shape == ():
                self.value_calls[name] = f"{c}_value({o})"
                self.param_calls[name] = f"{c}_param({o})"
            else:
                self.value_calls[name] = f"{c}_values({o}, {shape[0]})"
                self.param_calls[name] = f"{c}_params({o}, {shape[0]})"

    def _declare(self, flat: list[float]) -> None:
        c = self.cname
        vals = ", ".join(repr(v) for v in flat)
        code = (
            f"diffana::rdf::RevParams {c}(std::vector<double>{{{vals}}});\n"
            f"inline double {c}_value(std::int64_t i) {{ return {c}.value(i); }}\n"
            f"inline diffana::rdf::RevParamSpan<false> {c}_values(std::int64_t o, "
            f"std::int64_t n) {{ return {c}.values(o, n); }}\n"
            f"inline {_REV} {c}_param(std::int64_t i) {{ return {c}.param(i); }}\n"
            f"inline diffana::rdf::RevParamSpan<true> {c}_params(std::int64_t o, "
            f"std::int64_t n) {{ return {c}.params(o, n); }}\n"
        )
        if not self.ROOT.gInterpreter.Declare(code):
            msg = f"could not declare the reverse parameter block {c}"
            raise RuntimeError(msg)
        self.cpp = getattr(self.ROOT, c)

    @staticmethod
    def _array(name: str, value: Any) -> np.ndarray:
        what = f"reverse parameter {name!r}"
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            msg = f"{what} must be a number or a 1-D array of numbers, got {value!r}"
            raise TypeError(msg) from None
        if arr.ndim > 1 or (arr.ndim == 1 and arr.size == 0):
            msg = f"{what} must be a number or a non-empty 1-D array, got shape {arr.shape}"
            raise ValueError(msg)
        if not np.all(np.isfinite(arr)):
            msg = f"{what} must be finite, got {value!r}"
            raise ValueError(msg)
        return arr

    def current(self) -> dict[str, float | np.ndarray]:
        """name -> current value (a float or a copy of the array)."""
        out: dict[str, float | np.ndarray] = {}
        for name in self.names:
            o, shape = self.offsets[name], self.shapes[name]
            if shape == ():
                out[name] = float(self.values[o])
            else:
                out[name] = self.values[o : o + shape[0]].copy()
        return out

    def checked(self, values: Mapping[str, Any]) -> np.ndarray:
        """The flat values after the changes in ``values`` (names of this block);
        checked, nothing changed yet."""
        new: np.ndarray = np.array(self.values, dtype=np.float64)
        for name, v in values.items():
            arr = self._array(name, v)
            if arr.shape != self.shapes[name]:
                msg = (
                    f"reverse parameter {name!r} has shape {self.shapes[name]}, "
                    f"got {arr.shape}"
                )
                raise ValueError(msg)
            o = self.offsets[name]
            new[o : o + max(arr.size, 1)] = arr.ravel()
        return new

    def apply(self, flat: np.ndarray) -> None:
        self.cpp.set_values(self.ROOT.std.vector["double"](flat.tolist()))
        self.values = flat


def declare_reverse(ROOT: Any, core: _Core, reverse: Mapping[str, Any]) -> ReverseBlock:
    """The `ReverseBlock` of ``core``'s family; its pass-1 calls join
    ``core.param_calls`` (so that `DiffFrame` renames them like the parameters)."""
    block = ReverseBlock(ROOT, core, reverse)
    core.param_calls = {**core.param_calls, **block.value_calls}
    core.reverse = block
    return block


# ---- recipes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Booked:
    """What pass 2 needs of a booked histogram: its node's steps, its columns
    (x[, y][, weight]) and its binning."""

    steps: tuple[Step, ...]
    columns: tuple[str, ...]


_recipes: weakref.WeakKeyDictionary[GradHistResult, _Booked] = (
    weakref.WeakKeyDictionary()
)


def register(result: GradHistResult, steps: tuple[Step, ...]) -> None:
    """Remember how ``result``'s node was built (called by `DiffFrame` when booking)."""
    cols = tuple(c for c, _ in result._columns)
    _recipes[result] = _Booked(steps, cols)


class _Pass2Graph:
    """The pass-2 twin of one family's graph: the root node with the forward
    parameters as plain-value columns, and every replayed chain of steps."""

    def __init__(self, core: _Core) -> None:
        ROOT = core.ROOT
        _declare_header(ROOT)
        k = core.id
        self.value_fn = f"diffana_param_value_{k}"
        if not hasattr(ROOT, self.value_fn):
            code = (
                f"inline double {self.value_fn}(int i) "
                f"{{ return {core.cname}.value(i); }}\n"
            )
            if not ROOT.gInterpreter.Declare(code):
                msg = f"could not declare {self.value_fn}"
                raise RuntimeError(msg)
        calls = {n: f"{self.value_fn}({i})" for i, n in enumerate(core.names)}
        if core.reverse is not None:
            calls.update(core.reverse.param_calls)
        self.calls = calls
        self._dot_value = re.compile(
            rf"({re.escape(self.value_fn)}\(\d+\))\s*\.\s*value\s*\(\s*\)"
        )
        node = ROOT.RDF.AsRNode(core.root)
        for i, name in enumerate(core.names):
            node = node.Define(name, f"{self.value_fn}({i})")
        self.root = ROOT.RDF.AsRNode(node)
        self.ROOT = ROOT
        self.nodes: dict[tuple[Step, ...], Any] = {(): self.root}

    def node(self, steps: tuple[Step, ...]) -> Any:
        """The pass-2 node of a chain of steps (built once, shared by prefixes)."""
        if steps in self.nodes:
            return self.nodes[steps]
        parent = self.node(steps[:-1])
        node = self._apply(parent, steps[-1])
        self.nodes[steps] = node
        return node

    def _code(self, expr: str) -> str:
        """``expr`` for pass 2: parameters renamed to their pass-2 C++, and
        ``p.value()`` of a forward parameter (a Dual in pass 1; the AGC
        configuration passes ``temperature.value()`` to a function of doubles) its
        plain value, which is what pass 2 has."""
        code = expressions.rename(expr, self.calls)
        return self._dot_value.sub(r"\1", code)

    def _apply(self, node: Any, step: Step) -> Any:
        ROOT = self.ROOT
        kind = step[0]
        if kind == "define":
            _, name, expr = step
            code = self._code(expr)
            out = _compiled(
                f"adjoint pass: define({name!r})", expr, lambda: node.Define(name, code)
            )
        elif kind == "filter":
            # Without its name: RDataFrame evaluates a named filter for every entry of
            # every later loop (for its cut-flow report), and this one would then
            # record nodes on the tape in pass-1 loops too, where nothing clears it.
            _, expr, _name = step
            code = self._code(expr)
            out = _compiled("adjoint pass: filter", expr, lambda: node.Filter(code, ""))
        elif kind == "vary":
            _, column, items, vname = step
            ctype = str(node.GetColumnType(column))
            exprs = [
                f"diffana::rdf::vary_as<{ctype}>({self._code(e)})" for _, e in items
            ]
            full = f"ROOT::RVec<{ctype}>{{{', '.join(exprs)}}}"
            tags = ROOT.std.vector["std::string"]([t for t, _ in items])
            out = _compiled(
                f"adjoint pass: vary({column!r})",
                str(dict(items)),
                lambda: node.Vary(column, full, tags, vname),
            )
        else:  # pragma: no cover - steps are made by DiffFrame only
            msg = f"unknown step {step!r}"
            raise AssertionError(msg)
        return ROOT.RDF.AsRNode(out)


_graphs: weakref.WeakKeyDictionary[_Core, _Pass2Graph] = weakref.WeakKeyDictionary()


# ---- the adjoint pass ----------------------------------------------------------------


@dataclass(frozen=True)
class AdjointPass:
    """The result of one adjoint event loop (pass 2).

    Attributes
    ----------
    gradient : numpy.ndarray
        dL/dtheta for every reverse parameter, flat in declaration order.
    n_events : int
        Entries the loop saw (every one is swept and cleared).
    n_seeded : int
        Entries with at least one seed (an event that reached a histogram).
    max_tape_nodes : int
        The largest tape of one entry (the per-event scratch).
    leftover_nodes : int
        Nodes left on a tape at the end of a task (0: nothing leaks).
    """

    gradient: np.ndarray
    n_events: int
    n_seeded: int
    max_tape_nodes: int
    leftover_nodes: int


Cotangent = tuple[ArrayLike, ArrayLike | None]
# A histogram and its checked cotangents, {variation: (g, g')}.
_Item = tuple[GradHistResult, dict[str, tuple[np.ndarray, np.ndarray]]]


def _cotangents(
    cot: Cotangent | Mapping[str, Cotangent], shape: tuple[int, ...], what: str
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{variation: (g, g')} with g, g' float arrays of ``shape`` (g' None: zeros)."""
    items = dict(cot) if isinstance(cot, Mapping) else {"nominal": cot}
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, pair in items.items():
        if not isinstance(pair, Sequence) or len(pair) != 2:
            msg = (
                f"{what}[{key!r}] must be a pair (d L/d values, d L/d variances), "
                f"got {pair!r}"
            )
            raise ValueError(msg)
        arrays = []
        for part, arr in zip(("values", "variances"), pair, strict=True):
            a = np.zeros(shape) if arr is None else np.asarray(arr, dtype=np.float64)
            if a.shape != shape:
                msg = f"{what}[{key!r}]: d L/d {part} has shape {a.shape}, expected {shape}"
                raise ValueError(msg)
            if not np.all(np.isfinite(a)):
                msg = f"{what}[{key!r}]: d L/d {part} is not finite"
                raise ValueError(msg)
            arrays.append(a)
        out[str(key)] = (arrays[0], arrays[1])
    return out


def _checked(
    cotangents: Mapping[GradHistResult, Cotangent | Mapping[str, Cotangent]],
) -> tuple[_Core, list[_Item]]:
    if not isinstance(cotangents, Mapping) or not cotangents:
        msg = (
            "cotangents must be a non-empty mapping GradHistResult -> (d L/d values, "
            f"d L/d variances) or -> {{variation: (...)}}, got {cotangents!r}"
        )
        raise ValueError(msg)
    core: _Core | None = None
    out = []
    for result, cot in cotangents.items():
        if not isinstance(result, GradHistResult):
            msg = f"cotangents: keys must be GradHistResult, got {result!r}"
            raise TypeError(msg)
        if core is None:
            core = result._core
        elif result._core is not core:
            msg = "cotangents: every histogram must belong to the same DiffFrame family"
            raise ValueError(msg)
        if result not in _recipes:
            msg = f"cotangents: {result!r} was not booked by a DiffFrame"
            raise ValueError(msg)
        shape = tuple(e.size - 1 for e in result._edges)
        out.append((result, _cotangents(cot, shape, f"cotangents[{result!r}]")))
    assert core is not None
    return core, out


def adjoint_pass(
    cotangents: Mapping[GradHistResult, Cotangent | Mapping[str, Cotangent]],
) -> AdjointPass:
    """Run pass 2 only: dL/dtheta for the reverse parameters (flat) and what the
    tapes did. Arguments as `adjoint_gradient`."""
    core, items = _checked(cotangents)
    return _run_pass2(core, items)


def _run_pass2(core: _Core, items: list[_Item]) -> AdjointPass:
    block = core.reverse
    n = 0 if block is None else block.size
    if n == 0:
        return AdjointPass(np.zeros(0), 0, 0, 0, 0)
    ROOT = core.ROOT
    graph = _graphs.get(core)
    if graph is None:
        graph = _Pass2Graph(core)
        _graphs[core] = graph
    rdf = ROOT.diffana.rdf
    vec = ROOT.std.vector["double"]
    keep = []  # booked results and specs must live until the loop ran
    for result, cot in items:
        booked = _recipes[result]
        node = graph.node(booked.steps)
        types = [str(node.GetColumnType(c)) for c in booked.columns]
        if not any(t.replace(" ", "") == _REV for t in types):
            continue  # nothing of this histogram depends on a reverse parameter
        edges = result._edges
        bws = [0.0 if b is None else float(b) for b in result._bandwidth]
        spec = rdf.make_adjoint_spec(
            vec(edges[0].tolist()),
            bws[0],
            vec(edges[1].tolist() if len(edges) > 1 else []),
            bws[1] if len(bws) > 1 else 0.0,
            int(_checks.Overflow.of(result.overflow)),
        )
        for key, (g, gv) in cot.items():
            spec.add(key, vec(g.ravel().tolist()), vec(gv.ravel().tolist()))
        kind = "weighted" if result._weighted else "unweighted"
        dim = "" if len(edges) == 1 else "2d_"
        fn = getattr(rdf, f"adjoint_book_{dim}{kind}")[tuple(types)]
        ptr = fn(node, *booked.columns, spec)
        keep.append((ptr, spec))
        if result._varied:
            keep.append((rdf.adjoint_variations(ptr), None))
    # Booked last: every seed action (varied ones included) runs before it per entry.
    sweep = rdf.adjoint_book_sweep(graph.root, n)
    out = core.loop("the adjoint event loop", sweep.GetValue)
    del keep
    return AdjointPass(
        np.array(list(out.grad), dtype=np.float64),
        int(out.n_events),
        int(out.n_seeded),
        int(out.max_tape_nodes),
        int(out.leftover_nodes),
    )


def adjoint_gradient(
    cotangents: Mapping[GradHistResult, Cotangent | Mapping[str, Cotangent]],
) -> dict[str, float | np.ndarray]:
    """dL/dparameter for every parameter of a DiffFrame family, from the bin
    cotangents of its histograms.

    Parameters
    ----------
    cotangents : mapping
        ``{histogram: (g, g_var)}`` with ``g = dL/d values`` and ``g_var = dL/d
        variances`` (None: zeros), arrays of the histogram's shape, or
        ``{histogram: {"nominal": (g, g_var), "<name>:<tag>": ...}}`` for
        histograms with systematic variations (`GradHistResult.variations` keys; a
        variation left out contributes nothing). Every histogram must be booked on
        the same DiffFrame family.

    Returns
    -------
    dict
        Forward parameters -> float (from pass 1's Jacobians: ``sum_b g_b J_bk +
        g'_b J'_bk``); reverse parameters -> float or array of their shape (from
        the adjoint loop, `adjoint_pass`). Runs pass 1 first if it is not current,
        then one adjoint loop when the family has reverse parameters that any of
        the histograms depends on.

    Raises
    ------
    ValueError
        For cotangents of the wrong shape or not finite, unknown variation keys,
        histograms of different families.
    """
    core, items = _checked(cotangents)
    grad: dict[str, float | np.ndarray] = dict.fromkeys(core.names, 0.0)
    fwd = np.zeros(core.n)
    for result, cot in items:
        hists = result.variations()
        for key, (g, gv) in cot.items():
            if key not in hists:
                msg = (
                    f"cotangents[{result!r}]: unknown variation {key!r}; the "
                    f"histogram has {sorted(hists)}"
                )
                raise ValueError(msg)
            h = hists[key]
            axes = tuple(range(g.ndim))
            fwd += np.tensordot(g, h.jacobian, axes=(axes, axes))
            fwd += np.tensordot(gv, h.variances_jacobian, axes=(axes, axes))
    for name, v in zip(core.names, fwd, strict=True):
        grad[name] = float(v)
    block = core.reverse
    if block is not None:
        flat = _run_pass2(core, items).gradient
        for name in block.names:
            o, shape = block.offsets[name], block.shapes[name]
            grad[name] = float(flat[o]) if shape == () else flat[o : o + shape[0]]
    return grad
