"""A head image to deface: loaded, checked, and its stored values and signal.

:func:`load_image` reads a path with :func:`mrishare.readers.load_nifti` (or passes a loaded
image on) and refuses what cannot be defaced: more than one volume, a single slice.
:func:`stored_values` gives the voxel values as stored (before slope and intercept), which
defacing keeps bit for bit outside the removed region; :func:`head_mask` tells signal from
air, the same way for registration, QC and the face check.

Examples
--------
>>> from mrishare import data
>>> from mrishare.deface import images
>>> image = images.load_image(data.sample_path("participant_T1w"))
>>> mask = images.head_mask(images.stored_values(image).astype("float32"))
>>> bool(0.1 < mask.mean() < 0.9)
True
"""

from __future__ import annotations

import os
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.spatialimages import SpatialImage
from numpy.typing import NDArray

from mrishare import readers
from mrishare.errors import DefaceError, MrishareError

__all__ = [
    "HEAD_LEVEL",
    "ImageLike",
    "affine_of",
    "head_level",
    "head_mask",
    "load_image",
    "name_of",
    "scaling",
    "stored_values",
    "narrowest_extent_mm",
    "voxel_ml",
    "WHOLE_HEAD_MM",
]

ImageLike = str | os.PathLike | nib.Nifti1Image
"""What the defacing functions accept: a path to a NIfTI file, or a loaded image."""

WHOLE_HEAD_MM = 100.0
"""An image narrower than this along any axis holds no whole head (a slab): checks that
register a whole template head to it (the face-present check, QC's independent registration)
cannot run on it."""

HEAD_LEVEL = 0.15
"""Signal above this share of the 99th percentile of the positive values is head, not air."""


def name_of(image: Any) -> str:
    """Return a label for messages: the path, the image's file name, or "the image".

    Parameters
    ----------
    image : path or nibabel image

    Returns
    -------
    str

    Examples
    --------
    >>> name_of("scan.nii.gz"), name_of(nib.Nifti1Image(np.zeros((2, 2, 2)), np.eye(4)))
    ('scan.nii.gz', 'the image')
    """
    if isinstance(image, str | os.PathLike):
        return str(image)
    filename = getattr(image, "get_filename", lambda: None)()
    return filename or "the image"


def load_image(image: ImageLike) -> nib.Nifti1Image:
    """Return a single 3D NIfTI volume from a path, or pass a loaded one on.

    A 4D image with one volume is taken as that volume.

    Parameters
    ----------
    image : str, path or nibabel image

    Returns
    -------
    nibabel.Nifti1Image

    Raises
    ------
    DefaceError
        When the file cannot be read as NIfTI, or is not a single 3D volume; the message
        names the file.

    Examples
    --------
    >>> from mrishare import data
    >>> load_image(data.sample_path("participant_T1w")).ndim
    3
    >>> load_image(nib.Nifti1Image(np.zeros((9, 9, 9, 2), np.int16), np.eye(4)))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mrishare.errors.DefaceError: the image: expected one 3D volume, got ... (9, 9, 9, 2)...
    """
    name = name_of(image)
    if isinstance(image, SpatialImage):
        loaded: Any = image
    else:
        try:
            loaded = readers.load_nifti(image)
        except MrishareError as error:
            raise DefaceError(f"{error} Give a .nii or .nii.gz file of a head.") from error
    shape = loaded.shape
    if len(shape) == 4 and shape[3] == 1:
        loaded = loaded.slicer[..., 0]
    if loaded.ndim != 3:
        raise DefaceError(
            f"{name}: expected one 3D volume, got an image of shape {shape}. Split a 4D "
            "series first (deface one volume, e.g. the first, and apply its mask to the rest)."
        )
    if min(loaded.shape) < 2:
        raise DefaceError(f"{name}: a single slice ({loaded.shape}) cannot be defaced.")
    return loaded


def affine_of(image: Any) -> NDArray[np.float64]:
    """Return the image's voxel-to-world affine (RAS mm) as a float array.

    Parameters
    ----------
    image : nibabel image

    Returns
    -------
    numpy.ndarray
        4x4.

    Examples
    --------
    >>> affine_of(nib.Nifti1Image(np.zeros((2, 2, 2)), np.eye(4))).shape
    (4, 4)
    """
    return np.asarray(image.affine, dtype=np.float64)


def stored_values(image: nib.Nifti1Image) -> NDArray:
    """Return the stored voxel values, without slope and intercept applied.

    Parameters
    ----------
    image : nibabel image

    Returns
    -------
    numpy.ndarray
        In the stored data type. For an image held in memory, its own array (not a copy).

    Examples
    --------
    >>> img = nib.Nifti1Image(np.full((2, 2, 2), 3, np.int16), np.eye(4))
    >>> stored_values(img).dtype
    dtype('int16')
    """
    proxy = image.dataobj
    if nib.is_proxy(proxy):
        return np.asarray(proxy.get_unscaled())  # pyright: ignore[reportAttributeAccessIssue]
    return np.asarray(proxy)


