# SPDX-License-Identifier: BSD-3-Clause
"""correctionlib corrections on dual numbers: C++ for DiffFrame, JAX for jit/grad.

A correctionlib JSON file (schema v2) is read and checked by correctionlib's own
pydantic schema (`correctionlib.schemav2`); diffana then writes each correction as
C++ source, a small struct whose ``evaluate(inputs...)`` is a template over the input
types, so the same correction runs on ``double`` and on ``diffana::Dual`` (the
derivatives flow through the formulas) and, through ``operator()``, on RVecs element
by element. `declare` hands that source to ROOT's interpreter under a name that
DiffFrame expressions call (``jec(Jet_eta, jet_pt)``, ``jec.evaluate(eta, pt)``);
`to_cpp` returns it for a compiled program. `to_jax` builds the same correction from
``jax.numpy`` (jit- and grad-able)::

    from diffana import correction
    correction.declare("jec", "corrections.json")        # C++ object `jec`
    ddf = ddf.define("jet_pt_c", "jet_pt * jec(Jet_eta, jet_pt)")
    f = correction.to_jax("corrections.json", "jec")      # f(eta, pt) on jnp arrays

Supported nodes: formula (correctionlib's TFormula subset, `parse`), formularef
(``generic_formulas``), binning and multibinning with every ``flow`` ("clamp",
"error", "wrap" or a content node), category (string or int keys, with or without a
default) and numbers; compound corrections (a stack of corrections updating some
inputs, as CMS's jet energy corrections L1L2L3). Transform, hashprng and lwtnn nodes
raise `CorrectionError`.

Derivatives: through formulas, exact; a bin lookup is piecewise constant in its
variable (zero derivative there, as for any histogram-valued correction). A nuisance
parameter enters through the expression that uses the correction, e.g.
``jet_pt * (1 + jes * unc(eta, pt))``, or between the "down", "nominal" and "up"
entries of a systematic category through ``diffana::correction::updown(theta,
nominal, up, down)`` (C++) / `updown` (JAX): pyhf's smooth interpolation code 4p.

Errors: an input out of range with flow "error" or an unknown category key throws
``std::domain_error`` naming the correction, the input and the value inside the event
loop (DiffFrame raises it as ``EventLoopError``); the wrong number or kind of inputs
does not compile (``CompileError`` naming the correction and its inputs); in JAX both
raise `CorrectionError` for concrete inputs (NaN under an outer ``jax.jit``).

Layout: ``_formula`` (the parser and `CorrectionError`), ``_source`` (`load`),
``_cpp`` (`to_cpp`, `declare`); the JAX twin is ``diffana.jax._correction``, imported
by `to_jax` and `updown` when called.

May import: the modules of this package; ``diffana.jax._correction`` (JAX) inside
functions only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._optional import require

require(__name__)  # before the imports: a missing dependency names its extra

from ._cpp import declare, pick, to_cpp
from ._formula import CorrectionError, Formula, parse
from ._source import Compound, Source, load

__all__ = [
    "Compound",
    "CorrectionError",
    "Formula",
    "Source",
    "declare",
    "load",
    "parse",
    "pick",
    "to_cpp",
    "to_jax",
    "updown",
]

for _cls in (Compound, CorrectionError, Formula):
    _cls.__module__ = __name__
del _cls


def to_jax(source: Source, correction: str | None = None) -> Callable[..., Any]:
    """The correction as a jitted function of ``jax.numpy`` arrays: ``f(*inputs)``
    with real inputs as arrays (broadcast together), string inputs as Python
    strings and int inputs as integers or integer arrays; differentiable in the real
    inputs (``jax.grad``, ``jax.jacfwd``, ``jax.vmap`` work). ``source`` and
    ``correction`` as in `load`.

    Examples
    --------
    >>> from correctionlib import schemav2 as cs
    >>> c = cs.Correction(name="sf", version=1, inputs=[cs.Variable(name="x",
    ...     type="real")], output=cs.Variable(name="w", type="real"),
    ...     data=cs.Formula(nodetype="formula", expression="1+[0]*x^2",
    ...     parser="TFormula", variables=["x"], parameters=[0.5]))
    >>> import jax
    >>> f = to_jax(c)
    >>> float(f(2.0)), float(jax.grad(f)(2.0))
    (3.0, 2.0)
    """
    from ..jax import _correction

    corr = load(source, correction)
    if isinstance(corr, Compound):
        return _correction.build_compound(corr.compound, corr.parts)
    return _correction.build(corr)


def updown(theta: Any, nominal: Any, up: Any, down: Any) -> Any:
    """``nominal`` moved towards ``up`` (theta = 1) or ``down`` (theta = -1) by the
    nuisance parameter ``theta``: pyhf's smooth interpolation code 4p (linear beyond
    |theta| = 1, d/dtheta = (up - down)/2 at 0), in JAX; the twin of
    ``diffana::correction::updown``.

    Examples
    --------
    >>> float(updown(1.0, 10.0, 12.0, 9.0)), float(updown(-1.0, 10.0, 12.0, 9.0))
    (12.0, 9.0)
    """
    from ..jax import _correction

    return _correction.updown(theta, nominal, up, down)
