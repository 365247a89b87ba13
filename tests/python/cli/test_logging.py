# SPDX-License-Identifier: BSD-3-Clause
"""Console output is `logging`: the library logs to the ``diffana`` hierarchy (one
logger per module) and never configures logging; the command line does, with
``-v``/``-q`` before or after the command."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys

import pytest

from diffana.cli import configure_logging, main


@pytest.fixture(autouse=True)
def _restore_logging():
    """Leave the ``diffana`` logger as the test found it."""
    log = logging.getLogger("diffana")
    level, handlers = log.level, list(log.handlers)
    root = logging.getLogger()
    root_level, root_handlers = root.level, list(root.handlers)
    yield
    log.setLevel(level)
    log.handlers[:] = handlers
    root.setLevel(root_level)
    root.handlers[:] = root_handlers


def _emit(verbosity: int) -> tuple[str, str]:
    configure_logging(verbosity)
    out, err = io.StringIO(), io.StringIO()
    log = logging.getLogger("diffana.analysis.driver")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        log.debug("a detail")
        log.info("start:  x = 1   objective = 2")
        log.warning("d objective / d x is exactly 0")
        log.error("it failed")
        logging.getLogger("other.library").debug("not ours")
    return out.getvalue(), err.getvalue()


def test_default_level_shows_info_as_plain_lines_and_warnings_on_stderr():
    out, err = _emit(0)
    assert out == "start:  x = 1   objective = 2\n"
    assert err == "warning: d objective / d x is exactly 0\nerror: it failed\n"


def test_verbose_adds_debug_lines_with_the_logger_name():
    out, _ = _emit(1)
    assert out == ("diffana.analysis.driver: a detail\nstart:  x = 1   objective = 2\n")
    out, _ = _emit(2)  # -vv: other libraries' debug messages too
    assert "other.library: not ours" in out


@pytest.mark.parametrize(
    ("verbosity", "expected_err"),
    [(-1, "warning: d objective / d x is exactly 0\nerror: it failed\n"),
     (-2, "error: it failed\n")],
)  # fmt: skip
def test_quiet_keeps_warnings_then_only_errors(verbosity, expected_err):
    out, err = _emit(verbosity)
    assert out == ""
    assert err == expected_err


def test_configuring_twice_replaces_the_handler():
    configure_logging(0)
    configure_logging(1)
    handlers = logging.getLogger("diffana").handlers
    # the package's own NullHandler (a library never prints unasked) and one console
    assert sum(isinstance(h, logging.NullHandler) for h in handlers) == 1
    assert len(handlers) == 2


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["config", "--cflags"], logging.INFO),
        (["-v", "config", "--cflags"], logging.DEBUG),
        (["config", "--cflags", "-v"], logging.DEBUG),
        (["--verbose", "config", "--cflags"], logging.DEBUG),
        (["-q", "config", "--cflags"], logging.WARNING),
        (["-qq", "config", "--cflags"], logging.ERROR),
        (["config", "--cflags", "-q"], logging.WARNING),
    ],
)
def test_verbosity_options_before_or_after_the_command(argv, level, capsys):
    assert main(argv) == 0
    assert "-std=c++17" in capsys.readouterr().out  # the command's result: printed
    assert logging.getLogger("diffana").level == level


def test_the_library_never_configures_logging():
    """Importing and using the library adds no handler anywhere (the package
    logger may hold a NullHandler) and leaves the levels alone; every module
    that logs uses its own name."""
    pytest.importorskip("pydantic")
    pytest.importorskip("uproot")
    code = (
        "import json, logging, tempfile\n"
        "import diffana.analysis, diffana.generators\n"
        "from diffana.analysis import demo, driver, optimizer, outputs\n"
        "from diffana.generators import _common, toy\n"
        "toy.generate(tempfile.mkdtemp(), seed=1, events=30)\n"
        "log = logging.getLogger('diffana')\n"
        "print(json.dumps({\n"
        "  'handlers': [type(h).__name__ for h in log.handlers],\n"
        "  'root': [type(h).__name__ for h in logging.getLogger().handlers],\n"
        "  'level': log.level,\n"
        "  'names': [m.log.name for m in (demo, driver, optimizer, outputs, _common)],\n"
        "}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    got = json.loads(proc.stdout.splitlines()[-1])
    assert set(got["handlers"]) <= {"NullHandler"}
    assert got["root"] == []
    assert got["level"] == logging.NOTSET
    assert got["names"] == [
        "diffana.analysis.demo",
        "diffana.analysis.driver",
        "diffana.analysis.optimizer",
        "diffana.analysis.outputs",
        "diffana.generators._common",
    ]
    assert proc.stdout.splitlines()[:-1] == []  # nothing printed by the library


def test_generators_log_the_files_they_write(tmp_path, caplog):
    pytest.importorskip("uproot")
    from diffana.generators import toy

    with caplog.at_level(logging.DEBUG, logger="diffana"):
        paths = toy.generate(tmp_path, seed=1, events=30)
    wrote = [r.getMessage() for r in caplog.records if r.name.startswith("diffana.")]
    assert wrote == [f"wrote {p}" for p in paths.values()]
