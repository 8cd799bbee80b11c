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
:func:`scrub_header` does the same to an image in memory and :func:`save_nifti` writes one
without re-quantising its voxels. :func:`header_findings` lists what a file carries.

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

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel import nifti1, nifti2

from mrishare._paths import atomic_write
from mrishare.errors import BadInputError, NiftiReadError

__all__ = [
    "FREE_TEXT_FIELDS",
    "SAFE_EXTENSIONS",
    "DicomExtensionError",
    "Finding",
    "NiftiReadError",
    "dicom_extensions",
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
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_SIZES = {348: nifti1.Nifti1Header, 540: nifti2.Nifti2Header}
_IMAGE_CLASSES = {nifti1.Nifti1Header: nib.Nifti1Image, nifti2.Nifti2Header: nib.Nifti2Image}



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


# --------------------------------------------------------------------------- writing files
def write_gzip(path: str | Path, payload: bytes | Iterable[bytes], level: int = 6) -> Path:
    """Write ``payload`` gzip-compressed, with no file name and modification time 0.

    The gzip header then says nothing about the original file or when it was made, and
    the same payload always gives the same bytes. Written atomically. ``payload`` may be
    bytes or an iterable of byte chunks (written one after the other, to save memory).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_gzip(pathlib.Path(tempfile.mkdtemp()) / "x.gz", b"abc")
    >>> gzip_header(path)
    {'name': None, 'mtime': 0, 'comment': None}
    """
    path = Path(path)
    with atomic_write(path) as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=level) as gz:
            for chunk in [payload] if isinstance(payload, bytes) else payload:
                gz.write(chunk)
    return path


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
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "y.gz"
    >>> with gzip.GzipFile(path, "wb", mtime=1700000000) as gz:
    ...     _ = gz.write(b"abc")
    >>> gzip_header(path)["name"], gzip_header(path)["mtime"]
    ('y', 1700000000)
    """
    with Path(path).open("rb") as f:
        head = f.read(10)
        if len(head) < 10 or head[:2] != _GZIP_MAGIC:
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


# --------------------------------------------------------------------------- reading files
@dataclass
class _RawNifti:
    header: nifti1.Nifti1Header
    data: bytes
    findings: list[Finding]


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise NiftiReadError(f"Cannot read {path}: {error.strerror}.") from None
    if raw[:2] != _GZIP_MAGIC:
        if path.name.endswith(".gz"):
            raise NiftiReadError(
                f"{path} ends in .gz but is not gzip-compressed. Rename it to .nii, or get "
                "a fresh copy."
            )
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise NiftiReadError(
            f"{path} is a damaged gzip file ({error}). The copy is probably incomplete: "
            "copy or download it again, or convert the DICOM series again."
        ) from None


def _parse(raw: bytes, path: Path | str) -> _RawNifti:
    size = None
    for order in ("<", ">"):
        if len(raw) >= 4:
            candidate = int(np.frombuffer(raw[:4], dtype=f"{order}i4")[0])
            if candidate in _HEADER_SIZES:
                size = candidate
    if size is None:
        raise NiftiReadError(
            f"{path} is not a NIfTI file: its first 4 bytes should give a header size of "
            "348 (NIfTI-1) or 540 (NIfTI-2)."
        )
    klass = _HEADER_SIZES[size]
    if len(raw) < size:
        raise NiftiReadError(f"{path} is cut short inside its {size}-byte NIfTI header.")
    try:
        header = klass.from_fileobj(io.BytesIO(raw), check=False)
    except Exception as error:  # nibabel raises several kinds for damaged extensions
        raise NiftiReadError(
            f"{path}: the NIfTI header extensions are damaged ({error})."
        ) from None
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
    findings = []
    gap = raw[size + 4 + int(header.extensions.get_sizeondisk()) : offset]
    if gap.strip(b"\x00"):
        findings.append(Finding("warning", "gap bytes", f"{len(gap)} bytes between the "
                                "header and the image data hold something"))
    trailing = raw[offset + nbytes :]
    if trailing:
        findings.append(Finding("warning", "trailing bytes",
                                f"{len(trailing)} bytes after the image data"))
    return _RawNifti(header, data, findings)


def load_nifti(img: str | Path | nib.Nifti1Image) -> nib.Nifti1Image:
    """Return a NIfTI image: load a path, or pass a loaded image through.

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
    if isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        return img
    path = Path(img)
    payload = _read_bytes(path)
    raw = _parse(payload, path)
    return _IMAGE_CLASSES[type(raw.header)].from_bytes(payload)


