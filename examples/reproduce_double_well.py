"""The paper's double well (section 3.2): T1 (published and regenerated), T2, T3.

Learned three ways (paper-faithful, symhamil's default, force-SINDy) and compared
with the truth and the paper; figures, models, data, results.json and report.tex
go to --out. ``--budget quick`` takes seconds; the default budget, minutes.
"""

import argparse

from symhamil.reproduce import reproduce

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--budget", choices=("quick", "default", "paper"), default="default")
ap.add_argument("--out", default="results-double-well")
args = ap.parse_args()

results = reproduce(["double-well"], budget=args.budget, out=args.out)
for res in results:
    print(
        f"{res.case.key}: default max error {res.routes['default'].max_relative_error:.1e}, "
        f"paper-faithful {res.routes['paper'].max_relative_error:.1e}"
    )
print("extrapolation over q in [-1, 3]:", *(f"{res.case.key}-potential.png" for res in results))
