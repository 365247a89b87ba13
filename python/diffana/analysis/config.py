# SPDX-License-Identifier: BSD-3-Clause
"""The YAML analysis description of ``diffana optimize CONFIG.yaml``, validated.

A configuration names the input samples, the analysis parameters, the DiffFrame
expressions (defines, selections, observables), the systematic uncertainties, the
objective and the optimizer::

    lumi: 1000.0                       # 1/pb; scales samples that give an xsec
    samples:
      - {name: signal, files: [samples/signal.root], tree: Events,
         weight: genWeight, xsec: 0.05, role: signal}       # xsec in pb
      - {name: qcd, files: ["samples/qcd*.root"], weight: genWeight, xsec: 50.0,
         role: background}
    parameters:
      - {name: disc_cut, value: 0.3, bounds: [0.0, 0.95]}   # optimized by default
      - {name: slope, value: 20.0, optimize: false}
      - {name: width, value: 2.0, optimize: false, relaxation: true}
    defines:                           # in order; C++ (DiffFrame semantics)
      jet_pt: Jet_pt
      mjj: diffana::invariant_mass(jet_pt[0], Jet_eta[0], ...)
    selections:                        # in order
      - filter: nJet >= 2              # hard, not differentiable
      - soft_filter: diffana::soft_cut(disc, disc_cut, slope)
    observables:                       # one channel each
      - {name: sr, expression: mjj, bins: {low: 200, high: 600, n: 8},
         bandwidth: 10.0}             # or bins: [200, 250, 300, ...]
    systematics:
      - {name: lumi, type: normsys, lo: 0.98, hi: 1.02}
      - {name: pu, type: weight, up: genWeight * puWeightUp / puWeight,
         down: genWeight * puWeightDown / puWeight}
      - {name: jes, type: column, up: {jet_pt: Jet_pt * 1.03},
         down: {jet_pt: Jet_pt * 0.97}}
    poi: mu                            # the parameter of interest (default mu)
    normfactors:                       # free-floating normalizations (optional)
      - {name: k_qcd, samples: [qcd], nominal: 1.0, bounds: [0.0, 5.0]}
    data: {files: samples/data.root}   # optional: the observations
    networks:                          # optional: columns whose weights are optimised
      nn: {inputs: [ht_s, mjj_s], layers: [8, 1], output_activation: sigmoid}
    objective: {type: asimov_significance, background_uncertainty: 0.1}
    optimizer: {name: adam, learning_rate: 0.05, steps: 50, tolerance: 1.0e-4}

Every key with its type, default and meaning: ``docs/config.md`` (written from this
schema by `diffana.analysis.reference`). A cabinetry configuration is refused with
a hint to `diffana.analysis.cabinetry` (``diffana config --from-cabinetry``).

A configuration is code: its expressions are C++ that cling compiles and runs with
the user's rights, as a ROOT macro would be; only trusted configurations should be
run. The checks below catch mistakes, not malice.

Rules (each checked, errors name the key, e.g. ``samples[1].files``):

- The file is YAML in UTF-8 (a byte-order mark is fine) or UTF-16 with a byte-order
  mark. A key given twice in one mapping is an error naming both lines (PyYAML
  would keep the last silently); nesting deeper than 64 levels is refused. Anchors,
  aliases and merge keys (``<<: *base``) work.
- Unknown keys are errors, with the closest known key as a hint
  (``optimiser: unknown key; did you mean 'optimizer'?``). Paths (``files``, globs
  allowed) are relative to the configuration file's folder; every file must exist
  and hold ``tree``.
- Every number is finite (``.inf`` and ``.nan`` are errors) and of its type: an
  integer where one belongs (``bins.n``, ``steps``), an integer or a float where a
  float belongs; a boolean or a quoted string is never a number (``n: true`` is not
  1 bin). The one exception: a float in exponent form without a dot (``1e-3``),
  which YAML 1.1 reads as a string, is read as a float where a float belongs (in
  ``defines`` it stays the expression ``1e-3``).
- Names (of parameters, defines, samples, systematics and channels) are C++
  identifiers that are not C++ keywords (``int``, ``and``), do not start with
  ``diffana_`` and are not names the expressions already see: ``std``, ``ROOT``,
  ``TMath``, ``diffana``, ``RVec``, RDataFrame's ``rdfentry_`` and ``rdfslot_``,
  the ``ROOT::VecOps`` functions (``Sum``, ``Max``, ...); see
  `diffana._checks.identifier`. So are ``poi`` and the names of ``normfactors``
  and of the data. A channel name may start with a digit (``4j1b``).
`load` validates the file, then the file with the ``--set`` overrides (each value
read as YAML by the same rules): an error of the first kind names the file, one of
the second kind the ``--set`` item(s). Every error is a `ConfigError`, one line per
problem, never a traceback: also for a missing, empty, binary or non-UTF-8 file, a
folder, or a value that is not YAML.
Expressions are checked by compiling them when the analysis is built
(`diffana.analysis.graph.Graph`): a compiler error is re-raised as `ConfigError`
naming the key.

Reading the YAML text (encodings, duplicate keys, depth) is ``_yaml``'s.

The networks' weights are appended to ``parameters`` (``_schema_networks``).

May import pydantic, the schema modules ``_schema_*``, ``_yaml`` and
``diffana.analysis._errors``; uproot (or ROOT) inside `check_inputs` only.
"""

