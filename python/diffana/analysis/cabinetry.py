# SPDX-License-Identifier: BSD-3-Clause
"""A cabinetry configuration (ntuple inputs) read as a diffana configuration.

cabinetry (https://cabinetry.readthedocs.io) describes a template fit in sections
``General``, ``Regions``, ``Samples``, ``NormFactors`` and ``Systematics``; for
ntuple inputs it fills the histograms itself. `to_diffana` turns such a
configuration into the keys of `diffana.analysis.config`:

=========================================  ========================================
cabinetry                                  diffana
=========================================  ========================================
``General.InputPath`` with ``{SamplePath}``  ``samples[].files`` (and ``data.files``)
and ``{RegionPath}``; ``Samples[].Tree``,  ``samples[].tree``, ``samples[].weight``
``Samples[].Weight``
``Samples[]`` with ``Data: true``          ``data``
``Regions[]``: ``Name``, ``Variable``,     ``observables[]``: ``name``,
``Binning``                                ``expression``, ``bins``
``Regions[].Filter``                       one for all regions: ``selections``
                                           (``filter``); else the channel's
                                           ``weight`` (1 if it passes, else 0)
``Samples[].Filter`` (no region filter)    a factor of the sample's ``weight``
``General.POI``, ``NormFactors[]``         ``poi``, ``normfactors`` (``Nominal``,
(``Nominal``, ``Bounds``), ``General.Fixed``  ``Bounds``, ``fixed``); samples with the
                                           POI are the signal, others background
``Systematics[]`` ``Normalization``        ``normsys`` (``hi = 1 + Up``,
                                           ``lo = 1 + Down``)
``Systematics[]`` ``NormPlusShape``:       ``weight`` (other weights) or ``column``
``Weight`` or ``Variable`` overrides,      (other expressions of the channels'
``Down.Symmetrize``                        variables); one-sided: down = 2 nominal -
                                           up
``Samples[].DisableStaterror`` (all)       ``mc_stat: false``
=========================================  ========================================

cabinetry splits a ``NormPlusShape`` systematic into a ``normsys`` and a
``histosys`` of the templates normalized to the nominal yield; diffana keeps the
templates as they are in one ``histosys``: the same templates, interpolated a little
differently between them. Expressions (``Variable``, ``Weight``, ``Filter``) are
read as C++, in which the usual ones (``jet_pt > 30 & njet >= 4``, ``abs(eta)``,
``and``/``or``) mean what they mean in uproot's Python; ``**`` does not exist (write
``pow(a, b)``).

What has no diffana equivalent is refused with one line naming the cabinetry key:
histogram inputs (no ``Variable``/``Binning``, ``VariationPath``), a ``RegionPath``
that differs between regions, a sample, normfactor or systematic in only some
regions, a ``Tree``/``SamplePath``/``RegionPath``/``Filter`` override of a
systematic, ``Smoothing``, ``General.Fixed`` of a parameter that is not a
normfactor, ``DisableStaterror`` on only some samples, and names that are not C++
identifiers.

cabinetry configurations have no differentiable parameters. `from_cabinetry` takes
them, and anything else of diffana's, as ``extra`` keys (a mapping merged over the
converted one: ``parameters``, ``defines``, ``objective``, ...), e.g. the cut value
of a filter made a parameter::

    extra = {"parameters": [{"name": "pt_cut", "value": 30, "bounds": [20, 60]}],
             "selections": [{"soft_filter": "diffana::soft_cut(jet_pt, pt_cut, 2)"}]}

or the converted configuration is written as diffana YAML (``diffana config
--from-cabinetry in.yml --out diffana.yaml``) for the user to edit. The objective
defaults to ``discovery_significance``.

May import the standard library, `diffana.analysis.config`, ``_schema_base``,
``_yaml`` and ``_errors``; jsonschema, to check cabinetry's schema (read from
cabinetry's package folder), when cabinetry is installed.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import ConfigError
from ._schema_base import identifier, key_path
from ._yaml import decode, parse
from .config import Config, load_dict

__all__ = ["from_cabinetry", "read", "to_diffana"]

#: The objective of a converted configuration unless ``extra`` names one.
DEFAULT_OBJECTIVE = {"type": "discovery_significance"}

#: What an Up/Down template of a NormPlusShape systematic may override.
_TEMPLATE_KEYS = {"Weight", "Variable", "Symmetrize"}


class _Fail(Exception):
    """One unmappable part: the cabinetry key and why."""

    def __init__(self, keys: Sequence[str | int], text: str) -> None:
        super().__init__(f"{key_path(list(keys))}: {text}")


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A cabinetry configuration file (YAML), read by diffana's YAML reader (a
    duplicate key or a binary file is an error naming the file)."""
    p = pathlib.Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        msg = f"cannot read the cabinetry configuration {p}: {e.strerror or e}"
        raise ConfigError(msg) from None
    found, raw = parse(decode(data, str(p)), str(p))
    if not found or not isinstance(raw, dict):
        msg = f"{p}: a cabinetry configuration is a mapping (General, Regions, ...)"
        raise ConfigError(msg)
    return raw


