"""Tests for mrishare.dicom: the PS3.15 profile, its options, keys and batches."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from mrishare import dicom
from mrishare.dicom import Options
from mrishare.keys import Key, load_or_random_key

KEY = Key(bytes(range(32)))
OTHER = Key(bytes(range(1, 33)))
MR = "1.2.840.10008.5.1.4.1.1.4"
ROOT = "1.2.999.4711"
CREATOR = "ACME MR HEADER 1.0"


def make_dataset(patient: str = "VUMC0047131", study: str = "1", instance: int = 1,
                 date: str = "20240311") -> Dataset:
    """A tiny MR image with identifiers in every place real exports carry them."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MR
    ds.file_meta.MediaStorageSOPInstanceUID = f"{ROOT}.{study}.3.{instance}"
    ds.file_meta.SourceApplicationEntityTitle = "VUMC_MR3"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = MR
    ds.SOPInstanceUID = f"{ROOT}.{study}.3.{instance}"
    ds.StudyInstanceUID = f"{ROOT}.{study}"
    ds.SeriesInstanceUID = f"{ROOT}.{study}.3"
    ds.FrameOfReferenceUID = f"{ROOT}.{study}.9"
    ds.PatientName = "Jansen^Marieke"
    ds.PatientID = patient
    ds.PatientBirthDate = "19870412"
    ds.PatientSex = "F"
    ds.PatientAge = "036Y"
    ds.PatientWeight = "64"
    ds.StudyDate = ds.ContentDate = date
    ds.AcquisitionDate = date
    ds.AcquisitionDateTime = f"{date}093012.5"
    ds.StudyTime = ds.ContentTime = "093012"
    ds.AccessionNumber = "ACC2024031101"
    ds.InstitutionName = "Voorbeeld University Medical Centre"
    ds.InstitutionAddress = "Ziekenhuislaan 1, Voorbeeldstad"
    ds.StationName = "VUMC-MR3-CONSOLE"
    ds.ClinicalTrialSponsorName = "Voorbeeld Pharma"
    ds.SeriesDescription = "T1 MPRAGE sag Jansen"
    ds.ProtocolName = f"{patient}_t1_mprage"
    ds.ImageComments = "Jansen: moved a little"
    ds.Modality = "MR"
    ds.SeriesNumber = 3
    ds.InstanceNumber = instance
    ds.RepetitionTime = "2300"
    ds.EchoTime = "2.98"
    ds.FlipAngle = "9"
    ds.MagneticFieldStrength = "3"
    ds.ImagePositionPatient = ["1.5", "2.5", "3.5"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = ["2", "2"]
    ref = Dataset()
    ref.ReferencedSOPClassUID = MR
    ref.ReferencedSOPInstanceUID = f"{ROOT}.{study}.3.{instance + 1}"
    ds.ReferencedImageSequence = Sequence([ref])  # X/Z/U*: kept, UIDs replaced
    # A sequence the table does not list, holding identifiers two levels down.
    inner = Dataset()
    inner.PatientName = "Vries^Anna"
    inner.ReferencedSOPInstanceUID = f"{ROOT}.{study}"
    inner.add_new(0x00091010, "LO", "private inside a sequence")
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "T-A0100", "SRT", "Brain"
    region.ReferencedStudySequence = Sequence([inner])
    ds.AnatomicRegionSequence = Sequence([region])
    ds.OtherPatientIDsSequence = Sequence([Dataset()])
    ds.OtherPatientIDsSequence[0].PatientID = "ZZ-77-31-902"
    ds.add_new(0x60000010, "US", 4)  # overlay rows
    ds.add_new(0x60003000, "OW", b"\x01\x02" * 8)  # overlay data: X
    ds.add_new(0x50000010, "US", 1)  # a retired curve: X
    block = ds.private_block(0x0029, CREATOR, create=True)
    block.add_new(0x10, "LO", "Jansen^Marieke")
    block.add_new(0x20, "LO", "HeadNeck_20")
    other = ds.private_block(0x0031, "SOMEONE ELSE", create=True)
    other.add_new(0x20, "LO", "HeadNeck_20")
    ds.Rows, ds.Columns = 2, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes(range(8))
    return ds


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def to_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the table


def test_table_comes_from_dicom_anonymizer_newest_edition():
    editions = dicom.profile_editions()
    assert {"2023e", "2024b", "2026c"} <= set(editions)
    profile = dicom.load_profile()
    assert profile.edition == max(editions)
    assert "2026c" in profile.describe() and "dicom-anonymizer" in profile.describe()
    assert len(profile.actions) > 600
    assert dicom.load_profile("2024b").edition == "2024b"


def test_unknown_edition_names_the_known_ones():
    with pytest.raises(ValueError, match="2024b"):
        dicom.load_profile("1999a")


@pytest.mark.parametrize(
    ("tag", "action"),
    [(0x00100010, "Z"), (0x0020000D, "U"), (0x00181030, "X/D"), (0x00081140, "X/Z/U*"),
     (0x00100020, "Z/D"), (0x00120010, "D"), (0x00080081, "X"), (0x60023000, "X"),
     (0x501E0010, "X"), (0x00180080, None)],
)
def test_table_rows(tag, action):
    assert dicom.load_profile().action(tag) == action


# --------------------------------------------------------------------------- actions

BASIC = Options()
ALL = Options(keep_longitudinal_dates=True, clean_descriptors=True,
              keep_patient_characteristics=True, keep_private_safe=True)
LABEL = KEY.label("VUMC0047131")
SHIFTED = KEY.shift_date(__import__("datetime").date(2024, 3, 11), "VUMC0047131")
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


def test_overlays_and_curves_follow_the_repeating_group_rows():
    out = dicom.deidentify(make_dataset(), KEY)
    assert 0x60003000 not in out and 0x50000010 not in out
    assert 0x60000010 in out  # rows of the overlay: not listed, kept


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
    days = [__import__("datetime").datetime.strptime(d.StudyDate, "%Y%m%d") for d in
            (first, second)]
    assert (days[1] - days[0]).days == 42 and days[0].year < 1926


@pytest.mark.filterwarnings("ignore:Invalid value for VR DA")
@pytest.mark.parametrize("bad", ["2024-03-11", "", "notadate"])
def test_dates_that_are_not_dates_are_emptied(bad):
    ds = make_dataset()
    ds.StudyDate = bad
    assert not dicom.deidentify(ds, KEY, ALL).StudyDate


def test_clean_text():
    patterns = dicom._patterns(["Jansen", "VUMC0047131", "Tom"])
    assert dicom.clean_text("repeat of VUMC0047131 series 4", patterns) == "repeat of series 4"
    assert dicom.clean_text("Tomography by Tom on 20240311", patterns) == "Tomography by on"
    assert dicom.clean_text("JANSEN", patterns) == ""


# --------------------------------------------------------------------------- who and when


def test_participant_id_falls_back_to_name_then_study():
    ds = make_dataset()
    assert dicom.participant_id(ds) == "VUMC0047131"
    ds.PatientID = ""
    assert dicom.participant_id(ds) == "name:Jansen^Marieke|19870412"
    ds.PatientName, ds.PatientBirthDate = "", ""
    assert dicom.participant_id(ds) == f"study:{ROOT}.1"


def test_participant_label_matches_keys_and_files(tmp_path):
    path = write(make_dataset(), tmp_path / "a.dcm")
    assert dicom.participant_label(path, KEY) == KEY.label("VUMC0047131") == LABEL


def test_sessions_numbered_by_date_time_then_uid():
    records = [
        dicom.StudyRecord("p", "20240422", "0900", "1.9"),
        dicom.StudyRecord("p", "20240311", "1400", "1.8"),
        dicom.StudyRecord("p", "20240311", "0900", "1.7"),
        dicom.StudyRecord("q", "", "", "1.1"),
        dicom.StudyRecord("p", "20240311", "0900", "1.7"),  # the same study again
    ]
    numbers = dicom.number_sessions(records)
    assert numbers == {("p", "1.7"): 1, ("p", "1.8"): 2, ("p", "1.9"): 3, ("q", "1.1"): 1}
    assert dicom.session_index(make_dataset(study="5", date="20240501"), []) == 1


# --------------------------------------------------------------------------- leave out


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
        (_with(BurnedInAnnotation="NO"), None),
        (make_dataset(), None),
    ],
)
def test_leave_out_reason(ds, reason):
    found = dicom.leave_out_reason(ds)
    assert found is None if reason is None else reason in found


