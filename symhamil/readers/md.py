"""Trajectories from molecular-dynamics engines, through ASE.

:func:`read_ase` reads anything :func:`ase.io.read` reads (ASE's ``.traj``,
extended XYZ, LAMMPS dumps, ...) into :class:`~symhamil.Trajectories` for the
pair learners. ASE is an optional dependency: ``pip install symhamil[md]``.

Units are ASE's own: positions in angstrom, energies in eV, masses in amu and
time in ASE's unit, angstrom sqrt(amu/eV) (about 10.18 fs; 1 fs is
``ase.units.fs``), in which p = m v and dp/dt = F hold without factors, so a
fitted pair potential comes out in eV.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..base.checks import positive_number
from ..data.geometry import particle_coords
from ..data.trajectories import Trajectories

__all__ = [
    "UNITS",
    "energy_swing",
    "format_of",
    "md_description",
    "md_steps",
    "read_ase",
    "stored_frames",
]


def _ase():
    try:
        import ase.io
    except ImportError:  # pragma: no cover - the [md] extra is installed in tests
        raise ImportError(
            "reading molecular-dynamics files needs ASE: pip install 'symhamil[md]' "
            "(or pip install ase)."
        ) from None
    return ase.io


#: ASE's format for each file ending symhamil reads: given explicitly, so that ASE
#: neither guesses from the bytes nor takes a name such as postgres_run.traj for
#: a database address.
FORMATS = {
    ".traj": "traj",
    ".extxyz": "extxyz",
    ".xyz": "extxyz",
    ".lammpstrj": "lammps-dump-text",
    ".dump": "lammps-dump-text",
    ".nc": "netcdftrajectory",
}


#: Compressed files ASE opens by their ending (text formats).
COMPRESSED = (".gz", ".bz2", ".xz")


def format_of(path, given: str | None = None) -> str | None:
    """ASE's format for ``path``: ``given``, else from its ending (a compression
    ending set aside: run.extxyz.gz is extended XYZ), else LAMMPS's text dump for
    names such as dump.melt; None when the name does not say."""
    if given is not None:
        return given
    name = os.path.basename(os.fspath(path)).lower()
    for ending in COMPRESSED:
        name = name.removesuffix(ending)
    fmt = FORMATS.get(os.path.splitext(name)[1])
    if fmt is None and name.startswith("dump."):
        fmt = "lammps-dump-text"
    return fmt


def _frames(source, index, fmt: str | None = None, least: int = 2, units=None) -> list:
    """ASE Atoms of one run: a path, or a sequence of Atoms; at least ``least``.
    ``units``: the LAMMPS units style of a dump, which ASE converts from."""
    if isinstance(source, str | os.PathLike):
        io = _ase()
        path = os.fspath(source)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file.")
        fmt = format_of(path, fmt)
        try:
            # An absolute path: ASE reads names that start with a database
            # scheme (postgres..., mysql...) as addresses when it guesses.
            extra = {} if units is None else {"units": units}
            frames = io.read(os.path.abspath(path), index=index, format=fmt, **extra)
        except Exception as exc:  # ASE raises many kinds for unreadable files
            kind = type(exc).__name__
            raise ValueError(f"{path}: ASE cannot read it ({kind}: {exc}).") from None
        frames = frames if isinstance(frames, list) else [frames]
    else:
        frames = list(source)
    if len(frames) < least:
        raise ValueError(
            f"{_label(source)}: {len(frames)} frame(s); "
            + ("a trajectory needs at least two." if least == 2 else "it holds none.")
        )
    return frames


def _label(source) -> str:
    return os.fspath(source) if isinstance(source, str | os.PathLike) else "the frames"


def md_description(source) -> dict:
    """The MD description an ASE ``.traj`` file holds (``type`` such as
    "Langevin" or "VelocityVerlet", ``timestep``, ``temperature_K``,
    ``friction``, ...), or {} for other sources."""
    if not (isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".traj")):
        return {}
    from ase.io.trajectory import Trajectory

    try:
        with Trajectory(os.path.abspath(os.fspath(source))) as tr:
            return dict(getattr(tr, "description", {}) or {})
    except Exception:  # a file ASE cannot open has said so when it was read
        return {}


#: LAMMPS units styles read (``--units``), and what each measures time in.
#: ASE converts metal and real dumps to its own units (angstrom, eV, amu and
#: its time unit); lj is read as it stands (sigma, epsilon, m and tau).
UNITS = {"ase": "ASE's time unit (10.18 fs)", "metal": "ps", "real": "fs", "lj": "tau"}


def check_units(units) -> str | None:
    """``units`` if it is a known units style (or None); a ValueError otherwise."""
    if units is not None and units not in UNITS:
        raise ValueError(
            f"unknown units {units!r}; choose one of {', '.join(UNITS)} (LAMMPS's units "
            "styles metal, real and lj, or ASE's own)."
        )
    return units


def to_internal_time(value: float, units: str | None) -> float:
    """A time in ``units``' own time unit (metal ps, real fs, lj tau, ase ASE's),
    in the unit the trajectories use: ASE's, or tau for lj."""
    if units in (None, "ase", "lj"):
        return float(value)
    from ase.calculators.lammps.unitconvert import convert

    return float(convert(value, "time", units, "ASE"))


