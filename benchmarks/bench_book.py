"""The clean, executed book build (what ``make book`` does) against the same build unexecuted.

Both builds run from fresh copies of the book's sources (_config.yml, _toc.yml, book/,
notebooks/) in a temporary folder, with the flags of ``make book``, never touching the
repository's _build/. The reference is the same book with ``execute_notebooks: "off"``,
built in the same run: the Sphinx and theme floor, so the ratio shows what executing the
notebooks costs. Target: the executed build within 600 s on this machine (it is one step of
``make test``, which must fit CI's time).

Set MRISHARE_BOOK_ROOT to time another book folder. ``python benchmarks/bench_book.py``
prints its own rows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("MRISHARE_BOOK_ROOT", Path(__file__).resolve().parent.parent))
SOURCES = ["_config.yml", "_toc.yml", "book", "notebooks"]
MAX_SECONDS = 600.0
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def copy_book(dest: Path, execute: bool) -> Path:
    """Copy the book sources to ``dest``; without ``execute`` notebooks are not run."""
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src,
                dest / name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "_build"),
            )
        elif src.is_file():
            shutil.copy2(src, dest / name)
    if not execute:
        config = dest / "_config.yml"
        text, count = re.subn(
            r"(?m)^(\s*execute_notebooks:\s*).*$", r'\1"off"', config.read_text(encoding="utf-8")
        )
        if count != 1:
            raise ValueError(f"{ROOT / '_config.yml'}: expected one execute_notebooks line")
        config.write_text(text, encoding="utf-8")
    return dest


def build_seconds(book: Path) -> float:
    """Wall time of one clean ``jupyter-book build`` with the flags of ``make book``."""
    cmd = [
        str(JUPYTER_BOOK),
        "build",
        str(book),
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(book),
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=book, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"the book build failed in {book}:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
        )
    return seconds


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench_book_") as tmp:
        floor = build_seconds(copy_book(Path(tmp) / "unexecuted", execute=False))
        executed = build_seconds(copy_book(Path(tmp) / "executed", execute=True))
    return [
        {
            "what": "clean executed book build",
            "value": executed,
            "unit": "s",
            "reference": "same build, notebooks not executed",
            "reference_value": floor,
            "ratio": executed / floor,
            "target": f"<= {MAX_SECONDS:.0f} s",
            "met": executed <= MAX_SECONDS,
        }
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import table

    print(table([{"topic": "book", **row} for row in run()]))
