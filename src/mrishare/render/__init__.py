"""Pictures of heads: a 3D face render, slice views, and before/after figures.

A head scan holds the skin surface of the whole head, face included.
:func:`face_render` turns it into a shaded picture of that surface, seen from any side
(:mod:`~mrishare.render.surface`); :func:`slices` shows three planes through a scan with
masks outlined (:mod:`~mrishare.render.planes`). The QC picture
(:func:`mrishare.qc.picture`) is composed from them without a plotting library
(:mod:`~mrishare.render.sheet`); the report of ``prepare`` uses them too; the book's
slider to turn a head is in :mod:`mrishare.lessons.render`.

Examples
--------
>>> from mrishare import data, render
>>> picture = render.face_render(data.load_sample("participant_T1w"), step_mm=3.0)
>>> picture.ndim
2
"""

from mrishare.render.planes import orthogonal_planes, slices
from mrishare.render.surface import (
    VIEWS,
    Head,
    before_after,
    face_render,
    reduce_for_render,
    render_factors,
    show_face,
    surface_threshold,
)

__all__ = [
    "VIEWS",
    "Head",
    "before_after",
    "face_render",
    "orthogonal_planes",
    "reduce_for_render",
    "render_factors",
    "show_face",
    "slices",
    "surface_threshold",
]
