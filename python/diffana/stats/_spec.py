# SPDX-License-Identifier: BSD-3-Clause
"""Reading a pyhf workspace: its static structure `_Spec` and its arrays.

`_parse` splits a workspace into a `_Spec` -- everything but its numbers:
hashable, the static argument of every jitted function of the package -- and
the arrays (sample data and modifier data, maybe traced), checked where they are
concrete. What is particular to a modifier type (its arrays, its parameter set,
its index tables) is asked of `diffana.stats.modifiers.histfactory_set`, so
nothing here names a modifier type.

Imports `._common` and `.modifiers`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._common import Array, Table, Workspace, _fail
from .modifiers import Effect, Entry, Layout, histfactory_set
from .modifiers._base import Lookup

# JAX's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

_PARAMETER_KEYS = {"name", "inits", "bounds", "fixed", "auxdata", "sigmas", "factors"}


@dataclasses.dataclass(frozen=True)
class _ParSet:
    """A named parameter set, as pyhf's paramsets (None: computed from the yields)."""

    name: str
    kind: str  # "free", "normal" or "poisson"
    offset: int
    n: int
    is_scalar: bool
    inits: tuple[float, ...]
    bounds: tuple[tuple[float, float], ...]
    fixed: tuple[bool, ...] | None
    auxdata: tuple[float, ...] | None
    sigmas: tuple[float, ...] | None
    # The modifier type whose constraint comes from the yields ("": none).
    computed: str = ""
    # Flat-vector indices of the nominal yields and uncertainties behind each
    # computed parameter: (samples, n), padded with the index of a zero.
    nom_idx: Table = ()
    unc_idx: Table = ()


@dataclasses.dataclass(frozen=True)
class _EffectTables:
    """The index tables of one `Effect`: (name, shape, values in C order)."""

    effect: Effect
    count: int  # entries: the first axis of every table
    tables: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]


@dataclasses.dataclass(frozen=True)
class _Spec:
    """Everything about a workspace but its numbers: hashable, static under jit.

    The yields are gathered from one flat vector (all arrays in ``paths`` order,
    then a 0 and a 1) with index tables over (sample, global bin), so that the
    model is a handful of dense operations whatever its size -- which keeps the
    compiled fits and their derivatives small.
    """

    channels: tuple[tuple[str, int], ...]  # (name, nbins), pyhf's sorted order
    parsets: tuple[_ParSet, ...]
    poi_index: int
    poi_name: str
    npars: int
    # Where each array sits in the workspace: (channel, sample, modifier, field).
    paths: tuple[tuple[str, tuple[int, int, int, str]], ...]
    nom: Table  # (S, B) index of each sample's nominal yield (or of the 0)
    # The effects with entries, additive ones first, then by rank.
    effects: tuple[_EffectTables, ...]

    @property
    def nmain(self) -> int:
        return sum(n for _, n in self.channels)

    @functools.cached_property
    def naux(self) -> int:
        return sum(p.n for p in self.parsets if p.kind != "free")

    @functools.cached_property
    def inits(self) -> np.ndarray:
        return np.array([v for p in self.parsets for v in p.inits], dtype=float)

    @functools.cached_property
    def bounds(self) -> np.ndarray:
        return np.array([b for p in self.parsets for b in p.bounds], dtype=float)

    @functools.cached_property
    def static_fixed(self) -> np.ndarray:
        """Parameters fixed by the configuration (whatever the yields)."""
        out = np.zeros(self.npars, dtype=bool)
        for p in self.parsets:
            if p.fixed is not None:
                out[p.offset : p.offset + p.n] = p.fixed
        return out

    @functools.cached_property
    def par_names(self) -> list[str]:
        names: list[str] = []
        for p in self.parsets:
            names += [p.name] if p.is_scalar else [f"{p.name}[{i}]" for i in range(p.n)]
        return names

    @functools.cached_property
    def nom_table(self) -> np.ndarray:
        """(S, B) ``nom`` as a numpy array (built once per structure)."""
        return np.asarray(self.nom, dtype=np.int64).reshape(len(self.nom), self.nmain)

    @functools.cached_property
    def effect_tables(self) -> tuple[tuple[Effect, dict[str, np.ndarray]], ...]:
        """Each effect with its tables as numpy arrays (built once per structure)."""
        return tuple(
            (
                e.effect,
                {
                    name: np.asarray(values, dtype=np.int64).reshape(shape)
                    for name, shape, values in e.tables
                },
            )
            for e in self.effects
        )

    def parset(self, name: str) -> _ParSet:
        return next(p for p in self.parsets if p.name == name)


