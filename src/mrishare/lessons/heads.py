"""Simulated test heads of the kinds defacing must hold on, each with its true face and brain.

:func:`make_head` builds a head scan from the shipped template head (as
:mod:`mrishare.lessons.simulate` does) in one of the situations where a registration-based
defacer is known to slip (:data:`KINDS`): a field of view that stops at the nose, a head with
neck and shoulders, a head far from the centre of its field of view, an oblique grid of
1.2 mm slices, 5 mm axial slices, 0.7 mm voxels. Its true face region and brain mask are
carried into the scan's grid by the known simulation transform, never by a registration, so
a test can measure what a defacer removed against the truth.

Examples
--------
>>> from mrishare.lessons import heads
>>> head = heads.make_head("thick_axial", seed=1)
>>> head.image.shape == head.face.shape == head.brain.shape
True
>>> bool(head.face.any()), bool((head.face & head.brain).any())
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi
from scipy.spatial.transform import Rotation

from mrishare.lessons.simulate import t2_like

__all__ = ["KINDS", "SimulatedHead", "make_head", "true_face_removed"]

KINDS: dict[str, str] = {
    "nose_cut": "1 mm, the field of view stops at the tip of the nose (no mouth, no chin)",
    "neck_shoulders": "1 mm, a long field of view with neck and shoulders",
    "off_centre": "1 mm, the head 40-60 mm from the centre of a 256 mm field of view",
    "oblique": "sagittal slices of 1.2 mm on a grid tilted by 20-30 degrees",
    "thick_axial": "axial slices of 5 mm (0.9 mm in plane)",
    "fine": "0.7 mm isotropic",
    "standard": "1 mm, 256 x 256 x 176 voxels (a common T1w)",
}
"""The kinds of test head and what each is."""

_PAD_MM = 6.0
_CHUNK = 2_000_000  # voxels carried at a time (keeps the memory of a 0.7 mm head small)


@dataclass
class SimulatedHead:
    """A simulated head scan with its ground truth.

    Parameters
    ----------
    image : nibabel.Nifti1Image
        The scan (int16).
    face : numpy.ndarray of bool
        The template's face region carried into the scan's grid by the simulation.
    brain : numpy.ndarray of bool
        The template's brain mask carried the same way.
    kind : str
        One of :data:`KINDS`.
    """

    image: nib.Nifti1Image
    face: NDArray[np.bool_]
    brain: NDArray[np.bool_]
    kind: str


@cache
def _sources(neck: bool) -> tuple[NDArray[np.float32], NDArray[np.uint8], NDArray[np.float64]]:
    """Return the template's values, labels (1 face, 2 brain) and affine; with a neck."""
    from mrishare.deface import template_regions

    head, face, brain = template_regions()
    values = np.asarray(head.dataobj, np.float32)
    labels = np.zeros(head.shape, np.uint8)
    labels[face] = 1
    labels[brain & ~face] = 2
    affine = np.asarray(head.affine, float)
    if not neck:
        return values, labels, affine
    # Continue the lowest slice of the head as a neck for 60 mm, then shoulders: a slab
    # 40 mm high and 400 mm wide, of the neck's mean intensity.
    zoom = float(np.linalg.norm(affine[:3, 2]))
    down, side = int(100 / zoom), int(110 / zoom)
    shape = (values.shape[0] + 2 * side, values.shape[1], values.shape[2] + down)
    big = np.zeros(shape, np.float32)
    big_labels = np.zeros(shape, np.uint8)
    big[side:side + values.shape[0], :, down:] = values
    big_labels[side:side + values.shape[0], :, down:] = labels
    bottom = values[:, :, 0]
    neck_part = np.asarray(ndi.binary_erosion(bottom > 0.15 * np.percentile(values, 99),
                                              iterations=2), bool)
    level = float(bottom[neck_part].mean()) if neck_part.any() else 300.0
    big[side:side + values.shape[0], :, down - int(60 / zoom):down] = np.where(
        neck_part, level, 0.0)[:, :, None]
    i, j = np.ogrid[: shape[0], : shape[1]]
    ci, cj = shape[0] / 2.0, values.shape[1] * 0.4
    shoulders = ((i - ci) / (200 / zoom)) ** 2 + ((j - cj) / (60 / zoom)) ** 2 <= 1.0
    big[:, :, : down - int(60 / zoom)] = np.where(shoulders, level, 0.0)[:, :, None]
    shift = np.eye(4)
    shift[:3, 3] = [-side, 0, -down]
    return big, big_labels, affine @ shift


