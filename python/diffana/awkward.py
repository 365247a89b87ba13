# SPDX-License-Identifier: BSD-3-Clause
"""diffana's operations on awkward arrays (jagged per-event collections such as jets).

Inputs may be jagged ``ak.Array``s with one level of jaggedness (``events * var *
number``, e.g. ``Jet_pt`` read with uproot), flat per-event arrays (``events *
number``, numpy or awkward) or scalars; they are aligned the way awkward broadcasts
(a per-event value applies to every object of its event). The kernels run on the
flattened content and the results come back with the structure of the jagged inputs.

Tangents: the tangents of an input carry one more, regular, innermost dimension of
length P: ``events * var * P * float64`` for a jagged input (e.g.
``x[..., np.newaxis]`` for the derivative of x with respect to its own overall shift),
``(events, P)`` for a per-event input and ``(P,)`` for a scalar. Results are
`JaggedDualArray` objects whose ``tangents`` have the same layout.

Four-vectors: the Lorentz helpers (`invariant_mass`, `invariant_mass3`, `delta_r`,
`delta_phi`, `pt_of_sum`, `pt_of_sum3`, `to_cartesian`, `from_cartesian`) take, in
place of each group of components (``pt1, eta1, phi1, m1``), one array of records:
vector's ``Momentum4D``, coffea's ``PtEtaPhiMLorentzVector``, a NanoAOD ``Jet`` or any
record with fields ``pt``, ``eta``, ``phi``, ``mass`` (vector's aliases ``rho``,
``m``, ``px``/``x``, ``E``/``t``, ... too). Its fields are used as they are (views, no
copy); a component the record lacks but its vector/coffea behaviour computes is
computed. Tangents keep the component names (``tangents={"pt1": ...}``). Elsewhere
records raise ``TypeError``.

dtypes: float64 input reaches the kernels without a copy; float32 (NanoAOD's) and
other real dtypes are converted to float64 once, as the kernels compute in float64.

Missing values (option types, ``None``), unions and records outside the Lorentz
helpers raise ``TypeError`` and deeper nesting raises ``ValueError``: fill or drop
missing values first (``ak.fill_none`` / ``ak.drop_none``) and pick out numeric fields.

Structured data as a flat vector: `to_buffers` turns an array of events into a
`Buffers`, one float64 vector of every floating-point buffer plus the static
structure (form, length, offsets, integer and boolean data); ``Buffers.to_array`` and
`from_buffers` rebuild the array exactly. `Buffers` is a JAX pytree (leaf: the vector)
with field access and per-event sums that trace under ``jax.jit`` and ``jax.grad``;
`inner` and `linear` are the inner product and linear observables on such data (see
`diffana._buffers`).

The soft cuts are the entries of the relaxed-op table (`diffana._ops`) evaluated on
the flattened objects. Imports awkward, numpy and the numpy front end
(`diffana._ops`, `diffana._dual`, `diffana.physics`, `diffana.hist`,
`diffana._buffers`).

Examples
--------
>>> import awkward as ak
>>> import numpy as np
>>> import diffana.awkward as dak
>>> pt = ak.Array([[50.0, 20.0], [], [35.0]])
>>> w = dak.soft_cut(pt, 30.0, slope=1.0, cut_tangents=[1.0])
>>> ak.to_list(np.round(w.value, 4))
[[1.0, 0.0], [], [0.9933]]
>>> ak.to_list(np.round(w.tangents, 4))
[[[-0.0], [-0.0]], [], [[-0.0066]]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._optional import require

require(__name__)  # before the imports: a missing dependency names its extra

from . import _jagged, _ops
from . import fill as _fill
from . import physics as _physics
from ._buffers import Buffers, from_buffers, inner, linear, to_buffers
from ._dual import DualArray
from ._jagged import JaggedDualArray  # awkward is imported here, with a hint
from .hist import GradHistogram

__all__ = [
    "Buffers",
    "JaggedDualArray",
    "delta_phi",
    "delta_r",
    "from_buffers",
    "from_cartesian",
    "histogram",
    "inner",
    "invariant_mass",
    "invariant_mass3",
    "linear",
    "pt_of_sum",
    "pt_of_sum3",
    "soft_cut",
    "soft_window",
    "to_buffers",
    "to_cartesian",
]


# ---- soft cuts ----------------------------------------------------------------------


def _relaxed(
    op: _ops.RelaxedOp,
    inputs: Sequence[Any],
    tangents: Sequence[Any],
    **options: int,
) -> JaggedDualArray:
    """A relaxed op of the table (`diffana._ops`) on the flattened objects."""
    given = {n: t for n, t in zip(op.inputs, tangents, strict=True) if t is not None}
    flat, tans, counts = _jagged.align(op.inputs, inputs, given)
    d = _ops.evaluate(op, flat, [tans.get(n) for n in op.inputs], **options)
    return _jagged.restructure(d, counts)


def soft_cut(
    x: Any,
    cut: Any,
    slope: Any = 1.0,
    keep: str = "above",
    *,
    x_tangents: Any = None,
    cut_tangents: Any = None,
    slope_tangents: Any = None,
) -> JaggedDualArray:
    """`diffana.soft_cut` on awkward arrays (see the module's notes on tangents).

    Examples
    --------
    >>> import awkward as ak
    >>> import diffana.awkward as dak
    >>> r = dak.soft_cut(ak.Array([[10.0, 90.0], [50.0]]), 50.0, slope=0.5)
    >>> str(r.value.type), str(r.tangents.type)
    ('2 * var * float64', '2 * var * 0 * float64')
    """
    return _relaxed(
        _ops.SOFT_CUT,
        (x, cut, slope),
        (x_tangents, cut_tangents, slope_tangents),
        keep_above=_ops.keep_above(keep),
    )


def soft_window(
    x: Any,
    lo: Any,
    hi: Any,
    slope: Any = 1.0,
    *,
    x_tangents: Any = None,
    lo_tangents: Any = None,
    hi_tangents: Any = None,
    slope_tangents: Any = None,
) -> JaggedDualArray:
    """`diffana.soft_window` on awkward arrays."""
    return _relaxed(
        _ops.SOFT_WINDOW,
        (x, lo, hi, slope),
        (x_tangents, lo_tangents, hi_tangents, slope_tangents),
    )


# ---- Lorentz helpers ----------------------------------------------------------------


def _physics_call(
    fn: Callable[..., Any],
    names: Sequence[str],
    inputs: Sequence[Any],
    tangents: Mapping[str, Any] | None,
) -> Any:
    if tangents is not None and not isinstance(tangents, Mapping):
        msg = (
            "tangents must be a mapping from argument name to tangent array, got "
            f"{type(tangents).__name__}"
        )
        raise TypeError(msg)
    given = dict(tangents or {})
    unknown = sorted(set(given) - set(names))
    if unknown:
        msg = (
            f"tangents has unknown argument name(s) {unknown}; the arguments are "
            f"{list(names)}"
        )
        raise ValueError(msg)
    labels = {n: f"tangents[{n!r}]" for n in names}
    inputs = _expand_records(fn.__name__, names, inputs)
    flat, tans, counts = _jagged.align(names, inputs, given, labels)
    out = fn(*flat, tangents=tans)
    if isinstance(out, DualArray):
        return _jagged.restructure(out, counts)
    return tuple(_jagged.restructure(o, counts) for o in out)


def _component(name: str) -> tuple[str, str]:
    """``"eta2"`` -> ``("eta", "2")``: the momentum component and its group."""
    stem = name.rstrip("0123456789")
    return stem, name[len(stem) :]


def _expand_records(
    fname: str, names: Sequence[str], inputs: Sequence[Any]
) -> list[Any]:
    """The inputs with each record replaced by the components of its group.

    Positional: ``f(j1, j2)`` means groups 1 and 2. Keyword-style: a record in a
    group's first slot with the group's other slots left empty fills them.
    """
    given = list(inputs)
    while given and given[-1] is None:
        given.pop()
    if not any(_jagged.is_record(v) for v in given) and len(given) == len(names):
        return given
    groups = [_component(n) for n in names]
    out: list[Any] = []
    i = 0
    while i < len(given) and len(out) < len(names):
        v, slot = given[i], len(out)
        i += 1
        if v is None:
            msg = f"{fname}: argument {names[slot]} is missing"
            raise TypeError(msg)
        if not _jagged.is_record(v):
            out.append(v)
            continue
        group = groups[slot][1]
        members = [n for n, (_, g) in zip(names, groups, strict=True) if g == group]
        if names[slot] != members[0]:
            msg = (
                f"{fname}: a record stands for a whole group of components "
                f"({', '.join(members)}), so it must come in place of {members[0]}, "
                f"not {names[slot]}"
            )
            raise TypeError(msg)
        wanted = [c for c, _ in groups[slot : slot + len(members)]]
        label = f"the record given for {', '.join(members)}"
        out.extend(_jagged.record_components(v, wanted, label))
        rest = given[i : i + len(members) - 1]
        if len(rest) == len(members) - 1 and all(r is None for r in rest):
            i += len(rest)  # keyword style: the group's other slots were left empty
    if i < len(given):
        msg = f"{fname} takes {len(names)} components ({', '.join(names)}), got more"
        raise TypeError(msg)
    if len(out) < len(names):
        msg = (
            f"{fname}: missing {', '.join(names[len(out) :])} (give each group of "
            f"components, {', '.join(names)}, as arrays or as one four-vector record)"
        )
        raise TypeError(msg)
    return out


_P4 = ("pt", "eta", "phi", "m")


def invariant_mass(
    pt1: Any,
    eta1: Any = None,
    phi1: Any = None,
    m1: Any = None,
    pt2: Any = None,
    eta2: Any = None,
    phi2: Any = None,
    m2: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> JaggedDualArray:
    """`diffana.physics.invariant_mass` on awkward arrays.

    Examples
    --------
    >>> import awkward as ak
    >>> import numpy as np
    >>> import diffana.awkward as dak
    >>> pt = ak.Array([[45.6, 45.6], [10.0, 10.0]])
    >>> phi = ak.Array([[0.0, np.pi], [0.0, np.pi]])
    >>> m = dak.invariant_mass(pt[:, 0], 0.0, phi[:, 0], 0.0, pt[:, 1], 0.0,
    ...                        phi[:, 1], 0.0)
    >>> np.round(ak.to_numpy(m.value), 6)
    array([91.2, 20. ])

    Records with fields pt, eta, phi, mass (vector's Momentum4D, coffea's NanoEvents
    jets) stand for a group of components:

    >>> jets = ak.zip({"pt": pt, "eta": 0.0 * pt, "phi": phi, "mass": 0.0 * pt})
    >>> np.round(ak.to_numpy(dak.invariant_mass(jets[:, 0], jets[:, 1]).value), 6)
    array([91.2, 20. ])
    """
    names = tuple(f"{q}{i}" for i in (1, 2) for q in _P4)
    return _physics_call(  # type: ignore[no-any-return]
        _physics.invariant_mass,
        names,
        (pt1, eta1, phi1, m1, pt2, eta2, phi2, m2),
        tangents,
    )


def invariant_mass3(
    pt1: Any,
    eta1: Any = None,
    phi1: Any = None,
    m1: Any = None,
    pt2: Any = None,
    eta2: Any = None,
    phi2: Any = None,
    m2: Any = None,
    pt3: Any = None,
    eta3: Any = None,
    phi3: Any = None,
    m3: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> JaggedDualArray:
    """`diffana.physics.invariant_mass3` on awkward arrays."""
    names = tuple(f"{q}{i}" for i in (1, 2, 3) for q in _P4)
    return _physics_call(  # type: ignore[no-any-return]
        _physics.invariant_mass3,
        names,
        (pt1, eta1, phi1, m1, pt2, eta2, phi2, m2, pt3, eta3, phi3, m3),
        tangents,
    )


def delta_r(
    eta1: Any,
    phi1: Any = None,
    eta2: Any = None,
    phi2: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> JaggedDualArray:
    """`diffana.physics.delta_r` on awkward arrays (e.g. every jet to the lepton)."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.delta_r,
        ("eta1", "phi1", "eta2", "phi2"),
        (eta1, phi1, eta2, phi2),
        tangents,
    )


