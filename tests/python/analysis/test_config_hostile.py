# SPDX-License-Identifier: BSD-3-Clause
"""The configuration loader against hostile input (diffana.analysis.config): every
number finite and of its type, no duplicate YAML keys, no name that shadows a C++
name, and a one-line `ConfigError` (never a traceback) for files that are not a
configuration at all."""

from __future__ import annotations

import copy
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pydantic")
yaml = pytest.importorskip("yaml")

from diffana import _checks
from diffana.analysis import config as dc
from diffana.analysis import demo

REPO = pathlib.Path(__file__).resolve().parents[3]
INF, NAN = float("inf"), float("nan")


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(demo.config_path().read_text())


def load_text(tmp_path: pathlib.Path, text: str | bytes, **kw: Any) -> dc.Config:
    path = tmp_path / "c.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return dc.load(path, check_files=False, **kw)


def load_raw(tmp_path: pathlib.Path, raw: dict[str, Any], **kw: Any) -> dc.Config:
    return load_text(tmp_path, yaml.safe_dump(raw, sort_keys=False), **kw)


def error(tmp_path: pathlib.Path, raw: dict[str, Any] | str | bytes, **kw: Any) -> str:
    load = load_raw if isinstance(raw, dict) else load_text
    with pytest.raises(dc.ConfigError) as info:
        load(tmp_path, raw, **kw)
    return str(info.value)


def edited(raw: dict[str, Any], edit: Callable[[dict[str, Any]], object]) -> Any:
    out = copy.deepcopy(raw)
    edit(out)
    return out


# ---- every number finite --------------------------------------------------------------

#: Key path -> an edit that puts the value there.
NUMBER_KEYS: dict[str, Callable[[dict[str, Any], object], object]] = {
    "lumi": lambda r, v: r.update(lumi=v),
    "max_skipped_fraction": lambda r, v: r.update(max_skipped_fraction=v),
    "samples[0].xsec": lambda r, v: r["samples"][0].update(xsec=v),
    "samples[1].scale": lambda r, v: r["samples"][1].update(scale=v),
    "parameters[0].value": lambda r, v: r["parameters"][0].update(value=v),
    "parameters[1].bounds[1]": lambda r, v: r["parameters"][1].update(bounds=[0.0, v]),
    "observables[0].bins.low": lambda r, v: r["observables"][0]["bins"].update(low=v),
    "observables[0].bins[1]": lambda r, v: r["observables"][0].update(bins=[0, v, 2]),
    "observables[0].bandwidth": lambda r, v: r["observables"][0].update(bandwidth=v),
    "observables[0].fit_bins[0]": lambda r, v: r["observables"][0].update(
        fit_bins=[v, 3.0]
    ),
    "systematics[0].hi": lambda r, v: r["systematics"][0].update(hi=v),
    "systematics[1].lo": lambda r, v: r["systematics"][1].update(lo=v),
    "objective.mu": lambda r, v: r.update(objective={"type": "cls", "mu": v}),
    "objective.background_uncertainty": lambda r, v: r.update(
        objective={"type": "asimov_significance", "background_uncertainty": v}
    ),
    "optimizer.learning_rate": lambda r, v: r["optimizer"].update(learning_rate=v),
    "optimizer.tolerance": lambda r, v: r["optimizer"].update(tolerance=v),
}


@pytest.mark.parametrize("key", NUMBER_KEYS)
@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_non_finite_numbers_are_refused_naming_the_key(tmp_path, raw, key, value):
    msg = error(tmp_path, edited(raw, lambda r: NUMBER_KEYS[key](r, value)))
    # Regular bins are checked as one value: their problems follow "bins: ".
    where = key.replace("bins.", "bins: ")
    assert f"{where}: Input should be a finite number, got {value}" in msg, msg


