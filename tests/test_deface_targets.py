"""Tests of mrishare.deface.targets: the QC policy file and its loader."""

from __future__ import annotations

import pytest

from mrishare import deface, qc
from mrishare.errors import RuleFileError

GOOD = """\
targets:
  brain_removed_ml: {compare: "<=", value: 0, unit: ml, description: brain, why: keep it}
  face_removed_share: {compare: ">=", value: 0.9, unit: share, description: face, why: go}
  head_fit: {compare: ">=", value: 0.8, unit: Dice, description: fit, why: trust}
face_present: {share: 0.05, why: measured}
face_detector:
  frontal: haarcascade_frontalface_default.xml
  profile: haarcascade_profileface.xml
  views: [0, 30]
  profile_views: [90]
  step_mm: 2.0
  scale_factor: 1.05
  min_size_px: 30
  min_votes: 90
  profile_min_votes: 8
  why: measured
agreement: {max_difference: 0.05, why: two registrations}
"""


def test_shipped_file_is_valid_and_used():
    policy = deface.load_targets()
    assert [t.name for t in policy.targets] == ["brain_removed_ml", "face_removed_share",
                                                "head_fit"]
    assert all(t.why for t in policy.targets)
    assert qc.targets() == policy.targets
    assert deface.MIN_FIT == policy.target("head_fit").value
    assert qc.TARGETS["face_removed_share"] == (">=", 0.95, "share",
                                                policy.target("face_removed_share").description)


def test_a_file_of_ones_own(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    policy = deface.load_targets(path)
    assert policy.target("face_removed_share").value == 0.9
    assert policy.face_present_share == 0.05
    assert policy.detector.views == (0.0, 30.0) and policy.detector.min_votes == 90
    assert policy.max_disagreement == 0.05
    assert policy.target("head_fit").passes(0.8) and not policy.target("head_fit").passes(0.79)
    assert policy.target("brain_removed_ml").passes(0.0)
    assert not policy.target("brain_removed_ml").passes(0.1)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (("head_fit: {compare", "fit: {compare"), "targets must give exactly"),
        (('"<=", value: 0,', '"<", value: 0,'), "compare is '<'"),
        (("value: 0.9,", "value: lots,"), "value must be a number"),
        (("value: 0.9,", "value: 1.5,"), "between 0 and 1"),
        (("unit: Dice", "unit: percent"), "unit is 'percent'"),
        ((", why: trust}", "}"), "missing why"),
        (("why: go}", "why: go, colour: red}"), "unknown colour"),
        (("share: 0.05", "share: 0"), "share must be between 0 and 1"),
        (("face_present: {share: 0.05, why: measured}\n", ""), "expected exactly the sections"),
        (("min_votes: 90", "min_votes: 0"), "min_votes >= 1"),
        (("frontal: haarcascade_frontalface_default.xml", "frontal: faces"), "cascade file"),
        (("views: [0, 30]", "views: 0"), "list of angles"),
        (("max_difference: 0.05", "max_difference: 2"), "between 0 and 1"),
        (("targets:\n", "targets: [\n"), "not valid YAML"),
    ],
)
def test_a_broken_file_says_what_is_wrong(tmp_path, change, match):
    old, new = change
    assert old in GOOD
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(RuleFileError, match=match) as error:
        deface.load_targets(path)
    assert "broken.yaml" in str(error.value)


def test_a_missing_file():
    with pytest.raises(RuleFileError, match="no such rule file"):
        deface.load_targets("no_such_targets.yaml")


def test_an_unknown_target_name():
    with pytest.raises(KeyError, match="no QC target"):
        deface.load_targets().target("speed")
