"""Many bodies: pair systems, their forces and simulation, pair force-SINDy, ASE data."""

import itertools
import warnings

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil.data.geometry import pair_list
from symhamil.systems.pairs import PairLibrary

C = sh.catalog
r = C.R

#: Rounding of float64 forces summed over a few pairs.
FORCE_RTOL = 1e-12
#: The issue's target for pair force-SINDy on simulated data: 0.01%.
SINDY_TARGET = 1e-4
#: sigma and epsilon of argon from ASE's molecular dynamics: 0.5%.
ASE_TARGET = 5e-3

#: One library for every law of the catalog (Cranmer et al.'s spring, 1/r and
#: 1/r^2 forces, Lennard-Jones, Morse): nine candidate terms.
SHARED = sh.Library(
    (r, r**2, sp.log(r), 1 / r, r**-2, r**-6, r**-12, sp.exp(-r), sp.exp(-2 * r)), (r,)
)


def lattice_starts(N, dim, R, spacing, seed=0):
    return sh.systems.pairs.lattice_starts(N, dim, R, spacing, seed=seed)


# ---------------------------------------------------------------------- declaring
def test_pairwise_names_and_symbolic_V():
    s = sh.System.pairwise((r - 1) ** 2, r, particles=3, dim=2, masses=[1, 2, 3])
    assert [c.name for c in s.coords] == ["x1", "y1", "x2", "y2", "x3", "y3"]
    assert s.mass_array.tolist() == [1, 1, 2, 2, 3, 3]
    x1, y1, x2, y2 = sp.symbols("x1 y1 x2 y2")
    term = (sp.sqrt((x1 - x2) ** 2 + (y1 - y2) ** 2) - 1) ** 2
    assert term in sp.Add.make_args(s.V)
    assert len(sp.Add.make_args(s.V)) == 3


@pytest.mark.parametrize("law", [C.pair_spring, C.pair_log, C.pair_gravity, C.lennard_jones,
                                 C.morse])  # fmt: skip
def test_vectorised_force_is_minus_symbolic_gradient(law):
    s = law(particles=4, dim=3)
    q, _ = lattice_starts(4, 3, 3, 1.2)
    grad = sp.lambdify(s.coords, [-sp.diff(s.V, c) for c in s.coords])
    exact = np.array([np.array(grad(*x), dtype=float) for x in q])
    np.testing.assert_allclose(s.force(q), exact, rtol=FORCE_RTOL, atol=FORCE_RTOL)
    V = sp.lambdify(s.coords, s.V)
    np.testing.assert_allclose(s.potential(q), [V(*x) for x in q], rtol=FORCE_RTOL)


def test_external_potential_adds_to_every_particle():
    x, y = sp.symbols("x y")
    s = sh.System.pairwise(1 / r, r, particles=3, dim=2, external=(x**2 + y**2) / 2)
    q = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 2.0]])
    grad = sp.lambdify(s.coords, [-sp.diff(s.V, c) for c in s.coords])
    np.testing.assert_allclose(s.force(q)[0], grad(*q[0]), rtol=FORCE_RTOL)


def test_minimum_image_force_equals_explicit_sum_over_images():
    """In a periodic box with the cutoff at most half the box, the k-d tree's
    minimum-image force equals a brute-force sum over all 27 images of all pairs."""
    N, L, rc = 20, 6.0, 2.5
    s = C.lennard_jones(particles=N, dim=3, box=L, cutoff=rc)
    rng = np.random.default_rng(3)
    x = rng.uniform(-L, 2 * L, (N, 3))  # outside the box too: images must be found
    F = s.force(x.reshape(1, -1)).reshape(N, 3)
    dphi = sp.lambdify(r, sp.diff(s.phi, r))
    expect = np.zeros((N, 3))
    for i, j in itertools.permutations(range(N), 2):
        for shift in itertools.product((-2, -1, 0, 1, 2), repeat=3):
            d = x[i] - x[j] + L * np.array(shift)
            dist = np.linalg.norm(d)
            if dist < rc:
                expect[i] -= dphi(dist) * d / dist
    np.testing.assert_allclose(F, expect, rtol=1e-10, atol=1e-10)


def test_permuting_particles_leaves_V_unchanged_and_permutes_forces():
    s = C.morse(particles=6, dim=2, box=5.0, cutoff=2.5)
    q, _ = lattice_starts(6, 2, 2, 1.5)
    perm = np.random.default_rng(0).permutation(6)
    qp = q.reshape(2, 6, 2)[:, perm].reshape(2, -1)
    np.testing.assert_allclose(s.potential(qp), s.potential(q), rtol=1e-13)
    Fp = s.force(qp).reshape(2, 6, 2)
    np.testing.assert_allclose(Fp, s.force(q).reshape(2, 6, 2)[:, perm], rtol=1e-12, atol=1e-14)


def test_box_shorter_than_twice_the_cutoff_is_refused():
    with pytest.raises(ValueError, match="shorter than twice the cutoff"):
        C.lennard_jones(particles=8, dim=3, box=4.0, cutoff=2.5)


def test_cutoff_shifts_energy_to_zero_and_truncates_force():
    s = C.lennard_jones(particles=2, dim=1, cutoff=2.0)
    assert s.potential([[0.0, 2.5]]) == 0.0 and s.force([[0.0, 2.5]]).tolist() == [[0.0, 0.0]]
    phi = sp.lambdify(r, s.phi)
    assert s.potential([[0.0, 1.5]])[()] == pytest.approx(phi(1.5) - phi(2.0), rel=1e-14)


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(particles=1), "particles must be"),
        (dict(dim=0), "dim must be"),
        (dict(masses=[1, 2]), "one per particle"),
        (dict(cutoff=-1), "cutoff must be"),
        (dict(box=[1, 2, 3]), "box"),
    ],
)
def test_bad_pair_declarations_say_what_is_wrong(bad, match):
    kw = dict(particles=4, dim=2) | bad
    with pytest.raises((ValueError, TypeError), match=match):
        sh.System.pairwise((r - 1) ** 2, r, **kw)


def test_pair_list_grows_linearly_with_particles_at_fixed_density():
    counts = []
    for n in (4, 8):
        N, L = 4 * n**3, 1.7 * n
        x = np.random.default_rng(0).uniform(0, L, (1, N, 3))
        i, _ = pair_list(x, np.full(3, L), 2.5)
        counts.append(i.size / N)
    assert counts[1] == pytest.approx(counts[0], rel=0.1)  # pairs per particle constant


