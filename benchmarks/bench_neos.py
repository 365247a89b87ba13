# SPDX-License-Identifier: BSD-3-Clause
"""neos-style end-to-end optimisation: JAX-only vs diffana on the same toy problem.

The toy problem (neos-like). Two features (x, y) per event, seeded numpy:

- signal: a 2D Gaussian at (1, 1), width 0.8;
- background: a correlated 2D Gaussian at (-0.5, -0.5), widths (1.2, 1.0);
- background systematic: the same background events shifted by +-0.4 along x
  (up/down variation samples -> a ``histosys``), plus a 5 % ``normsys``.

Three analysis parameters theta = (phi, cx, cy):

- the observable is the projection ``o = cos(phi) x + sin(phi) y``, binned in a soft
  histogram of 8 bins on [-4, 4] (bin width 1) with bandwidth 0.3;
- soft cuts ``sigmoid(3 (x - cx)) * sigmoid(3 (y - cy))`` weight the events.

Signal and background are normalised to 30 and 500 expected events before the cuts,
whatever the number of generated events. The four histograms (signal, background,
background up, background down) make a pyhf JSON workspace whose sample data are JAX
arrays; the objective is ``diffana.stats.expected_discovery_significance`` (the
profile-likelihood sqrt(q0) on the s+b Asimov data, one fit), maximised with
optax.adam from theta = (0, -2, -2) (observable = x, which the systematic shifts;
loose cuts). Every implementation uses the same statistics code; they differ in how
the yields and their derivatives are produced:

- ``jax``          relaxed-like soft histogram and sigmoid cuts in jax.numpy (kernel =
                   difference of normal CDFs at the bin edges, as relaxed.hist),
                   ``jax.jit(jax.value_and_grad(...))`` of the whole chain;
- ``diffana_jax``  the same chain with ``diffana.jax.hist_weighted`` and
                   ``diffana.jax.cut`` (diffana's C++ kernels as XLA FFI custom calls)
                   inside the same jit(value_and_grad);
- ``diffana_fwd``  diffana's forward-mode numpy path: ``diffana.soft_cut`` and
                   ``diffana.histogram`` with x / weight tangents give the yields and
                   their Jacobians J [bins, 3]; ``g`` = jax.grad of the (jitted)
                   statistics w.r.t. the yields; d objective / d theta = sum J^T g.

Each implementation x size runs in its own subprocess. Reported: the objective
before and after, the number of optax steps, the mean time per step after the first
(which includes JAX's compilation), and "extra memory": the peak RSS (max RSS from
``resource.getrusage``) above what the process held after importing the libraries
and making the events (so it counts JAX's copies of the inputs and every
intermediate), as in bench_hist.py. Most of it, at small sizes, is JAX's compilation
of the statistics (the fit); so two more columns split it: the RSS after the first
step (compiled code, JAX's copies of the events, what the allocator keeps) and the
peak of steps 2..N above that (their working memory; VmHWM reset through
/proc/self/clear_refs, Linux only).

Usage:

    python benchmarks/bench_neos.py                  # 1e5 and 1e6 events per sample
    python benchmarks/bench_neos.py --quick          # small sizes, a smoke test
    python benchmarks/bench_neos.py --json out.json  # also write the results
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

EDGES = np.linspace(-4.0, 4.0, 9)
BANDWIDTH = 0.3
SLOPE = 3.0
SIGNAL_EVENTS = 30.0
BACKGROUND_EVENTS = 500.0
SYST_SHIFT = 0.4
NORM_UNC = 0.05
THETA0 = (0.0, -2.0, -2.0)
LEARNING_RATE = 0.05
STEPS = 30
IMPLEMENTATIONS = ("jax", "diffana_jax", "diffana_fwd")


# ---- the toy problem -----------------------------------------------------------------


def make_events(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Signal and background events (n each) and the background's up/down variations.

    Returns x and y arrays of shape (4, n) for (signal, background, up, down) and
    the per-event weights (4,)."""
    rng = np.random.default_rng(seed)
    sig = rng.normal(loc=1.0, scale=0.8, size=(2, n))
    cov = np.array([[1.2**2, 0.5 * 1.2], [0.5 * 1.2, 1.0]])
    bkg = rng.multivariate_normal([-0.5, -0.5], cov, size=n).T
    x = np.stack([sig[0], bkg[0], bkg[0] + SYST_SHIFT, bkg[0] - SYST_SHIFT])
    y = np.stack([sig[1], bkg[1], bkg[1], bkg[1]])
    w = np.array([SIGNAL_EVENTS, *(3 * [BACKGROUND_EVENTS])]) / n
    return {"x": x, "y": y, "w": w}


