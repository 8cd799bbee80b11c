"""From a DICOM study to a BIDS dataset that carries no identifiers.

:func:`to_bids` reads a DICOM tree (never writing to it), sorts the files into series,
**classifies** each series from its descriptors and acquisition parameters with the rule
table :data:`SERIES_RULES` (unknown series are skipped and reported, never guessed),
converts each with **dcm2niix** into a temporary folder, and then writes:

* ``sub-<label>[/ses-<n>]/anat/sub-<label>[_ses-<n>][_run-<n>]_<suffix>.nii.gz``: NIfTI
  files scrubbed by :func:`mrishare.nifti.scrub_nifti` (header text fields and extensions
  cleared, gzip header without file name or time, voxels copied byte for byte);
* a JSON sidecar next to each, holding only acquisition fields that the BIDS schema
  defines for MRI (:func:`sidecar_allowlist`, read from the installed ``bidsschematools``)
  minus those that name a site or a person (:data:`SIDECAR_DENY`), plus
  ``DeidentificationMethod``;
* ``scans.tsv`` per participant (or session) with ``acq_time`` shifted back to 1925 or
  earlier, one shift per participant; ``participants.tsv`` (age capped at 89, sex only
  when asked); ``dataset_description.json`` with licence and ``GeneratedBy``; a README.

Labels come from the secret key (:mod:`mrishare.keys`) exactly as in the DICOM step
(:mod:`mrishare.dicom`): the participant label is ``key.label(participant_id)``, the date
shift ``key.date_shift(participant_id)``, where ``participant_id`` is the PatientID
(:func:`mrishare.dicom.participant_id`); sessions are numbered by date within a
participant (:func:`mrishare.dicom.number_sessions`). The dataset is built in a
temporary folder next to the destination and renamed into place when done.

Examples
--------
>>> from mrishare import bids, data, keys
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "bids"
>>> report = bids.to_bids(data.sample_path("dicom_study"), out, keys.Key(bytes(32)))
>>> len(report.written), len(report.skipped), len(report.failed)
(6, 1, 0)
>>> sorted(p.name for p in out.iterdir())[:3]
['README', 'dataset_description.json', 'participants.json']
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrishare import HOME, __version__
from mrishare import dicom as _dicom
from mrishare import nifti as _nifti
from mrishare._paths import DestinationError, atomic_write, refuse_inside_source
from mrishare.keys import Key

__all__ = [
    "SERIES_RULES",
    "SIDECAR_DENY",
    "SIDECAR_GROUPS",
    "BidsReport",
    "DestinationError",
    "Problem",
    "Rule",
    "Series",
    "classify",
    "dcm2niix_path",
    "describe_carriers",
    "find_series",
    "run_dcm2niix",
    "scrub_sidecar",
    "series_features",
    "shift_datetime",
    "sidecar_allowlist",
    "to_bids",
    "uses_sessions",
    "validate",
    "validator_path",
]

log = logging.getLogger("mrishare")


# --------------------------------------------------------------------------- series
# DICOM attributes read from every file (pixel data are never read).
_TAGS = [
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "PatientAge",
    "OtherPatientIDsSequence", "StudyInstanceUID", "StudyDate", "StudyTime", "SeriesDate",
    "SeriesTime", "AcquisitionDate", "AcquisitionTime", "SeriesInstanceUID", "SeriesNumber",
    "SeriesDescription", "ProtocolName", "SequenceName", "Modality", "SOPClassUID",
    "ImageType", "EchoTime", "RepetitionTime", "InversionTime", "ScanningSequence",
    "MRAcquisitionType", "InstitutionName", "InstitutionAddress", "StationName",
    "DeviceSerialNumber", "AccessionNumber", "StudyID", "StudyDescription", "ImageComments",
    "ReferringPhysicianName", "OperatorsName", "PerformingPhysicianName", "InstanceNumber",
]

# Attributes whose values identify someone or somewhere: harvested from each series to
# check that no allowed sidecar value repeats them.
_IDENTIFYING = [
    "PatientID", "PatientName", "PatientBirthDate", "StudyDate", "StudyTime",
    "AcquisitionTime", "SeriesTime", "InstitutionName", "InstitutionAddress", "StationName",
    "DeviceSerialNumber", "AccessionNumber", "StudyID", "StudyDescription",
    "SeriesDescription", "ProtocolName", "ImageComments", "ReferringPhysicianName",
    "OperatorsName", "PerformingPhysicianName",
]

_PERSON_NAMES = {"PatientName", "ReferringPhysicianName", "OperatorsName",
                 "PerformingPhysicianName"}


@dataclass
class Series:
    """One DICOM series of the source tree.

    Attributes
    ----------
    uid : str
        SeriesInstanceUID.
    files : list of Path
        Its files, in path order.
    info : dict
        Attributes of its first file (see ``_TAGS``), as plain Python values.
    folder : str
        The folder holding its first file, relative to the source (for messages to the
        operator only; it often holds a name).
    first : tuple of str
        The earliest (date, time) among its files, as DICOM strings.
    """

    uid: str
    files: list[Path]
    info: dict[str, Any]
    folder: str
    first: tuple[str, str] = ("", "")

    def identifiers(self) -> set[str]:
        """Identifying values of this series; person names also split into their parts."""
        found = set(self.info.get("OtherPatientIDs", []))
        for keyword in _IDENTIFYING:
            value = str(self.info.get(keyword) or "")
            found.add(value)
            if keyword in _PERSON_NAMES:
                found.update(re.split(r"[\^ ,]+", value))
        return {v.strip() for v in found if len(v.strip()) >= 4}


def _plain(value: Any) -> Any:
    from pydicom.multival import MultiValue

    if isinstance(value, MultiValue | list | tuple):
        return [str(v) for v in value]
    return str(value) if value is not None else ""


def _read_header(path: Path) -> dict[str, Any] | None:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_TAGS)
    except (InvalidDicomError, OSError, ValueError, EOFError):
        return None
    if "SeriesInstanceUID" not in ds:
        return None
    info = {k: _plain(ds.get(k)) for k in _TAGS if k != "OtherPatientIDsSequence"}
    info["OtherPatientIDs"] = [str(item.get("PatientID", ""))
                               for item in ds.get("OtherPatientIDsSequence", [])]
    # Who and which study, decided exactly as the DICOM de-identification step does.
    info["_participant"] = _dicom.participant_id(ds)
    info["_study"] = _dicom.study_record(ds)
    return info


def find_series(src: str | Path) -> tuple[list[Series], list[Problem]]:
    """Sort the DICOM files under ``src`` into series (reading headers only).

    Parameters
    ----------
    src : str or Path
        A folder of DICOM files, in any layout.

    Returns
    -------
    series : list of Series
    skipped : list of Problem
        Files that are not DICOM images (a DICOMDIR, a README, a NIfTI file...).

    Examples
    --------
    >>> from mrishare import data
    >>> series, skipped = find_series(data.sample_path("dicom_study"))
    >>> len(series), len(skipped)
    (7, 0)
    """
    src = Path(src)
    groups: dict[str, Series] = {}
    skipped = []
    for path in sorted(p for p in src.rglob("*") if p.is_file() and not p.name.startswith(".")):
        info = _read_header(path)
        relative = path.relative_to(src).as_posix()
        if info is None:
            skipped.append(Problem(relative, "not a DICOM image file"))
            continue
        when = (info["AcquisitionDate"] or info["SeriesDate"] or info["StudyDate"],
                info["AcquisitionTime"] or info["SeriesTime"] or info["StudyTime"])
        series = groups.get(info["SeriesInstanceUID"])
        if series is None:
            groups[info["SeriesInstanceUID"]] = Series(
                info["SeriesInstanceUID"], [path], info, path.parent.relative_to(src).as_posix(),
                when)
        else:
            series.files.append(path)
            series.first = min(series.first, when)
    return list(groups.values()), skipped


# --------------------------------------------------------------------------- classification
@dataclass(frozen=True)
class Rule:
    """One row of the classification table.

    Attributes
    ----------
    outcome : str
        A BIDS suffix (``"T1w"``, ``"T2w"``, ``"FLAIR"``) or ``"skip"``.
    reason : str
        Why, in words a reader understands (shown in the report).
    when : dict
        Feature name -> test; all must hold. Tests: ``("in", values)``,
        ``("not_in", values)``, ``("any", values)`` (the feature, a set of words, shares
        one), ``("none", values)``, ``("match", regex)`` (a word matches), ``("no_match",
        regex)``, ``("range", low, high)`` (``low <= value < high``; a missing value fails).
    """

    outcome: str
    reason: str
    when: dict[str, tuple]


_T1 = r"t1w?|t1.*|mp-?rage|mprage.*|spgr|fspgr|bravo|tfl.*|tfe3d"
_T2 = r"t2w?|t2.*|tse|fse|space|cube"
_FLAIR = r"flair|tirm|darkfluid|dark-fluid"
_LOCALIZER = {"localizer", "localiser", "scout", "survey", "aahead", "aascout", "calibration",
              "cal", "loc", "3plane", "tri", "pilot"}
_MR_CLASSES = {"1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1"}  # MR, Enhanced MR
_DERIVED = {"DERIVED", "SECONDARY", "SCREENSHOT", "MPR", "PROJECTION IMAGE", "MIP", "MOCO",
            "ADC", "FA", "TRACEW"}

SERIES_RULES: tuple[Rule, ...] = (
    Rule("skip", "not MR (another modality)", {"modality": ("not_in", {"MR"})}),
    Rule("skip", "not an MR image object (secondary capture, report or other)",
         {"sop_class": ("not_in", _MR_CLASSES)}),
    Rule("skip", "derived image (screenshot, reformat, projection or map)",
         {"image_type": ("any", _DERIVED)}),
    Rule("skip", "localizer or calibration scan", {"words": ("any", _LOCALIZER)}),
    Rule("FLAIR", "named FLAIR and long echo time",
         {"words": ("match", _FLAIR), "te_ms": ("range", 50, 400)}),
    Rule("T1w", "named T1-weighted and short echo time",
         {"words": ("match", _T1), "te_ms": ("range", 0, 15)}),
    Rule("T2w", "named T2-weighted and long echo time",
         {"words": ("match", _T2), "te_ms": ("range", 50, 400)}),
    Rule("skip", "named T1, T2 or FLAIR but its echo time disagrees: not guessed",
         {"words": ("match", f"{_T1}|{_T2}|{_FLAIR}")}),
    Rule("T1w", "3D inversion-recovery gradient echo with short TE (MPRAGE-like parameters)",
         {"scanning": ("any", {"IR"}), "acquisition": ("in", {"3D"}),
          "ti_ms": ("range", 500, 1500), "te_ms": ("range", 0, 10)}),
    Rule("T2w", "spin echo, long TR and TE, no inversion (T2-weighted parameters)",
         {"scanning": ("any", {"SE"}), "scanning_no_ir": ("none", {"IR"}),
          "te_ms": ("range", 60, 200), "tr_ms": ("range", 2000, 20000)}),
)
"""The classification table: the first rule whose tests all hold decides."""


def _number(value: Any) -> float | None:
    try:
        number = float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError, IndexError):
        return None
    return None if math.isnan(number) else number


def series_features(info: dict[str, Any]) -> dict[str, Any]:
    """Return the features the rules look at, from a series' DICOM attributes.

    Examples
    --------
    >>> sorted(series_features({"SeriesDescription": "T1 MPRAGE sag"})["words"])
    ['mprage', 'sag', 't1']
    """
    text = " ".join(str(info.get(k) or "") for k in
                    ("SeriesDescription", "ProtocolName", "SequenceName"))
    scanning = info.get("ScanningSequence") or []
    scanning = set(scanning if isinstance(scanning, list) else str(scanning).split("\\"))
    image_type = info.get("ImageType") or []
    image_type = image_type if isinstance(image_type, list) else str(image_type).split("\\")
    return {
        "modality": str(info.get("Modality") or ""),
        "sop_class": str(info.get("SOPClassUID") or ""),
        "image_type": {v.upper() for v in image_type},
        "words": {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w},
        "te_ms": _number(info.get("EchoTime")),
        "tr_ms": _number(info.get("RepetitionTime")),
        "ti_ms": _number(info.get("InversionTime")),
        "scanning": scanning,
        "scanning_no_ir": scanning,
        "acquisition": str(info.get("MRAcquisitionType") or ""),
    }


def _holds(value: Any, test: tuple) -> bool:
    kind, *args = test
    if kind == "in":
        return value in args[0]
    if kind == "not_in":
        return value not in args[0]
    if kind == "any":
        return bool(set(value) & set(args[0]))
    if kind == "none":
        return not set(value) & set(args[0])
    if kind in ("match", "no_match"):
        found = any(re.fullmatch(args[0], word) for word in value)
        return found if kind == "match" else not found
    if kind == "range":
        return value is not None and args[0] <= value < args[1]
    raise ValueError(f"Unknown test {kind!r} in a classification rule; known: in, not_in, "
                     "any, none, match, no_match, range.")


def classify(info: dict[str, Any], rules: Sequence[Rule] = SERIES_RULES) -> tuple[str, str]:
    """Classify a series by the first rule that holds.

    Parameters
    ----------
    info : dict
        DICOM attributes of the series (keywords as keys).
    rules : sequence of Rule, default :data:`SERIES_RULES`

    Returns
    -------
    outcome : str
        A BIDS suffix, ``"skip"``, or ``"unknown"`` when no rule holds.
    reason : str

    Examples
    --------
    >>> info = {"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4",
    ...         "SeriesDescription": "t2_tse_tra", "EchoTime": "98"}
    >>> classify(info)
    ('T2w', 'named T2-weighted and long echo time')
    >>> classify({**info, "EchoTime": "3"})[0]
    'skip'
    """
    features = series_features(info)
    for rule in rules:
        if all(_holds(features[name], test) for name, test in rule.when.items()):
            return rule.outcome, rule.reason
    return "unknown", "no classification rule holds: skipped rather than guessed"


# --------------------------------------------------------------------------- sidecars
# Rule groups of the BIDS schema (rules.sidecars.<datatype>.<group>) whose fields describe
# MRI acquisitions. Every field named in these groups is allowed, minus SIDECAR_DENY.
SIDECAR_GROUPS: tuple[str, ...] = ("mri", "anat", "func", "dwi", "fmap", "asl", "qmri")

# Fields of those groups that name a site, a device or a person, hold free text, or point
# at other files; with the reason each is dropped.
SIDECAR_DENY: dict[str, str] = {
    "InstitutionName": "names the hospital",
    "InstitutionAddress": "the hospital's address",
    "InstitutionalDepartmentName": "names the department",
    "DeviceSerialNumber": "identifies one scanner, so one site",
    "StationName": "identifies one scanner console, so one site",
    "TaskName": "free text",
    "TaskDescription": "free text",
    "Instructions": "free text",
    "CogAtlasID": "not an acquisition parameter",
    "CogPOID": "not an acquisition parameter",
    "PulseSequenceDetails": "free text",
    "BodyPartDetails": "free text",
    "LabelingLocationDescription": "free text",
    "IntendedFor": "file names of the source layout",
    "B0FieldIdentifier": "free-text label",
    "B0FieldSource": "free-text label",
    "MultipartID": "free-text label",
    "DeidentificationMethod": "written by mrishare itself",
    "DeidentificationMethodCodeSequence": "written by mrishare itself",
}

_WRITTEN_BY_US = {"DeidentificationMethod", "DeidentificationMethodCodeSequence"}


@functools.cache
def _schema() -> Any:
    from bidsschematools import schema

    # The copy installed with bidsschematools (offline); it announces that at INFO level.
    logging.getLogger("bidsschematools").setLevel(logging.WARNING)
    return schema.load_schema()


@functools.cache
def sidecar_allowlist() -> frozenset[str]:
    """Return the sidecar fields mrishare keeps: MRI fields of the BIDS schema, minus denied.

    Read from the BIDS schema installed with ``bidsschematools`` (no network), from the
    rule groups :data:`SIDECAR_GROUPS`, minus :data:`SIDECAR_DENY`.

    Examples
    --------
    >>> allowed = sidecar_allowlist()
    >>> "EchoTime" in allowed, "InstitutionName" in allowed
    (True, False)
    """
    sidecars = _schema().rules.sidecars
    names = set()
    for datatype in SIDECAR_GROUPS:
        for group in sidecars[datatype].values():
            names.update(name.split("__")[0] for name in group.fields.keys())
    return frozenset(names - set(SIDECAR_DENY))


def _contains_identifier(value: Any, identifiers: Iterable[str]) -> bool:
    text = json.dumps(value).lower()
    return any(token.lower() in text for token in identifiers)


def scrub_sidecar(sidecar: dict[str, Any], identifiers: Iterable[str] = ()
                  ) -> tuple[dict[str, Any], list[str]]:
    """Keep only allowed acquisition fields of a dcm2niix sidecar.

    Parameters
    ----------
    sidecar : dict
        The JSON sidecar as read.
    identifiers : iterable of str
        Identifying values of the source (names, IDs, dates); an allowed field whose value
        contains one is dropped too.

    Returns
    -------
    kept : dict
        The allowed fields, in the input's order.
    dropped : list of str
        The names of the fields dropped.

    Examples
    --------
    >>> kept, dropped = scrub_sidecar({"EchoTime": 0.003, "StationName": "MR3"})
    >>> kept, dropped
    ({'EchoTime': 0.003}, ['StationName'])
    """
    allowed = sidecar_allowlist()
    identifiers = [i for i in identifiers if i]
    kept, dropped = {}, []
    for name, value in sidecar.items():
        if name in allowed and not _contains_identifier(value, identifiers):
            kept[name] = value
        else:
            dropped.append(name)
    return kept, dropped


# --------------------------------------------------------------------------- pseudonyms
def shift_datetime(key: Key, patient_id: str, date: str, time: str = "") -> str:
    """Shift a DICOM date (and keep the time of day) by the participant's date shift.

    Returns a BIDS ``acq_time`` value, ``YYYY-MM-DDThh:mm:ss``, or ``"n/a"``.

    Examples
    --------
    >>> shift_datetime(Key(bytes(32)), "p", "20240311", "093012.5")[:4] <= "1925"
    True
    """
    try:
        day = dt.datetime.strptime(date.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return "n/a"
    shifted = key.shift_date(day, patient_id.strip())
    digits = re.sub(r"[^0-9.]", "", time).split(".")[0].ljust(6, "0")[:6]
    try:
        clock = dt.datetime.strptime(digits, "%H%M%S").time()
    except ValueError:
        clock = dt.time(0, 0, 0)
    return dt.datetime.combine(shifted, clock).isoformat()


_AGE_UNITS = {"Y": 1.0, "M": 12.0, "W": 52.1775, "D": 365.25}
_MAX_AGE = 89  # BIDS and HIPAA: older ages are written as 89


def _age(info: dict[str, Any]) -> str:
    """Age in years at the scan, capped at 89, from PatientAge or from the birth date."""
    text = str(info.get("PatientAge") or "").strip().upper()
    years = None
    if re.fullmatch(r"\d{1,3}[YMWD]", text):
        years = int(text[:-1]) / _AGE_UNITS[text[-1]]
    else:
        try:
            birth = dt.datetime.strptime(str(info.get("PatientBirthDate"))[:8], "%Y%m%d")
            scan = dt.datetime.strptime(str(info.get("StudyDate"))[:8], "%Y%m%d")
            years = (scan - birth).days / 365.25
        except ValueError:
            return "n/a"
    years = min(years, _MAX_AGE)
    return str(int(years)) if years >= 1 else f"{years:.2f}"


_SEX = {"M": "M", "F": "F", "O": "O"}


# --------------------------------------------------------------------------- conversion
@dataclass(frozen=True)
class Problem:
    """A source item that was skipped or failed.

    Attributes
    ----------
    source : str
        Path relative to the source folder (for the operator: it may hold names, so it is
        printed on the terminal and never written into the dataset).
    message : str
        What happened and what to do.
    """

    source: str
    message: str


@dataclass
class BidsReport:
    """What :func:`to_bids` did.

    Attributes
    ----------
    dataset : Path
        The BIDS dataset written.
    written : list of str
        Image files written, relative to ``dataset``.
    skipped : list of Problem
        Series or files not converted on purpose (not MR images, unknown series...).
    failed : list of Problem
        Series that could not be converted or scrubbed: exit status 3 on the command line.
    dropped_fields : dict
        Sidecar field name -> how many sidecars it was removed from.
    reproducible : bool
        False when a random key was used: the pseudonyms cannot be made again.
    """

    dataset: Path
    written: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    dropped_fields: dict[str, int] = field(default_factory=dict)
    reproducible: bool = True


def dcm2niix_path() -> str:
    """Return the dcm2niix program: the one of the ``dcm2niix`` wheel, else on the PATH.

    Examples
    --------
    >>> Path(dcm2niix_path()).name
    'dcm2niix'
    """
    try:
        import dcm2niix

        if Path(dcm2niix.bin).is_file():
            return str(dcm2niix.bin)
    except ImportError:
        pass
    found = shutil.which("dcm2niix")
    if found is None:
        raise FileNotFoundError("dcm2niix was not found. Install it with "
                                "'pip install dcm2niix' (the mrishare requirements do).")
    return found


def run_dcm2niix(src: str | Path, out: str | Path, *args: str) -> subprocess.CompletedProcess:
    """Run dcm2niix on a folder with its default options plus ``args``.

    Parameters
    ----------
    src : str or Path
        A folder of DICOM files.
    out : str or Path
        The output folder (created).
    *args : str
        More options, e.g. ``"-z", "n"``.

    Returns
    -------
    subprocess.CompletedProcess
        With ``stdout`` and ``stderr`` as text.
    """
    Path(out).mkdir(parents=True, exist_ok=True)
    command = [dcm2niix_path(), *args, "-o", str(out), str(src)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _convert(files: list[Path], work: Path) -> tuple[list[Path], str]:
    """Convert one series (its files linked into ``work/in``) into ``work/out``."""
    inputs = work / "in"
    inputs.mkdir(parents=True)
    for number, path in enumerate(files):
        (inputs / f"{number:05d}.dcm").symlink_to(path.resolve())
    result = run_dcm2niix(inputs, work / "out", "-b", "y", "-ba", "y", "-z", "n",
                          "-f", "image", "-v", "0")
    images = sorted((work / "out").glob("*.nii*"))
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if line.startswith(("Error", "Warning: Unable to", "Unsupported"))]
    return images, "; ".join(lines)[:300]


# --------------------------------------------------------------------------- writing BIDS
def _check_destination(src: Path, dst: Path) -> None:
    refuse_inside_source(src, dst)
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        raise DestinationError(
            f"The destination {dst} exists and is not an empty folder. Choose a new folder "
            "(mrishare does not mix a new dataset with other files)."
        )


def _write_json(path: Path, content: dict[str, Any]) -> None:
    with atomic_write(path, "w") as f:
        json.dump(content, f, indent=2)
        f.write("\n")


def _write_tsv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with atomic_write(path, "w") as f:
        f.write("\t".join(columns) + "\n")
        for row in rows:
            f.write("\t".join(str(row.get(c, "n/a")) for c in columns) + "\n")


def _dcm2niix_version() -> str:
    result = subprocess.run([dcm2niix_path(), "--version"], capture_output=True, text=True,
                            check=False)
    found = re.search(r"v\d+\.\d+\.\d+", result.stdout + result.stderr)
    return found.group(0) if found else "unknown"


def _deidentification_method() -> list[str]:
    return [
        f"mrishare {__version__}: converted from DICOM with dcm2niix; NIfTI header text "
        "fields (descrip, aux_file, intent_name, db_name) cleared and extensions removed; "
        "gzip headers without file name or time; sidecars limited to BIDS MRI acquisition "
        "fields (no institution, station, serial number, dates, times or free text); "
        "participant labels from a secret key; dates shifted to 1925 or earlier, one shift "
        "per participant",
    ]


_README = """\
# De-identified MRI dataset

