"""Defacing speed and memory on a 1 mm T1w, whole process, against the nibabel floor.

Rows, measured in one run on a simulated 1 mm T1w (``mrishare.simulate``):

* floor: a process that loads the scan with nibabel and saves it (nothing less is possible);
* template defacing (pydeface's method): load, register, zero the face, save;
* quickshear: the same with quickshear's cut.

Each is a fresh Python process; the time is the median of three runs, the memory the
child's peak resident set. Targets: template defacing <= 2x the floor and <= 300 MB.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 3

_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run([sys.executable, "-c", sys.argv[1]], check=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"s": seconds, "MB": peak}))
"""

FLOOR = """
import nibabel as nib
img = nib.load({src!r})
nib.save(img, {dst!r})
"""

DEFACE = """
from mrishare import deface
result = deface.deface({src!r}, {method!r})
deface.save_image(result.image, {dst!r})
"""


def _measure(code: str) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", _WRAPPER, code], check=True,
                             capture_output=True, text=True).stdout
        found = json.loads(out.strip().splitlines()[-1])
        times.append(found["s"])
        peaks.append(found["MB"])
    return statistics.median(times), max(peaks)


def _row(what, value, unit, reference, reference_value, target, limit):
    ratio = value / reference_value if reference_value else float("nan")
    return {"what": what, "value": round(value, 3), "unit": unit, "reference": reference,
            "reference_value": round(reference_value, 3), "ratio": round(ratio, 2),
            "target": target, "met": bool(ratio <= limit if unit == "s" else value <= limit)}


def run() -> list[dict]:
    """Measure and return the rows (see the module's description)."""
    import nibabel as nib

    from mrishare import simulate

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "T1w.nii.gz"
        scan = simulate.simulate_scan(seed=1001, zooms=(1.0, 1.0, 1.0), truth=False)
        nib.save(scan.image, src)
        del scan
        floor_s, floor_mb = _measure(FLOOR.format(src=str(src), dst=str(folder / "f.nii.gz")))
        rows = [
            _row("load + save with nibabel (floor), 1 mm T1w", floor_s, "s",
                 "floor", floor_s, "= floor", float("inf")),
            _row("floor peak memory", floor_mb, "MB", "floor", floor_mb, "-", float("inf")),
        ]
        for method, target in (("template", 2.0), ("quickshear", float("inf"))):
            code = DEFACE.format(src=str(src), dst=str(folder / f"{method}.nii.gz"),
                                 method=method)
            seconds, peak = _measure(code)
            label = "<= 2x floor" if target == 2.0 else "(reported)"
            rows.append(_row(f"deface --method {method}, whole process", seconds, "s",
                             "floor", floor_s, label, target))
            rows.append(_row(f"deface --method {method}, peak memory", peak, "MB",
                             "floor", floor_mb, "<= 300 MB" if target == 2.0 else "(reported)",
                             300.0 if target == 2.0 else float("inf")))
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['what']:<48} {row['value']:>8.2f} {row['unit']:<3} "
              f"x{row['ratio']:<5} {row['target']:<12} {'met' if row['met'] else 'MISSED'}")
