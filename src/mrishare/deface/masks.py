"""Masks kept one bit per voxel: what a defacing result holds besides the image itself.

A numpy mask takes a byte per voxel: 22 MB for a 0.8 mm head of 320 x 320 x 220 voxels.
:class:`PackedMask` keeps it in an eighth of that (``numpy.packbits`` along the last
axis), counts overlaps without unpacking (``numpy.bitwise_count``), and unpacks all of it,
or every n-th voxel, when an array is needed.

Examples
--------
>>> import numpy as np
>>> from mrishare.deface.masks import PackedMask
>>> mask = np.zeros((4, 5, 11), bool)
>>> mask[1:3, :, 2:9] = True
>>> packed = PackedMask.pack(mask)
>>> packed.count(), bool((packed.unpack() == mask).all())
(70, True)
>>> packed.count(np.roll(mask, 1, axis=-1))  # voxels in both
60
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["PackedMask"]

Every = tuple[slice, ...]
"""Which voxels along each axis (e.g. every second one: ``slice(None, None, 2)``)."""


@dataclass(frozen=True)
class PackedMask:
    """A 3D boolean mask stored one bit per voxel.

    Parameters
    ----------
    bits : numpy.ndarray of uint8
        ``numpy.packbits(mask, axis=-1)``.
    shape : tuple of int
        The mask's shape.
    """

    bits: NDArray[np.uint8]
    shape: tuple[int, ...]

    @classmethod
    def pack(cls, mask: NDArray[np.bool_]) -> PackedMask:
        """Return ``mask`` packed.

        Parameters
        ----------
        mask : numpy.ndarray of bool

        Returns
        -------
        PackedMask

        Examples
        --------
        >>> PackedMask.pack(np.ones((2, 3, 9), bool)).bits.shape
        (2, 3, 2)
        """
        return cls(np.packbits(np.asarray(mask, bool), axis=-1), tuple(mask.shape))

    def unpack(self, every: Every | None = None) -> NDArray[np.bool_]:
        """Return the mask as a numpy array (a new one), or only the voxels ``every`` picks.

        Parameters
        ----------
        every : tuple of slice, optional
            One slice per axis; only the rows it picks are unpacked.

        Returns
        -------
        numpy.ndarray of bool

        Examples
        --------
        >>> mask = np.arange(24).reshape(2, 3, 4) % 5 == 0
        >>> packed = PackedMask.pack(mask)
        >>> bool((packed.unpack((slice(None, None, 2),) * 3) == mask[::2, ::2, ::2]).all())
        True
        """
        every = every or (slice(None),) * len(self.shape)
        rows = self.bits[every[:-1]]
        return np.unpackbits(rows, axis=-1, count=self.shape[-1]).view(np.bool_)[
            ..., every[-1]]

    def count(self, *others: NDArray[np.bool_] | PackedMask) -> int:
        """Return how many voxels are in this mask and in every one of ``others``.

        Parameters
        ----------
        *others : numpy.ndarray of bool or PackedMask
            Masks of the same shape.

        Returns
        -------
        int

        Examples
        --------
        >>> a = PackedMask.pack(np.ones((2, 2, 2), bool))
        >>> a.count(), a.count(np.eye(2, dtype=bool)[None].repeat(2, axis=0))
        (8, 4)
        """
        both = self.bits
        for other in others:
            packed = other if isinstance(other, PackedMask) else PackedMask.pack(other)
            if packed.shape != self.shape:
                raise ValueError(f"masks of shapes {self.shape} and {packed.shape}")
            both = both & packed.bits
        return int(np.bitwise_count(both).sum(dtype=np.int64))
