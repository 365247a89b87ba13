# SPDX-License-Identifier: BSD-3-Clause
"""Workspaces and their arrays: gradients with respect to the yields, plain JSON.

`value_and_grad_yields` differentiates any objective with respect to every array
of a workspace and returns the gradient in the workspace's own shape;
`to_pyhf_json` writes a workspace that holds JAX or NumPy arrays as the plain
JSON pyhf validates.

Imports `._common`, `._spec` and `.modifiers`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np

from ._common import Array, Workspace, _fail, _pyhf_type
from ._spec import _from_pyhf_model, _parse, _Spec
from .modifiers import effects_for, histfactory_set

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["to_pyhf_json", "value_and_grad_yields"]


def _replace_arrays(
    workspace: Workspace, spec: _Spec, arrays: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of ``workspace`` with the arrays at their places (the rest shared)."""
    out = {k: v for k, v in workspace.items() if k != "channels"}
    channels = []
    for ch in workspace["channels"]:
        samples = []
        for smp in ch["samples"]:
            mods = [
                {
                    **m,
                    "data": dict(m["data"])
                    if isinstance(m.get("data"), Mapping)
                    else m.get("data"),
                }
                for m in smp.get("modifiers", [])
            ]
            samples.append({**smp, "modifiers": mods})
        channels.append({**ch, "samples": samples})
    for key, (ci, si, mi, field) in spec.paths:
        smp = channels[ci]["samples"][si]
        if mi < 0:
            smp["data"] = arrays[key]
        elif field == "data":
            smp["modifiers"][mi]["data"] = arrays[key]
        else:
            smp["modifiers"][mi]["data"][field] = arrays[key]
    out["channels"] = channels
    return out


def value_and_grad_yields(
    objective: Callable[..., Any], workspace: Workspace, **kwargs: Any
) -> tuple[Array, dict[str, Any]]:
    """An objective's value and its gradient with respect to all workspace yields.

    Parameters
    ----------
    objective : callable
        ``objective(workspace, **kwargs) -> scalar``, e.g. `expected_cls`.
    workspace : dict, pyhf.Workspace or pyhf.Model
        A pyhf workspace, or a ``pyhf.Model``: then ``objective`` is given (and
        the gradient has the shape of) a workspace ``dict`` with its channels
        and one measurement that holds its POI, inits, bounds and fixed
        parameters. A ``pyhf.Model`` with other interpolation codes than
        pyhf's defaults is refused (the workspace cannot carry them): build
        ``Model(pyhf_model)`` and differentiate with ``jax.grad`` instead.

    Returns
    -------
    value : jax.Array
    grad : dict
        A copy of ``workspace`` whose sample ``data`` and modifier data (histosys
        ``hi_data``/``lo_data``, normsys ``hi``/``lo``, staterror/shapesys
        ``data``) hold the derivatives of the objective -- the ``g`` of the chain
        rule ``d objective / d theta = J^T g``.
    """
    if _pyhf_type(workspace) == "Model":
        workspace, settings, _ = _from_pyhf_model(workspace)
        table = histfactory_set
        if effects_for(table, settings) != effects_for(table, None):
            raise _fail(
                f"value_and_grad_yields: a pyhf.Model with modifier_settings "
                f"{dict(settings)} (not pyhf's defaults) cannot be passed on as a "
                "workspace; differentiate diffana.stats.Model(model) with jax.grad"
            )
    spec, arrays = _parse(workspace, kwargs.get("measurement"))

    def f(arrs: Mapping[str, Array]) -> Any:
        return objective(_replace_arrays(workspace, spec, arrs), **kwargs)

    value, grads = jax.value_and_grad(f)(arrays)
    return value, _replace_arrays(workspace, spec, grads)


def to_pyhf_json(workspace: Workspace) -> dict[str, Any]:
    """A plain-JSON copy of ``workspace`` (arrays -> lists of floats) for pyhf.

    ``pyhf.Workspace(to_pyhf_json(ws))`` validates it against pyhf's schema.
    Raises `TypeError` for traced (abstract) arrays, which have no values.
    """

    def convert(x: Any) -> Any:
        if isinstance(x, jax.core.Tracer):
            msg = "to_pyhf_json: the workspace holds traced JAX arrays (no values)"
            raise TypeError(msg)
        if isinstance(x, Mapping):
            return {str(k): convert(v) for k, v in x.items()}
        if isinstance(x, (jax.Array, np.ndarray, np.generic)):
            arr = np.asarray(x)
            return arr.tolist() if arr.dtype.kind != "f" else arr.astype(float).tolist()
        if isinstance(x, (list, tuple)):
            return [convert(v) for v in x]
        return copy.deepcopy(x)

    out: dict[str, Any] = convert(workspace)
    return out
