"""Tests for mrishare.dicom.actions: the plan applied to one dataset."""

from __future__ import annotations

import datetime
import io

import pydicom
import pytest
from dicom_helpers import CREATOR, KEY, MR, OTHER, ROOT, make_dataset, to_bytes, write
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from mrishare import dicom
from mrishare.dicom import Options
from mrishare.keys import Key

BASIC = Options()
ALL = Options(keep_longitudinal_dates=True, clean_descriptors=True,
              keep_patient_characteristics=True, keep_private_safe=True)
LABEL = KEY.label("VUMC0047131")
SHIFTED = KEY.shift_date(datetime.date(2024, 3, 11), "VUMC0047131")
GONE = object()


@pytest.mark.parametrize(
    ("keyword", "options", "expected"),
    [
        # D: a dummy; for the patient's ID and name, the keyed participant label
        ("ClinicalTrialSponsorName", BASIC, "ANONYMIZED"),
        ("PatientID", BASIC, LABEL),
        ("PatientName", BASIC, LABEL),
        # Z: present but empty
        ("AccessionNumber", BASIC, ""),
        ("PatientBirthDate", BASIC, ""),
        ("PatientBirthDate", ALL, ""),  # not shifted: keep the age instead
        ("PatientSex", BASIC, ""),
        # X: removed
        ("InstitutionAddress", BASIC, GONE),
        ("PatientAge", BASIC, GONE),
        ("OtherPatientIDsSequence", BASIC, GONE),
        # combined: X/Z, X/D, X/Z/D remove; Z/D empties
        ("AcquisitionDate", BASIC, GONE),
        ("ProtocolName", BASIC, GONE),
        ("StationName", BASIC, GONE),
        ("InstitutionName", BASIC, GONE),
        ("AcquisitionDateTime", BASIC, GONE),
        ("ContentDate", BASIC, ""),
        ("StudyTime", BASIC, ""),
        # U: keyed UIDs
        ("StudyInstanceUID", BASIC, KEY.uid(f"{ROOT}.1")),
        ("FrameOfReferenceUID", BASIC, KEY.uid(f"{ROOT}.1.9")),
        # K: patient characteristics option
        ("PatientSex", ALL, "F"),
        ("PatientAge", ALL, "036Y"),
        ("PatientWeight", ALL, "64"),
        # C: dates shifted by the participant's keyed shift, times kept
        ("StudyDate", ALL, SHIFTED.strftime("%Y%m%d")),
        ("AcquisitionDate", ALL, SHIFTED.strftime("%Y%m%d")),
        ("AcquisitionDateTime", ALL, SHIFTED.strftime("%Y%m%d") + "093012.5"),
        ("StudyTime", ALL, "093012"),
        # C: descriptors cleaned of names and IDs found in the same file
        ("SeriesDescription", ALL, "T1 MPRAGE sag"),
        ("ProtocolName", ALL, "t1_mprage"),
        ("ImageComments", ALL, "moved a little"),
        # not in the table: kept
        ("RepetitionTime", BASIC, "2300"),
        ("ImagePositionPatient", BASIC, [1.5, 2.5, 3.5]),
        ("Modality", BASIC, "MR"),
    ],
)
def test_each_action(keyword, options, expected):
    out = dicom.deidentify(make_dataset(), KEY, options)
    if expected is GONE:
        assert keyword not in out
    else:
        value = out[keyword].value
        value = list(value) if isinstance(value, list | pydicom.multival.MultiValue) else value
        assert (value if value is not None else "") == expected


def test_deidentify_copies_a_dataset_unless_told():
    ds = make_dataset()
    dicom.deidentify(ds, KEY)
    assert ds.PatientID == "VUMC0047131"
    dicom.deidentify(ds, KEY, copy=False)
    assert ds.PatientID == LABEL


def test_reference_sequences_keep_references_with_keyed_uids():
    out = dicom.deidentify(make_dataset(), KEY)
    ref = out.ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == KEY.uid(f"{ROOT}.1.3.2")
    assert ref.ReferencedSOPClassUID == MR  # a class, not an instance: kept


def test_nested_sequences_are_walked():
    out = dicom.deidentify(make_dataset(), KEY)
    region = out.AnatomicRegionSequence[0]
    assert region.CodeMeaning == "Brain"
    # ReferencedStudySequence is X/Z: removed, with everything inside it
    assert "ReferencedStudySequence" not in region
    ds = make_dataset()
    inner = ds.AnatomicRegionSequence[0].ReferencedStudySequence[0]
    ds.AnatomicRegionSequence[0].PurposeOfReferenceCodeSequence = Sequence([inner])
    out = dicom.deidentify(ds, KEY)
    deep = out.AnatomicRegionSequence[0].PurposeOfReferenceCodeSequence[0]
    assert not deep.PatientName  # another person: emptied, not the participant label
    assert deep.ReferencedSOPInstanceUID == KEY.uid(f"{ROOT}.1")
    assert not any(elem.tag.is_private for elem in deep)


def test_overlays_and_curves_are_removed_as_whole_groups_and_said_so():
    ds = make_dataset()
    for tag, vr, value in ((0x60020010, "US", 4), (0x60020011, "US", 4),
                           (0x60020040, "CS", "G"), (0x60020050, "SS", [1, 1]),
                           (0x60020100, "US", 1), (0x60023000, "OW", b"\x00" * 2)):
        ds.add_new(tag, vr, value)  # a second overlay, complete
    notes: list[str] = []
    out = dicom.deidentify(ds, KEY, notes=notes)
    assert not [e.tag for e in out if e.tag.group & 0xFF00 in (0x5000, 0x6000)]
    assert notes == ["curve (retired) removed (group 5000, every element)",
                     "overlay removed (group 6000, every element)",
                     "overlay removed (group 6002, every element)"]


