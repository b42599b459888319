"""The paper's harmonic oscillator (section 3.1): V = q^2/2 from ten exact circles.

Learned three ways (paper-faithful, symhamil's default, force-SINDy) and compared
with the truth and the paper; figures, models, data, results.json and report.tex
go to --out. ``--budget quick`` takes seconds; the default budget, minutes.
"""

import argparse

from symhamil.reproduce import reproduce

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--budget", choices=("quick", "default", "paper"), default="default")
ap.add_argument("--out", default="results-sho")
args = ap.parse_args()

results = reproduce(["sho"], budget=args.budget, out=args.out)
(res,) = results
fit = res.routes["default"].fit
print("threshold path of symhamil's default (lambda, terms kept, residual):")
for step in fit.path[:: max(1, len(fit.path) // 8)]:
    print(f"  {step.threshold:9.2e}  {len(step.support)}  {step.residual:.2e}")
