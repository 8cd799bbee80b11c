"""Face renders: a head's skin surface seen from any side, and before/after figures.

A head scan holds the skin surface of the whole head, face included. :func:`face_render`
turns it into a shaded picture of that surface, seen from any side, with nothing but
numpy and SimpleITK: the volume is resampled onto a grid turned to face the
viewer, the skin is found by a threshold, and for each line of sight the first voxel of
skin gives a depth; the depth's slope gives the light. The picture is a plain array, so
it shows in a static book as well as in a live notebook.

:func:`show_face` and :func:`before_after` put renders in matplotlib figures: the book's
chapters and the report of ``prepare`` use them. The QC picture
(:func:`mrishare.qc.picture`) shows the face detector's own renders instead; the book's
slider to turn a head is in :mod:`mrishare.lessons.render`.

Examples
--------
>>> from mrishare import data, render
>>> picture = render.face_render(data.load_sample("participant_T1w"), step_mm=3.0)
>>> picture.ndim
2
"""

from __future__ import annotations

import os
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.spatialimages import SpatialImage
from numpy.typing import NDArray

from mrishare import readers

__all__ = [
    "VIEWS",
    "Head",
    "before_after",
    "face_render",
    "reduce_for_render",
    "render_factors",
    "show_face",
    "surface_threshold",
]

# Viewing angles (degrees about the head's up axis): 0 = from the front, 90 = from the
# subject's right, -90 = from the subject's left, 180 = from behind.
VIEWS = {"front": 0.0, "right": 90.0, "left": -90.0, "back": 180.0, "side": 90.0}


def _load(image: str | os.PathLike | nib.Nifti1Image) -> Any:
    """Return a loaded image: read a path, or pass an image on."""
    if isinstance(image, SpatialImage):
        return image
    return readers.load_nifti(image)


def _affine(image: Any) -> NDArray[np.float64]:
    """Return the image's voxel-to-world affine as a float array."""
    return np.asarray(image.affine, dtype=np.float64)


