# SPDX-License-Identifier: BSD-3-Clause
"""Gradient histograms to and from ``hist.Hist`` and ROOT files (through uproot).

Works on plain data (bin contents, edges and the attributes of a gradient histogram as
a `Parts`) so that `diffana.hist` can use it without this module importing the
histogram classes back. Imports numpy; ``hist`` and ``uproot`` only inside the
functions that need them, with an install hint when they are missing.

As ``hist.Hist`` (`to_hist`, `jacobian_to_hist`, `parts_from_hist`):

- the histogram is a Weight-storage hist over Variable axes without flow bins (a
  gradient histogram has none: what fell outside was dropped or folded into the outer
  bins), ``values()`` and ``variances()`` equal to the histogram's;
- the Jacobian is a second Weight-storage hist with one more axis, a ``StrCategory``
  named ``"param"`` of the parameter names (``"0"``, ``"1"``, ... when unnamed):
  ``values()[..., k]`` is ``d values / d param_k`` and ``variances()[..., k]`` is
  ``d variances / d param_k``. The variance slot holds a derivative, which may be
  negative; hist's own arithmetic stays right for it (adding histograms adds both,
  scaling by ``c`` scales values by ``c`` and variances by ``c**2``, exactly how the
  derivatives transform), so filling chunks and summing or projecting works as usual;
- both carry a ``diffana`` attribute (a dict: bandwidth, overflow, n_skipped,
  param_names), which hist keeps through copies, pickles and sums, so the way back is
  exact. A hist made elsewhere has none and gets the defaults.

In a ROOT file (`write_root`, `read_root`), for a histogram stored as ``name``:

- ``name``: TH1D (TH2D) of the values, their variances in ``fSumw2``; the flow bins,
  which ROOT always has, are 0;
- ``name__d_<param>``: one TH1D (TH2D) per parameter in order, the bin contents
  ``d values / d param`` and ``fSumw2`` ``d variances / d param`` (read it raw: ROOT's
  ``GetBinError`` and uproot's ``variances()`` take a square root or clip at 0).
  ``<param>`` is the parameter's name, or its index when the histogram has no names;
- ``name__diffana``: TObjString, JSON with ``format`` ("diffana.GradHistogram"),
  ``version`` (1), ``ndim``, ``param_names`` (null when unnamed), ``jacobian`` (the keys
  of the derivative histograms, in parameter order), ``bandwidth``, ``overflow`` and
  ``n_skipped``.

Values are float64 throughout, so both round trips are exact.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # Self is in typing from Python 3.11 only
    from typing_extensions import Self

__all__ = [
    "HistConversions",
    "Parts",
    "jacobian_to_hist",
    "parts_from_hist",
    "read_root",
    "to_hist",
    "write_root",
]

FloatArray = NDArray[np.float64]

_FORMAT = "diffana.GradHistogram"
_VERSION = 1


@dataclass
class Parts:
    """A gradient histogram as plain data (what the classes' constructors take)."""

    values: FloatArray
    variances: FloatArray
    jacobian: FloatArray
    variances_jacobian: FloatArray
    edges: tuple[FloatArray, ...]
    bandwidth: Any = None
    overflow: str = "drop"
    n_skipped: int = 0
    param_names: tuple[str, ...] | None = None

    def meta(self) -> dict[str, Any]:
        """The attributes that are not bin contents, as JSON-ready values."""
        bw = self.bandwidth
        return {
            "bandwidth": list(bw) if isinstance(bw, tuple) else bw,
            "overflow": self.overflow,
            "n_skipped": int(self.n_skipped),
            "param_names": None if self.param_names is None else list(self.param_names),
        }


def _import(name: str, what: str) -> Any:
    try:
        return __import__(name)
    except ImportError as err:
        msg = f"{what} needs the '{name}' package: pip install {name}"
        raise ImportError(msg) from err


def _labels(parts: Parts) -> list[str]:
    if parts.param_names is not None:
        return list(parts.param_names)
    return [str(k) for k in range(parts.jacobian.shape[-1])]


def _meta_from(meta: dict[str, Any], ndim: int) -> dict[str, Any]:
    bw = meta.get("bandwidth")
    if ndim == 2:
        bw = (None, None) if bw is None else (bw[0], bw[1])
    names = meta.get("param_names")
    return {
        "bandwidth": bw,
        "overflow": meta.get("overflow", "drop"),
        "n_skipped": int(meta.get("n_skipped", 0)),
        "param_names": None if names is None else tuple(names),
    }


# ---- hist.Hist ----------------------------------------------------------------------


def _weight_hist(
    hist: Any, axes: list[Any], value: FloatArray, variance: FloatArray
) -> Any:
    h = hist.Hist(*axes, storage=hist.storage.Weight())
    view = h.view()
    view.value = value
    view.variance = variance
    return h


def _edge_axes(hist: Any, edges: tuple[FloatArray, ...]) -> list[Any]:
    return [hist.axis.Variable(e, underflow=False, overflow=False) for e in edges]


def to_hist(parts: Parts) -> Any:
    """The histogram's values and variances as a Weight-storage ``hist.Hist``."""
    hist = _import("hist", "to_hist()")
    h = _weight_hist(hist, _edge_axes(hist, parts.edges), parts.values, parts.variances)
    h.diffana = parts.meta()
    return h


def jacobian_to_hist(parts: Parts) -> Any:
    """The Jacobian as a ``hist.Hist`` with a ``"param"`` StrCategory axis last."""
    hist = _import("hist", "jacobian_hist()")
    axes = _edge_axes(hist, parts.edges)
    axes.append(hist.axis.StrCategory(_labels(parts), name="param", label="parameter"))
    h = _weight_hist(hist, axes, parts.jacobian, parts.variances_jacobian)
    h.diffana = parts.meta()
    return h


def _hist_contents(h: Any, ndim: int, what: str) -> tuple[FloatArray, FloatArray]:
    """Values and variances of ``h`` without flow bins; ValueError if the flow bins
    hold anything (a gradient histogram has nowhere to put it)."""
    values = np.asarray(h.values(flow=True), dtype=np.float64)
    variances = h.variances(flow=True)
    if variances is None:
        msg = (
            f"{what} has no variances (storage {h.storage_type.__name__}): use "
            "hist.storage.Weight() or an unweighted Double storage"
        )
        raise ValueError(msg)
    variances = np.asarray(variances, dtype=np.float64)
    inner: list[slice] = []
    for i, axis in enumerate(h.axes[:ndim]):
        lo = 1 if axis.traits.underflow else 0
        hi = lo + len(axis)
        inner.append(slice(lo, hi))
        if lo or axis.traits.overflow:
            outer = np.ones(values.shape[i], dtype=bool)
            outer[lo:hi] = False
            flow = np.take(values, np.flatnonzero(outer), axis=i)
            if np.any(flow != 0):
                msg = (
                    f"{what} has {float(np.sum(flow))} in the flow bins of axis {i}; a "
                    "gradient histogram has no flow bins: fold them into the outer "
                    "bins or remove them first"
                )
                raise ValueError(msg)
    index = tuple(inner)
    return np.ascontiguousarray(values[index]), np.ascontiguousarray(variances[index])


def _hist_edges(h: Any, ndim: int, what: str) -> tuple[FloatArray, ...]:
    if len(h.axes) < ndim:
        msg = (
            f"{what} has {len(h.axes)} axes, a {ndim}D gradient histogram needs {ndim}"
        )
        raise ValueError(msg)
    edges = []
    for i, axis in enumerate(h.axes[:ndim]):
        if not axis.traits.continuous:
            msg = (
                f"{what}: axis {i} ({type(axis).__name__}) has no bin edges; a "
                "gradient histogram needs Regular or Variable axes"
            )
            raise ValueError(msg)
        edges.append(np.asarray(axis.edges, dtype=np.float64))
    return tuple(edges)


def parts_from_hist(h: Any, jacobian: Any, ndim: int) -> Parts:
    """The gradient histogram of ``h`` (values, variances) and ``jacobian`` (a hist
    as made by `jacobian_to_hist`, or None for no parameters)."""
    if len(h.axes) != ndim:
        msg = f"the histogram has {len(h.axes)} axes, a {ndim}D gradient histogram needs {ndim}"
        raise ValueError(msg)
    edges = _hist_edges(h, ndim, "the histogram")
    values, variances = _hist_contents(h, ndim, "the histogram")
    meta = dict(getattr(h, "diffana", {}))
    names: tuple[str, ...] | None = None
    if jacobian is None:
        jac = np.zeros((*values.shape, 0))
        var_jac = np.zeros_like(jac)
        if meta.get("param_names") == []:
            names = ()
    else:
        if len(jacobian.axes) != ndim + 1:
            msg = (
                f"the Jacobian hist has {len(jacobian.axes)} axes; it needs the "
                f"histogram's {ndim} and a StrCategory of parameters last"
            )
            raise ValueError(msg)
        jedges = _hist_edges(jacobian, ndim, "the Jacobian hist")
        if not all(np.array_equal(a, b) for a, b in zip(edges, jedges, strict=True)):
            msg = "the Jacobian hist's bin edges differ from the histogram's"
            raise ValueError(msg)
        param_axis = jacobian.axes[ndim]
        if not param_axis.traits.discrete:
            msg = (
                "the Jacobian hist's last axis must be a StrCategory of parameter names"
            )
            raise ValueError(msg)
        jac, var_jac = _hist_contents(jacobian, ndim, "the Jacobian hist")
        # a category axis may carry an overflow ("other") bin: keep the named ones
        jac = np.ascontiguousarray(jac[..., : len(param_axis)])
        var_jac = np.ascontiguousarray(var_jac[..., : len(param_axis)])
        jmeta = dict(getattr(jacobian, "diffana", {}))
        meta = {**meta, **jmeta}
        unnamed = "param_names" in jmeta and jmeta["param_names"] is None
        if not unnamed:
            names = tuple(str(param_axis[k]) for k in range(len(param_axis)))
    fields = _meta_from(meta, ndim)
    fields["param_names"] = names
    return Parts(values, variances, jac, var_jac, edges, **fields)


# ---- ROOT files ---------------------------------------------------------------------


def _check_key_part(text: str, what: str) -> None:
    if not text or "/" in text or ";" in text:
        msg = f"{what} {text!r} cannot be part of a ROOT key (empty, or has '/' or ';')"
        raise ValueError(msg)


def write_root(parts: Parts, file: Any, name: str) -> None:
    """Writes the histogram, its Jacobian and its metadata into ``file`` (an uproot
    writable directory, or a path: updated if it exists, else created)."""
    uproot = _import("uproot", "to_uproot()")
    for part in name.split("/"):
        _check_key_part(part, "the histogram name")
    labels = _labels(parts)
    for label in labels:
        _check_key_part(label, "the parameter name")
    if len(set(labels)) != len(labels):
        msg = f"parameter names must be unique to be ROOT keys, got {labels}"
        raise ValueError(msg)
    keys = [f"{name}__d_{label}" for label in labels]
    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        "ndim": len(parts.edges),
        **parts.meta(),
        "jacobian": [k.rsplit("/", 1)[-1] for k in keys],
    }
    if isinstance(file, (str, os.PathLike)):
        opener = uproot.update if os.path.exists(file) else uproot.recreate
        with opener(file) as f:
            _write(parts, f, name, keys, meta)
    else:
        _write(parts, file, name, keys, meta)