Written by mrishare {version} ({home}) from a DICOM study.

- Participant labels are pseudonyms made with a secret key; the key is not part of
  this dataset.{random_key}
- Dates in `scans.tsv` are shifted back to 1925 or earlier, by one shift per
  participant, so intervals between sessions are true; the times of day are kept.
- Ages are in years at the first session, and ages above 89 are written as 89.
- NIfTI headers hold no free text and no extensions; gzip headers hold no file name or
  time; JSON sidecars hold only BIDS MRI acquisition fields.
- Faces have NOT been removed by this step: structural images still show the face.
  Deface them (`mrishare deface`) before sharing.
"""


def _dataset_files(root: Path, participants: dict[str, dict[str, str]], include_sex: bool,
                   license: str, name: str, authors: Sequence[str], key: Key) -> None:
    schema = _schema()
    _write_json(root / "dataset_description.json", {
        "Name": name,
        **({"Authors": list(authors)} if authors else {}),
        "BIDSVersion": str(schema.bids_version),
        "DatasetType": "raw",
        "License": license,
        "GeneratedBy": [
            {"Name": "mrishare", "Version": __version__, "CodeURL": HOME},
            {"Name": "dcm2niix", "Version": _dcm2niix_version(),
             "CodeURL": "https://github.com/rordenlab/dcm2niix"},
        ],
    })
    columns = ["participant_id", "age"] + (["sex"] if include_sex else [])
    rows = [{"participant_id": f"sub-{label}", **values}
            for label, values in sorted(participants.items())]
    _write_tsv(root / "participants.tsv", columns, rows)
    description = {
        "participant_id": {"Description": "Pseudonym made from the source PatientID with a "
                                          "secret key"},
        "age": {"Description": "Age at the first session, in whole years; ages above 89 are "
                               "written as 89", "Units": "year"},
    }
    if include_sex:
        description["sex"] = {"Description": "Sex as recorded in the DICOM header",
                              "Levels": {"M": "male", "F": "female", "O": "other"}}
    _write_json(root / "participants.json", description)
    note = "" if key.reproducible else (
        "\n- A random key was used: these pseudonyms cannot be made again.")
    with atomic_write(root / "README", "w") as f:
        f.write(_README.format(version=__version__, home=HOME, random_key=note))


def to_bids(src: str | Path, dst: str | Path, key: Key, *, include_sex: bool = False,
            license: str = "CC0", name: str = "De-identified MRI dataset",
            authors: Sequence[str] = (), jobs: int = 2,
            sessions: bool | None = None) -> BidsReport:
    """Convert a DICOM tree into a BIDS dataset with no identifiers.

    Parameters
    ----------
    src : str or Path
        The DICOM tree (read only).
    dst : str or Path
        A new or empty folder, not inside ``src``.
    key : mrishare.keys.Key
        The secret key of the study (the same as for the DICOM step).
    include_sex : bool, default False
        Write a ``sex`` column in ``participants.tsv``.
    license : str, default "CC0"
        The dataset's licence (``dataset_description.json``).
    name : str
        The dataset's name.
    authors : sequence of str
        The dataset's authors (``dataset_description.json``); the validator warns without.
    jobs : int, default 2
        Series converted at the same time.
    sessions : bool, optional
        Use ``ses-<n>`` folders (True) or not (False). Default: when any participant in
        ``src`` has more than one session (:func:`uses_sessions`). A dataset converted in
        parts (one participant at a time) passes the choice made for the whole study, so
        that the layout is the same across the dataset.

    Returns
    -------
    BidsReport
        What was written, skipped and failed; failures do not stop the other series.

    Raises
    ------
    DestinationError
        ``dst`` is inside ``src`` or is a folder that is not empty.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise DestinationError(f"The source {src} is not a folder of DICOM files.")
    _check_destination(src, dst)
    all_series, skipped = find_series(src)
    report = BidsReport(dst, skipped=skipped, reproducible=key.reproducible)
    wanted = []
    for series in sorted(all_series, key=lambda s: (s.first, _number(s.info["SeriesNumber"]) or 0)):
        outcome, reason = classify(series.info)
        if outcome in ("skip", "unknown"):
            report.skipped.append(Problem(series.folder, reason))
        else:
            wanted.append((series, outcome))
    names = _bids_names(wanted, key, sessions)

    dst.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".mrishare-", dir=dst.parent))
    work = Path(tempfile.mkdtemp(prefix="mrishare-convert-"))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(
                lambda item: _convert(item[1][0].files, work / f"{item[0]:04d}"),
                enumerate(wanted)))
        scans: dict[Path, list[dict[str, str]]] = defaultdict(list)
        participants: dict[str, dict[str, str]] = {}
        for (series, _), (images, message), relative in zip(wanted, results, names, strict=True):
            problem = _write_series(series, images, message, build, relative, key, report)
            if problem:
                report.failed.append(problem)
                continue
            report.written.append(relative.as_posix())
            patient = series.info["_participant"]
            folder = relative.parents[1]  # sub-x or sub-x/ses-n
            scans[folder].append({
                "filename": relative.relative_to(folder).as_posix(),
                "acq_time": shift_datetime(key, patient, *series.first),
            })
            label = key.label(patient)
            if label not in participants:
                values = {"age": _age(series.info)}
                if include_sex:
                    values["sex"] = _SEX.get(str(series.info["PatientSex"]).upper(), "n/a")
                participants[label] = values
        for folder, rows in scans.items():
            prefix = "_".join(folder.parts)
            _write_tsv(build / folder / f"{prefix}_scans.tsv", ["filename", "acq_time"],
                       sorted(rows, key=lambda r: r["filename"]))
        _dataset_files(build, participants, include_sex, license, name, authors, key)
        if dst.exists():
            dst.rmdir()  # empty, checked above
        os.replace(build, dst)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)
    for problem in report.failed:
        log.debug("failed: %s", problem.message)  # no source path in logs
    return report