def workspace(sig, bkg, up, down) -> dict:
    """pyhf JSON workspace from the four histograms (may be JAX arrays)."""
    nb = len(EDGES) - 1
    return {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "signal",
                        "data": sig,
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None}
                        ],
                    },
                    {
                        "name": "background",
                        "data": bkg,
                        "modifiers": [
                            {
                                "name": "bkg_shape",
                                "type": "histosys",
                                "data": {"hi_data": up, "lo_data": down},
                            },
                            {
                                "name": "bkg_norm",
                                "type": "normsys",
                                "data": {"hi": 1.0 + NORM_UNC, "lo": 1.0 - NORM_UNC},
                            },
                        ],
                    },
                ],
            }
        ],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "observations": [{"name": "sr", "data": [1.0] * nb}],
        "version": "1.0.0",
    }


def statistic(yields):
    """The objective from the yields [4, bins]: expected discovery significance."""
    import diffana.stats

    return diffana.stats.expected_discovery_significance(workspace(*yields))


def loss_of_yields(yields):
    """What the optimiser minimises."""
    return -statistic(yields)


# ---- the implementations: theta -> (loss, d loss / d theta) ----------------------------


def jax_loss(theta, x, y, w):
    """JAX-only: relaxed.hist / relaxed.cut formulas in jax.numpy."""
    import jax
    import jax.numpy as jnp
    from jax.scipy.stats import norm

    phi, cx, cy = theta[0], theta[1], theta[2]
    obs = jnp.cos(phi) * x + jnp.sin(phi) * y  # [4, n]
    weights = (
        jax.nn.sigmoid(SLOPE * (x - cx)) * jax.nn.sigmoid(SLOPE * (y - cy)) * w[:, None]
    )
    edges = jnp.asarray(EDGES)
    cdf = norm.cdf(edges[None, :, None], loc=obs[:, None, :], scale=BANDWIDTH)
    yields = ((cdf[:, 1:] - cdf[:, :-1]) * weights[:, None, :]).sum(axis=2)
    return loss_of_yields(yields)


def diffana_jax_loss(theta, x, y, w):
    """diffana's kernels as JAX primitives (XLA FFI) in the same chain."""
    import jax.numpy as jnp

    import diffana.jax as dj

    phi, cx, cy = theta[0], theta[1], theta[2]
    obs = jnp.cos(phi) * x + jnp.sin(phi) * y
    weights = dj.cut(x, cx, SLOPE) * dj.cut(y, cy, SLOPE) * w[:, None]
    edges = jnp.asarray(EDGES)
    yields = jnp.stack(
        [dj.hist_weighted(obs[k], weights[k], edges, BANDWIDTH) for k in range(4)]
    )
    return loss_of_yields(yields)


