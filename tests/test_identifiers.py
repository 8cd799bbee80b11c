"""mrishare.identifiers: the one table of identifying attributes, and the one age rule."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.datadict import keyword_for_tag

from mrishare import identifiers
from mrishare.errors import RuleFileError

# Attributes the old BIDS list had lost; the table must keep them, harvested by the audit.
ONCE_LOST = ["PatientAddress", "PatientTelephoneNumbers", "OtherPatientNames",
             "InstitutionalDepartmentName", "RequestingPhysician"]


def test_the_table_is_read_once_and_has_unique_keywords():
    table = identifiers.attributes()
    assert table is identifiers.attributes()  # cached
    keywords = [a.keyword for a in table]
    assert len(keywords) == len(set(keywords)) > 30


@pytest.mark.parametrize("row", identifiers.attributes(), ids=lambda a: a.keyword)
def test_every_row_names_a_real_dicom_attribute_and_says_why(row):
    group, element = (int(part, 16) for part in row.tag.strip("()").split(","))
    assert keyword_for_tag((group << 16) | element) == row.keyword
    assert row.why and row.kind
    if not row.harvest:
        assert row.not_searched_because, f"{row.keyword}: say why it is not searched"


@pytest.mark.parametrize("keyword", ONCE_LOST)
def test_the_attributes_the_bids_list_lost_are_in_the_table_and_harvested(keyword):
    assert identifiers.attribute(keyword).harvest
    assert keyword in identifiers.harvested_keywords()


def test_harvested_keywords_are_exactly_the_harvested_rows():
    harvested = identifiers.harvested_keywords()
    assert harvested == {a.keyword: a.kind for a in identifiers.attributes() if a.harvest}
    assert "PatientName" in harvested and "PatientID" in harvested


def test_harvested_vrs_cover_names_dates_and_uids():
    assert {"PN", "DA", "DT", "UI"} <= set(identifiers.harvested_vrs())
    assert "TM" not in identifiers.harvested_vrs()


def test_an_unknown_keyword_is_a_key_error_naming_the_table():
    with pytest.raises(KeyError, match="identifying_attributes.tsv"):
        identifiers.attribute("NoSuchKeyword")


@pytest.mark.parametrize(
    ("keyword", "vr", "private", "expected"),
    [
        ("PatientName", "PN", False, identifiers.attribute("PatientName").why),
        ("", "PN", False, "a person's name"),
        ("", "", True, "private"),
        ("Rows", "US", False, "listed by the standard"),
    ],
)
def test_why_explains_by_keyword_then_vr(keyword, vr, private, expected):
    assert expected in identifiers.why(keyword, vr, private)


# ----------------------------------------------------------------------------- ages


@pytest.mark.parametrize(
    ("birth", "on", "years"),
    [
        ("19870412", "20240411", 36),  # the day before the birthday
        ("19870412", "20240412", 37),  # on the birthday
        ("2000-02-29", "2001-02-28", 0),  # a leap-day birthday, not yet a year
        ("2000-02-29", "2001-03-01", 1),
        (dt.date(1937, 4, 12), dt.datetime(2026, 4, 12, 8, 30), 89),
        ("12-04-1987", "2024-04-12", 37),
    ],
)
def test_age_in_years_goes_by_the_calendar(birth, on, years):
    assert identifiers.age_in_years(birth, on) == years


def test_age_in_years_refuses_a_day_before_birth_and_bad_dates():
    with pytest.raises(ValueError, match="before the birth date"):
        identifiers.age_in_years("20240101", "20231231")
    with pytest.raises(ValueError, match="Expected a date"):
        identifiers.age_in_years("yesterday", "20240101")


def test_days_over_365_25_would_be_a_year_off_near_a_birthday():
    """The rule the table replaces: near a birthday the calendar and the division differ."""
    birth, scan = dt.date(1935, 1, 2), dt.date(2024, 1, 2)  # the 89th birthday
    assert int((scan - birth).days / 365.25) == 88
    assert identifiers.age_in_years(birth, scan) == 89
    assert identifiers.bids_age(identifiers.age_in_years(birth, scan)) == "89+"


@pytest.mark.parametrize(
    ("patient_age", "birth", "study", "years"),
    [
        ("036Y", "", "", 36.0),
        ("006M", "", "", 0.5),
        ("", "19870412", "20240411", 36.0),
        ("0XXY", "19870412", "20240412", 37.0),  # malformed PatientAge: the dates decide
        ("", "", "", None),
        ("", "19870412", "", None),
    ],
)
def test_dicom_age_reads_patient_age_then_the_dates(patient_age, birth, study, years):
    assert identifiers.dicom_age(patient_age, birth, study) == years


@pytest.mark.parametrize(
    ("years", "text"),
    [(None, "n/a"), (0.5, "0.50"), (1, "1"), (36.99, "36"), (88.999, "88"), (89, "89+"),
     (89.0, "89+"), (104, "89+")],
)
def test_bids_age_caps_at_89_plus(years, text):
    assert identifiers.bids_age(years) == text
    assert identifiers.AGE_CAP == 89


def test_bids_age_refuses_a_negative_age():
    with pytest.raises(ValueError, match="negative"):
        identifiers.bids_age(-1)


def test_a_broken_table_gives_a_rule_file_error(tmp_path, monkeypatch):
    """The loader checks each keyword's tag against the DICOM dictionary."""
    from mrishare import rules

    bad = tmp_path / "identifying_attributes.tsv"
    bad.write_text("keyword\ttag\tkind\tharvest\twhy\n"
                   "PatientName\t(0010,0020)\tpatient name\tyes\tthe name\n", encoding="utf-8")
    monkeypatch.setattr(rules, "folder", lambda: tmp_path)
    identifiers.attributes.cache_clear()
    try:
        with pytest.raises(RuleFileError, match=r"PatientName has tag \(0010,0020\).*"
                                                r"\(0010,0010\)"):
            identifiers.attributes()
    finally:
        monkeypatch.undo()
        identifiers.attributes.cache_clear()
    assert identifiers.attribute("PatientName").tag == "(0010,0010)"