def _write(
    parts: Parts, f: Any, name: str, keys: list[str], meta: dict[str, Any]
) -> None:
    hist = _import("hist", "to_uproot()")
    axes = _edge_axes(hist, parts.edges)
    f[name] = _weight_hist(hist, axes, parts.values, parts.variances)
    for k, key in enumerate(keys):
        f[key] = _weight_hist(
            hist, axes, parts.jacobian[..., k], parts.variances_jacobian[..., k]
        )
    f[f"{name}__diffana"] = json.dumps(meta)


def _root_contents(
    obj: Any, key: str
) -> tuple[FloatArray, FloatArray, tuple[FloatArray, ...]]:
    """Values, raw ``fSumw2`` (not clipped) and edges of a TH1/TH2 without flow."""
    if not hasattr(obj, "axes") or not obj.classname.startswith(("TH1", "TH2")):
        msg = f"{key} is a {obj.classname}, not a TH1 or TH2 histogram"
        raise TypeError(msg)
    edges = tuple(np.asarray(a.edges(), dtype=np.float64) for a in obj.axes)
    values = np.asarray(obj.values(flow=True), dtype=np.float64)
    sumw2 = np.asarray(obj.member("fSumw2"), dtype=np.float64)
    if sumw2.size == 0:  # filled without weights: the variance is the count
        sumw2 = values.copy()
    elif values.ndim == 2:  # ROOT's global bin: x fastest
        sumw2 = sumw2.reshape(values.shape[::-1]).T
    else:
        sumw2 = sumw2.reshape(values.shape)
    inner = tuple(slice(1, -1) for _ in edges)
    outer = np.ones(values.shape, dtype=bool)
    outer[inner] = False
    if np.any(values[outer] != 0):
        msg = (
            f"{key} has {float(values[outer].sum())} in its flow bins; a gradient "
            "histogram has no flow bins: fold them into the outer bins or remove them "
            "first"
        )
        raise ValueError(msg)
    return (
        np.ascontiguousarray(values[inner]),
        np.ascontiguousarray(sumw2[inner]),
        edges,
    )


