"""Who a file belongs to, and which of their sessions it is.

The original identity decides who a file belongs to (:func:`participant_id`); the key turns it
into a pseudonym (:func:`participant_label`) that DICOM files, BIDS names and tables share.
Sessions are numbered by date within a participant (:func:`number_sessions`).

Examples
--------
>>> from mrishare.keys import Key
>>> ds = Dataset()
>>> ds.PatientID, ds.StudyDate, ds.StudyInstanceUID = "p1", "20240311", "1.2.3"
>>> participant_label(ds, Key(bytes(32))) == Key(bytes(32)).label("p1")
True
>>> session_index(ds, [StudyRecord("p1", "20240101", "", "1.2.1")])
2
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.dataset import Dataset

from mrishare.dicom.values import text
from mrishare.keys import Key
from mrishare.readers import read_dicom

__all__ = [
    "StudyRecord",
    "as_dataset",
    "number_sessions",
    "participant_id",
    "participant_label",
    "session_index",
    "study_record",
]


def as_dataset(source: str | os.PathLike | Dataset, *, stop_before_pixels: bool = True,
               ) -> Dataset:
    """Return a dataset: read a file with :func:`mrishare.readers.read_dicom`, or pass one on.

    Parameters
    ----------
    source : path or pydicom.Dataset
    stop_before_pixels : bool, default True
        Read the header only.

    Returns
    -------
    pydicom.Dataset

    Raises
    ------
    BadInputError
        When a file is not DICOM, empty or truncated.

    Examples
    --------
    >>> from mrishare import data
    >>> as_dataset(data.sample_path("pydicom_MR_small")).Modality
    'MR'
    """
    if isinstance(source, Dataset):
        return source
    return read_dicom(source, stop_before_pixels=stop_before_pixels)


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

    Returns
    -------
    str

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientID = " 0047131 "
    >>> participant_id(ds)
    '0047131'
    """
    ds = as_dataset(ds)
    patient = text(ds, "PatientID").strip()
    if patient:
        return patient
    name = text(ds, "PatientName").strip()
    birth = text(ds, "PatientBirthDate").strip()
    if name or birth:
        return f"name:{name}|{birth}"
    return f"study:{text(ds, 'StudyInstanceUID')}"


def participant_label(ds: str | os.PathLike | Dataset, key: Key) -> str:
    """Return the participant's pseudonym: the BIDS label ``sub-<label>`` uses.

    The same key and the same :func:`participant_id` give the same label in DICOM files,
    BIDS names and tables.

    Parameters
    ----------
    ds : path or pydicom.Dataset
    key : mrishare.keys.Key

    Returns
    -------
    str

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

    Parameters
    ----------
    participant : str
        The :func:`participant_id`.
    date, time : str
        Study Date and Study Time as the file writes them (may be empty).
    study_uid : str
        The Study Instance UID.
    """

    participant: str
    date: str
    time: str
    study_uid: str


def study_record(ds: str | os.PathLike | Dataset) -> StudyRecord:
    """Return the :class:`StudyRecord` of a file (read before de-identification).

    Parameters
    ----------
    ds : path or pydicom.Dataset

    Returns
    -------
    StudyRecord

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientID, ds.StudyDate, ds.StudyInstanceUID = "p1", "20240311", "1.2.3"
    >>> study_record(ds)
    StudyRecord(participant='p1', date='20240311', time='', study_uid='1.2.3')
    """
    ds = as_dataset(ds)
    return StudyRecord(
        participant_id(ds),
        text(ds, "StudyDate"),
        text(ds, "StudyTime"),
        text(ds, "StudyInstanceUID"),
    )


def number_sessions(records: Iterable[StudyRecord]) -> dict[tuple[str, str], int]:
    """Return the number of each participant's study: 1, 2, ... in time order.

    Studies are ordered by Study Date, then Study Time, then Study Instance UID (so that
    studies without dates still get a stable order). Numbers count within the records
    given: de-identify all of a participant's sessions in one batch, or the numbers of a
    later batch start at 1 again.

    Parameters
    ----------
    records : iterable of StudyRecord
        Repeats are fine (one per file, say).

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
    numbers: dict[tuple[str, str], int] = {}
    for person, studies in by_person.items():
        for index, record in enumerate(sorted(studies), start=1):
            numbers.setdefault((person, record.study_uid), index)
    return numbers


def session_index(ds: str | os.PathLike | Dataset | StudyRecord,
                  records: Iterable[StudyRecord]) -> int:
    """Return the session number of one file's study among ``records``.

    Parameters
    ----------
    ds : path, pydicom.Dataset or StudyRecord
    records : iterable of StudyRecord
        The participant's other studies (see :func:`number_sessions`).

    Returns
    -------
    int

    Examples
    --------
    >>> a = StudyRecord("p1", "20240422", "1415", "1.2.9")
    >>> b = StudyRecord("p1", "20240311", "0930", "1.2.8")
    >>> session_index(b, [a, b])
    1
    """
    record = ds if isinstance(ds, StudyRecord) else study_record(ds)
    return number_sessions([*records, record])[(record.participant, record.study_uid)]
