"""Find identifiers left anywhere in a dataset, and prove a prepared dataset clean.

An audit has two halves.

1. :func:`harvest` reads a *source* DICOM tree and collects what identifies its people:
   names (with the variants they take elsewhere: ``Jansen^Marieke``, ``Marieke Jansen``,
   ``JANSEN_MARIEKE``, and each part alone when it is long enough to be specific), patient
   IDs, birth dates (as DICOM ``19870412``, ISO ``1987-04-12`` and day-month-year
   ``12-04-1987``), addresses, telephone numbers, institution and department, physicians
   and operators, station name, device serial number, accession numbers, study IDs, every
   original UID and the site's UID root, scan dates, and the folder and file names of the
   source. :func:`read_identifier_file` adds values you list yourself.
2. :func:`audit` searches a folder for those values everywhere: the bytes of every file
   (gzip content decompressed, and the file name a gzip header keeps), every DICOM element
   including private tags, nested sequences and the file meta, NIfTI header fields and
   extensions, JSON sidecars (keys and values), TSV tables (every cell) and every path
   name. It also flags what is risky without a known value: a face still present in an
   image, ``BurnedInAnnotation`` YES, and DICOM attributes the basic profile removes.

Each :class:`Finding` says which file, where in it (element, header field, key, column or
path), and what kind of identifier. Findings never repeat the value: they show a masked
hint (``J…n, 6 characters``) so that an audit report does not become a leak itself.

Short values are never searched as free text: sex ``F`` or weight ``64`` would match
everywhere. What is specific enough is data, in :data:`SPECIFICITY`, and values that fail
it are listed in :attr:`IdentifierSet.skipped` with the reason.

Examples
--------
>>> ids = IdentifierSet()
>>> ids.add_value("Jansen^Marieke^A", "patient name")
>>> sorted(m.kind for m in ids.find("Scan of MARIEKE JANSEN, weight 64"))
['patient name']
>>> ids.find("weight 64 kg")
[]
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "HARVEST_KEYWORDS",
    "HARVEST_VR",
    "NOT_SEARCHED",
    "SPECIFICITY",
    "AuditReport",
    "Finding",
    "Identifier",
    "IdentifierSet",
    "Match",
    "audit",
    "harvest",
    "mask",
    "read_identifier_file",
]

log = logging.getLogger("mrishare")

# ----------------------------------------------------------------------------- tables (data)

#: DICOM keywords whose values identify someone or something, and the kind they are.
#: Elements are found wherever they sit: top level, nested sequences, file meta.
HARVEST_KEYWORDS: dict[str, str] = {
    "PatientName": "patient name",
    "OtherPatientNames": "patient name",
    "PatientBirthName": "patient name",
    "PatientMotherBirthName": "patient name",
    "ResponsiblePerson": "person name",
    "PatientID": "patient id",
    "OtherPatientIDs": "patient id",
    "IssuerOfPatientID": "institution",
    "PatientBirthDate": "birth date",
    "PatientAddress": "address",
    "PatientTelephoneNumbers": "telephone",
    "InstitutionName": "institution",
    "InstitutionAddress": "address",
    "InstitutionalDepartmentName": "department",
    "ReferringPhysicianName": "staff name",
    "ReferringPhysicianAddress": "address",
    "ReferringPhysicianTelephoneNumbers": "telephone",
    "PerformingPhysicianName": "staff name",
    "OperatorsName": "staff name",
    "RequestingPhysician": "staff name",
    "NameOfPhysiciansReadingStudy": "staff name",
    "PhysiciansOfRecord": "staff name",
    "ScheduledPerformingPhysicianName": "staff name",
    "StationName": "station name",
    "DeviceSerialNumber": "device serial number",
    "SourceApplicationEntityTitle": "station name",
    "AccessionNumber": "accession number",
    "StudyID": "study id",
    "RequestedProcedureID": "study id",
    "ScheduledProcedureStepID": "study id",
    "PerformedProcedureStepID": "study id",
    "AdmissionID": "study id",
}

#: Value representations harvested whatever their keyword (private elements included):
#: every person name, every date, every UID that is not a class or syntax of the standard.
HARVEST_VR: dict[str, str] = {"PN": "person name", "DA": "scan date", "DT": "scan date",
                              "UI": "uid"}

#: Attributes that say something about a person but are too short or too common to search
#: as free text. They are not harvested; :mod:`mrishare.tabular` handles them as
#: quasi-identifiers instead.
NOT_SEARCHED: dict[str, str] = {
    "PatientSex": "one letter (F, M, O): it would match in every file",
    "PatientAge": "a short number (036Y): ages are coarsened, not searched",
    "PatientSize": "a short number (1.71): matches any measurement",
    "PatientWeight": "a short number (64): matches any measurement",
    "StudyTime": "six digits of a clock time: too common to search",
    "SeriesTime": "six digits of a clock time: too common to search",
}

#: How specific a value must be before it is searched as free text.
SPECIFICITY: dict[str, Any] = {
    # any value: at least this many characters
    "min_length": 4,
    # values made of digits and separators only: at least this many digits, and a match
    # must not touch other digits (so serial 45817 does not match inside 2.25.1458179...)
    "min_digits": 5,
    # one part of a name, or one word of an address or institution, searched alone
    "min_part_length": 4,
    # one word of an address or institution, searched alone
    "min_word_length": 6,
    # a UID root: at least this many components
    "min_uid_root_components": 4,
    # UID roots that say nothing about a site
    "generic_uid_roots": ("2.25", "1.2.840.10008", "1.2.826.0.1.3680043"),
    # name particles and titles, never searched alone
    "name_particles": ("de", "den", "der", "van", "von", "ten", "ter", "te", "la", "le",
                       "del", "di", "da", "dos", "dr", "dr.", "prof", "prof.", "mr", "mrs",
                       "ms", "jr", "sr", "ii", "iii"),
    # words of addresses and institutions too common to identify anything alone
    "generic_words": ("university", "universiteit", "medical", "medisch", "centre", "center",
                      "centrum", "hospital", "ziekenhuis", "clinic", "kliniek", "radiology",
                      "radiologie", "department", "afdeling", "institute", "instituut",
                      "street", "straat", "research", "imaging", "academic", "academisch"),
    # file names that are only a short prefix and a number say nothing about a person
    "generic_file_name": r"^[A-Za-z]{0,4}[0-9]*$",
}

_DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d",
                 "%m/%d/%Y")
_UID_TOKEN = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+){2,}")
_STANDARD_UID = re.compile(r"(ClassUID|TransferSyntaxUID)$")
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM",
             "UC", "UI", "UR", "UT"}
_BINARY_LIMIT = 1 << 20  # bytes of one binary DICOM element searched as text
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_NIFTI_IMAGE_SUFFIXES = (".nii", ".nii.gz")
_SKIP_FACE_CHECK = re.compile(r"(mask|dseg|probseg|label|_roi|_bold|_dwi|_sbref|_epi)",
                              re.IGNORECASE)


# ----------------------------------------------------------------------------- identifiers


@dataclass(frozen=True)
class Identifier:
    """One value to search for.

    Attributes
    ----------
    value : str
        The text searched (case-insensitive).
    kind : str
        What it is: ``"patient name"``, ``"birth date"``, ``"uid"``, ...
    boundary : {"none", "letter", "digit"}
        A match must not touch a letter (``"letter"``: ``Anna`` does not match in
        ``Savannah``) or a digit (``"digit"``) on either side.
    """

    value: str
    kind: str
    boundary: str = "none"


@dataclass(frozen=True)
class Match:
    """A value found in a text: where it starts and ends, and what it was."""

    start: int
    end: int
    kind: str
    value: str = field(repr=False)

    @property
    def hint(self) -> str:
        """The value, masked (see :func:`mask`)."""
        return mask(self.value)


def mask(value: str) -> str:
    """Hide a value but keep enough to recognise it: first and last character, length.

    Examples
    --------
    >>> mask("Jansen")
    'J…n (6 characters)'
    """
    if len(value) <= 2:
        return f"… ({len(value)} characters)"
    return f"{value[0]}…{value[-1]} ({len(value)} characters)"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _is_numeric(value: str) -> bool:
    return bool(value) and not re.search(r"[A-Za-z]", value)


@dataclass
class IdentifierSet:
    """Values to search for, each with its kind, plus UIDs and UID roots.

    Build one with :func:`harvest` (from a source DICOM tree), :meth:`add_value` or
    :func:`read_identifier_file`; combine two with ``|``.

    Examples
    --------
    >>> ids = IdentifierSet()
    >>> ids.add_value("19870412", "birth date")
    >>> [m.kind for m in ids.find("born 12-04-1987")]
    ['birth date']
    >>> ids.add_value("F", "sex")
    >>> ids.skipped[-1][1]
    'sex'
    """

    values: dict[str, Identifier] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)
    uid_roots: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    # -- building
    def _add(self, value: str, kind: str, boundary: str) -> None:
        value = value.strip()
        key = value.lower()
        if not key or key in self.values:
            return
        reason = ""
        if _is_numeric(value):
            boundary = "digit"
            if len(_digits(value)) < SPECIFICITY["min_digits"]:
                reason = "too few digits to be specific"
        elif len(value) < SPECIFICITY["min_length"]:
            reason = "too short to be specific"
        if reason:
            entry = (mask(value), kind, reason)
            if entry not in self.skipped:
                self.skipped.append(entry)
            return
        self.values[key] = Identifier(value, kind, boundary)

    def add_value(self, value: str, kind: str = "listed") -> None:
        """Add a value and the variants its kind takes elsewhere.

        Parameters
        ----------
        value : str
            As found in DICOM (``Family^Given`` for names, ``YYYYMMDD`` for dates).
        kind : str
            A kind of :data:`HARVEST_KEYWORDS` or :data:`HARVEST_VR`, or any other word
            (the value is then searched as it is).
        """
        value = str(value).strip()
        if not value:
            return
        maker = _VARIANTS.get(kind, _plain_variants)
        for variant, boundary in maker(value):
            self._add(variant, kind, boundary)

    def add_uid(self, uid: str, kind: str = "uid") -> None:
        """Add an original UID (matched whole, wherever a UID-shaped token appears)."""
        uid = uid.strip().rstrip("\x00")
        if uid and not uid.startswith("1.2.840.10008."):
            self.uids.setdefault(uid, kind)

    def add_uid_root(self, root: str) -> None:
        """Add a UID root: any UID under it is an original, and so is the root itself."""
        parts = root.strip(".").split(".")
        generic = any(root == g or root.startswith(g + ".")
                      for g in SPECIFICITY["generic_uid_roots"])
        if len(parts) < SPECIFICITY["min_uid_root_components"] or generic:
            self.skipped.append((root, "uid root", "too general to identify a site"))
            return
        self.uid_roots[root.strip(".")] = "uid root"

    def __or__(self, other: IdentifierSet) -> IdentifierSet:
        merged = IdentifierSet(dict(self.values), dict(self.uids), dict(self.uid_roots),
                               list(self.skipped))
        for key, ident in other.values.items():
            merged.values.setdefault(key, ident)
        merged.uids.update({k: v for k, v in other.uids.items() if k not in merged.uids})
        merged.uid_roots.update(other.uid_roots)
        merged.skipped += other.skipped
        return merged

    def __len__(self) -> int:
        return len(self.values) + len(self.uids) + len(self.uid_roots)

    def counts(self) -> dict[str, int]:
        """Number of searched values per kind (variants counted separately)."""
        kinds = Counter(i.kind for i in self.values.values())
        kinds.update(self.uids.values())
        kinds.update(self.uid_roots.values())
        return dict(sorted(kinds.items()))

    def dates(self) -> set[str]:
        """The dates (``YYYYMMDD``) among the values."""
        return {i.value for i in self.values.values()
                if re.fullmatch(r"\d{8}", i.value) and i.kind.endswith("date")}

    # -- searching
    def find(self, text: str) -> list[Match]:
        """Find every value in ``text`` (case-insensitive), longest matches first.

        Matches inside a longer match are dropped, so ``Marieke Jansen`` is one match,
        not three.
        """
        if not text:
            return []
        low = text.lower()
        found: list[Match] = []
        for key, ident in self.values.items():
            start = low.find(key)
            while start != -1:
                end = start + len(key)
                if _bounded(low, start, end, ident.boundary):
                    found.append(Match(start, end, ident.kind, ident.value))
                start = low.find(key, start + 1)
        if self.uids or self.uid_roots:
            for token in _UID_TOKEN.finditer(text):
                uid = token.group(0)
                kind = self.uids.get(uid) or self._root_of(uid)
                if kind:
                    found.append(Match(token.start(), token.end(), kind, uid))
        found.sort(key=lambda m: (-(m.end - m.start), m.start))
        kept: list[Match] = []
        for match in found:
            if not any(k.start <= match.start and match.end <= k.end for k in kept):
                kept.append(match)
        return sorted(kept, key=lambda m: m.start)

    def _root_of(self, uid: str) -> str | None:
        for root, kind in self.uid_roots.items():
            if uid == root or uid.startswith(root + "."):
                return kind
        return None


def _bounded(text: str, start: int, end: int, boundary: str) -> bool:
    if boundary == "none":
        return True
    if boundary == "letter":
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        return not (before.isalpha() or after.isalpha())
    # digits: no digit next to the match, nor a decimal point or UID dot with a digit beyond
    before = text[max(start - 2, 0):start]
    after = text[end:end + 2]
    if (before[-1:].isdigit() or after[:1].isdigit()
            or (len(before) == 2 and before[0].isdigit() and before[1] in ".,")):
        return False
    return not (len(after) == 2 and after[0] in ".," and after[1].isdigit())


# -- variants per kind


def _plain_variants(value: str) -> Iterator[tuple[str, str]]:
    yield value, "none"


def _name_variants(value: str) -> Iterator[tuple[str, str]]:
    """``Family^Given^Middle^Prefix^Suffix`` and the forms it takes in other places."""
    parts = [p.strip() for p in value.split("^")]
    parts += [""] * (5 - len(parts))
    family, given, middle = parts[0], parts[1], parts[2]
    yield value.rstrip("^"), "none"
    spaced = " ".join(p for p in (given, middle, family) if p)
    yield spaced, "letter"
    for a, b in ((given, family), (family, given)):
        if a and b:
            for sep in (" ", "^", "_", ", ", ""):
                yield f"{a}{sep}{b}", "none"
    if " " in family:
        yield family.replace(" ", ""), "letter"
        yield family.replace(" ", "_"), "letter"
    particles = set(SPECIFICITY["name_particles"])
    for part in (family, given, middle):
        for word in {part, *part.split()}:
            if len(word) >= SPECIFICITY["min_part_length"] and word.lower() not in particles:
                yield word, "letter"


def _date_variants(value: str) -> Iterator[tuple[str, str]]:
    text = value.strip()[:8]
    try:
        date = dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        yield value, "digit"
        return
    for fmt in _DATE_FORMATS:
        yield date.strftime(fmt), "digit"


def _id_variants(value: str) -> Iterator[tuple[str, str]]:
    yield value, "none"
    compact = re.sub(r"[^0-9A-Za-z]", "", value)
    if compact != value:
        yield compact, "none"
    tail = re.search(r"[0-9]+$", value)
    if tail and tail.group(0) != value:
        yield tail.group(0), "digit"


def _word_variants(value: str) -> Iterator[tuple[str, str]]:
    """The whole value, each comma-separated part, and each specific long word."""
    yield value, "none"
    for part in value.split(","):
        if part.strip() != value:
            yield part.strip(), "letter"
    generic = set(SPECIFICITY["generic_words"])
    for word in re.findall(r"[^\W\d_]+", value):
        if len(word) >= SPECIFICITY["min_word_length"] and word.lower() not in generic:
            yield word, "letter"


def _phone_variants(value: str) -> Iterator[tuple[str, str]]:
    yield value, "none"
    digits = _digits(value)
    if digits != value:
        yield digits, "digit"


_VARIANTS = {
    "patient name": _name_variants,
    "staff name": _name_variants,
    "person name": _name_variants,
    "birth date": _date_variants,
    "scan date": _date_variants,
    "patient id": _id_variants,
    "accession number": _id_variants,
    "study id": _id_variants,
    "address": _word_variants,
    "institution": _word_variants,
    "telephone": _phone_variants,
}


# ----------------------------------------------------------------------------- harvest


def _is_dicom(head: bytes, path: Path) -> bool:
    return head[128:132] == b"DICM" or path.suffix.lower() in {".dcm", ".ima"}


def _element_name(elem: Any) -> str:
    tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
    if elem.tag.is_private:
        creator = getattr(elem, "private_creator", None)
        return f"{tag} private" + (f" [{creator}]" if creator else "")
    return f"{tag} {elem.keyword or elem.name}"


def _walk_dicom(ds: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every element of a dataset, nested sequences included, with a readable place."""
    for elem in ds:
        place = prefix + _element_name(elem)
        yield place, elem
        if elem.VR == "SQ" and elem.value is not None:
            for i, item in enumerate(elem.value):
                yield from _walk_dicom(item, f"{place}[{i}] > ")


