"""Tests for mrishare.lessons.identity: the table of where identity hides in one file."""

from __future__ import annotations

from dicom_helpers import make_dataset

from mrishare import dicom, identifiers
from mrishare.lessons.identity import PRIVATE, list_identifiers

ALL = dicom.Options(keep_longitudinal_dates=True, clean_descriptors=True,
                    keep_patient_characteristics=True, keep_private_safe=True)


def test_list_identifiers_finds_nested_private_and_file_meta():
    table = list_identifiers(make_dataset())
    rows = {(r.where, r.attribute): r for r in table.itertuples()}
    assert rows[("file meta", "SourceApplicationEntityTitle")].value == "VUMC_MR3"
    nested = table[table["where"].str.contains("ReferencedStudySequence")]
    assert "PatientName" in set(nested["attribute"])
    assert (table["action"] == PRIVATE).sum() == 4  # one of them inside a sequence
    assert "RepetitionTime" not in set(table["attribute"])
    kept = list_identifiers(make_dataset(), ALL)
    assert "PatientSex" not in set(kept["attribute"])


def test_the_why_comes_from_the_one_table_of_identifying_attributes():
    table = list_identifiers(make_dataset())
    for row in table.itertuples():
        if row.action == PRIVATE:
            assert row.why == identifiers.why("", private=True)
        elif row.attribute in {a.keyword for a in identifiers.attributes()}:
            assert row.why == identifiers.attribute(row.attribute).why
    top = table.set_index("attribute")[table["where"].to_numpy() == ""]
    assert top.loc["PatientName", "why"] == "the participant's name"


def test_the_core_never_imports_the_lessons():
    import subprocess
    import sys

    code = ("import sys, mrishare.dicom, mrishare.cli.deidentify_dicom; "
            "print([m for m in sys.modules if m.startswith('mrishare.lessons')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
