# SPDX-License-Identifier: BSD-3-Clause
"""``--scheduler ADDRESS`` and ``--workers N`` of ``diffana optimize`` and ``diffana
evaluate``: parsed, checked, and exclusive of each other (argparse's usage errors,
exit status 2)."""

from __future__ import annotations

import argparse

import pytest

from diffana.cli._analysis import add_set_and_threads


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diffana optimize")
    add_set_and_threads(parser)
    return parser


def test_scheduler_and_workers_are_parsed():
    args = _parser().parse_args(["--workers", "2"])
    assert (args.scheduler, args.workers) == (None, 2)
    args = _parser().parse_args(["--scheduler", "tcp://head:8786"])
    assert (args.scheduler, args.workers) == ("tcp://head:8786", None)
    args = _parser().parse_args([])
    assert (args.scheduler, args.workers) == (None, None)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_workers_must_be_a_whole_number_of_at_least_one(capsys, value):
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["--workers", value])
    assert info.value.code == 2
    assert "argument --workers: expected a whole number >= 1" in capsys.readouterr().err


def test_scheduler_and_workers_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["--workers", "2", "--scheduler", "tcp://h:8786"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({}, "either a scheduler"), ({"scheduler": "tcp://h:1", "workers": 2}, "either"),
     ({"workers": 0}, "workers must be"), ({"workers": True}, "workers must be")],
)  # fmt: skip
def test_cluster_wants_a_scheduler_or_a_number_of_workers(kwargs, match):
    from diffana.distributed import cluster

    with pytest.raises(ValueError, match=match), cluster(**kwargs):
        pass


@pytest.mark.parametrize("option", ["--batch", "--partition-entries"])
def test_batching_needs_a_cluster(capsys, tmp_path, option):
    from diffana.cli import main

    assert main(["optimize", str(tmp_path / "a.yaml"), option, "2"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "diffana optimize: error: --batch and --partition-entries need a Dask "
        "cluster (--scheduler or --workers)"
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"batch": 0}, "batch must be"), ({"max_entries": 1.5}, "max_entries must be")],
)
def test_cluster_options_are_whole_numbers(kwargs, match):
    from diffana.distributed import cluster

    with pytest.raises(ValueError, match=match), cluster(workers=1, **kwargs):
        pass
