"""How long `mrishare prepare` takes on the sample study, next to the bare conversion.

Both run as whole processes on the same DICOM study in the same run: `mrishare to-bids`
(the reference: classification, conversion and scrubbing only) and the full
`mrishare prepare --jobs 2` (the same conversion, plus defacing and QC of every anatomical
image, before/after pictures, the report, and the audit with its own face check).
Target: the sample study (2 participants, 3 sessions, 6 images) is prepared in 90 s or less
on 2 cores.

Run alone: ``python benchmarks/bench_prepare.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_S = 90.0
TARGET_MB = 1500.0

# Runs a command and prints its wall time and the peak memory of its largest process.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"s": seconds, "mb": peak, "rc": done.returncode}))
"""


def _measure(command: list[str], ok: tuple[int, ...] = (0,)) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True,
                            text=True, check=True)
    measured = json.loads(result.stdout)
    if measured["rc"] not in ok:
        raise RuntimeError(f"{' '.join(command[2:5])} exited with {measured['rc']}")
    return measured


def run() -> list[dict]:
    """Time `mrishare to-bids` and `mrishare prepare --jobs 2` on the sample study."""
    from mrishare import data

    source = str(data.sample_path("dicom_study"))
    mrishare = [sys.executable, "-m", "mrishare", "--log-level", "ERROR"]
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        key.write_text("00" * 32)
        floor = _measure([*mrishare, "to-bids", source, str(Path(tmp) / "bids"),
                          "--key-file", str(key)])
        ours = _measure([*mrishare, "prepare", source, str(Path(tmp) / "shared"),
                         "--key-file", str(key), "--jobs", "2"])
        rerun = _measure([*mrishare, "prepare", source, str(Path(tmp) / "shared"),
                          "--key-file", str(key), "--jobs", "2", "--no-face-check"])
    return [
        {"what": "prepare --jobs 2, sample study (2 participants, 6 images), whole process",
         "value": round(ours["s"], 2), "unit": "s",
         "reference": "to-bids alone (conversion and scrubbing) on the same study",
         "reference_value": round(floor["s"], 2), "ratio": round(ours["s"] / floor["s"], 1),
         "target": f"<= {TARGET_S:.0f} s", "met": ours["s"] <= TARGET_S},
        {"what": "prepare, re-run on the prepared study (all skipped, audit only)",
         "value": round(rerun["s"], 2), "unit": "s",
         "reference": "prepare, first run", "reference_value": round(ours["s"], 2),
         "ratio": round(rerun["s"] / ours["s"], 2), "target": "<= 0.5x first run",
         "met": rerun["s"] <= 0.5 * ours["s"]},
        {"what": "prepare --jobs 2, peak memory of the largest process", "value":
         round(ours["mb"], 1), "unit": "MB", "reference": "to-bids alone",
         "reference_value": round(floor["mb"], 1), "ratio": round(ours["mb"] / floor["mb"], 1),
         "target": f"<= {TARGET_MB:.0f} MB", "met": ours["mb"] <= TARGET_MB},
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
