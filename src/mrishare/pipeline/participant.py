"""Prepare one participant: convert, deface, check, draw, and publish in one rename.

:func:`prepare_participant` is what each job of :func:`mrishare.pipeline.prepare` runs (in its
own process with ``jobs`` > 1). It never raises: a failure is recorded in the returned
:class:`~mrishare.pipeline.ParticipantResult`, and nothing of that participant is left in the
dataset.

Examples
--------
>>> sessions(["sub-a/ses-1/anat/sub-a_ses-1_T2w.nii.gz",
...           "sub-a/ses-1/anat/sub-a_ses-1_T1w.nii.gz"])
{'sub-a/ses-1': ['sub-a/ses-1/anat/sub-a_ses-1_T1w.nii.gz', \
'sub-a/ses-1/anat/sub-a_ses-1_T2w.nii.gz']}
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrishare._paths import atomic_write, write_text
from mrishare.keys import Key
from mrishare.pipeline.records import ImageResult, ParticipantResult, QCResult, SourceNote
from mrishare.pipeline.state import participants_row

if TYPE_CHECKING:
    from mrishare.bids import WrittenImage

__all__ = ["ANATOMICAL", "deface_session", "prepare_participant", "sessions", "suffix_of"]

log = logging.getLogger("mrishare")

ANATOMICAL = ("T1w", "UNIT1", "T2w", "PDw", "T2starw", "FLAIR", "PD", "inplaneT1", "inplaneT2")
"""The order in which a session's anatomical images are defaced: the first one present is
the reference, the others are defaced through it (other anatomical suffixes come last)."""

_SHARED_FILES = ("dataset_description.json", "participants.json")


def suffix_of(path: str) -> str:
    """Return the BIDS suffix of an image path (``T1w`` of ``sub-a_T1w.nii.gz``).

    Examples
    --------
    >>> suffix_of("sub-a/anat/sub-a_ses-1_T2w.nii.gz")
    'T2w'
    """
    return Path(path).name.split(".")[0].rsplit("_", 1)[-1]


def _session_of(path: str) -> str:
    parts = Path(path).parts
    return parts[1] if len(parts) > 3 and parts[1].startswith("ses-") else ""


def sessions(written: Iterable[str]) -> dict[str, list[str]]:
    """Group image paths by session folder (``sub-x`` or ``sub-x/ses-n``), T1w first.

    Parameters
    ----------
    written : iterable of str
        Image paths relative to the dataset.

    Returns
    -------
    dict of str to list of str
    """
    by_session: dict[str, list[str]] = {}
    for path in written:
        parts = Path(path).parts
        session = "/".join(parts[:2] if len(parts) > 3 else parts[:1])
        by_session.setdefault(session, []).append(path)
    order = {suffix: i for i, suffix in enumerate(ANATOMICAL)}
    for paths in by_session.values():
        paths.sort(key=lambda p: (order.get(suffix_of(p), 99), p))
    return by_session


def _save_figure(figure: Any, path: Path) -> None:
    with atomic_write(path) as f:
        figure.savefig(f, format="png", dpi=72)


NOT_DEFACED = {
    "func": "not defaced: a functional (BOLD) image, scrubbed only (see chapter 9)",
    "dwi": "not defaced: a diffusion image, scrubbed only (see chapter 9)",
    "fmap": "not defaced: a field map, scrubbed only (see chapter 9)",
}
"""What a written image of each non-anatomical datatype gets instead of defacing, and why."""


def _grid(image: Any) -> tuple[Any, ...]:
    """Return what makes two images share voxels: shape and affine (rounded to 1e-4)."""
    return (tuple(image.shape), tuple(round(float(v), 4) for v in image.affine.ravel()))


def deface_session(build: Path, images: list[WrittenImage], renders: Path) -> list[ImageResult]:
    """Deface a session's anatomical images in place: T1w first, the others through it.

    The first anatomical image (the T1w, or, in a session without one, the first other
    anatomical image) is the reference: :func:`mrishare.deface.deface_images` defaces it by
    the template method, carries its face region to the session's other anatomical images,
    and checks each. Images of one acquisition on one grid (the echoes and the phase image
    of a multi-echo series) share the voxels of the first of them: they take its removed
    region as it is, and are checked too. Every defaced image is drawn before and after
    (:func:`mrishare.render.before_after`, into ``renders``). Nothing is written until
    every image of the session is defaced.

    Parameters
    ----------
    build : Path
        The BIDS folder the paths are relative to.
    images : list of mrishare.bids.WrittenImage
        The session's anatomical images, in the order of :func:`sessions` (T1w first).
    renders : Path
        Where the before/after pictures go.

    Returns
    -------
    list of ImageResult
        One per image, in the order of ``images``.

    Raises
    ------
    mrishare.errors.DefaceError
        When an image cannot be defaced (nothing is written then).
    """
    from mrishare import deface, nifti, qc, render

    records = [ImageResult(i.path, i.suffix, _session_of(i.path)) for i in images]
    if not images:
        return records
    # Read fully into memory: the defaced image replaces the file, and an image read
    # lazily from it would then show the defaced voxels as "before".
    loaded: list[Any] = [nifti.load_nifti(build / i.path) for i in images]
    first_of: dict[tuple[Any, ...], int] = {}
    for index, (image, data) in enumerate(zip(images, loaded, strict=True)):
        first_of.setdefault((image.source, _grid(data)), index)
    leads = sorted(set(first_of.values()))
    done = dict(zip(leads, deface.deface_images(loaded[leads[0]],
                                                [loaded[i] for i in leads[1:]], "template"),
                    strict=True))
    reference = records[leads[0]].suffix
    results = []
    for index, (record, image, data) in enumerate(zip(records, images, loaded, strict=True)):
        lead = first_of[(image.source, _grid(data))]
        if index == lead:
            result, report = done[lead].result, done[lead].qc
            record.defaced = ("template face region carried by registration"
                              + ("" if reference == "T1w" else " (no T1w in this session)")
                              if index == leads[0] else
                              f"face region of the session's {reference}, carried to this image")
        else:
            twin = done[lead].result
            result = deface.DefaceResult(
                image=deface.apply_mask(data, twin.removed), removed_mask=twin.removed_mask,
                face_mask=twin.face_mask, brain_mask=twin.brain_mask, method=twin.method,
                registration=twin.registration, original=data, name=image.path)
            report = qc.check(result)
            record.defaced = (f"face region of {Path(records[lead].path).name} (the same "
                              "acquisition, on the same voxels), applied to this image")
        record.qc = QCResult.from_report(report)
        picture = renders / f"{Path(record.path).name.split('.')[0]}_before_after.png"
        _save_figure(render.before_after(result.original, result.image,
                                         frame=result.registration.matrix), picture)
        record.renders = [picture.name]
        results.append(result)
    for record, result in zip(records, results, strict=True):
        nifti.save_nifti(result.image, build / record.path)
    return records


def _view(src: Path, files: Iterable[Path], folder: Path) -> Path:
    """Make a folder of links to one participant's files, at their paths in the source."""
    for path in files:
        link = folder / path.relative_to(src)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path.resolve())
    return folder


