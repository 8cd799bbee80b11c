"""Finding the series of a DICOM tree from their headers (pixel data are never read).

Every file is read by :func:`mrishare.readers.read_dicom`, the one reader every command
uses: Part 10 files and files without a file meta header are accepted, anything else is
skipped with the reader's reason. Files are grouped by SeriesInstanceUID.

Examples
--------
>>> from mrishare import data
>>> from mrishare.bids import series
>>> found, skipped = series.find_series(data.sample_path("dicom_study"))
>>> len(found), len(skipped)
(14, 0)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrishare import dicom as _dicom
from mrishare import identifiers as _identifiers
from mrishare import readers
from mrishare.bids import mapping
from mrishare.errors import BadInputError

__all__ = ["HEADER_TAGS", "NAME_KINDS", "Problem", "Series", "find_series", "uses_sessions"]

_BASE_TAGS = (
    "OtherPatientIDsSequence", "StudyInstanceUID", "SeriesDate", "AcquisitionDate",
    "SeriesInstanceUID", "SeriesNumber", "SOPInstanceUID", "SOPClassUID", "InstanceNumber",
)

HEADER_TAGS: tuple[str, ...] = tuple(dict.fromkeys(
    [*_BASE_TAGS, *(k for k in mapping.FIELDS if k != "Words"),
     *(a.keyword for a in _identifiers.attributes())]))
"""The DICOM attributes read from every file: which series and when, what the mapping tests,
and every attribute of the identifying table (who, where, the dates and times, the ages)."""

NAME_KINDS = frozenset({"patient name", "staff name", "person name"})
"""Kinds of identifying attributes (see :mod:`mrishare.identifiers`) that hold names: their
values also count word by word."""


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
class Series:
    """One DICOM series of the source tree.

    Attributes
    ----------
    uid : str
        SeriesInstanceUID.
    files : list of Path
        Its files, in path order.
    info : dict
        Attributes of its first file (see :data:`HEADER_TAGS`), as plain Python values;
        also ``"_participant"`` and ``"_study"`` (see :attr:`participant`, :attr:`study`).
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

    @property
    def participant(self) -> str:
        """Return who the series belongs to (:func:`mrishare.dicom.participant_id`)."""
        return str(self.info["_participant"])

    @property
    def study(self) -> Any:
        """Return the study record (:func:`mrishare.dicom.study_record`)."""
        return self.info["_study"]

    def identifiers(self) -> set[str]:
        """Return the identifying values of this series; names also split into their parts.

        The attributes are those the audit harvests
        (:func:`mrishare.identifiers.harvested_keywords`); values shorter than 4 characters
        are left out (they would match everywhere).

        Returns
        -------
        set of str
        """
        found = set(self.info.get("OtherPatientIDs", []))
        for keyword, kind in _identifiers.harvested_keywords().items():
            raw = self.info.get(keyword)
            for value in raw if isinstance(raw, list) else [raw]:
                text = str(value or "")
                found.add(text)
                if kind in NAME_KINDS:
                    found.update(re.split(r"[\^ ,=]+", text))
        return {v.strip() for v in found if len(v.strip()) >= 4}


def _plain(value: Any) -> Any:
    from pydicom.multival import MultiValue
    from pydicom.sequence import Sequence

    if isinstance(value, Sequence):
        return ""
    if isinstance(value, MultiValue | list | tuple):
        return [str(v) for v in value]
    return str(value) if value is not None else ""


_WHEN_TAGS = ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "AcquisitionDate",
              "SeriesDate", "StudyDate", "AcquisitionTime", "SeriesTime", "StudyTime")
"""What every file is read for (the reader needs the SOP UIDs to accept a bare data set)."""


