# SPDX-License-Identifier: BSD-3-Clause
"""Differentiable statistics in JAX: HistFactory likelihoods and expected results.

The objectives take a pyhf workspace (a ``dict`` in pyhf's JSON schema) whose
sample ``data`` -- and the modifier data that go with them: ``histosys``
``hi_data``/``lo_data``, ``staterror``/``shapesys`` ``data``, ``normsys``
``hi``/``lo`` -- may be JAX arrays, and are differentiable with respect to them
with ``jax.grad``, which pyhf itself cannot do (scikit-hep/pyhf#882):

- `asimov_significance` -- Cowan et al. (2011) Asimov discovery significance,
  with or without a background uncertainty, no fit;
- `expected_cls` -- expected CLs (q̃μ or qμ) on the background-only Asimov data;
- `expected_discovery_significance` -- sqrt(q0) on the signal-plus-background
  Asimov data;
- `expected_poi_uncertainty` -- the Cramér-Rao (inverse Hessian) uncertainty on
  the parameter of interest at the signal-plus-background Asimov point.

"Expected" means what pyhf computes with ``pyhf.infer.hypotest(mu,
model.expected_data(pars), model, test_stat=...)`` where ``pars`` are the model's
suggested initial parameters with the POI at 0 (at 1 for the discovery
significance and the POI uncertainty). The values agree with pyhf's (numpy
backend, scipy optimiser with a tight tolerance) to better than 1e-6 relative.

`Model` is the HistFactory model itself, written in ``jax.numpy`` following
pyhf 0.7 exactly: the same parameter order, modifiers ``normfactor``,
``normsys`` (interpolation code 4), ``histosys`` (code 4p), ``staterror``,
``shapesys``, ``shapefactor`` and ``lumi``, Poisson main terms, Gaussian
constraints (Poisson for ``shapesys``) and the measurement's parameter
configuration (POI, inits, bounds, fixed, lumi auxdata/sigmas).

Fits and their derivatives
--------------------------
Maximum-likelihood fits use optimistix's BFGS on the parameters mapped to the
real line, ``theta = lo + (hi - lo) * sigmoid(u)``, so that pyhf's parameter bounds
always hold; the fit's derivative comes from its optimality condition
(``optx.ImplicitAdjoint``, a linear solve with the Hessian), never from unrolling
iterations. On Asimov data the unconditional fit is known exactly -- the data
are the expectation at the generating parameters, so the likelihood is saturated
there, the POI sitting at its lower bound 0 for the background-only data -- and
needs no fit: only the fixed-POI fits are run. Their values are differentiable
by the envelope theorem (the bounds do not depend on the yields) and the
implicit adjoint adds the (vanishing) term of the fitted parameters.

Use float64 (``jax.config.update("jax_enable_x64", True)``) for pyhf-level
agreement; in float32 the fits stop at a looser tolerance.

Examples
--------
>>> import jax
>>> import jax.numpy as jnp
>>> import diffana.stats as ds
>>> with jax.enable_x64(True):
...     print(round(float(ds.asimov_significance(5.0, 10.0)), 6))
...     print(round(float(ds.asimov_significance(5.0, 10.0, b_unc=2.0)), 6))
1.471038
1.217145
>>> def workspace(signal):
...     return {
...         "channels": [{"name": "sr", "samples": [
...             {"name": "signal", "data": signal, "modifiers": [
...                 {"name": "mu", "type": "normfactor", "data": None}]},
...             {"name": "background", "data": [50.0, 52.0], "modifiers": [
...                 {"name": "bkg_unc", "type": "shapesys", "data": [3.0, 7.0]}]},
...         ]}],
...         "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
...         "observations": [{"name": "sr", "data": [50.0, 52.0]}],
...         "version": "1.0.0",
...     }
>>> with jax.enable_x64(True):
...     s = jnp.array([12.0, 11.0])
...     cls, grad = jax.value_and_grad(lambda s: ds.expected_cls(workspace(s)))(s)
...     print(round(float(cls), 5), [round(float(g), 5) for g in grad])
0.06601 [-0.01389, -0.00858]
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jax.scipy.special import gammaln, ndtr

# JAX's and optimistix's functions are only partly typed.
# mypy: disallow-untyped-calls=False, warn-return-any=False

__all__ = [
    "Model",
    "asimov_significance",
    "expected_cls",
    "expected_discovery_significance",
    "expected_poi_uncertainty",
    "fit",
    "to_pyhf_json",
    "value_and_grad_yields",
]

Array = jax.Array
Workspace = Mapping[str, Any]

# pyhf registers the paramsets modifier type by modifier type in this order (the
# order of pyhf.modifiers.histfactory_set); it fixes the parameter order.
_MODIFIER_TYPES = (
    "histosys",
    "lumi",
    "normfactor",
    "normsys",
    "shapefactor",
    "shapesys",
    "staterror",
)
_PARAMETER_KEYS = {"name", "inits", "bounds", "fixed", "auxdata", "sigmas", "factors"}


# ---- Asimov significance (no fit) ----------------------------------------------------


def _g(x: Array) -> Array:
    """g(x) = ((1 + x) log1p(x) - x) / x**2, exact near 0 (series) and elsewhere.

    The direct form loses ~eps/x**2 to cancellation, so |x| < 0.1 uses the series
    sum_m (-x)**m / ((m + 1)(m + 2)), which is converged to 1e-17 with 16 terms.
    """
    small = jnp.abs(x) < 0.1
    xs = jnp.where(small, x, 0.0)
    series = jnp.zeros_like(x)
    for m in reversed(range(16)):
        series = series * (-xs) + 1.0 / ((m + 1) * (m + 2))
    xl = jnp.where(small, 1.0, x)
    direct = ((1.0 + xl) * jnp.log1p(xl) - xl) / (xl * xl)
    return jnp.where(small, series, direct)


def _is_traced(*xs: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def asimov_significance(s: Any, b: Any, b_unc: Any | None = None) -> Array:
    r"""Asimov discovery significance of Cowan, Cranmer, Gross, Vitells (2011).

    Without a background uncertainty (their eq. 97)

    .. math:: Z_A = \sqrt{2\left((s + b)\ln(1 + s/b) - s\right)},

    and with an absolute uncertainty :math:`\sigma_b` on :math:`b` (the profile
    likelihood with an auxiliary measurement of :math:`b`)

    .. math:: Z_A = \sqrt{2\left((s+b)\ln\frac{(s+b)(b+\sigma_b^2)}{b^2+(s+b)\sigma_b^2}
              - \frac{b^2}{\sigma_b^2}\ln\left(1+\frac{\sigma_b^2 s}{b(b+\sigma_b^2)}
              \right)\right)}.

    Both are evaluated as :math:`Z_A = (s/\sqrt{b})\sqrt{2 h}` with
    :math:`x = s/b`, :math:`k = \sigma_b^2/b`, :math:`c = k/(1+k)` and
    :math:`h = g(x) - c\,g(c x)`, :math:`g(x) = ((1+x)\ln(1+x) - x)/x^2`, which is
    the same expression rearranged so that it has no cancellation at small
    :math:`s` or small :math:`\sigma_b` and is smooth there (:math:`\sigma_b = 0`
    gives the first formula).

    Parameters
    ----------
    s, b : array_like
        Expected signal (>= 0) and background (> 0) yields: scalars or per-bin
        arrays of the same shape.
    b_unc : array_like, optional
        Absolute uncertainty on ``b`` (>= 0), broadcastable to ``b``.

    Returns
    -------
    jax.Array
        A scalar: for per-bin arrays the bins are combined as independent
        measurements, :math:`Z = \sqrt{\sum_i Z_i^2}`.

    Notes
    -----
    Differentiable everywhere in the physical region, including ``s = 0``: for a
    single bin the derivative there is the one-sided one, :math:`1/\sqrt{b}`
    (times the uncertainty factor); for several bins that all have ``s = 0`` the
    norm has no derivative and the gradient returned is 0 (never NaN).
    Concrete inputs are checked (finite, ``s >= 0``, ``b > 0``, ``b_unc >= 0``) and
    raise `ValueError`; traced inputs (under ``jit``) raise
    ``equinox.EquinoxRuntimeError`` at run time instead.
    """
    s_arr = jnp.asarray(s, dtype=jnp.result_type(float))
    b_arr = jnp.asarray(b, dtype=jnp.result_type(float))
    unc = jnp.zeros_like(b_arr) if b_unc is None else jnp.asarray(b_unc, b_arr.dtype)
    if s_arr.shape != b_arr.shape:
        msg = f"asimov_significance: s has shape {s_arr.shape} but b {b_arr.shape}"
        raise ValueError(msg)
    unc = jnp.broadcast_to(unc, b_arr.shape)
    if not _is_traced(s_arr, b_arr, unc):
        for name, v, ok in (
            ("s", s_arr, s_arr >= 0),
            ("b", b_arr, b_arr > 0),
            ("b_unc", unc, unc >= 0),
        ):
            if not bool(jnp.all(jnp.isfinite(v))):
                msg = f"asimov_significance: {name} has NaN or infinite entries"
                raise ValueError(msg)
            if not bool(jnp.all(ok)):
                rule = {"s": ">= 0", "b": "> 0", "b_unc": ">= 0"}[name]
                msg = f"asimov_significance: every entry of {name} must be {rule}"
                raise ValueError(msg)
    # Keep invalid (traced) entries away from log1p/division, then report them.
    bad = ~(jnp.isfinite(s_arr) & jnp.isfinite(b_arr) & jnp.isfinite(unc))
    bad = bad | (s_arr < 0) | (b_arr <= 0) | (unc < 0)
    b_safe = jnp.where(bad, 1.0, b_arr)
    s_safe = jnp.where(bad, 0.0, s_arr)
    k = jnp.where(bad, 0.0, unc) ** 2 / b_safe
    c = k / (1.0 + k)
    x = s_safe / b_safe
    h = _g(x) - c * _g(c * x)
    v = s_safe * jnp.sqrt(2.0 * h / b_safe)
    if v.size == 1:
        # |v| with the derivative of the physical side s >= 0 at s = 0.
        z = jnp.reshape(jnp.where(v >= 0, v, -v), ())
    else:
        ss = jnp.sum(v * v)
        z = jnp.where(ss > 0, jnp.sqrt(jnp.where(ss > 0, ss, 1.0)), 0.0)
    return eqx.error_if(
        z,
        jnp.any(bad),
        "asimov_significance: NaN/infinite input, s < 0, b <= 0 or b_unc < 0",
    )


# ---- the static structure of a workspace ---------------------------------------------


# ---- the static structure of a workspace ---------------------------------------------

Table = tuple[tuple[int, ...], ...]


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
    computed: str = ""  # "staterror"/"shapesys": sigmas/factors from the yields
    # Flat-vector indices of the nominal yields and uncertainties behind each
    # computed parameter: (samples, n), padded with the index of a zero.
    nom_idx: Table = ()
    unc_idx: Table = ()


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
    histo_par: tuple[int, ...]  # (H,) parameter of each histosys
    histo_lo: tuple[Table, ...]  # (H, S, B), nominal where it does not apply
    histo_hi: tuple[Table, ...]
    norm_par: tuple[int, ...]  # (N,) parameter of each normsys
    norm_lo: tuple[Table, ...]  # (N, S, B), the 1 where it does not apply
    norm_hi: tuple[Table, ...]
    scalar_par: tuple[int, ...]  # (K,) normfactor and lumi parameters
    scalar_on: tuple[Table, ...]  # (K, S, B) 1 where it applies
    bin_par: tuple[Table, ...]  # (J, S, B) per-bin parameter index, -1: none

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
    def tables(self) -> dict[str, np.ndarray]:
        """The index tables as numpy arrays (built once per structure)."""
        s, b = len(self.nom), self.nmain
        out: dict[str, Any] = {
            "nom": np.asarray(self.nom, dtype=np.int64).reshape(s, b)
        }
        for name in (
            "histo_lo",
            "histo_hi",
            "norm_lo",
            "norm_hi",
            "scalar_on",
            "bin_par",
        ):
            out[name] = np.asarray(getattr(self, name), dtype=np.int64).reshape(
                -1, s, b
            )
        for name in ("histo_par", "norm_par", "scalar_par"):
            out[name] = np.asarray(getattr(self, name), dtype=np.int64)
        return out

    def parset(self, name: str) -> _ParSet:
        return next(p for p in self.parsets if p.name == name)


def _fail(msg: str) -> ValueError:
    return ValueError(f"invalid workspace: {msg}")


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


_Lookup = dict[tuple[str, str], tuple[int, int, dict[tuple[str, str], int]]]


def _parse(
    workspace: Workspace, measurement: str | None = None
) -> tuple[_Spec, dict[str, Array]]:
    """Split a workspace into its static structure and its (maybe traced) arrays."""
    if not isinstance(workspace, Mapping):
        msg = f"a workspace is a dict in pyhf's JSON schema, not {type(workspace)}"
        raise TypeError(msg)
    channels = workspace.get("channels")
    if not channels:
        raise _fail("no 'channels'")
    arrays: dict[str, Array] = {}
    paths: list[tuple[str, tuple[int, int, int, str]]] = []
    nbins: dict[str, int] = {}
    lookup: _Lookup = {}
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
                if mtype not in _MODIFIER_TYPES:
                    raise _fail(
                        f"{mwhere}: unknown modifier type {mtype!r} "
                        f"(supported: {', '.join(_MODIFIER_TYPES)})"
                    )
                if not isinstance(mname, str) or (mname, mtype) in mods:
                    raise _fail(f"{mwhere}: missing or repeated modifier name")
                mods[(mname, mtype)] = mi
                data = mod.get("data")
                fields: tuple[tuple[str, int | None, bool], ...] = ()
                if mtype == "histosys":
                    fields = (("lo_data", n, False), ("hi_data", n, False))
                elif mtype == "normsys":
                    fields = (("lo", None, True), ("hi", None, True))
                elif mtype in ("staterror", "shapesys"):
                    fields = (("data", n, False),)
                for field, size, positive in fields:
                    if field == "data":
                        value = data
                    else:
                        value = data.get(field) if isinstance(data, Mapping) else None
                    if value is None:
                        raise _fail(f"{mwhere} has no data {field!r}")
                    fkey = f"{ci}/{si}/{mi}/{field}"
                    arrays[fkey] = _array(value, f"{mwhere} {field}", size, positive)
                    paths.append((fkey, (ci, si, mi, field)))
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


def _build_spec(
    workspace: Workspace,
    arrays: Mapping[str, Array],
    paths: list[tuple[str, tuple[int, int, int, str]]],
    nbins: dict[str, int],
    lookup: _Lookup,
    measurement: str | None,
) -> _Spec:
    poi, user = _measurement_config(workspace, measurement)
    cnames = sorted(nbins)
    snames = sorted({s for _, s in lookup})
    all_mods = sorted({m for (_, _, mods) in lookup.values() for m in mods})
    # -- parameter order, as pyhf: by modifier type, then by first appearance when
    # walking sorted channels, sorted samples and sorted (name, type) modifiers
    # (staterror: sorted by name).
    seen: dict[str, list[str]] = {t: [] for t in _MODIFIER_TYPES}
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
    seen["staterror"] = sorted(seen["staterror"])
    order: list[str] = []
    for t in _MODIFIER_TYPES:
        order += [m for m in seen[t] if m not in order]
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
    cstart = dict(
        zip(cnames, np.cumsum([0] + [nbins[c] for c in cnames])[:-1], strict=True)
    )
    nmain = sum(nbins.values())
    sindex = {s: i for i, s in enumerate(snames)}

    def cols(c: str) -> slice:
        return slice(int(cstart[c]), int(cstart[c]) + nbins[c])

    def index_of(c: str, s: str, name: str, t: str, field: str) -> int:
        ci, si, mods = lookup[(c, s)]
        return offs[f"{ci}/{si}/{mods[(name, t)]}/{field}"]

    nom = np.full((len(snames), nmain), zero)
    for (c, s), (ci, si, _) in lookup.items():
        nom[sindex[s], cols(c)] = offs[f"{ci}/{si}/data"] + np.arange(nbins[c])
    # -- the parameter sets
    parsets: list[_ParSet] = []
    offset = 0
    bin_offsets: dict[tuple[str, str], int] = {}  # (name, channel) -> first parameter
    for name in order:
        types = types_of[name]
        if len(types) > 1 and not types <= {"histosys", "normsys"}:
            raise _fail(
                f"parameter {name!r} is used by modifiers of types {sorted(types)}; "
                "only histosys and normsys may share a parameter"
            )
        t = min(types)
        where = used[(name, t)]
        computed = ""
        inits: tuple[float, ...]
        bounds: tuple[tuple[float, float], ...]
        nom_idx: list[list[int]] = []
        unc_idx: list[list[int]] = []
        aux: tuple[float, ...] | None = None
        sig: tuple[float, ...] | None = None
        if t in ("histosys", "normsys"):
            kind, n, inits, bounds = "normal", 1, (0.0,), ((-5.0, 5.0),)
            aux, sig = (0.0,), (1.0,)
        elif t == "normfactor":
            kind, n, inits, bounds = "free", 1, (1.0,), ((0.0, 10.0),)
        elif t == "lumi":
            missing = [
                k
                for k in ("inits", "bounds", "auxdata", "sigmas")
                if k not in user.get(name, {})
            ]
            if missing:
                raise _fail(
                    f"lumi parameter {name!r} needs {missing} in the measurement's "
                    "parameter config"
                )
            kind, n, inits, bounds = "normal", 1, (1.0,), ((0.0, 10.0),)
            aux, sig = (1.0,), (1.0,)
        elif t in ("staterror", "shapefactor"):
            chans = sorted({c for c, _ in where})
            by_sample: dict[str, set[str]] = {}
            for c, s in where:
                by_sample.setdefault(s, set()).add(c)
            if any(v != set(chans) for v in by_sample.values()):
                raise _fail(
                    f"{t} {name!r} must cover the same channels in every sample"
                )
            if t == "shapefactor" and len(chans) > 1:
                raise _fail(f"shapefactor {name!r} is used in several channels")
            n = 0
            for c in chans:
                bin_offsets[(name, c)] = n
                n += nbins[c]
            if t == "staterror":
                kind, inits, bounds = "normal", (1.0,) * n, ((1e-10, 10.0),) * n
                aux, computed = (1.0,) * n, "staterror"
                nsamp = max(sum(1 for c2, _ in where if c2 == c) for c in chans)
                nom_idx = [[zero] * n for _ in range(nsamp)]
                unc_idx = [[zero] * n for _ in range(nsamp)]
                for c in chans:
                    for j, s in enumerate(s for c2, s in where if c2 == c):
                        for i in range(nbins[c]):
                            ci, si, _ = lookup[(c, s)]
                            nom_idx[j][bin_offsets[(name, c)] + i] = (
                                offs[f"{ci}/{si}/data"] + i
                            )
                            unc_idx[j][bin_offsets[(name, c)] + i] = (
                                index_of(c, s, name, t, "data") + i
                            )
            else:
                kind, inits, bounds = "free", (1.0,) * n, ((0.0, 10.0),) * n
        else:  # shapesys: one sample in one channel
            if len(where) > 1:
                raise _fail(f"shapesys {name!r} is used on more than one sample")
            ((c, s),) = where
            ci, si, _ = lookup[(c, s)]
            n = nbins[c]
            bin_offsets[(name, c)] = 0
            kind, inits, bounds = "poisson", (1.0,) * n, ((1e-10, 10.0),) * n
            computed = "shapesys"
            nom_idx = [[offs[f"{ci}/{si}/data"] + i for i in range(n)]]
            unc_idx = [[index_of(c, s, name, t, "data") + i for i in range(n)]]
        cfg = user.get(name, {})
        inits = tuple(float(v) for v in _user_values(cfg, "inits", inits, name))
        bounds = tuple(
            (float(lo), float(hi))
            for lo, hi in _user_values(cfg, "bounds", bounds, name)
        )
        fixed: tuple[bool, ...] | None = None if computed else (False,) * n
        if "fixed" in cfg:
            fixed = tuple(
                bool(f) for f in _user_values(cfg, "fixed", (False,) * n, name)
            )
        if kind == "free" and ("auxdata" in cfg or "sigmas" in cfg):
            raise _fail(f"parameter {name!r} is unconstrained: no 'auxdata'/'sigmas'")
        if kind == "poisson" and "sigmas" in cfg:
            raise _fail(f"parameter {name!r} is Poisson-constrained: no 'sigmas'")
        if "factors" in cfg:
            raise _fail(f"parameter {name!r}: configuring 'factors' is not supported")
        if "auxdata" in cfg:
            aux = tuple(
                float(v) for v in _user_values(cfg, "auxdata", (0.0,) * n, name)
            )
        if "sigmas" in cfg:
            sig = tuple(float(v) for v in _user_values(cfg, "sigmas", (1.0,) * n, name))
        for i, (lo, hi) in enumerate(bounds):
            if not lo <= inits[i] <= hi:
                raise _fail(
                    f"parameter {name!r}: init {inits[i]} outside bounds {(lo, hi)}"
                )
        scalar = n == 1 and t not in ("staterror", "shapefactor", "shapesys")
        parsets.append(
            _ParSet(
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
                tuple(map(tuple, nom_idx)),
                tuple(map(tuple, unc_idx)),
            )
        )
        offset += n
    if poi not in order:
        raise _fail(f"the POI {poi!r} is not a parameter of the model")
    ps = {p.name: p for p in parsets}
    if ps[poi].n != 1 or ps[poi].kind != "free":
        raise _fail(f"the POI {poi!r} must be one unconstrained parameter (normfactor)")
    poi_fixed = ps[poi].fixed
    if poi_fixed is not None and poi_fixed[0]:
        raise _fail(f"the POI {poi!r} is configured as fixed")
    # -- index tables of the modifiers over (sample, global bin)
    histo = [m for m in order if "histosys" in types_of[m]]
    norms = [m for m in order if "normsys" in types_of[m]]
    scalars = [m for m in order if types_of[m] & {"normfactor", "lumi"}]
    perbin = [
        m for m in order if types_of[m] & {"staterror", "shapesys", "shapefactor"}
    ]
    shape = (len(snames), nmain)
    histo_lo, histo_hi = [nom.copy() for _ in histo], [nom.copy() for _ in histo]
    for h, name in enumerate(histo):
        for c, s in used[(name, "histosys")]:
            idx = np.arange(nbins[c])
            histo_lo[h][sindex[s], cols(c)] = (
                index_of(c, s, name, "histosys", "lo_data") + idx
            )
            histo_hi[h][sindex[s], cols(c)] = (
                index_of(c, s, name, "histosys", "hi_data") + idx
            )
    norm_lo, norm_hi = (
        [np.full(shape, one) for _ in norms],
        [np.full(shape, one) for _ in norms],
    )
    for k, name in enumerate(norms):
        for c, s in used[(name, "normsys")]:
            norm_lo[k][sindex[s], cols(c)] = index_of(c, s, name, "normsys", "lo")
            norm_hi[k][sindex[s], cols(c)] = index_of(c, s, name, "normsys", "hi")
    scalar_on = [np.zeros(shape, dtype=int) for _ in scalars]
    for k, name in enumerate(scalars):
        (t,) = types_of[name]
        for c, s in used[(name, t)]:
            scalar_on[k][sindex[s], cols(c)] = 1
    bin_par = [np.full(shape, -1) for _ in perbin]
    for j, name in enumerate(perbin):
        (t,) = types_of[name]
        for c, s in used[(name, t)]:
            first = ps[name].offset + bin_offsets[(name, c)]
            bin_par[j][sindex[s], cols(c)] = first + np.arange(nbins[c])

    def table(arr: np.ndarray) -> Table:
        return tuple(tuple(int(v) for v in row) for row in arr)

    return _Spec(
        channels=tuple((c, nbins[c]) for c in cnames),
        parsets=tuple(parsets),
        poi_index=ps[poi].offset,
        poi_name=poi,
        npars=offset,
        paths=tuple(paths),
        nom=table(nom),
        histo_par=tuple(ps[m].offset for m in histo),
        histo_lo=tuple(map(table, histo_lo)),
        histo_hi=tuple(map(table, histo_hi)),
        norm_par=tuple(ps[m].offset for m in norms),
        norm_lo=tuple(map(table, norm_lo)),
        norm_hi=tuple(map(table, norm_hi)),
        scalar_par=tuple(ps[m].offset for m in scalars),
        scalar_on=tuple(map(table, scalar_on)),
        bin_par=tuple(map(table, bin_par)),
    )


# ---- the likelihood -------------------------------------------------------------------

# pyhf's code-4 matrix (pyhf.interpolators.code4) for alpha0 = 1: it maps
# (hi - 1, lo - 1, hi ln hi, -lo ln lo, hi ln^2 hi, lo ln^2 lo) to the coefficients
# a_1..a_6 of the polynomial 1 + sum_i a_i alpha^i used for |alpha| < 1.
_CODE4_AINV = np.array(
    [
        [15 / 16, -15 / 16, -7 / 16, -7 / 16, 1 / 16, -1 / 16],
        [3 / 2, 3 / 2, -9 / 16, 9 / 16, 1 / 16, 1 / 16],
        [-5 / 8, 5 / 8, 5 / 8, 5 / 8, -1 / 8, 1 / 8],
        [-3 / 2, -3 / 2, 7 / 8, -7 / 8, -1 / 8, -1 / 8],
        [3 / 16, -3 / 16, -3 / 16, -3 / 16, 1 / 16, -1 / 16],
        [1 / 2, 1 / 2, -5 / 16, 5 / 16, 1 / 16, 1 / 16],
    ]
)


def _code4(alpha: Array, lo: Array, hi: Array) -> Array:
    """normsys factor: hi**alpha / lo**-alpha beyond +-1, a 6th-order polynomial inside.

    Where the modifier does not apply lo = hi = 1, and the factor is exactly 1.
    """
    lhi, llo = jnp.log(hi), jnp.log(lo)
    b = jnp.stack([hi - 1, lo - 1, lhi * hi, -llo * lo, lhi**2 * hi, llo**2 * lo])
    a = jnp.tensordot(jnp.asarray(_CODE4_AINV, b.dtype), b, axes=1)
    powers = jnp.stack([alpha ** (i + 1) for i in range(6)])
    poly = 1.0 + jnp.sum(a * powers, axis=0)
    return jnp.where(alpha >= 1, hi**alpha, jnp.where(alpha > -1, poly, lo ** (-alpha)))


def _code4p(alpha: Array, lo: Array, nom: Array, hi: Array) -> Array:
    """histosys delta: linear beyond +-1, pyhf's smooth polynomial inside."""
    up, dn = hi - nom, nom - lo
    s, a = 0.5 * (up + dn), 0.0625 * (up - dn)
    a2 = alpha * alpha
    inner = a2 * (a2 * (3.0 * a2 - 10.0) + 15.0) * a + alpha * s
    return jnp.where(alpha > 1, alpha * up, jnp.where(alpha < -1, alpha * dn, inner))


