# SPDX-License-Identifier: BSD-3-Clause
"""The objectives an analysis may optimize: a table, `OBJECTIVES`.

Each entry maps the name written in the configuration (``objective: {type: NAME}``)
to an `ObjectiveSpec`: the function (JAX, differentiable w.r.t. the model's arrays),
its direction (significances are maximized, CLs and the POI uncertainty minimized),
whether it fits the statistical model, and which extra keys of ``objective:`` it
takes. The schema's allowed ``objective.type`` values, the check of the extra keys
and the sign of the optimizer's steps all derive from the table.

Adding an objective is one function with the signature
``f(model: ModelInputs, **options) -> scalar`` and one table entry.

May import the standard library; `diffana.stats` and JAX inside the functions only
(loading a configuration must not import JAX). Nothing else of diffana.

Examples
--------
>>> sorted(OBJECTIVES)
['asimov_significance', 'cls', 'discovery_significance', 'poi_uncertainty']
>>> spec = OBJECTIVES["cls"]
>>> spec.direction.value, spec.needs_fit, spec.options
('minimize', True, ('mu', 'test_stat'))
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["OBJECTIVES", "Direction", "ModelInputs", "ObjectiveSpec"]


class Direction(str, enum.Enum):
    """Whether an objective is maximized or minimized.

    Examples
    --------
    >>> Direction.MAXIMIZE.sign, str(Direction.MINIMIZE)
    (-1.0, 'minimize')
    """

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    def __str__(self) -> str:
        return self.value

    @property
    def sign(self) -> float:
        """The factor that turns the objective into what a minimizer (optax)
        lowers."""
        return -1.0 if self is Direction.MAXIMIZE else 1.0


class ModelInputs(Protocol):
    """What an objective is computed from: the statistical model's arrays at one
    point (`diffana.analysis.workspace.StatModel.inputs` makes it)."""

    def total(self, role: str) -> Any:
        """The nominal yields of the samples of ``role`` (signal or background)
        summed, the channels one after the other (a JAX array)."""

    def workspace(self) -> dict[str, Any]:
        """The pyhf JSON workspace whose sample data are JAX arrays; its measurement
        names the configuration's POI. Its observations are the data's arrays
        where the configuration has data (else zeros); the expected objectives use
        Asimov data and do not read them."""


@dataclasses.dataclass(frozen=True)
class ObjectiveSpec:
    """One objective: ``function(model, **options)``, its direction, whether it fits
    the model (then the signal must not vanish) and the extra keys of
    ``objective:`` it takes (the keyword arguments of ``function``)."""

    function: Callable[..., Any]
    direction: Direction
    needs_fit: bool
    options: tuple[str, ...] = ()


def asimov_significance(
    model: ModelInputs, background_uncertainty: float | None = None
) -> Any:
    """The Asimov significance of the summed bins (no fit); with a relative
    ``background_uncertainty``, the formula with that uncertainty on b."""
    from .. import stats

    s, b = model.total("signal"), model.total("background")
    unc = None if background_uncertainty is None else background_uncertainty * b
    return stats.asimov_significance(s, b, unc)


def discovery_significance(model: ModelInputs) -> Any:
    """The expected discovery significance sqrt(q0) of the profile likelihood."""
    from .. import stats

    return stats.expected_discovery_significance(model.workspace())


def cls(model: ModelInputs, mu: float = 1.0, test_stat: str = "qtilde") -> Any:
    """The expected CLs of the POI (the configuration's ``poi``) at the value
    ``mu``."""
    from .. import stats

    return stats.expected_cls(model.workspace(), mu=mu, test_stat=test_stat)


def poi_uncertainty(model: ModelInputs) -> Any:
    """The expected uncertainty on the POI (the configuration's ``poi``), from the
    fit's Hessian."""
    from .. import stats

    return stats.expected_poi_uncertainty(model.workspace())


OBJECTIVES: dict[str, ObjectiveSpec] = {
    "asimov_significance": ObjectiveSpec(
        asimov_significance,
        Direction.MAXIMIZE,
        needs_fit=False,
        options=("background_uncertainty",),
    ),
    "discovery_significance": ObjectiveSpec(
        discovery_significance, Direction.MAXIMIZE, needs_fit=True
    ),
    "cls": ObjectiveSpec(
        cls, Direction.MINIMIZE, needs_fit=True, options=("mu", "test_stat")
    ),
    "poi_uncertainty": ObjectiveSpec(
        poi_uncertainty, Direction.MINIMIZE, needs_fit=True
    ),
}