def _wanted(all_series: Iterable[Series]) -> list[Series]:
    """The series that are converted (not skipped by the rule table)."""
    return [s for s in all_series if classify(s.info)[0] not in ("skip", "unknown")]


def uses_sessions(all_series: Iterable[Series]) -> bool:
    """Whether a dataset of these series needs ``ses-`` folders.

    True when any participant has more than one session among the series that are
    converted (screenshots and unknown series do not count). BIDS wants one layout for the
    whole dataset, so decide this once for the whole study (see ``to_bids(sessions=)``).

    Examples
    --------
    >>> from mrishare import data
    >>> uses_sessions(find_series(data.sample_path("dicom_study", verify=False))[0])
    True
    """
    numbers = _dicom.number_sessions(s.info["_study"] for s in _wanted(all_series))
    return max(numbers.values(), default=1) > 1


def _bids_names(wanted: list[tuple[Series, str]], key: Key,
                sessions: bool | None = None) -> list[Path]:
    """BIDS paths (relative) for the series to convert, in the order given."""
    numbers = _dicom.number_sessions(series.info["_study"] for series, _ in wanted)
    use_sessions = max(numbers.values(), default=1) > 1 if sessions is None else sessions
    if sessions is False and max(numbers.values(), default=1) > 1:
        raise ValueError("sessions=False, but a participant has more than one session: "
                         "give sessions=True (or None to decide from the series).")
    stems = []
    for series, suffix in wanted:
        record = series.info["_study"]
        parts = [f"sub-{key.label(record.participant)}"]
        if use_sessions:
            parts.append(f"ses-{numbers[(record.participant, record.study_uid)]}")
        stems.append((tuple(parts), suffix))
    counts = defaultdict(int)
    for stem in stems:
        counts[stem] += 1
    seen: dict[tuple, int] = defaultdict(int)
    names = []
    for parts, suffix in stems:
        seen[(parts, suffix)] += 1
        entities = list(parts)
        if counts[(parts, suffix)] > 1:
            entities.append(f"run-{seen[(parts, suffix)]}")
        names.append(Path(*parts, "anat", "_".join([*entities, suffix]) + ".nii.gz"))
    return names


