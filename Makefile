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

.PHONY: all demo test lint cpp-test py-test macro-test bench install clean

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

clean:
	rm -rf build $(VENV) out .pytest_cache
