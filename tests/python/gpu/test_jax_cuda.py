# SPDX-License-Identifier: BSD-3-Clause
"""diffana.jax on an NVIDIA GPU: the XLA FFI handlers for platform "CUDA".

With an extension built with DIFFANA_CUDA=ON (``CUDA_FFI_BUILT``) and jax's default
backend a GPU, ``jax.jit(jax.grad(f))`` of diffana ops lowers to the CUDA custom calls
(no host callback in the compiled program) and equals the same function on the CPU
(the CPU FFI handlers) within 1e-12, in float64 and (to float32 precision) float32.
Skips, saying why, without such a build or GPU.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

jax = pytest.importorskip("jax")
if jax.default_backend() != "gpu":
    pytest.skip("jax's default backend is not a GPU", allow_module_level=True)
try:
    import diffana.jax as dj
    from diffana.jax import _kernels
except ImportError as err:  # the extension is not built or not installed
    pytest.skip(f"diffana.jax is not importable: {err}", allow_module_level=True)
if not _kernels.CUDA_FFI_BUILT:
    pytest.skip(
        "diffana._core was built without the CUDA FFI handlers (DIFFANA_CUDA=ON)",
        allow_module_level=True,
    )

import jax.numpy as jnp

EDGES = np.linspace(-3.0, 3.0, 21)


def loss(theta, x, w):
    """A cut, a window and a weighted soft histogram of shifted events."""
    xs = x + theta[0] + 0.1 * theta[1] * x
    sel = dj.cut(xs, theta[2], slope=4.0) * dj.window(xs, -2.0, 2.5, slope=3.0)
    h = dj.hist_weighted(xs, w * sel, jnp.asarray(EDGES), 0.2)
    return jnp.sum(h * jnp.linspace(0.5, 1.5, 20)) + jnp.sum(h**2) * 1e-4


def _inputs(dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(size=20_000).astype(dtype)
    w = rng.uniform(0.5, 1.5, size=20_000).astype(dtype)
    theta = np.array([0.1, -0.2, -1.0], dtype=dtype)
    return theta, x, w


@pytest.fixture
def x64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _on(device, fn, *args):
    args = [jax.device_put(a, device) for a in args]
    return np.asarray(jax.jit(fn)(*args))


def test_grad_on_gpu_equals_cpu(x64):
    theta, x, w = _inputs(np.float64)
    g = jax.grad(loss)
    gpu = _on(jax.devices("gpu")[0], g, theta, x, w)
    cpu = _on(jax.devices("cpu")[0], g, theta, x, w)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-12, atol=1e-12 * np.abs(cpu).max())
    jac = jax.jacfwd(loss)
    np.testing.assert_allclose(
        _on(jax.devices("gpu")[0], jac, theta, x, w),
        _on(jax.devices("cpu")[0], jac, theta, x, w),
        rtol=1e-12,
    )


def test_float32_on_gpu(x64):
    theta, x, w = _inputs(np.float32)
    g = jax.grad(loss)
    gpu = _on(jax.devices("gpu")[0], g, theta, x, w)
    cpu = _on(jax.devices("cpu")[0], g, theta, x, w)
    assert gpu.dtype == np.float32
    np.testing.assert_allclose(gpu, cpu, rtol=1e-5)


def test_compiled_program_has_no_host_callback(x64):
    theta, x, w = (
        jax.device_put(a, jax.devices("gpu")[0]) for a in _inputs(np.float64)
    )
    text = jax.jit(jax.grad(loss)).lower(theta, x, w).compile().as_text()
    targets = set(re.findall(r'custom_call_target="([^"]+)"', text))
    for target in (
        "diffana_jax_hist_1d",
        "diffana_jax_soft_cut",
        "diffana_jax_soft_window",
    ):
        assert target in targets, f"{target} is not a custom call of the GPU program"
    host = [t for t in targets if "callback" in t]
    assert not host, f"the GPU program calls back to the host: {host}"


def test_bad_bandwidth_is_one_clear_error(x64):
    """A traced bandwidth is checked by the CUDA handler itself."""
    x = jax.device_put(np.linspace(-1, 1, 100), jax.devices("gpu")[0])
    f = jax.jit(lambda x, h: dj.hist(x, jnp.asarray(EDGES), h))
    with pytest.raises(Exception, match="bandwidth must be positive"):
        f(x, -0.1).block_until_ready()


def test_backend_is_ffi():
    assert os.environ.get("DIFFANA_JAX_BACKEND", "") != "callback"
    assert dj.backend() == "ffi"