def _check_schema(config: Mapping[str, Any], source: str) -> None:
    """cabinetry's own JSON schema, where cabinetry is installed (read from its
    package folder: importing cabinetry would import pyhf and SciPy)."""
    import importlib.util

    spec = importlib.util.find_spec("cabinetry")
    folders = list(spec.submodule_search_locations or []) if spec else []
    schema = [pathlib.Path(f) / "schemas" / "config.json" for f in folders]
    try:
        import jsonschema

        text = schema[0].read_text(encoding="utf-8")
    except (ImportError, IndexError, OSError):  # pragma: no cover - optional
        return
    validator = jsonschema.Draft7Validator(json.loads(text))
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        where = key_path(list(error.absolute_path)) or "(top level)"
        msg = f"{source}: not a valid cabinetry configuration: {where}: {error.message}"
        raise ConfigError(msg)


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list) else [v]


def _everywhere(
    entry: Mapping[str, Any], keys: list[str | int], regions: list[str]
) -> None:
    """Refuse a ``Regions`` setting that leaves out some regions."""
    if "Regions" in entry and set(_as_list(entry["Regions"])) != set(regions):
        raise _Fail(
            [*keys, "Regions"],
            "acting in only some regions has no diffana equivalent (samples, "
            "normfactors and systematics act in every channel)",
        )


def _name(v: str, keys: list[str | int]) -> str:
    try:
        return identifier(v)
    except ValueError as e:
        raise _Fail(
            keys, f"{e}; diffana names are C++ identifiers: rename it"
        ) from None


def _no_power(expr: str, keys: list[str | int]) -> str:
    if "**" in expr:
        raise _Fail(keys, f"{expr!r} uses ** (Python), which C++ lacks: use pow(a, b)")
    return expr


def _hard(expr: str) -> str:
    """A selection as a factor: 1 where it passes, else 0."""
    return f"(({expr}) ? 1.0 : 0.0)"


def _files(
    general: Mapping[str, Any],
    region_path: str | None,
    sample: Mapping[str, Any],
    keys: list[str | int],
    rebase: Any,
) -> list[str]:
    path = str(general["InputPath"])
    if "{RegionPath}" in path:
        if region_path is None:
            raise _Fail(
                ["General", "InputPath"], "{RegionPath} but no region sets RegionPath"
            )
        path = path.replace("{RegionPath}", region_path)
    if "{SamplePath}" in path:
        if "SamplePath" not in sample:
            raise _Fail(keys, "no SamplePath for the {SamplePath} of General.InputPath")
        return [
            rebase(path.replace("{SamplePath}", p))
            for p in _as_list(sample["SamplePath"])
        ]
    return [rebase(path)]


