"""De-identify DICOM files by the standard's profile, with keyed pseudonyms.

The DICOM standard says what to do with every attribute that can identify a person: PS3.15
Annex E, the *Basic Application Level Confidentiality Profile*, Table E.1-1. Each attribute
gets an action:

====  ===========================================================================
D     replace with a dummy value (non-empty, consistent with the value type)
Z     replace with an empty value (or a dummy one)
X     remove
K     keep
C     clean: keep the meaning, remove what identifies (dates are shifted)
U     replace a UID with another one, the same everywhere it appears
====  ===========================================================================

and combined actions such as ``X/Z`` ("remove, unless the file would no longer be valid").
mrishare does not type this table: it reads the newest edition that the maintained package
``dicom-anonymizer`` ships (see :func:`load_profile`) and names that edition in every file
it writes. On top of the profile come the options the standard defines (:class:`Options`),
a secret :class:`~mrishare.keys.Key` for stable pseudonyms, and a few rules of its own:

* private (vendor) attributes are removed, except an explicit allow-list of safe ones;
* the file meta header loses the sending station's name and address;
* screenshots and other images that may carry burned-in text are left out and reported;
* the pixel data are never touched.

Examples
--------
>>> from mrishare import data
>>> from mrishare.keys import Key
>>> ds = deidentify(data.sample_path("pydicom_MR_small"), Key(bytes(32)))
>>> ds.PatientIdentityRemoved
'YES'
>>> ds.PatientName == participant_label(data.sample_path("pydicom_MR_small"), Key(bytes(32)))
True
"""

from __future__ import annotations

import contextlib
import copy as copy_module
import datetime as dt
import functools
import importlib
import importlib.metadata
import importlib.resources
import json
import logging
import os
import re
import shutil
import struct
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes
from pydicom.tag import BaseTag
from pydicom.valuerep import VR

from mrishare import __version__
from mrishare._paths import DestinationError, atomic_write, refuse_inside_source
from mrishare.errors import BadInputError
from mrishare.keys import Key

__all__ = [
    "BadInputError",
    "DestinationError",
    "FileResult",
    "Options",
    "Profile",
    "Report",
    "StudyRecord",
    "deidentify",
    "deidentify_folder",
    "leave_out_reason",
    "list_identifiers",
    "load_profile",
    "number_sessions",
    "participant_id",
    "participant_label",
    "profile_editions",
    "session_index",
    "study_record",
]

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("mrishare")

PROFILE_PACKAGE = "dicomanonymizer.dicom_anonymization_databases"

# The lists of dicom-anonymizer's table modules, and the action each list stands for.
CATEGORY_ACTIONS = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}

# A combined action means "the first, unless the file's type (IOD) needs the next". mrishare
# takes the strictest one that leaves MR images valid. "U*" keeps a reference sequence and
# replaces the UIDs inside it (the table's U rows do that), so references between images stay.
RESOLVE = {
    "D": "D", "Z": "Z", "X": "X", "K": "K", "C": "C", "U": "U",
    "Z/D": "Z", "X/Z": "X", "X/D": "X", "X/Z/D": "X", "X/Z/U*": "U*", "U*": "U*",
}

# mrishare's own choices where the profile allows more than one answer.
MRISHARE_CHOICES = {
    "PatientName": "D",  # Z allows a dummy: the participant label (viewers show it)
    "PatientID": "D",  # Z/D: the participant label, so files stay grouped by person
}
# Dummy values that are pseudonyms rather than constants.
PSEUDONYM_DUMMIES = {"PatientName", "PatientID"}

# Option columns of Table E.1-1 that mrishare implements. dicom-anonymizer ships the basic
# profile only, so these lists follow the standard's option columns by hand (keywords).
# Retain Patient Characteristics Option: keep what describes the body, not the person.
PATIENT_CHARACTERISTICS = [
    "PatientSex", "PatientAge", "PatientSize", "PatientWeight", "PatientSizeCodeSequence",
    "PatientBodyMassIndex", "MeasuredAPDimension", "MeasuredLateralDimension",
    "EthnicGroup", "EthnicGroupCodeSequence", "SmokingStatus", "PregnancyStatus",
    "PatientSexNeutered",
]
# Clean Descriptors Option: descriptions of the acquisition, cleaned of identifying words.
# The standard marks more free text "C" (patient comments, history, allergies); mrishare
# removes those still, because no automatic cleaning of narrative text can be trusted.
DESCRIPTORS = [
    "StudyDescription", "SeriesDescription", "ProtocolName", "ImageComments",
    "PerformedProcedureStepDescription", "ScheduledProcedureStepDescription",
    "RequestedProcedureDescription", "AcquisitionComments", "DerivationDescription",
    "AcquisitionDeviceProcessingDescription", "ContrastBolusAgent", "FrameComments",
]
# Retain Longitudinal Temporal Information with Modified Dates Option: every date in the
# table is shifted by the participant's keyed shift, times of day are kept. The birth date
# is not a date of the study: it follows the basic profile (keep the age instead).
DATE_VRS = {"DA": "C", "DT": "C", "TM": "K"}
NOT_LONGITUDINAL = ["PatientBirthDate", "PatientBirthTime"]

