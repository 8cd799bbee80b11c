"""Tests for mrishare.dicom.people: who a file belongs to, and which session it is."""

from __future__ import annotations

import pytest
from dicom_helpers import KEY, ROOT, make_dataset, write

from mrishare import dicom
from mrishare.errors import BadInputError


def test_participant_id_falls_back_to_name_then_study():
    ds = make_dataset()
    assert dicom.participant_id(ds) == "VUMC0047131"
    ds.PatientID = ""
    assert dicom.participant_id(ds) == "name:Jansen^Marieke|19870412"
    ds.PatientName, ds.PatientBirthDate = "", ""
    assert dicom.participant_id(ds) == f"study:{ROOT}.1"


def test_participant_label_matches_keys_and_files(tmp_path):
    path = write(make_dataset(), tmp_path / "a.dcm")
    assert dicom.participant_label(path, KEY) == KEY.label("VUMC0047131")


def test_a_path_that_is_not_dicom_is_refused_with_the_readers_reason(tmp_path):
    (tmp_path / "notes.txt").write_text("Jansen, scanned twice\n" * 20)
    with pytest.raises(BadInputError, match="not a DICOM file"):
        dicom.study_record(tmp_path / "notes.txt")


def test_sessions_numbered_by_date_time_then_uid():
    records = [
        dicom.StudyRecord("p", "20240422", "0900", "1.9"),
        dicom.StudyRecord("p", "20240311", "1400", "1.8"),
        dicom.StudyRecord("p", "20240311", "0900", "1.7"),
        dicom.StudyRecord("q", "", "", "1.1"),
        dicom.StudyRecord("p", "20240311", "0900", "1.7"),  # the same study again
    ]
    numbers = dicom.number_sessions(records)
    assert numbers == {("p", "1.7"): 1, ("p", "1.8"): 2, ("p", "1.9"): 3, ("q", "1.1"): 1}
    assert dicom.session_index(make_dataset(study="5", date="20240501"), []) == 1
    assert dicom.session_index(make_dataset(patient="p", study="5", date="20240501"),
                               records) == 4
