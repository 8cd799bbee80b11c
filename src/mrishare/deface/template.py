"""The template head, its face region and brain mask, placed on a scan.

The shipped template (pydeface's averaged head, with its face mask, and a brain mask made
for it) is registered to each scan with :func:`register_template`, and :func:`carry` brings
its face region and brain mask into the scan's grid: what defacing removes and what it
must keep.

Examples
--------
>>> from mrishare import data
>>> from mrishare.deface import template
>>> image = data.load_sample("participant_T1w")
>>> face, brain = template.carry(template.register_template(image), image)
>>> bool(face.any()), brain.count(face)
(True, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from mrishare.deface import targets
from mrishare.deface.images import (
    ImageLike,
    affine_of,
    head_mask,
    load_image,
    name_of,
    stored_values,
)
from mrishare.deface.masks import PackedMask
from mrishare.deface.registration import (
    LEVELS_MM,
    Grid,
    Registration,
    downsample,
    head_centre,
    match,
    register,
    resample,
)
from mrishare.errors import DefaceError

__all__ = [
    "MIN_FIT",
    "MIN_HEAD_SHARE",
    "MIN_MATCH",
    "carry",
    "carry_grid",
    "reduced",
    "register_template",
    "template_regions",
]

MIN_HEAD_SHARE = 0.3
"""A scan with less signal than this share of the template head's volume has no head."""

MIN_WHOLE_SHARE = 0.45
"""Less signal than this share of the template head's volume is a brain without skull and
scalp (1100-1700 ml, 28-43% of the template's 3930 ml), or part of a head: refused. Heads cut
at the nose keep 70-80%."""

ANIMAL_ML = 100.0
"""Less signal than this (ml) is no human head: a rodent's head is 5-20 ml."""

MIN_FIT = targets.shipped().target("head_fit").value
"""Overlap (Dice) of the heads after registration below which the registration failed
(``head_fit`` in ``rules/deface_qc.yaml``)."""

MIN_MATCH = 0.45
"""Mutual information (nats, Mattes) of scan and template after registration below which it
failed. Measured: 1.1-1.45 on simulated T1w and T2w heads, 0.52 on a head registered upside
down, 0.30 on a box of the size of a head."""

CROWN_MM = 120.0
"""The top of a head used to put two heads on each other: above the nose in every scan."""

FULL_FACE_MM = 180.0
"""A scan whose head signal reaches less far below the top of the head than this stops above
the chin (the template's chin is 190-200 mm below its top): registered rigidly only
(measured on simulated heads cut at the nose: an affine fit left 12-15% of the face)."""

HEAD_HEIGHT_MM = 220.0
"""How far below the top of a head the template reaches (206 mm), with a margin: what lies
further down (shoulders) does not take part in the registration."""

# Starting orientations tried: as the header says, and half a turn about each axis.
_TURNS = (np.eye(3), np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0]),
          np.diag([-1.0, -1.0, 1.0]))


@dataclass(frozen=True)
class _Template:
    """The template as registration and carrying need it."""

    head: Grid  # reduced to the finest registration level
    labels: NDArray[np.uint8]  # 1 = face region, 2 = brain, on the full template grid
    affine: NDArray[np.float64]
    head_ml: float