def _flat(spec: _Spec, arrs: Mapping[str, Array]) -> Array:
    """All arrays of the workspace in one vector, then a 0 and a 1."""
    parts = [jnp.ravel(arrs[k]) for k, _ in spec.paths]
    dtype = jnp.result_type(*parts)
    return jnp.concatenate([*parts, jnp.array([0.0, 1.0], dtype)])


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
        if p.computed == "staterror":
            # pyhf: sigma = sqrt(sum_s unc_s^2) / sum_s nom_s over the samples with
            # the modifier; bins with sigma = 0 are fixed (and get sigma 1).
            total = jnp.sum(nom, axis=0)
            pos = total > 0
            rel2 = jnp.where(
                pos, jnp.sum(unc**2, axis=0) / jnp.where(pos, total, 1.0) ** 2, 0.0
            )
            zero = rel2 == 0
            sig = jnp.where(zero, 1.0, jnp.sqrt(jnp.where(zero, 1.0, rel2)))
            if p.fixed is None:
                fixed = fixed.at[sl].set(zero)
        elif p.computed == "shapesys":
            # pyhf: tau = (nom / unc)^2 where both are > 0, else 1 and fixed.
            nom, unc = nom[0], unc[0]
            valid = (nom > 0) & (unc > 0)
            sig = jnp.where(valid, (nom / jnp.where(valid, unc, 1.0)) ** 2, 1.0)
            if p.auxdata is None:
                aux = sig
            if p.fixed is None:
                fixed = fixed.at[sl].set(~valid)
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


