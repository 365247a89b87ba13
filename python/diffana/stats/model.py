# SPDX-License-Identifier: BSD-3-Clause
"""The HistFactory model: expected data, constraints and the likelihood.

`Model` follows pyhf 0.7's ``Workspace.model()`` in ``jax.numpy``. The functions
behind it take the static `_Spec` and the flat vector of the workspace's arrays
(`_flat`), so that the fits and objectives can jit them with the structure as a
static argument: `_expected_main` (main-measurement yields, the modifiers'
effects applied), `_constraints` (what the auxiliary measurements need),
`_nll` (the fits' objective) and `_logpdf` (pyhf's log-likelihood).

Imports `._common`, `._spec` and `.modifiers`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln

from ._common import Array, _is_traced

# Re-exported: the fits and objectives import it from here.
from ._spec import _flat as _flat  # noqa: PLC0414
from ._spec import _parse, _Spec
from .modifiers import histfactory_set

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = ["Model"]


@dataclasses.dataclass(frozen=True)
class _Constraints:
    """What the constraint terms need, evaluated for the current yields."""

    fixed: Array  # (npars,) bool: configured, and staterror/shapesys bins pyhf fixes
    aux_index: np.ndarray  # parameter index of each auxiliary datum (pyhf's order)
    normal: np.ndarray  # (naux,) bool: Gaussian (else Poisson) constraint
    scale: Array  # (naux,) Gaussian sigma or Poisson factor (tau)
    auxdata: Array  # (naux,) the nominal auxiliary data (pyhf's config.auxdata)


def _constraints(spec: _Spec, flat: Array) -> _Constraints:
    dtype = flat.dtype
    fixed = jnp.asarray(spec.static_fixed)
    aux_index: list[np.ndarray] = []
    normal: list[np.ndarray] = []
    scale: list[Array] = []
    auxdata: list[Array] = []
    for p in spec.parsets:
        if p.kind == "free":
            continue
        sl = slice(p.offset, p.offset + p.n)
        sig = jnp.ones(p.n, dtype)
        aux = jnp.asarray(p.auxdata if p.auxdata is not None else (1.0,) * p.n, dtype)
        if p.computed:
            nom = flat[np.asarray(p.nom_idx)]
            unc = flat[np.asarray(p.unc_idx)]
            modifier = histfactory_set[p.computed]
            sig, aux_yields, held = modifier.constraint_from_yields(nom, unc)
            if aux_yields is not None and p.auxdata is None:
                aux = aux_yields
            if p.fixed is None:
                fixed = fixed.at[sl].set(held)
        if p.sigmas is not None:
            sig = jnp.asarray(p.sigmas, dtype)
        aux_index.append(np.arange(p.offset, p.offset + p.n))
        normal.append(np.full(p.n, p.kind == "normal"))
        scale.append(sig)
        auxdata.append(aux)
    if not aux_index:
        empty = jnp.zeros(0, dtype)
        return _Constraints(fixed, np.zeros(0, int), np.zeros(0, bool), empty, empty)
    return _Constraints(
        fixed,
        np.concatenate(aux_index),
        np.concatenate(normal),
        jnp.concatenate(scale),
        jnp.concatenate(auxdata),
    )


def _expected_main(spec: _Spec, flat: Array, pars: Array) -> Array:
    """Expected main-measurement yields, channels in pyhf's (sorted) order.

    Per sample and bin: (nominal + the additive effects) * the product of the
    multiplicative ones, each effect applying all modifiers of its kind at once.
    """
    nom = flat[spec.nom_table]
    for effect, tables in spec.effect_tables:
        if effect.additive:
            nom = nom + effect.apply(tables, flat, pars, nom)
    factor = jnp.ones_like(nom)
    for effect, tables in spec.effect_tables:
        if not effect.additive:
            factor = factor * effect.apply(tables, flat, pars, nom)
    return jnp.sum(nom * factor, axis=0)


def _expected_aux(cons: _Constraints, pars: Array) -> Array:
    theta = pars[cons.aux_index]
    return jnp.where(jnp.asarray(cons.normal), theta, theta * cons.scale)


def _expected_data(spec: _Spec, flat: Array, cons: _Constraints, pars: Array) -> Array:
    return jnp.concatenate(
        [_expected_main(spec, flat, pars), _expected_aux(cons, pars)]
    )


def _log_ratio(n: Array, lam: Array) -> Array:
    """n * log(n / lam): 0 at n = 0, and a large finite penalty for lam <= 0."""
    npos = n > 0
    lam_safe = jnp.where(lam > 0, lam, jnp.finfo(lam.dtype).tiny)
    return jnp.where(
        npos, n * (jnp.log(jnp.where(npos, n, 1.0)) - jnp.log(lam_safe)), 0.0
    )


def _nll(
    spec: _Spec, flat: Array, cons: _Constraints, pars: Array, data: Array
) -> Array:
    """-log L minus its saturated value (half the deviance): the fits' objective.

    Without the parameter-independent terms it is O(q), not O(sum n log n), so
    the fit tolerances and the differences of fitted values stay tight.
    """
    m = spec.nmain
    lam, n = _expected_main(spec, flat, pars), data[:m]
    out = jnp.sum(lam - n + _log_ratio(n, lam))
    if cons.aux_index.size:
        a = data[m:]
        mu = _expected_aux(cons, pars)
        gauss = 0.5 * ((a - mu) / cons.scale) ** 2
        pois = mu - a + _log_ratio(a, mu)
        out = out + jnp.sum(jnp.where(jnp.asarray(cons.normal), gauss, pois))
    return out


def _xlogy(x: Array, y: Array) -> Array:
    """x log y as scipy's ``xlogy`` (pyhf's Poisson): 0 at x = 0 whatever y,
    -inf for y = 0 < x, NaN for y < 0 < x."""
    good = y > 0
    value = jnp.where(x > 0, x * jnp.log(jnp.where(good, y, 1.0)), 0.0)
    bad = jnp.where(y < 0, jnp.nan, -jnp.inf)
    return jnp.where((x > 0) & ~good, bad, value)


def _logpdf(
    spec: _Spec, flat: Array, cons: _Constraints, pars: Array, data: Array
) -> Array:
    """pyhf's full log-likelihood (continuous Poisson, normalised Gaussians)."""
    m = spec.nmain
    lam, n = _expected_main(spec, flat, pars), data[:m]
    out = jnp.sum(_xlogy(n, lam) - lam - gammaln(n + 1.0))
    if cons.aux_index.size:
        a = data[m:]
        mu = _expected_aux(cons, pars)
        sig = cons.scale
        gauss = -jnp.log(sig * math.sqrt(2 * math.pi)) - 0.5 * ((a - mu) / sig) ** 2
        pois = _xlogy(a, mu) - mu - gammaln(a + 1.0)
        out = out + jnp.sum(jnp.where(jnp.asarray(cons.normal), gauss, pois))
    return out