def template_regions() -> tuple[nib.Nifti1Image, NDArray[np.bool_], NDArray[np.bool_]]:
    """Return the template head, its face region and its brain mask (on the head's grid).

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

    head: nib.Nifti1Image = data.load_sample("template_head", verify=False)
    face = np.asarray(data.load_sample("template_facemask", verify=False).dataobj) < 0.5
    for axis in range(3):
        first: list[slice | int] = [slice(None)] * 3
        second: list[slice | int] = [slice(None)] * 3
        for edge, inner in ((0, 1), (-1, -2)):
            first[axis], second[axis] = edge, inner
            face[tuple(first)] = face[tuple(second)]
    brain = np.asarray(data.load_sample("template_brainmask", verify=False).dataobj) > 0
    return head, face, brain


@cache
def _template() -> _Template:
    """Return the shipped template head (reduced) and its masks, loaded once."""
    head, face, brain = template_regions()
    labels = np.zeros(head.shape, np.uint8)
    labels[face] = 1
    labels[brain & ~face] = 2
    small = downsample(np.asarray(head.dataobj), affine_of(head), LEVELS_MM[-1])
    zooms = np.linalg.norm(small[1][:3, :3], axis=0)
    head_ml = float(head_mask(small[0]).sum() * zooms.prod() / 1000.0)
    return _Template(small, labels, affine_of(head), head_ml)


def reduced(image: nib.Nifti1Image, stored: NDArray | None = None) -> Grid:
    """Return the image block-averaged to about the finest registration level, NaN as 0.

    Parameters
    ----------
    image : nibabel image
        A 3D scan.
    stored : numpy.ndarray, optional
        Its stored values, when already read.

    Returns
    -------
    data, affine : numpy.ndarray
        What :func:`mrishare.deface.registration.register` takes.

    Examples
    --------
    >>> from mrishare import data
    >>> small, affine = reduced(data.load_sample("participant_T1w"))
    >>> bool(np.linalg.norm(affine[:3, :3], axis=0).min() >= 3.0)
    True
    """
    stored = stored_values(image) if stored is None else stored
    return downsample(stored, affine_of(image), LEVELS_MM[-1])


def _crown(grid: Grid, up: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray, float]:
    """Return a head's crown point and the part of the grid a template head can cover.

    The crown point is the centre of the head's signal within :data:`CROWN_MM` of its top
    (along ``up``, a unit vector in the grid's world); the part covered is what lies within
    :data:`HEAD_HEIGHT_MM` of the top (a neck and shoulders below it are left out); the
    depth is how far below the top the signal reaches (mm).
    """
    values, affine = grid
    mask = head_mask(values)
    ijk = np.argwhere(mask)
    if len(ijk) == 0:
        return head_centre(values, affine), np.ones(values.shape, bool), 0.0
    world = affine[:3, :3] @ ijk.T + affine[:3, 3:4]
    height = up @ world
    top = float(np.percentile(height, 99.9))
    near = height >= top - CROWN_MM
    centre = world[:, near].mean(axis=1)
    crown = centre + up * (top - CROWN_MM / 2.0 - up @ centre)
    # The height of every voxel: a sum of one term per axis (no array of coordinates).
    slope = affine[:3, :3].T @ up
    i, j, k = np.ogrid[: values.shape[0], : values.shape[1], : values.shape[2]]
    heights = slope[0] * i + slope[1] * j + slope[2] * k + float(up @ affine[:3, 3])
    depth = top - float(np.percentile(height, 0.1))
    return crown, heights >= top - HEAD_HEIGHT_MM, depth


def _too_small(head_ml: float, template_ml: float) -> str:
    """Return why a scan with ``head_ml`` of signal cannot be defaced, or "" when it can."""
    signal = f"about {head_ml:.0f} ml of signal; a human head has about {template_ml:.0f} ml"
    if head_ml < 1.0:
        return f"no head in the field of view ({signal}): the image holds no signal."
    if head_ml < ANIMAL_ML:
        return (
            f"this does not look like a human head ({signal}): it is the size of a small "
            "animal's head or of a small part of a body. mrishare defaces human heads only; "
            "a non-human scan has no face to protect, share it without defacing."
        )
    if head_ml < MIN_HEAD_SHARE * template_ml:
        return (
            f"no head in the field of view, or too little of one ({signal}). Deface "
            "whole-head scans (e.g. a T1w) and carry their mask to other scans with --apply-to."
        )
    if head_ml < MIN_WHOLE_SHARE * template_ml:
        return (
            f"this looks like a brain without scalp and skull, or a part of a head ({signal}, "
            "a brain 1100-1700 ml). A skull-stripped brain has no face to remove: share it as "
            "it is. For a part of a head, deface the session's whole-head scan and carry its "
            "mask with --apply-to."
        )
    return ""


def _dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    """Return the overlap (Dice) of two masks."""
    total = a.sum() + b.sum()
    return float(2.0 * (a & b).sum() / total) if total else 0.0


def register_template(
    image: ImageLike, *, seed: int = 0, stored: NDArray | None = None, name: str | None = None,
    independent: bool = False, fixed: Grid | None = None,
    orientation: NDArray[np.float64] | None = None,
) -> Registration:
    """Return the registration of the shipped template head to a head scan.

    Parameters
    ----------
    image : path or nibabel image
        A 3D head scan, any grid, orientation, voxel size, data type.
    seed : int
        Seeds the metric's sampling.
    stored : numpy.ndarray, optional
        The image's stored values, when already read (saves reading them again).
    name : str, optional
        How messages name the image; by default its path.
    independent : bool, default False
        Register another way, as a check on the first: the heads' centres (not their
        crowns) on each other, another sampling. QC compares the face region
        it places with the one defacing used (:func:`mrishare.qc.check`).
    fixed : tuple (data, affine), optional
        The image already reduced with :func:`reduced` (saves reducing it again).
    orientation : numpy.ndarray, optional
        A registration's 4x4 matrix whose orientation (upright or turned by half a turn) is
        taken as it is, instead of trying each.

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
    name = name or name_of(image)
    image = load_image(image)
    fixed = reduced(image, stored) if fixed is None else fixed
    template = _template()
    head = head_mask(fixed[0])
    zooms = np.linalg.norm(fixed[1][:3, :3], axis=0)
    head_ml = head.sum() * zooms.prod() / 1000.0
    refusal = _too_small(head_ml, template.head_ml)
    if refusal:
        raise DefaceError(f"{name}: {refusal}")
    try:
        # A header may put the head upside down or back to front: try the head turned
        # half a turn about each axis too, at the coarsest level, and go on from the best.
        # The heads are put crown on crown (the top of the head, and the middle of the
        # part below it), not centre on centre: a neck, shoulders or a field of view
        # that stops at the nose move a head's centre, never its crown.
        up = np.array([0.0, 0.0, 1.0])
        crown_moving, _, _ = _crown(template.head, up)
        starts, masks, depths = [], [], []
        for turn in _TURNS:
            crown_fixed, kept, depth = _crown(fixed, turn.T @ up)
            depths.append(depth)
            initial = np.eye(4)
            initial[:3, :3] = turn
            initial[:3, 3] = crown_moving - turn @ crown_fixed
            starts.append(initial)
            masks.append(kept)
        if orientation is None:
            scores = [match(fixed, template.head, start, seed) for start in starts]
        else:  # the half turn nearest to the given rotation
            scores = [-float(np.trace(turn.T @ orientation[:3, :3])) for turn in _TURNS]
        best = int(np.argmin(scores))
        # An affine fit stretches the template over a face cut by the field of view: a
        # scan that stops above the chin gets a rigid fit only.
        stages = ("rigid", "affine") if depths[best] >= FULL_FACE_MM else ("rigid",)
        if independent:
            seed += 101
            kept = np.where(masks[best], fixed[0], 0.0)
            starts[best][:3, 3] = (head_centre(*template.head)
                                   - starts[best][:3, :3] @ head_centre(kept, fixed[1]))
        result = register(fixed, template.head, initial=starts[best], seed=seed,
                          fixed_mask=masks[best], stages=stages)
    except DefaceError as error:
        raise DefaceError(f"{name}: {error}") from None
    # How well do the heads overlap now? The template head carried into the scan's grid,
    # over the part of the scan the template can cover.
    voxels = np.linalg.inv(template.head[1]) @ result.matrix @ fixed[1]
    moved = resample(head_mask(template.head[0]).astype(np.uint8), voxels, head.shape)
    result.fit = _dice(moved > 0, head & masks[best])
    if result.fit < MIN_FIT or -result.metric < MIN_MATCH:
        raise DefaceError(
            f"{name}: registration failed: the template head overlaps the scan's head by "
            f"{result.fit:.0%} (at least {MIN_FIT:.0%} expected) and their mutual "
            f"information is {-result.metric:.2f} (at least {MIN_MATCH} expected). Check the "
            "image's orientation in its header (e.g. with a viewer), that it shows a whole head, "
            "and that it is not a 4D series."
        )
    return result


