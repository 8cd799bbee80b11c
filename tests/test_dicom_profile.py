"""Tests for mrishare.dicom.profile: Table E.1-1 from dicom-anonymizer, and the plan."""

from __future__ import annotations

import itertools

import pytest
from pydicom.datadict import tag_for_keyword

from mrishare import dicom
from mrishare.dicom import Options


def test_table_comes_from_dicom_anonymizer_newest_edition():
    editions = dicom.profile_editions()
    assert {"2023e", "2024b", "2026c"} <= set(editions)
    profile = dicom.load_profile()
    assert profile.edition == max(editions)
    assert "2026c" in profile.describe() and "dicom-anonymizer" in profile.describe()
    assert len(profile.actions) > 600
    assert dicom.load_profile("2024b").edition == "2024b"


def test_unknown_edition_names_the_known_ones():
    with pytest.raises(ValueError, match="2024b"):
        dicom.load_profile("1999a")


@pytest.mark.parametrize(
    ("tag", "action"),
    [(0x00100010, "Z"), (0x0020000D, "U"), (0x00181030, "X/D"), (0x00081140, "X/Z/U*"),
     (0x00100020, "Z/D"), (0x00120010, "D"), (0x00080081, "X"), (0x60023000, "X"),
     (0x501E0010, "X"), (0x00180080, None)],
)
def test_table_rows(tag, action):
    assert dicom.load_profile().action(tag) == action


@pytest.mark.parametrize(
    ("keyword", "options", "action"),
    [
        ("PatientName", Options(), "D"),  # mrishare's choice: the participant label
        ("ProtocolName", Options(), "X"),  # X/D resolved to the strictest
        ("ReferencedImageSequence", Options(), "U*"),
        ("StudyDate", Options(), "Z"),
        ("StudyDate", Options(keep_longitudinal_dates=True), "C"),
        ("StudyTime", Options(keep_longitudinal_dates=True), "K"),
        ("PatientBirthDate", Options(keep_longitudinal_dates=True), "Z"),  # not shifted
        ("SeriesDescription", Options(clean_descriptors=True), "C"),
        ("PatientAge", Options(keep_patient_characteristics=True), "K"),
        ("PatientAge", Options(), "X"),
    ],
)
def test_plan_resolves_and_applies_options(keyword, options, action):
    assert dicom.plan(options)[tag_for_keyword(keyword)] == action


def test_plan_holds_only_single_actions_for_every_set_of_options():
    for flags in itertools.product([False, True], repeat=4):
        assert set(dicom.plan(Options(*flags)).values()) <= {"D", "Z", "X", "K", "C", "U", "U*"}


def test_the_plan_cannot_be_changed_by_a_caller():
    with pytest.raises(TypeError):
        dicom.plan()[0x00100010] = "K"  # type: ignore[index]
