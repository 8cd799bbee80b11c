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
