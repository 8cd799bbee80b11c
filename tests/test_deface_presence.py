"""Tests of mrishare.deface.presence: is a face still there?"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mrishare import deface
from mrishare.lessons import simulate


@pytest.fixture(scope="module")
def faced():
    return simulate.simulate_scan(seed=21, zooms=(3.0, 3.0, 3.0), truth=False).image


@pytest.mark.parametrize("method", ["template", "quickshear"])
def test_face_present_before_defacing_and_not_after(faced, method):
    before = deface.face_present(faced)
    assert isinstance(before, deface.FaceCheck)
    assert before.present and before.share > 0.1, before
    assert before.tissue_ml > 0 and before.fit >= deface.MIN_FIT
    assert "still there" in before.detail
    after = deface.face_present(deface.deface(faced, method).image)
    assert not after.present and after.share < deface.FACE_PRESENT_SHARE, after
    assert "no face" in after.detail


def test_face_present_when_only_half_the_face_was_removed(faced):
    result = deface.deface(faced)
    removed = result.removed.copy()
    k = np.argwhere(removed)[:, 2]
    removed[:, :, : int(np.median(k))] = False  # keep the lower half of the face
    half = deface.apply_mask(faced, removed)
    assert deface.face_present(half).present


def test_face_present_refuses_what_is_not_a_head():
    box = nib.Nifti1Image(np.zeros((30, 30, 30), np.int16), np.diag([4.0, 4.0, 4.0, 1.0]))
    with pytest.raises(deface.DefaceError, match="no head"):
        deface.face_present(box)


def test_the_threshold_is_the_policy_files():
    assert deface.FACE_PRESENT_SHARE == deface.load_targets().face_present_share


def test_a_file_that_is_not_a_head_is_named(tmp_path):
    path = tmp_path / "box.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((30, 30, 30), np.int16), np.eye(4)), path)
    with pytest.raises(deface.DefaceError, match="box.nii.gz: no head"):
        deface.face_present(path)
