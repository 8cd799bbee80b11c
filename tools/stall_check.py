"""Execute a small widget notebook many times with nbclient and count late replies.

A "stall": the kernel has answered (it is idle) but the executor does not notice, and the cell
finishes only when its timeout expires (the poll that times out finds the reply). The book
build then takes one cell timeout longer, without an error. This script makes the pattern
measurable: every run should take a second or two; a run that takes about ``--timeout``
seconds stalled, one that takes 4 to 5 s waited for a late status or kernel-info reply.

Usage: ``python tools/stall_check.py [--runs 150] [--timeout 20] [--no-widget]``. Run it with
another version of a package first on ``PYTHONPATH`` (the kernel inherits it) to compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import nbclient
from nbformat.v4 import new_code_cell, new_notebook

CELLS = [
    "import numpy as np, matplotlib\n"
    "matplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt",
    "plt.imshow(np.random.rand(32, 32)); plt.show()",
    "import ipywidgets as widgets\n"
    "output = widgets.Output()\n"
    "slider = widgets.IntSlider(value=0, min=-180, max=180, step=15, continuous_update=False)\n"
    "def draw(_=None):\n"
    "    with output:\n"
    "        output.clear_output(wait=True)\n"
    "        fig, ax = plt.subplots(figsize=(2, 2))\n"
    "        ax.imshow(np.random.rand(16, 16)); plt.show()\n"
    "slider.observe(draw, names='value')\n"
    "draw()\n"
    "widgets.VBox([slider, output])",
    "x = np.arange(10); x.sum()",
    "plt.plot(x); plt.show()",
]


def cell_timings(notebook) -> str:
    """Seconds from each cell's busy status to its other recorded events (kernel clock)."""
    parts = []
    for number, cell in enumerate(notebook.cells):
        stamps = {key: dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                  for key, value in cell.metadata.get("execution", {}).items()}
        if "iopub.status.busy" in stamps:
            busy = stamps["iopub.status.busy"]
            parts.append(f"cell {number}: " + ", ".join(
                f"{key} +{(value - busy).total_seconds():.1f}" for key, value in stamps.items()))
    return " | ".join(parts)


def run_once(cells: list[str], timeout: int) -> tuple[float, str]:
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    start = time.perf_counter()
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3").execute()
        outcome = "ok"
    except Exception as error:  # a timeout or a dead kernel is a result here, not a crash
        outcome = f"{type(error).__name__}: {str(error).splitlines()[0][:80]}"
    seconds = time.perf_counter() - start
    if seconds > 8:
        outcome += " | " + cell_timings(notebook)
    return seconds, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--timeout", type=int, default=20, help="cell timeout in seconds")
    parser.add_argument("--no-widget", action="store_true", help="leave the widget cell out")
    args = parser.parse_args()
    import ipykernel
    import jupyter_client
    import zmq

    print(f"ipykernel {ipykernel.__version__}, jupyter_client {jupyter_client.__version__}, "
          f"pyzmq {zmq.__version__}, nbclient {nbclient.__version__}", flush=True)
    cells = [c for c in CELLS if not (args.no_widget and "ipywidgets" in c)]
    times = []
    for number in range(args.runs):
        seconds, outcome = run_once(cells, args.timeout)
        times.append(seconds)
        print(f"{number:4d} {seconds:6.2f} s {outcome}", flush=True)
    times.sort()
    stalled = sum(t >= args.timeout for t in times)
    late = sum(3.5 <= t < args.timeout for t in times)
    print(f"median {times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s; "
          f"{stalled} of {len(times)} runs stalled to the timeout, {late} waited 4 to 5 s")


if __name__ == "__main__":
    main()