def read_root(file: Any, name: str, ndim: int) -> Parts:
    """The histogram stored as ``name`` by `write_root` in ``file`` (an uproot
    directory or a path). A plain TH1D/TH2D without the ``__diffana`` entry reads as a
    histogram without parameters."""
    uproot = _import("uproot", "from_uproot()")
    if isinstance(file, (str, os.PathLike)):
        with uproot.open(file) as f:
            return _read(f, name, ndim)
    return _read(file, name, ndim)


def _read(f: Any, name: str, ndim: int) -> Parts:
    if name not in f:
        msg = f"no histogram {name!r} in {f.file_path}: it has {sorted(f.keys(cycle=False))}"
        raise KeyError(msg)
    values, variances, edges = _root_contents(f[name], name)
    if len(edges) != ndim:
        msg = f"{name} has {len(edges)} axes, a {ndim}D gradient histogram needs {ndim}"
        raise ValueError(msg)
    meta_key = f"{name}__diffana"
    meta: dict[str, Any] = {}
    if meta_key in f:
        meta = json.loads(str(f[meta_key]))
        if meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
            msg = (
                f"{meta_key} is not diffana metadata version {_VERSION}: "
                f"format {meta.get('format')!r}, version {meta.get('version')!r}"
            )
            raise ValueError(msg)
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    jac_keys = [folder + k for k in meta.get("jacobian", [])]
    jac = np.zeros((*values.shape, len(jac_keys)))
    var_jac = np.zeros_like(jac)
    for k, key in enumerate(jac_keys):
        jv, jvar, jedges = _root_contents(f[key], key)
        if not all(np.array_equal(a, b) for a, b in zip(edges, jedges, strict=True)):
            msg = f"{key} has other bin edges than {name}"
            raise ValueError(msg)
        jac[..., k] = jv
        var_jac[..., k] = jvar
    return Parts(values, variances, jac, var_jac, edges, **_meta_from(meta, ndim))


