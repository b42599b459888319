"""Trajectories: validation, slicing, files, and the author's published data."""

import numpy as np
import pytest

import symhamil as sh
from symhamil import catalog


def _traj(R=4, n=11, d=2, h=0.1):
    rng = np.random.default_rng(0)
    return sh.Trajectories(q=rng.normal(size=(R, n, d)), p=rng.normal(size=(R, n, d)), h=h)


def test_shape_time_and_names():
    tr = _traj()
    assert (tr.R, tr.N, tr.dim) == (4, 10, 2)
    np.testing.assert_allclose(tr.t, 0.1 * np.arange(11))
    assert tr.names == ("q0", "q1")
    assert [c.name for c in tr.coords] == ["q0", "q1"]


def test_the_repr_of_many_atoms_stays_short():
    """4096 atoms are 12,288 coordinate names; the repr names the first and
    last six and counts the rest, and a few coordinates are named in full."""
    big = _traj(R=1, n=2, d=3 * 4096)
    text = repr(big)
    assert len(text) < 300
    assert "'q0'" in text and "'q12287'" in text and "12276 more" in text
    assert "names=('q0', 'q1')" in repr(_traj())


def test_arrays_are_read_only():
    tr = _traj()
    with pytest.raises(ValueError, match="read-only"):
        tr.q[0, 0, 0] = 1.0
    with pytest.raises(AttributeError):
        tr.h = 0.2


@pytest.mark.parametrize(
    ("q", "p", "h", "message"),
    [
        (np.zeros((2, 5, 1)), np.zeros((2, 5, 2)), 0.1, "same shape"),
        (np.zeros((5, 1)), np.zeros((5, 1)), 0.1, r"shape \(R, N\+1, d\)"),
        (np.zeros((2, 1, 1)), np.zeros((2, 1, 1)), 0.1, "at least two time points"),
        (np.zeros((2, 5, 1)), np.zeros((2, 5, 1)), 0.0, "h must be finite and > 0"),
        (np.zeros((2, 5, 1)), np.zeros((2, 5, 1)), -1.0, "h must be finite and > 0"),
        (
            np.zeros((2, 5, 1)),
            np.full((2, 5, 1), np.inf),
            0.1,
            "p has 10 non-finite .* trajectory 0, point 0",
        ),
    ],
)
def test_bad_trajectories_are_refused(q, p, h, message):
    with pytest.raises(ValueError, match=message):
        sh.Trajectories(q=q, p=p, h=h)


def test_nan_location_is_named():
    q = np.zeros((3, 5, 1))
    q[2, 4, 0] = np.nan
    with pytest.raises(ValueError, match="trajectory 2, point 4, component 0"):
        sh.Trajectories(q=q, p=np.zeros_like(q), h=0.1)


def test_select_head_points_and_split():
    tr = _traj(R=5)
    np.testing.assert_array_equal(tr.select([4, 0]).q, tr.q[[4, 0]])
    np.testing.assert_array_equal(tr[1:3].p, tr.p[1:3])
    assert tr.head(3).N == 2
    part = tr.points(4, 8)
    np.testing.assert_allclose(part.t, tr.t[4:8])
    train, test = tr.split(0.6)
    assert (train.R, test.R) == (3, 2)
    a, b = tr.split(2, shuffle=True, seed=1)
    assert sorted(np.concatenate([a.q[:, 0, 0], b.q[:, 0, 0]])) == sorted(tr.q[:, 0, 0])
    with pytest.raises(ValueError, match="at least one trajectory on each side"):
        tr.split(5)
    with pytest.raises(ValueError, match="at least 2 points"):
        tr.head(1)


def test_windows_follow_the_paper_and_can_cover_every_pair():
    tr = _traj(n=301)
    paper = tr.windows(100)  # points 0-99, 100-199, 200-299
    assert [w.t[0] for w in paper] == pytest.approx([0.0, 10.0, 20.0])
    assert all(w.N + 1 == 100 for w in paper)
    covering = tr.windows(101, step=100)
    assert len(covering) == 3
    # Every (i, i+1) pair of the whole trajectory appears in exactly one window.
    pairs = [tuple(np.round(w.t[i : i + 2], 9)) for w in covering for i in range(w.N)]
    assert len(pairs) == len(set(pairs)) == tr.N


