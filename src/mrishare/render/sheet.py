"""Pictures composed as arrays: tiles with captions, boxes and outlines, set in rows.

The QC picture of ``mrishare deface --qc-png`` (:func:`mrishare.qc.picture`) is put
together here with OpenCV, which the face detector has already loaded, so writing it
needs no plotting library: a tile is an RGB array of bytes, a sheet is tiles in rows on
white, and :func:`png` encodes it.

Examples
--------
>>> import numpy as np
>>> from mrishare.render import sheet
>>> tile = sheet.grey(np.eye(50), size=100)
>>> sheet.caption(tile, "a line").shape[1:]
(100, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["COLOURS", "box", "caption", "grey", "outline", "png", "stack", "text"]

#: Colours by name, as RGB bytes.
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "red": (220, 0, 0),
    "green": (0, 220, 0),
    "grey": (150, 150, 150),
    "yellow": (255, 230, 0),
}

_FONT_SCALE = 0.45  # OpenCV's plain sans-serif face: about 10 pixels high
_LINE = 18  # pixels from one line of text to the next
_GAP = 16  # white space between tiles and between rows


def grey(values: NDArray, top: float = 1.0, *, size: int | None = None,
         scale: float | None = None) -> NDArray[np.uint8]:
    """Return a 2D array as an RGB tile of bytes, from black (0) to white (``top``).

    Parameters
    ----------
    values : numpy.ndarray
        2D; its first row is the top of the tile.
    top : float
        The value shown white (higher values too).
    size : int, optional
        Resize so that the longer side has this many pixels.
    scale : float, optional
        Or resize by this factor.

    Returns
    -------
    numpy.ndarray
        (rows, columns, 3) uint8.

    Examples
    --------
    >>> grey(np.ones((10, 20)), size=40).shape
    (20, 40, 3)
    """
    import cv2

    values = np.nan_to_num(np.asarray(values, dtype=np.float32))
    bytes_ = (np.clip(values / (top or 1.0), 0, 1) * 255 + 0.5).astype(np.uint8)
    if size is not None:
        scale = size / max(bytes_.shape)
    if scale is not None and scale != 1:
        shape = (max(1, round(bytes_.shape[1] * scale)), max(1, round(bytes_.shape[0] * scale)))
        bytes_ = cv2.resize(bytes_, shape, interpolation=cv2.INTER_LINEAR)
    return np.repeat(bytes_[..., None], 3, axis=2).astype(np.uint8, copy=False)


def box(tile: NDArray[np.uint8], corner: tuple[float, float], width: float, height: float,
        colour: str, thickness: int = 1) -> None:
    """Draw a rectangle on a tile, in place.

    Parameters
    ----------
    tile : numpy.ndarray
        An RGB tile.
    corner : (x, y)
        Top left corner, in the tile's pixels.
    width, height : float
        In pixels.
    colour : str
        A name from :data:`COLOURS`.
    thickness : int
        Line width in pixels.

    Examples
    --------
    >>> tile = grey(np.zeros((20, 20)))
    >>> box(tile, (2, 2), 10, 10, "green")
    >>> tile[2, 5].tolist()
    [0, 220, 0]
    """
    import cv2

    x, y = round(corner[0]), round(corner[1])
    cv2.rectangle(tile, (x, y), (x + round(width) - 1, y + round(height) - 1),
                  COLOURS[colour], thickness)


def outline(tile: NDArray[np.uint8], mask: NDArray | None, colour: str) -> None:
    """Draw the outline of a mask on a tile, in place (the mask resized to the tile).

    Parameters
    ----------
    tile : numpy.ndarray
        An RGB tile.
    mask : numpy.ndarray or None
        2D, nonzero inside; any size (resized with nearest neighbours). None: nothing.
    colour : str
        A name from :data:`COLOURS`.

    Examples
    --------
    >>> tile = grey(np.zeros((10, 10)), size=40)
    >>> square = np.zeros((10, 10), bool)
    >>> square[3:7, 3:7] = True
    >>> outline(tile, square, "red")
    >>> bool((tile[..., 0] > tile[..., 1]).any())  # red on black
    True
    """
    import cv2

    if mask is None or not np.any(mask):
        return
    inside = cv2.resize((np.asarray(mask) > 0).astype(np.uint8), (tile.shape[1], tile.shape[0]),
                        interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(inside, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(tile, contours, -1, COLOURS[colour], 1, cv2.LINE_AA)


def text(tile: NDArray[np.uint8], words: str, corner: tuple[float, float], colour: str,
         background: str | None = None) -> None:
    """Write one line of text on a tile, in place, its baseline's left end at ``corner``.

    ``background`` fills the text's box first (e.g. black, to read on a bright render).

    Examples
    --------
    >>> tile = grey(np.zeros((20, 80)))
    >>> text(tile, "hits", (2, 15), "green")
    >>> bool(tile[..., 1].any())
    True
    """
    import cv2

    x, y = round(corner[0]), round(corner[1])
    if background is not None:
        (length, high), low = cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, _FONT_SCALE, 1)
        cv2.rectangle(tile, (x - 2, y - high - 2), (x + length + 1, y + low),
                      COLOURS[background], -1)
    cv2.putText(tile, words, (x, y), cv2.FONT_HERSHEY_SIMPLEX, _FONT_SCALE, COLOURS[colour],
                1, cv2.LINE_AA)


def _band(lines: Sequence[str], width: int, colour: str) -> NDArray[np.uint8]:
    """Return a white band ``width`` wide with the lines of text centred in it."""
    import cv2

    for words in lines:
        (length, _), _ = cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, _FONT_SCALE, 1)
        width = max(width, length + 8)
    band = np.full((_LINE * len(lines) + 6, width, 3), 255, np.uint8)
    for number, words in enumerate(lines):
        (length, _), _ = cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, _FONT_SCALE, 1)
        text(band, words, ((width - length) / 2, _LINE * (number + 1)), colour)
    return band


def caption(tile: NDArray[np.uint8], words: str, colour: str = "black") -> NDArray[np.uint8]:
    """Return the tile with a line of text centred above it.

    Examples
    --------
    >>> caption(grey(np.zeros((30, 60))), "after").shape
    (54, 60, 3)
    """
    band = _band([words], tile.shape[1], colour)
    return np.concatenate([band, _pad(tile, band.shape[1])])


def _pad(tile: NDArray[np.uint8], width: int, height: int | None = None) -> NDArray[np.uint8]:
    """Return the tile centred on white, ``width`` wide (and ``height`` high, at the foot)."""
    rows = tile.shape[0] if height is None else height
    out = np.full((rows, width, 3), 255, np.uint8)
    left = (width - tile.shape[1]) // 2
    out[rows - tile.shape[0]:, left:left + tile.shape[1]] = tile
    return out


def stack(rows: Sequence[Sequence[NDArray[np.uint8]]], title: Sequence[str] = (),
          colour: str = "black") -> NDArray[np.uint8]:
    """Return tiles set in rows (each row centred, tiles aligned at the foot), on white.

    Parameters
    ----------
    rows : sequence of sequences of tiles
        The tiles of each row, left to right.
    title : sequence of str
        Lines of text above the rows.
    colour : str
        The title's colour.

    Returns
    -------
    numpy.ndarray
        One RGB picture.

    Examples
    --------
    >>> tile = grey(np.zeros((30, 40)))
    >>> stack([[tile, tile], [tile]], title=["two rows"]).shape[1]
    128
    """
    lines = []
    for tiles in rows:
        height = max(t.shape[0] for t in tiles)
        padded = [_pad(t, t.shape[1] + _GAP, height) for t in tiles]
        lines.append(np.concatenate(padded, axis=1))
    width = max(line.shape[1] for line in lines) + _GAP
    parts = [_band(title, width, colour)] if title else []
    for line in lines:
        parts += [_pad(line, width), np.full((_GAP, width, 3), 255, np.uint8)]
    width = max(part.shape[1] for part in parts)
    return np.concatenate([_pad(part, width) for part in parts])


def png(picture: NDArray[np.uint8]) -> bytes:
    r"""Return an RGB picture encoded as PNG.

    Examples
    --------
    >>> png(grey(np.zeros((4, 4))))[:4]
    b'\x89PNG'
    """
    import cv2

    done, encoded = cv2.imencode(".png", np.ascontiguousarray(picture[..., ::-1]))
    if not done:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise ValueError("the picture could not be encoded as PNG")
    return encoded.tobytes()
