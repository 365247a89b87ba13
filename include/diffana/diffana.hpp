// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The one include a ROOT macro, an RDataFrame expression or a C++ program needs:
/// dual numbers (forward mode; dense and sparse), Revs on a per-thread tape with the
/// Clad-style pullbacks (reverse mode per event), the Lorentz helpers, the relaxed
/// operations (with the AGC building blocks of physics/agc.hpp) and the gradient
/// histograms. Needs nothing but the standard library.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/ad/math_pullbacks.hpp"
#include "diffana/ad/reverse.hpp"
#include "diffana/ad/reverse_hist.hpp"
#include "diffana/ad/sparse.hpp"
#include "diffana/ad/tape.hpp"
#include "diffana/config.hpp"
#include "diffana/hist/histogram.hpp"
#include "diffana/hist/soft_binning.hpp"
#include "diffana/nn/call.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"
#include "diffana/soft/select.hpp"
