"""Speed of DICOM de-identification: mrishare against the pydicom floor and its peers.

On the sample study copied twice (the second copy with other UIDs, so every file is its own
instance: 892 files), one process, all in one run:

* the floor: pydicom reads and writes each file, changing nothing;
* mrishare: ``deidentify_folder`` (table, keyed UIDs, staging and final names included);
* dicognito 0.19: ``Anonymizer.anonymize`` between the same read and write;
* dicom-anonymizer 2.1: ``anonymize_dicom_file``.

Each is timed twice, interleaved, and the faster time kept (the machine is shared).
Targets: mrishare at most 1.5 times the floor, and faster than dicognito.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pydicom

from mrishare import data, dicom
from mrishare.keys import Key

ROUNDS = 2


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


def floor(files: list[Path], src: Path, out: Path) -> None:
    for i, path in enumerate(files):
        pydicom.dcmread(path).save_as(out / f"{i}.dcm")


def with_mrishare(files: list[Path], src: Path, out: Path) -> None:
    dicom.deidentify_folder(src, out, Key(bytes(32)), jobs=1, progress=False)


def with_dicognito(files: list[Path], src: Path, out: Path) -> None:
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer(seed="bench")
    for i, path in enumerate(files):
        ds = pydicom.dcmread(path)
        anonymizer.anonymize(ds)
        ds.save_as(out / f"{i}.dcm")


def with_dicom_anonymizer(files: list[Path], src: Path, out: Path) -> None:
    from dicomanonymizer import anonymize_dicom_file

    for i, path in enumerate(files):
        anonymize_dicom_file(str(path), str(out / f"{i}.dcm"))


TOOLS: dict[str, Callable[[list[Path], Path, Path], None]] = {
    "pydicom read+write (floor)": floor,
    "mrishare": with_mrishare,
    "dicognito 0.19": with_dicognito,
    "dicom-anonymizer 2.1": with_dicom_anonymizer,
}


def measure() -> tuple[dict[str, float], int]:
    """Milliseconds per file for each tool, best of ROUNDS; and the number of files."""
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = Path(tmp)
        files = make_input(root / "src")
        warm = root / "warm"
        warm.mkdir()
        few = [Path(shutil.copy(p, warm / f"{i}.dcm")) for i, p in enumerate(files[:5])]
        for tool in TOOLS.values():  # warm up: imports and tables
            out = root / "warm_out"
            out.mkdir()
            tool(few, warm, out)
            shutil.rmtree(out)
        for _ in range(ROUNDS):
            for name, tool in TOOLS.items():
                out = root / "out"
                out.mkdir()
                start = time.perf_counter()
                tool(files, root / "src", out)
                elapsed = time.perf_counter() - start
                shutil.rmtree(out)
                best[name] = min(best.get(name, float("inf")), elapsed * 1000 / len(files))
    return best, len(files)


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

    row(f"{floor_name}, {n} files", ms[floor_name], floor_name, "the floor", True)
    row("mrishare deidentify_folder", ms["mrishare"], floor_name, "<= 1.5x floor",
        ms["mrishare"] <= 1.5 * ms[floor_name])
    row("mrishare deidentify_folder", ms["mrishare"], "dicognito 0.19", "< 1x dicognito",
        ms["mrishare"] < ms["dicognito 0.19"])
    for peer in ("dicognito 0.19", "dicom-anonymizer 2.1"):
        row(peer, ms[peer], floor_name, "none (a peer)", True)
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['what']:<42} {r['value']:>8.2f} {r['unit']}  {r['ratio']:>5.2f}x "
              f"{r['reference']:<28} target {r['target']:<15} {'met' if r['met'] else 'MISSED'}")