def _rotation(degrees) -> NDArray[np.float64]:
    """Return the rotation matrix of xyz Euler angles in degrees."""
    return Rotation.from_euler("xyz", np.asarray(degrees, float), degrees=True).as_matrix()


def _settings(kind: str, rng: np.random.Generator) -> dict:
    """Return the grid of a kind of head: voxel size, axes, tilt, field of view."""
    tilt = rng.uniform(-8, 8, 3)
    common = {"zooms": (1.0, 1.0, 1.0), "axes": np.eye(3), "tilt": tilt, "fov": None,
              "shift": np.zeros(3), "cut_below_nose": False}
    if kind == "nose_cut":
        return {**common, "cut_below_nose": True}
    if kind == "off_centre":
        shift = rng.choice([-1, 1], 3) * rng.uniform(40, 60, 3) * np.array([1.0, 1.0, 0.4])
        return {**common, "fov": (256.0, 256.0, 256.0), "shift": shift}
    if kind == "oblique":
        sagittal = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], float)
        angle = rng.choice([-1, 1], 3) * rng.uniform(20, 30, 3) * np.array([1.0, 0.3, 0.3])
        return {**common, "zooms": (1.0, 1.0, 1.2), "axes": sagittal, "tilt": angle}
    if kind == "thick_axial":
        return {**common, "zooms": (0.9, 0.9, 5.0)}
    if kind == "fine":
        return {**common, "zooms": (0.7, 0.7, 0.7)}
    if kind == "standard":
        return {**common, "fov": (256.0, 256.0, 176.0), "tilt": np.zeros(3)}
    if kind == "neck_shoulders":
        return common
    raise ValueError(f"Unknown kind of head {kind!r}: use one of {sorted(KINDS)}.")


