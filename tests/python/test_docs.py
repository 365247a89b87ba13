# SPDX-License-Identifier: BSD-3-Clause
"""The user documentation (README.md, docs/) points at things that exist and its
commands run from the repository root as written.

What is checked: relative links resolve; file and folder names in inline code exist
in the repository; shell commands call diffana's programs through ``.venv/bin/``
(``make demo`` creates that environment; nothing is on PATH until it is activated);
the only set-up commands are ``make demo`` and ``make test``; every benchmark table
lives in docs/benchmarks.md, each after the command that produced it.
"""

from __future__ import annotations

import pathlib
import re

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

# The source tree's documentation: absent where only the tests are copied (the Docker
# image runs them against the installed package).
pytestmark = pytest.mark.skipif(
    not (REPO_ROOT / "python" / "diffana").is_dir() or not README.is_file(),
    reason="needs the repository's source tree (README.md, docs/, python/)",
)

# Folders a name in inline code may be relative to: the repository root and the
# folders the README's layout tables describe.
BASES = [
    REPO_ROOT / sub
    for sub in (
        "",
        "include",
        "include/diffana",
        "src",
        "python",
        "python/diffana",
        "tests",
        "macros",
        "examples",
        "cmake",
        "docs",
    )
]
# Written by the commands the README shows, or by the reader: not in the repository.
GENERATED = (
    "out/", "build/", ".venv", "../", "report.json", "grad_hist.C",
    "run_complete.json", "checkpoint.json", "previous/", "docs/config.md",
)  # fmt: skip
FILE_LIKE = re.compile(
    r"^[\w.*-]+(?:/[\w.*-]+)*(?:/|\.(?:py|hpp|h|cpp|C|cu|yaml|json|md|cmake|in))$"
)


def fenced(text: str, lang: str | None = None) -> list[str]:
    """The fenced code blocks of ``text`` (of language ``lang``, if given)."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    return [body for fence, body in blocks if lang is None or fence == lang]


def prose(text: str) -> str:
    """``text`` without its fenced code blocks."""
    return re.sub(r"^```\w*\n.*?^```\n?", "", text, flags=re.DOTALL | re.MULTILINE)


def shell_lines(text: str) -> list[str]:
    """The commands of the bash blocks, comments removed."""
    lines = []
    for block in fenced(text, "bash"):
        for line in block.splitlines():
            command = line.split(" #", 1)[0].strip()
            if command:
                lines.append(command)
    return lines


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page.read_text())):
        if re.match(r"^[a-z]+://", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name} links to {target}, which does not exist"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_names_in_inline_code_exist(page):
    for name in re.findall(r"`([^`\n]+)`", prose(page.read_text())):
        if not FILE_LIKE.match(name) or name.startswith(GENERATED):
            continue
        found = any(
            list(base.glob(name.rstrip("/"))) if "*" in name else (base / name).exists()
            for base in BASES
        )
        assert found, f"{page.name} names `{name}`, which is not in the repository"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_use_the_environment_of_make_demo(page):
    bare = re.compile(r"(?:^|[\s($;&|])(diffana|root|python3?|pip|pytest)(?=\s|$)")
    for command in shell_lines(page.read_text()):
        assert not bare.search(command), (
            f"{page.name}: `{command}` calls a program of .venv without .venv/bin/"
        )


def test_the_only_set_up_commands_are_make_demo_and_make_test():
    makes = [c for c in shell_lines(README.read_text()) if c.startswith("make")]
    assert makes == ["make demo", "make test"]


def test_benchmark_tables_are_in_docs_each_after_its_command():
    def tables(text: str) -> list[str]:
        return re.findall(r"^\|.*\|\n\|[-:| ]+\|\n", prose(text), flags=re.MULTILINE)

    # The README's only tables are the layout tables: no timings.
    for header in tables(README.read_text()):
        assert not re.search(r"\[(ms|s|MB)\]", header), header
    page = (REPO_ROOT / "docs" / "benchmarks.md").read_text()
    sections = re.split(r"^## ", page, flags=re.MULTILINE)[1:]
    with_tables = [s for s in sections if tables(s)]
    assert len(with_tables) == 10
    for section in with_tables:
        before_table = section[: section.index("\n|")]
        scripts = re.findall(
            r"benchmarks/[\w./-]+", " ".join(shell_lines(before_table))
        )
        assert scripts, f"no command before the table of {section.splitlines()[0]!r}"
        for script in scripts:
            assert (REPO_ROOT / script).is_file(), script


def test_no_issue_numbers_in_the_documentation():
    for page in PAGES:
        text = page.read_text()
        assert not re.search(r"\bissues? \d+|(?<![\w/&])#\d+\b", text), page.name
