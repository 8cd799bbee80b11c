"""Masks one bit per voxel: the same voxels back, the same counts as numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from mrishare.deface.masks import PackedMask


@pytest.mark.parametrize("shape", [(7, 5, 13), (4, 4, 8), (1, 1, 1), (3, 9, 17)])
def test_a_mask_comes_back_the_same_and_counts_as_numpy_does(shape):
    rng = np.random.default_rng(sum(shape))
    a, b, c = (rng.random(shape) < p for p in (0.5, 0.3, 0.8))
    packed = PackedMask.pack(a)
    assert packed.shape == shape and packed.bits.nbytes <= a.size // 8 + a.shape[0] * a.shape[1]
    assert np.array_equal(packed.unpack(), a) and packed.unpack().dtype == bool
    assert packed.count() == a.sum()
    assert packed.count(b) == (a & b).sum()
    assert packed.count(b, PackedMask.pack(c)) == (a & b & c).sum()


def test_every_nth_voxel_is_unpacked_alone():
    mask = np.random.default_rng(1).random((9, 10, 21)) < 0.4
    every = (slice(None, None, 2), slice(1, None, 3), slice(None, None, 4))
    assert np.array_equal(PackedMask.pack(mask).unpack(every), mask[every])


def test_masks_of_other_shapes_are_refused():
    with pytest.raises(ValueError, match="shapes"):
        PackedMask.pack(np.ones((2, 2, 2), bool)).count(np.ones((2, 2, 3), bool))


@pytest.mark.parametrize("last", [slice(3, 4), slice(0, 21), slice(9, 17), slice(20, 21),
                                  slice(5, 5), slice(2, None, 3), slice(None, None, -1)])
def test_a_block_is_unpacked_from_its_own_bytes(last):
    mask = np.random.default_rng(2).random((6, 7, 21)) < 0.5
    box = (slice(1, 4), slice(None), last)
    assert np.array_equal(PackedMask.pack(mask).unpack(box), mask[box])


@pytest.mark.parametrize("order", ["C", "F"])
def test_either_memory_order_packs_along_its_own_axis_and_gives_the_same(order):
    mask = np.asarray(np.random.default_rng(3).random((13, 6, 10)) < 0.4, order=order)
    packed = PackedMask.pack(mask)
    assert packed.axis == (0 if order == "F" else 2)
    every = (slice(2, 11), slice(None, None, 2), slice(3, 9))
    assert np.array_equal(packed.unpack(every), mask[every])
    other = PackedMask.pack(np.ascontiguousarray(mask[::-1]), axis=1)
    assert packed.count(other) == (mask & mask[::-1]).sum()
    lows, highs = packed.box()
    where = np.argwhere(mask)
    assert lows.tolist() == where.min(0).tolist() and highs.tolist() == (where.max(0) + 1).tolist()
    assert PackedMask.pack(np.zeros((3, 3, 3), bool)).box() is None
