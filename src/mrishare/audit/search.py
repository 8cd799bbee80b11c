"""Search one file for identifiers, in every format it may hide them.

:class:`FileSearch` collects the findings of one file: the raw bytes (gzip content
decompressed, and the name and time a gzip header keeps), every DICOM element (private,
nested, file meta), NIfTI header fields and extensions, JSON sidecars (keys and values) and
TSV tables (every cell). It also flags what is risky without a known value: a face still
present, ``BurnedInAnnotation`` YES, and attributes the DICOM basic profile removes.

Examples
--------
>>> from mrishare.audit import IdentifierSet
>>> ids = IdentifierSet()
>>> ids.add_value("Visser^Tom", "staff name")
>>> search = FileSearch(ids, "notes.txt")
>>> search.search_bytes(b"operator: Tom Visser")
>>> [(f.place, f.kind) for f in search.findings]
[('bytes at offset 10', 'staff name')]
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mrishare import readers
from mrishare.audit.elements import datasets, element_text, walk
from mrishare.audit.report import Finding
from mrishare.audit.values import IdentifierSet
from mrishare.errors import BadInputError

__all__ = ["FileSearch", "face_checker", "is_nifti", "profile_actions"]

# Images the face check leaves alone: masks and labels (no face to see), images of the BIDS
# datatypes prepare does not deface (func, dwi, fmap, perf: see chapter 9), and phase images
# (their voxels are angles, not the intensities the check reads; prepare defaces them with
# the removed region of their magnitude image).
_SKIP_FACE_CHECK = re.compile(
    r"(mask|dseg|probseg|label|_roi|_bold|_dwi|_sbref|_epi|part-phase|_phase"
    r"|(^|/)(func|dwi|fmap|perf)/)", re.IGNORECASE)
_DICOM_SUFFIXES = (".dcm", ".ima")


def is_nifti(data: bytes) -> bool:
    r"""Say whether bytes are a NIfTI-1 or NIfTI-2 image (by the magic of its header).

    Parameters
    ----------
    data : bytes
        The file's content (decompressed).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_nifti(b"not an image"), is_nifti(bytes(344) + b"n+1\x00")
    (False, True)
    """
    if len(data) < 348:
        return False
    return data[344:348] in (b"n+1\x00", b"ni1\x00") or data[4:8] in (b"n+2\x00", b"ni2\x00")


class FileSearch:
    """Search one file; one finding per place and kind.

    Parameters
    ----------
    ids : IdentifierSet
        The values to search for.
    rel : str
        The file's path relative to the audited folder (what findings name).
    """

    def __init__(self, ids: IdentifierSet, rel: str) -> None:
        self.ids, self.rel = ids, rel
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str]] = set()
        self._found_values: set[str] = set()
        self.compressed = False
        self.not_checked: list[str] = []

    def add(self, place: str, kind: str, detail: str, level: str = "error") -> None:
        """Add a finding that is not a match of a known value (a risk, a failed check)."""
        self.findings.append(Finding(self.rel, place, kind, detail, level))

    def search(self, place: str, text: str) -> None:
        """Search a text found at a place (an element, a header field, a cell...)."""
        for match in self.ids.find(text):
            if (place, match.kind) in self._seen:
                continue
            self._seen.add((place, match.kind))
            self._found_values.add(match.value.lower())
            self.findings.append(Finding(self.rel, place, match.kind, match.hint))

    def search_bytes(self, data: bytes) -> None:
        """Search raw bytes; report only values not already found in a parsed place."""
        reported: set[str] = set()
        for match in self.ids.find(data.decode("latin-1")):
            value = match.value.lower()
            # in raw bytes a value can run into the next element's bytes (a UID followed
            # by a tag that reads as a digit): one already found in a parsed place counts
            if value in reported or any(value.startswith(v) for v in self._found_values):
                continue
            reported.add(value)
            self.findings.append(
                Finding(self.rel, f"bytes at offset {match.start}", match.kind, match.hint))

    # -- containers
    def content(self, path: Path) -> bytes:
        """Return the file's bytes, decompressed when gzip; its gzip header searched on the way."""
        from mrishare import nifti

        data = path.read_bytes()
        if data[:2] != readers.GZIP_MAGIC:
            return data
        header = nifti.gzip_header(path)
        for key in ("name", "comment"):
            if header.get(key):
                self.search(f"gzip header: file {key}", header[key])
        if header.get("mtime"):
            day = dt.datetime.fromtimestamp(header["mtime"], dt.UTC).strftime("%Y%m%d")
            if day in self.ids.dates():
                self.add("gzip header: modification time", "scan date",
                         "the time the file was compressed is a scan date")
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            self.add("gzip content", "unreadable", f"could not decompress: {error}", "warning")
            return data
        self.compressed = True
        return data

    # -- formats
    def search_dicom(self, path: Path, data: bytes, profile: Callable[[int], Any] | None) -> bool:
        """Search a DICOM file's elements; return False when it is not DICOM.

        A file is DICOM when :func:`mrishare.readers.read_dicom` accepts it (files without
        a file meta header included), the same rule every command follows.
        """
        try:
            ds = _read_dicom(path, data if self.compressed else None)
        except BadInputError as error:
            if data[128:132] == b"DICM" or path.name.lower().endswith(_DICOM_SUFFIXES):
                self.add("whole file", "unreadable", f"not readable as DICOM: {error}",
                         "warning")
            return False
        for prefix, dataset in datasets(ds):
            for place, elem in walk(dataset, prefix):
                text = element_text(elem)
                self.search(place, text)
                if elem.keyword == "BurnedInAnnotation" and text.strip().upper() == "YES":
                    self.add(place, "burned-in annotation",
                             "the pixels carry text (a name, an ID): remove the image or "
                             "black the text out")
                if profile and text.strip() and not prefix.startswith("file meta"):
                    action = profile(int(elem.tag)) or ""
                    if action == "X":  # X/Z, X/D...: a dummy or empty value is allowed
                        self.add(place, "profile attribute",
                                 f"the basic profile removes this attribute (action {action})",
                                 "warning")
        return True

    def search_nifti(self, data: bytes) -> Any:
        """Search a NIfTI header's text fields and extensions; return the image (or None)."""
        import nibabel as nib

        image = None
        for kind in (nib.Nifti1Image, nib.Nifti2Image):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    image = kind.from_bytes(data)
                break
            except Exception as error:  # nibabel raises many kinds on a bad header
                problem = error
        if image is None:
            self.add("header", "unreadable", f"not readable as NIfTI: {problem}", "warning")
            return None
        header = image.header
        for name in header.keys():
            value = header[name]
            if value.dtype.kind != "S" or name == "magic":
                continue
            text = value.item()
            if isinstance(text, bytes):
                self.search(f"header field {name}", text.decode("latin-1"))
        for i, ext in enumerate(header.extensions):
            content = ext.content if isinstance(ext.content, bytes) else bytes(ext.content)
            self.search(f"header extension {i} (code {ext.get_code()})", content.decode("latin-1"))
        return image

    def search_json(self, data: bytes) -> None:
        """Search a JSON document: every key name and every value."""
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.add("whole file", "unreadable", f"not valid JSON: {error}", "warning")
            return
        for place, text in _walk_json(document):
            self.search(place, text)

    def search_tsv(self, data: bytes) -> None:
        """Search a tab-separated table: the header row and every cell."""
        text = data.decode("utf-8", errors="replace")
        rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
        if not rows:
            return
        header = rows[0]
        for j, name in enumerate(header):
            self.search(f"header row, column {j + 1}", name)
        for i, row in enumerate(rows[1:], start=2):
            for j, cell in enumerate(row):
                column = header[j] if j < len(header) else f"column {j + 1}"
                self.search(f"row {i}, column {column}", cell)

    def check_face(self, image: Any, checker: Callable[[Any], Any] | None) -> None:
        """Flag an anatomical image whose face region still holds tissue."""
        if checker is None or image is None or len(image.shape) != 3:
            return
        if _SKIP_FACE_CHECK.search(self.rel):
            return
        from mrishare.deface import WHOLE_HEAD_MM, narrowest_extent_mm

        extent = narrowest_extent_mm(image)
        if extent < WHOLE_HEAD_MM:
            self.not_checked.append(
                f"face present: {self.rel} covers only {extent:.0f} mm along one axis (a "
                "slab, not a whole head); check its defacing in the prepare report")
            return
        try:
            result = checker(image)
        except Exception as error:  # registration failed: say so, never stay silent
            self.add("image", "face check failed", f"{type(error).__name__}: {error}",
                     "warning")
            return
        if result.present:
            self.add("image", "face present", result.detail)


