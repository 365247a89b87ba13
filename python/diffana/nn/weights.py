# SPDX-License-Identifier: BSD-3-Clause
"""Trained weights on disk: one JSON file per network that records its shape
(`Network.to_dict`) and its weights by parameter name, written atomically (a
temporary name in the same folder, fsync, rename: never half-written) and read back
bit for bit (JSON floats are written with Python's shortest round-trip repr).

A file read for a network of another shape (other layers, inputs, activations or
jets) is refused with one line that names the file and the difference.

May import numpy, the standard library and `diffana.nn.spec`.

Examples
--------
>>> import tempfile, os
>>> from diffana.nn.spec import Network
>>> net = Network("net", inputs=("a", "b"), layers=(2, 1))
>>> w = net.init_weights()
>>> path = os.path.join(tempfile.mkdtemp(), "net.json")
>>> _ = save_weights(path, net, w)
>>> bool((load_weights(path, net) == w).all())
True
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .spec import Network

__all__ = ["FORMAT", "dumps", "load_weights", "loads", "save_weights"]

#: The format tag of a weights file.
FORMAT = "diffana.nn.weights/1"


def dumps(network: Network, weights: Sequence[float] | np.ndarray) -> str:
    """The weights file's text for ``network`` with ``weights`` (flat order)."""
    w = np.asarray(weights, dtype=float)
    if w.shape != (network.n_weights,) or not np.all(np.isfinite(w)):
        msg = (
            f"network {network.name!r}: expected {network.n_weights} finite weights, "
            f"got shape {w.shape}"
        )
        raise ValueError(msg)
    data = {
        "format": FORMAT,
        "name": network.name,
        "network": network.to_dict(),
        "weights": dict(zip(network.param_names(), map(float, w), strict=True)),
    }
    return json.dumps(data, indent=1) + "\n"


def loads(text: str, network: Network, source: str = "weights") -> np.ndarray:
    """The flat weights of ``network`` from a weights file's text; ValueError
    (naming ``source``) for another format or a network of another shape."""
    try:
        data = json.loads(text)
    except ValueError as e:
        msg = f"{source}: not a JSON weights file ({e})"
        raise ValueError(msg) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"{source}: not a diffana weights file (no format {FORMAT!r})"
        raise ValueError(msg)
    shape = network.to_dict()
    theirs = data.get("network")
    if not isinstance(theirs, dict) or theirs != shape:
        diff = _difference(theirs if isinstance(theirs, dict) else {}, shape)
        msg = f"{source}: the weights are of another network ({diff})"
        raise ValueError(msg)
    weights = data.get("weights")
    if not isinstance(weights, Mapping):
        msg = f"{source}: no weights mapping"
        raise ValueError(msg)  # noqa: TRY004 (a bad file, reported as ValueError)
    # Files are matched by shape, not by name: a network renamed in the
    # configuration reads its weights in flat order.
    stem = f"{network.name}__"
    names = [
        f"{data.get('name', '')}__{n.removeprefix(stem)}" for n in network.param_names()
    ]
    values = [weights.get(n) for n in names]
    bad = [n for n, v in zip(names, values, strict=True) if not _finite(v)]
    if bad or len(weights) != len(names):
        what = f"no finite value for {bad[0]}" if bad else "extra weights"
        msg = f"{source}: {what} ({len(weights)} weights, expected {len(names)})"
        raise ValueError(msg)
    return np.array(values, dtype=float)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _difference(theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> str:
    keys = sorted(set(theirs) | set(ours))
    diffs = [
        f"{k}: file {theirs.get(k)!r}, configuration {ours.get(k)!r}"
        for k in keys
        if theirs.get(k) != ours.get(k)
    ]
    return "; ".join(diffs) or "unreadable shape"


def save_weights(
    path: str | os.PathLike[str],
    network: Network,
    weights: Sequence[float] | np.ndarray,
) -> pathlib.Path:
    """Write ``network``'s weights to ``path`` atomically; returns the path."""
    text = dumps(network, weights)
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_weights(path: str | os.PathLike[str], network: Network) -> np.ndarray:
    """The flat weights of ``network`` stored in ``path`` (see `loads`)."""
    p = pathlib.Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        msg = f"cannot read the weights file {p}: {e.strerror or e}"
        raise ValueError(msg) from None
    return loads(text, network, str(p))
