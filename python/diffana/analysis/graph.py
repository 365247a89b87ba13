# SPDX-License-Identifier: BSD-3-Clause
"""The event-loop half of an analysis: one `diffana.rdf.DiffFrame` per sample, the
nominal and variation histograms booked on it, the loops run.

Per sample, the DiffFrame carries every parameter. The defines, the selections and
one histogram per observable are booked for the nominal analysis and for every shape
systematic:

- a ``weight`` systematic books the same histogram with its other weight;
- a ``column`` systematic defines a varied copy (``name__<syst>_up``) of every define
  that uses a varied define, directly or through others, and a varied copy of the
  selections, the observables and the sample weight that use them. Names are
  rewritten by `diffana.rdf.expressions.rename`, the rewriter DiffFrame uses for its
  parameters, so that ``450>mjj`` is varied exactly as ``mjj < 450`` is.

All of it runs in one event loop per sample, which fills every histogram with its
Jacobian ``[bins, P]`` w.r.t. the parameters (and the variances' Jacobian). The
histograms come back as `diffana.GradHistogram` scaled to ``xsec * lumi / sum of
weights`` (times ``scale``); a ``symmetrize``d systematic's down histogram is
`GradHistogram.mirrored` from its up.

Guards around ROOT: before any RDataFrame opens a file, `diffana.analysis.inputs`
reads every basket the analysis uses with uproot (a corrupt or truncated file is an
`InputError`, not a crash); a C++ exception or a crash inside an event loop becomes a
`SampleError` naming the sample and its files. Events skipped by the histograms (a
weight that is not finite, a NaN observable) are counted per sample, channel and
variation (`Graph.skipped`, next to `Graph.events`, the events each sample's loop
read); more than ``max_skipped_fraction`` of a sample's events in any of them is a
`SkippedEventsError`.

The data (``data:``, if configured) get a DiffFrame of their own, built the same
way: its nominal histograms (no systematic acts on data, and they are not scaled)
with their Jacobians, under the data's name.

A network (``networks:``) is a column named as the network, defined after the
defines (`network_defines`: the C++ call declared by `diffana.nn.declare` on the
frame's parameter block) and varied by a column systematic like a define that uses
a varied input. The weights of the networks in ``reverse`` (large ones, chosen by
`diffana.analysis.evaluation.Analysis`) are instead one reverse-mode parameter
vector per network: the loops give the histograms' Jacobians w.r.t. the other
parameters (0 in the weights' columns) and `Graph.reverse_gradient` the weights'
part of the gradient by the adjoint event loop (``_network_gradient``).

May import numpy, `diffana.rdf` (ROOT on first use), `diffana.hist` (types),
`diffana.analysis.config`, `diffana.analysis.inputs`, `diffana.analysis._errors`,
`diffana.analysis._network_gradient` and `diffana.nn` (lazily, for ``networks:``).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..hist import GradHistogram
from ..rdf.expressions import rename, uses
from . import _network_gradient as netgrad
from . import inputs
from ._errors import (
    ConfigError,
    InputError,
    ObjectiveError,
    SampleError,
    SkippedEventsError,
)
from .config import (
    ColumnSystematic,
    Config,
    DataSample,
    NormSystematic,
    Sample,
    WeightSystematic,
)

__all__ = ["NOMINAL", "Graph", "Histograms", "Skipped", "skipped_counts"]

#: The name of the nominal histograms among a sample's variations.
NOMINAL = "nominal"

#: sample -> channel -> variation (``nominal``, ``<syst>_up``, ``<syst>_down``)
Histograms = dict[str, dict[str, dict[str, GradHistogram]]]

#: sample -> channel -> variation -> events skipped by the histogram
Skipped = dict[str, dict[str, dict[str, int]]]


def skipped_counts(histos: Histograms) -> Skipped:
    """The events each histogram skipped (``n_skipped``: a weight that is not
    finite or a NaN observable), keyed as the histograms."""
    return {
        s: {c: {v: int(h.n_skipped) for v, h in hs.items()} for c, hs in chans.items()}
        for s, chans in histos.items()
    }


@dataclasses.dataclass
class _SampleFrames:
    sample: Sample | DataSample
    ddf: Any
    sumw: Any  # an RDataFrame Sum result, or None
    count: Any  # an RDataFrame Count result: the events each loop reads
    handles: dict[str, dict[str, Any]]  # channel -> variation -> GradHistResult
    paths: list[str]
    scale: float | None = None


def declare_corrections(config: Config, source: str) -> None:
    """Declare the configuration's correctionlib corrections to cling, before any
    expression uses them (idempotent; `diffana.correction.declare`)."""
    if not config.corrections:
        return
    from ..correction import declare

    for name, ref in config.corrections.items():
        path = os.path.join(config.base_dir, os.path.expanduser(ref.file))
        with config_key(source, f"corrections.{name}"):
            declare(name, path, ref.correction)


@contextmanager
def config_key(source: str, key: str) -> Iterator[None]:
    """Re-raise a DiffFrame error (CompileError & co.) as ConfigError naming the key."""
    try:
        yield
    except (ValueError, TypeError) as e:
        msg = f"{source}: {key}: {e}"
        raise ConfigError(msg) from None


def network_defines(
    ddf: Any, config: Config, source: str, reverse: Collection[str] = ()
) -> dict[str, str]:
    """Network name -> the C++ expression of its column on ``ddf``'s family (the
    network declared to cling, `diffana.nn.declare`; errors name the key). The
    networks in ``reverse`` read their weights from a reverse-mode parameter
    (``<network>__weights``, ``diffana.nn.cpp.apply_expression``)."""
    if not config.networks:
        return {}
    from ..nn import declare, expression
    from ..nn.cpp import apply_expression

    out: dict[str, str] = {}
    for name in config.networks:
        net = config.network(name)
        with config_key(source, f"networks.{name}"):
            if name in reverse:
                out[name] = apply_expression(net, netgrad.weights_name(name))
            else:
                out[name] = expression(net, declare(net, ddf))
    return out


def _check_network_inputs(ddf: Any, config: Config, name: str, source: str) -> None:
    entry = config.networks[name]
    columns = [("inputs", c) for c in entry.inputs]
    if entry.jets is not None:
        columns += [("jets.features", c) for c in entry.jets.features]
    for key, c in columns:
        if not ddf.node.HasColumn(c):
            msg = (
                f"{source}: networks.{name}.{key}: unknown column {c!r} (not a "
                "define nor a branch of the input)"
            )
            raise ConfigError(msg)


def define_all(
    ddf: Any, config: Config, source: str, reverse: Collection[str] = ()
) -> Any:
    """``ddf`` with the configuration's ``defines``, in order, then a column per
    network (errors name the key; ``reverse`` as in `network_defines`)."""
    for name, expr in config.defines.items():
        with config_key(source, f"defines.{name}"):
            ddf = ddf.define(name, expr)
    for name, expr in network_defines(ddf, config, source, reverse).items():
        _check_network_inputs(ddf, config, name, source)
        with config_key(source, f"networks.{name}"):
            ddf = ddf.define(name, expr)
    return ddf


def select_all(
    node: Any, config: Config, source: str, renames: Mapping[str, str] | None = None
) -> Any:
    """``node`` after the configuration's ``selections`` (hard filters and soft
    filters), their expressions with the column ``renames`` of a variation."""
    for j, sel in enumerate(config.selections):
        expr = rename(sel.expression, renames or {})
        with config_key(source, f"selections[{j}].{sel.kind}"):
            apply = node.filter if sel.kind == "filter" else node.soft_filter
            node = apply(expr)
    return node


class Graph:
    """The DiffFrames of a configuration with every histogram booked.

    Building it compiles every expression (errors are `ConfigError` naming the
    configuration key); `histograms` runs one event loop per sample.

    Parameters
    ----------
    config : Config
        The validated configuration.
    files : mapping, optional
        Sample name -> files, instead of the configuration's.
    source : str
        What error messages name (the configuration file).
    tangents : mapping, optional
        Sample name -> (parameter names, dual columns, prefix) for samples whose
        files carry tangents (``<prefix>x__d_<param>`` beside ``x``,
        `diffana.chain.events`): those columns are Duals again
        (`diffana.rdf.DiffFrame.with_tangents`).
    reverse : collection of str, optional
        Networks whose weights are reverse-mode parameters of the DiffFrames (the
        adjoint method, `diffana.rdf.adjoint`): the histograms' Jacobians are 0
        in their columns and `reverse_gradient` gives that part of the gradient.
        Default: none (forward mode for every parameter).
    """

    #: The networks whose weights are reverse-mode parameters (none: forward mode;
    #: a class attribute for subclasses that build no frames of their own).
    reverse: tuple[str, ...] = ()

    def __init__(
        self,
        config: Config,
        files: Mapping[str, Sequence[str]] | None = None,
        source: str = "config",
        *,
        tangents: Mapping[str, tuple[Sequence[str], Sequence[str], str]] | None = None,
        reverse: Collection[str] = (),
    ) -> None:
        from .. import rdf

        self.config = config
        self.source = source
        self.reverse = tuple(n for n in config.networks if n in set(reverse))
        unknown = sorted(set(reverse) - set(config.networks))
        if unknown:
            msg = f"reverse: {unknown} are not networks of the configuration"
            raise ValueError(msg)
        self._params = dict(config.param_values)
        # sample -> (parameter names, dual columns, prefix) of inputs that carry
        # tangents (their files hold <prefix>x__d_<param> next to x).
        self.tangents = dict(tangents or {})
        self.edges = {o.name: np.asarray(o.edges, float) for o in config.observables}
        paths = {
            s.name: list(files[s.name]) if files else config.sample_files(s)
            for s in config.samples
        }
        # Before ROOT opens any file: ROOT may crash on a corrupt one.
        self.inputs = inputs.validate(config, paths, source)
        data = config.data
        if data is not None:
            paths[data.name] = (
                list(files[data.name])
                if files and data.name in files
                else config.sample_files(data)
            )
            self._validate_data(data, paths[data.name])
        #: sample -> events read by its last event loop (none run yet: empty)
        self.events: dict[str, int] = {}
        #: the events skipped by every histogram of the last event loops
        self.skipped: Skipped = {}
        ROOT = rdf._import_root()
        declare_corrections(config, source)
        self._frames: list[_SampleFrames] = []
        for i, sample in enumerate(config.samples):
            where = f"samples[{i}]"
            self._frames.append(self._build(ROOT, where, sample, paths[sample.name]))
        if data is not None:
            self._frames.append(self._build(ROOT, "data", data, paths[data.name]))

    def _validate_data(self, data: DataSample, paths: Sequence[str]) -> None:
        """`inputs.validate` of the data's files (it reads the samples of a
        configuration: here one whose only sample is the data)."""
        as_sample = Sample.model_construct(
            name=data.name, files=list(paths), tree=data.tree, weight=data.weight
        )
        only = self.config.model_copy(update={"samples": [as_sample]})
        try:
            check = inputs.validate(only, {data.name: paths}, self.source)
        except InputError as e:
            old = f"{self.source}: samples[0] ({data.name})"
            msg = str(e).replace(old, f"{self.source}: data ({data.name})", 1)
            raise InputError(msg) from None
        self.inputs.entries.update(check.entries)
        self.inputs.branches.update(check.branches)
        self.inputs.seconds += check.seconds

    def _applies(self, sy: Any, sample: str) -> bool:
        """Whether a systematic acts on ``sample`` (never on the data)."""
        data = self.config.data
        return sy.applies_to(sample) and (data is None or sample != data.name)

    def variations(self, sample: str) -> list[str]:
        """The histogram variations of a sample: nominal, then <syst>_up/_down."""
        out = [NOMINAL]
        for sy in self.config.systematics:
            if isinstance(sy, NormSystematic) or not self._applies(sy, sample):
                continue
            out += [f"{sy.name}_up", f"{sy.name}_down"]
        return out

    @property
    def n_loops(self) -> int:
        """Event loops run so far (all samples together)."""
        return sum(f.ddf.n_loops for f in self._frames)

    @property
    def params(self) -> dict[str, float]:
        """The parameters of the last event loop (the configuration's before)."""
        if not self.reverse:
            return dict(self._frames[0].ddf.params)
        return dict(self._params)

    # ---- building -------------------------------------------------------------------

    def _build(
        self,
        ROOT: Any,
        where: str,
        sample: Sample | DataSample,
        paths: Sequence[str],
    ) -> _SampleFrames:
        from ..rdf import DiffFrame, _compiled

        cfg, src = self.config, self.source
        df = ROOT.RDataFrame(sample.tree, ROOT.std.vector["std::string"](paths))
        count = df.Count()  # filled by every loop, for the skipped fraction
        sumw = None
        if sample.xsec is not None:
            with config_key(src, f"{where}.weight (sum of weights for xsec)"):
                col = "diffana_cfg_sumw"
                node = _compiled(
                    "weight", sample.weight, lambda: df.Define(col, sample.weight)
                )
                sumw = node.Sum(col)
        with config_key(src, "parameters"):
            if self.reverse:
                forward, rev = netgrad.split_params(cfg, self.reverse, cfg.param_values)
                ddf = DiffFrame(df, forward, reverse=rev)
            else:
                ddf = DiffFrame(df, cfg.param_values)
        if sample.name in self.tangents:
            with config_key(src, f"{where} (the tangents of its input files)"):
                ddf = ddf.with_tangents(*self.tangents[sample.name])
        ddf = define_all(ddf, cfg, src, self.reverse)
        with config_key(src, f"{where}.weight"):
            ddf = ddf.define("diffana_cfg_w", sample.weight)
        ddf, renames, weights = self._define_variations(ddf, sample)
        # Observables (before the selections, so that every branch sees them; they
        # are computed only for events that pass).
        for var, ren in renames.items():
            for j, obs in enumerate(cfg.observables):
                key = f"observables[{j}].expression"
                if var != NOMINAL:
                    key += f" (varied by {var})"
                with config_key(src, key):
                    ddf = ddf.define(
                        _obs_column(obs.name, var), rename(obs.expression, ren)
                    )
        handles: dict[str, dict[str, Any]] = {o.name: {} for o in cfg.observables}
        for var, ren in renames.items():
            self._book_branch(ddf, where, sample, var, ren, weights, handles)
        order = self.variations(sample.name)
        handles = {c: {v: h[v] for v in order if v in h} for c, h in handles.items()}
        return _SampleFrames(sample, ddf, sumw, count, handles, list(paths))

    def _define_variations(
        self, ddf: Any, sample: Sample | DataSample
    ) -> tuple[Any, dict[str, dict[str, str]], dict[str, str]]:
        """Varied copies of the defines (column systematics) and the varied weights
        (weight systematics): the frame, variation -> {define: varied column}, and
        variation -> weight column."""
        cfg, src = self.config, self.source
        renames: dict[str, dict[str, str]] = {NOMINAL: {}}
        weights: dict[str, str] = {}
        # A network's column is varied like a define that uses a varied input.
        defines = {**cfg.defines, **network_defines(ddf, cfg, src, self.reverse)}
        for k, sy in enumerate(cfg.systematics):
            if not self._applies(sy, sample.name):
                continue
            directions: tuple[str, ...] = ("up", "down")
            if isinstance(sy, ColumnSystematic):
                directions = sy.directions  # a symmetrized down is derived later
            for direction in directions:
                var = f"{sy.name}_{direction}"
                if isinstance(sy, ColumnSystematic):
                    alt = getattr(sy, direction)
                    ren: dict[str, str] = {}
                    for name, expr in defines.items():
                        what = "networks" if name in cfg.networks else "defines"
                        if name in alt:
                            new, key = alt[name], f"systematics[{k}].{direction}.{name}"
                        elif uses(expr, list(ren)):
                            new = expr
                            key = f"{what}.{name} (varied by systematics[{k}])"
                        else:
                            continue
                        vname = f"{name}__{var}"
                        with config_key(src, key):
                            ddf = ddf.define(vname, rename(new, ren))
                        ren[name] = vname
                    renames[var] = ren
                elif isinstance(sy, WeightSystematic):
                    col = f"diffana_cfg_w_{var}"
                    with config_key(src, f"systematics[{k}].{direction}"):
                        ddf = ddf.define(col, getattr(sy, direction))
                    weights[var] = col
        return ddf, renames, weights

    def _book_branch(
        self,
        ddf: Any,
        where: str,
        sample: Sample | DataSample,
        var: str,
        ren: Mapping[str, str],
        weights: Mapping[str, str],
        handles: dict[str, dict[str, Any]],
    ) -> None:
        """The selections of one set of column renames and the histograms on them
        (the nominal branch also books the weight systematics')."""
        cfg, src = self.config, self.source
        node = select_all(ddf, cfg, src, ren)
        wcol = "diffana_cfg_w"
        if var != NOMINAL and uses(sample.weight, list(ren)):
            wcol = f"diffana_cfg_w_{var}"  # the weight uses a varied define
            with config_key(src, f"{where}.weight (varied by {var})"):
                node = node.define(wcol, rename(sample.weight, ren))
        books = [(var, wcol)]
        if var == NOMINAL:
            books += list(weights.items())
        for j, obs in enumerate(cfg.observables):
            onode = node
            if obs.weight is not None:  # the channel's own weight factor
                key = f"observables[{j}].weight"
                if var != NOMINAL:
                    key += f" (varied by {var})"
                with config_key(src, key):
                    onode = node.soft_filter(rename(obs.weight, ren))
            for v, w in books:
                with config_key(src, f"observables[{j}]"):
                    handles[obs.name][v] = onode.histo(
                        _obs_column(obs.name, var),
                        self.edges[obs.name],
                        weight=w,
                        bandwidth=obs.bandwidth,
                        overflow=obs.overflow,
                    )

    def _symmetrized(self, sample: str) -> list[str]:
        """The symmetrized column systematics of a sample (down = 2 nominal - up)."""
        return [
            sy.name
            for sy in self.config.systematics
            if isinstance(sy, ColumnSystematic)
            and sy.symmetrize
            and self._applies(sy, sample)
        ]

    # ---- running --------------------------------------------------------------------

    def _scale(self, fr: _SampleFrames) -> float:
        """A sample's factor: ``scale``, times ``xsec * lumi / sum of weights``."""
        if fr.scale is None:
            k = fr.sample.scale
            if fr.sumw is not None:
                # Files selected from larger ones record the sum over those
                # (diffana select --sumw): the cross-section normalises to it.
                recorded = self.inputs.sum_weights.get(fr.sample.name, {})
                sumw = recorded.get(fr.sample.weight)
                if sumw is None:
                    sumw = float(fr.sumw.GetValue())  # filled by the first loop
                if not (sumw > 0 and math.isfinite(sumw)):
                    msg = (
                        f"{self.source}: sample {fr.sample.name!r}: the sum of "
                        f"weights is {sumw}; cannot normalize to xsec"
                    )
                    raise ObjectiveError(msg)
                assert fr.sample.xsec is not None
                k *= fr.sample.xsec * self.config.lumi / sumw
            fr.scale = k
        return fr.scale

    def _run(self, fr: _SampleFrames) -> dict[str, dict[str, GradHistogram]]:
        """One sample's event loop: its raw histograms; ROOT's failures become
        `SampleError` naming the sample and its files."""
        from ..rdf import EventLoopError

        try:
            return {
                c: {v: h.result() for v, h in hs.items()}
                for c, hs in fr.handles.items()
            }
        except EventLoopError as e:
            shown = ", ".join(fr.paths[:3])
            if len(fr.paths) > 3:
                shown += f" and {len(fr.paths) - 3} more"
            msg = (
                f"{self.source}: sample {fr.sample.name!r} (tree "
                f"{fr.sample.tree!r} in {shown}): {e}"
            )
            raise SampleError(msg) from None

    def _check_skipped(self, name: str, skipped: dict[str, dict[str, int]]) -> None:
        """SkippedEventsError when a histogram of sample ``name`` skipped more than
        ``max_skipped_fraction`` of the sample's events."""
        events = self.events[name]
        limit = self.config.max_skipped_fraction
        for ch, by_var in skipped.items():
            for var, n in by_var.items():
                if n == 0 or n <= limit * events:
                    continue
                frac = n / events if events else 1.0
                msg = (
                    f"{self.source}: sample {name!r}, channel {ch!r}, variation "
                    f"{var!r}: {n} of {events} events ({frac:.3g}) were skipped "
                    "(a weight that is not finite, e.g. a division by zero, or a "
                    f"NaN observable), more than max_skipped_fraction = {limit:g}: "
                    "fix the expressions, or raise max_skipped_fraction in the "
                    "configuration to accept them"
                )
                raise SkippedEventsError(msg)

    def _frame_params(self, params: Mapping[str, float]) -> dict[str, Any]:
        """What the DiffFrames' ``set_params`` takes for ``params`` (remembered):
        with ``reverse`` networks every parameter so far, the weights as their
        reverse-mode vectors."""
        self._params = {**self._params, **params}
        if not self.reverse:
            return dict(params)
        forward, rev = netgrad.split_params(self.config, self.reverse, self._params)
        return {**forward, **rev}

    def histograms(self, params: Mapping[str, float]) -> Histograms:
        """Run the event loops at ``params`` (one per sample); scaled histograms.

        Raises `SampleError` when a loop fails inside ROOT and `SkippedEventsError`
        when a histogram skipped too many events (`skipped` and `events` then
        already hold that sample's counts)."""
        out: Histograms = {}
        values = self._frame_params(params)
        for fr in self._frames:
            fr.ddf.set_params(values)
            raw = self._run(fr)
            if self.reverse:
                raw = netgrad.padded(raw, self.config)
            name = fr.sample.name
            self.events[name] = int(fr.count.GetValue())  # filled by that loop
            self.skipped[name] = skipped_counts({name: raw})[name]
            self._check_skipped(name, self.skipped[name])
            k = self._scale(fr)
            out[name] = {
                c: {v: h.scaled(k) for v, h in hs.items()} for c, hs in raw.items()
            }
            symmetrized = self._symmetrized(name)
            if not symmetrized:
                continue
            order = self.variations(name)  # the down histograms in their place
            for c, hs in out[name].items():
                for syst in symmetrized:
                    hs[f"{syst}_down"] = hs[f"{syst}_up"].mirrored(hs[NOMINAL])
                out[name][c] = {v: hs[v] for v in order}
        return out

    def reverse_gradient(
        self,
        cotangents: Mapping[str, Mapping[str, Mapping[str, netgrad.Cotangent]]],
        histos: Histograms,
    ) -> dict[str, float]:
        """d(objective)/d(weight) for every weight of the networks in `reverse`,
        from the cotangents of the histograms `histograms` returned (``{sample:
        {channel: {variation: (d/d values, d/d variances)}}}``, left out: 0) at
        the parameters of that call: one adjoint event loop per sample
        (`diffana.analysis._network_gradient.reverse_gradient`)."""
        samples = [
            netgrad.SampleLoops(
                fr.sample.name,
                self._scale(fr),
                tuple(self._symmetrized(fr.sample.name)),
                fr.handles,
            )
            for fr in (self._frames if self.reverse else ())
        ]
        names = {n: self.config.network(n).param_names() for n in self.reverse}
        return netgrad.reverse_gradient(names, samples, cotangents, histos, NOMINAL)


def _obs_column(channel: str, variation: str) -> str:
    return f"diffana_cfg_obs_{channel}_{variation}"
