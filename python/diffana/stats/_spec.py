# SPDX-License-Identifier: BSD-3-Clause
"""Reading a pyhf workspace: its static structure `_Spec` and its arrays.

`_parse` splits a workspace into a `_Spec` -- everything but its numbers:
hashable, the static argument of every jitted function of the package -- and
the arrays (sample data and modifier data, maybe traced), checked where they are
concrete. What is particular to a modifier type (its arrays, its parameter set,
its index tables, its interpolation codes) is asked of
`diffana.stats.modifiers.histfactory_set`, so nothing here names a modifier type.

The workspace is a ``dict`` in pyhf's JSON schema, a ``pyhf.Workspace`` (a
``dict`` itself) or a ``pyhf.Model``, read as its ``spec`` with the POI,
inits, bounds, fixed parameters and ``modifier_settings`` of its ``config``
(`_from_pyhf_model`). pyhf is imported only when the object is one of its types.

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

from ._common import Array, Table, Workspace, _fail, _pyhf_type
from .modifiers import Effect, Entry, Layout, effects_for, histfactory_set
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


def _array(
    value: Any,
    what: str,
    nbins: int | None,
    positive: bool = False,
    signed: bool = False,
) -> Array:
    """A float array from workspace data; concrete values are checked here.

    ``positive``: every value > 0; ``signed``: any finite value (yields, which
    pyhf takes negative too); else every value >= 0.
    """
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
        if not positive and not signed and np.any(host < 0):
            raise _fail(f"{what} has negative entries (it must be >= 0)")
        arr = jnp.asarray(host, dtype=jnp.result_type(float))
    if nbins is None:
        if arr.shape != ():
            raise _fail(f"{what} must be a number, not an array of shape {arr.shape}")
    elif arr.shape != (nbins,):
        raise _fail(f"{what} has shape {arr.shape}, expected ({nbins},)")
    return arr


def _parse(
    workspace: Any,
    measurement: str | None = None,
    modifier_settings: Mapping[str, Any] | None = None,
) -> tuple[_Spec, dict[str, Array]]:
    """Split a workspace into its static structure and its (maybe traced) arrays.

    ``workspace`` may also be a ``pyhf.Workspace`` or a ``pyhf.Model``
    (`_from_pyhf_model`). The arrays are keyed ``"c/s/data"`` (sample ``s`` of
    channel ``c``, in the workspace's order) and ``"c/s/m/field"`` (a `Field` of
    its modifier ``m``).
    """
    if _pyhf_type(workspace) == "Model":
        if measurement is not None or modifier_settings is not None:
            raise _fail(
                "a pyhf.Model carries its measurement and modifier_settings: "
                "pass 'measurement'/'modifier_settings' with a workspace only"
            )
        return _from_pyhf_model(workspace)[2]
    return _parse_workspace(workspace, measurement, modifier_settings)


def _parse_workspace(
    workspace: Any,
    measurement: str | None,
    modifier_settings: Mapping[str, Any] | None,
) -> tuple[_Spec, dict[str, Array]]:
    """`_parse` for a mapping in pyhf's JSON schema."""
    if not isinstance(workspace, Mapping):
        kind = _pyhf_type(workspace)
        if kind:
            msg = (
                f"a pyhf.{kind} is not a workspace: apply it first "
                "(pyhf.PatchSet.apply(workspace, key) gives a pyhf.Workspace, "
                "workspace.model(patches=[...]) a pyhf.Model; both are accepted)"
            )
            raise _fail(msg)
        msg = (
            "a workspace is a dict in pyhf's JSON schema, a pyhf.Workspace or a "
            f"pyhf.Model, not {type(workspace)}"
        )
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
            arrays[key] = _array(smp["data"], f"{where} 'data'", n, signed=True)
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
                        value,
                        f"{mwhere} {field.key}",
                        size,
                        field.positive,
                        field.signed,
                    )
                    paths.append((fkey, (ci, si, mi, field.key)))
            lookup[(cname, sname)] = (ci, si, mods)
    effects = effects_for(histfactory_set, modifier_settings)
    spec = _build_spec(workspace, arrays, paths, nbins, lookup, measurement, effects)
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
    effect_of: Mapping[str, Effect],
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
    # A configured parameter that no modifier uses is ignored, as pyhf does:
    # HistFactory's XML import configures ``lumi`` whether or not it is used.
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
    if ps[poi].n != 1:
        # pyhf's rule: any parameter set of one parameter may be the POI.
        raise _fail(
            f"the POI {poi!r} has {ps[poi].n} parameters; the POI must be a "
            "single parameter (a normfactor, or a one-bin shapefactor, ...)"
        )
    poi_fixed = ps[poi].fixed
    if poi_fixed is not None and poi_fixed[0]:
        raise _fail(f"the POI {poi!r} is configured as fixed")
    # -- index tables of the effects over (sample, global bin), entries in
    # parameter order
    effects: list[_EffectTables] = []
    for effect in sorted(
        set(effect_of.values()),
        key=lambda e: (not e.additive, e.rank, e.name),
    ):
        entries = [
            Entry(name, t, ps[name].offset, tuple(used[(name, t)]), bin_offsets[name])
            for name in order
            for t in table
            if t in types_of[name] and effect_of[t] == effect
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


def _from_pyhf_model(
    model: Any,
) -> tuple[dict[str, Any], Mapping[str, Any], tuple[_Spec, dict[str, Array]]]:
    """A ``pyhf.Model`` as a workspace of one measurement, its settings, and
    that workspace parsed with them.

    The channels come from ``model.spec``, the parameter configuration from its
    ``parameters`` (auxdata, sigmas) with the inits, bounds and fixed flags of
    ``model.config`` (so that a model whose parameter sets were changed after
    it was built is read as it is), the POI from ``model.config.poi_name`` and
    the interpolation codes (``modifier_settings``) from ``model.config``.
    """
    where = "pyhf.Model"
    if getattr(model, "batch_size", None) is not None:
        raise _fail(f"{where}: a batched model (batch_size) is not supported")
    main = getattr(model, "main_model", None)
    for clip in ("clip_sample_data", "clip_bin_data"):
        if getattr(main, clip, None) is not None:
            raise _fail(f"{where}: {clip} is not supported")
    config = model.config
    poi = config.poi_name
    if poi is None:
        raise _fail(f"{where} has no POI (model.config.poi_name is None)")
    spec = model.spec
    user = {p["name"]: dict(p) for p in spec.get("parameters", [])}
    inits = list(config.suggested_init())
    bounds = [list(b) for b in config.suggested_bounds()]
    fixed = [bool(f) for f in config.suggested_fixed()]
    slices = {name: config.par_slice(name) for name in config.par_order}
    for name, sl in slices.items():
        cfg = user.setdefault(name, {"name": name})
        cfg["inits"] = [float(v) for v in inits[sl]]
        cfg["bounds"] = [[float(lo), float(hi)] for lo, hi in bounds[sl]]

    def workspace() -> dict[str, Any]:
        meas = {
            "name": where,
            "config": {"poi": poi, "parameters": list(user.values())},
        }
        return {"channels": spec["channels"], "measurements": [meas]}

    settings = config.modifier_settings
    parsed = _parse_workspace(workspace(), None, settings)
    # Parameters fixed in the configuration are static; those fixed by the
    # yields (empty staterror/shapesys bins) follow them, unless pyhf's config
    # says otherwise: then its flags are taken as they are.
    ours = _fixed_of(*parsed)
    changed = False
    for name, sl in slices.items():
        if list(ours[sl]) != fixed[sl]:
            user[name]["fixed"] = fixed[sl]
            changed = True
    if changed:
        parsed = _parse_workspace(workspace(), None, settings)
    names = parsed[0].par_names
    if names != list(config.par_names):
        raise _fail(
            f"{where}: the parameters read from its spec {names} differ from "
            f"its config's {list(config.par_names)}"
        )
    return workspace(), settings, parsed


@functools.partial(jax.jit, static_argnums=(0,))
def _flat(spec: _Spec, arrs: Mapping[str, Array]) -> Array:
    """All arrays of the workspace in one vector, then a 0 and a 1.

    One kernel per workspace structure (eagerly, each ``ravel`` and the
    ``concatenate`` would compile for every new combination of shapes).
    """
    parts = [jnp.ravel(arrs[k]) for k, _ in spec.paths]
    dtype = jnp.result_type(*parts)
    return jnp.concatenate([*parts, jnp.array([0.0, 1.0], dtype)])


@functools.partial(jax.jit, static_argnums=(0,))
def _held_by_yields(spec: _Spec, flat: Array) -> Array:
    """The fixed flags the modifiers compute from the yields (all False for
    parameter sets that are not computed), one kernel per structure."""
    fixed = jnp.zeros(spec.npars, dtype=bool)
    for p in spec.parsets:
        if p.computed and p.fixed is None:
            nom, unc = flat[np.asarray(p.nom_idx)], flat[np.asarray(p.unc_idx)]
            held = histfactory_set[p.computed].constraint_from_yields(nom, unc)[2]
            fixed = fixed.at[p.offset : p.offset + p.n].set(held)
    return fixed


def _fixed_of(spec: _Spec, arrays: Mapping[str, Array]) -> np.ndarray:
    """The fixed flags of a parsed workspace with concrete arrays: configured
    ones and those its modifiers compute from the yields (as the model does)."""
    fixed = spec.static_fixed.copy()
    held = np.asarray(_held_by_yields(spec, _flat(spec, arrays)))
    for p in spec.parsets:
        if p.computed and p.fixed is None:
            fixed[p.offset : p.offset + p.n] = held[p.offset : p.offset + p.n]
    return fixed
