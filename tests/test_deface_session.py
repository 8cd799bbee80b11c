"""Tests of mrishare.deface.session: one call defaces and checks a whole session."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mrishare import deface, qc
from mrishare.lessons import simulate


@pytest.fixture(scope="module")
def session():
    t1 = simulate.simulate_scan(seed=81, zooms=(3.0, 3.0, 3.0), truth=False)
    t2 = simulate.simulate_scan(seed=81, contrast="T2w", zooms=(2.5, 2.5, 4.0), truth=False)
    return t1.image, t2.image


def test_reference_first_then_the_others_each_checked(session):
    t1, t2 = session
    done = deface.deface_images(t1, [t2])
    assert [d.result.original for d in done] == [t1, t2]
    assert all(isinstance(d.qc, qc.QCReport) and d.qc.passed for d in done)
    assert done[1].result.method == done[0].result.method == "template"
    # the other scan goes through the reference: the same registration to the template
    assert done[1].result.registration.fit == done[0].result.registration.fit


def test_method_is_carried_to_the_others(session):
    t1, t2 = session
    done = deface.deface_images(t1, [t2], method="quickshear")
    assert [d.result.method for d in done] == ["quickshear", "quickshear"]
    assert [d.qc.method for d in done] == ["quickshear", "quickshear"]


def test_one_bad_image_fails_the_session(session):
    t1, _ = session
    flat = nib.Nifti1Image(np.zeros((20, 20, 20, 2), np.int16), np.eye(4))
    with pytest.raises(deface.DefaceError, match="expected one 3D volume"):
        deface.deface_images(t1, [flat])
