"""Values read as text from the bytes read: the same text as pydicom's conversion gives."""

from __future__ import annotations

import glob
import os
import warnings

import pydicom
import pydicom.data
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from mrishare import data
from mrishare.dicom.values import raw_text, text


def _shipped_files() -> list[str]:
    import nibabel

    files = pydicom.data.get_testdata_files()  # the files installed (none downloaded)
    files += glob.glob(os.path.join(os.path.dirname(nibabel.__file__), "nicom", "tests",
                                    "data", "*.dcm"))
    files += [str(p) for p in data.sample_path("dicom_study", verify=False).rglob("*.dcm")]
    return sorted(files)


def test_every_element_of_every_shipped_file_reads_as_pydicom_converts_it():
    """pydicom's and nibabel's test files and the sample study: every top-level element."""
    compared = fast = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in _shipped_files():
            try:
                ours, theirs = (pydicom.dcmread(path, force=True) for _ in range(2))
                tags = list(ours.keys())
            except Exception:  # noqa: BLE001 - files pydicom itself cannot read
                continue
            for tag in tags:
                try:
                    expected = str(theirs[tag].value or "")
                except Exception:  # noqa: BLE001 - a value pydicom cannot convert
                    continue
                fast += raw_text(ours.get_item(tag)) is not None
                assert text(ours, int(tag)) == expected, (path, tag)
                compared += 1
    assert compared > 50_000 and fast > 20_000  # most text values take the short way


@pytest.mark.parametrize(("vr", "raw"), [
    ("PN", b"Doe^John\\Roe^Jane "),  # two values
    ("PN", b"\x1b$B;3ED\x1b(B"),  # an escape sequence: another character set
    ("LO", "Zoë".encode("latin-1") + b" "),  # not ASCII
    ("IS", b"12"),  # a number
    ("OB", b"\x00\x01"),
])
def test_values_pydicom_must_convert_are_left_to_it(vr, raw):
    element = RawDataElement(Tag(0x00100010), vr, len(raw), raw, 0, False, True)
    assert raw_text(element) is None


def test_implicit_vr_takes_the_dictionary_vr_and_unknown_tags_are_left_alone():
    uid = RawDataElement(Tag(0x00080018), None, 6, b"1.2.3\0", 0, True, True)
    assert raw_text(uid) == "1.2.3"
    unknown = RawDataElement(Tag(0x00091001), None, 2, b"ab", 0, True, True)
    assert raw_text(unknown) is None


def test_missing_and_empty_values_give_the_default_and_keywords_are_checked():
    ds = Dataset()
    ds.PatientID = ""
    assert text(ds, "PatientID", "none") == "none"
    assert text(ds, "StudyDate", "none") == "none"
    with pytest.raises(KeyError, match="not a DICOM keyword"):
        text(ds, "PatientIdentity")