from __future__ import annotations

import copy
import glob
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from ._errors import ConfigError
from ._schema_base import (
    FiniteFloat,
    Name,
    StrictBool,
    did_you_mean,
    expression,
    identifier,
    problems,
    shown,
)
from ._schema_inputs import (
    Bins,
    Correction,
    DataSample,
    Observable,
    Parameter,
    Sample,
    Selection,
    correction_problems,
)
from ._schema_model import (
    ColumnSystematic,
    NormFactor,
    NormSystematic,
    Objective,
    Optimizer,
    Plots,
    Systematic,
    WeightSystematic,
)
from ._schema_networks import Network, NetworksMixin, network_problems
from ._yaml import decode, parse

__all__ = [
    "Bins",
    "ColumnSystematic",
    "Config",
    "ConfigError",
    "DataSample",
    "Network",
    "NormFactor",
    "NormSystematic",
    "Objective",
    "Observable",
    "Optimizer",
    "Parameter",
    "Sample",
    "Selection",
    "WeightSystematic",
    "apply_overrides",
    "check_inputs",
    "load",
    "load_dict",
]

#: A key path in the raw configuration: dict keys and list indices.
KeyPath = tuple[str | int, ...]


class Config(NetworksMixin):
    """A validated analysis description (see the module docstring)."""

    lumi: FiniteFloat = Field(
        default=1.0,
        gt=0,
        description="The integrated luminosity that scales the samples with an xsec.",
        json_schema_extra={"unit": "1/pb"},
    )
    samples: list[Sample] = Field(
        min_length=2,
        description="The simulated samples: at least one signal and one "
        "background, unique names.",
    )
    data: DataSample | None = Field(
        default=None, description="The observed data: the workspace's observations."
    )
    parameters: list[Parameter] = Field(
        min_length=1, description="The analysis parameters (at least one optimized)."
    )
    defines: dict[str, str] = Field(
        default_factory=dict,
        description="An ordered mapping name -> C++ expression (DiffFrame "
        "semantics): new columns, later ones may use earlier ones.",
    )
    selections: list[Selection] = Field(
        default_factory=list,
        description="In order: {filter: EXPR} (hard) or {soft_filter: EXPR} (a "
        "weight, differentiable).",
    )
    observables: list[Observable] = Field(
        min_length=1, description="The histograms: one channel of the model each."
    )
    systematics: list[Systematic] = Field(
        default_factory=list,
        description="The systematic uncertainties (normsys, weight or column), "
        "filled in the same event loop as the nominal histograms.",
    )
    poi: Name = Field(
        default="mu",
        description="The parameter of interest: a normfactor on every signal "
        "sample, or the one of that name in normfactors.",
    )
    normfactors: list[NormFactor] = Field(
        default_factory=list,
        description="Free-floating normalization factors (pyhf normfactor); the "
        "POI may be one of them.",
    )
    mc_stat: StrictBool = Field(
        default=True,
        description="A staterror modifier per channel from the MC statistics "
        "(the histograms' variances).",
    )
    max_skipped_fraction: FiniteFloat = Field(
        default=0.001,
        ge=0,
        le=1,
        description="The largest fraction of a sample's events (per variation) "
        "that may be skipped for a NaN observable or a weight that is not finite "
        "before a run stops (0: none; 1: only report).",
    )
    corrections: dict[str, Correction] = Field(
        default_factory=dict,
        description="Name -> correctionlib file (or {file, correction}): a C++ "
        "object the expressions call, jec(Jet_eta, jet_pt) element-wise on RVecs or "
        "jec.evaluate(eta, pt), on dual numbers (diffana.correction).",
    )
    networks: dict[str, Network] = Field(
        default_factory=dict,
        description="Name -> a neural network: a column of that name (its output, "
        "for observables, selections and weights) whose weights are appended to "
        "the optimised parameters (diffana.nn).",
    )
    plots: Plots = Field(
        default=Plots(), description="The plots' experiment label and luminosity."
    )
    objective: Objective = Field(description="What is optimized.")
    optimizer: Optimizer = Field(
        default=Optimizer(), description="The optax optimizer and when to stop."
    )
    #: The folder that relative paths are resolved against (not a YAML key).
    base_dir: str = Field(default=".", exclude=True)

    @field_validator("poi")
    @classmethod
    def _poi_name(cls, v: str) -> str:
        return identifier(v)

    @field_validator("corrections", mode="before")
    @classmethod
    def _correction_refs(cls, v: Any) -> Any:
        # name: file.json is short for name: {file: file.json}
        if isinstance(v, dict):
            return {k: {"file": c} if isinstance(c, str) else c for k, c in v.items()}
        return v

    @field_validator("corrections")
    @classmethod
    def _correction_names(cls, v: dict[str, Correction]) -> dict[str, Correction]:
        for name in v:
            identifier(name)
        return v

    @field_validator("defines")
    @classmethod
    def _define_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, expr in v.items():
            try:
                identifier(name)
                expression(expr)
            except ValueError as e:
                msg = f"define {name!r}: {e}"
                raise ValueError(msg) from None
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        problems: list[str] = []

        def unique(what: str, names: Sequence[str]) -> None:
            seen = {n for n in names if names.count(n) > 1}
            if seen:
                problems.append(f"{what}: repeated names {sorted(seen)}")

        unique("samples", [s.name for s in self.samples])
        unique("parameters", [p.name for p in self.parameters])
        unique("observables", [o.name for o in self.observables])
        unique("systematics", [s.name for s in self.systematics])
        roles = {s.role for s in self.samples}
        if roles != {"signal", "background"}:
            problems.append("samples: need at least one signal and one background")
        params = {p.name for p in self.parameters}
        for name in self.defines:
            if name in params:
                problems.append(f"defines.{name}: the name is also a parameter")
        samples = {s.name for s in self.samples}
        data = self.data.name if self.data is not None else None
        if data in samples:
            problems.append(f"data.name: {data!r} is also the name of a sample")

        def known_samples(key: str, names: Sequence[str] | None) -> None:
            for s in names or []:
                if s == data:
                    problems.append(
                        f"{key}: {s!r} is the data sample; this acts on the "
                        "simulated samples only"
                    )
                elif s not in samples:
                    problems.append(
                        f"{key}: unknown sample {s!r} (samples: {sorted(samples)})"
                    )

        for i, sy in enumerate(self.systematics):
            known_samples(f"systematics[{i}].samples", sy.samples)
            if isinstance(sy, ColumnSystematic):
                for col in sy.up:
                    if col not in self.defines:
                        problems.append(
                            f"systematics[{i}].up.{col}: not a name in defines "
                            "(a column systematic gives other expressions for defines)"
                            + did_you_mean(col, self.defines)
                        )
        unique("normfactors", [n.name for n in self.normfactors])
        systs = {sy.name for sy in self.systematics}
        for i, nf in enumerate(self.normfactors):
            known_samples(f"normfactors[{i}].samples", nf.samples)
            if nf.name in systs:
                problems.append(
                    f"normfactors[{i}].name: {nf.name!r} is also a systematic's name"
                )
            if nf.name == self.poi and nf.fixed:
                problems.append(
                    f"normfactors[{i}].fixed: {nf.name!r} is the POI, which the "
                    "fits must not hold fixed"
                )
        if self.poi in systs:
            problems.append(f"poi: {self.poi!r} is also a systematic's name")
        trained = any(n.optimize for n in self.networks.values())
        if not trained and not any(p.optimize for p in self.parameters):
            problems.append("parameters: none is optimized (optimize: true)")
        problems += correction_problems(self, params)
        problems += network_problems(self, params)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def param_values(self) -> dict[str, float]:
        """Parameter name -> initial value."""
        return {p.name: p.value for p in self.parameters}

    def hard(self) -> Config:
        """The hard analysis: every observable's ``bandwidth`` None (hard bins) and
        every ``relaxation`` parameter 0 (its bounds are not checked: 0 may lie
        outside them)."""
        params = [
            p.model_copy(update={"value": 0.0}) if p.relaxation else p
            for p in self.parameters
        ]
        obs = [o.model_copy(update={"bandwidth": None}) for o in self.observables]
        return self.model_copy(update={"parameters": params, "observables": obs})

    @property
    def poi_normfactor(self) -> NormFactor | None:
        """The entry of `normfactors` that is the POI; None when the POI is the
        implicit normfactor of the signal samples."""
        return next((n for n in self.normfactors if n.name == self.poi), None)

    def with_files(self, files: Mapping[str, Sequence[str]]) -> Config:
        """A copy whose samples (and data) named in ``files`` read those files
        instead (paths relative to the current folder, globs allowed)."""

        def moved(s: Any) -> Any:
            new = [os.path.abspath(f) for f in files.get(s.name, [])]
            return s.model_copy(update={"files": new}) if s.name in files else s

        data = None if self.data is None else moved(self.data)
        return self.model_copy(
            update={"samples": [moved(s) for s in self.samples], "data": data}
        )

    def sample_files(self, sample: Sample | DataSample) -> list[str]:
        """A sample's files: relative to `base_dir`, globs expanded, sorted."""
        out: list[str] = []
        for pattern in sample.files:
            path = os.path.join(self.base_dir, os.path.expanduser(pattern))
            if glob.has_magic(path):
                out += sorted(glob.glob(path))
            else:
                out.append(path)
        return out


