# SPDX-License-Identifier: BSD-3-Clause
"""The differentiable AGC ttbar selection: diffana vs JAX vs hard numpy / RDF.

The pipeline is the relaxed AGC selection of examples/agc/agc.yaml (the spec in
tests/references/agc_reference.py's docstring): per jet a soft pT step (width 2 GeV) times
the hard |eta| / jet-ID cuts and a soft b-tag step (width 0.05); the exact joint
probabilities of the regions 4j1b / 4j2b; soft HT; the softmax (T = 10 GeV) trijet
mass over every triplet; soft histograms (25 bins on [50, 550] GeV, Gaussian
bandwidth 10 GeV) of HT in 4j1b and m_bjj in 4j2b, weighted by genWeight times the
region probability, after the hard one-lepton selection. Measured, at each number
of events, each in its own subprocess:

- ``diffana``      DiffFrame built from examples/agc/agc.yaml (defines, selections,
                   observables; the parameters pt_cut, btag_cut, jes are DiffFrame
                   parameters (P = 3), the relaxation scales are inlined as numbers):
                   both soft histograms with their Jacobian [25, 3], one event loop
                   (diffana::agc's soft trijet prunes triplets below 1e-4 of the
                   largest weight, error bounded). 1 thread; ``diffana_mt``: 2 threads;
                   ``diffana_noprune``: 1 thread, pruning off (epsilon = 0: every
                   triplet, exactly what the JAX reference computes).
                   Reported: the first loop (includes cling's JIT of the graph) and
                   the best later loop (set_params, same values: a fresh loop reading
                   the file again, nothing re-jitted).
- ``jax_*``        agc_reference.relaxed_jax: the same pipeline in jit-compiled float64
                   jax.numpy on padded jets grouped by multiplicity, fixed-size
                   batches, *all* triplets. ``jax_jacfwd``: histograms + Jacobian by
                   forward mode; ``jax_jacrev``: the same by reverse mode;
                   ``jax_vjp``: value_and_grad of one linear scalar of the histograms
                   (a single reverse pass; gives 1 of the 50 Jacobian rows, so it is a
                   lower bound for reverse mode, not the same output);
                   ``jax_jacfwd_1core``: jax_jacfwd pinned to one core (XLA uses
                   every core by default; diffana's row uses one). Reported: read
                   + preparation (uproot, numpy), the XLA compilation of every batch
                   shape (ahead of time, separately), the first run and the best later
                   run of the compiled batches (data in memory).
- ``diffana_cache`` ``diffana`` with ``DiffFrame(..., cache=input columns)``: the
                   input read into memory once (in the build phase), later loops
                   never touch the file (what an optimisation loop would use; like
                   JAX's data in memory). Memory grows with N.
- ``numpy``        the hard AGC selection in plain numpy (agc_reference.hard_agc +
                   hard_histograms; hard bins), reading included.
- ``rdataframe``   the hard AGC selection in plain RDataFrame: cling-declared C++
                   helpers on RVecs, typed Histo1D, 1 thread; first loop (JIT) and the
                   best later loop (re-booked on the same graph).
- ``rdf_read``     plain RDataFrame reading the pipeline's input branches and nothing
                   else (the I/O share of a loop), 1 thread.

Every row reports wall time, CPU time (user + sys of the process over the same
interval, all threads), the peak RSS of the child (``ru_maxrss``) and the peak above
the RSS after the imports ("extra": what the measurement itself holds). The
"steady" columns are what a repeated evaluation costs (an optimisation step):
diffana's later loop, JAX's read + prep + later run (and the run alone), numpy's
full run, RDF's later loop. Results of the methods are cross-checked (diffana vs
JAX relaxed histograms, numpy vs RDF hard histograms) and the maximum relative
differences recorded.

Input: the generated ttbar file of ``diffana generate --kind agc`` (default
/tmp/agc_gen/ttbar_1e7/ttbar.root, or ..._1e6); N < its entries reads the first N
entries, copied once into --data-dir (so every method reads a file of N events; with
the source's compression and, as the generator, at least 8 clusters).

    python benchmarks/bench_agc.py                      # 1e4, 1e5, 1e6 (+ diffana 1e7)
    python benchmarks/bench_agc.py --quick              # 1e4 only, a smoke test
    python benchmarks/bench_agc.py --json benchmarks/results_agc.json \\
        --markdown benchmarks/results_agc.md
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
CONFIG = REPO / "examples" / "agc" / "agc.yaml"
EDGES = np.linspace(50.0, 550.0, 26)
DIFF_PARAMS = ("pt_cut", "btag_cut", "jes")
METHODS = (
    "diffana",
    "diffana_mt",
    "diffana_noprune",
    "diffana_cache",
    "jax_jacfwd",
    "jax_jacfwd_1core",
    "jax_vjp",
    "jax_jacrev",
    "numpy",
    "rdataframe",
    "rdf_read",
)
#: The generated ttbar files, smallest first: N events come from the first file
#: with at least N entries.
DEFAULT_INPUTS = (
    "/tmp/agc_gen/ttbar_1e6/ttbar.root",
    "/tmp/agc_gen/ttbar_1e7/ttbar.root",
)


def _generate_missing_inputs(largest: int) -> None:
    """Write the default inputs that are missing (``diffana generate --kind agc
    --samples ttbar``, seed 1), up to the first one with >= ``largest`` events."""
    from diffana.generators import agc as generate_agc

    for path in DEFAULT_INPUTS:
        events = 10 ** int(path.split("_1e")[1].split("/")[0])
        if not os.path.exists(path):
            print(f"generating {events:,} ttbar events into {path}", flush=True)
            generate_agc.generate(os.path.dirname(path), seed=1, events=events,
                                  samples=["ttbar"])  # fmt: skip
        if events >= largest:
            return


def _reference() -> Any:
    """tests/references/agc_reference.py, imported by path."""
    name = "agc_reference"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, HERE.parent / "tests" / "references" / "agc_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


# ---- measurement helpers ------------------------------------------------------------


def _rss_mb(field: str = "VmRSS") -> float:
    """VmRSS / VmHWM of this process (Linux /proc), in MB; ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Clock:
    """Wall and CPU time of a phase."""

    def __enter__(self) -> _Clock:  # noqa: PYI034
        self.t0, self.c0 = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = _cpu() - self.c0