# ---- the methods the histogram classes share ---------------------------------------


class HistConversions:
    """``to_hist``, ``jacobian_hist``, ``from_hist``, ``to_uproot`` and
    ``from_uproot`` for a class that turns itself into `Parts` and back."""

    _NDIM: ClassVar[int]

    def _parts(self) -> Parts:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _from_parts(cls, parts: Parts) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_hist(self) -> Any:
        """A ``hist.Hist`` with Weight storage: the values and variances, over
        Variable axes without flow bins (this histogram has none). The Jacobian is
        `jacobian_hist`. Needs the ``hist`` package.

        Examples
        --------
        >>> import diffana
        >>> h = diffana.histogram([0.5, 1.5, 1.7], [0.0, 1.0, 2.0])
        >>> H = h.to_hist()
        >>> H.values(), H.variances(), H.axes[0].traits.underflow
        (array([1., 2.]), array([1., 2.]), False)
        """
        return to_hist(self._parts())

    def jacobian_hist(self) -> Any:
        """The Jacobian as a Weight-storage ``hist.Hist``: this histogram's axes and a
        ``StrCategory`` axis ``"param"`` of the parameter names (``"0"``, ``"1"``, ...
        when unnamed). ``values()[..., k]`` is ``d values / d param_k``,
        ``variances()[..., k]`` is ``d variances / d param_k`` (a derivative: it can
        be negative). Sums, projections and scalings in hist transform both exactly
        as the derivatives do.

        Examples
        --------
        >>> import diffana
        >>> h = diffana.GradHistogram([1.0, 1.0], [1.0, 1.0], [[1.0], [2.0]],
        ...                           [[2.0], [4.0]], [0.0, 1.0, 2.0], param_names=["w"])
        >>> J = h.jacobian_hist()
        >>> list(J.axes["param"]), J[:, "w"].values()
        (['w'], array([1., 2.]))
        """
        return jacobian_to_hist(self._parts())

    @classmethod
    def from_hist(cls, h: Any, jacobian: Any = None) -> Self:
        """The gradient histogram of a ``hist.Hist`` (values and variances; Regular
        or Variable axes) and, optionally, its Jacobian hist as `jacobian_hist`
        makes it. Exact inverse of `to_hist` and `jacobian_hist` (bandwidth,
        overflow, n_skipped and parameter names included); a hist made elsewhere
        gets hard binning, ``overflow="drop"`` and no parameters. Flow bins must be
        empty: a gradient histogram has nowhere to put their content.

        Examples
        --------
        >>> import diffana
        >>> h = diffana.histogram([0.5, 1.5], [0.0, 1.0, 2.0], x_tangents=[[1.0], [0.0]],
        ...                       bandwidth=0.3)
        >>> back = diffana.GradHistogram.from_hist(h.to_hist(), h.jacobian_hist())
        >>> bool((back.jacobian == h.jacobian).all()), back.bandwidth
        (True, 0.3)
        """
        return cls._from_parts(parts_from_hist(h, jacobian, cls._NDIM))

    def to_uproot(self, file: Any, name: str) -> None:
        """Writes this histogram into a ROOT file with uproot: ``name`` (TH1D or TH2D:
        values, variances in ``fSumw2``), ``name__d_<param>`` (one per parameter:
        ``d values / d param`` and, in ``fSumw2``, ``d variances / d param``) and
        ``name__diffana`` (TObjString, JSON: parameter names in order, the keys of the
        derivative histograms, bandwidth, overflow, n_skipped). ``file`` is an uproot
        writable directory or a path (updated if it exists, else created). Read it
        back with `from_uproot`.

        Examples
        --------
        >>> import os, tempfile
        >>> import diffana
        >>> h = diffana.GradHistogram([1.0, 1.0], [1.0, 1.0], [[1.0], [2.0]],
        ...                           [[2.0], [4.0]], [0.0, 1.0, 2.0], param_names=["w"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "out.root")
        ...     h.to_uproot(path, "mjj")
        ...     back = diffana.GradHistogram.from_uproot(path, "mjj")
        >>> back.jacobian[:, 0], back.param_names
        (array([1., 2.]), ('w',))
        """
        write_root(self._parts(), file, name)

    @classmethod
    def from_uproot(cls, file: Any, name: str) -> Self:
        """The histogram `to_uproot` wrote as ``name`` into ``file`` (an uproot
        directory or a path), exactly. A TH1D/TH2D written by anything else reads
        as a histogram without parameters (its flow bins must be empty)."""
        return cls._from_parts(read_root(file, name, cls._NDIM))
