"""The dataset-level files: description, participants, scans tables and the README.

Ages follow the one rule of :mod:`mrishare.identifiers` (calendar years, ``89+`` from 89 on,
as BIDS recommends); dates in ``scans.tsv`` are shifted by the participant's date shift from
the key; the README is rendered from a template shared with ``prepare``.

Examples
--------
>>> from mrishare.bids import dataset
>>> dataset.participant_age({"PatientBirthDate": "19300412", "StudyDate": "20190411"})
'88'
>>> dataset.participant_age({"PatientBirthDate": "19300412", "StudyDate": "20190412"})
'89+'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from mrishare import HOME, __version__
from mrishare import identifiers as _identifiers
from mrishare._paths import write_json, write_text, write_tsv
from mrishare.bids import convert, schema
from mrishare.keys import Key

__all__ = [
    "AGE_DESCRIPTION",
    "dataset_readme",
    "participant_age",
    "participant_sex",
    "shift_datetime",
    "write_dataset_files",
    "write_scans",
]

AGE_DESCRIPTION = ("Age at the first session, in whole years by the calendar; ages of 89 or "
                   "more are written as 89+, as the BIDS specification recommends")
"""The description of the ``age`` column in ``participants.json``."""

_SEX = {"M": "M", "F": "F", "O": "O"}
_TEMPLATE = "dataset_README.md.j2"


def participant_age(info: Mapping[str, Any]) -> str:
    """Return the age for ``participants.tsv`` from a series' DICOM attributes.

    From PatientAge when given, else from PatientBirthDate and StudyDate by the calendar
    (:func:`mrishare.identifiers.dicom_age`), written by
    :func:`mrishare.identifiers.bids_age` (``"89+"`` from 89 on, ``"n/a"`` when unknown).

    Parameters
    ----------
    info : mapping
        DICOM keyword to value (PatientAge, PatientBirthDate, StudyDate).

    Returns
    -------
    str

    Examples
    --------
    >>> participant_age({"PatientAge": "036Y"}), participant_age({})
    ('36', 'n/a')
    """
    years = _identifiers.dicom_age(str(info.get("PatientAge") or ""),
                                   str(info.get("PatientBirthDate") or ""),
                                   str(info.get("StudyDate") or ""))
    return _identifiers.bids_age(years)


def participant_sex(info: Mapping[str, Any]) -> str:
    """Return PatientSex as BIDS writes it: ``M``, ``F``, ``O`` or ``n/a``.

    Examples
    --------
    >>> participant_sex({"PatientSex": "f"}), participant_sex({"PatientSex": "U"})
    ('F', 'n/a')
    """
    return _SEX.get(str(info.get("PatientSex") or "").upper(), "n/a")


def shift_datetime(key: Key, patient_id: str, date: str, time: str = "") -> str:
    """Shift a DICOM date (and keep the time of day) by the participant's date shift.

    Parameters
    ----------
    key : mrishare.keys.Key
        The study's key.
    patient_id : str
        Who (the identity the key derives the shift from).
    date, time : str
        DICOM date (``YYYYMMDD``) and time (``hhmmss.frac``).

    Returns
    -------
    str
        A BIDS ``acq_time`` value, ``YYYY-MM-DDThh:mm:ss``, or ``"n/a"``.

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


def dataset_readme(*, defaced: bool, random_key: bool, tool: str) -> str:
    """Return the README of a de-identified dataset, rendered from its template.

    Parameters
    ----------
    defaced : bool
        True for a dataset written by ``prepare``: faces removed and the dataset audited.
        False: the README warns that the faces are still there.
    random_key : bool
        True when a random key was used (the pseudonyms cannot be made again).
    tool : str
        The command that wrote the dataset, e.g. ``"to-bids"`` or ``"prepare"``.

    Returns
    -------
    str

    Examples
    --------
    >>> text = dataset_readme(defaced=False, random_key=True, tool="to-bids")
    >>> "NOT been removed" in text, "random key" in text, "89+" in text
    (True, True, True)
    >>> "Faces were removed" in dataset_readme(defaced=True, random_key=False, tool="prepare")
    True
    """
    import jinja2

    source = (files("mrishare.bids") / _TEMPLATE).read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=False, keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.from_string(source).render(
        defaced=defaced, random_key=random_key, tool=tool, version=__version__, home=HOME)


def write_scans(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    r"""Write a ``scans.tsv`` (``filename``, ``acq_time``), sorted by file name.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "sub-a_scans.tsv"
    >>> rows = [{"filename": "anat/b.nii.gz", "acq_time": "n/a"},
    ...         {"filename": "anat/a.nii.gz", "acq_time": "1920-01-02T09:30:12"}]
    >>> write_scans(out, rows).read_text().splitlines()[1]
    'anat/a.nii.gz\t1920-01-02T09:30:12'
    """
    return write_tsv(path, ["filename", "acq_time"], sorted(rows, key=lambda r: r["filename"]))


def write_dataset_files(root: Path, participants: Mapping[str, Mapping[str, str]], *,
                        include_sex: bool, license: str, name: str, authors: Sequence[str],
                        reproducible: bool) -> None:
    r"""Write ``dataset_description.json``, ``participants.tsv``/``.json`` and the README.

    Parameters
    ----------
    root : Path
        The dataset folder.
    participants : mapping
        Participant label (without ``sub-``) to its row (``age``, and ``sex`` if asked).
    include_sex : bool
        Write a ``sex`` column.
    license, name : str
        For ``dataset_description.json``.
    authors : sequence of str
        For ``dataset_description.json`` (left out when empty).
    reproducible : bool
        False when a random key was used (the README says so).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> write_dataset_files(root, {"x1": {"age": "89+"}}, include_sex=False, license="CC0",
    ...                     name="demo", authors=(), reproducible=True)
    >>> (root / "participants.tsv").read_text()
    'participant_id\tage\nsub-x1\t89+\n'
    """
    write_json(root / "dataset_description.json", {
        "Name": name,
        **({"Authors": list(authors)} if authors else {}),
        "BIDSVersion": schema.bids_version(),
        "DatasetType": "raw",
        "License": license,
        "GeneratedBy": [
            {"Name": "mrishare", "Version": __version__, "CodeURL": HOME},
            {"Name": "dcm2niix", "Version": convert.dcm2niix_version(),
             "CodeURL": "https://github.com/rordenlab/dcm2niix"},
        ],
    })
    columns = ["participant_id", "age"] + (["sex"] if include_sex else [])
    rows = [{"participant_id": f"sub-{label}", **values}
            for label, values in sorted(participants.items())]
    write_tsv(root / "participants.tsv", columns, rows)
    description: dict[str, Any] = {
        "participant_id": {"Description": "Pseudonym made from the source PatientID with a "
                                          "secret key"},
        "age": {"Description": AGE_DESCRIPTION, "Units": "year"},
    }
    if include_sex:
        description["sex"] = {"Description": "Sex as recorded in the DICOM header",
                              "Levels": {"M": "male", "F": "female", "O": "other"}}
    write_json(root / "participants.json", description)
    write_text(root / "README", dataset_readme(defaced=False, random_key=not reproducible,
                                               tool="to-bids"))