def _best(runs: list[_Clock]) -> _Clock:
    return min(runs, key=lambda c: c.wall)


# ---- the diffana pipeline -----------------------------------------------------------


def _literal_sub(expr: str, literals: dict[str, float]) -> str:
    """Parameters that are not differentiated become numbers (``x.value()`` too)."""
    for name, v in literals.items():
        expr = re.sub(
            rf"(?<![\w.])(?<!->)(?<!::){name}\s*\.\s*value\(\s*\)", repr(v), expr
        )
        expr = re.sub(rf"(?<![\w.])(?<!->)(?<!::){name}(?!\w)", repr(v), expr)
    return expr


def pipeline_spec(config: pathlib.Path | None, btag_branch: str) -> dict[str, Any]:
    """The relaxed pipeline from the YAML configuration (diffana.analysis.config.load; the
    raw YAML if this diffana's config schema does not know some key), or the same
    pipeline written here when there is no configuration."""
    if config is not None and config.is_file():
        try:
            from diffana.analysis import config as dconfig

            cfg = dconfig.load(config, check_files=False)
            raw: dict[str, Any] = {
                "parameters": [p.model_dump() for p in cfg.parameters],
                "defines": dict(cfg.defines),
                "selections": [{s.kind: s.expression} for s in cfg.selections],
                "observables": [o.model_dump() for o in cfg.observables],
                "samples": [s.model_dump() for s in cfg.samples],
            }
            source = f"{config} (diffana.analysis.config.load)"
        except (ImportError, ValueError) as err:  # an older schema: the YAML as is
            import yaml

            raw = yaml.safe_load(config.read_text())
            source = f"{config} (raw YAML: {type(err).__name__})"
        params = {p["name"]: float(p["value"]) for p in raw["parameters"]}
        sample = next(
            (s for s in raw["samples"] if s["name"] == "ttbar"), raw["samples"][0]
        )
        observables = []
        for o in raw["observables"]:
            b = o["bins"]
            edges = (
                np.linspace(b["low"], b["high"], int(b["n"]) + 1)
                if isinstance(b, dict)
                else np.asarray(b, dtype=float)
            )
            observables.append(
                (o["name"], o["expression"], edges, o.get("weight"), o.get("bandwidth"))
            )
        defines = dict(raw["defines"])
        if "jet_btag" in defines and btag_branch != "Jet_btagCSVV2":
            defines["jet_btag"] = defines["jet_btag"].replace(
                "Jet_btagCSVV2", btag_branch
            )
        return {
            "source": source,
            "params": params,
            "defines": list(defines.items()),
            "selections": [next(iter(s.items())) for s in raw["selections"]],
            "observables": observables,
            "sample_weight": sample.get("weight", "1.0"),
        }
    lep = (
        "Sum(Electron_pt > 30 && abs(Electron_eta) < 2.1 && Electron_cutBased == 4 && "
        "Electron_sip3d < 4) + Sum(Muon_pt > 30 && abs(Muon_eta) < 2.1 && "
        "Muon_tightId && Muon_sip3d < 4 && Muon_pfRelIso04_all < 0.15) == 1"
    )
    return {
        "source": "written in bench_agc.py (no configuration file)",
        "params": {"pt_cut": 30.0, "btag_cut": 0.5, "jes": 0.0},
        "defines": [
            ("jet_btag", f"ROOT::RVecD({btag_branch})"),
            ("jet_pt", "ROOT::RVecD(Jet_pt) * (1.0 + 0.03 * jes)"),
            ("jet_ok", "abs(Jet_eta) < 2.4 && (Jet_jetId & 4) != 0"),
            ("n_jet_ok", "Sum(jet_ok)"),
            ("jet_sel", "diffana::agc::soft_step(jet_pt, pt_cut, 2.0) * jet_ok"),
            ("jet_tag", "diffana::agc::soft_step(jet_btag, btag_cut, 0.05)"),
            ("regions", "diffana::agc::region_probabilities(jet_sel, jet_tag)"),
            ("p_4j1b", "regions.p_4j1b"),
            ("p_4j2b", "regions.p_4j2b"),
            ("ht", "Sum(jet_sel * jet_pt)"),
            (
                "trijet",
                (
                    "diffana::agc::soft_trijet_mass(jet_pt, Jet_eta, Jet_phi, "
                    "Jet_mass, jet_sel, jet_tag, diffana::agc::TrijetOptions{10.0, 1e-4})"
                ),
            ),
            ("mbjj", "trijet.mass"),
        ],
        "selections": [("filter", lep), ("filter", "n_jet_ok >= 4")],
        "observables": [
            ("4j1b", "ht", EDGES, "p_4j1b", 10.0),
            ("4j2b", "mbjj", EDGES, "p_4j2b", 10.0),
        ],
        "sample_weight": "genWeight",
    }