def test_non_finite_numbers_from_yaml_and_set(tmp_path, raw):
    text = yaml.safe_dump(raw, sort_keys=False).replace("lumi: 1000.0", "lumi: .nan")
    assert "lumi: Input should be a finite number, got nan" in error(tmp_path, text)
    # An exponent beyond the float range is infinite.
    text = yaml.safe_dump(raw, sort_keys=False).replace("lumi: 1000.0", "lumi: 1e999")
    assert "lumi: Input should be a finite number" in error(tmp_path, text)
    msg = error(tmp_path, raw, overrides=["disc_cut=.inf"])
    assert msg.startswith("--set 'disc_cut=.inf': parameters[0].value: Input should "
                          "be a finite number"), msg  # fmt: skip


# ---- numbers of the right type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda r: r["observables"][0]["bins"].update(n=True),
            "observables[0].bins: n: Input should be a valid integer, got true",
        ),
        (
            lambda r: r["observables"][0]["bins"].update(n="3"),
            "observables[0].bins: n: Input should be a valid integer, got '3'",
        ),
        (
            lambda r: r["observables"][0]["bins"].update(n=3.0),
            "observables[0].bins: n: Input should be a valid integer, got 3.0",
        ),
        (
            lambda r: r["optimizer"].update(steps="3"),
            "optimizer.steps: Input should be a valid integer, got '3'",
        ),
        (
            lambda r: r["optimizer"].update(steps=False),
            "optimizer.steps: Input should be a valid integer, got false",
        ),
        (
            lambda r: r.update(lumi=True),
            "lumi: Input should be a valid number, got true",
        ),
        (
            lambda r: r.update(lumi="1000"),
            "lumi: Input should be a valid number, got '1000'",
        ),
        (
            lambda r: r["samples"][0].update(xsec="0.05"),
            "samples[0].xsec: Input should be a valid number, got '0.05'",
        ),
        (
            lambda r: r["parameters"][0].update(value=False),
            "parameters[0].value: Input should be a valid number, got false",
        ),
        (
            lambda r: r["parameters"][0].update(bounds=[False, 1.0]),
            "parameters[0].bounds[0]: Input should be a valid number, got false",
        ),
        (
            lambda r: r["observables"][0].update(bandwidth=True),
            "observables[0].bandwidth: Input should be a valid number, got true",
        ),
        (
            lambda r: r["systematics"][0].update(hi="1.02"),
            "systematics[0].hi: Input should be a valid number, got '1.02'",
        ),
        (
            lambda r: r.update(mc_stat=1),
            "mc_stat: Input should be a valid boolean, got 1",
        ),
        (
            lambda r: r["parameters"][0].update(optimize="yes"),
            "parameters[0].optimize: Input should be a valid boolean, got 'yes'",
        ),
    ],
)
def test_booleans_and_strings_are_not_numbers(tmp_path, raw, edit, expected):
    msg = error(tmp_path, edited(raw, edit))
    assert expected in msg, msg


def test_yaml_number_forms(tmp_path, raw):
    """Ints are floats where floats belong; ``1e-3`` (a string to YAML 1.1, which
    wants a dot: ``1.0e-3``) is read as a float where a float belongs, and stays an
    expression in ``defines``."""
    raw = copy.deepcopy(raw)
    raw["observables"][0]["bandwidth"] = 0.2  # soft bins, for the .2e0 form below
    text = yaml.safe_dump(raw, sort_keys=False)
    text = text.replace("lumi: 1000.0", "lumi: 1000")
    text = text.replace("learning_rate: 0.03", "learning_rate: 1e-3")
    text = text.replace("tolerance: 0.0001", "tolerance: 5E+0")
    text = text.replace("bandwidth: 0.2", "bandwidth: .2e0")
    text = text.replace("defines:\n", "defines:\n  eps: 1e-4\n")
    cfg = load_text(tmp_path, text)
    assert cfg.lumi == 1000.0
    assert isinstance(cfg.lumi, float)
    assert cfg.optimizer.learning_rate == 1e-3
    assert cfg.optimizer.tolerance == 5.0
    assert cfg.observables[0].bandwidth == 0.2
    assert cfg.defines["eps"] == "1e-4"
    cfg = load_text(tmp_path, text, overrides=["optimizer.learning_rate=2e-2"])
    assert cfg.optimizer.learning_rate == 0.02
    # Only numbers in exponent form: a plain numeric string stays refused.
    msg = error(tmp_path, text, overrides=["optimizer.learning_rate='0.1'"])
    assert "optimizer.learning_rate: Input should be a valid number, got '0.1'" in msg
    # Exponent-form strings are floats, never integers.
    msg = error(tmp_path, text, overrides=["optimizer.steps=1e1"])
    assert "optimizer.steps: Input should be a valid integer, got '1e1'" in msg


