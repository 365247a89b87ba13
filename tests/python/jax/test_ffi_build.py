# SPDX-License-Identifier: BSD-3-Clause
"""The installed diffana has diffana.jax's fast path: the XLA FFI handlers.

A plain ``pip install diffana[jax]`` (build isolation on) must compile the handlers:
pyproject.toml lists jaxlib among the build requirements for its headers. A build that
silently fell back to ``jax.pure_callback`` (``diffana.jax.backend() == "callback"``)
is correct but several times slower, so it fails here unless the environment variable
``DIFFANA_ALLOW_CALLBACK_BUILD=1`` says that it is expected (a platform without jaxlib
wheels at build time, or GCC < 14 without -fpermissive). ``DIFFANA_JAX_BACKEND=callback``
(which asks for the callback path at run time) does not excuse a build without them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

jax = pytest.importorskip("jax")

import diffana.jax as dj

pytestmark = pytest.mark.jax

ALLOW = "DIFFANA_ALLOW_CALLBACK_BUILD"


def _callback_allowed() -> bool:
    return os.environ.get(ALLOW, "") == "1"


def test_ffi_handlers_built() -> None:
    if _callback_allowed() and not dj._FFI_BUILT:
        pytest.skip(f"{ALLOW}=1: a build without the XLA FFI handlers is allowed")
    assert dj._FFI_BUILT, (
        "diffana._core was built without jaxlib's XLA FFI headers, so diffana.jax uses "
        "jax.pure_callback; reinstall diffana with jaxlib in its build environment "
        f"(pyproject.toml's build requirements), or set {ALLOW}=1 if this is expected"
    )


def test_default_backend_is_ffi() -> None:
    """A fresh interpreter (no DIFFANA_JAX_BACKEND) picks the FFI backend."""
    if _callback_allowed() and not dj._FFI_BUILT:
        pytest.skip(f"{ALLOW}=1: a build without the XLA FFI handlers is allowed")
    env = {k: v for k, v in os.environ.items() if k != "DIFFANA_JAX_BACKEND"}
    out = subprocess.run(
        [sys.executable, "-c", "import diffana.jax as dj; print(dj.backend())"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "ffi"
