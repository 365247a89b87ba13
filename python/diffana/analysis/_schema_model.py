# SPDX-License-Identifier: BSD-3-Clause
"""The schema of the statistical model and of the optimization: systematics, the
objective (its types and extra keys come from `diffana.analysis.objectives`) and the
optax optimizer.

May import pydantic, `diffana.analysis._schema_base` and
`diffana.analysis.objectives` (the table only; it imports no JAX).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ._schema_base import (
    FiniteFloat,
    Model,
    Name,
    StrictBool,
    StrictInt,
    did_you_mean,
    expression,
    identifier,
)
from .objectives import OBJECTIVES, Direction, ObjectiveSpec

__all__ = [
    "ColumnSystematic",
    "NormFactor",
    "NormSystematic",
    "Objective",
    "Optimizer",
    "Plots",
    "Systematic",
    "WeightSystematic",
]

#: The optax optimizers the configuration may name.
OPTAX_OPTIMIZERS = (
    "adam", "adamw", "adabelief", "adagrad", "adamax", "amsgrad", "lion",
    "nadam", "novograd", "radam", "rmsprop", "sgd", "yogi",
)  # fmt: skip


class _Systematic(Model):
    name: Name = Field(
        description="The systematic's name (a C++ identifier): the pyhf modifier "
        "and nuisance parameter name."
    )
    samples: list[str] | None = Field(
        default=None,
        description="The samples it acts on; null: every sample (never the data).",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return identifier(v)

    def applies_to(self, sample: str) -> bool:
        """Whether the systematic acts on ``sample``."""
        return self.samples is None or sample in self.samples


class NormSystematic(_Systematic):
    """A normalization uncertainty: factors ``lo`` and ``hi`` (pyhf normsys)."""

    type: Literal["normsys"] = Field(
        description="normsys: a normalization uncertainty (pyhf normsys)."
    )
    lo: FiniteFloat = Field(
        gt=0, description="The factor on the yields at -1 sigma (e.g. 0.98)."
    )
    hi: FiniteFloat = Field(
        gt=0, description="The factor on the yields at +1 sigma (e.g. 1.02)."
    )


class WeightSystematic(_Systematic):
    """A shape uncertainty from alternative weight expressions (histosys)."""

    type: Literal["weight"] = Field(
        description="weight: a shape uncertainty from other event weights (histosys)."
    )
    up: str = Field(description="The event weight of the up variation (C++).")
    down: str = Field(description="The event weight of the down variation (C++).")

    @field_validator("up", "down")
    @classmethod
    def _check_expr(cls, v: str) -> str:
        return expression(v)


class ColumnSystematic(_Systematic):
    """A shape uncertainty from alternative expressions of some defines (histosys).

    A one-sided variation (e.g. the AGC's jet energy resolution) gives ``up`` only
    and ``symmetrize: true``: the down histogram is then 2 nominal - up (as
    cabinetry's symmetrization), with its Jacobian likewise."""

    type: Literal["column"] = Field(
        description="column: a shape uncertainty from other expressions of some "
        "defines (histosys)."
    )
    up: dict[str, str] = Field(
        min_length=1,
        description="define name -> its expression in the up variation.",
    )
    down: dict[str, str] | None = Field(
        default=None,
        description="define name -> its expression in the down variation (the "
        "same defines as up); null with symmetrize: true.",
    )
    symmetrize: StrictBool = Field(
        default=False,
        description="One-sided: the down histogram is 2 nominal - up (give up only).",
    )

    @model_validator(mode="after")
    def _same_columns(self) -> ColumnSystematic:
        if self.symmetrize:
            if self.down is not None:
                msg = "symmetrize: true derives the down variation; remove down"
                raise ValueError(msg)
            for v in self.up.values():
                expression(v)
            return self
        if self.down is None:
            msg = "down is missing (or set symmetrize: true for a one-sided variation)"
            raise ValueError(msg)
        if set(self.up) != set(self.down):
            msg = (
                f"up and down must vary the same defines, got {sorted(self.up)} and "
                f"{sorted(self.down)}"
            )
            raise ValueError(msg)
        for v in (*self.up.values(), *self.down.values()):
            expression(v)
        return self

    @property
    def directions(self) -> tuple[str, ...]:
        """The directions booked in the event loop: ("up",) when symmetrized."""
        return ("up",) if self.symmetrize else ("up", "down")


Systematic = Annotated[
    NormSystematic | WeightSystematic | ColumnSystematic, Field(discriminator="type")
]


class NormFactor(Model):
    """A free-floating normalization factor (pyhf normfactor): an unconstrained
    parameter that multiplies the yields of some samples. The POI is one, if it is
    named here; others are profiled in the fits (or held at ``nominal`` when
    ``fixed``).

    Examples
    --------
    >>> nf = NormFactor(name="mu_ttbar", samples=["ttbar"], bounds=[0, 5])
    >>> nf.parameter()
    {'name': 'mu_ttbar', 'inits': [1.0], 'bounds': [[0.0, 5.0]], 'fixed': False}
    """

    name: Name = Field(
        description="The parameter's name (a C++ identifier, not a systematic's)."
    )
    samples: list[str] | None = Field(
        default=None,
        description="The samples it multiplies; null: every sample (never the data).",
    )
    nominal: FiniteFloat = Field(
        default=1.0, description="The initial value (the value held when fixed)."
    )
    bounds: tuple[FiniteFloat, FiniteFloat] = Field(
        default=(0.0, 10.0),
        description="[lo, hi] of the fits, lo < hi (pyhf's default [0, 10]).",
    )
    fixed: StrictBool = Field(
        default=False,
        description="Held at nominal in the fits (not a parameter of the POI's "
        "profile).",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return identifier(v)

    @model_validator(mode="after")
    def _in_bounds(self) -> NormFactor:
        lo, hi = self.bounds
        if not lo < hi:
            msg = f"bounds must be finite with lo < hi, got [{lo}, {hi}]"
            raise ValueError(msg)
        if not lo <= self.nominal <= hi:
            msg = f"nominal {self.nominal} is outside its bounds [{lo}, {hi}]"
            raise ValueError(msg)
        return self

    def applies_to(self, sample: str) -> bool:
        """Whether the normfactor multiplies ``sample``."""
        return self.samples is None or sample in self.samples

    def parameter(self) -> dict[str, Any]:
        """Its entry in the pyhf measurement's ``parameters``."""
        return {
            "name": self.name,
            "inits": [self.nominal],
            "bounds": [list(self.bounds)],
            "fixed": self.fixed,
        }


class Objective(Model):
    """What is optimized: a ``type`` of `diffana.analysis.objectives.OBJECTIVES` and
    the extra keys that type takes.

    Examples
    --------
    >>> obj = Objective(type="cls", mu=2.0)
    >>> obj.direction.value, obj.options
    ('minimize', {'mu': 2.0, 'test_stat': 'qtilde'})
    """

    type: str = Field(
        description="The objective (an entry of the table OBJECTIVES of "
        "diffana.analysis.objectives); each type takes only its own extra keys."
    )
    background_uncertainty: FiniteFloat | None = Field(
        default=None,
        ge=0,
        description="asimov_significance only: the relative uncertainty on the "
        "background (null: none).",
    )
    mu: FiniteFloat = Field(
        default=1.0,
        gt=0,
        description="cls only: the value of the POI whose expected CLs is computed.",
    )
    test_stat: Literal["qtilde", "q"] = Field(
        default="qtilde", description="cls only: the test statistic."
    )

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in OBJECTIVES:
            names = [repr(n) for n in OBJECTIVES]
            msg = (
                f"Input should be {', '.join(names[:-1])} or {names[-1]}"
                f"{did_you_mean(v, OBJECTIVES)}"
            )
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _keys_fit_type(self) -> Objective:
        for key in sorted(self.model_fields_set - {"type"}):
            if key not in self.spec.options:
                takers = [n for n, s in OBJECTIVES.items() if key in s.options]
                msg = f"{key} is for type: {' or '.join(takers)} only"
                raise ValueError(msg)
        return self

    @property
    def spec(self) -> ObjectiveSpec:
        """The table entry of ``type``."""
        return OBJECTIVES[self.type]

    @property
    def options(self) -> dict[str, Any]:
        """The extra keys ``type`` takes, with their values (defaults included)."""
        return {k: getattr(self, k) for k in self.spec.options}

    @property
    def direction(self) -> Direction:
        """`Direction.MAXIMIZE` or `Direction.MINIMIZE` (from the table)."""
        return self.spec.direction

    @property
    def maximize(self) -> bool:
        """True for the objectives that are maximized (the significances)."""
        return self.spec.direction is Direction.MAXIMIZE


class Optimizer(Model):
    """An optax optimizer and when to stop."""

    name: str = Field(
        default="adam", description="An optax optimizer (adam, sgd, rmsprop, ...)."
    )
    learning_rate: FiniteFloat = Field(
        default=0.05,
        gt=0,
        description="The step size, in coordinates scaled to the bounds: (value - "
        "lo) / (hi - lo).",
    )
    steps: StrictInt = Field(default=50, ge=0, description="The most steps taken.")
    tolerance: FiniteFloat = Field(
        default=0.0,
        ge=0,
        description="Stop when the objective changes by less than this in a step "
        "(0: never).",
    )
    schedule: Literal["constant", "cosine"] = Field(
        default="constant",
        description="constant, or cosine: the learning rate decays to a tenth over "
        "steps.",
    )

    @field_validator("name")
    @classmethod
    def _optax(cls, v: str) -> str:
        if v not in OPTAX_OPTIMIZERS:
            msg = (
                f"unknown optimizer {v!r}; choose one of {list(OPTAX_OPTIMIZERS)}"
                f"{did_you_mean(v, OPTAX_OPTIMIZERS)}"
            )
            raise ValueError(msg)
        return v


class Plots(Model):
    """The plots' experiment label (mplhep)."""

    label: str = Field(default="diffana", description="The experiment label.")
    text: str = Field(
        default="Simulation", description="The text beside it (e.g. Preliminary)."
    )
    lumi: str | None = Field(
        default=None,
        description="The text on the right (default: lumi in 1/fb, e.g. 3.378 "
        "fb$^{-1}$).",
    )
