"""Tests of mrishare.audit.audit: find identifiers in every carrier, and no false alarms."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from audit_helpers import ROOT, clean_dicom, kinds_at, write_dicom
from pydicom.dataset import Dataset

from mrishare import audit, data


@pytest.fixture(scope="module")
def identifiers(tmp_path_factory) -> audit.IdentifierSet:
    source = tmp_path_factory.mktemp("src")
    write_dicom(source / "JANSEN_MARIEKE_19870412" / "20240311_VUMC0047131" / "IM00001.dcm")
    return audit.harvest(source)


# ----------------------------------------------------------------------------- carriers


def _audit(folder: Path, ids: audit.IdentifierSet) -> audit.AuditReport:
    return audit.audit(folder, ids, check_face=False, check_dicom=True)


def test_dicom_private_tag(tmp_path, identifiers):
    ds = pydicom.dcmread(clean_dicom(tmp_path / "a.dcm"))
    block = ds.private_block(0x0029, "ACME MR HEADER 1.0", create=True)
    block.add_new(0x10, "LO", "Jansen^Marieke^A")
    ds.save_as(tmp_path / "a.dcm")
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "(0029,1010) private") == {"patient name"}
    assert report.exit_status == 1


def test_dicom_nested_sequence(tmp_path, identifiers):
    ds = pydicom.dcmread(clean_dicom(tmp_path / "a.dcm"))
    item = Dataset()
    item.RequestingPhysician = "Vries^Anna^de^Dr."
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = f"{ROOT}.1.1"
    item.ReferencedStudySequence = pydicom.Sequence([inner])
    ds.RequestAttributesSequence = pydicom.Sequence([item])
    ds.save_as(tmp_path / "a.dcm")
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "RequestAttributesSequence[0] > (0032,1032)") == {"staff name"}
    assert kinds_at(report, "ReferencedStudySequence[0] > (0008,1155)") == {"uid"}


def test_dicom_file_meta(tmp_path, identifiers):
    ds = pydicom.dcmread(clean_dicom(tmp_path / "a.dcm"))
    ds.file_meta.SourceApplicationEntityTitle = "VUMC_MR3"
    ds.save_as(tmp_path / "a.dcm")
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "file meta > (0002,0016)") == {"station name"}


def test_clean_dicom_is_clean(tmp_path, identifiers):
    clean_dicom(tmp_path / "a.dcm")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    ds.file_meta.SourceApplicationEntityTitle = "ANON"
    ds.save_as(tmp_path / "a.dcm")
    report = _audit(tmp_path, identifiers)
    identifying = [f for f in report.findings if f.kind != "profile attribute"]
    assert identifying == [], report.summary()


def test_profile_attributes(tmp_path, identifiers):
    clean_dicom(tmp_path / "a.dcm")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    ds.PatientComments = "likes jazz"  # action X: the profile removes it
    ds.InstitutionName = "Somewhere"  # action X/Z/D: a dummy value is allowed
    ds.save_as(tmp_path / "a.dcm")
    report = _audit(tmp_path, identifiers)
    flagged = {f.place for f in report.findings if f.kind == "profile attribute"}
    assert "(0010,4000) PatientComments" in flagged
    assert "(0010,1030) PatientWeight" in flagged  # X too
    assert "(0008,0080) InstitutionName" not in flagged
    assert report.exit_status == 1


def test_burned_in_annotation(tmp_path, identifiers):
    clean_dicom(tmp_path / "shot.dcm")
    ds = pydicom.dcmread(tmp_path / "shot.dcm")
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "shot.dcm")
    assert kinds_at(_audit(tmp_path, identifiers), "BurnedInAnnotation") == {
        "burned-in annotation"}


def nifti(descrip: str = "", extension: bytes | None = None) -> nib.Nifti1Image:
    image = nib.Nifti1Image(np.zeros((4, 4, 4), np.int16), np.eye(4))
    image.header["descrip"] = descrip.encode()
    if extension is not None:
        image.header.extensions.append(nib.nifti1.Nifti1Extension(6, extension))
    return image


def test_nifti_descrip(tmp_path, identifiers):
    nib.save(nifti(descrip="TE=3;Time=093012;Jansen"), tmp_path / "sub-01_T1w.nii")
    assert kinds_at(_audit(tmp_path, identifiers), "header field descrip") == {"patient name"}


def test_nifti_extension(tmp_path, identifiers):
    nib.save(nifti(extension=b"comment: patient VUMC0047131"), tmp_path / "sub-01_T1w.nii.gz")
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "header extension 0 (code 6)") == {"patient id"}
    assert not [f for f in report.findings if f.place.startswith("bytes")]  # no double count


def test_json_key(tmp_path, identifiers):
    sidecar = {"RepetitionTime": 2.3, "InstitutionName": "Voorbeeld University Medical Centre",
               "Nested": {"list": ["x", "operator Tom Visser"]}}
    (tmp_path / "sub-01_T1w.json").write_text(json.dumps(sidecar))
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "key InstitutionName") == {"institution"}
    assert kinds_at(report, "key Nested.list[1]") == {"staff name"}


def test_json_key_name(tmp_path, identifiers):
    (tmp_path / "sub-01_T1w.json").write_text(json.dumps({"VUMC0047131": True}))
    assert kinds_at(_audit(tmp_path, identifiers), "key name VUMC0047131") == {"patient id"}


def test_tsv_cell(tmp_path, identifiers):
    (tmp_path / "participants.tsv").write_text(
        "participant_id\tage\tsex\tnotes\nsub-01\t36\tF\tborn 12-04-1987\nsub-02\t44\tM\tn/a\n")
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "row 2, column notes") == {"birth date"}
    assert len(report.findings) == 1  # 36, F, 44, M are not identifiers


def test_gzip_header_name(tmp_path, identifiers):
    raw = io.BytesIO()
    nifti().to_stream(raw)
    with open(tmp_path / "sub-01_T1w.nii.gz", "wb") as f, gzip.GzipFile(
        filename="JANSEN_MARIEKE_T1.nii", mode="wb", fileobj=f, mtime=0,
    ) as gz:
        gz.write(raw.getvalue())
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "gzip header: file name") == {"patient name"}


def test_gzip_header_time(tmp_path, identifiers):
    scan_day = 1710150000  # 2024-03-11 09:40 UTC, the planted study date
    with open(tmp_path / "notes.txt.gz", "wb") as f, gzip.GzipFile(
        filename="", mode="wb", fileobj=f, mtime=scan_day,
    ) as gz:
        gz.write(b"nothing here")
    assert kinds_at(_audit(tmp_path, identifiers), "gzip header: modification time") == {
        "scan date"}


def test_folder_name(tmp_path, identifiers):
    folder = tmp_path / "sub-01" / "ses-VUMC0047131"
    folder.mkdir(parents=True)
    (folder / "scans.tsv").write_text("filename\nanat/x.nii.gz\n")
    report = _audit(tmp_path, identifiers)
    assert [(f.file, f.place, f.kind) for f in report.findings] == [
        ("sub-01/ses-VUMC0047131", "path name", "patient id")]


def test_raw_bytes_of_unknown_files(tmp_path, identifiers):
    (tmp_path / "viewer.cache").write_bytes(b"\x00\x01binary" + b"Marieke Jansen" + b"\xff")
    report = _audit(tmp_path, identifiers)
    assert [(f.place, f.kind) for f in report.findings] == [
        ("bytes at offset 8", "patient name")]


def test_clean_folder_and_report(tmp_path, identifiers):
    (tmp_path / "sub-01").mkdir()
    (tmp_path / "sub-01" / "sub-01_T1w.json").write_text('{"RepetitionTime": 2.3}')
    nib.save(nifti(descrip="defaced"), tmp_path / "sub-01" / "sub-01_T1w.nii.gz")
    report = _audit(tmp_path, identifiers)
    assert report.clean and report.exit_status == 0
    assert report.files == 2
    as_dict = report.to_dict()
    assert as_dict["clean"] is True and as_dict["values_searched"]["uid"] >= 1
    json.dumps(as_dict)
    assert report.summary().startswith("Clean")


def test_report_never_repeats_values(tmp_path, identifiers):
    (tmp_path / "a.txt").write_text("Marieke Jansen VUMC0047131 1987-04-12")
    report = _audit(tmp_path, identifiers)
    text = json.dumps(report.to_dict()) + report.summary()
    assert report.by_kind() == {"birth date": 1, "patient id": 1, "patient name": 1}
    for value in ("Marieke", "Jansen", "VUMC0047131", "1987-04-12"):
        assert value not in text


def test_against_harvests_a_source(tmp_path):
    source = tmp_path / "src"
    write_dicom(source / "p1" / "IM1.dcm")
    dataset = tmp_path / "out"
    dataset.mkdir()
    (dataset / "notes.txt").write_text("Device 45817")
    report = audit.audit(dataset, against=source, check_face=False)
    assert report.by_kind() == {"device serial number": 1}


def test_exclude(tmp_path, identifiers):
    (tmp_path / "report.txt").write_text("Marieke")
    assert _audit(tmp_path, identifiers).findings
    assert audit.audit(tmp_path, identifiers, check_face=False,
                       exclude=[tmp_path / "report.txt"]).clean


def test_not_a_folder(tmp_path, identifiers):
    with pytest.raises(NotADirectoryError, match="Expected a folder to audit"):
        audit.audit(tmp_path / "nothing", identifiers)


@pytest.mark.slow
def test_raw_sample_study_is_full_of_identifiers():
    source = data.sample_path("dicom_study", verify=False)
    report = audit.audit(source, against=source, check_face=False, check_dicom=True)
    kinds = report.by_kind()
    for kind in ("patient name", "patient id", "birth date", "staff name", "uid", "address",
                 "burned-in annotation", "source path name"):
        assert kinds.get(kind, 0) > 0, kind
    assert report.exit_status == 1


def test_dicom_without_file_meta_header_is_searched(tmp_path, identifiers):
    """A bare data set (no preamble, no .dcm) is DICOM for the audit as for every command."""
    write_dicom(tmp_path / "IM1", file_meta=False)
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "(0010,0010) PatientName") == {"patient name"}


def test_damaged_dicom_is_said(tmp_path, identifiers):
    (tmp_path / "broken.dcm").write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00")
    report = _audit(tmp_path, identifiers)
    assert [(f.kind, f.level) for f in report.findings] == [("unreadable", "warning")]
    assert "not readable as DICOM" in report.findings[0].detail


def test_gzip_compressed_dicom_is_searched(tmp_path, identifiers):
    raw = write_dicom(tmp_path / "a.dcm").read_bytes()
    (tmp_path / "a.dcm").unlink()
    (tmp_path / "a.dcm.gz").write_bytes(gzip.compress(raw, mtime=0))
    report = _audit(tmp_path, identifiers)
    assert kinds_at(report, "(0010,0020) PatientID") == {"patient id"}


def test_findings_as_a_table(tmp_path, identifiers):
    (tmp_path / "a.txt").write_text("Marieke Jansen")
    frame = _audit(tmp_path, identifiers).to_frame()
    assert list(frame.columns) == ["file", "place", "kind", "detail", "level"]
    assert frame.to_dict("records") == [{"file": "a.txt", "place": "bytes at offset 0",
                                         "kind": "patient name",
                                         "detail": "M…n (14 characters)", "level": "error"}]


@pytest.fixture(scope="module")
def head_and_defaced():
    from mrishare import deface
    from mrishare.lessons import simulate

    head = simulate.simulate_scan(seed=31, zooms=(3.0, 3.0, 3.0), truth=False).image
    return head, deface.deface(head).image


@pytest.mark.parametrize(("which", "found"), [(0, True), (1, False)])
def test_face_check_flags_a_face_and_passes_a_defaced_head(tmp_path, head_and_defaced,
                                                           which, found):
    anat = tmp_path / "sub-01" / "anat"
    anat.mkdir(parents=True)
    nib.save(head_and_defaced[which], anat / "sub-01_T1w.nii.gz")
    nib.save(head_and_defaced[0], anat / "sub-01_defacemask.nii.gz")  # masks are not heads
    ids = audit.IdentifierSet()
    ids.add_value("Jansen^Marieke", "patient name")
    report = audit.audit(tmp_path, ids, check_face=True)
    assert not [n for n in report.not_checked if n.startswith("face")]
    faces = [f for f in report.findings if f.kind == "face present"]
    assert report.clean is not found
    assert [f.file for f in faces] == (["sub-01/anat/sub-01_T1w.nii.gz"] if found else [])
    if found:
        assert "still there" in faces[0].detail


def test_face_check_names_a_slab_as_not_checked_instead_of_failing():
    import nibabel as nib
    import numpy as np

    from mrishare.audit.search import FileSearch
    from mrishare.audit.values import IdentifierSet

    def never(image):
        raise AssertionError("a slab holds no whole head: the check must not run")

    slab = nib.Nifti1Image(np.ones((64, 64, 12), np.float32), np.diag([4.0, 4.0, 4.0, 1.0]))
    search = FileSearch(IdentifierSet(), "sub-a/anat/sub-a_echo-1_part-mag_MEGRE.nii.gz")
    search.check_face(slab, never)
    assert search.findings == []
    assert len(search.not_checked) == 1 and "covers only 48 mm" in search.not_checked[0]
    whole = nib.Nifti1Image(np.ones((64, 64, 40), np.float32), np.diag([4.0, 4.0, 4.0, 1.0]))
    called = []
    search.check_face(whole, lambda image: called.append(image) or type(
        "Check", (), {"present": False, "detail": ""})())
    assert called, "a whole-head image is checked"


@pytest.mark.parametrize("path", ["sub-a/func/sub-a_task-rest_bold.nii.gz",
                                  "sub-a/fmap/sub-a_magnitude1.nii.gz",
                                  "sub-a/dwi/sub-a_dwi.nii.gz",
                                  "sub-a/anat/sub-a_part-phase_MEGRE.nii.gz"])
def test_face_check_leaves_images_prepare_does_not_deface(path):
    import nibabel as nib
    import numpy as np

    from mrishare.audit.search import FileSearch
    from mrishare.audit.values import IdentifierSet

    def never(image):
        raise AssertionError(f"{path} is not checked for a face")

    image = nib.Nifti1Image(np.ones((64, 64, 40), np.float32), np.diag([4.0, 4.0, 4.0, 1.0]))
    search = FileSearch(IdentifierSet(), path)
    search.check_face(image, never)
    assert search.findings == [] and search.not_checked == []