def _prod0(x: Array) -> Array:
    """Product over the first (small) axis, unrolled: the derivative of jnp.prod
    compiles to a far larger program."""
    out = x[0]
    for i in range(1, x.shape[0]):
        out = out * x[i]
    return out


def _expected_main(spec: _Spec, flat: Array, pars: Array) -> Array:
    """Expected main-measurement yields, channels in pyhf's (sorted) order.

    Per sample and bin: (nominal + sum of histosys deltas) * product of factors.
    """
    t = spec.tables
    nom = flat[t["nom"]]
    if t["histo_par"].size:
        alpha = pars[t["histo_par"]][:, None, None]
        delta = _code4p(alpha, flat[t["histo_lo"]], nom[None], flat[t["histo_hi"]])
        nom = nom + jnp.sum(delta, axis=0)
    factor = jnp.ones_like(nom)
    if t["norm_par"].size:
        alpha = pars[t["norm_par"]][:, None, None]
        factor = factor * _prod0(_code4(alpha, flat[t["norm_lo"]], flat[t["norm_hi"]]))
    if t["scalar_par"].size:
        on = t["scalar_on"].astype(bool)
        factor = factor * _prod0(
            jnp.where(on, pars[t["scalar_par"]][:, None, None], 1.0)
        )
    if t["bin_par"].size:
        on = t["bin_par"] >= 0
        factor = factor * _prod0(jnp.where(on, pars[np.maximum(t["bin_par"], 0)], 1.0))
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
    """x log y with 0 at x = 0 (also for y = 0) and -inf for y <= 0 < x."""
    good = y > 0
    value = jnp.where(x > 0, x * jnp.log(jnp.where(good, y, 1.0)), 0.0)
    return jnp.where((x > 0) & ~good, -jnp.inf, value)


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


