"""Simulated scans written as DICOM, the way scanner and PACS exports write them.

Every identifier written here is invented: the sample study of the book (made by
``tools/make_samples.py``) plants names, numbers, addresses and dates in every place real
exports carry them, so that the book can show where they hide and the tests can prove they
are removed.

Examples
--------
>>> from mrishare.lessons import dicom_export
>>> dicom_export.MR_IMAGE_STORAGE  # the SOP class of every slice written here
'1.2.840.10008.5.1.4.1.1.4'
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.uid import UID

__all__ = ["write_dicom_series", "write_dicom_volumes", "write_screenshot"]

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
SECONDARY_CAPTURE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
PRIVATE_CREATOR = "ACME MR HEADER 1.0"
# Private elements of the invented vendor (block 0x10 of group 0x0029): keyword -> (element, VR)
PRIVATE_ELEMENTS = {
    "PatientNameCopy": (0x10, "LO"),
    "PatientIDCopy": (0x11, "LO"),
    "OperatorNote": (0x12, "LT"),
    "CoilName": (0x20, "LO"),  # a safe, technical value
}


def _uid(root: str, *parts: object) -> str:
    """Return a UID under the invented site root, made from readable parts (digits only)."""
    return ".".join([root, *[str(p) for p in parts]])[:64]


def _dicom_date(text: str) -> str:
    return text.replace("-", "")


def _common_dataset(person: dict, study: dict, series: dict, sop_class: str):
    """Patient, study and series modules shared by every instance of a series."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta.SourceApplicationEntityTitle = study["ae_title"]
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    # Patient
    ds.PatientName = person["name"]
    ds.PatientID = person["id"]
    other = Dataset()
    other.PatientID = person["other_id"]
    other.IssuerOfPatientID = study["institution"]
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = pydicom.Sequence([other])
    ds.PatientBirthDate = _dicom_date(person["birth_date"])
    ds.PatientSex = person["sex"]
    ds.PatientAge = study["age"]
    ds.PatientSize = person["height_m"]
    ds.PatientWeight = person["weight_kg"]
    ds.PatientAddress = person["address"]
    ds.PatientTelephoneNumbers = person["telephone"]
    ds.AdditionalPatientHistory = person["history"]
    ds.PatientComments = person["comments"]
    # Study
    ds.StudyInstanceUID = study["uid"]
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study["date"]
    ds.StudyTime = study["time"]
    ds.AccessionNumber = study["accession"]
    ds.StudyID = study["study_id"]
    ds.StudyDescription = study["description"]
    ds.ReferringPhysicianName = study["referring"]
    ds.InstitutionName = study["institution"]
    ds.InstitutionAddress = study["institution_address"]
    ds.InstitutionalDepartmentName = study["department"]
    ds.PerformingPhysicianName = study["performing"]
    ds.OperatorsName = study["operator"]
    ds.StationName = study["station"]
    ds.DeviceSerialNumber = study["serial"]
    ds.Manufacturer = "ACME Medical Systems"
    ds.ManufacturerModelName = "Simulated 3T"
    ds.SoftwareVersions = "sim 1.0"
    request = Dataset()
    request.RequestedProcedureID = study["accession"]
    request.ScheduledProcedureStepID = f"SPS-{person['id']}"
    request.RequestedProcedureDescription = f"MRI brain research {person['name'].family_name}"
    request.RequestingPhysician = study["referring"]  # a person, nested in a sequence
    request.ReferencedStudySequence = pydicom.Sequence([Dataset()])
    request.ReferencedStudySequence[0].ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    request.ReferencedStudySequence[0].ReferencedSOPInstanceUID = study["uid"]
    ds.RequestAttributesSequence = pydicom.Sequence([request])
    # Series
    ds.SeriesInstanceUID = series["uid"]
    ds.SeriesNumber = series["number"]
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = series["time"]
    ds.SeriesDescription = series["description"]
    ds.ProtocolName = series["protocol"]
    ds.Modality = series.get("modality", "MR")
    ds.BodyPartExamined = "HEAD"
    ds.ImageComments = series["comments"]
    block = ds.private_block(0x0029, PRIVATE_CREATOR, create=True)
    for keyword, (element, vr) in PRIVATE_ELEMENTS.items():
        block.add_new(element, vr, series["private"][keyword])
    return ds


