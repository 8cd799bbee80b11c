"""The executed book build (as `make book` does it), three times in a row; its slowest notebook.

A copy of the book's sources (_config.yml, _toc.yml, book/, notebooks/) in a temporary folder
is built three times in a row, each time as ``make book`` does (the previous build removed,
every notebook executed, warnings as errors), never touching the repository's _build/.
Three in a row, because a build that stalls does not stall every time: a notebook that
takes minutes in one build out of three is caught here, not in CI.

Per-notebook execution times come from the build itself: MyST-NB records each notebook's
run time in the Sphinx environment (``_build/.doctrees/environment.pickle``); the build log's
"Executed notebook in N seconds" lines are the fallback.

Rows:

* each build's wall time, against the same book built with ``execute_notebooks: "off"`` in
  the same run (the Sphinx and theme floor; the ratio shows what executing costs); target
  600 s (a step of ``make test``, which must fit CI's time);
* the slowest notebook of the three builds, against the same notebook's fastest run of the
  three (a ratio far above 1 is a stall, not a slow notebook); target 60 s.

Set MRISHARE_BOOK_ROOT to time another book folder. ``python benchmarks/bench_book.py``
prints its own rows.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("MRISHARE_BOOK_ROOT", Path(__file__).resolve().parent.parent))
SOURCES = ["_config.yml", "_toc.yml", "book", "notebooks"]
BUILDS = 3
MAX_SECONDS = 600.0
MAX_NOTEBOOK_SECONDS = 60.0
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
EXECUTED = re.compile(r"(?P<doc>[^\s:]+\.ipynb)\S*: .*?Executed notebook in (?P<s>[\d.]+) seconds")


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


def build(book: Path) -> tuple[float, bool, str]:
    """Build ``book`` as ``make book`` does; return (wall seconds, succeeded, log)."""
    for stale in ("html", ".doctrees", "jupyter_execute"):
        shutil.rmtree(book / "_build" / stale, ignore_errors=True)
    cmd = [str(JUPYTER_BOOK), "build", str(book), "--all", "-W", "-n", "--keep-going",
           "--path-output", str(book)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=book, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return seconds, done.returncode == 0, done.stdout + done.stderr


def notebook_times(book: Path, log: str) -> dict[str, float]:
    """Seconds each notebook took to execute in the last build of ``book``, by name."""
    times: dict[str, float] = {}
    env = book / "_build" / ".doctrees" / "environment.pickle"
    if env.is_file():
        try:
            with env.open("rb") as handle:
                metadata = getattr(pickle.load(handle), "nb_metadata", {})
            for docname, entry in metadata.items():
                runtime = (entry.get("exec_data") or {}).get("runtime")
                if runtime is not None:
                    times[Path(docname).name] = float(runtime)
        except Exception as error:  # an unreadable environment: fall back to the log
            print(f"bench_book: {env} unreadable ({error}); reading the log", file=sys.stderr)
    if not times:
        for match in EXECUTED.finditer(log):
            times[Path(match["doc"]).stem] = float(match["s"])
    return times


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_book_") as tmp:
        floor, floor_ok, floor_log = build(copy_book(Path(tmp) / "unexecuted", execute=False))
        if not floor_ok:
            raise RuntimeError(f"the unexecuted build failed:\n{floor_log[-4000:]}")
        book = copy_book(Path(tmp) / "executed", execute=True)
        runs: list[dict[str, float]] = []
        for number in range(1, BUILDS + 1):
            seconds, ok, log = build(book)
            times = notebook_times(book, log)
            runs.append(times)
            print(f"build {number}: {seconds:.0f} s; notebooks: " + ", ".join(
                f"{name} {t:.1f} s" for name, t in sorted(times.items())), file=sys.stderr)
            if not ok:
                print(f"build {number} failed:\n{log[-4000:]}", file=sys.stderr)
            slowest = max(times, key=times.__getitem__) if times else "none"
            rows.append({
                "what": f"executed book build {number} of {BUILDS} in a row"
                        f"{'' if ok else ' (FAILED)'}; slowest notebook {slowest}"
                        f"{f' {times[slowest]:.1f} s' if times else ''}",
                "value": seconds, "unit": "s",
                "reference": "same build, notebooks not executed", "reference_value": floor,
                "ratio": seconds / floor, "target": f"<= {MAX_SECONDS:.0f} s",
                "met": ok and seconds <= MAX_SECONDS,
            })
    every = [(t, name, number) for number, times in enumerate(runs, start=1)
             for name, t in times.items()]
    if not every:
        raise RuntimeError("no notebook execution times found in the builds")
    worst, name, number = max(every)
    fastest = min(times[name] for times in runs if name in times)
    counts = {len(times) for times in runs}
    rows.append({
        "what": f"slowest notebook of {BUILDS} builds: {name} (build {number}; "
                f"{max(counts)} notebooks a build)",
        "value": worst, "unit": "s",
        "reference": f"{name}, fastest of the {BUILDS} builds", "reference_value": fastest,
        "ratio": worst / fastest if fastest else float("nan"),
        "target": f"<= {MAX_NOTEBOOK_SECONDS:.0f} s",
        "met": worst <= MAX_NOTEBOOK_SECONDS and len(counts) == 1,
    })
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import table

    print(table([{"topic": "book", **row} for row in run()]))