def _is_lammps(source, fmt) -> bool:
    if not isinstance(source, str | os.PathLike):
        return False
    return (format_of(source, fmt) or "").startswith("lammps-dump")


def _open_text(path):
    """A text file, decompressed by its ending (.gz, .bz2, .xz)."""
    import bz2
    import gzip
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(
        os.path.splitext(os.fspath(path))[1].lower(), open
    )
    return opener(path, "rt")


def lammps_steps(path) -> np.ndarray:
    """The step numbers of a LAMMPS text dump's frames (``ITEM: TIMESTEP``)."""
    out, take = [], False
    with _open_text(path) as f:
        for line in f:
            if take:
                out.append(int(line.split()[0]))
                take = False
            elif line.startswith("ITEM: TIMESTEP"):
                take = True
    return np.asarray(out, dtype=np.int64)


def md_steps(source, stride: int = 1, fmt: str | None = None) -> int | None:
    """The MD steps between the frames read: the ``.traj`` description's logging
    interval, or the spacing of a LAMMPS dump's step numbers, times the stride
    of the frames read; None when the file does not say (or its frames are not
    evenly spaced)."""
    if not isinstance(source, str | os.PathLike):
        return None
    if os.fspath(source).endswith(".traj"):
        desc = md_description(source)
        return int(desc["interval"]) * stride if "interval" in desc else None
    if (format_of(source, fmt) or "") != "lammps-dump-text":
        return None
    steps = np.diff(lammps_steps(source))
    if steps.size == 0 or steps[0] <= 0 or (steps != steps[0]).any():
        return None
    return int(steps[0]) * stride


def _time_step(source, frames, h, stride: int) -> float:
    """The time between the frames read.

    From the argument (already between the frames read), the .traj file's MD
    description (one MD step times the logging interval, times the ``stride``
    of the frames read), or the frames' own ``info['time']`` (already ``stride``
    logged frames apart: the stride must not be applied again).
    """
    if h is not None:
        return float(h)
    if isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".traj"):
        from ase.io.trajectory import Trajectory

        with Trajectory(os.path.abspath(os.fspath(source))) as tr:
            desc = getattr(tr, "description", {}) or {}
        if "timestep" in desc:
            return float(desc["timestep"]) * float(desc.get("interval", 1)) * stride
    times = [f.info.get("time") for f in frames]
    if all(t is not None for t in times):
        dt = np.diff(np.asarray(times, dtype=float))
        if not np.allclose(dt, dt[0], rtol=1e-6) or dt[0] <= 0:
            raise ValueError(
                f"{_label(source)}: the frames' times are not evenly spaced (steps "
                f"{dt.min():g} to {dt.max():g}); read them with symhamil.Trajectories."
                "from_samples."
            )
        return float(dt[0])
    raise ValueError(
        f"{_label(source)}: the file does not say its time step; pass h= the time between "
        "frames in ASE's time unit (e.g. h=2 * ase.units.fs for frames 2 fs apart)."
    )


def _box(source, frames) -> np.ndarray | None:
    pbc = np.asarray(frames[0].pbc, dtype=bool)
    if not pbc.any():
        return None
    cell = np.asarray(frames[0].cell[:], dtype=float)
    if not pbc.all():
        raise ValueError(
            f"{_label(source)}: periodic along some axes only (pbc={pbc.tolist()}); symhamil "
            "handles fully periodic boxes or none."
        )
    if np.abs(cell - np.diag(np.diag(cell))).max() > 1e-9 * np.abs(cell).max():
        raise ValueError(
            f"{_label(source)}: the cell is not orthorhombic ({cell.round(4).tolist()}); "
            "symhamil's minimum images need a box with right angles."
        )
    sides = np.diag(cell)
    if not (np.isfinite(sides).all() and (sides > 0).all()):
        raise ValueError(
            f"{_label(source)}: the periodic cell has sides {sides.tolist()}; a periodic box "
            "needs three sides > 0 (a cell of zero size marks a file without a box: set "
            "pbc=False there)."
        )
    for k, f in enumerate(frames):
        if not np.allclose(f.cell[:], cell):
            raise ValueError(
                f"{_label(source)}: the cell changes at frame {k} (NPT?); symhamil needs a fixed "
                "box."
            )
    return np.diag(cell).copy()


