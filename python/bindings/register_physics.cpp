// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana._core.physics`: the Lorentz helpers of diffana/physics/lorentz.hpp,
/// element-wise over numpy arrays. Each element is computed with Dual<double, K>
/// (K = number of inputs) seeded with unit tangents, which gives the value and the
/// partial derivatives with respect to every input; the Python layer
/// (`diffana.physics`) multiplies the partials with the user's tangents.
#include "diffana/ad/dual.hpp"
#include "diffana/physics/lorentz.hpp"

#include "pybind11.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace diffana::bindings {
namespace {

template <int K> using D = Dual<double, K>;

/// Broadcasts K inputs and returns them with their common shape.
template <int K>
std::vector<ArrayF64> inputs(const std::array<py::object, K>& objs,
                             const std::array<const char*, K>& names) {
  return broadcast(std::vector<py::object>(objs.begin(), objs.end()),
                   std::vector<const char*>(names.begin(), names.end()));
}

/// out[i] = f(x_0[i], ..., x_{K-1}[i]) for a scalar f: returns (value[shape],
/// partials[shape + (K,)]).
template <int K, class F>
py::tuple scalar_map(const std::array<py::object, K>& objs,
                     const std::array<const char*, K>& names, F f) {
  const auto in = inputs<K>(objs, names);
  auto shape = shape_of(in[0]);
  auto value = zeros(shape);
  shape.push_back(K);
  auto partials = zeros(shape);
  std::array<const double*, K> ptr{};
  for (std::size_t k = 0; k < K; ++k)
    ptr[k] = in[k].data();
  const py::ssize_t n = in[0].size();
  double* pv = value.mutable_data();
  double* pd = partials.mutable_data();
  {
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) {
      std::array<D<K>, K> x;
      for (int k = 0; k < K; ++k)
        x[static_cast<std::size_t>(k)] =
            D<K>::variable(ptr[static_cast<std::size_t>(k)][i], k);
      const D<K> r = f(x);
      pv[i] = r.value();
      for (int k = 0; k < K; ++k)
        pd[i * K + k] = r.tangent(k);
    }
  }
  return py::make_tuple(value, partials);
}

/// As scalar_map for a function of 4 inputs returning 4 outputs: returns
/// (value[shape + (4,)], partials[shape + (4, 4)]) with partials[..., j, k] =
/// d out_j / d in_k.
template <class F>
py::tuple vector_map(const std::array<py::object, 4>& objs,
                     const std::array<const char*, 4>& names, F f) {
  const auto in = inputs<4>(objs, names);
  auto shape = shape_of(in[0]);
  shape.push_back(4);
  auto value = zeros(shape);
  shape.push_back(4);
  auto partials = zeros(shape);
  std::array<const double*, 4> ptr{};
  for (std::size_t k = 0; k < 4; ++k)
    ptr[k] = in[k].data();
  const py::ssize_t n = in[0].size();
  double* pv = value.mutable_data();
  double* pd = partials.mutable_data();
  {
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) {
      std::array<D<4>, 4> x;
      for (int k = 0; k < 4; ++k)
        x[static_cast<std::size_t>(k)] =
            D<4>::variable(ptr[static_cast<std::size_t>(k)][i], k);
      const std::array<D<4>, 4> r = f(x);
      for (int j = 0; j < 4; ++j) {
        const D<4>& rj = r[static_cast<std::size_t>(j)];
        pv[i * 4 + j] = rj.value();
        for (int k = 0; k < 4; ++k)
          pd[(i * 4 + j) * 4 + k] = rj.tangent(k);
      }
    }
  }
  return py::make_tuple(value, partials);
}

py::tuple invariant_mass2(py::object pt1, py::object eta1, py::object phi1,
                          py::object m1, py::object pt2, py::object eta2,
                          py::object phi2, py::object m2) {
  return scalar_map<8>({pt1, eta1, phi1, m1, pt2, eta2, phi2, m2},
                       {"pt1", "eta1", "phi1", "m1", "pt2", "eta2", "phi2", "m2"},
                       [](const std::array<D<8>, 8>& x) {
                         return invariant_mass(x[0], x[1], x[2], x[3], x[4], x[5], x[6],
                                               x[7]);
                       });
}

py::tuple invariant_mass3(py::object pt1, py::object eta1, py::object phi1,
                          py::object m1, py::object pt2, py::object eta2,
                          py::object phi2, py::object m2, py::object pt3,
                          py::object eta3, py::object phi3, py::object m3) {
  return scalar_map<12>({pt1, eta1, phi1, m1, pt2, eta2, phi2, m2, pt3, eta3, phi3, m3},
                        {"pt1", "eta1", "phi1", "m1", "pt2", "eta2", "phi2", "m2",
                         "pt3", "eta3", "phi3", "m3"},
                        [](const std::array<D<12>, 12>& x) {
                          return invariant_mass(x[0], x[1], x[2], x[3], x[4], x[5],
                                                x[6], x[7], x[8], x[9], x[10], x[11]);
                        });
}

