"""Fuzzing the two doors files from others come in by: results.json and CSV files.

Hypothesis mutates a valid results.json of ``symhamil learn`` (and of a fit
saved alone) and writes random CSV files. Whatever it makes, symhamil must
answer with one of its documented error types - ValueError (with its
FileNotFoundError-free cousins TypeError) - or succeed, and must not hang:
every example runs under an alarm of :data:`BOUND` seconds. The number of
examples is bounded so the default suite stays fast; ``--hypothesis-seed``
reproduces a run.
"""

import copy
import json
import math
import signal
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symhamil as sh
from symhamil.apps.learn import LearnSettings, learn, read_learn_results, render_learn

#: No example may take longer than this (seconds); a hang fails instead of blocking.
BOUND = 60

#: The error types symhamil documents for bad files (docs/reliability.md).
DOCUMENTED = (ValueError, TypeError)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure reproduces
)


@contextmanager
def bounded(seconds: int = BOUND):
    def alarm(signum, frame):
        raise TimeoutError(f"an example ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _paths(doc, prefix=()):
    """Every path into a JSON document, as tuples of keys and indices."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc, path, value):
    if not path:
        return value
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


#: Text that looks like formulas, numbers and TeX: where the parsers are attacked.
FORMULA_TEXT = st.text(alphabet="0123456789.eE+-*/^() angleqx,\\{}$%_", max_size=40)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | FORMULA_TEXT
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    tr = sh.simulate(sh.catalog.pendulum(), [[1.5]], [[0.0]], h=1 / 6, steps=150, substeps=50)
    rows = ["time,angle,omega"] + [
        f"{t:.4f},{a:.6f},{w:.6f}"
        for t, a, w in zip(tr.t, tr.q[0, :, 0], tr.p[0, :, 0], strict=True)
    ]
    csv = tmp_path_factory.mktemp("data") / "pendulum.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path_factory.mktemp("learned") / "out"
    cols = {"t": "time", "q": ["angle"], "v": ["omega"]}
    settings_ = LearnSettings(data=str(csv), columns=cols, library="1, cos(angle), angle**2",
                              network=False, bootstrap=0)  # fmt: skip
    learn(settings_, out, report=False, say=lambda s: None)
    return out, json.loads((out / "results.json").read_text())


@FUZZ
@given(data=st.data())
def test_tampered_results_json_gives_a_documented_error_or_a_report(learned, tmp_path, data):
    doc = copy.deepcopy(learned[1])
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(paths), label="path")
        try:
            doc = _set(doc, path, data.draw(JSON_VALUES, label="value"))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed the way there
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        text = json.dumps(doc)
    except ValueError:
        return
    (folder / "results.json").write_text(text)
    with bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_learn_results(folder)
        except DOCUMENTED:
            return
        try:
            render_learn(folder, compile=False)
        except DOCUMENTED:
            pass


@FUZZ
@given(data=st.data())
def test_tampered_saved_fits_give_a_documented_error(learned, tmp_path, data):
    _, doc = learned
    fit = copy.deepcopy(doc["routes"]["strong_form"]["fit"])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(fit)), label="path")
        try:
            fit = _set(fit, path, data.draw(JSON_VALUES, label="value"))
        except (KeyError, IndexError, TypeError):
            pass
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fit))
    with bounded():
        try:
            loaded = sh.SparseFit.load(path)
        except DOCUMENTED:
            return
    assert all(math.isfinite(c) for c in loaded.coefficients.values())
    assert set(loaded.coefficients) <= set(loaded.library.terms)


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", "nan", "x", "1e999", "-0", " 1 ", "1,5", '"2"', "#"]),
    st.text(alphabet='0123456789.-e ,;\t"#x', max_size=12),
)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    header=st.lists(
        st.sampled_from(["t", "x", "v", "run", "my x", "lambda", "θ", ""]), min_size=1, max_size=5
    ),
    rows=st.lists(st.lists(CELLS, max_size=6), max_size=40),
    sep=st.sampled_from([",", ";", "\t", " "]),
    regular=st.booleans(),
)
def test_random_csv_files_give_a_documented_error_or_trajectories(
    tmp_path, header, rows, sep, regular
):
    if regular:  # mostly well-formed samples, so that the later stages run too
        t = np.arange(len(rows)) * 0.1
        rows = [[f"{ti:.3f}", *r[1:]] for ti, r in zip(t, rows, strict=True)]
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows)
    path = tmp_path / "data.csv"
    path.write_text(text)
    q = next((h for h in header if h not in ("t", "")), "x")
    with bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tr = sh.read_csv(path, t="t", q=q, v="v" if "v" in header and q != "v" else None)
        except (*DOCUMENTED, FileNotFoundError):
            return
    assert np.isfinite(tr.h) and tr.h > 0
    assert all(sh.base.parsing.is_plain_name(n) for n in tr.names)