def _array(value: Any, what: str, nbins: int | None, positive: bool = False) -> Array:
    """A float array from workspace data; concrete values are checked here."""
    if isinstance(value, jax.core.Tracer):
        arr = jnp.asarray(value, dtype=jnp.result_type(float))
    else:
        try:
            host = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as err:
            raise _fail(f"{what} is not a list of numbers ({err})") from None
        if not np.all(np.isfinite(host)):
            raise _fail(f"{what} has NaN or infinite entries")
        if positive and not np.all(host > 0):
            raise _fail(f"{what} must be > 0")
        if not positive and np.any(host < 0):
            raise _fail(f"{what} has negative entries (yields must be >= 0)")
        arr = jnp.asarray(host, dtype=jnp.result_type(float))
    if nbins is None:
        if arr.shape != ():
            raise _fail(f"{what} must be a number, not an array of shape {arr.shape}")
    elif arr.shape != (nbins,):
        raise _fail(f"{what} has shape {arr.shape}, expected ({nbins},)")
    return arr


def _parse(
    workspace: Workspace, measurement: str | None = None
) -> tuple[_Spec, dict[str, Array]]:
    """Split a workspace into its static structure and its (maybe traced) arrays.

    The arrays are keyed ``"c/s/data"`` (sample ``s`` of channel ``c``, in the
    workspace's order) and ``"c/s/m/field"`` (a `Field` of its modifier ``m``).
    """
    if not isinstance(workspace, Mapping):
        msg = f"a workspace is a dict in pyhf's JSON schema, not {type(workspace)}"
        raise TypeError(msg)
    channels = workspace.get("channels")
    if not channels:
        raise _fail("no 'channels'")
    arrays: dict[str, Array] = {}
    paths: list[tuple[str, tuple[int, int, int, str]]] = []
    nbins: dict[str, int] = {}
    lookup: Lookup = {}
    for ci, ch in enumerate(channels):
        cname = ch.get("name")
        if not isinstance(cname, str) or cname in nbins:
            raise _fail(f"channel {ci} has a missing or repeated name {cname!r}")
        if not ch.get("samples"):
            raise _fail(f"channel '{cname}' has no samples")
        for si, smp in enumerate(ch["samples"]):
            sname = smp.get("name")
            where = f"sample '{sname}' of channel '{cname}'"
            if not isinstance(sname, str) or (cname, sname) in lookup:
                raise _fail(f"{where}: missing or repeated sample name")
            if "data" not in smp:
                raise _fail(f"{where} has no 'data'")
            key = f"{ci}/{si}/data"
            n = nbins.setdefault(cname, int(np.size(smp["data"])))
            arrays[key] = _array(smp["data"], f"{where} 'data'", n)
            paths.append((key, (ci, si, -1, "data")))
            mods: dict[tuple[str, str], int] = {}
            for mi, mod in enumerate(smp.get("modifiers", [])):
                mname, mtype = mod.get("name"), mod.get("type")
                mwhere = f"modifier '{mname}' ({mtype}) on {where}"
                if not isinstance(mtype, str) or mtype not in histfactory_set:
                    raise _fail(
                        f"{mwhere}: unknown modifier type {mtype!r} "
                        f"(supported: {', '.join(histfactory_set)})"
                    )
                if not isinstance(mname, str) or (mname, mtype) in mods:
                    raise _fail(f"{mwhere}: missing or repeated modifier name")
                mods[(mname, mtype)] = mi
                data = mod.get("data")
                for field in histfactory_set[mtype].fields:
                    if field.key == "data":
                        value = data
                    elif isinstance(data, Mapping):
                        value = data.get(field.key)
                    else:
                        value = None
                    if value is None:
                        raise _fail(f"{mwhere} has no data {field.key!r}")
                    fkey = f"{ci}/{si}/{mi}/{field.key}"
                    size = n if field.per_bin else None
                    arrays[fkey] = _array(
                        value, f"{mwhere} {field.key}", size, field.positive
                    )
                    paths.append((fkey, (ci, si, mi, field.key)))
            lookup[(cname, sname)] = (ci, si, mods)
    spec = _build_spec(workspace, arrays, paths, nbins, lookup, measurement)
    return spec, arrays