def make_step(impl: str, events: dict[str, np.ndarray], optimizer):
    """step(theta, opt_state) -> (theta, opt_state, loss, grad); the first call
    compiles. The events are jitted-function arguments, not baked-in constants."""
    import jax
    import jax.numpy as jnp
    import optax

    if impl in ("jax", "diffana_jax"):
        loss = jax_loss if impl == "jax" else diffana_jax_loss
        x, y, w = (jnp.asarray(events[k]) for k in ("x", "y", "w"))

        @jax.jit
        def jstep(theta, opt_state, x, y, w):
            value, grad = jax.value_and_grad(loss)(theta, x, y, w)
            updates, opt_state = optimizer.update(grad, opt_state, theta)
            return optax.apply_updates(theta, updates), opt_state, value, grad

        return lambda theta, state: jstep(theta, state, x, y, w)

    if impl == "diffana_fwd":
        stats_vg = jax.jit(jax.value_and_grad(loss_of_yields))

        @jax.jit
        def update(grad, opt_state, theta):
            updates, opt_state = optimizer.update(grad, opt_state, theta)
            return optax.apply_updates(theta, updates), opt_state

        def step(theta, opt_state):
            value, grad = fwd_value_and_grad(np.asarray(theta), events, stats_vg)
            grad = jnp.asarray(grad)
            theta, opt_state = update(grad, opt_state, theta)
            return theta, opt_state, value, grad

        return step

    msg = f"unknown implementation {impl!r}"
    raise ValueError(msg)


def fwd_yields(theta: np.ndarray, events: dict[str, np.ndarray]):
    """Yields [4, bins] and their Jacobians [4, bins, 3] with diffana's forward mode."""
    import diffana

    phi, cx, cy = (float(t) for t in theta)
    c, s = np.cos(phi), np.sin(phi)
    values, jacobians = [], []
    for k in range(4):
        x, y = events["x"][k], events["y"][k]
        n = x.shape[0]
        # d obs / d theta = (-sin x + cos y, 0, 0)
        x_tan = np.zeros((n, 3))
        x_tan[:, 0] = -s * x + c * y
        # The cut weights: d/dcx only for the x cut, d/dcy only for the y cut.
        cut_x = diffana.soft_cut(x, cx, SLOPE, cut_tangents=[0.0, 1.0, 0.0])
        cut_y = diffana.soft_cut(y, cy, SLOPE, cut_tangents=[0.0, 0.0, 1.0])
        wk = events["w"][k]
        weight = cut_x.value * cut_y.value * wk
        w_tan = (
            cut_x.tangents * cut_y.value[:, None]
            + cut_x.value[:, None] * cut_y.tangents
        ) * wk
        h = diffana.histogram(
            c * x + s * y,
            EDGES,
            weights=weight,
            bandwidth=BANDWIDTH,
            x_tangents=x_tan,
            weight_tangents=w_tan,
        )
        values.append(h.values)
        jacobians.append(h.jacobian)
    return np.stack(values), np.stack(jacobians)


def fwd_value_and_grad(theta: np.ndarray, events: dict[str, np.ndarray], stats_vg):
    """diffana forward mode + chain rule: d loss / d theta = sum_k J_k^T g_k."""
    values, jac = fwd_yields(theta, events)
    loss, g = stats_vg(values)
    g = np.asarray(g)
    return loss, np.einsum("kbp,kb->p", jac, g)


