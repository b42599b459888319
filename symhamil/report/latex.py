"""LaTeX at the output edge: escaping plain text, and the one safe PDF builder.

Reports are rendered from ``results.json`` files that may come from someone
else, into folders that may come from someone else. :func:`build_pdf` therefore
never compiles in the report's folder: it copies ``report.tex`` and the
figures it includes into a fresh private temporary folder, runs LaTeX there
with no shell escape, no rc files (``latexmk -norc``), reading and writing
only inside that folder, with TeX Live's own inputs searched before the
current folder, and moves the PDF back atomically. A ``latexmkrc``, a
``graphicx.sty`` or a link planted in the report folder is never read, run or
written through.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from ..base.files import read_regular, write_bytes

__all__ = ["build_pdf", "tex_escape"]

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "<": r"$<$",  # OT1 text fonts lack these three
    ">": r"$>$",
    "|": r"$|$",
}
_POWER = re.compile(r"(?<=\w)\^(\d+)")


def tex_escape(text: str) -> str:
    """Plain text made safe for LaTeX; ``l^2`` prints as a superscript.

    Every character TeX treats specially is escaped, and control characters
    (which TeX could read as commands after ``^^`` or as line ends) are dropped.

    >>> tex_escape("50% of x_1^2 {ok}")
    '50\\\\% of x\\\\_1\\\\textsuperscript{2} \\\\{ok\\\\}'
    """
    text = "".join(c if c.isprintable() or c in "\n\t" else "" for c in str(text))
    parts = _POWER.split(text)  # [text, power, text, power, ...]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"\\textsuperscript{{{part}}}")
        else:
            out.append("".join(_TEX_SPECIAL.get(c, c) for c in part))
    return "".join(out)


#: Figures a report may include: figures/NAME.pdf with a plain NAME.
_INCLUDE = re.compile(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]*)\}")
_FIGURE = re.compile(r"figures/[A-Za-z0-9_.+-]+\.(?:pdf|png)")

#: The largest report.tex and figure build_pdf copies (bytes).
MAX_FILE = 200 * 2**20

#: LaTeX's wall-time limit per run (seconds).
TIMEOUT = 600


@cache
def _texinputs() -> str | None:
    """TeX Live's input path with the current folder moved to the end.

    TeX looks in the current folder first by default, so a ``graphicx.sty``
    there would win over TeX Live's; the private build folder holds only our
    files, and TeX Live's files are searched first all the same.
    """
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        return None
    try:
        proc = subprocess.run(
            [kpsewhich, "-progname=pdflatex", "-var-value=TEXINPUTS"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    parts = [p for p in proc.stdout.strip().split(os.pathsep) if p and p not in (".", "./")]
    return os.pathsep.join([*parts, "."]) if parts else None


def _engine() -> list[list[str]] | None:
    opts = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
    if shutil.which("latexmk"):
        # -norc: no latexmkrc is read, not even the system's or the user's (a
        # latexmkrc is Perl). -pdflatex= passes the options on to every run.
        engine = "pdflatex " + " ".join(opts) + " %O %S"
        return [["latexmk", "-norc", "-pdf", "-no-shell-escape", f"-pdflatex={engine}"]]
    if shutil.which("pdflatex"):
        return [["pdflatex", *opts]] * 2
    return None


def build_pdf(tex: str | os.PathLike) -> tuple[Path | None, str]:
    """Compile ``tex`` to a PDF beside it, safely. Returns (pdf or None, message).

    The folder of ``tex`` is only read from: ``tex`` and the ``figures/*.pdf``
    it includes are copied (regular files only, no links) into a new private
    temporary folder, LaTeX runs there, and the PDF is moved back atomically.
    Without a LaTeX engine, or when LaTeX fails, the PDF is None and the
    message says why and how to build it by hand; LaTeX's log then goes to
    ``report.log`` beside ``tex``.
    """
    tex = Path(tex)
    how = f"cd {tex.parent} && latexmk -pdf {tex.name}"
    commands = _engine()
    if commands is None:
        return None, (
            f"wrote {tex}; no LaTeX engine found, so no PDF. Install TeX Live "
            f"(Debian: apt-get install texlive-latex-base latexmk), then run: {how}"
        )
    source = read_regular(tex, MAX_FILE)
    figures = sorted(set(_INCLUDE.findall(source.decode("utf-8", "replace"))))
    bad = [f for f in figures if not _FIGURE.fullmatch(f)]
    if bad:
        raise ValueError(f"{tex}: includes {bad[0]!r}; a report includes only figures/NAME.pdf.")
    # No shell escape; TeX reads and writes only inside the build folder
    # ("p": paranoid, no absolute paths, no "..", no dot files).
    env = os.environ | {"openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    texinputs = _texinputs()
    if texinputs is not None:
        env["TEXINPUTS"] = texinputs
    with tempfile.TemporaryDirectory(prefix="symhamil-latex-") as tmp:
        work = Path(tmp)
        name = "report.tex"
        (work / name).write_bytes(source)
        (work / "figures").mkdir()
        for fig in figures:
            (work / fig).write_bytes(read_regular(tex.parent / fig, MAX_FILE))
        for cmd in commands:
            try:
                proc = subprocess.run(
                    [*cmd, name], cwd=work, capture_output=True, text=True, timeout=TIMEOUT,
                    env=env, stdin=subprocess.DEVNULL,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                return None, f"wrote {tex}; LaTeX did not finish within {TIMEOUT} s."
            if proc.returncode != 0:
                log = work / "report.log"
                if log.is_file():
                    write_bytes(tex.with_suffix(".log"), log.read_bytes())
                tail = "\n".join(proc.stdout.splitlines()[-15:])
                return None, f"wrote {tex}; LaTeX failed ({cmd[0]}):\n{tail}"
        pdf = write_bytes(tex.with_suffix(".pdf"), (work / "report.pdf").read_bytes())
    # A log of an earlier failed build is of no use once the PDF is there.
    log = tex.with_suffix(".log")
    if log.is_file() and not log.is_symlink():
        log.unlink()
    return pdf, f"wrote {tex} and {pdf}"