def _write_series(series: Series, images: list[Path], message: str, build: Path,
                  relative: Path, key: Key, report: BidsReport) -> Problem | None:
    """Scrub one converted series into the dataset; return a Problem when it fails."""
    if not images:
        detail = f" (dcm2niix said: {message})" if message else ""
        return Problem(series.folder, f"dcm2niix could not convert this series{detail}. "
                       "Check that its files are complete MR images; the other series "
                       "were converted.")
    if len(images) > 1:
        return Problem(series.folder, f"dcm2niix split this series into {len(images)} images "
                       "(echoes, phases or mixed geometry); mrishare converts single-image "
                       "T1w/T2w series only.")
    image = images[0]
    target = build / relative
    try:
        _nifti.scrub_nifti(image, target)
    except (_nifti.NiftiReadError, _nifti.DicomExtensionError) as error:
        return Problem(series.folder, f"{error}".replace(str(image), "the converted image"))
    sidecar_path = image.parent / (image.name.split(".")[0] + ".json")
    sidecar = json.loads(sidecar_path.read_text()) if sidecar_path.is_file() else {}
    kept, dropped = scrub_sidecar(sidecar, series.identifiers())
    for name in dropped:
        report.dropped_fields[name] = report.dropped_fields.get(name, 0) + 1
    kept["DeidentificationMethod"] = _deidentification_method()
    _write_json(target.with_name(target.name.replace(".nii.gz", ".json")), kept)
    return None


