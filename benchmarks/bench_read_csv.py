"""Benchmark: reading a large CSV of measured samples, symhamil against NumPy, in one run.

A file of N rows and 10 columns (time, one position, eight other columns that
are not wanted), written once to a temporary folder. Each reader runs in a
fresh Python process, so its peak resident memory (``ru_maxrss``) is its own:

symhamil.read_csv   ``read_csv(path, t="t", q="x")``: streams the file once,
                    keeps only the wanted columns as float64, then cuts the
                    samples into pieces (``from_samples``)
numpy.loadtxt       ``np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1))``:
                    the reference, which parses only (no pieces)

Run: python benchmarks/bench_read_csv.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

#: name -> (imports, the read): memory is counted above the imports.
READERS = {
    "symhamil.read_csv": ("import symhamil as sh", "tr = sh.read_csv(PATH, t='t', q='x')"),
    "numpy.loadtxt": (
        "import numpy as np",
        "a = np.loadtxt(PATH, delimiter=',', skiprows=1, usecols=(0, 1))",
    ),
}


def _write(path: Path, rows: int) -> None:
    t = np.arange(rows) * 0.01
    block = 200_000
    with open(path, "w") as f:
        f.write("t,x," + ",".join(f"c{k}" for k in range(8)) + "\n")
        for a in range(0, rows, block):
            tt = t[a : a + block]
            cols = np.column_stack([tt, np.cos(tt)] + [np.sin(k * tt) for k in range(1, 9)])
            np.savetxt(f, cols, delimiter=",", fmt="%.9f")


def _measure(imports: str, code: str, path: Path) -> tuple[float, float, float]:
    """(seconds, peak MB, MB held after the imports alone) of ``code`` in a new process."""
    script = textwrap.dedent(f"""
        import resource, time
        {imports}
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        PATH = {str(path)!r}
        t0 = time.perf_counter()
        {code}
        dt = time.perf_counter() - t0
        print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, base)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)  # fmt: skip
    seconds, mb, base = map(float, out.stdout.split()[-3:])
    return seconds, mb, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.csv"
        _write(path, args.rows)
        size = path.stat().st_size / 2**20
        print(f"{args.rows:,} rows, {size:.0f} MB file\n")
        print("| reader | seconds | peak memory (MB) | above its imports (MB) |")
        print("|---|---|---|---|")
        for name, (imports, code) in READERS.items():
            seconds, mb, base = _measure(imports, code, path)
            print(f"| {name} | {seconds:.1f} | {mb:.0f} | {mb - base:.0f} |")


if __name__ == "__main__":
    main()
