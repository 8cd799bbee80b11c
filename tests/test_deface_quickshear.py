"""Tests of mrishare.deface.quickshear: a plane in millimetres, a buffer kept."""

from __future__ import annotations

import numpy as np
import pytest

from mrishare import deface
from mrishare.lessons import simulate


def test_quickshear_is_grid_independent():
    """The cut is a plane in millimetres: thick slices remove as much as thin ones."""
    shares = []
    for zooms in ((2.0, 2.0, 2.0), (1.5, 1.5, 6.0)):
        scan = simulate.simulate_scan(seed=41, zooms=zooms, max_oblique_deg=0)
        result = deface.deface(scan.image, "quickshear")
        assert (result.removed & scan.brain).sum() == 0
        shares.append((result.removed & scan.face).sum() / scan.face.sum())
    assert min(shares) > 0.85
    assert abs(shares[0] - shares[1]) < 0.05


def test_quickshear_mask_keeps_the_buffer():
    brain = np.zeros((30, 30, 30), bool)
    brain[10:20, 10:20, 10:20] = True
    cut = deface.quickshear_mask(brain, np.eye(4), np.eye(4), buffer_mm=3)
    distance = np.inf
    for point in np.argwhere(cut)[::7]:
        distance = min(distance, np.abs(np.argwhere(brain) - point).max(axis=1).min())
    assert distance >= 3
    assert cut[15, 29, 0] and not cut[15, 0, 29]


def test_a_larger_buffer_removes_less():
    brain = np.zeros((30, 30, 30), bool)
    brain[10:20, 10:20, 10:20] = True
    near = deface.quickshear_mask(brain, np.eye(4), np.eye(4), buffer_mm=2)
    far = deface.quickshear_mask(brain, np.eye(4), np.eye(4), buffer_mm=8)
    assert far.sum() < near.sum() and not (far & ~near).any()


def test_empty_brain_refused():
    with pytest.raises(deface.DefaceError, match="brain mask"):
        deface.quickshear_mask(np.zeros((5, 5, 5), bool), np.eye(4), np.eye(4))
