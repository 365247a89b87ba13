# SPDX-License-Identifier: BSD-3-Clause
"""The TFormula expressions of correctionlib, parsed as correctionlib parses them.

`parse` reads the grammar of correctionlib's ``formula_ast.cc`` (cpp-peglib): numbers
(``-`` belongs to a literal: ``-3^2`` is 9), ``[i]`` parameters, the variables ``x``,
``y``, ``z``, ``t`` and ``x[i]``, the unary minus (on a name, call or parenthesis:
``-x^2`` is ``(-x)^2``), the functions and the binary operators with correctionlib's
precedence (comparisons, ``&&`` and ``||`` give 1 or 0). One tree, two writers: the C++
of `diffana.correction._cpp` and the JAX of `diffana.jax._correction`. Here also lives
`CorrectionError`, the one error of the correction layer.

May import: the standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BINARY_FUNCTIONS",
    "PRECEDENCE",
    "UNARY_FUNCTIONS",
    "CorrectionError",
    "Formula",
    "parse",
]


class CorrectionError(ValueError):
    """A correction diffana cannot use: a node type it does not support, a formula
    it cannot parse, a missing correction, a name already declared differently."""


UNARY_FUNCTIONS = (
    "log", "log10", "exp", "erf", "sqrt", "abs", "cos", "sin", "tan", "acos",
    "asin", "atan", "cosh", "sinh", "tanh", "acosh", "asinh", "atanh",
)  # fmt: skip
BINARY_FUNCTIONS = ("atan2", "pow", "max", "min")
# correctionlib's precedence levels (cpp-peglib's "precedence" block); ^ is right
# associative, the others left.
PRECEDENCE = {
    "||": 1, "&&": 2, "==": 3, "!=": 3, ">": 4, "<": 4, ">=": 4, "<=": 4,
    "-": 5, "+": 5, "/": 6, "*": 6, "^": 7,
}  # fmt: skip
_OPERATORS = sorted(PRECEDENCE, key=len, reverse=True)
_LITERAL = re.compile(r"-?[0-9]+(?:\.[0-9]*)?(?:e-?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"\[[ \t]*([0-9]+)[ \t]*\]")


@dataclass(frozen=True)
class Formula:
    """A parsed TFormula expression: ``kind`` is "num" (``value``), "var" (``index``
    into the formula's variables), "par" (``index`` into its parameters), "neg",
    "call" (``name``, one or two ``args``) or "op" (``name`` the operator, two
    ``args``)."""

    kind: str
    value: float = 0.0
    index: int = 0
    name: str = ""
    args: tuple[Formula, ...] = ()

    def walk(self) -> list[Formula]:
        """This node and every node below it."""
        out = [self]
        for a in self.args:
            out.extend(a.walk())
        return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> CorrectionError:
        return CorrectionError(f"formula {self.text!r}: {what} at position {self.pos}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def eat(self, token: str) -> bool:
        self.skip()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.eat(token):
            raise self.fail(f"expected {token!r}")

    def expression(self, min_prec: int = 1) -> Formula:
        lhs = self.atom()
        while True:
            self.skip()
            op = next(
                (o for o in _OPERATORS if self.text.startswith(o, self.pos)), None
            )
            if op is None or PRECEDENCE[op] < min_prec:
                return lhs
            self.pos += len(op)
            rhs = self.expression(PRECEDENCE[op] + (0 if op == "^" else 1))
            lhs = Formula("op", name=op, args=(lhs, rhs))

    def atom(self) -> Formula:
        self.skip()
        m = _LITERAL.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return Formula("num", value=float(m.group(0)))
        if self.eat("-"):
            return Formula("neg", args=(self.primary(),))
        return self.primary()

    def primary(self) -> Formula:
        self.skip()
        if self.eat("("):
            inner = self.expression()
            self.expect(")")
            return inner
        m = _INDEX.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return Formula("par", index=int(m.group(1)))
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.fail("expected a number, a name or '('")
        name = m.group(0)
        self.pos = m.end()
        if name in UNARY_FUNCTIONS or name in BINARY_FUNCTIONS:
            self.expect("(")
            args = [self.expression()]
            if name in BINARY_FUNCTIONS:
                self.expect(",")
                args.append(self.expression())
            self.expect(")")
            return Formula("call", name=name, args=tuple(args))
        if name == "x" and self.text.startswith("[", self.pos):
            m = _INDEX.match(self.text, self.pos)
            if not m:
                raise self.fail("expected x[<index>]")
            self.pos = m.end()
            return Formula("var", index=int(m.group(1)))
        if name in ("x", "y", "z", "t"):
            return Formula("var", index="xyzt".index(name))
        raise self.fail(f"unknown name {name!r}")


def parse(expression: str) -> Formula:
    """Parse a TFormula expression as correctionlib does (its grammar: ``-x^2`` is
    ``(-x)^2``, comparisons and ``&&``/``||`` give 1 or 0).

    Examples
    --------
    >>> f = parse("[0] + [1]*log10(x)")
    >>> f.kind, f.name, f.args[1].args[1].name
    ('op', '+', 'log10')
    >>> parse("x +")
    Traceback (most recent call last):
    ...
    diffana.correction.CorrectionError: formula 'x +': expected a number, a name or '(' at position 3
    """
    p = _Parser(expression)
    tree = p.expression()
    p.skip()
    if p.pos != len(expression):
        raise p.fail("unexpected text")
    return tree
