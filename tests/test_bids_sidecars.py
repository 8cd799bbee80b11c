"""Sidecars: an allow-list from the BIDS schema minus a deny list kept as a rule file."""

from __future__ import annotations

import pytest

from mrishare import bids, rules
from mrishare.bids import sidecars
from mrishare.errors import RuleFileError


def test_allowlist_comes_from_the_schema_and_denies_site_fields():
    from bidsschematools import schema

    metadata = set(schema.load_schema().objects.metadata.keys())
    allowed = bids.sidecar_allowlist()
    assert allowed <= metadata
    assert {"EchoTime", "RepetitionTime", "FlipAngle", "MagneticFieldStrength"} <= allowed
    assert not allowed & set(bids.SIDECAR_DENY)
    kept, dropped = bids.scrub_sidecar({"EchoTime": 0.1, "SequenceName": "tfl_Quaggafam"},
                                       identifiers=["Quaggafam"])
    assert kept == {"EchoTime": 0.1} and dropped == ["SequenceName"]


def test_the_deny_list_is_the_rule_file_with_a_reason_for_each_field():
    policy = sidecars.sidecar_rules()
    text = (rules.folder() / "sidecar_fields.yaml").read_text()
    for name, reason in bids.SIDECAR_DENY.items():
        assert f"{name}: {reason}" in text
    assert set(bids.SIDECAR_DENY) == set(policy.removed) | set(policy.written_by_mrishare)
    assert sidecars.WRITTEN_BY_MRISHARE == {"DeidentificationMethod",
                                            "DeidentificationMethodCodeSequence", "TaskName",
                                            "IntendedFor", "B0FieldIdentifier",
                                            "B0FieldSource"}
    assert bids.SIDECAR_GROUPS == policy.groups


def test_fields_mrishare_writes_are_dropped_from_the_converter_output():
    kept, dropped = bids.scrub_sidecar({"DeidentificationMethod": "none", "EchoTime": 0.002})
    assert kept == {"EchoTime": 0.002} and dropped == ["DeidentificationMethod"]
    assert "mrishare" in sidecars.deidentification_method()[0]


GOOD = ("schema_groups: [mri]\nremoved:\n  StationName: a console\n"
        "written_by_mrishare:\n  DeidentificationMethod: what was done\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("StationName", "StationNmae"),
         r"removed: 'StationNmae' is not a BIDS sidecar field"),
        (GOOD.replace("a console", "''"), r"removed: StationName needs a reason"),
        (GOOD.replace("[mri]", "[mri, brain]"), r"the BIDS schema has no sidecar group 'brain'"),
        (GOOD.replace("[mri]", "mri"), r"schema_groups must be a list"),
        (GOOD + "extra: 1\n", r"unknown: extra"),
        (GOOD.replace("removed:\n  StationName: a console\n", ""), r"missing: removed"),
        ("removed: [unclosed\n", r"line 2, column 1: not valid YAML"),
    ],
)
def test_a_broken_sidecar_rule_file_is_refused(tmp_path, text, message):
    path = tmp_path / "sidecar_fields.yaml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=r"sidecar_fields\.yaml.*" + message):
        sidecars.sidecar_rules(path)


def test_a_good_sidecar_rule_file_is_read(tmp_path):
    path = tmp_path / "sidecar_fields.yaml"
    path.write_text(GOOD)
    policy = sidecars.sidecar_rules(path)
    assert policy.deny == {"StationName": "a console", "DeidentificationMethod": "what was done"}