def optimize(
    impl: str,
    events: dict[str, np.ndarray],
    steps: int = STEPS,
    after_first_step=None,
) -> dict:
    """Run `steps` adam steps from THETA0; objective = significance (= -loss).

    ``after_first_step()``, if given, is called once the first (compiling) step is
    done."""
    import jax.numpy as jnp
    import optax

    optimizer = optax.adam(LEARNING_RATE)
    theta = jnp.asarray(THETA0, dtype=float)
    opt_state = optimizer.init(theta)
    step = make_step(impl, events, optimizer)
    times, losses, grads = [], [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        theta, opt_state, loss, grad = step(theta, opt_state)
        loss = float(loss)  # waits for the result
        times.append(time.perf_counter() - t0)
        losses.append(loss)
        grads.append(grad)
        if after_first_step is not None and len(times) == 1:
            after_first_step()
    final = float(_loss_at(theta, step))
    return {
        "objective_before": -losses[0],
        "objective_after": -final,
        "objectives": [-v for v in losses] + [-final],
        "theta_after": [float(t) for t in theta],
        # d objective / d theta at the start point
        "gradient_before": [-float(g) for g in grads[0]],
        "steps": steps,
        "first_step_s": times[0],
        "step_s": float(np.mean(times[1:])) if steps > 1 else float("nan"),
    }


def _loss_at(theta, step):
    """The loss at theta, from the compiled step (one more step, update discarded)."""
    import optax

    optimizer = optax.adam(LEARNING_RATE)
    _, _, loss, _ = step(theta, optimizer.init(theta))
    return loss


# ---- measurement (child process) and the table -----------------------------------------


def _proc_status_mb(field: str) -> float | None:
    """VmRSS / VmHWM of this process from /proc (Linux), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


def measure(impl: str, n: int, steps: int) -> dict:
    """Runs in the child process."""
    import jax

    jax.config.update("jax_enable_x64", True)
    # Libraries are not counted as memory use.
    import optax  # noqa: F401

    import diffana.jax
    import diffana.stats  # noqa: F401

    events = make_events(n)
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    baseline_rss_mb = _proc_status_mb("VmRSS")
    reset: dict = {"ok": False, "rss_mb": None}

    def after_first_step():
        reset["rss_mb"] = _proc_status_mb("VmRSS")
        reset["ok"] = _reset_peak_rss()

    result = optimize(impl, events, steps, after_first_step)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm_mb = _proc_status_mb("VmHWM")
    inputs_mb = sum(v.nbytes for v in events.values()) / 2**20
    out = {
        **result,
        "peak_rss_mb": rss_mb,
        "inputs_mb": inputs_mb,
        # Peak memory beyond the interpreter, the libraries and the events,
        # including JAX's compilation (the first step).
        "extra_mb": rss_mb - baseline_mb,
    }
    if reset["ok"] and hwm_mb is not None and reset["rss_mb"] is not None:
        # The working memory of steps 2..N: their peak RSS above the RSS after the
        # first (compiling) step, which holds the compiled code and JAX's copies of
        # the events. (Memory freed after step 1 but kept by the allocator can hide
        # part of it.)
        out["after_first_step_mb"] = reset["rss_mb"] - baseline_rss_mb
        out["extra_steps_mb"] = hwm_mb - reset["rss_mb"]
    return out


def run_child(impl: str, n: int, steps: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", impl, str(n), str(steps)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"failed ({last[:80]})"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _mb(value) -> str:
    return "–" if value is None else f"{value:.0f}"


def table(rows) -> str:
    head = (
        "| events / sample | implementation | significance before | after | steps | "
        "first step (compile) [s] | time / step [ms] | extra memory [MB] | "
        "RSS after step 1 / steps 2..N peak above it [MB] |"
    )
    lines = [head, "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        res = r["result"]
        if "error" in res:
            lines.append(f"| {r['n']:.0e} | {r['impl']} | {res['error']} | | | | | | |")
            continue
        lines.append(
            f"| {r['n']:.0e} | {r['impl']} | {res['objective_before']:.4f} | "
            f"{res['objective_after']:.4f} | {res['steps']} | "
            f"{res['first_step_s']:.2f} | {res['step_s'] * 1e3:.1f} | "
            f"{res['extra_mb']:.0f} | {_mb(res.get('after_first_step_mb'))} / "
            f"{_mb(res.get('extra_steps_mb'))} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--sizes", type=int, nargs="+", help="events per sample")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument(
        "--impl", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS)
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    if args.child:
        impl, n, steps = args.child
        print(json.dumps(measure(impl, int(n), int(steps))))
        return 0

    sizes = args.sizes or ([10**3, 10**4] if args.quick else [10**5, 10**6])
    steps = min(args.steps, 10) if args.quick else args.steps
    rows = []
    for n in sizes:
        for impl in args.impl:
            res = run_child(impl, n, steps, args.timeout)
            rows.append({"n": n, "impl": impl, "result": res})
            if "error" in res:
                print(f"n={n:.0e} {impl}: {res['error']}", flush=True)
            else:
                print(
                    f"n={n:.0e} {impl}: Z {res['objective_before']:.4f} -> "
                    f"{res['objective_after']:.4f}, {res['step_s'] * 1e3:.1f} ms/step, "
                    f"+{res['extra_mb']:.0f} MB "
                    f"(steps 2..N: +{_mb(res.get('extra_steps_mb'))} MB over step 1)",
                    flush=True,
                )
    print()
    print(table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
