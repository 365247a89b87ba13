# SPDX-License-Identifier: BSD-3-Clause
"""`DualArray` (a value and its tangents) and the argument handling shared by the
element-wise operations (`diffana.soft`, `diffana.physics`, `diffana._ops`).

Imports numpy and `diffana._checks` only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import float_array, require_finite

__all__ = ["DualArray"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class DualArray:
    """An array of values with the derivatives of every element along P directions.

    ``tangents[..., k]`` is the derivative of ``value[...]`` with respect to
    parameter ``k``, so ``tangents.shape == value.shape + (P,)``. ``P`` may be 0 (no
    parameters were given). A ``DualArray`` unpacks as ``value, tangents = d``.

    Parameters
    ----------
    value : array_like
        The values (converted to float64).
    tangents : array_like
        The tangents, of shape ``value.shape + (P,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from diffana import DualArray
    >>> d = DualArray(np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> d.n_params, d.shape
    (2, (2,))
    >>> value, tangents = d
    >>> d[1]
    DualArray(value=array(2.), tangents=array([0., 1.]))
    """

    value: FloatArray
    tangents: FloatArray

    def __post_init__(self) -> None:
        value = np.asarray(self.value, dtype=np.float64)
        tangents = np.asarray(self.tangents, dtype=np.float64)
        if tangents.shape[:-1] != value.shape or tangents.ndim != value.ndim + 1:
            msg = (
                "tangents must have shape value.shape + (P,) = "
                f"{(*value.shape, 'P')}, got {tangents.shape} for value shape "
                f"{value.shape}"
            )
            raise ValueError(msg)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "tangents", tangents)

    @property
    def n_params(self) -> int:
        """The number P of parameters (the last dimension of ``tangents``)."""
        return int(self.tangents.shape[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``value``."""
        return tuple(self.value.shape)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator[FloatArray]:
        yield self.value
        yield self.tangents

    def __getitem__(self, index: Any) -> DualArray:
        """Index the values; the tangents follow (the parameter axis is kept)."""
        if isinstance(index, tuple) and any(i is Ellipsis for i in index):
            tangent_index: Any = (*index, slice(None))
        else:
            tangent_index = index
        return DualArray(self.value[index], self.tangents[tangent_index])

    def __repr__(self) -> str:
        return f"DualArray(value={self.value!r}, tangents={self.tangents!r})"


# ---- argument checks shared by the element-wise operations ------------------------


def as_tangents(
    t: ArrayLike | None, shape: tuple[int, ...], name: str
) -> FloatArray | None:
    """Checks that the tangents of an input of this shape have shape ``shape + (P,)``."""
    if t is None:
        return None
    arr = float_array(t, name)
    if arr.ndim != len(shape) + 1 or arr.shape[:-1] != shape:
        msg = (
            f"{name} must have shape {(*shape, 'P')} (the input's shape + (P,)), "
            f"got {arr.shape}"
        )
        raise ValueError(msg)
    return arr


def common_n_params(tangents: Mapping[str, FloatArray | None]) -> int:
    """The P shared by all given tangents (0 if none); ValueError if they disagree."""
    seen = {k: t.shape[-1] for k, t in tangents.items() if t is not None}
    ps = set(seen.values())
    if len(ps) > 1:
        listing = ", ".join(f"{k} has P = {p}" for k, p in seen.items())
        msg = f"all tangents must have the same number P of parameters: {listing}"
        raise ValueError(msg)
    return ps.pop() if ps else 0


def combine(
    value: FloatArray,
    partials: Sequence[FloatArray],
    tangents: Sequence[FloatArray | None],
    n_params: int,
) -> DualArray:
    """The chain rule: ``sum_i partials[i][..., None] * tangents[i]`` (None = constant).

    Partials multiply only where the tangent is non-zero, so that an infinite partial
    (sqrt at 0) with a constant input gives 0, not NaN. A product beyond the float
    range is the true derivative's overflow: inf, without numpy's warning.
    """
    out = np.zeros((*value.shape, n_params), dtype=np.float64)
    for d, t in zip(partials, tangents, strict=True):
        if t is None or n_params == 0:
            continue
        d_b = np.broadcast_to(d, value.shape)[..., None]
        t_b = np.broadcast_to(t, out.shape)
        with np.errstate(invalid="ignore", over="ignore"):
            contrib = d_b * t_b
        out += np.where(t_b == 0.0, 0.0, contrib)
    return DualArray(value, out)


def element_wise(
    raw: Any,
    names: Sequence[str],
    inputs: Sequence[Any],
    tangents: Mapping[str, ArrayLike] | None,
    finite: Sequence[str] = (),
) -> tuple[FloatArray, FloatArray, list[FloatArray | None], int]:
    """Shared driver of the multi-input element-wise operations.

    Converts the inputs (TypeError naming a bad one), checks that those named in
    ``finite`` are finite, validates the ``tangents`` mapping (unknown names, shapes,
    a common P), calls ``raw(*arrays)`` -> ``(value, partials[..., K])`` and returns
    ``value, partials, tangent list aligned with names, P``.
    """
    arrays = [float_array(x, n) for x, n in zip(inputs, names, strict=True)]
    for a, n in zip(arrays, names, strict=True):
        if n in finite:
            require_finite(a, n)
    if not isinstance(tangents, (Mapping, type(None))):
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
    tans = {
        n: as_tangents(given.get(n), a.shape, f"tangents[{n!r}]")
        for a, n in zip(arrays, names, strict=True)
    }
    p = common_n_params(tans)
    value, partials = raw(*arrays)
    return value, partials, [tans[n] for n in names], p
