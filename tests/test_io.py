"""symhamil.base.files: files are written whole or not at all."""

import json

import numpy as np
import pytest

from symhamil.base.files import atomic_write, write_json, write_npz


def test_writes_exactly_the_path_and_leaves_no_temporary(tmp_path):
    write_npz(tmp_path / "run1", q=np.arange(3.0))  # no ".npz" appended
    write_json(tmp_path / "sub" / "a.json", {"x": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1", "sub"]
    with np.load(tmp_path / "run1") as d:
        np.testing.assert_array_equal(d["q"], [0.0, 1.0, 2.0])
    assert json.loads((tmp_path / "sub" / "a.json").read_text()) == {"x": 1}


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = write_json(tmp_path / "a.json", {"old": True})

    def fail(f):
        f.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(path, fail)
    assert json.loads(path.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
