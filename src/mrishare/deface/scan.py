"""Deface one scan: directly, or through another scan of the same session.

:func:`deface` registers the template to the scan and removes its face region (method
``"template"``) or everything in front of and below quickshear's plane (``"quickshear"``).
:func:`deface_other` removes the same region from another contrast of the session by
registering it to the first scan, as pydeface's ``--applyto`` does.

Examples
--------
>>> from mrishare.deface import scan
>>> from mrishare.lessons import simulate
>>> head = simulate.simulate_scan(seed=1, zooms=(3.0, 3.0, 3.0), truth=False)
>>> result = scan.deface(head.image)
>>> result.image.shape == head.image.shape, int(result.removed.sum()) > 0
(True, True)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from mrishare.deface.apply import apply_mask
from mrishare.deface.images import (
    ImageLike,
    affine_of,
    head_mask,
    lightweight,
    load_image,
    name_of,
    stored_values,
)
from mrishare.deface.masks import PackedMask
from mrishare.deface.quickshear import quickshear_mask
from mrishare.deface.registration import Grid, Registration, downsample, register
from mrishare.deface.template import carry, reduced, register_template
from mrishare.errors import DefaceError

__all__ = ["METHODS", "DefaceResult", "deface", "deface_other"]

METHODS = ("template", "quickshear")
"""The defacing methods: pydeface's template face mask, or quickshear's plane."""


@dataclass
class DefaceResult:
    """A defaced image with what QC needs.

    Parameters
    ----------
    image : nibabel.Nifti1Image
        The defaced image (same grid, data type and scaling as the input).
    removed_mask : PackedMask
        Voxels set to zero, one bit per voxel; :attr:`removed` gives them as a numpy array.
    face_mask : PackedMask
        The template's face region in this grid (what should be removed); :attr:`face`.
    brain_mask : PackedMask
        The template's brain mask in this grid (what must stay), one bit per voxel;
        :attr:`brain` gives it as a numpy array.
    method : str
        ``"template"`` or ``"quickshear"``.
    registration : Registration
        Scan world -> template world.
    original : nibabel.Nifti1Image
        The input, untouched.
    name : str
        A label for messages (never written into outputs).
    tissue : PackedMask, optional
        Where the input showed signal (:func:`mrishare.deface.head_mask`), before defacing,
        one bit per voxel (see :meth:`tissue_mask`).
    removed_values : tuple (image, PackedMask, values), optional
        The defaced image, the voxels zeroed in it and their stored values as they were, so
        the input can be seen again without reading it a second time
        (:meth:`original_values`; used only while :attr:`image` is that image).
    reduced : tuple (data, affine), optional
        The input block-averaged for registration
        (:func:`mrishare.deface.template.reduced`).
    """

    image: nib.Nifti1Image
    removed_mask: PackedMask
    face_mask: PackedMask
    brain_mask: PackedMask
    method: str
    registration: Registration
    original: nib.Nifti1Image
    name: str = "the image"
    tissue: PackedMask | None = None
    removed_values: tuple[Any, PackedMask, NDArray] | None = None
    reduced: Grid | None = None

    def with_removed(self, removed: NDArray[np.bool_]) -> DefaceResult:
        """Return this result as if ``removed`` had been zeroed instead (to see what QC says).

        Parameters
        ----------
        removed : numpy.ndarray of bool
            Another region to remove, on the image's grid.

        Returns
        -------
        DefaceResult
            The input with that region zeroed; everything else as in this result.

        Examples
        --------
        >>> from mrishare import data
        >>> result = deface(data.sample_path("participant_T1w"))
        >>> nothing = result.with_removed(np.zeros(result.image.shape, bool))
        >>> nothing.removed_mask.count(), bool((stored_values(nothing.image) != 0).any())
        (0, True)
        """
        return dataclasses.replace(self, image=apply_mask(self.original, removed),
                                   removed_mask=PackedMask.pack(removed), removed_values=None)

    @property
    def removed(self) -> NDArray[np.bool_]:
        """The voxels set to zero, as a new numpy array."""
        return self.removed_mask.unpack()

    @property
    def face(self) -> NDArray[np.bool_]:
        """The template's face region in this grid, as a new numpy array."""
        return self.face_mask.unpack()

    @property
    def brain(self) -> NDArray[np.bool_]:
        """The template's brain mask in this grid, as a new numpy array."""
        return self.brain_mask.unpack()

    def original_values(self) -> NDArray:
        """Return the input's stored values (put back together, or read again).

        Returns
        -------
        numpy.ndarray
            A new array, in the stored data type.

        Examples
        --------
        >>> from mrishare import data
        >>> result = deface(data.sample_path("participant_T1w"))
        >>> bool((result.original_values() == stored_values(result.original)).all())
        True
        """
        if self.removed_values is None or self.removed_values[0] is not self.image:
            return np.array(stored_values(self.original))
        _, zeroed, before = self.removed_values
        values = np.array(stored_values(self.image))
        values[zeroed.unpack()] = before
        return values

    def original_reduced(self, factors: list[int], defaced: Grid | None = None) -> Grid:
        """Return the input block-averaged by ``factors``, without a copy of the image.

        The defaced image is averaged, then the removed values are added back to the
        blocks that held them (averaging is linear), from the box around them only.

        Parameters
        ----------
        factors : list of int
            Voxels per block along each axis.
        defaced : tuple (values, affine), optional
            The defaced image already reduced by ``factors``: its values are turned into
            the input's, in place (no second reduction, no second array).

        Returns
        -------
        values, affine : numpy.ndarray
            As :func:`mrishare.deface.registration.downsample` returns them.

        Examples
        --------
        >>> from mrishare import data
        >>> result = deface(data.sample_path("participant_T1w"))
        >>> small, _ = result.original_reduced([2, 2, 2])
        >>> direct, _ = downsample(stored_values(result.original), np.eye(4), 0.0,
        ...                        factors=[2, 2, 2])
        >>> bool(np.allclose(small, direct, atol=1e-3))
        True
        """
        affine = affine_of(self.image)
        if self.removed_values is None or self.removed_values[0] is not self.image:
            return downsample(self.original_values(), affine, 0.0, factors=factors)
        _, zeroed, before = self.removed_values
        values = stored_values(self.image)
        if defaced is None:
            small, small_affine = downsample(values, affine, 0.0, factors=factors)
        else:
            small, small_affine = defaced
        if not before.size:
            return small, small_affine
        step = np.asarray(factors)
        found = zeroed.box()  # where the removed voxels are
        if found is None:
            return small, small_affine
        first, last = found
        start = first // step * step  # the box of removed voxels, from a block's edge
        stop = np.minimum(-(-last // step) * step, np.asarray(small.shape) * step)
        used = 0  # removed values are in C order: each band of rows takes the next ones
        for band in range(start[0], last[0], 8 * step[0]):
            rows_here = slice(band, min(band + 8 * step[0], last[0]))
            box = (rows_here, slice(start[1], last[1]), slice(start[2], last[2]))
            inside = zeroed.unpack(box)
            count = int(np.count_nonzero(inside))
            values_here = before[used:used + count]
            used += count
            end = min(band + 8 * step[0], stop[0])
            if not count or end <= band or (stop[1:] <= start[1:]).any():
                continue
            difference = np.zeros((8 * step[0], *(np.maximum(stop, last) - start)[1:]),
                                  np.float32)
            part = difference[:inside.shape[0], :inside.shape[1], :inside.shape[2]]
            part[inside] = values_here.astype(np.float32) - values[box][inside]
            added, _ = downsample(difference[:end - band, :stop[1] - start[1],
                                             :stop[2] - start[2]],
                                  np.eye(4), 0.0, factors=list(factors))
            small[band // step[0]: end // step[0], start[1] // step[1]: stop[1] // step[1],
                  start[2] // step[2]: stop[2] // step[2]] += added
        return np.nan_to_num(small, copy=False, nan=0.0, posinf=0.0, neginf=0.0), small_affine

    def tissue_mask(self) -> NDArray[np.bool_]:
        """Return where the input showed signal, before defacing.

        Returns
        -------
        numpy.ndarray of bool
        """
        if self.tissue is None:
            return head_mask(self.original_values())
        return self.tissue.unpack()

    def tissue_bits(self) -> PackedMask:
        """Return :meth:`tissue_mask` one bit per voxel (without unpacking what is kept).

        Returns
        -------
        PackedMask
        """
        return self.tissue if self.tissue is not None else PackedMask.pack(self.tissue_mask())

    def mask_image(self) -> nib.Nifti1Image:
        """Return the removed voxels as a BIDS ``*_defacemask`` image (1 = removed, uint8).

        Returns
        -------
        nibabel.Nifti1Image
            On the original's grid, with its qform, sform and units.

        Examples
        --------
        >>> from mrishare import data
        >>> mask = deface(data.sample_path("participant_T1w")).mask_image()
        >>> mask.get_data_dtype() == np.uint8, int(mask.dataobj.max())
        (True, 1)
        """
        header: Any = self.original.header
        mask = nib.Nifti1Image(self.removed.astype(np.uint8), affine_of(self.original))
        qform, qcode = header.get_qform(coded=True)
        sform, scode = header.get_sform(coded=True)
        mask.header.set_qform(qform, int(qcode))
        mask.header.set_sform(sform, int(scode))
        mask.header.set_xyzt_units(*header.get_xyzt_units())
        return mask


def _removed(
    method: str,
    face: NDArray[np.bool_],
    brain: PackedMask,
    image: nib.Nifti1Image,
    registration: Registration,
) -> NDArray[np.bool_]:
    """Return the voxels ``method`` removes."""
    if method == "template":
        return face
    return quickshear_mask(brain.unpack(), affine_of(image), registration.matrix)


def _load(image: ImageLike) -> tuple[str, nib.Nifti1Image, NDArray]:
    """Return a scan's name, the scan without its file's bytes, and its own stored values.

    The values are the scan's to change (an array given in memory is copied first).
    """
    name, source = name_of(image), image
    image = load_image(image)
    stored = stored_values(image)
    if not nib.is_proxy(image.dataobj):
        stored = stored.copy()
    return name, lightweight(image, source), stored


def _zero_face(image: nib.Nifti1Image, stored: NDArray, method: str,
               registration: Registration, name: str, small: Grid) -> DefaceResult:
    """Zero what ``method`` removes of the template's regions carried into the image.

    Returns the result with its masks one bit per voxel (``stored`` is changed in place).
    """
    face, brain = carry(registration, image)
    removed = _removed(method, face, brain, image, registration)
    tissue, before = PackedMask.pack(head_mask(stored)), stored[removed]
    defaced = apply_mask(image, removed, stored)
    removed_bits = PackedMask.pack(removed)
    face_bits = removed_bits if face is removed else PackedMask.pack(face)
    return DefaceResult(
        image=defaced, removed_mask=removed_bits, face_mask=face_bits, brain_mask=brain,
        method=method, registration=registration, original=image, name=name,
        tissue=tissue, removed_values=(defaced, removed_bits, before), reduced=small,
    )


def deface(
    image: ImageLike,
    method: str = "template",
    *,
    registration: Registration | None = None,
    seed: int = 0,
) -> DefaceResult:
    """Return a head scan with its face removed, and what QC needs to check it.

    Parameters
    ----------
    image : path or nibabel image
        A 3D head scan (T1w works best; other contrasts register by mutual information
        too, but carrying a T1w's result with :func:`deface_other` is safer).
    method : {"template", "quickshear"}, default "template"
        See :data:`METHODS` and :mod:`mrishare.deface`.
    registration : Registration, optional
        Scan world -> template world; found with
        :func:`mrishare.deface.register_template` when not given.
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
    ValueError
        An unknown method.

    Examples
    --------
    >>> from mrishare import data
    >>> result = deface(data.sample_path("participant_T1w"), method="quickshear")
    >>> result.brain_mask.count(result.removed)
    0
    """
    if method not in METHODS:
        raise ValueError(f"Unknown defacing method {method!r}: use one of {METHODS}.")
    name, image, stored = _load(image)
    small = reduced(image, stored)
    registration = registration or register_template(image, seed=seed, fixed=small,
                                                     name=name)
    return _zero_face(image, stored, method, registration, name, small)


def deface_other(other: ImageLike, reference: DefaceResult, *, seed: int = 0) -> DefaceResult:
    """Return another scan of the same session defaced through the defaced reference.

    The other scan (a T2w, FLAIR, ...) is registered rigidly to ``reference``'s original
    by mutual information, and the reference's registration to the template is carried
    along, so the same face region (or quickshear plane) is removed, as pydeface's
    ``--applyto``.

    Parameters
    ----------
    other : path or nibabel image
        A 3D scan of the same head.
    reference : DefaceResult
        What :func:`deface` returned for the session's reference scan (its T1w).
    seed : int
        Seeds the registration's sampling.

    Returns
    -------
    DefaceResult

    Raises
    ------
    DefaceError
        Not a 3D image, or the registration to the reference failed.

    Examples
    --------
    >>> from mrishare import data
    >>> t1 = deface(data.sample_path("participant_T1w"))
    >>> t2 = deface_other(data.sample_path("participant_T2w"), t1)
    >>> t2.image.shape == data.load_sample("participant_T2w").shape
    True
    """
    name, other, stored = _load(other)
    try:
        small = reduced(other, stored)
        to_reference = register(small,
                                reference.reduced or reduced(reference.original,
                                                             reference.original_values()),
                                stages=("rigid",), seed=seed)
    except DefaceError as error:
        raise DefaceError(f"{name}: {error}") from None
    registration = Registration(
        matrix=reference.registration.matrix @ to_reference.matrix,
        metric=to_reference.metric,
        fit=reference.registration.fit,
    )
    return _zero_face(other, stored, reference.method, registration, name, small)