def _read_dicom(path: Path, decompressed: bytes | None) -> Any:
    """Read a file with the one DICOM reader; decompressed content through a temporary file."""
    if decompressed is None:
        return readers.read_dicom(path, stop_before_pixels=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "decompressed.dcm"
        copy.write_bytes(decompressed)
        return readers.read_dicom(copy, stop_before_pixels=True)


def _walk_json(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield f"key name {here}", str(key)
            yield from _walk_json(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_json(item, f"{path}[{i}]")
    elif value is not None:
        yield f"key {path or '(top)'}", str(value)


def face_checker(not_checked: list[str]) -> Callable[[Any], Any] | None:
    """Return :func:`mrishare.deface.face_present`, or None (and say why in ``not_checked``)."""
    try:
        from mrishare import deface
    except ImportError as error:
        not_checked.append(f"face present: the defacing module could not be loaded ({error})")
        return None
    return deface.face_present


def profile_actions(not_checked: list[str]) -> Callable[[int], Any] | None:
    """Return the basic profile's action per tag (:mod:`mrishare.dicom`), or None."""
    try:
        from mrishare import dicom

        return dicom.load_profile().action
    except (ImportError, AttributeError, ValueError) as error:
        not_checked.append(f"profile attributes: the profile table could not be read ({error})")
        return None
