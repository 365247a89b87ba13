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

Missing values (option types, ``None``), records and unions raise ``TypeError`` and
deeper nesting raises ``ValueError``: fill or drop missing values first
(``ak.fill_none`` / ``ak.drop_none``) and pick out numeric fields.

The soft cuts are the entries of the relaxed-op table (`diffana._ops`) evaluated on
the flattened objects. Imports awkward, numpy and the numpy front end
(`diffana._ops`, `diffana._dual`, `diffana.physics`, `diffana.hist`).

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

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import awkward as ak
except ImportError as err:  # pragma: no cover - depends on the environment
    msg = (
        "diffana.awkward needs the 'awkward' package: pip install awkward "
        "(or pip install diffana[awkward])"
    )
    raise ImportError(msg) from err

from . import _ops
from . import physics as _physics
from ._dual import DualArray, as_float_array
from .hist import GradHistogram
from .hist import histogram as _histogram

__all__ = [
    "JaggedDualArray",
    "delta_phi",
    "delta_r",
    "from_cartesian",
    "histogram",
    "invariant_mass",
    "invariant_mass3",
    "pt_of_sum",
    "pt_of_sum3",
    "soft_cut",
    "soft_window",
    "to_cartesian",
]


@dataclass(frozen=True, eq=False)
class JaggedDualArray:
    """Values and tangents of an element-wise operation on awkward arrays.

    ``value`` has the structure of the (jagged) inputs; ``tangents`` has one more,
    regular, innermost dimension of length P. Unpacks as ``value, tangents = d``.
    """

    value: Any
    tangents: Any
    n_params: int

    def __iter__(self) -> Iterator[Any]:
        yield self.value
        yield self.tangents

    def __repr__(self) -> str:
        return (
            f"JaggedDualArray(value={self.value!r}, type={self.value.type}, "
            f"n_params={self.n_params})"
        )


# ---- flattening and alignment -------------------------------------------------------


@dataclass
class _Flat:
    kind: str  # "scalar", "event" or "jagged"
    data: np.ndarray
    counts: np.ndarray | None = None


def _check_type(t: Any, name: str) -> None:
    """Rejects option, union and record types anywhere in an awkward type."""
    types = ak.types
    node = t.content if isinstance(t, types.ArrayType) else t
    while True:
        if isinstance(node, types.OptionType):
            msg = (
                f"{name} has missing values (type {t}); diffana.awkward does not "
                "handle None: use ak.fill_none or ak.drop_none first"
            )
            raise TypeError(msg)
        if isinstance(node, (types.UnionType, types.RecordType)):
            msg = (
                f"{name} must be an array of numbers (at most one level of "
                f"jaggedness), got type {t}"
            )
            raise TypeError(msg)
        if isinstance(node, (types.ListType, types.RegularType)):
            node = node.content
            continue
        if isinstance(node, types.NumpyType):
            if node.primitive in (
                "datetime64",
                "timedelta64",
                "complex64",
                "complex128",
            ):
                msg = f"{name} must hold real numbers, got type {t}"
                raise TypeError(msg)
            return
        if isinstance(node, types.UnknownType):
            return
        msg = f"{name} has an unsupported awkward type {t}"  # pragma: no cover
        raise ValueError(msg)


def _to_numpy(x: Any, name: str) -> np.ndarray:
    return as_float_array(ak.to_numpy(x, allow_missing=False), name)


def _flatten(x: Any, name: str) -> _Flat:
    if isinstance(x, ak.Array):
        _check_type(x.type, name)
        if x.ndim == 1:
            return _Flat("event", _to_numpy(x, name))
        if x.ndim == 2:
            counts = np.asarray(ak.to_numpy(ak.num(x, axis=1)), dtype=np.int64)
            return _Flat("jagged", _to_numpy(ak.flatten(x, axis=1), name), counts)
        msg = (
            f"{name} has {x.ndim} dimensions ({x.type}); diffana.awkward supports "
            "per-event arrays and one level of jaggedness (events * var * number)"
        )
        raise ValueError(msg)
    arr = as_float_array(x, name)
    if arr.ndim == 0:
        return _Flat("scalar", arr)
    if arr.ndim == 1:
        return _Flat("event", arr)
    msg = (
        f"{name} must be a scalar, a per-event array or a jagged ak.Array, got a "
        f"numpy array of shape {arr.shape}"
    )
    raise ValueError(msg)


