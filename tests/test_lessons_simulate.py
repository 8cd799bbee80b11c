"""Tests of mrishare.lessons.simulate's ground truth (needs the template's brain mask)."""

from __future__ import annotations

import numpy as np
import pytest

from mrishare import data
from mrishare.lessons import simulate


def test_brain_mask_sample_is_plausible():
    mask = data.load_sample("template_brainmask")
    head = data.load_sample("template_head")
    assert mask.shape == head.shape and np.allclose(mask.affine, head.affine)
    values = np.asarray(mask.dataobj)
    assert values.dtype == np.uint8
    ml = values.sum() * np.prod(mask.header.get_zooms()[:3]) / 1000
    assert 1200 < ml < 1700
    face = np.asarray(data.load_sample("template_facemask").dataobj) < 0.5
    assert not (face & (values > 0)).any()


@pytest.mark.parametrize("axes", ["RAS", "LPS", "ASR"])
def test_truth_masks(axes):
    scan = simulate.simulate_scan(seed=5, zooms=(4.0, 4.0, 4.0), axes=axes)
    voxel_ml = 64 / 1000
    assert 1200 < scan.brain.sum() * voxel_ml < 1800
    assert scan.face.sum() * voxel_ml > 300
    assert not (scan.face & scan.brain).any()
    assert np.asarray(scan.image.dataobj)[scan.brain].mean() > 0


def test_same_seed_same_scan():
    a = simulate.simulate_scan(seed=9, zooms=(5.0, 5.0, 5.0), truth=False)
    b = simulate.simulate_scan(seed=9, zooms=(5.0, 5.0, 5.0), truth=False)
    assert np.array_equal(np.asarray(a.image.dataobj), np.asarray(b.image.dataobj))
