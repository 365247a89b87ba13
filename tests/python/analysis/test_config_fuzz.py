# SPDX-License-Identifier: BSD-3-Clause
"""Fuzzing the configuration loader (diffana.analysis.config): random YAML-ish
documents, random mutations of a valid configuration and random ``--set`` items
either give a `Config` or raise `ConfigError`; never any other exception."""

from __future__ import annotations

import copy
import pathlib
from typing import Any

import pytest

pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffana.analysis import config as dc
from diffana.analysis import demo

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

RAW: dict[str, Any] = yaml.safe_load(demo.config_path().read_text())
TEXT = demo.config_path().read_text()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("fuzz")


def outcome(call: Any, *args: Any, **kw: Any) -> dc.Config | None:
    """``call(*args, **kw)``: a Config, or None for a ConfigError (one line per
    problem); any other exception fails the test."""
    try:
        cfg = call(*args, **kw)
    except dc.ConfigError as e:
        msg = str(e)
    else:
        assert isinstance(cfg, dc.Config)
        return cfg
    first, *more = msg.split("\n")
    assert first, "an empty error message"
    if more:  # a list of schema problems
        listed = first.endswith("invalid configuration:")
        assert listed or all(x.startswith("--set ") for x in [first, *more]), msg
        assert all(more), msg
    return None


# ---- values ------------------------------------------------------------------------------

odd_text = st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=12
) | st.sampled_from(["", " ", "std", "Sum", "int", "1e-3", "1e999", ".inf", "\u00e9",
                     "\u202e", "\U0001f600", "nan", "~", "a" * 300])  # fmt: skip
ODD_NUMBERS = [float("inf"), -float("inf"), float("nan"), 0, -1, 0.0, -0.0, 1e308,
               5e-324, 10**30, 10**400, 10**4200, True, False]  # fmt: skip
odd_numbers = st.sampled_from(ODD_NUMBERS) | st.floats() | st.integers()
scalars = st.none() | odd_numbers | odd_text


def nested(depth: int) -> Any:
    value: Any = 1.0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(odd_text | st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
) | st.integers(30, 120).map(nested)


# ---- mutations of a valid configuration ------------------------------------------------


def paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a raw configuration."""
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*path, i))
    return out


PATHS = paths(RAW)[1:]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = raw
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]]  # the path may be gone after an earlier change
        except (KeyError, IndexError, TypeError):
            continue
        kind = draw(st.sampled_from(["replace", "delete", "extra"]))
        if kind == "replace":
            parent[path[-1]] = draw(values)
        elif kind == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif kind == "delete":
            parent.pop(path[-1])
        elif isinstance(parent, dict):
            parent[draw(odd_text)] = draw(values)
        else:
            parent.append(draw(values))
    return raw


@SETTINGS
@given(raw=mutated())
def test_mutated_configurations(folder, raw):
    outcome(dc.load_dict, raw)
    path = folder / "m.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    outcome(dc.load, path, check_files=False)


@SETTINGS
@given(value=values)
def test_any_value_where_the_configuration_belongs(value):
    outcome(dc.load_dict, value)


# ---- YAML-ish text -------------------------------------------------------------------------

yaml_pieces = st.sampled_from(
    ["\n", ": ", "- ", "  ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "!!int ",
     "!!python/object ", "? ", "|\n", ">-\n", "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n",
     "lumi", "samples", ".inf", ".nan", "1e-3", "0x1f", "\t", "\x00", "\ufeff", "\u2028"]
)  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["pieces", "edit", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "pieces":
        parts = draw(st.lists(yaml_pieces | odd_text, max_size=40))
        text = "".join(parts)
    else:  # an edit of the valid file: a cut, an insertion or a swap of lines
        lines = TEXT.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(i, min(len(lines), i + 5)))
        what = draw(st.sampled_from(["cut", "insert", "duplicate"]))
        if what == "cut":
            del lines[i:j]
        elif what == "insert":
            lines.insert(i, "".join(draw(st.lists(yaml_pieces | odd_text, max_size=8))))
        else:
            lines[j:j] = lines[i:j]
        text = "".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
    return text.encode(encoding, errors="surrogatepass")


@SETTINGS
@given(data=documents())
def test_yaml_documents(folder, data):
    path = folder / "d.yaml"
    path.write_bytes(data)
    outcome(dc.load, path, check_files=False)


set_items = st.builds(
    "{}={}".format,
    st.sampled_from(["lumi", "disc_cut", "optimizer.steps", "samples.0.xsec",
                     "samples.9.xsec", "observables.0.bins", "defines.x", "a.b.c",
                     "samples.\u00b2.xsec", "parameters.0", "9" * 50]) | odd_text,
    yaml_pieces | odd_text | st.builds(str, odd_numbers),
) | odd_text  # fmt: skip


@SETTINGS
@given(items=st.lists(set_items, min_size=1, max_size=3))
def test_set_items(folder, items):
    path = folder / "s.yaml"
    if not path.exists():
        path.write_text(TEXT)
    outcome(dc.load, path, items, check_files=False)