# ---- fits -----------------------------------------------------------------------------


def _tolerance(dtype: Any) -> float:
    return 1e-10 if jnp.finfo(dtype).bits >= 64 else 1e-5


def _to_unbounded(theta: Array, lo: np.ndarray, hi: np.ndarray) -> Array:
    frac = jnp.clip((theta - lo) / (hi - lo), 1e-12, 1 - 1e-12)
    return jnp.log(frac) - jnp.log1p(-frac)


def _profile_fit(
    spec: _Spec,
    flat: Array,
    data: Array,
    poi_value: Array | None,
    init: Array | None = None,
) -> Array:
    """Best-fit parameters (the POI fixed at ``poi_value`` unless it is None).

    BFGS (optimistix) on u with theta = lo + (hi - lo) sigmoid(u), so that the
    bounds hold; parameters fixed by the configuration are left out, those the
    yields fix (empty staterror/shapesys bins) are held at their start by a mask
    and a unit quadratic in u, which keeps the Hessian regular for the implicit
    adjoint. Derivatives come from the optimality condition (ImplicitAdjoint).
    """
    free = ~spec.static_fixed
    if poi_value is not None:
        free[spec.poi_index] = False
    idx = np.nonzero(free)[0]
    start = jnp.asarray(spec.inits, data.dtype) if init is None else init
    if poi_value is not None:
        start = start.at[spec.poi_index].set(poi_value)
    if idx.size == 0:
        return start
    lo, hi = spec.bounds[idx, 0], spec.bounds[idx, 1]

    def pars_of(
        u: Array, flat_: Array, start_: Array
    ) -> tuple[Array, Array, _Constraints]:
        cons = _constraints(spec, flat_)
        held = cons.fixed[idx]
        theta = jnp.where(held, start_[idx], lo + (hi - lo) * jax.nn.sigmoid(u))
        return start_.at[idx].set(theta), held, cons

    def objective(u: Array, args: tuple[Array, Array, Array]) -> Array:
        flat_, data_, start_ = args
        pars, held, cons = pars_of(u, flat_, start_)
        u0 = _to_unbounded(start_[idx], lo, hi)
        penalty = 0.5 * jnp.sum(jnp.where(held, (u - u0) ** 2, 0.0))
        return _nll(spec, flat_, cons, pars, data_) + penalty

    tol = _tolerance(data.dtype)
    sol: Any = optx.minimise(
        objective,
        optx.BFGS(rtol=tol, atol=tol),
        _to_unbounded(start[idx], lo, hi),
        args=(flat, data, start),
        max_steps=2000,
        adjoint=optx.ImplicitAdjoint(),
        throw=True,
    )
    return pars_of(sol.value, flat, start)[0]


