// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.agc_relaxed`: the relaxed AGC step of src/cuda/agc_relaxed.hpp on
/// numpy arrays, its CPU twin (`events`, `step`). The CUDA step on device pointers is
/// `_core.cuda.agc_relaxed_step` (register_cuda.cpp).
#include "agc_relaxed.hpp"
#include "pybind11.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace diffana::bindings {
namespace {

namespace ar = diffana::agc_relaxed;
using ArrayI64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

/// The jet columns, converted once (float64, offsets int64) and checked: offsets of
/// n_events + 1 entries from 0, non-decreasing, ending at the number of jets that
/// every jet column holds; weight of n_events entries.
struct HostColumns {
  ArrayI64 offsets;
  std::vector<ArrayF64> arrays; // pt, eta, phi, mass, btag, ok, weight
  ar::Columns col;

  HostColumns(const py::object& offsets_obj, const std::vector<py::object>& objs) {
    static const char* names[] = {"pt", "eta", "phi", "mass", "btag", "ok", "weight"};
    offsets = ArrayI64::ensure(offsets_obj);
    if (!offsets) throw py::type_error("offsets must be an array of integers");
    require_ndim(offsets, 1, "offsets");
    if (offsets.size() < 1 || offsets.data()[0] != 0)
      throw py::value_error("offsets must start with 0 (n_events + 1 entries)");
    const std::int64_t n = offsets.size() - 1;
    const std::int64_t* o = offsets.data();
    for (std::int64_t i = 0; i < n; ++i)
      if (o[i + 1] < o[i])
        throw py::value_error("offsets must be non-decreasing, got offsets[" +
                              std::to_string(i + 1) + "] < offsets[" +
                              std::to_string(i) + "]");
    for (std::size_t k = 0; k < objs.size(); ++k) {
      arrays.push_back(to_f64(objs[k], names[k]));
      require_ndim(arrays.back(), 1, names[k]);
      const std::int64_t want = k + 1 < objs.size() ? o[n] : n;
      if (arrays.back().size() != want)
        throw py::value_error(std::string(names[k]) + " must have " +
                              std::to_string(want) + " entries (" +
                              (k + 1 < objs.size() ? "offsets[-1]" : "one per event") +
                              "), got " + std::to_string(arrays.back().size()));
    }
    col = {o,
           arrays[0].data(),
           arrays[1].data(),
           arrays[2].data(),
           arrays[3].data(),
           arrays[4].data(),
           arrays[5].data(),
           arrays[6].data(),
           n};
  }
};

std::vector<double> params_of(const py::object& obj) {
  const ArrayF64 p = to_f64(obj, "params");
  if (p.ndim() != 1 || p.size() != ar::n_values)
    throw py::value_error("params must hold " + std::to_string(ar::n_values) +
                          " numbers (pt_cut, btag_cut, jes, pt_width, btag_width, "
                          "temperature, epsilon, jes_step), got shape " +
                          shape_string(p));
  std::vector<double> v(p.data(), p.data() + p.size());
  if (ar::Params::of(v.data()).check() != DIFFANA_OK)
    throw py::value_error("params must be finite, with pt_width, btag_width and "
                          "temperature >= 0 and epsilon in [0, 1)");
  return v;
}

py::tuple events(const py::object& offsets, const py::object& pt, const py::object& eta,
                 const py::object& phi, const py::object& mass, const py::object& btag,
                 const py::object& ok, const py::object& weight,
                 const py::object& params) {
  const HostColumns hc(offsets, {pt, eta, phi, mass, btag, ok, weight});
  const std::vector<double> pv = params_of(params);
  const py::ssize_t n = hc.col.n_events;
  constexpr py::ssize_t P = ar::n_params;
  auto x = zeros({n, 2});
  auto x_tan = zeros({n, 2, P});
  auto w = zeros({n, 2});
  auto w_tan = zeros({n, 2, P});
  py::array_t<bool> valid(n);
  double* px = x.mutable_data();
  double* pxt = x_tan.mutable_data();
  double* pw = w.mutable_data();
  double* pwt = w_tan.mutable_data();
  bool* pv_out = valid.mutable_data();
  {
    py::gil_scoped_release release;
    const ar::Params par = ar::Params::of(pv.data());
    for (py::ssize_t i = 0; i < n; ++i) {
      const ar::EventObservables e = ar::event_observables(hc.col, i, par);
      pv_out[i] = e.valid;
      for (int c = 0; c < 2; ++c) {
        px[2 * i + c] = e.x[c];
        pw[2 * i + c] = e.w[c];
        for (int d = 0; d < P; ++d) {
          pxt[(2 * i + c) * P + d] = e.x_tan[c][d];
          pwt[(2 * i + c) * P + d] = e.w_tan[c][d];
        }
      }
    }
  }
  return py::make_tuple(x, x_tan, w, w_tan, valid);
}

py::tuple step(const py::object& offsets, const py::object& pt, const py::object& eta,
               const py::object& phi, const py::object& mass, const py::object& btag,
               const py::object& ok, const py::object& weight, const py::object& params,
               const py::object& edges0, double bandwidth0, const py::object& edges1,
               double bandwidth1, int overflow) {
  const HostColumns hc(offsets, {pt, eta, phi, mass, btag, ok, weight});
  const std::vector<double> pv = params_of(params);
  const ArrayF64 e0 = to_f64(edges0, "edges0");
  const ArrayF64 e1 = to_f64(edges1, "edges1");
  require_ndim(e0, 1, "edges0");
  require_ndim(e1, 1, "edges1");
  const std::int64_t nb0 = e0.size() - 1;
  const std::int64_t nb1 = e1.size() - 1;
  const py::ssize_t nb = nb0 > 0 && nb1 > 0 ? nb0 + nb1 : 0;
  auto values = zeros({nb});
  auto sumw2 = zeros({nb});
  auto jac = zeros({nb, ar::n_params});
  auto sumw2_jac = zeros({nb, ar::n_params});
  std::int64_t skipped = 0;
  int status = 0;
  {
    py::gil_scoped_release release;
    status =
        ar::step_host(hc.col, pv.data(), e0.data(), nb0, bandwidth0, e1.data(), nb1,
                      bandwidth1, overflow, values.mutable_data(), sumw2.mutable_data(),
                      jac.mutable_data(), sumw2_jac.mutable_data(), &skipped);
  }
  raise_status("diffana::agc_relaxed::step_host", status);
  return py::make_tuple(values, sumw2, jac, sumw2_jac, skipped);
}

} // namespace
} // namespace diffana::bindings

