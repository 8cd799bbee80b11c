"""Quickshear's cut: a plane under the brain, in the head's own frame.

Quickshear (Schimke and Hale, 2011) removes everything in front of and below a plane
tangent to the brain's convex hull seen from the side. Here the brain mask is the
template's, carried by the registration, and the plane is found in millimetres in the
head's frame, so thick slices, sagittal grids and tilted heads are handled (the original
loops over voxel rows and misses the face on thick-slice scans).

Examples
--------
>>> import numpy as np
>>> from mrishare.deface import quickshear
>>> brain = np.zeros((20, 20, 20), bool)
>>> brain[5:15, 8:16, 8:16] = True
>>> cut = quickshear.quickshear_mask(brain, np.eye(4), np.eye(4), buffer_mm=2)
>>> bool(cut.any()), bool((cut & brain).any())
(True, False)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mrishare.errors import DefaceError

__all__ = ["QUICKSHEAR_BUFFER_MM", "quickshear_mask"]

QUICKSHEAR_BUFFER_MM = 10.0
"""Distance kept between the brain and the cut: quickshear's default (10 voxels of 1 mm)."""


def quickshear_mask(
    brain: NDArray[np.bool_],
    affine: NDArray[np.float64],
    to_head: NDArray[np.float64],
    buffer_mm: float = QUICKSHEAR_BUFFER_MM,
) -> NDArray[np.bool_]:
    """Return quickshear's cut, done in millimetres in the head's own frame.

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