def no_pruning(spec: dict[str, Any]) -> dict[str, Any]:
    """The pipeline with the soft trijet's pruning threshold epsilon = 0 (every
    triplet, as the JAX reference): the define ``trijet_epsilon`` set to 0, or the
    literal 1e-4 in the TrijetOptions replaced."""
    defines = []
    for name, expr in spec["defines"]:
        if name == "trijet_epsilon":
            expr = "0.0"
        elif "TrijetOptions" in expr:
            expr = re.sub(r"1e-4\s*}", "0.0}", expr)
        defines.append((name, expr))
    return {**spec, "defines": defines, "source": spec["source"] + ", epsilon = 0"}


def _root_with_source_headers() -> Any:
    """PyROOT with this checkout's include/ ahead of the installed diffana headers
    (the installed package may be older than the source tree)."""
    import ROOT

    if (REPO / "include" / "diffana").is_dir():
        ROOT.gInterpreter.AddIncludePath(str(REPO / "include"))
    return ROOT


def input_columns(df: Any, spec: dict[str, Any]) -> list[str]:
    """The input branches that the pipeline's expressions name."""
    text = " ".join(
        [e for _, e in spec["defines"]]
        + [e for _, e in spec["selections"]]
        + [f"{o[1]} {o[3]}" for o in spec["observables"]]
        + [spec["sample_weight"]]
    )
    words = set(re.findall(r"(?<![\w.])[A-Za-z_]\w*", text))
    return sorted(str(c) for c in df.GetColumnNames() if str(c) in words)


def build_diffana(
    path: str, spec: dict[str, Any], cache: bool = False
) -> tuple[Any, dict[str, Any]]:
    """A DiffFrame on ``path`` with the spec's pipeline; returns (frame, {name:
    GradHistResult}). ``cache``: read the input columns into memory first
    (``DiffFrame(..., cache=columns)``: one event loop now, later loops never touch
    the file)."""
    ROOT = _root_with_source_headers()
    from diffana import rdf

    rdf._import_root()
    params = {k: v for k, v in spec["params"].items() if k in DIFF_PARAMS}
    missing = set(DIFF_PARAMS) - set(params)
    if missing:
        msg = f"the pipeline has no parameter(s) {sorted(missing)}"
        raise ValueError(msg)
    literals = {k: v for k, v in spec["params"].items() if k not in DIFF_PARAMS}
    df = ROOT.RDataFrame("Events", path)
    cols = input_columns(df, spec) if cache else None
    ddf = rdf.DiffFrame(df, params, cache=cols)
    for name, expr in spec["defines"]:
        ddf = ddf.define(name, _literal_sub(expr, literals))
    for kind, expr in spec["selections"]:  # after the defines that they use
        e = _literal_sub(expr, literals)
        ddf = ddf.filter(e) if kind == "filter" else ddf.soft_filter(e)
    hists = {}
    for i, (name, expr, edges, weight, bw) in enumerate(spec["observables"]):
        wname = f"bench_w_{i}"
        w = (
            spec["sample_weight"]
            if weight is None
            else f"({spec['sample_weight']}) * ({weight})"
        )
        node = ddf.define(wname, _literal_sub(w, literals))
        hists[name] = node.histo(
            _literal_sub(expr, literals), edges, weight=wname, bandwidth=bw
        )
    return ddf, hists


