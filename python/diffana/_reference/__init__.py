# SPDX-License-Identifier: BSD-3-Clause
"""Pure-NumPy references of every compiled kernel: the source of truth for semantics.

Each reference takes the arguments of its C kernel (include/diffana/kernels.h) in the
same order, without the sizes, and returns the kernel's outputs, computed by
broadcasting every event against everything (slow, for tests on small inputs). The
compiled kernels (CPU and CUDA) and the JAX layer are tested against them.

- `diffana._reference.hist`: ``hist_fill_1d``, ``hist_fill_1d_vjp``, ``hist_fill_2d``,
  ``relaxed_hist`` (the semantics of hard and soft binning, overflow, NaN events);
- `diffana._reference.physics`: ``physics_<op>``, the Lorentz helpers with their
  partial derivatives.

Imports numpy only: nothing of diffana, so that it stays an independent oracle.
"""

from __future__ import annotations

from .hist import (
    SOFT_TRUNCATION,
    SOFT_TRUNCATION_ERROR,
    Hist1DResult,
    Hist2DResult,
    hist_fill_1d,
    hist_fill_1d_vjp,
    hist_fill_2d,
    normal_cdf,
    relaxed_hist,
)
from .physics import (
    physics_delta_phi,
    physics_delta_r,
    physics_from_cartesian,
    physics_invariant_mass,
    physics_invariant_mass3,
    physics_pt_of_sum,
    physics_pt_of_sum3,
    physics_to_cartesian,
)

__all__ = [
    "SOFT_TRUNCATION",
    "SOFT_TRUNCATION_ERROR",
    "Hist1DResult",
    "Hist2DResult",
    "hist_fill_1d",
    "hist_fill_1d_vjp",
    "hist_fill_2d",
    "normal_cdf",
    "physics_delta_phi",
    "physics_delta_r",
    "physics_from_cartesian",
    "physics_invariant_mass",
    "physics_invariant_mass3",
    "physics_pt_of_sum",
    "physics_pt_of_sum3",
    "physics_to_cartesian",
    "relaxed_hist",
]
