"""Tests of mrishare.audit.harvest: what a source gives, read from the identifiers table."""

from __future__ import annotations

import datetime as dt

import pytest
from audit_helpers import ROOT, write_dicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from mrishare import audit, data, identifiers


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> audit.IdentifierSet:
    source = tmp_path_factory.mktemp("src")
    write_dicom(source / "JANSEN_MARIEKE_19870412" / "20240311_VUMC0047131" / "IM00001.dcm")
    return audit.harvest(source)


def test_harvest_collects_the_planted_kinds(harvested):
    counts = harvested.counts()
    for kind in ("patient name", "patient id", "birth date", "scan date", "institution",
                 "staff name", "device serial number", "station name", "accession number",
                 "telephone", "uid", "uid root", "source path name"):
        assert counts.get(kind, 0) > 0, kind
    assert ROOT in harvested.uid_roots


def test_harvest_of_the_sample_study():
    ids = audit.harvest(data.sample_path("dicom_study", verify=False))
    assert {m.kind for m in ids.find("Pieter de Boer")} == {"patient name"}
    assert {m.kind for m in ids.find("DEBOER_PIETER_19791130")} >= {"source path name"}
    assert [m.kind for m in ids.find("Ziekenhuislaan 1")] == ["address"]
    assert [m.kind for m in ids.find("call 555-0199")] == ["telephone"]
    assert [m.kind for m in ids.find("note: Colleague of the PI")] == ["free text"]
    assert "1.2.999.4711" in ids.uid_roots


def test_a_file_without_file_meta_header_is_harvested(tmp_path):
    """The one DICOM reader accepts bare data sets, so the harvest does too."""
    write_dicom(tmp_path / "src" / "IM1", file_meta=False, PatientName="Kowalczyk^Zofia")
    ids = audit.harvest(tmp_path / "src")
    assert [m.kind for m in ids.find("Zofia Kowalczyk")] == ["patient name"]


# ----------------------------------------------------------------------------- one table


def _value(vr: str, index: int) -> str:
    """A value of this VR, specific enough to be searched if it were harvested."""
    if vr == "PN":
        return f"Fam{index:03d}qz^Given{index:03d}qx"
    if vr == "DA":
        return (dt.date(1931, 1, 1) + dt.timedelta(days=97 * index)).strftime("%Y%m%d")
    if vr == "TM":
        return f"0930{index % 60:02d}.4711"
    if vr == "DS":
        return f"{index}.12345678"
    if vr == "AS":
        return "036Y"
    if vr == "CS":
        return "F"
    return f"Qz{index:03d}wvkx"


def _planted(tmp_path) -> dict[str, str]:
    """One file holding every attribute of the identifiers table, each a different value."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = "2.25.1"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.4", "2.25.1"
    planted = {}
    for index, row in enumerate(identifiers.attributes()):
        value = _value(dictionary_VR(row.keyword), index)
        target = ds.file_meta if row.tag.startswith("(0002") else ds
        setattr(target, row.keyword, value)
        planted[row.keyword] = value
    ds.Manufacturer = "Qzmanufacturerwv"  # LO, not in the table: not harvested
    ds.save_as(tmp_path / "src" / "IM1.dcm", enforce_file_format=True)
    return planted


def test_harvest_follows_the_identifiers_table(tmp_path):
    """Every attribute the table marks as harvested is harvested, and no other."""
    (tmp_path / "src").mkdir()
    planted = _planted(tmp_path)
    ids = audit.harvest(tmp_path / "src")
    table = {row.keyword: row for row in identifiers.attributes()}
    harvested_wrongly, missed = [], []
    for keyword, value in planted.items():
        kinds = {m.kind for m in ids.find(value)}
        if table[keyword].harvest and table[keyword].kind not in kinds:
            missed.append(keyword)
        if not table[keyword].harvest and kinds:
            harvested_wrongly.append(keyword)
    assert missed == [] and harvested_wrongly == []
    assert ids.find("Qzmanufacturerwv") == []


@pytest.mark.parametrize("row", identifiers.attributes(), ids=lambda row: row.keyword)
def test_harvest_kind_is_the_kind_of_the_table(row):
    expected = row.kind if row.harvest else None
    assert audit.harvest_kind(row.keyword, dictionary_VR(row.keyword)) == expected


def test_harvest_kind_by_value_representation():
    vrs = identifiers.harvested_vrs()
    assert audit.harvest_kind("", "PN") == vrs["PN"]  # a private person name
    assert audit.harvest_kind("ContentDate", "DA") == vrs["DA"]
    assert audit.harvest_kind("Manufacturer", "LO") is None
    assert audit.harvest_kind("ReferencedImageSequence", "SQ") is None


# ----------------------------------------------------------------------------- listed values


def test_identifier_file(tmp_path):
    listed = tmp_path / "ids.txt"
    listed.write_text("# study codes\nPROJ-2024-117\nBakker^Sanne\tstaff name\n"
                      "1.2.999.4711.9.9\tuid\n")
    ids = audit.read_identifier_file(listed)
    assert [m.kind for m in ids.find("PROJ-2024-117")] == ["listed"]
    assert [m.kind for m in ids.find("sanne bakker")] == ["staff name"]
    assert [m.kind for m in ids.find("ref 1.2.999.4711.9.9")] == ["uid"]
    with pytest.raises(FileNotFoundError, match="one value per line"):
        audit.read_identifier_file(tmp_path / "missing.txt")
