# SPDX-License-Identifier: BSD-3-Clause
"""What a HistFactory modifier type is made of, and what it is given to build with.

- `Modifier`: one pyhf modifier type. It declares the arrays its entries carry
  (`Field`), asks for its parameter set (`ParamRequest`, pyhf's paramset
  defaults, after checking how the entries are used), may compute its constraint
  from the yields (``staterror``, ``shapesys``), and names the `Effect` that
  applies it.
- `Effect`: how parameters change the expected yields. It fills the static index
  tables of all the modifiers that use it (`Entry`) and applies them; modifier
  types with the same effect share one table (``lumi`` and ``normfactor``
  multiply by one parameter, ``staterror``, ``shapesys`` and ``shapefactor`` by a
  parameter per bin), which keeps the compiled model small.
- `Layout`: where the channels, samples and arrays of a workspace sit.

Imports `.._common` only.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from .._common import Array, Table, _fail

Kind = Literal["free", "normal", "poisson"]
# (channel, sample) -> (channel index, sample index, {(modifier name, type): index})
Lookup = dict[tuple[str, str], tuple[int, int, dict[tuple[str, str], int]]]


@dataclasses.dataclass(frozen=True)
class Field:
    """An array in a modifier's ``data``: ``data`` itself (key ``"data"``) or ``data[key]``.

    The array is checked (finite; >= 0, > 0 with ``positive``, any sign with
    ``signed``) and becomes a leaf of the model: it may be a JAX array and is differentiated through.
    """

    key: str
    per_bin: bool  # one value per bin of the channel, else a number
    positive: bool = False
    # Yields that may be negative (as sample data may: pyhf takes any number).
    signed: bool = False


@dataclasses.dataclass(frozen=True)
class ParamRequest:
    """The parameter set a modifier needs: pyhf's defaults, before the measurement's
    parameter configuration (inits, bounds, fixed, auxdata, sigmas) is applied."""

    kind: Kind  # the constraint: none, Gaussian or Poisson
    n: int
    inits: tuple[float, ...]
    bounds: tuple[tuple[float, float], ...]
    auxdata: tuple[float, ...] | None = None
    sigmas: tuple[float, ...] | None = None
    # One parameter per bin (named ``name[i]``), even where there is one bin.
    per_bin: bool = False
    # The constraint comes from the yields (`Modifier.constraint_from_yields`),
    # which is given the yields at these flat-vector indices, as (samples, n),
    # padded with the index of a zero.
    from_yields: bool = False
    nom_idx: Table = ()
    unc_idx: Table = ()
    # channel -> index (within the set) of the parameter of its first bin
    bin_offsets: Mapping[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """Where things sit in a workspace and in the model's flat vector of arrays.

    The flat vector holds every array of the workspace, then a 0 (at ``zero``) and
    a 1 (at ``one``); the model's tables are over (sample, global bin), channels
    and samples in sorted order.
    """

    nbins: Mapping[str, int]  # channel -> number of bins
    channels: tuple[str, ...]  # sorted
    samples: tuple[str, ...]  # sorted
    lookup: Lookup
    offsets: Mapping[str, int]  # array key -> flat index of its first value
    zero: int
    one: int
    nom: np.ndarray  # (S, B) flat index of each nominal yield (or of the 0)

    @property
    def shape(self) -> tuple[int, int]:
        """(samples, global bins): the shape of one index table."""
        return self.nom.shape[0], self.nom.shape[1]

    def row(self, sample: str) -> int:
        return self.samples.index(sample)

    def cols(self, channel: str) -> slice:
        """The global bins of ``channel``."""
        start = 0
        for c in self.channels:
            if c == channel:
                return slice(start, start + self.nbins[c])
            start += self.nbins[c]
        raise KeyError(channel)

    def nominal(self, channel: str, sample: str) -> int:
        """Flat index of the first nominal yield of ``sample`` in ``channel``."""
        ci, si, _ = self.lookup[(channel, sample)]
        return self.offsets[f"{ci}/{si}/data"]

    def field(self, channel: str, sample: str, name: str, mtype: str, key: str) -> int:
        """Flat index of the first value of field ``key`` of modifier (name, type)."""
        ci, si, mods = self.lookup[(channel, sample)]
        return self.offsets[f"{ci}/{si}/{mods[(name, mtype)]}/{key}"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One parameter set as applied by one modifier type: what an `Effect` fills."""

    name: str
    mtype: str
    offset: int  # index of its first parameter in the parameter vector
    where: tuple[tuple[str, str], ...]  # the (channel, sample) it applies to
    bin_offsets: Mapping[str, int]  # see `ParamRequest`