def _slice_dataset(person: dict, study: dict, series: dict, affine: NDArray[np.float64],
                   k: int, number: int) -> Dataset:
    """Return the header of slice ``k``, instance ``number``, without its pixels.

    The common modules, the instance's UID, its place in space (DICOM's LPS coordinates) and
    the series' acquisition parameters.
    """
    ds = _common_dataset(person, study, series, MR_IMAGE_STORAGE)
    ds.SOPInstanceUID = _uid(series["uid"], number)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(ds.SOPInstanceUID)
    ds.InstanceNumber = number
    ds.FrameOfReferenceUID = study["frame_uid"]
    ds.PositionReferenceIndicator = ""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    lps = np.diag([-1.0, -1.0, 1.0])
    matrix = lps @ affine[:3, :3]
    zooms = np.linalg.norm(matrix, axis=0)
    directions = matrix / zooms
    position = lps @ (affine @ np.array([0.0, 0.0, k, 1.0]))[:3]
    ds.ImagePositionPatient = [f"{v:.6f}" for v in position]
    ds.ImageOrientationPatient = [f"{v:.8f}" for v in (*directions[:, 0], *directions[:, 1])]
    ds.SliceLocation = f"{float(position @ directions[:, 2]):.6f}"
    ds.PixelSpacing = [f"{zooms[1]:.6f}", f"{zooms[0]:.6f}"]
    ds.SliceThickness = f"{zooms[2]:.6f}"
    ds.SpacingBetweenSlices = f"{zooms[2]:.6f}"
    for keyword, value in series["acquisition"].items():
        setattr(ds, keyword, value)
    return ds


