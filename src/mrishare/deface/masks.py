"""Masks kept one bit per voxel: what a defacing result holds besides the image itself.

A numpy mask takes a byte per voxel: 22 MB for a 0.8 mm head of 320 x 320 x 220 voxels.
:class:`PackedMask` keeps it in an eighth of that (``numpy.packbits`` along the axis it
lies along in memory), counts overlaps without unpacking (``numpy.bitwise_count``), and
unpacks all of it, or every n-th voxel, when an array is needed.

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
        ``numpy.packbits(mask, axis=axis)``.
    shape : tuple of int
        The mask's shape.
    axis : int, default 2
        The axis packed: the one along which the mask lies in memory (0 for Fortran
        order, as nibabel and SimpleITK give arrays, else the last), so packing is fast.
    """

    bits: NDArray[np.uint8]
    shape: tuple[int, ...]
    axis: int = 2

    @classmethod
    def pack(cls, mask: NDArray[np.bool_], axis: int | None = None) -> PackedMask:
        """Return ``mask`` packed.

        Parameters
        ----------
        mask : numpy.ndarray of bool
        axis : int, optional
            The axis to pack; by default the one along which ``mask`` lies in memory.

        Returns
        -------
        PackedMask

        Examples
        --------
        >>> PackedMask.pack(np.ones((2, 3, 9), bool)).bits.shape
        (2, 3, 2)
        >>> PackedMask.pack(np.ones((9, 3, 2), bool, order="F")).bits.shape
        (2, 3, 2)
        """
        mask = np.asarray(mask, bool)
        if axis is None:
            axis = 0 if mask.flags.f_contiguous and not mask.flags.c_contiguous else mask.ndim - 1
        return cls(np.packbits(mask, axis=axis), tuple(mask.shape), axis % mask.ndim)

    def unpack(self, every: Every | None = None) -> NDArray[np.bool_]:
        """Return the mask as a numpy array (a new one), or only the voxels ``every`` picks.

        Parameters
        ----------
        every : tuple of slice, optional
            One slice per axis; only the bytes that hold what it picks are unpacked.

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
        axis = self.axis
        picked = list(every or (slice(None),) * len(self.shape))
        start, stop, step = picked[axis].indices(self.shape[axis])
        rows = list(picked)
        kept = [slice(None)] * len(self.shape)
        if step != 1 or stop <= start:
            rows[axis], count, kept[axis] = slice(None), self.shape[axis], picked[axis]
        else:  # only the bytes that hold these voxels
            first = start // 8
            rows[axis], count = slice(first, -(-stop // 8)), stop - 8 * first
            kept[axis] = slice(start - 8 * first, None)
        unpacked = np.unpackbits(self.bits[tuple(rows)], axis=axis, count=count)
        return unpacked.view(np.bool_)[tuple(kept)]

    def box(self) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
        """Return the first and one past the last index of the mask's voxels along each axis.

        Returns
        -------
        (first, stop) : two numpy arrays of int, or None when the mask is empty

        Examples
        --------
        >>> mask = np.zeros((5, 6, 20), bool)
        >>> mask[1:3, 2, 9:14] = True
        >>> [a.tolist() for a in PackedMask.pack(mask).box()]
        [[1, 2, 9], [3, 3, 14]]
        """
        first, stop = [], []
        for axis in range(len(self.shape)):
            others = tuple(a for a in range(len(self.shape)) if a != axis)
            if axis == self.axis:
                used = np.unpackbits(np.bitwise_or.reduce(self.bits, axis=others),
                                     count=self.shape[axis])
            else:
                used = self.bits.any(axis=others)
            found = np.flatnonzero(used)
            if not found.size:
                return None
            first.append(found[0])
            stop.append(found[-1] + 1)
        return np.array(first), np.array(stop)

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
            if isinstance(other, PackedMask) and other.axis != self.axis:
                other = other.unpack()
            packed = (other if isinstance(other, PackedMask)
                      else PackedMask.pack(other, axis=self.axis))
            if packed.shape != self.shape:
                raise ValueError(f"masks of shapes {self.shape} and {packed.shape}")
            both = both & packed.bits
        return int(np.bitwise_count(both).sum(dtype=np.int64))