def delta_phi(
    phi1: Any, phi2: Any = None, *, tangents: Mapping[str, Any] | None = None
) -> JaggedDualArray:
    """`diffana.physics.delta_phi` on awkward arrays."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.delta_phi, ("phi1", "phi2"), (phi1, phi2), tangents
    )


def pt_of_sum(
    pt1: Any,
    phi1: Any = None,
    pt2: Any = None,
    phi2: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> JaggedDualArray:
    """`diffana.physics.pt_of_sum` on awkward arrays."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.pt_of_sum,
        ("pt1", "phi1", "pt2", "phi2"),
        (pt1, phi1, pt2, phi2),
        tangents,
    )


def pt_of_sum3(
    pt1: Any,
    phi1: Any = None,
    pt2: Any = None,
    phi2: Any = None,
    pt3: Any = None,
    phi3: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> JaggedDualArray:
    """`diffana.physics.pt_of_sum3` on awkward arrays."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.pt_of_sum3,
        ("pt1", "phi1", "pt2", "phi2", "pt3", "phi3"),
        (pt1, phi1, pt2, phi2, pt3, phi3),
        tangents,
    )


def to_cartesian(
    pt: Any,
    eta: Any = None,
    phi: Any = None,
    m: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> tuple[JaggedDualArray, JaggedDualArray, JaggedDualArray, JaggedDualArray]:
    """`diffana.physics.to_cartesian` on awkward arrays: (px, py, pz, E)."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.to_cartesian, _P4, (pt, eta, phi, m), tangents
    )


