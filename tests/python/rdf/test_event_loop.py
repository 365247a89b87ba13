# SPDX-License-Identifier: BSD-3-Clause
"""Event loops that fail inside ROOT (a C++ exception, a crash) raise
`EventLoopError` instead of ending the process; a variation registered twice is
refused; identical DiffFrames rebuilt in a loop reuse their compiled code."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from diffana.rdf import DiffFrame, EventLoopError

pytestmark = pytest.mark.root

EDGES = np.linspace(0.0, 100.0, 5)


@pytest.fixture(scope="module")
def crash(ROOT):
    ROOT.gInterpreter.Declare(
        """
        double diffana_test_crash(double x) {
          if (x > 50) { volatile int* p = nullptr; return *p; }
          return x;
        }
        """
    )


def new_df(ROOT):
    return (
        ROOT.RDataFrame(100)
        .Define("x", "double(rdfentry_)")
        .Define("v", "ROOT::RVec<float>{1.f, 2.f}")
    )


@pytest.fixture
def df(ROOT, crash):
    """A new RDataFrame per test: one whose loop crashed is not used again."""
    return new_df(ROOT)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        # Not "bad x": RDataFrame substitutes column names even inside strings.
        ('x > 50 ? throw std::runtime_error("bad event") : x * a', "bad event"),
        ("v.at(5) * a", "out_of_range: RVecN::at: size is 2"),
        ("diffana_test_crash(x) * a", "SegmentationViolation"),
    ],
)
def test_failed_loop_raises(ROOT, df, expression, reason):
    ddf = DiffFrame(df, {"a": 1.0}).define("y", expression)
    h = ddf.histo("y", EDGES)
    with pytest.raises(EventLoopError) as err:
        h.result()
    assert str(err.value).startswith("the event loop failed: ")
    assert reason in str(err.value)
    assert "\n" not in str(err.value)
    # The C++ state after a failure is not trusted: the family refuses more loops.
    ddf.set_params(a=2.0)
    with pytest.raises(EventLoopError, match=r"an earlier event loop .* failed"):
        h.result()
    # Other RDataFrames keep working (the failed loop's actions stay booked on
    # its own RDataFrame, which is not used again).
    ok = DiffFrame(new_df(ROOT), {"a": 1.0}).define("y", "x * a").histo("y", EDGES)
    assert ok.result().values.sum() == 100


def test_same_column_varied_twice_under_one_name(df):
    ddf = DiffFrame(df, {"a": 1.0}).define("y", "x * a")
    once = ddf.vary("y", {"up": "y * 2", "down": "y * 0.5"}, name="s")
    with pytest.raises(ValueError, match="'y' is already varied under the name 's'"):
        once.vary("y", {"up": "y * 3", "down": "y * 0.1"}, name="s")
    with pytest.raises(ValueError, match="already varied under the name 'y'"):
        ddf.vary("y", {"up": "y * 2"}).define("z", "y + 1").vary("y", {"up": "y"})
    # Another name, or another branch of the graph, is fine.
    twice = once.vary("y", {"up": "y * 3"}, name="t")
    assert sorted(twice.histo("y", EDGES).variations()) == [
        "nominal", "s:down", "s:up", "t:up"
    ]  # fmt: skip
    ddf.vary("y", {"up": "y * 3"}, name="s")


def test_rebuilt_frames_reuse_their_parameter_block(df):
    def build() -> DiffFrame:
        return DiffFrame(df, {"a": 1.0, "b": 2.0}).define("y", "x * a + b")

    first = build()
    name = first._core.cname
    total = first.histo("y", EDGES).result().values.sum()
    second = build()  # both alive: separate blocks
    assert second._core.cname != name
    released = {name, second._core.cname}
    del first, second
    gc.collect()
    third = build()
    assert third._core.cname in released
    assert third.params == {"a": 1.0, "b": 2.0}
    assert third.histo("y", EDGES).result().values.sum() == total
    other = DiffFrame(df, {"a": 1.0})  # other names: another block
    assert other._core.cname != third._core.cname


def test_identical_frames_do_not_grow_the_process(df):
    """Before the pool every DiffFrame compiled its expressions again (about 3 MB
    each for this one at -O0); now a rebuilt graph compiles nothing."""

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 1e6

    def one() -> float:
        ddf = DiffFrame(df, {"a": 1.0, "b": 2.0}).define("y", "x * a + b")
        h = ddf.soft_filter("diffana::soft_cut(y, b, 1.0)").histo("y", EDGES)
        return float(h.result().values.sum())

    for _ in range(3):
        one()
    gc.collect()
    before = rss_mb()
    for _ in range(20):
        one()
    gc.collect()
    assert (rss_mb() - before) / 20 < 0.5