def _element_text(elem: Any) -> str:
    """An element's value as searchable text (binary values decoded byte for byte)."""
    if elem.tag in _PIXEL_TAGS or elem.VR == "SQ" or elem.value is None:
        return ""
    value = elem.value
    if isinstance(value, bytes | bytearray):
        return bytes(value[:_BINARY_LIMIT]).decode("latin-1")
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _read_dicom(data: bytes) -> Any:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data), force=True, stop_before_pixels=True)


def _dicom_datasets(ds: Any) -> Iterator[tuple[str, Any]]:
    if getattr(ds, "file_meta", None) is not None:
        yield "file meta > ", ds.file_meta
    yield "", ds


def harvest(source: str | Path, identifiers: IdentifierSet | None = None) -> IdentifierSet:
    """Collect the identifiers of a source DICOM tree.

    Parameters
    ----------
    source : str or Path
        A folder of DICOM files (any depth), or one file. It is only read.
    identifiers : IdentifierSet, optional
        Add to this set rather than a new one.

    Returns
    -------
    IdentifierSet
        Names, IDs, dates, addresses, telephone numbers, institution, department,
        physicians, operators, station, serial number, accession numbers, study IDs,
        UIDs and the site's UID root, and the names of the source's folders and files.

    Examples
    --------
    >>> from mrishare import data
    >>> ids = harvest(data.sample_path("dicom_study", verify=False))
    >>> [m.kind for m in ids.find("Marieke")]
    ['patient name']
    >>> "1.2.999.4711" in ids.uid_roots
    True
    """
    source = Path(source)
    ids = identifiers if identifiers is not None else IdentifierSet()
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    uids: list[str] = []
    generic_file = re.compile(SPECIFICITY["generic_file_name"])
    root = source if source.is_dir() else source.parent
    for path in files:
        for part in path.relative_to(root).parts[:-1]:
            ids.add_value(part, "source path name")
        stem = path.name.split(".")[0]
        if not generic_file.match(stem):
            ids.add_value(stem, "source path name")
        try:
            with path.open("rb") as f:
                head = f.read(132)
            if not _is_dicom(head, path):
                continue
            ds = _read_dicom(path.read_bytes())
        except Exception as error:  # a file that is not DICOM: nothing to harvest
            log.debug("not harvested (%s): %s", type(error).__name__, path.name)
            continue
        for _, dataset in _dicom_datasets(ds):
            for _, elem in _walk_dicom(dataset):
                kind = HARVEST_KEYWORDS.get(elem.keyword) or HARVEST_VR.get(elem.VR)
                if elem.keyword in NOT_SEARCHED or not kind or elem.VR == "SQ":
                    continue
                if kind == "uid":
                    if _STANDARD_UID.search(elem.keyword or ""):
                        continue
                    for uid in _element_text(elem).split("\\"):
                        ids.add_uid(uid)
                        uids.append(uid.strip())
                    continue
                if elem.keyword == "PatientBirthDate":
                    kind = "birth date"
                for value in _element_text(elem).split("\\"):
                    ids.add_value(value, kind)
    root_uid = _common_root([u for u in uids if u and not u.startswith("1.2.840.10008.")])
    if root_uid:
        ids.add_uid_root(root_uid)
    return ids


