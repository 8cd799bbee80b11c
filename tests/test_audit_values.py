"""Tests of mrishare.audit's values: variants, specificity (a rule file), masking."""

from __future__ import annotations

import pytest
from audit_helpers import NAME, ROOT, write_dicom

from mrishare import audit
from mrishare.errors import RuleFileError


@pytest.fixture(scope="module")
def identifiers(tmp_path_factory) -> audit.IdentifierSet:
    source = tmp_path_factory.mktemp("src")
    write_dicom(source / "JANSEN_MARIEKE_19870412" / "20240311_VUMC0047131" / "IM00001.dcm")
    return audit.harvest(source)


@pytest.mark.parametrize("text", [
    "Jansen^Marieke^A", "Jansen^Marieke", "Marieke Jansen", "MARIEKE JANSEN", "jansen, marieke",
    "JANSEN_MARIEKE", "mariekejansen", "scanned for Jansen", "Marieke",
])
def test_name_variants_are_found(identifiers, text):
    assert "patient name" in {m.kind for m in identifiers.find(text)}


@pytest.mark.parametrize("text", ["19870412", "1987-04-12", "12-04-1987", "12.04.1987",
                                  "12/04/1987"])
def test_birth_date_forms_are_found(identifiers, text):
    assert [m.kind for m in identifiers.find(f"born {text}.")] == ["birth date"]


@pytest.mark.parametrize("text", [
    "sex F, weight 64 kg, height 1.71 m",  # short values are never searched
    "Savannah was there",  # 'Anna' only as a word of its own
    "Tom and Dr. de Wit",  # 'Tom', 'Dr.' and 'de' are too short or particles
    "serial 1458170",  # 45817 must not match inside a longer number
    "2.25.1234567890.45817",  # nor inside a UID
    "ConversionSoftwareVersion v1.0.20260724",
])
def test_no_false_positives(identifiers, text):
    assert identifiers.find(text) == []


def test_too_short_values_are_skipped_and_said():
    ids = audit.IdentifierSet()
    ids.add_value("64", "weight")
    ids.add_value("Tom", "listed")
    assert ids.find("64 Tom") == []
    assert [reason for _, _, reason in ids.skipped] == [
        "too few digits to be specific", "too short to be specific"]


def test_uid_root_and_uids(identifiers):
    assert [m.kind for m in identifiers.find(f"ref {ROOT}.1.1.3.1 here")] == ["uid"]
    assert [m.kind for m in identifiers.find(f"other {ROOT}.7.7")] == ["uid root"]
    assert identifiers.find("2.25.3141592653589793 and 1.2.840.10008.5.1.4.1.1.4") == []


def test_generic_uid_roots_are_refused():
    ids = audit.IdentifierSet()
    ids.add_uid_root("2.25")
    ids.add_uid_root("1.2.3")
    assert ids.uid_roots == {}
    assert len(ids.skipped) == 2


def test_longest_match_wins():
    ids = audit.IdentifierSet()
    ids.add_value(NAME, "patient name")
    matches = ids.find("Patient: Marieke Jansen")
    assert len(matches) == 1 and matches[0].value == "Marieke Jansen"


def test_mask_hides_the_value():
    assert audit.mask("VUMC0047131") == "V…1 (11 characters)"
    assert "VUMC" not in audit.mask("VUMC0047131")


def test_merging_two_sets_keeps_both():
    first, second = audit.IdentifierSet(), audit.IdentifierSet()
    first.add_value("Visser^Tom", "staff name")
    second.add_value("ACC20240311011", "accession number")
    both = first | second
    assert {m.kind for m in both.find("Tom Visser, ACC20240311011")} == {
        "staff name", "accession number"}
    assert len(both) == len(first) + len(second)


# ----------------------------------------------------------------------------- rule file


def test_shipped_specificity_rules_are_used():
    rules = audit.specificity()
    assert rules == audit.load_specificity()
    ids = audit.IdentifierSet()
    ids.add_value("x" * (rules.min_length - 1), "listed")
    ids.add_value("y" * rules.min_length, "listed")
    assert list(ids.values) == ["y" * rules.min_length]


@pytest.mark.parametrize(("change", "message"), [
    (("min_length: 4", "min_length: four"), "min_length must be a whole number"),
    (("min_digits: 5\n", ""), "missing min_digits"),
    (("min_length: 4", "min_length: 4\nmin_lenght: 5"), "unknown key min_lenght"),
    (('generic_file_name: "^[A-Za-z]{0,4}[0-9]*$"', 'generic_file_name: "[unclosed"'),
     "not a regular expression"),
    (('generic_uid_roots:\n  - "2.25"\n  - "1.2.840.10008"\n  - "1.2.826.0.1.3680043"',
      "generic_uid_roots: 7"), "generic_uid_roots must be a list"),
    (("min_length: 4", "min_length: [4"), "not valid YAML"),
])
def test_broken_specificity_file_says_what_is_wrong(tmp_path, change, message):
    from mrishare import rules

    text = (rules.folder() / "audit_specificity.yaml").read_text()
    assert change[0] in text
    broken = tmp_path / "audit_specificity.yaml"
    broken.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(RuleFileError, match=message) as error:
        audit.load_specificity(broken)
    assert "audit_specificity.yaml" in str(error.value)
