"""Benchmark: force matching on a large dump, streamed, at once, and on Dask.

A synthetic LAMMPS-like dump: an fcc Lennard-Jones crystal (sigma = epsilon = 1,
density 0.8442, 4000 atoms in a periodic box), each frame the lattice with
independent Gaussian displacements of 0.07 sigma, and the exact forces of the
12-6 law cut at 2.5 sigma stored with it. The library is the inverse powers
r^-1 .. r^-12. Each variant runs in a fresh process, so its peak resident
memory (ru_maxrss) is its own; the data (positions and forces, 19 MB per 100
frames) are made before the clock starts and their memory counts in the peak.

* ``stream``: ``sh.pair_force_sindy`` as shipped, frames factorised in chunks
  of CHUNK_ROWS rows and compressed (symhamil.sindy.streaming);
* ``rows``: the reference, every row of the regression built at once (the
  implementation before streaming, the same selection on the same rows);
* ``dask``: the streamed fit on a dump ten times larger (1000 frames) through
  ``client=`` on a ``dask.distributed.LocalCluster`` of two worker processes.

Run: python benchmarks/bench_md_stream.py [--atoms 4000] [--frames 100]
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np


def dump(atoms: int, frames: int, seed: int = 0):
    """(trajectories, library) of a jittered fcc LJ crystal with stored forces."""
    import symhamil as sh

    n = round((atoms / 4) ** (1 / 3))
    L = (4 * n**3 / 0.8442) ** (1 / 3)
    cell = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    sites = ((grid + cell) * (L / n)).reshape(-1, 3)
    N = len(sites)
    system = sh.catalog.lennard_jones(particles=N, dim=3, box=L, cutoff=2.5)
    rng = np.random.default_rng(seed)
    q = (sites[None] + rng.normal(0, 0.07, (frames, N, 3))).reshape(frames, -1)
    forces = np.concatenate([system.force(c) for c in np.array_split(q, max(1, frames // 50))])
    traj = sh.Trajectories(q=q[None], p=None, h=0.005, forces=forces[None],
                           box=np.full(3, L), particles=N)  # fmt: skip
    r = sh.catalog.R
    return traj, sh.Library([r**-k for k in range(1, 13)], (r,))


def one(mode: str, atoms: int, frames: int) -> dict:
    import symhamil as sh
    from symhamil.sindy import forces as engine
    from symhamil.sindy.fit import _result
    from symhamil.sindy.selection import Selection, _fit_path

    traj, lib = dump(atoms, frames * (10 if mode == "dask" else 1))
    warnings.simplefilter("ignore")  # the inverse powers are nearly collinear (cond 5e9)
    start = time.perf_counter()
    if mode == "rows":
        g = traj.geometry.with_cutoff(2.5)
        theta, y = engine._matching_rows(
            sh.systems.pairs.PairLibrary(lib.terms, lib.symbols[0], g), traj.q[0], traj.forces[0]
        )
        beta, lam, res, path = _fit_path(theta, y, lib, (), Selection(rule="residual"))
        fit = _result(beta, lam, res, path, lib)
    elif mode == "dask":
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as c:
            start = time.perf_counter()  # the cluster's start-up is not the fit's
            fit = sh.pair_force_sindy(traj, lib, cutoff=2.5, client=c)
    else:
        fit = sh.pair_force_sindy(traj, lib, cutoff=2.5)
    seconds = time.perf_counter() - start
    c = {str(k): v for k, v in fit.coefficients.items()}
    return {
        "mode": mode,
        "frames": traj.N + 1,
        "atoms": traj.geometry.particles,
        "seconds": round(seconds, 2),
        "peak_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "terms": sorted(c),
        "c6_error": abs(c.get("r**(-6)", 0) + 4) / 4,
        "c12_error": abs(c.get("r**(-12)", 0) - 4) / 4,
        "residual": fit.residual,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=4000)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.atoms, a.frames)))
        return
    print(f"{'mode':>7} {'atoms':>6} {'frames':>6} {'time s':>7} {'peak MB':>8}  terms  "
          "|c6 error|  |c12 error|")  # fmt: skip
    for mode in ("stream", "rows", "dask"):
        cmd = [sys.executable, __file__, "--one", mode, "--atoms", str(a.atoms),
               "--frames", str(a.frames)]  # fmt: skip
        out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        print(f"{mode:>7} {out['atoms']:>6} {out['frames']:>6} {out['seconds']:>7.2f} "
              f"{out['peak_MB']:>8}  {','.join(out['terms'])}  {out['c6_error']:.1e}  "
              f"{out['c12_error']:.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
