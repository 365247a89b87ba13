# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the network configuration tests: ``raw``, the demo configuration with
a small network used as a soft selection, and ``folder``, toy samples for it (each
module gets its own of both)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def raw():
    """The demo configuration (a dict) with network ``nn`` (2 inputs, 3 hidden
    units, a sigmoid output) as a soft selection."""
    yaml = pytest.importorskip("yaml")
    from diffana.analysis import demo

    r = yaml.safe_load(demo.config_path().read_text())
    r["defines"]["pt2_s"] = "(pt2 - 100.0) / 50.0"
    r["networks"] = {
        "nn": {
            "inputs": ["pt2_s", "disc"],
            "layers": [3, 1],
            "output_activation": "sigmoid",
            "seed": 2,
        }
    }
    r["selections"].append({"soft_filter": "nn"})  # the network as an event weight
    return r


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with the toy samples of the demo (600 events each) in samples/."""
    pytest.importorskip("uproot")
    from diffana.generators import toy as generate

    path = tmp_path_factory.mktemp("nncfg")
    generate.generate(path / "samples", seed=2, events=600)
    return path