# ---- duplicate keys ----------------------------------------------------------------------


def test_duplicate_top_level_key(tmp_path, raw):
    text = yaml.safe_dump(raw, sort_keys=False) + "lumi: 1.0\n"
    first = text.splitlines().index("lumi: 1000.0") + 1
    last = len(text.splitlines())
    msg = error(tmp_path, text)
    assert f"lumi: duplicate key (lines {first} and {last})" in msg, msg
    assert "\n" not in msg


def test_duplicate_nested_keys(tmp_path, raw):
    text = yaml.safe_dump(raw, sort_keys=False)
    text = text.replace("  xsec: 5.0\n", "  xsec: 5.0\n  xsec: 6.0\n")
    msg = error(tmp_path, text)
    assert "samples[1].xsec: duplicate key (lines" in msg, msg
    text = yaml.safe_dump(raw, sort_keys=False) + "mc_stat: {a: 1, a: 2}\n"
    assert "mc_stat.a: duplicate key" in error(tmp_path, text)
    msg = error(tmp_path, raw, overrides=["optimizer={steps: 1, steps: 2}"])
    assert msg.startswith("--set 'optimizer={steps: 1, steps: 2}': optimizer.steps: "
                          "duplicate key"), msg  # fmt: skip


def test_merge_keys_and_anchors_still_work(tmp_path, raw):
    text = yaml.safe_dump(raw, sort_keys=False)
    text = text.replace("- name: signal\n", "- &base\n  name: signal\n", 1)
    text = text.replace("- name: ttbar\n", "- <<: *base\n  name: ttbar\n", 1)
    cfg = load_text(tmp_path, text)
    assert cfg.samples[1].name == "ttbar"


# ---- files and values that are not a configuration ------------------------------------


def one_line_error(tmp_path: pathlib.Path, text: str | bytes, **kw: Any) -> str:
    msg = error(tmp_path, text, **kw)
    assert "\n" not in msg, msg
    assert str(tmp_path / "c.yaml") in msg or msg.startswith("--set "), msg
    return msg


def test_deep_nesting(tmp_path):
    msg = one_line_error(tmp_path, "lumi: " + "[" * 500 + "]" * 500 + "\n")
    assert "nested deeper than" in msg, msg
    msg = one_line_error(
        tmp_path, "a:\n" + "".join(f"{' ' * i} b:\n" for i in range(400))
    )
    assert "nested deeper than" in msg, msg


