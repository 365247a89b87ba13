# SPDX-License-Identifier: BSD-3-Clause
"""What every model of the configuration schema shares: the strict base model, the
checks of names and expressions, and the translation of pydantic's errors into one
line per problem that names the key (``samples[0].weigth: unknown key; did you mean
'weight'?``).

An unknown key, at any level, gets the closest known key of its model as a hint
(difflib); keys renamed to the ecosystem's spelling (`RENAMED_KEYS`) always point at
their new name.

Numbers and switches are strict (`FiniteFloat`, `StrictInt`, `StrictBool`): a
boolean or a string is never a number (YAML's ``true`` is not 1 bin) nor a number
a switch, an int is fine where a float belongs, and
every float is finite. The one string read as a number is a float in exponent form
without a dot (``1e-3``, ``5E+2``): YAML 1.1, which PyYAML follows, reads it as a
string, and it is how floats are usually written.

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
import math
import re
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from .. import _checks

__all__ = [
    "RENAMED_KEYS",
    "FiniteFloat",
    "Model",
    "Name",
    "Problem",
    "StrictBool",
    "StrictInt",
    "did_you_mean",
    "expression",
    "identifier",
    "key_path",
    "problems",
    "shown",
]


#: Keys spelt the British way before the configuration took the ecosystem's
#: spelling (optax's ``optimizer``): old key -> new key.
RENAMED_KEYS = {"optimiser": "optimizer", "optimise": "optimize"}

Name = Annotated[str, Field(min_length=1)]

# A float in exponent form that YAML 1.1 reads as a string (no dot, or no digit
# after it): 1e-3, 5E+2, 2.e3. Those with a dot and a digit (1.0e-3) are floats.
_EXPONENT_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _finite_float(v: Any) -> Any:
    # Before the bounds (gt=0): NaN is then "not finite", not "not greater than 0".
    if isinstance(v, str) and _EXPONENT_FLOAT.fullmatch(v.strip()):
        v = float(v)
    if isinstance(v, float) and not math.isfinite(v):
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    return v


#: A finite float of the configuration: an int is fine, a bool or a string (but
#: one in exponent form, ``1e-3``) is not, nor NaN or an infinity.
FiniteFloat = Annotated[
    float, BeforeValidator(_finite_float), Strict(), AllowInfNan(False)
]

#: An int of the configuration: not a bool, a float or a string.
StrictInt = Annotated[int, Strict()]

#: A switch of the configuration: ``true`` or ``false``, not 1, 0 or "yes".
StrictBool = Annotated[bool, Strict()]


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
    >>> key_path(["defines", "a b"])
    "defines.'a b'"
    """
    out = ""
    for part in keys:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _PLAIN_KEY.fullmatch(part) else shown(part)
            out += f".{text}" if out else text
    return out


#: A key written as it is in messages; others are quoted (spaces, newlines, dots).
_PLAIN_KEY = re.compile(r"[\w-]{1,60}")


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
    walked = [(e, *_walk(root, tuple(e["loc"]))) for e in err.errors()]
    out: dict[str, Problem] = {}
    for e, keys, container in walked:
        if e["type"] in ("model_type", "dict_type") and any(
            other is not e and tuple(k[: len(keys)]) == tuple(keys)
            for other, k, _ in walked
        ):
            continue  # a union's other branch: "should be a valid dictionary"
        msg = str(e["msg"])
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
            if keys and isinstance(keys[-1], str):
                msg += did_you_mean(keys[-1], _known_keys(container))
        elif e["type"] == "missing":
            msg = "missing key"
        elif e["type"] in _SCALAR_ERRORS:
            msg += f", got {shown(e.get('input'))}"
        msg = msg.removeprefix("Value error, ")
        loc = key_path(keys)
        text = msg if nested and not loc else f"{loc or '(top level)'}: {msg}"
        out.setdefault(text, Problem(tuple(keys), text))
    return list(out.values())


#: The errors of a scalar of the wrong type or value, whose message gains the input.
_SCALAR_ERRORS = {"float_type", "int_type", "bool_type", "finite_number", "string_type"}


def _digits(n: int) -> int:
    """The number of decimal digits of ``n`` >= 1, without str() (which refuses
    more than 4300 digits)."""
    d = max(1, int(n.bit_length() * math.log10(2)))
    while 10**d <= n:
        d += 1
    return d


def shown(v: Any) -> str:
    """A short description of a value for a message, in YAML's words.

    Examples
    --------
    >>> shown(True), shown("3"), shown(float("nan")), shown(10**5000)
    ('true', "'3'", 'nan', 'an integer of 5001 digits')
    """
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        if v.bit_length() > 200:  # str() of a huge int is slow, then refused
            return f"an integer of {_digits(abs(v))} digits"
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return repr(v) if len(v) <= 40 else repr(v[:37]) + "..."
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, (list, tuple)):
        return "a list"
    return f"a {type(v).__name__}"


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
    if get_origin(tp) in (Union, types.UnionType):
        # An optional section (``data: DataSample | None``): its model's keys.
        return [k for m in get_args(tp) for k in _known_keys(m)]
    if not _is_model(tp):
        return []
    return [n for n, f in tp.model_fields.items() if not f.exclude]
