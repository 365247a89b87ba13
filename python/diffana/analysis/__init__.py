# SPDX-License-Identifier: BSD-3-Clause
"""A configured analysis, ``diffana optimize CONFIG.yaml`` end to end.

One concept per module, each importing only those above it:

- ``config`` (with ``_schema_*`` and ``_yaml``): the YAML schema, `load` and
  ``--set``;
- ``inputs``: the input files checked basket by basket before the first loop;
- ``objectives``: the table of objectives (`OBJECTIVES`);
- ``graph``: one DiffFrame per sample, the nominal and variation histograms, the
  event loops;
- ``workspace``: the statistical model's arrays and the HistFactory workspace;
- ``evaluation``: `Analysis`, the objective and its gradient (chain rule J^T g);
- ``optimizer``: the optax loop, `Status`, `OptimizationResult`;
- ``report`` and ``plots``: what an optimization writes; ``outputs``: where and
  how (atomic files, the lock, the completion marker, the checkpoint);
- ``driver``: `run` (``diffana optimize``) and `run_evaluate` (``diffana evaluate``);
- ``demo``: ``diffana demo``.

Importing it imports neither ROOT nor JAX.
"""

from __future__ import annotations

from .._optional import require

require(__name__)  # before the imports: a missing dependency names its extra

from ._errors import (
    ConfigError,
    InputError,
    ObjectiveError,
    SampleError,
    SkippedEventsError,
)
from .config import Config, load
from .driver import run, run_evaluate
from .evaluation import Analysis, Evaluation
from .objectives import OBJECTIVES, Direction, ObjectiveSpec
from .optimizer import OptimizationResult, Status, optimize

__all__ = [
    "OBJECTIVES",
    "Analysis",
    "Config",
    "ConfigError",
    "Direction",
    "Evaluation",
    "InputError",
    "ObjectiveError",
    "ObjectiveSpec",
    "OptimizationResult",
    "SampleError",
    "SkippedEventsError",
    "Status",
    "load",
    "optimize",
    "run",
    "run_evaluate",
]


def __dir__() -> list[str]:
    return __all__
