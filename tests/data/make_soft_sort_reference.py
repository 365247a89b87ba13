# SPDX-License-Identifier: BSD-3-Clause
"""Reference values for diffana::soft_sort / soft_rank (tests/cpp/test_soft_select.cpp).

A short NumPy port of google-research/fast-soft-sort, ``fast_soft_sort/numpy_ops.py``
(``soft_sort`` / ``soft_rank`` and their ``jvp``, ``regularization="l2"``) and of its
``third_party/isotonic.py`` (``isotonic_l2``, pool adjacent violators with
backtracking), written after reading that code (Blondel et al. 2020, "Fast
Differentiable Sorting and Ranking", arXiv:2002.08871). Only the forward maths is
ported; the reference's class structure is flattened into functions.

Semantics (as in the reference, latest version):

- ``soft_sort(x, eps, direction)``: sign = +1 for DESCENDING, -1 for ASCENDING;
  s = sort(sign * x) descending; w = (n, n-1, ..., 1) / eps;
  result = sign * (w - isotonic_l2(w - s)), in sorted position order.
- ``soft_rank(x, eps, direction)``: theta = x * sign / eps with sign = +1 for
  ASCENDING, -1 for DESCENDING; the projection of theta onto the permutahedron of
  w = (n, ..., 1): s = sort(theta) descending, result = s - isotonic_l2(s - w),
  scattered back to the order of x. Ranks are 1-based.
- Jacobians: the reference's ``jvp`` on the unit vectors (block means over the
  partition of the isotonic solution into runs of equal values, tolerance 1e-9).

Run ``python tests/data/make_soft_sort_reference.py`` to rewrite
``soft_sort_reference.json`` beside this file; ``--cpp`` prints the cases as the C++
initialiser embedded in tests/cpp/test_soft_select.cpp.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np


def isotonic_l2(y: np.ndarray) -> np.ndarray:
    """argmin_{v_1 >= ... >= v_n} 0.5 ||v - y||^2 (fast-soft-sort's PAV)."""
    n = y.shape[0]
    target = np.arange(n)
    c = np.ones(n)
    sums = y.astype(float).copy()
    sol = y.astype(float).copy()
    # If [i..j] is an active block, target[i] = j and target[j] = i.
    i = 0
    while i < n:
        k = target[i] + 1
        if k == n:
            break
        if sol[i] > sol[k]:
            i = k
            continue
        sum_y = sums[i]
        sum_c = c[i]
        while True:
            prev_y = sol[k]
            sum_y += sums[k]
            sum_c += c[k]
            k = target[k] + 1
            if k == n or prev_y > sol[k]:
                sol[i] = sum_y / sum_c
                sums[i] = sum_y
                c[i] = sum_c
                target[i] = k - 1
                target[k - 1] = i
                if i > 0:
                    i = target[i - 1]
                break
    i = 0
    while i < n:
        k = target[i] + 1
        sol[i + 1 : k] = sol[i]
        i = k
    return sol


def _partition(solution: np.ndarray, eps: float = 1e-9) -> list[int]:
    if len(solution) == 0:
        return []
    sizes = [1]
    for i in range(1, len(solution)):
        if abs(solution[i] - solution[i - 1]) > eps:
            sizes.append(0)
        sizes[-1] += 1
    return sizes


def _isotonic_jvp(solution: np.ndarray, vector: np.ndarray) -> np.ndarray:
    out = np.zeros_like(solution)
    start = 0
    for size in _partition(solution):
        end = start + size
        out[start:end] = np.mean(vector[start:end])
        start = end
    return out


def _inv_permutation(permutation: np.ndarray) -> np.ndarray:
    inv = np.zeros(len(permutation), dtype=np.int64)
    inv[permutation] = np.arange(len(permutation))
    return inv


def soft_sort(x: np.ndarray, eps: float, direction: str = "ASCENDING"):
    """Value and Jacobian [n_out, n_in] of fast-soft-sort's soft_sort (l2)."""
    n = len(x)
    sign = 1 if direction == "DESCENDING" else -1
    w = np.arange(1, n + 1)[::-1] / eps
    values = sign * x
    permutation = np.argsort(values)[::-1]
    s = values[permutation]
    solution = isotonic_l2(w - s)
    value = sign * (w - solution)
    eye = np.eye(n)
    jac = np.array([_isotonic_jvp(solution, eye[i][permutation]) for i in range(n)]).T
    return value, jac


def soft_rank(x: np.ndarray, eps: float, direction: str = "ASCENDING"):
    """Value and Jacobian [n_out, n_in] of fast-soft-sort's soft_rank (l2)."""
    n = len(x)
    sign = 1 if direction == "ASCENDING" else -1
    scale = sign / eps
    theta = x * scale
    w = np.arange(n)[::-1] + 1
    permutation = np.argsort(theta)[::-1]
    s = theta[permutation]
    solution = isotonic_l2(s - w)
    inv = _inv_permutation(permutation)
    value = (s - solution)[inv]
    eye = np.eye(n)
    cols = []
    for i in range(n):
        v = eye[i]
        cols.append((v - _isotonic_jvp(solution, v[permutation])[inv]) * scale)
    return value, np.array(cols).T


def cases() -> list[dict]:
    rng = np.random.default_rng(20200208)
    inputs: list[tuple[str, list[float], float]] = []
    strengths = [0.01, 0.1, 0.3, 1.0, 2.0, 5.0, 100.0]
    for n in range(1, 9):
        for eps in strengths[n % 3 :: 2]:
            x = np.round(rng.normal(0.0, 2.0, size=n), 4)
            inputs.append((f"random_n{n}_eps{eps:g}", x.tolist(), eps))
    inputs.append(("ties", [1.0, 3.0, 1.0, 2.0, 3.0], 0.5))
    inputs.append(("ties_small_eps", [0.5, -1.0, 0.5, 2.0], 0.01))
    inputs.append(("close_values", [0.1, 0.12, 0.3, -0.05, 0.11], 0.05))
    inputs.append(("large_magnitude", [3.0e6, -1.2e6, 4.5e6, 0.7e6], 1.0e6))
    inputs.append(("zeros", [0.0, 0.0, 0.0], 1.0))
    inputs.append(("already_sorted", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.7))
    inputs.append(("reversed", [6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 0.7))
    out = []
    for name, x, eps in inputs:
        xa = np.asarray(x, dtype=float)
        case: dict = {"name": name, "x": x, "strength": eps}
        for direction in ("ASCENDING", "DESCENDING"):
            tag = direction.lower()
            sv, sj = soft_sort(xa, eps, direction)
            rv, rj = soft_rank(xa, eps, direction)
            case[f"sort_{tag}"] = sv.tolist()
            case[f"sort_{tag}_jacobian"] = sj.tolist()
            case[f"rank_{tag}"] = rv.tolist()
            case[f"rank_{tag}_jacobian"] = rj.tolist()
        out.append(case)
    return out


def _cpp_list(v) -> str:
    return "{" + ", ".join(repr(float(a)) for a in v) + "}"


def _cpp_matrix(m) -> str:
    return "{" + ", ".join(repr(float(a)) for row in m for a in row) + "}"


def print_cpp(data: list[dict]) -> None:
    fields = [
        "x",
        "sort_ascending",
        "sort_descending",
        "rank_ascending",
        "rank_descending",
    ]
    jacs = [
        "sort_ascending_jacobian",
        "sort_descending_jacobian",
        "rank_ascending_jacobian",
        "rank_descending_jacobian",
    ]
    for case in data:
        parts = [f'"{case["name"]}"', repr(float(case["strength"]))]
        parts += [_cpp_list(case[f]) for f in fields]
        parts += [_cpp_matrix(case[f]) for f in jacs]
        print("    {" + ",\n     ".join(parts) + "},")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp", action="store_true", help="print the C++ initialiser")
    args = parser.parse_args()
    data = cases()
    if args.cpp:
        print_cpp(data)
        return
    path = pathlib.Path(__file__).with_name("soft_sort_reference.json")
    doc = {
        "description": "fast-soft-sort numpy_ops soft_sort / soft_rank, l2, "
        "with Jacobians d out_i / d x_j (row-major [out][in]); made by "
        "make_soft_sort_reference.py",
        "cases": data,
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(data)} cases to {path}")


if __name__ == "__main__":
    main()
