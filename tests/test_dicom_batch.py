"""Tests for mrishare.dicom.batch: a whole folder, its names, bad inputs and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from dicom_helpers import KEY, ROOT, make_dataset, to_bytes, without_file_meta, write
from test_dicom_leave_out import dicomdir

from mrishare import dicom
from mrishare.dicom.batch import STAGING
from mrishare.keys import load_or_random_key

LABEL = KEY.label("VUMC0047131")


def _good_folder(root: Path) -> Path:
    for study, date in (("1", "20240311"), ("2", "20240422")):
        for i in (1, 2, 3):
            write(make_dataset(study=study, instance=i, date=date),
                  root / f"JANSEN_{date}" / f"IM{i}.dcm")
    shot = make_dataset(instance=9)
    shot.BurnedInAnnotation = "YES"
    write(shot, root / "JANSEN_20240311" / "SC_19870412.dcm")
    return root


def _unreadable_element(path: Path) -> None:
    raw = bytearray(to_bytes(make_dataset(instance=8)))
    at = raw.find(b"\x08\x00\x40\x11SQ")  # Referenced Image Sequence
    inner = raw.find(b"UI", at + 20)
    raw[inner:inner + 2] = b"ZZ"  # an unknown value representation inside it
    path.write_bytes(bytes(raw))


# The reasons come from mrishare.readers (the one reader), except the last one.
BAD_INPUTS = {
    "empty.dcm": (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "notes.txt": (lambda p: p.write_text("Jansen, scanned twice\n" * 20), "not a DICOM file"),
    "cut_pixels.dcm": (lambda p: p.write_bytes(to_bytes(make_dataset(instance=5))[:-3]),
                       "truncated"),
    "cut_header.dcm": (lambda p: p.write_bytes(to_bytes(make_dataset(instance=6))[:700]),
                       "truncated"),
    "bad_element.dcm": (_unreadable_element, "unreadable element"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_each_bad_input_is_named_and_the_rest_is_done(tmp_path, name):
    src = _good_folder(tmp_path / "src")
    make, reason = BAD_INPUTS[name]
    make(src / "JANSEN_20240311" / name)
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    assert [f.source for f in report.failed] == [f"JANSEN_20240311/{name}"]
    assert reason in report.failed[0].reason
    assert report.exit_status == 3
    assert sum(s.files for s in report.series) == 6
    assert name in report.summary()


def test_a_file_without_file_meta_header_is_accepted_and_written_as_part_10(tmp_path):
    src = _good_folder(tmp_path / "src")
    bare = without_file_meta(make_dataset(instance=7))
    assert not bare[128:132] == b"DICM"
    (src / "JANSEN_20240311" / "OLD_EXPORT").write_bytes(bare)
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    assert report.exit_status == 0 and not report.failed
    assert sum(s.files for s in report.series) == 7
    out = tmp_path / "out" / f"sub-{LABEL}/ses-1/003-MR/00007.dcm"
    assert out.read_bytes()[128:132] == b"DICM"
    ds = pydicom.dcmread(out)  # without force: a valid Part 10 file
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID == KEY.uid(
        f"{ROOT}.1.3.7")
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    assert ds.PatientID == LABEL and ds.PixelData == make_dataset().PixelData
    assert b"Jansen" not in out.read_bytes()


def _header_without(ds, *keywords):
    """The bytes of a Part 10 file (explicit VR little endian) whose header lacks these."""
    import io

    for keyword in keywords:
        if keyword in ds.file_meta:
            delattr(ds.file_meta, keyword)
    buffer = io.BytesIO()
    ds.preamble = b"\0" * 128
    pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=True)
    return buffer.getvalue()


def test_a_header_without_transfer_syntax_is_completed(tmp_path):
    """The transfer syntax the data set was read in is named; the group length is right."""
    src = _good_folder(tmp_path / "src")
    raw = _header_without(make_dataset(instance=7), "TransferSyntaxUID",
                          "FileMetaInformationGroupLength", "FileMetaInformationVersion")
    (src / "JANSEN_20240311" / "IM7.dcm").write_bytes(raw)
    assert "TransferSyntaxUID" not in pydicom.dcmread(src / "JANSEN_20240311" / "IM7.dcm",
                                                      force=True).file_meta
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    assert report.exit_status == 0 and not report.failed
    out = tmp_path / "out" / f"sub-{LABEL}/ses-1/003-MR/00007.dcm"
    ds = pydicom.dcmread(out)  # without force: a valid Part 10 file
    meta = ds.file_meta
    assert meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert meta.FileMetaInformationVersion == b"\0\1"
    written = out.read_bytes()
    start = 132 + 12  # the group length element: 12 bytes after 'DICM'
    assert meta.FileMetaInformationGroupLength == written.index(b"\x08\x00", start) - start
    assert ds.PatientID == LABEL


def test_a_file_without_sop_class_fails_with_its_reason(tmp_path):
    src = _good_folder(tmp_path / "src")
    ds = make_dataset(instance=7)
    del ds.SOPClassUID
    (src / "JANSEN_20240311" / "IM7.dcm").write_bytes(
        _header_without(ds, "MediaStorageSOPClassUID"))
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    assert [f.source for f in report.failed] == ["JANSEN_20240311/IM7.dcm"]
    assert "no Media Storage SOP Class UID" in report.failed[0].reason
    assert report.exit_status == 3 and sum(s.files for s in report.series) == 6


def test_a_dicomdir_is_left_out(tmp_path):
    src = _good_folder(tmp_path / "src")
    dicomdir(src / "DICOMDIR")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    assert [r.source for r in report.left_out] == ["DICOMDIR", "JANSEN_20240311/SC_19870412.dcm"]
    assert "DICOMDIR" in report.left_out[0].reason and not report.failed


def test_folder_layout_sessions_and_leave_out(tmp_path):
    src = _good_folder(tmp_path / "src")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, progress=False)
    files = sorted(p.relative_to(tmp_path / "out").as_posix()
                   for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == [f"sub-{LABEL}/ses-{s}/003-MR/{i:05d}.dcm" for s in (1, 2) for i in (1, 2, 3)]
    assert report.exit_status == 0 and not report.failed
    assert report.left_out == [dicom.SkippedFile(
        "JANSEN_20240311/SC_19870412.dcm",
        "BurnedInAnnotation is YES: text is burned into the pixels")]
    second = pydicom.dcmread(tmp_path / "out" / f"sub-{LABEL}/ses-2/003-MR/00001.dcm")
    assert second.StudyInstanceUID == KEY.uid(f"{ROOT}.2")
    assert not (tmp_path / "out" / STAGING).exists()


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
    folders = sorted(s.series for s in report.series)
    assert len(folders) == 2 and all(f.startswith("003-MR-") for f in folders)
    assert [r.reason for r in report.left_out] == [
        "a copy of 0.dcm (same SOP Instance UID, same content): written once"]
    written = list((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == 3


def test_destination_inside_source_is_refused(tmp_path):
    src = _good_folder(tmp_path / "src")
    for dst in (src, src / "out", src / "JANSEN_20240311" / "x"):
        with pytest.raises(dicom.DestinationError, match="never written"):
            dicom.deidentify_folder(src, dst, KEY, progress=False)
    assert not (src / "out").exists()


def test_a_missing_source_is_refused(tmp_path):
    with pytest.raises(dicom.SourceError, match="does not exist"):
        dicom.deidentify_folder(tmp_path / "nothing", tmp_path / "out", KEY)


def test_report_saved_as_json_and_text(tmp_path):
    src = _good_folder(tmp_path / "src")
    report = dicom.deidentify_folder(src, tmp_path / "out", load_or_random_key(None),
                                     dicom.Options(), progress=False)
    json_path, text_path = report.save(tmp_path / "out_report")
    assert json_path.name == "out_report.json" and text_path.name == "out_report.txt"
    text = text_path.read_text()
    assert "2026c" in text and "random" in text and "SC_19870412.dcm" in text
    saved = json.loads(json_path.read_text())
    assert saved["series"][0]["files"] == 3 and saved["options"] == []
    assert saved["left_out"] == [{"source": "JANSEN_20240311/SC_19870412.dcm",
                                  "reason": report.left_out[0].reason}]


def test_two_workers_give_the_same_output_as_one(tmp_path):
    src = _good_folder(tmp_path / "src")
    one = dicom.deidentify_folder(src, tmp_path / "one", KEY, jobs=1)
    two = dicom.deidentify_folder(src, tmp_path / "two", KEY, jobs=2)
    assert one.to_dict() == two.to_dict()
    for path in (tmp_path / "one").rglob("*.dcm"):
        assert path.read_bytes() == (tmp_path / "two" / path.relative_to(tmp_path / "one")
                                     ).read_bytes()


def test_files_sharing_a_uid_are_never_mixed_and_the_mapping_names_each(tmp_path):
    src = tmp_path / "src"
    one = make_dataset(instance=1)
    write(one, src / "a.dcm")
    write(one, src / "b_same.dcm")  # the same object again
    other = make_dataset(instance=1)
    other.PixelData = bytes(range(8, 16))  # another object claiming the same UID
    write(other, src / "c_other.dcm")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY)
    fates = {f.source: f for f in report.files}
    assert [fates[n].fate for n in ("a.dcm", "b_same.dcm", "c_other.dcm")] == [
        "written", "copy", "written"]
    assert fates["b_same.dcm"].output == fates["a.dcm"].output
    assert fates["a.dcm"].output != fates["c_other.dcm"].output
    a = pydicom.dcmread(tmp_path / "out" / fates["a.dcm"].output)
    c = pydicom.dcmread(tmp_path / "out" / fates["c_other.dcm"].output)
    assert a.PixelData == one.PixelData and c.PixelData == other.PixelData  # never mixed
    assert a.SOPInstanceUID != c.SOPInstanceUID != KEY.uid(one.SOPInstanceUID)
    assert c.file_meta.MediaStorageSOPInstanceUID == c.SOPInstanceUID
    again = dicom.deidentify_folder(src, tmp_path / "again", KEY)  # the same UIDs again
    assert pydicom.dcmread(tmp_path / "again" / {f.source: f for f in again.files}[
        "c_other.dcm"].output).SOPInstanceUID == c.SOPInstanceUID
    mapping = report.save_mapping(tmp_path / "out_mapping.tsv").read_text().splitlines()
    assert mapping[0] == "source\tfate\toutput\treason" and len(mapping) == 4
    assert mapping[2].startswith(f"b_same.dcm\tcopy\t{fates['a.dcm'].output}\ta copy of a.dcm")


def test_rt_doses_in_several_transfer_syntaxes_sharing_one_uid(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    doses = [Path(p) for p in pydicom.data.get_testdata_files("rtdose*")]
    for path in doses:
        (src / path.name).write_bytes(path.read_bytes())
    (src / "zz_copy_of_a_dose.dcm").write_bytes(doses[0].read_bytes())
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY)
    fates = {f.source: f for f in report.files}
    written = [f for f in report.files if f.fate == "written"]
    assert len(written) == len(doses)  # each a different object
    assert fates["zz_copy_of_a_dose.dcm"].fate == "copy"
    for fate in written:  # each output holds its own source's pixels
        source, output = pydicom.dcmread(src / fate.source), pydicom.dcmread(
            tmp_path / "out" / fate.output)
        assert output.PixelData == source.PixelData, fate.source
        assert output.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert len({pydicom.dcmread(tmp_path / "out" / f.output).SOPInstanceUID
                for f in written}) == len(written)


def test_content_hash_leaves_the_file_meta_header_aside():
    ds = make_dataset()
    other_sender = make_dataset()
    other_sender.file_meta.SourceApplicationEntityTitle = "ELSEWHERE"
    assert dicom.content_hash(to_bytes(ds)) == dicom.content_hash(to_bytes(other_sender))
    assert dicom.content_hash(to_bytes(ds)) != dicom.content_hash(to_bytes(make_dataset(
        instance=2)))
