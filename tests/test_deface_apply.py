"""Tests of mrishare.deface.apply: zeros where removed, the rest as stored."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mrishare import deface


def _removed(shape):
    removed = np.zeros(shape, bool)
    removed[:2] = True
    return removed


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_zero_where_removed_and_untouched_elsewhere(dtype):
    values = (np.arange(5 * 4 * 3).reshape(5, 4, 3) + 3).astype(dtype)
    image = nib.Nifti1Image(values, np.eye(4))
    out = deface.apply_mask(image, _removed(values.shape))
    stored = deface.stored_values(out)
    assert stored.dtype == dtype
    assert (stored[:2] == 0).all() and np.array_equal(stored[2:], values[2:])
    assert np.array_equal(values, (np.arange(60).reshape(5, 4, 3) + 3).astype(dtype)), \
        "the caller's array was changed"


def test_scaled_image_reads_as_zero():
    image = nib.Nifti1Image(np.full((4, 4, 4), 50, np.int16), np.eye(4))
    image.header.set_slope_inter(2.0, 10.0)
    loaded = nib.Nifti1Image.from_bytes(image.to_bytes())
    out = deface.apply_mask(loaded, _removed((4, 4, 4)))
    assert deface.scaling(out) == (2.0, 10.0)
    assert np.asarray(out.dataobj)[:2].max() == 0.0  # stored -5 reads as 0
    assert np.asarray(out.dataobj)[2:].min() == 110.0


def test_header_text_cleared():
    image = nib.Nifti1Image(np.ones((4, 4, 4), np.int16), np.eye(4))
    image.header["descrip"] = b"Jansen^Marieke"
    out = deface.apply_mask(image, _removed((4, 4, 4)))
    assert out.header["descrip"].item() == b""


def test_mask_of_another_shape_refused():
    image = nib.Nifti1Image(np.ones((4, 4, 4), np.int16), np.eye(4))
    with pytest.raises(ValueError, match="differs from image shape"):
        deface.apply_mask(image, np.zeros((3, 4, 4), bool))