# --------------------------------------------------------------------------- looking
def describe_carriers(folder: str | Path) -> Any:
    """List what the files of a conversion carry besides the image, one row per carrier.

    For each ``.nii``/``.nii.gz`` file: its name, the header text fields, extensions and
    gzip header; for each image's ``.json`` sidecar: every field :func:`scrub_sidecar`
    would drop (except the ``DeidentificationMethod`` fields mrishare writes).

    Parameters
    ----------
    folder : str or Path
        Output of dcm2niix, or a BIDS dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``carrier`` and ``value``.

    Examples
    --------
    >>> import tempfile
    >>> describe_carriers(tempfile.mkdtemp()).empty
    True
    """
    import pandas as pd

    folder = Path(folder)
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.name.endswith((".nii", ".nii.gz")):
            rows.append((name, "file name", path.name))
            header = _nifti.load_nifti(path).header
            for field_name in _nifti.FREE_TEXT_FIELDS:
                if field_name in header.keys():
                    text = _nifti._field_text(header, field_name)
                    if text:
                        rows.append((name, f"header {field_name}", text.decode("latin-1")))
            for index, extension in enumerate(header.extensions):
                rows.append((name, f"extension {index}", f"code {extension.get_code()}"))
            if path.name.endswith(".gz"):
                gz = _nifti.gzip_header(path)
                if gz["name"]:
                    rows.append((name, "gzip file name", gz["name"]))
                if gz["mtime"]:
                    when = dt.datetime.fromtimestamp(gz["mtime"], dt.UTC)
                    rows.append((name, "gzip time", when.isoformat(timespec="seconds")))
        elif path.suffix == ".json" and any(path.with_suffix(s).exists()
                                            for s in (".nii", ".nii.gz")):
            sidecar = json.loads(path.read_text())
            _, dropped = scrub_sidecar(sidecar)
            rows += [(name, f"sidecar {key}", json.dumps(sidecar[key])) for key in dropped
                     if key not in _WRITTEN_BY_US]
    return pd.DataFrame(rows, columns=["file", "carrier", "value"])


