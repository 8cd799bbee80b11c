"""Tests of mrishare.deface.images: loading and checking a head image."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mrishare import data, deface


def test_a_path_is_loaded_and_an_image_passed_on():
    path = data.sample_path("participant_T1w")
    loaded = deface.load_image(path)
    assert loaded.ndim == 3
    assert deface.load_image(loaded) is loaded


def test_a_single_volume_4d_image_is_taken_as_3d():
    image = nib.Nifti1Image(np.ones((6, 6, 6, 1), np.int16), np.eye(4))
    assert deface.load_image(image).shape == (6, 6, 6)


@pytest.mark.parametrize(
    ("shape", "match"),
    [((10, 10, 10, 3), "expected one 3D volume, got an image of shape \\(10, 10, 10, 3\\)"),
     ((40, 40), "expected one 3D volume"),
     ((40, 40, 1), "a single slice")],
)
def test_what_cannot_be_defaced_is_refused(shape, match):
    with pytest.raises(deface.DefaceError, match=match):
        deface.load_image(nib.Nifti1Image(np.zeros(shape, np.int16), np.eye(4)))


def test_unreadable_file_named(tmp_path):
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"not a nifti")
    with pytest.raises(deface.DefaceError, match="broken.nii.gz"):
        deface.deface(path)


def test_missing_file_named(tmp_path):
    with pytest.raises(deface.DefaceError, match="nope.nii"):
        deface.load_image(tmp_path / "nope.nii")


def test_stored_values_are_before_scaling():
    image = nib.Nifti1Image(np.full((3, 3, 3), 10, np.int16), np.eye(4))
    image.header.set_slope_inter(2.0, 1.0)
    loaded = nib.Nifti1Image.from_bytes(image.to_bytes())
    assert deface.scaling(loaded) == (2.0, 1.0)
    assert deface.stored_values(loaded).dtype == np.int16
    assert int(deface.stored_values(loaded).max()) == 10
    assert float(np.asarray(loaded.dataobj).max()) == 21.0


def test_head_mask_separates_signal_from_air():
    values = np.zeros((10, 10, 10), np.float32)
    values[2:8, 2:8, 2:8] = 100.0
    values[0, 0, 0] = 5.0  # noise in the air
    mask = deface.head_mask(values)
    assert mask.sum() == 6 ** 3 and not mask[0, 0, 0]
    assert not deface.head_mask(np.zeros((3, 3, 3))).any()


def test_voxel_ml():
    image = nib.Nifti1Image(np.zeros((2, 2, 2)), np.diag([1.0, 2.0, 5.0, 1.0]))
    assert deface.voxel_ml(image) == pytest.approx(0.01)
