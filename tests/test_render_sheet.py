"""Pictures composed as arrays: tiles, captions, outlines, rows, PNG."""

from __future__ import annotations

import cv2
import numpy as np

from mrishare.render import sheet


def test_png_decodes_to_the_same_picture():
    rng = np.random.default_rng(3)
    picture = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    back = cv2.imdecode(np.frombuffer(sheet.png(picture), np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(back[..., ::-1], picture)


def test_grey_maps_zero_to_black_and_top_to_white():
    tile = sheet.grey(np.array([[0.0, 5.0, 10.0, 20.0, np.nan]]), top=10.0)
    assert tile[0, :, 0].tolist() == [0, 128, 255, 255, 0]
    assert sheet.grey(np.zeros((10, 30)), scale=2.0).shape == (20, 60, 3)


def test_an_empty_mask_draws_nothing_and_a_mask_is_outlined_not_filled():
    tile = sheet.grey(np.zeros((20, 20)), size=80)
    sheet.outline(tile, np.zeros((20, 20)), "red")
    assert not tile.any()
    square = np.zeros((20, 20), bool)
    square[5:15, 5:15] = True
    sheet.outline(tile, square, "yellow")
    lit = tile.any(axis=2)
    assert lit[20, 20:60].all() and not lit[40, 30:50].any()  # the edge, not the inside


def test_stack_centres_rows_and_aligns_tiles_at_the_foot():
    tall, short = sheet.grey(np.zeros((40, 10))), sheet.grey(np.zeros((20, 10)))
    picture = sheet.stack([[tall, short], [short]])
    assert picture.shape[1] == 2 * (10 + 16) + 16
    black = (picture == 0).all(axis=2)
    rows_of = {c: np.flatnonzero(black[:, c]) for c in np.flatnonzero(black.any(axis=0))}
    tall_rows, short_rows = rows_of[min(rows_of)], rows_of[max(rows_of)]
    assert len(tall_rows) == 40 and len(short_rows) == 20
    assert tall_rows[-1] == short_rows[-1]  # the short tile's foot level with the tall one's
    below = [c for c, rows in rows_of.items() if rows[0] > tall_rows[-1]]
    assert len(below) == 10  # the second row: one tile, in the middle, after a gap
    assert abs(np.mean(below) - (picture.shape[1] - 1) / 2) <= 1
    assert rows_of[below[0]][0] == tall_rows[-1] + 1 + 16


def test_a_title_and_captions_add_text_above():
    tile = sheet.grey(np.zeros((20, 60)))
    captioned = sheet.caption(tile, "after", "red")
    assert captioned.shape[1] == 60 and captioned.shape[0] > 20
    band = captioned[: captioned.shape[0] - 20]
    assert (band[..., 0] > band[..., 1]).any()  # red text
    titled = sheet.stack([[tile]], title=["one line", "a second line"])
    assert titled.shape[0] > sheet.stack([[tile]]).shape[0] + 2 * 12
