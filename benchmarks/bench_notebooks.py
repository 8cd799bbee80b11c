"""Each notebook executed alone, as a Binder student runs it: wall time and peak memory.

Every notebooks/NN_*.ipynb is executed in its own child process with nbclient (a fresh
kernel, working folder notebooks/, like the book build). The child's whole process tree is
measured: the driver, the kernel and whatever the kernel starts (dcm2niix, ...). Peak memory
is the larger of (a) the summed RSS of the tree sampled every 20 ms and (b) the kernel
tree's own peak from getrusage(RUSAGE_CHILDREN) in a fresh wrapper process, so neither a
short spike nor concurrent processes go unseen.

Targets: <= 60 s and <= 1.5 GB (1536 MB) each, inside Binder's 2 GB. The reference is an
empty notebook (one ``pass`` cell) run the same way in the same run: the cost of starting a
kernel, which no notebook can go below.

``python benchmarks/bench_notebooks.py [NN_name.ipynb ...]`` prints its own rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MAX_SECONDS = 60.0
MAX_MB = 1536.0

# Run in the child: execute one notebook with nbclient in its own folder, outputs discarded.
EXECUTE = """
import sys, nbformat, nbclient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
"""

# A fresh wrapper per measurement, so RUSAGE_CHILDREN holds only this child's tree.
WRAP = """
import json, resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"returncode": code, "children_peak_mb": peak_kb / 1024}))
"""


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd`` in a wrapper child; return (wall seconds, peak MB of its process tree)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", WRAP, *cmd],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process, sampled = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            sampled = max(sampled, _tree_rss(process))
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    out, err = child.communicate()
    report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"returncode": -1}
    if child.returncode != 0 or report["returncode"] != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[-2:]))} failed:\n{err[-3000:]}")
    return seconds, max(sampled / 2**20, report["children_peak_mb"])


def run_notebook(path: Path) -> tuple[float, float]:
    return measure([sys.executable, "-c", EXECUTE, str(path), str(path.parent)], cwd=path.parent)


def empty_notebook(folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("pass")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def run(names: list[str] | None = None) -> list[dict]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if names:
        paths = [p for p in paths if p.name in names or p.stem in names]
    with tempfile.TemporaryDirectory() as tmp:
        ref_s, ref_mb = run_notebook(empty_notebook(Path(tmp)))
    rows = []
    for path in paths:
        try:
            seconds, mb = run_notebook(path)
        except RuntimeError as error:  # a failing notebook is a row that misses its target
            print(f"{path.name} did not execute:\n{error}", file=sys.stderr)
            seconds = mb = float("nan")
        failed = " (did not execute)" if seconds != seconds else ""
        rows.append(
            {
                "what": f"{path.stem} wall time{failed}",
                "value": seconds,
                "unit": "s",
                "reference": "empty notebook",
                "reference_value": ref_s,
                "ratio": seconds / ref_s,
                "target": f"<= {MAX_SECONDS:.0f} s",
                "met": seconds <= MAX_SECONDS,
            }
        )
        rows.append(
            {
                "what": f"{path.stem} peak memory{failed}",
                "value": mb,
                "unit": "MB",
                "reference": "empty notebook",
                "reference_value": ref_mb,
                "ratio": mb / ref_mb,
                "target": f"<= {MAX_MB:.0f} MB",
                "met": mb <= MAX_MB,
            }
        )
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import table

    print(table([{"topic": "notebooks", **row} for row in run(sys.argv[1:] or None)]))
