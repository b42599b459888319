"""Several species: one pair potential phi_ab(r) per pair of types, from
stored forces and from positions, with the types read from the files."""

import itertools
import warnings

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil.sindy.between_frames import _model_force
from symhamil.systems.pairs import PairLibrary, species_symbols

r = sh.catalog.R
#: Sums over a few pairs in float64.
FORCE_RTOL = 1e-12
#: The issue's targets for a binary mixture: constants within 1e-4 with forces
#: stored, 1e-3 from positions only.
WITH_FORCES, POSITIONS_ONLY = 1e-4, 1e-3
#: Kob and Andersen's binary LJ mixture (80:20): (sigma, epsilon) per pair.
KA = {(1, 1): (1.0, 1.0), (1, 2): (0.8, 1.5), (2, 2): (0.88, 0.5)}
INVERSE = sh.Library([r**-k for k in range(1, 13)], (r,))


def _lj(sigma, eps, x):
    return 4 * eps * ((sigma / x) ** 12 - (sigma / x) ** 6)


def test_species_pair_sums_equal_an_explicit_double_loop():
    """Each term sums over its own pair of types only: -grad of
    sum_{i<j} phi_{t_i t_j}(r_ij), taken pair by pair, on 7 particles of 2 kinds."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, (7, 3))
    kinds = (1, 2, 1, 1, 2, 2, 1)
    g = sh.Geometry(particles=7, space=3, species=kinds)
    assert g.pair_types == ((1, 1), (1, 2), (2, 2))
    syms = species_symbols(g)
    laws = {ab: _lj(*KA[ab], s) for ab, s in zip(g.pair_types, syms, strict=True)}
    lib = PairLibrary(tuple(laws.values()), syms, g)
    F = -lib.gradient(x.reshape(1, -1)).sum(-1).reshape(7, 3)
    expect = np.zeros((7, 3))
    for i, j in itertools.permutations(range(7), 2):
        ab = (min(kinds[i], kinds[j]), max(kinds[i], kinds[j]))
        d = x[i] - x[j]
        dist = np.linalg.norm(d)
        dphi = float(sp.diff(_lj(*KA[ab], r), r).subs(r, dist))
        expect[i] -= dphi * d / dist
    np.testing.assert_allclose(F, expect, rtol=FORCE_RTOL, atol=FORCE_RTOL * np.abs(F).max())


def _mixture(steps=200, every=1, n=4, seed=0):
    """A Kob-Andersen mixture (4 n^3 atoms, 80% type 1) on a jittered fcc
    lattice at density 1.2, cutoff 2.5, run by velocity Verlet at 0.002:
    (trajectories with stored forces and species, the true laws)."""
    cell = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    N = 4 * n**3
    L = (N / 1.2) ** (1 / 3)
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    rng = np.random.default_rng(seed)
    x = (((grid + cell) * (L / n)).reshape(-1, 3) + rng.normal(0, 0.03, (N, 3))).reshape(-1)
    kinds = tuple(int(k) for k in np.where(rng.permutation(N) < 0.8 * N, 1, 2))
    g = sh.Geometry(particles=N, space=3, box=L, cutoff=2.5, species=kinds)
    syms = species_symbols(g)
    terms = sh.Library(tuple(_lj(*KA[ab], s) for ab, s in zip(g.pair_types, syms, strict=True)),
                       syms)  # fmt: skip
    force = _model_force(np.ones(3), terms, PairLibrary(terms.terms, syms, g))
    h = 0.002
    v = rng.normal(0, 0.5, (N * 3,))
    a = force(x[None])[0]
    qs, fs = [x], [a]
    for i in range(steps):
        v = v + 0.5 * h * a
        x = x + h * v
        a = force(x[None])[0]
        v = v + 0.5 * h * a
        if (i + 1) % every == 0:
            qs.append(x)
            fs.append(a)
    traj = sh.Trajectories(q=np.array(qs)[None], p=None, h=h * every, forces=np.array(fs)[None],
                           box=np.full(3, L), particles=N, species=kinds,
                           md_steps=every)  # fmt: skip
    return traj


def _constants(fit):
    out = {}
    for ab, phi in sh.pair_potentials(fit).items():
        c = sp.Poly(sp.expand(phi * r**12), r).as_dict()
        assert set(c) == {(0,), (6,)}, f"{ab}: {phi}"
        c12, c6 = float(c[(0,)]), float(c[(6,)])
        out[ab] = ((c12 / -c6) ** (1 / 6), c6**2 / (4 * c12))
    return out


def _assert_ka(fit, tol):
    got = _constants(fit)
    assert set(got) == set(KA)
    for ab, (sigma, eps) in KA.items():
        assert abs(got[ab][0] / sigma - 1) < tol and abs(got[ab][1] / eps - 1) < tol, (ab, got)


def test_binary_mixture_from_stored_forces():
    traj = _mixture(steps=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.pair_force_sindy(traj, INVERSE, cutoff=2.5)
    _assert_ka(fit, WITH_FORCES)
    assert len(fit.coefficients) == 6  # two terms for each of the three pairs


@pytest.mark.slow  # 9 s: test_between_frames covers the observation in the default suite
def test_binary_mixture_from_positions_every_few_steps():
    traj = _mixture(steps=40, every=4)
    pos = sh.Trajectories(q=traj.q, p=None, h=traj.h, box=traj.box, particles=traj.particles,
                          species=traj.species, md_steps=4)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.pair_force_sindy(pos, INVERSE, cutoff=2.5)
    _assert_ka(fit, POSITIONS_ONLY)


#: Rounded forces: 8 decimals (extended XYZ) leave constants within 3e-7 here,
#: LAMMPS's 6 significant digits within 2.4e-4; the tolerances allow 3x and 4x.
EIGHT_DECIMALS, SIX_DIGITS = 1e-6, 1e-3
#: Held-out errors from triangles and from rows: cond 3e6 x eps 2.2e-16, with
#: a factor of 10 for the accumulated sums.
CV_RTOL = 1e-8


def _rounded_files(traj, folder):
    """The mixture as extended XYZ (8 decimals) and as a LAMMPS dump with
    ``fx fy fz`` at LAMMPS's default %g (6 significant digits)."""
    import ase
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    N, L = traj.particles, traj.box[0]
    frames, lines = [], []
    for k, (x, f) in enumerate(zip(traj.q[0], traj.forces[0], strict=True)):
        x, f = x.reshape(N, 3), f.reshape(N, 3)
        a = ase.Atoms(numbers=list(traj.species), positions=x, cell=traj.box, pbc=True)
        a.calc = SinglePointCalculator(a, forces=f)
        frames.append(a)
        lines += ["ITEM: TIMESTEP", str(100 * k), "ITEM: NUMBER OF ATOMS", str(N),
                  "ITEM: BOX BOUNDS pp pp pp", *[f"0.0 {L:g}"] * 3,
                  "ITEM: ATOMS id type x y z fx fy fz"]  # fmt: skip
        lines += [f"{i + 1} {t} {a:g} {b:g} {c:g} {u:g} {v:g} {w:g}"
                  for i, (t, (a, b, c), (u, v, w))
                  in enumerate(zip(traj.species, x % L, f, strict=True))]  # fmt: skip
    write(folder / "ka.extxyz", frames)
    (folder / "ka.lammpstrj").write_text("\n".join(lines) + "\n")
    return folder / "ka.extxyz", folder / "ka.lammpstrj"


