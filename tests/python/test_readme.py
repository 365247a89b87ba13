# SPDX-License-Identifier: BSD-3-Clause
"""The README's Python example runs and its Jacobian is right."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_python_example_runs_and_is_correct():
    block = python_blocks()[0]
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 (our own README)
    h = namespace["h"]
    assert h.values.shape == (20,)
    assert h.jacobian.shape == (20, 2)

    # The same histogram as a function of (scale, cut), by central differences.
    import diffana

    pt = namespace["pt"]

    def values(scale: float, cut: float) -> np.ndarray:
        w = diffana.soft_cut(pt * scale, cut, slope=0.5)
        return diffana.histogram(
            pt * scale, np.linspace(0, 200, 21), weights=w.value, bandwidth=5.0
        ).values

    eps = (1e-6, 1e-4)
    for k, step in enumerate(eps):
        shift = np.zeros(2)
        shift[k] = step
        fd = (
            values(*(np.array([1.0, 30.0]) + shift))
            - values(*(np.array([1.0, 30.0]) - shift))
        ) / (2 * step)
        np.testing.assert_allclose(h.jacobian[:, k], fd, rtol=1e-5, atol=1e-6)


def test_readme_rdataframe_example_runs(tt_file):
    """The RDataFrame example on the ttbar NanoAOD file: one loop for the nominal
    and both variations, a Jacobian per parameter, a re-run after set_params."""
    pytest.importorskip("ROOT", reason="ROOT (PyROOT) is not importable")
    block = python_blocks()[1]
    namespace: dict = {"files": str(tt_file)}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 (our own README)
    r, v, ddf, h = (namespace[k] for k in ("r", "v", "ddf", "h"))
    assert r.jacobian.shape == (18, 2)
    assert r.param_names == ("jes", "pt_cut")
    assert set(v) == {"nominal", "jet_pt_c:up", "jet_pt_c:down"}
    assert v["jet_pt_c:up"].values.sum() != r.values.sum()
    assert ddf.n_loops == 1
    assert h.result().values.sum() != r.values.sum()  # jes = 1.02 now
    assert ddf.n_loops == 2
