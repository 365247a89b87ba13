# SPDX-License-Identifier: BSD-3-Clause
"""The README's chain of programs ("Gradients between programs"): every command it
shows parses with the command line's own parser (the commands and options exist);
test_event_chain.py runs the same chain with the same configurations."""

from __future__ import annotations

import importlib
import pathlib
import re
import shlex

import pytest

from diffana.cli import _COMMANDS, _parser

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"

pytestmark = pytest.mark.skipif(not README.is_file(), reason="needs README.md")


def _commands() -> list[list[str]]:
    parts = re.split(r"^## ", README.read_text(), flags=re.MULTILINE)
    (section,) = [p for p in parts if p.startswith("Gradients between programs")]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    lines = block.replace("\\\n", " ").splitlines()
    out = []
    for line in lines:
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("bin/diffana"):
            out.append(words[1:])
    return out


def test_readme_chain_commands_parse():
    commands = _commands()
    assert [c[0] for c in commands] == [
        "generate",
        "select",
        "evaluate",
        "infer",
        "backward",
    ]
    for argv in commands:
        module = importlib.import_module(_COMMANDS[argv[0]][0])
        parser, _ = _parser(argv[0], module)
        args, extra = parser.parse_known_args(argv)
        assert extra == [], argv
        assert args.command == argv[0]