def _read_header(path: Path, tags: tuple[str, ...] = HEADER_TAGS) -> dict[str, Any]:
    """Return the attributes of one file, or raise BadInputError saying why it is skipped.

    Every file is read for :data:`_WHEN_TAGS` (series and time); the first file of each
    series again for all of :data:`HEADER_TAGS` (reading fewer attributes is much faster).
    """
    ds = readers.read_dicom(path, stop_before_pixels=True, specific_tags=list(tags))
    if "SeriesInstanceUID" not in ds:
        raise BadInputError("a DICOM file that is not part of an image series (no Series "
                            "Instance UID), such as a DICOMDIR")
    if tags == _WHEN_TAGS:
        return {k: _plain(ds.get(k)) for k in tags}
    info = {k: _plain(ds.get(k)) for k in HEADER_TAGS if k != "OtherPatientIDsSequence"}
    # Patient IDs also stand inside a sequence (not searched as an attribute of its own).
    info["OtherPatientIDs"] = [str(item.get("PatientID", ""))
                               for item in ds.get("OtherPatientIDsSequence", [])]
    # Who and which study, decided exactly as the DICOM de-identification step does.
    info["_participant"] = _dicom.participant_id(ds)
    info["_study"] = _dicom.study_record(ds)
    return info


def _when_or_reason(path: Path) -> dict[str, Any] | str:
    """Return what :data:`_WHEN_TAGS` say of a file, or why it is skipped."""
    try:
        return _read_header(path, _WHEN_TAGS)
    except BadInputError as error:
        return str(error)


def _read_all(paths: list[Path], jobs: int) -> list[dict[str, Any] | str]:
    """Read :data:`_WHEN_TAGS` of every file, in ``jobs`` processes for a large study."""
    if jobs > 1 and len(paths) >= _PARALLEL_FROM:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(_when_or_reason, paths, chunksize=64))
    return [_when_or_reason(path) for path in paths]


_PARALLEL_FROM = 300
"""From this many files on, headers are read in parallel (below it, starting processes costs
more than it saves)."""


def find_series(src: str | Path, jobs: int = 1) -> tuple[list[Series], list[Problem]]:
    """Sort the DICOM files under ``src`` into series (reading headers only).

    Parameters
    ----------
    src : str or Path
        A folder of DICOM files, in any layout.
    jobs : int, default 1
        Processes that read headers at the same time (used from 300 files on).

    Returns
    -------
    series : list of Series
    skipped : list of Problem
        Files that are not DICOM images (a DICOMDIR, a README, a NIfTI file...), each with
        the reason :func:`mrishare.readers.read_dicom` gives.

    Examples
    --------
    >>> from mrishare import data
    >>> series, skipped = find_series(data.sample_path("dicom_study"))
    >>> len(series), len(skipped)
    (14, 0)
    """
    src = Path(src)
    groups: dict[str, Series] = {}
    skipped = []
    paths = sorted(p for p in src.rglob("*") if p.is_file() and not p.name.startswith("."))
    for path, info in zip(paths, _read_all(paths, jobs), strict=True):
        relative = path.relative_to(src).as_posix()
        try:
            if isinstance(info, str):
                raise BadInputError(info)
            if info["SeriesInstanceUID"] not in groups:
                info = _read_header(path)
        except BadInputError as error:
            skipped.append(Problem(relative, str(error)))
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


def uses_sessions(all_series: Iterable[Series],
                  series_mapping: mapping.SeriesMapping | None = None) -> bool:
    """Say whether a dataset of these series needs ``ses-`` folders.

    True when any participant has more than one session among the series that are
    converted (screenshots and unknown series do not count). BIDS wants one layout for the
    whole dataset, so decide this once for the whole study (see ``to_bids(sessions=)``).

    Parameters
    ----------
    all_series : iterable of Series
        The series of the study.
    series_mapping : SeriesMapping, optional
        Default: :func:`mrishare.bids.mapping.default_mapping`.

    Returns
    -------
    bool

    Examples
    --------
    >>> from mrishare import data
    >>> uses_sessions(find_series(data.sample_path("dicom_study", verify=False))[0])
    True
    """
    wanted = [s for s in all_series if mapping.classify(s.info, series_mapping).converted]
    numbers = _dicom.number_sessions(s.study for s in wanted)
    return max(numbers.values(), default=1) > 1
