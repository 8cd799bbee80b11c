"""Tests for mrishare.dicom.options: the rule files of the profile, and their checks."""

from __future__ import annotations

import pytest

from mrishare import dicom, rules
from mrishare.dicom import Options
from mrishare.errors import RuleFileError

SHIPPED = rules.path("dicom_profile_options.yaml").read_text()


def test_shipped_rules_read():
    read = dicom.profile_rules()
    assert read.resolve["X/Z/U*"] == "U*"
    assert set(read.options) == {"keep_longitudinal_dates", "clean_descriptors",
                                 "keep_patient_characteristics", "keep_private_safe"}
    assert "PatientSex" in read.options["keep_patient_characteristics"].attributes
    assert read.file_meta[0x00020016] == "X"


def test_options_chosen_in_a_fixed_order():
    assert Options().chosen() == []
    everything = Options(keep_private_safe=True, keep_longitudinal_dates=True,
                         clean_descriptors=True, keep_patient_characteristics=True)
    assert everything.chosen() == ["keep_longitudinal_dates", "clean_descriptors",
                                   "keep_patient_characteristics", "keep_private_safe"]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("      - SeriesDescription\n", "      - SeriesDescriptoin\n",
         "'SeriesDescriptoin' is not a DICOM keyword"),
        ("  PatientName: D   #", "  PatientName: Q   #", "action 'Q'"),
        ("  UR: null\n", "  XX: null\n", "'XX' is not a DICOM value representation"),
        ("  SendingApplicationEntityTitle: X\n", "  PatientName: X\n", "not in the file meta"),
        ("    code: CleanDescriptorsOption\n", "    code: CleanDescriptors\n",
         "has no line in code_values"),
        ('  "2": Z\n', '  "2": K\n', "action 'K'"),
        ('  "60xx": overlay\n', '  "61xx": overlay\n', "not a repeating group"),
        ("  - CodingSchemeUID\n", "  - CodingSchemeUUID\n", "not a DICOM keyword"),
        ('  CleanDescriptorsOption: ["113105", Clean Descriptors Option]\n',
         "  CleanDescriptorsOption: 113105\n", "expected \\[code value, meaning\\]"),
        ("  keep_private_safe:\n", "  keep_all_private:\n    code: RetainSafePrivateOption\n"
         "  keep_private_safe:\n", "unknown entry 'keep_all_private'"),
        ("  X_Z_TAGS: X/Z\n", "  X_Z_TAGS: X/Y\n", "has no line in resolve"),
    ],
)
def test_a_malformed_options_file_names_file_and_line(tmp_path, old, new, message):
    assert old in SHIPPED
    text = SHIPPED.replace(old, new)
    bad = tmp_path / "options.yaml"
    bad.write_text(text)
    with pytest.raises(RuleFileError, match=message) as error:
        dicom.profile_rules(str(bad))
    line = _line_of(text, new.strip().splitlines()[0])
    assert str(error.value).startswith(f"options.yaml, line {line}:")


def test_options_file_with_a_yaml_error(tmp_path):
    bad = tmp_path / "options.yaml"
    bad.write_text(SHIPPED.replace("pseudonym_dummies: [PatientName, PatientID]",
                                   "pseudonym_dummies: [PatientName, PatientID"))
    with pytest.raises(RuleFileError, match=r"options\.yaml, line \d+, column \d+: not valid"):
        dicom.profile_rules(str(bad))


def test_options_file_without_a_part(tmp_path):
    bad = tmp_path / "options.yaml"
    bad.write_text(SHIPPED.replace("profile_code:", "profile_cod:"))
    with pytest.raises(RuleFileError, match="lacks 'profile_code'"):
        dicom.profile_rules(str(bad))


def test_shipped_safe_private_tags():
    safe = dicom.safe_private_tags()
    assert safe[("SIEMENS MR HEADER", 0x0019, 0x0E)].name == "DiffusionGradientDirection"
    assert all(tag.why for tag in safe.values())


HEADER = "# what this is\n# and where it comes from\ncreator\tgroup\telement\tname\twhy\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("ACME\t0028\t20\tCoil\tsafe\n", "line 4: group '0028' is not a private group"),
        ("ACME\t29\t20\tCoil\tsafe\n", "line 4: group '29' is not a private group"),
        ("ACME\t0029\t1020\tCoil\tsafe\n", "line 4: element '1020' must be two"),
        ("ACME\t0029\t20\tCoil\t\n", "line 4: column why is empty"),
        ("ACME\t0029\t20\tCoil\tsafe\textra\n", "line 4: more cells than columns"),
        ("ACME\t0029\t20\tCoil\tsafe\nACME\t0029\t20\tCoil\tsafe\n", "line 5: .* listed twice"),
    ],
)
def test_a_malformed_safe_private_table_names_file_and_line(tmp_path, row, message):
    bad = tmp_path / "safe.tsv"
    bad.write_text(HEADER + row)
    with pytest.raises(RuleFileError, match=f"^safe.tsv, {message}"):
        dicom.safe_private_tags(str(bad))


def test_a_table_without_its_columns(tmp_path):
    bad = tmp_path / "safe.tsv"
    bad.write_text("# a comment\ncreator\tgroup\n")
    with pytest.raises(RuleFileError, match="safe.tsv, line 2: .* missing: element, name, why"):
        dicom.safe_private_tags(str(bad))


def test_code_values_are_the_standards():
    from pydicom.sr.codedict import codes

    for name, (value, meaning) in dicom.profile_rules().code_values.items():
        code = getattr(codes.DCM, name)
        assert (code.value, code.meaning) == (value, meaning), name
