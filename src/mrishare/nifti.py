"""NIfTI files without identifiers: header text fields, extensions and the gzip header.

A NIfTI file can carry identifying text in four places besides the image itself:

* **header text fields**: ``descrip`` (dcm2niix puts the echo time and the acquisition
  time there), ``aux_file`` (dcm2niix puts the DICOM ImageComments there), ``intent_name``,
  and the legacy Analyze fields ``db_name`` and ``data_type``;
* **header extensions**: blocks of bytes after the header; code 2 holds a whole DICOM
  header (names, IDs, dates), others hold free text, commands with file paths, or pickles;
* **the gzip header** of a ``.nii.gz``: the original file name and a modification time;
* **bytes the reader never looks at**: a gap between the header and the image data, or
  trailing bytes after it.

:func:`scrub_nifti` rewrites a file with all of these emptied or removed and copies the
image data block byte for byte, so voxel values, data type, scaling (``scl_slope``,
``scl_inter``), affine (qform and sform) and units are exactly those of the input.
:func:`scrub_header` does the same to an image in memory, and :func:`header_findings` lists
what a file carries. Reading and writing NIfTI files is :mod:`mrishare.readers`' job
(:func:`~mrishare.readers.load_nifti`, :func:`~mrishare.readers.save_nifti`); both are
importable from here too.

Examples
--------
>>> import numpy as np, nibabel as nib, tempfile, pathlib
>>> img = nib.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4))
>>> img.header["descrip"] = b"Jansen 2024-03-11"
>>> clean = scrub_header(img)
>>> clean.header["descrip"].item()
b''
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = save_nifti(img, folder / "in.nii.gz")
>>> [f.carrier for f in scrub_nifti(folder / "in.nii.gz", folder / "out.nii.gz")]
['descrip']
>>> header_findings(folder / "out.nii.gz")
[]
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel import nifti1

from mrishare.errors import BadInputError, NiftiReadError
from mrishare.readers import (
    GZIP_MAGIC,
    load_nifti,
    read_nifti_raw,
    save_nifti,
    write_gzip,
    write_nifti_raw,
)

__all__ = [
    "FREE_TEXT_FIELDS",
    "SAFE_EXTENSIONS",
    "DicomExtensionError",
    "Finding",
    "NiftiReadError",
    "dicom_extensions",
    "field_text",
    "gzip_header",
    "header_findings",
    "load_nifti",
    "save_nifti",
    "scrub_header",
    "scrub_nifti",
    "write_gzip",
]

# Header fields that hold free text (bytes) and nothing the image needs. Cleared, all of them.
FREE_TEXT_FIELDS: dict[str, str] = {
    "descrip": "free text; dcm2niix writes the echo time and the acquisition time of day",
    "aux_file": "free text ('auxiliary file name'); dcm2niix writes the DICOM ImageComments",
    "intent_name": "free text naming the data's meaning; may hold a label or a name",
    "db_name": "legacy Analyze 7.5 field (NIfTI-1 only): database name, free text",
    "data_type": "legacy Analyze 7.5 field (NIfTI-1 only): unused, 10 bytes of free text",
    "unused_str": "padding at the end of the NIfTI-2 header, 15 bytes anyone can write into",
}

# Extension codes (NIfTI ``ecode``) that may stay. Empty on purpose: every registered
# extension can hold text (DICOM headers, AFNI history with commands and paths, comments,
# XML, pickled objects), so an extension is kept only when the caller names its code.
SAFE_EXTENSIONS: frozenset[int] = frozenset()

_DICOM_ECODE = 2


class DicomExtensionError(BadInputError):
    """A NIfTI file with a DICOM header (names, IDs, dates) inside an extension."""


@dataclass(frozen=True)
class Finding:
    """Something identifying, or possibly identifying, that a file carries.

    Attributes
    ----------
    level : str
        ``"error"`` (identifying content), ``"warning"`` (text or bytes that might be), or
        ``"info"``.
    carrier : str
        Where: a header field name, ``"extension[0]"``, ``"gzip name"``, ``"trailing bytes"``.
    message : str
        What was found, without repeating the identifying value itself.
    """

    level: str
    carrier: str
    message: str


# --------------------------------------------------------------------------- gzip header
def gzip_header(path: str | Path) -> dict[str, Any]:
    """Return the original file name, modification time and comment stored in a gzip header.

    Parameters
    ----------
    path : str or Path
        A ``.gz`` file.

    Returns
    -------
    dict
        ``{"name": str or None, "mtime": int, "comment": str or None}`` of the first member.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "y.gz"
    >>> with gzip.GzipFile(path, "wb", mtime=1700000000) as gz:
    ...     _ = gz.write(b"abc")
    >>> gzip_header(path)["name"], gzip_header(path)["mtime"]
    ('y', 1700000000)
    """
    with Path(path).open("rb") as f:
        head = f.read(10)
        if len(head) < 10 or head[:2] != GZIP_MAGIC:
            raise NiftiReadError(f"{path} is not a gzip file (its first bytes are not 1f 8b).")
        flags = head[3]
        mtime = int.from_bytes(head[4:8], "little")
        if flags & 4:  # FEXTRA
            size = int.from_bytes(f.read(2), "little")
            f.read(size)

        def zero_terminated() -> str:
            out = bytearray()
            while (byte := f.read(1)) not in (b"", b"\x00"):
                out += byte
            return out.decode("latin-1")

        name = zero_terminated() if flags & 8 else None  # FNAME
        comment = zero_terminated() if flags & 16 else None  # FCOMMENT
    return {"name": name, "mtime": mtime, "comment": comment}


# --------------------------------------------------------------------------- inspecting
def _looks_like_dicom(content: bytes) -> bool:
    """Say whether bytes hold a DICOM header: the 'DICM' preamble, or Patient/Study elements."""
    if content[128:132] == b"DICM" or content[:4] == b"DICM":
        return True
    # Group 0x0008 or 0x0010 element tags, little or big endian, at the start of a dataset.
    starts = (b"\x08\x00", b"\x10\x00", b"\x00\x08", b"\x00\x10", b"\x02\x00")
    if content[:2] in starts:
        try:
            import pydicom

            ds = pydicom.dcmread(io.BytesIO(content), force=True)
            return any(tag.group in (0x0008, 0x0010, 0x0020) for tag in ds.keys())
        except Exception:  # not parseable: not a DICOM header
            return False
    return False


def _extension_bytes(extension: nifti1.Nifti1Extension) -> bytes:
    raw = getattr(extension, "_raw", None)
    if isinstance(raw, bytes) and raw:
        return raw
    try:
        return bytes(extension.content) if extension.get_sizeondisk() else b""
    except Exception:  # content that cannot be serialised again
        return b""


def _dicom_indices(header: Any) -> list[int]:
    """Positions of the extensions of ``header`` that hold a DICOM header."""
    return [index for index, extension in enumerate(header.extensions)
            if extension.get_code() == _DICOM_ECODE
            or _looks_like_dicom(_extension_bytes(extension))]


def dicom_extensions(img: str | Path | nib.Nifti1Image) -> list[int]:
    """Return the positions of the header extensions that hold a DICOM header.

    An extension counts when its code is 2 (NIFTI_ECODE_DICOM) or when its bytes parse as
    DICOM whatever the code says.

    Parameters
    ----------
    img : str, Path or nibabel image
        A NIfTI file or a loaded image.

    Returns
    -------
    list of int

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> img = nib.Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4))
    >>> img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"a comment"))
    >>> dicom_extensions(img)
    []
    """
    return _dicom_indices(load_nifti(img).header)


def field_text(header: Any, name: str) -> bytes:
    """Return the text a header field holds, without its padding.

    Parameters
    ----------
    header : nibabel NIfTI header
        The header.
    name : str
        A field name, e.g. ``"descrip"`` (see :data:`FREE_TEXT_FIELDS`).

    Returns
    -------
    bytes

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> img = nib.Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4))
    >>> img.header["descrip"] = b"TE=3;Time=093012"
    >>> field_text(img.header, "descrip")
    b'TE=3;Time=093012'
    """
    return bytes(np.asarray(header[name]).tobytes()).rstrip(b"\x00 ")


def _stray_findings(gap: int, trailing: int) -> list[Finding]:
    """Return findings for bytes between the header and the data, and after the data."""
    findings = []
    if gap:
        findings.append(Finding("warning", "gap bytes", f"{gap} bytes between the "
                                "header and the image data hold something"))
    if trailing:
        findings.append(Finding("warning", "trailing bytes",
                                f"{trailing} bytes after the image data"))
    return findings


def header_findings(img: str | Path | nib.Nifti1Image) -> list[Finding]:
    """List the places in a NIfTI file that carry text or extra bytes.

    Parameters
    ----------
    img : str, Path or nibabel image
        A ``.nii``/``.nii.gz`` path (the gzip header and stray bytes are checked too) or a
        loaded image (header fields and extensions only).

    Returns
    -------
    list of Finding
        Empty when the file carries nothing besides the image and its geometry.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> img = nib.Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4))
    >>> img.header["aux_file"] = b"seen by Dr. Vries"
    >>> [(f.level, f.carrier) for f in header_findings(img)]
    [('warning', 'aux_file')]
    """
    findings: list[Finding] = []
    if isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        header = img.header
    else:
        path = Path(img)
        raw = read_nifti_raw(path)
        header = raw.header
        findings += _stray_findings(raw.gap, raw.trailing)
        with path.open("rb") as f:
            compressed = f.read(2) == GZIP_MAGIC
        if compressed:
            gz = gzip_header(path)
            if gz["name"]:
                findings.append(Finding("warning", "gzip name", "the gzip header stores the "
                                        "original file name"))
            if gz["mtime"]:
                findings.append(Finding("warning", "gzip mtime", "the gzip header stores a "
                                        "modification time"))
            if gz["comment"]:
                findings.append(Finding("warning", "gzip comment", "the gzip header holds a "
                                        "comment"))
    for name, reason in FREE_TEXT_FIELDS.items():
        if name in header.keys() and field_text(header, name):
            findings.append(Finding("warning", name, f"header field {name} holds text ({reason})"))
    dicom = set(_dicom_indices(header))
    for index, extension in enumerate(header.extensions):
        code = extension.get_code()
        label = nifti1.extension_codes.label.get(code, "unregistered")
        if index in dicom:
            findings.append(Finding("error", f"extension[{index}]", "a DICOM header (names, IDs, "
                                    f"dates) sits in extension {index} (code {code})"))
        else:
            findings.append(Finding("warning", f"extension[{index}]",
                                    f"extension {index} (code {code}, {label}) holds "
                                    f"{len(_extension_bytes(extension))} bytes"))
    return findings


# --------------------------------------------------------------------------- scrubbing
def _scrub(header: nifti1.Nifti1Header, keep: Iterable[int]) -> tuple[Any, list[Finding]]:
    """Return a scrubbed copy of ``header`` and what was removed."""
    keep = set(keep)
    header = header.copy()
    findings = []
    for name, reason in FREE_TEXT_FIELDS.items():
        if name not in header.keys():
            continue
        if field_text(header, name):
            findings.append(Finding("info", name, f"cleared header field {name} ({reason})"))
        header[name] = np.zeros((), header[name].dtype) if header[name].shape == () else 0
    kept = [e for e in header.extensions if e.get_code() in keep]
    for index, extension in enumerate(header.extensions):
        if extension.get_code() not in keep:
            findings.append(Finding("info", f"extension[{index}]",
                                    f"removed extension {index} (code {extension.get_code()})"))
    header.extensions.clear()
    header.extensions.extend(kept)
    return header, findings


def scrub_header(img: str | Path | nib.Nifti1Image,
                 keep_extensions: Iterable[int] = SAFE_EXTENSIONS) -> nib.Nifti1Image:
    """Return the image with its header text fields cleared and its extensions removed.

    The voxel data are not loaded or touched: the new image shares the input's data
    object, and the affine, data type, scaling and units are kept. Save it with
    :func:`save_nifti`, which writes the voxels without re-quantising them.

    Parameters
    ----------
    img : str, Path or nibabel image
        The image (a path is loaded).
    keep_extensions : iterable of int, default :data:`SAFE_EXTENSIONS` (none)
        Extension codes to keep. Never keep code 2 (a DICOM header).

    Returns
    -------
    nibabel.Nifti1Image or nibabel.Nifti2Image

    See Also
    --------
    scrub_nifti : the same for a file, copying its data block byte for byte.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> img = nib.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4))
    >>> img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"Jansen"))
    >>> len(scrub_header(img).header.extensions)
    0
    """
    image = load_nifti(img)
    header, _ = _scrub(image.header, keep_extensions)
    # Rebuilding from the header keeps qform/sform codes, units, dtype and scaling.
    return image.__class__(image.dataobj, image.affine, header)


def scrub_nifti(src: str | Path, dst: str | Path, *,
                keep_extensions: Iterable[int] = SAFE_EXTENSIONS,
                allow_dicom_extension: bool = False) -> list[Finding]:
    """Write a copy of a NIfTI file with nothing identifying in its header or gzip header.

    Clears :data:`FREE_TEXT_FIELDS`, removes every extension whose code is not in
    ``keep_extensions``, drops stray bytes between the header and the data and after
    the data, and copies the image data block byte for byte (no re-quantising). A
    ``.nii.gz`` output has no file name and modification time 0 in its gzip header.
    ``src`` is never modified; ``dst`` appears only when complete.

    Parameters
    ----------
    src : str or Path
        A ``.nii`` or ``.nii.gz`` file.
    dst : str or Path
        Where to write; ``.nii.gz`` compresses. May equal ``src`` only if you mean it.
    keep_extensions : iterable of int, default :data:`SAFE_EXTENSIONS` (none)
        Extension codes to keep.
    allow_dicom_extension : bool, default False
        A DICOM header inside an extension means the whole header of the source files
        (names, IDs, dates) travelled with the image; by default such a file is refused
        so that you look at where it came from. True removes the extension and goes on.

    Returns
    -------
    list of Finding
        What was cleared or removed (level ``"info"``) and stray bytes dropped.

    Raises
    ------
    NiftiReadError
        A missing, damaged or cut-short file, or a NIfTI pair (``.hdr``/``.img``).
    DicomExtensionError
        An extension holds a DICOM header and ``allow_dicom_extension`` is False.

    Examples
    --------
    >>> import numpy as np, nibabel as nib, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> img = nib.Nifti1Image(np.ones((2, 2, 2), np.int16), np.eye(4))
    >>> img.header["intent_name"] = b"VUMC0047131"
    >>> nib.save(img, folder / "a.nii")
    >>> [f.carrier for f in scrub_nifti(folder / "a.nii", folder / "b.nii.gz")]
    ['intent_name']
    """
    src, dst = Path(src), Path(dst)
    raw = read_nifti_raw(src)
    keep = set(keep_extensions) - {_DICOM_ECODE}
    dicom = _dicom_indices(raw.header)
    if dicom and not allow_dicom_extension:
        raise DicomExtensionError(
            f"{src} carries a DICOM header in NIfTI extension {dicom[0]}: the names, IDs "
            "and dates of the source files travelled with the image. Convert the DICOM "
            "series again with dcm2niix, or pass allow_dicom_extension=True (mrishare "
            "removes the extension) once you know where the file came from."
        )
    header, findings = _scrub(raw.header, keep)
    clean = [e for e in header.extensions if not _looks_like_dicom(_extension_bytes(e))]
    header.extensions.clear()
    header.extensions.extend(clean)
    write_nifti_raw(header, raw.data, dst)
    return findings + [Finding("info", f.carrier, "dropped: " + f.message)
                       for f in _stray_findings(raw.gap, raw.trailing)]
