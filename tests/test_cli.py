"""symhamil.cli: the commands and their messages."""

import pytest

import symhamil as sh
from symhamil.cli import main


def test_cli_simulate_writes_loadable_trajectories(tmp_path, capsys):
    out = tmp_path / "c.npz"
    assert main(["simulate", "coulomb", "-R", "3", "-N", "50", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "relative energy error" in printed
    tr = sh.Trajectories.load(out)
    assert tr.q.shape == (3, 51, 6)
    assert tr.names == ("q1x", "q1y", "q1z", "q2x", "q2y", "q2z")


def test_cli_catalog(capsys):
    assert main(["catalog"]) == 0
    assert "double-well" in capsys.readouterr().out


def test_cli_bad_arguments_give_clear_messages(capsys):
    assert main(["simulate", "double-well", "--h", "-1", "--out", "/dev/null"]) == 2
    assert "h must be finite and > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["simulate", "no-such-system"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