py::tuple pt_of_sum2(py::object pt1, py::object phi1, py::object pt2, py::object phi2) {
  return scalar_map<4>(
      {pt1, phi1, pt2, phi2}, {"pt1", "phi1", "pt2", "phi2"},
      [](const std::array<D<4>, 4>& x) { return pt_of_sum(x[0], x[1], x[2], x[3]); });
}

py::tuple pt_of_sum3(py::object pt1, py::object phi1, py::object pt2, py::object phi2,
                     py::object pt3, py::object phi3) {
  return scalar_map<6>({pt1, phi1, pt2, phi2, pt3, phi3},
                       {"pt1", "phi1", "pt2", "phi2", "pt3", "phi3"},
                       [](const std::array<D<6>, 6>& x) {
                         return pt_of_sum(x[0], x[1], x[2], x[3], x[4], x[5]);
                       });
}

py::tuple delta_phi2(py::object phi1, py::object phi2) {
  return scalar_map<2>(
      {phi1, phi2}, {"phi1", "phi2"},
      [](const std::array<D<2>, 2>& x) { return delta_phi(x[0], x[1]); });
}

py::tuple delta_r2(py::object eta1, py::object phi1, py::object eta2, py::object phi2) {
  return scalar_map<4>(
      {eta1, phi1, eta2, phi2}, {"eta1", "phi1", "eta2", "phi2"},
      [](const std::array<D<4>, 4>& x) { return delta_r(x[0], x[1], x[2], x[3]); });
}

py::tuple cartesian(py::object pt, py::object eta, py::object phi, py::object m) {
  return vector_map({pt, eta, phi, m}, {"pt", "eta", "phi", "m"},
                    [](const std::array<D<4>, 4>& x) {
                      const auto v = to_cartesian(x[0], x[1], x[2], x[3]);
                      return std::array<D<4>, 4>{v.px, v.py, v.pz, v.e};
                    });
}

py::tuple collider(py::object px, py::object py_, py::object pz, py::object e) {
  return vector_map({px, py_, pz, e}, {"px", "py", "pz", "e"},
                    [](const std::array<D<4>, 4>& x) {
                      const PxPyPzE<D<4>> v{x[0], x[1], x[2], x[3]};
                      const auto r = to_pt_eta_phi_m(v);
                      return std::array<D<4>, 4>{r.pt, r.eta, r.phi, r.m};
                    });
}

} // namespace
} // namespace diffana::bindings

void register_physics(pybind11::module_ m) {
  namespace py = pybind11;
  namespace b = diffana::bindings;
  m.doc() = "Lorentz-vector helpers: value and partials (raw; see diffana.physics).";
  m.def("invariant_mass", &b::invariant_mass2, py::arg("pt1"), py::arg("eta1"),
        py::arg("phi1"), py::arg("m1"), py::arg("pt2"), py::arg("eta2"),
        py::arg("phi2"), py::arg("m2"),
        "Invariant mass of two (pt, eta, phi, m) objects: (value[s], partials[s, 8]).");
  m.def("invariant_mass3", &b::invariant_mass3, py::arg("pt1"), py::arg("eta1"),
        py::arg("phi1"), py::arg("m1"), py::arg("pt2"), py::arg("eta2"),
        py::arg("phi2"), py::arg("m2"), py::arg("pt3"), py::arg("eta3"),
        py::arg("phi3"), py::arg("m3"),
        "Invariant mass of three objects: (value[s], partials[s, 12]).");
  m.def("pt_of_sum", &b::pt_of_sum2, py::arg("pt1"), py::arg("phi1"), py::arg("pt2"),
        py::arg("phi2"), "pT of the sum of two objects: (value[s], partials[s, 4]).");
  m.def("pt_of_sum3", &b::pt_of_sum3, py::arg("pt1"), py::arg("phi1"), py::arg("pt2"),
        py::arg("phi2"), py::arg("pt3"), py::arg("phi3"),
        "pT of the sum of three objects: (value[s], partials[s, 6]).");
  m.def("delta_phi", &b::delta_phi2, py::arg("phi1"), py::arg("phi2"),
        "phi1 - phi2 wrapped into [-pi, pi): (value[s], partials[s, 2]).");
  m.def("delta_r", &b::delta_r2, py::arg("eta1"), py::arg("phi1"), py::arg("eta2"),
        py::arg("phi2"), "Delta R: (value[s], partials[s, 4]).");
  m.def("to_cartesian", &b::cartesian, py::arg("pt"), py::arg("eta"), py::arg("phi"),
        py::arg("m"),
        "(pt, eta, phi, m) -> (px, py, pz, E): (value[s, 4], partials[s, 4, 4]).");
  m.def("from_cartesian", &b::collider, py::arg("px"), py::arg("py"), py::arg("pz"),
        py::arg("e"),
        "(px, py, pz, E) -> (pt, eta, phi, m): (value[s, 4], partials[s, 4, 4]).");
}
