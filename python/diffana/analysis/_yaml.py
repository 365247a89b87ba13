# SPDX-License-Identifier: BSD-3-Clause
"""Reading a configuration's YAML safely: `decode` (UTF-8, or UTF-16 with a
byte-order mark; anything else is an error naming the line) and `parse` (PyYAML's
safe loader, refusing duplicate keys at any depth with both lines named, nesting
deeper than 64 levels and integers too long for Python), every failure one
`ConfigError` line that starts with the file or ``--set`` item.

May import yaml, the standard library, `diffana.analysis._errors` and
``_schema_base`` (key paths and the display of values).
"""

from __future__ import annotations

import codecs
from typing import Any

import yaml

from ._errors import ConfigError
from ._schema_base import key_path, shown

__all__ = ["decode", "parse"]

#: A key path in the raw configuration: dict keys and list indices.
KeyPath = tuple[str | int, ...]

#: How deep mappings and lists may nest (a configuration needs 4 levels); deeper
#: YAML is refused before PyYAML's recursive composer overflows the stack.
_MAX_DEPTH = 64

_MERGE = "tag:yaml.org,2002:merge"


class _Refused(yaml.YAMLError):  # type: ignore[misc]  # yaml has no stubs
    """YAML that parses but is refused; the message starts with the key path."""


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # yaml has no stubs
    """PyYAML's safe loader that refuses duplicate keys (PyYAML keeps the last),
    nesting deeper than `_MAX_DEPTH` and integers too long for `int`."""

    def __init__(self, stream: str, prefix: KeyPath = ()) -> None:
        super().__init__(stream)
        self._depth = 0
        self._prefix = prefix

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                mark = self.peek_event().start_mark
                msg = f"nested deeper than {_MAX_DEPTH} levels"
                raise yaml.composer.ComposerError(None, None, msg, mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node: Any) -> Any:
        self._check_keys(node)
        return super().construct_document(node)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # PyYAML's scalar constructors raise Python's errors for values that do not
        # fit an explicit tag (``!!int ''``, ``!!timestamp 2001-02-30``) and for
        # integers over Python's 4300 digits.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, LookupError, AttributeError, OverflowError):
            digits = sum(c.isdigit() for c in str(node.value))
            if node.tag == "tag:yaml.org,2002:int" and digits > 4000:
                msg = f"an integer of {digits} digits is too long"
            else:
                tag = node.tag.removeprefix("tag:yaml.org,2002:")
                msg = f"cannot read {shown(node.value)} as {tag}"
            raise yaml.constructor.ConstructorError(
                None, None, msg, node.start_mark
            ) from None

    def _check_keys(self, root: Any) -> None:
        """Refuse a key given twice in one mapping, at any depth (without recursion;
        a node reached again through an alias is checked once)."""
        stack: list[tuple[Any, KeyPath]] = [(root, self._prefix)]
        seen: set[int] = set()
        while stack:
            node, path = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                stack += [(v, (*path, i)) for i, v in enumerate(node.value)]
            elif isinstance(node, yaml.MappingNode):
                marks: dict[Any, Any] = {}
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE:
                        key = self.construct_object(k)
                        here = (*path, str(key))
                        if key in marks:
                            at = _at(marks[key], k.start_mark)
                            raise _Refused(f"{key_path(here)}: duplicate key {at}")
                        marks[key] = k.start_mark
                        stack.append((v, here))


def _at(a: Any, b: Any) -> str:
    if a.line == b.line:
        return f"(line {a.line + 1}, columns {a.column + 1} and {b.column + 1})"
    return f"(lines {a.line + 1} and {b.line + 1})"


def parse(text: str, where: str, prefix: KeyPath = ()) -> tuple[bool, Any]:
    """(whether ``text`` holds a YAML document, its data); a `ConfigError` that
    starts with ``where`` for YAML it cannot read, in one line."""
    loader = None
    try:
        loader = _Loader(text, prefix)
        node = loader.get_single_node()
        return node is not None, (loader.construct_document(node) if node else None)
    except _Refused as e:
        msg = f"{where}: {e}"
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = "; ".join(x for x in (e.context, e.problem) if x)
        msg = f"{where}: {at}not valid YAML: {what}"
    except yaml.reader.ReaderError as e:  # a control character
        line = text.count("\n", 0, e.position) + 1
        column = e.position - text.rfind("\n", 0, e.position)
        msg = (
            f"{where}: line {line}, column {column}: not valid YAML: character "
            f"U+{e.character:04X} is not allowed in YAML"
        )
    finally:
        if loader is not None:
            loader.dispose()
    raise ConfigError(msg)


def decode(data: bytes, where: str) -> str:
    """The text of a configuration file: UTF-8 (with or without a byte-order mark)
    or UTF-16 with a byte-order mark."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        msg = (
            f"{where}: line {line}: not {'UTF-16' if utf16 else 'UTF-8'} text (byte "
            f"{e.object[e.start]:#04x} at offset {e.start}); save the file as UTF-8"
        )
        raise ConfigError(msg) from None