def surface_threshold(values: NDArray) -> float:
    """Return the intensity that separates skin from air: half Otsu's threshold.

    Parameters
    ----------
    values : numpy.ndarray
        Voxel values.

    Returns
    -------
    float
        Infinite when the values hold no signal (all equal).

    Examples
    --------
    >>> values = np.r_[np.zeros(100), np.full(100, 500.0)]
    >>> 0 < surface_threshold(values) < 500
    True
    """
    import SimpleITK as sitk

    sample = np.asarray(values, np.float32).ravel()[:: max(1, values.size // 200_000)]
    sample = sample[np.isfinite(sample)]
    if sample.size == 0 or sample.max() <= sample.min():
        return float("inf")
    otsu = sitk.OtsuThresholdImageFilter()
    otsu.SetNumberOfHistogramBins(256)
    otsu.Execute(sitk.GetImageFromArray(sample[None, :]))
    return 0.5 * otsu.GetThreshold()


def _row(axes: Any, count: int, size: tuple[float, float]) -> tuple[Any, Any]:
    """Return a figure and a row of ``count`` axes: those given, or a new figure's."""
    import matplotlib.pyplot as plt

    if axes is not None:
        return np.ravel(axes)[0].figure, axes
    figure, axes = plt.subplots(1, count, figsize=size)
    plt.close(figure)
    return figure, axes


def _view_frame(
    azimuth_deg: float, elevation_deg: float = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return screen right, screen up and the direction towards the viewer (RAS unit vectors)."""
    a, e = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    towards = np.array([np.sin(a) * np.cos(e), np.cos(a) * np.cos(e), np.sin(e)])
    up = np.array([-np.sin(a) * np.sin(e), -np.cos(a) * np.sin(e), np.cos(e)])
    right = np.cross(up, towards)
    return right, up, towards


def face_render(
    image: str | os.PathLike | nib.Nifti1Image,
    view: str | float = "front",
    *,
    step_mm: float = 1.5,
    threshold: float | None = None,
    frame: NDArray[np.float64] | None = None,
    elevation_deg: float = 0.0,
) -> NDArray[np.float64]:
    """Return the skin surface of a head scan rendered as a shaded picture.

    Parameters
    ----------
    image : path or nibabel image
        A head scan (any grid, orientation, data type).
    view : {"front", "right", "left", "back", "side"} or float, default "front"
        Where the viewer stands, or an angle in degrees about the head's up axis.
    step_mm : float, default 1.5
        Size of a picture pixel and of a step along each line of sight.
    threshold : float, optional
        Skin intensity; by default :func:`surface_threshold` of the image.
    frame : numpy.ndarray, optional
        4x4 from the scan's world to a head frame (right, anterior, superior), e.g. a
        registration to the template, so a tilted head is shown upright. Default: the
        scanner's axes.
    elevation_deg : float, default 0
        Look from above (positive) or below.

    Returns
    -------
    numpy.ndarray
        2D picture, values 0 (background) to 1, row 0 at the top.

    Examples
    --------
    >>> from mrishare import data
    >>> head = data.load_sample("template_head")
    >>> front = face_render(head, "front", step_mm=3.0)
    >>> side = face_render(head, "side", step_mm=3.0)
    >>> front.shape == side.shape, bool(front.max() > 0.5)
    (True, True)
    """
    prepared = Head(image, step_mm=step_mm, threshold=threshold)
    return prepared.render(view, frame=frame, elevation_deg=elevation_deg)


_SLAB = 24
"""Depths a render samples at a time."""

_REVERSED = np.eye(4)[[2, 1, 0, 3]]
"""Voxel index (i, j, k) to (k, j, i): SimpleITK's order of a C-ordered numpy array."""


def render_factors(affine: NDArray[np.float64], step_mm: float,
                   shape: tuple[int, ...]) -> list[int]:
    """Return how many voxels along each axis make one voxel of about ``step_mm`` for renders.

    The most voxels whose width together is at most ``step_mm``: 1 mm voxels stay single
    at a 1.5 mm step, 0.8 mm voxels are paired at a 2 mm step. A scan that would keep
    fewer than two voxels along an axis is not reduced.

    Parameters
    ----------
    affine : numpy.ndarray
        The scan's voxel-to-world affine.
    step_mm : float
        Pixel size of the renders.
    shape : tuple of int
        The scan's shape.

    Returns
    -------
    list of int

    Examples
    --------
    >>> render_factors(np.diag([0.8, 1.0, 3.0, 1.0]), 2.0, (100, 100, 40))
    [2, 2, 1]
    """
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    factors = [max(1, int(step_mm / z + 1e-6)) for z in zooms]
    if min(n // f for n, f in zip(shape[:3], factors, strict=True)) < 2:
        return [1, 1, 1]
    return factors


def reduce_for_render(values: NDArray, affine: NDArray[np.float64], step_mm: float
                      ) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """Return a scan's values block-averaged for renders (:func:`render_factors`), NaN as 0.

    Parameters
    ----------
    values : numpy.ndarray
        3D voxel values.
    affine : numpy.ndarray
        Their voxel-to-world affine.
    step_mm : float
        Pixel size of the renders.

    Returns
    -------
    values : numpy.ndarray of float32
    affine : numpy.ndarray

    Examples
    --------
    >>> small, affine = reduce_for_render(np.ones((8, 8, 8)), np.eye(4) * 0.5, 2.0)
    >>> small.shape
    (2, 2, 2)
    """
    from mrishare.deface.registration import downsample

    return downsample(values, affine, 0.0, factors=render_factors(affine, step_mm, values.shape))


class Head:
    """A head scan made ready to render from many sides (read, reduced and thresholded once).

    The scan is block-averaged to voxels of about ``step_mm`` (a render never shows finer
    detail than its pixels), so every view costs a resampling of a small volume.

    Parameters
    ----------
    image : path or nibabel image, or None
        A head scan (None when ``grid`` is given).
    step_mm : float, default 1.5
        Pixel size of the renders.
    threshold : float, optional
        Skin intensity; by default :func:`surface_threshold` of the image.
    values : numpy.ndarray, optional
        The image's voxel values when already read (NaN as 0).
    grid : tuple (values, affine), optional
        The image already reduced (:func:`reduce_for_render`); ``image`` and ``values``
        are then not read.

    Examples
    --------
    >>> from mrishare import data
    >>> head = Head(data.load_sample("template_head"), step_mm=3.0)
    >>> [picture.shape == head.render(0.0).shape for picture in head.renders((30.0, 90.0))]
    [True, True]
    """

    def __init__(self, image: str | os.PathLike | nib.Nifti1Image | None, *,
                 step_mm: float = 1.5,
                 threshold: float | None = None, values: NDArray | None = None,
                 grid: tuple[NDArray, NDArray[np.float64]] | None = None) -> None:
        import SimpleITK as sitk

        if grid is None:
            if image is None:
                raise ValueError("Head needs an image, or a grid already reduced.")
            scan = _load(image)
            raw = np.asarray(scan.dataobj) if values is None else values
            grid = reduce_for_render(raw[..., 0] if raw.ndim == 4 else raw, _affine(scan),
                                     step_mm)
        values, affine = grid
        self.level = surface_threshold(values) if threshold is None else float(threshold)
        self.step_mm = float(step_mm)
        self.affine = affine
        self.shape = values.shape
        # Handed over in numpy's own order (no transposed copy): SimpleITK's x is the
        # last numpy axis, so render() reverses the axes of the index it samples at.
        self.source = sitk.GetImageFromArray(np.ascontiguousarray(values, np.float32))

    def renders(self, views: tuple[str | float, ...], *,
                frame: NDArray[np.float64] | None = None) -> list[NDArray[np.float64]]:
        """Return one picture per view (see :func:`face_render`).

        Parameters
        ----------
        views : tuple of str or float
            Where the viewer stands.
        frame : numpy.ndarray, optional
            4x4 from the scan's world to a head frame.

        Returns
        -------
        list of numpy.ndarray
        """
        return [self.render(view, frame=frame) for view in views]

    def render(self, view: str | float = "front", *, frame: NDArray[np.float64] | None = None,
               elevation_deg: float = 0.0) -> NDArray[np.float64]:
        """Return the skin surface seen from ``view`` (see :func:`face_render`).

        Parameters
        ----------
        view : str or float
            Where the viewer stands.
        frame : numpy.ndarray, optional
            4x4 from the scan's world to a head frame.
        elevation_deg : float, default 0
            Look from above (positive) or below.

        Returns
        -------
        numpy.ndarray
            2D picture, values 0 to 1, row 0 at the top.
        """
        import SimpleITK as sitk

        step_mm = self.step_mm
        to_head = np.eye(4) if frame is None else np.asarray(frame, float)
        from_head = np.linalg.inv(to_head)
        # The head's box in the head frame; the picture covers its largest extent.
        corners = np.array(np.meshgrid(*[[0, n - 1] for n in self.shape], indexing="ij"))
        corners = corners.reshape(3, -1)
        world = (to_head @ self.affine @ np.r_[corners, np.ones((1, corners.shape[1]))])[:3]
        centre = world.mean(axis=1)
        radius = 0.55 * float((world.max(axis=1) - world.min(axis=1)).max())
        angle = VIEWS[view] if isinstance(view, str) else float(view)
        right, up, towards = _view_frame(angle, elevation_deg)
        n = int(np.ceil(2 * radius / step_mm)) + 1
        # Output voxel (a, b, c): a along screen right, b along screen up, c away from viewer.
        grid = np.eye(4)
        grid[:3, :3] = np.c_[right, up, -towards] * step_mm
        grid[:3, 3] = centre - radius * (right + up - towards)
        voxels = _REVERSED @ np.linalg.inv(self.affine) @ from_head @ grid
        transform = sitk.AffineTransform(3)
        transform.SetMatrix(voxels[:3, :3].ravel().tolist())
        # The volume is sampled a slab of depths at a time, nearest first (little memory),
        # until every line of sight has met the skin.
        first = np.full((n, n), n)
        hit = np.zeros((n, n), bool)
        for start in range(0, n - 1, _SLAB):
            depths = min(_SLAB + 1, n - start)  # one more: pairs reach into the next slab
            transform.SetTranslation((voxels[:3, 3] + start * voxels[:3, 2]).tolist())
            sampled = sitk.Resample(
                self.source, [n, n, depths], transform, sitk.sitkLinear, (0.0, 0.0, 0.0),
                (1.0, 1.0, 1.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), 0.0,
                sitk.sitkFloat32,
            )
            skin = sitk.GetArrayViewFromImage(sampled).T > self.level  # (a, b, depth)
            # Skin is two voxels deep along the line of sight: specks of noise are not.
            pairs = skin[:, :, :-1] & skin[:, :, 1:]
            new = pairs.any(axis=2) & ~hit
            first[new] = start + np.argmax(pairs, axis=2)[new]
            hit |= new
            if hit.all():
                break
        depth = first.astype(float) * step_mm
        # Light from the viewer, a little from above and the right: shade by the slope.
        far = depth[hit].max() if hit.any() else 0
        smooth = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(
            sitk.GetImageFromArray(np.where(hit, depth, far)), [1.0, 1.0]))
        gx = np.gradient(smooth, step_mm, axis=0)
        gy = np.gradient(smooth, step_mm, axis=1)
        normal = np.stack([gx, gy, -np.ones_like(gx)])  # surface normal towards the viewer
        normal /= np.linalg.norm(normal, axis=0)
        light = np.array([0.35, 0.45, -1.0])
        light /= np.linalg.norm(light)
        diffuse = np.clip(np.tensordot(light, normal, axes=1), 0, 1)
        near = depth[hit].min() if hit.any() else 0.0
        fog = 1.0 - 0.35 * np.clip((depth - near) / max(radius, 1.0), 0, 1)
        shade = np.where(hit, (0.15 + 0.85 * diffuse) * fog, 0.0)
        return shade[:, ::-1].T  # rows from the top, columns from screen left to right


def show_face(
    image: str | os.PathLike | nib.Nifti1Image,
    views: tuple[str | float, ...] = ("front", "right"),
    *,
    title: str | None = None,
    step_mm: float = 1.5,
    frame: NDArray[np.float64] | None = None,
    axes: Any = None,
) -> Any:
    """Return a figure of face renders side by side.

    Parameters
    ----------
    image : path or nibabel image
        A head scan.
    views : tuple of str or float, default ("front", "right")
        One picture per view (see :func:`face_render`).
    title : str, optional
        The figure's title.
    step_mm : float, default 1.5
        Pixel size.
    frame : numpy.ndarray, optional
        4x4 from the scan's world to a head frame (see :func:`face_render`).
    axes : matplotlib axes, optional
        One per view; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mrishare import data
    >>> figure = show_face(data.load_sample("template_head"), step_mm=3.0)
    >>> len(figure.axes)
    2
    """
    figure, axes = _row(axes, len(views), (3.2 * len(views), 3.4))
    for ax, view in zip(np.ravel(axes), views, strict=True):
        ax.imshow(face_render(image, view, step_mm=step_mm, frame=frame), cmap="gray",
                  vmin=0, vmax=1)
        ax.set_title(f"{view}" if isinstance(view, str) else f"{view:.0f} deg", fontsize=9)
        ax.set_axis_off()
    if title:
        figure.suptitle(title)
    return figure


def before_after(
    before: str | os.PathLike | nib.Nifti1Image,
    after: str | os.PathLike | nib.Nifti1Image,
    *,
    titles: tuple[str, str] = ("before", "after"),
    step_mm: float = 2.0,
    frame: NDArray[np.float64] | None = None,
) -> Any:
    """Return face renders (front and side) of two images in one figure.

    Parameters
    ----------
    before, after : path or nibabel image
        Two head scans, e.g. before and after defacing.
    titles : tuple of two str, default ("before", "after")
        Their titles.
    step_mm : float, default 2
        Pixel size.
    frame : numpy.ndarray, optional
        4x4 from the scans' world to a head frame (see :func:`face_render`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mrishare import data
    >>> head = data.load_sample("template_head")
    >>> len(before_after(head, head, step_mm=3.0).axes)
    4
    """
    figure, axes = _row(None, 4, (12, 3.4))
    for pair, image, title in zip((axes[:2], axes[2:]), (before, after), titles, strict=True):
        show_face(image, ("front", "right"), step_mm=step_mm, frame=frame, axes=pair)
        pair[0].set_title(f"{title}: front", fontsize=9)
        pair[1].set_title(f"{title}: side", fontsize=9)
    figure.tight_layout()
    return figure
