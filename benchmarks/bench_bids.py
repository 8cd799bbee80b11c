"""How long `mrishare to-bids` takes on the sample study, next to bare dcm2niix.

Both run as whole processes on the same copy of the DICOM study, in the same run, three
rounds interleaved, the fastest of each kept: bare ``dcm2niix -z y`` (the floor: conversion
only, no mapping, scrubbing or BIDS files) and the full ``mrishare to-bids`` command.
Target: to-bids takes at most 3 times as long.

Run alone: ``python benchmarks/bench_bids.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from _measure import compare, row

TARGET_RATIO = 3.0
ROUNDS = 3


def run() -> list[dict]:
    """Time bare dcm2niix and `mrishare to-bids` on the sample study, interleaved."""
    from mrishare import bids, data

    with tempfile.TemporaryDirectory(prefix="bench_bids_") as tmp:
        source = Path(tmp) / "study"
        shutil.copytree(data.sample_path("dicom_study"), source)
        files = sum(1 for p in source.rglob("*") if p.is_file())
        series = len(bids.find_series(source)[0])
        key = Path(tmp) / "bench.key"
        key.write_text("00" * 32)
        out, dataset = Path(tmp) / "dcm2niix", Path(tmp) / "bids"

        def empty_outputs() -> None:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(dataset, ignore_errors=True)
            out.mkdir()

        best = compare({
            "floor": [bids.dcm2niix_path(), "-z", "y", "-o", out, source],
            "ours": [sys.executable, "-m", "mrishare", "--log-level", "ERROR", "to-bids",
                     source, dataset, "--key-file", key],
        }, ROUNDS, empty_outputs)
    floor, ours = best["floor"], best["ours"]
    reference = "bare dcm2niix -z y on the same study (whole process)"
    return [
        row(f"to-bids, sample study ({files} DICOM files, {series} series), whole process",
            ours["s"], "s", reference, floor["s"], f"<= {TARGET_RATIO:g}x the reference",
            ours["s"] <= TARGET_RATIO * floor["s"]),
        row("to-bids, sample study, peak memory", ours["mb"], "MB", reference, floor["mb"],
            "<= 500 MB", ours["mb"] <= 500),
    ]


if __name__ == "__main__":
    for result in run():
        print(json.dumps(result))
