"""Finding series: one DICOM reader for every command, identifiers from the one table."""

from __future__ import annotations

import pytest
from bids_study import KEY, planted_study, write_bare

from mrishare import bids, data, identifiers, readers


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("source") / "PACS_EXPORT"
    return root, planted_study(root)


def test_files_that_are_not_dicom_are_skipped_with_the_readers_message(tmp_path):
    series = sorted(data.sample_path("dicom_study").glob("DEBOER_*/*/003_*"))[0]
    source = tmp_path / "src"
    write_bare(series, source / "old_export")
    (source / "notes.txt").write_text("scanned on a Tuesday\n")
    (source / "empty.dcm").write_bytes(b"")
    found, skipped = bids.find_series(source)
    assert [len(s.files) for s in found] == [len(list(series.iterdir()))]
    messages = {p.source: p.message for p in skipped}
    for name, path in (("notes.txt", source / "notes.txt"), ("empty.dcm", source / "empty.dcm")):
        with pytest.raises(readers.BadInputError) as refused:
            readers.read_dicom(path, stop_before_pixels=True)
        assert messages[name] == str(refused.value)


def test_a_dicom_file_that_is_no_image_is_skipped_and_named(tmp_path):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.1.3.10"  # Media Storage Directory (a DICOMDIR)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    pydicom.dcmwrite(tmp_path / "DICOMDIR", ds, enforce_file_format=True)
    found, skipped = bids.find_series(tmp_path)
    assert found == [] and skipped[0].source == "DICOMDIR"
    assert "not part of an image series" in skipped[0].message


def test_series_identifiers_are_the_harvested_attributes(study):
    all_series, _ = bids.find_series(study[0])
    quagga = next(s for s in all_series if "QUAGGAFAM" in s.folder)
    found = quagga.identifiers()
    harvested = identifiers.harvested_keywords()
    for keyword in ("InstitutionalDepartmentName", "PatientAddress", "PatientTelephoneNumbers",
                    "OperatorsName", "StationName", "AccessionNumber"):
        assert keyword in harvested and str(quagga.info[keyword]) in found, keyword
    # names count whole and word by word; short values and clock times are left out
    assert {"Quaggafam^Zebragiven", "Quaggafam", "Zebragiven", "Refquagga"} <= found
    assert "OTHQZ-77-31" in found  # a patient ID inside OtherPatientIDsSequence
    assert all(len(v) >= 4 for v in found)
    assert quagga.participant == "QZP0047131"
    assert quagga.study.participant == quagga.participant


def test_sessions_are_numbered_by_date_for_the_converted_series(study):
    all_series, _ = bids.find_series(study[0])
    assert bids.uses_sessions(all_series)
    key_labels = {KEY.label(s.participant) for s in all_series}
    assert len(key_labels) == 2