def _safe_sqrt(q: Array) -> Array:
    """sqrt(q) for q > 0, else 0, with gradient 0 (not inf/NaN) at q <= 0."""
    pos = q > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, q, 1.0)), 0.0)


def _asimov_pars(spec: _Spec, poi_value: Any, dtype: Any) -> Array:
    return jnp.asarray(spec.inits, dtype).at[spec.poi_index].set(poi_value)


def _checked(spec: _Spec, flat: Array, value: Array, what: str) -> Array:
    """Run-time checks for traced inputs (concrete ones were checked in _parse)."""
    b0 = _expected_main(spec, flat, _asimov_pars(spec, 0.0, flat.dtype))
    value = eqx.error_if(
        value,
        ~jnp.all(jnp.isfinite(flat)),
        f"{what}: the workspace has NaN or infinite yields",
    )
    value = eqx.error_if(
        value, jnp.any(flat < 0), f"{what}: the workspace has negative yields"
    )
    value = eqx.error_if(
        value,
        jnp.any(b0 <= 0),
        f"{what}: a bin has no expected events with the POI at 0",
    )
    return eqx.error_if(
        value, ~jnp.isfinite(value), f"{what}: the result is not finite"
    )


@functools.partial(jax.jit, static_argnums=(0,))
def _asimov_data(spec: _Spec, flat: Array, poi_value: Array) -> Array:
    return _expected_data(
        spec, flat, _constraints(spec, flat), _asimov_pars(spec, poi_value, flat.dtype)
    )


