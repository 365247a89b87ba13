# SPDX-License-Identifier: BSD-3-Clause
"""What every model of the configuration schema shares: the strict base model, the
checks of names and expressions, and the translation of pydantic's errors into one
line per problem that names the key (``samples[0].weigth: unknown key; did you mean
'weight'?``).

An unknown key, at any level, gets the closest known key of its model as a hint
(difflib); keys renamed to the ecosystem's spelling (`RENAMED_KEYS`) always point at
their new name.

May import pydantic, the standard library and `diffana._checks` (numpy only).

Examples
--------
>>> from pydantic import ValidationError
>>> class Opt(Model):
...     steps: int = 1
>>> try:
...     Opt.model_validate({"stpes": 2})
... except ValidationError as err:
...     print(problems(err, Opt)[0].text)
stpes: unknown key; did you mean 'steps'?
"""

from __future__ import annotations

import dataclasses
import difflib
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import _checks

__all__ = [
    "RENAMED_KEYS",
    "Model",
    "Name",
    "Problem",
    "did_you_mean",
    "expression",
    "identifier",
    "key_path",
    "problems",
]


#: Keys spelt the British way before the configuration took the ecosystem's
#: spelling (optax's ``optimizer``): old key -> new key.
RENAMED_KEYS = {"optimiser": "optimizer", "optimise": "optimize"}

Name = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """A schema model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def identifier(v: str) -> str:
    """``v`` if it is a C++ identifier outside diffana's reserved ``diffana_`` prefix.

    Examples
    --------
    >>> identifier("disc_cut")
    'disc_cut'
    """
    return _checks.identifier(v, what="")


def expression(v: str) -> str:
    """``v`` if it is not blank (the compiler checks the rest when the analysis is
    built)."""
    if not v.strip():
        msg = "an expression must not be empty"
        raise ValueError(msg)
    return v


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the known name closest to ``key`` (a renamed key
    first), or ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("optimiser", ["lumi", "optimizer"])
    "; did you mean 'optimizer'?"
    >>> did_you_mean("zzz", ["lumi"])
    ''
    """
    names = list(known)
    renamed = RENAMED_KEYS.get(key)
    if renamed in names:
        return f"; did you mean {renamed!r}?"
    close = difflib.get_close_matches(key, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def key_path(keys: Sequence[str | int]) -> str:
    """A key path as the messages write it.

    Examples
    --------
    >>> key_path(["samples", 0, "files"])
    'samples[0].files'
    """
    out = ""
    for part in keys:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem of a configuration: its key path (union tags left out) and the
    line that reports it."""

    keys: tuple[str | int, ...]
    text: str


def problems(
    err: ValidationError, root: type[BaseModel], nested: bool = False
) -> list[Problem]:
    """The problems of a failed validation of ``root``, one per distinct line.

    ``nested``: a validation inside a validator (the line of a problem of the whole
    model is then its message alone).
    """
    errors = err.errors()
    if len(errors) > 1:  # a union's other branch: "should be a valid dictionary"
        errors = [e for e in errors if e["type"] not in ("model_type", "dict_type")]
    out: dict[str, Problem] = {}
    for e in errors:
        keys, container = _walk(root, tuple(e["loc"]))
        msg = str(e["msg"])
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
            if keys and isinstance(keys[-1], str):
                msg += did_you_mean(keys[-1], _known_keys(container))
        elif e["type"] == "missing":
            msg = "missing key"
        msg = msg.removeprefix("Value error, ")
        loc = key_path(keys)
        text = msg if nested and not loc else f"{loc or '(top level)'}: {msg}"
        out.setdefault(text, Problem(tuple(keys), text))
    return list(out.values())


# ---- walking the schema along an error's location ---------------------------------


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tags(tp: Any) -> set[str]:
    """The names pydantic may give a union member in a location: its type's name and,
    for a model, the values of its one-value Literal fields (a discriminator)."""
    out = {repr(tp) if get_origin(tp) else getattr(tp, "__name__", repr(tp))}
    if _is_model(tp):
        for field in tp.model_fields.values():
            ann = _strip(field.annotation)
            if get_origin(ann) is Literal and len(get_args(ann)) == 1:
                out.add(str(get_args(ann)[0]))
    return out


def _step(tp: Any, part: str | int) -> tuple[Any, bool]:
    """The type that ``part`` of a location leads to from ``tp`` (None: unknown), and
    whether ``part`` was a union's tag rather than a key."""
    tp = _strip(tp)
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        members = [_strip(m) for m in get_args(tp) if m is not type(None)]
        for m in members:
            if isinstance(part, str) and part in _tags(m):
                return m, True
        for m in members:
            nxt, _ = _step(m, part)
            if nxt is not None:
                return nxt, False
        return None, isinstance(part, str) and "[" in part
    if _is_model(tp):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return (None if field is None else field.annotation), False
    if origin in (list, tuple) and isinstance(part, int):
        args = get_args(tp)
        return (args[min(part, len(args) - 1)] if args else None), False
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1], False
    return None, False


def _walk(root: Any, loc: tuple[Any, ...]) -> tuple[list[str | int], Any]:
    """The key path of an error's location and the type holding its last key."""
    keys: list[str | int] = []
    tp, container = root, root
    for part in loc:
        container = tp
        nxt, tag = _step(tp, part) if tp is not None else (None, False)
        if not tag and not (isinstance(part, str) and "[" in part):
            keys.append(part)
        tp = nxt
    return keys, container


def _known_keys(container: Any) -> list[str]:
    tp = _strip(container)
    if not _is_model(tp):
        return []
    return [n for n, f in tp.model_fields.items() if not f.exclude]
