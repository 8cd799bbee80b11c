"""How long `mrishare prepare` takes on the sample study, next to the bare conversion.

Both run as whole processes on the same DICOM study in the same run: `mrishare to-bids`
(the reference: classification, conversion and scrubbing only) and the full
`mrishare prepare --jobs 2` (the same conversion, plus defacing and QC of every anatomical
image, before/after pictures, the report, and the audit with its own face check).
Target: the sample study (2 participants, 3 sessions, every series) is prepared in 90 s or less
on 2 cores.

Run alone: ``python benchmarks/bench_prepare.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from _measure import measure, row

TARGET_S = 90.0
TARGET_MB = 1500.0

def run() -> list[dict]:
    """Time `mrishare to-bids` and `mrishare prepare --jobs 2` on the sample study."""
    from mrishare import data

    source = str(data.sample_path("dicom_study"))
    mrishare = [sys.executable, "-m", "mrishare", "--log-level", "ERROR"]
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        key.write_text("00" * 32)
        floor = measure([*mrishare, "to-bids", source, str(Path(tmp) / "bids"),
                          "--key-file", str(key)])
        ours = measure([*mrishare, "prepare", source, str(Path(tmp) / "shared"),
                         "--key-file", str(key), "--jobs", "2"])
        rerun = measure([*mrishare, "prepare", source, str(Path(tmp) / "shared"),
                          "--key-file", str(key), "--jobs", "2", "--no-face-check"])
        images = len(list((Path(tmp) / "shared").rglob("*.nii.gz")))
    return [
        row(f"prepare --jobs 2, sample study (2 participants, {images} images), whole process",
            ours["s"], "s", "to-bids alone (conversion and scrubbing) on the same study",
            floor["s"], f"<= {TARGET_S:.0f} s", ours["s"] <= TARGET_S),
        row("prepare, re-run on the prepared study (all skipped, audit only)", rerun["s"], "s",
            "prepare, first run", ours["s"], "<= 0.5x first run", rerun["s"] <= 0.5 * ours["s"]),
        row("prepare --jobs 2, peak memory of the largest process", ours["mb"], "MB",
            "to-bids alone", floor["mb"], f"<= {TARGET_MB:.0f} MB", ours["mb"] <= TARGET_MB),
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
