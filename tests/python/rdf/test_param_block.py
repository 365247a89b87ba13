# SPDX-License-Identifier: BSD-3-Clause
"""`DiffFrame.param_block`: the C++ object of a family's forward parameters, what
a function declared to cling reads (as a network's call does): the family's
frames share it, another family has its own, a family with the same names takes
over the block of one that is gone; C++ reading it sees `DiffFrame.set_params`,
and a column computed from its Duals carries the parameters' derivatives into the
histograms' Jacobians (equal to the parameter columns')."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from diffana.rdf import DiffFrame
from diffana.rdf.frame import ParamBlock

pytestmark = pytest.mark.root

EDGES = np.linspace(0.0, 1.0, 5)


def _frame(ROOT, params):
    df = ROOT.RDataFrame(200).Define("x", "0.005 * rdfentry_")
    return DiffFrame(df, params)


def test_the_block_of_a_family(ROOT):
    ddf = _frame(ROOT, {"pb_a": 2.0, "pb_b": 0.5})
    block = ddf.param_block
    assert isinstance(block, ParamBlock)
    assert block.names == ddf.param_names == ("pb_a", "pb_b")
    assert block.cpp_type == "diffana::rdf::Params<2>"
    assert ddf.define("y", "x * pb_a").filter("x > 0.1").param_block == block
    other = _frame(ROOT, {"pb_a": 2.0, "pb_b": 0.5})
    assert other.param_block.cpp_name != block.cpp_name
    assert other.param_block.id != block.id
    cpp = getattr(ROOT, block.cpp_name)
    assert list(cpp.values()) == [2.0, 0.5]
    ddf.set_params(pb_b=4.0)
    assert list(cpp.values()) == [2.0, 4.0]
    with pytest.raises(AttributeError):
        block.id = 3  # frozen


def test_a_new_family_takes_over_the_block_of_one_that_is_gone(ROOT):
    ddf = _frame(ROOT, {"pb_taken": 1.0})
    first = ddf.param_block
    del ddf
    gc.collect()
    again = _frame(ROOT, {"pb_taken": 3.0})
    assert again.param_block == ParamBlock(first.cpp_name, first.id, ("pb_taken",))
    assert list(getattr(ROOT, first.cpp_name).values()) == [3.0]


def test_cpp_reading_the_duals_gives_the_parameters_derivatives(ROOT):
    """A weight ``a * x + b`` computed by a declared function from the block's
    Duals equals the same weight written with the parameter columns, Jacobians
    included."""
    ddf = _frame(ROOT, {"pb_c": 1.5, "pb_d": 0.25})
    block = ddf.param_block
    fn = f"pb_weight_{block.id}"
    assert ROOT.gInterpreter.Declare(
        f"diffana::Dual<double, 2> {fn}(double x) {{\n"
        f"  return {block.cpp_name}.dual(0) * x + {block.cpp_name}.dual(1);\n}}"
    )
    by_block = ddf.define("w_block", f"{fn}(x)").histo("x", EDGES, weight="w_block")
    by_columns = ddf.define("w_cols", "pb_c * x + pb_d").histo(
        "x", EDGES, weight="w_cols"
    )
    for params in ({}, {"pb_c": -0.5, "pb_d": 2.0}):
        ddf.set_params(params)
        got, want = by_block.result(), by_columns.result()
        np.testing.assert_allclose(got.values, want.values, rtol=1e-14)
        np.testing.assert_allclose(got.jacobian, want.jacobian, rtol=1e-14)
        # d/d pb_d of a bin is its number of events (200 events, 4 bins of 50).
        np.testing.assert_allclose(got.jacobian[:, 1], np.full(4, 50.0))
