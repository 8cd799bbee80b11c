"""Dataset files: ages by the one rule (89+), the README from its template, scans tables."""

from __future__ import annotations

import json

import pytest

from mrishare import HOME, __version__, bids, identifiers
from mrishare.bids import dataset
from mrishare.keys import Key


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"PatientBirthDate": "19870412", "StudyDate": "20240411"}, "36"),  # birthday eve
        ({"PatientBirthDate": "19870412", "StudyDate": "20240412"}, "37"),
        ({"PatientBirthDate": "19350412", "StudyDate": "20240411"}, "88"),
        ({"PatientBirthDate": "19350412", "StudyDate": "20240412"}, "89+"),
        ({"PatientBirthDate": "19340101", "StudyDate": "20240301"}, "89+"),  # 90
        ({"PatientAge": "089Y", "PatientBirthDate": "19870412", "StudyDate": "20240412"}, "89+"),
        ({"PatientAge": "006M"}, "0.50"),
        ({"PatientBirthDate": "", "StudyDate": "20240412"}, "n/a"),
    ],
)
def test_participant_age_is_the_identifiers_rule(info, expected):
    assert dataset.participant_age(info) == expected
    assert expected == identifiers.bids_age(identifiers.dicom_age(
        info.get("PatientAge", ""), info.get("PatientBirthDate", ""), info.get("StudyDate", "")))


@pytest.mark.parametrize("defaced", [False, True])
@pytest.mark.parametrize("random_key", [False, True])
def test_the_readme_has_both_variants(defaced, random_key):
    tool = "prepare" if defaced else "to-bids"
    text = dataset.dataset_readme(defaced=defaced, random_key=random_key, tool=tool)
    assert text.startswith("# De-identified MRI dataset\n") and text.endswith("allow.\n")
    assert f"mrishare {__version__} (`mrishare {tool}`, {HOME})" in text
    assert ("Prepared by" in text) is defaced and ("Written by" in text) is not defaced
    assert ("random key was used" in text) is random_key
    assert ("Faces were removed" in text) is defaced
    assert ("searched for every identifier" in text) is defaced
    assert ("Faces have NOT been removed" in text) is not defaced
    assert "written as `89+`" in text and "{" not in text
    assert "\n\n\n" not in text


def test_dataset_files_say_how_ages_are_written(tmp_path):
    dataset.write_dataset_files(tmp_path, {"b": {"age": "89+", "sex": "F"}, "a": {"age": "7"}},
                                include_sex=True, license="CC-BY-4.0", name="x",
                                authors=["A. Author"], reproducible=False)
    assert (tmp_path / "participants.tsv").read_text().splitlines() == [
        "participant_id\tage\tsex", "sub-a\t7\tn/a", "sub-b\t89+\tF"]
    described = json.loads((tmp_path / "participants.json").read_text())
    assert "89+" in described["age"]["Description"] and described["sex"]["Levels"]["O"]
    description = json.loads((tmp_path / "dataset_description.json").read_text())
    assert description["License"] == "CC-BY-4.0" and description["Authors"] == ["A. Author"]
    assert [g["Name"] for g in description["GeneratedBy"]] == ["mrishare", "dcm2niix"]
    assert "random key was used" in (tmp_path / "README").read_text()


def test_shift_datetime_keeps_the_time_and_moves_the_date():
    key = Key(bytes(32))
    shifted = bids.shift_datetime(key, "p1", "20240311", "093012.123")
    assert shifted[:4] <= "1925" and shifted.endswith("T09:30:12")
    later = bids.shift_datetime(key, "p1", "20240422", "")
    assert later.endswith("T00:00:00")
    assert bids.shift_datetime(key, "p1", "not a date") == "n/a"
