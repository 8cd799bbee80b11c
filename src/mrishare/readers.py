"""One way to read DICOM files, and one to load and save NIfTI files, for every command.

``deidentify-dicom``, ``to-bids``, ``prepare`` and ``audit`` all decide "is this a DICOM
file, and can it be read?" here, so a file is accepted (or refused) the same way, with the
same message, whichever command meets it. NIfTI files are read (:func:`load_nifti`,
:func:`read_nifti_raw`) and written (:func:`save_nifti`, :func:`write_nifti_raw`) here too:
every reader gives the same :class:`~mrishare.errors.NiftiReadError` for a damaged file, and
every writer leaves a gzip header without file name or time.

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
>>> readers.load_nifti(data.sample_path("participant_T1w")).ndim
3
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pydicom
from isal import igzip
from isal.igzip_lib import IsalError
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mrishare._paths import GZIP_LEVEL, atomic_write, write_gzip
from mrishare.errors import BadInputError, NiftiReadError

__all__ = [
    "GZIP_MAGIC",
    "NO_FILE_META",
    "RawNifti",
    "is_dicom",
    "load_nifti",
    "read_dicom",
    "read_nifti_raw",
    "save_nifti",
    "write_gzip",
    "write_nifti_raw",
]

# Pixel Data, Float Pixel Data, Double Float Pixel Data; (0028,0010) is Rows.
_PIXEL_DATA_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)

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
    tags = ds.keys()
    if tags:
        last = ds.get_item(list(tags)[-1])  # elements are read in file order
        if isinstance(last, RawDataElement) and last.length != 0xFFFFFFFF:
            if last.value is not None and len(last.value) < last.length:
                raise BadInputError(
                    f"truncated: element {BaseTag(last.tag)} has {len(last.value)} of "
                    f"{last.length} bytes"
                )
    if "SOPInstanceUID" not in ds:
        raise BadInputError("truncated or incomplete: no SOP Instance UID")
    if pixels and 0x00280010 in ds and not any(tag in ds for tag in _PIXEL_DATA_TAGS):
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

# nibabel is imported where NIfTI is read or written, so that reading DICOM (every command's
# first step) does not pay for it.


@functools.cache
def _header_classes() -> dict[int, Any]:
    """Return the NIfTI header class for each header size (348: NIfTI-1, 540: NIfTI-2)."""
    from nibabel import nifti1, nifti2

    return {348: nifti1.Nifti1Header, 540: nifti2.Nifti2Header}


@dataclass
class RawNifti:
    """A single-file NIfTI as stored: its header, its image data block and any stray bytes.

    Attributes
    ----------
    header : nibabel.nifti1.Nifti1Header or nibabel.nifti2.Nifti2Header
        The header, extensions included.
    data : bytes
        The image data block, exactly as stored (no scaling applied).
    gap : int
        How many bytes between the header (with its extensions) and the image data hold
        something other than zeros (0 when the gap is empty or zero-filled).
    trailing : int
        How many bytes follow the image data.
    """

    header: Any
    data: bytes = field(repr=False)
    gap: int = 0
    trailing: int = 0


_DAMAGED_GZIP: tuple[type[Exception], ...] = (OSError, EOFError, cast(type[Exception], IsalError))
"""What a truncated or corrupt gzip stream raises (ISA-L's stubs type its error oddly)."""


def _read_bytes(path: Path) -> bytes:
    """Return the bytes of a ``.nii`` or ``.nii.gz`` file, decompressed."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise NiftiReadError(f"Cannot read {path}: {error.strerror}.") from None
    if raw[:2] != GZIP_MAGIC:
        if path.name.endswith(".gz"):
            raise NiftiReadError(
                f"{path} ends in .gz but is not gzip-compressed. Rename it to .nii, or get "
                "a fresh copy."
            )
        return raw
    try:
        return igzip.decompress(raw)
    except _DAMAGED_GZIP as error:
        raise NiftiReadError(
            f"{path} is a damaged gzip file ({error}). The copy is probably incomplete: "
            "copy or download it again, or convert the DICOM series again."
        ) from None


def _parse(raw: bytes, path: Path | str) -> RawNifti:
    """Split NIfTI bytes into header, data block and stray bytes, checking each."""
    size = None
    for order in ("<", ">"):
        if len(raw) >= 4:
            candidate = int(np.frombuffer(raw[:4], dtype=f"{order}i4")[0])
            if candidate in _header_classes():
                size = candidate
    if size is None:
        raise NiftiReadError(
            f"{path} is not a NIfTI file: its first 4 bytes should give a header size of "
            "348 (NIfTI-1) or 540 (NIfTI-2)."
        )
    if len(raw) < size:
        raise NiftiReadError(f"{path} is cut short inside its {size}-byte NIfTI header.")
    try:
        header = _header_classes()[size].from_fileobj(io.BytesIO(raw), check=False)
    except Exception as error:  # nibabel raises several kinds for damaged extensions
        raise NiftiReadError(f"{path}: the NIfTI header extensions are damaged "
                             f"({error}).") from None
    magic = bytes(header["magic"].item())
    if magic[:3] not in (b"n+1", b"n+2"):
        raise NiftiReadError(
            f"{path} is the header of a NIfTI pair (magic {magic[:3]!r}); mrishare reads "
            "single-file NIfTI. Join the pair first, e.g. with nibabel: "
            "nib.save(nib.load('x.hdr'), 'x.nii.gz')."
        )
    offset = int(header["vox_offset"])
    shape = header.get_data_shape()
    nbytes = int(np.prod(shape, dtype=np.int64)) * header.get_data_dtype().itemsize
    data = raw[offset : offset + nbytes]
    if len(data) < nbytes:
        raise NiftiReadError(
            f"{path} is cut short: the header promises {nbytes} bytes of image data, the "
            f"file holds {len(data)}. Copy or convert it again."
        )
    gap = raw[size + 4 + int(header.extensions.get_sizeondisk()) : offset]
    return RawNifti(header, data, len(gap) if gap.strip(b"\x00") else 0,
                    len(raw) - offset - nbytes)


def read_nifti_raw(path: str | os.PathLike) -> RawNifti:
    """Read a single-file NIfTI as stored, without interpreting its voxels.

    Parameters
    ----------
    path : str or path-like
        A ``.nii`` or ``.nii.gz`` file (NIfTI-1 or NIfTI-2, either byte order).

    Returns
    -------
    RawNifti

    Raises
    ------
    NiftiReadError
        When the file is missing, not NIfTI, cut short, a damaged ``.gz`` or the header of
        a NIfTI pair; the message names the file.

    Examples
    --------
    >>> from mrishare import data
    >>> raw = read_nifti_raw(data.sample_path("participant_T1w"))
    >>> raw.header.get_data_shape() == load_nifti(data.sample_path("participant_T1w")).shape
    True
    """
    path = Path(path)
    return _parse(_read_bytes(path), path)


def load_nifti(img: Any) -> Any:
    """Return a NIfTI image: load a path (checked), or pass a loaded image through.

    Parameters
    ----------
    img : str, path-like or nibabel image

    Returns
    -------
    nibabel.Nifti1Image or nibabel.Nifti2Image

    Raises
    ------
    NiftiReadError
        When the file is missing, not NIfTI, cut short, or a damaged ``.gz``; the message
        names the file.

    Examples
    --------
    >>> from mrishare import data
    >>> load_nifti(data.sample_path("participant_T1w")).ndim
    3
    """
    import nibabel as nib

    if isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        return img
    path = Path(img)
    payload = _read_bytes(path)
    raw = _parse(payload, path)
    image_class = nib.Nifti2Image if int(raw.header["sizeof_hdr"]) == 540 else nib.Nifti1Image
    return image_class.from_bytes(payload)


def _to_bytes(header: Any, data: bytes) -> bytes:
    header = header.copy()
    header["vox_offset"] = 0  # write_to sets the smallest valid offset
    out = io.BytesIO()
    header.write_to(out)
    out.write(data)
    return out.getvalue()


def _write_payload(path: Path, payload: bytes | Iterable[bytes], level: int = GZIP_LEVEL
                   ) -> Path:
    if path.name.endswith(".gz"):
        return write_gzip(path, payload, level)
    with atomic_write(path) as f:
        for chunk in [payload] if isinstance(payload, bytes) else payload:
            f.write(chunk)
    return path


def write_nifti_raw(header: Any, data: bytes, path: str | os.PathLike,
                    level: int = GZIP_LEVEL) -> Path:
    """Write a NIfTI header and a stored image data block, nothing else, atomically.

    The data block is written byte for byte after the header (no re-quantising); the
    smallest valid ``vox_offset`` is set. A ``.nii.gz`` gets a gzip header without file
    name and with modification time 0.

    Parameters
    ----------
    header : nibabel NIfTI-1 or NIfTI-2 header
        With the extensions to write.
    data : bytes
        The image data block, as :func:`read_nifti_raw` returns it.
    path : str or path-like
        ``.nii`` or ``.nii.gz``.
    level : int, default :data:`mrishare._paths.GZIP_LEVEL`
        ISA-L's compression level, 0 to 3.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mrishare import data
    >>> raw = read_nifti_raw(data.sample_path("participant_T1w"))
    >>> out = write_nifti_raw(raw.header, raw.data, pathlib.Path(tempfile.mkdtemp()) / "a.nii")
    >>> read_nifti_raw(out).data == raw.data
    True
    """
    return _write_payload(Path(path), _to_bytes(header, data), level)


def save_nifti(img: Any, path: str | os.PathLike, level: int = GZIP_LEVEL) -> Path:
    """Save an image without re-quantising its voxels, gzip header empty, atomically.

    nibabel's own ``save`` recomputes the scaling (``scl_slope``, ``scl_inter``) of
    images whose data were read from disk, which changes the stored integers. Here an
    image read from a file is written from its *unscaled* stored values with its header's
    scaling; an image made from an array is written as that array (no scaling).

    Parameters
    ----------
    img : nibabel.Nifti1Image or Nifti2Image
        The image.
    path : str or path-like
        ``.nii.gz`` (gzip with no file name and mtime 0) or ``.nii``.
    level : int, default :data:`mrishare._paths.GZIP_LEVEL`
        ISA-L's compression level, 0 to 3.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import nibabel as nib
    >>> img = nib.Nifti1Image(np.arange(8, dtype=np.int16).reshape(2, 2, 2), np.eye(4))
    >>> out = save_nifti(img, pathlib.Path(tempfile.mkdtemp()) / "a.nii.gz")
    >>> int(nib.load(out).get_fdata().sum())
    28
    """
    import nibabel as nib

    synced = img.__class__(img.dataobj, img.affine, img.header)
    synced.update_header()  # the header's qform and sform as nibabel would save them
    header = synced.header
    header.set_data_shape(img.shape)
    dataobj = img.dataobj
    if nib.is_proxy(dataobj):
        stored = dataobj.get_unscaled()
        header.set_data_dtype(stored.dtype)
        header.set_slope_inter(getattr(dataobj, "slope", np.nan), getattr(dataobj, "inter", np.nan))
    else:
        stored = np.asanyarray(dataobj)
        if stored.dtype.kind == "b":
            stored = stored.astype(np.uint8)
        header.set_data_dtype(stored.dtype)
        header.set_slope_inter(np.nan, np.nan)
    dtype = header.get_data_dtype()

    def chunks() -> Iterator[bytes]:
        # The header, then the voxels in Fortran order one slice of the last axis at a
        # time, so no second full copy of the image is made.
        yield _to_bytes(header, b"")
        if stored.ndim < 3:
            yield np.asarray(stored, dtype=dtype).tobytes(order="F")
            return
        for k in range(stored.shape[-1]):
            yield np.asarray(stored[..., k], dtype=dtype).tobytes(order="F")

    return _write_payload(Path(path), chunks(), level)