def test_encodings(tmp_path, raw):
    text = "# caf\u00e9\n" + yaml.safe_dump(raw, sort_keys=False)
    msg = one_line_error(tmp_path, text.encode("latin-1"))
    assert "not UTF-8" in msg, msg
    # UTF-16 and UTF-8 with a byte-order mark are read.
    assert load_text(tmp_path, text.encode("utf-16")).samples[2].files
    assert load_text(tmp_path, b"\xef\xbb\xbf" + text.encode()).samples[2].files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"- 1\n- 2\n", "the configuration must be a mapping (key: value), got a list"),
        (b"just text\n", "the configuration must be a mapping (key: value), got 'just"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
        (b"lumi: \x00\x01\n", "not valid YAML"),
        (b"lumi: " + b"7" * 5000 + b"\n", "an integer of 5000 digits"),
        (b"lumi: [1, 2\n", "not valid YAML"),
    ],
)
def test_not_a_configuration(tmp_path, text, expected):
    assert expected in one_line_error(tmp_path, text)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(dc.ConfigError, match="cannot read the configuration") as info:
        dc.load(tmp_path / "none.yaml")
    assert "\n" not in str(info.value)
    with pytest.raises(dc.ConfigError, match="is a folder") as info:
        dc.load(tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("lumi=[1,", "--set 'lumi=[1,': line 1, column 4: not valid YAML"),
        ("lumi={a: 1, a: 2}", "--set 'lumi={a: 1, a: 2}': lumi.a: duplicate key"),
        ("lumi=" + "[" * 300, "nested deeper than"),
        ("lumi=" + "9" * 5000, "an integer of 5000 digits"),
    ],
)
def test_set_values_that_are_not_yaml(tmp_path, raw, item, expected):
    msg = error(tmp_path, raw, overrides=[item])
    assert msg.startswith(f"--set {item!r}"[:20]), msg
    assert expected in msg, msg
    assert "\n" not in msg
    assert len(msg) < 400, msg


def test_load_dict_of_huge_and_cyclic_values(raw):
    r = copy.deepcopy(raw)
    r["lumi"] = 10**5000
    with pytest.raises(dc.ConfigError, match="lumi: Input should be a valid number, "
                       "got an integer of 5001 digits"):  # fmt: skip
        dc.load_dict(r)
    r = copy.deepcopy(raw)
    loop: list[Any] = []
    loop.append(loop)
    r["samples"] = loop
    with pytest.raises(dc.ConfigError, match="samples"):
        dc.load_dict(r)


# ---- names that shadow C++ names ---------------------------------------------------------

RESERVED = ["std", "Sum", "int", "diffana", "class", "and", "ROOT", "TMath", "RVec",
            "rdfslot_", "rdfentry_", "Max"]  # fmt: skip

NAME_KEYS: dict[str, Callable[[dict[str, Any], str], object]] = {
    "parameters[0].name": lambda r, n: r["parameters"][0].update(name=n),
    "samples[0].name": lambda r, n: r["samples"][0].update(name=n),
    "systematics[2].name": lambda r, n: r["systematics"][2].update(name=n),
    "observables[0].name": lambda r, n: r["observables"][0].update(name=n),
    "defines": lambda r, n: r["defines"].update({n: "1.0"}),
}


@pytest.mark.parametrize("key", NAME_KEYS)
@pytest.mark.parametrize("name", RESERVED)
def test_names_that_shadow_cpp_names(tmp_path, raw, key, name):
    msg = error(tmp_path, edited(raw, lambda r: NAME_KEYS[key](r, name)))
    assert key in msg, msg
    assert f"{name!r} is a C++ keyword" in msg or f"{name!r} is reserved" in msg, msg


def test_identifier_reserved_names():
    with pytest.raises(ValueError, match=r"name 'float' is a C\+\+ keyword"):
        _checks.identifier("float")
    with pytest.raises(ValueError, match=r"'TMath' is reserved: .*namespace"):
        _checks.identifier("TMath")
    # Keywords are never identifiers; helper names are fine for diffana's own
    # columns and the input's branches (reserved=False).
    with pytest.raises(ValueError, match="keyword"):
        _checks.identifier("new", reserved=False)
    assert _checks.identifier("Sum", reserved=False) == "Sum"
    for ok in ("std_x", "Sum2", "sum", "root", "interval", "rdfslot"):
        assert _checks.identifier(ok) == ok


@pytest.mark.parametrize(
    "path", [demo.config_path(), REPO / "examples" / "agc" / "agc.yaml"], ids=str
)
def test_shipped_configurations_are_valid(path):
    """The shipped configurations use no reserved name and no duplicate key."""
    assert dc.load(path, check_files=False).samples
