# SPDX-License-Identifier: BSD-3-Clause
"""A configured analysis: the YAML schema, the graph of DiffFrames, the statistical
model, the objective and the optimiser, the report and the plots."""

from .optimize import Analysis

__all__ = ["Analysis"]