# ---- the hard RDataFrame pipeline -----------------------------------------------------

RDF_HELPERS = r"""
#include <ROOT/RVec.hxx>
#include <cmath>
#include <cstddef>
namespace agc_bench_rdf {
using ROOT::RVecB;
using ROOT::RVecD;
template <class Pt> RVecD jet_pt(const ROOT::RVec<Pt>& pt, double jes) {
  RVecD r(pt.size());
  for (std::size_t j = 0; j < pt.size(); ++j) r[j] = double(pt[j]) * (1.0 + 0.03 * jes);
  return r;
}
template <class Eta, class Id>
RVecB jet_sel(const RVecD& pt, const ROOT::RVec<Eta>& eta, const ROOT::RVec<Id>& id,
              double cut) {
  RVecB r(pt.size());
  for (std::size_t j = 0; j < pt.size(); ++j)
    r[j] = pt[j] > cut && std::abs(double(eta[j])) < 2.4 && (int(id[j]) & 4) != 0;
  return r;
}
template <class B> RVecB jet_tag(const RVecB& sel, const ROOT::RVec<B>& score, double cut) {
  RVecB r(sel.size());
  for (std::size_t j = 0; j < sel.size(); ++j) r[j] = sel[j] && double(score[j]) >= cut;
  return r;
}
template <class Pt, class Eta, class Id, class Sip>
int n_electrons(const ROOT::RVec<Pt>& pt, const ROOT::RVec<Eta>& eta,
                const ROOT::RVec<Id>& id, const ROOT::RVec<Sip>& sip) {
  int n = 0;
  for (std::size_t i = 0; i < pt.size(); ++i)
    n += double(pt[i]) > 30 && std::abs(double(eta[i])) < 2.1 && int(id[i]) == 4 &&
         double(sip[i]) < 4;
  return n;
}
template <class Pt, class Eta, class Id, class Sip, class Iso>
int n_muons(const ROOT::RVec<Pt>& pt, const ROOT::RVec<Eta>& eta,
            const ROOT::RVec<Id>& id, const ROOT::RVec<Sip>& sip,
            const ROOT::RVec<Iso>& iso) {
  int n = 0;
  for (std::size_t i = 0; i < pt.size(); ++i)
    n += double(pt[i]) > 30 && std::abs(double(eta[i])) < 2.1 && bool(id[i]) &&
         double(sip[i]) < 4 && double(iso[i]) < 0.15;
  return n;
}
inline double ht(const RVecD& pt, const RVecB& sel) {
  double s = 0;
  for (std::size_t j = 0; j < pt.size(); ++j) if (sel[j]) s += pt[j];
  return s;
}
// The mass of the trijet of selected jets with the largest vector-sum pT among those
// with a b-tagged jet (first in (i, j, k) order on ties); 0 without one.
template <class Eta, class Phi, class M>
double trijet_mass(const RVecD& pt, const ROOT::RVec<Eta>& eta, const ROOT::RVec<Phi>& phi,
                   const ROOT::RVec<M>& m, const RVecB& sel, const RVecB& tag) {
  const std::size_t n = pt.size();
  RVecD px, py, pz, e;
  ROOT::RVec<char> t;
  for (std::size_t j = 0; j < n; ++j) {
    if (!sel[j]) continue;
    const double p = pt[j], h = double(eta[j]), f = double(phi[j]);
    px.push_back(p * std::cos(f));
    py.push_back(p * std::sin(f));
    pz.push_back(p * std::sinh(h));
    e.push_back(std::hypot(p * std::cosh(h), double(m[j])));
    t.push_back(tag[j]);
  }
  const std::size_t k = px.size();
  double best = -1.0;
  std::size_t bi = 0, bj = 0, bk = 0;
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i + 1; j < k; ++j)
      for (std::size_t l = j + 1; l < k; ++l) {
        if (!(t[i] || t[j] || t[l])) continue;
        const double ptt = std::hypot(px[i] + px[j] + px[l], py[i] + py[j] + py[l]);
        if (ptt > best) { best = ptt; bi = i; bj = j; bk = l; }
      }
  if (best < 0) return 0.0;
  const double sx = px[bi] + px[bj] + px[bk], sy = py[bi] + py[bj] + py[bk];
  const double sz = pz[bi] + pz[bj] + pz[bk], se = e[bi] + e[bj] + e[bk];
  const double p = std::hypot(std::hypot(sx, sy), sz);
  const double m2 = (se - p) * (se + p);
  return m2 > 0 ? std::sqrt(m2) : 0.0;
}
}  // namespace agc_bench_rdf
"""