# Retain Safe Private Option: private attributes known to hold no identity, by
# (private creator, group, element within the block). See PS3.15 Table E.3.10-1 for the idea.
SAFE_PRIVATE = {
    ("ACME MR HEADER 1.0", 0x0029, 0x20): "CoilName (the sample's invented vendor)",
    ("SIEMENS MR HEADER", 0x0019, 0x0A): "NumberOfImagesInMosaic",
    ("SIEMENS MR HEADER", 0x0019, 0x0B): "SliceMeasurementDuration",
    ("SIEMENS MR HEADER", 0x0019, 0x0C): "B_value",
    ("SIEMENS MR HEADER", 0x0019, 0x0D): "DiffusionDirectionality",
    ("SIEMENS MR HEADER", 0x0019, 0x0E): "DiffusionGradientDirection",
    ("SIEMENS MR HEADER", 0x0019, 0x27): "B_matrix",
    ("SIEMENS MR HEADER", 0x0019, 0x28): "BandwidthPerPixelPhaseEncode",
    ("SIEMENS MR HEADER", 0x0019, 0x29): "MosaicRefAcqTimes",
}

# File meta header (group 0002): who sent the file, and from where.
FILE_META_ACTIONS = {
    0x00020016: "X",  # Source Application Entity Title
    0x00020017: "X",  # Sending Application Entity Title
    0x00020018: "X",  # Receiving Application Entity Title
    0x00020026: "X",  # Source Presentation Address
    0x00020027: "X",  # Sending Presentation Address
    0x00020028: "X",  # Receiving Presentation Address
    0x00020100: "X",  # Private Information Creator UID
    0x00020102: "X",  # Private Information
}

# Dummy values by value representation (VR), for action D.
DUMMY_BY_VR: dict[str, Any] = {
    "AE": "ANONYMIZED", "AS": "000Y", "CS": "ANONYMIZED", "DA": "19000101",
    "DS": "0", "DT": "19000101000000", "IS": "0", "LO": "ANONYMIZED", "LT": "ANONYMIZED",
    "PN": "ANONYMIZED", "SH": "ANONYMIZED", "ST": "ANONYMIZED", "TM": "000000",
    "UC": "ANONYMIZED", "UT": "ANONYMIZED", "UR": None, "SQ": [],
    "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "SV": 0, "UL": 0, "US": 0, "UV": 0,
}

# Objects not passed on: pixels that may show text or faces, documents and indexes.
# SOP Class UID (or its prefix, followed by a dot) -> reason.
LEAVE_OUT_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture (a screenshot): text may be burned in",
    "1.2.840.10008.5.1.4.1.1.77": "Visible light image (a photograph): may show a face",
    "1.2.840.10008.5.1.4.1.1.88": "Structured report: free text about the patient",
    "1.2.840.10008.5.1.4.1.1.104": "Encapsulated document (PDF, CDA): free text",
    "1.2.840.10008.1.3.10": "DICOMDIR: an index of the export that lists names",
}

# Codes of CID 7050 (De-identification Method) for the profile and each option.
OPTION_CODES = {
    "profile": "BasicApplicationConfidentialityProfile",
    "keep_longitudinal_dates": "RetainLongitudinalTemporalInformationModifiedDatesOption",
    "clean_descriptors": "CleanDescriptorsOption",
    "keep_patient_characteristics": "RetainPatientCharacteristicsOption",
    "keep_private_safe": "RetainSafePrivateOption",
}

KNOWN_VRS = frozenset(v.value for v in VR)
STAGING = ".mrishare-staging"  # inside DST while a batch runs; removed at the end



# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Profile:
    """One edition of PS3.15 Table E.1-1, as data.

    Parameters
    ----------
    edition : str
        The standard's edition, e.g. ``"2026c"``.
    source : str
        Where the table was read from (package, version and module).
    actions : dict of int to str
        Tag (as an integer, ``0xGGGGEEEE``) to action code (``"D"``, ``"X/Z"``, ...).
    masked : tuple of (group, element, group mask, element mask, action)
        Rows for repeating groups such as overlays ``(60xx,3000)`` and curves ``(50xx,xxxx)``.
    """

    edition: str
    source: str
    actions: dict[int, str] = field(repr=False)
    masked: tuple[tuple[int, int, int, int, str], ...] = field(repr=False)

    @functools.cached_property
    def masked_groups(self) -> frozenset[int]:
        """The groups (high byte) that repeating-group rows cover, e.g. 0x5000 and 0x6000."""
        return frozenset(g & 0xFF00 for g, *_ in self.masked)

    def action(self, tag: int) -> str | None:
        """Return the table's action for ``tag``, or None when the table does not list it.

        Examples
        --------
        >>> load_profile().action(0x00100010)  # Patient's Name
        'Z'
        >>> load_profile().action(0x60023000)  # Overlay Data, group 6002
        'X'
        """
        found = self.actions.get(tag)
        if found is not None:
            return found
        group, element = tag >> 16, tag & 0xFFFF
        for g, e, gmask, emask, action in self.masked:
            if group & gmask == g and element & emask == e:
                return action
        return None

    def describe(self) -> str:
        """Name the edition and where it came from, in one line."""
        return f"DICOM PS3.15 Table E.1-1, edition {self.edition} (from {self.source})"


def _edition_of(module: str) -> str:
    """The edition a table module holds: its documentation link, else its name."""
    text = importlib.resources.files(PROFILE_PACKAGE).joinpath(f"{module}.py").read_text()
    found = re.search(r"medical/dicom/(\d{4}[a-z])/", text)
    return found.group(1) if found else module.rsplit("_", 1)[-1]


@functools.cache
def profile_editions() -> dict[str, str]:
    """Return the editions of Table E.1-1 that dicom-anonymizer ships, oldest first.

    Returns
    -------
    dict of str to str
        Edition (e.g. ``"2024b"``) to the module that holds it.

    Examples
    --------
    >>> list(profile_editions())[:2]
    ['2023e', '2024b']
    """
    folder = importlib.resources.files(PROFILE_PACKAGE)
    modules = sorted(
        p.name[:-3] for p in folder.iterdir() if p.name.startswith("dicomfields_")
        and p.name.endswith(".py")
    )
    return dict(sorted((_edition_of(m), m) for m in modules))