def carry(
    registration: Registration, image: nib.Nifti1Image
) -> tuple[NDArray[np.bool_], PackedMask]:
    """Return the template's face region and brain mask carried into ``image``'s grid.

    Parameters
    ----------
    registration : Registration
        From :func:`register_template` (scan world -> template world).
    image : nibabel image
        The scan that gives the grid.

    Returns
    -------
    face : numpy.ndarray of bool
        In the scan's voxel order. The face region continues beyond the template's box
        (a longer neck or a bigger head than the template's keeps its face covered).
    brain : PackedMask
        The brain mask, one bit per voxel (``brain.unpack()`` gives the array).

    Examples
    --------
    >>> from mrishare import data
    >>> img = data.load_sample("participant_T1w")
    >>> face, brain = carry(register_template(img), img)
    >>> brain.count(face)
    0
    """
    return carry_grid(registration, affine_of(image), image.shape[:3])


def carry_grid(
    registration: Registration, affine: NDArray[np.float64], shape: tuple[int, ...]
) -> tuple[NDArray[np.bool_], PackedMask]:
    """Return the template's face region and brain mask on a grid given by affine and shape.

    Parameters
    ----------
    registration : Registration
        Scan world -> template world.
    affine : numpy.ndarray
        The grid's RAS voxel-to-world affine.
    shape : tuple of int
        The grid's shape.

    Returns
    -------
    face : numpy.ndarray of bool
    brain : PackedMask

    Examples
    --------
    >>> face, brain = carry_grid(Registration(np.eye(4), 0.0), np.eye(4) * 8, (4, 4, 4))
    >>> face.shape, brain.shape
    ((4, 4, 4), (4, 4, 4))
    """
    template = _template()
    voxels = np.linalg.inv(template.affine) @ registration.matrix @ affine
    labels = resample(template.labels, voxels, tuple(shape), extend=True)
    # The brain mask stays well inside the template's box, so extending its edges adds none.
    face = labels == 1
    brain = np.equal(labels, 2, out=labels.view(np.bool_))  # in the labels' own memory
    return face, PackedMask.pack(brain)

