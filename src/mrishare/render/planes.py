"""Slice views: three planes through a scan, with masks outlined.

:func:`orthogonal_planes` resamples a scan onto a 1.5 mm grid in world axes, one plane at a time
(only the block of voxels each plane crosses), so every scan is shown the same way up;
:func:`slices` draws them with matplotlib, and the QC picture of ``mrishare deface``
composes them without it (:mod:`mrishare.render.sheet`).

Examples
--------
>>> from mrishare import data, render
>>> len(render.slices(data.load_sample("participant_T1w")).axes)
3
"""

from __future__ import annotations

import os
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from mrishare.deface.masks import PackedMask
from mrishare.render.surface import _affine, _load, _row

__all__ = ["PLANES", "STEP_MM", "orthogonal_planes", "slices"]

PLANES = ("sagittal", "coronal", "axial")
STEP_MM = 1.5
"""The planes' grid: one sample every 1.5 mm."""


def _plane(values: NDArray | PackedMask, voxels: NDArray, shape: NDArray, nearest: bool
           ) -> NDArray:
    """Return ``values`` sampled on one plane (``voxels``: output index -> input index).

    Only the block of the volume the plane passes through is handed to SimpleITK, so a
    plane of a large scan costs little memory.
    """
    import SimpleITK as sitk

    corners = np.array(np.meshgrid(*[[0, max(int(n) - 1, 0)] for n in shape], indexing="ij"))
    inside = voxels[:3, :3] @ corners.reshape(3, -1) + voxels[:3, 3:4]
    size = np.array(values.shape[:3])
    low = np.clip(np.floor(inside.min(axis=1)).astype(int) - 1, 0, size - 1)
    high = np.clip(np.ceil(inside.max(axis=1)).astype(int) + 2, low + 1, size)
    box = (slice(low[0], high[0]), slice(low[1], high[1]), slice(low[2], high[2]))
    block = values.unpack(box) if isinstance(values, PackedMask) else values[box]
    if block.dtype == np.bool_:
        block = block.view(np.uint8)
    elif block.dtype.kind == "f":
        block = np.nan_to_num(block)
    source = sitk.GetImageFromArray(np.ascontiguousarray(block.T))
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(voxels[:3, :3].ravel().tolist())
    transform.SetTranslation((voxels[:3, 3] - low).tolist())
    out = sitk.Resample(
        source, [int(n) for n in shape], transform,
        sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear, (0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), 0.0,
        sitk.sitkUInt8 if nearest else sitk.sitkFloat32,
    )
    return sitk.GetArrayFromImage(out).T


def orthogonal_planes(
    image: str | os.PathLike | nib.Nifti1Image,
    *masks: NDArray[np.bool_] | PackedMask | None,
    position: tuple[float, float, float] | None = None,
) -> tuple[list[tuple[NDArray, list[NDArray | None]]], float]:
    """Return three orthogonal planes through a point, in world axes, ready to show.

    The scan is resampled onto a 1.5 mm RAS grid, so every scan is shown the same way
    up whatever its voxel order: sagittal (nose to the right), coronal and axial (the
    subject's right on the right: neurological, not radiological, style). Each plane is an
    array whose first row is the top of the picture (superior, or anterior for axial).

    Parameters
    ----------
    image : path or nibabel image
        A scan.
    *masks : numpy.ndarray of bool or PackedMask, or None
        Masks on the scan's grid, sampled on the same planes (None stays None).
    position : tuple of 3 floats, optional
        World point (mm) the slices go through; default the centre of the volume.

    Returns
    -------
    planes : list of 3 tuples
        Sagittal, coronal, axial: ``(values, masks)`` for each (masks as 0/1 bytes).
    top : float
        The 99.5th percentile of the values on the three planes (a display maximum).

    Examples
    --------
    >>> from mrishare import data
    >>> views, top = orthogonal_planes(data.load_sample("participant_T2w"))
    >>> [masks for _, masks in views], top > 0
    ([[], [], []], True)
    """
    scan = _load(image)
    affine = _affine(scan)
    raw = np.asarray(scan.dataobj)
    if raw.ndim == 4:
        raw = raw[..., 0]
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in scan.shape[:3]], indexing="ij"))
    corners = corners.reshape(3, -1)
    world = (affine @ np.r_[corners, np.ones((1, corners.shape[1]))])[:3]
    lo, hi = world.min(axis=1), world.max(axis=1)
    step = STEP_MM
    shape = np.array([int(np.ceil((h - low) / step)) + 1 for low, h in zip(lo, hi, strict=True)])
    centre = (lo + hi) / 2 if position is None else np.asarray(position, float)
    index = np.clip(np.round((centre - lo) / step).astype(int), 0, shape - 1)
    # Only the three planes are resampled (1.5 mm, RAS), each from the block it crosses.
    views: list[tuple[NDArray, list[NDArray | None]]] = []
    for axis in range(3):
        plane_shape = shape.copy()
        plane_shape[axis] = 1
        target = np.diag([step, step, step, 1.0])
        target[:3, 3] = lo
        target[axis, 3] = lo[axis] + index[axis] * step
        voxels = np.linalg.inv(affine) @ target
        # upright: the plane's last world axis upwards
        views.append((_plane(raw, voxels, plane_shape, False).squeeze(axis).T[::-1],
                      [None if mask is None else
                       _plane(mask, voxels, plane_shape, True).squeeze(axis).T[::-1]
                       for mask in masks]))
    top = np.percentile(np.concatenate([values.ravel() for values, _ in views]), 99.5) or 1.0
    return views, float(top)


def slices(
    image: str | os.PathLike | nib.Nifti1Image,
    *,
    overlay: NDArray[np.bool_] | PackedMask | None = None,
    overlay2: NDArray[np.bool_] | PackedMask | None = None,
    position: tuple[float, float, float] | None = None,
    axes: Any = None,
    title: str | None = None,
) -> Any:
    """Return a figure of three orthogonal slices through a point, in world axes.

    The planes are those of :func:`orthogonal_planes` (1.5 mm, RAS, the same way up for every scan).

    Parameters
    ----------
    image : path or nibabel image
        A scan.
    overlay, overlay2 : numpy.ndarray of bool or PackedMask, optional
        Masks on the scan's grid outlined in red and yellow (e.g. removed voxels, brain).
    position : tuple of 3 floats, optional
        World point (mm) the slices go through; default the centre of the volume.
    axes : three matplotlib axes, optional
        Where to draw; by default a new figure.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mrishare import data
    >>> len(slices(data.load_sample("participant_T2w")).axes)
    3
    """
    views, top = orthogonal_planes(image, overlay, overlay2, position=position)
    figure, axes = _row(axes, 3, (10, 3.6))
    for ax, name, (values, masks) in zip(np.ravel(axes), PLANES, views, strict=True):
        ax.imshow(values, cmap="gray", vmin=0, vmax=top)
        for mask, colour in zip(masks, ("red", "yellow"), strict=True):
            if mask is not None and mask.any():
                ax.contour(mask > 0, [0.5], colors=colour, linewidths=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    if title:
        figure.suptitle(title)
    return figure