@functools.cache
def load_profile(edition: str | None = None) -> Profile:
    """Read Table E.1-1 from dicom-anonymizer: the newest edition unless one is named.

    Parameters
    ----------
    edition : str, optional
        One of :func:`profile_editions`; default the newest.

    Returns
    -------
    Profile

    Examples
    --------
    >>> profile = load_profile()
    >>> profile.edition == list(profile_editions())[-1]
    True
    >>> len(profile.actions) > 600
    True
    """
    editions = profile_editions()
    edition = edition or list(editions)[-1]
    if edition not in editions:
        raise ValueError(
            f"No edition {edition!r} of Table E.1-1 in dicom-anonymizer; "
            f"it ships {', '.join(editions)}."
        )
    module = importlib.import_module(f"{PROFILE_PACKAGE}.{editions[edition]}")
    actions: dict[int, str] = {}
    masked = []
    for category, action in CATEGORY_ACTIONS.items():
        for row in getattr(module, category):
            if len(row) == 4:
                masked.append((*row, action))
            else:
                actions[(row[0] << 16) | row[1]] = action
    version = importlib.metadata.version("dicom-anonymizer")
    source = f"dicom-anonymizer {version}, {editions[edition]}"
    return Profile(edition, source, actions, tuple(masked))


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    """Options of the profile (PS3.15 E.3), all off by default.

    Parameters
    ----------
    keep_longitudinal_dates : bool
        Retain Longitudinal Temporal Information with Modified Dates: shift every date by
        the participant's keyed shift (so intervals between sessions survive) instead of
        removing dates. Times of day are kept.
    clean_descriptors : bool
        Clean Descriptors: keep series and study descriptions, protocol names and image
        comments, with identifying words (names, IDs, dates found in the same file) removed.
    keep_patient_characteristics : bool
        Retain Patient Characteristics: keep sex, age, size, weight and the like.
    keep_private_safe : bool
        Retain Safe Private: keep the private attributes of :data:`SAFE_PRIVATE`.
    edition : str, optional
        Edition of Table E.1-1; default the newest shipped.
    """

    keep_longitudinal_dates: bool = False
    clean_descriptors: bool = False
    keep_patient_characteristics: bool = False
    keep_private_safe: bool = False
    edition: str | None = None

    def chosen(self) -> list[str]:
        """Names of the options switched on."""
        return [name for name in OPTION_CODES if getattr(self, name, False)]


def _tags(keywords: Iterable[str]) -> list[int]:
    return [t for t in (tag_for_keyword(k) for k in keywords) if t is not None]


@functools.cache
def _plan(options: Options) -> tuple[dict[int, str], Profile]:
    """Resolved action per tag for these options (cached: built once per process)."""
    profile = load_profile(options.edition)
    plan = {tag: RESOLVE[action] for tag, action in profile.actions.items()}
    for tag, action in zip(_tags(MRISHARE_CHOICES), MRISHARE_CHOICES.values(), strict=True):
        plan[tag] = action
    if options.keep_longitudinal_dates:
        skip = set(_tags(NOT_LONGITUDINAL))
        for tag in list(plan):
            vr = _dictionary_vr(tag)
            if vr in DATE_VRS and tag not in skip:
                plan[tag] = DATE_VRS[vr]
    if options.clean_descriptors:
        plan.update(dict.fromkeys(_tags(DESCRIPTORS), "C"))
    if options.keep_patient_characteristics:
        plan.update(dict.fromkeys(_tags(PATIENT_CHARACTERISTICS), "K"))
    return plan, profile


@functools.cache
def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag).split(" ")[0]  # "US or SS" -> "US"
    except KeyError:
        return "UN"


# --------------------------------------------------------------------------- who and when


def _dataset(source: str | os.PathLike | Dataset, **kwargs: Any) -> Dataset:
    """Read a file, or pass a dataset on."""
    if isinstance(source, Dataset):
        return source
    return pydicom.dcmread(source, **kwargs)


def participant_id(ds: str | os.PathLike | Dataset) -> str:
    """Return the original identity that decides who a file belongs to.

    It is the Patient ID; when that is empty, the patient's name and birth date; when those
    are empty too, the Study Instance UID (each study then counts as its own participant).
    The result is identifying: use it only to derive pseudonyms, as in
    ``key.label(participant_id(ds))`` (:func:`participant_label`) and
    ``key.date_shift(participant_id(ds))`` (the participant's date shift).

    Parameters
    ----------
    ds : path or pydicom.Dataset

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientID = " 0047131 "
    >>> participant_id(ds)
    '0047131'
    """
    ds = _dataset(ds, stop_before_pixels=True)
    patient = str(ds.get("PatientID", "") or "").strip()
    if patient:
        return patient
    name = str(ds.get("PatientName", "") or "").strip()
    birth = str(ds.get("PatientBirthDate", "") or "").strip()
    if name or birth:
        return f"name:{name}|{birth}"
    return f"study:{ds.get('StudyInstanceUID', '')}"


def participant_label(ds: str | os.PathLike | Dataset, key: Key) -> str:
    """Return the participant's pseudonym: the BIDS label ``sub-<label>`` uses.

    The same key and the same :func:`participant_id` give the same label in DICOM files,
    BIDS names and tables.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientID = "0047131"
    >>> participant_label(ds, Key(bytes(32))) == Key(bytes(32)).label("0047131")
    True
    """
    return key.label(participant_id(ds))


@dataclass(frozen=True, order=True)
class StudyRecord:
    """What orders a participant's sessions: date, time, then the study's UID.

    Holds original (identifying) values: keep it in memory, never write it out.
    """

    participant: str
    date: str
    time: str
    study_uid: str