def _common_root(uids: list[str]) -> str:
    if not uids:
        return ""
    split = [u.split(".") for u in uids]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    if len(common) == min(len(s) for s in split):  # one UID only: its parent is the root
        common = common[:-1]
    return ".".join(common)


def read_identifier_file(path: str | Path, identifiers: IdentifierSet | None = None
                         ) -> IdentifierSet:
    """Read values to search from a text file: one per line, ``#`` starts a comment.

    A line may give a kind after a tab (``Jansen^Marieke<TAB>patient name``) so that the
    value's variants are searched too; without one the value is searched as written.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "ids.txt")
    ...     _ = open(p, "w").write("# study codes\\nPROJ-2024-117\\n")
    ...     [m.kind for m in read_identifier_file(p).find("see PROJ-2024-117")]
    ['listed']
    """
    ids = identifiers if identifiers is not None else IdentifierSet()
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Identifier file {path} does not exist. Give a text file with one value per line."
        ) from None
    for line in lines:
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        value, _, kind = line.partition("\t")
        if kind.strip() in _VARIANTS or kind.strip() == "uid":
            if kind.strip() == "uid":
                ids.add_uid(value)
            else:
                ids.add_value(value, kind.strip())
        else:
            ids.add_value(value.strip(), "listed")
    return ids


