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
>>> from mrishare import deface
>>> from mrishare.lessons import simulate
>>> scan = simulate.simulate_scan(seed=1, zooms=(3.0, 3.0, 3.0), truth=False)
>>> result = deface.deface(scan.image)
>>> result.image.shape == scan.image.shape
True
>>> int(result.removed.sum()) > 0
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from mrishare import nifti
from mrishare.errors import DefaceError

__all__ = [
    "DefaceError",
    "DefaceResult",
    "Registration",
    "apply_mask",
    "carry",
    "deface",
    "DefacedImage",
    "FaceCheck",
    "deface_images",
    "face_present",
    "load_image",
    "quickshear_mask",
    "register",
    "register_template",
    "template_regions",
]

METHODS = ("template", "quickshear")

# Registration schedule: voxel size (mm) of each level, coarse to fine, and the share of
# voxels sampled for the metric. Measured (see benchmarks/bench_deface.py): 8 and 4 mm
# with 10% sampling removed the whole face region of every simulated participant; a single
# coarse level or an optimizer stopped early left 20-44% of the face.
LEVELS_MM = (8.0, 4.0)
SAMPLING = 0.1
ITERATIONS = 200
HISTOGRAM_BINS = 32
MIN_HEAD_SHARE = 0.3  # a scan with less signal than 30% of the template head has no head
MIN_FIT = 0.85  # Dice of the heads after registration; below it the registration failed
# Mutual information (nats, Mattes) of scan and template after registration. Measured:
# 1.1-1.45 on simulated T1w and T2w heads, 0.52 on a head registered upside down, 0.30 on
# a box of the size of a head. Below this, the registration failed.
MIN_MATCH = 0.45
QUICKSHEAR_BUFFER_MM = 10.0  # quickshear's default buffer (10 voxels of 1 mm)
# Share of the template's face region (carried into a scan) that holds tissue, above which
# :func:`face_present` says the face is still there. Measured on the sample T1w and T2w:
# 18-28% before defacing, 0.2-0.4% after (the edge of a registration made without a face).
FACE_PRESENT_SHARE = 0.03

