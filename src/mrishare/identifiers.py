"""What identifies a person in a scan: the one table of identifying attributes, and ages.

The table lives in ``mrishare/rules/identifying_attributes.tsv`` (and, by value
representation, ``identifying_vrs.tsv``). The DICOM explanations, the audit's harvest and the
BIDS sidecar check all read it from here, so they cannot disagree.

Ages follow one rule everywhere: whole years by the calendar (a birthday counts on the day),
and 89 or older written as ``"89+"``, as the BIDS specification recommends for
``participants.tsv``. (HIPAA's Safe Harbor groups ages of 90 or older; 89+ is stricter.)

Examples
--------
>>> from mrishare import identifiers
>>> identifiers.attribute("PatientName").kind
'patient name'
>>> identifiers.age_in_years("19370412", "20260411"), identifiers.bids_age(88.9)
(88, '88')
>>> identifiers.bids_age(89)
'89+'
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from mrishare import rules
from mrishare.errors import RuleFileError

__all__ = [
    "AGE_CAP",
    "Attribute",
    "ValueRepresentation",
    "age_in_years",
    "attribute",
    "attributes",
    "bids_age",
    "dicom_age",
    "harvested_keywords",
    "harvested_vrs",
    "parse_date",
    "value_representations",
    "why",
]

AGE_CAP = 89
"""Ages of this many years or more are written as ``"89+"``."""

_YES_NO = ("yes", "no")
_AGE_UNITS = {"Y": 1, "M": 12, "W": 52.1775, "D": 365.25}  # DICOM AS: units a year


@dataclass(frozen=True)
class Attribute:
    """One identifying DICOM attribute, as the rule table lists it.

    Parameters
    ----------
    keyword : str
        The DICOM keyword, e.g. ``"PatientName"``.
    tag : str
        The tag as ``"(gggg,eeee)"``.
    kind : str
        What it is, e.g. ``"patient name"``, ``"address"``, ``"free text"``.
    harvest : bool
        True when the audit collects its values from the source and searches the output.
    why : str
        Why it identifies someone, in a sentence for a reader.
    not_searched_because : str
        For an attribute not harvested: why its values are not searched as text.
    """

    keyword: str
    tag: str
    kind: str
    harvest: bool
    why: str
    not_searched_because: str = ""


@dataclass(frozen=True)
class ValueRepresentation:
    """A value representation (VR) whose values identify whatever the attribute.

    Parameters
    ----------
    vr : str
        The two-letter VR, e.g. ``"PN"``.
    kind : str
        What its values are, ``"-"`` when not harvested.
    harvest : bool
        True when the audit collects every value of this VR.
    why : str
        Why it identifies someone.
    """

    vr: str
    kind: str
    harvest: bool
    why: str


_TAG = re.compile(r"^\([0-9A-F]{4},[0-9A-F]{4}\)$")


@functools.cache
def attributes() -> tuple[Attribute, ...]:
    """Return the table of identifying attributes, read and checked once.

    Returns
    -------
    tuple of Attribute

    Raises
    ------
    RuleFileError
        When the table is malformed, or a keyword and its tag disagree with the DICOM
        data dictionary.

    Examples
    --------
    >>> len(attributes()) > 30
    True
    """
    from pydicom.datadict import tag_for_keyword

    name = "identifying_attributes.tsv"
    rows = rules.read_tsv(name, required=["keyword", "tag", "kind", "harvest", "why"],
                          choices={"harvest": _YES_NO}, unique="keyword")
    table = []
    for row in rows:
        number = tag_for_keyword(row["keyword"])
        if number is None:
            raise RuleFileError(f"{name}: {row['keyword']!r} is not a DICOM keyword.")
        expected = f"({number >> 16:04X},{number & 0xFFFF:04X})"
        if not _TAG.match(row["tag"]) or row["tag"] != expected:
            raise RuleFileError(
                f"{name}: {row['keyword']} has tag {row['tag']}; the DICOM dictionary says "
                f"{expected}."
            )
        table.append(Attribute(row["keyword"], row["tag"], row["kind"], row["harvest"] == "yes",
                               row["why"], row.get("not_searched_because", "")))
    return tuple(table)


@functools.cache
def value_representations() -> tuple[ValueRepresentation, ...]:
    """Return the table of identifying value representations.

    Returns
    -------
    tuple of ValueRepresentation

    Examples
    --------
    >>> [v.vr for v in value_representations() if v.harvest]
    ['PN', 'DA', 'DT', 'UI']
    """
    rows = rules.read_tsv("identifying_vrs.tsv", required=["vr", "kind", "harvest", "why"],
                          choices={"harvest": _YES_NO}, unique="vr")
    return tuple(ValueRepresentation(r["vr"], r["kind"], r["harvest"] == "yes", r["why"])
                 for r in rows)


def attribute(keyword: str) -> Attribute:
    """Return the row of one identifying attribute.

    Parameters
    ----------
    keyword : str
        A DICOM keyword.

    Returns
    -------
    Attribute

    Raises
    ------
    KeyError
        When the keyword is not in the table.

    Examples
    --------
    >>> attribute("DeviceSerialNumber").tag
    '(0018,1000)'
    """
    for row in attributes():
        if row.keyword == keyword:
            return row
    raise KeyError(f"{keyword} is not in identifying_attributes.tsv")


def harvested_keywords() -> dict[str, str]:
    """Return keyword to kind for every attribute whose values the audit harvests.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> harvested_keywords()["PatientID"]
    'patient id'
    """
    return {a.keyword: a.kind for a in attributes() if a.harvest}


def harvested_vrs() -> dict[str, str]:
    """Return VR to kind for every value representation harvested whatever the keyword.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> harvested_vrs()["PN"]
    'person name'
    """
    return {v.vr: v.kind for v in value_representations() if v.harvest}


def why(keyword: str, vr: str = "", private: bool = False) -> str:
    """Say why an element identifies someone: by keyword, else by its VR.

    Parameters
    ----------
    keyword : str
        The element's keyword ("" for private and unknown elements).
    vr : str, optional
        Its value representation.
    private : bool, default False
        True for a private (vendor) element.

    Returns
    -------
    str

    Examples
    --------
    >>> why("PatientName")
    "the participant's name"
    >>> why("", "PN")
    "a person's name (staff are people too)"
    """
    if private:
        return "a private (vendor) element: the standard cannot know what it holds"
    for row in attributes():
        if row.keyword == keyword:
            return row.why
    for row in value_representations():
        if row.vr == vr:
            return row.why
    return "listed by the standard"


# ----------------------------------------------------------------------------- ages


def parse_date(value: Any) -> dt.date:
    """Read a date written as ``YYYYMMDD``, ``YYYY-MM-DD`` or ``DD-MM-YYYY``, or a date object.

    Parameters
    ----------
    value : str, datetime.date, datetime.datetime or pandas.Timestamp

    Returns
    -------
    datetime.date

    Raises
    ------
    ValueError
        When the text is none of these forms.

    Examples
    --------
    >>> parse_date("19870412"), parse_date("12-04-1987")
    (datetime.date(1987, 4, 12), datetime.date(1987, 4, 12))
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text[:10] if "-" in text else text[:8], fmt).date()
        except ValueError:
            continue
    raise ValueError(f"Expected a date (YYYYMMDD, YYYY-MM-DD or DD-MM-YYYY), got {value!r}.")