def scaling(image: nib.Nifti1Image) -> tuple[float, float]:
    """Return the image's slope and intercept (1 and 0 when it has none).

    Parameters
    ----------
    image : nibabel image

    Returns
    -------
    slope, inter : float

    Examples
    --------
    >>> scaling(nib.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)))
    (1.0, 0.0)
    """
    slope = getattr(image.dataobj, "slope", 1.0)
    inter = getattr(image.dataobj, "inter", 0.0)
    return float(slope), float(inter)


def head_mask(values: NDArray) -> NDArray[np.bool_]:
    """Return where ``values`` hold signal: above :data:`HEAD_LEVEL` of its bright end.

    Parameters
    ----------
    values : numpy.ndarray
        Voxel values (NaN already replaced).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> head_mask(np.array([0.0, 1.0, 50.0, 100.0])).tolist()
    [False, False, True, True]
    """
    level = head_level(values)
    if level is None:
        return np.zeros(values.shape, bool)
    return values > level


def head_level(values: NDArray) -> float | None:
    """Return the value above which ``values`` hold signal (see :func:`head_mask`).

    The bright end is the 99th percentile of the positive values of at most about a million
    of them, taken evenly (a large image is not copied whole).

    Parameters
    ----------
    values : numpy.ndarray
        Voxel values, any data type; NaN are ignored.

    Returns
    -------
    float or None
        None when no value is positive.

    Examples
    --------
    >>> head_level(np.array([0.0, 1.0, 50.0, 100.0]))
    14.85
    """
    flat = values.ravel(order="K")  # no copy, whatever the memory order
    sample = flat[:: max(1, flat.size // 1_000_000)]
    positive = sample[sample > 0]
    if positive.size == 0:
        return None
    return float(HEAD_LEVEL * np.percentile(positive.astype(np.float64), 99))


def voxel_ml(image: nib.Nifti1Image) -> float:
    """Return the volume of one voxel of ``image`` in millilitres.

    Parameters
    ----------
    image : nibabel image

    Returns
    -------
    float

    Examples
    --------
    >>> voxel_ml(nib.Nifti1Image(np.zeros((2, 2, 2)), np.diag([2.0, 2.0, 2.0, 1.0])))
    0.008
    """
    return float(np.prod(np.linalg.norm(affine_of(image)[:3, :3], axis=0))) / 1000.0


def narrowest_extent_mm(image: Any) -> float:
    """Return the field of view of ``image`` along its narrowest voxel axis, in mm.

    Parameters
    ----------
    image : nibabel image

    Returns
    -------
    float

    Examples
    --------
    >>> slab = nib.Nifti1Image(np.zeros((64, 64, 12)), np.diag([4.0, 4.0, 4.0, 1.0]))
    >>> narrowest_extent_mm(slab), narrowest_extent_mm(slab) < WHOLE_HEAD_MM
    (48.0, True)
    """
    zooms = np.linalg.norm(affine_of(image)[:3, :3], axis=0)
    return float(min(n * z for n, z in zip(image.shape[:3], zooms, strict=True)))


class _Reread:
    """A file's voxel values, read again from the file whenever asked (like nibabel's proxy).

    An image loaded by :func:`mrishare.readers.load_nifti` keeps its whole file in memory;
    once defacing has its values, the untouched input is only needed now and then, so it
    gives that memory back and reads the file again when asked.
    """

    is_proxy = True

    def __init__(self, path: str | os.PathLike, image: nib.Nifti1Image) -> None:
        self._path = path
        self.shape = tuple(image.shape)
        self.ndim = len(self.shape)
        self.dtype = image.get_data_dtype()
        self.slope, self.inter = scaling(image)

    def _image(self) -> Any:
        return load_image(self._path)

    def get_unscaled(self) -> NDArray:
        """Return the stored values, read from the file."""
        return stored_values(self._image())

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray:
        """Return the scaled values, read from the file."""
        values = np.asarray(self._image().dataobj)
        return values if dtype is None else values.astype(dtype)

    def __getitem__(self, index: Any) -> NDArray:
        """Return a part of the scaled values."""
        return np.asarray(self)[index]


def lightweight(image: nib.Nifti1Image, source: Any) -> nib.Nifti1Image:
    """Return ``image`` holding none of its file in memory, when it was read from ``source``.

    Parameters
    ----------
    image : nibabel image
        As :func:`load_image` returned it.
    source : path or nibabel image
        What :func:`load_image` was given; an image given loaded is returned as it is.

    Returns
    -------
    nibabel.Nifti1Image
        The same header, affine and values, read again from the file when asked.

    Examples
    --------
    >>> from mrishare import data
    >>> path = data.sample_path("participant_T2w")
    >>> light = lightweight(load_image(path), path)
    >>> bool((stored_values(light) == stored_values(load_image(path))).all())
    True
    """
    if not isinstance(source, str | os.PathLike) or not nib.is_proxy(image.dataobj):
        return image
    return image.__class__(_Reread(source, image), image.affine, image.header)