# ----------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """Something identifying found in a dataset.

    Attributes
    ----------
    file : str
        Path relative to the audited folder (``"."`` for the folder itself).
    place : str
        Where in the file: a DICOM element, a header field, a JSON key, a TSV cell,
        ``"path name"``, ``"gzip header: file name"`` or ``"bytes at offset N"``.
    kind : str
        What was found: a kind of identifier (``"patient name"``, ``"uid"``, ...) or a
        risk (``"face present"``, ``"burned-in annotation"``, ``"profile attribute"``).
    detail : str
        A masked hint of the value, or what the risk is.
    level : {"error", "warning"}
        Errors make the dataset unshareable; warnings ask you to look.
    """

    file: str
    place: str
    kind: str
    detail: str
    level: str = "error"


@dataclass
class AuditReport:
    """The result of :func:`audit`: findings and what was searched.

    Attributes
    ----------
    findings : list of Finding
    files : int
        Number of files searched.
    searched : dict
        Number of values searched, per kind.
    not_checked : list of str
        Checks that could not run (and why).
    """

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    searched: dict[str, int] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when nothing at all was found."""
        return not self.findings

    @property
    def exit_status(self) -> int:
        """0 when clean, 1 when anything was found (the ``mrishare audit`` status)."""
        return 0 if self.clean else 1

    def by_kind(self) -> dict[str, int]:
        """Number of findings per kind."""
        return dict(sorted(Counter(f.kind for f in self.findings).items()))

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (what ``--json`` writes)."""
        return {
            "clean": self.clean,
            "files_searched": self.files,
            "values_searched": self.searched,
            "findings_by_kind": self.by_kind(),
            "findings": [asdict(f) for f in self.findings],
            "not_checked": self.not_checked,
        }

    def to_frame(self):
        """The findings as a pandas DataFrame (one row each)."""
        import pandas as pd

        return pd.DataFrame([asdict(f) for f in self.findings],
                            columns=["file", "place", "kind", "detail", "level"])

    def summary(self, limit: int = 20) -> str:
        """A few lines for people: clean or not, and the first findings."""
        if self.clean:
            lines = [f"Clean: no identifier found in {self.files} files "
                     f"({sum(self.searched.values())} values searched)."]
        else:
            kinds = ", ".join(f"{n} {k}" for k, n in self.by_kind().items())
            lines = [f"Found {len(self.findings)} problems in {self.files} files: {kinds}."]
            for f in self.findings[:limit]:
                lines.append(f"  {f.file} | {f.place} | {f.kind} | {f.detail}")
            if len(self.findings) > limit:
                lines.append(f"  ... and {len(self.findings) - limit} more.")
        lines += [f"Not checked: {reason}" for reason in self.not_checked]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:  # shown nicely in notebooks
        return "```text\n" + self.summary() + "\n```"


class _Collector:
    """Collects matches of one file, one finding per (place, kind)."""

    def __init__(self, ids: IdentifierSet, rel: str) -> None:
        self.ids, self.rel = ids, rel
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str]] = set()
        self.found_values: set[str] = set()

    def search(self, place: str, text: str) -> None:
        for match in self.ids.find(text):
            if (place, match.kind) in self._seen:
                continue
            self._seen.add((place, match.kind))
            self.found_values.add(match.value.lower())
            self.findings.append(Finding(self.rel, place, match.kind, match.hint))

    def search_bytes(self, data: bytes) -> None:
        """Search raw bytes; report only values not already found in a parsed place."""
        text = data.decode("latin-1")
        reported: set[str] = set()
        for match in self.ids.find(text):
            value = match.value.lower()
            # in raw bytes a value can run into the next element's bytes (a UID followed
            # by a tag that reads as a digit): one already found in a parsed place counts
            if value in reported or any(value.startswith(v) for v in self.found_values):
                continue
            reported.add(value)
            self.findings.append(
                Finding(self.rel, f"bytes at offset {match.start}", match.kind, match.hint))

    def add(self, place: str, kind: str, detail: str, level: str = "error") -> None:
        self.findings.append(Finding(self.rel, place, kind, detail, level))


# -- gzip


def _content(path: Path, collector: _Collector) -> bytes:
    """The file's bytes, decompressed when gzip; its gzip header searched on the way."""
    from mrishare.nifti import gzip_header

    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    header = gzip_header(path)
    for key in ("name", "comment"):
        if header.get(key):
            collector.search(f"gzip header: file {key}", header[key])
    if header.get("mtime"):
        day = dt.datetime.fromtimestamp(header["mtime"], dt.UTC).strftime("%Y%m%d")
        if day in collector.ids.dates():
            collector.add("gzip header: modification time", "scan date",
                          "the time the file was compressed is a scan date")
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as error:
        collector.add("gzip content", "unreadable", f"could not decompress: {error}",
                      "warning")
        return data


