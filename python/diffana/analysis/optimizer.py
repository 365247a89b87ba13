# SPDX-License-Identifier: BSD-3-Clause
"""The optimization loop: optax steps on an `Analysis` from its initial parameters,
the `Status` it ends with and the `OptimizationResult`.

Steps are taken in coordinates scaled to the bounds, u = (value - lo) / (hi - lo),
so that one learning rate suits parameters of any unit; the objective's direction
(`diffana.analysis.objectives.Direction`) gives the sign of the gradient handed to
optax, which minimizes. After each step the parameters are projected onto their
bounds (and the clipping reported). The loop stops after ``steps``, when the
objective changes by less than ``tolerance`` (`Status.CONVERGED`), or when the
objective cannot be evaluated (`Status.FAILED`, with the reason).

May import numpy, optax and rich (inside functions), and `diffana.analysis`'s
``_errors`` and ``evaluation``.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import ObjectiveError
from .evaluation import Analysis, Evaluation

__all__ = ["OptimizationResult", "Status", "optimize"]


class Status(str, enum.Enum):
    """How an optimization ended (as optimistix's ``RESULTS``); a `str`, so that
    ``report.json`` holds the plain value.

    Examples
    --------
    >>> Status.CONVERGED == "converged", str(Status.MAX_STEPS)
    (True, 'max_steps')
    """

    #: The objective changed by less than the tolerance.
    CONVERGED = "converged"
    #: All the configured steps were taken.
    MAX_STEPS = "max_steps"
    #: The objective could not be evaluated at a step (the message says why).
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass
class OptimizationResult:
    """What `optimize` returns: the first and the last evaluation, one record per
    step (``step``, ``objective``, ``params``, ``gradient``, ``clipped``), how it
    ended and how long it took."""

    initial: Evaluation
    final: Evaluation
    history: list[dict[str, Any]]
    status: Status
    message: str
    seconds: float


class _Progress:
    """A rich live display (tty only) of the step, objective and parameters."""

    def __init__(self, enabled: bool, steps: int, names: Sequence[str]) -> None:
        self.enabled = enabled
        self.names = names
        self.steps = steps
        self._progress: Any = None

    def start(self) -> None:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("step {task.completed}/{task.total}"),
                BarColumn(),
                TextColumn("{task.description}"),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=self.steps)

    def update(self, step: int, value: float, params: Mapping[str, float]) -> None:
        if self._progress is None:
            return
        text = f"objective {value:.5g}  " + "  ".join(
            f"{n}={params[n]:.4g}" for n in self.names
        )
        self._progress.update(self._task, completed=step, description=text)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _record(step: int, ev: Evaluation, clipped: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "step": step,
        "objective": ev.objective,
        "params": dict(ev.params),
        "gradient": dict(ev.gradient),
        "clipped": list(clipped),
    }


def optimize(
    analysis: Analysis, progress: bool = False, initial: Evaluation | None = None
) -> OptimizationResult:
    """Run the configured optax optimizer from the initial parameters (or from
    ``initial``, an evaluation already made there); ``progress``: a live display."""
    import optax

    cfg = analysis.config
    opt_cfg = cfg.optimizer
    names = analysis.opt_names
    bounds = {p.name: p.bounds for p in cfg.parameters}
    lo = np.array([bounds[n][0] for n in names])  # type: ignore[index]
    hi = np.array([bounds[n][1] for n in names])  # type: ignore[index]
    sign = cfg.objective.direction.sign  # optax minimizes
    t0 = time.perf_counter()
    ev = initial if initial is not None else analysis.evaluate()
    first = ev
    u = (np.array([ev.params[n] for n in names]) - lo) / (hi - lo)
    lr: Any = opt_cfg.learning_rate
    if opt_cfg.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, max(opt_cfg.steps, 1), alpha=0.1)
    optimizer = getattr(optax, opt_cfg.name)(lr)
    state = optimizer.init(u)
    history = [_record(0, ev)]
    status, message = Status.MAX_STEPS, f"stopped after {opt_cfg.steps} steps"
    bar = _Progress(progress, opt_cfg.steps, names)
    bar.start()
    try:
        bar.update(0, ev.objective, ev.params)
        for step in range(1, opt_cfg.steps + 1):
            g_u = sign * np.array([ev.gradient[n] for n in names]) * (hi - lo)
            updates, state = optimizer.update(g_u, state, u)
            u_new = np.asarray(optax.apply_updates(u, updates), dtype=float)
            clipped = [n for n, x in zip(names, u_new, strict=True) if not 0 <= x <= 1]
            u = np.clip(u_new, 0.0, 1.0)
            params = dict(ev.params)
            params.update(zip(names, (lo + u * (hi - lo)).tolist(), strict=True))
            try:
                new = analysis.evaluate(params)
            except ObjectiveError as e:
                status, message = Status.FAILED, f"step {step}: {e}"
                break
            delta = new.objective - ev.objective
            ev = new
            history.append(_record(step, ev, clipped))
            bar.update(step, ev.objective, ev.params)
            if opt_cfg.tolerance > 0 and abs(delta) < opt_cfg.tolerance:
                status = Status.CONVERGED
                message = (
                    f"converged after {step} steps: |change of the objective| = "
                    f"{abs(delta):.3g} < tolerance {opt_cfg.tolerance:g}"
                )
                break
    finally:
        bar.stop()
    clipped_names = sorted({n for h in history for n in h["clipped"]})
    if clipped_names:
        n_clipped = sum(1 for h in history if h["clipped"])
        message += (
            f"; clipped at their bounds: {', '.join(clipped_names)} "
            f"(in {n_clipped} step{'s' if n_clipped > 1 else ''})"
        )
    return OptimizationResult(
        first, ev, history, status, message, time.perf_counter() - t0
    )
