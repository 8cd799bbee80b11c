"""Remove the face from a head scan, and never the brain.

Two methods, both pip-only:

``"template"`` (the default)
    pydeface's method without FSL: the shipped template head is registered to the scan
    (rigid, then affine; Mattes mutual information; 8 and 4 mm levels), the template's face
    mask is carried into the scan's grid by that transform, and the voxels under it are
    set to zero.
``"quickshear"``
    Quickshear's method: a plane under the brain, tangent to the brain's convex hull seen
    from the side, and everything in front of and below it removed. Here the brain mask is
    the template's, carried by the same registration, and the plane is found in the
    head's own frame in millimetres, so thick slices, sagittal grids and tilted heads are
    handled (the original loops over voxel rows and misses the face on thick-slice scans).

Either way the result keeps the input's grid, affine, data type and scaling; voxels
outside the removed region keep their stored values bit for bit. The header's free-text
fields are cleared and extensions dropped.

Every result carries the template's brain mask and face region in the scan's grid, so
:mod:`mrishare.qc` can tell how much brain was removed (the target is none) and how much of
the face region (the target is at least 95%).

Geometry is read once, with nibabel (RAS, the sform when set). SimpleITK, which works in
LPS and reverses axis order, only ever sees arrays and geometry handed to it here.

Examples
--------
>>> from mrishare import deface, simulate
>>> scan = simulate.simulate_scan(seed=1, zooms=(3.0, 3.0, 3.0), truth=False)
>>> result = deface.deface(scan.image)
>>> result.image.shape == scan.image.shape
True
>>> int(result.removed.sum()) > 0
True
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DefaceError",
    "DefaceResult",
    "Registration",
    "apply_mask",
    "carry",
    "deface",
    "deface_file",
    "load_image",
    "quickshear_mask",
    "register",
    "register_template",
    "save_image",
]

METHODS = ("template", "quickshear")

# Registration schedule: voxel size (mm) of each level, coarse to fine, and the share of
# voxels sampled for the metric. Measured (see benchmarks/bench_deface.py): 8 and 4 mm
# with 10% sampling removed the whole face region of every simulated participant; a single
# coarse level or an optimizer stopped early left 20-44% of the face.
LEVELS_MM = (8.0, 4.0)
SAMPLING = 0.25
ITERATIONS = 200
HISTOGRAM_BINS = 32

_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


class DefaceError(ValueError):
    """An image that cannot be defaced: not 3D, no head in view, registration failed."""


# ----------------------------------------------------------------------------- loading


def load_image(image: str | os.PathLike | nib.Nifti1Image) -> nib.Nifti1Image:
    """Return a NIfTI image from a path or pass a loaded one on.

    Parameters
    ----------
    image : str, path or nibabel image

    Returns
    -------
    nibabel.Nifti1Image

    Raises
    ------
    DefaceError
        When the file cannot be read as NIfTI or is not a single 3D volume.

    Examples
    --------
    >>> from mrishare import data
    >>> load_image(data.sample_path("participant_T1w")).ndim
    3
    """
    name = _name(image)
    if not isinstance(image, nib.spatialimages.SpatialImage):
        try:
            image = nib.load(os.fspath(image))
        except Exception as error:
            raise DefaceError(
                f"{name}: could not be read as a NIfTI image ({error}). Give a .nii or "
                ".nii.gz file."
            ) from error
    shape = image.shape
    if len(shape) == 4 and shape[3] == 1:
        image = image.slicer[..., 0]
    if image.ndim != 3:
        raise DefaceError(
            f"{name}: expected one 3D volume, got an image of shape {shape}. Split a 4D "
            "series first (deface one volume, e.g. the first, and apply its mask to the rest)."
        )
    if min(image.shape) < 2:
        raise DefaceError(f"{name}: a single slice ({image.shape}) cannot be defaced.")
    return image


def _name(image: Any) -> str:
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    filename = getattr(image, "get_filename", lambda: None)()
    return filename or "the image"


def _unscaled(image: nib.Nifti1Image) -> NDArray:
    """The stored voxel values, without slope and intercept applied."""
    proxy = image.dataobj
    if nib.is_proxy(proxy):
        return np.asarray(proxy.get_unscaled())
    return np.asarray(proxy)


def _scaling(image: nib.Nifti1Image) -> tuple[float, float]:
    slope = getattr(image.dataobj, "slope", 1.0)
    inter = getattr(image.dataobj, "inter", 0.0)
    return float(slope), float(inter)


# ------------------------------------------------------------------------ registration


@dataclass
class Registration:
    """A transform found by :func:`register`.

    Attributes
    ----------
    matrix : numpy.ndarray
        4x4, RAS millimetres: a point of the fixed image's world goes to this point of the
        moving image's world (the direction resampling needs).
    metric : float
        Final Mattes mutual information (more negative is a better match).
    """

    matrix: NDArray[np.float64]
    metric: float


def _downsample(
    data: NDArray, affine: NDArray[np.float64], target_mm: float
) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """Block-average to about ``target_mm`` voxels; NaN become 0. Returns data, affine."""
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    factors = [max(1, int(round(target_mm / z))) for z in zooms]
    shape = [n // f for n, f in zip(data.shape, factors, strict=True)]
    if min(shape) < 1:
        factors = [1, 1, 1]
        shape = list(data.shape)
    crop = data[: shape[0] * factors[0], : shape[1] * factors[1], : shape[2] * factors[2]]
    blocks = crop.reshape(shape[0], factors[0], shape[1], factors[1], shape[2], factors[2])
    small = blocks.mean(axis=(1, 3, 5), dtype=np.float32)
    small = np.nan_to_num(small, nan=0.0, posinf=0.0, neginf=0.0)
    step = np.diag([*factors, 1]).astype(float)
    step[:3, 3] = (np.asarray(factors) - 1) / 2.0
    return small.astype(np.float32, copy=False), affine @ step


def _to_sitk(data: NDArray, affine: NDArray[np.float64]):
    """A SimpleITK image of ``data`` (i, j, k order) placed by a RAS ``affine``.

    ITK wants an orthonormal direction: the nearest one (polar decomposition) is used, a
    shear of a few hundredths of a degree at most on real scanner grids.
    """
    import SimpleITK as sitk

    lps = _LPS @ affine
    zooms = np.linalg.norm(lps[:3, :3], axis=0)
    u, _, vt = np.linalg.svd(lps[:3, :3] / zooms)
    direction = u @ vt
    image = sitk.GetImageFromArray(np.ascontiguousarray(np.asarray(data, np.float32).T))
    image.SetSpacing([float(z) for z in zooms])
    image.SetDirection([float(v) for v in direction.ravel()])
    image.SetOrigin([float(v) for v in lps[:3, 3]])
    return image


def _sitk_affine(image) -> NDArray[np.float64]:
    """The RAS voxel-to-world affine SimpleITK actually uses for ``image``."""
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    matrix = np.eye(4)
    matrix[:3, :3] = direction * np.asarray(image.GetSpacing())
    matrix[:3, 3] = image.GetOrigin()
    return _LPS @ matrix


def _matrix_of(transform) -> NDArray[np.float64]:
    """4x4 LPS matrix of a SimpleITK Euler/affine transform (fixed point -> moving point)."""
    a = np.asarray(transform.GetMatrix()).reshape(3, 3)
    c = np.asarray(transform.GetCenter())
    t = np.asarray(transform.GetTranslation())
    matrix = np.eye(4)
    matrix[:3, :3] = a
    matrix[:3, 3] = t + c - a @ c
    return matrix


def _head_mask(data: NDArray[np.float32]) -> NDArray[np.bool_]:
    positive = data[data > 0]
    if positive.size == 0:
        return np.zeros(data.shape, bool)
    return data > 0.15 * np.percentile(positive, 99)


def _centre(data: NDArray[np.float32], affine: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy import ndimage as ndi

    mask = _head_mask(data)
    ijk = np.asarray(ndi.center_of_mass(mask))
    return (affine @ np.r_[ijk, 1.0])[:3]


def register(
    fixed: tuple[NDArray, NDArray[np.float64]],
    moving: tuple[NDArray, NDArray[np.float64]],
    *,
    fixed_mask: NDArray | None = None,
    stages: tuple[str, ...] = ("rigid", "affine"),
    levels_mm: tuple[float, ...] = LEVELS_MM,
    sampling: float = SAMPLING,
    iterations: int = ITERATIONS,
    initial: NDArray[np.float64] | None = None,
    seed: int = 0,
) -> Registration:
    """Register ``moving`` to ``fixed`` (Mattes mutual information, multi-resolution).

    Parameters
    ----------
    fixed, moving : tuple (data, affine)
        Arrays in voxel order (i, j, k) with their RAS affines, already reduced to about
        the finest level's voxel size (see :func:`_downsample`); NaN must be gone.
    fixed_mask : numpy.ndarray, optional
        Only voxels of the fixed image inside this mask (same grid) drive the metric.
    stages : tuple of {"rigid", "affine"}
        Run in order, each starting where the previous ended.
    levels_mm : tuple of float
        Voxel sizes of the resolution levels, coarse to fine.
    sampling : float
        Share of voxels sampled for the metric at each level.
    iterations : int
        Most optimizer iterations per level.
    initial : numpy.ndarray, optional
        4x4 RAS starting transform (fixed world -> moving world). Default: the centres of
        the heads on top of each other.
    seed : int
        Seeds the metric's sampling (the same inputs give the same result).

    Returns
    -------
    Registration

    Examples
    --------
    >>> from mrishare import data
    >>> head = data.load_sample("template_head")
    >>> small = _downsample(np.asarray(head.dataobj), head.affine, 4.0)
    >>> result = register(small, small, stages=("rigid",))
    >>> bool(np.allclose(result.matrix, np.eye(4), atol=0.05))
    True
    """
    import SimpleITK as sitk

    fixed_image = _to_sitk(*fixed)
    moving_image = _to_sitk(*moving)
    finest = min(np.linalg.norm(fixed[1][:3, :3], axis=0).max(), levels_mm[-1])
    shrink = [max(1, int(round(level / finest))) for level in levels_mm]
    sigmas = [max(0.0, (level - finest) / 2.0) for level in levels_mm]
    if initial is None:
        initial = np.eye(4)
        initial[:3, 3] = _centre(*moving) - _centre(*fixed)
    initial_lps = _LPS @ initial @ _LPS

    matrix_lps = initial_lps
    metric = np.nan
    centre = (_LPS @ np.r_[_centre(*fixed), 1.0])[:3]
    for stage in stages:
        if stage == "rigid":
            transform = sitk.Euler3DTransform()
            transform.SetCenter(centre.tolist())
            rot = matrix_lps[:3, :3]
            u, _, vt = np.linalg.svd(rot)
            transform.SetMatrix((u @ vt).ravel().tolist())
        elif stage == "affine":
            transform = sitk.AffineTransform(3)
            transform.SetCenter(centre.tolist())
            transform.SetMatrix(matrix_lps[:3, :3].ravel().tolist())
        else:
            raise ValueError(f"Unknown registration stage {stage!r}: use 'rigid' or 'affine'.")
        a = np.asarray(transform.GetMatrix()).reshape(3, 3)
        # translation t so that a (x - c) + c + t equals the current matrix at every x
        transform.SetTranslation((matrix_lps[:3, 3] - centre + a @ centre).tolist())

        method = sitk.ImageRegistrationMethod()
        method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=HISTOGRAM_BINS)
        method.SetMetricSamplingStrategy(method.RANDOM)
        method.SetMetricSamplingPercentage(sampling, seed)
        if fixed_mask is not None:
            mask = _to_sitk(np.asarray(fixed_mask, np.float32), fixed[1])
            method.SetMetricFixedMask(sitk.Cast(mask > 0.5, sitk.sitkUInt8))
        method.SetInterpolator(sitk.sitkLinear)
        method.SetOptimizerAsRegularStepGradientDescent(
            learningRate=2.0,
            minStep=1e-3,
            numberOfIterations=iterations,
            relaxationFactor=0.6,
            gradientMagnitudeTolerance=1e-6,
        )
        method.SetOptimizerScalesFromPhysicalShift()
        method.SetShrinkFactorsPerLevel(shrink)
        method.SetSmoothingSigmasPerLevel(sigmas)
        method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
        method.SetInitialTransform(transform, inPlace=True)
        try:
            method.Execute(fixed_image, moving_image)
        except RuntimeError as error:
            raise DefaceError(f"registration failed ({str(error).strip().splitlines()[-1]})")
        metric = method.GetMetricValue()
        matrix_lps = _matrix_of(transform)

    # The registration ran between SimpleITK's own (orthonormalised) grids; express the
    # result between the true nibabel grids, voxel for voxel.
    fixed_fix = _sitk_affine(fixed_image) @ np.linalg.inv(fixed[1])
    moving_fix = _sitk_affine(moving_image) @ np.linalg.inv(moving[1])
    matrix = np.linalg.inv(moving_fix) @ (_LPS @ matrix_lps @ _LPS) @ fixed_fix
    return Registration(matrix=matrix, metric=float(metric))
