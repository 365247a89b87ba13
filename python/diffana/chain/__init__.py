# SPDX-License-Identifier: BSD-3-Clause
"""Gradients that travel between programs: an analysis as a chain of programs that
pass files, each reading ``in`` (and ``in_grad``) and writing ``out`` (and
``out_grad``), forward (tangents, d value / d parameter) or backward (cotangents,
d result / d value).

One concept per module, each importing only those above it:

- ``record``: `Record`, the provenance every gradient file carries (parameter
  names and values, the values file's path and sha256, the configuration, the
  diffana version, the direction) and the checks made on reading (`ChainError`);
- ``files``: JSON values files and their gradient files (a tree with the values
  file's keys), `contract` (the inner product of a cotangent and tangents);
- ``yields``: the yields file of ``diffana evaluate --out --outgrad``, read back as
  histograms with Jacobians;
- ``infer``: ``diffana infer``, the objective from yields, forward gradient and
  the map ``--saveforback`` saves; ``backward``: ``diffana backward``.

Event files with tangents are ROOT files of `diffana.rdf.DiffFrame.snapshot`
(``x`` and ``x__d_<param>`` columns and the parameters' record), read back by
`diffana.rdf.DiffFrame.from_snapshot`.

Importing it imports neither ROOT nor JAX.
"""

from __future__ import annotations

from .backward import backward, seed_cotangent
from .files import contract, read_gradient, read_values
from .infer import Statistics, infer, read_result
from .record import ChainError, Record, sha256_file
from .yields import read_histograms, write_yields

__all__ = [
    "ChainError",
    "Record",
    "Statistics",
    "backward",
    "contract",
    "infer",
    "read_gradient",
    "read_histograms",
    "read_result",
    "read_values",
    "seed_cotangent",
    "sha256_file",
    "write_yields",
]


def __dir__() -> list[str]:
    return __all__
