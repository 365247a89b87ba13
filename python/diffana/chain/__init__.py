# SPDX-License-Identifier: BSD-3-Clause
"""Gradients that travel between programs: an analysis as a chain of programs that
pass files, each reading ``in`` (and ``in_grad``) and writing ``out`` (and
``out_grad``), forward (tangents, d value / d parameter) or backward (cotangents,
d result / d value).

One concept per module, each importing only those above it:

- ``record``: `Record`, the provenance every gradient file carries (parameter
  names and values, the values file's path and sha256, the configuration, the
  diffana version, the direction) and the checks made on reading (`ChainError`);
- ``_columns``: event columns on disk chunk by chunk (ROOT with uproot, Parquet
  with pyarrow);
- ``events``: event files with tangents, ROOT or Parquet (a values file and a
  gradient file of ``x__d_<param>`` columns, paired by sha256), `read_events`;
- ``select``: ``diffana select``, events in, selected events with tangents out;
- ``files``: JSON values files and their gradient files (a tree with the values
  file's keys), `contract` (the inner product of a cotangent and tangents);
- ``yields``: the yields file of ``diffana evaluate --out --outgrad``, read back as
  histograms with Jacobians;
- ``infer``: ``diffana infer``, the objective from yields, forward gradient and
  the map ``--saveforback`` saves; ``backward``: ``diffana backward``.

``diffana evaluate --ingrad`` reads event files with their tangents
(`diffana.chain.events.Inputs`), so the yields' Jacobian is a derivative through
every earlier program.

Importing it imports neither ROOT nor JAX.
"""

from __future__ import annotations

from .._optional import require

require(__name__)  # before the imports: a missing dependency names its extra

from .backward import backward, seed_cotangent
from .events import EventGradient, read_events
from .files import contract, read_gradient, read_values
from .infer import Statistics, infer, read_result
from .record import ChainError, Record, sha256_file
from .select import select
from .yields import read_histograms, write_yields

__all__ = [
    "ChainError",
    "EventGradient",
    "Record",
    "Statistics",
    "backward",
    "contract",
    "infer",
    "read_events",
    "read_gradient",
    "read_histograms",
    "read_result",
    "read_values",
    "seed_cotangent",
    "select",
    "sha256_file",
    "write_yields",
]


def __dir__() -> list[str]:
    return __all__
