# SPDX-License-Identifier: BSD-3-Clause
#[=======================================================================[.rst:
ROOTWheel
---------

Imported ``ROOT::`` targets for ROOT installed from PyPI (``pip install root``).

The wheel ships a ``ROOTConfig.cmake`` (and ``root-config``) that point to a
build-time directory (``.../mock_site_packages/ROOT``) which does not exist, so
``find_package(ROOT)`` fails. This module defines the usual imported targets itself
from where the wheel really is:

  <site-packages>/ROOT/include     headers
  <site-packages>/ROOT/lib         libCore.so, libROOTDataFrame.so, ... (RPATH $ORIGIN)
  <site-packages>/root.libs        bundled third-party libraries (freetype, png, ...)

Usage::

  include(ROOTWheel)        # after list(APPEND CMAKE_MODULE_PATH <dir of this file>)
  target_link_libraries(prog PRIVATE ROOT::ROOTDataFrame)

Where the wheel is, in order of preference:

``ROOTWHEEL_DIR``
  (cache) the ``ROOT`` package folder, ``<site-packages>/ROOT``. If not set, it is
  found by running ``importlib.util.find_spec('ROOT')`` with the Python interpreter
  ``ROOTWHEEL_PYTHON`` (cache), else ``Python3_EXECUTABLE``, else the one
  ``find_package(Python3 COMPONENTS Interpreter)`` finds (an active virtual
  environment comes first). ``import ROOT`` is not run.

Defined targets (shared imported libraries with ROOT's own inter-library
dependencies): ROOT::Core ROOT::Thread ROOT::Imt ROOT::MultiProc ROOT::Net ROOT::RIO
ROOT::MathCore ROOT::Matrix ROOT::GenVector ROOT::Physics ROOT::Minuit2 ROOT::Hist
ROOT::Graf ROOT::Graf3d ROOT::Gpad ROOT::Tree ROOT::TreePlayer ROOT::ROOTVecOps
ROOT::ROOTNTuple ROOT::ROOTDataFrame. More with
``rootwheel_add_library(<Name> [DEPS <target>...])`` (for ``lib<Name>.so``).

Every target carries, through ROOT::Core:

- ``-Wl,-rpath-link,<site-packages>/root.libs`` (and ``ROOT/lib``): the bundled
  libfreetype has no RPATH, so without it linking fails with undefined png/bz2
  symbols;
- ``-Wl,-rpath,<site-packages>/ROOT/lib``, so that programs run without
  LD_LIBRARY_PATH, from the build tree and once installed (the ROOT libraries find
  root.libs through their own $ORIGIN RPATH);
