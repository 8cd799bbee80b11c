"""Slice views: each plane sampled from the block it crosses equals the whole volume's."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from mrishare import data, render
from mrishare.deface.masks import PackedMask
from mrishare.render import planes as slice_views


def _whole_volume_plane(values, voxels, shape, nearest):
    """The plane sampled from the whole volume (what _plane must equal)."""
    source = sitk.GetImageFromArray(np.ascontiguousarray(values.T))
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(voxels[:3, :3].ravel().tolist())
    transform.SetTranslation(voxels[:3, 3].tolist())
    out = sitk.Resample(source, [int(n) for n in shape], transform,
                        sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear,
                        (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), tuple(np.eye(3).ravel()), 0.0,
                        sitk.sitkUInt8 if nearest else sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out).T


@pytest.mark.parametrize("angle", [0.0, 17.0, 40.0])
def test_a_plane_from_its_block_equals_one_from_the_whole_volume(angle):
    rng = np.random.default_rng(4)
    values = rng.random((40, 50, 30)).astype(np.float32)
    mask = values > 0.6
    c, s = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
    voxels = np.array([[c, -s, 0, 8.0], [s, c, 0, 3.0], [0, 0, 0.7, 11.0], [0, 0, 0, 1]])
    shape = np.array([30, 35, 1])
    expected = _whole_volume_plane(values, voxels, shape, False)
    assert np.allclose(slice_views._plane(values, voxels, shape, False), expected, atol=1e-5)
    expected_mask = _whole_volume_plane(mask.astype(np.uint8), voxels, shape, True)
    assert np.array_equal(slice_views._plane(mask, voxels, shape, True), expected_mask)
    assert np.array_equal(slice_views._plane(PackedMask.pack(mask), voxels, shape, True),
                          expected_mask)


def test_slices_take_masks_as_arrays_or_packed():
    head = data.load_sample("template_head")
    mask = np.zeros(head.shape, bool)
    mask[20:60, 30:90, 10:50] = True
    for overlay in (mask, PackedMask.pack(mask)):
        figure = render.slices(head, overlay=overlay, title="t")
        assert len(figure.axes) == 3 and figure.get_suptitle() == "t"


def test_planes_are_upright_and_carry_their_masks():
    """A bright block at the front, top and left of the head (RAS world axes): sagittal
    shows it top right (nose to the right), coronal and axial at the right (the subject's
    right on the right) and at the top (superior; anterior for axial)."""
    import nibabel as nib

    values = np.zeros((40, 40, 40), np.float32)
    values[22:38, 30:38, 30:38] = 100.0  # x: the subject's right, y: anterior, z: superior
    mask = values > 0
    views, top = render.orthogonal_planes(nib.Nifti1Image(values, np.eye(4)), mask, None,
                                          position=(30.0, 34.0, 34.0))
    assert top == 100.0  # the point is inside the block: every plane crosses it
    for plane, (sampled, missing) in views:
        assert missing is None and np.array_equal(sampled > 0, plane > 50)
        rows, columns = np.nonzero(plane > 50)
        assert rows.mean() < plane.shape[0] / 2  # up
        assert columns.mean() > plane.shape[1] / 2  # right