def _unwrap(x: np.ndarray, box: np.ndarray | None) -> np.ndarray:
    """Positions (T, N, s) made continuous across periodic boundaries: each step
    moves by the nearest image of its displacement (engines that wrap positions
    into the box, as LAMMPS dumps do, would otherwise jump by a box length)."""
    if box is None:
        return x
    # Whole box lengths added where a step jumps (not the steps summed, which
    # would round every position: a text dump's digits must stay as written,
    # for rounding() to read them).
    jumps = -np.rint(np.diff(x, axis=0) / box)
    images = np.concatenate([np.zeros_like(x[:1]), np.cumsum(jumps, axis=0)])
    return x + box * images


def _run(source, index, h, stride, fmt=None, given=None, timestep=None, units=None):
    lammps = _is_lammps(source, fmt)
    if units not in (None, "ase") and not lammps:
        raise ValueError(
            f"{_label(source)}: units={units!r} names a LAMMPS units style, and this is not a "
            "LAMMPS dump: ASE's files are in ASE's units (leave units out)."
        )
    # ASE converts metal and real dumps; lj has no conversion, so it is read
    # as metal (distances, forces and energies untouched) and the velocities'
    # conversion (A/ps to ASE's unit) undone below.
    read_as = None if not lammps else ("metal" if units in (None, "lj", "ase") else units)
    frames = _frames(source, index, fmt, units=read_as)
    n = len(frames[0])
    for k, f in enumerate(frames):
        if len(f) != n:
            raise ValueError(
                f"{_label(source)}: frame {k} has {len(f)} atoms, the first {n}; symhamil "
                "needs a fixed set of particles."
            )
    steps = md_steps(source, stride, fmt)
    if h is None and timestep is not None:
        # The MD step times the steps between the frames read (every step
        # when the file does not number them).
        h = float(timestep) * (steps or stride)
    h = _time_step(source, frames, h, stride)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"{_label(source)}: the time step must be > 0; got {h}.")
    box = _box(source, frames)
    x = _unwrap(np.stack([f.get_positions() for f in frames]), box)
    if units == "lj" and given is None:
        given = 1.0  # LJ units: masses in m, 1 unless the input file set others
    masses = _masses(frames[0], given, source)
    p = None
    if all(f.has("momenta") for f in frames):
        v = np.stack([f.get_velocities() for f in frames])
        if units == "lj":
            from ase.calculators.lammps.unitconvert import convert

            v = v / convert(1.0, "velocity", "metal", "ASE")
        p = v * masses[None, :, None]  # p = m v at the masses used
    stored = [_stored_forces(f) for f in frames]
    forces = None if any(F is None for F in stored) else np.stack(stored)
    return x, p, masses, box, h, forces, steps, _species(frames[0])


def _species(frame) -> tuple[int, ...] | None:
    """The atoms' types (atomic numbers; a LAMMPS dump's types) when there are several."""
    numbers = frame.get_atomic_numbers()
    return tuple(int(z) for z in numbers) if len(set(numbers.tolist())) > 1 else None


def _masses(frame, given, source) -> np.ndarray:
    """Each atom's mass: ASE's (from the file, or the element's), or ``given``:
    one number for every atom, or a dict by atom type (the atomic number ASE
    reads, which is LAMMPS's type in a dump) or by chemical symbol."""
    if given is None:
        return frame.get_masses()
    numbers, symbols = frame.get_atomic_numbers(), frame.get_chemical_symbols()
    if not isinstance(given, dict):
        value = float(given)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"masses must be finite and > 0; got {given!r}.")
        return np.full(len(numbers), value)
    out = np.empty(len(numbers))
    for i, (z, sym) in enumerate(zip(numbers, symbols, strict=True)):
        value = given.get(int(z), given.get(str(int(z)), given.get(sym)))
        if value is None:
            kinds = sorted(set(map(int, numbers)))
            raise ValueError(
                f"{_label(source)}: no mass given for atom type {int(z)} ({sym}); the file "
                f"has types {kinds}: give one mass for each (type=mass, in amu)."
            )
        out[i] = float(value)
    if not (np.isfinite(out).all() and (out > 0).all()):
        raise ValueError("masses must be finite and > 0.")
    return out


