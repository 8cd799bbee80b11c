"""End-to-end tests of `mrishare deidentify-dicom` on the sample DICOM study."""

from __future__ import annotations

import datetime
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_helpers import without_file_meta
from helpers import sample_study_images, tree_digest

from mrishare import data
from mrishare.cli import run
from mrishare.keys import Key

DCM2NIIX = Path(sys.executable).parent / "dcm2niix"
# Identifiers planted by tools/make_samples.py (all invented).
PLANTED = [
    "Jansen", "JANSEN", "Marieke", "Boer", "Pieter", "VUMC", "0047131", "0052288",
    "ZZ-77", "19870412", "19791130", "20240311", "20240422", "Voorbeeld", "Ziekenhuislaan",
    "Radiology", "Vries", "Bakker", "Visser", "VUMC-MR3", "555-01", "Migraine", "Claustrophobic",
    "1.2.999.4711", "ACC2024",
]


def header_text(path: Path) -> str:
    """Every value of the header, file meta and private elements included, except UIDs
    (long random digits) and pixel data."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    elements = [*ds.file_meta, *ds.iterall()]
    return "\n".join(str(e.value) for e in elements if e.VR not in ("UI", "SQ"))


@pytest.fixture(scope="module")
def study() -> Path:
    return data.sample_path("dicom_study", verify=False)


@pytest.fixture(scope="module")
def run_once(tmp_path_factory, study):
    """One run with a key file and two workers; the sample's bytes recorded around it."""
    tmp = tmp_path_factory.mktemp("deid")
    key = Key(bytes(range(32)))
    key_file = key.save(tmp / "study.key")
    before = tree_digest(study)
    status = run(["deidentify-dicom", str(study), str(tmp / "out"), "--key-file",
                  str(key_file), "--jobs", "2", "--keep-longitudinal-dates"])
    return {"status": status, "out": tmp / "out", "tmp": tmp, "key": key,
            "key_file": key_file, "before": before}


def test_exit_zero_and_report_next_to_the_output(run_once):
    assert run_once["status"] == 0
    text = (run_once["tmp"] / "out_report.txt").read_text()
    assert "2026c" in text and "SC_19870412.dcm" in text and "failed: 0" in text
    files, series = sample_study_images()
    assert f"written: {files} files in {series} series, 2 participants, 3 sessions" in text
    assert not list(run_once["out"].rglob("*report*"))
    mapping = (run_once["tmp"] / "out_mapping.tsv").read_text().splitlines()
    # a header line, a line for each file written, and one for the screenshot left out
    assert len(mapping) == files + 2 and not list(run_once["out"].rglob("*mapping*"))
    rows = [line.split("\t") for line in mapping[1:]]
    outputs = [r[2] for r in rows if r[1] == "written"]
    assert len(outputs) == len(set(outputs)) == files
    assert all((run_once["out"] / o).is_file() for o in outputs)
    assert [r[1] for r in rows if r[0].endswith("SC_19870412.dcm")] == ["left out"]


def test_originals_byte_identical(run_once, study):
    assert tree_digest(study) == run_once["before"]
    data.verify_sample("dicom_study")


def test_paths_are_pseudonyms_only(run_once):
    paths = [p.relative_to(run_once["out"]).as_posix() for p in run_once["out"].rglob("*")
             if p.is_file()]
    assert len(paths) == sample_study_images()[0]
    pattern = r"sub-[a-z0-9]{8}/ses-[12]/\d{3}-MR/\d{5}\.dcm"
    assert all(re.fullmatch(pattern, p) for p in paths)
    assert len({p.split("/")[0] for p in paths}) == 2


def test_no_planted_identifier_left_in_any_header(run_once):
    for path in run_once["out"].rglob("*.dcm"):
        header = header_text(path)
        found = [word for word in PLANTED if word in header]
        assert not found, (path.name, found)
        uids = [str(e.value) for e in pydicom.dcmread(path, stop_before_pixels=True).iterall()
                if e.VR == "UI"]
        assert not [u for u in uids if u.startswith("1.2.999")]


def _sources(study: Path) -> dict[str, Path]:
    return {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p
            for p in study.rglob("IM*.dcm")}


def test_referential_integrity_and_pixels(run_once, study):
    key = run_once["key"]
    sources = {key.uid(uid): path for uid, path in _sources(study).items()}
    studies = {}
    for path in run_once["out"].rglob("*.dcm"):
        out = pydicom.dcmread(path)
        src = pydicom.dcmread(sources[out.SOPInstanceUID])
        assert out.PixelData == src.PixelData
        assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
            assert out[keyword].value == key.uid(src[keyword].value)
        session = path.parent.parent
        studies.setdefault(session, set()).add(out.StudyInstanceUID)
        assert out.PatientID == key.label(src.PatientID) == path.parts[-4][4:]
        shifted = key.shift_date(datetime.date(
            int(src.StudyDate[:4]), int(src.StudyDate[4:6]), int(src.StudyDate[6:])),
            src.PatientID)
        assert out.StudyDate == shifted.strftime("%Y%m%d")
    assert all(len(uids) == 1 for uids in studies.values())