_fit_kernel = jax.jit(_profile_fit, static_argnums=(0,))


def _profile(spec: _Spec, flat: Array, poi_data: float, poi_value: Array) -> Array:
    """Fixed-POI best fit to the Asimov data of ``poi_data``, as a constant.

    The objectives are values of -log L at the fit, q(y) = F(theta_hat(y), y):
    by the fit's optimality condition (grad_theta F = 0 for the free
    parameters; bounds, which do not depend on y, for the others) dq/dy is
    dF/dy at fixed theta_hat, exactly, so the fit itself is not differentiated
    (the envelope theorem). Its own jitted call is compiled once per workspace
    structure and reused by values and gradients alike.
    """
    sg = jax.lax.stop_gradient
    # Invalid (traced) yields are reported by _checked; keep them out of the fit
    # so that it converges instead of running to max_steps on NaNs.
    flat_c = sg(jnp.where(jnp.isfinite(flat) & (flat >= 0), flat, 1.0))
    data = _asimov_data(spec, flat_c, jnp.asarray(poi_data, flat.dtype))
    return sg(_fit_kernel(spec, flat_c, data, sg(poi_value)))


@functools.partial(jax.jit, static_argnums=(0,))
def _cls_value(spec: _Spec, flat: Array, pars_mu: Array, mu: Array) -> Array:
    cons = _constraints(spec, flat)
    pars_b = _asimov_pars(spec, 0.0, flat.dtype)
    data = _expected_data(spec, flat, cons, pars_b)
    pars_mu = pars_mu.at[spec.poi_index].set(mu)  # d/d mu at fixed nuisances
    # The unconditional fit to these Asimov data is pars_b itself (saturated).
    nll_mu = _nll(spec, flat, cons, pars_mu, data)
    q = 2.0 * (nll_mu - _nll(spec, flat, cons, pars_b, data))
    sqrt_q = _safe_sqrt(jnp.where(mu > 0, q, 0.0))
    # pyhf: CLs = CLsb / CLb, the test statistic sqrt(q) - sqrt(q_A) being 0 here.
    return _checked(spec, flat, ndtr(-sqrt_q) / 0.5, "expected_cls")