def test_private_elements_removed_by_default():
    out = dicom.deidentify(make_dataset(), KEY)
    assert not any(elem.tag.is_private for elem in out.iterall())


def test_safe_private_elements_kept_only_on_the_allow_list():
    out = dicom.deidentify(make_dataset(), KEY, Options(keep_private_safe=True))
    private = {elem.tag: elem.value for elem in out if elem.tag.is_private}
    assert private == {0x00290010: CREATOR, 0x00291020: "HeadNeck_20"}
    assert out.private_block(0x0029, CREATOR)[0x20].value == "HeadNeck_20"


def test_file_meta_cleaned_and_consistent():
    out = dicom.deidentify(make_dataset(), KEY)
    assert "SourceApplicationEntityTitle" not in out.file_meta
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.SOPInstanceUID == KEY.uid(f"{ROOT}.1.3.1")
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.SOPClassUID == MR


@pytest.mark.parametrize(
    ("options", "codes"),
    [
        (BASIC, ["113100"]),
        (Options(keep_longitudinal_dates=True), ["113100", "113107"]),
        (ALL, ["113100", "113107", "113105", "113108", "113111"]),
    ],
)
def test_result_is_marked(options, codes):
    out = dicom.deidentify(make_dataset(), KEY, options)
    assert out.PatientIdentityRemoved == "YES"
    assert [item.CodeValue for item in out.DeidentificationMethodCodeSequence] == codes
    assert {item.CodingSchemeDesignator for item in out.DeidentificationMethodCodeSequence} == {
        "DCM"}
    methods = list(out.DeidentificationMethod)
    assert methods[0].startswith("mrishare") and dicom.load_profile().edition in methods[1]
    expected = "MODIFIED" if options.keep_longitudinal_dates else "REMOVED"
    assert out.LongitudinalTemporalInformationModified == expected


@pytest.mark.parametrize("options", [BASIC, ALL])
def test_what_must_survive(options):
    ds = make_dataset()
    out = dicom.deidentify(ds, KEY, options)
    for keyword in ("PixelData", "RepetitionTime", "EchoTime", "FlipAngle",
                    "MagneticFieldStrength", "ImageOrientationPatient", "PixelSpacing",
                    "Rows", "Columns", "BitsStored"):
        assert out[keyword].value == ds[keyword].value, keyword
    assert pydicom.dcmread(io.BytesIO(to_bytes(out))).PixelData == ds.PixelData


def test_no_identifier_left_anywhere_in_the_bytes():
    out = to_bytes(dicom.deidentify(make_dataset(), KEY))
    for planted in (b"Jansen", b"VUMC", b"0047131", b"19870412", b"20240311", b"Voorbeeld",
                    b"ACC2024", b"ZZ-77", b"Vries", ROOT.encode()):
        assert planted not in out, planted


def test_same_key_same_bytes_other_key_other_pseudonyms():
    first = to_bytes(dicom.deidentify(make_dataset(), KEY, ALL))
    again = to_bytes(dicom.deidentify(make_dataset(), Key(bytes(range(32))), ALL))
    assert first == again
    a, b = dicom.deidentify(make_dataset(), KEY), dicom.deidentify(make_dataset(), OTHER)
    for keyword in ("PatientID", "StudyInstanceUID", "SOPInstanceUID", "SeriesInstanceUID"):
        assert a[keyword].value != b[keyword].value
    shifted = [dicom.deidentify(make_dataset(), k, ALL).StudyDate for k in (KEY, OTHER)]
    assert shifted[0] != shifted[1]


def test_intervals_between_sessions_survive_the_date_shift():
    first = dicom.deidentify(make_dataset(date="20240311"), KEY, ALL)
    second = dicom.deidentify(make_dataset(date="20240422", study="2"), KEY, ALL)
    days = [datetime.datetime.strptime(d.StudyDate, "%Y%m%d") for d in
            (first, second)]
    assert (days[1] - days[0]).days == 42 and days[0].year < 1926


@pytest.mark.filterwarnings("ignore:Invalid value for VR DA")
@pytest.mark.parametrize("bad", ["2024-03-11", "", "notadate"])
def test_dates_that_are_not_dates_are_emptied(bad):
    ds = make_dataset()
    ds.StudyDate = bad
    assert not dicom.deidentify(ds, KEY, ALL).StudyDate


def test_clean_text():
    patterns = dicom.word_patterns(["Jansen", "VUMC0047131", "Tom"])
    assert dicom.clean_text("repeat of VUMC0047131 series 4", patterns) == "repeat of series 4"
    assert dicom.clean_text("Tomography by Tom on 20240311", patterns) == "Tomography by on"
    assert dicom.clean_text("JANSEN", patterns) == ""


def test_a_path_is_read_by_the_one_reader(tmp_path):
    path = write(make_dataset(), tmp_path / "a.dcm")
    assert dicom.deidentify(path, KEY).PatientID == LABEL
    (tmp_path / "empty.dcm").write_bytes(b"")
    with pytest.raises(dicom.BadInputError, match="empty file"):
        dicom.deidentify(tmp_path / "empty.dcm", KEY)