def to_diffana(
    config: Mapping[str, Any],
    source: str = "cabinetry config",
    *,
    base_dir: str | os.PathLike[str] = ".",
    relative_to: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The diffana keys of a cabinetry configuration (a dict, not yet validated: it
    has no ``parameters``; see `from_cabinetry`).

    ``base_dir``: the folder cabinetry's relative ``InputPath`` is relative to (as
    cabinetry reads it: the current folder). ``relative_to``: write the file paths
    relative to this folder (the folder of a written diffana file); None: absolute.
    Raises `ConfigError` naming the cabinetry key of the first part with no diffana
    equivalent.
    """
    _check_schema(config, source)
    try:
        return _convert(config, base_dir, relative_to)
    except _Fail as e:
        msg = f"{source}: {e}"
        raise ConfigError(msg) from None


def _convert(
    cab: Mapping[str, Any],
    base_dir: str | os.PathLike[str],
    relative_to: str | os.PathLike[str] | None,
) -> dict[str, Any]:
    general = cab["General"]
    if "VariationPath" in general:
        raise _Fail(
            ["General", "VariationPath"],
            "histogram inputs are not supported: diffana fills the histograms "
            "from ntuples (give Variable, Binning and Tree)",
        )

    def rebase(p: str) -> str:
        full = os.path.abspath(os.path.join(base_dir, os.path.expanduser(p)))
        return full if relative_to is None else os.path.relpath(full, relative_to)

    # ---- regions -> observables -------------------------------------------------
    regions = list(cab["Regions"])
    names = [str(r["Name"]) for r in regions]
    region_path = regions[0].get("RegionPath")
    for i, r in enumerate(regions):
        if r.get("RegionPath") != region_path:
            raise _Fail(
                ["Regions", i, "RegionPath"],
                "regions read different files; diffana fills every channel from "
                "the same files of a sample",
            )
    filters = [r.get("Filter") for r in regions]
    common = filters[0] if len(set(filters)) == 1 else None
    out: dict[str, Any] = {"samples": [], "observables": [], "selections": []}
    if common is not None:
        out["selections"].append(
            {"filter": _no_power(common, ["Regions", 0, "Filter"])}
        )
    variables: dict[str, str] = {}  # the define of a region's variable -> it
    overridden = any(
        "Variable" in s.get(t, {})
        for s in cab.get("Systematics", [])
        for t in ("Up", "Down")
    )
    for i, r in enumerate(regions):
        keys: list[str | int] = ["Regions", i]
        if not re.fullmatch(r"\w+", r["Name"], re.ASCII):
            raise _Fail(
                [*keys, "Name"],
                f"{r['Name']!r} is not a channel name (letters, digits and "
                "underscores): rename it",
            )
        if not r["Name"][0].isdigit():
            _name(r["Name"], [*keys, "Name"])
        if "Variable" not in r or "Binning" not in r:
            raise _Fail(
                keys,
                "no Variable and Binning: histogram inputs are not supported; "
                "diffana fills the histograms from ntuples",
            )
        obs: dict[str, Any] = {
            "name": r["Name"],
            "expression": _no_power(str(r["Variable"]), [*keys, "Variable"]),
            "bins": [float(b) for b in r["Binning"]],
        }
        if overridden:  # a systematic varies it: a define a column systematic varies
            define = f"var_{r['Name']}"
            variables[define] = obs["expression"]
            out.setdefault("defines", {})[define] = obs["expression"]
            obs["expression"] = define
        if common is None and r.get("Filter") is not None:
            obs["weight"] = _hard(_no_power(str(r["Filter"]), [*keys, "Filter"]))
        out["observables"].append(obs)

    # ---- normfactors, the POI, fixed parameters ------------------------------------
    poi = general.get("POI", "")
    nf_names = [n["Name"] for n in cab["NormFactors"]]
    if not poi or poi not in nf_names:
        raise _Fail(
            ["General", "POI"],
            f"{poi!r} is not a NormFactor ({nf_names}); diffana optimizes for a "
            "parameter of interest",
        )
    fixed: dict[str, float] = {}
    for j, f in enumerate(general.get("Fixed", [])):
        if f["Name"] not in nf_names:
            raise _Fail(
                ["General", "Fixed", j, "Name"],
                f"{f['Name']!r} is not a NormFactor; diffana holds only "
                "normfactors fixed",
            )
        fixed[f["Name"]] = float(f["Value"])
    samples = [s for s in cab["Samples"] if not s.get("Data", False)]
    mc_names = [s["Name"] for s in samples]
    normfactors = []
    signal: set[str] = set()
    for j, n in enumerate(cab["NormFactors"]):
        keys = ["NormFactors", j]
        _everywhere(n, keys, names)
        nf: dict[str, Any] = {"name": _name(n["Name"], [*keys, "Name"])}
        on = (
            [s for s in _as_list(n["Samples"]) if s in mc_names]
            if "Samples" in n
            else mc_names
        )
        if "Samples" in n:
            nf["samples"] = on
        if n["Name"] in fixed:  # held at Nominal if given, as cabinetry does
            nf["nominal"], nf["fixed"] = fixed[n["Name"]], True
        if "Nominal" in n:
            nf["nominal"] = float(n["Nominal"])
        if "Bounds" in n:
            nf["bounds"] = [float(b) for b in n["Bounds"]]
        if n["Name"] == poi:
            signal = set(on)
        normfactors.append(nf)
    if signal >= set(mc_names):
        raise _Fail(
            ["NormFactors", nf_names.index(poi), "Samples"],
            f"the POI {poi!r} acts on every sample; diffana needs a background "
            "sample without it",
        )
    out["poi"] = poi
    out["normfactors"] = normfactors

    # ---- samples and data ----------------------------------------------------------
    disabled = [bool(s.get("DisableStaterror", False)) for s in samples]
    if any(disabled) and not all(disabled):
        k = cab["Samples"].index(samples[disabled.index(True)])
        raise _Fail(
            ["Samples", k, "DisableStaterror"],
            "on only some samples: diffana's mc_stat is on or off for all",
        )
    if all(disabled):
        out["mc_stat"] = False
    weights: dict[str, str] = {}
    for i, s in enumerate(cab["Samples"]):
        keys = ["Samples", i]
        _everywhere(s, keys, names)
        if "Tree" not in s:
            raise _Fail(
                keys,
                "no Tree: histogram inputs are not supported; diffana fills the "
                "histograms from ntuples",
            )
        entry: dict[str, Any] = {
            "name": _name(s["Name"], [*keys, "Name"]),
            "files": _files(general, region_path, s, keys, rebase),
            "tree": s["Tree"],
        }
        weight = _no_power(str(s.get("Weight", "1.0")), [*keys, "Weight"])
        if "Filter" in s:
            if any(f is not None for f in filters):
                raise _Fail(
                    [*keys, "Filter"],
                    "a sample's Filter replaces the regions' Filter; diffana "
                    "applies the same selections to every sample (a sample's "
                    "Filter works when no region has one)",
                )
            weight = f"({weight}) * {_hard(_no_power(s['Filter'], [*keys, 'Filter']))}"
        entry["weight"] = weight
        if s.get("Data", False):
            if "data" in out:
                raise _Fail([*keys, "Data"], "a second data sample: diffana takes one")
            out["data"] = entry
            continue
        weights[s["Name"]] = weight
        entry["role"] = "signal" if s["Name"] in signal else "background"
        out["samples"].append(entry)

    # ---- systematics ---------------------------------------------------------------
    out["systematics"] = [
        _systematic(sy, ["Systematics", k], names, weights, variables)
        for k, sy in enumerate(cab.get("Systematics", []))
    ]
    out["objective"] = dict(DEFAULT_OBJECTIVE)
    if not out["selections"]:
        del out["selections"]
    return {k: out[k] for k in Config.model_fields if k in out}  # diffana's order


def _systematic(
    sy: Mapping[str, Any],
    keys: list[str | int],
    regions: list[str],
    weights: Mapping[str, str],
    variables: Mapping[str, str],
) -> dict[str, Any]:
    _everywhere(sy, keys, regions)
    if "Smoothing" in sy:
        raise _Fail([*keys, "Smoothing"], "diffana does not smooth templates")
    name = _name(
        str(sy.get("ModifierName", sy["Name"])),
        [*keys, "ModifierName" if "ModifierName" in sy else "Name"],
    )
    out: dict[str, Any] = {"name": name}
    on = (
        list(weights)
        if "Samples" not in sy
        else [s for s in _as_list(sy["Samples"]) if s in weights]
    )
    if "Samples" in sy:
        out["samples"] = on
    up, down = dict(sy["Up"]), dict(sy["Down"])
    if sy["Type"] == "Normalization":
        for t, tpl in (("Up", up), ("Down", down)):
            if "Normalization" not in tpl:
                raise _Fail(
                    [*keys, t], "a Normalization systematic needs Normalization"
                )
        return {
            **out,
            "type": "normsys",
            "hi": 1.0 + float(up["Normalization"]),
            "lo": 1.0 + float(down["Normalization"]),
        }
    for t, tpl in (("Up", up), ("Down", down)):
        for k in tpl:
            if k not in _TEMPLATE_KEYS:
                raise _Fail(
                    [*keys, t, k],
                    f"a NormPlusShape override of {k} has no diffana equivalent "
                    "(diffana varies the weights (Weight) or the channels' "
                    "variables (Variable))",
                )
    if up.get("Symmetrize", False):
        raise _Fail(
            [*keys, "Up", "Symmetrize"],
            "symmetrize the Down template (Down: {Symmetrize: true}), as "
            "cabinetry does",
        )
    one_sided = bool(down.get("Symmetrize", False))
    if one_sided and ({"Weight", "Variable"} & set(down)):
        raise _Fail(
            [*keys, "Down"],
            "Symmetrize derives Down from Up: remove its other overrides",
        )
    kinds = {k for tpl in (up, down) for k in tpl if k != "Symmetrize"}
    if kinds == {"Weight", "Variable"}:
        raise _Fail(
            keys,
            "varies both Weight and Variable; a diffana systematic varies one of "
            "them: split it",
        )
    if "Variable" in kinds:
        column: dict[str, Any] = {**out, "type": "column"}
        for t, tpl in (("Up", up), ("Down", down)):
            if t == "Down" and one_sided:
                column["symmetrize"] = True
                continue
            var = tpl.get("Variable")
            if var is not None:
                _no_power(str(var), [*keys, t, "Variable"])
            column[t.lower()] = {
                d: str(var) if var is not None else nominal_expr
                for d, nominal_expr in variables.items()
            }
        return column
    nominal = {weights[s] for s in on}
    need_nominal = one_sided or "Weight" not in up or "Weight" not in down
    if need_nominal and len(nominal) > 1:
        raise _Fail(
            [*keys, "Samples"],
            f"the samples it acts on have different Weight ({sorted(nominal)}); "
            "its nominal template needs one weight expression",
        )
    nom = nominal.pop() if nominal else "1.0"
    w_up = _no_power(str(up.get("Weight", nom)), [*keys, "Up", "Weight"])
    w_down = (
        f"2.0 * ({nom}) - ({w_up})"
        if one_sided
        else _no_power(str(down.get("Weight", nom)), [*keys, "Down", "Weight"])
    )
    return {**out, "type": "weight", "up": w_up, "down": w_down}


def _merged(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``: mappings (``defines``) merged key by key, the rest
    replaced."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict) and k == "defines":
            out[k] = {**out[k], **v}
        else:
            out[k] = copy.deepcopy(v)
    return out


def from_cabinetry(
    config: Mapping[str, Any] | str | os.PathLike[str],
    extra: Mapping[str, Any] | None = None,
    *,
    base_dir: str | os.PathLike[str] = ".",
) -> Config:
    """A validated diffana `Config` from a cabinetry configuration (a dict or a YAML
    file) and ``extra`` diffana keys merged over it (at least the ``parameters``:
    cabinetry has none; ``defines`` merge name by name, other keys are replaced).

    ``base_dir``: the folder cabinetry's relative ``InputPath`` is relative to (the
    current folder, as for cabinetry). Errors are `ConfigError`: those of the
    conversion name the cabinetry key, those of the result the diffana key.
    """
    if isinstance(config, (str, os.PathLike)):
        source = str(config)
        cab = read(config)
    else:
        source, cab = "cabinetry config", dict(config)
    raw = _merged(to_diffana(cab, source, base_dir=base_dir), extra or {})
    if not raw.get("parameters"):
        msg = (
            f"{source}: parameters: a cabinetry configuration has no differentiable "
            "parameters; give them in extra (parameters, and expressions that use "
            "them), or write the diffana configuration with `diffana config "
            "--from-cabinetry FILE --out diffana.yaml` and edit it"
        )
        raise ConfigError(msg)
    return load_dict(raw, os.path.abspath(base_dir), source=f"{source} (converted)")