def build_rdataframe(path: str, btag_branch: str) -> tuple[Any, Callable[[], Any]]:
    """The hard AGC selection in plain RDataFrame; returns (ROOT, book) where book()
    books the two histograms (4j1b HT, 4j2b m_bjj) on the graph."""
    import ROOT

    if not hasattr(ROOT, "agc_bench_rdf"):
        assert ROOT.gInterpreter.Declare(RDF_HELPERS)
    ns = "agc_bench_rdf"
    df = (
        ROOT.RDataFrame("Events", path)
        .Define(
            "n_lep",
            f"{ns}::n_electrons(Electron_pt, Electron_eta, Electron_cutBased, "
            f"Electron_sip3d) + {ns}::n_muons(Muon_pt, Muon_eta, Muon_tightId, "
            "Muon_sip3d, Muon_pfRelIso04_all)",
        )
        .Filter("n_lep == 1")
        .Define("pt", f"{ns}::jet_pt(Jet_pt, 0.0)")
        .Define("sel", f"{ns}::jet_sel(pt, Jet_eta, Jet_jetId, 30.0)")
        .Define("tag", f"{ns}::jet_tag(sel, {btag_branch}, 0.5)")
        .Define("njet", "int(Sum(sel))")
        .Define("nb", "int(Sum(tag))")
        .Define("w", "double(genWeight)")
        .Filter("njet >= 4 && nb >= 1")
    )
    r1 = ROOT.RDF.AsRNode(df.Filter("nb == 1").Define("ht", f"{ns}::ht(pt, sel)"))
    r2 = ROOT.RDF.AsRNode(
        df.Filter("nb >= 2").Define(
            "mbjj", f"{ns}::trijet_mass(pt, Jet_eta, Jet_phi, Jet_mass, sel, tag)"
        )
    )
    model = ROOT.RDF.TH1DModel("h", "", 25, 50.0, 550.0)

    def book() -> Any:
        return (
            r1.Histo1D["double", "double"](model, "ht", "w"),
            r2.Histo1D["double", "double"](model, "mbjj", "w"),
        )

    return ROOT, book


def build_read_only(path: str, columns: list[str]) -> tuple[Any, Callable[[], Any]]:
    """Plain RDataFrame that reads ``columns`` and nothing else (the sum of the
    numbers and RVec sizes): the I/O part of an event loop."""
    import ROOT

    df = ROOT.RDataFrame("Events", path)
    terms = []
    for c in columns:
        t = str(df.GetColumnType(c))
        terms.append(f"double({c}.size())" if "RVec" in t else f"double({c})")
    node = ROOT.RDF.AsRNode(df.Define("bench_read", " + ".join(terms)))

    def book() -> Any:
        return node.Sum["double"]("bench_read")

    return ROOT, book


def _th1(h: Any) -> tuple[list[float], list[float]]:
    n = h.GetNbinsX()
    return (
        [h.GetBinContent(i) for i in range(1, n + 1)],
        [h.GetBinError(i) ** 2 for i in range(1, n + 1)],
    )


# ---- one measurement (child process) ------------------------------------------------


