"""Invented DICOM files the audit tests share (imported as ``from audit_helpers import ...``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from mrishare import audit

NAME = "Jansen^Marieke^A"
PATIENT_ID = "VUMC0047131"
BIRTH = "19870412"
ROOT = "1.2.999.4711"


def write_dicom(path: Path, *, file_meta: bool = True, **overrides) -> Path:
    """A tiny MR file with invented identifiers (2x2 pixels); ``file_meta=False``: bare."""
    ds = Dataset()
    if file_meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        ds.file_meta.MediaStorageSOPInstanceUID = f"{ROOT}.1.1.3.1"
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.SourceApplicationEntityTitle = "VUMC_MR3"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SOPInstanceUID = f"{ROOT}.1.1.3.1"
    ds.StudyInstanceUID = f"{ROOT}.1.1"
    ds.SeriesInstanceUID = f"{ROOT}.1.1.3"
    ds.FrameOfReferenceUID = f"{ROOT}.2.1.1"
    ds.PatientName = NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH
    ds.PatientSex = "F"
    ds.PatientWeight = "64"
    ds.PatientSize = "1.71"
    ds.StudyDate = "20240311"
    ds.InstitutionName = "Voorbeeld University Medical Centre"
    ds.OperatorsName = "Visser^Tom"
    ds.ReferringPhysicianName = "Vries^Anna^de^Dr."
    ds.DeviceSerialNumber = "45817"
    ds.StationName = "VUMC-MR3-CONSOLE"
    ds.AccessionNumber = "ACC20240311011"
    ds.PatientTelephoneNumbers = "555-0147"
    ds.Modality = "MR"
    ds.Rows = ds.Columns = 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.zeros((2, 2), np.uint16).tobytes()
    for keyword, value in overrides.items():
        setattr(ds, keyword, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_meta:
        ds.save_as(path, enforce_file_format=True)
    else:
        ds.save_as(path, implicit_vr=True, little_endian=True)
    return path


def clean_dicom(path: Path) -> Path:
    """A DICOM file with nothing identifying (invented pseudonymous values)."""
    return write_dicom(
        path, PatientName="gfpkkb9j", PatientID="gfpkkb9j", PatientBirthDate="",
        StudyDate="19230105", InstitutionName="", OperatorsName="", ReferringPhysicianName="",
        DeviceSerialNumber="", StationName="", AccessionNumber="", PatientTelephoneNumbers="",
        SOPInstanceUID="2.25.1234567890", StudyInstanceUID="2.25.99", SeriesInstanceUID="2.25.98",
        FrameOfReferenceUID="2.25.97",
    )


def kinds_at(report: audit.AuditReport, place_part: str, profile: bool = False) -> set[str]:
    """Kinds found at a place (attributes the profile removes left out unless asked)."""
    return {f.kind for f in report.findings if place_part in f.place
            and (profile or f.kind != "profile attribute")}