def _cls(spec: _Spec, arrs: Mapping[str, Array], mu: Array) -> Array:
    flat = _flat(spec, arrs)
    return _cls_value(spec, flat, _profile(spec, flat, 0.0, mu), mu)


@functools.partial(jax.jit, static_argnums=(0,))
def _discovery_value(spec: _Spec, flat: Array, pars_0: Array) -> Array:
    cons = _constraints(spec, flat)
    pars_sb = _asimov_pars(spec, 1.0, flat.dtype)
    data = _expected_data(spec, flat, cons, pars_sb)
    nll_0 = _nll(spec, flat, cons, pars_0, data)
    q0 = 2.0 * (nll_0 - _nll(spec, flat, cons, pars_sb, data))
    return _checked(spec, flat, _safe_sqrt(q0), "expected_discovery_significance")


def _discovery(spec: _Spec, arrs: Mapping[str, Array]) -> Array:
    flat = _flat(spec, arrs)
    zero = jnp.zeros((), flat.dtype)
    return _discovery_value(spec, flat, _profile(spec, flat, 1.0, zero))


def _fisher(
    spec: _Spec, flat: Array, cons: _Constraints, pars: Array, idx: np.ndarray
) -> Array:
    """Hessian of -log L over parameters ``idx`` at data = expected_data(pars).

    There the second-derivative terms of the Poisson means vanish (n = lambda),
    leaving the expected Fisher information J^T diag(1/lambda) J plus the
    constraints' curvature (1/sigma^2 for Gaussians, a/theta^2 for Poissons): the
    same matrix with one Jacobian instead of a full Hessian.
    """
    lam = _expected_main(spec, flat, pars)
    jac = jax.jacfwd(lambda t: _expected_main(spec, flat, pars.at[idx].set(t)))(
        pars[idx]
    )
    hess = jac.T @ (jac / jnp.where(lam > 0, lam, 1.0)[:, None])
    if cons.aux_index.size:
        theta = pars[cons.aux_index]
        aux = _expected_aux(cons, pars)
        curv = jnp.where(jnp.asarray(cons.normal), 1.0 / cons.scale**2, aux / theta**2)
        where = {int(i): k for k, i in enumerate(idx)}
        rows = [
            (k, where[int(i)]) for k, i in enumerate(cons.aux_index) if int(i) in where
        ]
        if rows:
            src, dst = np.array(rows).T
            hess = hess.at[dst, dst].add(curv[src])
    return hess


@functools.partial(jax.jit, static_argnums=(0,))
def _poi_uncertainty_kernel(spec: _Spec, flat: Array) -> Array:
    cons = _constraints(spec, flat)
    pars_sb = _asimov_pars(spec, 1.0, flat.dtype)
    # The best fit to the Asimov data of pars_sb is pars_sb itself, where the
    # Hessian is the expected Fisher information; fixed parameters are left out.
    idx = np.nonzero(~spec.static_fixed)[0]
    at = int(np.searchsorted(idx, spec.poi_index))
    hess = _fisher(spec, flat, cons, pars_sb, idx)
    held = cons.fixed[idx]
    eye = jnp.eye(idx.size, dtype=flat.dtype)
    hess = jnp.where(held[:, None] | held[None, :], eye, hess)
    var = jnp.linalg.solve(hess, eye[at])[at]
    sigma = jnp.sqrt(jnp.where(var > 0, var, jnp.nan))
    return _checked(spec, flat, sigma, "expected_poi_uncertainty")


# ---- public API -----------------------------------------------------------------------


@jax.tree_util.register_pytree_node_class
class Model:
    """A HistFactory model in JAX, built from a pyhf workspace.

    Follows pyhf 0.7's ``Workspace.model()``: the same channel, sample and
    parameter order, the same expected data and log-likelihood, so that
    ``Model(ws).logpdf(pars, data)`` equals ``pyhf.Workspace(ws).model().logpdf``.
    The model is a JAX pytree (its arrays are the leaves), so it can be passed
    through ``jax.jit`` and differentiated.

    Parameters
    ----------
    workspace : dict
        A workspace in pyhf's JSON schema; sample data and modifier data may be
        JAX arrays (also traced ones).
    measurement : str, optional
        The measurement to use (its POI and parameter configuration); default
        the first one.

    Raises
    ------
    ValueError
        The workspace is not valid: unknown modifier type, missing POI or
        measurement, NaN/infinite or negative yields, mismatched bin counts...
    """

    def __init__(self, workspace: Workspace, measurement: str | None = None) -> None:
        self._spec, self._arrays = _parse(workspace, measurement)

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
        return _constraints(self._spec, self._flat()).fixed

    @property
    def auxdata(self) -> Array:
        """The nominal auxiliary data, pyhf's ``model.config.auxdata``."""
        return _constraints(self._spec, self._flat()).auxdata

    def expected_data(self, pars: Any, include_auxdata: bool = True) -> Array:
        """Expected main data (and auxiliary data) for parameters ``pars``."""
        pars = self._pars(pars)
        if not include_auxdata:
            return _expected_main(self._spec, self._flat(), pars)
        return _expected_data(self._spec, self._flat(), self._cons(), pars)

    def logpdf(self, pars: Any, data: Any) -> Array:
        """log L(pars | data), a scalar (pyhf returns it with shape (1,))."""
        return _logpdf(
            self._spec, self._flat(), self._cons(), self._pars(pars), self._data(data)
        )

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