def test_same_key_same_bytes_other_key_other_names(run_once, study, tmp_path):
    series = "JANSEN_MARIEKE_19870412/20240422_VUMC0047131/005_t2_tse_tra_Jansen"
    src = tmp_path / "src"
    shutil.copytree(study / series, src / "s")
    again, other = tmp_path / "again", tmp_path / "other"
    assert run(["deidentify-dicom", str(src), str(again), "--key-file",
                str(run_once["key_file"]), "--keep-longitudinal-dates"]) == 0
    # Alone in its batch, the second session is numbered 1: the bytes are the same.
    first = {k.replace("/ses-2/", "/ses-1/"): v for k, v in tree_digest(run_once["out"]).items()
             if "/ses-2/005" in k}
    assert tree_digest(again) == first
    Key.generate().save(tmp_path / "other.key")
    assert run(["deidentify-dicom", str(src), str(other), "--key-file",
                str(tmp_path / "other.key")]) == 0
    assert not set(tree_digest(other)) & set(first)


@pytest.mark.skipif(not DCM2NIIX.exists(), reason="dcm2niix is installed with mrishare")
def test_output_converts_to_the_same_image(run_once, study, tmp_path):
    label = Key(bytes(range(32))).label("VUMC0047131")
    pairs = {
        "orig": study / "JANSEN_MARIEKE_19870412/20240311_VUMC0047131/003_T1_MPRAGE_sag_Jansen",
        "deid": run_once["out"] / f"sub-{label}/ses-1/003-MR",
    }
    images = {}
    for name, folder in pairs.items():
        out = tmp_path / name
        out.mkdir()
        subprocess.run([str(DCM2NIIX), "-z", "n", "-b", "n", "-f", "img", "-o", str(out),
                        str(folder)], check=True, capture_output=True)
        images[name] = nib.load(out / "img.nii")
    assert np.array_equal(images["orig"].get_fdata(), images["deid"].get_fdata())
    assert np.allclose(images["orig"].affine, images["deid"].affine)


def test_bad_inputs_named_on_stderr_and_exit_3(study, tmp_path, caplog):
    series = "DEBOER_PIETER_19791130/20240318_VUMC0052288/005_t2_tse_tra_Deboer"
    src = tmp_path / "src"
    shutil.copytree(study / series, src)
    (src / "empty.dcm").write_bytes(b"")
    (src / "README.txt").write_text("export of de Boer\n")
    before = tree_digest(src)
    with caplog.at_level(logging.INFO, logger="mrishare"):
        status = run(["deidentify-dicom", str(src), str(tmp_path / "out")])
    assert status == 3
    assert "could not process empty.dcm: empty file" in caplog.text
    assert "could not process README.txt: not a DICOM file" in caplog.text
    assert "random key" in caplog.text
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 49
    assert tree_digest(src) == before
    assert "README.txt" in (tmp_path / "out_report.json").read_text()


def test_files_without_file_meta_header_are_accepted(study, tmp_path):
    series = "DEBOER_PIETER_19791130/20240318_VUMC0052288/005_t2_tse_tra_Deboer"
    src = tmp_path / "src"
    shutil.copytree(study / series, src)
    originals = sorted(src.glob("IM*.dcm"))
    for path in originals[:3]:  # as an old export writes them: a bare data set
        path.write_bytes(without_file_meta(pydicom.dcmread(path)))
        assert path.read_bytes()[128:132] != b"DICM"
    assert run(["deidentify-dicom", str(src), str(tmp_path / "out")]) == 0
    written = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == len(originals)
    for path in written:
        ds = pydicom.dcmread(path)  # without force: every output is a Part 10 file
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--jobs", "0"], "--jobs"), (["--key-file", "missing.key"], "does not exist")],
)
def test_usage_errors_exit_2(tmp_path, extra, message, capsys):
    src = tmp_path / "src"
    src.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        run(["deidentify-dicom", str(src), str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("inside", [".", "out", "a/b"])
def test_destination_inside_source_refused(tmp_path, inside, capsys):
    src = tmp_path / "src"
    src.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        run(["deidentify-dicom", str(src), str(src / inside)])
    assert exit_info.value.code == 2
    assert "never written" in capsys.readouterr().err
    assert list(src.iterdir()) == []


def test_validate_reports_what_dciodvfy_says(study, tmp_path, caplog):
    series = "DEBOER_PIETER_19791130/20240318_VUMC0052288/005_t2_tse_tra_Deboer"
    src = tmp_path / "src"
    shutil.copytree(study / series, src)
    for path in sorted(src.glob("IM*.dcm"))[3:]:
        path.unlink()
    with caplog.at_level(logging.INFO, logger="mrishare"):
        status = run(["deidentify-dicom", str(src), str(tmp_path / "out"), "--validate"])
    assert status == 0
    text = (tmp_path / "out_report.txt").read_text()
    if shutil.which("dciodvfy"):
        assert "dciodvfy checked 3 outputs against their sources: 0 with errors" in text
    else:
        assert "dciodvfy (package dicom3tools) is not installed" in text
    assert "validation:" in caplog.text
