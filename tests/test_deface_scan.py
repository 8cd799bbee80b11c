"""Tests of mrishare.deface.scan on simulated participants with ground-truth face and brain."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mrishare import deface, readers
from mrishare.lessons import simulate

# Six participants: seeds, motions, grids, orientations, data types, one thick-slice scan.
CASES = {
    "ras-uint16": dict(seed=11, zooms=(3.0, 3.0, 3.0)),
    "lps-int16-scaled": dict(seed=12, zooms=(3.0, 3.0, 3.0), axes="LPS", dtype="int16"),
    "sagittal-float-nan": dict(seed=13, zooms=(2.5, 2.5, 2.5), axes="ASR", dtype="float32"),
    "thick-axial": dict(seed=14, zooms=(1.5, 1.5, 5.0)),
    "big-head-lps": dict(seed=15, zooms=(3.5, 3.5, 3.5), axes="LPS", head_scale=1.06),
    "small-head-sagittal": dict(seed=16, zooms=(3.0, 2.5, 3.0), axes="ASR", head_scale=0.95),
}


def _scaled(scan: simulate.SimulatedScan) -> nib.Nifti1Image:
    """Store the scan as int16 with a slope and intercept, as scanners often do."""
    image = scan.image
    stored = np.asarray(image.dataobj).astype(np.int16)
    out = nib.Nifti1Image(stored, image.affine, image.header)
    out.set_data_dtype(np.int16)
    out.header.set_slope_inter(0.5, 3.0)
    return nib.Nifti1Image.from_bytes(out.to_bytes())  # as if read from a file


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    spec = dict(CASES[request.param])
    scan = simulate.simulate_scan(**spec)
    if request.param == "lps-int16-scaled":
        scan.image = _scaled(scan)
    return request.param, scan


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b


@pytest.mark.slow
@pytest.mark.parametrize("method", ["template", "quickshear"])
def test_face_removed_brain_kept(case, method):
    name, scan = case
    if name == "lps-int16-scaled":
        assert scan.image.get_data_dtype() == np.int16 and deface.scaling(scan.image) == (0.5, 3.0)
    result = deface.deface(scan.image, method)
    removed = result.removed
    assert (removed & scan.brain).sum() == 0, "brain voxels removed"
    share = (removed & scan.face).sum() / scan.face.sum()
    assert share >= (0.95 if method == "template" else 0.85), f"{name}: face {share:.1%}"
    before = deface.stored_values(scan.image)
    after = deface.stored_values(result.image)
    assert after.dtype == before.dtype
    assert _same(after, before)[~removed].all(), "voxels changed outside the removed region"
    slope, inter = deface.scaling(scan.image)
    assert np.allclose(after[removed] * slope + inter, 0, atol=abs(slope))
    assert np.array_equal(result.image.affine, scan.image.affine)
    if method == "quickshear":
        return  # quickshear's plane runs on under the skull base to the back of the neck
    # Nothing behind the middle of the brain is removed (the face is at the front), even
    # where the scan's field of view reaches beyond the template's box.
    to_template = result.registration.matrix @ scan.image.affine
    front = (to_template[1, :3] @ np.argwhere(removed).T + to_template[1, 3]).min()
    middle = (to_template[1, :3] @ np.argwhere(scan.brain).T + to_template[1, 3]).mean()
    assert front > middle


def test_wide_field_of_view_keeps_the_back_of_the_head():
    """A grid much larger than the template's box: the face goes, the rest stays."""
    scan = simulate.simulate_scan(seed=17, zooms=(4.0, 4.0, 4.0))
    data = np.asarray(scan.image.dataobj)
    padded = np.pad(data, 12)
    affine = scan.image.affine.copy()
    affine[:3, 3] -= affine[:3, :3] @ np.array([12, 12, 12])
    result = deface.deface(nib.Nifti1Image(padded, affine))
    face = np.pad(scan.face, 12)
    outside = np.ones(padded.shape, bool)
    outside[12:-12, 12:-12, 12:-12] = False
    assert (result.removed & face).sum() / face.sum() >= 0.95
    assert (result.removed & outside).mean() < 0.5 * outside.mean()


def test_scaling_and_clean_header_kept_through_a_file(tmp_path):
    scan = simulate.simulate_scan(seed=21, zooms=(4.0, 4.0, 4.0))
    image = _scaled(scan)
    image.header["descrip"] = b"Jansen^Marieke 2024-03-11"
    image.header["aux_file"] = b"VUMC0047131"
    image.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"Jansen"))
    result = deface.deface(image)
    out = readers.save_nifti(result.image, tmp_path / "out.nii.gz")
    back = nib.load(out)
    assert deface.scaling(back) == (0.5, 3.0)
    assert back.get_data_dtype() == np.int16
    stored = deface.stored_values(back)
    original = deface.stored_values(image)
    assert np.array_equal(stored[~result.removed], original[~result.removed])
    assert back.header["descrip"].item() == b"" and back.header["aux_file"].item() == b""
    assert len(back.header.extensions) == 0
    assert np.allclose(back.affine, image.affine)
    assert back.header.get_qform(coded=True)[1] == image.header.get_qform(coded=True)[1]