def test_save_load_round_trip(tmp_path):
    tr = sh.simulate(catalog.double_well(), [[0.1], [0.5]], [[0.0], [0.2]], h=0.01, steps=20)
    path = tmp_path / "dw.npz"
    tr.save(path)
    back = sh.Trajectories.load(path)
    np.testing.assert_array_equal(back.q, tr.q)
    np.testing.assert_array_equal(back.p, tr.p)
    np.testing.assert_array_equal(back.energy_error, tr.energy_error)
    assert (back.h, back.names) == (tr.h, tr.names)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"q": np.zeros((2, 5, 1)), "p": np.zeros((2, 5, 1))}, "missing array.* h"),
        ({"q": np.zeros((2, 5)), "p": np.zeros((2, 5)), "h": 0.1}, r"q must have shape \(R"),
        ({"q": np.zeros((2, 5, 1)), "p": np.zeros((2, 5, 1)), "h": -0.1}, "h must be"),
        ({"q": np.zeros((2, 5, 1)), "p": np.zeros((2, 5, 1)), "h": [0.1, 0.2]}, "single number"),
        ({"q": np.full((2, 5, 1), np.nan), "p": np.zeros((2, 5, 1)), "h": 0.1}, "non-finite"),
        ({"q": np.array([[["a"]]]), "p": np.zeros((1, 1, 1)), "h": 0.1}, "real numbers"),
        ({"r": np.ones((2, 5)), "rdot": np.ones((2, 5)), "h": 0.1}, "load_radial"),
    ],
)
def test_load_says_what_is_wrong(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises((ValueError, TypeError), match=message) as info:
        sh.Trajectories.load(path)
    assert str(path) in str(info.value)


def test_load_missing_or_garbage_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        sh.Trajectories.load(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        sh.Trajectories.load(junk)


def test_load_radial(tmp_path):
    path = tmp_path / "radial.npz"
    np.savez(path, r=np.full((2, 5), 2.0), rdot=np.zeros((2, 5)), h=0.01)
    tr = sh.load_radial(path)
    assert tr.q.shape == (2, 5, 1) and tr.names == ("r",)
    np.savez(path, r=np.full((2, 5), -1.0), rdot=np.zeros((2, 5)), h=0.01)
    with pytest.raises(ValueError, match="r must be positive"):
        sh.load_radial(path)


# The author's files conserve energy to about 4e-9 (docs/data.md); 1e-8 allows for
# rounding, and fails at once if the catalog's double well differed from theirs.
AUTHOR_ENERGY_RTOL = 1e-8


@pytest.mark.parametrize("name", ["double_well_T1", "double_well_pair"])
def test_author_double_well_data_conserve_the_catalog_energy(name):
    tr = sh.datasets.bhat2019(name)
    assert tr.h == 0.001 and tr.N + 1 == 10001 and tr.dim == 1
    assert tr.relative_energy_error(catalog.double_well()).max() < AUTHOR_ENERGY_RTOL


def test_author_T1_initial_conditions_and_well_crossing():
    tr = sh.datasets.bhat2019("double_well_T1")
    np.testing.assert_allclose(tr.q[[0, 7], 0, 0], [-0.15, -0.59])
    np.testing.assert_allclose(tr.p[[0, 7], 0, 0], [-0.48, -0.92])
    crosses = (tr.q[..., 0].min(axis=1) < 1) & (tr.q[..., 0].max(axis=1) > 1)
    assert crosses.tolist() == [False] * 9 + [True]


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        sh.datasets.bhat2019("nope")


def test_paper_harmonic_circles():
    tr = sh.datasets.harmonic_circles()
    assert tr.q.shape == (10, 1001, 1) and tr.h == 0.01
    i = np.arange(1, 11)[:, None]
    np.testing.assert_allclose(tr.q[..., 0], i * np.sin(tr.t), atol=1e-12)
    np.testing.assert_allclose(tr.p[..., 0], i * np.cos(tr.t), atol=1e-12)
