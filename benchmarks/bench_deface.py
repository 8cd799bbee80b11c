"""Defacing speed and memory on a 1 mm T1w, whole process, against the nibabel floor.

Rows, measured in one run on a simulated 1 mm T1w (``mrishare.lessons.simulate``):

* floor: a process that loads the scan with nibabel and saves it (nothing less is possible);
* template defacing (pydeface's method): load, register, zero the face, save;
* quickshear: the same with quickshear's cut.

Each is a fresh Python process; the time is the median of three runs, the memory the
child's peak resident set. Targets: template defacing <= 2x the floor and <= 300 MB.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _measure import measure, python, row

RUNS = 3

FLOOR = """
import nibabel as nib
img = nib.load({src!r})
nib.save(img, {dst!r})
"""

DEFACE = """
from mrishare import deface, readers
result = deface.deface({src!r}, {method!r})
readers.save_nifti(result.image, {dst!r})
"""


def run() -> list[dict]:
    """Measure and return the rows (see the module's description)."""
    import nibabel as nib

    from mrishare.lessons import simulate

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "T1w.nii.gz"
        scan = simulate.simulate_scan(seed=1001, zooms=(1.0, 1.0, 1.0), truth=False)
        nib.save(scan.image, src)
        del scan
        floor = measure(python(FLOOR.format(src=str(src), dst=str(folder / "f.nii.gz"))),
                        repeats=RUNS)
        rows = [
            row("load + save with nibabel (floor), 1 mm T1w", floor["s"], "s",
                "floor", floor["s"], "= floor", True),
            row("floor peak memory", floor["mb"], "MB", "floor", floor["mb"], "-", True),
        ]
        for method, targeted in (("template", True), ("quickshear", False)):
            code = DEFACE.format(src=str(src), dst=str(folder / f"{method}.nii.gz"),
                                 method=method)
            ours = measure(python(code), repeats=RUNS)
            rows.append(row(f"deface --method {method}, whole process", ours["s"], "s",
                            "floor", floor["s"], "<= 2x floor" if targeted else "(reported)",
                            ours["s"] <= 2 * floor["s"] or not targeted))
            rows.append(row(f"deface --method {method}, peak memory", ours["mb"], "MB",
                            "floor", floor["mb"], "<= 300 MB" if targeted else "(reported)",
                            ours["mb"] <= 300 or not targeted))
    return rows


if __name__ == "__main__":
    for line in run():
        print(f"{line['what']:<48} {line['value']:>8.2f} {line['unit']:<3} "
              f"x{line['ratio']:<5} {line['target']:<12} {'met' if line['met'] else 'MISSED'}")
