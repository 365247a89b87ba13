# SPDX-License-Identifier: BSD-3-Clause
"""`GradHistResult`: a lazily filled gradient histogram booked on a DiffFrame.

A result books a typed ``diffana::rdf::frame_book_*`` action (from
``diffana/rdf/frame.hpp``) on the RDataFrame graph, is filled by its family's event
loop (`diffana.rdf._session._Core.run`, through the `LoopResult` protocol) and
converts what C++ filled into `diffana.GradHistogram` / `diffana.GradHistogram2D`.

May import: numpy, ``diffana._checks``, ``diffana.hist`` and ``diffana.rdf._session``;
not `diffana.rdf.frame` (which imports this module).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _checks
from ..hist import GradHistogram, GradHistogram2D
from ._session import _Core

__all__ = ["GradHistResult"]


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
        core.add(self)

    # ---- the event-loop protocol (`diffana.rdf._session.LoopResult`) ----------------

    def pending(self, generation: int) -> Any:
        """The booked ``RResultPtr`` this histogram waits for at ``generation``
        (booked now if needed), None when it is current (used by the event loop)."""
        if self._gen == generation:
            return None
        if self._ptr is None:
            self._book()
        return self._ptr

    def harvest(self, generation: int) -> None:
        """Read the filled histogram(s) after the event loop (used by the loop)."""
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

    # ---- internals ----------------------------------------------------------------

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
        xe, ye = self._edges
        xb, yb = self._bandwidth
        return GradHistogram2D(
            *arrays, xe, ye, (xb, yb), self.overflow, skipped, param_names=names
        )

    def _current(self) -> dict[str, GradHistogram | GradHistogram2D]:
        if self._gen != self._core.generation or not self._value:
            self._core.run()
        return self._value

    # ---- the public API -------------------------------------------------------------

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
