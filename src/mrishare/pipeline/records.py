"""What ``prepare`` did, as records: per image, per participant, for the whole run.

The records are what :func:`mrishare.pipeline.prepare` returns, what its report shows and what
its state files keep (as JSON, read back with :meth:`ParticipantResult.from_dict`).
:meth:`PrepareResult.to_frame` puts every image in one table.

Examples
--------
>>> qc = QCResult(passed=True, summary="QC PASSED (template)",
...               measures={"brain_removed_ml": 0.0, "face_removed_share": 1.0,
...                         "head_fit": 0.97})
>>> qc.line()
'passed: brain removed 0.00 ml, face removed 100%, head fit 0.97 Dice'
>>> image = ImageResult("sub-a/anat/sub-a_T1w.nii.gz", "T1w", defaced="template", qc=qc)
>>> ParticipantResult.from_dict(ParticipantResult("a", images=[image]).to_dict()).images[0].qc
... # doctest: +ELLIPSIS
QCResult(passed=True, ...)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FRAME_COLUMNS", "ImageResult", "ParticipantResult", "PrepareResult", "QCResult",
           "SourceNote"]

STATUSES = ("done", "failed", "incomplete")

FRAME_COLUMNS = ("participant", "session", "image", "path", "defaced", "qc_passed",
                 "brain_removed_ml", "face_removed_share", "head_fit",
                 "face_share_disagreement")
"""The columns of :meth:`PrepareResult.to_frame`."""


def _targets() -> dict[str, tuple[str, float, str, str]]:
    from mrishare.qc import TARGETS

    return TARGETS


@dataclass(frozen=True)
class QCResult:
    """The quality check of one defaced image (see :mod:`mrishare.qc`).

    Parameters
    ----------
    passed : bool
        True when every measure met its target.
    summary : str
        :func:`mrishare.qc.summary`: each measure, its target, PASSED or FAILED.
    measures : dict of str to float
        Measure name (``brain_removed_ml``, ``face_removed_share``, ``head_fit``,
        ``face_share_disagreement``) to value.
    face_before, face_after : bool or None
        Whether the face detector found a face in renders before and after defacing
        (None when it did not run).
    detector : str
        The detector's verdict: ``"passed"``, ``"failed"``, ``"could not run"`` or ``""``.
    """

    passed: bool
    summary: str = ""
    measures: dict[str, float] = field(default_factory=dict)
    face_before: bool | None = None
    face_after: bool | None = None
    detector: str = ""

    @classmethod
    def from_report(cls, report: Any) -> QCResult:
        """Make the record of a :class:`mrishare.qc.QCReport`.

        Parameters
        ----------
        report : mrishare.qc.QCReport

        Returns
        -------
        QCResult
        """
        from mrishare import qc

        before, after = report.face_found
        return cls(bool(report.passed), qc.summary(report),
                   {name: float(value) for name, value in report.as_dict().items()},
                   before, after, report.detector.status if report.detector else "")

    def line(self) -> str:
        """Return the verdict and the measures in one line, for a report's table.

        Returns
        -------
        str
            ``"passed: brain removed 0.00 ml, face removed 100%, head fit 0.98 Dice"``.
        """
        shown = []
        for name, (_, _, unit, _) in _targets().items():
            value = self.measures.get(name)
            if isinstance(value, int | float):
                what = name.removesuffix("_ml").removesuffix("_share").replace("_", " ")
                shown.append(f"{what} {value:.0%}" if unit == "share" else
                             f"{what} {value:.2f} {unit}")
        if self.detector:
            yes = {True: "yes", False: "no", None: "-"}
            shown.append(f"face found in renders before: {yes[self.face_before]}, after: "
                         f"{yes[self.face_after]}"
                         + (" (check could not run)" if self.detector == "could not run"
                            else ""))
        return ("passed: " if self.passed else "FAILED: ") + ", ".join(shown)


@dataclass(frozen=True)
class SourceNote:
    """A source series (or step) left out, and why.

    Parameters
    ----------
    source : str
        A folder of the source (private: it may carry a name), or ``"(participant)"``.
    reason : str
        Why it was skipped or failed.
    """

    source: str
    reason: str


@dataclass
class ImageResult:
    """One image written into the dataset, and what was done to it.

    Parameters
    ----------
    path : str
        Its path in the dataset (``sub-x/ses-1/anat/sub-x_ses-1_T1w.nii.gz``).
    suffix : str
        Its BIDS suffix (``T1w``, ``T2w``, ``bold``...).
    session : str, default ""
        Its session folder (``ses-1``), ``""`` without sessions.
    defaced : str, default ""
        How it was defaced, or why not.
    qc : QCResult or None, default None
        The defacing's quality check (None when not defaced).
    renders : list of str, default []
        Before/after pictures, in the report folder's ``images/``.
    """

    path: str
    suffix: str
    session: str = ""
    defaced: str = ""
    qc: QCResult | None = None
    renders: list[str] = field(default_factory=list)

    @property
    def qc_passed(self) -> bool:
        """True when not defaced, or defaced and every QC target met."""
        return self.qc is None or self.qc.passed


@dataclass
class ParticipantResult:
    """What happened to one participant (kept in the private report folder).

    Parameters
    ----------
    label : str
        The pseudonym (``sub-<label>``).
    status : {"done", "failed", "incomplete"}
        ``incomplete``: written, but some series failed (see ``failed``).
    images : list of ImageResult
        One per image written.
    skipped : list of SourceNote
        Source series left out on purpose.
    failed : list of SourceNote
        Source series or steps that failed.
    row : dict of str to str
        This participant's ``participants.tsv`` values.
    seconds : float
        Time taken.
    finished : str
        When (ISO date and time).
    """

    label: str
    status: str = "done"
    images: list[ImageResult] = field(default_factory=list)
    skipped: list[SourceNote] = field(default_factory=list)
    failed: list[SourceNote] = field(default_factory=list)
    row: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    finished: str = ""

    @property
    def qc_passed(self) -> bool:
        """True when every defaced image passed its QC."""
        return all(image.qc_passed for image in self.images)

    def to_dict(self) -> dict[str, Any]:
        """Return the record as plain data (what a state file holds).

        Returns
        -------
        dict
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, content: Any) -> ParticipantResult:
        """Read a record back from :meth:`to_dict`'s plain data.

        Parameters
        ----------
        content : dict

        Returns
        -------
        ParticipantResult

        Raises
        ------
        ValueError
            When the data are not such a record (the message says what is wrong).
        """
        try:
            if not isinstance(content, dict):
                raise ValueError(f"expected an object, got {type(content).__name__}")
            if content.get("status") not in STATUSES:
                raise ValueError(f"status is {content.get('status')!r}")
            images = [_image(item) for item in content.get("images", [])]
            return cls(
                label=str(content["label"]), status=content["status"], images=images,
                skipped=[SourceNote(**item) for item in content.get("skipped", [])],
                failed=[SourceNote(**item) for item in content.get("failed", [])],
                row={str(k): str(v) for k, v in content.get("row", {}).items()},
                seconds=float(content.get("seconds", 0.0)),
                finished=str(content.get("finished", "")),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a participant record ({type(error).__name__}: {error})"
                             ) from None


