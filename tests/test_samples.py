"""Tests of the shipped sample data: size, provenance, and that the DICOM study is real DICOM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from mrishare import data

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
MB = 1_000_000


def _files():
    return [p for p in SAMPLES.rglob("*") if p.is_file()]


def test_data_samples_stay_small():
    assert sum(p.stat().st_size for p in _files()) <= 25 * MB
    assert max(p.stat().st_size for p in _files()) <= 10 * MB


def test_every_file_has_a_checksum_and_a_provenance_line():
    provenance = (SAMPLES / "PROVENANCE.md").read_text(encoding="utf-8")
    bookkeeping = {"MANIFEST.tsv", "CHECKSUMS.tsv", "PROVENANCE.md"}
    for path in _files():
        if path.name in bookkeeping:
            continue
        rel = path.relative_to(SAMPLES).as_posix()
        assert f"`{rel}` | `{data.sha256(path)}`" in provenance, rel
    for name in data.list_samples()["name"]:
        assert f"| {name} |" in provenance


def test_the_template_has_its_face_mask_on_the_same_grid():
    head = data.load_sample("template_head")
    mask = data.load_sample("template_facemask")
    assert head.shape == mask.shape
    assert np.allclose(head.affine, mask.affine)
    face = np.asarray(mask.dataobj) == 0
    assert 0.02 < face.mean() < 0.3  # a face region, not everything or nothing


def test_the_participant_is_not_on_the_template_grid():
    head = data.load_sample("template_head")
    for name in ("participant_T1w", "participant_T2w"):
        scan = data.load_sample(name)
        assert scan.shape != head.shape
        rotation = scan.affine[:3, :3] / np.linalg.norm(scan.affine[:3, :3], axis=0)
        assert not np.allclose(np.abs(rotation), np.round(np.abs(rotation)), atol=0.02), name


def _series(pattern: str) -> list[Path]:
    return sorted(data.sample_path("dicom_study", verify=False).glob(pattern))


def test_the_study_has_the_planted_identifiers_where_exports_carry_them():
    first = pydicom.dcmread(_series("JANSEN*/20240311*/003*/*.dcm")[0])
    assert str(first.PatientName) == "Jansen^Marieke^A"
    for keyword in ("PatientBirthDate", "PatientAddress", "PatientTelephoneNumbers",
                    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
                    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName",
                    "StationName", "DeviceSerialNumber", "AccessionNumber", "StudyID",
                    "ImageComments", "AdditionalPatientHistory", "PatientComments"):
        assert str(first.get(keyword, "")).strip(), keyword
    assert "Jansen" in first.SeriesDescription and "VUMC" in first.ProtocolName
    assert first.OtherPatientIDsSequence[0].PatientID
    assert first.RequestAttributesSequence[0].RequestingPhysician
    assert first.file_meta.SourceApplicationEntityTitle
    assert first.StudyInstanceUID.startswith("1.2.999.4711.")
    private = [e for e in first if e.tag.is_private]
    assert any("Jansen" in str(e.value) for e in private)


def test_the_study_has_two_people_three_sessions_and_a_screenshot():
    sessions = _series("*/*")
    assert len(sessions) == 3
    assert len({p.parent.name for p in sessions}) == 2
    shots = [pydicom.dcmread(p) for p in _series("*/*/*/SC_*.dcm")]
    assert len(shots) == 1 and shots[0].BurnedInAnnotation == "YES"
    ids = {pydicom.dcmread(s / "003_T1_MPRAGE_sag_Jansen" / "IM00001.dcm").StudyDate
           for s in _series("JANSEN*/*")}
    assert ids == {"20240311", "20240422"}


@pytest.mark.parametrize(("series", "sample"), [("003", "participant_T1w"),
                                                ("005", "participant_T2w")])
def test_dcm2niix_gives_back_the_participant(tmp_path, series, sample):
    folder = _series(f"JANSEN*/20240311*/{series}_*")[0]
    dcm2niix = Path(sys.executable).with_name("dcm2niix")
    subprocess.run([str(dcm2niix), "-z", "y", "-b", "n", "-f", "out", "-o", str(tmp_path),
                    str(folder)], check=True, capture_output=True)
    converted = nib.as_closest_canonical(nib.load(tmp_path / "out.nii.gz"))
    original = nib.as_closest_canonical(data.load_sample(sample))
    assert np.array_equal(np.asarray(converted.dataobj), np.asarray(original.dataobj))
    assert np.allclose(converted.affine, original.affine, atol=1e-3)