# -- per format


def _search_dicom(data: bytes, collector: _Collector, profile: Any) -> None:
    try:
        ds = _read_dicom(data)
    except Exception as error:
        collector.add("whole file", "unreadable", f"not readable as DICOM: {error}", "warning")
        return
    for prefix, dataset in _dicom_datasets(ds):
        for place, elem in _walk_dicom(dataset, prefix):
            text = _element_text(elem)
            collector.search(place, text)
            if elem.keyword == "BurnedInAnnotation" and text.strip().upper() == "YES":
                collector.add(place, "burned-in annotation",
                              "the pixels carry text (a name, an ID): remove the image or "
                              "black the text out")
            if profile and text.strip() and not prefix.startswith("file meta"):
                action = profile(int(elem.tag)) or ""
                if action == "X":  # X/Z, X/D...: a dummy or empty value is allowed
                    collector.add(place, "profile attribute",
                                  f"the basic profile removes this attribute (action {action})",
                                  "warning")


def _search_nifti(data: bytes, collector: _Collector) -> Any:
    import nibabel as nib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = nib.Nifti1Image.from_bytes(data)
    except Exception:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image = nib.Nifti2Image.from_bytes(data)
        except Exception as error:
            collector.add("header", "unreadable", f"not readable as NIfTI: {error}", "warning")
            return None
    header = image.header
    for name in header.keys():
        value = header[name]
        if value.dtype.kind == "S" and name != "magic":
            collector.search(f"header field {name}", value.item().decode("latin-1"))
    for i, ext in enumerate(header.extensions):
        content = ext.content if isinstance(ext.content, bytes) else bytes(ext.content)
        collector.search(f"header extension {i} (code {ext.get_code()})",
                         content.decode("latin-1"))
    return image


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


