# SPDX-License-Identifier: BSD-3-Clause
"""`DiffFrame`: building a differentiable RDataFrame graph.

A DiffFrame is an RDataFrame node plus its family's `_Core` (the parameters). Its
methods check their arguments, rewrite parameter names in expressions into inlined
Duals (`diffana.rdf.expressions`), add nodes to the graph (``Define``, ``Filter``,
``Vary``) and book gradient histograms (`GradHistResult`). Running the event loop
belongs to `_Core`, converting results to `GradHistResult`, writing and reading
snapshots to `diffana.rdf.snapshot`, the C++ type table to `diffana.rdf._types`.

Every frame also keeps the steps that made it from the family's root node (its
defines, filters, soft filters and variations, with their expressions as written),
and every booked histogram those of its node: the adjoint pass
(`diffana.rdf.adjoint`) replays them with other C++ behind the parameter names.

Expressions are compiled on sparse tangents where they can be (`diffana.rdf._sparse`:
a column carries only the tangents of the parameters it is computed from); the
others on dense Duals, as the parameters' own columns are.

May import: numpy, ``diffana._checks`` and the modules of ``diffana.rdf`` below it
(``expressions``, ``_types``, ``_sparse``, ``_session``, ``results``, ``snapshot``,
``adjoint``); nothing imports this module except the package ``__init__``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _checks
from . import _sparse, _types, adjoint, expressions, snapshot
from ._session import CompileError, _compiled, _Core, _import_root
from .results import GradHistResult

__all__ = ["DiffFrame", "ParamBlock"]

# A variation tag becomes part of a result key ("<name>:<tag>"): a plain word.
_TAG = re.compile(r"[A-Za-z0-9_]+")

# Forward mode carries every parameter's tangent in every value, and the event loop
# keeps such values on its thread's stack: past a few thousand parameters a graph
# overflows the default 8 MB stack, which kills the process (a one-line define at about
# 2500, a configured analysis with a network at about 1000). The adjoint (reverse=)
# carries no tangents and has no such limit.
_MAX_FORWARD_DEFAULT = 512


def max_forward_params() -> int:
    """The most forward-mode parameters a DiffFrame takes:
    ``$DIFFANA_MAX_FORWARD_PARAMS``, default 512."""
    text = os.environ.get("DIFFANA_MAX_FORWARD_PARAMS", str(_MAX_FORWARD_DEFAULT))
    try:
        return int(text)
    except ValueError:
        msg = f"DIFFANA_MAX_FORWARD_PARAMS must be an integer, got {text!r}"
        raise ValueError(msg) from None


def _check_forward_count(n: int) -> None:
    """Refuse more than `max_forward_params` parameters, saying what to do instead."""
    limit = max_forward_params()
    if n > limit:
        msg = (
            f"params: {n} forward-mode parameters, more than {limit}: forward mode "
            f"carries {n} tangents in every value (on the event loop's stack, which "
            "they can overflow), and the two-pass adjoint is faster from a few hundred "
            "on. Give the many as reverse= (one array; diffana.rdf.adjoint_gradient), "
            "or, with a larger stack (ulimit -s), raise DIFFANA_MAX_FORWARD_PARAMS"
        )
        raise ValueError(msg)


@dataclasses.dataclass(frozen=True)
class ParamBlock:
    """Where a DiffFrame family keeps its forward parameters in C++
    (`DiffFrame.param_block`): the global object ``cpp_name``, a
    ``diffana::rdf::Params<P>`` (``diffana/rdf/params.hpp``: ``value(i)``,
    ``dual(i)``) holding ``names`` in tangent order, for C++ that reads them the
    way the parameter columns do (a function declared to cling, e.g. a network's
    call on its weights). ``id`` numbers the block: names of C++ written for it
    can carry it. When the family is gone, a new DiffFrame with the same
    parameter names takes the block over (same name, same id), so that C++
    keeps working for it; such C++ must read values when called, never keep
    them."""

    cpp_name: str
    id: int
    names: tuple[str, ...]

    @property
    def cpp_type(self) -> str:
        """The C++ type of the object, ``diffana::rdf::Params<P>``."""
        return f"diffana::rdf::Params<{len(self.names)}>"


class DiffFrame:
    """An RDataFrame node with P named, differentiable parameters.

    Parameters
    ----------
    df : ROOT.RDataFrame or an RDataFrame node
        The input (any node: a Define/Filter of an RDataFrame works).
    params : mapping of str to float
        Parameter names (C++ identifiers, not existing columns) and initial values
        (finite); at least one, at most 512 (``$DIFFANA_MAX_FORWARD_PARAMS``: forward
        mode carries every tangent in every value; many parameters go to
        ``reverse``). Each becomes a Dual column of that name.
    cache : str or sequence of str, optional
        Input columns to read once into memory now (RDataFrame's ``Cache``, one
        event loop); later loops run on the cached copy, which is what an
        optimisation loop wants. Only these columns exist downstream.
    progress : bool
        Show ROOT's progress bar (``RDF.Experimental.AddProgressBar``) in loops.
    reverse : mapping of str to float or 1-D array, optional
        Reverse-mode parameters (many: network weights, coefficients): plain
        numbers in the event loop (a vector one is used as ``name[k]``), no
        Jacobian columns; their gradient comes from `diffana.rdf.adjoint_gradient`
        (one more event loop whatever their number, on taped scalars
        ``diffana::Rev<double>``: see `diffana.rdf.adjoint`). They are not columns.

    Frames derived by `define`, `filter`, `soft_filter` and `vary` are new DiffFrame
    objects (the original is unchanged) that share the parameters and the event loop.

    Tangents are sparse (2 to 63 parameters): a column carries the derivatives of
    the parameters it is computed from and no others (`diffana.rdf._sparse`), so
    parameters that an expression does not use cost nothing in it; histograms are
    the same as with a dense ``Dual<double, P>`` everywhere, and `column_type` shows
    that type. Expressions calling functions written for ``Dual<double, P>`` get
    dense columns. ``DIFFANA_SPARSE_TANGENTS=0`` (read when a DiffFrame is made)
    turns this off.

    Memory: cling cannot unload compiled code. A family that is gone hands its
    parameter block to the next DiffFrame with the same parameter names, so a
    rebuilt graph with the same expressions is the same C++ text and compiles
    nothing (measured: 2.9 MB per rebuilt frame before, under 0.05 MB now). What
    stays for the life of the process is the compiled code of each distinct
    expression text (about 0.1-0.5 MB each at -O3, more at lower levels) and one
    parameter block per DiffFrame family alive at the same time. A node taken out
    with `node` keeps reading this family's block, which a later DiffFrame with the
    same parameter names may reuse once this family is gone.

    An event loop that fails inside ROOT raises `EventLoopError` (see the package
    docstring); the family and its RDataFrame are not used again.
    """

    def __init__(
        self,
        df: Any,
        params: Mapping[str, Any],
        *,
        cache: str | Sequence[str] | None = None,
        progress: bool = False,
        reverse: Mapping[str, Any] | None = None,
    ) -> None:
        ROOT = _import_root()
        if not isinstance(params, Mapping) or len(params) == 0:
            msg = f"params must be a non-empty mapping name -> value, got {params!r}"
            raise ValueError(msg)
        _check_forward_count(len(params))
        node = ROOT.RDF.AsRNode(df)
        for name in params:
            _checks.identifier(name, "parameter name")
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
            names = ROOT.std.vector["std::string"](cols)
            core.cached = core.loop("cache", lambda: node.Cache(names))
            node = ROOT.RDF.AsRNode(core.cached)
        if progress:
            ROOT.RDF.Experimental.AddProgressBar(node)
        core.root = node
        if reverse is not None:
            for name in reverse:
                if isinstance(name, str) and node.HasColumn(name):
                    msg = f"reverse parameter {name!r} is already a column of the input"
                    raise ValueError(msg)
            adjoint.declare_reverse(ROOT, core, reverse)
        for i, name in enumerate(core.names):
            node = node.Define(name, f"{core.dual_fn}({i})")
        # The text behind the names in sparse expressions (None: dense only).
        self._sparse_calls: dict[str, str] | None = None
        if _sparse.enabled(core.n):
            sparse = _sparse.param_calls(core.cname, core.names)
            self._sparse_calls = {**core.param_calls, **sparse}
        self._core = core
        self._node = node
        self._weight: str | None = None
        self._varied = False
        # (column, variation name) of every `vary` upstream of this frame.
        self._variations: frozenset[tuple[str, str]] = frozenset()
        self._steps: tuple[adjoint.Step, ...] = ()

    # ---- internals --------------------------------------------------------------

    def _derive(
        self,
        node: Any,
        weight: str | None,
        variation: tuple[str, str] | None = None,
        step: adjoint.Step | None = None,
    ) -> DiffFrame:
        new = object.__new__(DiffFrame)
        new._core = self._core
        new._sparse_calls = self._sparse_calls
        new._node = node
        new._weight = weight
        new._varied = self._varied or variation is not None
        new._variations = self._variations
        if variation is not None:
            new._variations = self._variations | {variation}
        new._steps = self._steps if step is None else (*self._steps, step)
        return new

    def _inline_params(self, expression: str) -> str:
        """The expression with every parameter name replaced by the call that
        returns its Dual (``diffana_param_dual_<k>(i)``), so that cling inlines the
        parameters into the expression instead of RDataFrame reading a parameter
        column per event (at P = 8 that read cost about as much as the tangent
        arithmetic). Like RDataFrame's own column substitution this works on
        free identifiers (`diffana.rdf.expressions`); the parameter
        columns stay defined for direct use (``histo("jes", ...)``). This is the
        dense text; `_jit` puts SparseDuals behind the names where it can."""
        return expressions.rename(expression, self._core.param_calls)

    @staticmethod
    def _types_of(node: Any) -> Any:
        """A function: column name -> its C++ type in ``node``, "" if none."""

        def ctype(name: str) -> str:
            return str(node.GetColumnType(name)) if node.HasColumn(name) else ""

        return ctype

    def _jit(self, what: str, shown: str, expression: str, call: Any) -> Any:
        """``call(code)`` (a Define or Filter) with ``expression`` compiled on sparse
        tangents where `diffana.rdf._sparse` allows it, else (or when that does not
        compile) on dense Duals; CompileError with the dense attempt's messages."""
        calls = self._sparse_calls
        types = self._types_of(self._node)
        if calls is not None and _sparse.usable(expression, set(calls), types):
            code = expressions.rename(expression, calls)
            try:
                return _compiled(what, shown, lambda: call(code))
            except CompileError:
                pass  # e.g. a function with a Dual<double, P> argument: dense below
        dense = _sparse.dense_wrapped(expression, self._core.param_calls, types)
        return _compiled(what, shown, lambda: call(dense))

    def _dense_node(self, node: Any, columns: Sequence[str]) -> Any:
        """``node`` with the sparse ones of ``columns`` redefined as dense Duals."""
        for c in columns:
            sparse = isinstance(c, str) and node.HasColumn(c)
            if sparse and _types.is_sparse(str(node.GetColumnType(c))):
                code = f"diffana::rdf::dense_column({c})"
                node = self._core.ROOT.RDF.AsRNode(node.Redefine(c, code))
        return node

    def _check_new_column(self, name: str) -> None:
        # The analysis layer defines diffana_ columns: the prefix is allowed here.
        _checks.identifier(name, "column name", reserved=False)
        if self._node.HasColumn(name):
            what = "a parameter" if name in self._core.names else "already a column"
            msg = f"cannot define {name!r}: it is {what}"
            raise ValueError(msg)

    def _check_column(self, name: str, what: str) -> str:
        return _types.column_type(self._node, name, what)

    def _scalar_type(self, name: str, ctype: str, what: str) -> str:
        return _types.scalar_type(name, ctype, self._core.n, what)

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
    def param_block(self) -> ParamBlock:
        """The C++ object that holds the forward parameters (`ParamBlock`).

        Examples
        --------
        >>> from diffana.rdf import DiffFrame, _import_root
        >>> ROOT = _import_root()
        >>> ddf = DiffFrame(ROOT.RDataFrame(4), {"a": 2.0, "b": 0.5})
        >>> block = ddf.param_block
        >>> block.names, block.cpp_type
        (('a', 'b'), 'diffana::rdf::Params<2>')
        >>> fn = f"ab_product_{block.id}"
        >>> ROOT.gInterpreter.Declare(
        ...     f"double {fn}() {{ return {block.cpp_name}.value(0)"
        ...     f" * {block.cpp_name}.value(1); }}")
        True
        >>> ddf.set_params(b=3.0)
        >>> getattr(ROOT, fn)()
        6.0
        """
        core = self._core
        return ParamBlock(str(core.cname), int(core.id), tuple(core.names))

    @property
    def reverse_params(self) -> dict[str, Any]:
        """The current values of the reverse-mode parameters (float or array)."""
        block = self._core.reverse
        return {} if block is None else block.current()

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
        """The C++ type of a column (``diffana::Dual<double,P>`` if it is dual; a
        column on sparse tangents shows as that dense type too)."""
        return _types.logical_type(self._check_column(name, "column_type"))

    def define(self, name: str, expression: str) -> DiffFrame:
        """A new frame with column ``name`` = the C++ ``expression``.

        Raises ValueError for a bad or existing name, CompileError (a ValueError)
        with the compiler's messages when the expression does not compile.
        """
        self._check_new_column(name)
        if not isinstance(expression, str) or not expression.strip():
            msg = f"define({name!r}): expression must be a non-empty string"
            raise ValueError(msg)
        node = self._jit(
            f"define({name!r})",
            expression,
            expression,
            lambda code: self._node.Define(name, code),
        )
        return self._derive(node, self._weight, step=("define", name, expression))

    def filter(self, expression: str, name: str = "") -> DiffFrame:
        """A new frame keeping the events where the C++ ``expression`` is true (a
        hard, non-differentiable selection)."""
        if not isinstance(expression, str) or not expression.strip():
            msg = "filter: expression must be a non-empty string"
            raise ValueError(msg)
        node = self._jit(
            "filter", expression, expression, lambda code: self._node.Filter(code, name)
        )
        return self._derive(node, self._weight, step=("filter", expression, name))

    def soft_filter(self, expression: str) -> DiffFrame:
        """A new frame whose event weight is multiplied by the C++ ``expression``
        (e.g. ``diffana::soft_cut(ht, ht_cut, 0.1)``): a differentiable selection.
        Histograms booked on the new frame are weighted by the product of all
        soft filters (times their own ``weight=``)."""
        if not isinstance(expression, str) or not expression.strip():
            msg = "soft_filter: expression must be a non-empty string"
            raise ValueError(msg)
        col = self._core.hidden_column("w")
        raw = expression if self._weight is None else f"{self._weight} * ({expression})"
        node = self._jit(
            "soft_filter", expression, raw, lambda code: self._node.Define(col, code)
        )
        return self._derive(node, col, step=("define", col, raw))

    def vary(
        self, column: str, variations: Mapping[str, str], name: str | None = None
    ) -> DiffFrame:
        """A new frame on which column ``column`` also takes varied values: a
        systematic variation (RDataFrame's ``Vary``).

        ``variations`` maps tags to C++ expressions of the varied value (of the
        same kind as the column; they may use the column itself and parameters),
        e.g. ``{"up": "jet_pt_c * 1.03", "down": "jet_pt_c * 0.97"}``; ``name``
        (default: the column) names the variation; varying the same column twice
        under the same name raises ValueError (RDataFrame would silently keep only
        the first). Every histogram booked
        downstream fills, in the same event loop, one histogram per tag with
        everything that depends on the column recomputed: `GradHistResult.variations`
        gives them as ``{"nominal": ..., "<name>:<tag>": ...}``, each with its own
        Jacobian. A weight variation is a `vary` of the weight column. As in
        RDataFrame, the variation reaches the columns defined after the `vary`
        call (define the column, vary it, then define what depends on it).
        """
        self._check_column(column, "vary")
        vname = column if name is None else name
        _checks.identifier(vname, "vary: variation name")
        if (column, vname) in self._variations:
            # RDataFrame keeps the first and silently ignores the second.
            msg = (
                f"vary({column!r}): column {column!r} is already varied under the "
                f"name {vname!r} upstream of this frame; give the new variation "
                "another name (name=...) or put all its tags in one vary call"
            )
            raise ValueError(msg)
        if not isinstance(variations, Mapping) or not variations:
            msg = (
                "vary: variations must be a non-empty mapping tag -> expression, "
                f"got {variations!r}"
            )
            raise ValueError(msg)
        for tag, expr in variations.items():
            if not isinstance(tag, str) or not _TAG.fullmatch(tag):
                msg = f"vary: tag {tag!r} must be a non-empty word (letters, digits, _)"
                raise ValueError(msg)
            if not isinstance(expr, str) or not expr.strip():
                msg = f"vary: the expression for {tag!r} must be a non-empty string"
                raise ValueError(msg)
        # Variations run on dense Duals (a varied value may depend on parameters
        # that the nominal column does not): a sparse column is made dense first.
        base = self._dense_node(self._node, [column])
        ctype = str(base.GetColumnType(column))
        types = self._types_of(base)
        calls = self._core.param_calls
        items = [
            f"diffana::rdf::vary_as<{ctype}>({_sparse.dense_wrapped(e, calls, types)})"
            for e in variations.values()
        ]
        # A Vary expression that fails to compile leaves ROOT 6.40's graph corrupt
        # (free(): invalid pointer at exit): compile each one as an unused Define first.
        for tag, item in zip(variations, items, strict=True):
            hidden = self._core.hidden_column("vary")
            _compiled(
                f"vary({column!r}) {tag!r}",
                variations[tag],
                functools.partial(base.Define, hidden, item),
            )
        full = f"ROOT::RVec<{ctype}>{{{', '.join(items)}}}"
        tags = self._core.ROOT.std.vector["std::string"](list(variations))
        node = _compiled(
            f"vary({column!r})",
            str(dict(variations)),
            lambda: base.Vary(column, full, tags, vname),
        )
        step = ("vary", column, tuple(variations.items()), vname)
        return self._derive(
            self._core.ROOT.RDF.AsRNode(node), self._weight, (column, vname), step
        )

    def _weight_for(
        self, weight: str | None, what: str
    ) -> tuple[Any, str | None, tuple[adjoint.Step, ...]]:
        """The node, weight column and steps of a histogram: ``weight`` times the
        soft-filter weight (a hidden column) when both exist."""
        if weight is not None:
            self._scalar_type(weight, self._check_column(weight, what), what)
        if self._weight is None:
            return self._node, weight, self._steps
        if weight is None:
            return self._node, self._weight, self._steps
        w = self._core.hidden_column("hw")
        expr = f"{self._weight} * {weight}"
        node = self._jit(what, expr, expr, lambda code: self._node.Define(w, code))
        return node, w, (*self._steps, ("define", w, expr))

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
        node, w, steps = self._weight_for(weight, what)
        if w is not None:
            columns.append((w, self._scalar_type(w, str(node.GetColumnType(w)), what)))
        result = GradHistResult(
            self._core, node, columns, tuple(edges), bandwidth, overflow, self._varied
        )
        adjoint.register(result, steps)
        return result

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
        """Change parameter values, forward or reverse (an array for a vector
        one; all checked first: unknown names and NaN/inf values raise, nothing
        changes). The next `GradHistResult.result` runs a new
        event loop; nothing is compiled again."""
        new = dict(values or {})
        new.update(kw)
        block = self._core.reverse
        if block is None:
            self._core.set(new)
            return
        rev = {k: v for k, v in new.items() if k in block.names}
        flat = block.checked(rev)
        self._core.set({k: v for k, v in new.items() if k not in block.names})
        block.apply(flat)

    def snapshot(
        self, tree: str, file: str | os.PathLike[str], columns: str | Sequence[str]
    ) -> None:
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
        cols = [columns] if isinstance(columns, str) else list(columns)
        node = self._dense_node(self._node, cols)
        snapshot.write(node, self._core, tree, file, columns)

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
        meta = snapshot.info(tree, file)
        snapshot.check_params(meta, params)
        ddf = cls(ROOT.RDataFrame(tree, os.fspath(file)), params)
        ddf._node = snapshot.restore_duals(ddf._node, ddf._core, meta, file)
        return ddf

    def with_tangents(
        self, file_params: Sequence[str], dual: Sequence[str], prefix: str = ""
    ) -> DiffFrame:
        """This frame with the columns ``dual`` made Dual columns again: value from
        ``x``, tangents from the columns ``<prefix>x__d_<name>`` for
        ``file_params`` (the parameters the input's tangents are w.r.t., mapped
        onto this frame's by name; 0 for the others). Used on inputs that carry
        tangents next to their values (`diffana.chain.events`); ValueError naming
        what is missing."""
        meta = {"params": dict.fromkeys(file_params, 0.0), "dual": list(dual)}
        snapshot.check_params(meta, self.params)
        node = snapshot.restore_duals(self._node, self._core, meta, "the input", prefix)
        return self._derive(node, self._weight)

    @staticmethod
    def snapshot_info(tree: str, file: str | os.PathLike[str]) -> dict[str, Any]:
        """What `snapshot` stored about tree ``tree`` in ``file``:
        ``{"params": {name: value}, "dual": [columns]}``. ValueError if absent."""
        return snapshot.info(tree, file)

    def run(self) -> None:
        """Run the event loop now for every booked histogram that is not current."""
        self._core.run()

    def __repr__(self) -> str:
        return f"DiffFrame(params={self.params!r}, weight={self._weight!r})"
