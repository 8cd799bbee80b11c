"""Is a face still there? The template's face region, carried into a scan, looked into.

The template head is registered to the scan as for defacing, its face region carried into
the scan's grid, and the share of that region where the scan shows tissue measured. After
defacing it is (nearly) empty; a head with its face fills a fifth or more of it. The audit
(:func:`mrishare.audit.audit`) uses it to flag images whose face is still there.

Examples
--------
>>> from mrishare import data
>>> from mrishare.deface import presence
>>> presence.face_present(data.sample_path("participant_T1w")).present
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mrishare.deface import targets
from mrishare.deface.images import (
    ImageLike,
    head_mask,
    load_image,
    name_of,
    scaling,
    stored_values,
    voxel_ml,
)
from mrishare.deface.template import carry, register_template

__all__ = ["FACE_PRESENT_SHARE", "FaceCheck", "face_present"]

FACE_PRESENT_SHARE = targets.shipped().face_present_share
"""Share of the face region holding tissue above which a face is still there
(``face_present`` in ``rules/deface_qc.yaml``)."""


@dataclass(frozen=True)
class FaceCheck:
    """Whether a face is still there, as :func:`face_present` measured it.

    Parameters
    ----------
    present : bool
        More than :data:`FACE_PRESENT_SHARE` of the face region holds tissue.
    share : float
        The share of the template's face region, carried into the scan, that holds tissue.
    tissue_ml : float
        That tissue's volume in millilitres.
    fit : float
        How well the registered template head overlaps the scan's head (Dice).
    detail : str
        A sentence for people.
    """

    present: bool
    share: float
    tissue_ml: float
    fit: float
    detail: str


def face_present(image: ImageLike, *, seed: int = 0) -> FaceCheck:
    """Return whether the template's face region, carried into the scan, holds a face.

    Parameters
    ----------
    image : path or nibabel image
        A 3D head scan.
    seed : int
        Seeds the registration's sampling.

    Returns
    -------
    FaceCheck

    Raises
    ------
    DefaceError
        When the template cannot be registered to the image (see
        :func:`mrishare.deface.register_template`).

    Examples
    --------
    >>> from mrishare import data
    >>> from mrishare.deface import deface
    >>> face_present(deface(data.sample_path("participant_T1w")).image).present
    False
    """
    name = name_of(image)
    image = load_image(image)
    stored = stored_values(image)
    registration = register_template(image, seed=seed, stored=stored, name=name)
    face, _ = carry(registration, image)
    slope, inter = scaling(image)
    values = np.nan_to_num(stored.astype(np.float32) * np.float32(slope) + np.float32(inter))
    tissue = face & head_mask(values)
    share = float(tissue.sum() / face.sum()) if face.any() else 0.0
    tissue_ml = float(tissue.sum()) * voxel_ml(image)
    present = share > FACE_PRESENT_SHARE
    detail = (
        f"{share:.0%} of the template's face region holds tissue ({tissue_ml:.0f} ml; at "
        f"most {FACE_PRESENT_SHARE:.0%} after defacing): the face is still there. Deface "
        "the image (mrishare deface) before sharing."
        if present else
        f"the template's face region is empty ({share:.1%} holds tissue): no face found"
    )
    return FaceCheck(present, share, tissue_ml, float(registration.fit), detail)
