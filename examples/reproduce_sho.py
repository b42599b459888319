"""The paper's harmonic oscillator (section 3.1): V = q^2/2 from ten exact circles.

Learned three ways (paper-faithful, symhamil's own, force-SINDy) and compared
with the truth and the paper; figures, models, data, results.json and report.tex
go to --out. ``--budget quick`` takes seconds; the default budget, minutes.
"""

import argparse

from symhamil.apps.paper import reproduce

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--budget", choices=("quick", "default", "paper"), default="default")
ap.add_argument("--out", default="results-sho")
args = ap.parse_args()

(res,) = reproduce(["sho"], budget=args.budget, out=args.out).cases
path = res.routes["symhamil"].path
print("threshold path of symhamil's route (lambda, terms kept, residual):")
for step in path[:: max(1, len(path) // 8)]:
    print(f"  {step.threshold:9.2e}  {len(step.terms)}  {step.residual:.2e}")