# What the input checks and the objectives evaluate outside the fits: one
# kernel each per workspace structure, instead of some fifty small ones that
# an eager evaluation compiles for every new combination of shapes.


@functools.partial(jax.jit, static_argnums=(0,))
def _background(spec: _Spec, flat: Array) -> Array:
    """Expected main yields with the POI at 0, the others at their inits."""
    pars = jnp.asarray(spec.inits, flat.dtype).at[spec.poi_index].set(0.0)
    return _expected_main(spec, flat, pars)


@functools.partial(jax.jit, static_argnums=(0,))
def _aux_and_fixed(spec: _Spec, flat: Array) -> tuple[Array, Array]:
    """The nominal auxiliary data and the fixed flags (`_Constraints`)."""
    cons = _constraints(spec, flat)
    return cons.auxdata, cons.fixed


@functools.partial(jax.jit, static_argnums=(0,))
def _expected_kernel(spec: _Spec, flat: Array, pars: Array) -> Array:
    """Expected main and auxiliary data, as one kernel (the Asimov data).

    `Model.expected_data` and `Model.logpdf` stay eager: XLA contracts
    a * b + c into a fused multiply-add inside a kernel, which changes the
    last bit of a sum, and a rate that cancels to exactly 0 eagerly (as in
    pyhf) could come out at -1e-15 (a NaN logpdf instead of -inf).
    """
    return _expected_data(spec, flat, _constraints(spec, flat), pars)


