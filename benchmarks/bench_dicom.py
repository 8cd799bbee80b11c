"""Speed of DICOM de-identification: mrishare against the pydicom floor and its peers.

On the sample study copied twice (the second copy with other UIDs, so every file is its own
instance; the table gives the count), each tool runs as a whole process, as a user runs
it, start-up and imports included, all in one run:

* the floor: a Python process in which pydicom reads and writes each file, changing nothing;
* mrishare: ``python -m mrishare deidentify-dicom SRC DST --key-file KEY`` (full profile:
  type-aware actions, every UID, staging, final names, report and mapping);
* dicognito 0.19: ``Anonymizer.anonymize`` between the same read and write;
* dicom-anonymizer 2.1: ``anonymize_dicom_file``.

Each is timed ROUNDS times, interleaved, and the fastest kept (the machine is shared);
before each run the source files are read once, so that every tool finds them in the
disk's cache (none pays for reading them from the disk for the others). Inputs and outputs
live in a memory-backed folder (``/dev/shm``) where the machine has one: the ratio then
compares the work of the tools, not the disk's moods (on a disk, both pay the same
writes on top, which lowers the ratio).
Targets: mrishare at most 1.5 times the floor, and faster than dicognito.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import pydicom
from _measure import compare, python

from mrishare import data, dicom
from mrishare.keys import Key

ROUNDS = 3

_LOOP = """
import sys, pathlib, warnings
warnings.simplefilter("ignore")
import pydicom
{setup}
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for i, path in enumerate(sorted(p for p in src.rglob("*") if p.is_file())):
{body}
"""

FLOOR = _LOOP.format(setup="", body="    pydicom.dcmread(path).save_as(out / f'{i}.dcm')")
DICOGNITO = _LOOP.format(
    setup="from dicognito.anonymizer import Anonymizer\nanonymizer = Anonymizer(seed='bench')",
    body="    ds = pydicom.dcmread(path)\n    anonymizer.anonymize(ds)\n"
         "    ds.save_as(out / f'{i}.dcm')")
DICOM_ANONYMIZER = _LOOP.format(
    setup="from dicomanonymizer import anonymize_dicom_file",
    body="    anonymize_dicom_file(str(path), str(out / f'{i}.dcm'))")


def make_input(root: Path) -> list[Path]:
    """Copy the sample study twice (the copy with new UIDs); return the DICOM files."""
    study = data.sample_path("dicom_study", verify=False)
    first = root / "a"
    shutil.copytree(study, first)
    for path in sorted(first.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        if dicom.leave_out_reason(ds):
            path.unlink()
            continue
        for keyword in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
            ds[keyword].value = ds[keyword].value + ".2"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        target = root / "b" / path.relative_to(first)
        target.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(target)
    return sorted(root.rglob("*.dcm"))


def commands(src: Path, out: Path, key: Path) -> dict[str, list[str]]:
    """The command of each tool, reading ``src`` and writing into ``out``."""
    return {
        "pydicom read+write (floor)": [*python(FLOOR), src, out],
        "mrishare": [sys.executable, "-m", "mrishare", "deidentify-dicom", src, out,
                     "--key-file", key],
        "dicognito 0.19": [*python(DICOGNITO), src, out],
        "dicom-anonymizer 2.1": [*python(DICOM_ANONYMIZER), src, out],
    }


def measure(rounds: int = ROUNDS) -> tuple[dict[str, float], int]:
    """Milliseconds per file for each tool (whole process), best of ``rounds``; file count."""
    memory = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=memory) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = Path(tmp)
        files = make_input(root / "src")
        key = Key.generate().save(root / "bench.key")
        out = root / "out"

        def fresh_output_and_source_in_cache() -> None:
            shutil.rmtree(out, ignore_errors=True)
            for path in files:
                path.read_bytes()

        best = compare(commands(root / "src", out, key), rounds,
                       fresh_output_and_source_in_cache)
    return {name: m["s"] * 1000 / len(files) for name, m in best.items()}, len(files)


def run() -> list[dict]:
    """Rows of the benchmark table (see benchmarks/run.py)."""
    ms, n = measure()
    floor_name = "pydicom read+write (floor)"
    rows = []

    def row(what, value, reference, target, met):
        ref = ms[reference]
        rows.append({"what": what, "value": round(value, 2), "unit": "ms/file",
                     "reference": reference, "reference_value": round(ref, 2),
                     "ratio": round(value / ref, 2), "target": target, "met": bool(met)})

    row(f"{floor_name}, {n} files, whole process", ms[floor_name], floor_name, "the floor",
        True)
    row("mrishare deidentify-dicom, whole process", ms["mrishare"], floor_name,
        "<= 1.5x floor", ms["mrishare"] <= 1.5 * ms[floor_name])
    row("mrishare deidentify-dicom, whole process", ms["mrishare"], "dicognito 0.19",
        "< 1x dicognito", ms["mrishare"] < ms["dicognito 0.19"])
    for peer in ("dicognito 0.19", "dicom-anonymizer 2.1"):
        row(peer, ms[peer], floor_name, "none (a peer)", True)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for r in run():
        print(f"{r['what']:<48} {r['value']:>8.2f} {r['unit']}  {r['ratio']:>5.2f}x "
              f"{r['reference']:<28} target {r['target']:<15} {'met' if r['met'] else 'MISSED'}")