def _measurement_config(
    workspace: Workspace, measurement: str | None
) -> tuple[str, dict[str, Mapping[str, Any]]]:
    """The POI and the per-parameter configuration of the chosen measurement."""
    measurements = workspace.get("measurements") or []
    if measurement is None:
        if not measurements:
            raise _fail("no 'measurements' (the POI is read from the measurement)")
        meas = measurements[0]
    else:
        found = [m for m in measurements if m.get("name") == measurement]
        if not found:
            raise _fail(f"no measurement named {measurement!r}")
        meas = found[0]
    config = meas.get("config", {})
    poi = config.get("poi")
    if not isinstance(poi, str) or not poi:
        raise _fail(f"measurement {meas.get('name')!r} has no 'poi' in its config")
    user: dict[str, Mapping[str, Any]] = {}
    for par in config.get("parameters", []):
        unknown = set(par) - _PARAMETER_KEYS
        if unknown:
            raise _fail(f"parameter config {par.get('name')!r}: unknown keys {unknown}")
        if par.get("name") in user:
            raise _fail(f"parameter {par.get('name')!r} is configured twice")
        user[par["name"]] = par
    return poi, user


def _user_values(
    cfg: Mapping[str, Any], key: str, default: tuple[Any, ...], name: str
) -> tuple[Any, ...]:
    if key not in cfg:
        return default
    value = cfg[key]
    if isinstance(value, bool) and key == "fixed":
        return (value,) * len(default)
    if not isinstance(value, Sequence) or len(value) != len(default):
        raise _fail(
            f"parameter {name!r}: '{key}' must be a list of {len(default)} values, "
            f"got {value!r}"
        )
    return tuple(value)


