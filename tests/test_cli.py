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
    # Refused by the parser, before anything is printed or simulated.
    for bad in (["--h", "-1"], ["--h", "nan"], ["--drop-above", "0"]):
        with pytest.raises(SystemExit) as info:
            main(["simulate", "double-well", *bad, "--out", "/dev/null"])
        assert info.value.code == 2
        captured = capsys.readouterr()
        assert "must be a finite number > 0" in captured.err and captured.out == ""
    assert main(["learn", "no-such-file.csv"]) == 1
    assert "no-such-file.csv: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["simulate", "no-such-system"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
