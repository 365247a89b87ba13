# SPDX-License-Identifier: BSD-3-Clause
"""The schema of what the event loop reads and computes: samples, parameters,
selections and observables (with their bins).

May import pydantic, `diffana.analysis._schema_base` and `diffana.correction` (lazily,
to check the corrections).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from ._schema_base import (
    FiniteFloat,
    Model,
    Name,
    StrictBool,
    StrictInt,
    expression,
    identifier,
    problems,
)

__all__ = [
    "Bins",
    "Correction",
    "DataSample",
    "Observable",
    "Parameter",
    "Sample",
    "Selection",
    "correction_problems",
]

_CHANNEL = re.compile(r"^[A-Za-z0-9_]+$")


class _Events(Model):
    """What the event loop reads of a sample or of the data: named ROOT files with
    a TTree, and an event weight (each subclass says the name's default and what
    the weight means)."""

    name: Name
    files: list[str] = Field(
        min_length=1,
        description="ROOT files (one path or a list; globs allowed), relative to "
        "the configuration's folder.",
    )
    tree: str = Field(default="Events", description="The TTree in every file.")
    weight: str

    @field_validator("files", mode="before")
    @classmethod
    def _one_file(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return identifier(v)

    @field_validator("weight")
    @classmethod
    def _check_weight(cls, v: str) -> str:
        return expression(v)


class Sample(_Events):
    """One input sample: ROOT files with a TTree."""

    name: Name = Field(
        description="The sample's name (a C++ identifier): the pyhf sample name."
    )
    weight: str = Field(
        default="1.0", description="The event weight: a C++ expression."
    )
    xsec: FiniteFloat | None = Field(
        default=None,
        gt=0,
        description="The cross-section: the histograms are scaled by xsec * lumi / "
        "(the sum of weight over all events of the files); null: not scaled.",
        json_schema_extra={"unit": "pb"},
    )
    scale: FiniteFloat = Field(
        default=1.0, gt=0, description="A factor on the sample's histograms."
    )
    role: Literal["signal", "background"] = Field(
        description="signal (scaled by the POI, unless the POI is declared in "
        "normfactors) or background. Data go under the top-level key data."
    )

    @field_validator("role", mode="before")
    @classmethod
    def _not_data(cls, v: Any) -> Any:
        if v == "data":
            msg = (
                "data is not a role of samples; the data sample goes under "
                "the top-level key data: {name: data, files: [...]}"
            )
            raise ValueError(msg)
        return v


class Correction(Model):
    """A correctionlib correction the expressions call by its key's name."""

    file: str = Field(
        description="The correctionlib JSON file (relative to the configuration's "
        "folder; .json or .json.gz)."
    )
    correction: str | None = Field(
        default=None,
        description="The correction in the file (default: the file's only one, or "
        "the one named as the key).",
    )


class DataSample(_Events):
    """The observed data: ROOT files with a TTree, histogrammed by the same event
    loop code as the simulated samples (without systematics or scaling); its
    histograms are the workspace's observations.

    Examples
    --------
    >>> d = DataSample(files="data.root")
    >>> d.name, d.files, d.xsec, d.scale
    ('data', ['data.root'], None, 1.0)
    """

    name: Name = Field(
        default="data",
        description="The data sample's name (a C++ identifier, not a sample's name).",
    )
    weight: str = Field(
        default="1.0",
        description="The event weight (a C++ expression; 1 for real data).",
    )

    @property
    def xsec(self) -> None:
        """Data are not scaled to a cross-section."""
        return None

    @property
    def scale(self) -> float:
        """Data are not scaled."""
        return 1.0