def _and(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _parameter_set(
    name: str,
    mtype: str,
    where: Sequence[tuple[str, str]],
    layout: Layout,
    cfg: Mapping[str, Any],
    offset: int,
) -> tuple[_ParSet, Mapping[str, int]]:
    """Parameter set ``name`` of modifier type ``mtype``: the modifier's request
    with the measurement's configuration ``cfg`` applied; and its bin offsets."""
    req = histfactory_set[mtype].request(name, where, layout, cfg)
    n, kind = req.n, req.kind
    computed = mtype if req.from_yields else ""
    inits = tuple(float(v) for v in _user_values(cfg, "inits", req.inits, name))
    bounds = tuple(
        (float(lo), float(hi))
        for lo, hi in _user_values(cfg, "bounds", req.bounds, name)
    )
    fixed: tuple[bool, ...] | None = None if computed else (False,) * n
    if "fixed" in cfg:
        fixed = tuple(bool(f) for f in _user_values(cfg, "fixed", (False,) * n, name))
    if kind == "free" and ("auxdata" in cfg or "sigmas" in cfg):
        raise _fail(f"parameter {name!r} is unconstrained: no 'auxdata'/'sigmas'")
    if kind == "poisson" and "sigmas" in cfg:
        raise _fail(f"parameter {name!r} is Poisson-constrained: no 'sigmas'")
    if "factors" in cfg:
        raise _fail(f"parameter {name!r}: configuring 'factors' is not supported")
    aux, sig = req.auxdata, req.sigmas
    if "auxdata" in cfg:
        aux = tuple(float(v) for v in _user_values(cfg, "auxdata", (0.0,) * n, name))
    if "sigmas" in cfg:
        sig = tuple(float(v) for v in _user_values(cfg, "sigmas", (1.0,) * n, name))
    for i, (lo, hi) in enumerate(bounds):
        if not lo <= inits[i] <= hi:
            raise _fail(
                f"parameter {name!r}: init {inits[i]} outside bounds {(lo, hi)}"
            )
    scalar = n == 1 and not req.per_bin
    parset = _ParSet(
        name,
        kind,
        offset,
        n,
        scalar,
        inits,
        bounds,
        fixed,
        aux,
        sig,
        computed,
        req.nom_idx,
        req.unc_idx,
    )
    return parset, req.bin_offsets


def _build_spec(
    workspace: Workspace,
    arrays: Mapping[str, Array],
    paths: list[tuple[str, tuple[int, int, int, str]]],
    nbins: dict[str, int],
    lookup: Lookup,
    measurement: str | None,
) -> _Spec:
    poi, user = _measurement_config(workspace, measurement)
    table = histfactory_set
    cnames = sorted(nbins)
    snames = sorted({s for _, s in lookup})
    all_mods = sorted({m for (_, _, mods) in lookup.values() for m in mods})
    # -- parameter order, as pyhf: by modifier type in the table's order, then as
    # the type orders them (by first appearance when walking sorted channels,
    # sorted samples and sorted (name, type) modifiers, unless it sorts them).
    seen: dict[str, list[str]] = {t: [] for t in table}
    types_of: dict[str, set[str]] = {}
    used: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for c in cnames:
        for s in snames:
            if (c, s) not in lookup:
                continue
            for m, t in all_mods:
                if (m, t) in lookup[(c, s)][2]:
                    if m not in seen[t]:
                        seen[t].append(m)
                    types_of.setdefault(m, set()).add(t)
                    used.setdefault((m, t), []).append((c, s))
    order: list[str] = []
    for t, modifier in table.items():
        order += [m for m in modifier.parameter_order(seen[t]) if m not in order]
    for name in user:
        if name not in order:
            raise _fail(f"the measurement configures {name!r}, which no modifier uses")
    # -- the flat vector: every array, then a 0 and a 1
    offs: dict[str, int] = {}
    size = 0
    for key, _ in paths:
        offs[key] = size
        size += int(np.size(arrays[key]))
    zero, one = size, size + 1
    nom = np.full((len(snames), sum(nbins.values())), zero)
    layout = Layout(nbins, tuple(cnames), tuple(snames), lookup, offs, zero, one, nom)
    for c, s in lookup:
        layout.nom[layout.row(s), layout.cols(c)] = layout.nominal(c, s) + np.arange(
            nbins[c]
        )
    # -- the parameter sets
    sharing = [t for t, m in table.items() if m.shares_parameters]
    parsets: list[_ParSet] = []
    bin_offsets: dict[str, Mapping[str, int]] = {}
    offset = 0
    for name in order:
        types = types_of[name]
        if len(types) > 1 and not types <= set(sharing):
            raise _fail(
                f"parameter {name!r} is used by modifiers of types {sorted(types)}; "
                f"only {_and(sharing)} may share a parameter"
            )
        # Types that share a parameter define it alike: take the first.
        t = next(t for t in table if t in types)
        cfg = user.get(name, {})
        parset, bin_offsets[name] = _parameter_set(
            name, t, used[(name, t)], layout, cfg, offset
        )
        parsets.append(parset)
        offset += parset.n
    if poi not in order:
        raise _fail(f"the POI {poi!r} is not a parameter of the model")
    ps = {p.name: p for p in parsets}
    if ps[poi].n != 1 or ps[poi].kind != "free":
        raise _fail(f"the POI {poi!r} must be one unconstrained parameter (normfactor)")
    poi_fixed = ps[poi].fixed
    if poi_fixed is not None and poi_fixed[0]:
        raise _fail(f"the POI {poi!r} is configured as fixed")
    # -- index tables of the effects over (sample, global bin), entries in
    # parameter order
    effects: list[_EffectTables] = []
    for effect in sorted(
        {m.effect for m in table.values()},
        key=lambda e: (not e.additive, e.rank, e.name),
    ):
        entries = [
            Entry(name, t, ps[name].offset, tuple(used[(name, t)]), bin_offsets[name])
            for name in order
            for t in table
            if t in types_of[name] and table[t].effect == effect
        ]
        if entries:
            filled = effect.fill(entries, layout)
            frozen = tuple(
                (k, tuple(v.shape), tuple(int(x) for x in v.ravel()))
                for k, v in filled.items()
            )
            effects.append(_EffectTables(effect, len(entries), frozen))

    def freeze(arr: np.ndarray) -> Table:
        return tuple(tuple(int(v) for v in row) for row in arr)

    return _Spec(
        channels=tuple((c, nbins[c]) for c in cnames),
        parsets=tuple(parsets),
        poi_index=ps[poi].offset,
        poi_name=poi,
        npars=offset,
        paths=tuple(paths),
        nom=freeze(nom),
        effects=tuple(effects),
    )