def test_mask_image_is_on_the_original_grid():
    scan = simulate.simulate_scan(seed=23, zooms=(4.0, 4.0, 4.0), truth=False)
    result = deface.deface(scan.image)
    mask = result.mask_image()
    assert mask.get_data_dtype() == np.uint8
    assert np.array_equal(np.asarray(mask.dataobj) == 1, result.removed)
    assert np.allclose(mask.affine, scan.image.affine)


def test_nan_in_face_become_zero():
    scan = simulate.simulate_scan(seed=22, zooms=(4.0, 4.0, 4.0), dtype="float32")
    data = np.asarray(scan.image.dataobj).copy()
    data[scan.face] = np.nan
    image = nib.Nifti1Image(data, scan.image.affine)
    result = deface.deface(image)
    out = np.asarray(result.image.dataobj)
    assert not np.isnan(out[result.removed]).any()
    assert np.isnan(np.asarray(image.dataobj)[scan.face]).all(), "the input was changed"


def test_apply_to_other_contrast():
    t1 = simulate.simulate_scan(seed=31, zooms=(3.0, 3.0, 3.0))
    t2 = simulate.simulate_scan(seed=31, contrast="T2w", zooms=(2.0, 2.0, 5.0), axes="LPS",
                                max_oblique_deg=0)
    reference = deface.deface(t1.image)
    result = deface.deface_other(t2.image, reference)
    assert result.method == reference.method
    assert (result.removed & t2.brain).sum() == 0
    assert (result.removed & t2.face).sum() / t2.face.sum() >= 0.95


@pytest.mark.parametrize("flip", [(1, -1, -1), (-1, -1, 1), (-1, 1, -1)])
def test_wrong_orientation_in_header_still_finds_the_face(flip):
    """A header that turns the head half a turn: the face is still found."""
    scan = simulate.simulate_scan(seed=51, zooms=(4.0, 4.0, 4.0))
    affine = scan.image.affine.copy()
    affine[:3, :3] = np.diag(flip) @ affine[:3, :3]
    result = deface.deface(nib.Nifti1Image(np.asarray(scan.image.dataobj), affine))
    assert (result.removed & scan.brain).sum() == 0
    assert (result.removed & scan.face).sum() / scan.face.sum() >= 0.95


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.zeros((10, 10, 10, 3), np.int16), "expected one 3D volume"),
        (np.zeros((40, 40, 40), np.int16), "no head in the field of view"),
        (np.zeros((40, 40), np.int16), "expected one 3D volume"),
    ],
)
def test_bad_input(data, match):
    with pytest.raises(deface.DefaceError, match=match):
        deface.deface(nib.Nifti1Image(data, np.eye(4)))


def test_not_a_head_is_refused():
    box = np.zeros((60, 60, 60), np.int16)
    box[5:55, 5:55, 5:55] = 500
    with pytest.raises(deface.DefaceError, match="registration failed"):
        deface.deface(nib.Nifti1Image(box, np.diag([3.0, 3.0, 3.0, 1.0])))


def test_unknown_method():
    with pytest.raises(ValueError, match="Unknown defacing method 'blur'"):
        deface.deface(np.zeros(1), "blur")  # type: ignore[arg-type]


def test_the_same_input_gives_the_same_result():
    """The registration's sampling is seeded (SimpleITK's seed 0 would mean the clock).

    Threads may sum the metric in another order: the transform agrees to within a
    millionth of a millimetre, far too little to move a voxel in or out of the mask."""
    faced = simulate.simulate_scan(seed=21, zooms=(3.0, 3.0, 3.0), truth=False).image
    first, second = deface.deface(faced), deface.deface(faced)
    assert np.allclose(first.registration.matrix, second.registration.matrix, atol=1e-5)
    assert np.array_equal(first.removed, second.removed)


@pytest.mark.parametrize("factors", [[1, 1, 1], [2, 2, 2], [3, 2, 1], [4, 4, 4], [5, 3, 2]])
@pytest.mark.parametrize("method", ["template", "quickshear"])
def test_the_input_reduced_from_the_defaced_image_equals_the_input_reduced(factors, method):
    from mrishare import data
    from mrishare.deface.images import affine_of, stored_values
    from mrishare.deface.registration import downsample

    result = deface.deface(data.sample_path("participant_T1w"), method)
    affine = affine_of(result.original)
    direct, direct_affine = downsample(stored_values(result.original), affine, 0.0,
                                       factors=factors)
    small, small_affine = result.original_reduced(factors)
    assert np.allclose(small, direct, atol=1e-3) and np.allclose(small_affine, direct_affine)
    # from the defaced image's grid, turned into the input's in place
    grid = downsample(stored_values(result.image), affine, 0.0, factors=factors)
    again, _ = result.original_reduced(factors, defaced=grid)
    assert again is grid[0] and np.allclose(again, direct, atol=1e-3)