def _flatten_tangents(t: Any, ref: _Flat, name: str) -> np.ndarray:
    """Tangents of an input as a numpy array aligned with ``ref.data`` + (P,)."""
    if ref.kind == "jagged":
        if not isinstance(t, ak.Array) or t.ndim != 3:
            got = t.type if isinstance(t, ak.Array) else np.shape(t)
            msg = (
                f"{name} must be an ak.Array of type events * var * P * float64 (the "
                f"input's structure plus a regular inner dimension), got {got}"
            )
            raise ValueError(msg)
        _check_type(t.type, name)
        counts = np.asarray(ak.to_numpy(ak.num(t, axis=1)))
        assert ref.counts is not None
        if not np.array_equal(counts, ref.counts):
            msg = f"{name} must have the same number of objects per event as its input"
            raise ValueError(msg)
        try:
            flat = _to_numpy(ak.flatten(t, axis=1), name)
        except ValueError as err:
            msg = f"{name} must have a regular innermost dimension of length P: {err}"
            raise ValueError(msg) from err
        return flat
    arr = _to_numpy(t, name) if isinstance(t, ak.Array) else as_float_array(t, name)
    want = (*ref.data.shape, "P")
    if arr.ndim != ref.data.ndim + 1 or arr.shape[:-1] != ref.data.shape:
        msg = f"{name} must have shape {want}, got {arr.shape}"
        raise ValueError(msg)
    return arr


def _align(
    names: Sequence[str],
    inputs: Sequence[Any],
    tangents: Mapping[str, Any],
    tangent_labels: Mapping[str, str] | None = None,
) -> tuple[list[np.ndarray], dict[str, np.ndarray], np.ndarray | None]:
    """Flattens the inputs and their tangents onto the objects of the jagged inputs.

    Returns the flat inputs, the flat tangents by name and the counts (None when no
    input is jagged). ``tangent_labels`` names the tangents in error messages
    (default ``<name>_tangents``).
    """
    labels = dict(tangent_labels or {})
    flats = [_flatten(x, n) for x, n in zip(inputs, names, strict=True)]
    counts: np.ndarray | None = None
    counts_name = ""
    n_events: int | None = None
    events_name = ""
    for f, n in zip(flats, names, strict=True):
        if f.kind == "jagged":
            if counts is None:
                counts, counts_name = f.counts, n
            elif f.counts is None or not np.array_equal(counts, f.counts):
                msg = (
                    f"{n} and {counts_name} must have the same number of objects in "
                    "every event"
                )
                raise ValueError(msg)
        if f.kind in ("jagged", "event"):
            length = len(f.counts) if f.kind == "jagged" else len(f.data)  # type: ignore[arg-type]
            if n_events is None:
                n_events, events_name = length, n
            elif length != n_events:
                msg = f"{n} has {length} events but {events_name} has {n_events}"
                raise ValueError(msg)
    flat_inputs = []
    flat_tangents = {}
    for f, n in zip(flats, names, strict=True):
        t = tangents.get(n)
        label = labels.get(n, f"{n}_tangents")
        ft = None if t is None else _flatten_tangents(t, f, label)
        if f.kind == "event" and counts is not None:
            flat_inputs.append(np.repeat(f.data, counts))
            if ft is not None:
                ft = np.repeat(ft, counts, axis=0)
        else:
            flat_inputs.append(f.data)
        if ft is not None:
            flat_tangents[n] = ft
    return flat_inputs, flat_tangents, counts