# --------------------------------------------------------------------------- folders


def _good_folder(root: Path) -> Path:
    for study, date in (("1", "20240311"), ("2", "20240422")):
        for i in (1, 2, 3):
            write(make_dataset(study=study, instance=i, date=date),
                  root / f"JANSEN_{date}" / f"IM{i}.dcm")
    write(_with(BurnedInAnnotation="YES"), root / "JANSEN_20240311" / "SC_19870412.dcm")
    return root


def _no_meta(path: Path) -> None:
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    ds = make_dataset(instance=7)
    del ds.file_meta
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, ds)
    path.write_bytes(buffer.getvalue())


def _unreadable_element(path: Path) -> None:
    raw = bytearray(to_bytes(make_dataset(instance=8)))
    at = raw.find(b"\x08\x00\x40\x11SQ")  # Referenced Image Sequence
    inner = raw.find(b"UI", at + 20)
    raw[inner:inner + 2] = b"ZZ"  # an unknown value representation inside it
    path.write_bytes(bytes(raw))


BAD_INPUTS = {
    "empty.dcm": (lambda p: p.write_bytes(b""), "empty file"),
    "notes.txt": (lambda p: p.write_text("Jansen, scanned twice\n" * 20), "not a DICOM file"),
    "cut_pixels.dcm": (lambda p: p.write_bytes(to_bytes(make_dataset(instance=5))[:-3]),
                       "truncated"),
    "cut_header.dcm": (lambda p: p.write_bytes(to_bytes(make_dataset(instance=6))[:700]),
                       "truncated"),
    "no_meta.dcm": (_no_meta, "no DICOM file meta"),
    "bad_element.dcm": (_unreadable_element, "unreadable element"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_each_bad_input_is_named_and_the_rest_is_done(tmp_path, name):
    src = _good_folder(tmp_path / "src")
    make, reason = BAD_INPUTS[name]
    make(src / "JANSEN_20240311" / name)
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    assert [f["source"] for f in report.failed] == [f"JANSEN_20240311/{name}"]
    assert reason in report.failed[0]["reason"]
    assert report.exit_status == 3
    assert sum(s["files"] for s in report.series) == 6
    assert name in report.summary()


def test_folder_layout_sessions_and_leave_out(tmp_path):
    src = _good_folder(tmp_path / "src")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    files = sorted(p.relative_to(tmp_path / "out").as_posix()
                   for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == [f"sub-{LABEL}/ses-{s}/003-MR/{i:05d}.dcm" for s in (1, 2) for i in (1, 2, 3)]
    assert report.exit_status == 0 and not report.failed
    assert report.left_out == [{"source": "JANSEN_20240311/SC_19870412.dcm",
                                "reason": "BurnedInAnnotation is YES: text is burned into "
                                          "the pixels"}]
    second = pydicom.dcmread(tmp_path / "out" / f"sub-{LABEL}/ses-2/003-MR/00001.dcm")
    assert second.StudyInstanceUID == KEY.uid(f"{ROOT}.2")
    assert not (tmp_path / "out" / dicom.STAGING).exists()


def test_colliding_series_and_instance_numbers_get_keyed_names(tmp_path):
    src = tmp_path / "src"
    a = make_dataset(instance=1)
    b = make_dataset(instance=2)
    b.SeriesInstanceUID = f"{ROOT}.1.4"  # another series with the same number
    c = make_dataset(instance=3)
    c.InstanceNumber = 1  # two files of one series numbered 1
    for i, ds in enumerate((a, b, c)):
        write(ds, src / f"{i}.dcm")
    write(make_dataset(instance=1), src / "copy_of_0.dcm")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    folders = sorted(s["series"] for s in report.series)
    assert len(folders) == 2 and all(f.startswith("003-MR-") for f in folders)
    assert [r["reason"] for r in report.left_out] == [
        "a copy of another file (same SOP Instance UID)"]
    written = list((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == 3


def test_destination_inside_source_is_refused(tmp_path):
    src = _good_folder(tmp_path / "src")
    for dst in (src, src / "out", src / "JANSEN_20240311" / "x"):
        with pytest.raises(dicom.DestinationError, match="never written"):
            dicom.deidentify_folder(src, dst, KEY, progress=False)
    assert not (src / "out").exists()


def test_report_saved_as_json_and_text(tmp_path):
    src = _good_folder(tmp_path / "src")
    report = dicom.deidentify_folder(src, tmp_path / "out", load_or_random_key(None), BASIC,
                                     progress=False)
    json_path, text_path = report.save(tmp_path / "out_report")
    assert json_path.name == "out_report.json" and text_path.name == "out_report.txt"
    text = text_path.read_text()
    assert "2026c" in text and "random" in text and "SC_19870412.dcm" in text
    import json

    data = json.loads(json_path.read_text())
    assert data["series"][0]["files"] == 3 and data["options"] == []


def test_list_identifiers_finds_nested_private_and_file_meta():
    table = dicom.list_identifiers(make_dataset())
    rows = {(r.where, r.attribute): r for r in table.itertuples()}
    assert rows[("file meta", "SourceApplicationEntityTitle")].value == "VUMC_MR3"
    assert rows[("", "PatientName")].why == "the participant's name"
    nested = table[table["where"].str.contains("ReferencedStudySequence")]
    assert "PatientName" in set(nested["attribute"])
    assert (table["action"] == "X (private)").sum() == 4  # one of them inside a sequence
    assert "RepetitionTime" not in set(table["attribute"])
    kept = dicom.list_identifiers(make_dataset(), ALL)
    assert "PatientSex" not in set(kept["attribute"])
