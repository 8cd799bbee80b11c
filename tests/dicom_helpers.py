"""A tiny synthetic MR image with identifiers in every place, for the DICOM tests.

Imported as ``from dicom_helpers import ...`` by tests/test_dicom_*.py and others.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from mrishare.keys import Key

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
    """Write a valid Part 10 file (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def to_bytes(ds: Dataset) -> bytes:
    """The bytes of a valid Part 10 file."""
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def without_file_meta(ds: Dataset) -> bytes:
    """The bytes of a bare data set, as old exports write: no preamble, no file meta header."""
    ds = copy.deepcopy(ds)
    del ds.file_meta
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, ds)
    return buffer.getvalue()
