"""Registration with SimpleITK: one head onto another, in RAS millimetres.

Geometry is read once, with nibabel (RAS, the sform when set). SimpleITK, which works in
LPS and reverses axis order, only ever sees arrays and geometry handed to it here, and
every transform comes back as a 4x4 RAS matrix between the true nibabel grids.

Registration runs on images block-averaged to the finest level's voxel size
(:func:`downsample`): rigid, then affine, Mattes mutual information, at the levels of
:data:`LEVELS_MM`.

Examples
--------
>>> from mrishare import data
>>> from mrishare.deface import registration
>>> head = data.load_sample("template_head")
>>> small = registration.downsample(np.asarray(head.dataobj), head.affine, 8.0)
>>> found = registration.register(small, small, stages=("rigid",), levels_mm=(8.0,))
>>> bool(np.allclose(found.matrix, np.eye(4), atol=0.1))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrishare.deface.images import head_mask
from mrishare.errors import DefaceError

__all__ = [
    "HISTOGRAM_BINS",
    "ITERATIONS",
    "LEVELS_MM",
    "SAMPLING",
    "Grid",
    "Registration",
    "downsample",
    "head_centre",
    "match",
    "register",
    "resample",
]

Grid = tuple[NDArray, NDArray[np.float64]]
"""Voxel values in (i, j, k) order with their RAS voxel-to-world affine."""

# Registration schedule: voxel size (mm) of each level, coarse to fine, and the share of
# voxels sampled for the metric. Measured (see benchmarks/bench_deface.py): 8 and 4 mm
# with 10% sampling removed the whole face region of every simulated participant; a single
# coarse level or an optimizer stopped early left 20-44% of the face.
LEVELS_MM = (8.0, 4.0)
SAMPLING = 0.1
ITERATIONS = 200
HISTOGRAM_BINS = 32  # of the Mattes mutual information

_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass
class Registration:
    """A transform found by :func:`register`.

    Parameters
    ----------
    matrix : numpy.ndarray
        4x4, RAS millimetres: a point of the fixed image's world goes to this point of the
        moving image's world (the direction resampling needs).
    metric : float
        Final metric value (more negative is a better match).
    fit : float
        Overlap (Dice) of the two heads after registration, when measured.
    """

    matrix: NDArray[np.float64]
    metric: float
    fit: float = float("nan")

    def upright(self) -> NDArray[np.float64]:
        """Return the nearest rotation to the linear part: shows a registered head upright.

        Examples
        --------
        >>> frame = Registration(np.diag([2.0, 1.0, 1.0, 1.0]), 0.0).upright()
        >>> bool(np.allclose(frame, np.eye(4)))
        True
        """
        u, _, vt = np.linalg.svd(self.matrix[:3, :3])
        frame = np.eye(4)
        frame[:3, :3] = u @ vt
        return frame


def downsample(data: NDArray, affine: NDArray[np.float64], target_mm: float, *,
               factors: list[int] | None = None) -> Grid:
    """Return ``data`` block-averaged to voxels of about ``target_mm``, NaN as 0.

    Parameters
    ----------
    data : numpy.ndarray
        3D voxel values.
    affine : numpy.ndarray
        Their RAS voxel-to-world affine.
    target_mm : float
        The voxel size wanted; each axis is averaged over a whole number of voxels.
    factors : list of 3 int, optional
        The number of voxels averaged along each axis, instead of ``target_mm``'s.

    Returns
    -------
    data, affine : numpy.ndarray
        The averaged values (float32) and their affine.

    Examples
    --------
    >>> small, affine = downsample(np.ones((8, 8, 8)), np.eye(4), 2.0)
    >>> small.shape, float(affine[0, 0]), float(affine[0, 3])
    ((4, 4, 4), 2.0, 0.5)
    """
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    if factors is None:
        factors = [max(1, int(round(target_mm / z))) for z in zooms]
    shape = [n // f for n, f in zip(data.shape, factors, strict=True)]
    if min(shape) < 1:
        factors = [1, 1, 1]
        shape = list(data.shape)
    # A sum of strided views, one per voxel of a block: no copy of the whole image.
    small = np.zeros(shape, np.float32)
    for a in range(factors[0]):
        for b in range(factors[1]):
            for c in range(factors[2]):
                small += data[a: shape[0] * factors[0]: factors[0],
                              b: shape[1] * factors[1]: factors[1],
                              c: shape[2] * factors[2]: factors[2]]
    small *= np.float32(1.0 / (factors[0] * factors[1] * factors[2]))
    small = np.nan_to_num(small, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    step = np.diag([*factors, 1]).astype(float)
    step[:3, 3] = (np.asarray(factors) - 1) / 2.0
    return small.astype(np.float32, copy=False), affine @ step


def _to_sitk(data: NDArray, affine: NDArray[np.float64]) -> Any:
    """Return a SimpleITK image of ``data`` (i, j, k order) placed by a RAS ``affine``.

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


