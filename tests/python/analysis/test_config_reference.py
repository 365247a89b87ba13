# SPDX-License-Identifier: BSD-3-Clause
"""docs/config.md is the configuration reference that diffana.analysis.reference
writes from the schema: every key has a description, and the file is up to date."""

from __future__ import annotations

import pathlib

import pytest

pytest.importorskip("pydantic")

from diffana.analysis import reference
from diffana.analysis.config import Config

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "config.md"


@pytest.mark.skipif(not DOC.is_file(), reason="needs the source tree's docs/")
def test_docs_config_md_is_what_the_generator_writes():
    assert DOC.read_text(encoding="utf-8") == reference.render(), (
        "docs/config.md is out of date with the configuration schema; regenerate it "
        f"from the repository root with: {reference.COMMAND}"
    )


def _models(model, seen):
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for tp in reference._members(field.annotation):
            inner, _ = reference._strip(tp)
            for arg in (inner, *getattr(inner, "__args__", ())):
                for m in reference._members(arg):
                    if reference._is_model(m):
                        _models(m, seen)


def test_every_key_is_described_and_listed():
    seen: set[type] = set()
    _models(Config, seen)
    assert len(seen) >= 10  # samples, data, parameters, ..., optimizer, bins
    text = reference.render()
    for model in seen:
        for name, field in model.model_fields.items():
            if field.exclude:
                continue
            assert field.description, f"{model.__name__}.{name} has no description"
            assert f"{name}` |" in text, f"{model.__name__}.{name} is not listed"


def test_types_defaults_and_units():
    rows = {
        line.split(" | ")[0].strip("| `"): line.split(" | ")[1:4]
        for line in reference.render().splitlines()
        if line.startswith("| `")
    }
    assert rows["lumi"] == ["number (> 0)", "`1`", "1/pb"]
    assert rows["samples[].xsec"] == ["number or null (> 0)", "`null`", "pb"]
    assert rows["samples[].role"][0] == r"`signal` \| `background`"
    assert rows["observables[].bins.n"] == ["integer (>= 1)", "required", ""]
    assert rows["normfactors[].bounds"][1] == "`[0, 10]`"
    assert rows["poi"][1] == "`mu`"
