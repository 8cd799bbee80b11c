"""How long `mrishare to-bids` takes on the sample study, next to bare dcm2niix.

Both run as whole processes on the same DICOM study in the same run: bare dcm2niix (the
floor: conversion only, no classification, scrubbing or BIDS files) and the full
``mrishare to-bids`` command. Target: the sample study converts in 30 s or less.

Run alone: ``python benchmarks/bench_bids.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

from _measure import measure, row

REPEATS = 3
TARGET_S = 30.0

def run() -> list[dict]:
    """Time bare dcm2niix and `mrishare to-bids` on the sample study."""
    from mrishare import bids, data

    source = data.sample_path("dicom_study")
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        key.write_text("00" * 32)
        out = Path(tmp) / "dcm2niix"
        out.mkdir()
        # -w 1: overwrite, so the repeats convert into the same folder.
        floor = measure([bids.dcm2niix_path(), "-z", "y", "-w", "1", "-o", out, source],
                        repeats=REPEATS)
        ours = [measure([sys.executable, "-m", "mrishare", "--log-level", "ERROR", "to-bids",
                         source, Path(tmp) / f"bids{repeat}", "--key-file", key])
                for repeat in range(REPEATS)]
    seconds = statistics.median(m["s"] for m in ours)
    peak = max(m["mb"] for m in ours)
    reference = "bare dcm2niix -z y on the same study"
    return [
        row("to-bids, sample study (447 DICOM files, 6 series), whole process", seconds, "s",
            reference, floor["s"], f"<= {TARGET_S:.0f} s", seconds <= TARGET_S),
        row("to-bids, sample study, peak memory", peak, "MB", reference, floor["mb"],
            "<= 500 MB", peak <= 500),
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
