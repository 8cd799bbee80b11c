"""Tests of mrishare.deface.detect: a face detector on renders, before and after defacing."""

from __future__ import annotations

import pytest

from mrishare import data, deface, qc
from mrishare.deface import detect
from mrishare.lessons import heads, simulate


@pytest.mark.parametrize("name", ["template_head", "participant_T1w", "participant_T2w"])
def test_the_face_is_found_before_and_not_after(name):
    result = deface.deface(data.load_sample(name))
    found = qc.check(result, independent=False).detector
    assert found.before.found and not found.after.found
    assert found.status == "passed"
    assert found.sentence() == "face found in renders before: yes, after: no"
    assert 0 < found.before.rate <= 1 and found.after.rate == 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_simulated_participants(seed):
    scan = simulate.simulate_scan(seed=seed, zooms=(1.5, 1.5, 1.5), truth=False)
    result = deface.deface(scan.image)
    found = qc.check(result, independent=False).detector
    assert (found.before.found, found.after.found) == (True, False)


def test_no_face_before_means_the_check_could_not_run():
    """A head cut at the nose shows the detector no face: that is no evidence either way."""
    head = heads.make_head("nose_cut", seed=1, zooms=(1.5, 1.5, 1.5))
    report = qc.check(deface.deface(head.image), independent=False)
    assert report.detector.status == "could not run"
    assert "could not run" in report.detector.sentence()
    assert "not checked" in qc.summary(report)


def test_boxes_and_votes():
    found = detect.detect_faces(data.load_sample("template_head"))
    front = found.views[0]
    assert front.view == 0.0 and front.faces
    x, y, w, h, votes = front.faces[0]
    assert votes >= front.min_votes
    assert 0 <= x < x + w <= front.picture.shape[1] and 0 <= y < y + h <= front.picture.shape[0]