def _restructure(d: DualArray, counts: np.ndarray | None) -> JaggedDualArray:
    if counts is None:
        return JaggedDualArray(ak.Array(d.value), ak.Array(d.tangents), d.n_params)
    value = ak.unflatten(d.value, counts)
    tangents = ak.unflatten(ak.from_numpy(d.tangents), counts)
    return JaggedDualArray(value, tangents, d.n_params)


# ---- soft cuts ----------------------------------------------------------------------


def _relaxed(
    op: _ops.RelaxedOp,
    inputs: Sequence[Any],
    tangents: Sequence[Any],
    **options: int,
) -> JaggedDualArray:
    """A relaxed op of the table (`diffana._ops`) on the flattened objects."""
    given = {n: t for n, t in zip(op.inputs, tangents, strict=True) if t is not None}
    flat, tans, counts = _align(op.inputs, inputs, given)
    d = _ops.evaluate(op, flat, [tans.get(n) for n in op.inputs], **options)
    return _restructure(d, counts)


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
    flat, tans, counts = _align(names, inputs, given, labels)
    out = fn(*flat, tangents=tans)
    if isinstance(out, DualArray):
        return _restructure(out, counts)
    return tuple(_restructure(o, counts) for o in out)


_P4 = ("pt", "eta", "phi", "m")


def invariant_mass(
    pt1: Any,
    eta1: Any,
    phi1: Any,
    m1: Any,
    pt2: Any,
    eta2: Any,
    phi2: Any,
    m2: Any,
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
    eta1: Any,
    phi1: Any,
    m1: Any,
    pt2: Any,
    eta2: Any,
    phi2: Any,
    m2: Any,
    pt3: Any,
    eta3: Any,
    phi3: Any,
    m3: Any,
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
    phi1: Any,
    eta2: Any,
    phi2: Any,
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
    phi1: Any, phi2: Any, *, tangents: Mapping[str, Any] | None = None
) -> JaggedDualArray:
    """`diffana.physics.delta_phi` on awkward arrays."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.delta_phi, ("phi1", "phi2"), (phi1, phi2), tangents
    )


def pt_of_sum(
    pt1: Any,
    phi1: Any,
    pt2: Any,
    phi2: Any,
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
    phi1: Any,
    pt2: Any,
    phi2: Any,
    pt3: Any,
    phi3: Any,
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
    pt: Any, eta: Any, phi: Any, m: Any, *, tangents: Mapping[str, Any] | None = None
) -> tuple[JaggedDualArray, JaggedDualArray, JaggedDualArray, JaggedDualArray]:
    """`diffana.physics.to_cartesian` on awkward arrays: (px, py, pz, E)."""
    return _physics_call(  # type: ignore[no-any-return]
        _physics.to_cartesian, _P4, (pt, eta, phi, m), tangents
    )


def from_cartesian(
    px: Any, py: Any, pz: Any, e: Any, *, tangents: Mapping[str, Any] | None = None
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
    if weights is None:
        names: tuple[str, ...] = ("x",)
        inputs: tuple[Any, ...] = (x,)
    else:
        names, inputs = ("x", "weights"), (x, weights)
    given = {"x": x_tangents, "weights": weight_tangents}
    if weight_tangents is not None and weights is None:
        msg = "weight_tangents were given without weights"
        raise ValueError(msg)
    flat, tans, _ = _align(
        names,
        inputs,
        {k: v for k, v in given.items() if v is not None},
        {"weights": "weight_tangents"},
    )
    xf = flat[0]
    wf = None if weights is None else np.broadcast_to(flat[1], xf.shape)
    wt = tans.get("weights")
    if wt is not None:
        wt = np.broadcast_to(wt, (*xf.shape, wt.shape[-1]))
    return _histogram(
        xf,
        edges,
        weights=wf,
        bandwidth=bandwidth,
        x_tangents=tans.get("x"),
        weight_tangents=wt,
        overflow=overflow,
        range=range,
    )