def _search_json(data: bytes, collector: _Collector) -> None:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        collector.add("whole file", "unreadable", f"not valid JSON: {error}", "warning")
        return
    for place, text in _walk_json(document):
        collector.search(place, text)


def _search_tsv(data: bytes, collector: _Collector) -> None:
    text = data.decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    if not rows:
        return
    header = rows[0]
    for j, name in enumerate(header):
        collector.search(f"header row, column {j + 1}", name)
    for i, row in enumerate(rows[1:], start=2):
        for j, cell in enumerate(row):
            column = header[j] if j < len(header) else f"column {j + 1}"
            collector.search(f"row {i}, column {column}", cell)


def _is_nifti(data: bytes) -> bool:
    if len(data) < 348:
        return False
    return data[344:348] in (b"n+1\x00", b"ni1\x00") or data[4:8] in (b"n+2\x00", b"ni2\x00")


# -- face check


def _face_check(image: Any, rel: str, collector: _Collector, cache: dict[str, Any]) -> None:
    """Flag an anatomical image whose face region still holds tissue."""
    if image is None or len(image.shape) != 3 or _SKIP_FACE_CHECK.search(rel):
        return
    checker = cache.get("face")
    if checker is None:
        return
    try:
        result = checker(image)
    except Exception as error:  # registration failed: say so, never stay silent
        collector.add("image", "face check failed", f"{type(error).__name__}: {error}",
                      "warning")
        return
    if result is not None and result.present:
        collector.add("image", "face present", result.detail)


