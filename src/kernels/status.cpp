// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// diffana_status_message: the text of every status code in include/diffana/kernels.h.
#include "diffana/kernels.h"

extern "C" const char* diffana_status_message(int status) {
  switch (status) {
  case DIFFANA_OK:
    return "ok";
  case DIFFANA_ERR_EDGES:
    return "bad bin edges: need at least 2 edges (nbins >= 1), finite and strictly "
           "increasing";
  case DIFFANA_ERR_BANDWIDTH:
    return "bad bandwidth: must be finite and >= 0 (0 = hard binning)";
  case DIFFANA_ERR_OVERFLOW:
    return "unknown overflow policy: must be 0 (drop) or 1 (fold)";
  case DIFFANA_ERR_ARGUMENT:
    return "bad argument: negative n or P, a NULL required pointer, or a NaN/infinite "
           "parameter";
  case DIFFANA_ERR_DEVICE:
    return "a CUDA runtime call failed (launch, copy or synchronisation)";
  default:
    return "unknown diffana status code";
  }
}