- C++17 and ``-pthread`` (ROOT's compile flags for users).

Result variables: ``ROOTWheel_FOUND``, ``ROOT_VERSION`` (e.g. 6.40.0),
``ROOT_INCLUDE_DIRS``, ``ROOT_LIBRARY_DIR``, ``ROOTWHEEL_LIBS_DIR`` (root.libs).
``ROOTWHEEL_QUIET`` silences the status message. Without the wheel: a fatal error,
unless ``ROOTWHEEL_OPTIONAL`` is true (then ``ROOTWheel_FOUND`` is false and no
target is defined).
#]=======================================================================]

include_guard(GLOBAL)

set(ROOTWheel_FOUND FALSE)

macro(_rootwheel_fail message_text)
  if(ROOTWHEEL_OPTIONAL)
    if(NOT ROOTWHEEL_QUIET)
      message(STATUS "ROOTWheel: ${message_text}")
    endif()
    return()
  endif()
  message(FATAL_ERROR "ROOTWheel: ${message_text}")
endmacro()

# A real ROOT installation (or an earlier include) already defined the targets.
if(TARGET ROOT::Core)
  set(ROOTWheel_FOUND TRUE)
  return()
endif()

set(ROOTWHEEL_DIR "" CACHE PATH "The ROOT package folder of the PyPI wheel (<site-packages>/ROOT)")
set(ROOTWHEEL_PYTHON "" CACHE FILEPATH "Python interpreter whose ROOT wheel to use")

if(NOT ROOTWHEEL_DIR)
  set(_rootwheel_python "${ROOTWHEEL_PYTHON}")
  if(NOT _rootwheel_python AND Python3_EXECUTABLE)
    set(_rootwheel_python "${Python3_EXECUTABLE}")
  endif()
  if(NOT _rootwheel_python)
    find_package(Python3 COMPONENTS Interpreter QUIET)
    set(_rootwheel_python "${Python3_EXECUTABLE}")
  endif()
  if(NOT _rootwheel_python)
    _rootwheel_fail("no Python interpreter found; set ROOTWHEEL_PYTHON (or Python3_EXECUTABLE) to the one with `pip install root`, or ROOTWHEEL_DIR to <site-packages>/ROOT")
  endif()
  execute_process(
    COMMAND
      "${_rootwheel_python}" -c
      "import importlib.util as u; s = u.find_spec('ROOT'); print(s.submodule_search_locations[0] if s else '')"
    OUTPUT_VARIABLE _rootwheel_dir
    ERROR_VARIABLE _rootwheel_err
    RESULT_VARIABLE _rootwheel_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rootwheel_rc EQUAL 0 OR NOT _rootwheel_dir)
    _rootwheel_fail("${_rootwheel_python} cannot find the ROOT package (`pip install root` into it, or set ROOTWHEEL_PYTHON / ROOTWHEEL_DIR) ${_rootwheel_err}")
  endif()
  file(TO_CMAKE_PATH "${_rootwheel_dir}" _rootwheel_dir)
  set(ROOTWHEEL_DIR "${_rootwheel_dir}" CACHE PATH "The ROOT package folder of the PyPI wheel (<site-packages>/ROOT)" FORCE)
endif()

if(NOT EXISTS "${ROOTWHEEL_DIR}/include/RVersion.h" OR NOT EXISTS "${ROOTWHEEL_DIR}/lib/libCore.so")
  _rootwheel_fail("${ROOTWHEEL_DIR} is not the ROOT package of a ROOT wheel (no include/RVersion.h or lib/libCore.so)")
endif()

set(ROOT_INCLUDE_DIRS "${ROOTWHEEL_DIR}/include")
set(ROOT_LIBRARY_DIR "${ROOTWHEEL_DIR}/lib")
get_filename_component(_rootwheel_site "${ROOTWHEEL_DIR}" DIRECTORY)
set(ROOTWHEEL_LIBS_DIR "${_rootwheel_site}/root.libs")

set(ROOT_VERSION "")
foreach(_rootwheel_part MAJOR MINOR PATCH)
  file(STRINGS "${ROOTWHEEL_DIR}/include/ROOT/RVersion.hxx" _rootwheel_line
       REGEX "^#define ROOT_VERSION_${_rootwheel_part} +[0-9]+")
  string(REGEX MATCH "[0-9]+" _rootwheel_number "${_rootwheel_line}")
  list(APPEND ROOT_VERSION "${_rootwheel_number}")
endforeach()
string(REPLACE ";" "." ROOT_VERSION "${ROOT_VERSION}")

# rootwheel_add_library(<Name> [DEPS <targets>...]): ROOT::<Name> from lib<Name>.so.
function(rootwheel_add_library name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "DEPS")
  if(TARGET ROOT::${name})
    return()
  endif()
  set(location "${ROOT_LIBRARY_DIR}/lib${name}.so")
  if(NOT EXISTS "${location}")
    message(FATAL_ERROR "ROOTWheel: ${location} does not exist (not in this wheel)")
  endif()
  add_library(ROOT::${name} SHARED IMPORTED GLOBAL)
  set_target_properties(
    ROOT::${name}
    PROPERTIES IMPORTED_LOCATION "${location}"
               IMPORTED_SONAME "lib${name}.so"
               INTERFACE_INCLUDE_DIRECTORIES "${ROOT_INCLUDE_DIRS}"
               INTERFACE_COMPILE_FEATURES cxx_std_17)
  if(ARG_DEPS)
    set_property(TARGET ROOT::${name} PROPERTY INTERFACE_LINK_LIBRARIES ${ARG_DEPS})
  endif()
endfunction()

rootwheel_add_library(Core)
# -pthread (from the wheel's ROOT_CXX_FLAGS), the rpath-link work-around and an
# rpath to the libraries.
set_property(TARGET ROOT::Core PROPERTY INTERFACE_COMPILE_OPTIONS
                                        $<$<COMPILE_LANGUAGE:CXX>:-pthread>)
set_property(
  TARGET ROOT::Core
  PROPERTY INTERFACE_LINK_OPTIONS
           "-pthread" "LINKER:-rpath-link,${ROOT_LIBRARY_DIR}"
           "LINKER:-rpath-link,${ROOTWHEEL_LIBS_DIR}" "LINKER:-rpath,${ROOT_LIBRARY_DIR}")

# Dependencies as in the wheel's own ROOTConfig-targets.cmake.
rootwheel_add_library(Thread DEPS ROOT::Core)
set_property(TARGET ROOT::Thread PROPERTY INTERFACE_COMPILE_DEFINITIONS ROOT_CORE_THREAD_TBB)
rootwheel_add_library(RIO DEPS ROOT::Core ROOT::Thread)
rootwheel_add_library(Net DEPS ROOT::RIO)
rootwheel_add_library(MultiProc DEPS ROOT::Core ROOT::Net)
rootwheel_add_library(Imt DEPS ROOT::MultiProc ROOT::Core)
rootwheel_add_library(MathCore DEPS ROOT::Core)
rootwheel_add_library(Matrix DEPS ROOT::MathCore)
rootwheel_add_library(GenVector DEPS ROOT::Core ROOT::MathCore)
rootwheel_add_library(Physics DEPS ROOT::Matrix ROOT::MathCore ROOT::GenVector)
rootwheel_add_library(Hist DEPS ROOT::MathCore ROOT::Matrix ROOT::RIO)
rootwheel_add_library(Minuit2 DEPS ROOT::MathCore ROOT::Hist)
rootwheel_add_library(Graf DEPS ROOT::Hist ROOT::Matrix ROOT::MathCore ROOT::RIO)
rootwheel_add_library(Gpad DEPS ROOT::Graf ROOT::Hist)
rootwheel_add_library(Graf3d DEPS ROOT::Gpad ROOT::Graf ROOT::Hist ROOT::MathCore)
rootwheel_add_library(Tree DEPS ROOT::Imt ROOT::Net ROOT::RIO ROOT::MathCore)
rootwheel_add_library(
  TreePlayer
  DEPS
  ROOT::Gpad
  ROOT::Graf
  ROOT::Graf3d
  ROOT::Hist
  ROOT::MultiProc
  ROOT::Imt
  ROOT::MathCore
  ROOT::RIO
  ROOT::Tree)
rootwheel_add_library(ROOTVecOps DEPS ROOT::Core)
rootwheel_add_library(ROOTNTuple DEPS ROOT::Imt ROOT::RIO ROOT::ROOTVecOps)
rootwheel_add_library(
  ROOTDataFrame
  DEPS
  ROOT::Tree
  ROOT::TreePlayer
  ROOT::Hist
  ROOT::RIO
  ROOT::ROOTVecOps
  ROOT::ROOTNTuple
  ROOT::Imt)

set(ROOTWheel_FOUND TRUE)
if(NOT ROOTWHEEL_QUIET)
  message(STATUS "ROOTWheel: ROOT ${ROOT_VERSION} from ${ROOTWHEEL_DIR}")
endif()