def _publish(build: Path, dst: Path, label: str) -> None:
    """Move ``sub-<label>`` into the dataset in one rename (an older copy is replaced)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in _SHARED_FILES:
        if not (dst / name).exists():
            write_text(dst / name, (build / name).read_text(encoding="utf-8"))
    target = dst / f"sub-{label}"
    staging = dst.parent / f".{dst.name}-incoming-{label}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.move(str(build / f"sub-{label}"), staging)  # same filesystem as dst from here
    if target.exists():
        old = dst.parent / f".{dst.name}-old-{label}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def prepare_participant(src: str, files: list[str], dst: str, report: str, secret: bytes,
                        reproducible: bool, sessions_level: bool, label: str,
                        config: str | None = None) -> ParticipantResult:
    """Prepare one participant. Never raises: a failure is recorded and returned.

    Parameters
    ----------
    src : str
        The source study.
    files : list of str
        The participant's DICOM files (in ``src``).
    dst : str
        The dataset.
    report : str
        The private report folder (work folders and pictures go there).
    secret : bytes
        The key's secret (a :class:`mrishare.keys.Key` is made from it in the job).
    reproducible : bool
        False for a random key.
    sessions_level : bool
        Use ``ses-`` folders (decided once for the whole source, so that every participant
        has the same layout).
    label : str
        The participant's label.
    config : str, optional
        A series mapping file of the user's (``--config``), tried before the shipped one.

    Returns
    -------
    ParticipantResult
    """
    from mrishare import bids

    start = time.perf_counter()
    key = Key(secret, reproducible=reproducible)
    src_path, dst_path, report_path = Path(src), Path(dst), Path(report)
    result = ParticipantResult(label)
    work = Path(tempfile.mkdtemp(prefix=f".work-{label}-", dir=report_path))
    try:
        view = _view(src_path, [Path(f) for f in files], work / "source")
        converted = bids.to_bids(view, work / "bids", key, jobs=1, sessions=sessions_level,
                                 series_mapping=bids.load_config(config) if config else None)
        result.skipped = [SourceNote(p.source, p.message) for p in converted.skipped]
        result.failed = [SourceNote(p.source, p.message) for p in converted.failed]
        if not converted.written:
            result.status = "failed"
            if not result.failed:
                result.failed.append(SourceNote("(all series)",
                                                "no series of this participant could be used"))
            return result
        renders = report_path / "images"
        renders.mkdir(parents=True, exist_ok=True)
        anatomical = {i.path: i for i in converted.images if i.datatype == "anat"}
        for paths in sessions(anatomical).values():
            result.images += deface_session(work / "bids", [anatomical[p] for p in paths],
                                            renders)
        result.images += [ImageResult(i.path, i.suffix, _session_of(i.path),
                                      NOT_DEFACED.get(i.datatype, "not defaced: left as "
                                                      "converted"))
                          for i in converted.images if i.datatype != "anat"]
        result.row = participants_row(work / "bids" / "participants.tsv", label)
        _publish(work / "bids", dst_path, label)
        if result.failed:
            result.status = "incomplete"
    except Exception as error:  # one participant's failure must not stop the others
        result.status = "failed"
        result.failed.append(SourceNote("(participant)", f"{type(error).__name__}: {error}"))
        log.debug("participant %s failed:\n%s", label, traceback.format_exc())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        result.seconds = round(time.perf_counter() - start, 2)
        result.finished = dt.datetime.now().isoformat(timespec="seconds")
    return result
