"""From a CSV of measured pendulum samples to a formula with error bars and a report.

Writes pendulum.csv - a pendulum (V = 1 - cos q) filmed at 6 frames per second,
angle and angular velocity with about 1% noise, 3% of the frames lost, two runs -
then learns V from it as `symhamil learn` does:

    symhamil learn pendulum.csv --columns "t=time q=angle v=omega trajectory=run" \\
        --library "1, cos(angle), sin(angle), angle, angle**2, angle**3, angle**4"

``--no-network`` skips the neural route (TensorFlow).
"""

import argparse
from pathlib import Path

import numpy as np

import symhamil as sh
from symhamil.apps.learn import LearnSettings, learn

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--out", default="learned-pendulum")
ap.add_argument("--no-network", action="store_true")
args = ap.parse_args()

# ---- a "measurement": simulated, then sampled as a camera would
pend = sh.catalog.pendulum()
tr = sh.simulate(pend, [[1.5], [1.0]], [[0.0], [0.3]], h=1 / 6, steps=300, substeps=100)
rng = np.random.default_rng(0)
rows = ["time,angle,omega,run"]
for r in range(tr.R):
    for k, t in enumerate(tr.t):
        if rng.random() < 0.03:  # a lost frame
            continue
        angle = tr.q[r, k, 0] + 0.014 * rng.standard_normal()
        omega = tr.p[r, k, 0] + 0.01 * rng.standard_normal()
        rows.append(f"{t:.4f},{angle:.6f},{omega:.6f},{'AB'[r]}")
csv = Path(args.out).with_suffix(".csv")
csv.parent.mkdir(parents=True, exist_ok=True)
csv.write_text("\n".join(rows) + "\n")

# ---- learn it
settings = LearnSettings(
    data=str(csv),
    columns={"t": "time", "q": ["angle"], "v": ["omega"], "trajectory": "run"},
    library="1, cos(angle), sin(angle), angle, angle**2, angle**3, angle**4",
    truth="1 - cos(angle)",
    network=not args.no_network,
    bootstrap=50,
)
results = learn(settings, args.out)
for name, route in results["routes"].items():
    print(f"{name}: largest coefficient error {route['max_relative_error']:.2g}")