def measure(
    method: str, path: str, btag: str, repeat: int, batch_triplets: int
) -> dict[str, Any]:
    """Runs in the child process; returns the row's numbers and the histograms."""
    out: dict[str, Any] = {}
    phases: dict[str, _Clock] = {}
    if method.startswith("diffana"):
        ROOT = _root_with_source_headers()
        if method == "diffana_mt":  # 2 threads
            ROOT.EnableImplicitMT(2)
        from diffana import rdf

        rdf._import_root()
        spec = pipeline_spec(CONFIG, btag)
        if method == "diffana_noprune":
            spec = no_pruning(spec)
        baseline = _rss_mb()
        with _Clock() as c_all:
            with _Clock() as phases["build"]:  # with the cache's loop (diffana_cache)
                ddf, hists = build_diffana(path, spec, cache=method == "diffana_cache")
            with _Clock() as phases["first"]:
                res = {k: h.result() for k, h in hists.items()}
            runs = []
            for _ in range(repeat):
                ddf.set_params(**{k: spec["params"][k] for k in DIFF_PARAMS})
                with _Clock() as c:
                    res = {k: h.result() for k, h in hists.items()}
                runs.append(c)
            phases["steady"] = _best(runs)
        out["pipeline"] = spec["source"]
        out["param_names"] = list(ddf.param_names)
        out["histograms"] = {
            k: {"values": r.values.tolist(), "jacobian": r.jacobian.tolist()}
            for k, r in res.items()
        }
        out["n_loops"] = ddf.n_loops
    elif method.startswith("jax"):
        if method.endswith("_1core") and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        mode = {
            "jax_jacfwd": "jacfwd",
            "jax_jacfwd_1core": "jacfwd",
            "jax_jacrev": "jacrev",
            "jax_vjp": "vjp_scalar",
        }[method]
        ref = _reference()
        jax = ref._jax()
        jax.numpy.zeros(1).block_until_ready()  # initialise the backend
        baseline = _rss_mb()
        with _Clock() as c_all:
            with _Clock() as phases["read_prep"]:
                events = ref.read_events(path, btag)
                prepared = ref.prepare_relaxed(events, batch_triplets=batch_triplets)
                del events
            with _Clock() as phases["compile"]:
                compiled = ref.compile_relaxed(prepared, mode)
            with _Clock() as phases["first"]:
                res = ref.relaxed_jax(prepared, mode=mode, compiled=compiled)
            runs = []
            for _ in range(repeat):
                with _Clock() as c:
                    res = ref.relaxed_jax(prepared, mode=mode, compiled=compiled)
                runs.append(c)
            phases["steady_run"] = _best(runs)
        out["shapes"] = [list(s) for s in prepared.shapes]
        out["events_kept"] = prepared.n_kept
        out["histograms"] = {
            k: {
                "values": res[k].tolist(),
                **(
                    {"jacobian": res["jacobian"][k].tolist()}
                    if "jacobian" in res
                    else {}
                ),
            }
            for k in ("4j1b", "4j2b")
        }
        if "grad" in res:
            out["grad"] = res["grad"].tolist()
    elif method == "numpy":
        ref = _reference()
        import awkward  # noqa: F401
        import uproot  # noqa: F401

        baseline = _rss_mb()
        with _Clock() as c_all:
            runs = []
            for _ in range(repeat + 1):
                with _Clock() as c:
                    sel = ref.hard_agc(ref.read_events(path, btag))
                    hard = ref.hard_histograms(sel)
                runs.append(c)
                del sel
            phases["first"] = runs[0]
            phases["steady"] = _best(runs[1:] or runs)
        out["histograms"] = {
            k: {"values": v.tolist(), "sumw2": s.tolist()} for k, (v, s) in hard.items()
        }
    elif method in ("rdataframe", "rdf_read"):
        ROOT = _root_with_source_headers()
        ROOT.gInterpreter.Declare(RDF_HELPERS)  # loads ROOT and cling, as diffana's
        baseline = _rss_mb()
        with _Clock() as c_all:
            with _Clock() as phases["build"]:
                if method == "rdataframe":
                    ROOT, book = build_rdataframe(path, btag)
                else:
                    cols = input_columns(
                        ROOT.RDataFrame("Events", path), pipeline_spec(CONFIG, btag)
                    )
                    ROOT, book = build_read_only(path, cols)
                    out["columns"] = cols
            runs = []
            for _ in range(repeat + 1):
                with _Clock() as c:
                    booked = book()
                    if method == "rdataframe":
                        booked[1].GetValue()
                        booked[0].GetValue()
                    else:
                        booked.GetValue()
                runs.append(c)
            phases["first"] = runs[0]
            phases["steady"] = _best(runs[1:] or runs)
        if method == "rdataframe":
            out["histograms"] = {
                k: dict(zip(("values", "sumw2"), _th1(h.GetValue()), strict=True))
                for k, h in zip(("4j1b", "4j2b"), booked, strict=True)
            }
    else:
        msg = f"unknown method {method!r}"
        raise ValueError(msg)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
    peak = _rss_mb("VmHWM")
    out.update(
        {
            f"{name}_{what}": round(getattr(c, attr), 4)
            for name, c in phases.items()
            for what, attr in (("s", "wall"), ("cpu_s", "cpu"))
        }
    )
    out.update(
        {
            "total_s": round(c_all.wall, 4),
            "total_cpu_s": round(c_all.cpu, 4),
            "baseline_rss_mb": round(baseline, 1),
            "peak_rss_mb": round(peak, 1),
            "extra_rss_mb": round(peak - baseline, 1),
            "load_average_after": round(os.getloadavg()[0], 2),
        }
    )
    return out


