# SPDX-License-Identifier: BSD-3-Clause
"""Which Dask cluster the event loops run on: `cluster` connects a
``dask.distributed.Client`` to a scheduler address or starts a ``LocalCluster``,
and makes it the one `active_client` returns, so that every
`diffana.analysis.Analysis` built inside the ``with`` block runs its event loops
on it (as ``joblib.parallel_backend`` does for joblib).

May import dask.distributed (inside functions) and `diffana.analysis._errors`.

Examples
--------
>>> active_client() is None
True
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

from ..analysis._errors import ConfigError

__all__ = ["active_client", "active_options", "cluster", "optional_cluster"]

_client: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "diffana_dask_client", default=None
)
_options: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "diffana_dask_options", default=None
)


def active_client() -> Any:
    """The ``dask.distributed.Client`` of the innermost `cluster` block (None
    outside one)."""
    return _client.get()


def active_options() -> dict[str, Any]:
    """The `diffana.distributed.DaskGraph` keywords of the innermost `cluster`
    block (``batch``, ``max_entries``; empty outside one)."""
    return dict(_options.get() or {})


def check_count(name: str, value: Any) -> None:
    """A ValueError unless ``value`` is None or a whole number >= 1 (not a bool)."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or value < 1
    ):
        msg = f"{name} must be a whole number >= 1, got {value!r}"
        raise ValueError(msg)


def _check(scheduler: Any, workers: int | None) -> None:
    if (scheduler is None) == (workers is None):
        msg = "give either a scheduler (an address or a Client) or a number of workers"
        raise ValueError(msg)
    check_count("workers", workers)


@contextlib.contextmanager
def cluster(
    scheduler: Any = None,
    workers: int | None = None,
    *,
    batch: int | None = None,
    max_entries: int | None = None,
) -> Iterator[Any]:
    """Run the event loops of the analyses built in the block on a Dask cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        The address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786``, e.g. of a dask-jobqueue cluster), or a Client.
    workers : int, optional
        Instead: start a ``LocalCluster`` of that many worker processes (one
        thread each) on this machine, closed at the end of the block.
    batch : int, optional
        Batched optimisation: after a first step over every partition, each step
        runs only the next ``batch`` partitions, and the histograms are the sum of
        the latest result of every partition (`DaskGraph`'s ``batch``).
    max_entries : int, optional
        The most entries of one partition (one task), e.g. to have more, smaller
        partitions to batch; default: one per worker thread per file.

    Yields the Client. A scheduler that cannot be reached is a `ConfigError`
    naming the address (after dask's connection timeout).
    """
    _check(scheduler, workers)
    check_count("batch", batch)
    check_count("max_entries", max_entries)
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if isinstance(scheduler, Client):
            client = scheduler
        elif workers is not None:
            local = stack.enter_context(
                LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: clusters side by side
                    # Its processes' own logs (e.g. a heartbeat that fails with a
                    # traceback while the cluster closes after Ctrl-C) stay quiet:
                    # a failed task reaches the client as its exception.
                    silence_logs=logging.CRITICAL,
                )
            )
            client = stack.enter_context(Client(local))  # type: ignore[no-untyped-call]
        else:
            try:
                client = stack.enter_context(Client(str(scheduler)))  # type: ignore[no-untyped-call]
            except OSError as e:
                msg = f"cannot reach the Dask scheduler {scheduler!r}: {e}"
                raise ConfigError(msg) from None
        options = {"batch": batch, "max_entries": max_entries}
        token = _client.set(client)
        token_options = _options.set({k: v for k, v in options.items() if v})
        try:
            yield client
        finally:
            _options.reset(token_options)
            _client.reset(token)


def optional_cluster(
    scheduler: Any = None,
    workers: int | None = None,
    *,
    batch: int | None = None,
    max_entries: int | None = None,
) -> contextlib.AbstractContextManager[Any]:
    """`cluster` when a scheduler or a number of workers is given, else a block
    that changes nothing (yields None): what ``--scheduler``/``--workers`` do.

    Examples
    --------
    >>> with optional_cluster() as client:
    ...     print(client, active_client())
    None None
    """
    if scheduler is None and workers is None:
        if batch is not None or max_entries is not None:
            msg = "batched steps and partition sizes need a Dask cluster (a scheduler or workers)"
            raise ValueError(msg)
        return contextlib.nullcontext()
    return cluster(scheduler, workers, batch=batch, max_entries=max_entries)
