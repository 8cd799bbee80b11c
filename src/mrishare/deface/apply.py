"""Zero the removed voxels of an image, and keep every other stored value bit for bit.

The result keeps the input's grid, affine (qform and sform), data type and scaling; its
header's free-text fields are cleared and its extensions dropped
(:func:`mrishare.nifti.scrub_header`), since they can carry names.

Examples
--------
>>> import nibabel as nib
>>> import numpy as np
>>> from mrishare.deface import apply
>>> img = nib.Nifti1Image(np.full((4, 4, 4), 7, np.int16), np.eye(4))
>>> removed = np.zeros((4, 4, 4), bool)
>>> removed[0] = True
>>> out = apply.apply_mask(img, removed)
>>> int(out.get_fdata()[0].sum()), out.get_data_dtype() == img.get_data_dtype()
(0, True)
"""

from __future__ import annotations

from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from mrishare import nifti
from mrishare.deface.images import scaling, stored_values

__all__ = ["apply_mask"]


class _Stored:
    """Stored voxel values with their scaling, looking like nibabel's array proxy.

    The image is saved from the stored values and its slope and intercept, unchanged.
    """

    is_proxy = True

    def __init__(self, stored: NDArray, slope: float, inter: float) -> None:
        self._stored = stored
        self.slope = slope
        self.inter = inter

    @property
    def shape(self) -> tuple[int, ...]:
        """Return the shape of the stored values."""
        return self._stored.shape

    @property
    def ndim(self) -> int:
        """Return the number of dimensions."""
        return self._stored.ndim

    @property
    def dtype(self) -> np.dtype:
        """Return the stored data type."""
        return self._stored.dtype

    def get_unscaled(self) -> NDArray:
        """Return the stored values, as nibabel's proxies do."""
        return self._stored

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray:
        """Return the scaled values."""
        if self.slope == 1.0 and self.inter == 0.0:
            out = self._stored
        else:
            out = self._stored * np.float64(self.slope) + np.float64(self.inter)
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, index: Any) -> NDArray:
        """Return a slice of the scaled values."""
        return np.asarray(self)[index]


def _zero_value(dtype: np.dtype, slope: float, inter: float) -> float | int:
    """Return the stored value that reads as 0 (or as near 0 as the data type allows)."""
    value = -inter / slope if slope else 0.0
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return int(np.clip(np.rint(value), info.min, info.max))
    return value


def apply_mask(
    image: nib.Nifti1Image, removed: NDArray[np.bool_], stored: NDArray | None = None
) -> nib.Nifti1Image:
    """Return ``image`` with the voxels under ``removed`` zeroed, the rest as stored.

    The grid, affine (qform and sform), data type and scaling are those of ``image``; the
    header's free-text fields are cleared and its extensions dropped
    (:func:`mrishare.nifti.scrub_header`). NaN under the mask become 0 too.

    Parameters
    ----------
    image : nibabel image
        A 3D image.
    removed : numpy.ndarray of bool
        Voxels to zero, on ``image``'s grid.
    stored : numpy.ndarray, optional
        The image's stored values when already read; changed in place.

    Returns
    -------
    nibabel.Nifti1Image

    Raises
    ------
    ValueError
        When the mask's shape is not the image's.

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
        stored = stored_values(image)
        if not nib.is_proxy(image.dataobj):
            stored = stored.copy()  # never change the caller's array
    slope, inter = scaling(image)
    stored[removed] = _zero_value(stored.dtype, slope, inter)
    keep_scaling = nib.is_proxy(image.dataobj) and not (slope == 1.0 and inter == 0.0)
    dataobj = _Stored(stored, slope, inter) if keep_scaling else _Stored(stored, 1.0, 0.0)
    header = image.header.copy()
    out = image.__class__(dataobj, image.affine, header)
    return nifti.scrub_header(out)