_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
# Starting orientations tried: as the header says, and half a turn about each axis.
_TURNS = (np.eye(3), np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0]),
          np.diag([-1.0, -1.0, 1.0]))



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
        Final metric value (more negative is a better match).
    fit : float
        Overlap (Dice) of the two heads after registration, when measured.
    """

    matrix: NDArray[np.float64]
    metric: float
    fit: float = float("nan")


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


def _sitk_seed(seed: int) -> int:
    """SimpleITK's sampling seed for ours: its seed 0 means "from the clock" (a different
    sample, and a slightly different result, on every run), so 0 becomes 1 and so on.
    """
    return int(seed) + 1


def _evaluate(fixed, moving, matrix: NDArray[np.float64], seed: int = 0) -> float:
    """Mattes mutual information of two images under a transform, at 8 mm (no search)."""
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
    fixed: tuple[NDArray, NDArray[np.float64]],
    moving: tuple[NDArray, NDArray[np.float64]],
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
    value = np.nan
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


@dataclass(frozen=True)
class _Template:
    head: tuple[NDArray[np.float32], NDArray[np.float64]]  # reduced to 4 mm, with affine
    labels: NDArray[np.uint8]  # 1 = face region, 2 = brain, on the full template grid
    affine: NDArray[np.float64]
    head_ml: float


_TEMPLATE: list[_Template] = []


def template_regions() -> tuple[nib.Nifti1Image, NDArray[np.bool_], NDArray[np.bool_]]:
    """The template head, its face region and its brain mask (on the head's grid).

    pydeface's face mask marks its whole outer layer of voxels on three sides of the box
    as face (an edge artefact); here each outer layer takes the values of the layer
    inside it, so that the face region, which carries on beyond the box when a scan shows
    more than the template does, carries on only in front of and below the face.

    Examples
    --------
    >>> head, face, brain = template_regions()
    >>> face.shape == brain.shape == head.shape, bool((face & brain).any())
    (True, False)
    """
    from mrishare import data

    head = data.load_sample("template_head", verify=False)
    face = np.asarray(data.load_sample("template_facemask", verify=False).dataobj) < 0.5
    for axis in range(3):
        first = [slice(None)] * 3
        second = [slice(None)] * 3
        for edge, inner in ((0, 1), (-1, -2)):
            first[axis], second[axis] = edge, inner
            face[tuple(first)] = face[tuple(second)]
    brain = np.asarray(data.load_sample("template_brainmask", verify=False).dataobj) > 0
    return head, face, brain


def _template() -> _Template:
    """The shipped template head (reduced) and its face and brain masks, loaded once."""
    if not _TEMPLATE:
        head, face, brain = template_regions()
        labels = np.zeros(head.shape, np.uint8)
        labels[face] = 1
        labels[brain & ~face] = 2
        reduced = _downsample(np.asarray(head.dataobj), head.affine, LEVELS_MM[-1])
        zooms = np.linalg.norm(reduced[1][:3, :3], axis=0)
        head_ml = float(_head_mask(reduced[0]).sum() * zooms.prod() / 1000.0)
        _TEMPLATE.append(_Template(reduced, labels, head.affine, head_ml))
    return _TEMPLATE[0]


def _reduced(
    image: nib.Nifti1Image, stored: NDArray | None = None
) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """The image block-averaged to about the finest registration level, NaN as 0."""
    stored = _unscaled(image) if stored is None else stored
    return _downsample(stored, image.affine, LEVELS_MM[-1])


def _dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    total = a.sum() + b.sum()
    return float(2.0 * (a & b).sum() / total) if total else 0.0


def register_template(
    image: str | os.PathLike | nib.Nifti1Image, *, seed: int = 0, stored: NDArray | None = None
) -> Registration:
    """Register the shipped template head to a head scan (rigid, then affine).

    Parameters
    ----------
    image : path or nibabel image
        A 3D head scan, any grid, orientation, voxel size, data type.
    seed : int
        Seeds the metric's sampling.
    stored : numpy.ndarray, optional
        The image's stored values, when already read (saves reading them again).

    Returns
    -------
    Registration
        ``matrix`` maps the scan's world (RAS mm) into the template's world; ``fit`` is the
        overlap (Dice) of the two heads after registration, on 4 mm voxels.

    Raises
    ------
    DefaceError
        When no head is in the field of view, or the heads do not overlap after
        registration (a wrong orientation in the header, a cut scan, another body part).

    Examples
    --------
    >>> from mrishare import data
    >>> result = register_template(data.sample_path("participant_T1w"))
    >>> result.fit > 0.85
    True
    """
    name = _name(image)
    image = load_image(image)
    fixed = _reduced(image, stored)
    template = _template()
    head = _head_mask(fixed[0])
    zooms = np.linalg.norm(fixed[1][:3, :3], axis=0)
    head_ml = head.sum() * zooms.prod() / 1000.0
    if head_ml < MIN_HEAD_SHARE * template.head_ml:
        raise DefaceError(
            f"{name}: no head in the field of view (about {head_ml:.0f} ml of signal, a head "
            f"has about {template.head_ml:.0f} ml). Deface whole-head scans (e.g. a T1w) "
            "and carry their mask to other scans with --apply-to."
        )
    try:
        # A header may put the head upside down or back to front: try the head turned
        # half a turn about each axis too, at the coarsest level, and go on from the best.
        centre_fixed, centre_moving = _centre(*fixed), _centre(*template.head)
        starts = []
        for turn in _TURNS:
            initial = np.eye(4)
            initial[:3, :3] = turn
            initial[:3, 3] = centre_moving - turn @ centre_fixed
            starts.append(initial)
        best = min(starts, key=lambda start: _evaluate(fixed, template.head, start, seed))
        result = register(fixed, template.head, initial=best, seed=seed)
    except DefaceError as error:
        raise DefaceError(f"{name}: {error}") from None
    # How well do the heads overlap now? The template head carried into the scan's grid.
    voxels = np.linalg.inv(template.head[1]) @ result.matrix @ fixed[1]
    moved = _resample(_head_mask(template.head[0]).astype(np.uint8), voxels, head.shape)
    result.fit = _dice(moved > 0, head)
    if result.fit < MIN_FIT or -result.metric < MIN_MATCH:
        raise DefaceError(
            f"{name}: registration failed: the template head overlaps the scan's head by "
            f"{result.fit:.0%} (at least {MIN_FIT:.0%} expected) and their mutual "
            f"information is {-result.metric:.2f} (at least {MIN_MATCH} expected). Check the "
            "image's "
            "orientation in its header (e.g. with a viewer), that it shows a whole head, "
            "and that it is not a 4D series."
        )
    return result


def _resample(
    values: NDArray, voxels: NDArray[np.float64], shape: tuple[int, ...], extend: bool = False
) -> NDArray:
    """Nearest-neighbour resampling of ``values`` onto a grid of ``shape``.

    ``voxels`` maps an output voxel index to an input voxel index (4x4). With ``extend``
    the input's edge values carry on beyond its box.
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


def carry(
    registration: Registration, image: nib.Nifti1Image
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Carry the template's face region and brain mask into ``image``'s grid.

    Parameters
    ----------
    registration : Registration
        From :func:`register_template` (scan world -> template world).
    image : nibabel image
        The scan that gives the grid.

    Returns
    -------
    face, brain : numpy.ndarray of bool
        In the scan's voxel order. The face region continues beyond the template's box
        (a longer neck or a bigger head than the template's keeps its face covered).

    Examples
    --------
    >>> from mrishare import data
    >>> img = data.load_sample("participant_T1w")
    >>> face, brain = carry(register_template(img), img)
    >>> bool((face & brain).any())
    False
    """
    template = _template()
    voxels = np.linalg.inv(template.affine) @ registration.matrix @ image.affine
    labels = _resample(template.labels, voxels, image.shape[:3], extend=True)
    # The brain mask stays well inside the template's box, so extending its edges adds none.
    return labels == 1, labels == 2


# ------------------------------------------------------------------------- quickshear


def quickshear_mask(
    brain: NDArray[np.bool_],
    affine: NDArray[np.float64],
    to_head: NDArray[np.float64],
    buffer_mm: float = QUICKSHEAR_BUFFER_MM,
) -> NDArray[np.bool_]:
    """Quickshear's cut, done in millimetres in the head's own frame.

    The brain is seen from the side (front-back and up-down coordinates of the head, so
    the grid's slice direction and voxel size do not matter); the edge of its convex hull
    that faces forward and down is moved ``buffer_mm`` away from the brain, and every voxel
    in front of and below that line, across the whole width of the head, is removed.

    Parameters
    ----------
    brain : numpy.ndarray of bool
        Brain mask on the scan's grid.
    affine : numpy.ndarray
        The scan's voxel-to-world affine (RAS mm).
    to_head : numpy.ndarray
        4x4 from the scan's world to a head frame whose axes are right, anterior and
        superior (the template's world: ``register_template(...).matrix``).
    buffer_mm : float, default 10
        Distance kept between the brain and the cut.

    Returns
    -------
    numpy.ndarray of bool
        True where quickshear removes.

    Examples
    --------
    >>> brain = np.zeros((20, 20, 20), bool)
    >>> brain[5:15, 8:16, 8:16] = True
    >>> cut = quickshear_mask(brain, np.eye(4), np.eye(4), buffer_mm=2)
    >>> bool(cut[10, 19, 0]), bool(cut[10, 10, 10]), bool((cut & brain).any())
    (True, False, False)
    """
    from scipy.spatial import ConvexHull

    if not brain.any():
        raise DefaceError("quickshear needs a brain mask, and the one given is empty.")
    # The hull of the brain sampled every ~2 mm lies within 2 mm of the true hull; the
    # buffer (10 mm by default) covers that, and it saves seconds on 1 mm scans.
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    stride = [max(1, int(min(2.0, buffer_mm / 2) // z)) for z in zooms]
    ijk = np.argwhere(brain[:: stride[0], :: stride[1], :: stride[2]]) * stride
    world = to_head @ affine
    side = (world[1:3, :3] @ ijk.T + world[1:3, 3:4]).T  # (anterior, superior) in mm
    hull = ConvexHull(side)
    points = side[hull.vertices]  # counter-clockwise
    edges = np.roll(points, -1, axis=0) - points
    normals = np.c_[edges[:, 1], -edges[:, 0]]  # outward for counter-clockwise order
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    # The edge that faces forward and down, like quickshear's first lower-hull edge.
    best = int(np.argmax(normals @ np.array([1.0, -1.0]) / np.sqrt(2.0)))
    normal = normals[best]
    limit = float(normal @ points[best]) + buffer_mm
    # Signed distance of each voxel from the line: linear in the voxel indices.
    coeffs = normal @ world[1:3, :3]
    offset = float(normal @ world[1:3, 3]) - limit
    i = np.arange(brain.shape[0], dtype=np.float32)[:, None] * np.float32(coeffs[0])
    j = np.arange(brain.shape[1], dtype=np.float32)[None, :] * np.float32(coeffs[1])
    cut = np.empty(brain.shape, bool)
    base = i + j + np.float32(offset)
    for k in range(brain.shape[2]):
        np.greater(base, -np.float32(coeffs[2] * k), out=cut[:, :, k])
    return cut


# ---------------------------------------------------------------------------- applying


class _Stored:
    """Stored voxel values with their scaling: looks like nibabel's array proxy, so the
    image is saved from the stored values and its slope and intercept, unchanged.
    """

    is_proxy = True

    def __init__(self, stored: NDArray, slope: float, inter: float) -> None:
        self._stored = stored
        self.slope = slope
        self.inter = inter

    @property
    def shape(self) -> tuple[int, ...]:
        return self._stored.shape

    @property
    def ndim(self) -> int:
        return self._stored.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._stored.dtype

    def get_unscaled(self) -> NDArray:
        return self._stored

    def __array__(self, dtype=None, copy=None) -> NDArray:
        if self.slope == 1.0 and self.inter == 0.0:
            out = self._stored
        else:
            out = self._stored * np.float64(self.slope) + np.float64(self.inter)
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, index):
        return np.asarray(self)[index]


def _zero_value(dtype: np.dtype, slope: float, inter: float) -> float | int:
    """The stored value that reads as 0 (or as near 0 as the data type allows)."""
    value = -inter / slope if slope else 0.0
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return int(np.clip(np.rint(value), info.min, info.max))
    return value


def apply_mask(
    image: nib.Nifti1Image, removed: NDArray[np.bool_], stored: NDArray | None = None
) -> nib.Nifti1Image:
    """Zero the voxels under ``removed``; keep everything else as stored, bit for bit.

    The grid, affine (qform and sform), data type and scaling are those of ``image``; the
    header's free-text fields are cleared and its extensions dropped
    (:func:`mrishare.nifti.scrub_header`). NaN under the mask become 0 too.
    ``stored``, the image's stored values when already read, is changed in place.

    Examples
    --------
    >>> img = nib.Nifti1Image(np.full((4, 4, 4), 7, np.int16), np.eye(4))
    >>> removed = np.zeros((4, 4, 4), bool)
    >>> removed[0] = True
    >>> out = apply_mask(img, removed)
    >>> int(out.get_fdata()[0].sum()), int(out.get_fdata()[1:].min())
    (0, 7)
    """
    if removed.shape != image.shape[:3]:
        raise ValueError(f"mask shape {removed.shape} differs from image shape {image.shape}")
    if stored is None:
        stored = _unscaled(image)
        if not nib.is_proxy(image.dataobj):
            stored = stored.copy()  # never change the caller's array
    slope, inter = _scaling(image)
    stored[removed] = _zero_value(stored.dtype, slope, inter)
    keep_scaling = nib.is_proxy(image.dataobj) and not (slope == 1.0 and inter == 0.0)
    dataobj = _Stored(stored, slope, inter) if keep_scaling else _Stored(stored, 1.0, 0.0)
    header = image.header.copy()
    out = image.__class__(dataobj, image.affine, header)
    return nifti.scrub_header(out)


# ----------------------------------------------------------------------------- deface


@dataclass
class DefaceResult:
    """A defaced image with what QC needs.

    Attributes
    ----------
    image : nibabel.Nifti1Image
        The defaced image (same grid, data type and scaling as the input).
    removed : numpy.ndarray of bool
        Voxels set to zero.
    face : numpy.ndarray of bool
        The template's face region in this grid (what should be removed).
    brain : numpy.ndarray of bool
        The template's brain mask in this grid (what must stay).
    method : str
        ``"template"`` or ``"quickshear"``.
    registration : Registration
        Scan world -> template world.
    original : nibabel.Nifti1Image
        The input, untouched.
    name : str
        A label for messages (never written into outputs).
    """

    image: nib.Nifti1Image
    removed: NDArray[np.bool_]
    face: NDArray[np.bool_]
    brain: NDArray[np.bool_]
    method: str
    registration: Registration
    original: nib.Nifti1Image
    name: str = "the image"
    extra: dict = field(default_factory=dict)

    def mask_image(self) -> nib.Nifti1Image:
        """The removed voxels as a BIDS ``*_defacemask`` image (1 = removed, uint8)."""
        mask = nib.Nifti1Image(self.removed.astype(np.uint8), self.original.affine)
        mask.header.set_qform(*self.original.header.get_qform(coded=True))
        mask.header.set_sform(*self.original.header.get_sform(coded=True))
        mask.header.set_xyzt_units(*self.original.header.get_xyzt_units())
        return mask


def _removed(method: str, face, brain, image, registration) -> NDArray[np.bool_]:
    if method == "template":
        return face
    return quickshear_mask(brain, image.affine, registration.matrix)


def deface(
    image: str | os.PathLike | nib.Nifti1Image,
    method: str = "template",
    *,
    registration: Registration | None = None,
    seed: int = 0,
) -> DefaceResult:
    """Deface a head scan.

    Parameters
    ----------
    image : path or nibabel image
        A 3D head scan (T1w works best; other contrasts register by mutual information
        too, but carrying a T1w's result with :func:`deface_other` is safer).
    method : {"template", "quickshear"}, default "template"
        See the module's description.
    registration : Registration, optional
        Scan world -> template world; found with :func:`register_template` when not given.
    seed : int
        Seeds the registration's sampling.

    Returns
    -------
    DefaceResult

    Raises
    ------
    DefaceError
        Not a 3D image, no head in the field of view, or the registration failed; the
        message names the file.

    Examples
    --------
    >>> from mrishare import data
    >>> result = deface(data.sample_path("participant_T1w"), method="quickshear")
    >>> bool((result.removed & result.brain).any())
    False
    """
    if method not in METHODS:
        raise ValueError(f"Unknown defacing method {method!r}: use one of {METHODS}.")
    name = _name(image)
    image = load_image(image)
    stored = _unscaled(image)
    if not nib.is_proxy(image.dataobj):
        stored = stored.copy()
    registration = registration or register_template(image, seed=seed, stored=stored)
    face, brain = carry(registration, image)
    removed = _removed(method, face, brain, image, registration)
    return DefaceResult(
        image=apply_mask(image, removed, stored), removed=removed, face=face, brain=brain,
        method=method, registration=registration, original=image, name=name,
    )


def deface_other(
    other: str | os.PathLike | nib.Nifti1Image,
    reference: DefaceResult,
    *,
    seed: int = 0,
) -> DefaceResult:
    """Deface another scan of the same session by registering it to the defaced T1w.

    The other scan (a T2w, FLAIR, ...) is registered rigidly to ``reference``'s original
    by mutual information, and the T1w's registration to the template is carried along,
    so the same face region (or quickshear plane) is removed, as pydeface's ``--applyto``.

    Examples
    --------
    >>> from mrishare import data
    >>> t1 = deface(data.sample_path("participant_T1w"))
    >>> t2 = deface_other(data.sample_path("participant_T2w"), t1)
    >>> t2.image.shape == data.load_sample("participant_T2w").shape
    True
    """
    name = _name(other)
    other = load_image(other)
    try:
        to_t1 = register(_reduced(other), _reduced(reference.original), stages=("rigid",),
                         seed=seed)
    except DefaceError as error:
        raise DefaceError(f"{name}: {error}") from None
    registration = Registration(
        matrix=reference.registration.matrix @ to_t1.matrix,
        metric=to_t1.metric,
        fit=reference.registration.fit,
    )
    face, brain = carry(registration, other)
    removed = _removed(reference.method, face, brain, other, registration)
    return DefaceResult(
        image=apply_mask(other, removed), removed=removed, face=face, brain=brain,
        method=reference.method, registration=registration, original=other, name=name,
    )


@dataclass
class DefacedImage:
    """One defaced image of a session with its quality check.

    Parameters
    ----------
    result : DefaceResult
        What :func:`deface` or :func:`deface_other` returned.
    qc : mrishare.qc.QCReport
        Its measures and verdict (:func:`mrishare.qc.check`).
    """

    result: DefaceResult
    qc: Any


def deface_images(
    reference: str | os.PathLike | nib.Nifti1Image,
    others: list[str | os.PathLike | nib.Nifti1Image] | None = None,
    method: str = "template",
) -> list[DefacedImage]:
    """Deface a session: the reference scan (the T1w) by ``method``, the others through it.

    The one place where "deface the T1w, carry its face region to the session's other
    contrasts, check each" happens: ``mrishare deface`` and ``mrishare prepare`` both call
    it. Nothing is written; save each ``result.image`` with
    :func:`mrishare.nifti.save_nifti` once every image worked.

    Parameters
    ----------
    reference : path or nibabel image
        The scan the template is registered to (a T1w where the session has one).
    others : list of path or nibabel image, optional
        Other contrasts of the same session (T2w, FLAIR...), defaced by registering each
        to the reference.
    method : {"template", "quickshear"}, default "template"
        How the reference's face is found.

    Returns
    -------
    list of DefacedImage
        The reference first, then each of ``others`` in order.

    Raises
    ------
    DefaceError
        When any image cannot be defaced (nothing is returned then).

    Examples
    --------
    >>> from mrishare import data
    >>> done = deface_images(data.sample_path("participant_T1w"),
    ...                      [data.sample_path("participant_T2w")])
    >>> [d.qc.passed for d in done]
    [True, True]
    """
    from mrishare import qc

    results = [deface(reference, method)]
    results += [deface_other(other, results[0]) for other in others or []]
    return [DefacedImage(result, qc.check(result)) for result in results]


@dataclass(frozen=True)
class FaceCheck:
    """Whether a face is still there, as :func:`face_present` measured it.

    Parameters
    ----------
    present : bool
        More than :data:`FACE_PRESENT_SHARE` of the face region holds tissue.
    share : float
        The share of the template's face region, carried into the scan, that holds tissue.
    tissue_ml : float
        That tissue's volume in millilitres.
    fit : float
        How well the registered template head overlaps the scan's head (Dice).
    detail : str
        A sentence for people.
    """

    present: bool
    share: float
    tissue_ml: float
    fit: float
    detail: str


def face_present(
    image: str | os.PathLike | nib.Nifti1Image, *, seed: int = 0
) -> FaceCheck:
    """Look for a face: is the template's face region, carried into the scan, empty?

    The template head is registered to the scan as for defacing
    (:func:`register_template`), its face region carried into the scan's grid
    (:func:`carry`), and the share of that region where the scan shows tissue measured.
    After defacing it is (nearly) empty; a head with its face fills a fifth or more of it.
    Used by :func:`mrishare.audit.audit` to flag images whose face is still there.

    Parameters
    ----------
    image : path or nibabel image
        A 3D head scan.
    seed : int
        Seeds the registration's sampling.

    Returns
    -------
    FaceCheck

    Raises
    ------
    DefaceError
        When the template cannot be registered to the image (see :func:`register_template`).

    Examples
    --------
    >>> from mrishare import data
    >>> face_present(data.sample_path("participant_T1w")).present
    True
    >>> face_present(deface(data.sample_path("participant_T1w")).image).present
    False
    """
    image = load_image(image)
    stored = _unscaled(image)
    registration = register_template(image, seed=seed, stored=stored)
    face, _ = carry(registration, image)
    slope, inter = _scaling(image)
    values = np.nan_to_num(stored.astype(np.float32) * np.float32(slope) + np.float32(inter))
    tissue = face & _head_mask(values)
    share = float(tissue.sum() / face.sum()) if face.any() else 0.0
    voxel_ml = float(np.prod(np.linalg.norm(image.affine[:3, :3], axis=0))) / 1000.0
    tissue_ml = float(tissue.sum()) * voxel_ml
    present = share > FACE_PRESENT_SHARE
    detail = (
        f"{share:.0%} of the template's face region holds tissue ({tissue_ml:.0f} ml; at "
        f"most {FACE_PRESENT_SHARE:.0%} after defacing): the face is still there. Deface "
        "the image (mrishare deface) before sharing."
        if present else
        f"the template's face region is empty ({share:.1%} holds tissue): no face found"
    )
    return FaceCheck(present, share, tissue_ml, float(registration.fit), detail)
