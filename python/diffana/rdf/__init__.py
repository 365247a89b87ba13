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
- Compiled code stays: cling cannot unload it. A DiffFrame rebuilt with the same
  parameter names and the same expressions (after the earlier one is gone) reuses
  the earlier one's parameter block and so compiles nothing: a loop that rebuilds
  the same graph does not grow the process. Each distinct graph costs its
  compiled expressions for the rest of the process, about 0.1-0.5 MB per distinct
  expression text at -O3 (more at lower levels), plus one parameter block per
  DiffFrame alive at the same time.
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
- An event loop that fails inside ROOT (a C++ exception thrown by an expression or
  by ROOT, e.g. ``v.at(5)`` past the end or an unreadable entry, or a crash:
  segmentation violation, abort) raises `EventLoopError` with the C++ message
  instead of ending the process; the family is then unusable (every later loop
  raises it again), and so is the RDataFrame under it (the failed actions stay
  booked on it): build new ones. Plain out-of-range indexing (``Jet_pt[100]``) is not checked
  by RVec: it may read garbage without any error, so use ``.at(i)`` or guard with
  ``Jet_pt.size()``. A crash in a worker thread of ROOT's implicit multithreading
  cannot be caught.
- Each family counts its event loops (`DiffFrame.n_loops`). Two families built on
  the same RDataFrame share its event loop (ROOT's rule); their results stay correct.

Gradients on disk
-----------------
`DiffFrame.snapshot` writes columns to a TTree: a dual column ``x`` becomes its value
``x`` plus one column per parameter, ``x__d_<param>`` (the format is described in
`diffana.rdf.snapshot`), and the file records the parameters and the dual columns.
`DiffFrame.from_snapshot` reads such a tree with new parameters: every dual column
becomes a Dual column again whose tangents are the file's, mapped onto the new
parameters by name; tangents for new parameters the file does not know are 0, and a
file parameter missing from the new frame is an error. So a chain of separate
programs passes forward-mode gradients along: the final Jacobian w.r.t. the file's
parameters is the chain rule through every stage. The parameter values of an earlier
stage are fixed in its file (stored for reference); changing them in a later stage
does not change the file's values.

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

Many parameters: the adjoint loop
---------------------------------
``DiffFrame(df, params, reverse={"theta": weights})`` adds reverse-mode parameters:
plain numbers in the event loop (``theta[k]`` in expressions), no tangents. Given the
bin cotangents of an objective (``g = dL/d values``, ``g' = dL/d variances``),
`adjoint_gradient` returns dL/d every parameter: the forward ones from the
Jacobians, the reverse ones from one more event loop that replays the graph on taped
scalars (`diffana.rdf.adjoint`), whatever their number.

Layout
------
``frame`` (`DiffFrame`: graph building) uses ``results`` (`GradHistResult`: booked
histograms), ``snapshot`` (gradients on disk), ``_types`` (the C++ type table) and
``expressions`` (the rewriter of free identifiers) and ``adjoint`` (reverse-mode
parameters and the adjoint loop); all of them sit on ``_session``
(ROOT and cling set-up, `CompileError`, the shared parameter block ``_Core`` and its
event loop). Imports only go down that list. This ``__init__`` re-exports the public
names and the private ones other layers use (``_compiled``, ``_import_root``).
"""

from __future__ import annotations

from . import expressions as expressions
from ._clad import has_clad
from ._session import CompileError, EventLoopError

# Not public API: other layers use them (diffana.analysis compiles its own
# expressions with _compiled; the tests' ROOT fixture calls _import_root).
from ._session import _compiled as _compiled
from ._session import _import_root as _import_root
from .adjoint import AdjointPass, adjoint_gradient, adjoint_pass
from .frame import DiffFrame
from .results import GradHistResult

__all__ = [
    "AdjointPass",
    "CompileError",
    "DiffFrame",
    "EventLoopError",
    "GradHistResult",
    "adjoint_gradient",
    "adjoint_pass",
    "has_clad",
]

# Report the public classes where users import them from (reprs, pickles, docs).
for _cls in (AdjointPass, CompileError, DiffFrame, EventLoopError, GradHistResult):
    _cls.__module__ = __name__
del _cls