def make_head(kind: str = "standard", seed: int = 0, contrast: str = "T1w",
              zooms: tuple[float, float, float] | None = None) -> SimulatedHead:
    """Return a simulated head scan of one kind with its true face and brain masks.

    Parameters
    ----------
    kind : str, default "standard"
        One of :data:`KINDS`.
    seed : int
        Seeds the head motion, grid tilt, bias field and noise.
    contrast : {"T1w", "T2w"}
        T2w maps the template's intensities with :func:`mrishare.lessons.simulate.t2_like`.
    zooms : tuple of 3 floats, optional
        Another voxel size than the kind's own (e.g. 0.8 mm for a standard head).

    Returns
    -------
    SimulatedHead

    Examples
    --------
    >>> head = make_head("nose_cut", seed=2, zooms=(3.0, 3.0, 3.0))
    >>> bool(head.brain.any())
    True
    """
    rng = np.random.default_rng(seed)
    settings = _settings(kind, rng)
    values, labels, source_affine = _sources(kind == "neck_shoulders")
    if contrast == "T2w":
        values = t2_like(values).astype(np.float32)
    tissue = values > 0.15 * np.percentile(values, 99)
    centre = (source_affine @ np.r_[ndi.center_of_mass(labels == 2), 1.0])[:3]
    motion = np.eye(4)
    motion[:3, :3] = _rotation(rng.uniform(-10, 10, 3))
    motion[:3, 3] = centre - motion[:3, :3] @ centre + rng.uniform(-10, 10, 3)
    zooms = zooms or settings["zooms"]
    directions = _rotation(settings["tilt"]) @ settings["axes"]
    ijk = np.argwhere(tissue)[::20]
    upright = source_affine @ np.c_[ijk, np.ones(len(ijk))].T  # the template's own frame
    world = (motion @ upright)[:3]
    if settings["cut_below_nose"]:
        # the tip of the nose: the template's most anterior point near its midline (a
        # marker beside the face sticks out further), wherever the head turned
        anterior = np.where(np.abs(upright[0] - centre[0]) < 10.0, upright[1], -np.inf)
        nose = world[:, np.argmax(anterior)]
        world = world[:, world[2] >= nose[2] - 2.0]
    local = directions.T @ world
    if settings["fov"] is not None:
        middle = directions.T @ (world.mean(axis=1) - settings["shift"])
        half = np.asarray(settings["fov"]) / 2.0
        lo, hi = middle - half, middle + half
    else:
        lo, hi = local.min(axis=1) - _PAD_MM, local.max(axis=1) + _PAD_MM
    if settings["cut_below_nose"]:
        lo[2] = local[2].min()
    shape = tuple(int(round((h - low) / z)) for low, h, z in zip(lo, hi, zooms, strict=True))
    affine = np.eye(4)
    affine[:3, :3] = directions * np.asarray(zooms)
    affine[:3, 3] = directions @ lo
    image, true_labels = _carry(values, labels, np.linalg.inv(source_affine)
                                @ np.linalg.inv(motion) @ affine, shape)
    top = float(np.percentile(image[image > 0], 99))
    axes = [np.linspace(-1, 1, n, dtype=np.float32) for n in shape]
    x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
    c = rng.uniform(-0.1, 0.1, 3)
    image *= 1.0 + c[0] * x + c[1] * y + c[2] * z
    image += rng.normal(0.0, 0.02 * top, shape).astype(np.float32)
    np.abs(image, out=image)
    stored = np.clip(np.rint(image * (1000.0 / top)), 0, 32767).astype(np.int16)
    nifti = nib.Nifti1Image(stored, affine)
    nifti.header.set_xyzt_units("mm", "sec")
    nifti.header.set_qform(affine, code=1)
    nifti.header.set_sform(affine, code=1)
    return SimulatedHead(nifti, true_labels == 1, true_labels == 2, kind)


def _carry(values: NDArray[np.float32], labels: NDArray[np.uint8], voxels: NDArray,
           shape: tuple[int, ...]) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """Return values (linear) and labels (nearest) at output voxels, a slab at a time."""
    out = np.empty(shape, np.float32)
    out_labels = np.empty(shape, np.uint8)
    per_slice = shape[0] * shape[1]
    step = max(1, _CHUNK // per_slice)
    ij = np.indices(shape[:2], dtype=np.float32).reshape(2, -1)
    matrix = voxels.astype(np.float32)
    for start in range(0, shape[2], step):
        stop = min(shape[2], start + step)
        k = np.repeat(np.arange(start, stop, dtype=np.float32), per_slice)
        points = np.vstack([np.tile(ij, (1, stop - start)), k[None]])
        coords = matrix[:3, :3] @ points + matrix[:3, 3:4]
        part = (stop - start, shape[0], shape[1])
        out[:, :, start:stop] = ndi.map_coordinates(
            values, coords, order=1, mode="constant", cval=0.0).reshape(part).transpose(1, 2, 0)
        out_labels[:, :, start:stop] = ndi.map_coordinates(
            labels, coords, order=0, mode="constant", cval=0).reshape(part).transpose(1, 2, 0)
    return out, out_labels


def true_face_removed(head: SimulatedHead, removed: NDArray[np.bool_]) -> float:
    """Return the share of the true face region holding tissue that ``removed`` covers.

    Parameters
    ----------
    head : SimulatedHead
        The head with its truth.
    removed : numpy.ndarray of bool
        The voxels a defacer removed, on the head's grid.

    Returns
    -------
    float
        0 to 1 (0 when the region holds no tissue).

    Examples
    --------
    >>> head = make_head("thick_axial", seed=1)
    >>> true_face_removed(head, head.face), true_face_removed(head, ~head.face)
    (1.0, 0.0)
    """
    values = np.asarray(head.image.dataobj, np.float32)
    tissue = head.face & (values > 0.15 * np.percentile(values[values > 0], 99))
    return float((tissue & removed).sum() / tissue.sum()) if tissue.any() else 0.0
