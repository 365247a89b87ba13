# SPDX-License-Identifier: BSD-3-Clause
"""correctionlib corrections as ``jax.numpy`` functions (jit- and grad-able).

`build` turns a validated `correctionlib.schemav2.Correction` into a function of its
inputs, node by node as the C++ code of `diffana.correction` does: formulas through
`diffana.correction.parse` evaluated with ``jax.numpy``, bin lookups with
``searchsorted`` (no derivative in the binned variable), a binning whose bins all
hold numbers or all refer to one generic formula as a table lookup (one formula
evaluation for any number of bins), other bins with ``jnp.select``. String and int
category inputs are Python values chosen while tracing (int arrays are selected
element-wise). `updown` is pyhf's interpolation code 4p.

May import: jax, correctionlib, ``diffana.correction._formula`` (the parser,
`CorrectionError`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from correctionlib import schemav2 as cs

from ..correction._formula import CorrectionError, Formula, parse

__all__ = ["build", "build_compound", "updown"]

_UNARY: dict[str, Callable[[Any], Any]] = {
    "log": jnp.log, "log10": jnp.log10, "exp": jnp.exp, "erf": jax.scipy.special.erf,
    "sqrt": jnp.sqrt, "abs": jnp.abs, "cos": jnp.cos, "sin": jnp.sin, "tan": jnp.tan,
    "acos": jnp.arccos, "asin": jnp.arcsin, "atan": jnp.arctan, "cosh": jnp.cosh,
    "sinh": jnp.sinh, "tanh": jnp.tanh, "acosh": jnp.arccosh, "asinh": jnp.arcsinh,
    "atanh": jnp.arctanh,
}  # fmt: skip
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "atan2": jnp.arctan2, "pow": jnp.power, "^": jnp.power, "max": jnp.maximum,
    "min": jnp.minimum, "+": jnp.add, "-": jnp.subtract, "*": jnp.multiply,
    "/": jnp.divide,
}  # fmt: skip
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": jnp.equal, "!=": jnp.not_equal, ">": jnp.greater, "<": jnp.less,
    ">=": jnp.greater_equal, "<=": jnp.less_equal,
    "&&": lambda a, b: (a != 0) & (b != 0), "||": lambda a, b: (a != 0) | (b != 0),
}  # fmt: skip


def _formula(f: Formula, xs: Sequence[Any], ps: Callable[[int], Any]) -> Any:
    a = [_formula(x, xs, ps) for x in f.args]
    if f.kind == "num":
        return f.value
    if f.kind == "var":
        return xs[f.index]
    if f.kind == "par":
        return ps(f.index)
    if f.kind == "neg":
        return -a[0]
    if f.kind == "call" and f.name in _UNARY:
        return _UNARY[f.name](a[0])
    if f.name in _COMPARE:
        return jnp.where(_COMPARE[f.name](a[0], a[1]), 1.0, 0.0)
    return _BINARY[f.name](a[0], a[1])


def _range(edges: Any) -> tuple[float, float]:
    if isinstance(edges, cs.UniformBinning):
        return float(edges.low), float(edges.high)
    return float(edges[0]), float(edges[-1])


class _Builder:
    def __init__(self, corr: cs.Correction) -> None:
        self.corr = corr
        self.names = [v.name for v in corr.inputs]
        self.kinds = [v.type for v in corr.inputs]
        self.generic = [parse(f.expression) for f in corr.generic_formulas or []]
        # Where an input can be refused (an axis with flow "error", an int category
        # without default): a fixed slot each, so that the jitted function returns
        # one flag and one offending value per slot, and the caller raises.
        self.slots: dict[tuple[int, int], int] = {}
        self.messages: list[str] = []
        self.lows: list[float] = []  # the lower edge of each binning slot
        self.found: dict[int, tuple[Any, Any]] = {}
        self.active: Any = True  # where the node being evaluated is used
        cs.walk_content(corr.data, self._add_slots)

    def _add_slots(self, node: Any) -> None:
        if isinstance(node, cs.Binning | cs.MultiBinning) and node.flow == "error":
            names = [node.input] if isinstance(node, cs.Binning) else node.inputs
            edges = [node.edges] if isinstance(node, cs.Binning) else node.edges
            for d, (name, e) in enumerate(zip(names, edges, strict=True)):
                lo, hi = _range(e)
                self.slots[(id(node), d)] = len(self.messages)
                self.lows.append(lo)
                self.messages.append(
                    f"input {name!r} = {{value:.10g}} {{where}} the binning range "
                    f'[{lo:.10g}, {hi:.10g}) (flow "error")'
                )
        if (
            isinstance(node, cs.Category)
            and node.default is None
            and self.kinds[self.names.index(node.input)] == "int"
        ):
            self.slots[(id(node), 0)] = len(self.messages)
            self.lows.append(math.nan)
            self.messages.append(
                f"input {node.input!r} = {{value:.0f}} is not one of its "
                "categories (and there is no default)"
            )

    def fail(self, what: str) -> CorrectionError:
        return CorrectionError(f"correction {self.corr.name!r}: {what}")

    def record(self, slot: int | None, mask: Any, x: Any) -> None:
        """Note the refused inputs of a slot where its node is really used."""
        if slot is not None:
            self.found[slot] = (mask & self.active, x)

    def evaluate_under(
        self, cond: Any, node: Any, xs: list[Any], index: Any = None
    ) -> Any:
        """Evaluate ``node`` (or, with ``index``, select among the list ``node``)
        where ``cond`` holds: jnp.select evaluates every branch, but only the
        chosen one may refuse its inputs."""
        saved = self.active
        self.active = saved & cond
        try:
            if index is not None:
                return self.select(node, index, xs)
            return self.evaluate(node, xs)
        finally:
            self.active = saved

    def evaluate(self, node: Any, xs: list[Any]) -> Any:
        if isinstance(node, float | int):
            return jnp.asarray(float(node))
        if isinstance(node, cs.Formula):
            tree = parse(node.expression)
            params = node.parameters or []
            variables = [xs[self.names.index(v)] for v in node.variables]
            return _formula(tree, variables, lambda k: params[k])
        if isinstance(node, cs.FormulaRef):
            return self.ref(node.index, xs, lambda k: node.parameters[k])
        if isinstance(node, cs.Binning | cs.MultiBinning):
            return self.binning(node, xs)
        if isinstance(node, cs.Category):
            return self.category(node, xs)
        kind = getattr(node, "nodetype", type(node).__name__)
        msg = f"node type {kind!r} is not supported by diffana.correction"
        raise self.fail(msg)

    def ref(self, index: int, xs: list[Any], ps: Callable[[int], Any]) -> Any:
        f = (self.corr.generic_formulas or [])[index]
        variables = [xs[self.names.index(v)] for v in f.variables]
        return _formula(self.generic[index], variables, ps)

    def axis(
        self, edges: Any, name: str, flow: str, xs: list[Any], slot: int | None
    ) -> tuple[Any, Any]:
        """(bin index clipped to the bins, out-of-range mask) of input ``name``."""
        x = jnp.asarray(xs[self.names.index(name)], dtype=float)
        lo, hi = _range(edges)
        if isinstance(edges, cs.UniformBinning):
            n = edges.n
        else:
            e = np.asarray([float(v) for v in edges])
            n = len(e) - 1
        if flow == "wrap":
            w = jnp.where((x < lo) | (x >= hi), lo + jnp.mod(x - lo, hi - lo), x)
            x = jnp.where(w >= hi, lo, w)
        out = ~((x >= lo) & (x < hi))
        self.record(slot, out, x)
        if isinstance(edges, cs.UniformBinning):
            raw = jnp.floor(n * ((x - lo) / (hi - lo)))
            i = jnp.clip(jnp.where(out, jnp.where(x < lo, 0, n - 1), raw), 0, n - 1)
        else:
            i = jnp.searchsorted(jnp.asarray(e), x, side="right") - 1
            i = jnp.clip(i, 0, n - 1)
        return i.astype(int), out

    def binning(self, node: cs.Binning | cs.MultiBinning, xs: list[Any]) -> Any:
        if isinstance(node, cs.Binning):
            names, edges = [node.input], [node.edges]
        else:
            names, edges = list(node.inputs), list(node.edges)
        flow = node.flow if isinstance(node.flow, str) else "value"
        sizes = [e.n if isinstance(e, cs.UniformBinning) else len(e) - 1 for e in edges]
        index: Any = 0
        outside: Any = False
        for d, (e, n, size) in enumerate(zip(edges, names, sizes, strict=True)):
            i, out = self.axis(e, n, flow, xs, self.slots.get((id(node), d)))
            index = index * size + i
            outside = outside | out
        value = self.evaluate_under(~outside, node.content, xs, index)
        if flow == "value":
            return jnp.where(
                outside, self.evaluate_under(outside, node.flow, xs), value
            )
        if flow == "error":  # the caller raises for concrete inputs
            return jnp.where(outside, jnp.nan, value)
        return value

    def select(self, content: list[Any], index: Any, xs: list[Any]) -> Any:
        if all(isinstance(c, float | int) for c in content):
            return jnp.asarray([float(c) for c in content])[index]
        refs = {c.index for c in content if isinstance(c, cs.FormulaRef)}
        if len(refs) == 1 and all(isinstance(c, cs.FormulaRef) for c in content):
            width = max(len(c.parameters) for c in content)
            table = np.zeros((len(content), max(width, 1)))
            for k, c in enumerate(content):
                table[k, : len(c.parameters)] = c.parameters
            rows = jnp.asarray(table)[index]
            return self.ref(refs.pop(), xs, lambda k: rows[..., k])
        conds = [index == k for k in range(len(content))]
        values = [
            self.evaluate_under(m, c, xs) for m, c in zip(conds, content, strict=True)
        ]
        return jnp.select(conds, values, jnp.nan)

    def category(self, node: cs.Category, xs: list[Any]) -> Any:
        k = self.names.index(node.input)
        key = xs[k]
        if self.kinds[k] == "int":
            keys = jnp.asarray(key)
            conds = [keys == int(item.key) for item in node.content]
            missing = ~functools.reduce(jnp.logical_or, conds, jnp.asarray(False))
            self.record(self.slots.get((id(node), 0)), missing, keys)
            values = [
                self.evaluate_under(c, item.value, xs)
                for c, item in zip(conds, node.content, strict=True)
            ]
            default = (
                jnp.nan
                if node.default is None
                else self.evaluate_under(missing, node.default, xs)
            )
            return jnp.select(conds, values, default)
        for item in node.content:
            if item.key == key:
                return self.evaluate(item.value, xs)
        if node.default is not None:
            return self.evaluate(node.default, xs)
        msg = f"input {node.input!r} = {key!r} is not one of its categories"
        raise self.fail(msg + " (and there is no default)")


def build(corr: cs.Correction) -> Callable[..., Any]:
    """``f(*inputs)``: the correction on JAX arrays (see the module docstring)."""
    builder = _Builder(corr)
    names = ", ".join(f"{v.name}: {v.type}" for v in corr.inputs)
    kinds = [v.type for v in corr.inputs]
    # Check every node type now, not at the first call.
    cs.walk_content(corr.data, _supported(builder))

    def inner(*xs: Any) -> tuple[Any, Any, Any]:
        builder.found, builder.active = {}, jnp.asarray(True)
        value = builder.evaluate(corr.data, list(xs))
        shapes = [jnp.shape(x) for x, k in zip(xs, kinds, strict=True) if k != "string"]
        value = jnp.broadcast_to(value, jnp.broadcast_shapes(*shapes))
        flags, bad = [], []
        for slot in range(len(builder.messages)):
            mask, x = builder.found.get(slot, (jnp.asarray(False), jnp.asarray(0.0)))
            mask, x = jnp.broadcast_arrays(mask, x)
            flags.append(jnp.any(mask))
            bad.append(jnp.ravel(x)[jnp.argmax(jnp.ravel(mask))].astype(float))
        return value, jnp.asarray(flags, dtype=bool), jnp.asarray(bad, dtype=float)

    jitted = jax.jit(
        inner, static_argnums=tuple(k for k, t in enumerate(kinds) if t == "string")
    )

    def evaluate(*inputs: Any) -> Any:
        if len(inputs) != len(kinds):
            msg = f"takes {len(kinds)} inputs ({names}), got {len(inputs)}"
            raise builder.fail(msg)
        xs: list[Any] = []
        for var, given in zip(corr.inputs, inputs, strict=True):
            if var.type == "string":
                if not isinstance(given, str):
                    msg = f"input {var.name!r} must be a string, got {given!r}"
                    raise builder.fail(msg)
                xs.append(given)
            else:
                xs.append(
                    jnp.asarray(given, dtype=float if var.type == "real" else int)
                )
        value, flags, bad = jitted(*xs)
        if not isinstance(flags, jax.core.Tracer) and bool(jnp.any(flags)):
            slot = int(jnp.argmax(flags))
            x = float(bad[slot])
            below = x < builder.lows[slot]
            nan = math.isnan(x)
            where = "is NaN, outside" if nan else "is below" if below else "is above"
            raise builder.fail(builder.messages[slot].format(value=x, where=where))
        return value

    evaluate.__name__ = corr.name if corr.name.isidentifier() else "correction"
    evaluate.__doc__ = f"correctionlib correction {corr.name!r}({names}) in JAX."
    return evaluate


def build_compound(
    compound: cs.CompoundCorrection, parts: Sequence[cs.Correction]
) -> Callable[..., Any]:
    """A compound correction: its parts (`build`) run as correctionlib runs the
    stack, each on the inputs updated by the earlier ones."""
    names = [v.name for v in compound.inputs]
    updated = [names.index(n) for n in compound.inputs_update]
    functions = [(build(p), [names.index(v.name) for v in p.inputs]) for p in parts]
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+": jnp.add, "*": jnp.multiply, "/": jnp.divide,
    }  # fmt: skip
    signature = ", ".join(f"{v.name}: {v.type}" for v in compound.inputs)

    def evaluate(*inputs: Any) -> Any:
        if len(inputs) != len(names):
            msg = (
                f"correction {compound.name!r}: takes {len(names)} inputs "
                f"({signature}), got {len(inputs)}"
            )
            raise CorrectionError(msg)
        values = list(inputs)
        for k in updated:
            values[k] = jnp.asarray(values[k], dtype=float)
        out: Any = None
        for f, index in functions:
            sf = f(*(values[k] for k in index))
            for k in updated:
                values[k] = ops[compound.input_op](values[k], sf)
            last = out is None or compound.output_op == "last"
            out = sf if last else ops[compound.output_op](out, sf)
        return out

    evaluate.__name__ = compound.name if compound.name.isidentifier() else "compound"
    evaluate.__doc__ = f"correctionlib compound correction {compound.name!r} in JAX."
    return evaluate


def _supported(builder: _Builder) -> Callable[[Any], None]:
    allowed = (float, int, cs.Formula, cs.FormulaRef, cs.Binning, cs.MultiBinning)

    def check(node: Any) -> None:
        if not isinstance(node, (*allowed, cs.Category)):
            kind = getattr(node, "nodetype", type(node).__name__)
            msg = (
                f"node type {kind!r} is not supported by diffana.correction "
                "(supported: formula, formularef, binning, multibinning, category "
                "and numbers)"
            )
            raise builder.fail(msg)
        if isinstance(node, cs.Formula):
            try:
                parse(node.expression)
            except CorrectionError as err:
                raise builder.fail(str(err)) from None

    return check


def updown(theta: Any, nominal: Any, up: Any, down: Any) -> Any:
    """pyhf's interpolation code 4p between down (theta = -1), nominal (0) and up
    (+1); linear beyond. The twin of ``diffana::correction::updown``."""
    t = jnp.asarray(theta, dtype=float)
    nom = jnp.asarray(nominal, dtype=float)
    d_up = up - nom
    d_dn = nom - down
    s = 0.5 * (d_up + d_dn)
    a = 0.0625 * (d_up - d_dn)
    t2 = t * t
    inner = t * (s + t * a * (15.0 + t2 * (3.0 * t2 - 10.0)))
    return nom + jnp.where(t > 1.0, t * d_up, jnp.where(t < -1.0, t * d_dn, inner))
