# SPDX-License-Identifier: BSD-3-Clause
"""The histogram type that carries its Jacobian: `GradHistogram`, `GradHistogram2D`.

An event at ``x`` with weight ``w`` adds ``w`` to the bin that contains ``x`` (hard
binning, numpy's convention: bins ``[lo, hi)``, the last one closed), or, with a
bandwidth ``h > 0``, ``w * (Phi((hi - x) / h) - Phi((lo - x) / h))`` to every bin
(soft binning, exactly ``relaxed.hist``). When ``x`` and ``w`` depend on P parameters
(their tangents), the histogram also holds ``jacobian[b, k] = d values[b] / d param_k``
and the same for the sum of squared contributions. Events with a NaN ``x`` (or ``y``)
or a non-finite weight are skipped and counted in ``n_skipped``; they never produce NaN
bins. ``x = +-inf`` is an ordinary under/overflow.

The histograms follow the UHI PlottableHistogram protocol (``kind``, ``values()``,
``variances()``, ``counts()``, ``axes``; see `diffana._uhi`), so mplhep plots them and
hist, boost-histogram and uproot recognise them; ``h.values`` stays the array it always
was. They have no flow bins: what fell outside the edges was dropped or folded into the
outer bins (``overflow``).

This module is the type: storage, merging, scaling, rebinning, mirroring, pickling;
`diffana._hist_io` converts to and from ``hist.Hist`` and ROOT files, `diffana.fill`
makes histograms from arrays. Imports numpy, `_checks`, `_dual`, `_uhi` and
`_hist_io` (which imports ``hist`` and ``uproot`` only when used).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _hist_io
from ._dual import FloatArray
from ._uhi import COUNT, BinArray, EdgesAxis, effective_counts

__all__ = ["GradHistogram", "GradHistogram2D"]


def _check_same_binning(a: Any, b: Any) -> None:
    if type(a) is not type(b):
        msg = f"cannot merge {type(a).__name__} with {type(b).__name__}"
        raise TypeError(msg)
    for attr in ("edges_tuple", "bandwidth", "overflow"):
        va, vb = getattr(a, attr), getattr(b, attr)
        same = (
            all(np.array_equal(x, y) for x, y in zip(va, vb, strict=True))
            if attr == "edges_tuple"
            else va == vb
        )
        if not same:
            name = "edges" if attr == "edges_tuple" else attr
            msg = f"cannot merge histograms with different {name}: {va!r} != {vb!r}"
            raise ValueError(msg)
    if a.param_names != b.param_names:
        msg = (
            "cannot merge histograms of different parameters: "
            f"{a.param_names} != {b.param_names}"
        )
        raise ValueError(msg)
    if a.n_params != b.n_params:
        msg = (
            "cannot merge histograms with different numbers of parameters: "
            f"{a.n_params} != {b.n_params}"
        )
        raise ValueError(msg)


# ---- the classes ----------------------------------------------------------------------


class _GradHistogramBase(_hist_io.HistConversions):
    """Shared storage, merging, pickling, UHI protocol and conversions of the 1D and
    2D gradient histograms."""

    jacobian: FloatArray
    variances_jacobian: FloatArray
    n_skipped: int
    overflow: str
    bandwidth: Any
    #: What the Jacobian's last axis is the derivative with respect to (None: unnamed).
    param_names: tuple[str, ...] | None = None

    # ``values`` and ``variances`` live in __dict__ as plain arrays (what pickles hold);
    # reading them gives a BinArray view, the array that is also UHI's method.
    @property
    def values(self) -> BinArray:
        """Sum of weights per bin; also callable (``h.values()``, the UHI method)."""
        return BinArray.of(self.__dict__["values"])

    @values.setter
    def values(self, array: ArrayLike) -> None:
        self.__dict__["values"] = np.asarray(array, dtype=np.float64)

    @property
    def variances(self) -> BinArray:
        """Sum of squared contributions per bin; also callable (``h.variances()``)."""
        return BinArray.of(self.__dict__["variances"])

    @variances.setter
    def variances(self, array: ArrayLike) -> None:
        self.__dict__["variances"] = np.asarray(array, dtype=np.float64)

    @property
    def kind(self) -> str:
        """UHI's kind: ``"COUNT"`` (the values are sums of weights)."""
        return COUNT

    @property
    def axes(self) -> tuple[EdgesAxis, ...]:
        """UHI axes, one per dimension: ``len(axis)`` bins, ``axis[i] == (lo, hi)``,
        no flow bins.

        Examples
        --------
        >>> import diffana
        >>> h = diffana.histogram([0.5], [0.0, 1.0, 3.0])
        >>> len(h.axes[0]), h.axes[0][1], h.axes[0].traits.overflow
        (2, (1.0, 3.0), False)
        """
        names = ("x", "y") if len(self.edges_tuple) == 2 else ("x",)
        return tuple(
            EdgesAxis(e, n) for e, n in zip(self.edges_tuple, names, strict=True)
        )

    def counts(self, flow: bool = False) -> FloatArray:
        """UHI's effective number of entries per bin, ``values**2 / variances``
        (0 where the variance is 0). No flow bins exist, so ``flow`` adds none."""
        del flow
        return effective_counts(self.__dict__["values"], self.__dict__["variances"])

    @property
    def edges_tuple(self) -> tuple[FloatArray, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n_params(self) -> int:
        """The number P of parameters (the last dimension of ``jacobian``)."""
        return int(self.jacobian.shape[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        """The number of bins along each axis."""
        return tuple(self.values.shape)

    def _set_param_names(self, param_names: Sequence[str] | None) -> None:
        self.param_names = None if param_names is None else tuple(param_names)
        if self.param_names is not None and len(self.param_names) != self.n_params:
            msg = (
                f"param_names names {len(self.param_names)} parameters, but the "
                f"Jacobian has {self.n_params}: {list(self.param_names)}"
            )
            raise ValueError(msg)

    def _copy_with(self, **arrays: Any) -> Any:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        # Plain arrays in __dict__, never BinArray views (what pickles and copies hold).
        new.__dict__.update(
            {
                k: np.asarray(v) if isinstance(v, np.ndarray) else v
                for k, v in arrays.items()
            }
        )
        return new

    def merge(self, *others: Any) -> Any:
        """The sum of this histogram and ``others`` (same binning and P required).

        Histograms of separate chunks of events add up to the histogram of all.
        """
        values = self.values.copy()
        variances = self.variances.copy()
        jacobian = self.jacobian.copy()
        variances_jacobian = self.variances_jacobian.copy()
        n_skipped = self.n_skipped
        for o in others:
            _check_same_binning(self, o)
            values += o.values
            variances += o.variances
            jacobian += o.jacobian
            variances_jacobian += o.variances_jacobian
            n_skipped += o.n_skipped
        return self._copy_with(
            values=values,
            variances=variances,
            jacobian=jacobian,
            variances_jacobian=variances_jacobian,
            n_skipped=n_skipped,
        )

    def scaled(self, factor: float) -> Any:
        """The histogram of the events' weights times ``factor`` (a constant):
        values and Jacobian scale by ``factor``, variances by ``factor**2``.

        Examples
        --------
        >>> import diffana
        >>> h = diffana.histogram([0.5, 1.5], [0.0, 1.0, 2.0]).scaled(2.0)
        >>> h.values, h.variances
        (array([2., 2.]), array([4., 4.]))
        """
        k = _checks.finite_scalar(factor, "factor")
        return self._copy_with(
            values=self.values * k,
            variances=self.variances * (k * k),
            jacobian=self.jacobian * k,
            variances_jacobian=self.variances_jacobian * (k * k),
        )

    def mirrored(self, nominal: Any) -> Any:
        """The opposite variation of this one around ``nominal``: ``2 nominal - self``,
        clipped at 0 (no negative yields; the Jacobian is 0 where clipped). The
        variances are the nominal's (one-sided systematics carry no statistics).

        Examples
        --------
        >>> import diffana
        >>> nom = diffana.histogram([0.5, 1.5], [0.0, 1.0, 2.0])
        >>> up = diffana.histogram([0.5, 1.5], [0.0, 1.0, 2.0], weights=[1.5, 3.0])
        >>> up.mirrored(nom).values
        array([0.5, 0. ])
        """
        _check_same_binning(self, nominal)
        down = 2.0 * nominal.values - self.values
        keep = down > 0
        jac = 2.0 * nominal.jacobian - self.jacobian
        return self._copy_with(
            values=np.where(keep, down, 0.0),
            variances=nominal.variances.copy(),
            jacobian=np.where(keep[..., None], jac, 0.0),
            variances_jacobian=nominal.variances_jacobian.copy(),
        )

    def to_json(self) -> dict[str, Any]:
        """The histogram as plain lists (values, variances, Jacobians, edges) and
        its parameter names."""
        edges = self.edges_tuple
        return {
            "edges": edges[0].tolist()
            if len(edges) == 1
            else [e.tolist() for e in edges],
            "values": self.values.tolist(),
            "variances": self.variances.tolist(),
            "jacobian": self.jacobian.tolist(),
            "variances_jacobian": self.variances_jacobian.tolist(),
            "param_names": None if self.param_names is None else list(self.param_names),
        }

    def _parts(self) -> _hist_io.Parts:
        return _hist_io.Parts(
            self.__dict__["values"],
            self.__dict__["variances"],
            self.jacobian,
            self.variances_jacobian,
            self.edges_tuple,
            self.bandwidth,
            self.overflow,
            self.n_skipped,
            self.param_names,
        )

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, _GradHistogramBase):
            return NotImplemented
        return self.merge(other)

    def __radd__(self, other: Any) -> Any:
        # sum([h1, h2, ...]) starts from 0
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented


class GradHistogram(_GradHistogramBase):
    """A 1D histogram with its Jacobian with respect to P parameters.

    Made by `diffana.histogram`; histograms of the same binning add up (``h1 + h2``,
    ``h.merge(h2, h3)``, ``sum([...])``) and pickle.

    Attributes
    ----------
    values : ndarray, shape (nbins,)
        Sum of weights per bin.
    variances : ndarray, shape (nbins,)
        Sum of squared contributions per bin (``w^2`` for hard binning,
        ``(w k_b(x))^2`` for soft binning).
    jacobian : ndarray, shape (nbins, P)
        ``d values[b] / d param_k``.
    variances_jacobian : ndarray, shape (nbins, P)
        ``d variances[b] / d param_k``.
    edges : ndarray, shape (nbins + 1,)
        The bin edges.
    bandwidth : float or None
        The Gaussian kernel's width (None for hard binning).
    overflow : {"drop", "fold"}
        What happened to events outside the edges.
    n_skipped : int
        Number of events skipped because ``x`` was NaN or the weight not finite.

    Examples
    --------
    >>> import diffana
    >>> h = diffana.histogram([0.5, 1.5, 1.7], [0.0, 1.0, 2.0])
    >>> h
    GradHistogram(edges=[0.0, 1.0, 2.0], bandwidth=None, overflow='drop', n_params=0)
    >>> h.values
    array([1., 2.])
    >>> (h + h).values
    array([2., 4.])
    """

    _NDIM = 1

    def __init__(
        self,
        values: ArrayLike,
        variances: ArrayLike,
        jacobian: ArrayLike,
        variances_jacobian: ArrayLike,
        edges: ArrayLike,
        bandwidth: float | None = None,
        overflow: str = "drop",
        n_skipped: int = 0,
        *,
        param_names: Sequence[str] | None = None,
    ) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.variances = np.asarray(variances, dtype=np.float64)
        self.jacobian = np.asarray(jacobian, dtype=np.float64)
        self.variances_jacobian = np.asarray(variances_jacobian, dtype=np.float64)
        self.edges = np.asarray(edges, dtype=np.float64)
        self.bandwidth = bandwidth
        self.overflow = str(_checks.Overflow.of(overflow))
        self.n_skipped = int(n_skipped)
        nbins = self.edges.size - 1
        if self.values.shape != (nbins,) or self.variances.shape != (nbins,):
            msg = (
                f"values and variances must have shape ({nbins},) for {nbins + 1} "
                f"edges, got {self.values.shape} and {self.variances.shape}"
            )
            raise ValueError(msg)
        if (
            self.jacobian.ndim != 2
            or self.jacobian.shape[0] != nbins
            or self.variances_jacobian.shape != self.jacobian.shape
        ):
            msg = (
                f"jacobian and variances_jacobian must have shape ({nbins}, P), got "
                f"{self.jacobian.shape} and {self.variances_jacobian.shape}"
            )
            raise ValueError(msg)
        self._set_param_names(param_names)

    @property
    def edges_tuple(self) -> tuple[FloatArray, ...]:
        return (self.edges,)

    @property
    def nbins(self) -> int:
        """Number of bins."""
        return int(self.values.size)

    @property
    def centers(self) -> FloatArray:
        """Bin centres."""
        return 0.5 * self.edges[1:] + 0.5 * self.edges[:-1]  # no overflow

    @property
    def widths(self) -> FloatArray:
        """Bin widths (inf where the difference of two edges exceeds the doubles)."""
        with np.errstate(over="ignore"):
            return np.diff(self.edges)

    def rebinned(self, edges: ArrayLike) -> GradHistogram:
        """The histogram in coarser bins: ``edges`` is a subset of this histogram's
        edges; the bins between two of them are summed (values, variances and their
        Jacobians), bins outside them are left out.

        Examples
        --------
        >>> import diffana
        >>> h = diffana.histogram([0.5, 1.5, 2.5], [0.0, 1.0, 2.0, 3.0])
        >>> h.rebinned([1.0, 3.0]).values
        array([2.])
        """
        new = _checks.edges(edges)
        tol = 2e-9 * float(0.5 * self.edges[-1] - 0.5 * self.edges[0])  # no overflow
        index = np.clip(np.searchsorted(self.edges, new - tol), 0, self.edges.size - 1)
        missing = new[np.abs(self.edges[index] - new) > tol]
        if missing.size:
            msg = (
                f"cannot rebin to {new.tolist()}: {missing.tolist()} are not edges of "
                f"this histogram ({self.edges.tolist()})"
            )
            raise ValueError(msg)
        first, last = int(index[0]), int(index[-1])
        starts = index[:-1] - first  # strictly increasing: no empty group

        def merged(a: FloatArray) -> FloatArray:
            # Linear in the bins (a dense merge matrix was bins^2 memory).
            return np.add.reduceat(a[first:last], starts, axis=0)

        return GradHistogram(
            merged(self.values),
            merged(self.variances),
            merged(self.jacobian),
            merged(self.variances_jacobian),
            self.edges[index],
            self.bandwidth,
            self.overflow,
            self.n_skipped,
            param_names=self.param_names,
        )

    def __repr__(self) -> str:
        return (
            f"GradHistogram(edges={_short(self.edges)}, bandwidth={self.bandwidth!r}, "
            f"overflow={self.overflow!r}, n_params={self.n_params})"
        )

    @classmethod
    def _from_parts(cls, parts: _hist_io.Parts) -> GradHistogram:
        return cls(
            parts.values,
            parts.variances,
            parts.jacobian,
            parts.variances_jacobian,
            parts.edges[0],
            parts.bandwidth,
            parts.overflow,
            parts.n_skipped,
            param_names=parts.param_names,
        )


class GradHistogram2D(_GradHistogramBase):
    """A 2D histogram with its Jacobian: ``values[ix, iy]``, ``jacobian[ix, iy, k]``.

    Made by `diffana.histogram2d`; merges, adds and pickles like `GradHistogram`.
    ``bandwidth`` is a pair (x, y), each None for hard binning along that axis.

    Examples
    --------
    >>> import diffana
    >>> h = diffana.histogram2d([0.5, 1.5], [0.5, 0.5], [0, 1, 2], [0, 1])
    >>> h.values
    array([[1.],
           [1.]])
    """

    _NDIM = 2

    def __init__(
        self,
        values: ArrayLike,
        variances: ArrayLike,
        jacobian: ArrayLike,
        variances_jacobian: ArrayLike,
        xedges: ArrayLike,
        yedges: ArrayLike,
        bandwidth: tuple[float | None, float | None] = (None, None),
        overflow: str = "drop",
        n_skipped: int = 0,
        *,
        param_names: Sequence[str] | None = None,
    ) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.variances = np.asarray(variances, dtype=np.float64)
        self.jacobian = np.asarray(jacobian, dtype=np.float64)
        self.variances_jacobian = np.asarray(variances_jacobian, dtype=np.float64)
        self.xedges = np.asarray(xedges, dtype=np.float64)
        self.yedges = np.asarray(yedges, dtype=np.float64)
        self.bandwidth = (bandwidth[0], bandwidth[1])
        self.overflow = str(_checks.Overflow.of(overflow))
        self.n_skipped = int(n_skipped)
        shape = (self.xedges.size - 1, self.yedges.size - 1)
        if self.values.shape != shape or self.variances.shape != shape:
            msg = (
                f"values and variances must have shape {shape}, got "
                f"{self.values.shape} and {self.variances.shape}"
            )
            raise ValueError(msg)
        if (
            self.jacobian.ndim != 3
            or self.jacobian.shape[:2] != shape
            or self.variances_jacobian.shape != self.jacobian.shape
        ):
            msg = (
                f"jacobian and variances_jacobian must have shape {(*shape, 'P')}, "
                f"got {self.jacobian.shape} and {self.variances_jacobian.shape}"
            )
            raise ValueError(msg)
        self._set_param_names(param_names)

    @property
    def edges(self) -> tuple[FloatArray, FloatArray]:
        """``(xedges, yedges)``."""
        return (self.xedges, self.yedges)

    @property
    def edges_tuple(self) -> tuple[FloatArray, ...]:
        return (self.xedges, self.yedges)

    def __repr__(self) -> str:
        return (
            f"GradHistogram2D(xedges={_short(self.xedges)}, "
            f"yedges={_short(self.yedges)}, bandwidth={self.bandwidth!r}, "
            f"overflow={self.overflow!r}, n_params={self.n_params})"
        )

    @classmethod
    def _from_parts(cls, parts: _hist_io.Parts) -> GradHistogram2D:
        return cls(
            parts.values,
            parts.variances,
            parts.jacobian,
            parts.variances_jacobian,
            parts.edges[0],
            parts.edges[1],
            parts.bandwidth,
            parts.overflow,
            parts.n_skipped,
            param_names=parts.param_names,
        )


def _short(edges: FloatArray) -> str:
    if edges.size <= 6:
        return repr([float(e) for e in edges])
    return f"[{float(edges[0])}, {float(edges[1])}, ..., {float(edges[-1])}] ({edges.size})"