def _save_slice(ds: Dataset, pixels: np.ndarray, path: Path) -> Path:
    """Add the image pixel module of one slice (voxel (c, r) is pixel (r, c)) and save it."""
    ds.MagneticFieldStrength = 3
    ds.PatientPosition = "HFS"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[1], pixels.shape[0]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = 500, 1000
    ds.PixelData = np.ascontiguousarray(pixels.T).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def write_dicom_series(
    image: nib.Nifti1Image,
    folder: str | Path,
    person: dict,
    study: dict,
    series: dict,
    file_pattern: str = "IM{:05d}.dcm",
) -> list[Path]:
    """Write a 3D image as an MR DICOM series, one file per slice.

    Slices run along the image's third voxel axis. Pixel (row r, column c) of slice k is
    voxel (c, r, k), so ImageOrientationPatient holds the directions of voxel axes 0 and 1
    (in DICOM's LPS coordinates) and ImagePositionPatient the corner of each slice.

    Parameters
    ----------
    image : nibabel.Nifti1Image
        Unsigned 16-bit data (values up to 4095).
    folder : str or Path
        Created if needed.
    person, study, series : dict
        Invented identifiers and acquisition parameters (see ``tools/make_samples.py``).
    file_pattern : str
        File names, formatted with the instance number.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = np.asarray(image.dataobj)
    if data.dtype != np.uint16:
        raise TypeError(f"write_dicom_series needs uint16 data, got {data.dtype}")
    affine = np.asarray(image.affine, dtype=np.float64)
    paths = []
    for k in range(data.shape[2]):
        ds = _slice_dataset(person, study, series, affine, k, number=k + 1)
        ds.AcquisitionNumber = 1
        paths.append(_save_slice(ds, data[:, :, k], folder / file_pattern.format(k + 1)))
    return paths


def write_screenshot(
    image: nib.Nifti1Image,
    path: str | Path,
    person: dict,
    study: dict,
    series: dict,
) -> Path:
    """Write a secondary capture: a slice with the patient's name burned into the pixels.

    Scanner consoles and PACS viewers save such screenshots; the text is part of the image,
    so no header scrubbing removes it. The file says ``BurnedInAnnotation = YES``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    volume = np.asarray(image.dataobj, dtype=float)
    slab = volume[:, :, volume.shape[2] // 2].T
    figure = Figure(figsize=(2.56, 2.56), dpi=100, facecolor="black")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.imshow(slab, cmap="gray", origin="lower", vmin=0, vmax=np.percentile(slab, 99.5))
    axes.set_axis_off()
    name = str(person["name"]).replace("^", " ")
    text = f"{name}\n{person['id']}  DOB {person['birth_date']}\n{study['institution']}"
    axes.text(0.02, 0.98, text, color="white", fontsize=6, va="top", transform=axes.transAxes)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].mean(axis=2).astype(np.uint8)

    ds = _common_dataset(person, study, series, SECONDARY_CAPTURE_STORAGE)
    ds.SOPInstanceUID = _uid(series["uid"], 1)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(ds.SOPInstanceUID)
    ds.InstanceNumber = 1
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.ImageType = ["DERIVED", "SECONDARY", "SCREENSHOT"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = pixels.tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_dicom_volumes(
    volumes: list[tuple[NDArray, dict]],
    affine: NDArray[np.float64],
    folder: str | Path,
    person: dict,
    study: dict,
    series: dict,
    *,
    slice_times_ms: list[float] | None = None,
    file_pattern: str = "IM{:05d}.dcm",
) -> list[Path]:
    """Write several 3D volumes on one grid as one MR DICOM series, one file per slice.

    The volumes of a functional run, the directions of a diffusion series, or the echoes
    and the magnitude and phase images of a multi-echo series: each volume has its own
    attributes (``EchoTime``, ``EchoNumbers``, ``ImageType``, ``DiffusionBValue``,
    ``DiffusionGradientOrientation``...), set on every file of that volume. Geometry is
    written as by :func:`write_dicom_series` (ImagePositionPatient per slice,
    ImageOrientationPatient, PixelSpacing, SliceThickness), so dcm2niix can stack it.

    Parameters
    ----------
    volumes : list of (numpy.ndarray, dict)
        uint16 3D arrays of one shape, each with its own attributes (DICOM keywords).
    affine : numpy.ndarray
        The voxel-to-world (RAS, mm) matrix of the volumes.
    folder : str or Path
        Created if needed.
    person, study, series : dict
        As for :func:`write_dicom_series`.
    slice_times_ms : list of float, optional
        When each slice is acquired within a volume (ms from the volume's start), for a
        functional run: written as TriggerTime and added to each file's AcquisitionTime
        (volumes start ``RepetitionTime`` apart).
    file_pattern : str
        File names, formatted with the instance number.

    Returns
    -------
    list of Path
        The files written.
    """
    import datetime as dt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = dt.datetime.strptime(str(series["time"])[:6], "%H%M%S")
    repetition = float(series["acquisition"].get("RepetitionTime", 0))
    paths, number = [], 0
    for volume_index, (data, attributes) in enumerate(volumes):
        if data.dtype != np.uint16:
            raise TypeError(f"write_dicom_volumes needs uint16 data, got {data.dtype}")
        for k in range(data.shape[2]):
            number += 1
            ds = _slice_dataset(person, study, series, affine, k, number)
            ds.AcquisitionNumber = volume_index + 1
            ds.TemporalPositionIdentifier = volume_index + 1
            ds.NumberOfTemporalPositions = len(volumes)
            offset = volume_index * repetition
            if slice_times_ms is not None:
                ds.TriggerTime = f"{slice_times_ms[k]:.1f}"
                offset += slice_times_ms[k]
            ds.AcquisitionTime = (start + dt.timedelta(milliseconds=offset)).strftime(
                "%H%M%S.%f")[:13]
            for keyword, value in attributes.items():
                setattr(ds, keyword, value)
            paths.append(_save_slice(ds, data[:, :, k], folder / file_pattern.format(number)))
    return paths
