"""One way to read DICOM files, for every command.

``deidentify-dicom``, ``to-bids``, ``prepare`` and ``audit`` all decide "is this a DICOM
file, and can it be read?" here, so a file is accepted (or refused) the same way, with the
same message, whichever command meets it.

Accepted: DICOM Part 10 files (a 128-byte preamble, ``DICM``, the file meta header), and
files **without** the file meta header that old exports and some PACS write (a bare data
set, usually implicit VR little endian). For those a file meta header is made from the data
set itself, so they can be written back as valid Part 10 files.

Refused, with a message that says what is wrong: empty files, files that are not DICOM,
truncated files, and data sets without a SOP Instance UID.

Examples
--------
>>> from mrishare import data, readers
>>> ds = readers.read_dicom(data.sample_path("pydicom_MR_small"))
>>> ds.Modality
'MR'
>>> readers.is_dicom(data.sample_path("participant_T1w"))
False
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mrishare.errors import BadInputError

__all__ = ["GZIP_MAGIC", "NO_FILE_META", "is_dicom", "load_nifti", "read_dicom", "save_nifti"]

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip file (``.nii.gz``)."""

NO_FILE_META = "no DICOM file meta header (read as a bare data set)"
"""The note :func:`read_dicom` leaves on a data set read without a file meta header."""

_NOT_DICOM = "not a DICOM file"


def _bare(path: Path, stop_before_pixels: bool, specific_tags: list[Any] | None) -> Dataset:
    """Read a file without file meta header, or raise BadInputError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=stop_before_pixels,
                                 specific_tags=specific_tags)
            tags = [t for t in ds.keys() if not t.is_private and t.group > 2]
            ok = bool(tags) and "SOPInstanceUID" in ds and "SOPClassUID" in ds
            # A text or binary file read by force gives garbage tags: check the VRs.
            ok = ok and all(ds[t].VR is not None for t in tags[:8])
    except Exception:
        ok = False
    if not ok:
        raise BadInputError(_NOT_DICOM)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if ds.is_implicit_VR else (
        ExplicitVRLittleEndian if ds.is_little_endian else ExplicitVRBigEndian)
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    ds.mrishare_note = NO_FILE_META  # type: ignore[attr-defined]
    return ds


def _check_complete(ds: Dataset, pixels: bool) -> None:
    """Raise BadInputError when the file ends early or lacks what identifies an instance."""
    tags = list(ds.keys())
    if tags:
        last = ds.get_item(tags[-1])
        if isinstance(last, RawDataElement) and last.length != 0xFFFFFFFF:
            if last.value is not None and len(last.value) < last.length:
                raise BadInputError(
                    f"truncated: element {BaseTag(last.tag)} has {len(last.value)} of "
                    f"{last.length} bytes"
                )
    if "SOPInstanceUID" not in ds:
        raise BadInputError("truncated or incomplete: no SOP Instance UID")
    if pixels and "Rows" in ds and not ({"PixelData", "FloatPixelData",
                                         "DoubleFloatPixelData"} & set(ds.dir())):
        raise BadInputError("truncated: an image without pixel data")


def read_dicom(
    path: str | os.PathLike,
    *,
    stop_before_pixels: bool = False,
    specific_tags: list[Any] | None = None,
) -> Dataset:
    """Read one DICOM file, or raise :class:`~mrishare.errors.BadInputError` saying why not.

    Parameters
    ----------
    path : str or path-like
        The file.
    stop_before_pixels : bool, default False
        Read the header only (fast; no check that pixel data are complete).
    specific_tags : list, optional
        Read only these attributes (keywords or tags), as :func:`pydicom.dcmread` does.

    Returns
    -------
    pydicom.dataset.Dataset
        With a file meta header (made from the data set when the file had none; then
        ``ds.mrishare_note`` is :data:`NO_FILE_META`).

    Raises
    ------
    BadInputError
        ``"empty file (0 bytes)"``, ``"not a DICOM file"``, ``"truncated ..."`` or
        ``"unreadable: ..."``.

    Examples
    --------
    >>> from mrishare import data
    >>> read_dicom(data.sample_path("pydicom_MR_small"), stop_before_pixels=True).Rows
    64
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise BadInputError("empty file (0 bytes)")
    except OSError as error:
        raise BadInputError(f"unreadable: {error.strerror}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels,
                                 specific_tags=specific_tags)
    except InvalidDicomError:
        ds = _bare(path, stop_before_pixels, specific_tags)
    except Exception as error:
        raise BadInputError(f"truncated or corrupt: {error}") from None
    if specific_tags is None:
        _check_complete(ds, pixels=not stop_before_pixels)
    elif "SOPInstanceUID" not in ds and "SOPInstanceUID" in [str(t) for t in specific_tags]:
        raise BadInputError("truncated or incomplete: no SOP Instance UID")
    return ds


def is_dicom(path: str | os.PathLike) -> bool:
    """Say whether :func:`read_dicom` would accept a file (reads its header only).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    bool

    Examples
    --------
    >>> from mrishare import data
    >>> is_dicom(data.sample_path("pydicom_MR_small"))
    True
    """
    try:
        read_dicom(path, stop_before_pixels=True)
    except BadInputError:
        return False
    return True


# ----------------------------------------------------------------------------- NIfTI


def load_nifti(img: Any) -> Any:
    """Return a NIfTI image: load a path (checked), or pass a loaded image through.

    See :func:`mrishare.nifti.load_nifti` for the checks and the messages.

    Parameters
    ----------
    img : str, path-like or nibabel image

    Returns
    -------
    nibabel.Nifti1Image or nibabel.Nifti2Image

    Examples
    --------
    >>> from mrishare import data
    >>> load_nifti(data.sample_path("participant_T1w")).ndim
    3
    """
    from mrishare import nifti

    return nifti.load_nifti(img)


def save_nifti(img: Any, path: str | os.PathLike, level: int = 1) -> Path:
    """Write a NIfTI image atomically, gzip header without name or time (``.nii.gz``).

    See :func:`mrishare.nifti.save_nifti`.

    Parameters
    ----------
    img : nibabel image
    path : str or path-like
    level : int, default 1
        The gzip compression level.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mrishare import data
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t1.nii.gz"
    >>> save_nifti(load_nifti(data.sample_path("participant_T1w")), out).is_file()
    True
    """
    from mrishare import nifti

    return nifti.save_nifti(img, Path(path), level)
