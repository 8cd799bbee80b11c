"""Is there a face in pictures of the head? An off-the-shelf face detector, on renders.

The registration that places the face region cannot tell whether it placed it well. A face
detector looking at renders of the skin surface can: it knows nothing of the template. This
is the attack of Schwarz et al. (2019), who matched renders of MRI heads to photographs, in
miniature: the head is rendered from the front, obliquely and in profile
(:class:`mrishare.render.Head`), and OpenCV's Haar cascades, shipped inside the
``opencv-python-headless`` wheel and run offline, look for faces in each picture.

The views, the cascades and how many overlapping hits make a face are policy, in the
``face_detector`` section of ``rules/deface_qc.yaml`` (:func:`mrishare.deface.load_targets`).

Examples
--------
>>> from mrishare import data
>>> from mrishare.deface import detect
>>> detect.detect_faces(data.load_sample("template_head")).found
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrishare.deface import targets
from mrishare.deface.images import ImageLike

__all__ = ["DetectorCheck", "FaceDetection", "ViewDetection", "check_faces", "detect_faces"]


@dataclass(frozen=True)
class ViewDetection:
    """What the detector found in one render.

    Parameters
    ----------
    view : float
        Degrees about the head's up axis (0 front, 90 the subject's right).
    picture : numpy.ndarray
        The render (values 0 to 1, row 0 at the top).
    boxes : tuple of (x, y, width, height, votes)
        Faces found, in picture pixels; ``votes`` is the number of overlapping hits.
    min_votes : int
        Votes a box needs to count as a face.
    """

    view: float
    picture: NDArray[np.float64]
    boxes: tuple[tuple[int, int, int, int, int], ...]
    min_votes: int

    @property
    def faces(self) -> tuple[tuple[int, int, int, int, int], ...]:
        """Return the boxes with enough votes to be a face."""
        return tuple(box for box in self.boxes if box[4] >= self.min_votes)


@dataclass(frozen=True)
class FaceDetection:
    """The detector's answer for one image: is there a face in any of its renders.

    Parameters
    ----------
    views : tuple of ViewDetection
        One per render.
    """

    views: tuple[ViewDetection, ...]

    @property
    def found(self) -> bool:
        """Return True when a face was found in at least one render."""
        return any(view.faces for view in self.views)

    @property
    def rate(self) -> float:
        """Return the share of renders in which a face was found."""
        return sum(bool(v.faces) for v in self.views) / len(self.views) if self.views else 0.0


@dataclass(frozen=True)
class DetectorCheck:
    """The detector before and after defacing, and what it says.

    Parameters
    ----------
    before, after : FaceDetection
        On the original and on the defaced image.
    """

    before: FaceDetection
    after: FaceDetection

    @property
    def status(self) -> str:
        """Return ``"passed"``, ``"failed"`` (a face after) or ``"could not run"``.

        The check could not run when no face was found before defacing: the detector does
        not see a face in this scan's renders, so finding none after proves nothing.
        """
        if self.after.found:
            return "failed"
        return "passed" if self.before.found else "could not run"

    def sentence(self) -> str:
        """Return the result for people.

        Returns
        -------
        str
        """
        yes = {True: "yes", False: "no"}
        text = (f"face found in renders before: {yes[self.before.found]}, after: "
                f"{yes[self.after.found]}")
        if self.status == "could not run":
            text += " (the check could not run: no face was found before defacing)"
        return text


@cache
def _cascade(name: str) -> Any:
    """Return an OpenCV cascade shipped with the wheel, loaded once."""
    import cv2

    cascade = cv2.CascadeClassifier(str(cv2.data.haarcascades) + name)  # pyright: ignore
    if cascade.empty():
        raise FileNotFoundError(f"OpenCV's cascade {name} is missing from the cv2 package.")
    return cascade


def _boxes(picture: NDArray, cascade_name: str, settings: targets.DetectorSettings
           ) -> tuple[tuple[int, int, int, int, int], ...]:
    """Return the faces a cascade finds in a picture and in its mirror image, with votes."""
    import cv2

    grey = cv2.equalizeHist((np.clip(picture, 0, 1) * 255).astype(np.uint8))
    width = grey.shape[1]
    found = []
    for mirrored in (False, True):
        pixels = np.ascontiguousarray(grey[:, ::-1]) if mirrored else grey
        boxes, votes = _cascade(cascade_name).detectMultiScale2(
            pixels, scaleFactor=settings.scale_factor, minNeighbors=3,
            minSize=(settings.min_size_px, settings.min_size_px))
        for (x, y, w, h), n in zip(boxes, votes, strict=True):
            x = width - x - w if mirrored else x
            found.append((int(x), int(y), int(w), int(h), int(n)))
    return tuple(found)


def detect_faces(image: ImageLike, *, frame: NDArray[np.float64] | None = None,
                 values: NDArray | None = None,
                 grid: tuple[NDArray, NDArray[np.float64]] | None = None) -> FaceDetection:
    """Return what the face detector finds in renders of a head.

    Parameters
    ----------
    image : path or nibabel image
        A head scan.
    frame : numpy.ndarray, optional
        4x4 from the scan's world to a head frame, so the head is seen upright (e.g. the
        rotation of a registration); by default the scanner's axes.
    values : numpy.ndarray, optional
        The image's voxel values when already read.
    grid : tuple (values, affine), optional
        The image already reduced for renders at the detector's step
        (:func:`mrishare.render.reduce_for_render`); ``image`` is then not read.

    Returns
    -------
    FaceDetection

    Examples
    --------
    >>> from mrishare import data
    >>> found = detect_faces(data.load_sample("participant_T1w"))
    >>> found.found, len(found.views)
    (True, 4)
    """
    from mrishare.render import Head

    settings = targets.shipped().detector
    head = Head(image, step_mm=settings.step_mm, values=values, grid=grid)
    del values, grid  # the head holds what it renders from
    views = []
    for angles, cascade, votes in (
        (settings.views, settings.frontal, settings.min_votes),
        (settings.profile_views, settings.profile, settings.profile_min_votes),
    ):
        for angle in angles:
            picture = head.render(angle, frame=frame)
            views.append(ViewDetection(angle, picture, _boxes(picture, cascade, settings),
                                       votes))
    return FaceDetection(tuple(views))


def check_faces(before: ImageLike, after: ImageLike, *,
                frame: NDArray[np.float64] | None = None) -> DetectorCheck:
    """Return the detector's answer on a head before and after defacing.

    Parameters
    ----------
    before, after : path or nibabel image
        The original and the defaced scan.
    frame : numpy.ndarray, optional
        4x4 from the scan's world to a head frame (see :func:`detect_faces`).

    Returns
    -------
    DetectorCheck

    Examples
    --------
    >>> from mrishare import data
    >>> from mrishare.deface import deface
    >>> result = deface(data.sample_path("participant_T1w"))
    >>> check_faces(result.original, result.image).status
    'passed'
    """
    return DetectorCheck(detect_faces(before, frame=frame), detect_faces(after, frame=frame))