def _model(workspace: Workspace | Model, measurement: str | None) -> Model:
    if isinstance(workspace, Model):
        return workspace
    return Model(workspace, measurement)


def _check_background(model: Model, what: str) -> None:
    """Concrete inputs: every bin needs expected events with the POI at 0."""
    arrays = list(model._arrays.values())
    if _is_traced(*arrays):
        return
    spec = model._spec
    flat = model._flat()
    b0 = np.asarray(_expected_main(spec, flat, _asimov_pars(spec, 0.0, flat.dtype)))
    start = 0
    for name, nbins in spec.channels:
        for i in range(nbins):
            if not b0[start + i] > 0:
                msg = (
                    f"{what}: bin {i} of channel '{name}' has no expected events "
                    "with the POI at 0 (empty background); the likelihood is not "
                    "defined there"
                )
                raise ValueError(msg)
        start += nbins


def fit(
    model: Model, data: Any, fixed_poi: Any | None = None, init: Any | None = None
) -> tuple[Array, Array]:
    """Maximum-likelihood fit within pyhf's bounds, differentiable implicitly.

    Parameters
    ----------
    model : Model
    data : array_like
        Main and auxiliary data, as for pyhf.
    fixed_poi : float, optional
        Fix the POI to this value (pyhf's ``fixed_poi_fit``); otherwise it is
        fitted within its bounds.
    init : array_like, optional
        Starting parameters (default the suggested init).

    Returns
    -------
    pars, twice_nll : jax.Array
        Best-fit parameters and -2 log L there (pyhf's fitted value).

    Notes
    -----
    The bounds are imposed by the sigmoid map, so a parameter whose optimum is
    on a bound ends within ~1e-10 of it (the value of the likelihood is then
    exact to far better precision, but that parameter's derivative is not).
    """
    spec = model._spec
    data_arr = model._data(data)
    start = None if init is None else model._pars(init)
    poi = None if fixed_poi is None else jnp.asarray(fixed_poi, data_arr.dtype)
    pars = _profile_fit(spec, model._flat(), data_arr, poi, start)
    return pars, -2.0 * model.logpdf(pars, data_arr)


def expected_cls(
    workspace: Workspace | Model,
    mu: Any = 1.0,
    test_stat: str = "qtilde",
    *,
    measurement: str | None = None,
) -> Array:
    r"""Expected CLs for signal strength ``mu`` on the background-only Asimov data.

    Equals ``pyhf.infer.hypotest(mu, model.expected_data(pars), model,
    test_stat=test_stat)`` with ``pars`` the suggested init with the POI at 0.
    On these data the fit of the POI is :math:`\hat\mu = 0 \le \mu`, so q̃μ and
    qμ coincide, as do the observed and Asimov test statistics: CLs =
    :math:`2\Phi(-\sqrt{q_\mu})`. One fit (nuisance parameters at fixed
    :math:`\mu`) is run.

    Parameters
    ----------
    workspace : dict or Model
        The pyhf workspace (sample data may be JAX arrays) or a `Model`.
    mu : float
        The tested signal strength, within the POI's bounds (differentiable).
    test_stat : {"qtilde", "q"}
    measurement : str, optional
        Measurement name (default the first).

    Returns
    -------
    jax.Array
        Scalar CLs.
    """
    if test_stat not in ("qtilde", "q"):
        msg = f"expected_cls: test_stat must be 'qtilde' or 'q', not {test_stat!r}"
        raise ValueError(msg)
    model = _model(workspace, measurement)
    _check_background(model, "expected_cls")
    spec = model._spec
    mu_arr = jnp.asarray(mu, jnp.result_type(float))
    if not _is_traced(mu_arr):
        lo, hi = spec.bounds[spec.poi_index]
        if not (mu_arr.shape == () and lo <= float(mu_arr) <= hi):
            msg = f"expected_cls: mu = {mu} is not a number within the POI bounds {(lo, hi)}"
            raise ValueError(msg)
    return _cls(spec, model._arrays, mu_arr)


def expected_discovery_significance(
    workspace: Workspace | Model, *, measurement: str | None = None
) -> Array:
    r"""Expected discovery significance :math:`\sqrt{q_0}` on the s+b Asimov data.

    Equals the significance of pyhf's ``hypotest(0.0, data, model,
    test_stat="q0")`` p-value, ``scipy.stats.norm.isf(p0)``, with ``data =
    model.expected_data(pars)`` and ``pars`` the suggested init with the POI at
    1. One fit (nuisance parameters with the POI at 0) is run. At zero signal
    the value is 0 and the gradient 0 (the square root has no derivative there).
    """
    model = _model(workspace, measurement)
    _check_background(model, "expected_discovery_significance")
    return _discovery(model._spec, model._arrays)


def expected_poi_uncertainty(
    workspace: Workspace | Model, *, measurement: str | None = None
) -> Array:
    r"""Expected uncertainty on the POI: :math:`\sqrt{(H^{-1})_{\mu\mu}}`.

    :math:`H` is the Hessian of :math:`-\log L` with respect to the parameters
    that are not fixed, at the best fit to the Asimov data with the POI at 1 --
    which is the generating point itself, so no fit is needed and :math:`H` is
    the expected Fisher information (Cramér-Rao bound). This is what MINUIT's
    HESSE gives after ``pyhf.infer.mle.fit(..., return_uncertainties=True)``.
    """
    model = _model(workspace, measurement)
    _check_background(model, "expected_poi_uncertainty")
    return _poi_uncertainty_kernel(model._spec, model._flat())


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
    workspace : dict
        A pyhf workspace.

    Returns
    -------
    value : jax.Array
    grad : dict
        A copy of ``workspace`` whose sample ``data`` and modifier data (histosys
        ``hi_data``/``lo_data``, normsys ``hi``/``lo``, staterror/shapesys
        ``data``) hold the derivatives of the objective -- the ``g`` of the chain
        rule ``d objective / d theta = J^T g``.
    """
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
