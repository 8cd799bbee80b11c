"""Tests for mrishare.lessons.compare: what each de-identification tool leaves."""

from __future__ import annotations

import pydicom
import pytest
from dicom_helpers import make_dataset, write

from mrishare import dicom
from mrishare.dicom import validate
from mrishare.keys import Key
from mrishare.lessons import compare


@pytest.fixture
def files(tmp_path):
    return [write(make_dataset(instance=i), tmp_path / "src" / f"{i}.dcm") for i in (1, 2)]


def test_leftovers_of_an_untouched_file_are_all_left(files):
    found = compare.leftovers(files[0], files[0])
    assert found["patient's name"] == "left"
    assert found["private elements"] == "left"
    assert found["sending station (file meta)"] == "left"
    assert found["staff names"] == "–"  # the tiny file names no staff


def test_leftovers_after_mrishare_are_removed(files):
    out = dicom.deidentify(files[0], Key(bytes(32)))
    found = compare.leftovers(files[0], out)
    assert set(found.values()) <= {"removed", "–"}, found


def test_a_value_kept_by_chance_is_not_counted():
    ds = make_dataset()
    ds.Manufacturer = ds.InstitutionName  # as in pydicom's MR_small
    out = dicom.deidentify(ds, Key(bytes(32)))
    assert compare.leftovers(ds, out)["institution and address"] == "removed"


def test_compare_tools_table(files):
    table = compare.compare_tools(files, tools=["mrishare", "dicom-anonymizer 2.1"])
    assert list(table.columns) == ["mrishare", "dicom-anonymizer 2.1"]
    assert table.loc["same UIDs on a second run", "mrishare"] == "yes"
    assert table.loc["same UIDs on a second run", "dicom-anonymizer 2.1"] == "no"
    assert table.loc["pixels identical", "mrishare"] == "yes"
    assert table.loc["sending station (file meta)", "dicom-anonymizer 2.1"] == "left"
    assert float(table.loc["time per file (ms)", "mrishare"]) > 0


def test_compare_tools_says_whether_outputs_stay_valid(files, monkeypatch):
    table = compare.compare_tools(files, tools=["mrishare"])
    expected = "not checked" if validate.available() is None else "yes"
    assert table.loc[compare.VALID_ROW, "mrishare"] == expected
    monkeypatch.setattr(validate, "available", lambda: None)
    assert compare.still_valid(files, files) == "not checked"


def test_still_valid_counts_outputs_made_invalid(tmp_path, files):
    if validate.available() is None:
        pytest.skip("dciodvfy (package dicom3tools) is not installed")
    broken = pydicom.dcmread(files[0])
    del broken.Rows
    broken.save_as(tmp_path / "broken.dcm")
    assert compare.still_valid(files, [tmp_path / "broken.dcm", files[1]]) == "no (1 of 2)"
