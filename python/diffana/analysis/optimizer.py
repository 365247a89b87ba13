# SPDX-License-Identifier: BSD-3-Clause
"""The optimization loop: optax steps on an `Analysis` from its initial parameters,
the `Status` it ends with and the `OptimizationResult`.

Steps are taken in coordinates scaled to the bounds, u = (value - lo) / (hi - lo),
so that one learning rate suits parameters of any unit; the objective's direction
(`diffana.analysis.objectives.Direction`) gives the sign of the gradient handed to
optax, which minimizes. After each step the parameters are projected onto their
bounds (and the clipping reported). The loop stops after ``steps``, when the
objective changes by less than ``tolerance`` (`Status.CONVERGED`), when the
objective cannot be evaluated (`Status.FAILED`) or is not finite, or its gradient
is not (`Status.NON_FINITE`; the result ends at the last good step), or at the
start when the gradient is exactly zero for every optimized parameter
(`Status.ZERO_GRADIENT`). A parameter whose starting gradient is exactly zero is
named in the result's warnings.

After every step the loop hands its whole state (`OptimizationResult` so far, the
scaled coordinates, the optax state) to ``checkpoint``; `optimize` started from such
a state (``resume``) continues to the same result as an uninterrupted run.

Each step is logged at DEBUG (logger ``diffana.analysis.optimizer``).

May import numpy, optax and rich (inside functions), and `diffana.analysis`'s
``_errors`` and ``evaluation``.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._optional import import_optional
from ._errors import ObjectiveError
from .evaluation import Analysis, Evaluation

__all__ = ["OptimizationResult", "Status", "optimize"]

log = logging.getLogger(__name__)


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
    #: The objective or its gradient was NaN or infinite at a step; the result
    #: ends at the step before.
    NON_FINITE = "non_finite"
    #: The gradient was exactly zero for every optimized parameter at the start
    #: (typically a saturated relaxation): nothing can move.
    ZERO_GRADIENT = "zero_gradient"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass
class OptimizationResult:
    """What `optimize` returns: the first and the last evaluation, one record per
    step (``step``, ``objective``, ``params``, ``gradient``, ``clipped``), how it
    ended and how long it took, the step of the best point visited and warnings
    (parameters that cannot move)."""

    initial: Evaluation
    final: Evaluation
    history: list[dict[str, Any]]
    status: Status
    message: str
    seconds: float
    best_step: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def best(self) -> dict[str, Any]:
        """The record (see ``history``) of the best point visited."""
        return next(h for h in self.history if h["step"] == self.best_step)


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


def _not_finite(ev: Evaluation, names: Sequence[str]) -> str | None:
    """Why ``ev`` cannot be stepped from (a NaN or infinite objective or gradient
    component), or None."""
    if not np.isfinite(ev.objective):
        return f"the objective is {ev.objective}"
    bad = [f"{n} ({ev.gradient[n]})" for n in names if not np.isfinite(ev.gradient[n])]
    if bad:
        return "the gradient is not finite for " + ", ".join(bad)
    return None


def _zero_gradient_warnings(
    ev: Evaluation, names: Sequence[str], where: str = "at the start"
) -> list[str]:
    return [
        f"d objective / d {n} is exactly 0 {where}, so {n} cannot move: a "
        "relaxation that has saturated (a soft cut so sharp that every event is "
        "wholly in or out: widen it) or a parameter that no expression uses"
        for n in names
        if ev.gradient[n] == 0.0
    ]


def _leaves(state: Any) -> list[dict[str, Any]]:
    """The optax state's leaves as JSON (exact: floats round-trip through repr)."""
    import jax

    return [
        {"dtype": str(np.asarray(x).dtype), "shape": list(np.shape(x)),
         "data": np.asarray(x).ravel().tolist()}
        for x in jax.tree_util.tree_leaves(state)
    ]  # fmt: skip


