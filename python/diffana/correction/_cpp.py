# SPDX-License-Identifier: BSD-3-Clause
"""C++ from correctionlib corrections: `to_cpp` (header text) and `declare` (cling).

Each correction becomes a namespace of node functions (one per content node,
children first; templates over the result type R and the input types) and a struct
whose ``evaluate(inputs...)`` checks the kinds of its inputs at compile time and whose
``operator()`` maps over vectors (``diffana::correction::apply``). Bins holding numbers
become a ``static constexpr`` table, bins all referring to one generic formula a table
of parameters and one call; other bins a ``switch``. The run-time helpers (bin lookup,
flows, errors) are in ``include/diffana/correction/correction.hpp``.

May import: correctionlib, ``diffana._checks``, the modules of this package below it;
``diffana.rdf`` (ROOT) inside `declare` only.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

from correctionlib import schemav2 as cs

from .. import _checks
from ._formula import CorrectionError, Formula, parse
from ._source import Compound, Resolved, Source, load, read

__all__ = ["declare", "to_cpp"]


def _cpp_number(v: float) -> str:
    if math.isnan(v):
        return "std::numeric_limits<double>::quiet_NaN()"
    if math.isinf(v):
        inf = "std::numeric_limits<double>::infinity()"
        return inf if v > 0 else f"(-{inf})"
    text = repr(float(v))
    return f"({text})" if text.startswith("-") else text


_CPP_COMPARE = ("==", "!=", ">", "<", ">=", "<=")


def _cpp_formula(
    f: Formula, var: Callable[[int], str], par: Callable[[int], str]
) -> str:
    a = [_cpp_formula(x, var, par) for x in f.args]
    if f.kind == "num":
        return _cpp_number(f.value)
    if f.kind == "var":
        return var(f.index)
    if f.kind == "par":
        return par(f.index)
    if f.kind == "neg":
        return f"(-{a[0]})"
    if f.kind == "call":
        return f"{f.name}({', '.join(a)})"
    if f.name == "^":
        return f"pow({a[0]}, {a[1]})"
    if f.name in _CPP_COMPARE:
        return f"({a[0]} {f.name} {a[1]} ? 1.0 : 0.0)"
    if f.name in ("&&", "||"):
        return f"({a[0]} != 0.0 {f.name} {a[1]} != 0.0 ? 1.0 : 0.0)"
    return f"({a[0]} {f.name} {a[1]})"


class _CppWriter:
    """Writes one correction as C++: one function per content node, children first."""

    def __init__(self, corr: cs.Correction) -> None:
        self.corr = corr
        self.inputs = [v.name for v in corr.inputs]
        self.kinds = [v.type for v in corr.inputs]
        self.defs: list[str] = []
        self.generic: dict[int, tuple[str, int]] = {}  # index -> (function, n params)
        n = len(self.inputs)
        self.tparams = "template <class R" + "".join(f", class X{i}" for i in range(n))
        self.tparams += ">\n"
        self.params = ", ".join(f"[[maybe_unused]] const X{i}& x{i}" for i in range(n))
        self.args = ", ".join(f"x{i}" for i in range(n))

    def fail(self, what: str) -> CorrectionError:
        return CorrectionError(f"correction {self.corr.name!r}: {what}")

    def index(self, name: str) -> int:
        return self.inputs.index(name)

    def function(self, body: str, extra: str = "") -> str:
        name = f"node_{len(self.defs)}"
        sep = ", " if extra else ""
        self.defs.append(
            f"{self.tparams}inline R {name}({self.params}{sep}{extra}) {{\n{body}}}\n"
        )
        return name

    def formula_body(self, f: cs.Formula, bind: bool) -> str:
        try:
            tree = parse(f.expression)
        except CorrectionError as err:
            raise self.fail(str(err)) from None
        variables = [self.index(v) for v in f.variables]
        params = f.parameters or []
        used: set[int] = set()
        for node in tree.walk():
            if node.kind == "var":
                if node.index >= len(variables):
                    msg = f"formula {f.expression!r} uses variable {node.index} of "
                    raise self.fail(msg + f"{len(variables)}")
                used.add(variables[node.index])
            if node.kind == "par" and bind and node.index >= len(params):
                msg = f"formula {f.expression!r} uses parameter [{node.index}] of "
                raise self.fail(msg + f"{len(params)}")

        def par(k: int) -> str:
            return _cpp_number(params[k]) if bind else f"p[{k}]"

        expr = _cpp_formula(tree, lambda k: f"v{variables[k]}", par)
        called = sorted(
            {n.name for n in tree.walk() if n.kind == "call"}
            | ({"pow"} if any(n.name == "^" for n in tree.walk()) else set())
        )
        body = "".join(f"  using std::{n};\n" for n in called) + "".join(
            f"  const diffana::correction::real_t<X{i}> v{i} = x{i};\n"
            for i in sorted(used)
        )
        return body + f"  return R({expr});\n"

    def generic_formula(self, k: int) -> tuple[str, int]:
        if k not in self.generic:
            forms = self.corr.generic_formulas or []
            if k >= len(forms):
                raise self.fail(
                    f"formularef index {k}: there are {len(forms)} formulas"
                )
            f = forms[k]
            needed = 1 + max(
                (n.index for n in parse(f.expression).walk() if n.kind == "par"),
                default=-1,
            )
            name = self.function(self.formula_body(f, bind=False), "const double* p")
            self.generic[k] = (name, needed)
        return self.generic[k]

    def content(self, node: Any) -> str:
        """A C++ expression of type R for a content node."""
        if isinstance(node, float | int):
            return f"R({_cpp_number(float(node))})"
        if isinstance(node, cs.Formula):
            return (
                f"{self.function(self.formula_body(node, bind=True))}<R>({self.args})"
            )
        if isinstance(node, cs.FormulaRef):
            name, needed = self.generic_formula(node.index)
            self.check_params(node, needed)
            table = self.table([list(node.parameters)], needed)
            body = (
                f"  static constexpr double p[][{max(needed, 1)}] = {table};\n"
                f"  return {name}<R>({self.args}, p[0]);\n"
            )
            return f"{self.function(body)}<R>({self.args})"
        if isinstance(node, cs.Binning | cs.MultiBinning):
            return f"{self.function(self.binning(node))}<R>({self.args})"
        if isinstance(node, cs.Category):
            return f"{self.function(self.category(node))}<R>({self.args})"
        kind = getattr(node, "nodetype", type(node).__name__)
        msg = (
            f"node type {kind!r} is not supported by diffana.correction (supported: "
            "formula, formularef, binning, multibinning, category and numbers)"
        )
        raise self.fail(msg)

    def check_params(self, ref: cs.FormulaRef, needed: int) -> None:
        if len(ref.parameters) < needed:
            msg = f"formularef to formula {ref.index} has {len(ref.parameters)} "
            raise self.fail(msg + f"parameters, its expression uses {needed}")

    @staticmethod
    def table(rows: list[list[float]], width: int) -> str:
        w = max(width, 1)
        padded = [(r + [0.0] * w)[:w] for r in rows]
        return (
            "{"
            + ", ".join(
                "{" + ", ".join(_cpp_number(v) for v in r) + "}" for r in padded
            )
            + "}"
        )

    def axis(self, edges: Any, name: str, flow: str, i: str) -> str:
        k = self.index(name)
        cname = json.dumps(self.corr.name)
        v = f"static_cast<double>(diffana::value(x{k}))"
        if isinstance(edges, cs.UniformBinning):
            return (
                f"  const int {i} = diffana::correction::find_bin_uniform({v}, "
                f"{edges.n}, {_cpp_number(edges.low)}, {_cpp_number(edges.high)}, "
                f"diffana::correction::Flow::{flow}, {cname}, {json.dumps(name)});\n"
            )
        values = ", ".join(_cpp_number(float(e)) for e in edges)
        return (
            f"  static constexpr double e{i}[] = {{{values}}};\n"
            f"  const int {i} = diffana::correction::find_bin({v}, e{i}, {len(edges)}, "
            f"diffana::correction::Flow::{flow}, {cname}, {json.dumps(name)});\n"
        )

    def binning(self, node: cs.Binning | cs.MultiBinning) -> str:
        if isinstance(node, cs.Binning):
            names, edges = [node.input], [node.edges]
        else:
            names, edges = list(node.inputs), list(node.edges)
        flow = node.flow if isinstance(node.flow, str) else "value"
        body = "".join(
            self.axis(e, n, flow, f"i{d}")
            for d, (n, e) in enumerate(zip(names, edges, strict=True))
        )
        sizes = [e.n if isinstance(e, cs.UniformBinning) else len(e) - 1 for e in edges]
        if flow == "value":
            out = " || ".join(f"i{d} < 0" for d in range(len(edges)))
            body += f"  if ({out}) return {self.content(node.flow)};\n"
        stride, terms = 1, []
        for d in reversed(range(len(edges))):
            terms.append(f"i{d} * {stride}")
            stride *= sizes[d]
        body += f"  const int i = {' + '.join(reversed(terms))};\n"
        return body + self.select(node.content)

    def select(self, content: list[Any]) -> str:
        """``return content[i]`` for the C++ index i, as a table where possible."""
        if all(isinstance(c, float | int) for c in content):
            values = ", ".join(_cpp_number(float(c)) for c in content)
            return f"  static constexpr double t[] = {{{values}}};\n  return R(t[i]);\n"
        refs = {c.index for c in content if isinstance(c, cs.FormulaRef)}
        if len(refs) == 1 and all(isinstance(c, cs.FormulaRef) for c in content):
            name, needed = self.generic_formula(refs.pop())
            for c in content:
                self.check_params(c, needed)
            table = self.table([list(c.parameters) for c in content], needed)
            return (
                f"  static constexpr double p[][{max(needed, 1)}] = {table};\n"
                f"  return {name}<R>({self.args}, p[i]);\n"
            )
        cases = "".join(
            f"  case {k}: return {self.content(c)};\n" for k, c in enumerate(content)
        )
        return f"  switch (i) {{\n{cases}  default: return R(0.0);\n  }}\n"

    def category(self, node: cs.Category) -> str:
        k = self.index(node.input)
        cname, iname = json.dumps(self.corr.name), json.dumps(node.input)
        if self.kinds[k] == "string":
            body = f"  const std::string_view key = x{k};\n"
            body += "".join(
                f"  if (key == {json.dumps(str(item.key))}) "
                f"return {self.content(item.value)};\n"
                for item in node.content
            )
        else:
            body = f"  const long long key = static_cast<long long>(x{k});\n"
            body += "".join(
                f"  if (key == {int(item.key)}LL) return {self.content(item.value)};\n"
                for item in node.content
            )
        if node.default is not None:
            return body + f"  return {self.content(node.default)};\n"
        return (
            body + f"  diffana::correction::unknown_category({cname}, {iname}, key);\n"
        )

    def write(self, namespace: str) -> str:
        root = self.content(self.corr.data)
        return (
            f"namespace {namespace} {{\n"
            + "".join(self.defs)
            + _struct(self.corr.name, self.corr.inputs, f"    return {root};\n")
            + f"}} // namespace {namespace}\n"
        )


_WHAT = {
    "real": "a number or a diffana::Dual",
    "int": "an integer",
    "string": "a string",
}


def _struct(title: str, inputs: list[cs.Variable], body: str) -> str:
    """The struct ``Correction`` whose ``evaluate_(x0, ...)`` checks the kinds of
    its inputs, defines R (the result type) and runs ``body``."""
    n = len(inputs)
    if n == 0:
        msg = f"correction {title!r} has no inputs"
        raise CorrectionError(msg)
    checks = "".join(
        f"    static_assert(diffana::correction::is_{v.type}_input_v<X{i}>, "
        + json.dumps(f"correction {title!r}: input {v.name!r} must be {_WHAT[v.type]}")
        + ");\n"
        for i, v in enumerate(inputs)
    )
    names = ", ".join(f"{v.name}: {v.type}" for v in inputs)
    reals = "".join(f", X{i}" for i, v in enumerate(inputs) if v.type == "real")
    count = json.dumps(f"correction {title!r} takes {n} inputs ({names})")
    tlist = ", ".join(f"class X{i}" for i in range(n))
    plist = ", ".join(f"[[maybe_unused]] const X{i}& x{i}" for i in range(n))
    return (
        "struct Correction {\n"
        f"  static constexpr const char* name = {json.dumps(title)};\n"
        f"  static constexpr int n_inputs = {n};\n"
        f"  template <{tlist}> auto evaluate_({plist}) const {{\n"
        + checks
        + f"    using R = diffana::promote_t<double{reals}>;\n"
        + body
        + "  }\n"
        "  /// The correction's value; a Dual if a real input is one.\n"
        "  template <class... A> auto evaluate(const A&... a) const {\n"
        f"    static_assert(sizeof...(A) == {n}, {count});\n"
        f"    if constexpr (sizeof...(A) == {n}) return evaluate_(a...);\n"
        "    else return 0.0;\n"
        "  }\n"
        "  /// evaluate, element by element over RVec / std::vector arguments.\n"
        "  template <class... A> auto operator()(const A&... a) const {\n"
        f"    static_assert(sizeof...(A) == {n}, {count});\n"
        "    return diffana::correction::apply(*this, a...);\n"
        "  }\n"
        "};\n"
    )


def _compound(comp: Compound, namespace: str) -> str:
    """A compound correction: its parts in nested namespaces, then the stack as
    correctionlib runs it (each part on the inputs updated by the earlier ones)."""
    cc = comp.compound
    names = [v.name for v in cc.inputs]
    updated = [names.index(n) for n in cc.inputs_update]
    parts = "".join(_CppWriter(p).write(f"part_{k}") for k, p in enumerate(comp.parts))
    body = "".join(f"    R u{k} = R(x{k});\n" for k in updated)
    body += "    R out(0.0);\n"
    for j, part in enumerate(comp.parts):
        args = ", ".join(
            f"u{k}" if k in updated else f"x{k}"
            for k in (names.index(v.name) for v in part.inputs)
        )
        body += f"    const R sf{j} = R(part_{j}::Correction{{}}.evaluate({args}));\n"
        body += "".join(f"    u{k} {cc.input_op}= sf{j};\n" for k in updated)
        if j == 0 or cc.output_op == "last":
            body += f"    out = sf{j};\n"
        else:
            body += f"    out {cc.output_op}= sf{j};\n"
    body += "    return out;\n"
    return (
        f"namespace {namespace} {{\n"
        + parts
        + _struct(cc.name, cc.inputs, body)
        + f"}} // namespace {namespace}\n"
    )


def _cpp_code(corr: Resolved, name: str) -> str:
    namespace = f"diffana_correction_{name}"
    if isinstance(corr, Compound):
        body = _compound(corr, namespace)
    else:
        body = _CppWriter(corr).write(namespace)
    return body + f"inline const {namespace}::Correction {name}{{}};\n"


def to_cpp(source: Source, name: str, correction: str | None = None) -> str:
    """C++ header text defining the correction as ``name``: a global object with
    ``name(inputs...)`` (element-wise over vectors) and ``name.evaluate(inputs...)``,
    templates over the input types (numbers or ``diffana::Dual``). The header
    includes ``diffana/correction/correction.hpp``; ``source`` and ``correction``
    as in `load`.

    Examples
    --------
    >>> from correctionlib import schemav2 as cs
    >>> c = cs.Correction(name="sf", version=1, inputs=[cs.Variable(name="x",
    ...     type="real")], output=cs.Variable(name="w", type="real"),
    ...     data=cs.Formula(nodetype="formula", expression="1+[0]*x",
    ...     parser="TFormula", variables=["x"], parameters=[0.5]))
    >>> "return R((1.0 + (0.5 * v0)));" in to_cpp(c, "sf")
    True
    """
    _checks.identifier(name, "correction name")
    corr = load(source, correction)
    kind = "compound correction" if isinstance(corr, Compound) else "correction"
    return (
        "// SPDX-License-Identifier: BSD-3-Clause\n"
        f"// Generated by diffana.correction from {kind} {corr.name!r}.\n"
        "#pragma once\n\n"
        '#include "diffana/correction/correction.hpp"\n\n'
        "#include <limits>\n#include <string_view>\n\n" + _cpp_code(corr, name)
    )


def _add_include_path(ROOT: Any) -> None:
    """Make ``diffana/correction/correction.hpp`` visible to cling (in a source
    checkout whose installed copy of the headers predates it, from include/)."""
    from .. import _find, get_include

    where = _find("include", "diffana/correction/correction.hpp")
    if where != get_include():
        ROOT.gInterpreter.AddIncludePath(where)


# name -> sha256 of the code declared to cling under that name
_declared: dict[str, str] = {}


def pick(name: str, source: Source, correction: str | None = None) -> Resolved:
    """The correction `declare` declares as ``name``: ``correction`` of ``source``
    or, when None and the file holds several, the one called ``name`` (the checks
    a configuration makes before any event loop). `CorrectionError` otherwise."""
    _checks.identifier(name, "correction name")
    if correction is None:
        cset = read(source)
        names = [c.name for c in cset.corrections]
        names += [c.name for c in cset.compound_corrections or []]
        if len(names) > 1 and name in names:
            correction = name
        source = cset
    return load(source, correction)


def declare(name: str, source: Source, correction: str | None = None) -> str:
    """Declare the correction to ROOT's interpreter as the global object ``name``,
    so that DiffFrame expressions (and any cling code) can call ``name(...)`` or
    ``name.evaluate(...)``; returns ``name``.

    ``source`` and ``correction`` as in `load`; when the file holds several
    corrections and ``correction`` is None, the one called ``name`` is taken.
    Idempotent: declaring the same correction under the same name again does
    nothing; a different one under a declared name raises `CorrectionError` (cling
    cannot redefine it). An input out of range with flow "error" or an unknown
    category throws ``std::domain_error`` naming the correction, the input and the
    value inside the event loop (DiffFrame raises it as ``EventLoopError``); a wrong
    number or kind of inputs does not compile (``CompileError`` naming them).
    """
    code = _cpp_code(pick(name, source, correction), name)
    digest = hashlib.sha256(code.encode()).hexdigest()
    if name in _declared:
        if _declared[name] == digest:
            return name
        msg = (
            f"a different correction is already declared as {name!r}; cling cannot "
            "redefine it: choose another name"
        )
        raise CorrectionError(msg)
    from ..rdf import _compiled, _import_root

    ROOT = _import_root()
    _add_include_path(ROOT)
    if hasattr(ROOT, name):
        msg = f"correction name {name!r} is already a name in ROOT's interpreter"
        raise CorrectionError(msg)
    text = '#include "diffana/correction/correction.hpp"\n#include <limits>\n' + code

    def run() -> None:
        if not ROOT.gInterpreter.Declare(text):
            raise RuntimeError("cling rejected the code")

    _compiled(f"declare({name!r})", name, run)
    _declared[name] = digest
    return name
