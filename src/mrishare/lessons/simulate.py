"""Invented participants made from the template head.

No real person's scan is shipped with mrishare. Instead, the averaged template head (a
mean of many registered heads, with a face) is moved, re-gridded and re-contrasted into
*simulated participants*: a random rigid head motion, an oblique scanner grid with its own
voxel size, a smooth bias field and noise. Because each simulated scan sits on its own grid,
defacing it is a real registration problem; because we know the motion, we also know
exactly where the face and the brain are (the template's masks carried along), which is the
ground truth the defacing tests check against.

:mod:`mrishare.lessons.dicom_export` then writes a scan as a DICOM series (one file per
slice) with invented identifiers planted where real scanner exports carry them.

Examples
--------
>>> from mrishare.lessons import simulate
>>> scan = simulate.simulate_scan(seed=3, zooms=(4.0, 4.0, 4.0))
>>> scan.image.shape == scan.face.shape == scan.brain.shape
True
"""

from __future__ import annotations

from dataclasses import dataclass

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi
from scipy.spatial.transform import Rotation

__all__ = ["SimulatedScan", "simulate_scan", "t2_like"]

# T1-weighted template intensity -> T2-weighted-like intensity (piecewise linear):
# air stays dark, cerebrospinal fluid (dark in T1) turns bright, white matter (bright in
# T1) turns dark, fat in the scalp stays fairly bright.
_T2_FROM_T1 = (
    (0.0, 25.0, 70.0, 150.0, 220.0, 300.0, 385.0, 450.0, 650.0),
    (0.0, 10.0, 250.0, 620.0, 560.0, 380.0, 230.0, 350.0, 450.0),
)


@dataclass
class SimulatedScan:
    """A simulated scan with its ground truth.

    Attributes
    ----------
    image : nibabel.Nifti1Image
        The scan.
    face : numpy.ndarray of bool
        Voxels of the template's face region, carried into this scan's grid.
    brain : numpy.ndarray of bool
        Voxels of the template's brain mask, carried into this scan's grid.
    motion : numpy.ndarray
        The 4x4 rigid head motion (world mm, RAS) applied to the template.
    """

    image: nib.Nifti1Image
    face: NDArray[np.bool_]
    brain: NDArray[np.bool_]
    motion: NDArray[np.float64]


def t2_like(t1: NDArray[np.floating]) -> NDArray[np.float64]:
    """Map T1-weighted template intensities to a T2-weighted-like contrast.

    Examples
    --------
    >>> t2_like(np.array([0.0, 150.0, 385.0])).round()
    array([  0., 620., 230.])
    """
    return np.interp(t1, *_T2_FROM_T1)


def _rotation(degrees: NDArray[np.float64]) -> NDArray[np.float64]:
    return Rotation.from_euler("xyz", degrees, degrees=True).as_matrix()


def _rigid(rotation_deg, translation_mm, centre) -> NDArray[np.float64]:
    """4x4 rotation about ``centre`` followed by a translation (world mm)."""
    matrix = np.eye(4)
    rot = _rotation(np.asarray(rotation_deg, float))
    matrix[:3, :3] = rot
    matrix[:3, 3] = centre - rot @ centre + np.asarray(translation_mm, float)
    return matrix


def _grid(
    head: NDArray[np.bool_],
    head_affine: NDArray[np.float64],
    motion: NDArray[np.float64],
    oblique_deg: NDArray[np.float64],
    zooms: tuple[float, float, float],
    axes: str,
) -> tuple[NDArray[np.float64], tuple[int, int, int]]:
    """Return an oblique scanner grid that holds the moved head with a small margin."""
    ijk = np.argwhere(head)[::50]
    world = (motion @ head_affine @ np.c_[ijk, np.ones(len(ijk))].T)[:3]
    # Scanner axes: an oblique rotation of RAS; "LPS" or sagittal slices permute/flip them.
    base = {"RAS": np.eye(3), "LPS": np.diag([-1.0, -1.0, 1.0]),
            "ASR": np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], float)}[axes]
    directions = _rotation(oblique_deg) @ base
    local = directions.T @ world  # head coordinates along the scanner axes
    margin = 6.0
    lo, hi = local.min(axis=1) - margin, local.max(axis=1) + margin
    size = [int(np.ceil((h - low) / z)) + 1 for low, h, z in zip(lo, hi, zooms, strict=True)]
    shape = (size[0], size[1], size[2])
    affine = np.eye(4)
    affine[:3, :3] = directions * np.asarray(zooms)
    affine[:3, 3] = directions @ lo
    return affine, shape


def _affine(image: nib.Nifti1Image) -> NDArray[np.float64]:
    """Return the image's affine, which every loaded NIfTI image has."""
    if image.affine is None:
        raise ValueError("the image has no affine")
    return np.asarray(image.affine, dtype=np.float64)


def _bias(shape: tuple[int, int, int], rng: np.random.Generator, strength: float):
    """Return a smooth multiplicative field, 1 +/- ``strength``, from low-order polynomials."""
    axes = [np.linspace(-1, 1, n) for n in shape]
    x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
    c = rng.uniform(-1, 1, size=6)
    field = c[0] * x + c[1] * y + c[2] * z + c[3] * x * y + c[4] * y * z + c[5] * z * z
    field /= max(np.abs(field).max(), 1e-6)
    return 1.0 + strength * field


