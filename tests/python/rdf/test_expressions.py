# SPDX-License-Identifier: BSD-3-Clause
"""The rewriter of free identifiers in C++ expressions (diffana.rdf.expressions):
what counts as a free name (comparisons on either side, members, qualified names,
literals, comments, numbers), Hypothesis properties of `tokenize` and `rename`, and
a DiffFrame that inlines a parameter written on either side of a comparison alike."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffana.rdf.expressions import Token, free_names, rename, tokenize, uses

MJJ = {"mjj": "M"}


def kinds(expr: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(expr)]


# ---- which names are free -----------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # A comparison reads the same whichever side the name is on.
        ("450>mjj", "450>M"),
        ("mjj < 450", "M < 450"),
        ("mjj>450&&450<mjj", "M>450&&450<M"),
        ("x-->mjj", "x-->M"),  # `--` then `>`, not `-` then `->`
        ("x>>mjj", "x>>M"),
        ("f<mjj>(1)", "f<M>(1)"),
        ("std::abs(mjj)", "std::abs(M)"),
        ("mjj.x", "M.x"),  # the object is free, its member is not
        ("1e+5+mjj", "1e+5+M"),
        ("'\\''+mjj", "'\\''+M"),  # an escaped quote ends no literal
    ],
)
def test_free_names_are_renamed(expr, expected):
    assert rename(expr, MJJ) == expected
    assert "mjj" in free_names(expr)
    assert uses(expr, ["mjj"])


@pytest.mark.parametrize(
    "expr",
    [
        "a->mjj",  # members
        "obj.mjj",
        "a.b.mjj",
        "p->*mjj",
        "obj.*mjj",
        "x::mjj",  # qualified names
        "::mjj",
        "mjj::x",  # a namespace or class
        "mjj2",  # a longer name
        "mjj_up",
        "_mjj",
        '"mjj"',  # string literals: plain, prefixed, raw (with a delimiter)
        'u8"mjj"',
        'L"mjj"',
        'R"(mjj)"',
        'LR"d(mjj)d"',
        'R"mjj(a)mjj"',
        '"a\\"mjj"',
        '"unterminated mjj',
        "'m'",  # character literals
        "u8'm'",
        "// mjj",  # comments
        "/* mjj */",
        "/* open mjj",
    ],
)
def test_bound_names_and_text_are_left_alone(expr):
    assert rename(expr, MJJ) == expr
    assert "mjj" not in free_names(expr)
    assert not uses(expr, ["mjj"])


def test_comments_end_where_cpp_ends_them():
    assert rename("mjj // mjj", MJJ) == "M // mjj"
    assert rename("/* mjj */ mjj", MJJ) == "/* mjj */ M"
    assert rename("mjj // mjj\n+ mjj", MJJ) == "M // mjj\n+ M"


@pytest.mark.parametrize("number", ["1e5", "0x1f", "1'000", "1.5e-3", ".5f", "0x1p+3"])
def test_numbers_are_one_token_and_no_name(number):
    assert kinds(number) == [("number", number)]
    assert free_names(f"{number}*mjj") == {"mjj"}
    assert rename(f"{number}*mjj", MJJ) == f"{number}*M"


def test_tokens_of_a_comparison_either_way():
    assert kinds("450>mjj") == [("number", "450"), ("punct", ">"), ("name", "mjj")]
    assert kinds("mjj < 450") == [
        ("name", "mjj"),
        ("space", " "),
        ("punct", "<"),
        ("space", " "),
        ("number", "450"),
    ]
    assert kinds("x-->mjj") == [
        ("name", "x"),
        ("punct", "--"),
        ("punct", ">"),
        ("name", "mjj"),
    ]
    assert kinds("a->mjj")[1] == ("punct", "->")
    assert next(iter(tokenize("  x"))) == Token("space", "  ", 0)


def test_rename_with_a_function():
    def upper(name: str) -> str | None:
        return name.upper() if name.startswith("j") else None

    assert rename("jes * pt + j.x + jet", upper) == "JES * pt + J.x + JET"


# ---- properties -------------------------------------------------------------------

# Names never end in the suffix the round trip appends (so nothing collides).
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9]{0,3}", fullmatch=True)
SUFFIX = "__r"
TOKENS = st.one_of(
    NAMES,
    st.sampled_from(
        [
            "1", "450", "1e5", "0x1f", "1'000", "2.5", ".5",
            "+", "-", "*", "/", "%", "<", ">", "<=", ">=", "==", "!=", "&&", "||",
            "!", "?", ":", "::", ".", "->", "->*", ".*", "--", "++", "(", ")", "[",
            "]", "{", "}", ",", "'", '"',
            '"mjj"', 'R"(a b)"', 'u8"x"', "'c'", "L'c'",
            "// c x\n", "/* a */", "/*", "\\",
        ]
    ),
)  # fmt: skip
EXPRESSIONS = st.lists(
    st.tuples(TOKENS, st.sampled_from(["", " ", "\n"])), max_size=25
).map(lambda parts: "".join(tok + sep for tok, sep in parts))


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_tokens_concatenate_to_the_input(expr):
    toks = list(tokenize(expr))
    assert "".join(t.text for t in toks) == expr
    pos = 0
    for t in toks:
        assert t.start == pos
        assert t.text
        pos += len(t.text)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_rename_and_back_is_the_identity(expr):
    names = free_names(expr)
    forth = {n: n + SUFFIX for n in names}
    back = {v: k for k, v in forth.items()}
    renamed = rename(expr, forth)
    assert free_names(renamed) == set(back)
    assert rename(renamed, back) == expr
    assert rename(expr, {}) == expr


# ---- in a DiffFrame ---------------------------------------------------------------


@pytest.mark.root
def test_parameter_after_greater_than_is_inlined(ROOT):
    """``450>p`` and ``p<450`` inline the parameter alike: the same histogram and
    Jacobian."""
    from diffana.rdf import DiffFrame

    df = ROOT.RDataFrame(2000).Define(
        "u", "std::fmod(rdfentry_ * 0.6180339887498949, 1.0) * 4.0"
    )
    ddf = DiffFrame(df, {"p": 2.0, "s": 1.5})
    fn = ddf._core.dual_fn
    assert ddf._inline_params("450>p") == f"450>{fn}(0)"
    assert ddf._inline_params("p<450") == f"{fn}(0)<450"
    edges = np.linspace(0.0, 12.0, 13)
    hists = []
    for expr in ("450>p ? p * u + s : u", "p<450 ? p * u + s : u"):
        d = ddf.define("y", expr).soft_filter("diffana::soft_cut(y, 3.0 * s, 1.0)")
        assert "Dual<double,2>" in d.column_type("y").replace(" ", "")
        hists.append(d.histo("y", edges, bandwidth=0.5))
    first, second = (h.result() for h in hists)
    assert ddf.n_loops == 1
    np.testing.assert_array_equal(first.values, second.values)
    np.testing.assert_array_equal(first.jacobian, second.jacobian)
    assert np.all(np.abs(first.jacobian).max(axis=0) > 0)  # both parameters count