def _image(item: dict[str, Any]) -> ImageResult:
    qc = item.get("qc")
    if qc is not None:
        measures = qc.get("measures")
        if measures is None:  # the flat layout of earlier versions
            measures = {k: v for k, v in qc.items() if k not in ("passed", "summary")}
        found = {k: (None if qc.get(k) is None else bool(qc.get(k)))
                 for k in ("face_before", "face_after")}
        qc = QCResult(bool(qc.get("passed", True)), str(qc.get("summary", "")),
                      {str(k): float(v) for k, v in measures.items()},
                      found["face_before"], found["face_after"], str(qc.get("detector", "")))
    return ImageResult(path=str(item["path"]), suffix=str(item["suffix"]),
                       session=str(item.get("session", "")),
                       defaced=str(item.get("defaced", "")), qc=qc,
                       renders=[str(r) for r in item.get("renders", [])])


@dataclass
class PrepareResult:
    """The outcome of :func:`mrishare.pipeline.prepare`.

    Parameters
    ----------
    dataset : Path
        The BIDS dataset (shareable once the audit is clean).
    report : Path
        The report (Markdown); ``report.html`` sits next to it. Private: keep it out of
        the dataset.
    participants : list of ParticipantResult
        Every participant of the dataset, done now or before.
    reused : list of str
        Labels skipped because they were done by an earlier run.
    audit : mrishare.audit.AuditReport or None
        The audit of the dataset (None when nothing was written).
    not_dicom : list of str
        Source files that are not DICOM images (ignored).
    reproducible : bool
        False when a random key was used.
    seconds : float
        Time taken.
    """

    dataset: Path
    report: Path
    participants: list[ParticipantResult] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    audit: Any = None
    not_dicom: list[str] = field(default_factory=list)
    reproducible: bool = True
    seconds: float = 0.0

    @property
    def failed(self) -> list[ParticipantResult]:
        """Participants with a failed step or series."""
        return [p for p in self.participants if p.status != "done"]

    @property
    def exit_status(self) -> int:
        """1 when the audit found something or QC failed; else 3 when inputs failed; else 0.

        A leak outranks an incomplete dataset: either way the dataset is not ready, but a
        leak is the one that must never be shared.
        """
        if (self.audit is not None and not self.audit.clean) or not all(
            p.qc_passed for p in self.participants
        ):
            return 1
        return 3 if self.failed else 0

    def images(self) -> list[tuple[ParticipantResult, ImageResult]]:
        """Return every image with its participant, in the order of the participants.

        Returns
        -------
        list of (ParticipantResult, ImageResult)
        """
        return [(p, image) for p in self.participants for image in p.images]

    def to_frame(self) -> Any:
        """Return one row per image: who, which, how defaced, and the QC measures.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`FRAME_COLUMNS`: ``participant`` (``sub-<label>``), ``session``,
            ``image`` (the suffix), ``path``, ``defaced``, ``qc_passed`` (None when not
            defaced) and the QC measures (NaN when not defaced).

        Examples
        --------
        >>> image = ImageResult("sub-a/anat/sub-a_bold.nii.gz", "bold", defaced="no")
        >>> frame = PrepareResult(Path("d"), Path("r"), participants=[
        ...     ParticipantResult("a", images=[image])]).to_frame()
        >>> frame.loc[0, ["participant", "image", "qc_passed"]].tolist()
        ['sub-a', 'bold', None]
        """
        import pandas as pd

        rows = []
        for participant, image in self.images():
            measures = image.qc.measures if image.qc else {}
            rows.append({
                "participant": f"sub-{participant.label}", "session": image.session,
                "image": image.suffix, "path": image.path, "defaced": image.defaced,
                "qc_passed": image.qc.passed if image.qc else None,
                **{name: measures.get(name, float("nan")) for name in FRAME_COLUMNS[6:]},
            })
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
