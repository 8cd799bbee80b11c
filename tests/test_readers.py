"""mrishare.readers, DICOM: one reader decides "is this DICOM, and can it be read?" for every
command. Part 10 files and bare data sets (no file meta header) are read; everything else is
refused with a BadInputError whose message says why, never with another exception."""

from __future__ import annotations

import gzip
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

from mrishare import data, readers
from mrishare.errors import BadInputError

MR_SMALL = Path(get_testdata_file("MR_small.dcm"))


@pytest.fixture
def bare(tmp_path) -> Path:
    """MR_small written as a bare data set: no preamble, no DICM, no file meta header."""
    ds = pydicom.dcmread(MR_SMALL)
    del ds.file_meta
    ds.preamble = None
    path = tmp_path / "bare.dcm"
    pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert path.read_bytes()[128:132] != b"DICM" and path.read_bytes()[:4] != b"DICM"
    return path


def test_a_part10_file_is_read_with_its_pixels():
    ds = readers.read_dicom(MR_SMALL)
    assert ds.Modality == "MR" and ds.Rows == 64
    assert ds.file_meta.TransferSyntaxUID
    assert not hasattr(ds, "mrishare_note")
    assert readers.is_dicom(MR_SMALL)


def test_header_only_and_specific_tags():
    header = readers.read_dicom(MR_SMALL, stop_before_pixels=True)
    assert "PixelData" not in header and header.Rows == 64
    some = readers.read_dicom(MR_SMALL, specific_tags=["PatientName", "SOPInstanceUID"])
    assert "PatientName" in some and "Rows" not in some


def test_a_bare_data_set_is_read_and_noted(bare):
    ds = readers.read_dicom(bare)
    assert ds.mrishare_note == readers.NO_FILE_META
    assert ds.SOPInstanceUID == pydicom.dcmread(MR_SMALL).SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    assert readers.is_dicom(bare)


def test_a_bare_data_set_is_written_back_as_valid_part10(bare, tmp_path):
    out = tmp_path / "part10.dcm"
    readers.read_dicom(bare).save_as(out, enforce_file_format=True)
    raw = out.read_bytes()
    assert raw[128:132] == b"DICM"
    again = pydicom.dcmread(out)  # no force: a conforming Part 10 file
    original = pydicom.dcmread(MR_SMALL)
    assert again.file_meta.MediaStorageSOPInstanceUID == original.SOPInstanceUID
    assert again.PixelData == original.PixelData
    assert (again.pixel_array == original.pixel_array).all()
    assert readers.read_dicom(out).SOPInstanceUID == original.SOPInstanceUID


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    with pytest.raises(BadInputError, match=r"^empty file \(0 bytes\)$"):
        readers.read_dicom(empty)
    assert not readers.is_dicom(empty)


@pytest.mark.parametrize(
    "content",
    [b"PatientName: Jane Doe\nThis is a note, not a scan.\n" * 20, bytes(range(256)) * 4,
     b"\x00" * 132],
    ids=["text", "binary", "zeros"],
)
def test_a_file_that_is_not_dicom_is_refused(tmp_path, content):
    path = tmp_path / "notes.dcm"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=r"^not a DICOM file$"):
        readers.read_dicom(path)
    assert not readers.is_dicom(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_a_truncated_file_is_refused(tmp_path, keep):
    raw = MR_SMALL.read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(BadInputError, match=r"^truncated"):
        readers.read_dicom(path)


def test_a_header_cut_before_the_sop_instance_uid_is_refused(tmp_path):
    path = tmp_path / "head.dcm"
    path.write_bytes(MR_SMALL.read_bytes()[:200])
    with pytest.raises(BadInputError, match=r"^(truncated|not a DICOM file)"):
        readers.read_dicom(path)


@pytest.mark.parametrize("name", ["participant_T1w"])
def test_nifti_is_refused(tmp_path, name):
    packed = data.sample_path(name)
    unpacked = tmp_path / "t1w.nii"
    unpacked.write_bytes(gzip.decompress(packed.read_bytes()))
    for path in (packed, unpacked):
        with pytest.raises(BadInputError, match=r"^not a DICOM file$"):
            readers.read_dicom(path)
        assert not readers.is_dicom(path)


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(BadInputError, match=r"^unreadable"):
        readers.read_dicom(tmp_path / "nothing.dcm")


def test_gzip_magic():
    assert data.sample_path("participant_T1w").read_bytes()[:2] == readers.GZIP_MAGIC


PYDICOM_FILES = sorted(p for p in map(Path, get_testdata_files()) if p.is_file())


def test_pydicom_ships_test_files():
    assert len(PYDICOM_FILES) > 100


@pytest.mark.parametrize("path", PYDICOM_FILES, ids=lambda p: p.name)
def test_every_pydicom_test_file_is_read_or_refused_cleanly(path):
    """Whatever the file (damaged, odd encodings, DICOMDIRs, text), only BadInputError."""
    try:
        ds = readers.read_dicom(path)
    except BadInputError as error:
        assert str(error), path.name
        return
    assert "SOPInstanceUID" in ds and ds.file_meta.MediaStorageSOPInstanceUID