def validator_path() -> str:
    """Return the BIDS validator program (``bids-validator-deno``, from PyPI).

    Raises
    ------
    FileNotFoundError
        When it is not installed, with the command that installs it.
    """
    import sys

    here = Path(sys.executable).with_name("bids-validator-deno")
    found = str(here) if here.exists() else shutil.which("bids-validator-deno")
    if not found:
        raise FileNotFoundError("The BIDS validator is not installed. Install it with "
                                "'pip install bids-validator-deno' (it runs offline).")
    return found


def validate(dataset: str | Path) -> Any:
    """Run the BIDS validator offline and count its issues by severity, code and field.

    Parameters
    ----------
    dataset : str or Path
        A BIDS dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``severity``, ``code``, ``field`` and ``count``; errors first.
    """
    import pandas as pd

    result = subprocess.run([validator_path(), str(dataset), "--format", "json"],
                            capture_output=True, text=True, check=False, timeout=600)
    try:
        issues = json.loads(result.stdout)["issues"]["issues"]
    except (json.JSONDecodeError, KeyError):
        raise RuntimeError(f"The BIDS validator gave no report (exit {result.returncode}): "
                           f"{result.stderr.strip()[:300]}") from None
    table = pd.DataFrame(
        [(i["severity"], i["code"], i.get("subCode") or "") for i in issues],
        columns=["severity", "code", "field"],
    )
    counted = table.value_counts().rename("count").reset_index()
    return counted.sort_values(["severity", "code", "field"]).reset_index(drop=True)
