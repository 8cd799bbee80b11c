"""De-identify a whole export: every file under a folder, named by pseudonyms, with a report.

Each file is read with :func:`mrishare.readers.read_dicom` (so files without a file meta
header are accepted, and refused files get the reader's reason), left out when
:func:`~mrishare.dicom.leave_out.leave_out_reason` says so, de-identified, and written into a
staging folder inside the destination. Once all are done, each is renamed to
``sub-<label>/ses-<n>/<series number>-<modality>/<instance number>.dcm``. The source is only
read.

Examples
--------
>>> import tempfile, pathlib
>>> from mrishare import data
>>> from mrishare.keys import Key
>>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> report = deidentify_folder(data.sample_path("pydicom_MR_small"), out, Key(bytes(32)))
>>> report.exit_status, report.series[0].files, report.series[0].modality
(0, 1, 'MR')
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from mrishare import __version__
from mrishare._paths import refuse_inside_source, write_json, write_text
from mrishare.dicom.actions import deidentify
from mrishare.dicom.leave_out import leave_out_reason
from mrishare.dicom.options import Options
from mrishare.dicom.people import StudyRecord, number_sessions, study_record
from mrishare.dicom.profile import load_profile
from mrishare.errors import BadInputError, SourceError
from mrishare.keys import Key
from mrishare.readers import read_dicom

__all__ = ["STAGING", "FileResult", "Report", "SkippedFile", "WrittenSeries", "deidentify_folder"]

STAGING = ".mrishare-staging"
"""The folder inside the destination while a batch runs; removed at the end."""


@dataclass
class FileResult:
    """What happened to one source file.

    Parameters
    ----------
    source : str
        The file's path relative to the source folder.
    status : str
        ``"written"``, ``"left out"`` (on purpose: see :func:`leave_out_reason`) or
        ``"failed"`` (bad input).
    reason : str
        Why it was left out or failed.
    participant : str
        The participant label.
    study : StudyRecord, optional
        Original values: stays in memory, never written.
    series : str
        A keyed name of the series.
    series_number, instance : int, optional
        Series and instance numbers of the file.
    modality : str
        The modality, letters and digits only (``"OT"`` when missing).
    staged, output : str
        Its path in the staging folder, then in the destination.
    """

    source: str
    status: str
    reason: str = ""
    participant: str = ""
    study: StudyRecord | None = field(default=None, repr=False)
    series: str = ""
    series_number: int | None = None
    modality: str = ""
    instance: int | None = None
    staged: str = ""
    output: str = ""


@dataclass
class WrittenSeries:
    """One series written: where, and how many files.

    Parameters
    ----------
    participant : str
        ``sub-<label>``.
    session : int
        The session number.
    series : str
        The series folder, ``<number>-<modality>``.
    modality : str
    path : str
        The folder relative to the destination.
    files : int
    """

    participant: str
    session: int
    series: str
    modality: str
    path: str
    files: int = 0


@dataclass
class SkippedFile:
    """A source file not written, and why.

    Parameters
    ----------
    source : str
        Its path relative to the source folder (can carry names: the report stays private).
    reason : str
    """

    source: str
    reason: str


@dataclass
class Report:
    """What a batch did: per series, what was left out and what failed, and why.

    The report names source files (their paths can carry names): keep it with the
    originals, out of the shared dataset.

    Parameters
    ----------
    profile : str
        The edition of the profile and where it came from.
    options : list of str
        The options switched on.
    key : str
        Whether the key was given (reproducible) or random.
    series : list of WrittenSeries
    left_out, failed : list of SkippedFile
    version : str
        mrishare's version.
    """

    profile: str
    options: list[str]
    key: str
    series: list[WrittenSeries] = field(default_factory=list)
    left_out: list[SkippedFile] = field(default_factory=list)
    failed: list[SkippedFile] = field(default_factory=list)
    version: str = __version__

    @property
    def exit_status(self) -> int:
        """Return 3 when some inputs failed, else 0."""
        return 3 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (what :meth:`save` writes as JSON)."""
        return asdict(self)

    def summary(self) -> str:
        """Return a short text for people: what was written, left out and failed."""
        files = sum(s.files for s in self.series)
        people = len({s.participant for s in self.series})
        sessions = len({(s.participant, s.session) for s in self.series})
        lines = [
            f"mrishare {self.version} deidentify-dicom",
            f"profile: {self.profile}",
            f"options: {', '.join(self.options) or 'none (basic profile)'}",
            f"key: {self.key}",
            f"written: {files} files in {len(self.series)} series, {people} participants, "
            f"{sessions} sessions",
        ]
        lines += [f"  {s.path}: {s.files} files ({s.modality})" for s in self.series]
        lines.append(f"left out on purpose: {len(self.left_out)}")
        lines += [f"  {r.source}: {r.reason}" for r in self.left_out]
        lines.append(f"failed: {len(self.failed)}")
        lines += [f"  {r.source}: {r.reason}" for r in self.failed]
        return "\n".join(lines) + "\n"

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.json`` and ``<path>.txt`` (atomic); return both paths.

        Parameters
        ----------
        path : str or path-like
            The report's path without suffix (next to the destination, not inside it).

        Returns
        -------
        tuple of Path
            The JSON and the text file.
        """
        base = Path(path)
        return (write_json(base.with_name(base.name + ".json"), self.to_dict()),
                write_text(base.with_name(base.name + ".txt"), self.summary()))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _read(source: Path) -> tuple[Dataset | None, str | None]:
    """Read a file; a file the reader refuses may still be one left out on purpose."""
    try:
        ds = read_dicom(source)
    except BadInputError:
        try:
            reason = leave_out_reason(source)  # e.g. a DICOMDIR: no SOP Instance UID
        except BadInputError:
            reason = None
        if reason:
            return None, reason
        raise
    return ds, leave_out_reason(ds)


def _process(source: Path, relative: str, staging: Path, key: Key,
             options: Options) -> FileResult:
    """Read, check, de-identify and stage one file; never raise for bad input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds, reason = _read(source)
            if ds is None or reason:
                return FileResult(relative, "left out", reason or "")
            record = study_record(ds)
            label = key.label(record.participant)
            series = key.label(str(ds.get("SeriesInstanceUID", "")) or "none", 12)
            result = FileResult(
                relative, "written", participant=label, study=record, series=series,
                series_number=_int_or_none(ds.get("SeriesNumber")),
                modality=re.sub(r"[^A-Za-z0-9]", "", str(ds.get("Modality", "") or "")) or "OT",
                instance=_int_or_none(ds.get("InstanceNumber")),
            )
            staged = Path(series) / f"{key.label(str(ds.SOPInstanceUID), 16)}.dcm"
            ds = deidentify(ds, key, options, copy=False)
            # Straight into the staging folder: it is emptied when a batch starts, and a
            # file reaches DST only by a rename once the whole batch is written.
            (staging / series).mkdir(exist_ok=True)
            # A valid Part 10 file: preamble and a complete file meta header (made by the
            # reader when the source had none).
            ds.save_as(staging / staged, enforce_file_format=True)
            result.staged = staged.as_posix()
            return result
    except BadInputError as error:
        return FileResult(relative, "failed", str(error))
    except Exception as error:  # anything else: report it, and go on with the rest
        return FileResult(relative, "failed", f"could not be processed: "
                                              f"{type(error).__name__}: {error}")