void register_agc_relaxed(pybind11::module_ m) {
  namespace py = pybind11;
  using namespace diffana::bindings;
  m.doc() = "The relaxed AGC step (src/cuda/agc_relaxed.hpp) on the CPU (the twin).";
  m.attr("n_params") = diffana::agc_relaxed::n_params;
  m.attr("max_jets") = diffana::agc_relaxed::max_jets;
  m.def("events", &events, py::arg("offsets"), py::arg("pt"), py::arg("eta"),
        py::arg("phi"), py::arg("mass"), py::arg("btag"), py::arg("ok"),
        py::arg("weight"), py::arg("params"),
        "Per event (x[n, 2], x_tan[n, 2, 3], w[n, 2], w_tan[n, 2, 3], valid[n]): the "
        "two observables (H_T, m_bjj), their weights and tangents w.r.t. (pt_cut, "
        "btag_cut, jes).");
  m.def("step", &step, py::arg("offsets"), py::arg("pt"), py::arg("eta"),
        py::arg("phi"), py::arg("mass"), py::arg("btag"), py::arg("ok"),
        py::arg("weight"), py::arg("params"), py::arg("edges0"), py::arg("bandwidth0"),
        py::arg("edges1"), py::arg("bandwidth1"), py::arg("overflow") = 0,
        "The CPU twin of the CUDA step: (values[nb0 + nb1], sumw2, jac[nb0 + nb1, 3], "
        "sumw2_jac, n_skipped), the two histograms one after the other.");
}
