"""The paper's double well (section 3.2): T1 (published and regenerated), T2, T3.

Learned three ways (paper-faithful, symhamil's own, force-SINDy) and compared
with the truth and the paper; figures, models, data, results.json and report.tex
go to --out. ``--budget quick`` takes seconds; the default budget, minutes.
"""

import argparse

from symhamil.apps.paper import reproduce

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--budget", choices=("quick", "default", "paper"), default="default")
ap.add_argument("--out", default="results-double-well")
args = ap.parse_args()

run = reproduce(["double-well"], budget=args.budget, out=args.out)
for res in run.cases:
    print(
        f"{res.key}: symhamil max error {res.routes['symhamil'].max_relative_error:.1e}, "
        f"paper-faithful {res.routes['faithful'].max_relative_error:.1e}"
    )
print("extrapolation over q in [-1, 3]:", *(f"{res.key}-potential.png" for res in run.cases))
