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
    "NormSystematic",
    "Objective",
    "Optimizer",
    "Systematic",
    "WeightSystematic",
]

#: The optax optimizers the configuration may name.
OPTAX_OPTIMIZERS = (
    "adam", "adamw", "adabelief", "adagrad", "adamax", "amsgrad", "lion",
    "nadam", "novograd", "radam", "rmsprop", "sgd", "yogi",
)  # fmt: skip


class _Systematic(Model):
    name: Name
    samples: list[str] | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return identifier(v)

    def applies_to(self, sample: str) -> bool:
        """Whether the systematic acts on ``sample``."""
        return self.samples is None or sample in self.samples


class NormSystematic(_Systematic):
    """A normalization uncertainty: factors ``lo`` and ``hi`` (pyhf normsys)."""

    type: Literal["normsys"]
    lo: FiniteFloat = Field(gt=0)
    hi: FiniteFloat = Field(gt=0)


class WeightSystematic(_Systematic):
    """A shape uncertainty from alternative weight expressions (histosys)."""

    type: Literal["weight"]
    up: str
    down: str

    @field_validator("up", "down")
    @classmethod
    def _check_expr(cls, v: str) -> str:
        return expression(v)


class ColumnSystematic(_Systematic):
    """A shape uncertainty from alternative expressions of some defines (histosys).

    A one-sided variation (e.g. the AGC's jet energy resolution) gives ``up`` only
    and ``symmetrize: true``: the down histogram is then 2 nominal - up (as
    cabinetry's symmetrization), with its Jacobian likewise."""

    type: Literal["column"]
    up: dict[str, str] = Field(min_length=1)
    down: dict[str, str] | None = None
    symmetrize: StrictBool = False

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


class Objective(Model):
    """What is optimized: a ``type`` of `diffana.analysis.objectives.OBJECTIVES` and
    the extra keys that type takes.

    Examples
    --------
    >>> obj = Objective(type="cls", mu=2.0)
    >>> obj.direction.value, obj.options
    ('minimize', {'mu': 2.0, 'test_stat': 'qtilde'})
    """

    type: str
    background_uncertainty: FiniteFloat | None = Field(default=None, ge=0)
    mu: FiniteFloat = Field(default=1.0, gt=0)
    test_stat: Literal["qtilde", "q"] = "qtilde"

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

    name: str = "adam"
    learning_rate: FiniteFloat = Field(default=0.05, gt=0)
    steps: StrictInt = Field(default=50, ge=0)
    tolerance: FiniteFloat = Field(default=0.0, ge=0)
    schedule: Literal["constant", "cosine"] = "constant"

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