# ---------------------------------------------------------------------- simulating
def test_nve_conserves_energy_in_a_periodic_lennard_jones_fluid():
    """Velocity Verlet on 108 atoms with a shifted cutoff: energy drifts < 1e-4."""
    n, a = 3, 1.6
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    offsets = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) * a
    base = np.concatenate([grid + off for off in offsets])
    s = C.lennard_jones(particles=base.shape[0], dim=3, box=n * a, cutoff=2.4)
    rng = np.random.default_rng(0)
    p0 = rng.normal(0, 0.5, base.shape)
    p0 -= p0.mean(0)
    tr = sh.simulate(s, base.reshape(-1), p0.reshape(-1), h=0.002, steps=500, substeps=1)
    assert tr.box.tolist() == [n * a] * 3
    assert tr.energy_error[0] < 1e-3
    P = tr.p[0].reshape(501, -1, 3).sum(1)  # total momentum is conserved exactly
    np.testing.assert_allclose(P, np.broadcast_to(P[0], P.shape), atol=1e-10)


# ---------------------------------------------------------------------- learning
def test_pair_library_sums_terms_over_pairs():
    q, _ = lattice_starts(5, 2, 2, 1.3)
    lib = PairLibrary((r**-6, sp.exp(-r)), r, sh.Geometry(5, 2))
    X = q.reshape(2, 5, 2)
    expect = np.zeros((2, 2))
    for k in range(2):
        for i, j in itertools.combinations(range(5), 2):
            d = np.linalg.norm(X[k, i] - X[k, j])
            expect[k] += [d**-6, np.exp(-d)]
    np.testing.assert_allclose(lib.evaluate(q), expect, rtol=1e-13)


