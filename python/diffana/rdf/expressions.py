# SPDX-License-Identifier: BSD-3-Clause
"""The one rewriter of names in C++ expressions.

DiffFrame inlines parameters into expressions, and a column systematic points the
expressions of a variation at varied columns; both replace *free* identifiers: names
that stand for a column or a parameter, as RDataFrame's own column substitution would
see them. A small tokenizer (not a regular expression) decides what is free, so that
``450>mjj`` and ``mjj < 450`` are treated alike:

- a name after ``.``, ``->`` or ``::`` is a member or a qualified name (``obj.mjj``,
  ``a->mjj``, ``x::mjj``); a name before ``::`` is a namespace or a class;
- names inside string or character literals (raw strings too) and comments are text;
- ``mjj2`` is not ``mjj``, ``1e5`` and ``0x1f`` are numbers, not names.

This module imports nothing of diffana: the analysis layer uses it as well.

Examples
--------
>>> from diffana.rdf.expressions import rename, free_names
>>> rename("450>mjj && obj.mjj > 0", {"mjj": "mjj_up"})
'450>mjj_up && obj.mjj > 0'
>>> sorted(free_names('std::abs(eta) < 2.4 && tag == "pt" /* pt */'))
['eta', 'tag']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

__all__ = ["Token", "free_names", "rename", "tokenize", "uses"]

_IDENT = re.compile(r"[A-Za-z_]\w*")
# A preprocessing number: a digit (or . digit), then letters, digits, dots, digit
# separators and signed exponents (1e-5, 0x1p+3, 1'000).
_NUMBER = re.compile(r"\.?\d(?:[eEpP][+-]|[\w.'])*")
_SPACE = re.compile(r"\s+")
_LINE_COMMENT = re.compile(r"//[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_RAW_STRING = re.compile(r'(?:u8|[uUL])?R"([^()\\\s]{0,16})\(.*?\)\1"', re.DOTALL)
_STRING = re.compile(r'(?:u8|[uUL])?"(?:\\.|[^"\\\n])*"?')
_CHAR = re.compile(r"(?:u8|[uUL])?'(?:\\.|[^'\\\n])*'?")
# Longest first, so that `->` is never read as `-` then `>` (maximal munch).
_PUNCT = re.compile(
    r"->\*|<=>|<<=|>>=|\.\.\.|->|::|\.\*|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||"
    r"[-+*/%^&|]=|[^\w\s]"
)


@dataclass(frozen=True)
class Token:
    """One token: its kind (``name``, ``number``, ``string``, ``char``,
    ``comment``, ``space`` or ``punct``), its text and where it starts."""

    kind: str
    text: str
    start: int


def tokenize(expr: str) -> Iterator[Token]:
    """The tokens of ``expr``, in order; their texts concatenate to ``expr``.

    Unterminated literals and comments run to the end (the compiler reports them).
    """
    pos, n = 0, len(expr)
    matchers: tuple[tuple[str, re.Pattern[str]], ...] = (
        ("space", _SPACE),
        ("comment", _LINE_COMMENT),
        ("comment", _BLOCK_COMMENT),
        ("string", _RAW_STRING),
        ("string", _STRING),
        ("char", _CHAR),
        ("number", _NUMBER),
        ("name", _IDENT),
        ("punct", _PUNCT),
    )
    while pos < n:
        for kind, pattern in matchers:
            m = pattern.match(expr, pos)
            if m and m.end() > pos:
                yield Token(kind, m.group(0), pos)
                pos = m.end()
                break
        else:  # pragma: no cover - _PUNCT matches any single non-space character
            yield Token("punct", expr[pos], pos)
            pos += 1


def _free_name_tokens(expr: str) -> Iterator[Token]:
    """The name tokens of ``expr`` that stand alone (see the module docstring)."""
    significant = [t for t in tokenize(expr) if t.kind not in ("space", "comment")]
    for i, tok in enumerate(significant):
        if tok.kind != "name":
            continue
        before = significant[i - 1].text if i > 0 else ""
        after = significant[i + 1].text if i + 1 < len(significant) else ""
        if before in (".", "->", "::", ".*", "->*") or after == "::":
            continue
        yield tok


def free_names(expr: str) -> set[str]:
    """The free identifiers of ``expr`` (keywords and function names included)."""
    return {t.text for t in _free_name_tokens(expr)}


def uses(expr: str, names: Iterable[str]) -> bool:
    """Whether ``expr`` mentions any of ``names`` as a free identifier."""
    return not free_names(expr).isdisjoint(names)


def rename(expr: str, renames: Mapping[str, str] | Callable[[str], str | None]) -> str:
    """``expr`` with every free identifier found in ``renames`` replaced.

    ``renames`` is a mapping, or a function that returns the replacement text of a
    name (``None`` to leave it).
    """
    lookup = renames.get if isinstance(renames, Mapping) else renames
    out: list[str] = []
    pos = 0
    for tok in _free_name_tokens(expr):
        new = lookup(tok.text)
        if new is None:
            continue
        out.append(expr[pos : tok.start])
        out.append(new)
        pos = tok.start + len(tok.text)
    out.append(expr[pos:])
    return "".join(out)