def run_one(
    method: str, path: str, btag: str, repeat: int, batch_triplets: int, timeout: float
) -> dict[str, Any]:
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [sys.executable, __file__, "--child", method, path, btag, str(repeat)]
    cmd += ["--batch-triplets", str(batch_triplets)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return {"error": proc.stderr[-3000:]}
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_s"] = round(time.perf_counter() - t0, 3)
    res["process_cpu_s"] = round(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3
    )
    return res


# ---- inputs ---------------------------------------------------------------------------


def input_file(source: str, n: int, data_dir: pathlib.Path) -> tuple[str, int]:
    """A file with the first n entries of ``source`` (``source`` itself when it has
    exactly n, or fewer: then all of it); returns (path, entries)."""
    import uproot

    with uproot.open(source) as f:
        total = f["Events"].num_entries
    if n >= total:
        return source, total
    data_dir.mkdir(parents=True, exist_ok=True)
    stem = pathlib.Path(source).stem
    parent = pathlib.Path(source).parent.name
    out = data_dir / f"{parent}_{stem}_first{n}_v2.root"
    if not out.exists():
        import ROOT

        with uproot.open(source) as f:
            comp = f.file.compression
        ROOT.DisableImplicitMT()
        tmp = out.with_suffix(".tmp.root")
        df = ROOT.RDataFrame("Events", source).Range(n)
        opts = ROOT.RDF.RSnapshotOptions()
        # As the generator writes: clusters of at most 1e5 events, at least 8 of
        # them; the source file's compression.
        opts.fAutoFlush = max(1, min(100_000, n // 8))
        if comp is not None:
            algs = ROOT.ROOT.RCompressionSetting.EAlgorithm
            opts.fCompressionAlgorithm = getattr(algs, f"k{type(comp).__name__}")
            opts.fCompressionLevel = comp.level
        df.Snapshot("Events", str(tmp), "", opts)
        tmp.rename(out)
    return str(out), n


# ---- comparisons and the table -------------------------------------------------------


def _max_rel(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


def cross_checks(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Max |difference| / max |value| between methods that compute the same thing."""
    out = {}
    pairs = [
        ("diffana", "jax_jacfwd", "values"),
        ("diffana", "jax_jacfwd", "jacobian"),
        ("diffana_noprune", "jax_jacfwd", "values"),
        ("diffana_noprune", "jax_jacfwd", "jacobian"),
        ("diffana", "diffana_mt", "values"),
        ("diffana", "diffana_mt", "jacobian"),
        ("jax_jacfwd", "jax_jacrev", "jacobian"),
        ("numpy", "rdataframe", "values"),
    ]
    for a, b, what in pairs:
        ha, hb = rows.get(a, {}).get("histograms"), rows.get(b, {}).get("histograms")
        if not ha or not hb:
            continue
        for region in ("4j1b", "4j2b"):
            if what in ha[region] and what in hb[region]:
                out[f"{a} vs {b} {region} {what}"] = _max_rel(
                    ha[region][what], hb[region][what]
                )
    return out


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


def steady(row: dict[str, Any]) -> tuple[float | None, float | None]:
    """(wall, cpu) of one repeated evaluation (JAX: read + prep + best run)."""
    if "error" in row:
        return None, None
    if "steady_run_s" in row:
        return (
            row["read_prep_s"] + row["steady_run_s"],
            row["read_prep_cpu_s"] + row["steady_run_cpu_s"],
        )
    return row.get("steady_s"), row.get("steady_cpu_s")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# AGC benchmark",
        "",
        f"`{results['command']}`",
        "",
        (
            f"Machine: {results['machine']}. Input: {results['input']}. "
            f"Pipeline: {results['pipeline']}."
        ),
        "",
        (
            "Times in seconds, memory in MB. *steady*: one repeated evaluation "
            "(diffana / RDF: a later event loop over the file; JAX: read + prep + a "
            "later run of the compiled batches; numpy: a full run). *first*: the first "
            "evaluation (diffana / RDF: the first loop, with cling's JIT; JAX: the "
            "first run after the separate XLA compilation). CPU: user + sys of the "
            "steady evaluation (all threads). extra RSS: peak RSS above the RSS after "
            "the imports."
        ),
        "",
        (
            "| events | method | steady wall | steady CPU | first | JAX run only | "
            "JAX read+prep | JAX compile | peak RSS | extra RSS |"
        ),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for block in results["rows"]:
        n = block["events"]
        for method, row in block["methods"].items():
            if "error" in row:
                err = row["error"].strip().splitlines()[-1][:80] if row["error"] else ""
                lines.append(f"| {n:,} | {method} | error: {err} |||||||||")
                continue
            wall, cpu = steady(row)
            lines.append(
                "| "
                + " | ".join(
                    [
                        f"{n:,}",
                        method,
                        _fmt(wall),
                        _fmt(cpu),
                        _fmt(row.get("first_s")),
                        _fmt(row.get("steady_run_s")),
                        _fmt(row.get("read_prep_s")),
                        _fmt(row.get("compile_s")),
                        _fmt(row.get("peak_rss_mb"), 4),
                        _fmt(row.get("extra_rss_mb"), 4),
                    ]
                )
                + " |"
            )
    lines += ["", "Ratios (steady wall time):", ""]
    for block in results["rows"]:
        m = block["methods"]
        d = steady(m.get("diffana", {"error": ""}))[0]
        if d is None:
            continue
        parts = []
        others = ("jax_jacfwd", "jax_jacfwd_1core", "jax_vjp", "jax_jacrev")
        for other in (*others, "rdataframe", "rdf_read", "numpy"):
            o = steady(m.get(other, {"error": ""}))[0]
            if o is not None:
                parts.append(f"{other} / diffana = {o / d:.2f}")
        run = m.get("jax_jacfwd", {}).get("steady_run_s")
        if run is not None:
            parts.append(f"jax_jacfwd run only / diffana = {run / d:.2f}")
        mt = steady(m.get("diffana_mt", {"error": ""}))[0]
        if mt is not None:
            parts.append(f"diffana / diffana_mt (2 threads) = {d / mt:.2f}")
        d0 = steady(m.get("diffana_noprune", {"error": ""}))[0]
        o = steady(m.get("jax_jacfwd", {"error": ""}))[0]
        if d0 is not None and o is not None:
            parts.append(f"jax_jacfwd / diffana_noprune = {o / d0:.2f}")
        lines.append(f"- {block['events']:,} events: " + "; ".join(parts))
    lines += ["", "Cross-checks (max |a - b| / max |a|):", ""]
    for block in results["rows"]:
        for k, v in block.get("checks", {}).items():
            lines.append(f"- {block['events']:,} events, {k}: {v:.2e}")
    return "\n".join(lines) + "\n"


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, load average {load:.2f} at the start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument(
        "--diffana-only", type=int, nargs="*", default=[10_000_000],
        help="sizes measured with diffana (1 and 2 threads) only",
    )  # fmt: skip
    parser.add_argument(
        "--input",
        help="the generated ttbar file (default: " + ", ".join(DEFAULT_INPUTS) + ")",
    )
    parser.add_argument("--btag", default="Jet_btagCSVV2", help="the b-tag branch")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--jacrev-max", type=int, default=100_000,
        help="measure jax_jacrev only up to this many events (it is ~20x jacfwd)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-triplets", type=int, default=1 << 13)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument(
        "--data-dir",
        default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "diffana_agc_bench"),
    )
    parser.add_argument("--quick", action="store_true", help="1e4 events only")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the markdown table here")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, path, btag, repeat = args.child
        print(json.dumps(measure(method, path, btag, int(repeat), args.batch_triplets)))
        return
    if args.quick:
        args.events, args.diffana_only = [10_000], []
    if not args.input:
        _generate_missing_inputs(max([*args.events, *args.diffana_only]))
    available = (
        [args.input] if args.input else [p for p in DEFAULT_INPUTS if os.path.exists(p)]
    )
    if not available:
        parser.error(f"no input: none of {DEFAULT_INPUTS} exists; give --input")

    def source_for(n: int) -> str:
        import uproot

        for p in available:
            with uproot.open(p) as f:
                if f["Events"].num_entries >= n:
                    return p
        return available[-1]

    results: dict[str, Any] = {
        "command": "python benchmarks/bench_agc.py " + " ".join(sys.argv[1:]),
        "machine": _machine(),
        "input": ", ".join(available),
        "pipeline": pipeline_spec(CONFIG, args.btag)["source"],
        "rows": [],
    }
    plan = [(n, list(args.methods)) for n in args.events]
    plan += [
        (n, [m for m in args.methods if m in ("diffana", "diffana_mt")])
        for n in args.diffana_only
    ]
    for n, methods in plan:
        path, entries = input_file(source_for(n), n, pathlib.Path(args.data_dir))
        block: dict[str, Any] = {"events": entries, "file": path, "methods": {}}
        for m in methods:
            if m == "jax_jacrev" and entries > args.jacrev_max:
                continue
            row = run_one(
                m, path, args.btag, args.repeat, args.batch_triplets, args.timeout
            )
            block["methods"][m] = row
            wall, _ = steady(row)
            msg = (
                row["error"].strip().splitlines()[-1]
                if "error" in row
                else f"{wall:.3f} s"
            )
            print(f"{entries:>10,d}  {m:<12} {msg}", file=sys.stderr, flush=True)
        block["checks"] = cross_checks(block["methods"])
        results["rows"].append(block)
        if args.json:  # partial results survive an interruption
            pathlib.Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    if args.markdown:
        pathlib.Path(args.markdown).write_text(table)
    print(table)


if __name__ == "__main__":
    main()
