# SPDX-License-Identifier: BSD-3-Clause
"""The schema of what the event loop reads and computes: samples, parameters,
selections and observables (with their bins).

May import pydantic and `diffana.analysis._schema_base`.
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

__all__ = ["Bins", "Observable", "Parameter", "Sample", "Selection"]

_CHANNEL = re.compile(r"^[A-Za-z0-9_]+$")


class Sample(Model):
    """One input sample: ROOT files with a TTree."""

    name: Name
    files: list[str] = Field(min_length=1)
    tree: str = "Events"
    weight: str = "1.0"
    xsec: FiniteFloat | None = Field(default=None, gt=0)
    scale: FiniteFloat = Field(default=1.0, gt=0)
    role: Literal["signal", "background"]

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


class Parameter(Model):
    """An analysis parameter: a DiffFrame parameter, optimized or not."""

    name: Name
    value: FiniteFloat
    bounds: tuple[FiniteFloat, FiniteFloat] | None = None
    optimize: StrictBool = True
    #: A relaxation scale (e.g. a soft-cut width or a softmax temperature), set to 0
    #: by ``diffana evaluate --hard``.
    relaxation: StrictBool = False

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

    filter: str | None = None
    soft_filter: str | None = None

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

    low: FiniteFloat
    high: FiniteFloat
    n: StrictInt = Field(ge=1)

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

    name: Name
    expression: str
    bins: list[FiniteFloat] | Bins
    #: An expression that multiplies the event weight in this channel only (e.g. a
    #: soft region membership probability); None: 1.
    weight: str | None = None
    #: Coarser bin edges for the statistical model: a subset of the edges, the bins
    #: between them merged (as the AGC fits its 25-bin histograms in 11 bins from
    #: 110 GeV); None: the bins themselves.
    fit_bins: list[FiniteFloat] | None = None
    bandwidth: FiniteFloat | None = Field(default=None, gt=0)
    overflow: Literal["drop", "fold"] = "drop"
    label: str | None = None  # x-axis label of the plots

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