def _face_checker(not_checked: list[str]) -> Any:
    try:
        from mrishare import deface
    except ImportError:
        not_checked.append("face present: the defacing module is not installed")
        return None
    checker = getattr(deface, "face_present", None)
    if checker is None:
        not_checked.append("face present: mrishare.deface has no face_present()")
        return None
    return checker


def _profile_table(not_checked: list[str]) -> Any:
    """The basic profile's action per tag (from :mod:`mrishare.dicom`), or None."""
    try:
        from mrishare import dicom

        return dicom.load_profile().action
    except (ImportError, AttributeError, ValueError) as error:
        not_checked.append(f"profile attributes: the profile table could not be read ({error})")
        return None


# ----------------------------------------------------------------------------- audit


def _files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            yield path


def audit(
    directory: str | Path,
    identifiers: IdentifierSet | None = None,
    *,
    against: str | Path | None = None,
    check_face: bool = True,
    check_dicom: bool = True,
    exclude: Iterable[str | Path] = (),
) -> AuditReport:
    """Search a folder for identifiers and risks.

    Parameters
    ----------
    directory : str or Path
        The folder to audit (a BIDS dataset, a DICOM export, anything).
    identifiers : IdentifierSet, optional
        Values to search for; see :func:`harvest` and :func:`read_identifier_file`.
    against : str or Path, optional
        A source DICOM tree: its identifiers are harvested and added.
    check_face : bool, default True
        Register the template to every 3D anatomical NIfTI image and flag a face that is
        still there (needs :mod:`mrishare.deface`).
    check_dicom : bool, default True
        Flag ``BurnedInAnnotation`` YES and attributes the basic profile removes.
    exclude : iterable of paths, default ()
        Files or folders inside ``directory`` to leave out (an audit report, say).

    Returns
    -------
    AuditReport
        ``report.clean`` is True when nothing was found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = pathlib.Path(tmp, "dataset")
    ...     folder.mkdir()
    ...     _ = (folder / "notes.txt").write_text("scanned by Tom Visser")
    ...     ids = IdentifierSet()
    ...     ids.add_value("Visser^Tom", "staff name")
    ...     [(f.file, f.kind) for f in audit(folder, ids, check_face=False).findings]
    [('notes.txt', 'staff name')]
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(
            f"Expected a folder to audit, got {directory}: it is not a folder (or it does not "
            "exist). Give the folder of the dataset you are about to share."
        )
    ids = identifiers if identifiers is not None else IdentifierSet()
    if against is not None:
        ids = ids | harvest(against)
    report = AuditReport(searched=ids.counts())
    excluded = [Path(e).resolve() for e in exclude]
    cache: dict[str, Any] = {}
    if check_face:
        cache["face"] = _face_checker(report.not_checked)
    profile = _profile_table(report.not_checked) if check_dicom else None
    if not len(ids):
        report.not_checked.append("known values: no identifiers given (use against=SRC)")

    paths = [p for p in sorted(directory.rglob("*"))
             if not any(p.resolve() == e or e in p.resolve().parents for e in excluded)]
    for path in paths:
        rel = path.relative_to(directory).as_posix()
        collector = _Collector(ids, rel)
        collector.search("path name", path.name)
        if path.is_file():
            report.files += 1
            try:
                data = _content(path, collector)
            except OSError as error:
                collector.add("whole file", "unreadable", str(error), "warning")
                report.findings += collector.findings
                continue
            name = path.name.lower()
            if _is_nifti(data):
                image = _search_nifti(data, collector)
                if check_face:
                    _face_check(image, rel, collector, cache)
            elif data[128:132] == b"DICM" or name.endswith((".dcm", ".ima")):
                _search_dicom(data, collector, profile if check_dicom else None)
            elif name.endswith((".json", ".json.gz")):
                _search_json(data, collector)
            elif name.endswith((".tsv", ".tsv.gz")):
                _search_tsv(data, collector)
            collector.search_bytes(data)
        report.findings += collector.findings
    return report
