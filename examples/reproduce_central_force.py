"""The paper's central force (section 3.3), reduced to r; V_eff derived symbolically.

Learned three ways (paper-faithful, symhamil's own, force-SINDy) and compared
with the truth and the paper; figures, models, data, results.json and report.tex
go to --out. ``--budget quick`` takes seconds; the default budget, minutes.
"""

import argparse

from symhamil.apps.paper import reproduce

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--budget", choices=("quick", "default", "paper"), default="default")
ap.add_argument("--out", default="results-central-force")
args = ap.parse_args()

run = reproduce(["central-force"], budget=args.budget, out=args.out)
for res in run.cases:
    print(f"{res.key}: V_eff = {res.truth_latex}")
    print(f"  Pade [3/3] of the paper-faithful network: max error {res.notes['pade_max_error']}")
