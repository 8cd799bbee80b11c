"""Tests of mrishare.qc: passes good defacing, fails loudly when a target is missed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mrishare import data, deface, qc
from mrishare.deface.masks import PackedMask
from mrishare.lessons import simulate


@pytest.fixture(scope="module")
def result():
    scan = simulate.simulate_scan(seed=61, zooms=(3.0, 3.0, 3.0), truth=False)
    return deface.deface(scan.image)


def test_good_result_passes(result):
    report = qc.check(result)
    assert report.passed
    assert [m.name for m in report.measures] == [t.name for t in qc.targets()] + [
        "face_share_disagreement"]
    assert report.independent_face_share is not None
    assert report.independent_face_share >= 0.95
    assert report.measure("brain_removed_ml").value == 0.0
    assert report.measure("face_removed_share").value >= 0.95
    assert report.measure("head_fit").value == result.registration.fit
    assert all(m.level == "ok" for m in report.measures)
    assert "QC PASSED" in qc.summary(report)
    assert "why:" not in qc.summary(report)
    assert report.as_dict() == {m.name: m.value for m in report.measures}


def test_cut_brain_fails(result):
    removed = result.removed | result.brain  # a defacer that took the brain too
    bad = dataclasses.replace(result, removed_mask=PackedMask.pack(removed))
    report = qc.check(bad)
    assert not report.passed
    assert report.measure("brain_removed_ml").value > 100
    assert report.brain_removed_voxels == int(result.brain.sum())
    assert [m.name for m in report.measures if not m.passed] == ["brain_removed_ml"]
    assert report.measure("brain_removed_ml").level == "error"
    text = qc.summary(report)
    assert "QC FAILED" in text
    assert "why: " + report.measure("brain_removed_ml").why in text


def test_face_left_fails(result):
    removed = result.removed.copy()
    removed[tuple(np.argwhere(result.face)[::3].T)] = False  # a third of the face kept
    report = qc.check(dataclasses.replace(result, removed_mask=PackedMask.pack(removed)))
    assert not report.passed
    assert 0.5 < report.measure("face_removed_share").value < 0.95
    assert [m.name for m in report.measures if not m.passed] == ["face_removed_share"]


def test_poor_fit_fails(result):
    poor = dataclasses.replace(result.registration, fit=0.5)
    report = qc.check(dataclasses.replace(result, registration=poor))
    assert [m.name for m in report.measures if not m.passed] == ["head_fit"]


def test_unknown_measure(result):
    with pytest.raises(KeyError, match="no measure"):
        qc.check(result).measure("speed")


def test_figure(result):
    figure = qc.figure(result)
    views = len(qc.check(result).detector.before.views)
    assert len(figure.axes) == 2 * views + 3
    assert "QC PASSED" in figure.get_suptitle()


def test_figure_of_a_failure_is_red(result):
    bad = dataclasses.replace(result,
                              removed_mask=PackedMask.pack(result.removed | result.brain))
    figure = qc.figure(bad)
    assert "QC FAILED" in figure.get_suptitle()


def test_a_face_the_detector_still_sees_fails(result):
    """Nothing removed: the detector finds the face after as before, and QC fails."""
    untouched = dataclasses.replace(result, image=result.original,
                                    removed_mask=PackedMask.pack(np.zeros_like(result.removed)))
    report = qc.check(untouched, independent=False)
    assert report.face_found == (True, True)
    assert report.detector.status == "failed"
    assert not report.passed
    assert "face found in renders before: yes, after: yes FAILED" in qc.summary(report)


def test_a_misplaced_face_region_is_seen_by_the_independent_registration(result):
    """The region defacing placed is moved 15 mm forward: in its own terms 100% removed, but
    the independent registration's region is partly left: the two disagree, QC fails."""
    shift = round(15.0 / 3.0)
    moved = np.zeros_like(result.face)
    moved[:, shift:, :] = result.face[:, :-shift, :]
    moved &= ~result.brain
    misplaced = dataclasses.replace(result, face_mask=PackedMask.pack(moved),
                                    removed_mask=PackedMask.pack(moved))
    report = qc.check(misplaced, detector=False)
    assert report.measure("face_removed_share").value == 1.0
    assert report.independent_face_share < 0.95
    assert not report.measure("face_share_disagreement").passed
    assert not report.passed


def test_a_slab_is_checked_without_the_independent_registration():
    """A slab holds no whole head: QC says the second registration could not run, not fail."""
    t1 = data.load_sample("participant_T1w")
    slab = t1.slicer[:, :, 30:42]  # twelve slices through the face
    assert deface.narrowest_extent_mm(slab) < deface.WHOLE_HEAD_MM
    reference, carried = deface.deface_images(t1, [slab], detector=False)
    assert reference.qc.independent_face_share is not None and not reference.qc.not_checked
    assert carried.qc.independent_face_share is None
    assert len(carried.qc.not_checked) == 1 and "a slab" in carried.qc.not_checked[0]
    assert carried.qc.passed, qc.summary(carried.qc)
    assert "a slab, not a whole head" in qc.summary(carried.qc)
