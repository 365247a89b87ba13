# SPDX-License-Identifier: BSD-3-Clause
# The two commands of the README:
#   make demo   set up .venv, install diffana (with ROOT, JAX, ...) and run the main job
#   make test   the same set-up, then lint, the C++ tests (ctest) and the Python tests
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BUILD  ?= build/cpp
OUT    ?= out/demo
# CUDA kernels are compiled (not run: no GPU needed) wherever nvcc is installed.
CUDA   ?= $(if $(shell command -v nvcc 2>/dev/null),ON,OFF)
# Anything that changes what `pip install .` builds.
SOURCES := pyproject.toml CMakeLists.txt $(shell find include src python cmake -type f \
             -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: all demo test lint cpp-test py-test macro-test bench install clean test-gpu clad-test

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Build requirements go into the venv first so that the build can see jaxlib's XLA FFI
# headers (the fast JAX path); then diffana with every optional dependency.
$(VENV)/.installed: $(SOURCES) | $(PY)
	$(PY) -m pip install --quiet "scikit-build-core>=0.10" "pybind11>=2.13" ninja "jax>=0.5"
	$(PY) -m pip install --quiet --no-build-isolation ".[test,root,plot,demo,dev,awkward,jax,stats,cli]"
	@touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/diffana demo --out $(OUT)

lint: install
	$(VENV)/bin/ruff check python tests benchmarks
	$(VENV)/bin/ruff format --check python tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/clang-format --dry-run -Werror $$(git ls-files '*.hpp' '*.h' '*.cpp' '*.cu' '*.C')

cpp-test: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake -S . -B $(BUILD) -G Ninja -DDIFFANA_WERROR=ON -DDIFFANA_CUDA=$(CUDA)
	cmake --build $(BUILD) --parallel 2
	ctest --test-dir $(BUILD) --output-on-failure

# Doctests of the installed package first, so that the suite's summary closes the log.
# Both run on every core (pytest-xdist; each worker has its own ROOT and JAX session).
PYTEST_JOBS ?= auto
py-test: install
	$(PY) -m pytest -n $(PYTEST_JOBS) --doctest-modules --pyargs diffana -p no:cacheprovider -q
	$(PY) -m pytest -n $(PYTEST_JOBS) --dist worksteal tests/python

test: lint cpp-test py-test

# The README's benchmark tables (each script says what it measures; minutes each).
bench: install
	$(PY) benchmarks/bench_hist.py
	$(PY) benchmarks/bench_rdf.py --json benchmarks/results_rdf.json
	$(PY) benchmarks/bench_neos.py
	$(PY) benchmarks/bench_agc.py --json benchmarks/results_agc.json --markdown benchmarks/results_agc.md

# The GPU checks, on a machine with an NVIDIA GPU, the CUDA toolkit, and a Python with
# CuPy, pytest, jax (CUDA), scikit-build-core and pybind11 (no ROOT, no uproot, no
# .venv, no network): the CUDA fills and the relaxed AGC step against their CPU twins
# (the C++/CUDA test programs, then the gpu-marked Python tests through
# libdiffana_capi.so), diffana.jax's CUDA FFI handlers (diffana built with
# DIFFANA_CUDA=ON into a venv over that Python's packages, or GPU_WHEEL=<a wheel built
# so>; GPU_JAX=0 leaves this out) and the CUDA benchmark (benchmarks/bench_cuda.py,
# with JAX's jit(jacfwd)). Without a GPU it stops at once and says so. Builds are
# incremental (ninja); GPU_PREBUILT=<folder> with test_cuda_hist, test_cuda_agc and
# libdiffana_capi.so built elsewhere (same nvcc) skips the CMake build.
GPU_BUILD  ?= build/gpu
GPU_PYTHON ?= python3
CUDA_ARCH  ?= 90
GPU_JAX    ?= 1
GPU_WHEEL  ?=
GPU_PREBUILT ?=
GPU_VENV   := $(GPU_BUILD)/venv
GPU_BIN    := $(if $(GPU_PREBUILT),$(GPU_PREBUILT),$(GPU_BUILD))
GPU_TEST_PYTHON := $(if $(filter 1,$(GPU_JAX)),$(GPU_VENV)/bin/python,$(GPU_PYTHON))
test-gpu:
	@command -v nvcc >/dev/null 2>&1 || { echo "test-gpu: nvcc (the CUDA toolkit) is not on PATH"; exit 1; }
	@timeout 30 nvidia-smi -L >/dev/null 2>&1 || { echo "test-gpu: no GPU (nvidia-smi lists no NVIDIA device); the GPU tests need one"; exit 1; }
ifeq ($(GPU_PREBUILT),)
	cmake -S . -B $(GPU_BUILD) -G Ninja -DDIFFANA_CUDA=ON -DDIFFANA_BUILD_TESTS=ON \
	  -DDIFFANA_WERROR=ON -DDIFFANA_CUDA_ARCHITECTURES=$(CUDA_ARCH)
	cmake --build $(GPU_BUILD) --target test_cuda_hist test_cuda_agc diffana_capi
endif
	$(GPU_BIN)/test_cuda_hist
	$(GPU_BIN)/test_cuda_agc
ifeq ($(GPU_JAX),1)
	test -x $(GPU_VENV)/bin/python || $(GPU_PYTHON) -m venv --system-site-packages $(GPU_VENV) \
	  || $(GPU_PYTHON) -m venv --system-site-packages --without-pip $(GPU_VENV)
	$(GPU_VENV)/bin/python -m pip install --quiet --no-build-isolation --no-deps --no-index \
	  $(if $(GPU_WHEEL),$(GPU_WHEEL),-C cmake.define.DIFFANA_CUDA=ON \
	  -C cmake.define.DIFFANA_CUDA_ARCHITECTURES=$(CUDA_ARCH) -C build-dir=$(GPU_BUILD)/wheel .)
endif
	DIFFANA_CAPI=$(GPU_BIN)/libdiffana_capi.so $(GPU_TEST_PYTHON) -m pytest \
	  tests/python/gpu -m gpu -p no:cacheprovider -q -rs
	DIFFANA_CAPI=$(GPU_BIN)/libdiffana_capi.so $(GPU_TEST_PYTHON) benchmarks/bench_cuda.py

# diffana's rules as Clad custom derivatives, built with clang-16 and the Clad plugin
# from ../shared/clad (about 20 minutes the first time, cached afterwards; prints
# SKIPPED with the reason where Clad cannot be built). Not part of `test`, which must
# not need clang-16; .ci/run runs it after `make test`, on the same fresh clone.
clad-test:
	tests/clad/run.sh

clean:
	rm -rf build $(VENV) out .pytest_cache