def test_rounded_mixture_files_give_each_pair_law_with_twelve_powers_each(tmp_path):
    """Twelve inverse powers per pair of types (36 terms) on forces rounded as
    files write them: each phi_ab is exactly {r^-12, r^-6}. Before the search
    block by block (one block per pair of types), the 8-decimal file kept 16
    terms and the 6-digit dump 13, each at the rounding's residual (a
    confident wrong formula)."""
    xyz, dump = _rounded_files(_mixture(steps=5), tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        eight = sh.pair_force_sindy(sh.read_ase(xyz, h=0.002), INVERSE, cutoff=2.5)
        six = sh.pair_force_sindy(sh.read_ase(dump, units="lj", timestep=0.002), INVERSE,
                                  cutoff=2.5)  # fmt: skip
    _assert_ka(eight, EIGHT_DECIMALS)
    _assert_ka(six, SIX_DIGITS)
    assert "fewest terms" in six.method


@pytest.mark.slow  # 8 s: shooting between frames
def test_mixture_positions_rounded_to_eight_decimals_from_frames_apart():
    """Positions only, 8 decimals (extended XYZ's), frames 4 MD steps apart,
    12 inverse powers per pair: the full library leaves 7e-6, so the model is
    chosen by cross-validation, which now also scores each pair type's
    fewest terms with the others whole. Before, it kept all 36 terms."""
    traj = _mixture(steps=40, every=4)
    pos = sh.Trajectories(q=np.round(traj.q, 8), p=None, h=traj.h, box=traj.box,
                          particles=traj.particles, species=traj.species,
                          md_steps=4)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.pair_force_sindy(pos, INVERSE, cutoff=2.5)
    assert "cv rule" in fit.method
    _assert_ka(fit, POSITIONS_ONLY)


def test_held_out_errors_from_triangles_equal_those_from_the_rows():
    """Cross-validation scores each support from two R factors per block;
    the errors equal those computed on the rows, for every block and any
    subset of columns, to CV_RTOL: these columns' condition number is 3e6,
    and two backward-stable solvers may differ by about that times float64's
    2.2e-16 (7e-10; measured 6e-10)."""
    from symhamil.sindy.selection import _cv_errors, _fold_triangles, folds

    rng = np.random.default_rng(3)
    x = rng.uniform(0.8, 2.5, 600)
    theta = np.column_stack([x**-k for k in range(1, 9)])
    y = 4 * x**-12 - 4 * x**-6 + 1e-4 * rng.normal(size=x.size)
    fold = folds(None, x.size)
    scored = rng.uniform(size=x.size) < 0.8
    errors = _fold_triangles(theta, y, fold, scored)
    for support in [(0,), (5, 7), (1, 2, 3, 6), tuple(range(8))]:
        np.testing.assert_allclose(errors(support), _cv_errors(theta, y, fold, support, scored),
                                   rtol=CV_RTOL)  # fmt: skip


def test_variable_blocks_group_the_columns_of_each_pair_type():
    from symhamil.sindy.selection import variable_blocks

    g = sh.Geometry(particles=4, space=3, species=(1, 2, 1, 2))
    a, b, c = species_symbols(g)
    lib = sh.Library([a**-12, b**-12, a**-6, c**-6, b**-6], (a, b, c))
    assert variable_blocks(lib) == ([0, 2], [1, 4], [3])
    assert variable_blocks(INVERSE) is None  # one variable: nothing to split
    assert variable_blocks(sh.Library([a * b, a], (a, b))) is None


def test_a_library_per_pair_and_bad_requests():
    traj = _mixture(steps=4)
    libs = {(1, 1): sh.Library([r**-12, r**-6], (r,)),
            (1, 2): sh.Library([r**-12, r**-6, r**-2], (r,)),
            (2, 2): sh.Library([r**-12, r**-6], (r,))}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.pair_force_sindy(traj, libs, cutoff=2.5)
    _assert_ka(fit, WITH_FORCES)
    with pytest.raises(ValueError, match=r"no library for the pair of species \(2, 2\)"):
        sh.pair_force_sindy(traj, {k: v for k, v in libs.items() if k != (2, 2)})
    one = sh.Trajectories(q=traj.q, p=None, h=traj.h, box=traj.box, particles=traj.particles,
                          forces=traj.forces)  # fmt: skip
    with pytest.raises(ValueError, match="one kind"):
        sh.pair_force_sindy(one, libs)
    with pytest.raises(ValueError, match="species gives 3 types"):
        sh.Geometry(particles=4, space=3, species=(1, 2, 1))


def test_species_from_files_round_trip(tmp_path):
    """Types from a LAMMPS dump (atom type column) and an extended XYZ file
    (elements); carried by slices and .npz files."""
    import ase
    from ase.io import write

    x = np.array([[0.0, 0, 0], [1.2, 0, 0], [0, 1.3, 0], [0, 0, 1.1]])
    frames = [ase.Atoms("ArArNeNe", positions=x + 0.01 * k, cell=[9] * 3, pbc=True)
              for k in range(3)]  # fmt: skip
    write(tmp_path / "mix.extxyz", frames)
    tr = sh.read_ase(tmp_path / "mix.extxyz", h=1.0)
    assert tr.species == (18, 18, 10, 10) and tr.geometry.pair_types == ((10, 10), (10, 18),
                                                                          (18, 18))  # fmt: skip
    tr.save(tmp_path / "t.npz")
    assert sh.Trajectories.load(tmp_path / "t.npz").species == (18, 18, 10, 10)
    assert tr.points(0, 2).species == tr.species
    single = sh.read_ase([ase.Atoms("Ar2", positions=x[:2] + 0.01 * k) for k in range(3)], h=1.0)
    assert single.species is None


def test_learn_prints_and_reports_each_pair_law(tmp_path, capsys):
    import json

    import ase
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    from symhamil.cli import main

    traj = _mixture(steps=4)
    N = traj.particles
    frames = []
    for x, f in zip(traj.q[0], traj.forces[0], strict=True):
        a = ase.Atoms(numbers=list(traj.species), positions=x.reshape(N, 3), cell=traj.box,
                      pbc=True)  # fmt: skip
        a.calc = SinglePointCalculator(a, forces=f.reshape(N, 3))
        frames.append(a)
    write(tmp_path / "ka.extxyz", frames)
    out = tmp_path / "out"
    truth = "; ".join(
        f"{b}-{a}: {4 * e}*({s}**12/r**12 - {s}**6/r**6)" for (a, b), (s, e) in KA.items()
    )  # fmt: skip (types either way round)
    args = ["learn", str(tmp_path / "ka.extxyz"), "--cutoff", "2.5", "--h", "0.002",
            "--no-network", "--no-report", "--out", str(out), "--truth", truth]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "pair 1-2: phi = " in text and "sigma = 0.8, epsilon = 1.5" in text
    assert text.count("against the truth: same terms yes") == 3
    pairs = json.loads((out / "results.json").read_text())["routes"]["pair_force_sindy"]["pairs"]
    assert set(pairs) == {"1-1", "1-2", "2-2"}
    # Each phi_ab against its own truth: 8 decimals give coefficients to 1e-6.
    assert all(one["same_support"] and one["max_relative_error"] < EIGHT_DECIMALS
               for one in pairs.values())  # fmt: skip
    # extended XYZ keeps 8 decimals: the constants to 1e-6.
    assert pairs["2-2"]["lennard_jones"]["sigma"] == pytest.approx(0.88, rel=1e-6)
    from symhamil.apps.learn_pairs import render_pairs

    tex, _, _ = render_pairs(out, compile=False)
    assert "Pair 1-2" in tex.read_text()


@pytest.mark.parametrize(
    "truth, says",
    [
        ("4*(r**-12 - r**-6)", "several species"),
        ("1-1: r**-12; 1-3: r**-6", "1-3 that do not occur"),
        ("1-1: r**-12; 1-1: r**-6", "given twice"),
        ("one: r**-12", "is not 'A-B: formula'"),
    ],
)
def test_a_truth_that_does_not_fit_the_species_is_refused_before_any_work(
    tmp_path, capsys, truth, says
):
    import ase
    from ase.io import write

    from symhamil.cli import main

    traj = _mixture(steps=1)
    N = traj.particles
    write(tmp_path / "ka.extxyz", [ase.Atoms(numbers=list(traj.species),
          positions=x.reshape(N, 3), cell=traj.box, pbc=True) for x in traj.q[0]])  # fmt: skip
    out = tmp_path / "out"
    args = ["learn", str(tmp_path / "ka.extxyz"), "--cutoff", "2.5", "--h", "0.002",
            "--no-network", "--no-report", "--out", str(out), "--truth", truth]  # fmt: skip
    assert main(args) == 2
    assert says in capsys.readouterr().err
    assert not (out / "results.json").exists()


def test_a_rerun_that_cannot_run_is_refused_before_any_fitting(tmp_path, capsys):
    """--rerun starts ASE's MD from the first frame's momenta with one pair
    law: a mixture, or a file without momenta, is refused before the fit (and
    nothing is written), not after it."""
    import ase
    from ase.io import write

    from symhamil.cli import main

    traj = _mixture(steps=1)
    N = traj.particles
    for name, momenta, says in (("bare", None, "the data hold none"),
                                ("moving", np.ones((N, 3)), "several species")):  # fmt: skip
        write(tmp_path / f"{name}.extxyz", [ase.Atoms(numbers=list(traj.species),
              positions=x.reshape(N, 3), cell=traj.box, pbc=True, momenta=momenta)
              for x in traj.q[0]])  # fmt: skip
        out = tmp_path / name
        args = ["learn", str(tmp_path / f"{name}.extxyz"), "--cutoff", "2.5", "--h", "0.002",
                "--no-network", "--no-report", "--rerun", "--out", str(out)]  # fmt: skip
        assert main(args) == 2
        err = capsys.readouterr().err
        assert says in err and "leave out the re-run" in err
        assert not (out / "results.json").exists()


def test_mixture_files_by_path_keep_their_species(tmp_path):
    """Pieces of a mixture's run given by path (read one at a time, as for
    dumps larger than memory) are matched per pair of types too (ASE's binary
    .traj: exact forces)."""
    import ase
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    traj = _mixture(steps=5)
    N = traj.particles
    paths = []
    for k, (x, f) in enumerate(zip(traj.q[0], traj.forces[0], strict=True)):
        a = ase.Atoms(numbers=list(traj.species), positions=x.reshape(N, 3), cell=traj.box,
                      pbc=True)  # fmt: skip
        a.calc = SinglePointCalculator(a, forces=f.reshape(N, 3))
        paths.append(tmp_path / f"piece{k}.traj")
        write(paths[-1], a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.pair_force_sindy(paths, INVERSE, cutoff=2.5)
    _assert_ka(fit, WITH_FORCES)
    assert "6 file(s)" in fit.method
