# SPDX-License-Identifier: BSD-3-Clause
"""The relaxed element-wise ops, declared once: the table every front end reads.

A `RelaxedOp` is one entry: its public names, the inputs and integer options of its
kernel (in the order of the C kernel ``diffana_soft_<kernel>_f64``, of
``diffana._core.soft.<kernel>`` and of the XLA FFI handler
``diffana_jax_soft_<kernel>``) and its maths in one line. The C++ side of the same
table is python/bindings/relaxed_ops.hpp. By convention the first input is the event
data (NaN propagates to that element) and the others are parameters, which must be
finite. The front ends derive from an entry:

- numpy (`diffana.soft`): `evaluate` converts the inputs, checks the parameters,
  calls the kernel and contracts its partial derivatives with the user's tangents;
- awkward (`diffana.awkward`): the same, on the flattened objects of jagged arrays;
- JAX (`diffana.jax.cut` / ``window``): ``op.raw`` on the pure_callback path,
  ``op.ffi_target`` on the XLA FFI path, ``op.jax_name`` and ``op.jax_inputs`` in
  its messages.

Imports numpy, `diffana._core`, `diffana._checks` and `diffana._dual` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._checks import float_array, require_finite
from ._dual import DualArray, FloatArray, as_tangents, combine
from ._dual import common_n_params as _common_n_params

__all__ = [
    "RELAXED_OPS",
    "SOFT_CUT",
    "SOFT_WINDOW",
    "RelaxedOp",
    "evaluate",
    "keep_above",
]


@dataclass(frozen=True)
class RelaxedOp:
    """One relaxed element-wise op: a line of the table.

    Parameters
    ----------
    name : str
        The public name in `diffana` and `diffana.awkward` (``"soft_cut"``).
    jax_name : str
        The name in `diffana.jax` and in ``relaxed`` (``"cut"``).
    kernel : str
        The kernel's short name: ``diffana._core.soft.<kernel>``, the C kernel
        ``diffana_soft_<kernel>_f64`` and the FFI target ``diffana_jax_soft_<kernel>``.
    inputs : tuple of str
        The kernel's inputs in order (the first is the event data), which are also
        the argument names in `diffana` and `diffana.awkward`.
    jax_inputs : tuple of str
        The same inputs as `diffana.jax` (and ``relaxed``) names them.
    options : tuple of str
        The kernel's integer options, after the inputs.
    doc : str
        The value and its derivatives, in one line.
    """

    name: str
    jax_name: str
    kernel: str
    inputs: tuple[str, ...]
    jax_inputs: tuple[str, ...]
    options: tuple[str, ...]
    doc: str

    @property
    def parameters(self) -> tuple[str, ...]:
        """The inputs that must be finite (all but the event data)."""
        return self.inputs[1:]

    @property
    def c_kernel(self) -> str:
        """The C entry point (include/diffana/kernels.h)."""
        return f"diffana_soft_{self.kernel}_f64"

    @property
    def ffi_target(self) -> str:
        """The XLA FFI handler (``diffana._core.jax_ffi.registrations()``)."""
        return f"diffana_jax_soft_{self.kernel}"

    def raw(self, *inputs: ArrayLike, **options: int) -> tuple[FloatArray, ...]:
        """``diffana._core.soft.<kernel>``: (value, d value / d input for each input),
        each of the inputs' broadcast shape."""
        fn = getattr(_core.soft, self.kernel)
        return tuple(np.asarray(r) for r in fn(*inputs, **options))


SOFT_CUT = RelaxedOp(
    name="soft_cut",
    jax_name="cut",
    kernel="cut",
    inputs=("x", "cut", "slope"),
    jax_inputs=("data", "cut_val", "slope"),
    options=("keep_above",),
    doc="s = sigmoid(+-slope (x - cut)); ds/dx = +-slope s (1 - s) = -ds/dcut",
)
SOFT_WINDOW = RelaxedOp(
    name="soft_window",
    jax_name="window",
    kernel="window",
    inputs=("x", "lo", "hi", "slope"),
    jax_inputs=("data", "lo", "hi", "slope"),
    options=(),
    doc="v = sigmoid(slope (x - lo)) sigmoid(slope (hi - x)); product rule",
)

#: Every relaxed op by public name.
RELAXED_OPS: dict[str, RelaxedOp] = {op.name: op for op in (SOFT_CUT, SOFT_WINDOW)}

_KEEP = {"above": 1, "below": 0}


def keep_above(keep: Any) -> int:
    """The ``keep_above`` option of `SOFT_CUT` for ``keep`` (``"above"`` or
    ``"below"``); ValueError for anything else.

    Examples
    --------
    >>> keep_above("below")
    0
    """
    if not isinstance(keep, str) or keep not in _KEEP:
        msg = f"keep must be 'above' or 'below', got {keep!r}"
        raise ValueError(msg)
    return _KEEP[keep]


def evaluate(
    op: RelaxedOp,
    inputs: Sequence[ArrayLike],
    tangents: Sequence[ArrayLike | None],
    **options: int,
) -> DualArray:
    """The numpy front end of ``op``: values and tangents of the broadcast inputs.

    ``inputs`` and ``tangents`` follow ``op.inputs``; the tangents of an input of
    shape ``s`` have shape ``s + (P,)`` (None: a constant). Raises TypeError for
    non-numbers and ValueError for non-finite parameters, misshapen tangents or
    inputs that do not broadcast, each naming the argument.

    Examples
    --------
    >>> d = evaluate(SOFT_CUT, (0.0, 0.0, 2.0), (None, [1.0], None), keep_above=1)
    >>> float(d.value), d.tangents.tolist()
    (0.5, [-0.5])
    """
    names = op.inputs
    arrays = [float_array(v, n) for v, n in zip(inputs, names, strict=True)]
    for a, n in zip(arrays, names, strict=True):
        if n in op.parameters:
            require_finite(a, n)
    tans = [
        as_tangents(t, a.shape, f"{n}_tangents")
        for t, a, n in zip(tangents, arrays, names, strict=True)
    ]
    p = _common_n_params({f"{n}_tangents": t for n, t in zip(names, tans, strict=True)})
    value, *partials = op.raw(*arrays, **options)
    return combine(value, partials, tans, p)