def _list_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    return sorted(p for p in src.rglob("*") if p.is_file())


_WORKER: dict[str, Any] = {}


def _init_worker(staging: Path, key: Key, options: Options) -> None:
    _WORKER.update(staging=staging, key=key, options=options)


def _work(item: tuple[Path, str]) -> FileResult:
    return _process(item[0], item[1], _WORKER["staging"], _WORKER["key"], _WORKER["options"])


def _run(items: list[tuple[Path, str]], staging: Path, key: Key, options: Options,
         jobs: int, progress: bool) -> Iterator[FileResult]:
    from tqdm import tqdm

    bar = tqdm(total=len(items), unit="file", disable=not progress, desc="de-identifying",
               leave=False)
    with bar:
        if jobs <= 1:
            _init_worker(staging, key, options)
            for item in items:
                yield _work(item)
                bar.update()
            return
        with ProcessPoolExecutor(jobs, initializer=_init_worker,
                                 initargs=(staging, key, options)) as pool:
            chunk = max(1, min(32, len(items) // jobs // 4))
            for result in pool.map(_work, items, chunksize=chunk):
                yield result
                bar.update()


def _final_paths(results: list[FileResult]) -> None:
    """Give staged files their final names: sub-<label>/ses-<n>/<NNN>-<modality>/<NNNNN>.dcm.

    Sessions are numbered by :func:`number_sessions`; a series folder is named by the series
    number and modality (plus a keyed suffix if two series share them); a file by its
    instance number (or its keyed name when numbers are missing or repeated).
    """
    written = [(r, r.study) for r in results if r.status == "written" and r.study]
    sessions = number_sessions(study for _, study in written)
    by_session: dict[tuple[str, int], dict[str, FileResult]] = defaultdict(dict)
    for r, study in written:
        session = sessions[(study.participant, study.study_uid)]
        by_session[(r.participant, session)].setdefault(r.series, r)
    folder_of = {}
    for (label, session), series in by_session.items():
        names = {s: (f"{r.series_number:03d}" if r.series_number is not None else "series")
                 + f"-{r.modality}" for s, r in series.items()}
        counts = Counter(names.values())
        for s, name in names.items():
            name = name if counts[name] == 1 else f"{name}-{s[:6]}"
            folder_of[s] = f"sub-{label}/ses-{session}/{name}"
    by_series: dict[str, list[FileResult]] = defaultdict(list)
    for r, _ in written:
        by_series[r.series].append(r)
    for series, members in by_series.items():
        counts = Counter(r.instance for r in members)
        for r in members:
            unique = r.instance is not None and counts[r.instance] == 1
            name = f"{r.instance:05d}.dcm" if unique else Path(r.staged).name
            r.output = f"{folder_of[series]}/{name}"


def deidentify_folder(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    key: Key,
    options: Options | None = None,
    *,
    jobs: int = 1,
    progress: bool = False,
) -> Report:
    """De-identify every DICOM file under ``src`` into ``dst``.

    Output paths are built from pseudonyms only:
    ``sub-<label>/ses-<n>/<series number>-<modality>/<instance number>.dcm``. Files that
    may show burned-in text (see :func:`leave_out_reason`) are left out; bad files (empty,
    truncated, not DICOM, with unreadable elements) are named in the report and the rest is
    still done. Files without a file meta header are accepted and written as valid DICOM
    Part 10 files. ``src`` is only read.

    Parameters
    ----------
    src : path
        A folder (searched recursively) or one file.
    dst : path
        The output folder; refused when it is ``src`` or inside it.
    key : mrishare.keys.Key
    options : Options, optional
    jobs : int, default 1
        Worker processes.
    progress : bool, default False
        Show a progress bar (on stderr).

    Returns
    -------
    Report
        Save it with :meth:`Report.save` next to the originals, not in ``dst``.

    Raises
    ------
    SourceError
        When ``src`` does not exist.
    DestinationError
        When ``dst`` is ``src`` or inside it.
    """
    options = options or Options()
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise SourceError(f"The source {src} does not exist.")
    refuse_inside_source(src, dst)
    root = src if src.is_dir() else src.parent
    items = [(p, p.relative_to(root).as_posix()) for p in _list_files(src)]
    staging = dst / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    results = list(_run(items, staging, key, options, jobs, progress))
    _final_paths(results)
    done: set[str] = set()
    for r in results:
        if r.status != "written":
            continue
        if r.staged in done:  # a second file with the same SOP Instance UID
            r.status, r.reason = "left out", "a copy of another file (same SOP Instance UID)"
            continue
        target = dst / r.output
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / r.staged, target)
        done.add(r.staged)
    with contextlib.suppress(OSError):
        shutil.rmtree(staging)
    return _report(results, key, options)


def _report(results: list[FileResult], key: Key, options: Options) -> Report:
    report = Report(
        profile=load_profile(options.edition).describe(),
        options=options.chosen(),
        key="given (the same key gives the same pseudonyms)" if key.reproducible else
        "random (no key file): these pseudonyms cannot be made again",
    )
    series: dict[str, WrittenSeries] = {}
    for r in results:
        if r.status == "written":
            folder = r.output.rsplit("/", 1)[0]
            row = series.setdefault(folder, WrittenSeries(
                participant=f"sub-{r.participant}", session=int(folder.split("/")[1][4:]),
                series=folder.rsplit("/", 1)[1], modality=r.modality, path=folder))
            row.files += 1
        elif r.status == "left out":
            report.left_out.append(SkippedFile(r.source, r.reason))
        else:
            report.failed.append(SkippedFile(r.source, r.reason))
    report.series = sorted(series.values(), key=lambda s: s.path)
    return report