def _stored_forces(frame) -> np.ndarray | None:
    """The forces the file holds for ``frame`` (ASE keeps them on a single-point
    calculator: .traj, extended XYZ ``forces``, LAMMPS ``fx fy fz``), never
    computed here; None when it holds none."""
    calc = frame.calc
    if calc is None:
        return None
    try:
        F = calc.get_property("forces", frame, allow_calculation=False)
    except Exception:  # a calculator that cannot say holds no stored forces
        return None
    return None if F is None else np.asarray(F, dtype=float)


# Over 80 lines with its numpydoc docstring (34 of 90 lines); the code is 50.
def read_ase(
    source,
    index=":",
    h: float | None = None,
    momenta: bool = True,
    forces: bool = True,
    format: str | None = None,
    masses=None,
    timestep: float | None = None,
    units: str | None = None,
) -> Trajectories:
    """Read molecular-dynamics trajectories with ASE.

    Parameters
    ----------
    source : path, sequence of ase.Atoms, or list of paths
        One run (a file ASE reads, or its frames), or several runs of the same
        system as a list of paths (one trajectory each).
    index : str or slice
        Which frames, as :func:`ase.io.read` takes it (all by default; ``"::10"``
        every tenth).
    h : float, optional
        Time between the frames read, in ASE's time unit. By default from the
        ``.traj`` file's description (the MD step times the logging interval,
        multiplied by the stride of ``index``) or the frames' ``info["time"]``.
    momenta : bool
        Use the stored momenta; ``False`` reads positions only (as if the engine
        had not written them).
    forces : bool
        Keep the forces the file stores (``Trajectories.forces``, in eV/angstrom),
        which :func:`~symhamil.pair_force_sindy` then fits directly; ``False``
        leaves them out.
    format : str, optional
        ASE's name of the file format (``"lammps-dump-text"``, ``"extxyz"``,
        ...), for files whose name does not say it. By default from the
        ending, a compression ending (.gz, .bz2, .xz) set aside, and LAMMPS's
        text dump for names that start with ``dump.``.
    masses : float or dict, optional
        The atoms' masses (amu) when the file does not hold them: one number
        for all, or a dict by atom type (``{1: 39.948}``: the atomic number
        ASE reads, which is the type in a LAMMPS dump, where type 1 would
        otherwise be read as hydrogen) or by chemical symbol. By default ASE's
        (1 for every atom in LJ units).
    timestep : float, optional
        The MD integration step, in the trajectories' time unit (ASE's, e.g.
        ``2 * ase.units.fs``; tau in LJ units); the time between frames is
        then this times the MD steps between them (from the file, see below).
        ``h`` gives the time between frames directly.
    units : {"ase", "metal", "real", "lj"}, optional
        The LAMMPS units style a dump was written in: ``metal`` (A, eV, ps)
        and ``real`` (A, kcal/mol, fs) are converted to ASE's units by ASE;
        ``lj`` is kept as it stands (sigma, epsilon, m = 1, tau), so phi comes
        out in epsilon. ASE's own files are in ASE's units.

    Atoms of several kinds (atomic numbers; a LAMMPS dump's types) set
    ``Trajectories.species``: the pair learners then fit one pair potential
    per pair of types.

    The MD steps between consecutive frames (``Trajectories.md_steps``) come
    from the ``.traj`` description's logging interval or the spacing of a
    LAMMPS dump's ``ITEM: TIMESTEP`` numbers, times the stride of ``index``:
    the pair learners then use an observation exact for frames that many
    velocity-Verlet steps apart.

    Returns
    -------
    Trajectories
        q (and p) of shape (R, T, 3 N) in coordinates x1, y1, z1, x2, ...;
        ``masses`` per coordinate, ``box`` the cell's sides (periodic runs),
        positions unwrapped across the box.

    Examples
    --------
    >>> import numpy as np, ase, ase.units
    >>> frames = [ase.Atoms("Ar2", positions=[[0, 0, 0], [3.8 + 0.1 * k, 0, 0]],
    ...                     cell=[20, 20, 20], pbc=True) for k in range(5)]
    >>> tr = read_ase(frames, h=2 * ase.units.fs)
    >>> tr.q.shape, tr.box.tolist(), tr.has_momenta
    ((1, 5, 6), [20.0, 20.0, 20.0], False)
    """
    paths = (
        list(source)
        if isinstance(source, Sequence)
        and not isinstance(source, str)
        and source
        and all(isinstance(s, str | os.PathLike) for s in source)
        else [source]
    )
    step = 1
    try:
        if isinstance(index, str) and index.count(":") == 2 and index.split(":")[2].strip():
            step = int(index.split(":")[2])
        elif isinstance(index, slice) and index.step:
            step = int(index.step)
    except ValueError:
        raise ValueError(
            f"index {index!r} is not a slice of frames such as ':' or '::10'."
        ) from None
    if step < 1:
        raise ValueError(f"index {index!r} reads the frames backwards; read them forwards.")
    check_units(units)
    timestep = positive_number(timestep, "timestep", allow_none=True)
    if timestep is not None and h is not None:
        raise ValueError("give h (time between frames) or timestep (the MD step), not both.")
    runs = [_run(s, index, h, step, format, masses, timestep, units) for s in paths]
    x0, _, m0, box0, h0, _, k0, kinds0 = runs[0]
    for (x, _, m, box, hr, _, k, kinds), s in zip(runs[1:], paths[1:], strict=True):
        if (x.shape[1:] != x0.shape[1:] or not np.allclose(m, m0) or hr != h0 or k != k0
                or kinds != kinds0):  # fmt: skip
            raise ValueError(f"{s}: a different system or time step from {paths[0]}.")
        if (box is None) != (box0 is None) or (box is not None and not np.allclose(box, box0)):
            raise ValueError(f"{s}: a different box from {paths[0]}.")
    T = max(r[0].shape[0] for r in runs)
    N, s = x0.shape[1:]
    lengths = np.array([r[0].shape[0] for r in runs])

    def stack(k):
        out = np.empty((len(runs), T, N * s))
        for i, r in enumerate(runs):
            a = r[k].reshape(r[k].shape[0], -1)
            out[i, : a.shape[0]] = a
            out[i, a.shape[0] :] = a[-1]
        return out

    use_p = momenta and all(r[1] is not None for r in runs)
    use_f = forces and all(r[5] is not None for r in runs)
    return Trajectories(
        q=stack(0),
        p=stack(1) if use_p else None,
        h=h0,
        names=tuple(c.name for c in particle_coords(N, s)),
        lengths=lengths if (lengths != T).any() else None,
        masses=np.repeat(m0, s),
        box=box0,
        particles=N,
        forces=stack(5) if use_f else None,
        md_steps=k0,
        species=kinds0,
    )


