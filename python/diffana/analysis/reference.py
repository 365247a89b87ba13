# SPDX-License-Identifier: BSD-3-Clause
"""The configuration reference, ``docs/config.md``, written from the schema.

`render` walks `diffana.analysis.config.Config` and the models below it (samples,
parameters, observables, systematics, ...) and lists every key with its path, type
(with its bounds), default, unit and meaning (the field's ``description``; its unit
from ``json_schema_extra={"unit": ...}``). ``diffana config --reference`` prints it;
a test checks that ``docs/config.md`` is what it writes, so a new key is documented
by giving its field a description.

May import pydantic, `diffana.analysis.config` and ``_schema_*``,
`diffana.analysis.objectives` (the table).

Examples
--------
>>> text = render()
>>> text.splitlines()[0]
'# Configuration reference'
>>> "| `samples[].xsec` |" in text
True
"""

from __future__ import annotations

import enum
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ._schema_base import FiniteFloat, StrictBool, StrictInt
from .config import Config
from .objectives import OBJECTIVES

__all__ = ["COMMAND", "render"]

#: How docs/config.md is written.
COMMAND = "diffana config --reference > docs/config.md"

_HEADER = f"""# Configuration reference

<!-- Generated from the schema by `{COMMAND}`; do not edit by hand. -->

Every key of the YAML file that `diffana optimize`, `diffana evaluate` and
`diffana.analysis.load` read, with its type, default, unit and meaning. Paths are
written as in error messages: `samples[].xsec` is the `xsec` of every entry of
`samples`. A key without a default is required. The rules between keys (unique
names, at least one signal and one background sample, bounds that hold the value,
...) are in the docstring of `diffana.analysis.config`; the YAML rules (encodings,
numbers, names) too. A cabinetry configuration is converted with
`diffana config --from-cabinetry FILE --out DIFFANA_FILE`; the converted file then
needs the parameters to optimize.
"""


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """The type under ``Annotated`` and the metadata it carried."""
    meta: list[Any] = []
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp, meta = args[0], [*meta, *args[1:]]
    return tp, meta


def _members(tp: Any) -> list[Any]:
    """A union's members (None left out); ``[tp]`` for another type."""
    tp, _ = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [m for m in get_args(tp) if m is not type(None)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _bounds(meta: list[Any]) -> str:
    out = []
    for m in meta:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            v = getattr(m, attr, None)
            if isinstance(m, annotated_types.BaseMetadata) and v is not None:
                out.append(f"{sign} {v:g}")
        if isinstance(m, annotated_types.MinLen) and m.min_length > 0:
            out.append(f"at least {m.min_length}")
        if isinstance(m, FieldInfo):
            out.append(_bounds(list(m.metadata)))
    return ", ".join(o for o in out if o)


def _type(tp: Any) -> str:
    """A type in YAML's words."""
    if tp is FiniteFloat or tp is float:
        return "number"
    if tp is StrictInt or tp is int:
        return "integer"
    if tp is StrictBool or tp is bool:
        return "boolean"
    inner, _ = _strip(tp)
    if inner is not tp:
        return _type(inner)
    if tp is str:
        return "string"
    if _is_model(tp):
        return f"mapping ({tp.__name__})"
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        parts = [_type(a) for a in args if a is not type(None)]
        text = " or ".join(parts)
        return f"{text} or null" if type(None) in args else text
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_type(a) for a in args) + "]"
    if origin is dict:
        return f"mapping {_type(args[0])} → {_type(args[1])}"
    return getattr(tp, "__name__", str(tp))  # pragma: no cover - every type above


def _value(v: Any) -> str:
    if v is None:
        return "`null`"
    if isinstance(v, bool):
        return "`true`" if v else "`false`"
    if isinstance(v, enum.Enum):
        v = v.value
    if isinstance(v, (list, tuple)):
        return "`[" + ", ".join(_value(x).strip("`") for x in v) + "]`"
    if isinstance(v, dict):
        return "`{}`" if not v else f"`{v}`"
    if isinstance(v, BaseModel):
        return "(its keys' defaults)"
    if isinstance(v, float):
        return f"`{v:g}`"
    if isinstance(v, str):
        return f"`{v}`"
    return f"`{v}`"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return _value(field.default_factory())  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "required"
    return _value(field.default)


def _unit(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rows(
    model: type[BaseModel], prefix: str, sections: list[tuple[str, type[BaseModel]]]
) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        tp = field.annotation
        kind = _type(tp)
        bounds = _bounds([*field.metadata, *_strip(tp)[1]])
        if bounds:
            kind += f" ({bounds})"
        meaning = field.description or ""
        if model.__name__ == "Objective" and name == "type":
            meaning += " One of: " + ", ".join(f"`{n}`" for n in OBJECTIVES) + "."
        rows.append(
            f"| `{path}` | {_cell(kind)} | {_default(field)} | {_unit(field)} "
            f"| {_cell(meaning)} |"
        )
        inner, _ = _strip(tp)
        origin = get_origin(inner)
        # list entries: path[].key; mapping values (corrections): path.<name>.key
        elem = get_args(inner)[-1] if origin in (list, dict) else tp
        sub = {list: f"{path}[].", dict: f"{path}.<name>."}.get(origin, f"{path}.")
        for member in _members(elem):
            if _is_model(member):
                sections.append((sub, member))
    return rows


def _title(prefix: str, model: type[BaseModel]) -> str:
    tag = ""
    for name, field in model.model_fields.items():
        inner, _ = _strip(field.annotation)
        if name == "type" and get_origin(inner) is Literal:
            tag = f" (`type: {get_args(inner)[0]}`)"
    return f"## `{prefix.rstrip('.')}`{tag}: {model.__name__}"


def render() -> str:
    """The Markdown of ``docs/config.md``: a table per section of the
    configuration (the top level, then each nested model in the order met)."""
    lines = [_HEADER]
    head = ["| key | type | default | unit | meaning |", "|---|---|---|---|---|"]
    sections: list[tuple[str, type[BaseModel]]] = []
    lines += ["## Top level", "", *head, *_rows(Config, "", sections), ""]
    done: set[tuple[str, type[BaseModel]]] = set()
    while sections:
        prefix, model = sections.pop(0)
        if (prefix, model) in done:
            continue
        done.add((prefix, model))
        doc = " ".join((model.__doc__ or "").split("\n\n")[0].split())
        lines += [_title(prefix, model), "", doc, "", *head]
        lines += [*_rows(model, prefix, sections), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
