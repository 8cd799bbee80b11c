"""What sidecars need from the headers and from the other images of their session.

BIDS requires per datatype fields that dcm2niix does not always write: a functional run's
``TaskName`` (from its ``task`` entity) and, where the DICOM headers have per-slice times,
its ``SliceTiming``; a phase-difference field map's ``EchoTime1`` and ``EchoTime2`` (from
its magnitude images); a field map's ``IntendedFor`` (the session's functional and diffusion
images, as BIDS URIs). :func:`complete_session` adds them to the sidecars of one session.

Examples
--------
>>> from mrishare.bids import session
>>> bold = session.WrittenImage("sub-a/func/sub-a_task-rest_bold.nii.gz", "func", "bold",
...                             (("task", "rest"),), {"RepetitionTime": 2.0})
>>> session.complete_session([bold])
[]
>>> bold.sidecar["TaskName"]
'rest'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FIELDMAP_TARGETS", "WrittenImage", "complete_session", "slice_timing"]

FIELDMAP_TARGETS = ("func", "dwi")
"""Datatypes whose images a session's field maps are intended for."""

_FIELDMAPS_WITH_TARGETS = ("phasediff", "phase1", "phase2", "fieldmap", "epi")


@dataclass
class WrittenImage:
    """One image written into the dataset.

    Attributes
    ----------
    path : str
        Relative to the dataset, e.g. ``"sub-x/ses-1/func/sub-x_ses-1_task-rest_bold.nii.gz"``.
    datatype : str
        ``anat``, ``func``, ``dwi`` or ``fmap``: ``prepare`` defaces only ``anat``.
    suffix : str
        The BIDS suffix (``T1w``, ``bold``, ``phasediff``...).
    entities : tuple of (str, str) pairs
        The entities of the name besides ``sub`` and ``ses``.
    sidecar : dict
        The scrubbed sidecar written beside it.
    source : str
        The source series' folder (for the operator only; never written into the dataset).
    """

    path: str
    datatype: str
    suffix: str
    entities: tuple[tuple[str, str], ...] = ()
    sidecar: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def session_folder(self) -> str:
        """Return ``sub-x`` or ``sub-x/ses-n``: the folder above the datatype folder."""
        return Path(self.path).parents[1].as_posix()


def _seconds(time: str) -> float | None:
    digits = time.strip()
    try:
        clock = dt.datetime.strptime(digits[:6], "%H%M%S")
    except ValueError:
        return None
    fraction = float("0" + digits[6:]) if digits[6:7] == "." else 0.0
    return clock.hour * 3600 + clock.minute * 60 + clock.second + fraction


def slice_timing(files: Sequence[Path], affine: np.ndarray, repetition_time: float
                 ) -> list[float] | None:
    """Return the time of each slice of a functional run from its DICOM headers, or None.

    For slice-per-file exports that carry per-slice times (TriggerTime, or AcquisitionTime
    per file): each slice's time in the first volume, from the volume's start, in seconds,
    in the order of the NIfTI image's slices (matched by position along the slice normal).
    None when the headers do not say (the same time for every slice, or times beyond one
    repetition).

    Parameters
    ----------
    files : sequence of Path
        The series' DICOM files.
    affine : numpy.ndarray
        The converted image's voxel-to-world matrix (RAS).
    repetition_time : float
        In seconds.

    Returns
    -------
    list of float or None
    """
    from mrishare import readers

    normal = affine[:3, 2] / np.linalg.norm(affine[:3, 2])
    positions: list[tuple[float, float]] = []
    for path in files:
        ds = readers.read_dicom(path, stop_before_pixels=True, specific_tags=[
            "ImagePositionPatient", "TriggerTime", "AcquisitionTime"])
        position = ds.get("ImagePositionPatient")
        if position is None:
            return None
        ras = np.array([-float(position[0]), -float(position[1]), float(position[2])])
        trigger = ds.get("TriggerTime")
        when = (float(trigger) / 1000.0 if trigger not in (None, "")
                else _seconds(str(ds.get("AcquisitionTime") or "")))
        if when is None:
            return None
        positions.append((float(ras @ normal), when))
    if not positions:
        return None
    levels = sorted({round(p, 2) for p, _ in positions})
    first = {level: min(t for p, t in positions if round(p, 2) == level) for level in levels}
    start = min(first.values())
    origin = float(affine[:3, 3] @ normal)
    step = float(affine[:3, 2] @ normal)
    timing: dict[int, float] = {}
    for level, when in first.items():
        index = int(round((level - origin) / step))
        timing[index] = round(when - start, 4)
    if sorted(timing) != list(range(len(timing))):
        return None
    values = [timing[k] for k in range(len(timing))]
    if max(values) <= 0 or max(values) >= repetition_time:
        return None
    return values


def _fieldmap_fields(image: WrittenImage, images: Sequence[WrittenImage]) -> str:
    """Add EchoTime1/EchoTime2 to a phasediff sidecar; return a problem or ""."""
    if "EchoTime1" in image.sidecar and "EchoTime2" in image.sidecar:
        return ""
    others = {i.suffix: i for i in images if i.datatype == "fmap"
              and dict(i.entities) == dict(image.entities)}
    first = others.get("magnitude1")
    second = others.get("magnitude2")
    echo1 = first.sidecar.get("EchoTime") if first else None
    echo2 = second.sidecar.get("EchoTime") if second else image.sidecar.get("EchoTime")
    if echo1 is None or echo2 is None or not echo1 < echo2:
        return ("a phase-difference field map whose two echo times could not be found "
                "(no magnitude1 image with a shorter EchoTime in the session): BIDS requires "
                "EchoTime1 and EchoTime2")
    image.sidecar["EchoTime1"], image.sidecar["EchoTime2"] = echo1, echo2
    return ""


def complete_session(images: Sequence[WrittenImage]) -> list[tuple[WrittenImage, str]]:
    """Add the fields BIDS requires from the session to the sidecars of one session.

    ``Units`` of phase images (``part-phase``: ``"arbitrary"``, the scanner's scale, unless
    dcm2niix says otherwise); ``TaskName`` from the ``task`` entity of functional images;
    for phase-difference field
    maps ``EchoTime1``/``EchoTime2`` from the magnitude images of the same name; for field
    maps (phasediff, phase1/2, fieldmap, epi) ``IntendedFor``: the session's functional and
    diffusion images as BIDS URIs (``bids::sub-x/ses-1/func/...``).

    Parameters
    ----------
    images : sequence of WrittenImage
        The images of one session (their sidecars are changed in place).

    Returns
    -------
    list of (WrittenImage, str)
        Images whose sidecar lacks a field BIDS requires, with what is missing.
    """
    problems = []
    targets = sorted(f"bids::{i.path}" for i in images if i.datatype in FIELDMAP_TARGETS)
    for image in images:
        if dict(image.entities).get("part") == "phase":
            image.sidecar.setdefault("Units", "arbitrary")  # scanner phase values, not rad
        if image.datatype == "func" and "task" in dict(image.entities):
            image.sidecar["TaskName"] = dict(image.entities)["task"]
        if image.datatype == "fmap" and image.suffix == "phasediff":
            problem = _fieldmap_fields(image, images)
            if problem:
                problems.append((image, problem))
        if image.datatype == "fmap" and image.suffix in _FIELDMAPS_WITH_TARGETS and targets:
            image.sidecar["IntendedFor"] = targets
    return problems