@jax.tree_util.register_pytree_node_class
class Model:
    """A HistFactory model in JAX, built from a pyhf workspace or model.

    Follows pyhf 0.7's ``Workspace.model()``: the same channel, sample and
    parameter order, the same expected data and log-likelihood, so that
    ``Model(ws).logpdf(pars, data)`` equals ``pyhf.Workspace(ws).model().logpdf``
    and ``Model(pyhf_model)`` equals ``pyhf_model``. The model is a JAX pytree
    (its arrays are the leaves), so it can be passed through ``jax.jit`` and
    differentiated.

    Parameters
    ----------
    workspace : dict, pyhf.Workspace or pyhf.Model
        A workspace in pyhf's JSON schema (sample data and modifier data may be
        JAX arrays, also traced ones), a ``pyhf.Workspace``, or a ``pyhf.Model``
        (its ``spec``, and from its ``config`` the POI, the inits, bounds and
        fixed parameters and the ``modifier_settings``). For a patched model
        use pyhf's own patching: ``Model(workspace.model(patches=[patch]))`` or
        ``Model(patchset.apply(workspace, "patch name"))``.
    measurement : str, optional
        The measurement to use (its POI and parameter configuration); default
        the first one, as pyhf. Not with a ``pyhf.Model``.
    modifier_settings : dict, optional
        pyhf's ``modifier_settings``: the interpolation code of ``normsys``
        (``"code4"``, the default, or ``"code1"``) and ``histosys``
        (``"code4p"``, the default, or ``"code0"``), e.g. ``{"normsys":
        {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}``, which
        is HistFactory's XML default. As in pyhf, a type left out of a given
        dict gets pyhf's fallback (code 1 for normsys, code 0 for histosys),
        and ``None`` gets the defaults. Not with a ``pyhf.Model``.

    Raises
    ------
    WorkspaceError
        A `ValueError`, in one line: the workspace is not valid (unknown
        modifier type, missing POI or measurement, NaN/infinite yields,
        negative uncertainties, mismatched bin counts, an unsupported
        ``modifier_settings``...).

    Examples
    --------
    >>> import jax
    >>> from diffana.stats import Model
    >>> ws = {
    ...     "channels": [{"name": "sr", "samples": [
    ...         {"name": "signal", "data": [5.0, 2.0], "modifiers": [
    ...             {"name": "mu", "type": "normfactor", "data": None}]},
    ...         {"name": "background", "data": [50.0, 20.0], "modifiers": [
    ...             {"name": "stat", "type": "staterror", "data": [5.0, 2.0]}]},
    ...     ]}],
    ...     "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
    ... }
    >>> with jax.enable_x64(True):
    ...     model = Model(ws)
    ...     print(model.par_names)
    ...     print(model.expected_data(model.suggested_init()).tolist())
    ['mu', 'stat[0]', 'stat[1]']
    [55.0, 22.0, 1.0, 1.0]
    """

    def __init__(
        self,
        workspace: Any,
        measurement: str | None = None,
        *,
        modifier_settings: Mapping[str, Any] | None = None,
    ) -> None:
        self._spec, self._arrays = _parse(workspace, measurement, modifier_settings)

    @classmethod
    def _of(cls, spec: _Spec, arrays: Mapping[str, Array]) -> Model:
        obj = object.__new__(cls)
        obj._spec, obj._arrays = spec, dict(arrays)
        return obj

    def tree_flatten(self) -> tuple[tuple[dict[str, Array]], _Spec]:
        return (self._arrays,), self._spec

    @classmethod
    def tree_unflatten(cls, spec: _Spec, children: tuple[dict[str, Array]]) -> Model:
        return cls._of(spec, children[0])

    @property
    def par_names(self) -> list[str]:
        """Parameter names in pyhf's order (``name[i]`` for per-bin parameters)."""
        return list(self._spec.par_names)

    @property
    def poi_name(self) -> str:
        return self._spec.poi_name

    @property
    def poi_index(self) -> int:
        return self._spec.poi_index

    @property
    def channels(self) -> list[str]:
        return [c for c, _ in self._spec.channels]

    @property
    def nmaindata(self) -> int:
        return self._spec.nmain

    def par_slice(self, name: str) -> slice:
        """The slice of the parameter vector that holds parameter set ``name``."""
        p = self._spec.parset(name)
        return slice(p.offset, p.offset + p.n)

    def suggested_init(self) -> Array:
        return jnp.asarray(self._spec.inits, jnp.result_type(float))

    def suggested_bounds(self) -> np.ndarray:
        """(npars, 2) lower and upper bounds."""
        return self._spec.bounds.copy()

    def suggested_fixed(self) -> Array:
        """Fixed parameters: configured ones and the empty staterror/shapesys bins."""
        return _aux_and_fixed(self._spec, self._flat())[1]

    @property
    def auxdata(self) -> Array:
        """The nominal auxiliary data, pyhf's ``model.config.auxdata``."""
        return _aux_and_fixed(self._spec, self._flat())[0]

    def expected_data(self, pars: Any, include_auxdata: bool = True) -> Array:
        """Expected main data (and auxiliary data) for parameters ``pars``."""
        pars = self._pars(pars)
        if not include_auxdata:
            return _expected_main(self._spec, self._flat(), pars)
        return _expected_data(self._spec, self._flat(), self._cons(), pars)

    def logpdf(self, pars: Any, data: Any) -> Array:
        """log L(pars | data), a scalar (pyhf returns it with shape (1,)).

        As pyhf's: -inf where a bin expects no events but has some, and, under
        ``jax.jit``, NaN where a bin's expected rate is negative and it has
        events. With concrete inputs that NaN is a `ValueError` naming the bin.
        """
        pars_arr, data_arr = self._pars(pars), self._data(data)
        value = _logpdf(self._spec, self._flat(), self._cons(), pars_arr, data_arr)
        if not _is_traced(value) and np.isnan(float(value)):
            self._check_rates(pars_arr, data_arr)
        return value

    def _check_rates(self, pars: Array, data: Array) -> None:
        """Raise for the first bin whose expected rate is < 0 with events in it."""
        lam = np.asarray(_expected_main(self._spec, self._flat(), pars))
        n = np.asarray(data)[: lam.size]
        start = 0
        for name, nbins in self._spec.channels:
            for i in range(nbins):
                if lam[start + i] < 0 < n[start + i]:
                    msg = (
                        f"logpdf: bin {i} of channel '{name}' expects "
                        f"{lam[start + i]:.6g} events (< 0) and has "
                        f"{n[start + i]:g}: the Poisson term is not defined "
                        "(pyhf gives NaN)"
                    )
                    raise ValueError(msg)
            start += nbins

    def _flat(self) -> Array:
        return _flat(self._spec, self._arrays)

    def _cons(self) -> _Constraints:
        return _constraints(self._spec, self._flat())

    def _pars(self, pars: Any) -> Array:
        arr = jnp.asarray(pars, jnp.result_type(float))
        if arr.shape != (self._spec.npars,):
            msg = f"pars has shape {arr.shape}, expected ({self._spec.npars},)"
            raise ValueError(msg)
        return arr

    def _data(self, data: Any) -> Array:
        arr = jnp.asarray(data, jnp.result_type(float))
        size = self._spec.nmain + self._spec.naux
        if arr.shape != (size,):
            msg = f"data has shape {arr.shape}, expected ({size},)"
            raise ValueError(msg)
        return arr
