# SPDX-License-Identifier: BSD-3-Clause
"""Histograms that carry their Jacobian: `histogram`, `histogram2d`, `GradHistogram`.

An event at ``x`` with weight ``w`` adds ``w`` to the bin that contains ``x`` (hard
binning, numpy's convention: bins ``[lo, hi)``, the last one closed), or, with a
bandwidth ``h > 0``, ``w * (Phi((hi - x) / h) - Phi((lo - x) / h))`` to every bin
(soft binning, exactly ``relaxed.hist``). When ``x`` and ``w`` depend on P parameters
(their tangents), the histogram also holds ``jacobian[b, k] = d values[b] / d param_k``
and the same for the sum of squared contributions. Events with a NaN ``x`` (or ``y``)
or a non-finite weight are skipped and counted in ``n_skipped``; they never produce NaN
bins. ``x = +-inf`` is an ordinary under/overflow.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _core
from ._dual import FloatArray, as_float_array, as_tangents, common_n_params

__all__ = ["GradHistogram", "GradHistogram2D", "histogram", "histogram2d"]


def _edges(
    edges: ArrayLike | int, range_: tuple[float, float] | None, x: FloatArray, name: str
) -> FloatArray:
    """Bin edges from an array, or from a bin count and a range (numpy.histogram)."""
    if isinstance(edges, numbers.Integral) and not isinstance(edges, bool):
        nbins = int(edges)
        if nbins < 1:
            msg = f"{name} as a number of bins must be >= 1, got {nbins}"
            raise ValueError(msg)
        if range_ is None:
            finite = x[np.isfinite(x)]
            lo, hi = (
                (float(finite.min()), float(finite.max()))
                if finite.size
                else (0.0, 1.0)
            )
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
        else:
            lo, hi = (float(v) for v in range_)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                msg = f"range for {name} must be finite with lo < hi, got {range_!r}"
                raise ValueError(msg)
        return np.linspace(lo, hi, nbins + 1)
    return _checks.edges(edges, name)


def _weights(
    weights: ArrayLike | None, x: FloatArray, x_name: str
) -> FloatArray | None:
    if weights is None:
        return None
    w = as_float_array(weights, "weights")
    if w.shape != x.shape:
        msg = (
            f"weights must have the shape of {x_name}, got weights.shape = {w.shape} "
            f"and {x_name}.shape = {x.shape}"
        )
        raise ValueError(msg)
    return w


def _flat_tangents(t: FloatArray | None, p: int) -> FloatArray | None:
    return None if t is None else t.reshape(-1, p)


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


class _GradHistogramBase:
    """Shared storage, merging and pickling of the 1D and 2D gradient histograms."""

    values: FloatArray
    variances: FloatArray
    jacobian: FloatArray
    variances_jacobian: FloatArray
    n_skipped: int
    overflow: str
    #: What the Jacobian's last axis is the derivative with respect to (None: unnamed).
    param_names: tuple[str, ...] | None = None

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
        new.__dict__.update(arrays)
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
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def widths(self) -> FloatArray:
        """Bin widths."""
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
        tol = 1e-9 * float(self.edges[-1] - self.edges[0])
        index = np.clip(np.searchsorted(self.edges, new - tol), 0, self.edges.size - 1)
        missing = new[np.abs(self.edges[index] - new) > tol]
        if missing.size:
            msg = (
                f"cannot rebin to {new.tolist()}: {missing.tolist()} are not edges of "
                f"this histogram ({self.edges.tolist()})"
            )
            raise ValueError(msg)
        m = np.zeros((new.size - 1, self.nbins))
        for j, (lo, hi) in enumerate(itertools.pairwise(index)):
            m[j, lo:hi] = 1.0
        return GradHistogram(
            m @ self.values,
            m @ self.variances,
            m @ self.jacobian,
            m @ self.variances_jacobian,
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

    def to_hist(self) -> Any:
        """A ``hist.Hist`` with Weight storage (values and variances; no Jacobian).

        The flow bins are empty (what the ``fold`` policy kept is in the outer bins).
        Needs the ``hist`` package.
        """
        hist = _import_hist()
        h = hist.Hist(hist.axis.Variable(self.edges), storage=hist.storage.Weight())
        view = h.view()
        view.value = self.values
        view.variance = self.variances
        return h


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

    def to_hist(self) -> Any:
        """A 2D ``hist.Hist`` with Weight storage (values and variances)."""
        hist = _import_hist()
        h = hist.Hist(
            hist.axis.Variable(self.xedges),
            hist.axis.Variable(self.yedges),
            storage=hist.storage.Weight(),
        )
        view = h.view()
        view.value = self.values
        view.variance = self.variances
        return h


def _short(edges: FloatArray) -> str:
    if edges.size <= 6:
        return repr([float(e) for e in edges])
    return f"[{float(edges[0])}, {float(edges[1])}, ..., {float(edges[-1])}] ({edges.size})"


def _import_hist() -> Any:
    try:
        import hist
    except ImportError as err:
        msg = "to_hist() needs the 'hist' package: pip install hist"
        raise ImportError(msg) from err
    return hist


# ---- the functions ----------------------------------------------------------------


def _is_awkward(a: Any) -> bool:
    """True for an awkward Array, checked without importing awkward."""
    return type(a).__module__.partition(".")[0] == "awkward"


def histogram(
    x: ArrayLike,
    edges: ArrayLike | int,
    weights: ArrayLike | None = None,
    bandwidth: float | None = None,
    x_tangents: ArrayLike | None = None,
    weight_tangents: ArrayLike | None = None,
    overflow: str = "drop",
    *,
    range: tuple[float, float] | None = None,
) -> GradHistogram:
    """Fill a 1D histogram and its Jacobian with respect to P parameters.

    ``values[b] = sum_i w_i K_b(x_i)`` with ``K_b`` the indicator of bin ``b`` (hard)
    or ``Phi((hi_b - x) / h) - Phi((lo_b - x) / h)`` (soft, bandwidth ``h``);
    ``jacobian[b, k] = sum_i (dw_i/dp_k K_b(x_i) + w_i K_b'(x_i) dx_i/dp_k)``, where
    ``K_b' = 0`` for hard binning; ``variances`` is the same sum with ``w_i^2``.

    Parameters
    ----------
    x : array_like
        Event values (any shape; flattened). A jagged ``awkward.Array`` (and jagged
        weights or tangents) is handled by `diffana.awkward.histogram`.
    edges : array_like or int
        Strictly increasing, finite bin edges; or a number of bins spanning ``range``
        (numpy.histogram's convention; without ``range`` the data's finite min/max).
    weights : array_like, optional
        Event weights, of the shape of ``x`` (default 1).
    bandwidth : float, optional
        Width of the Gaussian kernel (> 0) for soft binning, as ``relaxed.hist``;
        None (default) bins hard.
    x_tangents, weight_tangents : array_like, optional
        Derivatives of ``x`` / the weights along P parameters, shape
        ``x.shape + (P,)``. Both must agree on P; P = 0 when neither is given.
    overflow : {"drop", "fold"}
        ``"drop"`` loses what falls outside the edges; ``"fold"`` counts it in the
        first/last bin (``relaxed.hist(..., reflect_infinities=True)``).
    range : (float, float), optional
        The range of the bins when ``edges`` is a number of bins.

    Returns
    -------
    GradHistogram

    Examples
    --------
    >>> import numpy as np
    >>> import diffana
    >>> x = np.array([0.2, 0.4, 1.5])
    >>> h = diffana.histogram(x, [0.0, 1.0, 2.0], weights=[1.0, 2.0, 3.0],
    ...                       weight_tangents=[[1.0], [1.0], [0.0]])
    >>> h.values, h.variances
    (array([3., 3.]), array([5., 9.]))
    >>> h.jacobian[:, 0]
    array([2., 0.])
    >>> soft = diffana.histogram(x, 2, range=(0.0, 2.0), bandwidth=0.1,
    ...                          x_tangents=np.ones((3, 1)))
    >>> np.round(soft.values, 3)  # x = 0.2 is 2 bandwidths from the edge at 0
    array([1.977, 1.   ])
    >>> np.round(soft.jacobian[:, 0], 3)  # shifting all events right gains bin 0
    array([0.541, 0.   ])
    """
    if any(_is_awkward(a) for a in (x, weights, x_tangents, weight_tangents)):
        from . import awkward as _ak  # jagged input: flatten, fill, same result type

        return _ak.histogram(
            x,
            edges,
            weights,
            bandwidth,
            x_tangents,
            weight_tangents,
            overflow,
            range=range,
        )
    xa = as_float_array(x, "x")
    e = _edges(edges, range, xa, "edges")
    w = _weights(weights, xa, "x")
    h = _checks.bandwidth(bandwidth)
    code = _checks.Overflow.of(overflow)
    xt = as_tangents(x_tangents, xa.shape, "x_tangents")
    wt = as_tangents(weight_tangents, xa.shape, "weight_tangents")
    p = common_n_params({"x_tangents": xt, "weight_tangents": wt})
    values, sumw2, jac, sumw2_jac, n_skipped, _, _ = _core.hist.fill_1d(
        xa.ravel(),
        e,
        None if w is None else w.ravel(),
        0.0 if h is None else h,
        _flat_tangents(xt, p),
        _flat_tangents(wt, p),
        int(code),
        False,
    )
    return GradHistogram(values, sumw2, jac, sumw2_jac, e, h, str(code), n_skipped)


def histogram2d(
    x: ArrayLike,
    y: ArrayLike,
    xedges: ArrayLike | int,
    yedges: ArrayLike | int,
    weights: ArrayLike | None = None,
    bandwidth: float | Sequence[float | None] | None = None,
    x_tangents: ArrayLike | None = None,
    y_tangents: ArrayLike | None = None,
    weight_tangents: ArrayLike | None = None,
    overflow: str = "drop",
    *,
    range: Sequence[tuple[float, float] | None] | None = None,
) -> GradHistogram2D:
    """Fill a 2D histogram ``values[ix, iy]`` and its Jacobian ``[ix, iy, P]``.

    Each axis bins hard or soft independently: the kernel of an event is the product
    of the x and y kernels of `histogram`.

    Parameters
    ----------
    x, y : array_like
        Event coordinates, of the same shape (flattened).
    xedges, yedges : array_like or int
        Bin edges along x and y (or numbers of bins, with ``range``).
    weights : array_like, optional
        Event weights, of the shape of ``x``.
    bandwidth : float or (float or None, float or None), optional
        One bandwidth for both axes or a pair; None bins hard (per axis in a pair).
    x_tangents, y_tangents, weight_tangents : array_like, optional
        Derivatives along P parameters, shape ``x.shape + (P,)``.
    overflow : {"drop", "fold"}
        As for `histogram`, along both axes.
    range : ((float, float), (float, float)), optional
        Ranges for axes whose edges are given as numbers of bins.

    Returns
    -------
    GradHistogram2D

    Examples
    --------
    >>> import diffana
    >>> h = diffana.histogram2d([0.5, 1.5, 1.5], [0.5, 0.5, 1.5], 2, 2,
    ...                         range=[(0, 2), (0, 2)])
    >>> h.values
    array([[1., 0.],
           [1., 1.]])
    """
    xa = as_float_array(x, "x")
    ya = as_float_array(y, "y")
    if ya.shape != xa.shape:
        msg = f"x and y must have the same shape, got {xa.shape} and {ya.shape}"
        raise ValueError(msg)
    ranges = (None, None) if range is None else tuple(range)
    if len(ranges) != 2:
        msg = f"range must be a pair of (lo, hi) ranges, got {range!r}"
        raise ValueError(msg)
    xe = _edges(xedges, ranges[0], xa, "xedges")
    ye = _edges(yedges, ranges[1], ya, "yedges")
    w = _weights(weights, xa, "x")
    if bandwidth is None or isinstance(bandwidth, numbers.Real):
        hx = hy = _checks.bandwidth(bandwidth)
    else:
        pair = tuple(bandwidth)  # type: ignore[arg-type]
        if len(pair) != 2:
            msg = f"bandwidth must be a number or a pair, got {bandwidth!r}"
            raise ValueError(msg)
        hx = _checks.bandwidth(pair[0], "bandwidth[0]")
        hy = _checks.bandwidth(pair[1], "bandwidth[1]")
    code = _checks.Overflow.of(overflow)
    xt = as_tangents(x_tangents, xa.shape, "x_tangents")
    yt = as_tangents(y_tangents, xa.shape, "y_tangents")
    wt = as_tangents(weight_tangents, xa.shape, "weight_tangents")
    p = common_n_params({"x_tangents": xt, "y_tangents": yt, "weight_tangents": wt})
    values, sumw2, jac, sumw2_jac, n_skipped = _core.hist.fill_2d(
        xa.ravel(),
        ya.ravel(),
        xe,
        ye,
        None if w is None else w.ravel(),
        0.0 if hx is None else hx,
        0.0 if hy is None else hy,
        _flat_tangents(xt, p),
        _flat_tangents(yt, p),
        _flat_tangents(wt, p),
        int(code),
    )
    return GradHistogram2D(
        values, sumw2, jac, sumw2_jac, xe, ye, (hx, hy), str(code), n_skipped
    )
