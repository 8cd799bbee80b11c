"""Defacing against the truth on every kind of simulated test head (mrishare.lessons.heads).

The face region removed is measured in the true face region, carried by the simulation's
own transform, never in the region the defacing registration placed.
"""

from __future__ import annotations

import numpy as np
import pytest

from mrishare import deface
from mrishare.lessons import heads

# The neck-and-shoulders head is 40 cm wide: 1.5 mm voxels keep the test quick.
ZOOMS = {"neck_shoulders": (1.5, 1.5, 1.5)}
KINDS = ["nose_cut", "neck_shoulders", "off_centre", "oblique", "thick_axial", "fine"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_true_face_is_removed_and_no_brain(kind):
    head = heads.make_head(kind, seed=3, zooms=ZOOMS.get(kind))
    result = deface.deface(head.image)
    assert heads.true_face_removed(head, result.removed) >= 0.95
    assert int((result.removed & head.brain).sum()) == 0


def test_the_kinds_are_what_they_say():
    zooms = {k: tuple(np.round(heads.make_head(k, seed=1, zooms=None).image.header
                               .get_zooms(), 2)) for k in ("oblique", "thick_axial")}
    assert zooms["oblique"] == (1.0, 1.0, 1.2)
    assert zooms["thick_axial"] == (0.9, 0.9, 5.0)
    oblique = heads.make_head("oblique", seed=1).image.affine[:3, :3]
    cosines = np.abs(oblique / np.linalg.norm(oblique, axis=0)).max(axis=0)
    assert cosines.min() < np.cos(np.deg2rad(15))  # tilted by more than 15 degrees
    standard = heads.make_head("standard", seed=1, zooms=(4.0, 4.0, 4.0))
    assert standard.image.shape == (64, 64, 44)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_head_cut_at_the_nose_has_eyes_and_nose_but_no_chin(seed):
    """The field of view ends at the tip of the nose, whichever way the head is turned:
    part of the face region (eyes, nose) is in it, mouth and chin are not, and the brain
    is (nearly) whole: only the lowest brain stem may go below the tip of the nose."""
    cut = heads.make_head("nose_cut", seed=seed, zooms=(2.0, 2.0, 2.0))
    whole = heads.make_head("fine", seed=seed, zooms=(2.0, 2.0, 2.0))  # no field of view cut
    assert 0.25 * whole.face.sum() < cut.face.sum() < 0.7 * whole.face.sum()
    assert cut.brain.sum() > 0.9 * whole.brain.sum()


def test_an_unknown_kind():
    with pytest.raises(ValueError, match="Unknown kind"):
        heads.make_head("elephant")
