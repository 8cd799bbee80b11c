"""Execute a notebook into another file, leaving the committed one stripped.

Usage: ``python tools/run_notebook.py notebooks/01_meet_the_data.ipynb /tmp/01.ipynb``

Prints the wall time. Images the notebook shows are kept in the output file; add
``--png DIR`` to also save them there as PNG files, to look at them.
"""

from __future__ import annotations

import argparse
import base64
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> None:
    """Run the notebook named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--png", type=Path, help="folder to save the notebook's images in")
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args()

    notebook = nbformat.read(args.notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        notebook, timeout=args.timeout, kernel_name="python3",
        resources={"metadata": {"path": str(args.notebook.parent)}},
    ).execute()
    print(f"{args.notebook}: executed in {time.perf_counter() - start:.1f} s")
    nbformat.write(notebook, args.output)
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
        count = 0
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                if png:
                    count += 1
                    target = args.png / f"{args.notebook.stem}_cell{index:02d}_{count}.png"
                    target.write_bytes(base64.b64decode(png))
                    print("picture:", target)


if __name__ == "__main__":
    main()
