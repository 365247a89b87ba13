#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds clad_rdf_program.cpp with clang++-16, the Clad plugin and the PyPI ROOT wheel's
# headers and libraries, once per adjoint engine, and compares each with DiffFrame
# (compare_diffframe.py).
# Called by tests/clad/run.sh with the output folder; needs CLAD_CXX, CLAD_PLUGIN and
# CLAD_INCLUDE in the environment. Prints "SKIPPED rdf: <reason>" (status 0) without
# the ROOT wheel. $PYTHON (default: the repository's .venv) must import ROOT.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$1
python=${PYTHON:-$repo/.venv/bin/python}
if ! root_dir=$("$python" -c 'import importlib.util as u; s = u.find_spec("ROOT"); print(s.submodule_search_locations[0])' 2>/dev/null) ||
  [[ ! -f $root_dir/include/ROOT/RDataFrame.hxx ]]; then
  echo "SKIPPED rdf: the ROOT wheel is not importable by $python"
  exit 0
fi
# ROOT's headers are -isystem: the plugin's warnings about diffana or user code stay
# visible and fatal, ROOT's own -Wextra noise does not count.
# The program is built twice: the adjoint's per-event reverse pass from diffana's own
# reverse mode (default) and from clad::gradient (-DDIFFANA_ADJOINT_ENGINE_CLAD=1).
status=0
for engine in diffana clad; do
  flag=-DDIFFANA_ADJOINT_ENGINE_CLAD=$([[ $engine == clad ]] && echo 1 || echo 0)
  exe=$out/clad_rdf_program_$engine
  if ! "$CLAD_CXX" -std=c++17 -O2 -Wall -Wextra -fplugin="$CLAD_PLUGIN" "$flag" \
    -isystem "$CLAD_INCLUDE" -I"$repo/include" -isystem "$root_dir/include" \
    -o "$exe" "$here/clad_rdf_program.cpp" -L"$root_dir/lib" \
    -Wl,-rpath,"$root_dir/lib" -Wl,-rpath-link,"$root_dir/lib" \
    -Wl,-rpath-link,"$root_dir/../root.libs" -lCore -lROOTDataFrame -lROOTVecOps \
    -lTree -lRIO -pthread 2>"$exe.log"; then
    echo "FAIL rdf ($engine): clad_rdf_program.cpp does not compile"
    cat "$exe.log"
    status=1
    continue
  fi
  if grep -q "warning:" "$exe.log"; then
    echo "FAIL rdf ($engine): the compiler or the Clad plugin warned"
    grep -A3 "warning:" "$exe.log"
    status=1
    continue
  fi
  PYTHONPATH=$repo/python${PYTHONPATH:+:$PYTHONPATH} \
    "$python" "$here/compare_diffframe.py" "$exe" 2000 || status=1
done
exit $status
