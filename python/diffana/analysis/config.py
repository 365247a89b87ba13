# SPDX-License-Identifier: BSD-3-Clause
"""The YAML analysis description of ``diffana optimize CONFIG.yaml``, validated.

A configuration names the input samples, the analysis parameters, the DiffFrame
expressions (defines, selections, observables), the systematic uncertainties, the
objective and the optimiser::

    lumi: 1000.0                       # 1/pb; scales samples that give an xsec
    samples:
      - {name: signal, files: [samples/signal.root], tree: Events,
         weight: genWeight, xsec: 0.05, role: signal}       # xsec in pb
      - {name: qcd, files: ["samples/qcd*.root"], weight: genWeight, xsec: 50.0,
         role: background}
    parameters:
      - {name: disc_cut, value: 0.3, bounds: [0.0, 0.95]}   # optimised by default
      - {name: slope, value: 20.0, optimise: false}
      - {name: width, value: 2.0, optimise: false, relaxation: true}
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
    objective: {type: asimov_significance, background_uncertainty: 0.1}
    optimiser: {name: adam, learning_rate: 0.05, steps: 50, tolerance: 1.0e-4}

Rules (each checked, errors name the key, e.g. ``samples[1].files``):

- Unknown keys are errors. Paths (``files``, globs allowed) are relative to the
  configuration file's folder; every file must exist and hold ``tree``.
- ``samples``: unique names, ``role`` signal or background, at least one of each.
  A sample's histograms are multiplied by ``scale`` (default 1) and, with ``xsec``
  (pb), by ``xsec * lumi / sum of weight`` over all events of its files.
- ``parameters``: C++ identifiers; an optimised parameter (``optimise: true``,
  the default) needs ``bounds: [lo, hi]`` with ``lo < hi`` and ``lo <= value <= hi``.
  ``relaxation: true`` (default false) marks a relaxation scale (e.g. a soft-cut
  width or a softmax temperature), set to 0 by ``diffana evaluate --hard``; the
  expressions must then treat 0 as hard (as ``diffana::agc::soft_step(x, cut,
  width)`` does: width 0 is the hard step).
- ``defines``: an ordered mapping name -> expression; ``selections``: a list of
  ``{filter: EXPR}`` (hard) or ``{soft_filter: EXPR}`` (a weight, differentiable).
- ``observables``: ``name`` (the channel; letters, digits, underscores), ``bins`` as
  a list of at least two strictly increasing edges or ``{low, high, n}``;
  ``bandwidth`` null (hard binning) or > 0 (soft binning); ``overflow`` drop or
  fold; ``weight`` (optional) an expression multiplying the event weight in this
  channel only, e.g. a soft region probability; ``fit_bins`` (optional) a subset of
  the edges: the statistical model sees the bins merged between them.
- ``systematics``: ``normsys`` (``lo``/``hi`` factors), ``weight`` (alternative
  weight expressions ``up``/``down``) or ``column`` (alternative expressions for
  some ``defines``: ``up``/``down`` map define names to expressions; a one-sided
  one gives ``up`` and ``symmetrize: true``, down = 2 nominal - up); ``samples``
  restricts one to some samples (default: all). Shape systematics are filled in the
  same event loop as the nominal histograms.
- ``objective``: ``asimov_significance`` (optional relative
  ``background_uncertainty``), ``discovery_significance``, ``cls`` (``mu``,
  ``test_stat`` qtilde or q) or ``poi_uncertainty``.
- ``optimiser``: an optax optimiser ``name`` (adam, sgd, ...) with
  ``learning_rate`` (``schedule: cosine`` decays it to a tenth over ``steps``),
  ``steps`` and ``tolerance`` (stop when the objective changes by less). Steps are taken in coordinates scaled to the bounds, (value - lo) /
  (hi - lo), so one learning rate suits parameters of any unit.

Expressions are checked by compiling them when the analysis is built
(`diffana.optimize.Analysis`): a compiler error is re-raised as `ConfigError`
naming the key.
"""

from __future__ import annotations

import glob
import itertools
import math
import os
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "Bins",
    "ColumnSystematic",
    "Config",
    "ConfigError",
    "NormSystematic",
    "Objective",
    "Observable",
    "Optimiser",
    "Parameter",
    "Sample",
    "WeightSystematic",
    "apply_overrides",
    "load",
    "load_dict",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+$")


