# SPDX-License-Identifier: BSD-3-Clause
"""Stubs of the compiled module ``diffana._core`` (python/bindings/*.cpp).

The submodules are raw and minimal; the friendly API is the diffana package.
Array arguments accept any array-like and are converted to contiguous float64.
"""

from types import ModuleType
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

_F64: TypeAlias = NDArray[np.float64]

__version__: str

class _HistModule(ModuleType):
    OVERFLOW_DROP: int
    OVERFLOW_FOLD: int
    def fill_1d(
        self,
        x: ArrayLike,
        edges: ArrayLike,
        weights: ArrayLike | None = None,
        bandwidth: float = 0.0,
        x_tangents: ArrayLike | None = None,
        weight_tangents: ArrayLike | None = None,
        overflow: int = 0,
        edge_terms: bool = False,
    ) -> tuple[_F64, _F64, _F64, _F64, int, _F64 | None, _F64 | None]: ...
    def fill_2d(
        self,
        x: ArrayLike,
        y: ArrayLike,
        xedges: ArrayLike,
        yedges: ArrayLike,
        weights: ArrayLike | None = None,
        xbandwidth: float = 0.0,
        ybandwidth: float = 0.0,
        x_tangents: ArrayLike | None = None,
        y_tangents: ArrayLike | None = None,
        weight_tangents: ArrayLike | None = None,
        overflow: int = 0,
    ) -> tuple[_F64, _F64, _F64, _F64, int]: ...
    def fill_1d_vjp(
        self,
        x: ArrayLike,
        edges: ArrayLike,
        cotangents: ArrayLike,
        weights: ArrayLike | None = None,
        bandwidth: float = 0.0,
        overflow: int = 0,
        want_x: bool = True,
        want_w: bool = True,
    ) -> tuple[_F64 | None, _F64 | None]: ...

class _SoftModule(ModuleType):
    # One function per line of the relaxed-op table (python/bindings/relaxed_ops.hpp,
    # python/diffana/_ops.py): the inputs, then the integer options.
    def cut(
        self, x: ArrayLike, cut: ArrayLike, slope: ArrayLike, keep_above: int = 1
    ) -> tuple[_F64, _F64, _F64, _F64]: ...
    def window(
        self, x: ArrayLike, lo: ArrayLike, hi: ArrayLike, slope: ArrayLike
    ) -> tuple[_F64, _F64, _F64, _F64, _F64]: ...

class _PhysicsModule(ModuleType):
    def invariant_mass(
        self,
        pt1: ArrayLike,
        eta1: ArrayLike,
        phi1: ArrayLike,
        m1: ArrayLike,
        pt2: ArrayLike,
        eta2: ArrayLike,
        phi2: ArrayLike,
        m2: ArrayLike,
    ) -> tuple[_F64, _F64]: ...
    def invariant_mass3(
        self,
        pt1: ArrayLike,
        eta1: ArrayLike,
        phi1: ArrayLike,
        m1: ArrayLike,
        pt2: ArrayLike,
        eta2: ArrayLike,
        phi2: ArrayLike,
        m2: ArrayLike,
        pt3: ArrayLike,
        eta3: ArrayLike,
        phi3: ArrayLike,
        m3: ArrayLike,
    ) -> tuple[_F64, _F64]: ...
    def pt_of_sum(
        self, pt1: ArrayLike, phi1: ArrayLike, pt2: ArrayLike, phi2: ArrayLike
    ) -> tuple[_F64, _F64]: ...
    def pt_of_sum3(
        self,
        pt1: ArrayLike,
        phi1: ArrayLike,
        pt2: ArrayLike,
        phi2: ArrayLike,
        pt3: ArrayLike,
        phi3: ArrayLike,
    ) -> tuple[_F64, _F64]: ...
    def delta_phi(self, phi1: ArrayLike, phi2: ArrayLike) -> tuple[_F64, _F64]: ...
    def delta_r(
        self, eta1: ArrayLike, phi1: ArrayLike, eta2: ArrayLike, phi2: ArrayLike
    ) -> tuple[_F64, _F64]: ...
    def to_cartesian(
        self, pt: ArrayLike, eta: ArrayLike, phi: ArrayLike, m: ArrayLike
    ) -> tuple[_F64, _F64]: ...
    def from_cartesian(
        self, px: ArrayLike, py: ArrayLike, pz: ArrayLike, e: ArrayLike
    ) -> tuple[_F64, _F64]: ...

class _JaxFfiModule(ModuleType):
    has_ffi: bool
    # Only when has_ffi: {target name: PyCapsule} of the XLA FFI handlers.
    def registrations(self) -> dict[str, object]: ...

class _AgcRelaxedModule(ModuleType):
    n_params: int
    max_jets: int
    def events(
        self,
        offsets: ArrayLike,
        pt: ArrayLike,
        eta: ArrayLike,
        phi: ArrayLike,
        mass: ArrayLike,
        btag: ArrayLike,
        ok: ArrayLike,
        weight: ArrayLike,
        params: ArrayLike,
    ) -> tuple[_F64, _F64, _F64, _F64, NDArray[np.bool_]]: ...
    def step(
        self,
        offsets: ArrayLike,
        pt: ArrayLike,
        eta: ArrayLike,
        phi: ArrayLike,
        mass: ArrayLike,
        btag: ArrayLike,
        ok: ArrayLike,
        weight: ArrayLike,
        params: ArrayLike,
        edges0: ArrayLike,
        bandwidth0: float,
        edges1: ArrayLike,
        bandwidth1: float,
        overflow: int = 0,
    ) -> tuple[_F64, _F64, _F64, _F64, int]: ...

class _CudaModule(ModuleType):
    built: bool
    def device_count(self) -> tuple[int, str]: ...
    # Only when built: the kernels on device pointers (integers); each returns the
    # kernel's status.
    FILL_PRIVATE: int
    FILL_DETERMINISTIC: int
    FILL_ATOMIC: int
    def hist_fill_1d(self, *args: float) -> int: ...
    def soft_cut(self, *args: int) -> int: ...
    def soft_window(self, *args: int) -> int: ...
    def agc_relaxed_step(
        self,
        columns: list[int],
        n_events: int,
        params: list[float],
        edges0: int,
        nbins0: int,
        bandwidth0: float,
        edges1: int,
        nbins1: int,
        bandwidth1: float,
        overflow: int,
        outputs: list[int],
        mode: int,
        stream: int,
    ) -> int: ...

hist: _HistModule
soft: _SoftModule
physics: _PhysicsModule
#: diffana.jax's XLA FFI handlers (python/bindings/register_jax_ffi.cpp).
jax_ffi: _JaxFfiModule
#: The relaxed AGC step's CPU twin (python/bindings/register_agc_relaxed.cpp).
agc_relaxed: _AgcRelaxedModule
#: The CUDA kernels on device pointers (python/bindings/register_cuda.cpp).
cuda: _CudaModule