# ---- --set ----------------------------------------------------------------------------

#: The top-level keys of a configuration.
_KEYS = [k for k, f in Config.model_fields.items() if not f.exclude]

#: The keys every cabinetry configuration has (its schema requires them).
_CABINETRY_KEYS = {"General", "Regions", "Samples"}


def _position(part: str) -> int | None:
    """``part`` of a dotted key as a list index, if it is one."""
    ok = part.isascii() and part.isdigit() and len(part) < 10
    return int(part) if ok else None


def _index(part: str) -> str | int:
    i = _position(part)
    return part if i is None else i


def _set_item(item: str) -> str:
    """How messages name a ``--set`` item (a long one shortened)."""
    return f"--set {item if len(item) <= 60 else item[:50] + '...' + item[-7:]!r}"


def _set_one(out: dict[str, Any], item: str) -> KeyPath:
    """Apply one ``NAME=VALUE`` item to ``out``; returns the key path it set."""
    if "=" not in item:
        msg = f"{_set_item(item)}: expected NAME=VALUE"
        raise ConfigError(msg)
    key, text = item.split("=", 1)
    key = key.strip()
    prefix = tuple(_index(p) for p in key.split("."))
    value = parse(text, _set_item(item), prefix)[1]
    params = out.get("parameters")
    params = params if isinstance(params, list) else []
    names = [p["name"] for p in params if isinstance(p, dict) and _has_name(p)]
    for i, p in enumerate(params):
        if isinstance(p, dict) and p.get("name") == key:
            p["value"] = value
            return ("parameters", i, "value")
    parts = key.split(".")

    def missing(known: Sequence[str]) -> ConfigError:
        msg = f"{_set_item(item)}: no parameter or key {key!r} in the config"
        return ConfigError(msg + did_you_mean(key, known))

    if len(parts) == 1 and key not in out and key not in _KEYS:
        raise missing([*names, *_KEYS])
    node: Any = out
    for depth, part in enumerate(parts[:-1]):
        pos = _position(part)
        if isinstance(node, list) and pos is not None and pos < len(node):
            node = node[pos]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            keys = list(node) if isinstance(node, dict) else []
            before, after = parts[:depth], parts[depth + 1 :]
            raise missing([".".join([*before, str(k), *after]) for k in keys])
    last = _position(parts[-1])
    if isinstance(node, list) and last is not None and last < len(node):
        node[last] = value
    elif isinstance(node, dict):
        node[parts[-1]] = value
    else:
        raise missing([])
    return tuple(_index(p) for p in parts)