class Effect(abc.ABC):
    """How the parameters of some modifier types change the expected yields.

    An effect's tables are index arrays with a first axis of one row per `Entry`;
    they are static (part of the model's structure under jit). ``apply`` returns
    a (samples, bins) array: added to the nominal yields if ``additive``, else
    multiplied into the product of factors. Effects are applied additive ones
    first, each group in ``rank`` order: a fixed order, so that a model's numbers
    do not depend on which modifier types it uses or on the table's order.
    """

    name: ClassVar[str]
    additive: ClassVar[bool]
    rank: ClassVar[int]

    @abc.abstractmethod
    def fill(self, entries: Sequence[Entry], layout: Layout) -> dict[str, np.ndarray]:
        """The index tables (int64 arrays) for ``entries``, in parameter order."""

    @abc.abstractmethod
    def apply(
        self, tables: Mapping[str, np.ndarray], flat: Array, pars: Array, nom: Array
    ) -> Array:
        """The (samples, bins) delta or factor for parameters ``pars``.

        ``flat`` is the flat vector of arrays, ``nom`` the nominal yields with the
        additive effects applied so far.
        """

    # Effects have no state: any two of one class are the same effect (the model's
    # static structure holds them and is compared and hashed under jit).
    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self).__qualname__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Modifier(abc.ABC):
    """A HistFactory modifier type: a row of `diffana.stats.modifiers.histfactory_set`.

    ``mtype`` is pyhf's type name, ``fields`` the arrays each entry carries,
    ``effect`` how its parameters act (with pyhf's default settings;
    ``interpcodes`` lists the alternatives), and ``shares_parameters`` whether its
    parameters may also be used by other modifier types that share parameters
    (pyhf merges them into one parameter set, which must be defined alike).
    """

    mtype: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]] = ()
    effect: ClassVar[Effect]
    shares_parameters: ClassVar[bool] = False
    # pyhf's ``modifier_settings`` for this type: the effect of each
    # ``interpcode`` it accepts (empty: the type takes no settings), and the
    # code pyhf's applier falls back to where ``modifier_settings`` is given but
    # has no entry for the type (``effect`` is the one without any settings).
    interpcodes: ClassVar[Mapping[str, Effect]] = {}
    fallback_interpcode: ClassVar[str] = ""

    def parameter_order(self, names: list[str]) -> list[str]:
        """pyhf's order of this type's parameter sets, given in first-use order
        (over sorted channels, sorted samples and sorted (name, type))."""
        return names

    @abc.abstractmethod
    def request(
        self,
        name: str,
        where: Sequence[tuple[str, str]],
        layout: Layout,
        config: Mapping[str, Any],
    ) -> ParamRequest:
        """The parameter set ``name`` needs, after checking how it is used.

        Parameters
        ----------
        name : str
            The modifier (and parameter set) name.
        where : sequence of (channel, sample)
            Every place the modifier is used, channels and samples sorted.
        layout : Layout
        config : mapping
            The measurement's configuration of ``name`` (may be empty).

        Raises
        ------
        ValueError
            ``invalid workspace: ...`` for a use pyhf does not allow.
        """

    def constraint_from_yields(
        self, nom: Array, unc: Array
    ) -> tuple[Array, Array | None, Array]:
        """(scale, auxdata or None, held) from the yields, for ``from_yields`` sets.

        ``nom`` and ``unc`` are (samples, n): the nominal yields and the
        uncertainties behind each parameter. ``scale`` is the Gaussian sigma or
        the Poisson factor; ``held`` marks the parameters pyhf fixes.
        """
        msg = f"{self.mtype}: the constraint does not come from the yields"
        raise NotImplementedError(msg)


def channel_offsets(
    mtype: str, name: str, where: Sequence[tuple[str, str]], layout: Layout
) -> tuple[list[str], dict[str, int], int]:
    """A per-bin parameter set over whole channels: (channels, bin offsets, size).

    Every sample with the modifier must cover the same channels; the set holds
    one parameter per bin of each, channels in sorted order.
    """
    chans = sorted({c for c, _ in where})
    by_sample: dict[str, set[str]] = {}
    for c, s in where:
        by_sample.setdefault(s, set()).add(c)
    if any(v != set(chans) for v in by_sample.values()):
        raise _fail(f"{mtype} {name!r} must cover the same channels in every sample")
    offsets: dict[str, int] = {}
    n = 0
    for c in chans:
        offsets[c] = n
        n += layout.nbins[c]
    return chans, offsets, n