def _sitk_affine(image: Any) -> NDArray[np.float64]:
    """Return the RAS voxel-to-world affine SimpleITK actually uses for ``image``."""
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    matrix = np.eye(4)
    matrix[:3, :3] = direction * np.asarray(image.GetSpacing())
    matrix[:3, 3] = image.GetOrigin()
    return _LPS @ matrix


def _matrix_of(transform: Any) -> NDArray[np.float64]:
    """Return the 4x4 LPS matrix of a SimpleITK transform (fixed point -> moving point)."""
    a = np.asarray(transform.GetMatrix()).reshape(3, 3)
    c = np.asarray(transform.GetCenter())
    t = np.asarray(transform.GetTranslation())
    matrix = np.eye(4)
    matrix[:3, :3] = a
    matrix[:3, 3] = t + c - a @ c
    return matrix


def head_centre(data: NDArray, affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the world point (RAS mm) at the centre of the head's signal.

    Parameters
    ----------
    data : numpy.ndarray
        Voxel values, NaN already replaced.
    affine : numpy.ndarray
        Their RAS voxel-to-world affine.

    Returns
    -------
    numpy.ndarray
        Three coordinates.

    Examples
    --------
    >>> values = np.zeros((5, 5, 5))
    >>> values[1:4, 1:4, 1:4] = 1.0
    >>> head_centre(values, np.eye(4)).tolist()
    [2.0, 2.0, 2.0]
    """
    ijk = np.argwhere(head_mask(data)).mean(axis=0)  # the centre of the head's voxels
    return (affine @ np.r_[ijk, 1.0])[:3]


def _sitk_seed(seed: int) -> int:
    """Return SimpleITK's sampling seed for ours.

    SimpleITK's seed 0 means "from the clock" (a different sample, and a slightly different
    result, on every run), so 0 becomes 1 and so on.
    """
    return int(seed) + 1


def match(fixed: Grid, moving: Grid, matrix: NDArray[np.float64], seed: int = 0) -> float:
    """Return the Mattes metric of two images under a transform, at the coarsest level.

    No search: the transform is taken as it is (more negative is a better match).

    Parameters
    ----------
    fixed, moving : tuple (data, affine)
        As for :func:`register`.
    matrix : numpy.ndarray
        4x4 RAS transform, fixed world -> moving world.
    seed : int
        Seeds the metric's sampling.

    Returns
    -------
    float

    Examples
    --------
    >>> from mrishare import data
    >>> head = data.load_sample("template_head")
    >>> small = downsample(np.asarray(head.dataobj), head.affine, 4.0)
    >>> turned = np.diag([1.0, -1.0, -1.0, 1.0])
    >>> bool(match(small, small, np.eye(4)) < match(small, small, turned))
    True
    """
    import SimpleITK as sitk

    fixed_image = _to_sitk(*fixed)
    moving_image = _to_sitk(*moving)
    finest = np.linalg.norm(fixed[1][:3, :3], axis=0).max()
    shrink = max(1, int(round(LEVELS_MM[0] / finest)))
    fixed_image = sitk.Shrink(fixed_image, [shrink] * 3)
    moving_image = sitk.Shrink(moving_image, [shrink] * 3)
    lps = _LPS @ matrix @ _LPS
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(lps[:3, :3].ravel().tolist())
    transform.SetTranslation(lps[:3, 3].tolist())
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=HISTOGRAM_BINS)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.5, _sitk_seed(seed))
    method.SetInterpolator(sitk.sitkLinear)
    method.SetInitialTransform(transform)
    return float(method.MetricEvaluate(fixed_image, moving_image))


def register(
    fixed: Grid,
    moving: Grid,
    *,
    fixed_mask: NDArray | None = None,
    stages: tuple[str, ...] = ("rigid", "affine"),
    levels_mm: tuple[float, ...] = LEVELS_MM,
    sampling: float = SAMPLING,
    iterations: int = ITERATIONS,
    initial: NDArray[np.float64] | None = None,
    metric: str = "mattes",
    seed: int = 0,
) -> Registration:
    """Return the transform that registers ``moving`` to ``fixed`` (multi-resolution).

    Parameters
    ----------
    fixed, moving : tuple (data, affine)
        Arrays in voxel order (i, j, k) with their RAS affines, already reduced to about
        the finest level's voxel size (see :func:`downsample`); NaN must be gone.
    fixed_mask : numpy.ndarray, optional
        Only voxels of the fixed image inside this mask (same grid) drive the metric.
    stages : tuple of {"rigid", "similarity", "affine"}
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
    metric : {"mattes", "correlation"}
        Mattes mutual information (any two contrasts), or normalised correlation (the
        same contrast, where it is better posed: dark must meet dark).
    seed : int
        Seeds the metric's sampling (the same inputs give the same result).

    Returns
    -------
    Registration

    Examples
    --------
    >>> from mrishare import data
    >>> head = data.load_sample("template_head")
    >>> small = downsample(np.asarray(head.dataobj), head.affine, 4.0)
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
        initial[:3, 3] = head_centre(*moving) - head_centre(*fixed)
    initial_lps = _LPS @ initial @ _LPS

    matrix_lps = initial_lps
    value = np.nan
    centre = (_LPS @ np.r_[head_centre(*fixed), 1.0])[:3]
    for stage in stages:
        if stage == "rigid":
            transform = sitk.Euler3DTransform()
            transform.SetCenter(centre.tolist())
            rot = matrix_lps[:3, :3]
            u, _, vt = np.linalg.svd(rot)
            transform.SetMatrix((u @ vt).ravel().tolist())
        elif stage == "similarity":
            transform = sitk.Similarity3DTransform()
            transform.SetCenter(centre.tolist())
            rot = matrix_lps[:3, :3]
            u, singular, vt = np.linalg.svd(rot)
            transform.SetMatrix((u @ vt).ravel().tolist())
            transform.SetScale(float(np.cbrt(np.prod(singular))))
        elif stage == "affine":
            transform = sitk.AffineTransform(3)
            transform.SetCenter(centre.tolist())
            transform.SetMatrix(matrix_lps[:3, :3].ravel().tolist())
        else:
            raise ValueError(f"Unknown registration stage {stage!r}: use 'rigid', "
                             "'similarity' or 'affine'.")
        a = np.asarray(transform.GetMatrix()).reshape(3, 3)
        # translation t so that a (x - c) + c + t equals the current matrix at every x
        transform.SetTranslation((matrix_lps[:3, 3] - centre + a @ centre).tolist())

        method = sitk.ImageRegistrationMethod()
        if metric == "mattes":
            method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=HISTOGRAM_BINS)
        elif metric == "correlation":
            method.SetMetricAsCorrelation()
        else:
            raise ValueError(f"Unknown metric {metric!r}: use 'mattes' or 'correlation'.")
        method.SetMetricSamplingStrategy(method.RANDOM)
        method.SetMetricSamplingPercentage(sampling, _sitk_seed(seed))
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
            reason = str(error).strip().splitlines()[-1]
            raise DefaceError(f"registration failed ({reason})") from None
        value = method.GetMetricValue()
        matrix_lps = _matrix_of(transform)

    # The registration ran between SimpleITK's own (orthonormalised) grids; express the
    # result between the true nibabel grids, voxel for voxel.
    fixed_fix = _sitk_affine(fixed_image) @ np.linalg.inv(fixed[1])
    moving_fix = _sitk_affine(moving_image) @ np.linalg.inv(moving[1])
    matrix = np.linalg.inv(moving_fix) @ (_LPS @ matrix_lps @ _LPS) @ fixed_fix
    return Registration(matrix=matrix, metric=float(value))


