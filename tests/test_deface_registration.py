"""Tests of mrishare.deface.registration: SimpleITK between RAS grids."""

from __future__ import annotations

import numpy as np
import pytest

from mrishare import data, deface
from mrishare.deface import registration, template


@pytest.fixture(scope="module")
def small():
    head = data.load_sample("template_head")
    return registration.downsample(np.asarray(head.dataobj), head.affine, 4.0)


def test_downsample_keeps_the_world_position():
    values = np.arange(4 * 4 * 4, dtype=np.float32).reshape(4, 4, 4)
    values[0, 0, 0] = np.nan
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    affine[:3, 3] = [10.0, 20.0, 30.0]
    out, out_affine = registration.downsample(values, affine, 2.0)
    assert out.shape == (2, 2, 2) and not np.isnan(out).any()
    # the centre of the first 2x2x2 block of input voxels (0.5, 0.5, 0.5)
    assert np.allclose(out_affine @ [0, 0, 0, 1], [10.5, 20.5, 30.5, 1])


def test_a_known_shift_is_found(small):
    values, affine = small
    moved = affine.copy()
    moved[:3, 3] += [6.0, -4.0, 5.0]  # the same head, 6 mm right, 4 back, 5 up
    found = deface.register((values, affine), (values, moved), stages=("rigid",))
    assert np.allclose(found.matrix[:3, 3], [6.0, -4.0, 5.0], atol=1.0)
    assert np.allclose(found.matrix[:3, :3], np.eye(3), atol=0.02)


def test_unknown_stage_and_metric(small):
    with pytest.raises(ValueError, match="Unknown registration stage"):
        deface.register(small, small, stages=("warp",))
    with pytest.raises(ValueError, match="Unknown metric"):
        deface.register(small, small, metric="guess")


def test_the_template_fits_a_participant():
    found = deface.register_template(data.sample_path("participant_T1w"))
    assert found.fit >= deface.MIN_FIT


def test_template_regions_do_not_touch():
    head, face, brain = deface.template_regions()
    assert face.shape == brain.shape == head.shape
    assert face.any() and brain.any() and not (face & brain).any()


def test_reduced_is_at_the_finest_level():
    image = data.load_sample("participant_T1w")
    _, affine = template.reduced(image)
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    assert np.all(np.abs(zooms - registration.LEVELS_MM[-1]) <= np.linalg.norm(
        image.affine[:3, :3], axis=0))