class ConfigError(ValueError):
    """A configuration that is not valid; the message names the file and the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _identifier(v: str) -> str:
    if not _IDENT.match(v):
        msg = f"{v!r} is not a C++ identifier"
        raise ValueError(msg)
    if v.startswith("diffana_"):
        msg = f"{v!r}: names starting with diffana_ are reserved"
        raise ValueError(msg)
    return v


def _expression(v: str) -> str:
    if not v.strip():
        msg = "an expression must not be empty"
        raise ValueError(msg)
    return v


Name = Annotated[str, Field(min_length=1)]


class Sample(_Model):
    """One input sample: ROOT files with a TTree."""

    name: Name
    files: list[str] = Field(min_length=1)
    tree: str = "Events"
    weight: str = "1.0"
    xsec: float | None = Field(default=None, gt=0)
    scale: float = Field(default=1.0, gt=0)
    role: Literal["signal", "background"]

    @field_validator("files", mode="before")
    @classmethod
    def _one_file(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return _identifier(v)

    @field_validator("weight")
    @classmethod
    def _check_weight(cls, v: str) -> str:
        return _expression(v)


class Parameter(_Model):
    """An analysis parameter: a DiffFrame parameter, optimised or not."""

    name: Name
    value: float
    bounds: tuple[float, float] | None = None
    optimise: bool = True
    #: A relaxation scale (e.g. a soft-cut width or a softmax temperature), set to 0
    #: by ``diffana evaluate --hard``.
    relaxation: bool = False

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return _identifier(v)

    @model_validator(mode="after")
    def _bounds(self) -> Parameter:
        if not math.isfinite(self.value):
            msg = f"value must be finite, got {self.value}"
            raise ValueError(msg)
        if self.bounds is None:
            if self.optimise:
                msg = (
                    f"parameter {self.name!r} is optimised and needs bounds: [lo, hi] "
                    "(or optimise: false)"
                )
                raise ValueError(msg)
            return self
        lo, hi = self.bounds
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            msg = f"bounds must be finite with lo < hi, got [{lo}, {hi}]"
            raise ValueError(msg)
        if not lo <= self.value <= hi:
            msg = f"value {self.value} is outside its bounds [{lo}, {hi}]"
            raise ValueError(msg)
        return self


class Selection(_Model):
    """``{filter: EXPR}`` (hard) or ``{soft_filter: EXPR}`` (soft, a weight)."""

    filter: str | None = None
    soft_filter: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Selection:
        given = [k for k in ("filter", "soft_filter") if getattr(self, k) is not None]
        if len(given) != 1:
            msg = "a selection needs exactly one of filter: EXPR or soft_filter: EXPR"
            raise ValueError(msg)
        _expression(self.expression)
        return self

    @property
    def kind(self) -> str:
        return "filter" if self.filter is not None else "soft_filter"

    @property
    def expression(self) -> str:
        return self.filter if self.filter is not None else str(self.soft_filter)


class Bins(_Model):
    """Regular bins: ``n`` bins from ``low`` to ``high``."""

    low: float
    high: float
    n: int = Field(ge=1)

    @model_validator(mode="after")
    def _order(self) -> Bins:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            msg = "low and high must be finite"
            raise ValueError(msg)
        if not self.low < self.high:
            msg = f"low ({self.low}) must be below high ({self.high})"
            raise ValueError(msg)
        return self


class Observable(_Model):
    """A histogrammed quantity: one channel (region) of the statistical model."""

    name: Name
    expression: str
    bins: list[float] | Bins
    #: An expression that multiplies the event weight in this channel only (e.g. a
    #: soft region membership probability); None: 1.
    weight: str | None = None
    #: Coarser bin edges for the statistical model: a subset of the edges, the bins
    #: between them merged (as the AGC fits its 25-bin histograms in 11 bins from
    #: 110 GeV); None: the bins themselves.
    fit_bins: list[float] | None = None
    bandwidth: float | None = Field(default=None, gt=0)
    overflow: Literal["drop", "fold"] = "drop"
    label: str | None = None  # x-axis label of the plots

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        # A channel name, also part of C++ column names: letters, digits and
        # underscores; a leading digit is fine (the AGC's regions are 4j1b, 4j2b).
        if not _CHANNEL.match(v):
            msg = f"{v!r} is not a channel name (letters, digits and underscores)"
            raise ValueError(msg)
        return v

    @field_validator("expression", "weight")
    @classmethod
    def _check_expr(cls, v: str | None) -> str | None:
        return None if v is None else _expression(v)

    @field_validator("bins", mode="before")
    @classmethod
    def _regular(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            try:
                return Bins.model_validate(v)
            except ValidationError as err:
                msg = _format_validation(err, nested=True).replace("\n", "; ")
                raise ValueError(msg) from None
        return v

    @field_validator("bins")
    @classmethod
    def _edges(cls, v: list[float] | Bins) -> list[float] | Bins:
        if isinstance(v, Bins):
            return v
        if len(v) < 2:
            msg = f"bins needs at least 2 edges, got {len(v)}"
            raise ValueError(msg)
        if not all(math.isfinite(x) for x in v):
            msg = f"bin edges must be finite, got {v}"
            raise ValueError(msg)
        if any(b <= a for a, b in itertools.pairwise(v)):
            msg = f"bin edges must be strictly increasing, got {v}"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _fit_bins_subset(self) -> Observable:
        if self.fit_bins is None:
            return self
        edges = self.edges
        fit = self.fit_bins
        if len(fit) < 2 or any(b <= a for a, b in itertools.pairwise(fit)):
            msg = f"fit_bins must be >= 2 strictly increasing edges, got {fit}"
            raise ValueError(msg)
        tol = 1e-9 * (edges[-1] - edges[0])
        missing = [x for x in fit if not any(abs(x - e) <= tol for e in edges)]
        if missing:
            msg = f"fit_bins {missing} are not edges of bins (edges: {edges})"
            raise ValueError(msg)
        return self

    def fit_matrix(self) -> list[list[float]]:
        """The 0/1 matrix [fit bins, bins] that merges bins into ``fit_bins``."""
        edges = self.edges
        fit = self.fit_bins if self.fit_bins is not None else edges
        tol = 1e-9 * (edges[-1] - edges[0])
        index = [min(range(len(edges)), key=lambda i: abs(edges[i] - x)) for x in fit]
        assert all(abs(edges[i] - x) <= tol for i, x in zip(index, fit, strict=True))
        return [
            [1.0 if lo <= b < hi else 0.0 for b in range(len(edges) - 1)]
            for lo, hi in itertools.pairwise(index)
        ]

    @property
    def edges(self) -> list[float]:
        """The bin edges."""
        if isinstance(self.bins, Bins):
            b = self.bins
            return [b.low + (b.high - b.low) * i / b.n for i in range(b.n + 1)]
        return list(self.bins)


class _Systematic(_Model):
    name: Name
    samples: list[str] | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        return _identifier(v)

    def applies_to(self, sample: str) -> bool:
        """Whether the systematic acts on ``sample``."""
        return self.samples is None or sample in self.samples


class NormSystematic(_Systematic):
    """A normalisation uncertainty: factors ``lo`` and ``hi`` (pyhf normsys)."""

    type: Literal["normsys"]
    lo: float = Field(gt=0)
    hi: float = Field(gt=0)


class WeightSystematic(_Systematic):
    """A shape uncertainty from alternative weight expressions (histosys)."""

    type: Literal["weight"]
    up: str
    down: str

    @field_validator("up", "down")
    @classmethod
    def _check_expr(cls, v: str) -> str:
        return _expression(v)


class ColumnSystematic(_Systematic):
    """A shape uncertainty from alternative expressions of some defines (histosys).

    A one-sided variation (e.g. the AGC's jet energy resolution) gives ``up`` only
    and ``symmetrize: true``: the down histogram is then 2 nominal - up (as
    cabinetry's symmetrisation), with its Jacobian likewise."""

    type: Literal["column"]
    up: dict[str, str] = Field(min_length=1)
    down: dict[str, str] | None = None
    symmetrize: bool = False

    @model_validator(mode="after")
    def _same_columns(self) -> ColumnSystematic:
        if self.symmetrize:
            if self.down is not None:
                msg = "symmetrize: true derives the down variation; remove down"
                raise ValueError(msg)
            for v in self.up.values():
                _expression(v)
            return self
        if self.down is None:
            msg = "down is missing (or set symmetrize: true for a one-sided variation)"
            raise ValueError(msg)
        if set(self.up) != set(self.down):
            msg = (
                f"up and down must vary the same defines, got {sorted(self.up)} and "
                f"{sorted(self.down)}"
            )
            raise ValueError(msg)
        for v in (*self.up.values(), *self.down.values()):
            _expression(v)
        return self

    @property
    def directions(self) -> tuple[str, ...]:
        """The directions booked in the event loop: ("up",) when symmetrised."""
        return ("up",) if self.symmetrize else ("up", "down")


Systematic = Annotated[
    NormSystematic | WeightSystematic | ColumnSystematic, Field(discriminator="type")
]


class Objective(_Model):
    """What is optimised; significances are maximised, CLs and the uncertainty on
    the signal strength minimised."""

    type: Literal[
        "asimov_significance", "discovery_significance", "cls", "poi_uncertainty"
    ]
    background_uncertainty: float | None = Field(default=None, ge=0)
    mu: float = Field(default=1.0, gt=0)
    test_stat: Literal["qtilde", "q"] = "qtilde"

    @model_validator(mode="after")
    def _keys_fit_type(self) -> Objective:
        if (
            self.background_uncertainty is not None
            and self.type != "asimov_significance"
        ):
            msg = "background_uncertainty is for type: asimov_significance only"
            raise ValueError(msg)
        return self

    @property
    def maximise(self) -> bool:
        """True for the significances."""
        return self.type in ("asimov_significance", "discovery_significance")


class Optimiser(_Model):
    """An optax optimiser and when to stop."""

    name: str = "adam"
    learning_rate: float = Field(default=0.05, gt=0)
    steps: int = Field(default=50, ge=0)
    tolerance: float = Field(default=0.0, ge=0)
    schedule: Literal["constant", "cosine"] = "constant"

    @field_validator("name")
    @classmethod
    def _optax(cls, v: str) -> str:
        known = (
            "adam", "adamw", "adabelief", "adagrad", "adamax", "amsgrad", "lion",
            "nadam", "novograd", "radam", "rmsprop", "sgd", "yogi",
        )  # fmt: skip
        if v not in known:
            msg = f"unknown optimiser {v!r}; choose one of {list(known)}"
            raise ValueError(msg)
        return v


class Config(_Model):
    """A validated analysis description (see the module docstring)."""

    lumi: float = Field(default=1.0, gt=0)
    samples: list[Sample] = Field(min_length=2)
    parameters: list[Parameter] = Field(min_length=1)
    defines: dict[str, str] = Field(default_factory=dict)
    selections: list[Selection] = Field(default_factory=list)
    observables: list[Observable] = Field(min_length=1)
    systematics: list[Systematic] = Field(default_factory=list)
    mc_stat: bool = True
    objective: Objective
    optimiser: Optimiser = Optimiser()
    #: The folder that relative paths are resolved against (not a YAML key).
    base_dir: str = Field(default=".", exclude=True)

    @field_validator("defines")
    @classmethod
    def _define_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, expr in v.items():
            try:
                _identifier(name)
                _expression(expr)
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
        for i, sy in enumerate(self.systematics):
            for s in sy.samples or []:
                if s not in samples:
                    problems.append(
                        f"systematics[{i}].samples: unknown sample {s!r} "
                        f"(samples: {sorted(samples)})"
                    )
            if isinstance(sy, ColumnSystematic):
                for col in sy.up:
                    if col not in self.defines:
                        problems.append(
                            f"systematics[{i}].up.{col}: not a name in defines "
                            "(a column systematic gives other expressions for defines)"
                        )
        if not any(p.optimise for p in self.parameters):
            problems.append("parameters: none is optimised (optimise: true)")
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

    def with_files(self, files: Mapping[str, Sequence[str]]) -> Config:
        """A copy whose samples named in ``files`` read those files instead (paths
        relative to the current folder, globs allowed)."""
        samples = [
            s.model_copy(update={"files": [os.path.abspath(f) for f in files[s.name]]})
            if s.name in files
            else s
            for s in self.samples
        ]
        return self.model_copy(update={"samples": samples})

    def sample_files(self, sample: Sample) -> list[str]:
        """A sample's files: relative to `base_dir`, globs expanded, sorted."""
        out: list[str] = []
        for pattern in sample.files:
            path = os.path.join(self.base_dir, os.path.expanduser(pattern))
            if glob.has_magic(path):
                out += sorted(glob.glob(path))
            else:
                out.append(path)
        return out


def _format_validation(err: ValidationError, nested: bool = False) -> str:
    lines = []
    errors = err.errors()
    if len(errors) > 1:  # a union's other branch: "should be a valid dictionary"
        errors = [e for e in errors if e["type"] not in ("model_type", "dict_type")]
    for e in errors:
        loc = ""
        for k, part in enumerate(e["loc"]):
            if isinstance(part, int):
                loc += f"[{part}]"
            elif (k == 2 and e["loc"][0] == "systematics") or "[" in str(part):
                continue  # a union's tag (weight, list[float], ...), not a key
            else:
                loc += f".{part}" if loc else str(part)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "missing key"
        msg = msg.removeprefix("Value error, ")
        if nested and not loc:
            lines.append(msg)
        else:
            lines.append(f"{loc or '(top level)'}: {msg}")
    return "\n".join(dict.fromkeys(lines))


def _parse_scalar(text: str) -> Any:
    return yaml.safe_load(text)


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``NAME=VALUE`` settings (``--set``) to a raw configuration dict.

    ``NAME`` is a parameter name (sets its initial ``value``) or a dotted key
    (``optimiser.steps=10``, ``samples.0.xsec=2``); VALUE is read as YAML.
    """
    import copy

    out = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            msg = f"--set {item!r}: expected NAME=VALUE"
            raise ConfigError(msg)
        key, text = item.split("=", 1)
        key = key.strip()
        value = _parse_scalar(text)
        params = out.get("parameters") or []
        match = [p for p in params if isinstance(p, dict) and p.get("name") == key]
        if match:
            match[0]["value"] = value
            continue
        node: Any = out
        parts = key.split(".")
        for part in parts[:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                msg = f"--set {item!r}: no parameter or key {key!r} in the config"
                raise ConfigError(msg)
        last = parts[-1]
        if isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            msg = f"--set {item!r}: no parameter or key {key!r} in the config"
            raise ConfigError(msg)
    return out


def load_dict(
    raw: Any, base_dir: str | os.PathLike[str] = ".", source: str = "config"
) -> Config:
    """Validate a configuration given as a dict; ``source`` prefixes messages.

    Checks the schema only (no files are opened); see `check_inputs`.
    """
    if not isinstance(raw, Mapping):
        msg = f"{source}: the configuration must be a mapping (key: value), got {raw!r}"
        raise ConfigError(msg)
    if "base_dir" in raw:
        msg = f"{source}: base_dir: unknown key"
        raise ConfigError(msg)
    try:
        return Config.model_validate({**raw, "base_dir": os.fspath(base_dir)})
    except ValidationError as err:
        msg = f"{source}: invalid configuration:\n{_format_validation(err)}"
        raise ConfigError(msg) from None


def check_inputs(config: Config, source: str = "config") -> dict[str, list[str]]:
    """Check that every sample's files exist and hold its tree (with uproot, or ROOT
    if uproot is not installed). Returns {sample: [files]}; raises ConfigError."""
    out: dict[str, list[str]] = {}
    for i, sample in enumerate(config.samples):
        where = f"{source}: samples[{i}] ({sample.name})"
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
    """Read, override (``--set``), validate a YAML configuration and check its
    input files; errors are `ConfigError` naming the file and the key."""
    p = pathlib.Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        msg = f"cannot read the configuration {p}: {e.strerror or e}"
        raise ConfigError(msg) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        msg = f"{p}: not valid YAML: {e}"
        raise ConfigError(msg) from None
    if isinstance(raw, dict) and overrides:
        raw = apply_overrides(raw, overrides)
    config = load_dict(raw, p.resolve().parent, source=str(p))
    if check_files:
        check_inputs(config, source=str(p))
    return config
