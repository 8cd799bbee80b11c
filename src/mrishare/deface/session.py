"""Deface a session: the T1w by a method, the other contrasts through it, QC for each.

:func:`deface_images` is the one place where "deface the reference scan, carry its face
region to the session's other contrasts, check each" happens: ``mrishare deface`` and
``mrishare prepare`` both call it.

Examples
--------
>>> from mrishare import data
>>> from mrishare.deface import session
>>> done = session.deface_images(data.sample_path("participant_T1w"))
>>> len(done), done[0].qc.passed
(1, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mrishare.deface.images import ImageLike
from mrishare.deface.scan import DefaceResult, deface, deface_other

if TYPE_CHECKING:
    from mrishare.qc import QCReport

__all__ = ["DefacedImage", "deface_images"]


@dataclass
class DefacedImage:
    """One defaced image of a session with its quality check.

    Parameters
    ----------
    result : DefaceResult
        What :func:`mrishare.deface.deface` or :func:`mrishare.deface.deface_other` returned.
    qc : mrishare.qc.QCReport
        Its measures and verdict (:func:`mrishare.qc.check`).
    """

    result: DefaceResult
    qc: QCReport


def deface_images(
    reference: ImageLike,
    others: Sequence[ImageLike] | None = None,
    method: str = "template",
    *,
    detector: bool = True,
) -> list[DefacedImage]:
    """Return a session defaced: the reference by ``method``, the others through it.

    Nothing is written; save each ``result.image`` with
    :func:`mrishare.readers.save_nifti` once every image worked.

    Parameters
    ----------
    reference : path or nibabel image
        The scan the template is registered to (a T1w where the session has one).
    others : sequence of path or nibabel image, optional
        Other contrasts of the same session (T2w, FLAIR...), defaced by registering each
        to the reference.
    method : {"template", "quickshear"}, default "template"
        How the reference's face is found.
    detector : bool, default True
        Run the face detector on renders before and after (see :func:`mrishare.qc.check`).

    Returns
    -------
    list of DefacedImage
        The reference first, then each of ``others`` in order.

    Raises
    ------
    DefaceError
        When any image cannot be defaced (nothing is returned then).

    Examples
    --------
    >>> from mrishare import data
    >>> done = deface_images(data.sample_path("participant_T1w"),
    ...                      [data.sample_path("participant_T2w")])
    >>> [d.qc.passed for d in done]
    [True, True]
    """
    from mrishare import qc

    results = [deface(reference, method)]
    results += [deface_other(other, results[0]) for other in others or []]
    def checked(result: DefaceResult) -> DefacedImage:
        return DefacedImage(result, qc.check(result) if detector
                            else qc.check(result, detector=False))

    return [checked(result) for result in results]
