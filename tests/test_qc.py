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


def _bands(result, report):
    """Return the title and the three rows of tiles of a QC picture (black backgrounds)."""
    rgb = qc.picture(result, report)
    title = rgb[: rgb.shape[0] - qc.picture(result, report, title=False).shape[0]]
    dark = (rgb < 40).all(axis=2).sum(axis=1) > 0.2 * rgb.shape[1]
    rows = np.flatnonzero(dark)
    bands = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    return title, [rgb[band[0]: band[-1] + 1] for band in bands]


def _count(pixels, colour):
    """Pixels of mostly one colour: red, green or yellow (strong), or dark (text)."""
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    return int({"red": (r > 150) & (g < 80) & (b < 80),
                "green": (g > 150) & (r < 80) & (b < 80),
                "yellow": (r > 150) & (g > 150) & (b < 80),
                "dark": (r < 100) & (g < 100) & (b < 100)}[colour].sum())


def test_picture_shows_the_face_found_before_and_not_after(result):
    report = qc.check(result)
    assert report.face_found == (True, False)
    rgb = qc.picture(result, report)
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    title, (before, after, slices) = _bands(result, report)
    assert _count(title, "dark") > 0 and _count(title, "red") == 0
    # The detector's green boxes are on the renders before and none after; the slices
    # outline the removed region in red and the brain in yellow.
    assert _count(before, "green") > 0 and _count(after, "green") == 0
    assert _count(slices, "red") > 0 and _count(slices, "yellow") > 0


def test_figure_shows_the_picture_with_its_verdict(result):
    figure = qc.figure(result)
    assert len(figure.axes) == 1
    assert figure.get_suptitle().startswith("QC PASSED")
    shown = figure.axes[0].images[0].get_array()
    assert np.array_equal(np.asarray(shown), qc.picture(result, title=False))


def test_picture_of_a_failure_has_a_red_title(result):
    bad = dataclasses.replace(result,
                              removed_mask=PackedMask.pack(result.removed | result.brain))
    report = qc.check(bad)
    title, _ = _bands(bad, report)
    assert _count(title, "red") > 0 and _count(title, "dark") == 0
    assert qc.figure(bad, report).get_suptitle().startswith("QC FAILED")


def test_a_face_the_detector_still_sees_fails(result):
    """Nothing removed: the detector finds the face after as before, and QC fails."""
    untouched = dataclasses.replace(result, image=result.original,
                                    removed_mask=PackedMask.pack(np.zeros_like(result.removed)))
    report = qc.check(untouched, independent=False)
    assert report.face_found == (True, True)
    assert report.detector.status == "failed"
    assert not report.passed
    assert "face found in renders before: yes, after: yes FAILED" in qc.summary(report)
    title, (_, after, _) = _bands(untouched, report)
    assert _count(after, "green") > 0 and _count(title, "red") > 0


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