def from_cartesian(
    px: Any,
    py: Any = None,
    pz: Any = None,
    e: Any = None,
    *,
    tangents: Mapping[str, Any] | None = None,
) -> tuple[JaggedDualArray, JaggedDualArray, JaggedDualArray, JaggedDualArray]:
    """`diffana.physics.from_cartesian` on awkward arrays: (pt, eta, phi, m)."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.from_cartesian, ("px", "py", "pz", "e"), (px, py, pz, e), tangents
    )


# ---- histograms ---------------------------------------------------------------------


def histogram(
    x: Any,
    edges: Any,
    weights: Any = None,
    bandwidth: float | None = None,
    x_tangents: Any = None,
    weight_tangents: Any = None,
    overflow: str = "drop",
    *,
    range: tuple[float, float] | None = None,
) -> GradHistogram:
    """`diffana.histogram` of every object of a jagged (or per-event) array.

    ``weights`` may be jagged like ``x`` or per event (e.g. a generator weight,
    applied to every object of its event); tangents as described in the module.

    Examples
    --------
    >>> import awkward as ak
    >>> import diffana.awkward as dak
    >>> h = dak.histogram(ak.Array([[0.5, 1.5], [], [1.2]]), [0.0, 1.0, 2.0],
    ...                   weights=ak.Array([2.0, 5.0, 1.0]))
    >>> h.values
    array([2., 3.])
    """
    return _fill.histogram(
        x, edges, weights, bandwidth, x_tangents, weight_tangents, overflow, range=range
    )