def study_record(ds: str | os.PathLike | Dataset) -> StudyRecord:
    """Return the :class:`StudyRecord` of a file (read before de-identification).

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientID, ds.StudyDate, ds.StudyInstanceUID = "p1", "20240311", "1.2.3"
    >>> study_record(ds)
    StudyRecord(participant='p1', date='20240311', time='', study_uid='1.2.3')
    """
    ds = _dataset(ds, stop_before_pixels=True)
    return StudyRecord(
        participant_id(ds),
        str(ds.get("StudyDate", "") or ""),
        str(ds.get("StudyTime", "") or ""),
        str(ds.get("StudyInstanceUID", "") or ""),
    )


def number_sessions(records: Iterable[StudyRecord]) -> dict[tuple[str, str], int]:
    """Number each participant's studies 1, 2, ... in time order.

    Studies are ordered by Study Date, then Study Time, then Study Instance UID (so that
    studies without dates still get a stable order). Numbers count within the records
    given: de-identify all of a participant's sessions in one batch, or the numbers of a
    later batch start at 1 again.

    Returns
    -------
    dict
        ``(participant, study_uid)`` to the session number.

    Examples
    --------
    >>> a = StudyRecord("p1", "20240422", "1415", "1.2.9")
    >>> b = StudyRecord("p1", "20240311", "0930", "1.2.8")
    >>> number_sessions([a, b, a])[("p1", "1.2.9")]
    2
    """
    by_person: dict[str, set[StudyRecord]] = defaultdict(set)
    for record in records:
        by_person[record.participant].add(record)
    numbers = {}
    for person, studies in by_person.items():
        for index, record in enumerate(sorted(studies), start=1):
            numbers.setdefault((person, record.study_uid), index)
    return numbers


def session_index(ds: str | os.PathLike | Dataset | StudyRecord,
                  records: Iterable[StudyRecord]) -> int:
    """Return the session number of one file's study among ``records`` (see above).

    Examples
    --------
    >>> a = StudyRecord("p1", "20240422", "1415", "1.2.9")
    >>> b = StudyRecord("p1", "20240311", "0930", "1.2.8")
    >>> session_index(b, [a, b])
    1
    """
    record = ds if isinstance(ds, StudyRecord) else study_record(ds)
    records = [*records, record]
    return number_sessions(records)[(record.participant, record.study_uid)]


# --------------------------------------------------------------------------- actions


@dataclass
class _Context:
    """What one file's de-identification needs to know."""

    key: Key
    options: Options
    participant: str
    label: str
    root: Dataset
    identifiers: list[re.Pattern] = field(default_factory=list)


@functools.lru_cache(maxsize=1 << 16)
def _keyed_uid(key: Key, uid: str) -> str:
    return key.uid(uid)


def _vr(ds: Dataset, tag: BaseTag) -> str:
    vr = ds.get_item(tag).VR
    if not vr:
        return _dictionary_vr(tag)
    if vr not in KNOWN_VRS:
        raise BadInputError(f"unreadable element {tag}: unknown value representation {vr!r}")
    return vr


def _set(ds: Dataset, tag: BaseTag, vr: str, value: Any) -> None:
    ds[tag] = DataElement(tag, vr, value)


def _remove(ds: Dataset, tag: BaseTag, ctx: _Context) -> None:
    del ds[tag]


def _keep(ds: Dataset, tag: BaseTag, ctx: _Context) -> None:
    if _vr(ds, tag) == "SQ":
        for item in ds[tag].value:
            _walk(item, ctx)


def _empty(ds: Dataset, tag: BaseTag, ctx: _Context) -> None:
    vr = _vr(ds, tag)
    _set(ds, tag, vr, [] if vr == "SQ" else None)


def _dummy(ds: Dataset, tag: BaseTag, ctx: _Context) -> None:
    vr = _vr(ds, tag)
    if ds[tag].keyword in PSEUDONYM_DUMMIES:
        # the label at the top level; inside sequences these name other people: emptied
        _set(ds, tag, vr, ctx.label if ds is ctx.root else None)
    elif vr == "UI":
        _replace_uid(ds, tag, ctx)
    else:
        _set(ds, tag, vr, DUMMY_BY_VR.get(vr))


def _replace_uid(ds: Dataset, tag: BaseTag, ctx: _Context) -> None:
    value = ds[tag].value
    if not value:
        return
    if isinstance(value, MultiValue | list):
        new: Any = [_keyed_uid(ctx.key, str(v)) for v in value]
    else:
        new = _keyed_uid(ctx.key, str(value))
    _set(ds, tag, "UI", new)


def _clean(ds: Dataset, tag: BaseTag, ctx: _Context) -> None:
    vr = _vr(ds, tag)
    value = ds[tag].value
    values = list(value) if isinstance(value, MultiValue) else [value]
    if vr in ("DA", "DT"):
        shift = ctx.key.date_shift(ctx.participant)
        cleaned = [_shift(str(v), vr, shift) for v in values if v]
    elif vr == "SQ":
        return _keep(ds, tag, ctx)
    else:
        cleaned = [clean_text(str(v), ctx.identifiers) for v in values if v]
    _set(ds, tag, vr, cleaned[0] if len(cleaned) == 1 else (cleaned or None))


ACTIONS: dict[str, Callable[[Dataset, BaseTag, _Context], None]] = {
    "X": _remove, "Z": _empty, "D": _dummy, "U": _replace_uid, "U*": _keep, "K": _keep,
    "C": _clean,
}


def _shift(value: str, vr: str, days: int) -> str:
    """Shift a DA or DT value by whole days; a value that is not a date is emptied."""
    try:
        date = dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return ""
    return (date + dt.timedelta(days=days)).strftime("%Y%m%d") + (value[8:] if vr == "DT" else "")


