# SPDX-License-Identifier: BSD-3-Clause
"""Event loops on a Dask cluster: a configured analysis whose gradient histograms
are filled by ``dask.distributed`` workers, partition by partition, and added on
the client.

- ``partitions``: `Partition` (a file and an entry range of one sample) and
  `make_partitions`;
- ``worker``: `fill_partition`, the task, `adjoint_partition`, the task of the
  adjoint event loop (networks whose weights are reverse-mode parameters), and the
  worker process's cache of compiled partition graphs;
- ``merge``: `PartitionResult` and the exact, fixed-order sum of a sample's
  partitions; `AdjointResult` and the sum of the partitions' gradient vectors;
- ``graph``: `DaskGraph`, the `diffana.analysis.graph.Graph` whose loops run on the
  cluster;
- ``cluster``: `cluster` (a scheduler address or a ``LocalCluster``) and
  `active_client`, which `diffana.analysis.Analysis` asks.

Usage::

    from diffana.analysis import Analysis, load
    from diffana.distributed import cluster

    with cluster(scheduler="tcp://scheduler:8786"):   # or cluster(workers=4)
        analysis = Analysis(load("agc.yaml"))
        ev = analysis.evaluate()

Workers need diffana (with ROOT) installed and the input files at the same paths.

Imports dask.distributed and ROOT only when used.
"""

from __future__ import annotations

from .cluster import active_client, cluster
from .graph import DaskGraph, StepTiming, fingerprint
from .merge import AdjointResult, PartitionResult, add
from .partitions import Partition, make_partitions
from .worker import adjoint_partition, fill_partition

__all__ = [
    "AdjointResult",
    "DaskGraph",
    "Partition",
    "PartitionResult",
    "StepTiming",
    "active_client",
    "add",
    "adjoint_partition",
    "cluster",
    "fill_partition",
    "fingerprint",
    "make_partitions",
]
