# SPDX-License-Identifier: BSD-3-Clause
"""Awkward arrays as one flat vector of their floating-point buffers, and back.

`to_buffers` splits an array of events into a `Buffers`: one float64 ``vector`` of
every floating-point buffer (in the depth-first order of ``ak.to_buffers``, after
``ak.to_packed``) and the structure: form, length and the *static* buffers (offsets,
integer and boolean data). ``Buffers.to_array(vector)`` and `from_buffers` rebuild
the array exactly, float32 and float16 fields in their own dtype.

With JAX: `Buffers` is a pytree whose one leaf is the vector (registered by the
first `to_buffers` where JAX is installed), so ``jax.grad(f)(b)`` is a `Buffers` whose ``to_array()`` is the gradient
with the events' structure, and ``lambda v: f(b.with_vector(v))`` is ``f`` on the
flat vector. Inside ``f``, ``b[path]`` is a field's flat content (``b["jets.pt"]``),
`Buffers.sum` sums it per event (or per jet, ...) and `Buffers.parents` takes
per-event values to the objects: slices, gathers and segment sums, which ``jax.jit``,
``jax.grad``, ``jax.vjp`` and ``jax.jvp`` trace. So are `inner` and `linear`.

Awkward's JAX backend (``ak.jax.register_and_check()``) is not used: it is
deprecated, switches JAX globally to CPU and float64, makes integer buffers leaves
too, and ``ak.from_buffers(..., backend="jax")`` fails under ``jax.jit``.

Numbers, records, tuples and jagged or regular lists are supported; strings, missing
values (option types), unions and complex numbers raise ``TypeError``. Imports
awkward and numpy; jax in `to_buffers` where it is installed.

Examples
--------
>>> import awkward as ak
>>> import jax
>>> import diffana.awkward as dak
>>> events = ak.Array([{"w": 2.0, "jets": [{"pt": 3.0}, {"pt": 4.0}]},
...                    {"w": 0.5, "jets": [{"pt": 6.0}]}])
>>> b = dak.to_buffers(events)
>>> def weighted_ht(e):  # sum over events of w * (sum of jet pt)
...     return (e["w"] * e.sum("jets.pt")).sum()
>>> float(jax.jit(weighted_ht)(b))
17.0
>>> jax.grad(weighted_ht)(b).to_array().tolist()
[{'w': 7.0, 'jets': [{'pt': 2.0}, {'pt': 2.0}]}, {'w': 6.0, 'jets': [{'pt': 0.5}]}]
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import awkward as ak
import numpy as np
from numpy.typing import NDArray

__all__ = ["Buffers", "from_buffers", "inner", "linear", "to_buffers"]

_OFFSETS = {"i32": np.int32, "u32": np.uint32, "i64": np.int64}
_STRINGS = ("string", "bytestring", "char", "byte")
_KEYED = (ak.forms.NumpyForm, ak.forms.ListOffsetForm)  # the forms with buffers


@dataclass(frozen=True)
class _Field:
    key: str  # the buffer's name in ak.to_buffers' container
    dtype: np.dtype[Any]
    shape: tuple[int, ...]  # (entries, *inner_shape)
    start: int  # where it starts in the vector; -1 for a static field
    counts: tuple[NDArray[Any], ...]  # entries per list, outermost level first
    size: int


@dataclass(frozen=True, eq=False)  # compared by identity: JAX's pytree aux data
class _Layout:
    form: ak.forms.Form
    length: int
    static: Mapping[str, NDArray[Any]]
    fields: Mapping[str, _Field]  # by path, in depth-first order
    size: int
    behavior: Any = None


class _Walk:
    """Checks a form against the static buffers and lays out its fields."""

    def __init__(self, static: Mapping[str, Any]) -> None:
        self.static = static
        self.used: dict[str, None] = {}  # in form order
        self.fields: dict[str, _Field] = {}
        self.size = 0

    def buffer(self, form: Any, what: str, dtype: Any, n: int, where: str) -> Any:
        key = f"{form.form_key}-{what}"
        if key not in self.static:
            msg = f"static has no buffer {key!r} ({what} of {where}): form and static do not match"
            raise ValueError(msg)
        buf = np.asarray(self.static[key])
        if buf.dtype != dtype or buf.size != n:
            msg = (
                f"static[{key!r}] ({what} of {where}) must hold {n} {np.dtype(dtype)}, "
                f"got {buf.size} {buf.dtype}"
            )
            raise ValueError(msg)
        self.used[key] = None
        return buf.ravel()

    def visit(self, form: Any, n: int, path: str, counts: tuple[Any, ...]) -> None:
        where = f"field {path!r}" if path else "the array"
        if form.form_key is None and isinstance(form, _KEYED):
            msg = f"the form of {where} has no form_key: use Buffers.form"
            raise ValueError(msg)
        if form.is_option:
            msg = f"{where} can be missing (type {form.type}); fill or drop missing values first (ak.fill_none / ak.drop_none)"
            raise TypeError(msg)
        if form.is_union:
            msg = f"{where} is a union ({form.type}); select a single type first"
            raise TypeError(msg)
        if form.parameter("__array__") in _STRINGS:
            msg = f"{where} holds strings, not numbers; remove that field first"
            raise TypeError(msg)
        if isinstance(form, ak.forms.NumpyForm):
            dtype = np.dtype(ak.types.numpytype.primitive_to_dtype(form.primitive))
            shape = (n, *form.inner_shape)
            size = int(np.prod(shape))
            if dtype.kind == "c":
                msg = f"{where} holds complex numbers ({dtype}); split real and imaginary parts first"
                raise TypeError(msg)
            key = f"{form.form_key}-data"
            if dtype.kind == "f":
                self.fields[path] = _Field(key, dtype, shape, self.size, counts, size)
                self.size += size
            else:
                self.buffer(form, "data", dtype, size, where)
                self.fields[path] = _Field(key, dtype, shape, -1, counts, size)
        elif isinstance(form, ak.forms.ListOffsetForm):
            off = self.buffer(form, "offsets", _OFFSETS[form.offsets], n + 1, where)
            num = np.diff(off.astype(np.int64))
            if off[0] != 0 or np.any(num < 0):
                msg = f"the offsets of {where} must start at 0 and never decrease"
                raise ValueError(msg)
            self.visit(form.content, int(off[-1]), path, (*counts, num))
        elif isinstance(form, ak.forms.RegularForm):
            num = np.full(n, form.size, dtype=np.int64)
            self.visit(form.content, n * form.size, path, (*counts, num))
        elif isinstance(form, ak.forms.RecordForm):
            for name, content in zip(form.fields, form.contents, strict=True):
                self.visit(content, n, f"{path}.{name}" if path else name, counts)
        elif not isinstance(form, ak.forms.EmptyForm):
            msg = f"{where} is a {type(form).__name__}, which to_buffers never makes (it packs arrays); pass Buffers.form"
            raise TypeError(msg)


def _layout(form: Any, length: Any, static: Any, behavior: Any = None) -> _Layout:
    if not isinstance(form, ak.forms.Form):
        msg = f"form must be an awkward Form (Buffers.form), got {type(form).__name__}"
        raise TypeError(msg)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
        msg = f"length must be an integer, got {type(length).__name__}"
        raise TypeError(msg)
    if length < 0:
        msg = f"length must be non-negative, got {length}"
        raise ValueError(msg)
    if not isinstance(static, Mapping):
        msg = f"static must be a mapping of buffer names to arrays, got {type(static).__name__}"
        raise TypeError(msg)
    walk = _Walk(static)
    walk.visit(form, int(length), "", ())
    floats = {f.key for f in walk.fields.values() if f.start >= 0}
    if extra := sorted(set(static) & floats):
        msg = f"static has float buffers {extra}: they belong in the vector"
        raise ValueError(msg)
    if extra := sorted(set(static) - set(walk.used)):
        msg = f"static has buffers {extra} that the form does not use: form and static do not match"
        raise ValueError(msg)
    frozen = {k: np.asarray(static[k]).ravel().view() for k in walk.used}
    for buf in frozen.values():
        buf.flags.writeable = False
    return _Layout(form, int(length), frozen, walk.fields, walk.size, behavior)


def _is_jax(x: Any) -> bool:
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)


def _check_vector(vector: Any, size: int) -> Any:
    v = vector if _is_jax(vector) else np.asarray(vector)
    if np.dtype(v.dtype).kind != "f":
        msg = f"vector must hold floating-point numbers, got dtype {v.dtype}"
        raise TypeError(msg)
    if v.shape != (size,):
        msg = f"vector must have shape ({size},) (the float buffers' total size), got {v.shape}"
        raise ValueError(msg)
    if _is_jax(v):
        return v
    v = v.astype(np.float64)  # a copy, so that the caller's array stays theirs
    v.flags.writeable = False
    return v


_REGISTERED = False


def _register_jax(load: bool = False) -> None:
    """Registers `Buffers` as a JAX pytree: when JAX has been imported (by anyone),
    or, with ``load``, whenever it is installed (`to_buffers` loads it, so that a
    `Buffers` made before ``import jax`` is still a pytree)."""
    global _REGISTERED
    if _REGISTERED:
        return
    if load and "jax" not in sys.modules and importlib.util.find_spec("jax"):
        importlib.import_module("jax")
    jax = sys.modules.get("jax")
    if jax is None or not hasattr(jax, "tree_util"):
        return
    flatten = lambda b: ((b.vector,), b._layout)
    jax.tree_util.register_pytree_node(
        Buffers, flatten, lambda a, v: Buffers._make(a, v[0])
    )
    _REGISTERED = True


class Buffers:
    """An awkward array as a flat float64 ``vector`` plus its static structure.

    Made by `to_buffers`; a JAX pytree with the one leaf ``vector``. Attributes:
    ``vector`` (numpy float64, read-only, or a JAX array), ``form`` (of the packed
    array), ``length`` (events), ``size`` (of the vector) and ``static`` (the
    read-only non-float buffers). ``paths`` names the float fields in vector order
    (``"jets.pt"``; ``""`` for an array of numbers).

    Examples
    --------
    >>> import awkward as ak
    >>> import diffana.awkward as dak
    >>> b = dak.to_buffers(ak.Array([{"w": 2.0, "pt": [3.0, 4.0]}, {"w": 5.0, "pt": []}]))
    >>> b.paths, b.vector
    (('w', 'pt'), array([2., 5., 3., 4.]))
    >>> b["pt"], b.parents("pt"), b.sum("pt")
    (array([3., 4.]), array([0, 0]), array([7., 0.]))
    >>> b.to_array(2 * b.vector).tolist()
    [{'w': 4.0, 'pt': [6.0, 8.0]}, {'w': 10.0, 'pt': []}]
    """

    __slots__ = ("_layout", "form", "length", "size", "static", "vector")
    _layout: _Layout
    form: ak.forms.Form
    length: int
    size: int
    static: Mapping[str, NDArray[Any]]
    vector: Any

    def __init__(self) -> None:
        msg = "make Buffers with diffana.awkward.to_buffers(array)"
        raise TypeError(msg)

    @classmethod
    def _make(cls, layout: _Layout, vector: Any) -> Buffers:
        self = object.__new__(cls)
        static = MappingProxyType(layout.static)
        for name, value in zip(
            cls.__slots__,
            (layout, layout.form, layout.length, layout.size, static, vector),
            strict=True,
        ):
            object.__setattr__(self, name, value)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"Buffers is immutable; use with_vector to change {name!r}"
        raise AttributeError(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Buffers._make, (self._layout, self.vector))

    @property
    def paths(self) -> tuple[str, ...]:
        """The float fields, in the order of the vector."""
        return tuple(p for p, f in self._layout.fields.items() if f.start >= 0)

    @property
    def dtypes(self) -> dict[str, np.dtype[Any]]:
        """The original dtype of each float field (restored by `to_array`)."""
        return {p: self._layout.fields[p].dtype for p in self.paths}

    def __repr__(self) -> str:
        return f"Buffers(length={self.length}, size={self.size}, paths={self.paths})"

    def _field(self, path: str) -> _Field:
        if path not in self._layout.fields:
            msg = (
                f"no numeric field {path!r}; the fields are {list(self._layout.fields)}"
            )
            raise KeyError(msg)
        return self._layout.fields[path]

    def __getitem__(self, path: str) -> Any:
        """The flat content of field ``path``: shape (entries, *inner_shape).

        Float fields come from the vector (float64, or JAX arrays), integer and boolean
        fields from the static buffers.
        """
        f = self._field(path)
        if f.start < 0:
            return self._layout.static[f.key].reshape(f.shape)
        return self.vector[f.start : f.start + f.size].reshape(f.shape)

    def parents(self, path: str, depth: int = 0) -> NDArray[np.int64]:
        """For each entry of field ``path``, the index of its list at nesting ``depth``.

        Depth 0 counts events, 1 the entries of the first list level (the jets of
        ``"jets.tracks.pt"``), and so on. ``x[b.parents(path)]`` takes per-event
        values ``x`` to the entries of ``path``.
        """
        f = self._field(path)
        if not 0 <= depth <= len(f.counts):
            msg = f"depth must be between 0 and {len(f.counts)} for field {path!r}, got {depth}"
            raise ValueError(msg)
        idx = np.arange(f.shape[0], dtype=np.int64)
        for num in reversed(f.counts[depth:]):
            idx = np.repeat(np.arange(num.size, dtype=np.int64), num)[idx]
        return idx

    def sum(self, path: str, values: Any = None, depth: int = 0) -> Any:
        """Sums ``values`` (default: the field ``path``) over the entries of each list
        at nesting ``depth`` (see `parents`): per event for ``depth=0``.

        Works on numpy and JAX arrays (``jax.ops.segment_sum``), so under ``jax.jit``.
        """
        f = self._field(path)
        x = self[path] if values is None else values
        if not _is_jax(x):
            x = np.asarray(x, dtype=np.float64)
        if x.shape[:1] != f.shape[:1]:
            msg = f"values must have {f.shape[0]} entries (those of field {path!r}), got shape {x.shape}"
            raise ValueError(msg)
        idx = self.parents(path, depth)
        n = self.length if depth == 0 else int(f.counts[depth - 1].sum())
        if _is_jax(x):
            import jax

            return jax.ops.segment_sum(x, idx, num_segments=n, indices_are_sorted=True)
        out = np.zeros((n, *x.shape[1:]), dtype=x.dtype)
        np.add.at(out, idx, x)
        return out

    def with_vector(self, vector: Any) -> Buffers:
        """The same structure with another vector (numpy or JAX, checked)."""
        return Buffers._make(self._layout, _check_vector(vector, self.size))

    def to_array(self, vector: Any = None, *, as_float64: bool = False) -> ak.Array:
        """The awkward array of ``vector`` (default: this one's), float fields in their
        original dtypes, or all in float64 with ``as_float64`` (e.g. for gradients)."""
        v = self.vector if vector is None else _check_vector(vector, self.size)
        if _is_jax(v) and isinstance(v, sys.modules["jax"].core.Tracer):
            msg = "to_array needs concrete numbers, got a JAX tracer: inside jax.jit/grad use Buffers[path] and Buffers.sum"
            raise TypeError(msg)
        v = np.asarray(v, dtype=np.float64)
        container: dict[str, Any] = dict(self._layout.static)
        for path in self.paths:
            f = self._layout.fields[path]
            part = v[f.start : f.start + f.size]
            with np.errstate(over="ignore"):
                container[f.key] = part.astype(np.float64 if as_float64 else f.dtype)
            if not np.array_equal(np.isfinite(part), np.isfinite(container[f.key])):
                msg = f"vector entries of field {path!r} overflow its dtype {f.dtype}"
                raise ValueError(msg)
        lay = self._layout
        form = (
            ak.forms.from_dict(_widened(lay.form.to_dict())) if as_float64 else lay.form
        )
        return ak.from_buffers(form, lay.length, container, behavior=lay.behavior)


def _widened(node: Any) -> Any:
    """A form's dict with every floating-point primitive made float64."""
    if isinstance(node, list):
        return [_widened(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _widened(v) if k != "parameters" else v for k, v in node.items()}
    if node.get("class") == "NumpyArray" and np.dtype(node["primitive"]).kind == "f":
        node["primitive"] = "float64"
    return node


def to_buffers(array: Any) -> Buffers:
    """Split an awkward array into a flat float64 vector and its static structure.

    Examples
    --------
    >>> import awkward as ak
    >>> import diffana.awkward as dak
    >>> events = ak.Array([{"n": 1, "pt": [1.5]}, {"n": 2, "pt": [2.5, 3.5]}])
    >>> b = dak.to_buffers(events)
    >>> b.vector, sorted(b.static)
    (array([1.5, 2.5, 3.5]), ['node1-data', 'node2-offsets'])
    >>> dak.from_buffers(b.form, b.length, b.vector, b.static).tolist()
    [{'n': 1, 'pt': [1.5]}, {'n': 2, 'pt': [2.5, 3.5]}]
    """
    if not isinstance(array, ak.Array):
        msg = f"array must be an awkward Array (ak.Array), got {type(array).__name__}"
        raise TypeError(msg)
    packed = ak.to_packed(ak.to_backend(array, "cpu"))
    form, length, container = ak.to_buffers(packed)
    floats = {k: v for k, v in container.items() if np.dtype(v.dtype).kind == "f"}
    static = {k: v for k, v in container.items() if k not in floats}
    layout = _layout(form, length, static, packed.behavior)
    parts = [floats[f.key].ravel() for f in layout.fields.values() if f.start >= 0]
    vector = np.concatenate([np.zeros(0), *parts])
    _register_jax(load=True)
    return Buffers._make(layout, _check_vector(vector, layout.size))


def from_buffers(form: Any, length: int, vector: Any, static: Mapping[str, Any]) -> Any:
    """The awkward array of ``to_buffers``' parts: ``form``, ``length``, the float
    ``vector`` and the ``static`` buffers, all checked against each other.

    Same as ``Buffers.to_array(vector)``; see `to_buffers` for an example.
    """
    layout = _layout(form, length, static)
    return Buffers._make(layout, _check_vector(vector, layout.size)).to_array()


def _as_buffers(x: Any, name: str) -> Buffers:
    if isinstance(x, Buffers):
        return x
    if isinstance(x, ak.Array):
        return to_buffers(x)
    msg = f"{name} must be an ak.Array or Buffers, got {type(x).__name__}"
    raise TypeError(msg)


def inner(a: Any, b: Any) -> Any:
    """The inner product of two arrays of the same structure: the sum of ``a * b``
    over every float entry (``a.vector @ b.vector``); numpy or JAX.

    Examples
    --------
    >>> import awkward as ak
    >>> import diffana.awkward as dak
    >>> x = ak.Array([{"w": 2.0, "pt": [3.0, 4.0]}])
    >>> float(dak.inner(x, x))
    29.0
    """
    a, b = _as_buffers(a, "a"), _as_buffers(b, "b")
    la, lb = a._layout, b._layout
    if la is not lb:
        if la.length != lb.length or la.form.to_dict() != lb.form.to_dict():
            msg = f"a and b differ in type: {la.length} * {la.form.type} and {lb.length} * {lb.form.type}"
            raise ValueError(msg)
        for key, buf in la.static.items():
            if not np.array_equal(buf, lb.static[key]):
                msg = f"a and b differ in structure (static buffer {key!r}, e.g. list lengths)"
                raise ValueError(msg)
    return a.vector @ b.vector


def linear(matrix: Any, array: Any, per_event: bool = False) -> Any:
    """A linear observable of structured data: ``matrix @ vector``, for the whole
    array or per event.

    Whole array: ``matrix`` has shape ``(size,)`` or ``(m, size)``, columns in vector
    order; the result is a number or ``(m,)``. Per event: every float field is first
    summed over each event's entries (`Buffers.sum`, inner dimensions included), which
    gives an ``(events, fields)`` matrix ``F`` (fields in ``paths`` order); ``matrix``
    has shape ``(fields,)`` or ``(m, fields)`` and the result is ``F @ matrix.T``:
    ``(events,)`` or ``(events, m)``. Linear, hence differentiable, in numpy or JAX.

    Examples
    --------
    >>> import awkward as ak
    >>> import diffana.awkward as dak
    >>> x = ak.Array([{"w": 2.0, "pt": [3.0, 4.0]}, {"w": 1.0, "pt": []}])
    >>> dak.linear([1.0, 1.0, 1.0, 0.0], x)
    np.float64(6.0)
    >>> dak.linear([10.0, 1.0], x, per_event=True)
    array([27., 10.])
    """
    b = _as_buffers(array, "array")
    m = matrix if _is_jax(matrix) else np.asarray(matrix, dtype=np.float64)
    xp: Any = np
    if _is_jax(m) or _is_jax(b.vector):
        import jax.numpy as xp
    n = len(b.paths) if per_event else b.size
    if m.ndim not in (1, 2) or m.shape[-1] != n:
        what = f"{n} float fields" if per_event else f"a vector of {n}"
        msg = f"matrix must have shape ({n},) or (m, {n}) for this array ({what}), got {m.shape}"
        raise ValueError(msg)
    if not per_event:
        return m @ b.vector
    sums = [(s := b.sum(p)).sum(axis=tuple(range(1, s.ndim))) for p in b.paths]
    feats = xp.stack(sums, axis=1) if sums else xp.zeros((b.length, 0))
    return feats @ m.T


_register_jax()