def clean_text(text: str, identifiers: Iterable[re.Pattern]) -> str:
    """Remove identifying words from a description (action C on text).

    Removes every identifier pattern and every run of six or more digits (dates, IDs),
    then tidies spaces and separators left at the ends.

    Examples
    --------
    >>> clean_text("VUMC0047131_t1_mprage", _patterns(["VUMC0047131"]))
    't1_mprage'
    >>> clean_text("T1 MPRAGE sag Jansen", _patterns(["jansen"]))
    'T1 MPRAGE sag'
    """
    for pattern in identifiers:
        text = pattern.sub(" ", text)
    text = re.sub(r"\d{6,}", " ", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip(" _-^,.;:/")


def _patterns(words: Iterable[str]) -> list[re.Pattern]:
    words = sorted({w for w in words if len(w) >= 3}, key=len, reverse=True)
    return [re.compile(rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])", re.I) for w in words]


def _identifying_words(ds: Dataset, plan: dict[int, str], profile: Profile) -> list[str]:
    """Words that the profile removes from this file: names, IDs, places, dates."""
    words = []
    for elem in ds.iterall():
        tag = elem.tag
        action = plan.get(tag) or profile.action(tag)
        if not (tag.is_private or action in ("X", "Z", "D")) or elem.VR == "SQ":
            continue
        values = elem.value if isinstance(elem.value, MultiValue) else [elem.value]
        for value in values:
            if isinstance(value, bytes) or value is None:
                continue
            text = str(value)
            words.append(text.strip())
            words += [w for w in re.split(r"[\s^,;:/\\]+", text) if len(w) >= 4 or
                      (elem.VR == "PN" and len(w) >= 3)]
            if elem.VR == "PN":  # "de Boer" is also written "deBoer" or "DEBOER"
                words += [part.replace(" ", "") for part in text.split("^") if " " in part]
    return words


def _walk(ds: Dataset, ctx: _Context) -> None:
    """Apply the plan to every element of ``ds`` and, recursively, of its sequences."""
    plan, profile = _plan(ctx.options)
    private = []
    for tag in list(ds.keys()):
        if tag.is_private:
            private.append(tag)
            continue
        action = plan.get(tag)
        if action is None and tag.group & 0xFF00 in profile.masked_groups:
            action = profile.action(tag)
        if action is None:
            if _vr(ds, tag) != "SQ":
                continue  # not in the table: kept as it is
            action = "K"  # kept, and its items walked
        try:
            ACTIONS[RESOLVE[action]](ds, tag, ctx)
        except BadInputError:
            raise
        except (NotImplementedError, ValueError, EOFError, struct.error) as error:
            raise BadInputError(f"unreadable element {tag}: {error}") from error
    if private:
        _private(ds, private, ctx)


def _private(ds: Dataset, tags: list[BaseTag], ctx: _Context) -> None:
    """Remove private elements, except the safe allow-list when that option is on."""
    keep: set[BaseTag] = set()
    if ctx.options.keep_private_safe:
        creators = {(t.group, t.element): str(ds[t].value).strip()
                    for t in tags if 0x10 <= t.element <= 0xFF}
        for t in tags:
            creator = creators.get((t.group, t.element >> 8))
            if creator and (creator, t.group, t.element & 0xFF) in SAFE_PRIVATE:
                keep |= {t, BaseTag((t.group << 16) | (t.element >> 8))}
    for t in tags:
        if t not in keep:
            del ds[t]


@functools.cache
def _method(options: Options, edition: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The De-identification Method text and codes for these options (built once)."""
    chosen = [getattr(codes.DCM, OPTION_CODES[name]) for name in ["profile", *options.chosen()]]
    text = [f"mrishare {__version__}"[:64], f"PS3.15 E.1-1 {edition} Basic Profile",
            *[code.meaning[:64] for code in chosen[1:]]]
    return text, [(c.value, c.scheme_designator, c.meaning) for c in chosen]


def _mark(ds: Dataset, options: Options, profile: Profile) -> None:
    """Say what was done: PatientIdentityRemoved and the de-identification method."""
    text, chosen = _method(options, profile.edition)
    items = []
    for value, scheme, meaning in chosen:
        item = Dataset()
        item.add_new(0x00080100, "SH", value)  # Code Value
        item.add_new(0x00080102, "SH", scheme)  # Coding Scheme Designator
        item.add_new(0x00080104, "LO", meaning)  # Code Meaning
        items.append(item)
    ds.add_new(0x00120062, "CS", "YES")  # Patient Identity Removed
    ds.add_new(0x00120063, "LO", list(text))  # De-identification Method
    ds.add_new(0x00120064, "SQ", Sequence(items))  # ... Code Sequence
    # Longitudinal Temporal Information Modified
    ds.add_new(0x00280303, "CS", "MODIFIED" if options.keep_longitudinal_dates else "REMOVED")


def deidentify(
    dataset: str | os.PathLike | Dataset,
    key: Key,
    options: Options | None = None,
    *,
    copy: bool = True,
) -> Dataset:
    """De-identify one DICOM dataset by the profile, its options and the key.

    Parameters
    ----------
    dataset : path or pydicom.Dataset
        A file name, or a dataset read with pydicom.
    key : mrishare.keys.Key
        Gives the participant label, the UIDs and the date shift.
    options : Options, optional
        Profile options; default the basic profile alone.
    copy : bool, default True
        Work on a copy of a dataset passed in (a file read here is changed in place).

    Returns
    -------
    pydicom.Dataset
        The de-identified dataset, file meta included; pixel data untouched.

    Raises
    ------
    BadInputError
        When an element that must be changed cannot be decoded.

    Examples
    --------
    >>> from mrishare import data
    >>> ds = deidentify(data.sample_path("pydicom_MR_small"), Key(bytes(32)))
    >>> ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
    True
    >>> "InstitutionName" in ds
    False
    """
    options = options or Options()
    if isinstance(dataset, Dataset):
        ds = copy_module.deepcopy(dataset) if copy else dataset
    else:
        ds = pydicom.dcmread(dataset)
    plan, profile = _plan(options)
    person = participant_id(ds)
    ctx = _Context(key, options, person, key.label(person), ds)
    if options.clean_descriptors:
        ctx.identifiers = _patterns(_identifying_words(ds, plan, profile))
    _walk(ds, ctx)
    _mark(ds, options, profile)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for tag in list(meta.keys()):
            if FILE_META_ACTIONS.get(tag) == "X":
                del meta[tag]  # the group length is kept: pydicom writes the new one
        if "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def leave_out_reason(ds: str | os.PathLike | Dataset) -> str | None:
    """Why a file is not passed on (burned-in text, a photograph, a document), or None.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    >>> leave_out_reason(ds)
    'Secondary Capture (a screenshot): text may be burned in'
    """
    ds = _dataset(ds, stop_before_pixels=True)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        return "BurnedInAnnotation is YES: text is burned into the pixels"
    meta = getattr(ds, "file_meta", None) or Dataset()
    sop = str(ds.get("SOPClassUID") or meta.get("MediaStorageSOPClassUID") or "")
    for uid, reason in LEAVE_OUT_CLASSES.items():
        if sop == uid or sop.startswith(uid + "."):
            return reason
    return None


# --------------------------------------------------------------------------- where identity hides

# Why an attribute identifies someone, by keyword; else by value representation (VR).
WHY_BY_KEYWORD = {
    "PatientName": "the participant's name",
    "PatientID": "the hospital's number for the participant: links to the patient record",
    "OtherPatientIDs": "more numbers for the same person",
    "PatientBirthDate": "birth date: with sex and postcode, enough to single most people out",
    "PatientAddress": "where the participant lives",
    "PatientTelephoneNumbers": "a phone number reaches the person",
    "PatientAge": "age: a quasi-identifier, together with sex and dates",
    "PatientSex": "sex: a quasi-identifier",
    "PatientSize": "height: a quasi-identifier",
    "PatientWeight": "weight: a quasi-identifier",
    "AdditionalPatientHistory": "free text about health and family",
    "PatientComments": "free text: anything, names and phone numbers included",
    "AccessionNumber": "the hospital's order number: links to the radiology system",
    "StudyID": "the site's number for the visit",
    "InstitutionName": "names the hospital: narrows who the participant can be",
    "InstitutionAddress": "the hospital's address",
    "InstitutionalDepartmentName": "the department",
    "StationName": "names the scanner console: the site and room",
    "DeviceSerialNumber": "the scanner's serial number: the site",
    "StudyDescription": "free text typed at the console: often a name or number",
    "SeriesDescription": "free text typed at the console: often a name or number",
    "ProtocolName": "free text typed at the console: often a name or number",
    "ImageComments": "free text typed at the console",
    "RequestedProcedureDescription": "free text from the order",
    "SourceApplicationEntityTitle": "file meta: the network name of the sending station",
}
WHY_BY_VR = {
    "PN": "a person's name (staff are people too)",
    "DA": "a date of the visit: with others, pins down who was scanned when",
    "DT": "a date and time of the visit",
    "TM": "a time of the visit",
    "UI": "a UID: its root names the site, and it links to hospital records",
    "SQ": "a sequence: it can hold any of the above inside",
    "LO": "text that can hold a name or number",
    "SH": "text that can hold a name or number",
    "LT": "free text",
    "ST": "free text",
    "UT": "free text",
}
PRIVATE_WHY = "a private (vendor) element: the standard cannot know what it holds"


def list_identifiers(ds: str | os.PathLike | Dataset, options: Options | None = None,
                     ) -> pd.DataFrame:
    """List every element the profile would change, with its value and why it identifies.

    Empty elements are not listed. Sequences are searched too (the ``where`` column shows
    the path), and so are private elements and the file meta header.

    Parameters
    ----------
    ds : path or pydicom.Dataset
    options : Options, optional
        With options, elements they keep are not listed.

    Returns
    -------
    pandas.DataFrame
        Columns ``where`` (empty at the top level, ``file meta``, or the path into
        sequences), ``tag``, ``attribute``, ``value``, ``action`` (the profile's), ``why``.

    Examples
    --------
    >>> from mrishare import data
    >>> table = list_identifiers(data.sample_path("pydicom_MR_small"))
    >>> "PatientName" in set(table["attribute"])
    True
    """
    import pandas as pd

    ds = _dataset(ds, stop_before_pixels=True)
    plan, profile = _plan(options or Options())
    rows = []

    def visit(dataset: Dataset, where: str) -> None:
        for elem in dataset:
            tag = elem.tag
            action = "X (private)" if tag.is_private else (
                profile.actions.get(tag) or (profile.action(tag) if tag.group & 0xFF00 in
                                             profile.masked_groups else None))
            kept = not tag.is_private and plan.get(tag, "K") == "K"
            if elem.VR == "SQ":
                if action and not kept:
                    rows.append((where, str(tag), elem.keyword or elem.name, f"{len(elem.value)} "
                                 "item(s)", action, WHY_BY_VR["SQ"]))
                for i, item in enumerate(elem.value):
                    inside = f"{elem.keyword or elem.name}[{i}]"
                    visit(item, f"{where} > {inside}" if where else inside)
                continue
            if action is None or kept or tag.element in range(0x10, 0x100) and tag.is_private:
                continue
            value = elem.value if not isinstance(elem.value, bytes) else \
                elem.value.decode("latin-1", "replace")
            text = "" if value is None else str(value)
            if not text.strip("\x00 "):
                continue  # empty: nothing to find
            why = PRIVATE_WHY if tag.is_private else WHY_BY_KEYWORD.get(
                elem.keyword, WHY_BY_VR.get(elem.VR, "listed by the standard"))
            rows.append((where, str(tag), elem.keyword or elem.name,
                         text if len(text) <= 60 else text[:57] + "...", action, why))

    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for tag, action in FILE_META_ACTIONS.items():
            if tag in meta:
                elem = meta[tag]
                rows.append(("file meta", str(elem.tag), elem.keyword, str(elem.value), action,
                             WHY_BY_KEYWORD.get(elem.keyword, "file meta: who sent the file")))
    visit(ds, "")
    return pd.DataFrame(rows, columns=["where", "tag", "attribute", "value", "action", "why"])


# --------------------------------------------------------------------------- files


def _read(path: Path) -> Dataset:
    """Read a file, or raise BadInputError saying what is wrong with it."""
    if path.stat().st_size == 0:
        raise BadInputError("empty file (0 bytes)")
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        try:
            forced = pydicom.dcmread(path, force=True)
            has_elements = any(not t.is_private and t.group > 2 for t in forced.keys())
            known = has_elements and "SOPInstanceUID" in forced
        except Exception:
            known = False
        if known:
            raise BadInputError(
                "no DICOM file meta header (not a DICOM Part 10 file): re-export it from "
                "the scanner or PACS, or add the header with pydicom or dcmtk's dcmconv"
            ) from None
        raise BadInputError("not a DICOM file") from None
    except Exception as error:
        raise BadInputError(f"truncated or corrupt: {error}") from None
    return ds


def _check_complete(ds: Dataset) -> None:
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
    if "Rows" in ds and "PixelData" not in ds and "FloatPixelData" not in ds:
        raise BadInputError("truncated: an image without pixel data")


@dataclass
class FileResult:
    """What happened to one source file.

    ``status`` is ``"written"``, ``"left out"`` (on purpose: see :func:`leave_out_reason`)
    or ``"failed"`` (bad input). ``study`` holds original values and stays in memory.
    """

    source: str
    status: str
    reason: str = ""
    participant: str = ""
    study: StudyRecord | None = field(default=None, repr=False)
    series: str = ""
    series_number: int | None = None
    modality: str = ""
    instance: int | None = None
    staged: str = ""
    output: str = ""


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _process(source: Path, relative: str, staging: Path, key: Key,
             options: Options) -> FileResult:
    """Read, check, de-identify and stage one file; never raise for bad input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = _read(source)
            reason = leave_out_reason(ds)
            if reason:
                return FileResult(relative, "left out", reason)
            _check_complete(ds)
            record = study_record(ds)
            label = key.label(record.participant)
            series = key.label(str(ds.get("SeriesInstanceUID", "")) or "none", 12)
            result = FileResult(
                relative, "written", participant=label, study=record, series=series,
                series_number=_int_or_none(ds.get("SeriesNumber")),
                modality=re.sub(r"[^A-Za-z0-9]", "", str(ds.get("Modality", "") or "")) or "OT",
                instance=_int_or_none(ds.get("InstanceNumber")),
            )
            staged = Path(series) / f"{key.label(str(ds.SOPInstanceUID), 16)}.dcm"
            ds = deidentify(ds, key, options, copy=False)
            # Straight into the staging folder: it is emptied when a batch starts, and a
            # file reaches DST only by a rename once the whole batch is written.
            (staging / series).mkdir(exist_ok=True)
            ds.save_as(staging / staged)  # as read: preamble and file meta present
            result.staged = staged.as_posix()
            return result
    except BadInputError as error:
        return FileResult(relative, "failed", str(error))
    except Exception as error:  # anything else: report it, and go on with the rest
        return FileResult(relative, "failed", f"could not be processed: "
                                              f"{type(error).__name__}: {error}")


# --------------------------------------------------------------------------- batches


@dataclass
class Report:
    """What a batch did: per series, what was left out and what failed, and why.

    The report names source files (their paths can carry names): keep it with the
    originals, out of the shared dataset.
    """

    profile: str
    options: list[str]
    key: str
    series: list[dict] = field(default_factory=list)
    left_out: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    version: str = __version__

    @property
    def exit_status(self) -> int:
        """3 when some inputs failed, else 0."""
        return 3 if self.failed else 0

    def to_dict(self) -> dict:
        """The report as plain data (what :meth:`save` writes as JSON)."""
        return asdict(self)

    def summary(self) -> str:
        """A short text for people: what was written, left out and failed."""
        files = sum(s["files"] for s in self.series)
        people = len({s["participant"] for s in self.series})
        sessions = len({(s["participant"], s["session"]) for s in self.series})
        lines = [
            f"mrishare {self.version} deidentify-dicom",
            f"profile: {self.profile}",
            f"options: {', '.join(self.options) or 'none (basic profile)'}",
            f"key: {self.key}",
            f"written: {files} files in {len(self.series)} series, {people} participants, "
            f"{sessions} sessions",
        ]
        lines += [f"  {s['path']}: {s['files']} files ({s['modality']})" for s in self.series]
        lines.append(f"left out on purpose: {len(self.left_out)}")
        lines += [f"  {r['source']}: {r['reason']}" for r in self.left_out]
        lines.append(f"failed: {len(self.failed)}")
        lines += [f"  {r['source']}: {r['reason']}" for r in self.failed]
        return "\n".join(lines) + "\n"

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.json`` and ``<path>.txt`` (atomic); return both paths."""
        base = Path(path)
        written = []
        for suffix, text in ((".json", json.dumps(self.to_dict(), indent=2) + "\n"),
                             (".txt", self.summary())):
            target = base.with_name(base.name + suffix)
            with atomic_write(target, "w") as f:
                f.write(text)
            written.append(target)
        return written[0], written[1]


def _list_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    return sorted(p for p in src.rglob("*") if p.is_file())


_WORKER: dict[str, Any] = {}


def _init_worker(staging: Path, key: Key, options: Options) -> None:
    _WORKER.update(staging=staging, key=key, options=options)


def _work(item: tuple[Path, str]) -> FileResult:
    return _process(item[0], item[1], _WORKER["staging"], _WORKER["key"], _WORKER["options"])


def _run(items: list[tuple[Path, str]], staging: Path, key: Key, options: Options,
         jobs: int, progress: bool) -> Iterator[FileResult]:
    from tqdm import tqdm

    bar = tqdm(total=len(items), unit="file", disable=not progress, desc="de-identifying",
               leave=False)
    with bar:
        if jobs <= 1:
            _init_worker(staging, key, options)
            for item in items:
                yield _work(item)
                bar.update()
            return
        with ProcessPoolExecutor(jobs, initializer=_init_worker,
                                 initargs=(staging, key, options)) as pool:
            chunk = max(1, min(32, len(items) // jobs // 4))
            for result in pool.map(_work, items, chunksize=chunk):
                yield result
                bar.update()


def _final_paths(results: list[FileResult]) -> None:
    """Give staged files their final names: sub-<label>/ses-<n>/<NNN>-<modality>/<NNNNN>.dcm.

    Sessions are numbered by :func:`number_sessions`; a series folder is named by the series
    number and modality (plus a keyed suffix if two series share them); a file by its
    instance number (or its keyed name when numbers are missing or repeated).
    """
    written = [r for r in results if r.status == "written"]
    sessions = number_sessions(r.study for r in written if r.study)
    by_session: dict[tuple[str, int], dict[str, FileResult]] = defaultdict(dict)
    for r in written:
        session = sessions[(r.study.participant, r.study.study_uid)]
        by_session[(r.participant, session)].setdefault(r.series, r)
    folder_of = {}
    for (label, session), series in by_session.items():
        names = {s: (f"{r.series_number:03d}" if r.series_number is not None else "series")
                 + f"-{r.modality}" for s, r in series.items()}
        counts = Counter(names.values())
        for s, name in names.items():
            name = name if counts[name] == 1 else f"{name}-{s[:6]}"
            folder_of[s] = f"sub-{label}/ses-{session}/{name}"
    by_series: dict[str, list[FileResult]] = defaultdict(list)
    for r in written:
        by_series[r.series].append(r)
    for series, members in by_series.items():
        counts = Counter(r.instance for r in members)
        for r in members:
            unique = r.instance is not None and counts[r.instance] == 1
            name = f"{r.instance:05d}.dcm" if unique else Path(r.staged).name
            r.output = f"{folder_of[series]}/{name}"


def deidentify_folder(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    key: Key,
    options: Options | None = None,
    *,
    jobs: int = 1,
    progress: bool = False,
) -> Report:
    """De-identify every DICOM file under ``src`` into ``dst``.

    Output paths are built from pseudonyms only:
    ``sub-<label>/ses-<n>/<series number>-<modality>/<instance number>.dcm``. Files that
    may show burned-in text (see :func:`leave_out_reason`) are left out; bad files (empty,
    truncated, not DICOM, without file meta, with unreadable elements) are named in the
    report and the rest is still done. ``src`` is only read.

    Parameters
    ----------
    src : path
        A folder (searched recursively) or one file.
    dst : path
        The output folder; refused when it is ``src`` or inside it.
    key : mrishare.keys.Key
    options : Options, optional
    jobs : int, default 1
        Worker processes.
    progress : bool, default False
        Show a progress bar (on stderr).

    Returns
    -------
    Report
        Save it with :meth:`Report.save` next to the originals, not in ``dst``.

    Raises
    ------
    DestinationError
        When ``dst`` is ``src`` or inside it.
    """
    options = options or Options()
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise FileNotFoundError(f"The source {src} does not exist.")
    refuse_inside_source(src, dst)
    root = src if src.is_dir() else src.parent
    items = [(p, p.relative_to(root).as_posix()) for p in _list_files(src)]
    staging = dst / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    results = list(_run(items, staging, key, options, jobs, progress))
    _final_paths(results)
    done: set[str] = set()
    for r in results:
        if r.status != "written":
            continue
        if r.staged in done:  # a second file with the same SOP Instance UID
            r.status, r.reason = "left out", "a copy of another file (same SOP Instance UID)"
            continue
        target = dst / r.output
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / r.staged, target)
        done.add(r.staged)
    with contextlib.suppress(OSError):
        shutil.rmtree(staging)
    return _report(results, key, options)


def _report(results: list[FileResult], key: Key, options: Options) -> Report:
    _, profile = _plan(options)
    report = Report(
        profile=profile.describe(),
        options=options.chosen(),
        key="given (the same key gives the same pseudonyms)" if key.reproducible else
        "random (no key file): these pseudonyms cannot be made again",
    )
    series: dict[str, dict] = {}
    for r in results:
        if r.status == "written":
            folder = r.output.rsplit("/", 1)[0]
            row = series.setdefault(folder, {
                "participant": f"sub-{r.participant}", "session": int(folder.split("/")[1][4:]),
                "series": folder.rsplit("/", 1)[1], "modality": r.modality, "path": folder,
                "files": 0,
            })
            row["files"] += 1
        elif r.status == "left out":
            report.left_out.append({"source": r.source, "reason": r.reason})
        else:
            report.failed.append({"source": r.source, "reason": r.reason})
    report.series = sorted(series.values(), key=lambda s: s["path"])
    return report

