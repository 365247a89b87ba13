# SPDX-License-Identifier: BSD-3-Clause
"""The pieces of the UHI PlottableHistogram protocol that the gradient histograms use.

UHI (the Unified Histogram Interface shared by hist, boost-histogram, uproot and
mplhep) asks a plottable histogram for ``kind``, ``values()``, ``variances()``,
``counts()`` and ``axes``; each axis has ``traits``, a length and bin edges by index.
diffana's histograms have always exposed ``h.values`` and ``h.variances`` as arrays, so
they are `BinArray`: an ndarray that can also be called, returning itself as a plain
ndarray. ``h.values`` and ``h.values()`` are then the same numbers, and every existing
use of the array is untouched.

Flow bins: a gradient histogram has none (events outside the edges were dropped or
folded into the outer bins, see `diffana._checks.Overflow`), so its axes report
``underflow = overflow = False`` and ``values(flow=True)`` is ``values()``, exactly as
hist does for an axis made with ``flow=False``.

Imports numpy only.

Examples
--------
>>> import numpy as np
>>> a = BinArray.of(np.array([1.0, 2.0]))
>>> a, a()
(array([1., 2.]), array([1., 2.]))
>>> axis = EdgesAxis(np.array([0.0, 1.0, 3.0]))
>>> len(axis), axis[1], list(axis)
(2, (1.0, 3.0), [(0.0, 1.0), (1.0, 3.0)])
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["COUNT", "BinArray", "EdgesAxis", "Traits", "effective_counts"]

#: The UHI kind of every gradient histogram: the values are sums of weights.
COUNT = "COUNT"


def _plain(obj: Any) -> Any:
    """``obj`` with every `BinArray` inside it (tuples, lists, dicts) seen as ndarray."""
    if isinstance(obj, BinArray):
        return obj.view(np.ndarray)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_plain(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


class BinArray(np.ndarray[Any, np.dtype[np.float64]]):
    """Bin contents that are both the array (``h.values``) and the UHI method
    (``h.values()``, ``h.values(flow=True)``).

    Arithmetic and numpy functions on it return plain ndarrays, and it prints as one,
    so code that uses ``h.values`` as an array sees no difference.
    """

    @classmethod
    def of(cls, array: NDArray[np.float64]) -> BinArray:
        """A view of ``array`` (no copy): writes through it change ``array``."""
        return np.asarray(array).view(cls)

    def __call__(self, flow: bool = False) -> NDArray[np.float64]:
        # No flow bins exist, so flow=True has nothing to add (as hist with flow=False).
        del flow
        return self.view(np.ndarray)

    @property
    def __signature__(self) -> inspect.Signature:
        # inspect would otherwise compare the array with ``type`` (ambiguous truth
        # value); mplhep inspects ``h.values`` for a ``flow`` argument.
        return inspect.signature(self.__call__)

    def __array_ufunc__(
        self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
    ) -> Any:
        return getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return func(*_plain(args), **_plain(kwargs))

    def __reduce__(self) -> Any:
        # A BinArray that escapes into a pickle is stored as the plain array it is.
        return self.view(np.ndarray).__reduce__()

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __str__(self) -> str:
        return str(self.view(np.ndarray))


@dataclass(frozen=True)
class Traits:
    """UHI axis traits of a gradient histogram's axis: continuous, ordered, no flow."""

    circular: bool = False
    discrete: bool = False
    underflow: bool = False
    overflow: bool = False
    continuous: bool = True
    ordered: bool = True


class EdgesAxis:
    """A UHI axis over bin edges: ``len(axis)`` bins, ``axis[i] == (lo, hi)``.

    Parameters
    ----------
    edges : ndarray
        The strictly increasing bin edges (kept, not copied).
    name, label : str
        What plotters print on the axis (``label`` first, then ``name``).
    """

    def __init__(
        self, edges: NDArray[np.float64], name: str = "", label: str = ""
    ) -> None:
        self.edges = edges
        self.name = name
        self.label = label

    @property
    def traits(self) -> Traits:
        """No flow bins, not circular, not discrete."""
        return Traits()

    def __len__(self) -> int:
        return int(self.edges.size - 1)

    def __getitem__(self, index: int) -> tuple[float, float]:
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            msg = f"bin index {index} out of range for an axis of {n} bins"
            raise IndexError(msg)
        return (float(self.edges[i]), float(self.edges[i + 1]))

    def __iter__(self) -> Iterator[tuple[float, float]]:
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EdgesAxis):
            return NotImplemented
        return bool(np.array_equal(self.edges, other.edges))

    __hash__ = None  # type: ignore[assignment]  # mutable edges: not hashable

    def __repr__(self) -> str:
        return f"EdgesAxis({len(self)} bins, {float(self.edges[0])} to {float(self.edges[-1])})"


def effective_counts(
    values: NDArray[np.float64], variances: NDArray[np.float64]
) -> NDArray[np.float64]:
    """UHI's effective number of entries ``values**2 / variances`` (0 where the
    variance is 0): the number of unit-weight entries with the same relative error.

    Examples
    --------
    >>> import numpy as np
    >>> effective_counts(np.array([2.0, 0.0, 3.0]), np.array([2.0, 0.0, 9.0]))
    array([2., 0., 1.])
    """
    v = np.asarray(values, dtype=np.float64)
    var = np.asarray(variances, dtype=np.float64)
    return np.divide(v * v, var, out=np.zeros_like(v), where=var != 0)
