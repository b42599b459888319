"""The paper's two charged particles (section 3.4): architectures 1 and 2.

Learned three ways (paper-faithful, symhamil's own, force-SINDy) and compared
with the truth and the paper; figures, models, data, results.json and report.tex
go to --out. ``--budget quick`` takes seconds; the default budget, minutes.
"""

import argparse

from symhamil.apps.paper import reproduce

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--budget", choices=("quick", "default", "paper"), default="default")
ap.add_argument("--out", default="results-coulomb")
args = ap.parse_args()

run = reproduce(["coulomb"], budget=args.budget, out=args.out)
for res in run.cases:
    t = res.routes["symhamil"].training
    print(f"{res.key}: train loss {t.train_loss:.3e}, test loss {t.test_loss:.3e}")
