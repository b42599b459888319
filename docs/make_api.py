"""Write docs/api.md, the API reference, from the public names and their docstrings.

python docs/make_api.py          # rewrite docs/api.md
python docs/make_api.py --check  # exit 1 if docs/api.md is out of date (the tests do this)
"""

import importlib
import inspect
import sys
from pathlib import Path

import symhamil
import symhamil.apps.learn
import symhamil.apps.learn_pairs
import symhamil.apps.paper
import symhamil.base.parsing
import symhamil.data.geometry
import symhamil.data.noise
import symhamil.interpret.export
import symhamil.learning.observations
import symhamil.learning.planning
import symhamil.neural
import symhamil.report.latex
import symhamil.systems.integrators
import symhamil.systems.pairs

#: (title, module, names): the public face, module by module.
SECTIONS = [
    ("symhamil", symhamil, [n for n in symhamil.__all__ if n not in ("__version__",)]),
    ("symhamil.neural (imports TensorFlow)", symhamil.neural, symhamil.neural.__all__),
    (
        "symhamil.interpret.export",
        symhamil.interpret.export,
        ["lambdify_deep", "elu", "Approximation"],
    ),
    (
        "symhamil.data.noise (measured data)",
        symhamil.data.noise,
        ["time_scale", "smooth", "initial_momenta"],
    ),
    (
        "symhamil.learning.planning (the data's plan)",
        symhamil.learning.planning,
        ["use_plan", "choose_window", "choose_smoothing"],
    ),
    (
        "symhamil.learning.observations",
        symhamil.learning.observations,
        ["pairs", "Pairs", "trajectory_loss", "bump"],
    ),
    (
        "symhamil.systems.pairs (many bodies)",
        symhamil.systems.pairs,
        ["PairSystem", "PairLibrary", "lattice_starts"],
    ),
    (
        "symhamil.data.geometry (particles, box, neighbour lists)",
        symhamil.data.geometry,
        symhamil.data.geometry.__all__,
    ),
    (
        "symhamil.systems.integrators (the one Runge-Kutta method)",
        symhamil.systems.integrators,
        symhamil.systems.integrators.__all__,
    ),
    (
        "symhamil.sindy (sparse regression: the rest of its face)",
        # The package, not the function symhamil.sindy that shadows its name.
        importlib.import_module("symhamil.sindy"),
        ["DEFAULT_THRESHOLDS", "SELECTIONS", "STEPS", "PathStep", "force_equations"],
    ),
    (
        "symhamil.base.parsing (formulas and names from text)",
        symhamil.base.parsing,
        ["parse_formula", "check_name", "is_plain_name", "as_expr"],
    ),
    (
        "symhamil.report.latex (LaTeX and the safe PDF builder)",
        symhamil.report.latex,
        symhamil.report.latex.__all__,
    ),
    (
        "symhamil.apps.learn (the `symhamil learn` application)",
        symhamil.apps.learn,
        symhamil.apps.learn.__all__,
    ),
    (
        "symhamil.apps.learn_pairs (`symhamil learn` on molecular-dynamics files)",
        symhamil.apps.learn_pairs,
        ["PairSettings", "learn_pairs", "render_pairs"],
    ),
    (
        "symhamil.apps.paper (the paper application)",
        symhamil.apps.paper,
        symhamil.apps.paper.__all__,
    ),
]


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def _entry(module, name: str) -> list[str]:
    obj = getattr(module, name)
    if inspect.ismodule(obj):
        return [f"### `{name}` (module)", "", _summary(obj), ""]
    obj = getattr(obj, "__wrapped__", obj)  # functools.cache
    if inspect.isclass(obj) or inspect.isfunction(obj):
        try:
            sig = str(inspect.signature(obj))
        except (TypeError, ValueError):
            sig = "(...)"
        kind = "class" if inspect.isclass(obj) else "function"
        lines = [f"### `{name}{sig}` ({kind})", "", _summary(obj), ""]
        if inspect.isclass(obj):
            for attr, member in sorted(vars(obj).items()):
                if attr.startswith("_") or not callable(getattr(member, "__func__", member)):
                    continue
                fn = getattr(member, "__func__", member)
                if inspect.isfunction(fn):
                    lines.append(f"- `{attr}{inspect.signature(fn)}`: {_summary(fn)}")
            lines.append("")
        return lines
    return [
        f"### `{name}` (value)",
        "",
        f"`{type(obj).__name__}`: "
        + ", ".join(map(str, list(obj)[:12] if hasattr(obj, "__iter__") else [obj])),
        "",
    ]


def render() -> str:
    out = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/make_api.py`; the tests check it is",
        "current. The full docstrings (numpydoc, with array shapes) are one `help()` away.",
        "",
    ]
    for title, module, names in SECTIONS:
        out += [f"## {title}", "", _summary(module), ""]
        for name in names:
            out += _entry(module, name)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    path = Path(__file__).with_name("api.md")
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if path.exists() and path.read_text() == text else 1)
    path.write_text(text)