def _restore(template: Any, leaves: Sequence[Mapping[str, Any]]) -> Any:
    import jax
    import jax.numpy as jnp

    flat, tree = jax.tree_util.tree_flatten(template)
    if len(flat) != len(leaves):
        msg = "the checkpoint's optimizer state does not match the optimizer"
        raise ValueError(msg)
    return jax.tree_util.tree_unflatten(
        tree,
        [
            jnp.asarray(np.array(x["data"], dtype=x["dtype"]).reshape(x["shape"]))
            for x in leaves
        ],
    )


def _best_step(history: Sequence[Mapping[str, Any]], sign: float) -> int:
    """The step with the best objective (the first of equals); ``sign`` +1 when
    minimizing, -1 when maximizing."""
    return int(min(history, key=lambda h: (sign * h["objective"], h["step"]))["step"])


def optimize(
    analysis: Analysis,
    progress: bool = False,
    initial: Evaluation | None = None,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
    resume: Mapping[str, Any] | None = None,
) -> OptimizationResult:
    """Run the configured optax optimizer from the initial parameters (or from
    ``initial``, an evaluation already made there); ``progress``: a live display.

    ``checkpoint``: called after every step (and at the end) with the loop's state,
    a JSON-able dict; ``resume``: such a state, to continue from. Raises
    `ObjectiveError` when the starting objective or gradient is not finite.
    """
    optax = import_optional("optax", "diffana.analysis.optimizer")
    cfg = analysis.config
    opt_cfg = cfg.optimizer
    names = analysis.opt_names
    bounds = {p.name: p.bounds for p in cfg.parameters}
    lo = np.array([bounds[n][0] for n in names])  # type: ignore[index]
    hi = np.array([bounds[n][1] for n in names])  # type: ignore[index]
    sign = cfg.objective.direction.sign  # optax minimizes
    t0 = time.perf_counter()
    first = initial if initial is not None else analysis.evaluate()
    problem = _not_finite(first, names)
    if problem is not None:
        msg = f"at the starting point {dict(first.params)}: {problem}"
        raise ObjectiveError(msg)
    lr: Any = opt_cfg.learning_rate
    if opt_cfg.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, max(opt_cfg.steps, 1), alpha=0.1)
    optimizer = getattr(optax, opt_cfg.name)(lr)
    warnings = _zero_gradient_warnings(first, names)
    status, message = Status.MAX_STEPS, f"stopped after {opt_cfg.steps} steps"
    if resume is None:
        ev = first
        u = (np.array([ev.params[n] for n in names]) - lo) / (hi - lo)
        state = optimizer.init(u)
        history = [_record(0, ev)]
        start, seconds0, done = 1, 0.0, None
        if warnings and len(warnings) == len(names):
            done = (
                Status.ZERO_GRADIENT,
                (
                    "stopped at the start: the gradient is exactly 0 for every "
                    f"optimized parameter ({', '.join(names)})"
                ),
            )
    else:
        ev, u, state, history, done = _resumed(analysis, optimizer, resume, names)
        start, seconds0 = int(resume["step"]) + 1, float(resume["seconds"])
    bar = _Progress(progress, opt_cfg.steps, names)

    def save(finished: tuple[Status, str] | None) -> None:
        if checkpoint is not None:
            checkpoint(
                {
                    "step": history[-1]["step"],
                    "u": u.tolist(),
                    "opt_state": _leaves(state),
                    "history": history,
                    "seconds": seconds0 + time.perf_counter() - t0,
                    "finished": None if finished is None else list(finished),
                }
            )

    bar.start()
    try:
        bar.update(history[-1]["step"], ev.objective, ev.params)
        for step in range(start, opt_cfg.steps + 1):
            if done is not None:
                break
            g_u = sign * np.array([ev.gradient[n] for n in names]) * (hi - lo)
            updates, new_state = optimizer.update(g_u, state, u)
            u_new = np.asarray(optax.apply_updates(u, updates), dtype=float)
            clipped = [n for n, x in zip(names, u_new, strict=True) if not 0 <= x <= 1]
            u_next = np.clip(u_new, 0.0, 1.0)
            params = dict(ev.params)
            params.update(zip(names, (lo + u_next * (hi - lo)).tolist(), strict=True))
            try:
                new = analysis.evaluate(params)
            except ObjectiveError as e:
                done = Status.FAILED, f"step {step}: {e}"
                break
            problem = _not_finite(new, names)
            if problem is not None:
                done = (
                    Status.NON_FINITE,
                    (
                        f"step {step}: {problem} at {_fmt(params, names)}; the result "
                        f"is the last good point (step {step - 1})"
                    ),
                )
                break
            delta = new.objective - ev.objective
            ev, u, state = new, u_next, new_state
            history.append(_record(step, ev, clipped))
            bar.update(step, ev.objective, ev.params)
            log.debug(
                "step %d: objective %.6g at %s%s",
                step,
                ev.objective,
                _fmt(ev.params, names),
                f" (clipped: {', '.join(clipped)})" if clipped else "",
            )
            if opt_cfg.tolerance > 0 and abs(delta) < opt_cfg.tolerance:
                done = (
                    Status.CONVERGED,
                    (
                        f"converged after {step} steps: |change of the objective| = "
                        f"{abs(delta):.3g} < tolerance {opt_cfg.tolerance:g}"
                    ),
                )
                break
            if step < opt_cfg.steps:
                save(None)
    finally:
        bar.stop()
    if done is not None:
        status, message = done
    save((status, message))
    if history[-1]["step"] > 0:  # saturated on the way: named too
        moved = [n for n in names if first.gradient[n] != 0.0]
        where = f"at the end (step {history[-1]['step']})"
        warnings += _zero_gradient_warnings(ev, moved, where)
    clipped_names = sorted({n for h in history for n in h["clipped"]})
    if clipped_names:
        n_clipped = sum(1 for h in history if h["clipped"])
        message += (
            f"; clipped at their bounds: {', '.join(clipped_names)} "
            f"(in {n_clipped} step{'s' if n_clipped > 1 else ''})"
        )
    return OptimizationResult(
        first,
        ev,
        history,
        status,
        message,
        seconds0 + time.perf_counter() - t0,
        best_step=_best_step(history, sign),
        warnings=warnings,
    )


