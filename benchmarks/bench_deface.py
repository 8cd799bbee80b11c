"""Defacing speed and memory, whole process, against the nibabel floor, on two heads.

Rows, measured in one run on simulated T1w heads (``mrishare.lessons.heads``): a 1 mm
head of 256 x 256 x 176 voxels and a 0.8 mm head, each:

* floor: a process that loads the scan with nibabel and saves it (nothing less is possible);
* ``mrishare deface --no-face-detector``: load, register, zero the face, QC with an
  independent registration, save (target <= 2x the floor, <= 300 MB);
* ``mrishare deface``: the same with the face detector on renders before and after, and
  with ``--qc-png`` too: the seconds they add (target <= 1.5 s);
* quickshear (reported).

Each is a fresh process, run three times, the five commands in turn (interleaved); the
time is the fastest run, the memory the largest peak resident set of the three.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _measure import compare, python, row

RUNS = 3

FLOOR = """
import nibabel as nib
img = nib.load({src!r})
nib.save(img, {dst!r})
"""


def _deface(src: Path, dst: Path, *flags: str) -> list[str]:
    """The ``mrishare deface`` command."""
    return [sys.executable, "-m", "mrishare", "--log-level", "WARNING", "deface", str(src),
            str(dst), *flags]


def _head_rows(folder: Path, label: str, zooms: tuple[float, float, float]) -> list[dict]:
    """Measure one head and return its rows."""
    import nibabel as nib

    from mrishare.lessons import heads

    src = folder / f"{label}.nii.gz"
    head = heads.make_head("standard", seed=1001, zooms=zooms)
    nib.save(head.image, src)
    shape = "x".join(map(str, head.image.shape))
    del head
    out = folder / "out.nii.gz"
    best = compare({
        "floor": python(FLOOR.format(src=str(src), dst=str(out))),
        "fast": _deface(src, out, "--no-face-detector"),
        "full": _deface(src, out),
        "png": _deface(src, out, "--qc-png", str(folder / "qc.png")),
        "quick": _deface(src, out, "--no-face-detector", "--method", "quickshear"),
    }, RUNS, lambda: out.unlink(missing_ok=True))
    floor, fast, full, png, quick = (best[k] for k in ("floor", "fast", "full", "png", "quick"))
    name = f"{label} T1w ({shape})"
    added, added_png = full["s"] - fast["s"], png["s"] - fast["s"]
    return [
        row(f"load + save with nibabel (floor), {name}", floor["s"], "s", "floor",
            floor["s"], "= floor", True),
        row(f"floor peak memory, {name}", floor["mb"], "MB", "floor", floor["mb"], "-", True),
        row(f"deface --no-face-detector, {name}", fast["s"], "s", "floor", floor["s"],
            "<= 2x floor", fast["s"] <= 2 * floor["s"]),
        row(f"deface --no-face-detector, peak memory, {name}", fast["mb"], "MB", "floor",
            floor["mb"], "<= 300 MB", fast["mb"] <= 300),
        row(f"deface (with face detector), {name}", full["s"], "s", "floor", floor["s"],
            "(reported)", True),
        row(f"deface (with face detector), peak memory, {name}", full["mb"], "MB", "floor",
            floor["mb"], "<= 300 MB", full["mb"] <= 300),
        row(f"face detector adds, {name}", added, "s", "deface --no-face-detector",
            fast["s"], "<= 1.5 s", added <= 1.5),
        row(f"face detector + --qc-png add, {name}", added_png, "s",
            "deface --no-face-detector", fast["s"], "<= 1.5 s", added_png <= 1.5),
        row(f"deface --qc-png, peak memory, {name}", png["mb"], "MB", "floor", floor["mb"],
            "<= 300 MB", png["mb"] <= 300),
        row(f"deface --method quickshear --no-face-detector, {name}", quick["s"], "s",
            "floor", floor["s"], "(reported)", True),
    ]


def run() -> list[dict]:
    """Measure and return the rows (see the module's description)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return (_head_rows(folder, "1 mm", (1.0, 1.0, 1.0))
                + _head_rows(folder, "0.8 mm", (0.8, 0.8, 0.8)))


if __name__ == "__main__":
    for line in run():
        print(f"{line['what']:<64} {line['value']:>8.2f} {line['unit']:<3} "
              f"x{line['ratio']:<5} {line['target']:<12} {'met' if line['met'] else 'MISSED'}")