def _to_bytes(header: nifti1.Nifti1Header, data: bytes) -> bytes:
    header = header.copy()
    header["vox_offset"] = 0  # write_to sets the smallest valid offset
    out = io.BytesIO()
    header.write_to(out)
    out.write(data)
    return out.getvalue()


# --------------------------------------------------------------------------- inspecting
def _looks_like_dicom(content: bytes) -> bool:
    """True when bytes hold a DICOM header: the 'DICM' preamble, or Patient/Study elements."""
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
        return extension.get_sizeondisk() and extension.content
    except Exception:  # content that cannot be serialised again
        return b""


def dicom_extensions(img: str | Path | nib.Nifti1Image) -> list[int]:
    """Return the positions of the header extensions that hold a DICOM header.

    An extension counts when its code is 2 (NIFTI_ECODE_DICOM) or when its bytes parse as
    DICOM whatever the code says.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> img = nib.Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4))
    >>> img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"a comment"))
    >>> dicom_extensions(img)
    []
    """
    img = load_nifti(img)
    found = []
    for index, extension in enumerate(img.header.extensions):
        if extension.get_code() == _DICOM_ECODE or _looks_like_dicom(_extension_bytes(extension)):
            found.append(index)
    return found


def _field_text(header: nifti1.Nifti1Header, name: str) -> bytes:
    return bytes(np.asarray(header[name]).tobytes()).rstrip(b"\x00 ")


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
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        path = Path(img)
        raw = _parse(_read_bytes(path), path)
        findings += raw.findings
        if path.read_bytes()[:2] == _GZIP_MAGIC:
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
        img = _IMAGE_CLASSES[type(raw.header)](np.zeros((1, 1, 1), np.uint8), None, raw.header)
    header = img.header
    for name, reason in FREE_TEXT_FIELDS.items():
        if name in header.keys() and _field_text(header, name):
            findings.append(Finding("warning", name, f"header field {name} holds text ({reason})"))
    dicom = set(dicom_extensions(img))
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
        if _field_text(header, name):
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
    img = load_nifti(img)
    header, _ = _scrub(img.header, keep_extensions)
    # Rebuilding from the header keeps qform/sform codes, units, dtype and scaling.
    return img.__class__(img.dataobj, img.affine, header)


def save_nifti(img: nib.Nifti1Image, path: str | Path, level: int = 1) -> Path:
    """Save an image without re-quantising its voxels, gzip header empty, atomically.

    nibabel's own ``save`` recomputes the scaling (``scl_slope``, ``scl_inter``) of
    images whose data were read from disk, which changes the stored integers. Here an
    image read from a file is written from its *unscaled* stored values with its header's
    scaling; an image made from an array is written as that array (no scaling).

    Parameters
    ----------
    img : nibabel.Nifti1Image or Nifti2Image
    path : str or Path
        ``.nii.gz`` (gzip with no file name and mtime 0) or ``.nii``.
    level : int, default 1
        gzip compression level; 1 is nibabel's default too (fast; MRI volumes, and defaced
        ones most of all, are largely zeros and compress well anyway).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import numpy as np, nibabel as nib, tempfile, pathlib
    >>> img = nib.Nifti1Image(np.arange(8, dtype=np.int16).reshape(2, 2, 2), np.eye(4))
    >>> out = save_nifti(img, pathlib.Path(tempfile.mkdtemp()) / "a.nii.gz")
    >>> int(nib.load(out).get_fdata().sum())
    28
    """
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


def _write_payload(path: Path, payload: bytes | Iterable[bytes], level: int = 6) -> Path:
    if path.name.endswith(".gz"):
        return write_gzip(path, payload, level)
    with atomic_write(path) as f:
        for chunk in [payload] if isinstance(payload, bytes) else payload:
            f.write(chunk)
    return path


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
    raw = _parse(_read_bytes(src), src)
    keep = set(keep_extensions) - {_DICOM_ECODE}
    img = _IMAGE_CLASSES[type(raw.header)](np.zeros((1, 1, 1), np.uint8), None, raw.header)
    dicom = dicom_extensions(img)
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
    _write_payload(dst, _to_bytes(header, raw.data))
    return findings + [Finding("info", f.carrier, "dropped: " + f.message) for f in raw.findings]
