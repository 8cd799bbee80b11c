"""How long `mrishare to-bids` takes on the sample study, next to bare dcm2niix.

Both run as whole processes on the same DICOM study in the same run: bare dcm2niix (the
floor: conversion only, no classification, scrubbing or BIDS files) and the full
``mrishare to-bids`` command. Target: the sample study converts in 30 s or less.

Run alone: ``python benchmarks/bench_bids.py``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPEATS = 3
TARGET_S = 30.0

# Runs a command and prints its wall time and the peak memory of that command alone.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"s": seconds, "mb": peak, "rc": done.returncode}))
"""


def _measure(command: list[str]) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True,
                            text=True, check=True)
    measured = json.loads(result.stdout)
    if measured["rc"] not in (0,):
        raise RuntimeError(f"{command[0]} exited with {measured['rc']}")
    return measured


def run() -> list[dict]:
    """Time bare dcm2niix and `mrishare to-bids` on the sample study."""
    from mrishare import bids, data

    source = data.sample_path("dicom_study")
    ours, floor = [], []
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        key.write_text("00" * 32)
        for repeat in range(REPEATS):
            out = Path(tmp) / f"dcm2niix{repeat}"
            out.mkdir()
            floor.append(_measure([bids.dcm2niix_path(), "-z", "y", "-o", str(out),
                                   str(source)]))
            ours.append(_measure([sys.executable, "-m", "mrishare", "--log-level", "ERROR",
                                  "to-bids", str(source), str(Path(tmp) / f"bids{repeat}"),
                                  "--key-file", str(key)]))
    seconds = statistics.median(m["s"] for m in ours)
    floor_s = statistics.median(m["s"] for m in floor)
    peak = max(m["mb"] for m in ours)
    floor_mb = max(m["mb"] for m in floor)
    return [
        {"what": "to-bids, sample study (447 DICOM files, 6 series), whole process",
         "value": round(seconds, 3), "unit": "s",
         "reference": "bare dcm2niix -z y on the same study", "reference_value":
         round(floor_s, 3), "ratio": round(seconds / floor_s, 1),
         "target": f"<= {TARGET_S:.0f} s", "met": seconds <= TARGET_S},
        {"what": "to-bids, sample study, peak memory", "value": round(peak, 1), "unit": "MB",
         "reference": "bare dcm2niix -z y on the same study", "reference_value":
         round(floor_mb, 1), "ratio": round(peak / floor_mb, 1),
         "target": "<= 500 MB", "met": peak <= 500},
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
