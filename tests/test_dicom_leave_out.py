"""Tests for mrishare.dicom.leave_out: files not passed on, and the table of their kinds."""

from __future__ import annotations

import pytest
from dicom_helpers import make_dataset, write
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from mrishare import dicom
from mrishare.errors import RuleFileError


def _with(**values) -> Dataset:
    ds = make_dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(
    ("ds", "reason"),
    [
        (_with(BurnedInAnnotation="YES"), "BurnedInAnnotation"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.7"), "Secondary Capture"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.7.4"), "Secondary Capture"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.77.1.4"), "photograph"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.88.11"), "report"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.104.1"), "document"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.77"), "photograph"),
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.4"), None),  # MR image
        (_with(SOPClassUID="1.2.840.10008.5.1.4.1.1.70"), None),  # not a child of .7
        (_with(BurnedInAnnotation="NO"), None),
        (make_dataset(), None),
    ],
)
def test_leave_out_reason(ds, reason):
    found = dicom.leave_out_reason(ds)
    assert found is None if reason is None else reason in found


def dicomdir(path):
    """A DICOMDIR-like file: file meta naming the directory class, no SOP Instance UID."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.999.1"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.FileSetID = "JANSEN"
    return write(ds, path)


def test_a_dicomdir_given_by_path_is_left_out(tmp_path):
    assert "DICOMDIR" in dicom.leave_out_reason(dicomdir(tmp_path / "DICOMDIR"))


def test_shipped_table_reads():
    kinds = dicom.left_out_classes()
    assert kinds[0].covers("1.2.840.10008.5.1.4.1.1.7.2")
    assert all(kind.reason for kind in kinds)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("1.2.840.x\tbad\n", "line 3: '1.2.840.x' is not a UID"),
        ("1.2.3\ta\n1.2.3\tb\n", "line 4: 1.2.3 already stands on line 3"),
        ("1.2.3\n", "line 3: column reason is empty"),
    ],
)
def test_a_malformed_table_names_file_and_line(tmp_path, rows, message):
    bad = tmp_path / "left_out.tsv"
    bad.write_text("# what it is\nsop_class_uid\treason\n" + rows)
    with pytest.raises(RuleFileError, match=f"left_out.tsv, {message}"):
        dicom.left_out_classes(str(bad))
