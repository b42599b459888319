"""Benchmark: cross-validation's held-out errors from QR triangles against the rows, in one run.

Cross-validation scores every candidate support on every held-out block. The
rows' way (``selection._cv_errors``, the code before) refits each support on
the other blocks' rows and scores it on the block's rows; the triangles' way
(``selection._fold_triangles``, what ``held_out`` uses now) takes the R factors
of [theta | y] on those rows once per block, and then fits and scores any
support on (J+1) x (J+1) triangles. The data: a mixture-sized regression,
ROWS rows of 12 inverse powers for each of 3 pairs of types (36 columns), and
the candidates of one pair type's block search (298 supports of 25 to 27
columns, as ``_block_candidate`` scores them).

Run: python benchmarks/bench_cv.py [--rows 7680] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from symhamil.sindy.selection import _cv_errors, _fold_triangles, folds, small_subsets


def _data(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.8, 2.5, (rows, 3))
    theta = np.column_stack([r[:, p] ** -k for p in range(3) for k in range(1, 13)])
    y = theta[:, [11, 5, 23, 17, 35, 29]] @ np.array([4, -4, 0.4, -1.6, 0.4, -0.9])
    return theta, y + 1e-6 * rng.normal(size=rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=7680)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    theta, y = _data(args.rows)
    fold = folds(None, len(y))
    scored = np.ones(len(y), dtype=bool)
    others = list(range(12, 36))
    supports = [tuple(others + list(s)) for s in small_subsets(list(range(12)))]
    times = {"rows (_cv_errors)": [], "triangles (_fold_triangles)": []}
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = np.array([_cv_errors(theta, y, fold, s, scored) for s in supports])
        times["rows (_cv_errors)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        errors = _fold_triangles(theta, y, fold, scored)
        tri = np.array([errors(s) for s in supports])
        times["triangles (_fold_triangles)"].append(time.perf_counter() - t)
    diff = float(np.max(np.abs(tri - rows) / np.abs(rows)))
    print(f"{args.rows} rows x 36 columns, {len(supports)} supports, 5 blocks; best of "
          f"{args.repeat}")  # fmt: skip
    print("| way | time |")
    print("|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {min(ts):.3f} s |")
    print(f"largest relative difference of the errors: {diff:.1e}")


if __name__ == "__main__":
    main()
