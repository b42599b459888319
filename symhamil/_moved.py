"""Module paths of symhamil before the second rebuild, kept as aliases.

``import symhamil.noise`` (and every other path below) still works and gives
the module at its new place, with a ``DeprecationWarning`` that names it. The
public face, ``symhamil`` itself, did not move. The aliases go in 0.3.

Three old modules have no alias: ``symhamil.compare``, ``symhamil.rollout`` and
``symhamil.simulate`` are the public functions of those names, and an import
system that binds a module to its parent would replace them. Their modules
are ``symhamil.interpret.compare``, ``symhamil.interpret.rollout`` and
``symhamil.systems.simulate``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings

#: Old module path -> the module's place since the second rebuild.
MOVED = {
    "symhamil._checks": "symhamil.base.checks",
    "symhamil._io": "symhamil.base.files",
    "symhamil._schema": "symhamil.base.schema",
    "symhamil.parsing": "symhamil.base.parsing",
    "symhamil.layers": "symhamil.base.layers",
    "symhamil.noise": "symhamil.data.noise",
    "symhamil.samples": "symhamil.data.samples",
    "symhamil.trajectories": "symhamil.data.trajectories",
    "symhamil.symbols": "symhamil.systems.symbols",
    "symhamil.system": "symhamil.systems.system",
    "symhamil.pairs": "symhamil.systems.pairs",
    "symhamil.potentials": "symhamil.systems.potentials",
    "symhamil.catalog": "symhamil.systems.catalog",
    "symhamil.reduce": "symhamil.systems.reduce",
    "symhamil.md": "symhamil.readers.md",
    "symhamil.losses": "symhamil.learning.observations",
    "symhamil.planning": "symhamil.learning.planning",
    "symhamil.training": "symhamil.learning.training",
    "symhamil.export": "symhamil.interpret.export",
    "symhamil.latex": "symhamil.report.latex",
    "symhamil.plots": "symhamil.report.plots",
    "symhamil.learn": "symhamil.apps.learn",
    "symhamil.learn_pairs": "symhamil.apps.learn_pairs",
    "symhamil.paper": "symhamil.apps.paper",
}


def new_place(name: str) -> str | None:
    """The module ``name`` stands for now (its sub-modules follow it), or None."""
    for old, new in MOVED.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old) :]
    return None


def _warn(old: str, new: str, stacklevel: int) -> None:
    warnings.warn(
        f"{old} moved to {new} in symhamil 0.2; import it from there (or use the "
        "public names of symhamil). The old path goes in 0.3.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def attribute(name: str):
    """``symhamil.<name>`` for a module that moved (``sh.pairs``), with a warning."""
    new = new_place(f"symhamil.{name}")
    if new is None:
        raise AttributeError(f"module 'symhamil' has no attribute {name!r}")
    _warn(f"symhamil.{name}", new, 4)
    return importlib.import_module(new)


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        # The module at its new place, under its old name too: one object, so
        # state and monkeypatching are shared.
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # The import system has set the alias's spec on the module; it keeps its own.
        module.__spec__ = self.spec


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        new = new_place(name)
        if new is None:
            return None
        _warn(name, new, 3)
        return importlib.machinery.ModuleSpec(name, _Alias(new))


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        # First: a sub-module of a moved package would otherwise be found by the
        # path finder inside the new folder and loaded a second time.
        sys.meta_path.insert(0, _Finder())
