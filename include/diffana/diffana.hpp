// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The one include a ROOT macro, an RDataFrame expression or a C++ program needs:
/// dual numbers, the Lorentz helpers, the relaxed operations (with the AGC building
/// blocks of physics/agc.hpp) and the gradient histograms. Needs nothing but the
/// standard library.
#pragma once

#include "diffana/ad/dual.hpp"
#include "diffana/config.hpp"
#include "diffana/hist/histogram.hpp"
#include "diffana/hist/soft_binning.hpp"
#include "diffana/physics/agc.hpp"
#include "diffana/physics/lorentz.hpp"
#include "diffana/soft/cuts.hpp"
#include "diffana/soft/select.hpp"