class Parameter(Model):
    """An analysis parameter: a DiffFrame parameter, optimized or not."""

    name: Name = Field(
        description="The parameter's name (a C++ identifier): the expressions use "
        "it as a variable."
    )
    value: FiniteFloat = Field(
        description="The initial value (in the units of the expressions that use it)."
    )
    bounds: tuple[FiniteFloat, FiniteFloat] | None = Field(
        default=None,
        description="[lo, hi] with lo < hi and lo <= value <= hi; required when "
        "optimized: the optimizer steps in (value - lo) / (hi - lo).",
    )
    optimize: StrictBool = Field(
        default=True,
        description="Whether the optimizer moves it (false: fixed, its gradient is "
        "still reported).",
    )
    relaxation: StrictBool = Field(
        default=False,
        description="A relaxation scale (e.g. a soft-cut width or a softmax "
        "temperature), set to 0 by diffana evaluate --hard; the expressions must "
        "treat 0 as hard.",
    )
    unit: str | None = Field(
        default=None, description="Its unit, for the plots' axes (e.g. GeV)."
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return identifier(v)

    @model_validator(mode="after")
    def _bounds(self) -> Parameter:
        if self.bounds is None:
            if self.optimize:
                msg = (
                    f"parameter {self.name!r} is optimized and needs bounds: [lo, hi] "
                    "(or optimize: false)"
                )
                raise ValueError(msg)
            return self
        lo, hi = self.bounds
        if not lo < hi:
            msg = f"bounds must be finite with lo < hi, got [{lo}, {hi}]"
            raise ValueError(msg)
        if not lo <= self.value <= hi:
            msg = f"value {self.value} is outside its bounds [{lo}, {hi}]"
            raise ValueError(msg)
        return self


class Selection(Model):
    """``{filter: EXPR}`` (hard) or ``{soft_filter: EXPR}`` (soft, a weight)."""

    filter: str | None = Field(
        default=None,
        description="A hard selection (a C++ boolean expression): not differentiable.",
    )
    soft_filter: str | None = Field(
        default=None,
        description="A soft selection: a C++ expression in [0, 1] that multiplies "
        "the event weight (differentiable).",
    )

    @model_validator(mode="after")
    def _one(self) -> Selection:
        given = [k for k in ("filter", "soft_filter") if getattr(self, k) is not None]
        if len(given) != 1:
            msg = "a selection needs exactly one of filter: EXPR or soft_filter: EXPR"
            raise ValueError(msg)
        expression(self.expression)
        return self

    @property
    def kind(self) -> str:
        """``"filter"`` or ``"soft_filter"``."""
        return "filter" if self.filter is not None else "soft_filter"

    @property
    def expression(self) -> str:
        """The selection's expression."""
        return self.filter if self.filter is not None else str(self.soft_filter)


class Bins(Model):
    """Regular bins: ``n`` bins from ``low`` to ``high``."""

    low: FiniteFloat = Field(description="The lower edge (in the observable's units).")
    high: FiniteFloat = Field(
        description="The upper edge (in the observable's units); above low."
    )
    n: StrictInt = Field(ge=1, description="The number of bins.")

    @model_validator(mode="after")
    def _order(self) -> Bins:
        if not self.low < self.high:
            msg = f"low ({self.low}) must be below high ({self.high})"
            raise ValueError(msg)
        return self


class Observable(Model):
    """A histogrammed quantity: one channel (region) of the statistical model.

    Examples
    --------
    >>> obs = Observable(name="sr", expression="mjj",
    ...                  bins={"low": 0.0, "high": 3.0, "n": 3}, fit_bins=[0.0, 1.0, 3.0])
    >>> obs.edges, obs.fit_edges
    ([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 3.0])
    """

    name: Name = Field(
        description="The channel (region) name: letters, digits and underscores (a "
        "leading digit is fine)."
    )
    expression: str = Field(description="The histogrammed quantity: a C++ expression.")
    bins: list[FiniteFloat] | Bins = Field(
        description="At least two strictly increasing edges, or {low, high, n} "
        "(in the observable's units)."
    )
    weight: str | None = Field(
        default=None,
        description="An expression that multiplies the event weight in this "
        "channel only (e.g. a soft region membership probability); null: 1.",
    )
    fit_bins: list[FiniteFloat] | None = Field(
        default=None,
        description="Coarser bin edges for the statistical model: a subset of the "
        "edges, the bins between them merged; null: the bins themselves.",
    )
    bandwidth: FiniteFloat | None = Field(
        default=None,
        gt=0,
        description="null: hard binning; > 0: soft binning, the Gaussian kernel's "
        "width (in the observable's units).",
    )
    overflow: Literal["drop", "fold"] = Field(
        default="drop",
        description="drop: what falls outside the edges is lost; fold: it is "
        "counted in the first or last bin.",
    )
    label: str | None = Field(
        default=None, description="The x-axis label of the plots."
    )
    unit: str | None = Field(
        default=None,
        description="The observable's unit for the plots' axes (default: the "
        "[...] at the end of label).",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        # A channel name, also part of C++ column names: letters, digits and
        # underscores; a leading digit is fine (the AGC's regions are 4j1b, 4j2b).
        if not _CHANNEL.match(v):
            msg = f"{v!r} is not a channel name (letters, digits and underscores)"
            raise ValueError(msg)
        # One that is an identifier must not be a reserved one (std, Sum, int).
        return v if v[0].isdigit() else identifier(v)

    @field_validator("expression", "weight")
    @classmethod
    def _check_expr(cls, v: str | None) -> str | None:
        return None if v is None else expression(v)

    @field_validator("bins", mode="before")
    @classmethod
    def _regular(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            try:
                return Bins.model_validate(v)
            except ValidationError as err:
                lines = [p.text for p in problems(err, Bins, nested=True)]
                raise ValueError("; ".join(lines)) from None
        return v

    @field_validator("bins")
    @classmethod
    def _edges(cls, v: list[float] | Bins) -> list[float] | Bins:
        if isinstance(v, Bins):
            return v
        if len(v) < 2:
            msg = f"bins needs at least 2 edges, got {len(v)}"
            raise ValueError(msg)
        if any(b <= a for a, b in itertools.pairwise(v)):
            msg = f"bin edges must be strictly increasing, got {v}"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _fit_bins_subset(self) -> Observable:
        if self.fit_bins is None:
            return self
        edges = self.edges
        fit = self.fit_bins
        if len(fit) < 2 or any(b <= a for a, b in itertools.pairwise(fit)):
            msg = f"fit_bins must be >= 2 strictly increasing edges, got {fit}"
            raise ValueError(msg)
        tol = 1e-9 * (edges[-1] - edges[0])
        # The nearest edge of each fit edge (sorted search: linear, not bins^2).
        e = np.asarray(edges)
        i = np.clip(np.searchsorted(e, fit), 1, e.size - 1)
        nearest = np.minimum(np.abs(e[i] - fit), np.abs(e[i - 1] - fit))
        missing = np.asarray(fit)[nearest > tol].tolist()
        if missing:
            msg = f"fit_bins {missing} are not edges of bins (edges: {edges})"
            raise ValueError(msg)
        return self

    @property
    def edges(self) -> list[float]:
        """The bin edges."""
        if isinstance(self.bins, Bins):
            b = self.bins
            return [b.low + (b.high - b.low) * i / b.n for i in range(b.n + 1)]
        return list(self.bins)

    @property
    def fit_edges(self) -> list[float]:
        """The statistical model's bin edges: ``fit_bins``, or the edges."""
        return list(self.fit_bins) if self.fit_bins is not None else self.edges


def correction_problems(config: Any, params: set[str]) -> list[str]:
    """What is wrong with ``config.corrections``: a name that is also a parameter,
    define or sample (the expressions could not tell them apart), a file that is
    missing, or a correction that correctionlib's schema refuses or that is not in
    the file (each problem names the key)."""
    import os

    out: list[str] = []
    taken = params | set(config.defines) | {s.name for s in config.samples}
    for name, ref in config.corrections.items():
        key = f"corrections.{name}"
        if name in taken:
            out.append(f"{key}: the name is also a parameter, define or sample")
            continue
        path = os.path.join(config.base_dir, os.path.expanduser(ref.file))
        if not os.path.isfile(path):
            out.append(f"{key}: no file {path}")
            continue
        try:
            from ..correction import pick

            pick(name, path, ref.correction)
        except ImportError as e:
            out.append(f"{key}: {e}")
        except (ValueError, OSError) as e:  # CorrectionError is a ValueError
            out.append(f"{key}: {path}: {e}")
    return out