def age_in_years(birth_date: Any, on: Any) -> int:
    """Whole years between a birth date and another day, by the calendar.

    A birthday counts on the day itself, so the age is never a year off near a birthday
    (dividing days by 365.25 is).

    Parameters
    ----------
    birth_date, on : str, datetime.date or datetime.datetime
        Dates as ``YYYYMMDD``, ``YYYY-MM-DD`` or ``DD-MM-YYYY``, or date objects.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When a date cannot be read, or ``on`` is before the birth date.

    Examples
    --------
    >>> age_in_years("19870412", "20240411"), age_in_years("19870412", "20240412")
    (36, 37)
    """
    birth, day = parse_date(birth_date), parse_date(on)
    if day < birth:
        raise ValueError(f"The day {day} is before the birth date {birth}: check both dates.")
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def dicom_age(patient_age: str = "", birth_date: str = "", study_date: str = "",
              ) -> float | None:
    """Age in years at the scan, from PatientAge (``"036Y"``), else from the dates.

    Parameters
    ----------
    patient_age : str, optional
        DICOM Age String: three digits and a unit, ``Y``, ``M``, ``W`` or ``D``.
    birth_date, study_date : str, optional
        DICOM dates (``YYYYMMDD``), used when ``patient_age`` is missing or malformed.

    Returns
    -------
    float or None
        Years (whole years when computed from dates or given in years); None when
        neither source gives an age.

    Examples
    --------
    >>> dicom_age("036Y"), dicom_age("006M"), dicom_age("", "19870412", "20240411")
    (36.0, 0.5, 36.0)
    >>> dicom_age() is None
    True
    """
    text = str(patient_age or "").strip().upper()
    if re.fullmatch(r"\d{1,3}[YMWD]", text):
        return int(text[:-1]) / _AGE_UNITS[text[-1]]
    try:
        return float(age_in_years(str(birth_date), str(study_date)))
    except ValueError:
        return None


def bids_age(years: float | None) -> str:
    """Write an age for ``participants.tsv``: whole years, ``"89+"`` from 89, ``"n/a"``.

    Ages under one year keep two decimals (an infant's age in years).

    Parameters
    ----------
    years : float or None

    Returns
    -------
    str

    Examples
    --------
    >>> bids_age(36.9), bids_age(89.0), bids_age(101), bids_age(0.5), bids_age(None)
    ('36', '89+', '89+', '0.50', 'n/a')
    """
    if years is None:
        return "n/a"
    if years < 0:
        raise ValueError(f"An age cannot be negative; got {years}. Check the birth date.")
    if years >= AGE_CAP:
        return f"{AGE_CAP}+"
    return str(int(years)) if years >= 1 else f"{years:.2f}"
