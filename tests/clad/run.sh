#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds and runs the Clad tests of tests/clad/ with clang++-16 and the Clad plugin:
#   tests/clad/run.sh            (from anywhere; the repository is found from here)
# Clad comes from ../shared/clad/build-clad.sh (or $DIFFANA_CLAD_BUILD): built once,
# about 8-20 minutes, cached afterwards. Exit 0 with "SKIPPED: <reason>" when Clad
# cannot be built; non-zero when any test fails, including any warning of the plugin
# (Clad reports what it cannot differentiate as warnings, and then returns wrong or
# NaN derivatives).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build_script=${DIFFANA_CLAD_BUILD:-$repo/../shared/clad/build-clad.sh}
out=${DIFFANA_CLAD_TEST_DIR:-${TMPDIR:-/tmp}/diffana-clad-tests}
mkdir -p "$out"

if [[ ! -f $build_script ]]; then
  echo "SKIPPED: no Clad build script at $build_script (set DIFFANA_CLAD_BUILD)"
  exit 0
fi
if ! env_lines=$(bash "$build_script" 2>"$out/build-clad.log"); then
  echo "SKIPPED: Clad could not be built: $(tail -n 1 "$out/build-clad.log")"
  exit 0
fi
eval "$env_lines"

status=0
# compile NAME SOURCE [extra flags...]: the plugin's warnings are visible and fatal.
compile() {
  local name=$1 src=$2
  shift 2
  if ! "$CLAD_CXX" -std=c++17 -O2 -Wall -Wextra -fplugin="$CLAD_PLUGIN" \
    -isystem "$CLAD_INCLUDE" -I"$repo/include" -I"$repo/tests/clad" "$@" \
    -o "$out/$name" "$src" 2>"$out/$name.log"; then
    echo "FAIL $name: does not compile"
    cat "$out/$name.log"
    return 1
  fi
  if grep -q "warning:" "$out/$name.log"; then
    echo "FAIL $name: the compiler or the Clad plugin warned"
    grep -A3 "warning:" "$out/$name.log"
    return 1
  fi
}

# 1. Every custom derivative: Clad forward and reverse equal diffana::Dual.
if compile test_custom_derivatives "$repo/tests/clad/test_custom_derivatives.cpp"; then
  "$out/test_custom_derivatives" || status=1
else
  status=1
fi

# 1b. Functions of containers, pointer + length and four-vectors (selections, AGC).
if compile test_containers "$repo/tests/clad/test_containers.cpp"; then
  "$out/test_containers" || status=1
else
  status=1
fi

# 1c. Histogram fills: Clad forward and reverse equal diffana's forward-mode fill.
if compile test_hist_fill "$repo/tests/clad/test_hist_fill.cpp"; then
  "$out/test_hist_fill" || status=1
else
  status=1
fi

# 2. The plugin crash with Duals assigned at the end of the TU stays fixed.
if compile test_forward_only "$repo/tests/clad/test_forward_only.cpp"; then
  "$out/test_forward_only" || status=1
else
  status=1
fi

# 3. A Clad model and Duals assigned in Clad-instantiated code, in one TU, compile.
if compile test_dual_same_tu "$repo/tests/clad/test_dual_same_tu.cpp"; then
  "$out/test_dual_same_tu" || status=1
else
  status=1
fi

# 4. The header refuses to be used without Clad, with a message saying so.
if "$CLAD_CXX" -std=c++17 -fsyntax-only -I"$repo/include" -x c++ - \
  <<<'#include "diffana/clad/custom_derivatives.hpp"' 2>"$out/guard.log"; then
  echo "FAIL guard: the header compiled without Clad"
  status=1
elif grep -q "error: \"diffana/clad/custom_derivatives.hpp needs Clad" "$out/guard.log"; then
  echo "ok   guard: without Clad the header stops with its #error"
else
  echo "FAIL guard: unexpected error without Clad"
  cat "$out/guard.log"
  status=1
fi

# 5. A compiled RDataFrame program whose per-event weight gradient is clad::gradient's.
if [[ -x $repo/tests/clad/rdf/run_rdf.sh ]]; then
  "$repo/tests/clad/rdf/run_rdf.sh" "$out" || status=1
fi

if [[ $status -eq 0 ]]; then echo "clad tests: all passed"; else echo "clad tests: FAILED"; fi
exit $status
