# SPDX-License-Identifier: BSD-3-Clause
"""The adjoint route of network weights in an analysis: how `Graph` splits the
parameters when some networks' weights are reverse-mode parameters of its
DiffFrames (``networks.<name>.gradient``, `adjoint_networks`), pads the histograms'
Jacobians back to every parameter, and pulls the objective's cotangents of the
histograms `Graph.histograms` returns back to the booked ones (through
``GradHistogram.scaled`` and ``mirrored``, `sample_cotangents`) and runs the adjoint
event loop on them (`adjoint_loop`, `diffana.rdf.adjoint_pass`). The two halves are
apart so that on a Dask cluster (`diffana.distributed.DaskGraph`) the client pulls
the cotangents back and each worker runs the loop on its partitions.

Why: forward mode carries one tangent per weight through every event's histogram
fill; the adjoint loop costs the same for any number of weights (see
``ADJOINT_MIN_WEIGHTS``).

May import numpy, `diffana.hist` and `diffana.rdf` (inside `adjoint_loop`);
nothing of `graph` or `evaluation` (which import this module).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ..hist import GradHistogram

__all__ = [
    "Cotangent",
    "SampleLoops",
    "adjoint_loop",
    "by_weight",
    "mirrored_pullback",
    "n_weights",
    "padded",
    "reverse_gradient",
    "sample_cotangents",
    "split_params",
    "weights_name",
    "with_jacobians",
]

#: (d objective / d values, d objective / d variances): arrays of a histogram's shape.
Cotangent = tuple[np.ndarray, np.ndarray]


def weights_name(network: str) -> str:
    """The reverse-mode parameter that holds ``network``'s weights (a network's
    name has no ``__``, and no configuration parameter starts with ``<network>__``
    unless it is one of its weights, ``<network>__l...``).

    Examples
    --------
    >>> weights_name("nn")
    'nn__weights'
    """
    return f"{network}__weights"


def _unused_name(reverse: Collection[str]) -> str:
    """A forward parameter no configuration can have (DiffFrame needs one)."""
    return f"{next(iter(reverse))}__unused"


def split_params(
    config: Any, reverse: Collection[str], values: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """``values`` (every parameter of ``config``) as the DiffFrame's forward
    parameters and its reverse ones (one weight vector per network in
    ``reverse``). A configuration whose only parameters are those weights gets a
    placeholder forward parameter (0, used by nothing)."""
    rev: dict[str, np.ndarray] = {}
    taken: set[str] = set()
    for name in reverse:
        names = config.network(name).param_names()
        rev[weights_name(name)] = np.array([values[n] for n in names], dtype=np.float64)
        taken.update(names)
    forward = {n: float(v) for n, v in values.items() if n not in taken}
    if not forward:
        forward = {_unused_name(reverse): 0.0}
    return forward, rev


def with_jacobians(
    h: GradHistogram,
    jacobian: np.ndarray,
    variances_jacobian: np.ndarray,
    param_names: tuple[str, ...] | None = None,
) -> GradHistogram:
    """``h`` with other Jacobians (and parameter names)."""
    return GradHistogram(
        h.values, h.variances, jacobian, variances_jacobian, h.edges, h.bandwidth,
        h.overflow, h.n_skipped, param_names=param_names,
    )  # fmt: skip


def _padded_one(
    h: GradHistogram, index: np.ndarray, names: tuple[str, ...]
) -> GradHistogram:
    jac = np.zeros((*h.values.shape, len(names)))
    vjac = np.zeros_like(jac)
    keep = index >= 0
    jac[..., index[keep]] = h.jacobian[..., keep]
    vjac[..., index[keep]] = h.variances_jacobian[..., keep]
    return with_jacobians(h, jac, vjac, names)


def padded(
    raw: Mapping[str, Mapping[str, GradHistogram]], config: Any
) -> dict[str, dict[str, GradHistogram]]:
    """A sample's histograms (channel -> variation) with Jacobians over every
    parameter of ``config``, in its order: the forward parameters' columns from
    the DiffFrame, 0 for the weights of the reverse networks (their gradient comes
    from the adjoint loop)."""
    names = tuple(p.name for p in config.parameters)
    where = {n: i for i, n in enumerate(names)}
    out: dict[str, dict[str, GradHistogram]] = {}
    index: np.ndarray | None = None
    for ch, hs in raw.items():
        out[ch] = {}
        for v, h in hs.items():
            if index is None:
                have = h.param_names or ()
                index = np.array([where.get(n, -1) for n in have], dtype=np.int64)
            out[ch][v] = _padded_one(h, index, names)
    return out


def mirrored_pullback(
    cot: dict[str, Cotangent], up: str, down: str, nominal: str, kept: np.ndarray
) -> None:
    """Moves the cotangent of a mirrored ``down`` (``2 nominal - up`` where
    ``kept``, else 0; its variances are the nominal's) to ``nominal`` and ``up``
    (in place; ``down`` is removed).

    Examples
    --------
    >>> import numpy as np
    >>> cot = {"n": (np.zeros(2), np.zeros(2)), "u": (np.zeros(2), np.zeros(2)),
    ...        "d": (np.ones(2), np.full(2, 3.0))}
    >>> mirrored_pullback(cot, "u", "d", "n", np.array([True, False]))
    >>> cot["n"][0].tolist(), cot["u"][0].tolist(), cot["n"][1].tolist()
    ([2.0, 0.0], [-1.0, 0.0], [3.0, 3.0])
    """
    g, gv = cot.pop(down)
    g = np.where(kept, g, 0.0)
    gn, gvn = cot[nominal]
    gu, gvu = cot[up]
    cot[nominal] = (gn + 2.0 * g, gvn + gv)
    cot[up] = (gu - g, gvu)


@dataclasses.dataclass(frozen=True)
class SampleLoops:
    """What `reverse_gradient` needs of one sample's DiffFrame: its name, the
    factor its histograms were scaled by, its symmetrized column systematics (down
    = mirrored up) and its booked histograms (channel -> variation ->
    `diffana.rdf.GradHistResult`; no symmetrized down among them). For
    `sample_cotangents` alone only the handles' keys matter (a client without
    DiffFrames gives None for each)."""

    name: str
    scale: float
    symmetrized: tuple[str, ...]
    handles: Mapping[str, Mapping[str, Any]]


def sample_cotangents(
    sample: SampleLoops,
    cotangents: Mapping[str, Mapping[str, Mapping[str, Any]]],
    histos: Mapping[str, Mapping[str, Mapping[str, GradHistogram]]],
    nominal: str,
) -> dict[tuple[str, str], Cotangent]:
    """The cotangents of one sample's final histograms (``histos[sample.name]``;
    ``cotangents`` as in `reverse_gradient`) pulled back through its mirrored
    variations and its scale factor to its booked histograms: (channel,
    variation) -> (d/d values, d/d variances) of each booked histogram, those
    that are 0 left out. Needs no DiffFrame (only ``sample.handles``' keys): on a
    Dask cluster the client computes them and the workers run the loop."""
    given = cotangents.get(sample.name, {})
    k = sample.scale
    out: dict[tuple[str, str], Cotangent] = {}
    for ch, handles in sample.handles.items():
        final = histos[sample.name][ch]
        cot: dict[str, Cotangent] = {}
        for v, h in final.items():
            g, gv = given.get(ch, {}).get(v, (None, None))
            zero = np.zeros_like(h.values)
            cot[v] = (
                zero if g is None else np.asarray(g, float),
                zero if gv is None else np.asarray(gv, float),
            )
        for syst in sample.symmetrized:
            down = f"{syst}_down"
            kept = final[down].values > 0
            mirrored_pullback(cot, f"{syst}_up", down, nominal, kept)
        for v in handles:
            g, gv = cot[v]
            if np.any(g) or np.any(gv):
                out[ch, v] = (k * g, (k * k) * gv)
    return out


def n_weights(networks: Mapping[str, Sequence[str]]) -> int:
    """The length of the weights' gradient vector (every network's weights)."""
    return sum(len(ws) for ws in networks.values())


def adjoint_loop(
    handles: Mapping[str, Mapping[str, Any]],
    booked: Mapping[tuple[str, str], Cotangent],
    size: int,
) -> np.ndarray:
    """One adjoint event loop (pass 2 only, `diffana.rdf.adjoint_pass`) of the
    DiffFrame family of ``handles`` (channel -> variation ->
    `diffana.rdf.GradHistResult`), seeded with ``booked`` (`sample_cotangents`),
    at the parameters the family holds now: the gradient w.r.t. its reverse
    parameters, flat (``size`` values: the networks' weights in the order of
    `split_params`, each network's in its ``param_names`` order). Without a seed:
    zeros, no loop."""
    from ..rdf import adjoint_pass

    seeds = {handles[ch][v]: cot for (ch, v), cot in booked.items()}
    if not seeds:
        return np.zeros(size)
    flat = np.asarray(adjoint_pass(seeds).gradient, dtype=np.float64)
    if flat.shape != (size,):
        msg = f"the adjoint loop gave {flat.size} gradient values, expected {size}"
        raise RuntimeError(msg)
    return flat


def by_weight(
    networks: Mapping[str, Sequence[str]], flat: np.ndarray
) -> dict[str, float]:
    """Weight name -> its entry of ``flat`` (`adjoint_loop`'s layout).

    Examples
    --------
    >>> import numpy as np
    >>> by_weight({"a": ["a__l0_w0", "a__l0_b0"], "b": ["b__l0_w0"]}, np.arange(3.0))
    {'a__l0_w0': 0.0, 'a__l0_b0': 1.0, 'b__l0_w0': 2.0}
    """
    names = [w for ws in networks.values() for w in ws]
    return dict(zip(names, np.asarray(flat, dtype=np.float64).tolist(), strict=True))


def reverse_gradient(
    networks: Mapping[str, Sequence[str]],
    samples: Sequence[SampleLoops],
    cotangents: Mapping[str, Mapping[str, Mapping[str, Any]]],
    histos: Mapping[str, Mapping[str, Mapping[str, GradHistogram]]],
    nominal: str,
) -> dict[str, float]:
    """Weight name -> d(objective)/d(weight) for the ``networks`` (name -> its
    weights' names, reverse-mode parameter `weights_name`, in the order the
    DiffFrames were given them by `split_params`): the cotangents of the final
    histograms ``histos`` (``{sample: {channel: {variation: (g, g_var)}}}``, None
    or left out: 0) pulled back to the booked histograms (`sample_cotangents`),
    then one adjoint event loop per sample (`adjoint_loop`)."""
    size = n_weights(networks)
    total = np.zeros(size)
    for sl in samples:
        booked = sample_cotangents(sl, cotangents, histos, nominal)
        if booked:
            total += adjoint_loop(sl.handles, booked, size)
    return by_weight(networks, total)