@pytest.mark.parametrize("law", ["spring", "1/r", "1/r^2", "Lennard-Jones", "Morse"])
@pytest.mark.parametrize("N, dim", [(4, 2), (8, 3)])
def test_pair_force_sindy_recovers_cranmer_laws(law, N, dim):
    """Velocity-Verlet data (one step per sample, as MD engines write them), the
    shared nine-term library: the exact support, every coefficient within 0.01%."""
    make = {"spring": C.pair_spring, "1/r": C.pair_log, "1/r^2": C.pair_gravity,
            "Lennard-Jones": C.lennard_jones, "Morse": C.morse}[law]  # fmt: skip
    s = make(particles=N, dim=dim)
    q0, p0 = lattice_starts(N, dim, 4, 1.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # close encounters; nearly collinear library
        tr = sh.simulate(s, q0, p0, h=0.001, steps=1000, substeps=1)
        fit = sh.pair_force_sindy(tr, SHARED, particles=N)
    cmp = sh.compare(fit, sp.expand(s.phi), (r,))
    assert cmp.same_support
    assert cmp.max_relative_error < SINDY_TARGET


def test_pair_force_sindy_refuses_a_library_in_two_symbols():
    x, y = sp.symbols("x y")
    tr = sh.simulate(C.pair_spring(particles=2, dim=1), [0.0, 1.5], [0.0, 0.0], h=0.01, steps=20)
    with pytest.raises(ValueError, match="one symbol"):
        sh.pair_force_sindy(tr, sh.Library.polynomial((x, y), 2), particles=2)
    with pytest.raises(ValueError, match="coordinates"):
        sh.pair_force_sindy(tr, sh.Library.polynomial((r,), 2), particles=3, dim=1)


def test_the_geometry_travels_with_the_data_from_the_simulation_to_the_learner(tmp_path):
    """One Geometry value: simulate of a pair system puts it on the trajectories,
    files keep it, and pair_force_sindy, pair_distances and PairLibrary read it
    there; giving it again, or as the loose keywords, changes nothing."""
    system = C.lennard_jones(particles=8, dim=3, box=4.0)
    q0, p0 = lattice_starts(8, 3, 2, 1.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.EnergyErrorWarning)  # close encounters
        tr = sh.simulate(system, q0, p0, h=0.001, steps=60, substeps=1)
    assert tr.particles == 8 and tr.geometry == sh.Geometry(8, 3, box=4.0)
    assert tr.geometry.dim == tr.dim == 24 and tr.geometry.space == system.space == 3
    tr.save(tmp_path / "t.npz")
    assert sh.Trajectories.load(tmp_path / "t.npz").geometry == tr.geometry
    lib = sh.Library.inverse_powers(r, 12, constant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        own = sh.pair_force_sindy(tr, lib)
        given = sh.pair_force_sindy(tr, lib, geometry=system.geometry)
        loose = sh.pair_force_sindy(tr, lib, particles=8, dim=3, box=4.0, cutoff=2.0)
    assert dict(own.coefficients) == dict(given.coefficients) == dict(loose.coefficients)
    d = sh.data.geometry.pair_distances(tr)
    assert d.max() < tr.geometry.cutoff == 2.0
    with pytest.raises(TypeError, match=r"geometry must be a symhamil\.Geometry"):
        sh.pair_force_sindy(tr, lib, geometry=8)
    with pytest.raises(ValueError, match="not both"):
        sh.pair_force_sindy(tr, lib, particles=8, geometry=system.geometry)
    with pytest.raises(ValueError, match="has 6"):
        sh.pair_force_sindy(tr, lib, geometry=sh.Geometry(3, 2))
    with pytest.raises(ValueError, match="particles must be a whole number >= 1 that divides"):
        sh.Trajectories(q=tr.q, p=tr.p, h=tr.h, particles=5)
    assert sh.Trajectories(q=tr.q[..., :3], p=None, h=tr.h, particles=1).geometry is None


# ---------------------------------------------------------------------- ASE
ase = pytest.importorskip("ase")


def argon(size, steps=60, rc=3 * 3.405, path=None, seed=0):
    """ASE's own Lennard-Jones argon (fcc, 120 K) run with VelocityVerlet, 2 fs."""
    from ase.calculators.lj import LennardJones
    from ase.lattice.cubic import FaceCenteredCubic
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet

    atoms = FaceCenteredCubic(directions=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], symbol="Ar",
                              size=(size,) * 3, latticeconstant=5.7, pbc=True)  # fmt: skip
    atoms.calc = LennardJones(sigma=3.405, epsilon=0.0104, rc=rc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        MaxwellBoltzmannDistribution(atoms, temperature_K=120, rng=np.random.default_rng(seed))
    VelocityVerlet(atoms, 2 * ase.units.fs, trajectory=str(path)).run(steps)
    return atoms


def test_ase_round_trip_preserves_everything(tmp_path):
    from ase.io import write

    rng = np.random.default_rng(0)
    frames = []
    for k in range(4):
        a = ase.Atoms("ArNe2", positions=rng.uniform(0, 9, (3, 3)), cell=[9, 9, 9], pbc=True)
        a.set_momenta(rng.normal(size=(3, 3)))
        a.info["time"] = 0.5 * k
        frames.append(a)
    # extended XYZ is text with 8 decimals; ASE's .traj is binary and exact.
    for name, tol in (("run.extxyz", 1e-7), ("run.traj", 1e-14)):
        write(tmp_path / name, frames)
        tr = sh.read_ase(tmp_path / name, h=None if name.endswith("xyz") else 0.5)
        x = np.stack([f.get_positions() for f in frames])
        np.testing.assert_allclose(tr.q[0].reshape(4, 3, 3) % 9, x % 9, atol=tol)
        np.testing.assert_allclose(tr.p[0].reshape(4, 3, 3), [f.get_momenta() for f in frames],
                                   atol=tol)  # fmt: skip
        np.testing.assert_allclose(tr.masses, np.repeat(frames[0].get_masses(), 3))
        assert tr.box.tolist() == [9.0] * 3 and tr.h == 0.5
        assert tr.names[:4] == ("x1", "y1", "z1", "x2")


def test_ase_time_step_comes_from_the_md_description(tmp_path):
    argon(2, steps=4, rc=2.5 * 3.405, path=tmp_path / "ar.traj")
    tr = sh.read_ase(tmp_path / "ar.traj")
    assert tr.h == pytest.approx(2 * ase.units.fs)
    assert sh.read_ase(tmp_path / "ar.traj", index="::2").h == pytest.approx(4 * ase.units.fs)


def test_ase_errors_name_the_file(tmp_path):
    a = ase.Atoms("Ar2", positions=[[0, 0, 0], [3, 0, 0]])
    from ase.io import write

    write(tmp_path / "two.extxyz", [a, a.copy()])
    with pytest.raises(ValueError, match=r"time step.*h="):
        sh.read_ase(tmp_path / "two.extxyz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        sh.read_ase(tmp_path / "none.traj")


def test_wrapped_positions_are_unwrapped():
    frames = [ase.Atoms("Ar", positions=[[9.9 + 0.05 * k, 1, 1]], cell=[10] * 3, pbc=True)
              for k in range(4)]  # fmt: skip
    for f in frames:
        f.wrap()
    tr = sh.read_ase(frames, h=1.0)
    np.testing.assert_allclose(np.diff(tr.q[0, :, 0]), 0.05, atol=1e-12)


@pytest.mark.parametrize("momenta", [True, False])
def test_argon_from_ase_gives_sigma_and_epsilon(tmp_path, momenta):
    """108 atoms with rc = 2.5 sigma (the box is just over twice the cutoff);
    with momenta the midpoint observation is exact for velocity Verlet, and
    without them the second differences are."""
    rc = 2.5 * 3.405
    argon(3, steps=40, rc=rc, path=tmp_path / "ar.traj")
    # Without the stored forces, which would be fitted directly (force matching).
    tr = sh.read_ase(tmp_path / "ar.traj", momenta=momenta, forces=False)
    fit = sh.pair_force_sindy(tr, sh.Library.inverse_powers(r, 12, constant=False), cutoff=rc)
    c12, c6 = fit.coefficients[r**-12], fit.coefficients[r**-6]
    assert set(fit.coefficients) == {r**-12, r**-6}
    assert (c12 / -c6) ** (1 / 6) == pytest.approx(3.405, rel=ASE_TARGET)
    assert c6**2 / (4 * c12) == pytest.approx(0.0104, rel=ASE_TARGET)


#: Issue 21's target for stored forces: sigma and epsilon within 1e-6 (force
#: matching is exact to the engine's arithmetic: measured 1e-15).
FORCE_MATCHING_TARGET = 1e-6


def test_stored_forces_are_matched_through_a_thermostat_and_sparse_frames(tmp_path):
    """ASE's Langevin thermostat (its forces are not the potential's) with
    frames every 10 MD steps (no finite difference holds across them): the
    forces ASE stores in the .traj are the potential's, and force matching
    fits them frame by frame."""
    from ase.calculators.lj import LennardJones
    from ase.lattice.cubic import FaceCenteredCubic
    from ase.md.langevin import Langevin

    rc = 2.5 * 3.405
    atoms = FaceCenteredCubic(directions=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], symbol="Ar",
                              size=(3,) * 3, latticeconstant=5.7, pbc=True)  # fmt: skip
    atoms.calc = LennardJones(sigma=3.405, epsilon=0.0104, rc=rc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # ASE's fixcm notice
        Langevin(atoms, 2 * ase.units.fs, temperature_K=120, friction=0.01 / ase.units.fs,
                 trajectory=str(tmp_path / "lang.traj"), loginterval=10,
                 rng=np.random.default_rng(1)).run(100)  # fmt: skip
    tr = sh.read_ase(tmp_path / "lang.traj")
    assert tr.forces is not None and tr.forces.shape == tr.q.shape
    assert tr.h == pytest.approx(20 * ase.units.fs)
    lib = sh.Library.inverse_powers(r, 12, constant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)  # neighbouring inverse powers
        fit = sh.pair_force_sindy(tr, lib, cutoff=rc)
    assert set(fit.coefficients) == {r**-12, r**-6}
    c12, c6 = fit.coefficients[r**-12], fit.coefficients[r**-6]
    assert (c12 / -c6) ** (1 / 6) == pytest.approx(3.405, rel=FORCE_MATCHING_TARGET)
    assert c6**2 / (4 * c12) == pytest.approx(0.0104, rel=FORCE_MATCHING_TARGET)
    assert fit.method.startswith("force matching on 11 frames")
    assert fit.residual < 1e-12
    with pytest.raises(ValueError, match="stored forces are matched directly"):
        sh.pair_force_sindy(tr, lib, cutoff=rc, bootstrap=10)


def test_forces_travel_with_the_trajectories(tmp_path):
    rng = np.random.default_rng(0)
    q, F = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 3))
    tr = sh.Trajectories(q=q, p=None, h=0.1, forces=F)
    tr.save(tmp_path / "f.npz")
    back = sh.Trajectories.load(tmp_path / "f.npz")
    np.testing.assert_array_equal(back.forces, F)
    np.testing.assert_array_equal(tr.select(1).forces, F[1:])
    np.testing.assert_array_equal(tr.piece(0).forces, F[:1])
    np.testing.assert_array_equal(tr.points(2, 5).forces, F[:, 2:5])
    np.testing.assert_array_equal(tr.concatenate(tr).forces, np.concatenate([F, F]))
    assert tr.positions_only.forces is tr.forces
    with pytest.raises(ValueError, match="forces must have the shape of q"):
        sh.Trajectories(q=q, p=None, h=0.1, forces=F[:, :3])
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    frames = []
    for k in range(3):
        a = ase.Atoms("Ar2", positions=[[0, 0, 0], [3.8 + 0.1 * k, 0, 0]], cell=[20] * 3,
                      pbc=True)  # fmt: skip
        a.calc = SinglePointCalculator(a, forces=[[0.1 * k, 0, 0], [-0.1 * k, 0, 0]])
        frames.append(a)
    write(tmp_path / "run.extxyz", frames)
    got = sh.read_ase(tmp_path / "run.extxyz", h=1.0)
    np.testing.assert_allclose(got.forces[0, :, 0], [0.0, 0.1, 0.2], atol=1e-12)
    assert sh.read_ase(tmp_path / "run.extxyz", h=1.0, forces=False).forces is None


# ---------------------------------------------------------------------- neural
class TestPairPotential:
    """The network phi_theta(r) summed over pairs (TensorFlow)."""

    @pytest.fixture(scope="class")
    def springs(self):
        s = C.pair_spring(particles=4, dim=2)
        q0, p0 = lattice_starts(4, 2, 4, 1.1)
        return s, sh.simulate(s, q0, p0, h=0.001, steps=1000, substeps=1)

    @pytest.fixture(scope="class")
    def trained(self, springs):
        from symhamil.neural import PairPotential

        # 300 steps are plenty for one function of r, and keep the suite short.
        return PairPotential(particles=4, dim=2).fit(springs[1].head(301), verbose=False)

    def test_time_limit_is_kept_to_within_ten_percent(self, springs):
        """A limit far shorter than the steps asked for: the fit stops within
        10% of it, the compile and the pair lists counted (first chunk one
        step, then chunks of 2% of the limit), with the best weights kept."""
        from symhamil.neural import PairPotential

        limit = 4.0
        pm = PairPotential(particles=4, dim=2, seed=1)
        pm.fit(springs[1], steps=10**6, time_limit=limit, verbose=False)
        assert pm.fit_time_ <= 1.1 * limit
        assert 0 < pm.n_steps_ < 10**6 and np.isfinite(pm.loss_)

    def test_V_is_the_explicit_sum_of_phi_over_pairs(self):
        from symhamil.neural import PairPotential

        pm = PairPotential(particles=5, dim=3, box=4.0, cutoff=1.9, seed=3)
        x = np.random.default_rng(1).uniform(0, 4, (3, 5, 3))
        expect = np.zeros(3)
        shift = pm.pair_potential([[1.9]])[0]
        for k in range(3):
            for i, j in itertools.combinations(range(5), 2):
                d = x[k, i] - x[k, j]
                d -= 4.0 * np.rint(d / 4.0)
                dist = np.linalg.norm(d)
                if dist < 1.9:
                    expect[k] += pm.pair_potential([[dist]])[0] - shift
        np.testing.assert_allclose(pm.potential(x.reshape(3, -1)), expect, rtol=1e-12)
        # The training graph (union pair list, masked) gives the same V up to the shift.
        tr = sh.Trajectories(q=x.reshape(1, 3, -1), p=None, h=0.1, box=[4.0] * 3)
        pm._use_pairs(tr)
        n_in = [
            sum(np.linalg.norm((d := x[k, i] - x[k, j]) - 4 * np.rint(d / 4)) < 1.9
                for i, j in itertools.combinations(range(5), 2))
            for k in range(3)
        ]  # fmt: skip
        V = pm._V(tf_constant(x.reshape(3, -1))).numpy()
        np.testing.assert_allclose(V - shift * np.array(n_in), expect, rtol=1e-12)

    def test_permuting_particles_leaves_V_unchanged(self):
        from symhamil.neural import PairPotential

        pm = PairPotential(particles=6, dim=2, seed=1)
        q, _ = lattice_starts(6, 2, 3, 1.2)
        perm = np.random.default_rng(2).permutation(6)
        qp = q.reshape(3, 6, 2)[:, perm].reshape(3, -1)
        np.testing.assert_allclose(pm.potential(qp), pm.potential(q), rtol=1e-13)
        g, gp = pm.gradient(q).reshape(3, 6, 2), pm.gradient(qp).reshape(3, 6, 2)
        np.testing.assert_allclose(gp, g[:, perm], rtol=1e-11, atol=1e-13)

    def test_neural_route_recovers_springs_within_the_target(self, springs, trained):
        """Target 0.1% for the network route; phi is interpreted on the data's r."""
        s, tr = springs
        d = sh.data.geometry.pair_distances(tr, particles=4)
        R = np.linspace(*np.percentile(d, [1, 99]), 400)[:, None]
        lib = sh.Library.polynomial((r,), 4)
        fit = sh.sindy(trained.pair_potential, lib, R)
        cmp = sh.compare(fit, s.phi, (r,))
        assert cmp.same_support and cmp.max_relative_error < 1e-3
        expr = sh.to_sympy(trained, (r,))  # phi as an exact SymPy expression
        f = sp.lambdify(r, expr)
        np.testing.assert_allclose(f(R[:, 0]), trained.pair_potential(R), rtol=1e-10)

    def test_save_and_load_keep_phi_and_geometry(self, trained, tmp_path):
        from symhamil.neural import PairPotential

        trained.save(tmp_path / "pm")
        back = PairPotential.load(tmp_path / "pm")
        assert (back.particles, back.space) == (4, 2)
        R = np.linspace(0.5, 2, 7)[:, None]
        np.testing.assert_array_equal(back.pair_potential(R), trained.pair_potential(R))


def tf_constant(x):
    import tensorflow as tf

    return tf.constant(x, dtype=tf.float64)


# ---------------------------------------------------------------------- symhamil learn on MD files
def test_learn_on_an_ase_file_writes_phi_and_the_report(tmp_path, capsys):
    """The CLI on ASE's argon (108 atoms, rc = 2.5 sigma): pair force-SINDy gives
    sigma and epsilon (matching the forces the .traj stores), printed with the
    residual and the comparison; results.json keeps the histogram, report.tex
    the figure."""
    import json

    from symhamil.cli import main

    rc = 2.5 * 3.405
    argon(3, steps=30, rc=rc, path=tmp_path / "ar.traj")
    truth = "4*0.0104*((3.405/r)**12 - (3.405/r)**6)"
    code = main(["learn", str(tmp_path / "ar.traj"), "--cutoff", str(rc), "--truth", truth,
                 "--no-network", "--out", str(tmp_path / "out"), "--no-report"])  # fmt: skip
    assert code == 0
    said = capsys.readouterr().out
    assert "force matching on 31 frames' stored forces (residual rule)" in said
    assert "12-6: sigma = 3.405, epsilon = 0.0104" in said
    assert "against the truth: same terms yes" in said
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    lj = res["routes"]["pair_force_sindy"]["lennard_jones"]
    assert lj["sigma"] == pytest.approx(3.405, rel=ASE_TARGET)
    assert lj["epsilon"] == pytest.approx(0.0104, rel=ASE_TARGET)
    assert res["routes"]["pair_force_sindy"]["same_support"]
    assert sum(res["data"]["histogram"]["counts"]) > 0 and res["data"]["r_range"][1] < rc
    assert main(["report", str(tmp_path / "out"), "--no-pdf"]) == 0
    tex = (tmp_path / "out" / "report.tex").read_text()
    assert "pair_potential.pdf" in tex and r"\sigma" in tex
    assert (tmp_path / "out" / "figures" / "pair_potential.pdf").exists()
    # The force parity plot: the fit's forces against the stored ones, on the diagonal.
    parity = res["routes"]["pair_force_sindy"]["parity"]
    ref, pred = np.array(parity["reference"]), np.array(parity["predicted"])
    assert ref.size > 100 and np.max(np.abs(pred - ref)) < 1e-12 * np.max(np.abs(ref))
    assert (
        "force_parity.pdf" in tex and (tmp_path / "out" / "figures" / "force_parity.pdf").exists()
    )


def test_learn_on_a_csv_without_columns_says_what_to_do(tmp_path, capsys):
    from symhamil.cli import main

    (tmp_path / "d.csv").write_text("t,x\n0,1\n1,2\n")
    assert main(["learn", str(tmp_path / "d.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "--columns" in capsys.readouterr().err


def test_the_route_limit_keeps_force_sindys_time_back_for_sindy_on_phi():
    """The CLI's --time-limit binds the network route: SINDy on the network's
    phi regresses on the same data as force-SINDy, so force-SINDy's measured
    time is kept back from training, up to half the limit."""
    from symhamil.apps.learn_pairs import SINDY_SHARE, _training_limit

    assert _training_limit(120.0, 23.5)[0] == pytest.approx(96.5)
    assert _training_limit(120.0, 100.0)[0] == pytest.approx((1 - SINDY_SHARE) * 120)
    assert _training_limit(None, 5.0) == (None, "no time limit")
    assert "23.5 s kept for SINDy" in _training_limit(120.0, 23.5)[1]


@pytest.mark.slow
def test_neural_pair_route_on_ase_argon(tmp_path):
    """The network on ASE's argon (108 atoms, rc = 2.5 sigma), its phi read by
    SINDy with the data choosing the terms: sigma and epsilon within 0.5%."""
    import json

    from symhamil.cli import main

    rc = 2.5 * 3.405
    argon(3, steps=80, rc=rc, path=tmp_path / "ar.traj")
    assert main(["learn", str(tmp_path / "ar.traj"), "--cutoff", str(rc), "--time-limit", "240",
                 "--out", str(tmp_path / "out"), "--no-report"]) == 0  # fmt: skip
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    lj = res["routes"]["network"]["lennard_jones"]
    assert lj["sigma"] == pytest.approx(3.405, rel=ASE_TARGET)
    assert lj["epsilon"] == pytest.approx(0.0104, rel=ASE_TARGET)
    # Issue 21: the time limit kept to within 10% (pair lists and compile
    # included), and the comparison with force-SINDy said and true.
    net = res["routes"]["network"]
    assert net["training_seconds"] <= 1.1 * 240
    assert net["seconds"] <= 1.1 * 240  # the whole route: training and SINDy on phi
    ref = res["routes"]["pair_force_sindy"]["lennard_jones"]
    close = all(abs(lj[k] / ref[k] - 1) <= 5e-3 for k in ("sigma", "epsilon"))
    assert net["agreement"]["agrees"] == close


PAIR_STRATEGY_SCRIPT = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
import symhamil as sh
from symhamil.neural import PairPotential
s = sh.catalog.morse(particles=8, dim=3, box=6.0, cutoff=3.0)
rng = np.random.default_rng(0)
g = np.stack(np.meshgrid(*[np.arange(2)] * 3, indexing="ij"), -1).reshape(-1, 3) * 3.0
q0 = np.stack([(g + rng.uniform(-0.3, 0.3, g.shape)).ravel() for _ in range(2)])
traj = sh.simulate(s, q0, rng.normal(0, 0.3, q0.shape), h=0.01, steps=50, substeps=1)
kw = dict(steps=30, optimizer="adam", verbose=False)
one = PairPotential(8, 3, box=6.0, cutoff=3.0).fit(traj, **kw)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
two = PairPotential(8, 3, box=6.0, cutoff=3.0).fit(traj, strategy=strategy, **kw)
print(np.abs(one.history_ - two.history_).max() / one.history_.max())
"""


# Slow (6 s, a subprocess with two logical devices): the default suite keeps
# test_neural.py's mirrored-strategy test of the same training loop.
@pytest.mark.slow
def test_pair_potential_on_a_mirrored_strategy_gives_the_same_loss_curve():
    """Two logical CPU devices, one trajectory each: the same curve to rounding
    (float64 sums in another order, amplified by 30 Adam steps)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", PAIR_STRATEGY_SCRIPT], check=True, capture_output=True, text=True
    ).stdout
    assert float(out.strip().splitlines()[-1]) < 1e-10


def test_noisy_md_momenta_with_the_midpoint_and_bic(tmp_path):
    """Noise of 1e-4 of each coordinate's spread on q and p of ASE's argon: the
    midpoint observation (exact for velocity Verlet) with BIC keeps sigma and
    epsilon within the 0.5% target (measured on 256 atoms: 1e-6 and 2e-5)."""
    rc = 2.5 * 3.405
    argon(3, steps=60, rc=rc, path=tmp_path / "ar.traj")
    tr = sh.read_ase(tmp_path / "ar.traj")
    rng = np.random.default_rng(0)
    q = tr.q + 1e-4 * tr.q.std(axis=1, keepdims=True) * rng.standard_normal(tr.q.shape)
    p = tr.p + 1e-4 * tr.p.std(axis=1, keepdims=True) * rng.standard_normal(tr.p.shape)
    noisy = sh.Trajectories(q=q, p=p, h=tr.h, names=tr.names, masses=tr.masses, box=tr.box)
    lib = sh.Library((r**-12, r**-10, r**-8, r**-6, r**-4, r**-2, 1 / r), (r,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.pair_force_sindy(
            noisy, lib, cutoff=rc, kind="midpoint", selection=sh.Selection(rule="bic")
        )
    c12, c6 = fit.coefficients[r**-12], fit.coefficients[r**-6]
    assert (c12 / -c6) ** (1 / 6) == pytest.approx(3.405, rel=ASE_TARGET)
    assert c6**2 / (4 * c12) == pytest.approx(0.0104, rel=ASE_TARGET)


def test_rollout_takes_a_pair_system():
    """A pair system is a potential like any other: rollout simulates it (it raised
    TypeError before, having no ``gradient``)."""
    system = sh.catalog.pair_spring()
    q0, p0 = sh.systems.pairs.lattice_starts(system.particles, system.space, runs=1, seed=0)
    data = sh.simulate(system, q0, p0, h=0.01, steps=100)
    # Verlet data against an RK4 rollout: both second order or better at h = 0.01.
    assert sh.rollout(system, data).rms < 1e-5


def _lammps_dump(path, frames, box, step=1000):
    """A LAMMPS text dump as ``dump 1 all custom N file id type x y z fx fy fz``
    writes it: ``frames`` is a list of (positions (n, 3), forces (n, 3))."""
    lines = []
    for k, (x, f) in enumerate(frames):
        lines += ["ITEM: TIMESTEP", str(k * step), "ITEM: NUMBER OF ATOMS", str(len(x)),
                  "ITEM: BOX BOUNDS pp pp pp", *[f"0.0 {box}"] * 3,
                  "ITEM: ATOMS id type x y z fx fy fz"]  # fmt: skip
        lines += [f"{i + 1} 1 {a:.10f} {b:.10f} {c:.10f} {u:.10e} {v:.10e} {w:.10e}"
                  for i, ((a, b, c), (u, v, w)) in enumerate(zip(x, f, strict=True))]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def test_lammps_dumps_named_anything_and_compressed_files(tmp_path, capsys):
    """A LAMMPS dump named dump.melt (LAMMPS's own example name) with forces
    fx fy fz of springs between 4 atoms, and the same frames as extended XYZ
    gzipped: both are read as MD, their forces kept and matched exactly."""
    import gzip

    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    from symhamil.apps.learn_pairs import is_md_file

    law = C.pair_spring(k=2.0, particles=4, dim=3)  # phi = k (r - r0)^2
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(5):
        x = np.array([[1.0, 1, 1], [2.2, 1, 1], [1, 2.3, 1], [1, 1, 2.1]])
        x = x + 0.1 * rng.normal(size=x.shape)
        frames.append((x, law.force(x.reshape(1, -1)).reshape(4, 3)))
    _lammps_dump(tmp_path / "dump.melt", frames, box=20.0, step=1)  # every MD step
    atoms = []
    for x, f in frames:
        a = ase.Atoms("Ar4", positions=x, cell=[20.0] * 3, pbc=True)
        a.calc = SinglePointCalculator(a, forces=f)
        atoms.append(a)
    write(tmp_path / "run.extxyz", atoms)
    with (
        open(tmp_path / "run.extxyz", "rb") as src,
        gzip.open(tmp_path / "run.extxyz.gz", "wb") as dst,
    ):
        dst.write(src.read())
    lib = sh.Library.polynomial((r,), 3, constant=False)
    for name in ("dump.melt", "run.extxyz.gz"):
        assert is_md_file(str(tmp_path / name))
        tr = sh.read_ase(tmp_path / name, h=1.0)
        assert tr.forces is not None and tr.particles == 4
        fit = sh.pair_force_sindy(tr, lib, cutoff=9.0)
        expected = sh.Library.polynomial((r,), 2, constant=False)  # k r^2 - 2 k r0 r
        assert set(fit.coefficients) == set(expected.terms)
        # The dump's 10 decimals bound the agreement.
        assert fit.coefficients[r**2] == pytest.approx(2.0, rel=1e-8)
    assert not is_md_file(str(tmp_path / "data.csv"))
    assert is_md_file(str(tmp_path / "data.csv"), "lammps-dump-text")
    # The CLI: a dump under any name with --format.
    from symhamil.cli import main

    (tmp_path / "melt.data").write_bytes((tmp_path / "dump.melt").read_bytes())
    args = ["learn", str(tmp_path / "melt.data"), "--format", "lammps-dump-text", "--cutoff",
            "9", "--h", "1", "--library", "r, r**2, r**3", "--no-network", "--no-report",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 0
    assert "force matching on 5 frames' stored forces" in capsys.readouterr().out
    # A dump holds no masses: ASE reads type 1 as hydrogen. Force matching needs
    # none; learning from the motion refuses to guess, and --masses type=mass
    # gives them.
    tr = sh.read_ase(tmp_path / "dump.melt", h=1.0, masses={1: 39.948})
    np.testing.assert_array_equal(tr.masses, 39.948)
    with pytest.raises(ValueError, match=r"no mass given for atom type 1 \(H\)"):
        sh.read_ase(tmp_path / "dump.melt", h=1.0, masses={2: 39.948})
    base = ["learn", str(tmp_path / "dump.melt"), "--cutoff", "9", "--h", "1", "--library",
            "r, r**2, r**3", "--no-network", "--no-report", "--positions-only"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "a LAMMPS dump holds no masses" in err and "--masses 1=39.948" in err
    assert main([*base, "--masses", "1=39.948", "--out", str(tmp_path / "o2")]) == 0
    assert main([*base, "--masses", "heavy=1", "--out", str(tmp_path / "o3")]) == 2
    # Time steps with their unit; a bare number is refused (2 read as ASE's unit
    # is 10 times 2 fs).
    from symhamil.apps.learn_pairs import TIME_UNITS

    assert TIME_UNITS["fs"] == pytest.approx(ase.units.fs, rel=1e-12)
    timed = [a for a in base if a not in ("--h", "1")]
    assert main([*timed, "--masses", "1=39.948", "--timestep", "10fs",
                 "--out", str(tmp_path / "o4")]) == 0  # fmt: skip
    assert "h = 0.98227 ASE time units (10 fs)" in capsys.readouterr().out
    assert (
        main([*timed, "--masses", "1=39.948", "--timestep", "2", "--out", str(tmp_path / "x")])
        == 2
    )
    assert "a bare number needs --units" in capsys.readouterr().err
    assert main([*timed, "--units", "metal", "--timestep", "-1", "--masses", "1=39.948",
                 "--out", str(tmp_path / "x")]) == 2  # fmt: skip
    assert "the MD step must be > 0" in capsys.readouterr().err
    assert main([*timed, "--timestep", "2 parsecs", "--masses", "1=39.948",
                 "--out", str(tmp_path / "x")]) == 2  # fmt: skip
    assert "give the MD step with its unit" in capsys.readouterr().err
    # A bare number is in the --units' time unit: metal's ps.
    assert main([*timed, "--masses", "1=39.948", "--units", "metal", "--timestep", "0.01",
                 "--out", str(tmp_path / "o5")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "h = 0.98227 ASE time units (10 fs), 1 MD step apart" in out
    assert "units: r in angstrom, phi in eV" in out


@pytest.mark.slow  # 10 s of ASE MD and cutoff scans; the default suite's budget
def test_md_verdicts_name_the_cause(tmp_path, capsys):
    """Issue 21's inadequate cases, each with its reason and no confident
    formula: a cutoff shorter than the data's (the scan finds the data's), EMT
    copper (many-body), and a Langevin run read without its forces (the
    thermostat, from the .traj description)."""
    import json

    from ase.calculators.emt import EMT
    from ase.calculators.lj import LennardJones
    from ase.lattice.cubic import FaceCenteredCubic
    from ase.md.langevin import Langevin
    from ase.md.verlet import VelocityVerlet

    from symhamil.cli import main

    def crystal(symbol, a, calc):
        atoms = FaceCenteredCubic(directions=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], symbol=symbol,
                                  size=(3,) * 3, latticeconstant=a, pbc=True)  # fmt: skip
        atoms.calc = calc
        atoms.rattle(0.05, seed=1)
        return atoms

    def verdict_of(name, *extra):
        out = tmp_path / f"out-{name}"
        assert main(["learn", str(tmp_path / name), "--no-network", "--no-report",
                     "--out", str(out), *extra]) == 0  # fmt: skip
        return json.loads((out / "results.json").read_text())["routes"]["pair_force_sindy"][
            "assessment"
        ]

    rc = 2.5 * 3.405  # the box (17.1) allows cutoffs below 8.55
    lj = crystal("Ar", 5.7, LennardJones(sigma=3.405, epsilon=0.0104, rc=rc))
    VelocityVerlet(lj, 2 * ase.units.fs, trajectory=str(tmp_path / "ar.traj"),
                   loginterval=5).run(20)  # fmt: skip
    right = verdict_of("ar.traj", "--cutoff", str(rc))
    assert right["adequate"] and right["residual"] < 1e-12
    short = verdict_of("ar.traj", "--cutoff", str(0.9 * rc))
    assert not short["adequate"] and short["causes"] == ["cutoff"]
    # The scan (0.8 to 1.2 times the given cutoff) reaches 0.99 rc: no pair of
    # the data lies between it and rc, so it fits as rc does.
    best = min(short["cutoff_scan"], key=short["cutoff_scan"].get)
    assert 0.95 * rc < float(best) <= rc and short["cutoff_scan"][best] < 1e-12

    cu = crystal("Cu", 3.61, EMT())
    VelocityVerlet(cu, 2 * ase.units.fs, trajectory=str(tmp_path / "cu.traj"),
                   loginterval=5).run(20)  # fmt: skip
    emt = verdict_of("cu.traj")
    assert not emt["adequate"] and emt["causes"] == ["many-body"]

    hot = crystal("Ar", 5.7, LennardJones(sigma=3.405, epsilon=0.0104, rc=rc))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        Langevin(hot, 2 * ase.units.fs, temperature_K=120, friction=0.05 / ase.units.fs,
                 trajectory=str(tmp_path / "hot.traj"),
                 rng=np.random.default_rng(0)).run(20)  # fmt: skip
    thermostat = verdict_of("hot.traj", "--cutoff", str(rc), "--positions-only")
    assert not thermostat["adequate"] and "thermostat" in thermostat["causes"]
    # The same run as extended XYZ: no MD description, but the stored total
    # energy is not conserved (issue 21: a thermostat inferred from the energy).
    from ase.io import read, write

    write(tmp_path / "hot.extxyz", read(tmp_path / "hot.traj", ":"))
    inferred = verdict_of("hot.extxyz", "--cutoff", str(rc), "--positions-only", "--h",
                          str(2 * ase.units.fs))  # fmt: skip
    assert not inferred["adequate"] and "thermostat" in inferred["causes"]
    assert any("total energy the file stores moves" in w for w in inferred["reasons"])
    said = capsys.readouterr().out
    assert said.count("NOT ADEQUATE") == 4


@pytest.mark.slow  # two ASE re-runs
def test_a_wrong_phi_does_not_reproduce_the_data(tmp_path):
    """The re-run check tells a wrong phi (epsilon 10% high): its MD from the
    data's first frame leaves the data, where the right phi follows it to
    rounding (the same integrator and step)."""
    from symhamil.data.geometry import as_geometry
    from symhamil.interpret.md_export import rerun_check

    rc = 2.5 * 3.405
    argon(3, steps=60, rc=rc, path=tmp_path / "ar.traj")
    tr = sh.read_ase(tmp_path / "ar.traj")
    phi = 4 * 0.0104 * ((3.405 / r) ** 12 - (3.405 / r) ** 6)
    geometry = as_geometry(tr, cutoff=rc)
    assert rerun_check(phi, tr, geometry)["trajectory_error"] < 1e-9
    wrong = rerun_check(1.1 * phi, tr, geometry)
    assert not wrong["agrees"] and wrong["trajectory_error"] > 1e-3
    # The CLI's --rerun: the same check, printed and kept in results.json.
    import json

    from symhamil.cli import main

    assert main(["learn", str(tmp_path / "ar.traj"), "--cutoff", str(rc), "--no-network",
                 "--no-report", "--rerun", "--out", str(tmp_path / "rerun")]) == 0  # fmt: skip
    rerun = json.loads((tmp_path / "rerun" / "results.json").read_text())["routes"][
        "pair_force_sindy"
    ]["rerun"]
    assert rerun["agrees"] and rerun["trajectory_error"] < 1e-9
    assert rerun["rdf_agrees"] and rerun["rdf_t"] == 0.0  # the same path: the same histogram


@pytest.mark.slow  # three 400-step ASE runs and two re-runs, 25 s
def test_the_rdf_check_tells_sigma_off_by_three_percent_within_sampling_noise(tmp_path):
    """Over 400 steps the paths part (MD is chaotic), so the distribution of
    pair distances is the test. sigma 3% and 10% high: outside the sampling
    noise; the same phi from other starting velocities (an independent run of
    the same ensemble): within it."""
    from symhamil.data.geometry import as_geometry
    from symhamil.interpret.md_export import rerun_check

    rc = 2.5 * 3.405
    argon(3, steps=400, rc=rc, path=tmp_path / "ar.traj")
    tr = sh.read_ase(tmp_path / "ar.traj")
    g = as_geometry(tr, cutoff=rc)

    def lj(sigma, eps=0.0104):
        return 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)

    for sigma in (1.03 * 3.405, 1.1 * 3.405):
        wrong = rerun_check(lj(sigma), tr, g)
        assert not wrong["agrees"] and wrong["rdf_agrees"] is False, wrong["rdf_t"]
    # An independent run of the same phi stands for a right phi whose re-run
    # has left the data's path: its histogram is within the noise.
    from symhamil.interpret.md_export import _histograms, rdf_within_noise

    for seed in (1, 2):
        argon(3, steps=400, rc=rc, path=tmp_path / f"ar{seed}.traj", seed=seed)
        other = sh.read_ase(tmp_path / f"ar{seed}.traj")
        t, bar = rdf_within_noise(_histograms(tr, g, 60), _histograms(other, g, 60))
        assert t < bar, (seed, t, bar)


def test_rdf_within_noise_is_calibrated_on_records_of_one_distribution():
    """Poisson counts per frame, 64 frames, 30 bins: two records of the same
    distribution are called different in at most RDF_ALPHA of 300 pairs (2%
    allowed: the Bonferroni bar is conservative, and 300 draws at 1% give
    more than 6 with probability 0.03); a peak moved by one bin is called
    different in each of 20; too short a record gets no verdict."""
    from symhamil.interpret.md_export import RDF_ALPHA, rdf_within_noise

    rng = np.random.default_rng(0)
    x = np.linspace(0.8, 2.5, 30)
    shape = 40 * np.exp(-(((x - 1.1) / 0.08) ** 2)) + 12 * x**2 * (x > 0.95)
    moved = np.roll(shape, 1)
    said = [rdf_within_noise(rng.poisson(shape, (64, 30)), rng.poisson(shape, (64, 30)))
            for _ in range(300)]  # fmt: skip
    false = sum(t > bar for t, bar in said)
    assert false <= 2 * RDF_ALPHA * 300
    for _ in range(20):
        t, bar = rdf_within_noise(rng.poisson(shape, (64, 30)), rng.poisson(moved, (64, 30)))
        assert t > bar
    assert rdf_within_noise(np.ones((7, 30)), np.ones((7, 30))) == (None, None)


def test_a_recovered_phi_runs_in_ase_and_in_a_lammps_table(tmp_path):
    """The exported LJ: the ASE calculator's forces and energy equal ASE's own
    LennardJones on a rattled periodic crystal (to rounding), an MD step with it
    follows ASE's, and the LAMMPS table holds phi and -dphi/dr on its grid."""
    from ase.calculators.lj import LennardJones
    from ase.lattice.cubic import FaceCenteredCubic

    rc = 2.5 * 3.405
    phi = 4 * 0.0104 * ((3.405 / r) ** 12 - (3.405 / r) ** 6)
    atoms = FaceCenteredCubic(directions=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], symbol="Ar",
                              size=(3,) * 3, latticeconstant=5.7, pbc=True)  # fmt: skip
    atoms.rattle(0.1, seed=2)
    ours = atoms.copy()
    atoms.calc = LennardJones(sigma=3.405, epsilon=0.0104, rc=rc)
    ours.calc = sh.pair_calculator(phi, rc)
    np.testing.assert_allclose(ours.get_forces(), atoms.get_forces(), rtol=0, atol=1e-12)
    assert ours.get_potential_energy() == pytest.approx(atoms.get_potential_energy(), rel=1e-12)
    line = sh.lammps_table(phi, tmp_path / "lj.table", rmin=3.0, rmax=rc, n=200)
    assert line.splitlines()[0] == "pair_style table linear 200"
    assert line.endswith(f"SYMHAMIL {rc:.10g}")
    rows = (tmp_path / "lj.table").read_text().split("N 200 R")[1].splitlines()[2:]
    table = np.array([[float(v) for v in row.split()] for row in rows])
    assert table.shape == (200, 4)
    ri = np.linspace(3.0, rc, 200)  # the grid (the file prints r to 10 digits)
    np.testing.assert_allclose(table[:, 1], ri, rtol=1e-9)
    # phi crosses zero on the grid: absolute rounding there (1e-16 eV).
    np.testing.assert_allclose(table[:, 2], 4 * 0.0104 * ((3.405 / ri) ** 12 - (3.405 / ri) ** 6),
                               rtol=1e-12, atol=1e-15)  # fmt: skip
    dphi = 4 * 0.0104 * (-12 * 3.405**12 / ri**13 + 6 * 3.405**6 / ri**7)
    np.testing.assert_allclose(table[:, 3], -dphi, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="not finite everywhere"):  # a pole at r = 1
        sh.lammps_table(1 / (r - 1), tmp_path / "bad.table", rmin=0.5, rmax=2.0, n=4)


def test_morse_constants_are_read_off_a_morse_fit():
    """A fit that is exactly c2 exp(-2 a r) + c1 exp(-a r) is a Morse well:
    D = c1^2 / (4 c2), r0 = log(-2 c2 / c1) / a, printed by symhamil learn
    beside the formula. Exact pair data: D and r0 to rounding."""
    from symhamil.apps.learn_pairs import morse_constants

    morse = C.morse(D=0.5, a=1.3, r0=1.1, particles=4, dim=2)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.EnergyErrorWarning)  # close encounters
        tr = sh.simulate(morse, rng.uniform(0, 3, (2, 8)), rng.normal(0, 0.2, (2, 8)),
                         h=0.005, steps=400, substeps=1)  # fmt: skip
    lib = sh.Library([sp.exp(-1.3 * r), sp.exp(-2.6 * r), r, r**2, 1 / r], (r,))
    fit = sh.pair_force_sindy(tr, lib)
    got = morse_constants(fit.coefficients)
    assert got["a"] == pytest.approx(1.3, rel=1e-12)
    assert got["D"] == pytest.approx(0.5, rel=1e-9) and got["r0"] == pytest.approx(1.1, rel=1e-9)
    lj = sh.Library.inverse_powers(r, 12, constant=False)
    assert (
        morse_constants(
            sh.pair_force_sindy(tr, lj, selection=sh.Selection(threshold=0)).coefficients
        )
        is None
    )


def test_network_agreement_is_said_either_way():
    """The network route is compared with force-SINDy: the same 12-6 terms
    with sigma and epsilon within 0.5% agree; epsilon 1% off does not, and the
    words say so."""
    from symhamil.apps.learn_pairs import AGREEMENT, _agreement
    from symhamil.sindy.fit import _result

    lj = sh.Library([r**-12, r**-6, r**-2], (r,))

    def fit_of(c12, c6, c2=0.0):
        beta = np.array([c12, c6, c2])
        return _result(beta, 0.0, 0.0, (), lj)

    ref = fit_of(4.0, -4.0)
    assert _agreement(ref, fit_of(4.0 * 1.001, -4.0))["agrees"]
    off = _agreement(ref, fit_of(4.0 * 1.01**2, -4.0 * 1.01 * 1.01))  # epsilon 1% higher
    assert not off["agrees"] and off["errors"]["epsilon"] > AGREEMENT
    assert "DOES NOT agree" in off["words"]
    more = _agreement(ref, fit_of(4.0, -4.0, 0.1))
    assert not more["agrees"] and not more["same_terms"] and "r**(-2)" in more["words"]
