# SPDX-License-Identifier: BSD-3-Clause
"""Reading correctionlib files: `load` returns one validated correction.

The JSON (plain or gzipped), a dict or correctionlib's own objects are validated by
correctionlib's pydantic schema (`correctionlib.schemav2`), so diffana accepts exactly
the files correctionlib accepts.

May import: correctionlib, ``diffana.correction._formula`` (`CorrectionError`).
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from typing import Any, Union

from correctionlib import schemav2 as cs

from ._formula import CorrectionError

__all__ = ["Compound", "Resolved", "Source", "load", "read", "resolve"]

Source = Union[str, "os.PathLike[str]", dict[str, Any], cs.Correction, cs.CorrectionSet]


def read(source: Source) -> cs.CorrectionSet:
    """The whole correction set of ``source`` (see `load`)."""
    if isinstance(source, cs.CorrectionSet):
        return source
    if isinstance(source, cs.Correction):
        return cs.CorrectionSet(schema_version=2, corrections=[source])
    if isinstance(source, dict):
        if "corrections" in source:
            return cs.CorrectionSet.model_validate(source)
        return cs.CorrectionSet(
            schema_version=2, corrections=[cs.Correction.model_validate(source)]
        )
    path = os.fspath(source)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        msg = f"cannot read the correction file {path!r}: {err.strerror}"
        raise CorrectionError(msg) from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return cs.CorrectionSet.model_validate_json(raw)
    except ValueError as err:
        first = str(err).splitlines()
        msg = f"{path!r} is not a correctionlib (schema v2) file: " + " ".join(
            first[:3]
        )
        raise CorrectionError(msg) from None


@dataclass(frozen=True)
class Compound:
    """A compound correction (``compound``) with the corrections of its ``stack``
    (``parts``), checked: each exists, takes only inputs of the compound, and the
    inputs it updates are real."""

    compound: cs.CompoundCorrection
    parts: tuple[cs.Correction, ...]

    @property
    def name(self) -> str:
        return self.compound.name


Resolved = cs.Correction | Compound


def load(source: Source, correction: str | None = None) -> Resolved:
    """The correction ``correction`` of ``source`` (a JSON or gzipped JSON file, a
    dict, a `correctionlib.schemav2` CorrectionSet or Correction), validated by
    correctionlib's schema: a ``Correction``, or a `Compound` (a compound correction
    with its parts). ``correction`` may be omitted when the set holds only one.

    Examples
    --------
    >>> from correctionlib import schemav2 as cs
    >>> c = cs.Correction(name="sf", version=1, inputs=[cs.Variable(name="x",
    ...     type="real")], output=cs.Variable(name="w", type="real"), data=1.5)
    >>> load(c).name
    'sf'
    """
    return resolve(read(source), correction)


def resolve(cset: cs.CorrectionSet, correction: str | None) -> Resolved:
    """`load` on a correction set already read."""
    names = [c.name for c in cset.corrections]
    compound = list(cset.compound_corrections or [])
    if correction is None:
        if len(names) == 1 and not compound:
            return cset.corrections[0]
        everything = names + [c.name for c in compound]
        msg = f"the file holds several corrections {everything}: choose one"
        raise CorrectionError(msg + " (correction=)")
    for c in cset.corrections:
        if c.name == correction:
            return c
    for cc in compound:
        if cc.name == correction:
            return Compound(cc, _parts(cset, cc))
    msg = f"no correction {correction!r} in the file; it holds {names}"
    if compound:
        msg += f" and the compound corrections {[c.name for c in compound]}"
    raise CorrectionError(msg)


def _parts(
    cset: cs.CorrectionSet, cc: cs.CompoundCorrection
) -> tuple[cs.Correction, ...]:
    by_name = {c.name: c for c in cset.corrections}
    kinds = {v.name: v.type for v in cc.inputs}
    for name in cc.inputs_update:
        if kinds.get(name) != "real":
            msg = f"compound correction {cc.name!r}: updated input {name!r} is not real"
            raise CorrectionError(msg)
    out = []
    for name in cc.stack:
        if name not in by_name:
            msg = f"compound correction {cc.name!r}: no correction {name!r} in the file"
            raise CorrectionError(msg)
        for v in by_name[name].inputs:
            if v.name not in kinds:
                msg = (
                    f"compound correction {cc.name!r}: its part {name!r} takes input "
                    f"{v.name!r}, which the compound does not have"
                )
                raise CorrectionError(msg)
        out.append(by_name[name])
    return tuple(out)