def _has_name(p: dict[Any, Any]) -> bool:
    return isinstance(p.get("name"), str)


def _apply(
    raw: dict[str, Any], overrides: Sequence[str]
) -> tuple[dict[str, Any], list[tuple[str, KeyPath]]]:
    """``raw`` with ``overrides`` applied, and the key path each item set."""
    out = copy.deepcopy(raw)
    paths = [(item, _set_one(out, item)) for item in overrides]
    return out, paths


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``NAME=VALUE`` settings (``--set``) to a raw configuration dict.

    ``NAME`` is a parameter name (sets its initial ``value``) or a dotted key
    (``optimizer.steps=10``, ``samples.0.xsec=2``); VALUE is read as YAML.

    Examples
    --------
    >>> raw = {"parameters": [{"name": "cut", "value": 1.0}], "optimizer": {}}
    >>> apply_overrides(raw, ["cut=2", "optimizer.steps=5"])
    {'parameters': [{'name': 'cut', 'value': 2}], 'optimizer': {'steps': 5}}
    """
    return _apply(raw, overrides)[0]


def _blame(paths: Sequence[tuple[str, KeyPath]], keys: KeyPath) -> list[str]:
    """The ``--set`` items whose key path overlaps ``keys`` (all when none does)."""
    hits = [
        item
        for item, path in paths
        if path[: len(keys)] == keys or keys[: len(path)] == path
    ]
    return hits or [item for item, _ in paths]


# ---- loading --------------------------------------------------------------------------


def _validate(raw: Mapping[str, Any], base_dir: str | os.PathLike[str]) -> Config:
    return Config.model_validate({**raw, "base_dir": os.fspath(base_dir)})


def load_dict(
    raw: Any, base_dir: str | os.PathLike[str] = ".", source: str = "config"
) -> Config:
    """Validate a configuration given as a dict; ``source`` prefixes messages.

    Checks the schema only (no files are opened); see `check_inputs`.
    """
    if not isinstance(raw, Mapping):
        msg = (
            f"{source}: the configuration must be a mapping (key: value), got "
            f"{shown(raw)}"
        )
        raise ConfigError(msg)
    if "base_dir" in raw:
        msg = f"{source}: base_dir: unknown key"
        raise ConfigError(msg)
    if set(raw) >= _CABINETRY_KEYS and not set(raw) & set(_KEYS):
        msg = (
            f"{source}: this is a cabinetry configuration (General, Regions, "
            "Samples), not a diffana one: convert it with `diffana config "
            "--from-cabinetry FILE --out diffana.yaml`, then add the parameters to "
            "optimize (see docs/config.md)"
        )
        raise ConfigError(msg)
    try:
        return _validate(raw, base_dir)
    except ValidationError as err:
        lines = "\n".join(p.text for p in problems(err, Config))
        msg = f"{source}: invalid configuration:\n{lines}"
        raise ConfigError(msg) from None


def _load_overridden(
    raw: dict[str, Any], overrides: Sequence[str], base_dir: str | os.PathLike[str]
) -> Config:
    """The configuration with ``overrides``; errors name the ``--set`` item(s)."""
    new, paths = _apply(raw, overrides)
    if "base_dir" in new:
        msg = f"{_items(paths, ('base_dir',))}: base_dir: unknown key"
        raise ConfigError(msg)
    try:
        return _validate(new, base_dir)
    except ValidationError as err:
        lines = [f"{_items(paths, p.keys)}: {p.text}" for p in problems(err, Config)]
        raise ConfigError("\n".join(lines)) from None


def _items(paths: Sequence[tuple[str, KeyPath]], keys: KeyPath) -> str:
    return ", ".join(_set_item(item) for item in _blame(paths, keys))


def check_inputs(config: Config, source: str = "config") -> dict[str, list[str]]:
    """Check that every sample's (and the data's) files exist and hold its tree (with
    uproot, or ROOT if uproot is not installed). Returns {sample: [files]}; raises
    ConfigError."""
    out: dict[str, list[str]] = {}
    every: list[tuple[str, Sample | DataSample]] = [
        (f"samples[{i}]", s) for i, s in enumerate(config.samples)
    ]
    if config.data is not None:
        every.append(("data", config.data))
    for key, sample in every:
        where = f"{source}: {key} ({sample.name})"
        files = config.sample_files(sample)
        if not files:
            msg = f"{where}.files: no file matches {sample.files}"
            raise ConfigError(msg)
        for f in files:
            if not os.path.isfile(f):
                msg = f"{where}.files: {f} does not exist"
                raise ConfigError(msg)
            problem = _tree_problem(f, sample.tree)
            if problem:
                msg = f"{where}.tree: {problem}"
                raise ConfigError(msg)
        out[sample.name] = files
    return out


def _tree_problem(path: str, tree: str) -> str | None:
    try:
        import uproot
    except ImportError:  # pragma: no cover - uproot is a dependency of the CLI
        from .. import root as _droot

        ROOT = _droot._import_root()
        f = ROOT.TFile.Open(path, "READ")
        if not f or f.IsZombie():
            return f"cannot open {path} as a ROOT file"
        try:
            t = f.Get(tree)
            if not t or not t.InheritsFrom("TTree"):
                return f"{path} has no TTree {tree!r}"
        finally:
            f.Close()
        return None
    try:
        with uproot.open(path) as f:
            if tree not in f:
                keys = sorted({k.split(";")[0] for k in f})
                return f"{path} has no TTree {tree!r} (it has {keys})"
            if not isinstance(f[tree], uproot.TTree):
                return f"{path}: {tree!r} is not a TTree"
    except (OSError, ValueError) as e:
        return f"cannot read {path} as a ROOT file: {e}"
    return None


def load(
    path: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    check_files: bool = True,
) -> Config:
    """Read and validate a YAML configuration, then apply and validate the ``--set``
    ``overrides``, and check its input files.

    Errors are `ConfigError`: those of the file name the file and the key, those of
    the overrides the ``--set`` item(s) and the key. The file is UTF-8 (or UTF-16
    with a byte-order mark); see the module docstring for the YAML rules.
    """
    p = pathlib.Path(path)
    if p.is_dir():
        msg = f"cannot read the configuration {p}: it is a folder, not a file"
        raise ConfigError(msg)
    try:
        data = p.read_bytes()
    except OSError as e:
        msg = f"cannot read the configuration {p}: {e.strerror or e}"
        raise ConfigError(msg) from None
    found, raw = parse(decode(data, str(p)), str(p))
    if not found:
        msg = f"{p}: the file is empty; a configuration is a mapping (key: value)"
        raise ConfigError(msg)
    base_dir = p.resolve().parent
    config = load_dict(raw, base_dir, source=str(p))
    if overrides:
        config = _load_overridden(dict(raw), overrides, base_dir)
    if check_files:
        check_inputs(config, source=str(p))
    return config