def simulate_scan(
    seed: int,
    contrast: str = "T1w",
    zooms: tuple[float, float, float] = (2.0, 2.0, 2.0),
    *,
    max_rotation_deg: float = 15.0,
    max_translation_mm: float = 25.0,
    max_oblique_deg: float = 12.0,
    axes: str = "RAS",
    head_scale: float = 1.0,
    bias: float = 0.15,
    noise: float = 0.02,
    dtype: str = "uint16",
    template: nib.Nifti1Image | None = None,
    face_mask: nib.Nifti1Image | None = None,
    brain_mask: nib.Nifti1Image | None = None,
    truth: bool = True,
) -> SimulatedScan:
    """Simulate one scan of an invented participant from the template head.

    Parameters
    ----------
    seed : int
        Seeds the motion, grid, bias field and noise: the same seed gives the same scan.
    contrast : {"T1w", "T2w"}, default "T1w"
        T2w maps the template's intensities with :func:`t2_like`.
    zooms : tuple of 3 floats, default (2, 2, 2)
        Voxel size in mm along the scanner axes (e.g. ``(1, 1, 5)`` for thick slices).
    max_rotation_deg, max_translation_mm : float
        Bounds of the random rigid head motion (drawn uniformly per axis).
    max_oblique_deg : float
        Bound of the random tilt of the scanner grid.
    axes : {"RAS", "LPS", "ASR"}, default "RAS"
        Voxel axis order and direction before tilting; "ASR" gives sagittal slices.
    head_scale : float, default 1.0
        Scale the head about its centre (another "person").
    bias, noise : float
        Strength of the bias field and the Gaussian noise (share of the 99th percentile).
    dtype : str, default "uint16"
        Data type on disk. Floating types keep NaN outside the field of view.
    template, face_mask, brain_mask : nibabel images, optional
        Default to the shipped samples.
    truth : bool, default True
        Carry the face and brain masks too (False leaves them empty, which is faster).

    Returns
    -------
    SimulatedScan
    """
    from mrishare import data

    rng = np.random.default_rng(seed)
    head_image: nib.Nifti1Image = (
        template if template is not None else data.load_sample("template_head", verify=False)
    )
    template_affine = _affine(head_image)

    t1 = np.asarray(head_image.dataobj, dtype=np.float32)
    head = t1 > 0.1 * np.percentile(t1, 99)
    centre = (template_affine @ np.r_[ndi.center_of_mass(head), 1.0])[:3]
    motion = _rigid(
        rng.uniform(-max_rotation_deg, max_rotation_deg, 3),
        rng.uniform(-max_translation_mm, max_translation_mm, 3),
        centre,
    )
    if head_scale != 1.0:
        scale = np.diag([head_scale] * 3 + [1.0])
        scale[:3, 3] = centre - head_scale * centre
        motion = motion @ scale
    oblique = rng.uniform(-max_oblique_deg, max_oblique_deg, 3)
    affine, shape = _grid(head, template_affine, motion, oblique, zooms, axes)

    # For every voxel of the new grid, where is it in the template's voxels?
    to_template = np.linalg.inv(template_affine) @ np.linalg.inv(motion) @ affine
    coords = np.indices(shape, dtype=np.float32).reshape(3, -1)
    coords = to_template[:3, :3].astype(np.float32) @ coords
    coords += to_template[:3, 3:4].astype(np.float32)

    def carry(volume: NDArray, order: int) -> NDArray:
        out = ndi.map_coordinates(volume, coords, order=order, mode="constant", cval=0.0)
        return out.reshape(shape)

    source = t2_like(t1).astype(np.float32) if contrast == "T2w" else t1
    image = carry(source, 1)
    inside = carry(np.ones(t1.shape, np.float32), 0) > 0  # within the template's box
    face = brain = np.zeros(shape, bool)
    if truth:
        face_image: nib.Nifti1Image = (
            face_mask if face_mask is not None
            else data.load_sample("template_facemask", verify=False)
        )
        brain_image: nib.Nifti1Image = (
            brain_mask if brain_mask is not None
            else data.load_sample("template_brainmask", verify=False)
        )
        # pydeface's face mask is 0 on the face and 1 elsewhere.
        face = carry((np.asarray(face_image.dataobj) < 0.5).astype(np.float32), 0) > 0.5
        brain = carry((np.asarray(brain_image.dataobj) > 0.5).astype(np.float32), 0) > 0.5

    top = np.percentile(image[image > 0], 99)
    image = image * _bias(shape, rng, bias)
    image = np.abs(image + rng.normal(0.0, noise * top, shape))  # magnitude images are >= 0
    image = image / top * 1000.0
    if np.issubdtype(np.dtype(dtype), np.floating):
        image[~inside] = np.nan
    else:
        image = np.clip(np.rint(image), 0, np.iinfo(dtype).max)
    image = image.astype(dtype)

    nifti = nib.Nifti1Image(image, affine)
    nifti.header.set_xyzt_units("mm", "sec")
    nifti.header.set_qform(affine, code=1)
    nifti.header.set_sform(affine, code=1)
    return SimulatedScan(image=nifti, face=face & inside, brain=brain & inside, motion=motion)
