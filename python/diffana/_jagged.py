# SPDX-License-Identifier: BSD-3-Clause
"""Awkward-array plumbing shared by the front ends: flatten jagged inputs and their
tangents onto the objects of the events, and put results back into shape.

Used by `diffana.awkward` (element-wise ops) and `diffana.fill` (histograms of jagged
input). Imports awkward, numpy and `diffana._dual`; nothing else of diffana, so that
both can use it without importing each other.

Copies: a float64 input reaches the kernels as a view of its awkward buffer (the
flattened content of a jagged array is a slice of it), so nothing is copied; any other
real dtype, float32 included (NanoAOD branches are float32), is converted to float64
exactly once, because the kernels compute in float64. Four-vector records (vector's
``Momentum4D``, coffea's ``PtEtaPhiMLorentzVector`` or a NanoAOD ``Jet``) give their
fields by `record_components`, views again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import awkward as ak
except ImportError as err:  # pragma: no cover - depends on the environment
    msg = (
        "diffana's awkward support needs the 'awkward' package: pip install awkward "
        "(or pip install diffana[awkward])"
    )
    raise ImportError(msg) from err

from ._checks import float_array
from ._dual import DualArray

__all__ = [
    "JaggedDualArray",
    "align",
    "content",
    "flatten",
    "flatten_tangents",
    "is_record",
    "record_components",
    "restructure",
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
    return float_array(ak.to_numpy(x, allow_missing=False), name)


def content(x: Any) -> np.ndarray:
    """The numbers of an ``events * var * number`` (or ``events * number``) array as
    numpy, in its own dtype: a view of the awkward buffer where its layout allows."""
    flat = ak.flatten(x, axis=1) if x.ndim == 2 else x
    return ak.to_numpy(flat, allow_missing=False)  # type: ignore[no-any-return]


def flatten(x: Any, name: str) -> _Flat:
    if isinstance(x, ak.Array):
        _check_type(x.type, name)
        if x.ndim == 1:
            return _Flat("event", float_array(content(x), name))
        if x.ndim == 2:
            counts = np.asarray(ak.to_numpy(ak.num(x, axis=1)), dtype=np.int64)
            return _Flat("jagged", float_array(content(x), name), counts)
        msg = (
            f"{name} has {x.ndim} dimensions ({x.type}); diffana.awkward supports "
            "per-event arrays and one level of jaggedness (events * var * number)"
        )
        raise ValueError(msg)
    arr = float_array(x, name)
    if arr.ndim == 0:
        return _Flat("scalar", arr)
    if arr.ndim == 1:
        return _Flat("event", arr)
    msg = (
        f"{name} must be a scalar, a per-event array or a jagged ak.Array, got a "
        f"numpy array of shape {arr.shape}"
    )
    raise ValueError(msg)


def flatten_tangents(t: Any, ref: _Flat, name: str) -> np.ndarray:
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
    arr = _to_numpy(t, name) if isinstance(t, ak.Array) else float_array(t, name)
    want = (*ref.data.shape, "P")
    if arr.ndim != ref.data.ndim + 1 or arr.shape[:-1] != ref.data.shape:
        msg = f"{name} must have shape {want}, got {arr.shape}"
        raise ValueError(msg)
    return arr


def align(
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
    flats = [flatten(x, n) for x, n in zip(inputs, names, strict=True)]
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
        ft = None if t is None else flatten_tangents(t, f, label)
        if f.kind == "event" and counts is not None:
            flat_inputs.append(np.repeat(f.data, counts))
            if ft is not None:
                ft = np.repeat(ft, counts, axis=0)
        else:
            flat_inputs.append(f.data)
        if ft is not None:
            flat_tangents[n] = ft
    return flat_inputs, flat_tangents, counts


# ---- four-vector records -----------------------------------------------------------

#: The record fields that hold each momentum component, in the order they are tried:
#: vector's names (pt or rho, mass or m or M or tau, px or x, E or e or t, ...) and
#: NanoAOD's / coffea's (pt, eta, phi, mass).
_FIELDS = {
    "pt": ("pt", "rho"),
    "eta": ("eta",),
    "phi": ("phi",),
    "m": ("mass", "m", "M", "tau"),
    "px": ("px", "x"),
    "py": ("py", "y"),
    "pz": ("pz", "z"),
    "e": ("E", "e", "energy", "t"),
}
#: The attribute a vector or coffea behaviour computes for a component it has no field for.
_COMPUTED = {
    "pt": "pt",
    "eta": "eta",
    "phi": "phi",
    "m": "mass",
    "px": "px",
    "py": "py",
    "pz": "pz",
    "e": "energy",
}


def is_record(x: Any) -> bool:
    """Whether ``x`` is an awkward array of records (e.g. jets as four-vectors)."""
    return isinstance(x, ak.Array) and bool(ak.fields(x))


def record_components(x: Any, wanted: Sequence[str], name: str) -> list[Any]:
    """The momentum components ``wanted`` (``"pt"``, ``"eta"``, ``"phi"``, ``"m"``,
    ``"px"``, ``"py"``, ``"pz"``, ``"e"``) of the records ``x``.

    A component stored as a field is that field (a view: no copy); one the record's
    behaviour computes (vector's or coffea's, e.g. ``pt`` of a Cartesian vector) is
    computed once. TypeError naming ``name`` and the record's fields otherwise.
    """
    fields = ak.fields(x)
    out = []
    for c in wanted:
        field = next((f for f in _FIELDS[c] if f in fields), None)
        if field is not None:
            out.append(x[field])
            continue
        try:
            out.append(getattr(x, _COMPUTED[c]))
        except AttributeError:
            msg = (
                f"{name} is a record without a {c} component (fields {fields}): give "
                f"it a field {' or '.join(_FIELDS[c])}, or a vector/coffea behaviour "
                "such as vector.register_awkward() and with_name='Momentum4D'"
            )
            raise TypeError(msg) from None
    return out


def restructure(d: DualArray, counts: np.ndarray | None) -> JaggedDualArray:
    if counts is None:
        return JaggedDualArray(ak.Array(d.value), ak.Array(d.tangents), d.n_params)
    value = ak.unflatten(d.value, counts)
    tangents = ak.unflatten(ak.from_numpy(d.tangents), counts)
    return JaggedDualArray(value, tangents, d.n_params)