def stored_frames(source, index=":", format: str | None = None):
    """The positions and stored forces of an MD file's frames, for force matching.

    No time is needed (each frame is fitted on its own), so a file of one
    frame will do: the pieces of a long run that LAMMPS writes as
    ``dump.*.lammpstrj``, read one at a time or each on its own Dask worker
    (:func:`~symhamil.pair_force_sindy` takes their paths).

    Returns
    -------
    q, forces : ndarray, shape (K, 3 N)
        Positions (as stored, not unwrapped: each frame stands alone) and forces.
    box : ndarray, shape (3,), or None
    species : tuple of int, length N, or None
        The atoms' types when there are several kinds.
    """
    frames = _frames(source, index, format, least=1)
    n = len(frames[0])
    if any(len(f) != n for f in frames):
        raise ValueError(f"{_label(source)}: the number of atoms changes between frames.")
    stored = [_stored_forces(f) for f in frames]
    if any(F is None for F in stored):
        raise ValueError(
            f"{_label(source)}: a frame without stored forces; force matching needs the "
            "forces the engine wrote (LAMMPS: dump ... fx fy fz; ASE: a calculator attached)."
        )
    q = np.stack([f.get_positions().reshape(-1) for f in frames])
    return q, np.stack(stored).reshape(len(frames), -1), _box(source, frames), _species(frames[0])


def energy_swing(source, index=":", format: str | None = None) -> float | None:
    """How much the total energy the file stores moves, against the kinetic
    energy's own motion: std(E) / std(K), E = K + the stored potential energy.

    Velocity Verlet conserves E to its error (4e-5 of K's swing for argon at
    2 fs, frames 10 steps apart); a thermostat moves energy in and out (1.6
    for ASE's Langevin at friction 0.02). None when the file does not hold
    both momenta and potential energies (a LAMMPS dump, a run without a
    calculator), or K does not move.
    """
    frames = _frames(source, index, format)
    K, E = [], []
    for f in frames:
        calc = f.calc
        if calc is None or not f.has("momenta"):
            return None
        try:
            pe = calc.get_property("energy", f, allow_calculation=False)
        except Exception:  # a calculator that cannot say holds no stored energy
            return None
        if pe is None:
            return None
        K.append(float(f.get_kinetic_energy()))
        E.append(K[-1] + float(pe))
    spread = float(np.std(K))
    return None if spread == 0 else float(np.std(E)) / spread