# --------------------------------------------------------------------- the template



def resample(
    values: NDArray, voxels: NDArray[np.float64], shape: tuple[int, ...], extend: bool = False
) -> NDArray:
    """Return ``values`` resampled (nearest neighbour) onto a grid of ``shape``.

    Parameters
    ----------
    values : numpy.ndarray
        3D values (labels, masks as uint8).
    voxels : numpy.ndarray
        4x4 from an output voxel index to an input voxel index.
    shape : tuple of int
        The output grid's shape.
    extend : bool, default False
        Carry the input's edge values on beyond its box (else 0 outside).

    Returns
    -------
    numpy.ndarray
        Of ``shape``, in the data type of ``values``.

    Examples
    --------
    >>> labels = np.zeros((4, 4, 4), np.uint8)
    >>> labels[0] = 1
    >>> shift = np.eye(4)
    >>> shift[0, 3] = -2.0  # output voxel i shows input voxel i - 2
    >>> resample(labels, shift, (4, 4, 4))[:, 0, 0].tolist()
    [0, 0, 1, 0]
    >>> resample(labels, shift, (4, 4, 4), extend=True)[:, 0, 0].tolist()
    [1, 1, 1, 0]
    """
    import SimpleITK as sitk

    source = sitk.GetImageFromArray(np.ascontiguousarray(values.T))
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(voxels[:3, :3].ravel().tolist())
    transform.SetTranslation(voxels[:3, 3].tolist())
    out = sitk.Resample(
        source,
        [int(n) for n in shape],
        transform,
        sitk.sitkNearestNeighbor,
        (0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0),
        (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
        0,
        source.GetPixelID(),
        extend,
    )
    return sitk.GetArrayFromImage(out).T

