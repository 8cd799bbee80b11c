"""Turn a head around with sliders, in a live notebook: the book's interactive render.

:func:`interactive_face` shows :func:`mrishare.render.face_render` of a scan in an
``ipywidgets.Image``, with sliders for the viewing angle and the height of the eye.

The picture is a PNG handed to an ``Image`` widget, never drawn inside an ``Output``
widget: while a notebook is executed without a browser (``jupyter-book build``,
``nbconvert --execute``), nbclient stands in for an ``Output`` widget and sends its state
back to the kernel on the shell channel while it waits on that same channel for the cell's
reply; that wait can then miss the reply until the cell's timeout ends it (a notebook of 8 s
once took 305 s with a 300 s timeout). An ``Image`` widget sends nothing back, so execution
never waits on it.

Examples
--------
>>> from mrishare.lessons import render
>>> png = render.picture_png(np.zeros((4, 4)))
>>> png[1:4]
b'PNG'
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrishare import readers
from mrishare import render as core_render

__all__ = ["draw_detection", "interactive_face", "picture_png", "show_detection"]


def picture_png(picture: NDArray, *, scale: int = 2) -> bytes:
    """Return a grey picture (values 0 to 1) as PNG bytes, each pixel ``scale`` times.

    Parameters
    ----------
    picture : numpy.ndarray
        2D, values 0 (black) to 1 (white), row 0 at the top.
    scale : int, default 2
        Each pixel becomes a ``scale`` by ``scale`` block.

    Returns
    -------
    bytes

    Examples
    --------
    >>> import io
    >>> import matplotlib.image as mpimg
    >>> back = mpimg.imread(io.BytesIO(picture_png(np.eye(3), scale=2)))
    >>> back.shape[:2]
    (6, 6)
    """
    from mrishare.render import sheet

    return sheet.png(sheet.grey(np.kron(np.asarray(picture, float), np.ones((scale, scale)))))


def interactive_face(
    image: Any,
    *,
    step_mm: float = 2.5,
    frame: NDArray[np.float64] | None = None,
) -> Any:
    """Return a face render with sliders for the viewing angle (live Jupyter sessions).

    Uses ipywidgets, which work offline in Jupyter and Binder; without them the front view
    is returned as a figure instead. In a static page widgets do not run: hide the cell's
    output there.

    Parameters
    ----------
    image : path or nibabel image
        A head scan.
    step_mm : float, default 2.5
        Pixel size of the render (smaller is sharper and slower).
    frame : numpy.ndarray, optional
        4x4 from the scan's world to a head frame (see
        :func:`mrishare.render.face_render`).

    Returns
    -------
    ipywidgets.VBox or matplotlib.figure.Figure

    Examples
    --------
    >>> from mrishare import data
    >>> box = interactive_face(data.load_sample("template_head"), step_mm=6.0)
    >>> [type(child).__name__ for child in box.children]
    ['HBox', 'Image']
    """
    try:
        import ipywidgets as widgets
    except ImportError:  # static fallback
        return core_render.show_face(image, ("front",), step_mm=step_mm, frame=frame)

    if isinstance(image, str | os.PathLike):
        image = readers.load_nifti(image)  # read once, rendered at every move
    picture = widgets.Image(format="png", layout=widgets.Layout(width="320px"))
    angle = widgets.IntSlider(value=0, min=-180, max=180, step=15,
                              description="angle", continuous_update=False)
    lift = widgets.IntSlider(value=0, min=-45, max=45, step=15,
                             description="from above", continuous_update=False)

    def draw(_: Any = None) -> None:
        shade = core_render.face_render(image, float(angle.value), step_mm=step_mm,
                                        frame=frame, elevation_deg=float(lift.value))
        picture.value = picture_png(shade)

    angle.observe(draw, names="value")
    lift.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([angle, lift]), picture])


def show_detection(found: Any, *, title: str | None = None) -> Any:
    """Return a figure of a face detector's renders with its boxes, one per view.

    Parameters
    ----------
    found : mrishare.deface.detect.FaceDetection
        What :func:`mrishare.deface.detect.detect_faces` returned.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Green boxes: faces (enough overlapping hits); grey dashed: hits too few to count.

    Examples
    --------
    >>> from mrishare import data
    >>> from mrishare.deface import detect
    >>> found = detect.detect_faces(data.load_sample("template_head"))
    >>> len(show_detection(found).axes) == len(found.views)
    True
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(found.views), figsize=(2.8 * len(found.views), 3.2))
    plt.close(figure)
    for ax, view in zip(np.ravel(axes), found.views, strict=True):
        draw_detection(ax, view)
        votes = max((box[4] for box in view.boxes), default=0)
        ax.set_title(f"{view.view:.0f} deg: {'face' if view.faces else 'no face'} "
                     f"({votes} hits)", fontsize=9)
    if title:
        figure.suptitle(title)
    return figure


def draw_detection(ax: Any, view: Any) -> None:
    """Draw one render with the detector's boxes on a matplotlib axes.

    Parameters
    ----------
    ax : matplotlib axes
        Where to draw.
    view : mrishare.deface.detect.ViewDetection
        The render and its boxes: green with enough votes to count as a face, grey
        dashed below.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from mrishare import data
    >>> from mrishare.deface import detect
    >>> found = detect.detect_faces(data.load_sample("template_head"))
    >>> fig, ax = plt.subplots()
    >>> draw_detection(ax, found.views[0])
    >>> len(ax.patches) >= 1
    True
    """
    from matplotlib.patches import Rectangle

    ax.imshow(view.picture, cmap="gray", vmin=0, vmax=1)
    for x, y, w, h, votes in view.boxes:
        face = votes >= view.min_votes
        ax.add_patch(Rectangle((x, y), w, h, fill=False, linewidth=1.5 if face else 0.8,
                               edgecolor="lime" if face else "0.6",
                               linestyle="-" if face else "--"))
    if view.faces:
        x, y, _, _, votes = max(view.faces, key=lambda box: box[4])
        ax.text(x, y - 3, f"{votes} hits", color="lime", fontsize=7)
    ax.set_axis_off()