def _fmt(params: Mapping[str, float], names: Sequence[str]) -> str:
    return ", ".join(f"{n} = {params[n]:.6g}" for n in names)


def _resumed(
    analysis: Analysis,
    optimizer: Any,
    resume: Mapping[str, Any],
    names: Sequence[str],
) -> tuple[
    Evaluation, np.ndarray, Any, list[dict[str, Any]], tuple[Status, str] | None
]:
    """The loop's state from a checkpoint: the evaluation at its last step (made
    again for the histograms; the objective must come out as recorded, else the
    inputs changed), the coordinates, the optax state, the history, and how the loop
    ended if it had."""
    history = [dict(h) for h in resume["history"]]
    last = history[-1]
    ev = analysis.evaluate(last["params"])
    if not np.isclose(ev.objective, last["objective"], rtol=1e-9, atol=0):
        msg = (
            f"the checkpoint's objective at step {last['step']} was "
            f"{last['objective']!r}, it is now {ev.objective!r}: the inputs or the "
            "code changed since; start again (--force)"
        )
        raise ObjectiveError(msg)
    # Continue with the recorded numbers: bit for bit the uninterrupted trajectory.
    ev = dataclasses.replace(
        ev, objective=last["objective"], gradient=dict(last["gradient"])
    )
    u = np.array(resume["u"], dtype=float)
    state = _restore(optimizer.init(u), resume["opt_state"])
    finished = resume.get("finished")
    done = None if finished is None else (Status(finished[0]), str(finished[1]))
    return ev, u, state, history, done
